"""Money is exact: integer minor units, an authoritative scale table, typed errors at the edge."""

from __future__ import annotations

from decimal import Decimal

import pytest

from walletflow.domain.errors import ValidationError
from walletflow.money import (
    CURRENCY_SCALES,
    Asset,
    CurrencyMismatchError,
    FractionalMinorUnitError,
    InvalidAmountError,
    InvalidAssetError,
    Money,
    MoneyError,
    NegativeAmountError,
    UnknownCurrencyError,
    WrongScaleError,
    scale_of,
)


@pytest.mark.parametrize(
    ("code", "scale"),
    [
        ("NGN", 2), ("USD", 2), ("UGX", 0), ("XAF", 0), ("XOF", 0), ("KES", 2), ("GHS", 2),
        ("ZAR", 2), ("EUR", 2), ("GBP", 2), ("BHD", 3), ("KWD", 3), ("JPY", 0), ("EGP", 2),
        ("MAD", 2), ("RWF", 0), ("TZS", 2), ("ZMW", 2), ("CAD", 2), ("CNY", 2), ("INR", 2),
        ("AED", 2), ("USDC", 6), ("USDT", 6),
    ],
)  # fmt: skip
def test_scale_table_is_authoritative(code: str, scale: int) -> None:
    assert scale_of(code) == scale
    assert CURRENCY_SCALES[code] == scale


def test_scale_table_is_broad() -> None:
    assert len(CURRENCY_SCALES) > 150


@pytest.mark.parametrize(
    ("text", "code", "scale", "canonical"),
    [
        ("NGN/2", "NGN", 2, "NGN/2"),
        ("USDC/6", "USDC", 6, "USDC/6"),
        ("UGX", "UGX", 0, "UGX"),
        ("UGX/0", "UGX", 0, "UGX"),
        ("BHD/3", "BHD", 3, "BHD/3"),
    ],
)
def test_asset_parses_formance_form_and_formats_canonically(
    text: str, code: str, scale: int, canonical: str
) -> None:
    asset = Asset.parse(text)
    assert (asset.code, asset.scale, str(asset)) == (code, scale, canonical)


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("NGN/3", WrongScaleError),
        ("NGN", WrongScaleError),
        ("UGX/2", WrongScaleError),
        ("ABC/2", UnknownCurrencyError),
        ("ngn/2", InvalidAssetError),
        ("NGN/", InvalidAssetError),
        ("NGN 2", InvalidAssetError),
        ("", InvalidAssetError),
        (2, InvalidAssetError),
    ],
)
def test_asset_refuses_wrong_scale_unknown_and_malformed(text: object, error: type) -> None:
    with pytest.raises(error):
        Asset.parse(text)


def test_asset_constructor_checks_the_table() -> None:
    assert Asset.of("KWD") == Asset("KWD", 3)
    with pytest.raises(WrongScaleError):
        Asset("KWD", 2)


def test_error_codes_are_stable() -> None:
    codes = {
        UnknownCurrencyError: "UNKNOWN_CURRENCY",
        WrongScaleError: "WRONG_SCALE",
        FractionalMinorUnitError: "FRACTIONAL_MINOR_UNIT",
        InvalidAmountError: "INVALID_AMOUNT",
        NegativeAmountError: "NEGATIVE_AMOUNT",
        InvalidAssetError: "INVALID_ASSET",
        CurrencyMismatchError: "CURRENCY_MISMATCH",
    }
    for error_type, code in codes.items():
        error = error_type("boom")
        assert isinstance(error, MoneyError) and isinstance(error, ValidationError)
        assert (error.code, error.message) == (code, "boom")


@pytest.mark.parametrize(
    ("amount", "asset", "minor"),
    [
        ("1500.25", "NGN/2", 150025),
        ("1500", "NGN/2", 150000),
        ("1500.2", "NGN/2", 150020),
        ("1500.250", "NGN/2", 150025),
        ("0.001", "BHD/3", 1),
        ("1500", "UGX", 1500),
        ("1500.00", "UGX", 1500),
        ("1.000001", "USDC/6", 1000001),
        (42, "XOF", 42),
        (Decimal("12.34"), "KES/2", 1234),
        ("  7.5 ", "GHS/2", 750),
    ],
)
def test_decimal_strings_parse_to_exact_minor_units(amount: object, asset: str, minor: int) -> None:
    money = Money.parse(amount, asset)
    assert money.amount_minor == minor
    assert money.asset == Asset.parse(asset)


