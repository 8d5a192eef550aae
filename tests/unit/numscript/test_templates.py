"""The 19 Numscript templates of numscript/*.num: they compile, pass `walletflow numscript check`,
move exactly what they say, refuse what they must, and never overdraw a merchant account."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import pytest

from walletflow.entrypoints.numscript import check_command
from walletflow.numscript import NumscriptRuntimeError, Program, compile_script

TEMPLATES_DIR = Path(__file__).resolve().parents[3] / "numscript"
TEMPLATE_NAMES = (
    "payin", "transfer", "payout_reserve", "payout_settle", "payout_release", "payout_fee",
    "fx_deal", "counterparty_trade", "stablecoin_onramp", "stablecoin_offramp",
    "gps_pool_topup", "gps_cross_currency_payout", "bank_funding", "opening_balance", "migration",
    "rolling_reserve_hold", "rolling_reserve_release", "correction_credit", "correction_debit",
)  # fmt: skip

M1 = "merchants:m1:UGX:available"
M2 = "merchants:m2:UGX:available"
HOLD = "merchants:m1:UGX:holds:p1"
RESERVE = "merchants:m1:UGX:reserve"
PROVIDER = "providers:mtn:UGX:settlement"
FEES = "fees:UGX:revenue"
VAT = "tax:UGX:vat"
M1_XOF = "merchants:m1:XOF:available"
SUSPENSE_XOF = "suspense:XOF:adjustments"


@cache
def template(name: str) -> Program:
    return compile_script((TEMPLATES_DIR / f"{name}.num").read_text())


@dataclass(frozen=True)
class Case:
    """A funded run and its exact postings; `short` makes it fail with INSUFFICIENT_FUND."""

    variables: dict[str, str]
    balances: dict[str, dict[str, int]]
    postings: list[tuple[str, str, int, str]]
    short: dict[str, dict[str, int]] | None = None
    tx_metadata: dict[str, str] = field(default_factory=dict)


CASES: dict[str, Case] = {
    "payin": Case(
        {
            "amount": "UGX 100001",
            "fee": "UGX 1501",
            "vat_share": "3/43",
            "provider_settlement": PROVIDER,
            "merchant_available": M1,
            "fee_revenue": FEES,
            "vat_payable": VAT,
        },
        {},
        [(PROVIDER, M1, 98500, "UGX"), (PROVIDER, VAT, 105, "UGX"), (PROVIDER, FEES, 1396, "UGX")],
    ),
    "transfer": Case(
        {"amount": "UGX 5001", "from_available": M1, "to_available": M2},
        {M1: {"UGX": 5001}},
        [(M1, M2, 5001, "UGX")],
        short={M1: {"UGX": 5000}},
    ),
    "payout_reserve": Case(
        {"amount": "UGX 7777", "merchant_available": M1, "payout_hold": HOLD},
        {M1: {"UGX": 7777}},
        [(M1, HOLD, 7777, "UGX")],
        short={M1: {"UGX": 7776}},
    ),
    "payout_settle": Case(
        {"asset": "UGX", "payout_hold": HOLD, "provider_settlement": PROVIDER},
        {HOLD: {"UGX": 7777}},
        [(HOLD, PROVIDER, 7777, "UGX")],
    ),
    "payout_release": Case(
        {"asset": "UGX", "payout_hold": HOLD, "merchant_available": M1},
        {HOLD: {"UGX": 7777}},
        [(HOLD, M1, 7777, "UGX")],
    ),
    "payout_fee": Case(
        {
            "fee": "UGX 1001",
            "vat_share": "3/43",
            "merchant_available": M1,
            "fee_revenue": FEES,
            "vat_payable": VAT,
        },
        {M1: {"UGX": 1001}},
        [(M1, VAT, 70, "UGX"), (M1, FEES, 931, "UGX")],
        short={M1: {"UGX": 1000}},
    ),
    "fx_deal": Case(
        {
            "sell": "UGX 37001",
            "buy": "XOF 5999",
            "from_available": M1,
            "to_available": M1_XOF,
            "sell_position": "fx:UGX:position",
            "buy_position": "fx:XOF:position",
        },
        {M1: {"UGX": 37001}},
        [(M1, "fx:UGX:position", 37001, "UGX"), ("fx:XOF:position", M1_XOF, 5999, "XOF")],
        short={M1: {"UGX": 37000}},
    ),
    "counterparty_trade": Case(
        {
            "pay": "UGX 1000001",
            "receive": "XOF 160001",
            "pay_position": "fx:UGX:position",
            "counterparty_pay": "counterparties:c1:UGX",
            "counterparty_receive": "counterparties:c1:XOF",
            "receive_position": "fx:XOF:position",
        },
        {},
        [
            ("fx:UGX:position", "counterparties:c1:UGX", 1000001, "UGX"),
            ("counterparties:c1:XOF", "fx:XOF:position", 160001, "XOF"),
        ],
    ),
    "stablecoin_onramp": Case(
        {
            "fiat": "UGX 3700001",
            "coin": "USDC/6 1000000",
            "fiat_available": M1,
            "fiat_position": "fx:UGX:position",
            "custody": "stablecoin:USDC:custody",
            "coin_available": "merchants:m1:USDC:available",
        },
        {M1: {"UGX": 3700001}},
        [
            (M1, "fx:UGX:position", 3700001, "UGX"),
            ("stablecoin:USDC:custody", "merchants:m1:USDC:available", 1000000, "USDC/6"),
        ],
        short={M1: {"UGX": 3700000}},
    ),
    "stablecoin_offramp": Case(
        {
            "coin": "USDT/6 500000001",
            "fiat": "XOF 300001",
            "coin_available": "merchants:m1:USDT:available",
            "custody": "stablecoin:USDT:custody",
            "fiat_position": "fx:XOF:position",
            "fiat_available": M1_XOF,
        },
        {"merchants:m1:USDT:available": {"USDT/6": 500000001}},
        [
            ("merchants:m1:USDT:available", "stablecoin:USDT:custody", 500000001, "USDT/6"),
            ("fx:XOF:position", M1_XOF, 300001, "XOF"),
        ],
        short={"merchants:m1:USDT:available": {"USDT/6": 500000000}},
    ),
    "gps_pool_topup": Case(
        {
            "amount": "XOF 1000001",
            "bank": "banks:ecobank:XOF",
            "overdraft_limit": "XOF 500000",
            "pool": "gps:XOF:pool",
        },
        {"banks:ecobank:XOF": {"XOF": 500001}},
        [("banks:ecobank:XOF", "gps:XOF:pool", 1000001, "XOF")],
        short={"banks:ecobank:XOF": {"XOF": 500000}},
    ),
    "gps_cross_currency_payout": Case(
        {
            "debit": "UGX 150001",
            "credit": "XOF 25001",
            "merchant_available": M1,
            "source_position": "fx:UGX:position",
            "pool": "gps:XOF:pool",
            "provider_settlement": "providers:gps:XOF:settlement",
        },
        {M1: {"UGX": 150001}, "gps:XOF:pool": {"XOF": 25001}},
        [
            (M1, "fx:UGX:position", 150001, "UGX"),
            ("gps:XOF:pool", "providers:gps:XOF:settlement", 25001, "XOF"),
        ],
        short={M1: {"UGX": 150001}, "gps:XOF:pool": {"XOF": 25000}},
    ),
    "bank_funding": Case(
        {"amount": "XOF 1000001", "bank": "banks:ecobank:XOF"},
        {},
        [("world", "banks:ecobank:XOF", 1000001, "XOF")],
    ),
    "opening_balance": Case(
        {"amount": "UGX 123457", "account": M1},
        {},
        [("world", M1, 123457, "UGX")],
    ),
    "migration": Case(
        {
            "available": "UGX 123457",
            "reserve": "UGX 0",
            "holds": "UGX 5",
            "available_account": M1,
            "reserve_account": RESERVE,
            "holds_account": HOLD,
        },
        {},
        [("world", M1, 123457, "UGX"), ("world", HOLD, 5, "UGX")],
    ),
    "rolling_reserve_hold": Case(
        {"amount": "UGX 10001", "merchant_available": M1, "merchant_reserve": RESERVE},
        {M1: {"UGX": 10001}},
        [(M1, RESERVE, 10001, "UGX")],
        short={M1: {"UGX": 10000}},
    ),
    "rolling_reserve_release": Case(
        {"amount": "UGX 10001", "merchant_reserve": RESERVE, "merchant_available": M1},
        {RESERVE: {"UGX": 10001}},
        [(RESERVE, M1, 10001, "UGX")],
        short={RESERVE: {"UGX": 10000}},
    ),
    "correction_credit": Case(
        {
            "amount": "XOF 3",
            "suspense": SUSPENSE_XOF,
            "account": M1_XOF,
            "reason": "duplicate fee refund",
            "evidence": "TICKET-7",
        },
        {},
        [(SUSPENSE_XOF, M1_XOF, 3, "XOF")],
        tx_metadata={"reason": "duplicate fee refund", "evidence": "TICKET-7"},
    ),
    "correction_debit": Case(
        {
            "amount": "XOF 3",
            "account": M1_XOF,
            "suspense": SUSPENSE_XOF,
            "reason": "double credit",
            "evidence": "STMT-2026-11-30#4",
        },
        {M1_XOF: {"XOF": 3}},
        [(M1_XOF, SUSPENSE_XOF, 3, "XOF")],
        short={M1_XOF: {"XOF": 2}},
        tx_metadata={"reason": "double credit", "evidence": "STMT-2026-11-30#4"},
    ),
}


def _postings(name: str, variables: dict[str, str], balances: dict[str, dict[str, int]]) -> list:
    result = template(name).run(variables, balances)
    return [(p.source, p.destination, p.amount, p.asset) for p in result.postings]


def test_there_are_exactly_the_eighteen_templates() -> None:
    assert sorted(p.stem for p in TEMPLATES_DIR.glob("*.num")) == sorted(TEMPLATE_NAMES)
    assert sorted(CASES) == sorted(TEMPLATE_NAMES)


@pytest.mark.parametrize("name", TEMPLATE_NAMES)
def test_template_passes_numscript_check(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    exit_code = check_command(argparse.Namespace(file=str(TEMPLATES_DIR / f"{name}.num")))
    assert (exit_code, capsys.readouterr().out) == (0, "ok\n")


@pytest.mark.parametrize("name", TEMPLATE_NAMES)
def test_template_documents_purpose_vars_and_overdraft_policy(name: str) -> None:
    text = (TEMPLATES_DIR / f"{name}.num").read_text()
    header = text.split("vars {")[0]
    assert header.startswith(f"// {name}:")
    assert "Overdraft:" in header
    for var in template(name).var_decls:
        assert f"//   {var} " in header, f"{var} is not documented in {name}.num"


@pytest.mark.parametrize("name", TEMPLATE_NAMES)
def test_template_moves_exact_amounts_when_funded(name: str) -> None:
    case = CASES[name]
    result = template(name).run(case.variables, case.balances)
    postings = [(p.source, p.destination, p.amount, p.asset) for p in result.postings]
    assert postings == case.postings
    assert result.tx_metadata == case.tx_metadata


@pytest.mark.parametrize("name", [n for n in TEMPLATE_NAMES if CASES[n].short is not None])
def test_template_refuses_when_funds_are_short(name: str) -> None:
    case = CASES[name]
    with pytest.raises(NumscriptRuntimeError) as excinfo:
        template(name).run(case.variables, case.short or {})
    assert excinfo.value.code == "INSUFFICIENT_FUND"


@pytest.mark.parametrize(
    "name", [n for n in TEMPLATE_NAMES if CASES[n].short is None and n != "payin"]
)
def test_funding_side_templates_do_not_depend_on_balances(name: str) -> None:
    case = CASES[name]
    if "asset" in case.variables:  # draining templates: an empty hold moves nothing
        assert _postings(name, case.variables, {}) == []
    else:
        assert _postings(name, case.variables, {}) == case.postings


@pytest.mark.parametrize("name", TEMPLATE_NAMES)
def test_template_never_overdraws_a_merchant_account(name: str) -> None:
    case = CASES[name]
    for balances in (case.balances, case.short or {}, {}):
        try:
            result = template(name).run(case.variables, balances)
        except NumscriptRuntimeError as exc:
            assert exc.code == "INSUFFICIENT_FUND"
            continue
        end: dict[tuple[str, str], int] = {}
        for account, by_asset in balances.items():
            for asset, amount in by_asset.items():
                end[(account, asset)] = amount
        for p in result.postings:
            end[(p.source, p.asset)] = end.get((p.source, p.asset), 0) - p.amount
            end[(p.destination, p.asset)] = end.get((p.destination, p.asset), 0) + p.amount
        overdrawn = {k: v for k, v in end.items() if k[0].startswith("merchants:") and v < 0}
        assert overdrawn == {}


def test_payin_fee_larger_than_amount_is_a_negative_amount() -> None:
    variables = dict(CASES["payin"].variables, amount="UGX 100", fee="UGX 101")
    with pytest.raises(NumscriptRuntimeError) as excinfo:
        template("payin").run(variables, {})
    assert excinfo.value.code == "NEGATIVE_AMOUNT"


@pytest.mark.parametrize(
    ("asset", "amount", "fee", "vat_share", "net", "vat", "fee_revenue"),
    [
        # 1501 x 3/43 = 104.7: floored to 104, remaining 1396.3 floored to 1396, the one
        # leftover unit goes to the first part (VAT), as Formance rounds allotments.
        ("UGX", 100001, 1501, "3/43", 98500, 105, 1396),
        ("XOF", 50001, 999, "18%", 49002, 180, 819),
        ("XOF", 50001, 1, "18%", 50000, 1, 0),
        ("UGX", 7, 7, "0%", 0, 0, 7),
    ],
)
def test_payin_fee_split_rounds_zero_decimal_currencies_without_losing_a_unit(
    asset: str, amount: int, fee: int, vat_share: str, net: int, vat: int, fee_revenue: int
) -> None:
    variables = dict(
        CASES["payin"].variables,
        amount=f"{asset} {amount}",
        fee=f"{asset} {fee}",
        vat_share=vat_share,
    )
    moved: dict[str, int] = {}
    for source, destination, value, posted_asset in _postings("payin", variables, {}):
        assert (source, posted_asset) == (PROVIDER, asset)
        moved[destination] = moved.get(destination, 0) + value
    assert (moved.get(M1, 0), moved.get(VAT, 0), moved.get(FEES, 0)) == (net, vat, fee_revenue)
    assert sum(moved.values()) == amount


@pytest.mark.parametrize(
    ("asset", "fee", "vat_share", "vat", "fee_revenue"),
    [("UGX", 1001, "3/43", 70, 931), ("XOF", 101, "18%", 19, 82), ("XOF", 3, "1/2", 2, 1)],
)
def test_payout_fee_split_rounds_zero_decimal_currencies_without_losing_a_unit(
    asset: str, fee: int, vat_share: str, vat: int, fee_revenue: int
) -> None:
    variables = dict(CASES["payout_fee"].variables, fee=f"{asset} {fee}", vat_share=vat_share)
    postings = _postings("payout_fee", variables, {M1: {asset: fee}})
    assert postings == [(M1, VAT, vat, asset), (M1, FEES, fee_revenue, asset)]


def test_payout_settle_drains_the_whole_hold_whatever_its_amount() -> None:
    variables = CASES["payout_settle"].variables
    assert _postings("payout_settle", variables, {HOLD: {"UGX": 1}}) == [(HOLD, PROVIDER, 1, "UGX")]
