"""The dashboard state: who is signed in, what the pages show, and the live feed.

Credentials live in backend-only vars (`_…`): they never reach the browser. Page data is
fetched over GraphQL (`data.py`, typed results); the live feed is one background task per
signed-in client that follows the API's subscriptions and pushes every result into the state.
The state never imports the app (`presence.py` says which tabs are connected).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

import reflex as rx

from walletflow_dashboard import commands, data, documents, live, paging, presence
from walletflow_dashboard.api import ApiError, Credential, Me, api_url, auth_status, me, sign_in
from walletflow_dashboard.commands import CommandGroup, grouped
from walletflow_dashboard.formatting import fields_text, now_stamp
from walletflow_dashboard.paging import Pager

log = logging.getLogger(__name__)

SIGN_IN_ROUTE = "/signin"
MAX_RECENT = 20
MAX_EVENTS = 50
LIVE_MAX_LIFETIME_S = 12 * 60 * 60  # the API session's lifetime
LIVE_BACKOFF_S = (1.0, 2.0, 5.0, 10.0)
LIVE_QUEUE_MAX = 100  # results waiting to be applied; the reader waits when it is full
LIVE_IDLE_CHECK_S = 5.0  # how often a quiet feed checks that its browser tab is still there
LIVE_ORPHAN_GRACE_S = 20.0  # a feed whose tab is gone this long stops (the next load restarts it)
GATES_ROUTES = ("/", "/reconciliation")  # the pages that show the gates
ADMIN = "admin"
PAGED_TABLES = {"wallets": "_refresh_wallets", "holds": "_refresh_holds", "queue": "_refresh_queue"}
"""The shared tables `next_page`/`prev_page`/`set_page_size` move, and how each reloads."""
STAFF = ("admin", "operator")


class AppState(rx.State):
    """Auth + the data every page shares + the live feed."""

    # --- auth -------------------------------------------------------------------------------
    signed_in: bool = False
    role: str = ""
    subject: str = ""
    merchant_id: str = ""
    open_dev: bool = False
    google_sign_in: bool = False
    google_login_url: str = ""
    sign_in_error: str = ""
    signing_in: bool = False
    _credential_kind: str = ""
    _credential_secret: str = ""
    _commands: list[dict[str, Any]] = []

    # --- shared data ------------------------------------------------------------------------
    command_groups: list[CommandGroup] = []
    wallets: list[data.WalletRow] = []
    wallet_filter: str = ""
    recent: list[data.TxRow] = []
    posted_count: int = 0
    failed_count: str = "—"
    outbox_pending: int = 0
    outbox_age: str = "—"
    queue: list[data.HoldRow] = []
    queue_pager: Pager = Pager()
    wallets_pager: Pager = Pager()
    holds_pager: Pager = Pager()
    failures_hour: list[data.FailureRow] = []
    failures_day: list[data.FailureRow] = []
    search_text: str = ""
    gates: list[data.GateRow] = []
    gates_note: str = ""
    drift_count: str = "—"
    template_mismatches: int = 0
    events: list[data.TxRow] = []
    events_filter: str = ""
    flags: data.Table = data.Table()
    hold_state: str = "any"
    hold_merchant: str = ""
    hold_older_than_s: str = ""
    holds: list[data.HoldRow] = []
    error: str = ""

    # --- live feed --------------------------------------------------------------------------
    loaded_route: str = ""
    live_status: str = "offline"
    live_error: str = ""
    live_updates: int = 0
    last_update: str = ""
    _live_running: bool = False
    _gates_running: bool = False
    _route: str = ""
    _live_generation: int = 0

    @rx.var
    def is_admin(self) -> bool:
        return self.role == ADMIN

    @rx.var
    def events_view(self) -> list[data.TxRow]:
        """The live event log, by type prefix (e.g. `payout.`, `provider.`, `outbox.`)."""
        wanted = self.events_filter.strip()
        return [e for e in self.events if e.reference.startswith(wanted)] if wanted else self.events

    def set_events_filter(self, value: str) -> None:
        self.events_filter = value

    @rx.var
    def red_gates(self) -> list[data.GateRow]:
        return [g for g in self.gates if not g.ok]

    @rx.var
    def failed_hour_total(self) -> int:
        return sum(f.count for f in self.failures_hour)

    @rx.var
    def failed_day_total(self) -> int:
        return sum(f.count for f in self.failures_day)

    @rx.var
    def queue_overdue(self) -> int:
        return sum(1 for h in self.queue if h.overdue)

    @rx.var
    def is_merchant(self) -> bool:
        return self.role == "merchant"

    @rx.var
    def is_staff(self) -> bool:
        return self.role in STAFF

    def credential(self) -> Credential:
        return Credential(self._credential_kind, self._credential_secret)

    # --- sign-in ----------------------------------------------------------------------------
    async def load_sign_in(self) -> Any:
        if self.signed_in:
            return rx.redirect("/")
        self.google_login_url = f"{api_url()}/auth/google/login"
        try:
            status = await auth_status()
        except Exception as error:  # the API is down: say so on the sign-in page
            self.sign_in_error = f"API unreachable at {api_url()}: {type(error).__name__}"
            return None
        self.open_dev = status.open_dev
        self.google_sign_in = status.google_sign_in
        return None

    async def submit_sign_in(self, form: dict[str, Any] | None = None) -> Any:
        secret = str((form or {}).get("secret") or "")
        self.signing_in = True
        self.sign_in_error = ""
        yield
        try:
            credential, me = await sign_in(secret)
        except ApiError as error:
            self.sign_in_error = f"{error.code}: {error.message}"
            self.signing_in = False
            return
        except Exception as error:
            self.sign_in_error = f"API unreachable: {type(error).__name__}"
            self.signing_in = False
            return
        try:
            await self._signed_in_as(credential, me)
        except ApiError as error:  # signed in, but the registry could not be read
            self.sign_out()
            self.sign_in_error = f"{error.code}: {error.message}"
            self.signing_in = False
            return
        self.signing_in = False
        yield rx.redirect("/")

    async def continue_open_dev(self) -> Any:
        """Dev with no auth configured: the API is open and says so."""
        try:
            status = await auth_status()
        except Exception as error:
            self.sign_in_error = f"API unreachable: {type(error).__name__}"
            return None
        if not status.open_dev:
            self.sign_in_error = "the API requires sign-in"
            return None
        try:
            await self._signed_in_as(Credential("open", ""), status)
        except ApiError as error:
            self.sign_out()
            self.sign_in_error = f"{error.code}: {error.message}"
            return None
        return rx.redirect("/")

    async def _signed_in_as(self, credential: Credential, me: Me) -> None:
        self._credential_kind = credential.kind
        self._credential_secret = credential.secret
        self.role = me.role
        self.subject = me.subject
        self.merchant_id = me.merchant_id
        self.signed_in = True
        self._live_generation += 1
        self._live_running = False
        self._gates_running = False
        await self._load_registry()

    async def _load_registry(self) -> None:
        self._commands = await commands.registry(self.credential())
        self.command_groups = grouped(self._commands)

    def sign_out(self) -> Any:
        self.signed_in = False
        self.role = ""
        self._credential_kind = ""
        self._credential_secret = ""
        self._live_generation += 1
        self._live_running = False
        self._gates_running = False
        self.live_status = "offline"
        return rx.redirect(SIGN_IN_ROUTE)

    # --- the guard every page runs on load --------------------------------------------------
    async def guard(self) -> Any:
        if not self.signed_in:
            return rx.redirect(SIGN_IN_ROUTE)
        self.error = ""
        try:
            who = await me(self.credential())
        except ApiError as error:
            if error.code == "UNAUTHENTICATED":  # expired, revoked, or taken off the allowlist
                self.sign_in_error = f"{error.code}: {error.message}"
                return self.sign_out()
            self.error = f"{error.code}: {error.message}"
        else:
            self.role = who.role
        if not self._live_running:
            self._live_running = True
            return AppState.follow_live
        return None

    def page_loaded(self, route: str) -> None:
        self.loaded_route = route
        self._route = route

    # --- loaders ----------------------------------------------------------------------------
    async def load_overview(self) -> None:
        if not self.signed_in:
            return
        await self._refresh_overview()

    async def _refresh_overview(self) -> None:
        credential = self.credential()
        self.error = ""
        try:
            self.recent = await data.recent_transactions(credential, MAX_RECENT)
            if self.is_staff or self.role == "analyst":
                self.outbox_pending, self.outbox_age = await data.outbox(credential)
                await self._refresh_queue()
                _, self.template_mismatches = await data.templates(credential)
                self.failures_hour, self.failures_day = await data.failures(credential)
        except ApiError as error:
            self.error = f"{error.code}: {error.message}"
        await self._refresh_gates()

    async def _refresh_gates(self) -> None:
        if self.role == "merchant":
            return  # books-wide: staff and analysts only
        credential = self.credential()
        try:
            self.gates = await data.gates(credential)
            self.gates_note = ""
        except ApiError as error:
            self.gates = []
            self.gates_note = f"{error.code}: {error.message}"
        try:
            self.drift_count = str(len(await data.coa_drift(credential)))
        except ApiError as error:
            self.drift_count = f"{error.code}: {error.message}"
        try:
            stats = await data.command_stats(credential)
            self.failed_count = f"{stats.failed} (posted {stats.posted})"
        except ApiError as error:
            self.failed_count = f"{error.code}: {error.message}"

    async def set_wallet_filter(self, value: str) -> None:
        """As you type: the first page of the merchants whose id starts with it."""
        self.wallet_filter = value
        self.wallets_pager = paging.first_page(self.wallets_pager)
        await self.load_wallets()

    async def load_wallets(self) -> None:
        if not self.signed_in:
            return
        try:
            await self._refresh_wallets()
            self.error = ""
        except ApiError as error:
            self.error = f"wallets: {error.code}: {error.message}"

    async def _refresh_wallets(self) -> None:
        pager = self.wallets_pager
        rows, meta = await data.wallets(
            self.credential(), self.wallet_filter.strip(), pager.size, pager.after
        )
        self.wallets = rows
        self.wallets_pager = paging.shown(pager, len(rows), meta)
        self.last_update = now_stamp()

    def set_hold_state(self, value: str) -> Any:
        self.hold_state = value
        self.holds_pager = paging.first_page(self.holds_pager)
        return AppState.load_holds

    def set_hold_merchant(self, value: str) -> None:
        self.hold_merchant = value

    def set_hold_older_than_s(self, value: str) -> None:
        self.hold_older_than_s = value

    def apply_hold_filters(self) -> Any:
        self.holds_pager = paging.first_page(self.holds_pager)
        return AppState.load_holds

    async def load_holds(self) -> None:
        if not self.signed_in:
            return
        try:
            await self._refresh_holds()
            await self._refresh_queue()
            self.error = ""
        except ApiError as error:
            self.error = f"holds: {error.code}: {error.message}"

    async def _refresh_holds(self) -> None:
        pager = self.holds_pager
        rows, meta = await data.holds(
            self.credential(),
            "" if self.hold_state == "any" else self.hold_state,
            self.hold_merchant.strip(),
            self.hold_older_than_s,
            pager.size,
            pager.after,
        )
        self.holds = rows
        self.holds_pager = paging.shown(pager, len(rows), meta)

    async def _refresh_queue(self) -> None:
        pager = self.queue_pager
        rows, meta = await data.manual_review_queue(self.credential(), pager.size, pager.after)
        self.queue = rows
        self.queue_pager = paging.shown(pager, len(rows), meta)

    # --- paging: one set of handlers for the shared tables ------------------------------------
    async def _reload(self, table: str) -> None:
        try:
            await getattr(self, PAGED_TABLES[table])()
            self.error = ""
        except ApiError as error:
            self.error = f"{table}: {error.code}: {error.message}"

    async def next_page(self, table: str) -> None:
        setattr(self, f"{table}_pager", paging.forward(getattr(self, f"{table}_pager")))
        await self._reload(table)

    async def prev_page(self, table: str) -> None:
        setattr(self, f"{table}_pager", paging.back(getattr(self, f"{table}_pager")))
        await self._reload(table)

    async def set_page_size(self, table: str, size: str) -> None:
        pager = paging.first_page(getattr(self, f"{table}_pager"), int(size))
        setattr(self, f"{table}_pager", pager)
        await self._reload(table)

    # --- CSV exports: every page, through the cursors --------------------------------------
    async def export_table(self, table: str) -> Any:
        from walletflow_dashboard import export

        credential = self.credential()
        try:
            if table == "wallets":
                text = await export.wallets_csv(credential, self.wallet_filter.strip())
            elif table == "holds":
                state = "" if self.hold_state == "any" else self.hold_state
                text = await export.holds_csv(
                    credential, state, self.hold_merchant.strip(), self.hold_older_than_s
                )
            else:
                text = await export.queue_csv(credential)
        except ApiError as error:
            self.error = f"{table} export: {error.code}: {error.message}"
            return None
        return rx.download(data=text, filename=f"walletflow-{table}.csv")

    # --- global search ------------------------------------------------------------------------
    def set_search_text(self, value: str) -> None:
        self.search_text = value

    def submit_search(self, form: dict[str, Any] | None = None) -> Any:
        text = str((form or {}).get("q") or self.search_text).strip()
        if not text:
            return None
        from urllib.parse import quote

        return rx.redirect(f"/search?q={quote(text)}")

    async def _refresh_flags(self) -> None:
        self.flags = await data.feature_flags(self.credential())

    async def after_command(self) -> None:
        """A command succeeded: refresh what it may have changed (the live feed follows)."""
        with contextlib.suppress(ApiError):
            await self._refresh_wallets()
            if self.role != "merchant":
                await self._refresh_holds()
                await self._refresh_queue()

    # --- live -------------------------------------------------------------------------------
    def _subscriptions(self) -> dict[str, str]:
        subs = {
            "transactions": documents.TRANSACTIONS_SUBSCRIPTION,
            "events": documents.EVENTS_SUBSCRIPTION,
        }
        if self.role != "merchant":
            subs["outboxAge"] = documents.OUTBOX_SUBSCRIPTION
            subs["manualReviewQueue"] = documents.MANUAL_REVIEW_QUEUE_SUBSCRIPTION
        return subs

    def _gates_subscription(self) -> dict[str, str]:
        if self.role == "merchant":
            return {}  # books-wide: staff and analysts only
        return {"gates": documents.GATES_SUBSCRIPTION}

    def watch_gates(self, route: str) -> Any:
        """On the pages that show the gates: follow them live while the page is open (the API
        re-runs the gates for each subscriber, so nobody else subscribes)."""
        self._route = route
        if self.signed_in and not self._gates_running and self._gates_subscription():
            self._gates_running = True
            return AppState.follow_gates
        return None

    @rx.event(background=True)
    async def follow_live(self) -> None:
        """Transactions, events, outbox age, the manual-review queue: until sign-out, the
        session's end, or the browser tab is gone for a while."""
        await self._follow("core")

    @rx.event(background=True)
    async def follow_gates(self) -> None:
        """The gates: while a page showing them is open."""
        await self._follow("gates")

    def _feed_wanted(self, kind: str, generation: int) -> bool:
        if generation != self._live_generation:
            return False
        return kind == "core" or self._route in GATES_ROUTES

    def _feed_stopped(self, kind: str) -> None:
        if kind == "core":
            self._live_running = False
            self.live_status = "offline"
        else:
            self._gates_running = False

    async def _follow(self, kind: str) -> None:
        """One feed: reconnect with a bounded backoff; stop when no longer wanted."""
        async with self:
            generation = self._live_generation
            credential = self.credential()
            subscriptions = self._subscriptions() if kind == "core" else self._gates_subscription()
            client_token = self.router.session.client_token
        started = time.monotonic()
        last_seen = time.monotonic()
        failures = 0
        while time.monotonic() - started < LIVE_MAX_LIFETIME_S:
            try:
                async with self:
                    if not self._feed_wanted(kind, generation):
                        self._feed_stopped(kind)
                        return
                    if kind == "core":
                        self.live_status = "connecting"
                queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue(LIVE_QUEUE_MAX)
                reader = asyncio.create_task(live.pump(credential, subscriptions, queue))
                try:
                    while True:
                        getter = asyncio.ensure_future(queue.get())
                        done, _ = await asyncio.wait(
                            {getter, reader},
                            timeout=LIVE_IDLE_CHECK_S,
                            return_when=asyncio.FIRST_COMPLETED,
                        )
                        if getter in done:
                            name, value = getter.result()
                        else:
                            getter.cancel()
                            name, value = "", None
                        if reader.done() and not name and queue.empty():
                            reader.result()  # re-raise why the feed ended; reconnect below
                            break
                        connected = presence.tab_connected(client_token)
                        if connected:
                            last_seen = time.monotonic()
                        orphaned = time.monotonic() - last_seen > LIVE_ORPHAN_GRACE_S
                        if not connected and not orphaned:
                            # The tab is gone (for now): nothing to show, so no state change and
                            # no delta for Reflex to send to a disconnected client.
                            continue
                        async with self:
                            if orphaned or not self._feed_wanted(kind, generation):
                                if generation == self._live_generation:
                                    self._feed_stopped(kind)
                                log.info("%s feed stops (tab gone: %s)", kind, orphaned)
                                return
                            failures = 0
                            if kind == "core":
                                self.live_status = "live"
                            if name and name != live.CONNECTED:
                                await self._apply_live(name, value)
                finally:
                    reader.cancel()
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await reader
            except Exception as error:  # the API restarted, the network blinked: reconnect
                log.info("%s feed dropped: %s", kind, error)
                async with self:
                    self.live_error = f"{type(error).__name__}: {error}"
            async with self:
                if generation != self._live_generation:
                    return
                if kind == "core":
                    self.live_status = "reconnecting"
            await asyncio.sleep(LIVE_BACKOFF_S[min(failures, len(LIVE_BACKOFF_S) - 1)])
            failures += 1
        async with self:
            if generation == self._live_generation:
                self._feed_stopped(kind)

    async def _apply_live(self, name: str, value: Any) -> None:
        self.live_updates += 1
        self.last_update = now_stamp()
        if name == "transactions":
            row = data.transaction_update(value)
            self.recent = [row, *[r for r in self.recent if r.tx_id != row.tx_id]][:MAX_RECENT]
            self.posted_count += 1
            if self._route == "/wallets":
                with contextlib.suppress(ApiError):
                    await self._refresh_wallets()
            if not self._gates_running and self._route in GATES_ROUTES:
                await self._refresh_gates()  # no gates feed: re-run them on new money
        elif name == "outboxAge":
            self.outbox_pending, self.outbox_age = data.outbox_update(value)
        elif name == "manualReviewQueue":
            with contextlib.suppress(ApiError):
                await self._refresh_queue()  # the page shown, with the API's total
        elif name == "gates":
            self.gates = data.gates_update(value)
            self.gates_note = ""
        elif name == "events":
            event = data.event_update(value)
            with contextlib.suppress(ApiError):
                if event.type.startswith("payout.") and self.role != "merchant":
                    await self._refresh_holds()
                elif event.type.startswith("flag."):
                    await self._refresh_flags()
            row = data.TxRow(
                tx_id=event.event_id[:12],
                reference=event.type,
                effective_at=now_stamp(),
                summary=fields_text(event.payload),
            )
            self.events = [row, *self.events][:MAX_EVENTS]
        elif name == "error":
            self.live_error = str(value)
