# mypy: disable-error-code="untyped-decorator"
# (strawberry.field(description=...) is typed as returning Any; the resolvers are typed.)
"""Subscriptions over graphql-transport-ws, driven by the `walletflow:events` Redis stream.

Each subscription follows the stream with its own XREAD BLOCK; derived views (outbox age, the
manual-review queue) are recomputed once per batch of events (debounced) and sent only when
they changed.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncGenerator, AsyncIterator, Iterator
from contextlib import contextmanager

import strawberry
from graphql import GraphQLError

from walletflow.api.events import READ_BLOCK_MS, StreamEvent, follow
from walletflow.api.graphql.context import GraphQLContext, Info
from walletflow.api.graphql.queries import hold_node, read_outbox_status, transaction_node
from walletflow.api.graphql.reporting import Gate, read_gates
from walletflow.api.graphql.scalars import JSON
from walletflow.api.graphql.types import Event, Hold, OutboxStatus, Transaction
from walletflow.domain.errors import NotFound, ValidationError, WalletflowError
from walletflow.views import holds as hold_views
from walletflow.views.visibility import within

MAX_QUEUE_ITEMS = 200
MIN_INTERVAL_S = 1
MAX_INTERVAL_S = 300
PAYOUT_EVENT_PREFIX = "payout."
RECHECK_INTERVAL_S = 2.0
MIN_DEBOUNCE_MS = 50
MAX_DEBOUNCE_MS = 10_000
# Under a steady stream of events, gates still re-run at least this often.
MAX_GATE_DELAY_S = 5.0


def _gate_signature(results: list[Gate]) -> list[tuple[str, bool, str]]:
    return [
        (gate.name, gate.ok, json.dumps(gate.detail, sort_keys=True, default=str))
        for gate in results
    ]


def _interval_ms(interval_s: int) -> int:
    if not MIN_INTERVAL_S <= interval_s <= MAX_INTERVAL_S:
        raise ValidationError(
            "intervalS out of range",
            field_errors={"intervalS": f"{MIN_INTERVAL_S}..{MAX_INTERVAL_S}"},
        )
    return interval_s * 1000


@contextmanager
def typed_errors() -> Iterator[None]:
    """A subscription's typed error leaves with its stable code in `extensions`, as queries'
    errors do (the execution extensions do not see errors raised mid-stream)."""
    try:
        yield
    except WalletflowError as error:
        extensions = {"code": error.code, "retryable": error.retryable}
        raise GraphQLError(error.message, extensions=extensions) from error


async def follow_checked(
    context: GraphQLContext, block_ms: int = READ_BLOCK_MS
) -> AsyncIterator[list[StreamEvent]]:
    """Follow the stream for a subscriber whose credentials are re-checked every
    RECHECK_INTERVAL_S: a removed email, an expired or revoked key ends the subscription."""
    checked = time.monotonic()
    async for batch in follow(context.state.resources.redis, block_ms=block_ms):
        if time.monotonic() - checked >= RECHECK_INTERVAL_S:
            await context.recheck()
            checked = time.monotonic()
        yield batch


@strawberry.type
class Subscription:
    @strawberry.subscription(description="Raw events (merchants: only their own).")
    async def events(
        self, info: Info, types: list[str] | None = None, merchant_id: str | None = None
    ) -> AsyncGenerator[Event, None]:
        with typed_errors():
            context = info.context
            merchant = context.visibility.merchant(merchant_id)
            wanted = set(types or [])
            async for batch in follow_checked(context):
                for event in batch:
                    if not within(merchant, event.merchant_id):
                        continue
                    if wanted and event.type not in wanted:
                        continue
                    yield Event(
                        event_id=event.event_id,
                        type=event.type,
                        merchant_id=event.merchant_id,
                        payload=JSON(context.visibility.without_actors(event.payload)),
                    )

    @strawberry.subscription(description="New ledger transactions (merchants: only their own).")
    async def transactions(
        self, info: Info, merchant_id: str | None = None
    ) -> AsyncGenerator[Transaction, None]:
        with typed_errors():
            context = info.context
            merchant = context.visibility.merchant(merchant_id)
            seen: set[int] = set()
            async for batch in follow_checked(context):
                for event in batch:
                    if not within(merchant, event.merchant_id):
                        continue
                    tx_id = event.payload.get("transactionId")
                    if not isinstance(tx_id, int) or tx_id in seen:
                        continue
                    try:
                        tx = await context.container.ledger.get_transaction(tx_id)
                    except NotFound:
                        continue
                    seen.add(tx_id)
                    if len(seen) > MAX_QUEUE_ITEMS:
                        seen.clear()
                    yield transaction_node(context.visibility.transaction(tx))

    @strawberry.subscription(
        description="Outbox status: when events flow, and at least every intervalS seconds."
    )
    async def outbox_age(
        self, info: Info, interval_s: int = 10
    ) -> AsyncGenerator[OutboxStatus, None]:
        with typed_errors():
            context = info.context
            context.visibility.require_everything()
            block_ms = _interval_ms(interval_s)
            yield await read_outbox_status(context)
            last_sent = time.monotonic()
            async for batch in follow_checked(context, block_ms):
                if not batch and time.monotonic() - last_sent < interval_s:
                    continue
                yield await read_outbox_status(context)
                last_sent = time.monotonic()

    @strawberry.subscription(
        description="The gates: now, then re-run after events (debounced), sent on change."
    )
    async def gates(self, info: Info, debounce_ms: int = 500) -> AsyncGenerator[list[Gate], None]:
        with typed_errors():
            context = info.context
            context.visibility.require_everything()
            if not MIN_DEBOUNCE_MS <= debounce_ms <= MAX_DEBOUNCE_MS:
                raise ValidationError(
                    "debounceMs out of range",
                    field_errors={"debounceMs": f"{MIN_DEBOUNCE_MS}..{MAX_DEBOUNCE_MS}"},
                )
            # Read-only principals (analysts) see the gates as the worker last rebuilt them.
            refresh = not context.read_only
            current = await read_gates(context, refresh_statements=refresh)
            yield current
            pending_since: float | None = None
            async for events in follow_checked(context, debounce_ms):
                # The relay's own heartbeat (outbox.age every few seconds) moves no money.
                batch = [event for event in events if not event.type.startswith("outbox.")]
                now = time.monotonic()
                if batch and pending_since is None:
                    pending_since = now
                quiet = not batch
                overdue = pending_since is not None and now - pending_since >= MAX_GATE_DELAY_S
                if pending_since is None or not (quiet or overdue):
                    continue
                pending_since = None
                fresh = await read_gates(context, refresh_statements=refresh)
                if _gate_signature(fresh) != _gate_signature(current):
                    current = fresh
                    yield current

    @strawberry.subscription(description="The manual-review queue, each time it changes.")
    async def manual_review_queue(self, info: Info) -> AsyncGenerator[list[Hold], None]:
        with typed_errors():
            context = info.context
            context.visibility.require_everything()

            async def snapshot() -> list[Hold]:
                async with context.container.engine.connect() as conn:
                    page = await hold_views.manual_review_queue(
                        conn, context.visibility, first=MAX_QUEUE_ITEMS
                    )
                return [hold_node(row) for row in page.rows[:MAX_QUEUE_ITEMS]]

            current = await snapshot()
            yield current
            async for batch in follow_checked(context):
                if not any(event.type.startswith(PAYOUT_EVENT_PREFIX) for event in batch):
                    continue
                fresh = await snapshot()
                if [(h.payout_id, h.state) for h in fresh] != [
                    (h.payout_id, h.state) for h in current
                ]:
                    current = fresh
                    yield current
