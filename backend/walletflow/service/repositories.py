"""Small repositories over one open connection (the unit of work's transaction)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Text, and_, bindparam, insert, select, text, tuple_, update
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from walletflow.db.schema_foundation import idempotency_claims
from walletflow.db.schema_service import (
    command_log,
    feature_flags,
    fx_quotes,
    fx_rates,
    holds,
    merchants,
    wallets,
)
from walletflow.domain.errors import NotFound
from walletflow.domain.holds import HoldState

PENDING_RESPONSE: dict[str, Any] = {"status": "pending"}


@dataclass(frozen=True)
class StoredClaim:
    request_hash: str
    response: dict[str, Any]


class Claims:
    """Permanent idempotency claims: `(scope, key)` → request hash + stored response."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def claim(self, scope: str, key: str, request_hash: str) -> StoredClaim | None:
        """Claim the key in this transaction. None: it is ours now. Otherwise the earlier claim.

        A concurrent claimer of the same key blocks on the primary key until this transaction
        ends, then sees the committed claim (or takes the key if this one rolled back).
        """
        inserted = await self._connection.execute(
            pg_insert(idempotency_claims)
            .values(scope=scope, key=key, request_hash=request_hash, response=PENDING_RESPONSE)
            .on_conflict_do_nothing(index_elements=["scope", "key"])
            .returning(idempotency_claims.c.scope)
        )
        if inserted.first() is not None:
            return None
        row = (
            await self._connection.execute(
                select(idempotency_claims.c.request_hash, idempotency_claims.c.response).where(
                    idempotency_claims.c.scope == scope, idempotency_claims.c.key == key
                )
            )
        ).one()
        return StoredClaim(request_hash=row.request_hash, response=row.response)


class CommandLog:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def record(self, **values: Any) -> None:
        await self._connection.execute(insert(command_log).values(**values))


class Wallets:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def ensure_merchant(self, merchant_id: str, name: str | None) -> None:
        await self._connection.execute(
            pg_insert(merchants)
            .values(merchant_id=merchant_id, name=name or merchant_id)
            .on_conflict_do_nothing(index_elements=["merchant_id"])
        )

    async def create(self, merchant_id: str, currency: str) -> bool:
        """Create the wallet; False if it already existed."""
        result = await self._connection.execute(
            pg_insert(wallets)
            .values(merchant_id=merchant_id, currency=currency)
            .on_conflict_do_nothing(index_elements=["merchant_id", "currency"])
            .returning(wallets.c.merchant_id)
        )
        return result.first() is not None


@dataclass(frozen=True)
class Hold:
    payout_id: str
    merchant_id: str
    currency: str
    asset: str
    amount_minor: int
    provider: str
    destination: dict[str, Any]
    state: HoldState
    reserve_tx_id: int
    settle_tx_id: int | None
    release_tx_id: int | None
    provider_reference: str | None
    reason: str | None
    created_at: datetime
    state_changed_at: datetime
    merchant_payout_id: str | None = None
    """The id the merchant gave the payout (unique per merchant), when it gave one."""


class Holds:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def insert(self, **values: Any) -> None:
        await self._connection.execute(insert(holds).values(**values))

    async def lock(self, payout_id: str) -> Hold:
        """The hold, row-locked until this transaction ends (serialises its transitions)."""
        row = (
            await self._connection.execute(
                select(holds).where(holds.c.payout_id == payout_id).with_for_update()
            )
        ).first()
        if row is None:
            raise NotFound(f"no payout {payout_id}", details={"payoutId": payout_id})
        values = row._asdict()
        values["state"] = HoldState(values["state"])
        return Hold(**values)

    async def transition(self, payout_id: str, **values: Any) -> None:
        result = await self._connection.execute(
            update(holds).where(holds.c.payout_id == payout_id).values(**values)
        )
        assert result.rowcount == 1


class Flags:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def states(self, scopes: list[tuple[str, str]]) -> dict[tuple[str, str], bool]:
        """Explicit flag values for these (scope_type, scope_value) pairs; absent = unset."""
        if not scopes:
            return {}
        rows = await self._connection.execute(
            select(
                feature_flags.c.scope_type, feature_flags.c.scope_value, feature_flags.c.enabled
            ).where(
                and_(tuple_(feature_flags.c.scope_type, feature_flags.c.scope_value).in_(scopes))
            )
        )
        return {(row.scope_type, row.scope_value): row.enabled for row in rows}

    async def set(
        self, scope_type: str, scope_value: str, enabled: bool, actor: str, at: datetime
    ) -> None:
        statement = pg_insert(feature_flags).values(
            scope_type=scope_type,
            scope_value=scope_value,
            enabled=enabled,
            updated_by=actor,
            updated_at=at,
        )
        await self._connection.execute(
            statement.on_conflict_do_update(
                index_elements=["scope_type", "scope_value"],
                set_={"enabled": enabled, "updated_by": actor, "updated_at": at},
            )
        )


@dataclass(frozen=True)
class Quote:
    quote_id: str
    merchant_id: str
    sell_currency: str
    buy_currency: str
    sell_amount_minor: int
    buy_amount_minor: int
    rate: str
    expires_at: datetime
    created_at: datetime
    deal_tx_id: int | None


