"""The overdraft policy: which accounts may go negative (DESIGN rule 3) and which are hot."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from walletflow.ledger.policy import (
    DEFAULT_POLICY,
    MAX_SHARD_COUNT,
    OverdraftPolicy,
    pattern_matches,
)

names = st.from_regex(r"[a-z0-9_-]{1,12}", fullmatch=True)
addresses = st.lists(names, min_size=1, max_size=6).map(":".join)


@given(address=addresses)
def test_a_pattern_without_wildcards_matches_only_itself(address: str) -> None:
    assert pattern_matches(address, address)
    assert not pattern_matches(address, address + ":x")
    assert not pattern_matches(address + ":x", address)


@given(head=names, rest=st.lists(names, min_size=1, max_size=5))
def test_a_trailing_double_star_matches_one_or_more_further_segments(
    head: str, rest: list[str]
) -> None:
    assert pattern_matches(f"{head}:**", ":".join([head, *rest]))
    assert not pattern_matches(f"{head}:**", head)


@given(first=names, middle=names, last=names)
def test_a_single_star_matches_exactly_one_segment(first: str, middle: str, last: str) -> None:
    assert pattern_matches(f"{first}:*:{last}", f"{first}:{middle}:{last}")
    assert not pattern_matches(f"{first}:*:{last}", f"{first}:{middle}:{middle}:{last}")
    assert not pattern_matches(f"{first}:*:{last}", f"{first}:{last}")


@pytest.mark.parametrize(
    "address",
    [
        "merchants:m1:NGN:available",
        "merchants:m1:NGN:holds:po_1",
        "merchants:m1:NGN:reserve",
        "fees:NGN:revenue",
        "tax:NGN:vat",
    ],
)
def test_merchant_fee_and_tax_accounts_never_go_negative(address: str) -> None:
    assert not DEFAULT_POLICY.may_go_negative(address)


@pytest.mark.parametrize(
    "address",
    [
        "world",
        "providers:sandbox:NGN:settlement",
        "banks:b1:NGN",
        "counterparties:cp1:USD",
        "fx:NGN:position",
        "gps:KES:pool",
        "stablecoin:USDC:custody",
    ],
)
def test_world_and_funding_accounts_may_go_negative(address: str) -> None:
    assert DEFAULT_POLICY.may_go_negative(address)


@given(address=addresses)
def test_an_account_no_pattern_names_may_not_go_negative(address: str) -> None:
    policy = OverdraftPolicy.of(negative_allowed=(), never_negative=())
    assert not policy.may_go_negative(address)


@given(rest=st.lists(names, min_size=1, max_size=4))
def test_never_negative_wins_over_negative_allowed(rest: list[str]) -> None:
    policy = OverdraftPolicy.of(negative_allowed=("acme:**",), never_negative=("acme:**",))
    assert not policy.may_go_negative(":".join(["acme", *rest]))


@pytest.mark.parametrize(
    ("address", "hot"),
    [
        ("world", True),
        ("fees:NGN:revenue", True),
        ("tax:NGN:vat", True),
        ("providers:sandbox:NGN:settlement", True),
        ("merchants:m1:NGN:available", False),
        ("stablecoin:USDC:custody", False),
        ("counterparties:cp1:USD", False),
    ],
)
def test_the_accounts_every_payin_touches_are_hot(address: str, hot: bool) -> None:
    assert DEFAULT_POLICY.is_hot(address) is hot


@given(address=addresses)
def test_with_one_shard_nothing_is_hot(address: str) -> None:
    policy = OverdraftPolicy.of(hot=("**", address), shard_count=1)
    assert not policy.is_hot(address)


@pytest.mark.parametrize("shard_count", [0, MAX_SHARD_COUNT + 1])
def test_the_shard_count_is_bounded(shard_count: int) -> None:
    with pytest.raises(AssertionError):
        OverdraftPolicy.of(shard_count=shard_count)
