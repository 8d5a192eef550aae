"""Merchant and analyst API keys: `wf_<key id>_<secret>`, only the secret's sha256 is stored.

Created and revoked by admins (GraphQL `createApiKey`/`revokeApiKey`, `walletflow apikey`).
An expired or revoked key authenticates nobody.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Row, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from walletflow.db.schema_api import api_keys
from walletflow.domain.accounts import SEGMENT_RE
from walletflow.domain.errors import NotFound, Unauthenticated, ValidationError
from walletflow.domain.principals import Principal, Role

KEY_PREFIX = "wf_"
KEY_ID_BYTES = 8
SECRET_BYTES = 32
MAX_LABEL_LENGTH = 200
MAX_LISTED_KEYS = 500
KEY_RE = re.compile(r"^wf_([0-9a-f]{16})_([A-Za-z0-9_-]{20,100})\Z")


class ApiKeyRole(StrEnum):
    MERCHANT = "merchant"
    ANALYST = "analyst"


@dataclass(frozen=True)
class ApiKey:
    key_id: str
    role: ApiKeyRole
    merchant_id: str | None
    label: str
    created_by: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None

    def principal(self) -> Principal:
        if self.role is ApiKeyRole.MERCHANT:
            return Principal(Role.MERCHANT, f"apikey:{self.key_id}", self.merchant_id)
        return Principal(Role.ANALYST, f"apikey:{self.key_id}")


@dataclass(frozen=True)
class CreatedApiKey:
    key: ApiKey
    token: str
    """`wf_<id>_<secret>`: shown once, never stored."""


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def looks_like_api_key(token: str) -> bool:
    return token.startswith(KEY_PREFIX)


async def create_api_key(
    connection: AsyncConnection,
    *,
    role: ApiKeyRole,
    merchant_id: str | None,
    label: str,
    created_by: str,
    now: datetime,
    expires_at: datetime | None = None,
) -> CreatedApiKey:
    errors: dict[str, str] = {}
    if role is ApiKeyRole.MERCHANT and (merchant_id is None or not SEGMENT_RE.match(merchant_id)):
        errors["merchantId"] = "a merchant key needs a merchant id ([a-zA-Z0-9_-]{1,64})"
    if role is ApiKeyRole.ANALYST and merchant_id is not None:
        errors["merchantId"] = "an analyst key is not scoped to a merchant"
    if len(label) > MAX_LABEL_LENGTH:
        errors["label"] = f"at most {MAX_LABEL_LENGTH} characters"
    if expires_at is not None and (expires_at.tzinfo is None or expires_at <= now):
        errors["expiresAt"] = "must be a future time with a timezone"
    if errors:
        raise ValidationError(f"invalid API key request: {errors}", field_errors=errors)
    key_id = secrets.token_hex(KEY_ID_BYTES)
    secret = secrets.token_urlsafe(SECRET_BYTES)
    row = {
        "key_id": key_id,
        "secret_sha256": secret_hash(secret),
        "role": role.value,
        "merchant_id": merchant_id,
        "label": label,
        "created_by": created_by,
        "created_at": now,
        "expires_at": expires_at,
        "revoked_at": None,
    }
    await connection.execute(insert(api_keys).values(**row))
    key = ApiKey(key_id, role, merchant_id, label, created_by, now, expires_at, None)
    return CreatedApiKey(key=key, token=f"{KEY_PREFIX}{key_id}_{secret}")


async def revoke_api_key(connection: AsyncConnection, key_id: str, now: datetime) -> ApiKey:
    """Revoke a key (idempotent: a revoked key keeps its first revocation time)."""
    await connection.execute(
        update(api_keys)
        .where(api_keys.c.key_id == key_id, api_keys.c.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    row = (await connection.execute(select(api_keys).where(api_keys.c.key_id == key_id))).first()
    if row is None:
        raise NotFound(f"no API key {key_id!r}", details={"keyId": key_id})
    return _key(row)


async def list_api_keys(connection: AsyncConnection, limit: int = MAX_LISTED_KEYS) -> list[ApiKey]:
    assert 1 <= limit <= MAX_LISTED_KEYS
    rows = await connection.execute(
        select(api_keys).order_by(api_keys.c.created_at.desc(), api_keys.c.key_id).limit(limit)
    )
    return [_key(row) for row in rows]


async def authenticate_api_key(connection: AsyncConnection, token: str, now: datetime) -> ApiKey:
    """The live key a bearer token names, or `Unauthenticated` (one message for every cause)."""
    match = KEY_RE.match(token)
    refused = Unauthenticated("invalid, expired or revoked API key")
    if match is None:
        raise refused
    key_id, secret = match.group(1), match.group(2)
    row = (await connection.execute(select(api_keys).where(api_keys.c.key_id == key_id))).first()
    # Compare even when the key is unknown, so timing does not tell which ids exist.
    stored = row.secret_sha256 if row is not None else "0" * 64
    if not hmac.compare_digest(stored, secret_hash(secret)) or row is None:
        raise refused
    if row.revoked_at is not None or (row.expires_at is not None and row.expires_at <= now):
        raise refused
    return _key(row)


def _key(row: Row[Any]) -> ApiKey:
    return ApiKey(
        key_id=row.key_id,
        role=ApiKeyRole(row.role),
        merchant_id=row.merchant_id,
        label=row.label,
        created_by=row.created_by,
        created_at=row.created_at,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
    )
