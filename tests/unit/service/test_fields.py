"""Field parsing at the boundary: raw JSON-ish values in, typed command values out, or one
typed error listing every bad field. Money arrives in major units or int minor units; never a
float."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from walletflow import money
from walletflow.domain.errors import (
    FractionalMinorUnit,
    NegativeAmount,
    UnknownCurrency,
    ValidationError,
    WrongScale,
)
from walletflow.service.fields import (
    MAX_AMOUNT_MINOR,
    MAX_JSON_BYTES,
    MAX_LIST_ITEMS,
    MAX_TEXT_LENGTH,
    FieldKind,
    FieldSpec,
    parse_input,
)

CURRENCY = FieldSpec("currency", FieldKind.CURRENCY, "Currency")
AMOUNT = FieldSpec("amount", FieldKind.AMOUNT, "Amount")
FEE = FieldSpec("fee", FieldKind.AMOUNT, "Fee", required=False, default=0, allow_zero=True)
MONEY = (CURRENCY, AMOUNT, FEE)


def one(spec: FieldSpec, value: Any) -> Any:
    return parse_input((spec,), {spec.name: value})[spec.command_attribute]


def refused(fields: tuple[FieldSpec, ...], raw: dict[str, Any]) -> ValidationError:
    with pytest.raises(ValidationError) as error:
        parse_input(fields, raw)
    return error.value


# --- the whole input ------------------------------------------------------------------------
def test_every_bad_field_is_listed_at_once_and_unknown_fields_are_refused() -> None:
    error = refused(MONEY, {"amount": "abc", "colour": "red"})
    assert set(error.field_errors) == {"currency", "amount", "colour"}
    assert error.field_errors["currency"] == "required"
    assert error.field_errors["colour"] == "unknown field"


def test_an_optional_field_left_out_or_blank_takes_its_default() -> None:
    for raw in ({"currency": "NGN", "amount": 100}, {"currency": "NGN", "amount": 100, "fee": ""}):
        assert parse_input(MONEY, raw) == {"currency": "NGN", "amount_minor": 100, "fee_minor": 0}


def test_input_must_be_an_object() -> None:
    with pytest.raises(ValidationError) as error:
        parse_input(MONEY, ["NGN", 100])  # type: ignore[arg-type]
    assert error.value.field_errors == {"input": "not an object"}


@pytest.mark.parametrize("kind", list(FieldKind))
def test_a_float_is_refused_for_every_kind_of_field(kind: FieldKind) -> None:
    spec = FieldSpec("value", kind, "Value", choices=("a",))
    fields = (CURRENCY, spec) if kind is FieldKind.AMOUNT else (spec,)
    error = refused(
        fields, {"currency": "NGN", "value": 1.0} if kind is FieldKind.AMOUNT else {"value": 1.0}
    )
    assert error.field_errors["value"].startswith("floats are not accepted")


# --- money ----------------------------------------------------------------------------------
@given(
    code=st.sampled_from(sorted(money.CURRENCY_SCALES)),
    amount_minor=st.integers(1, MAX_AMOUNT_MINOR),
)
def test_an_amount_in_major_units_lands_as_the_same_minor_units_it_was_written_from(
    code: str, amount_minor: int
) -> None:
    decimal = money.Money.of_minor(amount_minor, money.Asset.of(code)).to_decimal_string()
    parsed = parse_input((CURRENCY, AMOUNT), {"currency": code, "amount": decimal})
    assert parsed == {"currency": code, "amount_minor": amount_minor}
    assert parse_input((CURRENCY, AMOUNT), {"currency": code, "amount": amount_minor}) == parsed


@pytest.mark.parametrize(
    ("raw", "error_type", "field"),
    [
        ({"currency": "UGX", "amount": "1500.5"}, FractionalMinorUnit, "amount"),
        ({"currency": "NGN", "amount": "-1"}, NegativeAmount, "amount"),
        ({"currency": "NGN", "amount": -1}, NegativeAmount, "amount"),
        ({"currency": "XXX", "amount": "1"}, UnknownCurrency, "currency"),
        ({"currency": "NGN/3", "amount": "1"}, WrongScale, "currency"),
    ],
)
def test_the_first_bad_fields_reason_picks_the_typed_error(
    raw: dict[str, Any], error_type: type[ValidationError], field: str
) -> None:
    error = refused((CURRENCY, AMOUNT), raw)
    assert type(error) is error_type
    assert field in error.field_errors


def test_an_amount_needs_a_valid_currency_first() -> None:
    error = refused((CURRENCY, AMOUNT), {"currency": "XXX", "amount": "1"})
    assert error.field_errors["amount"] == "needs a valid currency"


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (0, "must be greater than zero"),
        ("0.00", "must be greater than zero"),
        (MAX_AMOUNT_MINOR + 1, f"at most {MAX_AMOUNT_MINOR} minor units"),
        (True, "must be a decimal string or an integer"),
        ([1], "must be a decimal string or an integer"),
    ],
)
def test_an_amount_is_positive_bounded_and_not_a_bool(value: Any, reason: str) -> None:
    error = refused((CURRENCY, AMOUNT), {"currency": "NGN", "amount": value})
    assert error.field_errors["amount"] == reason


def test_an_amount_that_allows_zero_accepts_it() -> None:
    assert parse_input(MONEY, {"currency": "NGN", "amount": 1, "fee": "0"})["fee_minor"] == 0


@pytest.mark.parametrize(("raw", "code"), [(" ngn ", "NGN"), ("NGN/2", "NGN"), ("UGX/0", "UGX")])
def test_a_currency_is_normalised_to_its_code(raw: str, code: str) -> None:
    assert one(CURRENCY, raw) == code


# --- text, ids, choices ---------------------------------------------------------------------
TEXT = FieldSpec("reason", FieldKind.TEXT, "Reason")
ID = FieldSpec("merchant_id", FieldKind.ID, "Merchant")
CHOICE = FieldSpec("direction", FieldKind.CHOICE, "Direction", choices=("credit", "debit"))


def test_text_is_stripped() -> None:
    assert one(TEXT, "  paid twice ") == "paid twice"


@pytest.mark.parametrize(
    "value", ["   ", "x" * (MAX_TEXT_LENGTH + 1), "line\x00break", "tab\there", 5]
)
def test_text_is_non_blank_bounded_and_free_of_control_characters(value: Any) -> None:
    assert "reason" in refused((TEXT,), {"reason": value}).field_errors


@given(value=st.from_regex(r"[a-zA-Z0-9_-]{1,64}", fullmatch=True))
def test_an_id_is_an_address_segment(value: str) -> None:
    assert one(ID, value) == value


@pytest.mark.parametrize("value", ["m:1", "m 1", "x" * 65, 7])
def test_an_id_outside_the_segment_alphabet_is_refused(value: Any) -> None:
    assert "merchant_id" in refused((ID,), {"merchant_id": value}).field_errors


def test_a_choice_is_case_insensitive_and_closed() -> None:
    assert one(CHOICE, "CREDIT") == "credit"
    error = refused((CHOICE,), {"direction": "sideways"})
    assert error.field_errors["direction"] == "must be one of credit, debit"


# --- the other kinds ------------------------------------------------------------------------
WHEN = FieldSpec("effective_at", FieldKind.DATETIME, "When")
FLAG = FieldSpec("enabled", FieldKind.BOOLEAN, "Enabled")
NUMBER = FieldSpec("transaction_id", FieldKind.INTEGER, "Transaction")
DOC = FieldSpec("destination", FieldKind.JSON, "Destination")
EMAILS = FieldSpec("emails", FieldKind.EMAILS, "Emails")


def test_a_datetime_needs_a_timezone_and_z_means_utc() -> None:
    assert one(WHEN, "2024-05-01T10:00:00Z") == datetime(2024, 5, 1, 10, tzinfo=UTC)
    plus_one = timezone(timedelta(hours=1))
    assert one(WHEN, "2024-05-01T10:00:00+01:00") == datetime(2024, 5, 1, 10, tzinfo=plus_one)
    error = refused((WHEN,), {"effective_at": "2024-05-01T10:00:00"})
    assert error.field_errors["effective_at"].startswith("must include a timezone")
    assert "effective_at" in refused((WHEN,), {"effective_at": "yesterday"}).field_errors


@pytest.mark.parametrize("value", ["true", 1, "yes"])
def test_a_boolean_is_only_true_or_false(value: Any) -> None:
    assert one(FLAG, True) is True and one(FLAG, False) is False
    assert refused((FLAG,), {"enabled": value}).field_errors == {"enabled": "must be true or false"}


def test_an_integer_is_positive_below_2_63_and_may_arrive_as_digits() -> None:
    assert one(NUMBER, "42") == 42 and one(NUMBER, 2**63 - 1) == 2**63 - 1
    for value in (0, -3, True, "4x"):
        assert refused((NUMBER,), {"transaction_id": value}).field_errors == {
            "transaction_id": "must be a positive integer"
        }
    assert refused((NUMBER,), {"transaction_id": 2**63}).field_errors == {
        "transaction_id": "too large"
    }


def test_json_is_a_small_object_given_as_one_or_as_its_text() -> None:
    assert one(DOC, {"bank": "058"}) == {"bank": "058"}
    assert one(DOC, '{"bank": "058"}') == {"bank": "058"}
    for value in ("[1]", "{", ["bank"], {"pad": "x" * MAX_JSON_BYTES}):
        assert "destination" in refused((DOC,), {"destination": value}).field_errors


def test_emails_are_split_lowercased_deduplicated_and_sorted() -> None:
    assert one(EMAILS, "B@x.io, a@x.io\nb@X.io") == ("a@x.io", "b@x.io")
    assert one(EMAILS, ["ops@x.io"]) == ("ops@x.io",)
    for value in (["not-an-email"], ["a@x.io"] * (MAX_LIST_ITEMS + 1), {"a@x.io": 1}):
        assert "emails" in refused((EMAILS,), {"emails": value}).field_errors