class FxBook:
    """FX rates (1 base = rate quote, exact decimal strings) and merchants' quotes."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def set_rate(self, base: str, quote: str, rate: str, actor: str, at: datetime) -> None:
        statement = pg_insert(fx_rates).values(
            base_currency=base, quote_currency=quote, rate=rate, updated_by=actor, updated_at=at
        )
        await self._connection.execute(
            statement.on_conflict_do_update(
                index_elements=["base_currency", "quote_currency"],
                set_={"rate": rate, "updated_by": actor, "updated_at": at},
            )
        )

    async def rate(self, base: str, quote: str) -> str | None:
        row = (
            await self._connection.execute(
                select(fx_rates.c.rate).where(
                    fx_rates.c.base_currency == base, fx_rates.c.quote_currency == quote
                )
            )
        ).first()
        return None if row is None else str(row.rate)

    async def insert_quote(self, **values: Any) -> None:
        await self._connection.execute(insert(fx_quotes).values(**values))

    async def lock_quote(self, quote_id: str) -> Quote:
        row = (
            await self._connection.execute(
                select(fx_quotes).where(fx_quotes.c.quote_id == quote_id).with_for_update()
            )
        ).first()
        if row is None:
            raise NotFound(f"no FX quote {quote_id}", details={"quoteId": quote_id})
        return Quote(**row._asdict())

    async def mark_booked(self, quote_id: str, deal_tx_id: int) -> None:
        result = await self._connection.execute(
            update(fx_quotes)
            .where(fx_quotes.c.quote_id == quote_id, fx_quotes.c.deal_tx_id.is_(None))
            .values(deal_tx_id=deal_tx_id)
        )
        assert result.rowcount == 1, "a quote is booked once"


_PREFLIGHT = text(
    """
    SELECT
      (SELECT coalesce(array_agg(w.merchant_id || ':' || w.currency), '{}')
         FROM wallets w
         JOIN unnest(CAST(:wallet_merchants AS text[]), CAST(:wallet_currencies AS text[]))
              AS q(merchant_id, currency)
           ON w.merchant_id = q.merchant_id AND w.currency = q.currency) AS found_wallets,
      (SELECT coalesce(jsonb_agg(jsonb_build_array(f.scope_type, f.scope_value, f.enabled)),
                       '[]'::jsonb)
         FROM feature_flags f
         JOIN unnest(CAST(:flag_types AS text[]), CAST(:flag_values AS text[]))
              AS q(scope_type, scope_value)
           ON f.scope_type = q.scope_type AND f.scope_value = q.scope_value) AS flag_states
    """
).bindparams(
    bindparam("wallet_merchants", type_=ARRAY(Text)),
    bindparam("wallet_currencies", type_=ARRAY(Text)),
    bindparam("flag_types", type_=ARRAY(Text)),
    bindparam("flag_values", type_=ARRAY(Text)),
)


@dataclass(frozen=True)
class PreflightFacts:
    found_wallets: frozenset[tuple[str, str]]
    flag_states: dict[tuple[str, str], bool]


async def preflight_facts(
    connection: AsyncConnection,
    wallets_needed: list[tuple[str, str]],
    flag_scopes: list[tuple[str, str]],
) -> PreflightFacts:
    """Which of these wallets exist and the explicit flags of these scopes: one round trip."""
    row = (
        await connection.execute(
            _PREFLIGHT,
            {
                "wallet_merchants": [merchant for merchant, _ in wallets_needed],
                "wallet_currencies": [currency for _, currency in wallets_needed],
                "flag_types": [scope_type for scope_type, _ in flag_scopes],
                "flag_values": [scope_value for _, scope_value in flag_scopes],
            },
        )
    ).one()
    found = frozenset(
        tuple(item.split(":", 1))
        for item in row.found_wallets  # type: ignore[misc]
    )
    states = {(kind, value): bool(enabled) for kind, value, enabled in row.flag_states}
    return PreflightFacts(found_wallets=found, flag_states=states)  # type: ignore[arg-type]


_FINISH = text(
    """
    WITH completed AS (
        UPDATE idempotency_claims SET response = :response
        WHERE scope = :scope AND key = :key
        RETURNING 1
    ), logged AS (
        INSERT INTO command_log (command, scope, idempotency_key, actor, status, reference,
                                 transaction_id, merchant_id, created_at)
        VALUES (:command, :scope, :key, :actor, 'completed', :reference, :transaction_id,
                :merchant_id, :created_at)
        RETURNING 1
    ), published AS (
        INSERT INTO outbox (event_id, event_type, merchant_id, payload, created_at)
        SELECT e.event_id, e.event_type, e.merchant_id, e.payload, :created_at
        FROM jsonb_to_recordset(:events) AS e(event_id text, event_type text,
                                              merchant_id text, payload jsonb)
        RETURNING 1
    )
    SELECT (SELECT count(*) FROM completed) AS claims,
           (SELECT count(*) FROM logged) AS logs,
           (SELECT count(*) FROM published) AS events
    """
).bindparams(bindparam("response", type_=JSONB), bindparam("events", type_=JSONB))


async def finish_command(
    connection: AsyncConnection,
    *,
    scope: str,
    key: str,
    response: dict[str, Any],
    log: dict[str, Any],
    events: list[dict[str, Any]],
) -> None:
    """Store the command's response in its claim, log it and write its outbox events: one
    statement, in the command's own transaction."""
    row = (
        await connection.execute(
            _FINISH, {"scope": scope, "key": key, "response": response, "events": events, **log}
        )
    ).one()
    assert row.claims == 1, "completing a claim that this unit of work does not hold"
    assert row.logs == 1 and row.events == len(events), row
