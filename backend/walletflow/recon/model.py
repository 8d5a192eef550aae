"""The parsed statement: plain dataclasses, amounts in integer minor units."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

from walletflow.domain.errors import ValidationError
from walletflow.money import scale_of

Direction = Literal["credit", "debit"]
StatementFormat = Literal["camt.053", "camt.054", "mt940", "settlement_csv"]

_AMOUNT_RE = re.compile(r"^([0-9]+)(?:[.,]([0-9]*))?$")


class StatementFormatError(ValidationError):
    """A statement file that cannot be imported; `location` names the line or element."""

    code = "STATEMENT_FORMAT_ERROR"

    def __init__(self, message: str, *, location: str) -> None:
        super().__init__(f"{location}: {message}", field_errors={location: message})
        self.location = location


def parse_amount_minor(text: str, currency: str, *, location: str) -> int:
    """'1234.50' (or MT940's '1234,50') in `currency` → integer minor units; never a float."""
    match = _AMOUNT_RE.match(text.strip())
    if match is None:
        raise StatementFormatError(f"amount {text!r} is not a decimal", location=location)
    try:
        scale = scale_of(currency)
    except ValidationError as error:
        raise StatementFormatError(f"unknown currency {currency!r}", location=location) from error
    whole, fraction = match.group(1), match.group(2) or ""
    fraction = fraction.rstrip("0") if len(fraction) > scale else fraction
    if len(fraction) > scale:
        raise StatementFormatError(
            f"amount {text!r} has more decimals than {currency} allows ({scale})",
            location=location,
        )
    factor: int = 10**scale
    return int(whole) * factor + int(fraction.ljust(scale, "0") or "0")


@dataclass(frozen=True, slots=True)
class StatementLine:
    """One booked movement on the outside account, as the bank or provider reports it."""

    line_no: int
    amount_minor: int
    currency: str
    direction: Direction
    booking_date: date
    value_date: date
    reference: str
    narrative: str
    bank_reference: str = ""

    def __post_init__(self) -> None:
        assert self.amount_minor > 0, "a statement line's amount is positive"

    @property
    def signed_minor(self) -> int:
        return self.amount_minor if self.direction == "credit" else -self.amount_minor

    @property
    def fingerprint(self) -> str:
        """The line's identity across files: the same movement in two overlapping statements
        has the same fingerprint, so it is counted once. Built from what the bank says about
        the movement (its own reference when it gives one), never from the file's position."""
        ident = self.bank_reference or f"{self.reference}|{self.narrative}"
        raw = "|".join(
            (
                self.currency,
                self.direction,
                str(self.amount_minor),
                self.booking_date.isoformat(),
                self.value_date.isoformat(),
                ident,
            )
        )
        return hashlib.sha256(raw.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Balance:
    amount_minor: int
    """Signed: negative when the account is overdrawn (a debit balance)."""
    currency: str
    on: date


@dataclass(frozen=True, slots=True)
class ParsedStatement:
    format: StatementFormat
    statement_id: str
    account_id: str
    currency: str
    lines: tuple[StatementLine, ...]
    opening: Balance | None = None
    closing: Balance | None = None
    extra: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for line in self.lines:
            assert line.currency == self.currency, "one currency per statement"

    @property
    def file_fingerprint(self) -> str:
        raw = "|".join(sorted(line.fingerprint for line in self.lines))
        return hashlib.sha256(f"{self.account_id}|{self.statement_id}|{raw}".encode()).hexdigest()

    def check_balances(self) -> None:
        """Opening + lines = closing, when the statement gives both (camt.053, MT940)."""
        if self.opening is None or self.closing is None:
            return
        total = self.opening.amount_minor + sum(line.signed_minor for line in self.lines)
        if total != self.closing.amount_minor:
            raise StatementFormatError(
                f"opening {self.opening.amount_minor} + lines ≠ closing "
                f"{self.closing.amount_minor} (sum gives {total})",
                location="closing balance",
            )
