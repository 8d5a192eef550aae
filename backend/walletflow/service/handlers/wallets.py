"""Wallet handlers: create a wallet, pay in, transfer, opening balances, rolling reserves."""

from __future__ import annotations

from walletflow.domain import accounts
from walletflow.domain.commands import (
    CreateWallet,
    HoldRollingReserve,
    PostOpeningBalance,
    PostPayin,
    ReleaseRollingReserve,
    Transfer,
)
from walletflow.domain.errors import ValidationError
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
