"""Provider settlement reports as CSV, read through a per-provider column mapping.

The mappings live in `seeds/settlement_mappings.json` (loaded by the adapter, passed in here):
which header holds the reference, amount, currency, direction and value date, which values mean
credit or debit, and the date format. A row that does not fit raises
`StatementFormatError("line N: …")`, counting the header as line 1.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from walletflow.recon.model import (
    Direction,
    ParsedStatement,
    StatementFormatError,
    StatementLine,
    parse_amount_minor,
)

_FIELDS = ("reference", "amount", "currency", "direction", "value_date")


@dataclass(frozen=True, slots=True)
class ColumnMapping:
    provider: str
    columns: Mapping[str, str]
    credit_values: frozenset[str]
    debit_values: frozenset[str]
    date_format: str
    delimiter: str = ","

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> ColumnMapping:
        columns = dict(raw["columns"])
        missing = [name for name in _FIELDS if name not in columns]
        if missing:
            raise ValueError(f"mapping {raw.get('provider')!r} lacks columns {missing}")
        return cls(
            provider=str(raw["provider"]),
            columns=columns,
            credit_values=frozenset(v.lower() for v in raw["credit_values"]),
            debit_values=frozenset(v.lower() for v in raw["debit_values"]),
            date_format=str(raw.get("date_format", "%Y-%m-%d")),
            delimiter=str(raw.get("delimiter", ",")),
        )


def load_mappings(path: Path) -> dict[str, ColumnMapping]:
    body = json.loads(path.read_text(encoding="utf-8"))
    return {m.provider: m for m in (ColumnMapping.from_dict(raw) for raw in body["mappings"])}


def parse_settlement_csv(data: bytes, mapping: ColumnMapping) -> ParsedStatement:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise StatementFormatError("not UTF-8", location=f"byte {error.start}") from error
    reader = csv.DictReader(io.StringIO(text), delimiter=mapping.delimiter)
    header = reader.fieldnames or []
    absent = [mapping.columns[f] for f in mapping.columns if mapping.columns[f] not in header]
    if absent:
        raise StatementFormatError(f"header lacks columns {absent}", location="line 1")
    cols = mapping.columns
    currency = ""
    lines: list[StatementLine] = []
    for line_no, row in enumerate(reader, start=2):
        location = f"line {line_no}"
        if None in row or any(row[c] is None for c in header):
            raise StatementFormatError("wrong number of fields", location=location)
        ccy = row[cols["currency"]].strip().upper()
        currency = currency or ccy
        if ccy != currency:
            raise StatementFormatError(
                f"currency {ccy!r} differs from the report's {currency}", location=location
            )
        raw_amount = row[cols["amount"]].strip().replace(",", "")
        negative = raw_amount.startswith("-")
        minor = parse_amount_minor(raw_amount.lstrip("-"), ccy, location=location)
        if minor <= 0:
            raise StatementFormatError("amount is zero", location=location)
        kind = row[cols["direction"]].strip().lower()
        direction: Direction
        if kind in mapping.credit_values:
            direction = "debit" if negative else "credit"
        elif kind in mapping.debit_values:
            direction = "credit" if negative else "debit"
        else:
            raise StatementFormatError(f"unknown type {kind!r}", location=location)
        try:
            value_date: date = datetime.strptime(
                row[cols["value_date"]].strip(), mapping.date_format
            ).date()
        except ValueError as error:
            raise StatementFormatError(
                f"date {row[cols['value_date']]!r} is not {mapping.date_format}",
                location=location,
            ) from error
        reference = row[cols["reference"]].strip()
        bank_reference = row[cols["bank_reference"]].strip() if "bank_reference" in cols else ""
        lines.append(
            StatementLine(
                line_no=line_no,
                amount_minor=minor,
                currency=ccy,
                direction=direction,
                booking_date=value_date,
                value_date=value_date,
                reference=reference,
                narrative=row[cols["narrative"]].strip() if "narrative" in cols else "",
                bank_reference=bank_reference or reference,
            )
        )
    if not lines:
        raise StatementFormatError("no rows", location="line 2")
    digest = hashlib.sha256(data).hexdigest()[:16]
    return ParsedStatement(
        format="settlement_csv",
        statement_id=f"{mapping.provider}:{digest}",
        account_id=mapping.provider,
        currency=currency,
        lines=tuple(lines),
    )
