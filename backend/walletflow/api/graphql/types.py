# mypy: disable-error-code="untyped-decorator"
# (strawberry.field(description=...) is typed as returning Any; the resolvers are typed.)
"""GraphQL object types for the read side (queries and subscriptions)."""

from __future__ import annotations

from datetime import datetime

import strawberry

from walletflow import money
from walletflow.api.graphql.context import Info
from walletflow.api.graphql.scalars import JSON, BigInt
from walletflow.domain import accounts


def format_minor(amount_minor: int, asset: str) -> str:
    """`NGN 1,500.25`-style text; the raw integer if the asset is not in the scale table."""
    try:
        return money.Money.of_minor(amount_minor, asset).format()
    except Exception:
        return f"{asset} {amount_minor}"


@strawberry.type(description="An amount of one asset in minor units, with a display form.")
class MoneyAmount:
    asset: str
    amount_minor: BigInt

    @strawberry.field
    def formatted(self) -> str:
        return format_minor(int(self.amount_minor), self.asset)


@strawberry.type(description="The balance of one ledger account in one asset.")
class Balance:
    account: str
    asset: str
    balance_minor: BigInt

    @strawberry.field
    def formatted(self) -> str:
        return format_minor(int(self.balance_minor), self.asset)


@strawberry.type(description="Live balances of a wallet, derived from the ledger.")
class WalletBalances:
    available: MoneyAmount
    reserve: MoneyAmount
    holds: MoneyAmount
    total: MoneyAmount


def _asset_of(currency: str) -> str:
    return str(money.Asset.of(currency))


@strawberry.type
class Wallet:
    merchant_id: str
    currency: str
    created_at: datetime

    @strawberry.field
    def asset(self) -> str:
        return _asset_of(self.currency)

    @strawberry.field(description="available, holds (open payouts) and reserve, from the ledger")
    async def balances(self, info: Info) -> WalletBalances:
        loaders = info.context.loaders
        asset = _asset_of(self.currency)
        hold_accounts = await loaders.open_holds.load((self.merchant_id, self.currency))
        available_account = accounts.merchant_available(self.merchant_id, self.currency)
        reserve_account = accounts.merchant_reserve(self.merchant_id, self.currency)
        found = await loaders.account_balances.load_many(
            [available_account, reserve_account, *hold_accounts]
        )
        available = found[0].get(asset, 0)
        reserve = found[1].get(asset, 0)
        held = sum(lines.get(asset, 0) for lines in found[2:])

        def amount(minor: int) -> MoneyAmount:
            return MoneyAmount(asset=asset, amount_minor=BigInt(minor))

        return WalletBalances(
            available=amount(available),
            reserve=amount(reserve),
            holds=amount(held),
            total=amount(available + reserve + held),
        )


@strawberry.type(description="A payout hold: its own ledger sub-account and state.")
class Hold:
    payout_id: str
    merchant_id: str
    currency: str
    asset: str
    amount_minor: BigInt
    provider: str
    state: str
    destination: JSON
    provider_reference: str | None
    reason: str | None
    created_at: datetime
    state_changed_at: datetime
    merchant_payout_id: str | None = strawberry.field(
        default=None, description="The id the merchant gave this payout (unique per merchant)."
    )

    @strawberry.field(description="The hold sub-account's balance in the ledger right now.")
    async def ledger_balance_minor(self, info: Info) -> BigInt:
        address = accounts.merchant_hold(self.merchant_id, self.currency, self.payout_id)
        found = await info.context.loaders.account_balances.load(address)
        return BigInt(found.get(self.asset, 0))

    @strawberry.field
    def formatted(self) -> str:
        return format_minor(int(self.amount_minor), self.asset)


@strawberry.type
class Posting:
    tx_id: BigInt
    ordinal: int
    source: str
    destination: str
    asset: str
    amount_minor: BigInt
    effective_at: datetime

    @strawberry.field
    def formatted(self) -> str:
        return format_minor(int(self.amount_minor), self.asset)


@strawberry.type
class Transaction:
    id: BigInt
    reference: str | None
    metadata: JSON
    effective_at: datetime
    inserted_at: datetime
    reverted: bool
    reverts_tx_id: BigInt | None
    postings: list[Posting]


@strawberry.type(description="Net movement of one account over a time window.")
class AccountMovement:
    account: str
    asset: str
    opening_minor: BigInt
    closing_minor: BigInt
    change_minor: BigInt

    @strawberry.field
    def formatted_change(self) -> str:
        return format_minor(int(self.change_minor), self.asset)


@strawberry.type(description="Net movement per asset of every account under a prefix.")
class AssetMovement:
    asset: str
    change_minor: BigInt

    @strawberry.field
    def formatted(self) -> str:
        return format_minor(int(self.change_minor), self.asset)


@strawberry.type
class Movements:
    prefix: str
    from_time: datetime
    to_time: datetime
    by_asset: list[AssetMovement]
    by_account: list[AccountMovement]


@strawberry.type
class FeatureFlag:
    scope_type: str
    scope_value: str
    enabled: bool
    updated_by: str
    updated_at: datetime


@strawberry.type
class OutboxStatus:
    pending_count: int
    oldest_pending_age_s: float | None
    oldest_pending_at: datetime | None


@strawberry.type
class TemplateInfo:
    name: str
    sha256: str
    loaded: bool
    """True when the catalog's hash equals the one recorded by the last rebuildTemplates."""
    loaded_sha256: str | None
    loaded_at: datetime | None


@strawberry.type
class Me:
    role: str
    subject: str
    merchant_id: str | None
    open_dev: bool


@strawberry.type(description="One input of a command, for generated forms.")
class CommandField:
    name: str
    """camelCase, as in the mutation input."""
    kind: str
    label: str
    required: bool
    default: JSON | None
    choices: list[str]
    currency_field: str | None
    allow_zero: bool
    help: str
    graphql_type: str


@strawberry.type(description="A registry command: the dashboard builds its forms from this.")
class CommandInfo:
    name: str
    title: str
    description: str
    group: str
    permission: str
    template: str | None
    merchant_field: str | None
    moves_money: bool
    four_eyes: bool
    """A person's entry needs a second person's approval (the default policy)."""
    provider_only: bool
    """A provider fact (the signed webhook); staff enter it only under four eyes."""
    allowed: bool
    """Whether the caller's role may run it at all (merchants: on their own merchant id)."""
    fields: list[CommandField]


@strawberry.type
class ApiKeyInfo:
    key_id: str
    role: str
    merchant_id: str | None
    label: str
    created_by: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None


@strawberry.type(description="A new API key; `token` is shown once and never stored.")
class CreatedApiKey:
    key: ApiKeyInfo
    token: str


@strawberry.type
class Event:
    event_id: str
    type: str
    merchant_id: str | None
    payload: JSON
