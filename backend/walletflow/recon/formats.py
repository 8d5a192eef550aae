"""Which parser a file needs, from its first bytes."""

from __future__ import annotations

from collections.abc import Mapping

from walletflow.recon.camt import parse_camt
from walletflow.recon.model import ParsedStatement, StatementFormatError
from walletflow.recon.mt940 import parse_mt940
from walletflow.recon.settlement_csv import ColumnMapping, parse_settlement_csv


def parse_statement(
    data: bytes, *, provider: str | None = None, mappings: Mapping[str, ColumnMapping] | None = None
) -> ParsedStatement:
    head = data.lstrip(b"\xef\xbb\xbf \t\r\n")[:200]
    if head.startswith(b"<"):
        return parse_camt(data)
    if head.startswith(b"{1:") or head.startswith(b":20:"):
        return parse_mt940(data)
    if provider is None:
        raise StatementFormatError(
            "not camt XML nor MT940; a settlement CSV needs --provider", location="line 1"
        )
    mapping = (mappings or {}).get(provider)
    if mapping is None:
        raise StatementFormatError(
            f"no column mapping for provider {provider!r} in seeds", location="line 1"
        )
    return parse_settlement_csv(data, mapping)
