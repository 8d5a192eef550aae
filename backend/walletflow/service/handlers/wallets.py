"""Wallet handlers: create a wallet, pay in, transfer, opening balances, rolling reserves."""

from __future__ import annotations

from walletflow.domain import accounts
from walletflow.domain.commands import (
    CreateWallet,
    HoldRollingReserve,
    MigrateWallet,
    PostOpeningBalance,
    PostPayin,
    ReleaseRollingReserve,
    Transfer,
)
from walletflow.domain.errors import ValidationError
from walletflow.domain.holds import HoldState
from walletflow.domain.principals import Principal
from walletflow.service.handlers.common import (
    COMPLETED,
    asset_of,
    balance_lines,
    default_reference,
    merchant_movement,
    monetary,
    money_result,
    portion,
    post_template,
    short_id,
)
from walletflow.service.results import CommandResult
from walletflow.service.unit_of_work import UnitOfWork


async def create_wallet(command: CreateWallet, uow: UnitOfWork) -> CommandResult:
    await uow.wallets.ensure_merchant(command.merchant_id, command.merchant_name)
    created = await uow.wallets.create(command.merchant_id, command.currency)
    wallet_accounts = [
        accounts.merchant_available(command.merchant_id, command.currency),
        accounts.merchant_reserve(command.merchant_id, command.currency),
    ]
    balances = await uow.ledger.balances(accounts=wallet_accounts, asset=asset_of(command.currency))
    if created:
        uow.emit(
            "wallet.created",
            {"merchantId": command.merchant_id, "currency": command.currency},
            command.merchant_id,
        )
    return CommandResult(
        command=uow.context.command,
        status=COMPLETED,
        balances=balance_lines(balances),
        data={"merchantId": command.merchant_id, "currency": command.currency, "created": created},
    )


PROVIDER_PAYIN_NAMESPACE = "payin"
STAFF_PAYIN_NAMESPACE = "payin-staff"


def payin_reference(
    principal: Principal, provider: str, provider_reference: str | None
) -> str | None:
    """The ledger reference of a pay-in with a provider reference, namespaced by who may
    create it: `payin:<provider>:<ref>` only by that provider's own signed webhook, so no one
    can claim a reference the provider will use first; a pay-in staff entered (under four
    eyes) is `payin-staff:<provider>:<ref>`. Either way one ledger transaction per reference,
    whatever idempotency key it arrives with. None: no provider reference given."""
    if not provider_reference:
        return None
    namespace = (
        PROVIDER_PAYIN_NAMESPACE if principal.provider == provider else STAFF_PAYIN_NAMESPACE
    )
    return f"{namespace}:{provider}:{provider_reference}"


async def post_payin(command: PostPayin, uow: UnitOfWork) -> CommandResult:
    """Credit the merchant the gross amount less fee and VAT; the provider owes us the gross."""
    if command.fee_minor + command.vat_minor > command.amount_minor:
        raise ValidationError(
            "fee plus VAT exceed the amount",
            field_errors={"fee": "fee + vat must not exceed amount"},
        )
    await uow.preflight(
        wallets=[(command.merchant_id, command.currency)],
        flags=[
            ("merchant", command.merchant_id),
            ("currency", command.currency),
            ("provider", command.provider),
        ],
    )
    reference = payin_reference(
        uow.context.principal, command.provider, command.provider_reference
    ) or default_reference(uow)
    fee_total_minor = command.fee_minor + command.vat_minor
    posted = await post_template(
        uow,
        "payin",
        {
            "amount": monetary(command.currency, command.amount_minor),
            "fee": monetary(command.currency, fee_total_minor),
            "vat_share": portion(command.vat_minor, fee_total_minor),
            "provider_settlement": accounts.provider_settlement(command.provider, command.currency),
            "merchant_available": accounts.merchant_available(
                command.merchant_id, command.currency
            ),
            "fee_revenue": accounts.fees_revenue(command.currency),
            "vat_payable": accounts.tax_vat(command.currency),
        },
        reference=reference,
        metadata={"merchantId": command.merchant_id, "provider": command.provider},
    )
    uow.emit(
        "payin.posted",
        {
            "merchantId": command.merchant_id,
            "currency": command.currency,
            "amountMinor": command.amount_minor,
            "transactionId": posted.transaction.id,
        },
        command.merchant_id,
    )
    return money_result(uow, posted, {"netMinor": command.amount_minor - fee_total_minor})


