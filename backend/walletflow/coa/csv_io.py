"""CSV ingest and export of the chart of accounts and the GL mappings.

Ingest is strict: the header must be exactly the expected columns, every value is checked, and
the first problem raises `CoaCsvError` naming `file:line:column` (1-based, as an editor shows
them). Export writes the same format, so a file exported from the loaded tables is byte-equal
to the seed it was loaded from.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

from walletflow.coa.model import CoaAccount, GlMapping, pattern_segments_valid, sample_address
from walletflow.domain.accounts import (
    ACCOUNT_KINDS,
    AccountClass,
    NormalBalance,
    UnclassifiedAccount,
    classify,
)
from walletflow.domain.errors import ValidationError

COA_FILE = "coa.csv"
GL_FILE = "gl_mappings.csv"
COA_COLUMNS: tuple[str, ...] = (
    "code",
    "name",
    "kind",
    "account_class",
    "normal_balance",
    "address_pattern",
    "may_go_negative",
)
GL_COLUMNS: tuple[str, ...] = (
    "template",
    "leg",
    "source_kind",
    "destination_kind",
    "debit_code",
    "credit_code",
    "description",
)
MAX_SEED_ROWS = 1_000
MAX_SEED_BYTES = 1024 * 1024
MAX_TEXT_CHARS = 200
CODE_RE = re.compile(r"^[0-9]{4}\Z")
NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,63}\Z")
BOOLEANS = {"true": True, "false": False}


class CoaCsvError(ValidationError):
    """A seed CSV is malformed; the message starts with `file:line:column`."""

    code = "COA_SEED_INVALID"

    def __init__(self, file: str, line: int, column: int, reason: str) -> None:
        location = f"{file}:{line}:{column}"
        super().__init__(f"{location}: {reason}", field_errors={location: reason})
        self.file = file
        self.line = line
        self.column = column
        self.reason = reason


class _Rows:
    """Rows of one CSV file with their line numbers, the header checked."""

    def __init__(self, text: str, file: str, columns: Sequence[str]) -> None:
        self.file = file
        self.columns = tuple(columns)
        if len(text.encode()) > MAX_SEED_BYTES:
            raise CoaCsvError(file, 1, 1, f"file larger than {MAX_SEED_BYTES} bytes")
        reader = csv.reader(io.StringIO(text), strict=True)
        self.rows: list[tuple[int, list[str]]] = []
        try:
            header = next(reader, None)
            if header is None:
                raise CoaCsvError(file, 1, 1, "empty file: expected a header row")
            for index, expected in enumerate(self.columns):
                got = header[index] if index < len(header) else "<missing>"
                if got != expected:
                    raise CoaCsvError(
                        file, 1, index + 1, f"expected column {expected!r}, got {got!r}"
                    )
            if len(header) > len(self.columns):
                raise CoaCsvError(
                    file,
                    1,
                    len(self.columns) + 1,
                    f"unexpected column {header[len(self.columns)]!r}",
                )
            for record in reader:
                if not record:
                    continue
                if len(self.rows) >= MAX_SEED_ROWS:
                    raise CoaCsvError(file, reader.line_num, 1, f"more than {MAX_SEED_ROWS} rows")
                if len(record) != len(self.columns):
                    raise CoaCsvError(
                        file,
                        reader.line_num,
                        min(len(record), len(self.columns)) + 1,
                        f"expected {len(self.columns)} columns, got {len(record)}",
                    )
                self.rows.append((reader.line_num, record))
        except csv.Error as error:
            raise CoaCsvError(file, reader.line_num, 1, f"malformed CSV: {error}") from None

    def fail(self, line: int, column: str, reason: str) -> CoaCsvError:
        return CoaCsvError(self.file, line, self.columns.index(column) + 1, reason)

    def text(self, line: int, record: list[str], column: str) -> str:
        value = record[self.columns.index(column)]
        if not value.strip() or value != value.strip():
            raise self.fail(line, column, "must be non-empty without surrounding spaces")
        if len(value) > MAX_TEXT_CHARS:
            raise self.fail(line, column, f"longer than {MAX_TEXT_CHARS} characters")
        return value


def parse_coa(text: str, file: str = COA_FILE) -> list[CoaAccount]:
    """Parse and validate `coa.csv`: every row agrees with the address classifier."""
    rows = _Rows(text, file, COA_COLUMNS)
    accounts: list[CoaAccount] = []
    codes: set[str] = set()
    kinds: set[str] = set()
    for line, record in rows.rows:
        code = rows.text(line, record, "code")
        if not CODE_RE.match(code):
            raise rows.fail(line, "code", f"code {code!r} must be 4 digits")
        if code in codes:
            raise rows.fail(line, "code", f"duplicate code {code}")
        name = rows.text(line, record, "name")
        kind = rows.text(line, record, "kind")
        if kind not in ACCOUNT_KINDS:
            raise rows.fail(line, "kind", f"unknown account kind {kind!r}")
        if kind in kinds:
            raise rows.fail(line, "kind", f"duplicate kind {kind}")
        class_text = rows.text(line, record, "account_class")
        if class_text not in AccountClass.__members__:
            raise rows.fail(line, "account_class", f"unknown account class {class_text!r}")
        normal_text = rows.text(line, record, "normal_balance")
        if normal_text not in NormalBalance.__members__:
            raise rows.fail(
                line, "normal_balance", f"normal balance {normal_text!r} not DEBIT/CREDIT"
            )
        pattern = rows.text(line, record, "address_pattern")
        if not pattern_segments_valid(pattern):
            raise rows.fail(line, "address_pattern", f"malformed address pattern {pattern!r}")
        negative_text = rows.text(line, record, "may_go_negative")
        if negative_text not in BOOLEANS:
            raise rows.fail(line, "may_go_negative", "must be true or false")
        account = CoaAccount(
            code=code,
            name=name,
            kind=kind,
            account_class=AccountClass(class_text),
            normal_balance=NormalBalance(normal_text),
            address_pattern=pattern,
            may_go_negative=BOOLEANS[negative_text],
        )
        _check_against_classifier(rows, line, account)
        codes.add(code)
        kinds.add(kind)
        accounts.append(account)
    return accounts


def _check_against_classifier(rows: _Rows, line: int, account: CoaAccount) -> None:
    try:
        classification = classify(sample_address(account.address_pattern))
    except UnclassifiedAccount:
        raise rows.fail(
            line, "address_pattern", f"{account.address_pattern!r} is outside the address scheme"
        ) from None
    if classification.kind != account.kind:
        raise rows.fail(
            line,
            "address_pattern",
            f"{account.address_pattern!r} classifies as {classification.kind}, not {account.kind}",
        )
    if classification.account_class is not account.account_class:
        raise rows.fail(
            line, "account_class", f"classifier says {classification.account_class.value}"
        )
    if classification.normal_balance is not account.normal_balance:
        raise rows.fail(
            line, "normal_balance", f"classifier says {classification.normal_balance.value}"
        )
    if classification.may_go_negative != account.may_go_negative:
        raise rows.fail(
            line,
            "may_go_negative",
            f"classifier says {str(classification.may_go_negative).lower()}",
        )


def parse_gl_mappings(text: str, coa: Iterable[CoaAccount], file: str = GL_FILE) -> list[GlMapping]:
    """Parse and validate `gl_mappings.csv` against the COA: the debit code is the source
    kind's account, the credit code the destination kind's (see `coa.model`)."""
    rows = _Rows(text, file, GL_COLUMNS)
    by_kind = {account.kind: account for account in coa}
    codes = {account.code for account in by_kind.values()}
    mappings: list[GlMapping] = []
    seen: set[tuple[str, str]] = set()
    for line, record in rows.rows:
        template = rows.text(line, record, "template")
        if not NAME_RE.match(template):
            raise rows.fail(line, "template", f"malformed template name {template!r}")
        leg = rows.text(line, record, "leg")
        if not NAME_RE.match(leg):
            raise rows.fail(line, "leg", f"malformed leg name {leg!r}")
        if (template, leg) in seen:
            raise rows.fail(line, "leg", f"duplicate leg {template}/{leg}")
        kinds: dict[str, str] = {}
        for column in ("source_kind", "destination_kind"):
            kind = rows.text(line, record, column)
            if kind not in by_kind:
                raise rows.fail(line, column, f"kind {kind!r} has no COA account")
            kinds[column] = kind
        debit_code = rows.text(line, record, "debit_code")
        credit_code = rows.text(line, record, "credit_code")
        for column, code, kind in (
            ("debit_code", debit_code, kinds["source_kind"]),
            ("credit_code", credit_code, kinds["destination_kind"]),
        ):
            if code not in codes:
                raise rows.fail(line, column, f"GL code {code!r} is not in the COA")
            if by_kind[kind].code != code:
                raise rows.fail(line, column, f"{kind} is GL {by_kind[kind].code}, not {code}")
        mappings.append(
            GlMapping(
                template=template,
                leg=leg,
                source_kind=kinds["source_kind"],
                destination_kind=kinds["destination_kind"],
                debit_code=debit_code,
                credit_code=credit_code,
                description=rows.text(line, record, "description"),
            )
        )
        seen.add((template, leg))
    return mappings


def read_seeds(seeds_dir: Path) -> tuple[list[CoaAccount], list[GlMapping]]:
    """Read and validate both seed files of a directory."""
    coa_path = seeds_dir / COA_FILE
    gl_path = seeds_dir / GL_FILE
    coa = parse_coa(_read(coa_path), str(coa_path))
    return coa, parse_gl_mappings(_read(gl_path), coa, str(gl_path))


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as error:
        raise CoaCsvError(str(path), 1, 1, f"cannot read: {error.strerror}") from None


def _write(columns: Sequence[str], records: Iterable[Sequence[str]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for record in records:
        writer.writerow(record)
    return buffer.getvalue()


def export_coa(accounts: Iterable[CoaAccount]) -> str:
    return _write(
        COA_COLUMNS,
        (
            (
                a.code,
                a.name,
                a.kind,
                a.account_class.value,
                a.normal_balance.value,
                a.address_pattern,
                str(a.may_go_negative).lower(),
            )
            for a in sorted(accounts, key=lambda a: a.code)
        ),
    )


def export_gl_mappings(mappings: Iterable[GlMapping]) -> str:
    return _write(
        GL_COLUMNS,
        (
            (
                m.template,
                m.leg,
                m.source_kind,
                m.destination_kind,
                m.debit_code,
                m.credit_code,
                m.description,
            )
            for m in sorted(mappings, key=lambda m: (m.template, m.leg))
        ),
    )
