"""Keyset cursors: what the server hands out comes back typed; anything else is a
ValidationError on the argument (never a crash in the resolver that uses the values)."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from walletflow.domain.errors import ValidationError
from walletflow.views.pages import Int32, decode_cursor, encode_cursor


def b64(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode()


def b64_text(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


def test_a_cursor_handed_out_comes_back_with_its_types() -> None:
    moment = datetime(2026, 3, 1, 12, 30, tzinfo=UTC)
    cursor = encode_cursor([moment, "po-1"])
    assert decode_cursor(cursor, (datetime, str)) == [moment, "po-1"]
    assert decode_cursor(encode_cursor([7, 0]), (int, Int32)) == [7, 0]
    assert decode_cursor(None, (int, int)) is None


@pytest.mark.parametrize(
    ("cursor", "shape"),
    [
        ("WzEsMl0=", (datetime, str)),  # [1, 2] given to holds
        (b64(["m1", "NGN"]), (int, int)),
        (b64([True, 1]), (int, int)),
        (b64([2**63, 1]), (int, int)),
        (b64([1.0, 1]), (int, int)),
        (b64(["2026-01-01T00:00:00", "x"]), (datetime, str)),  # no offset
        (b64(["9999-12-31T23:59:59-14:00", "x"]), (datetime, str)),  # past year 9999 in UTC
        (b64([1, 2**31]), (int, Int32)),  # an ordinal past its 32-bit column
        (b64(["m1", "nul\x00"]), (str, str)),
        (b64_text("[" * 400), (int, int)),
        (b64([1]), (int, int)),
        (b64({"id": 1}), (int, int)),
        ("not base64 at all", (int, int)),
        ("/w==", (int, int)),
        ("x" * 600, (int, int)),
    ],
)
def test_any_other_cursor_is_a_validation_error_on_the_argument(
    cursor: str, shape: tuple[type, ...]
) -> None:
    with pytest.raises(ValidationError) as refused:
        decode_cursor(cursor, shape, argument="after")
    assert set(refused.value.field_errors) == {"after"}


def test_the_refusal_names_the_argument_it_was_given_as() -> None:
    with pytest.raises(ValidationError) as refused:
        decode_cursor("WzEsMl0=", (datetime, str), argument="before")
    assert set(refused.value.field_errors) == {"before"}
