"""Canonical JSON, request hashes, cursors and LIKE prefixes of the built-in ledger."""

from __future__ import annotations

import base64
import hashlib
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from walletflow.domain.errors import ValidationError
from walletflow.ledger.pg.codec import (
    as_int,
    canonical_json,
    decode_cursor,
    decode_position,
    encode_cursor,
    like_prefix,
    request_hash,
)

json_scalars = st.none() | st.booleans() | st.integers() | st.text(max_size=20)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=12,
)


def test_the_request_hash_is_the_sha256_of_sorted_compact_utf8_json() -> None:
    body = {"post": {"b": 1, "a": "é"}}
    expected = hashlib.sha256('{"post":{"a":"é","b":1}}'.encode()).hexdigest()
    assert request_hash(body) == expected
    assert expected == "30d34b6c0608211f149ed5b35e19b09adea15eea019279fbbd9d1514bd7c3cdd"


@given(st.dictionaries(st.text(max_size=8), json_values, max_size=6))
def test_the_request_hash_does_not_depend_on_key_order(body: dict[str, object]) -> None:
    reordered = dict(reversed(list(body.items())))
    assert request_hash(reordered) == request_hash(body)
    assert canonical_json(reordered) == canonical_json(body)


def test_the_request_hash_changes_with_any_value() -> None:
    base = {"postings": [{"amount": 100, "asset": "NGN/2"}], "reference": "r-1"}
    changed = {"postings": [{"amount": 101, "asset": "NGN/2"}], "reference": "r-1"}
    assert request_hash(base) != request_hash(changed)
    assert request_hash({"reference": None}) != request_hash({})


@given(
    st.one_of(
        st.fixed_dictionaries({"id": st.integers(min_value=1, max_value=2**63)}),
        st.fixed_dictionaries({"address": st.from_regex(r"[a-z0-9_:-]{1,40}", fullmatch=True)}),
    )
)
def test_a_cursor_decodes_to_the_position_it_encodes(position: dict[str, object]) -> None:
    cursor = encode_cursor(position)
    assert cursor.isascii()
    assert decode_cursor(cursor) == position


def test_no_cursor_is_the_first_page() -> None:
    assert decode_cursor(None) is None


@pytest.mark.parametrize(
    "cursor",
    [
        "not base64 at all!",
        base64.urlsafe_b64encode(b"{not json").decode(),
        base64.urlsafe_b64encode(b"[1, 2]").decode(),
        base64.urlsafe_b64encode(b"42").decode(),
    ],
)
def test_a_malformed_cursor_is_a_validation_error(cursor: str) -> None:
    with pytest.raises(ValidationError) as raised:
        decode_cursor(cursor)
    assert raised.value.field_errors == {"cursor": "malformed"}


def test_a_like_prefix_matches_the_subtree_with_underscore_taken_literally() -> None:
    assert like_prefix("merchants:m_1:") == "merchants:m\\_1:%"
    assert like_prefix("") == "%"


@pytest.mark.parametrize("prefix", ["50%", "a\\b", "a b"])
def test_a_prefix_with_a_wildcard_or_escape_is_refused(prefix: str) -> None:
    with pytest.raises(ValidationError):
        like_prefix(prefix)


def test_a_numeric_column_is_an_exact_int() -> None:
    assert as_int(Decimal("123456789012345678901234567890")) == 123456789012345678901234567890
    with pytest.raises(AssertionError):
        as_int(Decimal("1.5"))


@pytest.mark.parametrize(
    ("cursor", "key", "kind"),
    [
        (encode_cursor({"address": "a:b"}), "id", int),  # the accounts cursor, given to txs
        (encode_cursor({"id": 5}), "address", str),
        (encode_cursor({"id": "five"}), "id", int),
        (encode_cursor({"id": True}), "id", int),
        (encode_cursor({"id": 2**63}), "id", int),
        (encode_cursor({"id": 5, "address": "a"}), "id", int),
        (encode_cursor({"address": "nul\x00"}), "address", str),
    ],
)
def test_a_foreign_ledger_cursor_is_a_validation_error(
    cursor: str, key: str, kind: type[int] | type[str]
) -> None:
    with pytest.raises(ValidationError) as raised:
        decode_position(cursor, key, kind)
    assert raised.value.field_errors == {"cursor": "malformed"}


def test_a_ledger_cursor_gives_back_its_one_value() -> None:
    assert decode_position(encode_cursor({"id": 42}), "id", int) == 42
    assert decode_position(None, "id", int) is None
