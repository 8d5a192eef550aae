"""ISO 20022 camt.053 (bank-to-customer statement) and camt.054 (debit/credit notification).

Read with the standard library's expat-backed ElementTree, namespace-agnostic across the
published versions (camt.053.001.02 … .001.08, camt.054.001.02 … .001.08), following the
element names of the ISO 20022 message definitions: Document/BkToCstmrStmt/Stmt (053) or
Document/BkToCstmrDbtCdtNtfctn/Ntfctn (054); each Ntry has Amt@Ccy, CdtDbtInd, BookgDt/Dt,
ValDt/Dt, AcctSvcrRef, NtryDtls/TxDtls/Refs/EndToEndId, AddtlNtryInf / RmtInf/Ustrd; Bal with
Tp/CdOrPrtry/Cd OPBD/CLBD. Errors name the element path, e.g. `Stmt/Ntry[3]/Amt`.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date

from walletflow.recon.model import (
    Balance,
    Direction,
    ParsedStatement,
    StatementFormatError,
    StatementLine,
    parse_amount_minor,
)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _child(element: ET.Element, name: str) -> ET.Element | None:
    for child in element:
        if _local(child.tag) == name:
            return child
    return None


def _children(element: ET.Element, name: str) -> list[ET.Element]:
    return [child for child in element if _local(child.tag) == name]


def _find(element: ET.Element, path: str) -> ET.Element | None:
    current: ET.Element | None = element
    for name in path.split("/"):
        if current is None:
            return None
        current = _child(current, name)
    return current


def _text(element: ET.Element, path: str) -> str:
    found = _find(element, path)
    return (found.text or "").strip() if found is not None else ""


def _required(element: ET.Element, path: str, *, where: str) -> str:
    value = _text(element, path)
    if not value:
        raise StatementFormatError(f"missing {path}", location=f"{where}/{path}")
    return value


def _date(element: ET.Element, path: str, *, where: str) -> date:
    raw = _text(element, f"{path}/Dt") or _text(element, f"{path}/DtTm")[:10]
    if not raw:
        raise StatementFormatError(f"missing {path}/Dt", location=f"{where}/{path}")
    try:
        return date.fromisoformat(raw[:10])
    except ValueError as error:
        raise StatementFormatError(f"bad date {raw!r}", location=f"{where}/{path}") from error


def _direction(raw: str, *, where: str) -> Direction:
    if raw == "CRDT":
        return "credit"
    if raw == "DBIT":
        return "debit"
    raise StatementFormatError(f"CdtDbtInd {raw!r} is not CRDT or DBIT", location=where)


def parse_camt(data: bytes) -> ParsedStatement:
    try:
        root = ET.fromstring(data)
    except ET.ParseError as error:
        line, column = error.position
        raise StatementFormatError(
            f"not well-formed XML ({error})", location=f"line {line} column {column}"
        ) from error
    if _local(root.tag) != "Document":
        raise StatementFormatError("root element is not Document", location=_local(root.tag))
    namespace = root.tag[1:].split("}")[0] if root.tag.startswith("{") else ""
    body = _child(root, "BkToCstmrStmt")
    kind, report_name = "camt.053", "Stmt"
    if body is None:
        body = _child(root, "BkToCstmrDbtCdtNtfctn")
        kind, report_name = "camt.054", "Ntfctn"
    if body is None:
        raise StatementFormatError(
            "neither BkToCstmrStmt (camt.053) nor BkToCstmrDbtCdtNtfctn (camt.054)",
            location="Document",
        )
    if namespace and kind not in namespace:
        raise StatementFormatError(
            f"namespace {namespace!r} does not match {kind}", location="Document"
        )
    reports = _children(body, report_name)
    if len(reports) != 1:
        raise StatementFormatError(
            f"expected exactly one {report_name}, found {len(reports)}",
            location=_local(body.tag),
        )
    report = reports[0]
    statement_id = _required(report, "Id", where=report_name)
    account_id = _text(report, "Acct/Id/IBAN") or _text(report, "Acct/Id/Othr/Id")
    if not account_id:
        raise StatementFormatError("missing Acct/Id", location=f"{report_name}/Acct")
    currency = _text(report, "Acct/Ccy")
    opening: Balance | None = None
    closing: Balance | None = None
    for index, bal in enumerate(_children(report, "Bal"), start=1):
        where = f"{report_name}/Bal[{index}]"
        code = _text(bal, "Tp/CdOrPrtry/Cd")
        amount_el = _child(bal, "Amt")
        if amount_el is None:
            raise StatementFormatError("missing Amt", location=f"{where}/Amt")
        ccy = amount_el.get("Ccy", "")
        currency = currency or ccy
        minor = parse_amount_minor(amount_el.text or "", ccy, location=f"{where}/Amt")
        sign = _direction(_required(bal, "CdtDbtInd", where=where), where=f"{where}/CdtDbtInd")
        balance = Balance(minor if sign == "credit" else -minor, ccy, _date(bal, "Dt", where=where))
        if code in ("OPBD", "PRCD"):
            opening = balance
        elif code in ("CLBD",):
            closing = balance
    if not currency:
        raise StatementFormatError("no currency (Acct/Ccy or Amt@Ccy)", location=report_name)
    lines: list[StatementLine] = []
    for index, entry in enumerate(_children(report, "Ntry"), start=1):
        where = f"{report_name}/Ntry[{index}]"
        status = _text(entry, "Sts/Cd") or _text(entry, "Sts")
        if status and status != "BOOK":
            continue  # pending / informational entries are not booked movements
        amount_el = _child(entry, "Amt")
        if amount_el is None:
            raise StatementFormatError("missing Amt", location=f"{where}/Amt")
        ccy = amount_el.get("Ccy", "")
        if ccy != currency:
            raise StatementFormatError(
                f"currency {ccy!r} differs from the account's {currency}",
                location=f"{where}/Amt",
            )
        minor = parse_amount_minor(amount_el.text or "", ccy, location=f"{where}/Amt")
        if minor <= 0:
            raise StatementFormatError("amount is zero", location=f"{where}/Amt")
        direction = _direction(
            _required(entry, "CdtDbtInd", where=where), where=f"{where}/CdtDbtInd"
        )
        booking = _date(entry, "BookgDt", where=where)
        value = _date(entry, "ValDt", where=where) if _find(entry, "ValDt") else booking
        tx = _find(entry, "NtryDtls/TxDtls")
        reference = ""
        narrative_parts = [_text(entry, "AddtlNtryInf")]
        if tx is not None:
            reference = _text(tx, "Refs/EndToEndId")
            if reference == "NOTPROVIDED":
                reference = ""
            reference = reference or _text(tx, "Refs/InstrId")
            rmt = _find(tx, "RmtInf")
            if rmt is not None:
                narrative_parts += [(u.text or "").strip() for u in _children(rmt, "Ustrd")]
            narrative_parts.append(_text(tx, "AddtlTxInf"))
        lines.append(
            StatementLine(
                line_no=index,
                amount_minor=minor,
                currency=ccy,
                direction=direction,
                booking_date=booking,
                value_date=value,
                reference=reference,
                narrative=" ".join(part for part in narrative_parts if part),
                bank_reference=_text(entry, "AcctSvcrRef") or _text(entry, "NtryRef"),
            )
        )
    statement = ParsedStatement(
        format=kind,  # type: ignore[arg-type]
        statement_id=statement_id,
        account_id=account_id,
        currency=currency,
        lines=tuple(lines),
        opening=opening,
        closing=closing,
    )
    statement.check_balances()
    return statement
