"""The matching engine's rules, in order, and its refusal to guess."""

from __future__ import annotations

from datetime import date, timedelta

from walletflow.recon.matching import OpenLine, OpenMovement, match

D = date(2026, 11, 30)


def _line(lid: str, minor: int, *, ref: str = "", narrative: str = "", on: date = D) -> OpenLine:
    return OpenLine(lid, minor, on, ref, f"BANK-{lid}", narrative)


def _move(mid: str, minor: int, *, ref: str = "", batch: str = "", on: date = D) -> OpenMovement:
    return OpenMovement(mid, minor, on, ref, batch)


def test_exact_reference_matches_with_full_confidence() -> None:
    result = match([_line("l1", 500, ref="PAYIN-1")], [_move("m1", 500, ref="PAYIN-1")])
    assert [(m.rule, m.confidence_pct, m.line_ids, m.movement_ids) for m in result.matches] == [
        ("exact_reference", 100, ("l1",), ("m1",))
    ]


def test_exact_reference_with_a_different_amount_is_no_match() -> None:
    result = match([_line("l1", 500, ref="PAYIN-1")], [_move("m1", 499, ref="PAYIN-1")])
    assert result.matches == ()


def test_reference_contained_in_narrative() -> None:
    result = match(
        [_line("l1", -5000, narrative="NIP TRF PAYOUT-0B12C9D4 TO BOLA")],
        [_move("m1", -5000, ref="PAYOUT-0B12C9D4")],
    )
    assert [m.rule for m in result.matches] == ["reference_in_narrative"]
    assert result.matches[0].confidence_pct == 90


def test_amount_and_value_date_within_the_window() -> None:
    result = match([_line("l1", 700)], [_move("m1", 700, on=D + timedelta(days=2))])
    assert [m.rule for m in result.matches] == ["amount_and_date"]


def test_amount_outside_the_window_is_no_match() -> None:
    result = match([_line("l1", 700)], [_move("m1", 700, on=D + timedelta(days=4))])
    assert result.matches == ()


def test_two_candidates_are_never_auto_matched() -> None:
    result = match([_line("l1", 700)], [_move("m1", 700), _move("m2", 700)])
    assert result.matches == ()
    assert result.ambiguous_line_ids == {"l1"}


def test_two_lines_wanting_one_movement_are_both_left_open() -> None:
    result = match([_line("l1", 700), _line("l2", 700)], [_move("m1", 700)])
    assert result.matches == ()
    assert result.ambiguous_line_ids == {"l1", "l2"}


def test_one_line_against_a_batch_of_movements() -> None:
    result = match(
        [_line("l1", -3000, ref="BATCH-77")],
        [_move("m1", -1000, batch="BATCH-77"), _move("m2", -2000, batch="BATCH-77")],
    )
    assert [(m.rule, m.movement_ids) for m in result.matches] == [
        ("batch_one_to_many", ("m1", "m2"))
    ]


def test_many_lines_against_one_movement() -> None:
    result = match(
        [_line("l1", 1000, ref="SETTLE-9"), _line("l2", 2500, ref="SETTLE-9")],
        [_move("m1", 3500, ref="SETTLE-9")],
    )
    assert [(m.rule, m.line_ids) for m in result.matches] == [("batch_many_to_one", ("l1", "l2"))]


def test_rules_apply_in_order_reference_before_amount() -> None:
    result = match(
        [_line("l1", 700, ref="R-1")],
        [_move("m1", 700), _move("m2", 700, ref="R-1")],
    )
    assert [(m.rule, m.movement_ids) for m in result.matches] == [("exact_reference", ("m2",))]


def test_rerunning_on_what_is_left_open_adds_nothing() -> None:
    lines = [_line("l1", 700, ref="R-1"), _line("l2", 900)]
    moves = [_move("m1", 700, ref="R-1"), _move("m2", 900), _move("m3", 900)]
    first = match(lines, moves)
    matched_l = {lid for m in first.matches for lid in m.line_ids}
    matched_m = {mid for m in first.matches for mid in m.movement_ids}
    second = match(
        [x for x in lines if x.line_id not in matched_l],
        [x for x in moves if x.movement_id not in matched_m],
    )
    assert second.matches == ()
    assert match(lines, moves) == first
