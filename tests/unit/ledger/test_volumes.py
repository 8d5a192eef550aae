"""Which volume rows a post moves, in which order, and how a debit of a hot account that may
not go negative is spread over its shards."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from walletflow.ledger.pg.volumes import VolumeRow, plan_volumes, spread_debit
from walletflow.ledger.pg.write import fits_one_statement
from walletflow.ledger.policy import DEFAULT_POLICY
from walletflow.ledger.port import Posting, PostRequest

NGN = "NGN/2"
SHARDS = DEFAULT_POLICY.shard_count


def test_rows_are_planned_in_account_asset_order_with_hot_accounts_on_the_home_shard() -> None:
    rows, spread = plan_volumes(
        (
            Posting("world", "merchants:m2:NGN:available", 500, NGN),
            Posting("world", "merchants:m1:NGN:available", 300, NGN),
        ),
        DEFAULT_POLICY,
        shard_hint=SHARDS + 3,
    )
    assert spread == []
    assert rows == [
        VolumeRow("merchants:m1:NGN:available", NGN, 0, 300, 0, False),
        VolumeRow("merchants:m2:NGN:available", NGN, 0, 500, 0, False),
        VolumeRow("world", NGN, 3, 0, 800, True),
    ]


def test_a_debit_of_a_hot_account_that_may_not_go_negative_is_spread() -> None:
    rows, spread = plan_volumes(
        (Posting("fees:NGN:revenue", "banks:gtb:NGN", 100, NGN),), DEFAULT_POLICY, shard_hint=0
    )
    assert spread == [("fees:NGN:revenue", NGN, 0, 100)]
    assert rows == [VolumeRow("banks:gtb:NGN", NGN, 0, 100, 0, True)]


def test_a_credit_of_a_hot_protected_account_is_not_spread() -> None:
    _, spread = plan_volumes(
        (Posting("world", "fees:NGN:revenue", 100, NGN),), DEFAULT_POLICY, shard_hint=1
    )
    assert spread == []


def test_a_spread_debit_takes_from_the_shards_in_order_and_leaves_none_negative() -> None:
    rows, balance = spread_debit("fees:NGN:revenue", NGN, {0: 30, 1: 0, 2: 50}, 0, 60)
    assert [(r.shard, r.input_minor, r.output_minor) for r in rows] == [(0, 0, 30), (2, 0, 30)]
    assert balance == 20


def test_a_short_spread_debit_overdraws_the_last_shard_for_the_check_to_refuse() -> None:
    rows, balance = spread_debit("fees:NGN:revenue", NGN, {0: 10, 1: 5}, 0, 20)
    assert [(r.shard, r.output_minor) for r in rows] == [(0, 10), (1, 10)]
    assert balance == -5


def test_an_account_with_no_shard_yet_starts_on_shard_zero() -> None:
    rows, balance = spread_debit("fees:NGN:revenue", NGN, {}, 0, 1)
    assert [(r.shard, r.output_minor) for r in rows] == [(0, 1)]
    assert balance == -1


@given(
    st.dictionaries(
        st.integers(min_value=0, max_value=SHARDS - 1),
        st.integers(min_value=0, max_value=10_000),
        max_size=8,
    ),
    st.integers(min_value=0, max_value=10_000),
    st.integers(min_value=1, max_value=30_000),
)
def test_a_spread_debit_moves_exactly_the_amounts_and_overdraws_only_when_short(
    available: dict[int, int], input_minor: int, output_minor: int
) -> None:
    rows, balance = spread_debit("fees:NGN:revenue", NGN, available, input_minor, output_minor)
    assert sum(r.input_minor for r in rows) == input_minor
    assert sum(r.output_minor for r in rows) == output_minor
    assert balance == sum(available.values()) + input_minor - output_minor
    after = dict(available) or {0: 0}
    for row in rows:
        after[row.shard] = after.get(row.shard, 0) + row.input_minor - row.output_minor
    assert sum(after.values()) == balance
    negative = [shard for shard, value in after.items() if value < 0]
    assert negative == ([] if balance >= 0 else [max(after)])
    assert all(not row.may_go_negative for row in rows)


def test_only_a_plain_post_of_postings_is_one_statement() -> None:
    plain = PostRequest(postings=(Posting("world", "merchants:m1:NGN:available", 1, NGN),))
    assert fits_one_statement(plain, DEFAULT_POLICY)
    keyed = PostRequest(postings=plain.postings, idempotency_key="k-1")
    dry = PostRequest(postings=plain.postings, dry_run=True)
    script = PostRequest(script="send [NGN/2 1] (source = @world destination = @a)")
    hot_debit = PostRequest(postings=(Posting("fees:NGN:revenue", "banks:gtb:NGN", 1, NGN),))
    for request in (keyed, dry, script, hot_debit):
        assert not fits_one_statement(request, DEFAULT_POLICY)
