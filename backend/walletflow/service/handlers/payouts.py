"""Payout handlers: reserve into a per-payout hold sub-account, then settle to the provider or
release back to the merchant (never both: the database forbids it), or park in manual review.

Settle and release amounts are never supplied: they are the hold's own reserved amount, and
the template drains the hold sub-account (`send [ASSET *]`), asserted equal to it.
"""

from __future__ import annotations

import hashlib

from walletflow.domain import accounts
from walletflow.domain.commands import (
    MarkPayoutManualReview,
    ReleaseHold,
    ReservePayout,
    SettleHold,
)
from walletflow.domain.destinations import check_destination
from walletflow.domain.holds import HoldState, check_transition
from walletflow.domain.principals import Principal, Role
from walletflow.ledger.port import PostResult
from walletflow.service.flags import completion_scopes, require_enabled
from walletflow.service.handlers.common import (
    COMPLETED,
    asset_of,
    money_result,
    post_template,
    short_id,
)
from walletflow.service.repositories import Hold
from walletflow.service.results import CommandResult
from walletflow.service.unit_of_work import UnitOfWork

MERCHANT_PAYOUT_DIGEST_CHARS = 16


def hold_json(hold: Hold, state: HoldState) -> dict[str, object]:
    return {
        "payoutId": hold.payout_id,
        "merchantPayoutId": hold.merchant_payout_id,
        "merchantId": hold.merchant_id,
        "currency": hold.currency,
        "amountMinor": hold.amount_minor,
        "provider": hold.provider,
        "state": state.value,
    }


def merchant_scoped_payout_id(merchant_id: str, payout_id: str) -> str:
    """The payout id of a payout a merchant named `payout_id`: its own name, suffixed with a
    digest of (merchant, name). Two merchants may use the same name; neither can take the
    other's payout id, and a conflict names only the caller's own payout."""
    digest = hashlib.sha256(f"{merchant_id}\x00{payout_id}".encode()).hexdigest()
    return f"{payout_id}-{digest[:MERCHANT_PAYOUT_DIGEST_CHARS]}"


def payout_ids(
    principal: Principal, merchant_id: str, supplied: str | None
) -> tuple[str, str | None]:
    """(the payout id, the merchant's own name for it). A merchant's name is scoped to it; staff
    name payouts in the one staff namespace (they see every payout); with no name, the id is
    derived from the idempotency claim, which is per merchant already."""
    if supplied is None:
        return "", None
    if principal.role is Role.MERCHANT:
        return merchant_scoped_payout_id(merchant_id, supplied), supplied
    return supplied, None


async def reserve_payout(command: ReservePayout, uow: UnitOfWork) -> CommandResult:
    uow.policy.payout_rails.check(command.provider, command.currency)
    check_destination(command.destination)
    await uow.preflight(
        wallets=[(command.merchant_id, command.currency)],
        flags=[
            ("merchant", command.merchant_id),
            ("currency", command.currency),
            ("provider", command.provider),
        ],
    )
    payout_id, merchant_payout_id = payout_ids(
        uow.context.principal, command.merchant_id, command.payout_id
    )
    payout_id = payout_id or short_id("po", uow)
    posted = await post_template(
        uow,
        "payout_reserve",
        {
            "amount": f"{asset_of(command.currency)} {command.amount_minor}",
            "merchant_available": accounts.merchant_available(
                command.merchant_id, command.currency
            ),
            "payout_hold": accounts.merchant_hold(command.merchant_id, command.currency, payout_id),
        },
        reference=f"payout:{payout_id}:reserve",
        metadata={"merchantId": command.merchant_id, "payoutId": payout_id},
    )
    now = uow.clock.now()
    await uow.holds.insert(
        payout_id=payout_id,
        merchant_id=command.merchant_id,
        currency=command.currency,
        asset=asset_of(command.currency),
        amount_minor=command.amount_minor,
        provider=command.provider,
        destination=command.destination,
        state=HoldState.RESERVED.value,
        reserve_tx_id=posted.transaction.id,
        created_at=now,
        state_changed_at=now,
        merchant_payout_id=merchant_payout_id,
    )
    payload = {
        "payoutId": payout_id,
        "merchantPayoutId": merchant_payout_id,
        "merchantId": command.merchant_id,
        "currency": command.currency,
        "amountMinor": command.amount_minor,
        "provider": command.provider,
        "state": HoldState.RESERVED.value,
        "transactionId": posted.transaction.id,
    }
    uow.emit("payout.reserved", payload, command.merchant_id)
    return money_result(uow, posted, payload)


