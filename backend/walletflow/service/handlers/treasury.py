"""Treasury handlers: FX rates, quotes and deals, OTC trades, stablecoin ramps, the GPS pool
and cross-currency payouts, bank funding.

Exchange arithmetic is exact (fractions of integers); a converted amount is floored to the
buy currency's minor unit, so the platform never pays out a fraction it did not receive.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal, InvalidOperation
from fractions import Fraction

from walletflow import money
from walletflow.domain import accounts
from walletflow.domain.commands import (
    BookCounterpartyTrade,
    BookFxDeal,
    FundBankAccount,
    FxQuote,
    GpsCrossCurrencyPayout,
    SetFxRate,
    StablecoinOfframp,
    StablecoinOnramp,
    TopUpGpsPool,
)
from walletflow.domain.errors import (
    NotFound,
    QuoteAlreadyBooked,
    QuoteExpired,
    RateUnavailable,
    ValidationError,
)
from walletflow.service.flags import require_enabled
from walletflow.service.handlers.common import (
    COMPLETED,
    default_reference,
    merchant_movement,
    monetary,
    money_result,
    post_template,
    short_id,
)
from walletflow.service.results import CommandResult
from walletflow.service.unit_of_work import UnitOfWork

QUOTE_TTL_S = 60
MAX_RATE_DECIMALS = 12
STABLECOINS = frozenset({"USDC", "USDT", "EURC", "PYUSD"})
# Bank accounts have no overdraft facility: they are funded (fundBankAccount) before use.
BANK_OVERDRAFT_FACILITY_MINOR = 0


def parse_rate(text: str) -> Fraction:
    """A positive decimal rate with at most 12 decimals, exactly, as a fraction."""
    try:
        rate = Decimal(text)
    except InvalidOperation:
        rate = Decimal("NaN")
    exponent = rate.as_tuple().exponent if rate.is_finite() else 0
    if (
        not rate.is_finite()
        or rate <= 0
        or (isinstance(exponent, int) and -exponent > MAX_RATE_DECIMALS)
    ):
        raise ValidationError(
            f"rate must be a positive decimal with at most {MAX_RATE_DECIMALS} decimals",
            field_errors={"rate": "positive decimal"},
        )
    return Fraction(rate)


def format_rate(rate: Fraction) -> str:
    """A rate for display and the record, to 12 decimals: 1500 → "1500", 1/1500 →
    "0.000666666667". Amounts never use it: they are computed from the exact fraction."""
    return f"{Decimal(rate.numerator) / Decimal(rate.denominator):.12f}".rstrip("0").rstrip(".")


def convert_minor(sell_minor: int, sell_currency: str, buy_currency: str, rate: Fraction) -> int:
    """Minor units of `buy_currency` for `sell_minor` of `sell_currency`, floored."""
    sell_scale = money.scale_of(sell_currency)
    buy_scale = money.scale_of(buy_currency)
    exact = Fraction(sell_minor) * rate * Fraction(10**buy_scale, 10**sell_scale)
    return exact.numerator // exact.denominator


def _require_stablecoin(code: str, field: str) -> None:
    if code not in STABLECOINS:
        raise ValidationError(
            f"{code} is not a supported stablecoin",
            field_errors={field: f"one of {', '.join(sorted(STABLECOINS))}"},
        )


def _require_fiat(code: str, field: str) -> None:
    if code in STABLECOINS:
        raise ValidationError(f"{code} is not fiat", field_errors={field: "must be fiat"})


def _require_distinct(first: str, second: str, field: str) -> None:
    if first == second:
        raise ValidationError("the two currencies must differ", field_errors={field: "same"})


async def set_fx_rate(command: SetFxRate, uow: UnitOfWork) -> CommandResult:
    _require_distinct(command.base_currency, command.quote_currency, "quoteCurrency")
    parse_rate(command.rate)
    await uow.fx.set_rate(
        command.base_currency,
        command.quote_currency,
        command.rate,
        uow.context.principal.subject,
        uow.clock.now(),
    )
    payload = {
        "baseCurrency": command.base_currency,
        "quoteCurrency": command.quote_currency,
        "rate": command.rate,
    }
    uow.emit("fx.rate_set", payload, None)
    return CommandResult(command=uow.context.command, status=COMPLETED, data=payload)


async def _rate(uow: UnitOfWork, sell: str, buy: str) -> Fraction:
    direct = await uow.fx.rate(sell, buy)
    if direct is not None:
        return parse_rate(direct)
    inverse = await uow.fx.rate(buy, sell)
    if inverse is not None:
        return 1 / parse_rate(inverse)
    raise RateUnavailable(f"no FX rate between {sell} and {buy}", details={"pair": f"{sell}/{buy}"})


async def fx_quote(command: FxQuote, uow: UnitOfWork) -> CommandResult:
    _require_distinct(command.sell_currency, command.buy_currency, "buyCurrency")
    await uow.preflight(
        wallets=[
            (command.merchant_id, command.sell_currency),
            (command.merchant_id, command.buy_currency),
        ],
    )
    rate = await _rate(uow, command.sell_currency, command.buy_currency)
    buy_minor = convert_minor(
        command.sell_amount_minor, command.sell_currency, command.buy_currency, rate
    )
    if buy_minor <= 0:
        raise ValidationError(
            "the amount is too small to buy one minor unit",
            field_errors={"sellAmount": "too small"},
        )
    quote_id = short_id("fxq", uow)
    now = uow.clock.now()
    expires_at = now + timedelta(seconds=QUOTE_TTL_S)
    rate_text = f"{Decimal(rate.numerator) / Decimal(rate.denominator):.12f}".rstrip("0").rstrip(
        "."
    )
    await uow.fx.insert_quote(
        quote_id=quote_id,
        merchant_id=command.merchant_id,
        sell_currency=command.sell_currency,
        buy_currency=command.buy_currency,
        sell_amount_minor=command.sell_amount_minor,
        buy_amount_minor=buy_minor,
        rate=rate_text,
        expires_at=expires_at,
        created_at=now,
    )
    return CommandResult(
        command=uow.context.command,
        status=COMPLETED,
        reference=quote_id,
        data={
            "quoteId": quote_id,
            "merchantId": command.merchant_id,
            "sellCurrency": command.sell_currency,
            "buyCurrency": command.buy_currency,
            "sellAmountMinor": command.sell_amount_minor,
            "buyAmountMinor": buy_minor,
            "rate": rate_text,
            "expiresAt": expires_at.isoformat(),
        },
    )


async def book_fx_deal(command: BookFxDeal, uow: UnitOfWork) -> CommandResult:
    quote = await uow.fx.lock_quote(command.quote_id)
    if quote.merchant_id != command.merchant_id:
        # Another merchant's quote is indistinguishable from a missing one.
        raise NotFound(f"no FX quote {command.quote_id}", details={"quoteId": command.quote_id})
    if quote.deal_tx_id is not None:
        raise QuoteAlreadyBooked(
            f"quote {quote.quote_id} was already booked", details={"quoteId": quote.quote_id}
        )
    if uow.clock.now() >= quote.expires_at:
        raise QuoteExpired(
            f"quote {quote.quote_id} has expired", details={"quoteId": quote.quote_id}
        )
    await require_enabled(
        uow.flags,
        uow.policy.flag_mode,
        [
            ("merchant", quote.merchant_id),
            ("currency", quote.sell_currency),
            ("currency", quote.buy_currency),
        ],
    )
    posted = await post_template(
        uow,
        "fx_deal",
        {
            "sell": monetary(quote.sell_currency, quote.sell_amount_minor),
            "buy": monetary(quote.buy_currency, quote.buy_amount_minor),
            "from_available": accounts.merchant_available(quote.merchant_id, quote.sell_currency),
            "to_available": accounts.merchant_available(quote.merchant_id, quote.buy_currency),
            "sell_position": accounts.fx_position(quote.sell_currency),
            "buy_position": accounts.fx_position(quote.buy_currency),
        },
        reference=f"fx:{quote.quote_id}",
        metadata={"merchantId": quote.merchant_id, "quoteId": quote.quote_id, "rate": quote.rate},
    )
    await uow.fx.mark_booked(quote.quote_id, posted.transaction.id)
    payload = {
        "quoteId": quote.quote_id,
        "merchantId": quote.merchant_id,
        "sellAmountMinor": quote.sell_amount_minor,
        "buyAmountMinor": quote.buy_amount_minor,
        "rate": quote.rate,
    }
    uow.emit("fx.deal_booked", payload, quote.merchant_id)
    return money_result(uow, posted, payload)


async def book_counterparty_trade(command: BookCounterpartyTrade, uow: UnitOfWork) -> CommandResult:
    _require_distinct(command.pay_currency, command.receive_currency, "receiveCurrency")
    posted = await post_template(
        uow,
        "counterparty_trade",
        {
            "pay": monetary(command.pay_currency, command.pay_amount_minor),
            "receive": monetary(command.receive_currency, command.receive_amount_minor),
            "pay_position": accounts.fx_position(command.pay_currency),
            "counterparty_pay": accounts.counterparty(
                command.counterparty_id, command.pay_currency
            ),
            "counterparty_receive": accounts.counterparty(
                command.counterparty_id, command.receive_currency
            ),
            "receive_position": accounts.fx_position(command.receive_currency),
        },
        reference=default_reference(uow),
        metadata={"counterpartyId": command.counterparty_id},
    )
    uow.emit(
        "otc.trade_booked",
        {"counterpartyId": command.counterparty_id, "transactionId": posted.transaction.id},
        None,
    )
    return money_result(uow, posted)


async def stablecoin_onramp(command: StablecoinOnramp, uow: UnitOfWork) -> CommandResult:
    merchant, fiat, coin = command.merchant_id, command.fiat_currency, command.coin
    _require_fiat(fiat, "fiatCurrency")
    _require_stablecoin(coin, "coin")
    return await merchant_movement(
        uow,
        merchant_id=merchant,
        wallets=[(merchant, fiat), (merchant, coin)],
        flags=[("merchant", merchant), ("currency", fiat)],
        template="stablecoin_onramp",
        variables={
            "fiat": monetary(fiat, command.fiat_amount_minor),
            "coin": monetary(coin, command.coin_amount_minor),
            "fiat_available": accounts.merchant_available(merchant, fiat),
            "fiat_position": accounts.fx_position(fiat),
            "custody": accounts.stablecoin_custody(coin),
            "coin_available": accounts.merchant_available(merchant, coin),
        },
        event_type="stablecoin.onramped",
    )


async def stablecoin_offramp(command: StablecoinOfframp, uow: UnitOfWork) -> CommandResult:
    merchant, fiat, coin = command.merchant_id, command.fiat_currency, command.coin
    _require_fiat(fiat, "fiatCurrency")
    _require_stablecoin(coin, "coin")
    return await merchant_movement(
        uow,
        merchant_id=merchant,
        wallets=[(merchant, fiat), (merchant, coin)],
        flags=[("merchant", merchant), ("currency", fiat)],
        template="stablecoin_offramp",
        variables={
            "coin": monetary(coin, command.coin_amount_minor),
            "fiat": monetary(fiat, command.fiat_amount_minor),
            "coin_available": accounts.merchant_available(merchant, coin),
            "custody": accounts.stablecoin_custody(coin),
            "fiat_position": accounts.fx_position(fiat),
            "fiat_available": accounts.merchant_available(merchant, fiat),
        },
        event_type="stablecoin.offramped",
    )


async def top_up_gps_pool(command: TopUpGpsPool, uow: UnitOfWork) -> CommandResult:
    posted = await post_template(
        uow,
        "gps_pool_topup",
        {
            "amount": monetary(command.currency, command.amount_minor),
            "bank": accounts.bank(command.bank_id, command.currency),
            "overdraft_limit": monetary(command.currency, BANK_OVERDRAFT_FACILITY_MINOR),
            "pool": accounts.gps_pool(command.currency),
        },
        reference=default_reference(uow),
        metadata={"bankId": command.bank_id},
    )
    uow.emit(
        "gps.pool_topped_up",
        {"currency": command.currency, "transactionId": posted.transaction.id},
        None,
    )
    return money_result(uow, posted)


async def gps_cross_currency_payout(
    command: GpsCrossCurrencyPayout, uow: UnitOfWork
) -> CommandResult:
    _require_distinct(command.debit_currency, command.credit_currency, "creditCurrency")
    await uow.preflight(
        wallets=[(command.merchant_id, command.debit_currency)],
        flags=[
            ("merchant", command.merchant_id),
            ("currency", command.debit_currency),
            ("provider", command.provider),
        ],
    )
    posted = await post_template(
        uow,
        "gps_cross_currency_payout",
        {
            "debit": monetary(command.debit_currency, command.debit_amount_minor),
            "credit": monetary(command.credit_currency, command.credit_amount_minor),
            "merchant_available": accounts.merchant_available(
                command.merchant_id, command.debit_currency
            ),
            "source_position": accounts.fx_position(command.debit_currency),
            "pool": accounts.gps_pool(command.credit_currency),
            "provider_settlement": accounts.provider_settlement(
                command.provider, command.credit_currency
            ),
        },
        reference=default_reference(uow),
        metadata={"merchantId": command.merchant_id, "provider": command.provider},
    )
    uow.emit(
        "gps.payout_posted",
        {"merchantId": command.merchant_id, "transactionId": posted.transaction.id},
        command.merchant_id,
    )
    return money_result(uow, posted)


async def fund_bank_account(command: FundBankAccount, uow: UnitOfWork) -> CommandResult:
    posted = await post_template(
        uow,
        "bank_funding",
        {
            "amount": monetary(command.currency, command.amount_minor),
            "bank": accounts.bank(command.bank_id, command.currency),
        },
        reference=default_reference(uow),
        metadata={"bankId": command.bank_id},
    )
    uow.emit(
        "bank.funded",
        {"bankId": command.bank_id, "transactionId": posted.transaction.id},
        None,
    )
    return money_result(uow, posted)
