"""The console on a real-size book (10,000 wallets, 1,000 holds, 100,000 pay-ins by default,
see `tests/e2e/book.py`), in a real headless Chromium: true totals and page 3 of the wallets in
merchant order, holds newest first with the API's total, search by reference to the
transaction page, a merchant's balance drilled down to the posting that made it, deep links to
unknown ids, searches with no match, access lists edited from their contents, an amount pasted
as `1,000.00`. Prints what the seeding and each page's time to data cost (no assertion on
time: the machine is shared)."""

from __future__ import annotations

import re
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import expect

from tests.e2e import book
from tests.e2e.conftest import SignIn, screenshot_path
from tests.e2e.stack import Api

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

TIME_TO_DATA_TARGET_S = 1.0
DATA_TIMEOUT_MS = 60_000


@pytest.fixture(scope="module")
async def seeded(e2e_database_url: str, api: Api) -> book.Book:
    seeded = await book.seed(e2e_database_url)
    lines, statements_s = await book.catch_up_statements(e2e_database_url)
    print(
        f"\nseeded book: {seeded.wallets:,} wallets, {seeded.holds:,} holds, "
        f"{seeded.transactions + seeded.holds:,} transactions and postings, with their volumes "
        f"and statement lines, in {seeded.seconds:.2f} s; the statements rebuild then found "
        f"{lines:,} more lines ({statements_s:.2f} s)"
    )
    return seeded


def total_of(api: Api, query: str, field: str, **variables: Any) -> int:
    total: int = api.graphql(query, variables)[field]["totalCount"]
    return total


async def time_to_data(page: Any, url: str, route: str, ready: str) -> float:
    """From navigation to the page's data on screen (its loaders ran, `ready` is visible)."""
    started = time.perf_counter()
    await page.goto(url)
    await page.locator(f'#shell[data-loaded="{route}"]').wait_for(timeout=DATA_TIMEOUT_MS)
    await page.locator(ready).first.wait_for(timeout=DATA_TIMEOUT_MS)
    return time.perf_counter() - started


async def test_the_console_pages_searches_and_drills_down_a_real_size_book(
    seeded: book.Book, sign_in: SignIn, api: Api, dashboard_url: str
) -> None:
    page = await sign_in()
    timings: list[tuple[str, float]] = []

    async def timed(name: str, url: str, route: str, ready: str) -> None:
        timings.append((name, await time_to_data(page, dashboard_url + url, route, ready)))

    # Wallets: the true total, page 3 in merchant order.
    wallets_total = total_of(
        api,
        "query W($p: String) { wallets(merchantPrefix: $p, first: 1) { totalCount } }",
        "wallets",
        p=book.PREFIX,
    )
    assert wallets_total == seeded.wallets
    await timed("wallets", "/wallets", "/wallets", "#wallets-table .wallet-row")
    await page.locator("#wallet-filter").fill(book.PREFIX)
    rng = page.locator("#wallets-range")
    await expect(rng).to_have_text(f"1-50 of {seeded.wallets:,}", timeout=DATA_TIMEOUT_MS)
    await page.locator("#wallets-next").click()
    await expect(rng).to_have_text(f"51-100 of {seeded.wallets:,}")
    await page.locator("#wallets-next").click()
    await expect(rng).to_have_text(f"101-150 of {seeded.wallets:,}")
    rows = page.locator("#wallets-table .wallet-row")
    await expect(rows.first).to_have_id(f"wallet-{book.Book.merchant(101)}-NGN")
    await expect(rows.last).to_have_id(f"wallet-{book.Book.merchant(150)}-NGN")
    await page.screenshot(path=screenshot_path("volume_wallets_page_3"), full_page=True)
    await page.locator("#wallets-prev").click()
    await expect(rng).to_have_text(f"51-100 of {seeded.wallets:,}")

    # Holds: newest first, with the API's total.
    holds_total = total_of(api, "{ holds(first: 1) { totalCount } }", "holds")
    assert holds_total >= seeded.holds
    await timed("payouts", "/payouts", "/payouts", "#holds-table .hold-row")
    await expect(page.locator("#holds-range")).to_have_text(f"1-50 of {holds_total:,}")
    newest = api.graphql("{ holds(first: 1, newestFirst: true) { nodes { payoutId } } }")["holds"][
        "nodes"
    ][0]["payoutId"]
    await expect(page.locator("#holds-table .hold-row").first).to_have_id(f"hold-{newest}")
    await page.screenshot(path=screenshot_path("volume_holds_newest_first"), full_page=True)
    # The export holds every page, not the one shown: its rows are the API's total.
    async with page.expect_download(timeout=DATA_TIMEOUT_MS) as download_info:
        await page.locator("#holds-export").click()
    download = await download_info.value
    lines = Path(await download.path()).read_text().splitlines()
    assert lines[0].startswith("Payout ID,Merchant ID,Currency,Amount")
    assert len(lines) - 1 == holds_total

    # Search by reference → the one match opens the transaction page.
    reference = book.Book.payin_reference(4242)
    await page.locator("#global-search").fill(reference)
    await page.locator("#global-search").press("Enter")
    await expect(page.locator("#tx-reference")).to_have_text(reference, timeout=DATA_TIMEOUT_MS)
    tx_url = page.url
    await page.screenshot(path=screenshot_path("volume_search_to_transaction"), full_page=True)

    # Merchant → its balance → the account's postings → the transaction that made it.
    merchant = book.Book.merchant(7)
    account = f"merchants:{merchant}:NGN:available"
    await timed(
        "merchant",
        f"/merchant/{merchant}",
        "/merchant/[route_merchant]",
        "#merchant-wallets .merchant-wallet-row",
    )
    await page.locator("#merchant-wallets .balance-link").first.click()
    await expect(page.locator("#account-address")).to_have_text(account, timeout=DATA_TIMEOUT_MS)
    postings_total = total_of(
        api, "query P($a: String) { postings(account: $a, first: 1) { totalCount } }",
        "postings", a=account,
    )  # fmt: skip
    await expect(page.locator("#postings-range")).to_contain_text(f"of {postings_total:,}")
    posting = page.locator("#account-postings .posting-row").last
    tx_id = await posting.locator(".id-link").first.inner_text()
    await page.screenshot(path=screenshot_path("volume_account_postings"), full_page=True)
    await posting.locator(".id-link").first.click()
    await expect(page.locator("#tx-id")).to_have_text(tx_id, timeout=DATA_TIMEOUT_MS)
    await expect(page.locator("#tx-postings")).to_contain_text(account)

    # Deep links keep their ids; unknown ids and searches say so.
    timings.append(("transaction", await time_to_data(page, tx_url, "/tx/[route_tx]", "#tx-id")))
    await expect(page.locator("#tx-reference")).to_have_text(reference)
    await page.goto(f"{dashboard_url}/tx/999999999")
    await expect(page.locator("#not-found")).to_contain_text("No transaction 999999999")
    await page.goto(f"{dashboard_url}/payout/no-such-payout")
    await expect(page.locator("#not-found")).to_contain_text("No payout no-such-payout")
    await page.goto(f"{dashboard_url}/search?q=nothing-matches-this")
    await expect(page.locator("#no-match")).to_be_visible()
    payout_id = book.Book.payout_id(3)
    timings.append(
        (
            "payout",
            await time_to_data(
                page, f"{dashboard_url}/payout/{payout_id}", "/payout/[route_payout]",
                "#payout-amount",
            ),
        )
    )  # fmt: skip
    await expect(page.locator("#payout-amount")).to_have_text("500.00 NGN")
    await timed("overview", "/", "/", "#queue-count")
    await page.screenshot(path=screenshot_path("volume_overview"), full_page=True)

    print("\npage time to data (target ≤ 1 s):")
    for name, seconds in timings:
        print(f"  {name:<12} {seconds:6.2f} s  (target {TIME_TO_DATA_TARGET_S:.1f} s)")


