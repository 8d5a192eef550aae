"""The ops console in a real headless Chromium against the real API, PostgreSQL and Redis.

Every test signs in through the dashboard, works only through its pages, and saves a
screenshot under test-output/e2e/. Seeding goes through the API's GraphQL, as an operator would
script it.
"""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

import pytest
from playwright.async_api import expect

from tests.e2e.conftest import SignIn, screenshot_path
from tests.e2e.stack import Api

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

LIVE_TIMEOUT_MS = 30_000
STATEMENT_ATTEMPTS = 15
SUCCESS = re.compile(r"\bresult-success\b")
ERROR = re.compile(r"\bresult-error\b")
DESTINATION = {"bank": "058", "account": "0123456789"}


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def funded_merchant(api: Api, amount: str = "500.00") -> str:
    merchant = unique("m")
    api.run("createWallet", unique("k"), merchantId=merchant, currency="NGN")
    api.run(
        "postPayin",
        unique("k"),
        merchantId=merchant,
        currency="NGN",
        amount=amount,
        provider="sandbox",
    )
    return merchant


ROUTES = {"overview": "/"}


async def goto_nav(page: Any, name: str) -> None:
    """Client-side navigation through the nav (no page load); waits for the page's loaders."""
    await page.locator(f"#nav-{name}").click()
    await expect(page.locator("#page-title")).to_have_text(name.capitalize())
    route = ROUTES.get(name, f"/{name}")
    await expect(page.locator("#shell")).to_have_attribute("data-loaded", route)


async def open_command(page: Any, command: str) -> None:
    await goto_nav(page, "operations")
    await page.locator(f"#cmd-{command}").click()
    await page.locator("#command-form").wait_for()


async def fill(page: Any, **values: str) -> None:
    for name, value in values.items():
        await page.locator(f"#field-{name}").fill(value)


async def pick(page: Any, name: str, option: str) -> None:
    await page.locator(f"#field-{name}").click()
    await page.get_by_role("option", name=option, exact=True).click()


async def submit(page: Any) -> Any:
    """Submit the form; wait for this submission's result (the form counts its results)."""
    form = page.locator("#command-form")
    before = int(await form.get_attribute("data-seq") or 0)
    await page.locator("#submit-command").click()
    await expect(form).to_have_attribute("data-seq", str(before + 1))
    return page.locator("#result-card")


async def wait_live(page: Any) -> None:
    await expect(page.locator("#live-status")).to_have_text("live", timeout=LIVE_TIMEOUT_MS)


async def test_operator_signs_in_with_the_token_and_sees_the_console(
    sign_in: SignIn, new_page: Any, dashboard_url: str, api: Api
) -> None:
    signed_out = await new_page()
    await signed_out.goto(f"{dashboard_url}/payouts", wait_until="networkidle")
    await signed_out.locator("#sign-in-secret").wait_for()  # signed out: only sign-in
    assert await signed_out.locator("#nav-payouts").count() == 0
    await signed_out.locator("#sign-in-secret").fill("not-the-token-at-all")
    await signed_out.locator("#sign-in-submit").click()
    await expect(signed_out.locator("#sign-in-error")).to_contain_text("UNAUTHENTICATED")

    page = await sign_in()
    await expect(page.locator("#page-title")).to_have_text("Overview")
    await expect(page.locator("#role-badge")).to_have_text("admin")
    await wait_live(page)
    for name in ("wallets", "operations", "payouts", "ledger", "reconciliation", "controls"):
        await goto_nav(page, name)
        if name == "operations":  # one generated form per registry command, none hand-written
            registry = api.graphql("{ commands { name } }")["commands"]
            for command in registry:
                await expect(page.locator(f"#cmd-{command['name']}")).to_have_count(1)
        if name == "reconciliation":  # the five gates (suspense too), each green or red
            await expect(page.locator("#gates .gate-row")).to_have_count(5)
            await expect(page.locator("#books-foot")).to_have_text("books foot")
            await page.screenshot(path=screenshot_path("reconciliation_gates"), full_page=True)
    await goto_nav(page, "settings")
    await page.locator("#settings-admin").wait_for()
    await page.locator("#theme-toggle").click()  # dark
    await goto_nav(page, "overview")
    await page.screenshot(path=screenshot_path("sign_in_overview_dark"), full_page=True)

    await page.get_by_role("button", name="Sign out").click()
    await page.locator("#sign-in-secret").wait_for()
    await page.goto(f"{dashboard_url}/wallets", wait_until="networkidle")
    await page.locator("#sign-in-secret").wait_for()  # signed out again: back to sign-in
    assert await page.locator("#wallets-table").count() == 0


