"""The console's small rules: one timestamp format with its zone, ages, labels for camelCase,
amounts pasted with separators, labelled fields instead of JSON, page positions through
cursors, nav registration by module."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from walletflow_dashboard import commands, data, export, navigation, paging
from walletflow_dashboard.formatting import (
    age,
    age_seconds,
    fields_text,
    label,
    normalise_amount,
    timestamp,
)


def test_every_timestamp_is_written_one_way_in_utc() -> None:
    assert timestamp("2026-01-31T10:00:00+01:00") == "2026-01-31 09:00:00 UTC"
    assert timestamp("2026-01-31T09:00:00Z") == "2026-01-31 09:00:00 UTC"
    assert timestamp("not a time") == "not a time"


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(5, "5 s"), (720, "12 min"), (3600, "1 h"), (3900, "1 h 5 min"), (90000, "1 d 1 h")],
)
def test_ages_read_as_durations(seconds: int, text: str) -> None:
    assert age(seconds) == text


def test_age_is_measured_from_the_given_time() -> None:
    now = datetime(2026, 1, 31, 9, 12, tzinfo=UTC)
    assert age(age_seconds("2026-01-31T09:00:00+00:00", now)) == "12 min"


def test_labels_replace_camel_case_names() -> None:
    assert label("oldestPendingAgeS") == "Oldest pending age s"
    assert label("merchantId") == "Merchant ID"
    assert label("balanceMinor") == "Balance"


@pytest.mark.parametrize(
    ("typed", "sent"),
    [("1,000.00", "1000.00"), ("1 000.50", "1000.50"), ("12,345,678", "12345678"),
     ("1000.00", "1000.00"), ("1,00.0", "1,00.0"), ("abc", "abc")],
)  # fmt: skip
def test_amounts_pasted_with_thousands_separators_are_normalised(typed: str, sent: str) -> None:
    assert normalise_amount(typed) == sent


def test_an_amount_field_sends_the_normalised_amount() -> None:
    command = {
        "name": "postPayin",
        "fields": [{"name": "amount", "kind": "amount", "required": True}],
    }
    variables, errors = commands.input_variables(command, {"amount": "1,000.00"})
    assert errors == {} and variables == {"amount": "1000.00"}


def test_structured_values_are_labelled_fields_not_json() -> None:
    text = fields_text({"unbalancedAssets": [], "holdCount": 3, "worst": {"payoutId": "p1"}})
    assert text == "Unbalanced assets: none; Hold count: 3; Worst · Payout ID: p1"
    assert "{" not in text
    long = fields_text({"drift": [{"check": f"c{n}"} for n in range(56)]})
    assert (
        long == "Drift #1 · Check: c0; Drift #2 · Check: c1; Drift #3 · Check: c2; Drift: +53 more"
    )


def test_error_details_show_money_with_its_currency() -> None:
    message = commands.error_text(
        "insufficient funds",
        {"account": "merchants:m1:NGN:available", "asset": "NGN/2", "balanceMinor": "150025"},
    )
    assert "1,500.25 NGN" in message and "Account: merchants:m1:NGN:available" in message


def test_pages_move_through_cursors_and_say_where_they_are() -> None:
    pager = paging.Pager(size=50)
    first = paging.shown(pager, 50, data.Paged(total=729, has_next=True, end_cursor="c1"))
    assert first.summary == "1-50 of 729" and not first.has_prev
    third = paging.forward(paging.forward(first))
    assert third.cursors == ["", "c1"]  # a second forward needs the second page's cursor
    second = paging.shown(third, 50, data.Paged(total=729, has_next=True, end_cursor="c2"))
    third = paging.shown(
        paging.forward(second), 50, data.Paged(total=729, has_next=True, end_cursor="c3")
    )
    assert third.summary == "101-150 of 729" and third.has_prev
    assert third.after == "c2"
    back = paging.back(third)
    assert back.after == "c1"
    resized = paging.first_page(third, 200)
    assert resized.cursors == [""] and resized.size == 200
    empty = paging.shown(paging.Pager(), 0, data.Paged(total=0))
    assert empty.summary == "none of 0" and not empty.has_next


def test_pages_register_their_nav_entries_once_in_order() -> None:
    before = len(navigation.entries(navigation.BOOKS))
    navigation.register("/zz-test-page", navigation.Nav("Zz test"))
    navigation.register("/zz-test-page", navigation.Nav("Zz test"))
    navigation.register("/zz-detail/[id]", None)
    books = navigation.entries(navigation.BOOKS)
    assert len(books) == before + 1 and books[-1].element_id == "nav-zz-test"
    with pytest.raises(ValueError):
        navigation.Nav("Bad", "everybody")


def test_an_empty_export_still_has_its_header_row() -> None:
    text = export.to_csv(data.HoldRow, [])
    assert text.splitlines() == [
        "Payout ID,Merchant ID,Currency,Amount,Provider,State,Reason,Age,Created,Overdue,"
        "Provider reference,State label"
    ]


async def test_an_export_walks_every_page_through_the_cursors() -> None:
    pages = {
        "": (["a", "b"], data.Paged(5, True, "c1")),
        "c1": (["c", "d"], data.Paged(5, True, "c2")),
        "c2": (["e"], data.Paged(5, False, "")),
    }
    seen: list[str] = []

    async def fetch(after: str) -> tuple[list[str], data.Paged]:
        seen.append(after)
        return pages[after]

    assert await export.all_rows(fetch) == ["a", "b", "c", "d", "e"]
    assert seen == ["", "c1", "c2"]