async def _complete(
    uow: UnitOfWork, hold: Hold, target: HoldState, template: str, counter_account: str
) -> PostResult:
    payout_id = hold.payout_id
    check_transition(payout_id, hold.state, target)
    scopes = completion_scopes(
        uow.policy.completion_gating,
        merchant_id=hold.merchant_id,
        currency=hold.currency,
        provider=hold.provider,
    )
    if scopes:
        await require_enabled(uow.flags, uow.policy.flag_mode, scopes)
    hold_account = accounts.merchant_hold(hold.merchant_id, hold.currency, payout_id)
    variables = {"asset": hold.asset, "payout_hold": hold_account}
    if target is HoldState.SETTLED:
        variables["provider_settlement"] = counter_account
    else:
        variables["merchant_available"] = counter_account
    posted = await post_template(
        uow,
        template,
        variables,
        reference=f"payout:{payout_id}:{target.value}",
        metadata={"merchantId": hold.merchant_id, "payoutId": payout_id},
    )
    moved_minor = sum(p.amount_minor for p in posted.transaction.postings)
    # The hold drains exactly what was reserved: settled + released never exceeds reserved.
    assert moved_minor == hold.amount_minor, (payout_id, moved_minor, hold.amount_minor)
    assert posted.post_balances.get(hold_account, {}).get(hold.asset, 0) == 0, payout_id
    return posted


async def settle_hold(command: SettleHold, uow: UnitOfWork) -> CommandResult:
    hold = await uow.holds.lock(command.payout_id)
    settlement = accounts.provider_settlement(hold.provider, hold.currency)
    posted = await _complete(uow, hold, HoldState.SETTLED, "payout_settle", settlement)
    await uow.holds.transition(
        command.payout_id,
        state=HoldState.SETTLED.value,
        settle_tx_id=posted.transaction.id,
        provider_reference=command.provider_reference or hold.provider_reference,
        state_changed_at=uow.clock.now(),
    )
    payload = {**hold_json(hold, HoldState.SETTLED), "transactionId": posted.transaction.id}
    uow.emit("payout.settled", payload, hold.merchant_id)
    return money_result(uow, posted, payload)


async def release_hold(command: ReleaseHold, uow: UnitOfWork) -> CommandResult:
    hold = await uow.holds.lock(command.payout_id)
    available = accounts.merchant_available(hold.merchant_id, hold.currency)
    posted = await _complete(uow, hold, HoldState.RELEASED, "payout_release", available)
    await uow.holds.transition(
        command.payout_id,
        state=HoldState.RELEASED.value,
        release_tx_id=posted.transaction.id,
        reason=command.reason,
        state_changed_at=uow.clock.now(),
    )
    payload = {
        **hold_json(hold, HoldState.RELEASED),
        "reason": command.reason,
        "transactionId": posted.transaction.id,
    }
    uow.emit("payout.released", payload, hold.merchant_id)
    return money_result(uow, posted, payload)


async def mark_payout_manual_review(
    command: MarkPayoutManualReview, uow: UnitOfWork
) -> CommandResult:
    hold = await uow.holds.lock(command.payout_id)
    check_transition(command.payout_id, hold.state, HoldState.MANUAL_REVIEW)
    await uow.holds.transition(
        command.payout_id,
        state=HoldState.MANUAL_REVIEW.value,
        reason=command.reason,
        state_changed_at=uow.clock.now(),
    )
    payload = {**hold_json(hold, HoldState.MANUAL_REVIEW), "reason": command.reason}
    uow.emit("payout.manual_review", payload, hold.merchant_id)
    return CommandResult(
        command=uow.context.command,
        status=COMPLETED,
        reference=f"payout:{command.payout_id}",
        data=payload,
    )
