"""Every command walletflow knows: the registry entries. The API's mutations, the dashboard's
forms and `walletflow cmd` are generated from this list and nothing else."""

from __future__ import annotations

from walletflow.domain import commands as c
from walletflow.service.fields import FieldKind as K
from walletflow.service.fields import FieldSpec as F
from walletflow.service.handlers import (
    admin,
    corrections,
    payouts,
    reporting_admin,
    treasury,
    wallets,
)
from walletflow.service.registry import CommandGroup as G
from walletflow.service.registry import CommandSpec, Permission, Registry

MERCHANT = F("merchant_id", K.ID, "Merchant")
CURRENCY = F("currency", K.CURRENCY, "Currency")
AMOUNT = F("amount", K.AMOUNT, "Amount", help="major units, e.g. 1500.25")
PROVIDER = F("provider", K.ID, "Provider")
PAYOUT = F("payout_id", K.ID, "Payout id")
REASON = F("reason", K.TEXT, "Reason")
BANK = F("bank_id", K.ID, "Bank")


def _amount(name: str, label: str, currency_field: str) -> F:
    return F(name, K.AMOUNT, label, currency_field=currency_field)


WALLET_SPECS: tuple[CommandSpec, ...] = (
    CommandSpec(
        name="createWallet",
        title="Create wallet",
        description="Open a merchant's wallet in one currency (creates the merchant if new).",
        group=G.WALLET,
        command_type=c.CreateWallet,
        fields=(MERCHANT, CURRENCY, F("merchant_name", K.TEXT, "Merchant name", required=False)),
        permission=Permission.MERCHANT,
        merchant_field="merchant_id",
        handler=wallets.create_wallet,
        moves_money=False,
    ),
    CommandSpec(
        name="postPayin",
        title="Pay-in",
        description="Credit a pay-in collected by a provider: amount less fee and VAT.",
        group=G.MONEY,
        command_type=c.PostPayin,
        fields=(
            MERCHANT,
            CURRENCY,
            AMOUNT,
            F("fee", K.AMOUNT, "Fee", required=False, default=0, allow_zero=True),
            F("vat", K.AMOUNT, "VAT", required=False, default=0, allow_zero=True),
            PROVIDER,
            F("provider_reference", K.TEXT, "Provider reference", required=False),
        ),
        permission=Permission.OPERATOR,
        template="payin",
        handler=wallets.post_payin,
        four_eyes=True,
        provider_only=True,
        from_provider=True,
    ),
    CommandSpec(
        name="transfer",
        title="Transfer",
        description="Move funds between two merchants' wallets in one currency.",
        group=G.MONEY,
        command_type=c.Transfer,
        fields=(
            F("from_merchant_id", K.ID, "From merchant"),
            F("to_merchant_id", K.ID, "To merchant"),
            CURRENCY,
            AMOUNT,
            F("description", K.TEXT, "Description", required=False),
        ),
        permission=Permission.MERCHANT,
        merchant_field="from_merchant_id",
        template="transfer",
        handler=wallets.transfer,
    ),
    CommandSpec(
        name="postOpeningBalance",
        title="Opening balance",
        description="Migrate a merchant's balance from the previous system.",
        group=G.CORRECTION,
        command_type=c.PostOpeningBalance,
        fields=(
            MERCHANT,
            CURRENCY,
            AMOUNT,
            F("effective_at", K.DATETIME, "Effective at", required=False),
        ),
        permission=Permission.OPERATOR,
        template="opening_balance",
        handler=wallets.post_opening_balance,
        four_eyes=True,
    ),
    CommandSpec(
        name="migrateWallet",
        title="Migrate legacy wallet",
        description="Open a wallet with its legacy balances (available, reserve, in-flight "
        "holds) as of the legacy cut-off, in one transaction; run once per wallet, forever.",
        group=G.CORRECTION,
        command_type=c.MigrateWallet,
        fields=(
            MERCHANT,
            F("merchant_name", K.TEXT, "Merchant name", required=False),
            CURRENCY,
            F("available", K.AMOUNT, "Available", allow_zero=True),
            F("reserve", K.AMOUNT, "Reserve", allow_zero=True),
            F("holds", K.AMOUNT, "Holds", allow_zero=True),
            F("as_of", K.DATETIME, "As of", help="the legacy cut-off the balances are taken at"),
        ),
        permission=Permission.ADMIN,
        template="migration",
        handler=wallets.migrate_wallet,
        four_eyes=True,
    ),
    CommandSpec(
        name="holdRollingReserve",
        title="Hold rolling reserve",
        description="Move funds from a merchant's available balance into its reserve.",
        group=G.MONEY,
        command_type=c.HoldRollingReserve,
        fields=(MERCHANT, CURRENCY, AMOUNT),
        permission=Permission.OPERATOR,
        template="rolling_reserve_hold",
        handler=wallets.hold_rolling_reserve,
    ),
    CommandSpec(
        name="releaseRollingReserve",
        title="Release rolling reserve",
        description="Return reserved funds to the merchant's available balance.",
        group=G.MONEY,
        command_type=c.ReleaseRollingReserve,
        fields=(MERCHANT, CURRENCY, AMOUNT),
        permission=Permission.OPERATOR,
        template="rolling_reserve_release",
        handler=wallets.release_rolling_reserve,
    ),
)