def test_huge_amounts_stay_exact() -> None:
    assert Money.parse("123456789012345678901234567890.12", "NGN/2").amount_minor == (
        12345678901234567890123456789012
    )


@pytest.mark.parametrize(
    ("amount", "asset"), [("1.5", "UGX"), ("0.001", "NGN/2"), ("1.0000001", "USDT/6")]
)
def test_fractional_minor_unit_is_refused(amount: str, asset: str) -> None:
    with pytest.raises(FractionalMinorUnitError):
        Money.parse(amount, asset)


@pytest.mark.parametrize(
    "amount",
    [1.5, 0.0, True, False, float("nan"), "NaN", "inf", Decimal("NaN"), Decimal("Infinity"),
     "1,500.25", "1e3", "", "12abc", ".5", "5.", None, [1]],
)  # fmt: skip
def test_floats_nan_bools_and_garbage_are_invalid_amounts(amount: object) -> None:
    with pytest.raises(InvalidAmountError):
        Money.parse(amount, "NGN/2")


def test_negative_amount_is_refused_unless_allowed() -> None:
    with pytest.raises(NegativeAmountError):
        Money.parse("-1.00", "NGN/2")
    assert Money.parse("-1.00", "NGN/2", allow_negative=True).amount_minor == -100


def test_money_refuses_non_int_minor_units() -> None:
    with pytest.raises(InvalidAmountError):
        Money(Asset.of("NGN"), 1.0)  # type: ignore[arg-type]
    with pytest.raises(InvalidAmountError):
        Money(Asset.of("NGN"), True)


@pytest.mark.parametrize(
    ("amount", "asset", "display", "plain"),
    [
        ("1500.25", "NGN/2", "1,500.25 NGN", "1500.25"),
        ("1500", "UGX", "1,500 UGX", "1500"),
        ("0.05", "USD/2", "0.05 USD", "0.05"),
        ("-1234567.891", "KWD/3", "-1,234,567.891 KWD", "-1234567.891"),
        ("1", "USDC/6", "1.000000 USDC", "1.000000"),
    ],
)
def test_formatting_for_display_and_as_plain_decimal(
    amount: str, asset: str, display: str, plain: str
) -> None:
    money = Money.parse(amount, asset, allow_negative=True)
    assert money.format() == display
    assert str(money) == display
    assert money.to_decimal_string() == plain
    assert Money.parse(plain, asset, allow_negative=True) == money


def test_numscript_monetary_form_round_trips() -> None:
    money = Money.parse_numscript("NGN/2 150025")
    assert money == Money.parse("1500.25", "NGN/2")
    assert money.to_numscript() == "NGN/2 150025"
    assert Money.of_minor(1500, "UGX").to_numscript() == "UGX 1500"
    with pytest.raises(InvalidAmountError):
        Money.parse_numscript("NGN/2 1.5")
    with pytest.raises(WrongScaleError):
        Money.parse_numscript("NGN/3 15")


def test_arithmetic_is_exact_and_same_currency_only() -> None:
    a = Money.parse("0.10", "USD/2")
    b = Money.parse("0.20", "USD/2")
    assert (a + b).amount_minor == 30
    assert (b - a - a - a).amount_minor == -10
    assert (-a).amount_minor == -10
    assert Money.zero(Asset.of("USD")).is_zero()
    with pytest.raises(CurrencyMismatchError):
        _ = a + Money.parse("1", "EUR/2")


def test_money_is_an_immutable_value() -> None:
    money = Money.parse("1", "NGN/2")
    with pytest.raises(AttributeError):
        money.amount_minor = 5  # type: ignore[misc]
    assert money == Money(Asset("NGN", 2), 100)
    assert hash(money) == hash(Money(Asset("NGN", 2), 100))
