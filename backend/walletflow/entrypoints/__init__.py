"""Entry points: thin translations of a process or CLI call into application calls."""