PAYOUT_SPECS: tuple[CommandSpec, ...] = (
    CommandSpec(
        name="reservePayout",
        title="Reserve payout",
        description="Hold funds for a payout in its own sub-account; the saga submits it.",
        group=G.PAYOUT,
        command_type=c.ReservePayout,
        fields=(
            MERCHANT,
            CURRENCY,
            AMOUNT,
            PROVIDER,
            F("destination", K.JSON, "Destination", help='e.g. {"bank":"058","account":"0123"}'),
            F("payout_id", K.ID, "Payout id", required=False),
        ),
        permission=Permission.MERCHANT,
        merchant_field="merchant_id",
        template="payout_reserve",
        handler=payouts.reserve_payout,
    ),
    CommandSpec(
        name="settleHold",
        title="Settle payout",
        description="The provider paid: move the whole hold to the provider settlement account.",
        group=G.PAYOUT,
        command_type=c.SettleHold,
        fields=(PAYOUT, F("provider_reference", K.TEXT, "Provider reference", required=False)),
        permission=Permission.OPERATOR,
        template="payout_settle",
        handler=payouts.settle_hold,
        from_provider=True,
    ),
    CommandSpec(
        name="releaseHold",
        title="Release payout",
        description="The payout definitively failed: return the whole hold to the merchant.",
        group=G.PAYOUT,
        command_type=c.ReleaseHold,
        fields=(PAYOUT, REASON),
        permission=Permission.OPERATOR,
        template="payout_release",
        handler=payouts.release_hold,
        from_provider=True,
    ),
    CommandSpec(
        name="markPayoutManualReview",
        title="Send payout to manual review",
        description="The outcome is ambiguous: park the hold for a person to decide.",
        group=G.PAYOUT,
        command_type=c.MarkPayoutManualReview,
        fields=(PAYOUT, REASON),
        permission=Permission.OPERATOR,
        handler=payouts.mark_payout_manual_review,
        moves_money=False,
    ),
)

