"""Reconciliation domain: statements parsed into plain lines, and the matching rules.

Pure: no I/O. Parsers take bytes and return a `ParsedStatement` or raise `StatementFormatError`
naming the line or element that is wrong (nothing is imported from a bad file). The matching
engine takes statement lines and ledger movements and returns matches with rule and confidence.
"""
