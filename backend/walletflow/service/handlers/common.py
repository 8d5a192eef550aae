"""What every money handler shares: running a template through the ledger, references,
Formance variable strings, and turning a ledger result into a command result."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from walletflow.ledger.port import PostRequest, PostResult
from walletflow.money import Asset
from walletflow.service.results import BalanceLine, CommandResult
from walletflow.service.unit_of_work import UnitOfWork

COMPLETED = "completed"


def asset_of(currency: str) -> str:
    """Formance asset of a currency code: NGN → NGN/2, UGX → UGX, USDC → USDC/6."""
    return str(Asset.of(currency))


def monetary(currency: str, amount_minor: int) -> str:
    """A Numscript monetary variable: "NGN/2 150025"."""
    assert amount_minor >= 0, amount_minor
    return f"{asset_of(currency)} {amount_minor}"


def portion(numerator: int, denominator: int) -> str:
    """An exact Numscript portion; 0/0 (nothing to split) is written 0%."""
    assert 0 <= numerator <= denominator
    return "0%" if denominator == 0 else f"{numerator}/{denominator}"


def default_reference(uow: UnitOfWork) -> str:
    """A ledger reference unique to this command's idempotency claim."""
    context = uow.context
    digest = hashlib.sha256(f"{context.scope}\x00{context.idempotency_key}".encode()).hexdigest()
    return f"{context.command}:{digest[:32]}"


def short_id(prefix: str, uow: UnitOfWork) -> str:
    """A stable id derived from the idempotency claim (a replay derives the same id)."""
    context = uow.context
    seed = f"{context.scope}\x00{context.idempotency_key}\x00{context.command}"
    return f"{prefix}_{hashlib.sha256(seed.encode()).hexdigest()[:20]}"


async def post_template(
    uow: UnitOfWork,
    template: str,
    variables: Mapping[str, str],
    *,
    reference: str,
    metadata: Mapping[str, str] | None = None,
    effective_at: datetime | None = None,
) -> PostResult:
    request = PostRequest(
        script=uow.templates.source(template),
        variables=dict(variables),
        reference=reference,
        metadata={
            "command": uow.context.command,
            "template": template,
            "actor": uow.context.principal.subject,
            **(metadata or {}),
        },
        effective_at=effective_at,
    )
    return await uow.ledger.post(request)


async def merchant_movement(
    uow: UnitOfWork,
    *,
    merchant_id: str,
    wallets: list[tuple[str, str]],
    template: str,
    variables: Mapping[str, str],
    event_type: str,
    flags: list[tuple[str, str]] | None = None,
    effective_at: datetime | None = None,
) -> CommandResult:
    """The common shape of a merchant's movement: its wallets exist (and, with `flags`, the core
    wallet is enabled), one template posts under this claim's reference, one event tells."""
    await uow.preflight(wallets=wallets, flags=flags)
    posted = await post_template(
        uow,
        template,
        variables,
        reference=default_reference(uow),
        metadata={"merchantId": merchant_id},
        effective_at=effective_at,
    )
    uow.emit(
        event_type, {"merchantId": merchant_id, "transactionId": posted.transaction.id}, merchant_id
    )
    return money_result(uow, posted)


def money_result(
    uow: UnitOfWork, posted: PostResult, data: Mapping[str, Any] | None = None
) -> CommandResult:
    transaction = posted.transaction
    return CommandResult(
        command=uow.context.command,
        status=COMPLETED,
        reference=transaction.reference,
        transaction_id=transaction.id,
        balances=balance_lines(posted.post_balances),
        data=dict(data or {}),
    )


def balance_lines(balances: Mapping[str, Mapping[str, int]]) -> tuple[BalanceLine, ...]:
    return tuple(
        BalanceLine(account, asset, amount_minor)
        for account, assets in sorted(balances.items())
        for asset, amount_minor in sorted(assets.items())
    )