TREASURY_SPECS: tuple[CommandSpec, ...] = (
    CommandSpec(
        name="setFxRate",
        title="Set FX rate",
        description="Set the rate: 1 unit of the base currency = rate units of the quote currency.",
        group=G.TREASURY,
        command_type=c.SetFxRate,
        fields=(
            F("base_currency", K.CURRENCY, "Base currency"),
            F("quote_currency", K.CURRENCY, "Quote currency"),
            F("rate", K.TEXT, "Rate", help="a decimal, e.g. 0.00065"),
        ),
        permission=Permission.OPERATOR,
        handler=treasury.set_fx_rate,
        moves_money=False,
    ),
    CommandSpec(
        name="fxQuote",
        title="FX quote",
        description="Quote a conversion between two of a merchant's wallets (valid 60 s).",
        group=G.TREASURY,
        command_type=c.FxQuote,
        fields=(
            MERCHANT,
            F("sell_currency", K.CURRENCY, "Sell currency"),
            F("buy_currency", K.CURRENCY, "Buy currency"),
            _amount("sell_amount", "Sell amount", "sell_currency"),
        ),
        permission=Permission.MERCHANT,
        merchant_field="merchant_id",
        handler=treasury.fx_quote,
        moves_money=False,
    ),
    CommandSpec(
        name="bookFxDeal",
        title="Book FX deal",
        description="Convert at a quote's rate and amounts (quoted amounts, never supplied).",
        group=G.TREASURY,
        command_type=c.BookFxDeal,
        fields=(MERCHANT, F("quote_id", K.ID, "Quote id")),
        permission=Permission.MERCHANT,
        merchant_field="merchant_id",
        template="fx_deal",
        handler=treasury.book_fx_deal,
    ),
    CommandSpec(
        name="bookCounterpartyTrade",
        title="OTC trade",
        description="Book an OTC trade with a liquidity counterparty against the FX positions.",
        group=G.TREASURY,
        command_type=c.BookCounterpartyTrade,
        fields=(
            F("counterparty_id", K.ID, "Counterparty"),
            F("pay_currency", K.CURRENCY, "Pay currency"),
            _amount("pay_amount", "Pay amount", "pay_currency"),
            F("receive_currency", K.CURRENCY, "Receive currency"),
            _amount("receive_amount", "Receive amount", "receive_currency"),
        ),
        permission=Permission.OPERATOR,
        template="counterparty_trade",
        handler=treasury.book_counterparty_trade,
        four_eyes=True,
    ),
    CommandSpec(
        name="stablecoinOnramp",
        title="Stablecoin on-ramp",
        description="A merchant buys stablecoin with fiat at agreed amounts.",
        group=G.TREASURY,
        command_type=c.StablecoinOnramp,
        fields=(
            MERCHANT,
            F("fiat_currency", K.CURRENCY, "Fiat currency"),
            _amount("fiat_amount", "Fiat amount", "fiat_currency"),
            F("coin", K.CURRENCY, "Stablecoin"),
            _amount("coin_amount", "Coin amount", "coin"),
        ),
        permission=Permission.OPERATOR,
        template="stablecoin_onramp",
        handler=treasury.stablecoin_onramp,
        four_eyes=True,
    ),
    CommandSpec(
        name="stablecoinOfframp",
        title="Stablecoin off-ramp",
        description="A merchant sells stablecoin for fiat at agreed amounts.",
        group=G.TREASURY,
        command_type=c.StablecoinOfframp,
        fields=(
            MERCHANT,
            F("coin", K.CURRENCY, "Stablecoin"),
            _amount("coin_amount", "Coin amount", "coin"),
            F("fiat_currency", K.CURRENCY, "Fiat currency"),
            _amount("fiat_amount", "Fiat amount", "fiat_currency"),
        ),
        permission=Permission.OPERATOR,
        template="stablecoin_offramp",
        handler=treasury.stablecoin_offramp,
        four_eyes=True,
    ),
    CommandSpec(
        name="topUpGpsPool",
        title="GPS pool top-up",
        description="Prefund a currency's GPS payout pool from a funded bank account.",
        group=G.TREASURY,
        command_type=c.TopUpGpsPool,
        fields=(BANK, CURRENCY, AMOUNT),
        permission=Permission.OPERATOR,
        template="gps_pool_topup",
        handler=treasury.top_up_gps_pool,
        four_eyes=True,
    ),
    CommandSpec(
        name="gpsCrossCurrencyPayout",
        title="GPS cross-currency payout",
        description="Pay a beneficiary in another currency out of the prefunded GPS pool.",
        group=G.TREASURY,
        command_type=c.GpsCrossCurrencyPayout,
        fields=(
            MERCHANT,
            F("debit_currency", K.CURRENCY, "Debit currency"),
            _amount("debit_amount", "Debit amount", "debit_currency"),
            F("credit_currency", K.CURRENCY, "Credit currency"),
            _amount("credit_amount", "Credit amount", "credit_currency"),
            PROVIDER,
        ),
        permission=Permission.OPERATOR,
        template="gps_cross_currency_payout",
        handler=treasury.gps_cross_currency_payout,
        four_eyes=True,
    ),
    CommandSpec(
        name="fundBankAccount",
        title="Fund bank account",
        description="Record funds arriving in one of our bank accounts.",
        group=G.TREASURY,
        command_type=c.FundBankAccount,
        fields=(BANK, CURRENCY, AMOUNT),
        permission=Permission.OPERATOR,
        template="bank_funding",
        handler=treasury.fund_bank_account,
        four_eyes=True,
    ),
)

