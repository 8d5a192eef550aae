"""The chart of accounts as plain values: COA accounts, GL mappings, and the GL resolver.

A COA account is one account family of the address scheme (`domain/accounts.py`): its `kind`
is the classifier's kind, its `address_pattern` the family's address with `{placeholders}`
(`merchants:{merchant}:{ccy}:available`). A GL mapping says, for one leg of one Numscript
template (a posting from a `source_kind` account to a `destination_kind` account), which GL
account is debited and which credited.

Journal convention (it matches the classifier's sign: a Formance balance is credits - debits):
a posting `source → destination` of `a` debits the source and credits the destination by `a`.
So per account, debits = Formance output and credits = Formance input.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from walletflow.domain.accounts import AccountClass, NormalBalance, classify

PLACEHOLDER_RE = re.compile(r"^\{[a-z_]{1,32}\}\Z")
LITERAL_RE = re.compile(r"^[a-zA-Z0-9_-]{1,64}\Z")
SAMPLE_SEGMENT = "x1"


@dataclass(frozen=True)
class CoaAccount:
    code: str
    name: str
    kind: str
    account_class: AccountClass
    normal_balance: NormalBalance
    address_pattern: str
    may_go_negative: bool

    @property
    def address_regex(self) -> str:
        return pattern_regex(self.address_pattern)

    def to_json(self) -> dict[str, object]:
        return {
            "code": self.code,
            "name": self.name,
            "kind": self.kind,
            "accountClass": self.account_class.value,
            "normalBalance": self.normal_balance.value,
            "addressPattern": self.address_pattern,
            "mayGoNegative": self.may_go_negative,
        }


@dataclass(frozen=True)
class GlMapping:
    template: str
    leg: str
    source_kind: str
    destination_kind: str
    debit_code: str
    credit_code: str
    description: str

    def to_json(self) -> dict[str, object]:
        return {
            "template": self.template,
            "leg": self.leg,
            "sourceKind": self.source_kind,
            "destinationKind": self.destination_kind,
            "debitCode": self.debit_code,
            "creditCode": self.credit_code,
            "description": self.description,
        }


def pattern_segments_valid(pattern: str) -> bool:
    segments = pattern.split(":")
    return all(PLACEHOLDER_RE.match(s) or LITERAL_RE.match(s) for s in segments)


def pattern_regex(pattern: str) -> str:
    """An anchored regex (valid in Python and PostgreSQL) matching the pattern's addresses."""
    parts = [
        "[^:]+" if PLACEHOLDER_RE.match(segment) else re.escape(segment)
        for segment in pattern.split(":")
    ]
    return "^" + ":".join(parts) + "$"


def sample_address(pattern: str) -> str:
    """A concrete address of the pattern, to check it against the classifier."""
    return ":".join(
        SAMPLE_SEGMENT if PLACEHOLDER_RE.match(segment) else segment
        for segment in pattern.split(":")
    )


@dataclass(frozen=True)
class GlLeg:
    debit_code: str
    credit_code: str


def resolve_gl(coa_by_kind: Mapping[str, CoaAccount], source: str, destination: str) -> GlLeg:
    """The GL codes of one posting: debit the source's account, credit the destination's.
    An address outside the scheme raises `UnclassifiedAccount`; a kind without a COA row
    raises `KeyError` (the COA/templates gate reports that as drift first)."""
    debit = coa_by_kind[classify(source).kind]
    credit = coa_by_kind[classify(destination).kind]
    return GlLeg(debit_code=debit.code, credit_code=credit.code)
