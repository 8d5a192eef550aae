"""Corrections and reversals: the only ways to undo or adjust a posted movement.

A correction credits or debits a merchant's wallet against the currency's suspense account
(`suspense:{ccy}:adjustments`, never @world) with a mandatory reason and evidence reference (and
optionally a past effective date): it creates no money, it opens an item that must be explained
(the `suspense` gate). A reversal posts the mirror of a transaction; the ledger
refuses a second one. Payout transactions are never reversed here: a hold is completed by
settleHold/releaseHold so the hold rows and the ledger cannot disagree.
"""

from __future__ import annotations

from walletflow.domain import accounts
from walletflow.domain.commands import PostCorrection, Reverse
from walletflow.domain.errors import IllegalStateTransition
from walletflow.service.handlers.common import (
    default_reference,
    monetary,
    money_result,
    post_template,
)
from walletflow.service.results import CommandResult
from walletflow.service.unit_of_work import UnitOfWork

PAYOUT_TEMPLATES = frozenset({"payout_reserve", "payout_settle", "payout_release"})


async def post_correction(command: PostCorrection, uow: UnitOfWork) -> CommandResult:
    await uow.preflight(
        wallets=[(command.merchant_id, command.currency)],
    )
    template = "correction_credit" if command.direction == "credit" else "correction_debit"
    posted = await post_template(
        uow,
        template,
        {
            "amount": monetary(command.currency, command.amount_minor),
            "account": accounts.merchant_available(command.merchant_id, command.currency),
            "suspense": accounts.suspense(command.currency),
            "reason": command.reason,
            "evidence": command.evidence_reference,
        },
        reference=default_reference(uow),
        metadata={"merchantId": command.merchant_id, "direction": command.direction},
        effective_at=command.effective_at,
    )
    uow.emit(
        "correction.posted",
        {
            "merchantId": command.merchant_id,
            "direction": command.direction,
            "reason": command.reason,
            "evidenceReference": command.evidence_reference,
            "transactionId": posted.transaction.id,
        },
        command.merchant_id,
    )
    return money_result(uow, posted, {"direction": command.direction})


async def reverse(command: Reverse, uow: UnitOfWork) -> CommandResult:
    original = await uow.ledger.get_transaction(command.transaction_id)
    if original.metadata.get("template") in PAYOUT_TEMPLATES:
        raise IllegalStateTransition(
            f"transaction {command.transaction_id} belongs to a payout; "
            "use releaseHold or settleHold",
            details={"transactionId": command.transaction_id},
        )
    posted = await uow.ledger.revert(
        command.transaction_id,
        reference=f"reverse:{command.transaction_id}",
        metadata={
            "command": uow.context.command,
            "reason": command.reason,
            "actor": uow.context.principal.subject,
        },
    )
    merchant_id = original.metadata.get("merchantId")
    uow.emit(
        "transaction.reversed",
        {
            "transactionId": command.transaction_id,
            "reversalTransactionId": posted.transaction.id,
            "reason": command.reason,
        },
        merchant_id,
    )
    return money_result(uow, posted, {"revertedTransactionId": command.transaction_id})
