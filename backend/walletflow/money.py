"""Exact money: the authoritative currency scale table, `Asset` and `Money` value objects.

Amounts are Python ints of minor units (`amount_minor`); floats are refused everywhere.
Assets are written as Formance does: `NGN/2`, `USDC/6`, and `UGX` (scale 0; `UGX/0` accepted).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import ClassVar

from walletflow.domain.errors import NegativeAmount, UnknownCurrency, ValidationError, WrongScale

# ISO 4217 minor-unit exponents (active codes), plus the stablecoins we hold. This table is
# the only source of truth for scales: an asset string must agree with it.
_ISO_4217: dict[int, str] = {
    0: "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF",
    3: "BHD IQD JOD KWD LYD OMR TND",
    4: "CLF UYW",
    2: (
        "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BRL BSD BTN "
        "BWP BYN BZD CAD CDF CHF CNY COP CRC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD "
        "FKP GBP GEL GHS GIP GMD GTQ GYD HKD HNL HTG HUF IDR ILS INR IRR JMD KES KGS KHR "
        "KPW KYD KZT LAK LBP LKR LRD LSL MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN "
        "MYR MZN NAD NGN NIO NOK NPR NZD PAB PEN PGK PHP PKR PLN QAR RON RSD RUB SAR SBD "
        "SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TOP TRY TTD TWD "
        "TZS UAH USD UYU UZS VES WST XCD YER ZAR ZMW ZWL"
    ),
}
_STABLECOINS: dict[str, int] = {"USDC": 6, "USDT": 6, "EURC": 6, "PYUSD": 6}

CURRENCY_SCALES: dict[str, int] = {
    code: scale for scale, codes in _ISO_4217.items() for code in codes.split()
} | _STABLECOINS

_ASSET_RE = re.compile(r"^([A-Z][A-Z0-9]{1,15})(?:/([0-9]{1,2}))?\Z")
_DECIMAL_RE = re.compile(r"^(-?)([0-9]+)(?:\.([0-9]+))?\Z")


class MoneyError(ValidationError):
    """Base of money errors; `code` is stable (UNKNOWN_CURRENCY, WRONG_SCALE, ...)."""

    code: ClassVar[str] = "INVALID_MONEY"

    def __init__(self, message: str) -> None:
        super().__init__(message)


class UnknownCurrencyError(MoneyError, UnknownCurrency):
    code: ClassVar[str] = "UNKNOWN_CURRENCY"


class WrongScaleError(MoneyError, WrongScale):
    code: ClassVar[str] = "WRONG_SCALE"


class InvalidAssetError(MoneyError):
    code: ClassVar[str] = "INVALID_ASSET"


class InvalidAmountError(MoneyError):
    code: ClassVar[str] = "INVALID_AMOUNT"


class FractionalMinorUnitError(MoneyError):
    code: ClassVar[str] = "FRACTIONAL_MINOR_UNIT"


class NegativeAmountError(MoneyError, NegativeAmount):
    code: ClassVar[str] = "NEGATIVE_AMOUNT"


class CurrencyMismatchError(MoneyError):
    code: ClassVar[str] = "CURRENCY_MISMATCH"


def scale_of(code: str) -> int:
    """Minor-unit exponent of a currency code; UNKNOWN_CURRENCY if we do not know it."""
    try:
        return CURRENCY_SCALES[code]
    except KeyError:
        raise UnknownCurrencyError(f"unknown currency {code!r}") from None


@dataclass(frozen=True, slots=True)
class Asset:
    code: str
    scale: int

    def __post_init__(self) -> None:
        expected = scale_of(self.code)
        if type(self.scale) is not int or self.scale != expected:
            raise WrongScaleError(f"{self.code} has {expected} decimal places, not {self.scale!r}")

    @classmethod
    def of(cls, code: str) -> Asset:
        """The asset of a currency code with its authoritative scale: `Asset.of("NGN")`."""
        return cls(code, scale_of(code))

    @classmethod
    def parse(cls, text: object) -> Asset:
        """Parse Formance's form: `NGN/2`, `USDC/6`, `UGX` or `UGX/0`."""
        if not isinstance(text, str):
            raise InvalidAssetError(f"an asset is a string like 'NGN/2', got {text!r}")
        match = _ASSET_RE.match(text)
        if match is None:
            raise InvalidAssetError(f"malformed asset {text!r} (expected e.g. 'NGN/2' or 'UGX')")
        code, raw_scale = match.group(1), match.group(2)
        expected = scale_of(code)
        scale = int(raw_scale) if raw_scale is not None else 0
        if scale != expected:
            written = text if raw_scale is not None else f"{code} (scale 0)"
            canonical = _format(code, expected)
            raise WrongScaleError(
                f"{written}: {code} has {expected} decimal places, write it {canonical}"
            )
        return cls(code, scale)

    def __str__(self) -> str:
        return _format(self.code, self.scale)