async def transfer(command: Transfer, uow: UnitOfWork) -> CommandResult:
    if command.from_merchant_id == command.to_merchant_id:
        raise ValidationError(
            "a transfer needs two different merchants",
            field_errors={"toMerchantId": "must differ from fromMerchantId"},
        )
    await uow.preflight(
        wallets=[
            (command.from_merchant_id, command.currency),
            (command.to_merchant_id, command.currency),
        ],
        flags=[
            ("merchant", command.from_merchant_id),
            ("merchant", command.to_merchant_id),
            ("currency", command.currency),
        ],
    )
    metadata = {"fromMerchantId": command.from_merchant_id, "toMerchantId": command.to_merchant_id}
    if command.description:
        metadata["description"] = command.description
    posted = await post_template(
        uow,
        "transfer",
        {
            "amount": monetary(command.currency, command.amount_minor),
            "from_available": accounts.merchant_available(
                command.from_merchant_id, command.currency
            ),
            "to_available": accounts.merchant_available(command.to_merchant_id, command.currency),
        },
        reference=default_reference(uow),
        metadata=metadata,
    )
    for merchant_id in (command.from_merchant_id, command.to_merchant_id):
        uow.emit(
            "transfer.posted",
            {"transactionId": posted.transaction.id, "currency": command.currency, **metadata},
            merchant_id,
        )
    return money_result(uow, posted)


async def post_opening_balance(command: PostOpeningBalance, uow: UnitOfWork) -> CommandResult:
    merchant, currency = command.merchant_id, command.currency
    return await merchant_movement(
        uow,
        merchant_id=merchant,
        wallets=[(merchant, currency)],
        template="opening_balance",
        variables={
            "amount": monetary(currency, command.amount_minor),
            "account": accounts.merchant_available(merchant, currency),
        },
        event_type="opening_balance.posted",
        effective_at=command.effective_at,
    )


LEGACY_PROVIDER = "legacy"
"""The rail of a migrated in-flight payout: staff settle it (paid by the legacy rail, owed by
`providers:legacy:{ccy}:settlement`) or release it back to the wallet."""


def migration_reference(merchant_id: str, currency: str) -> str:
    """One migration per wallet, forever: the ledger refuses a second transaction with it."""
    return f"migration:{merchant_id}:{currency}"


async def migrate_wallet(command: MigrateWallet, uow: UnitOfWork) -> CommandResult:
    """Open the wallet and post its legacy balances from @world in one transaction; in-flight
    legacy payouts become one hold in manual review, for staff to settle or release."""
    merchant, currency = command.merchant_id, command.currency
    await uow.wallets.ensure_merchant(merchant, command.merchant_name)
    await uow.wallets.create(merchant, currency)
    total_minor = command.available_minor + command.reserve_minor + command.holds_minor
    data = {
        "merchantId": merchant,
        "currency": currency,
        "availableMinor": command.available_minor,
        "reserveMinor": command.reserve_minor,
        "holdsMinor": command.holds_minor,
        "asOf": command.as_of.isoformat(),
    }
    if total_minor == 0:
        uow.emit("wallet.migrated", data, merchant)
        return CommandResult(command=uow.context.command, status=COMPLETED, data=data)
    payout_id = short_id("legacy", uow)
    posted = await post_template(
        uow,
        "migration",
        {
            "available": monetary(currency, command.available_minor),
            "reserve": monetary(currency, command.reserve_minor),
            "holds": monetary(currency, command.holds_minor),
            "available_account": accounts.merchant_available(merchant, currency),
            "reserve_account": accounts.merchant_reserve(merchant, currency),
            "holds_account": accounts.merchant_hold(merchant, currency, payout_id),
        },
        reference=migration_reference(merchant, currency),
        metadata={"merchantId": merchant, "asOf": command.as_of.isoformat()},
        effective_at=command.as_of,
    )
    if command.holds_minor > 0:
        now = uow.clock.now()
        await uow.holds.insert(
            payout_id=payout_id,
            merchant_id=merchant,
            currency=currency,
            asset=asset_of(currency),
            amount_minor=command.holds_minor,
            provider=LEGACY_PROVIDER,
            destination={},
            state=HoldState.MANUAL_REVIEW.value,
            reserve_tx_id=posted.transaction.id,
            reason=f"in-flight legacy payouts migrated as of {command.as_of.isoformat()}",
            created_at=now,
            state_changed_at=now,
        )
        data["payoutId"] = payout_id
    data["transactionId"] = posted.transaction.id
    uow.emit("wallet.migrated", data, merchant)
    return money_result(uow, posted, data)


async def hold_rolling_reserve(command: HoldRollingReserve, uow: UnitOfWork) -> CommandResult:
    merchant, currency = command.merchant_id, command.currency
    return await merchant_movement(
        uow,
        merchant_id=merchant,
        wallets=[(merchant, currency)],
        template="rolling_reserve_hold",
        variables={
            "amount": monetary(currency, command.amount_minor),
            "merchant_available": accounts.merchant_available(merchant, currency),
            "merchant_reserve": accounts.merchant_reserve(merchant, currency),
        },
        event_type="reserve.held",
    )


async def release_rolling_reserve(command: ReleaseRollingReserve, uow: UnitOfWork) -> CommandResult:
    merchant, currency = command.merchant_id, command.currency
    return await merchant_movement(
        uow,
        merchant_id=merchant,
        wallets=[(merchant, currency)],
        template="rolling_reserve_release",
        variables={
            "amount": monetary(currency, command.amount_minor),
            "merchant_reserve": accounts.merchant_reserve(merchant, currency),
            "merchant_available": accounts.merchant_available(merchant, currency),
        },
        event_type="reserve.released",
    )