CORRECTION_SPECS: tuple[CommandSpec, ...] = (
    CommandSpec(
        name="postCorrection",
        title="Correction",
        description=(
            "Credit or debit a merchant's wallet against suspense, with a mandatory reason "
            "and evidence reference."
        ),
        group=G.CORRECTION,
        command_type=c.PostCorrection,
        fields=(
            F("direction", K.CHOICE, "Direction", choices=("credit", "debit")),
            MERCHANT,
            CURRENCY,
            AMOUNT,
            REASON,
            F(
                "evidence_reference",
                K.TEXT,
                "Evidence reference",
                help="the ticket, statement line or document that proves it",
            ),
            F("effective_at", K.DATETIME, "Effective at", required=False),
        ),
        permission=Permission.OPERATOR,
        template="correction_credit",
        handler=corrections.post_correction,
        four_eyes=True,
    ),
    CommandSpec(
        name="reverse",
        title="Reverse transaction",
        description="Post the mirror of a transaction (once); payouts use settle/release.",
        group=G.CORRECTION,
        command_type=c.Reverse,
        fields=(F("transaction_id", K.INTEGER, "Transaction id"), REASON),
        permission=Permission.OPERATOR,
        handler=corrections.reverse,
        four_eyes=True,
    ),
)

ADMIN_SPECS: tuple[CommandSpec, ...] = (
    CommandSpec(
        name="setFeatureFlag",
        title="Feature flag",
        description="Enable or disable the core wallet for a merchant, currency or provider.",
        group=G.ADMIN,
        command_type=c.SetFeatureFlag,
        fields=(
            F("scope_type", K.CHOICE, "Scope", choices=("merchant", "currency", "provider")),
            F("scope_value", K.ID, "Scope value"),
            F("enabled", K.BOOLEAN, "Enabled"),
        ),
        permission=Permission.ADMIN,
        handler=admin.set_feature_flag,
        moves_money=False,
        four_eyes=True,
    ),
    CommandSpec(
        name="rebuildTemplates",
        title="Rebuild templates",
        description="Reload the Numscript templates from disk and record them as loaded.",
        group=G.ADMIN,
        command_type=c.RebuildTemplates,
        fields=(),
        permission=Permission.ADMIN,
        handler=admin.rebuild_templates,
        moves_money=False,
    ),
    CommandSpec(
        name="rebuildCoa",
        title="Rebuild chart of accounts",
        description=(
            "Reload the chart of accounts and GL mappings from the seed CSV files (background: "
            "queue a job that does it; the result carries its jobId)."
        ),
        group=G.ADMIN,
        command_type=c.RebuildCoa,
        fields=(F("background", K.BOOLEAN, "In the background", required=False, default=False),),
        permission=Permission.ADMIN,
        handler=reporting_admin.rebuild_coa,
        moves_money=False,
    ),
    CommandSpec(
        name="exportPostings",
        title="Export postings",
        description=(
            "Queue a CSV export of the postings effective in [from_time, to_time), optionally "
            "under an account prefix and in one asset; the result carries its jobId "
            "(`walletflow jobs output ID`)."
        ),
        group=G.ADMIN,
        command_type=c.ExportPostings,
        fields=(
            F("from_time", K.DATETIME, "From (effective, inclusive)"),
            F("to_time", K.DATETIME, "To (effective, exclusive)"),
            F("account", K.TEXT, "Account prefix", required=False),
            F("asset", K.TEXT, "Asset", required=False),
        ),
        permission=Permission.ADMIN,
        handler=reporting_admin.export_postings,
        moves_money=False,
    ),
    CommandSpec(
        name="rebuildStatements",
        title="Rebuild statements",
        description=(
            "Apply new postings to the statements read model (full: queue a job that rebuilds "
            "it all; the result carries its jobId)."
        ),
        group=G.ADMIN,
        command_type=c.RebuildStatements,
        fields=(F("full", K.BOOLEAN, "Full rebuild", required=False, default=False),),
        permission=Permission.ADMIN,
        handler=reporting_admin.rebuild_statements,
        moves_money=False,
    ),
    CommandSpec(
        name="saveAccessLists",
        title="Access lists",
        description="Replace the operator and admin email allowlists (checked on every request).",
        group=G.ADMIN,
        command_type=c.SaveAccessLists,
        fields=(
            F("allowed_emails", K.EMAILS, "Operator emails", required=False, default=()),
            F("admin_emails", K.EMAILS, "Admin emails", required=False, default=()),
        ),
        permission=Permission.ADMIN,
        handler=admin.save_access_lists,
        moves_money=False,
        four_eyes=True,
    ),
)


def build_registry() -> Registry:
    return Registry(WALLET_SPECS + PAYOUT_SPECS + TREASURY_SPECS + CORRECTION_SPECS + ADMIN_SPECS)
