"""Which accounts may go negative, and which are hot (their volume rows are sharded).

Patterns are colon-separated segments; `*` matches exactly one segment, a trailing `**` matches
one or more remaining segments. Examples: `world`, `banks:**`, `stablecoin:*:custody`.

Rule 3 of DESIGN.md: overdraft is refused by the ledger. Only the accounts this policy names
may go negative: `world` and the funding accounts (providers, banks, counterparties, FX
positions, GPS pools, stablecoin custody) and suspense (a clearing account of either sign whose
open items are gated until explained). Merchants, fees and tax never do. The Postgres ledger
stores the verdict on each volume row (`may_go_negative`) where a CHECK constraint enforces it.

Hot accounts are those that nearly every pay-in touches (`world`, fees, VAT, provider
settlement). Their volumes are spread over `shard_count` rows so concurrent writers do not queue
on one row lock; a balance is the sum of an account's shards.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

DEFAULT_NEGATIVE_ALLOWED: tuple[str, ...] = (
    "world",
    "providers:**",
    "banks:**",
    "counterparties:**",
    "fx:**",
    "gps:**",
    "stablecoin:*:custody",
    "suspense:*:adjustments",
)
DEFAULT_NEVER_NEGATIVE: tuple[str, ...] = ("merchants:**", "fees:**", "tax:**")
DEFAULT_HOT: tuple[str, ...] = (
    "world",
    "fees:**",
    "tax:**",
    "providers:**",
    "banks:**",
    "gps:**",
    "fx:**",
)
DEFAULT_SHARD_COUNT = 32
MAX_SHARD_COUNT = 256


def pattern_matches(pattern: str, address: str) -> bool:
    return _compiled(pattern)(address)


@lru_cache(maxsize=1024)
def _compiled(pattern: str) -> _Matcher:
    return _Matcher(tuple(pattern.split(":")))


class _Matcher:
    def __init__(self, segments: tuple[str, ...]) -> None:
        self._segments = segments

    def __call__(self, address: str) -> bool:
        parts = address.split(":")
        segments = self._segments
        if segments and segments[-1] == "**":
            head = segments[:-1]
            if len(parts) <= len(head):
                return False
            parts = parts[: len(head)]
            segments = head
        elif len(parts) != len(segments):
            return False
        return all(seg == "*" or seg == part for seg, part in zip(segments, parts, strict=True))


@dataclass(frozen=True)
class OverdraftPolicy:
    """An explicit, configurable policy. `never_negative` wins over `negative_allowed`."""

    negative_allowed: tuple[str, ...] = DEFAULT_NEGATIVE_ALLOWED
    never_negative: tuple[str, ...] = DEFAULT_NEVER_NEGATIVE
    hot: tuple[str, ...] = DEFAULT_HOT
    shard_count: int = DEFAULT_SHARD_COUNT

    def __post_init__(self) -> None:
        assert 1 <= self.shard_count <= MAX_SHARD_COUNT, self.shard_count

    @classmethod
    def of(
        cls,
        negative_allowed: Sequence[str] = DEFAULT_NEGATIVE_ALLOWED,
        never_negative: Sequence[str] = DEFAULT_NEVER_NEGATIVE,
        hot: Sequence[str] = DEFAULT_HOT,
        shard_count: int = DEFAULT_SHARD_COUNT,
    ) -> OverdraftPolicy:
        return cls(tuple(negative_allowed), tuple(never_negative), tuple(hot), shard_count)

    def may_go_negative(self, address: str) -> bool:
        return _verdict(self, address)[0]

    def is_hot(self, address: str) -> bool:
        return _verdict(self, address)[1]


@lru_cache(maxsize=65_536)
def _verdict(policy: OverdraftPolicy, address: str) -> tuple[bool, bool]:
    """(may go negative, is hot) for an address, cached: the policy is immutable."""
    negative_ok = not any(pattern_matches(p, address) for p in policy.never_negative) and any(
        pattern_matches(p, address) for p in policy.negative_allowed
    )
    hot = policy.shard_count > 1 and any(pattern_matches(p, address) for p in policy.hot)
    return negative_ok, hot


DEFAULT_POLICY = OverdraftPolicy()