async def test_payin_shows_the_balance_and_updates_overview_and_wallets_live(
    sign_in: SignIn, api: Api
) -> None:
    merchant = unique("m")
    api.run("createWallet", unique("k"), merchantId=merchant, currency="NGN")

    overview = await sign_in()
    await wait_live(overview)
    wallets = await sign_in()
    await goto_nav(wallets, "wallets")
    row = wallets.locator(f"#wallet-{merchant}-NGN")
    await expect(row).to_contain_text("0.00")
    await wait_live(wallets)
    for page in (overview, wallets):  # a reload would lose this marker
        await page.evaluate("window.__e2eNoReload = 1")

    operator = await sign_in()
    await open_command(operator, "postPayin")
    await fill(operator, merchantId=merchant, amount="1500.25", fee="10", provider="sandbox")
    await pick(operator, "currency", "NGN")
    card = await submit(operator)
    await expect(card).to_have_class(SUCCESS, timeout=10_000)
    await expect(card).to_contain_text(f"merchants:{merchant}:NGN:available")
    await expect(card).to_contain_text("1,490.25")  # net of the fee, with NGN's 2 decimals
    reference = await operator.locator("#result-reference").inner_text()
    await operator.screenshot(path=screenshot_path("payin_green_card"), full_page=True)

    # No reload: the subscriptions push the new transaction and balances into both pages.
    await expect(row).to_contain_text("1,490.25", timeout=LIVE_TIMEOUT_MS)
    recent = overview.locator("#recent-transactions")
    await expect(recent).to_contain_text(reference, timeout=LIVE_TIMEOUT_MS)
    await expect(overview.locator("#posted-count")).not_to_have_text("0")
    for page in (overview, wallets):
        assert await page.evaluate("window.__e2eNoReload") == 1
    await overview.screenshot(path=screenshot_path("overview_live"), full_page=True)
    await wallets.screenshot(path=screenshot_path("wallets_live"), full_page=True)


async def test_reserved_payout_goes_to_manual_review_then_is_settled_from_the_queue(
    sign_in: SignIn, api: Api
) -> None:
    merchant = funded_merchant(api)
    payout_id = unique("po")
    watcher = await sign_in()  # another operator, watching the queue: it must update live
    await goto_nav(watcher, "payouts")
    await wait_live(watcher)
    await watcher.evaluate("window.__e2eNoReload = 1")
    watched = watcher.locator("#review-queue").locator(f"#hold-{payout_id}")

    page = await sign_in()
    await open_command(page, "reservePayout")
    await fill(
        page,
        merchantId=merchant,
        amount="120",
        provider="sandbox",
        destination=json.dumps(DESTINATION),
        payoutId=payout_id,
    )
    await pick(page, "currency", "NGN")
    card = await submit(page)
    await expect(card).to_have_class(SUCCESS)
    await expect(card).to_contain_text(f"merchants:{merchant}:NGN:holds:{payout_id}")

    await goto_nav(page, "payouts")
    hold = page.locator("#holds-table").locator(f"#hold-{payout_id}")
    await expect(hold).to_contain_text("Reserved")
    await hold.locator(".manual-review").click()
    await expect(page.locator("#field-payoutId")).to_have_value(payout_id)  # prefilled
    await fill(page, reason="provider answered neither way")
    card = await submit(page)
    await expect(card).to_have_class(SUCCESS)

    # The queue is a subscription: the watcher sees the hold arrive without a reload.
    await expect(watched).to_contain_text("Manual review", timeout=LIVE_TIMEOUT_MS)
    await watcher.screenshot(path=screenshot_path("manual_review_queue_live"), full_page=True)
    queued = page.locator("#review-queue").locator(f"#hold-{payout_id}")
    await queued.locator(".settle").click()
    await expect(page.locator("#form-title")).to_have_text("Settle payout")
    await expect(page.locator("#field-payoutId")).to_have_value(payout_id)
    card = await submit(page)
    await expect(card).to_have_class(SUCCESS)
    await expect(card).to_contain_text("providers:sandbox:NGN:settlement")
    await expect(queued).to_have_count(0)
    await expect(hold).to_contain_text("Settled")
    await page.screenshot(path=screenshot_path("payout_settled_from_queue"), full_page=True)
    await expect(watched).to_have_count(0, timeout=LIVE_TIMEOUT_MS)  # gone, live
    assert await watcher.evaluate("window.__e2eNoReload") == 1


