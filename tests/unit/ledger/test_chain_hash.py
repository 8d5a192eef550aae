"""The hash chain's entry hash and the sealer's horizon: deterministic, and sensitive to
everything a tamperer could change."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta, timezone

import pytest

from walletflow.ledger.pg.sealing import GENESIS_HASH, chain_hash, horizon_of
from walletflow.ledger.port import Posting, Transaction

NGN = "NGN/2"
TX = Transaction(
    id=7,
    postings=(
        Posting("world", "merchants:m1:NGN:available", 10_000, NGN),
        Posting("merchants:m1:NGN:available", "fees:NGN:revenue", 150, NGN),
    ),
    reference="payin:sandbox:r-1",
    metadata={"kind": "payin", "merchant": "m1"},
    effective_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
    inserted_at=datetime(2026, 1, 2, 4, 4, 5, 123456, tzinfo=timezone(timedelta(hours=1))),
)


def test_the_entry_hash_of_a_known_transaction_is_pinned() -> None:
    """Sealed chains in existing databases were hashed this way: the format must not drift."""
    assert chain_hash(GENESIS_HASH, TX) == (
        "895b77c019d827d73953d263f022b3a2954104ce462ff52fb53be0e951c16d20"
    )


def test_the_same_content_hashes_alike_whatever_the_metadata_order_or_time_zone() -> None:
    same = dataclasses.replace(
        TX,
        metadata={"merchant": "m1", "kind": "payin"},
        effective_at=TX.effective_at.astimezone(timezone(timedelta(hours=-5))),
        inserted_at=TX.inserted_at.astimezone(UTC),
    )
    assert chain_hash(GENESIS_HASH, same) == chain_hash(GENESIS_HASH, TX)


def test_whether_a_transaction_is_reverted_is_not_part_of_its_sealed_content() -> None:
    assert chain_hash(GENESIS_HASH, dataclasses.replace(TX, reverted=True)) == chain_hash(
        GENESIS_HASH, TX
    )


@pytest.mark.parametrize(
    "tampered",
    [
        dataclasses.replace(TX, id=8),
        dataclasses.replace(TX, reference="payin:sandbox:r-2"),
        dataclasses.replace(TX, metadata={"kind": "payin", "merchant": "m2"}),
        dataclasses.replace(TX, effective_at=TX.effective_at + timedelta(microseconds=1)),
        dataclasses.replace(TX, inserted_at=TX.inserted_at + timedelta(seconds=1)),
        dataclasses.replace(TX, reverts_tx_id=3),
        dataclasses.replace(TX, postings=tuple(reversed(TX.postings))),
        dataclasses.replace(
            TX,
            postings=(
                Posting("world", "merchants:m1:NGN:available", 10_001, NGN),
                TX.postings[1],
            ),
        ),
    ],
    ids=["id", "reference", "metadata", "effective", "inserted", "reverts", "order", "amount"],
)
def test_any_change_to_the_content_changes_the_hash(tampered: Transaction) -> None:
    assert chain_hash(GENESIS_HASH, tampered) != chain_hash(GENESIS_HASH, TX)


def test_the_hash_covers_the_previous_entry() -> None:
    first = chain_hash(GENESIS_HASH, TX)
    assert chain_hash(first, TX) != first
    assert chain_hash("f" * 64, TX) != chain_hash(GENESIS_HASH, TX)


def test_the_horizon_is_the_next_xid_when_nothing_runs() -> None:
    assert horizon_of(1_000, []) == 1_000


def test_the_horizon_is_the_oldest_running_xid() -> None:
    assert horizon_of(1_000, [995, 990, 999]) == 990


def test_a_running_xid_is_widened_into_the_current_epoch() -> None:
    epoch = 3 << 32
    assert horizon_of(epoch + 500, [400]) == epoch + 400


def test_a_running_xid_from_before_a_wraparound_belongs_to_the_previous_epoch() -> None:
    epoch = 3 << 32
    assert horizon_of(epoch + 5, [0xFFFF_FFF0]) == epoch - (1 << 32) + 0xFFFF_FFF0
