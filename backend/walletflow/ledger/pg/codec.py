"""How the built-in ledger writes its values to JSON and SQL and reads them back: canonical JSON
(for hashes and stored responses), request hashes, page cursors, LIKE prefixes, numerics and
transaction rows. Pure functions, no I/O."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.engine import Row

from walletflow.db import sql
from walletflow.domain.errors import ValidationError
from walletflow.ledger.port import Posting, Transaction, check_prefix


def canonical_json(body: Any) -> str:
    """One text per meaning: sorted keys, no spaces, UTF-8 kept as is."""
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def request_hash(body: Mapping[str, Any]) -> str:
    """The sha256 an idempotency claim stores: equal for equal bodies, whatever the key order."""
    return hashlib.sha256(canonical_json(body).encode()).hexdigest()


def iso_utc(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def encode_cursor(position: Mapping[str, Any]) -> str:
    """An opaque page cursor for a keyset position (`{"id": 42}`, `{"address": "a:b"}`)."""
    return base64.urlsafe_b64encode(canonical_json(position).encode()).decode()


def decode_cursor(cursor: str | None) -> dict[str, Any] | None:
    """The position a cursor encodes (None for the first page); a malformed one is refused."""
    if cursor is None:
        return None
    try:
        decoded = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, TypeError):
        raise ValidationError("malformed cursor", field_errors={"cursor": "malformed"}) from None
    if not isinstance(decoded, dict):
        raise ValidationError("malformed cursor", field_errors={"cursor": "malformed"})
    return decoded


def decode_position(cursor: str | None, key: str, kind: type[int] | type[str]) -> Any:
    """The one keyset value (`key`, of type `kind`) of a cursor this ledger handed out (None
    for the first page); any other cursor, such as another list's, is a ValidationError."""
    position = decode_cursor(cursor)
    if position is None:
        return None
    value = position.get(key) if len(position) == 1 else None
    if kind is int and isinstance(value, int) and not isinstance(value, bool):
        if -(2**63) <= value < 2**63:
            return value
    elif kind is str and isinstance(value, str) and "\x00" not in value:
        return value
    raise ValidationError("malformed cursor", field_errors={"cursor": "malformed"})


def like_prefix(prefix: str) -> str:
    """A LIKE pattern matching addresses that start with `prefix` (checked, then escaped by the
    one shared helper)."""
    check_prefix(prefix)
    return sql.like_prefix(prefix)


def as_int(value: Any) -> int:
    """A numeric column as an int of minor units (it is always integral)."""
    if isinstance(value, Decimal):
        assert value == value.to_integral_value(), value
        return int(value)
    return int(value)


def transaction_from_row(row: Row[Any]) -> Transaction:
    """A `Transaction` from a row selected with `sql.TX_COLUMNS`."""
    postings = tuple(
        Posting(source=s, destination=d, amount_minor=int(a), asset=asset)
        for s, d, a, asset in (row.postings or [])
    )
    return Transaction(
        id=int(row.id),
        postings=postings,
        reference=row.reference,
        metadata={str(k): str(v) for k, v in (row.metadata or {}).items()},
        effective_at=row.effective_at,
        inserted_at=row.inserted_at,
        reverted=bool(row.reverted),
        reverts_tx_id=None if row.reverts_tx_id is None else int(row.reverts_tx_id),
    )