async def test_overdraft_shows_a_red_card_with_the_exact_code_and_field_errors_inline(
    sign_in: SignIn, api: Api
) -> None:
    merchant = funded_merchant(api, amount="50.00")
    page = await sign_in()
    await open_command(page, "reservePayout")
    await fill(
        page,
        merchantId=merchant,
        amount="1000000",
        provider="sandbox",
        destination=json.dumps(DESTINATION),
    )
    await pick(page, "currency", "NGN")
    card = await submit(page)
    await expect(card).to_have_class(ERROR)
    await expect(page.locator("#result-code")).to_have_text("INSUFFICIENT_FUND")
    await page.screenshot(path=screenshot_path("insufficient_funds_red_card"), full_page=True)

    await fill(page, amount="12.345")  # NGN has 2 decimals
    card = await submit(page)
    await expect(card).to_have_class(ERROR)
    await expect(page.locator("#result-code")).to_have_text("FRACTIONAL_MINOR_UNIT")
    # Inline, under the amount input: the API's reason for that field.
    await expect(page.locator("#error-amount")).to_contain_text("more than 2 decimal places")
    await page.screenshot(path=screenshot_path("field_error_inline"), full_page=True)


async def test_submitting_the_same_form_twice_shows_the_first_result_replayed(
    sign_in: SignIn, api: Api
) -> None:
    merchant = unique("m")
    api.run("createWallet", unique("k"), merchantId=merchant, currency="UGX")
    page = await sign_in()
    await open_command(page, "postPayin")
    await fill(page, merchantId=merchant, amount="25000", provider="sandbox")
    await pick(page, "currency", "UGX")
    key = await page.locator("#form-key").inner_text()
    card = await submit(page)
    await expect(card).to_have_class(SUCCESS)
    await expect(page.locator("#replayed")).to_have_count(0)
    first_reference = await page.locator("#result-reference").inner_text()
    first_tx = await page.locator("#result-tx").inner_text()

    card = await submit(page)
    await expect(page.locator("#replayed")).to_be_visible()
    assert await page.locator("#result-reference").inner_text() == first_reference
    assert await page.locator("#result-tx").inner_text() == first_tx
    await expect(card).to_contain_text("25,000 UGX")  # scale 0: no decimals
    assert await page.locator("#form-key").inner_text() == key
    await page.screenshot(path=screenshot_path("replayed_same_result"), full_page=True)

    wallet = api_balance(api, merchant, "UGX")
    assert wallet == "25000"  # paid once


def api_balance(api: Api, merchant: str, currency: str) -> str:
    data = api.graphql(
        "query B($a: [String!]) { balances(accounts: $a) { balanceMinor } }",
        {"a": [f"merchants:{merchant}:{currency}:available"]},
    )
    return str(data["balances"][0]["balanceMinor"])


@pytest.mark.parametrize("role", ["merchant", "analyst"])
async def test_api_key_roles_are_kept_out_of_admin_pages(
    role: str, sign_in: SignIn, api: Api, dashboard_url: str
) -> None:
    merchant = funded_merchant(api) if role == "merchant" else None
    page = await sign_in(api.api_key(role, merchant))
    await expect(page.locator("#role-badge")).to_have_text(role)
    assert await page.locator("#nav-settings").count() == 0
    books_pages = 0 if role == "merchant" else 1  # a merchant sees only its own wallets
    assert await page.locator("#nav-ledger").count() == books_pages
    await goto_nav(page, "operations")
    assert await page.locator("#cmd-saveAccessLists").count() == 0
    assert await page.locator("#cmd-setFeatureFlag").count() == 0

    await page.goto(f"{dashboard_url}/settings", wait_until="networkidle")
    await expect(page.locator("#admin-only")).to_be_visible()
    assert await page.locator("#settings-admin").count() == 0
    await page.screenshot(path=screenshot_path(f"{role}_blocked_from_settings"), full_page=True)


