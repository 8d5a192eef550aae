"""The matching engine: ordered rules, each match recording its rule and confidence.

Inputs are plain values: the open statement lines and the open ledger movements of one outside
account (already matched ones are left out by the caller, which is what makes a re-run
idempotent: nothing open → nothing new). A movement's `signed_minor` is seen from the bank's
side: positive when it adds cash to the account, as a statement credit does.

Rules, in order; the first rule that yields candidates decides for a line:
1. `exact_reference`      — the line's reference (or bank reference) equals a movement's.
2. `reference_in_narrative` — a movement's reference appears as a word of the line's narrative.
3. `batch_one_to_many`    — the line's amount equals the sum of one batch of movements.
4. `batch_many_to_one`    — one movement equals the sum of the lines carrying its reference.
5. `amount_and_date`      — same signed amount, value dates within `window_days`.
Auto-match only when exactly one candidate exists and it is not claimed by another line under
the same rule; otherwise the line stays open, marked ambiguous. Never two candidates.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal

Rule = Literal[
    "exact_reference",
    "reference_in_narrative",
    "batch_one_to_many",
    "batch_many_to_one",
    "amount_and_date",
    "manual",
]

CONFIDENCE_PCT: dict[Rule, int] = {
    "exact_reference": 100,
    "reference_in_narrative": 90,
    "batch_one_to_many": 85,
    "batch_many_to_one": 85,
    "amount_and_date": 70,
    "manual": 100,
}
"""Confidence in percent (an integer, like every number here)."""

MIN_NARRATIVE_REF_LEN = 6
"""Shorter references are too likely to appear in a narrative by chance."""

_WORD_RE = re.compile(r"[A-Za-z0-9_\-]+")


@dataclass(frozen=True, slots=True)
class OpenLine:
    line_id: str
    signed_minor: int
    value_date: date
    reference: str
    bank_reference: str
    narrative: str


@dataclass(frozen=True, slots=True)
class OpenMovement:
    movement_id: str
    signed_minor: int
    value_date: date
    reference: str
    batch_id: str = ""


@dataclass(frozen=True, slots=True)
class Match:
    rule: Rule
    confidence_pct: int
    line_ids: tuple[str, ...]
    movement_ids: tuple[str, ...]

    def __post_init__(self) -> None:
        assert self.line_ids and self.movement_ids, "a match joins at least one of each"


@dataclass(frozen=True, slots=True)
class MatchResult:
    matches: tuple[Match, ...]
    ambiguous_line_ids: frozenset[str]


def _one(candidates: dict[str, list[str]], claimed: dict[str, int]) -> dict[str, str]:
    """Lines with exactly one candidate that no other line also wants."""
    return {
        line_id: ids[0]
        for line_id, ids in candidates.items()
        if len(ids) == 1 and claimed[ids[0]] == 1
    }


def match(
    lines: Sequence[OpenLine], movements: Sequence[OpenMovement], *, window_days: int = 3
) -> MatchResult:
    assert window_days >= 0
    open_lines = {line.line_id: line for line in lines}
    open_moves = {move.movement_id: move for move in movements}
    matches: list[Match] = []
    ambiguous: set[str] = set()

    def take(rule: Rule, line_ids: Iterable[str], movement_ids: Iterable[str]) -> None:
        lids, mids = tuple(line_ids), tuple(movement_ids)
        matches.append(Match(rule, CONFIDENCE_PCT[rule], lids, mids))
        for lid in lids:
            open_lines.pop(lid)
            ambiguous.discard(lid)
        for mid in mids:
            open_moves.pop(mid)

    def pairwise(rule: Rule, finder: dict[str, list[str]]) -> None:
        claimed: dict[str, int] = defaultdict(int)
        for ids in finder.values():
            for mid in ids:
                claimed[mid] += 1
        chosen = _one(finder, claimed)
        for line_id in finder:
            if line_id not in chosen:
                ambiguous.add(line_id)
        for line_id, mid in chosen.items():
            take(rule, (line_id,), (mid,))

    # 1. exact reference (same sign and amount, else it is a different movement)
    by_ref: dict[str, list[OpenMovement]] = defaultdict(list)
    for move in open_moves.values():
        if move.reference:
            by_ref[move.reference].append(move)
    found: dict[str, list[str]] = {}
    for line in open_lines.values():
        ids = {
            m.movement_id
            for ref in {line.reference, line.bank_reference} - {""}
            for m in by_ref.get(ref, ())
            if m.signed_minor == line.signed_minor
        }
        if ids:
            found[line.line_id] = sorted(ids)
    pairwise("exact_reference", found)

    # 2. reference in narrative
    by_ref = defaultdict(list)
    for move in open_moves.values():
        if len(move.reference) >= MIN_NARRATIVE_REF_LEN:
            by_ref[move.reference].append(move)
    found = {}
    for line in open_lines.values():
        if line.line_id in ambiguous:
            continue
        ids = {
            m.movement_id
            for word in set(_WORD_RE.findall(line.narrative))
            for m in by_ref.get(word, ())
            if m.signed_minor == line.signed_minor
        }
        if ids:
            found[line.line_id] = sorted(ids)
    pairwise("reference_in_narrative", found)

    # 3. one line ↔ one batch of movements
    batches: dict[str, list[OpenMovement]] = defaultdict(list)
    for move in open_moves.values():
        if move.batch_id:
            batches[move.batch_id].append(move)
    batch_by_total: dict[int, list[str]] = defaultdict(list)
    for batch_id, members in batches.items():
        if len(members) > 1:
            batch_by_total[sum(m.signed_minor for m in members)].append(batch_id)
    found = {}
    for line in open_lines.values():
        if line.line_id in ambiguous:
            continue
        names = [
            b
            for b in batch_by_total.get(line.signed_minor, ())
            if line.reference in ("", b) or b in line.narrative
        ]
        if names:
            found[line.line_id] = sorted(names)
    claimed: dict[str, int] = defaultdict(int)
    for names in found.values():
        for name in names:
            claimed[name] += 1
    for line_id, batch_id in _one(found, claimed).items():
        take(
            "batch_one_to_many",
            (line_id,),
            sorted(m.movement_id for m in batches[batch_id]),
        )
    ambiguous.update(lid for lid in found if lid in open_lines)

    # 4. many lines ↔ one movement (lines carrying the movement's reference)
    lines_by_ref: dict[str, list[OpenLine]] = defaultdict(list)
    for line in open_lines.values():
        if line.reference:
            lines_by_ref[line.reference].append(line)
    for move in list(open_moves.values()):
        group = lines_by_ref.get(move.reference, []) if move.reference else []
        if (
            len(group) > 1
            and sum(line.signed_minor for line in group) == move.signed_minor
            and all(line.line_id in open_lines for line in group)
        ):
            take(
                "batch_many_to_one",
                sorted(line.line_id for line in group),
                (move.movement_id,),
            )

    # 5. amount and value date within the window
    by_amount: dict[int, list[OpenMovement]] = defaultdict(list)
    for move in open_moves.values():
        by_amount[move.signed_minor].append(move)
    found = {}
    for line in open_lines.values():
        if line.line_id in ambiguous:
            continue
        near = [
            m.movement_id
            for m in by_amount.get(line.signed_minor, ())
            if abs((m.value_date - line.value_date).days) <= window_days
        ]
        if near:
            found[line.line_id] = sorted(near)
    pairwise("amount_and_date", found)

    matches.sort(key=lambda m: (m.line_ids, m.movement_ids))
    return MatchResult(tuple(matches), frozenset(ambiguous & set(open_lines)))