def _format(code: str, scale: int) -> str:
    return code if scale == 0 else f"{code}/{scale}"


@dataclass(frozen=True, slots=True)
class Money:
    asset: Asset
    amount_minor: int

    def __post_init__(self) -> None:
        if type(self.amount_minor) is not int:
            raise InvalidAmountError(
                f"amount_minor must be an int of minor units, got {self.amount_minor!r}"
            )

    # ------------------------------------------------------------ construction
    @classmethod
    def zero(cls, asset: Asset) -> Money:
        return cls(asset, 0)

    @classmethod
    def parse(cls, amount: object, asset: Asset | str, *, allow_negative: bool = False) -> Money:
        """Parse a decimal amount in major units: `Money.parse("1500.25", "NGN/2")` -> 150025.

        Accepts str, int and finite Decimal; refuses floats, bools, NaN, infinities and
        anything with more decimals than the currency has (trailing zeros excepted).
        """
        parsed_asset = asset if isinstance(asset, Asset) else Asset.parse(asset)
        text = _decimal_text(amount)
        match = _DECIMAL_RE.match(text)
        if match is None:
            raise InvalidAmountError(f"not a decimal amount: {amount!r}")
        sign, whole, fraction = match.group(1), match.group(2), match.group(3) or ""
        scale = parsed_asset.scale
        if fraction[scale:].strip("0"):
            raise FractionalMinorUnitError(
                f"{text} has more than {scale} decimal places for {parsed_asset}"
            )
        digits = whole + fraction[:scale].ljust(scale, "0")
        minor = int(digits) * (-1 if sign else 1)
        if minor < 0 and not allow_negative:
            raise NegativeAmountError(f"amount must not be negative: {text}")
        return cls(parsed_asset, minor)

    @classmethod
    def of_minor(cls, amount_minor: int, asset: Asset | str) -> Money:
        parsed_asset = asset if isinstance(asset, Asset) else Asset.parse(asset)
        return cls(parsed_asset, amount_minor)

    @classmethod
    def parse_numscript(cls, text: str) -> Money:
        """Formance's monetary string form: `"NGN/2 150025"`."""
        parts = text.split(" ") if isinstance(text, str) else []
        if len(parts) != 2 or not re.fullmatch(r"-?[0-9]+", parts[1]):
            raise InvalidAmountError(f"not a monetary like 'NGN/2 150025': {text!r}")
        return cls(Asset.parse(parts[0]), int(parts[1]))

    # ------------------------------------------------------------ rendering
    def to_numscript(self) -> str:
        return f"{self.asset} {self.amount_minor}"

    def to_decimal_string(self) -> str:
        """Plain major-unit decimal, no grouping: `1500.25`, `-3.000` (BHD), `1500` (UGX)."""
        sign = "-" if self.amount_minor < 0 else ""
        whole, fraction = divmod(abs(self.amount_minor), 10**self.asset.scale)
        if self.asset.scale == 0:
            return f"{sign}{whole}"
        return f"{sign}{whole}.{fraction:0{self.asset.scale}d}"

    def format(self) -> str:
        """For display: `1,500.25 NGN`, `1,500 UGX`, `-0.50 USD`."""
        sign = "-" if self.amount_minor < 0 else ""
        whole, fraction = divmod(abs(self.amount_minor), 10**self.asset.scale)
        body = f"{whole:,}"
        if self.asset.scale:
            body += f".{fraction:0{self.asset.scale}d}"
        return f"{sign}{body} {self.asset.code}"

    def __str__(self) -> str:
        return self.format()

    # ------------------------------------------------------------ arithmetic
    def _same_asset(self, other: Money) -> None:
        if not isinstance(other, Money) or other.asset != self.asset:
            raise CurrencyMismatchError(f"cannot combine {self.asset} with {other!r}")

    def __add__(self, other: Money) -> Money:
        self._same_asset(other)
        return Money(self.asset, self.amount_minor + other.amount_minor)

    def __sub__(self, other: Money) -> Money:
        self._same_asset(other)
        return Money(self.asset, self.amount_minor - other.amount_minor)

    def __neg__(self) -> Money:
        return Money(self.asset, -self.amount_minor)

    def is_zero(self) -> bool:
        return self.amount_minor == 0


def _decimal_text(amount: object) -> str:
    if isinstance(amount, bool | float):
        raise InvalidAmountError(f"floats and bools are not amounts: {amount!r}")
    if isinstance(amount, int):
        return str(amount)
    if isinstance(amount, Decimal):
        if not amount.is_finite():
            raise InvalidAmountError(f"not a finite amount: {amount!r}")
        try:
            return format(amount, "f")
        except (InvalidOperation, ValueError):
            raise InvalidAmountError(f"not a decimal amount: {amount!r}") from None
    if isinstance(amount, str):
        return amount.strip()
    raise InvalidAmountError(f"not an amount: {amount!r}")