async def test_wallet_created_on_the_wallets_page_shows_a_statement_with_before_and_after(
    sign_in: SignIn, api: Api
) -> None:
    merchant = unique("m")
    page = await sign_in()
    await goto_nav(page, "wallets")
    await page.locator("#open-create-wallet").click()
    await fill(page, merchantId=merchant)
    await pick(page, "currency", "KES")
    card = await submit(page)
    await expect(card).to_have_class(SUCCESS)
    row = page.locator(f"#wallet-{merchant}-KES")
    await expect(row).to_contain_text("0.00 KES")

    for amount in ("100.00", "250.50"):
        api.run(
            "postPayin", unique("k"), merchantId=merchant, currency="KES", amount=amount,
            provider="sandbox",
        )  # fmt: skip
    await expect(row).to_contain_text("350.50 KES", timeout=LIVE_TIMEOUT_MS)
    await row.locator(".id-link").first.click()  # the merchant's page, with its statement
    await expect(page.locator("#shell")).to_have_attribute(
        "data-loaded", "/merchant/[route_merchant]"
    )
    statement = page.locator("#statement-table")
    lines = statement.locator("tbody tr")
    for _ in range(STATEMENT_ATTEMPTS):  # the read model follows the ledger within seconds
        await page.locator(".merchant-wallet-row").get_by_role("button", name="Statement").click()
        await statement.wait_for()
        if await lines.count() == 2:
            break
        await page.wait_for_timeout(1000)
    await expect(lines).to_have_count(2)
    newest = lines.first
    for text in ("100.00 KES", "+250.50 KES", "350.50 KES"):  # before, change, after
        await expect(newest).to_contain_text(text)
    await page.screenshot(path=screenshot_path("wallet_statement"), full_page=True)


async def test_rebuilding_coa_and_templates_turns_the_coa_gate_green_live(
    sign_in: SignIn,
) -> None:
    watcher = await sign_in()
    await goto_nav(watcher, "reconciliation")
    await watcher.evaluate("window.__e2eNoReload = 1")
    gate = watcher.locator("#gate-coa_templates")
    await expect(gate).to_contain_text("RED")  # a fresh database: seeds not loaded yet

    page = await sign_in()
    await goto_nav(page, "ledger")
    for button in ("#open-rebuild-coa", "#open-rebuild-templates"):
        await page.locator(button).click()
        card = await submit(page)
        await expect(card).to_have_class(SUCCESS)
    await page.locator("#drift-check").click()
    await expect(page.locator("#drift-table").locator("..")).to_contain_text("no drift")

    await expect(gate).to_contain_text("GREEN", timeout=LIVE_TIMEOUT_MS)  # pushed, no reload
    assert await watcher.evaluate("window.__e2eNoReload") == 1
    await watcher.screenshot(path=screenshot_path("gates_green_live"), full_page=True)


async def test_fx_quote_then_book_the_deal_prefilled_from_the_quote(
    sign_in: SignIn, api: Api
) -> None:
    merchant = funded_merchant(api, amount="30000.00")
    api.run("createWallet", unique("k"), merchantId=merchant, currency="USD")
    api.run("setFxRate", unique("k"), baseCurrency="USD", quoteCurrency="NGN", rate="1500")
    page = await sign_in()
    await open_command(page, "fxQuote")
    await fill(page, merchantId=merchant, sellAmount="15000")
    await pick(page, "sellCurrency", "NGN")
    await pick(page, "buyCurrency", "USD")
    card = await submit(page)
    await expect(card).to_have_class(SUCCESS)
    quote_id = await page.locator("#result-reference").inner_text()

    await page.locator("#book-quote").click()
    await expect(page.locator("#form-title")).to_have_text("Book FX deal")
    await expect(page.locator("#field-quoteId")).to_have_value(quote_id)  # never typed
    await expect(page.locator("#field-merchantId")).to_have_value(merchant)
    card = await submit(page)
    await expect(card).to_have_class(SUCCESS)
    await expect(card).to_contain_text(f"merchants:{merchant}:USD:available")
    await expect(card).to_contain_text("10.00 USD")
    await page.screenshot(path=screenshot_path("fx_deal_booked"), full_page=True)


@pytest.mark.xfail(
    reason="known bug (open, issue 18 item 4): since the console and jobs work were merged, the "
    "background COA job is queued (the card shows it) but its row does not reach 'done' in the "
    "e2e stack; the job lifecycle itself passes in tests/integration/api/test_jobs.py",
    strict=False,
)
async def test_a_background_coa_rebuild_shows_as_a_job_whose_progress_fills_live(
    sign_in: SignIn,
) -> None:
    page = await sign_in()
    await goto_nav(page, "jobs")
    await page.evaluate("window.__e2eNoReload = 1")
    await page.locator("#open-job-coa").click()
    await page.locator("#field-background").click()
    card = await submit(page)
    await expect(card).to_have_class(SUCCESS)
    await expect(card).to_contain_text("coa.rebuild")
    row = page.locator(".job-row", has=page.locator(".job-kind", has_text="coa.rebuild"))
    # The worker runs it; the page follows it without a reload.
    await expect(row.locator(".job-state")).to_have_text("done", timeout=LIVE_TIMEOUT_MS)
    await expect(row.locator(".job-progress")).to_have_text("1 / 1")
    assert await page.evaluate("window.__e2eNoReload") == 1
    await page.screenshot(path=screenshot_path("jobs_progress"), full_page=True)
