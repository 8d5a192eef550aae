"""SWIFT MT940 customer statement: strict, line-numbered.

Tags read: :20: (reference), :25: (account), :28C: (statement number), :60F:/:60M: (opening),
:61: (statement line: value date YYMMDD, optional entry date MMDD, D/C/RC/RD, optional funds
code, amount with comma decimal, transaction type, customer reference `//` bank reference),
:86: (narrative, may continue on following lines), :62F:/:62M: (closing). Block headers
`{1:…}{2:…}{4:` and the trailer `-}` are accepted. A line that does not fit raises
`StatementFormatError("line N: …")`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from walletflow.recon.model import (
    Balance,
    Direction,
    ParsedStatement,
    StatementFormatError,
    StatementLine,
    parse_amount_minor,
)

_TAG_RE = re.compile(r"^:([0-9]{2}[A-Z]?):(.*)$")
_BALANCE_RE = re.compile(r"^([CD])([0-9]{6})([A-Z]{3})([0-9]+,[0-9]*)$")
_LINE_RE = re.compile(
    r"^(?P<value>[0-9]{6})(?P<entry>[0-9]{4})?(?P<mark>RC|RD|C|D)(?P<funds>[A-Z])?"
    r"(?P<amount>[0-9]+,[0-9]*)(?P<type>[NSF][A-Z0-9]{3})(?P<custref>[^/]{1,16}|NONREF)"
    r"(?://(?P<bankref>.{1,16}))?$"
)


def _yymmdd(raw: str, *, location: str) -> date:
    try:
        return date(2000 + int(raw[0:2]), int(raw[2:4]), int(raw[4:6]))
    except ValueError as error:
        raise StatementFormatError(f"bad date {raw!r}", location=location) from error


@dataclass
class _Pending:
    line_no: int
    amount_minor: int
    direction: Direction
    value_date: date
    booking_date: date
    reference: str
    bank_reference: str
    narrative: list[str] = field(default_factory=list)


def _balance(raw: str, *, location: str) -> Balance:
    match = _BALANCE_RE.match(raw)
    if match is None:
        raise StatementFormatError(f"balance {raw!r} is not [CD]YYMMDDCCYamount", location=location)
    mark, on, ccy, amount = match.groups()
    minor = parse_amount_minor(amount, ccy, location=location)
    return Balance(minor if mark == "C" else -minor, ccy, _yymmdd(on, location=location))


def parse_mt940(data: bytes) -> ParsedStatement:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    reference = account = number = ""
    opening: Balance | None = None
    closing: Balance | None = None
    pending: list[_Pending] = []
    last_tag = ""
    for line_no, raw_line in enumerate(text.splitlines(), start=1):
        line = raw_line.rstrip()
        location = f"line {line_no}"
        if not line or line in ("-}", "-") or line.startswith("{1:"):
            continue
        tag_match = _TAG_RE.match(line)
        if tag_match is None:
            if last_tag == "86" and pending:
                pending[-1].narrative.append(line.strip())
                continue
            raise StatementFormatError(f"expected a :tag:, got {line[:30]!r}", location=location)
        tag, value = tag_match.group(1), tag_match.group(2).strip()
        last_tag = tag
        if tag == "20":
            reference = value
        elif tag == "25":
            account = value
        elif tag == "28C":
            number = value
        elif tag in ("60F", "60M"):
            if opening is None:
                opening = _balance(value, location=location)
        elif tag in ("62F", "62M"):
            closing = _balance(value, location=location)
        elif tag == "61":
            if opening is None:
                raise StatementFormatError(
                    ":61: before an opening balance :60F:", location=location
                )
            match = _LINE_RE.match(value)
            if match is None:
                raise StatementFormatError(
                    f"statement line {value!r} is malformed", location=location
                )
            value_date = _yymmdd(match["value"], location=location)
            booking_date = value_date
            if match["entry"]:
                month, day = int(match["entry"][:2]), int(match["entry"][2:])
                try:
                    booking_date = date(value_date.year, month, day)
                except ValueError as error:
                    raise StatementFormatError(
                        f"bad entry date {match['entry']!r}", location=location
                    ) from error
                if (booking_date - value_date).days > 180:
                    booking_date = date(value_date.year - 1, month, day)
                elif (value_date - booking_date).days > 180:
                    booking_date = date(value_date.year + 1, month, day)
            mark = match["mark"]
            direction: Direction = "credit" if mark in ("C", "RD") else "debit"
            minor = parse_amount_minor(match["amount"], opening.currency, location=location)
            if minor <= 0:
                raise StatementFormatError("amount is zero", location=location)
            custref = match["custref"]
            pending.append(
                _Pending(
                    line_no=line_no,
                    amount_minor=minor,
                    direction=direction,
                    value_date=value_date,
                    booking_date=booking_date,
                    reference="" if custref == "NONREF" else custref,
                    bank_reference=(match["bankref"] or "").strip(),
                )
            )
        elif tag == "86":
            if not pending:
                raise StatementFormatError(":86: without a preceding :61:", location=location)
            pending[-1].narrative.append(value)
        elif tag in ("64", "65", "21", "13D", "34F", "90D", "90C"):
            continue
        else:
            raise StatementFormatError(f"unknown tag :{tag}:", location=location)
    if not reference:
        raise StatementFormatError("missing :20: transaction reference", location="file")
    if not account:
        raise StatementFormatError("missing :25: account", location="file")
    if opening is None or closing is None:
        raise StatementFormatError("missing :60F: or :62F: balance", location="file")
    if closing.currency != opening.currency:
        raise StatementFormatError("closing currency differs from opening", location=":62F:")
    statement = ParsedStatement(
        format="mt940",
        statement_id=f"{reference}/{number}" if number else reference,
        account_id=account,
        currency=opening.currency,
        lines=tuple(
            StatementLine(
                line_no=p.line_no,
                amount_minor=p.amount_minor,
                currency=opening.currency,
                direction=p.direction,
                booking_date=p.booking_date,
                value_date=p.value_date,
                reference=p.reference,
                narrative=" ".join(p.narrative),
                bank_reference=p.bank_reference,
            )
            for p in pending
        ),
        opening=opening,
        closing=closing,
    )
    statement.check_balances()
    return statement