async def test_access_lists_are_edited_from_their_contents(
    seeded: book.Book, sign_in: SignIn, api: Api, dashboard_url: str
) -> None:
    api.run(
        "saveAccessLists", f"k-{uuid.uuid4().hex}",
        allowedEmails=["first@example.com", "second@example.com"], adminEmails=["boss@example.com"],
    )  # fmt: skip
    page = await sign_in()
    await page.goto(f"{dashboard_url}/settings")
    await page.locator("#open-access-lists").click()
    field = page.locator("#field-allowedEmails")
    await expect(field).to_have_value("first@example.com\nsecond@example.com")
    await field.fill("first@example.com\nsecond@example.com\nthird@example.com")
    await submit_form(page)
    lists = api.graphql("{ accessLists { allowedEmails adminEmails } }")["accessLists"]
    assert lists["allowedEmails"] == [
        "first@example.com", "second@example.com", "third@example.com",
    ]  # fmt: skip
    assert lists["adminEmails"] == ["boss@example.com"]
    await page.screenshot(path=screenshot_path("access_lists_kept"), full_page=True)


async def test_an_amount_pasted_with_separators_is_accepted(
    seeded: book.Book, sign_in: SignIn, api: Api, dashboard_url: str
) -> None:
    merchant = book.Book.merchant(9)
    page = await sign_in()
    await page.goto(f"{dashboard_url}/operations")
    await page.locator("#cmd-postPayin").click()
    await page.locator("#field-merchantId").fill(merchant)
    await page.locator("#field-amount").fill("1,000.00")
    await page.locator("#field-provider").fill("sandbox")
    await page.locator("#field-currency").click()
    await page.get_by_role("option", name="NGN", exact=True).click()
    card = await submit_form(page)
    await expect(card).to_have_class(SUCCESS)
    await expect(card).to_contain_text(f"merchants:{merchant}:NGN:available")
    await page.screenshot(path=screenshot_path("amount_with_separators"), full_page=True)


SUCCESS = re.compile(r"\bresult-success\b")


async def submit_form(page: Any) -> Any:
    form = page.locator("#command-form")
    before = int(await form.get_attribute("data-seq") or 0)
    await page.locator("#submit-command").click()
    await expect(form).to_have_attribute("data-seq", str(before + 1))
    return page.locator("#result-card")
