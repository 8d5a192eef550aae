"""The sandbox payout rail: a real HTTP server that plays a provider, scripted per payout.

It speaks the wire protocol of `http_rail` (so `HttpRailProvider` talks to it unchanged) and adds
control endpoints (prefixed `_`) for tests and demos. State is in memory and bounded.

Rail endpoints (signed with `Walletflow-Signature` when the sandbox has a secret):
- `POST /payouts` — JSON `PayoutRequest`. Idempotent by `payout_id`: a second submit returns
  the existing payout, never a second one (a different body for the same id is 409).
- `GET /payouts/{payout_id}` — `{"payout_id", "provider_reference", "status", "reason", …}`.

Control endpoints (unsigned; it is a simulator):
- `POST /_scripts/{payout_id}` — script for that payout (body: a script, below);
- `POST /_default_script` — script for payouts nothing else matches;
- `POST /_rules` — `{"merchant_id": "m1", "amount_minor": 1313, "script": {…}}` (either
  matcher may be left out; first matching rule wins; per-payout script > rule > default);
- `POST /_payins` — send a signed `payin.received` webhook now: `{"merchant_id", "asset",
  "amount_minor", "fee_minor"?, "vat_minor"?, "provider_reference"?}`;
- `GET /_stats`, `GET /_payouts/{payout_id}` (full record), `POST /_reset`.

A script: `{"behaviour": B, …options}` with B one of
- `succeed`; `fail` (`reason`): answered 200 with the final status;
- `reject` (`reason`): 422 validation refusal, no payout is created;
- `hang` (`hang_s`, `then`, `hang_queries`): records the payout as `then` (default succeeded),
  then sleeps `hang_s` before answering each submit (and each query if `hang_queries`);
- `error_500`: every submit and query answers 500, forever;
- `unknown_then_succeed` / `unknown_then_fail` (`unknown_count`, `unknown_as`, `reason`):
  the submit and the first `unknown_count` queries answer `unknown_as` (`error_500` or
  `pending`), later queries the final status;
- `callback_later` (`delay_s`, `outcome`, `reason`): answered 202 pending; after `delay_s` the
  payout becomes `outcome` and a signed `payout.succeeded`/`payout.failed` webhook is POSTed to
  the request's `callback_url`, else to `{webhook_url}/webhooks/{name}`, with bounded retries.

What a script answers is decided by the pure functions of `sandbox_script` (unit-tested); this
module serves HTTP, keeps the state and does the waiting.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
from collections import OrderedDict, deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from walletflow.domain.errors import (
    IdempotencyKeyReused,
    InvalidSignature,
    NotFound,
    StaleSignature,
    ValidationError,
    WalletflowError,
)
from walletflow.providers.events import ProviderEvent, ProviderEventType, parse_provider_event
from walletflow.providers.port import PayoutRequest
from walletflow.providers.sandbox_script import (
    Answer,
    Behaviour,
    Rule,
    Script,
    callback_delay_s,
    callback_outcome,
    choose_script,
    initial_status,
    query_answer,
    reason_for,
    submit_answer,
    submit_refusal,
)
from walletflow.providers.signing import (
    SIGNATURE_HEADER,
    request_signing_body,
    sign,
    verify,
)

__all__ = [
    "MAX_CALLBACK_ATTEMPTS",
    "SandboxPayout",
    "SandboxRail",
    "SandboxSettings",
    "create_sandbox_app",
    "sandbox_settings",
]

log = logging.getLogger(__name__)

MAX_PAYOUTS = 100_000
MAX_SCRIPTS = 100_000
MAX_RULES = 1_000
MAX_DELIVERY_LOG = 1_000
MAX_BODY_BYTES = 64 * 1024
MAX_CALLBACK_ATTEMPTS = 20
CALLBACK_TIMEOUT_S = 5.0
STATS_RECENT_LIMIT = 1_000


@dataclass(slots=True)
class SandboxPayout:
    request: PayoutRequest
    script: Script
    provider_reference: str
    status: str
    reason: str | None = None
    queries: int = 0
    created_at: str = ""
    callback: dict[str, Any] = field(default_factory=dict)

    def wire(self, status: str | None = None) -> dict[str, Any]:
        shown = status or self.status
        return {
            "payout_id": self.request.payout_id,
            "provider_reference": self.provider_reference,
            "status": shown,
            "reason": self.reason if shown == "failed" else None,
            "merchant_id": self.request.merchant_id,
            "asset": self.request.asset,
            "amount_minor": self.request.amount_minor,
        }


@dataclass(frozen=True, slots=True)
class SandboxSettings:
    name: str = "sandbox"
    secret: str | None = None
    webhook_url: str | None = None
    default_script: Script = field(default_factory=Script)
    callback_attempts: int = 5
    signature_tolerance_s: float = 300.0

    def __post_init__(self) -> None:
        assert 1 <= self.callback_attempts <= MAX_CALLBACK_ATTEMPTS


def _now_iso() -> str:
    return datetime.now(UTC).isoformat()


class SandboxRail:
    """The simulator's state and behaviour, independent of HTTP routing."""

    def __init__(self, settings: SandboxSettings, clock: Callable[[], float] = time.time) -> None:
        self.settings = settings
        self.clock = clock
        self.client: httpx.AsyncClient | None = None
        self.tasks: set[asyncio.Task[None]] = set()
        self.reset()

    def reset(self) -> None:
        for task in self.tasks:
            task.cancel()
        self.tasks = set()
        self.payouts: OrderedDict[str, SandboxPayout] = OrderedDict()
        self.submissions: OrderedDict[str, int] = OrderedDict()
        self.scripts: OrderedDict[str, Script] = OrderedDict()
        self.rules: list[Rule] = []
        self.default_script = self.settings.default_script
        self.deliveries: deque[dict[str, Any]] = deque(maxlen=MAX_DELIVERY_LOG)

    # --- scripting ----------------------------------------------------------------------------
    def set_script(self, payout_id: str, script: Script) -> None:
        self.scripts[payout_id] = script
        self.scripts.move_to_end(payout_id)
        while len(self.scripts) > MAX_SCRIPTS:
            self.scripts.popitem(last=False)

    def add_rule(self, rule: Rule) -> None:
        if len(self.rules) >= MAX_RULES:
            raise ValidationError("too many rules", field_errors={"rules": f"max {MAX_RULES}"})
        self.rules.append(rule)

    def script_for(self, request: PayoutRequest) -> Script:
        return choose_script(request, self.scripts, self.rules, self.default_script)

    # --- the rail -----------------------------------------------------------------------------
    def _count_submission(self, payout_id: str) -> int:
        count = self.submissions.get(payout_id, 0) + 1
        self.submissions[payout_id] = count
        self.submissions.move_to_end(payout_id)
        while len(self.submissions) > MAX_PAYOUTS:
            self.submissions.popitem(last=False)
        return count

    def _store(self, payout: SandboxPayout) -> None:
        self.payouts[payout.request.payout_id] = payout
        while len(self.payouts) > MAX_PAYOUTS:
            self.payouts.popitem(last=False)

    async def submit(self, request: PayoutRequest) -> Response:
        self._count_submission(request.payout_id)
        existing = self.payouts.get(request.payout_id)
        if existing is not None:
            if existing.request != request:
                error = IdempotencyKeyReused(
                    f"payout {request.payout_id} was submitted before with another body"
                )
                return JSONResponse({"error": error.to_dict()}, status_code=409)
            return await self._answer_submit(existing, first=False)
        script = self.script_for(request)
        refusal = submit_refusal(script, pending_callbacks=len(self.tasks))
        if refusal is not None:
            return JSONResponse(
                {"error": {"code": refusal.code, "message": refusal.message}},
                status_code=refusal.status_code,
            )
        status = initial_status(script)
        payout = SandboxPayout(
            request=request,
            script=script,
            provider_reference=f"sbx_{uuid.uuid4().hex[:24]}",
            status=status,
            reason=reason_for(status, script),
            created_at=_now_iso(),
        )
        self._store(payout)
        if script.behaviour is Behaviour.CALLBACK_LATER:
            task = asyncio.create_task(self._complete_later(payout))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)
        return await self._answer_submit(payout, first=True)

    async def _answer_submit(self, payout: SandboxPayout, *, first: bool) -> Response:
        return await _answer(payout, submit_answer(payout.script, payout.status, first=first))

    async def query(self, payout_id: str) -> Response:
        payout = self.payouts.get(payout_id)
        if payout is None:
            error = NotFound(f"no payout {payout_id}")
            return JSONResponse({"error": error.to_dict()}, status_code=404)
        payout.queries += 1
        return await _answer(
            payout, query_answer(payout.script, payout.status, queries=payout.queries)
        )

    # --- webhooks -----------------------------------------------------------------------------
    def webhook_target(self, callback_url: str | None) -> str | None:
        if callback_url:
            return callback_url
        if self.settings.webhook_url:
            return f"{self.settings.webhook_url.rstrip('/')}/webhooks/{self.settings.name}"
        return None

    async def _complete_later(self, payout: SandboxPayout) -> None:
        script = payout.script
        await asyncio.sleep(script.delay_s)
        payout.status, event_type = callback_outcome(script)
        payout.reason = reason_for(payout.status, script)
        event = ProviderEvent(
            event_id=f"evt_{uuid.uuid4().hex}",
            event_type=event_type,
            provider_reference=payout.provider_reference,
            asset=payout.request.asset,
            amount_minor=payout.request.amount_minor,
            occurred_at=datetime.now(UTC),
            payout_id=payout.request.payout_id,
            merchant_id=payout.request.merchant_id,
            reason=payout.reason,
        )
        payout.callback = await self.deliver(
            event, self.webhook_target(payout.request.callback_url)
        )

    async def deliver(self, event: ProviderEvent, url: str | None) -> dict[str, Any]:
        """POST one signed event, retrying a bounded number of times with capped backoff."""
        record: dict[str, Any] = {
            "event_id": event.event_id,
            "type": event.event_type.value,
            "url": url,
            "attempts": 0,
            "delivered": False,
            "last_status": None,
            "last_error": None,
        }
        self.deliveries.append(record)
        if url is None:
            record["last_error"] = "no webhook target (no callback_url and no --webhook-url)"
            return record
        assert self.client is not None, "the sandbox app's lifespan opens the client"
        body = event.to_bytes()
        for attempt in range(self.settings.callback_attempts):
            record["attempts"] = attempt + 1
            headers = {"Content-Type": "application/json"}
            if self.settings.secret:
                headers[SIGNATURE_HEADER] = sign(self.settings.secret, body, int(self.clock()))
            try:
                response = await self.client.post(
                    url, content=body, headers=headers, timeout=CALLBACK_TIMEOUT_S
                )
                record["last_status"] = response.status_code
                if 200 <= response.status_code < 300:
                    record["delivered"] = True
                    return record
            except httpx.HTTPError as error:
                record["last_error"] = f"{type(error).__name__}: {error}"
            if attempt + 1 < self.settings.callback_attempts:
                await asyncio.sleep(callback_delay_s(attempt))
        log.warning("webhook %s to %s not delivered: %s", event.event_id, url, record)
        return record

    def stats(self) -> dict[str, Any]:
        recent = list(self.submissions.items())[-STATS_RECENT_LIMIT:]
        return {
            "name": self.settings.name,
            "payouts_total": len(self.payouts),
            "submissions_total": sum(self.submissions.values()),
            "submissions": dict(recent),
            "statuses": {
                pid: p.status for pid, p in list(self.payouts.items())[-STATS_RECENT_LIMIT:]
            },
            "pending_callbacks": len(self.tasks),
            "deliveries": list(self.deliveries),
            "default_script": self.default_script.to_json(),
            "scripts_total": len(self.scripts),
            "rules": [rule.to_json() for rule in self.rules],
        }

    async def aclose(self) -> None:
        tasks = list(self.tasks)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self.client is not None:
            await self.client.aclose()
            self.client = None


async def _answer(payout: SandboxPayout, answer: Answer) -> Response:
    """Carry out a scripted answer: wait, record the payout's new status, respond."""
    if answer.delay_s is not None:
        await asyncio.sleep(answer.delay_s)
    if answer.becomes is not None:
        payout.status = answer.becomes
        payout.reason = reason_for(answer.becomes, payout.script)
    if answer.is_server_error:
        return _error_500()
    return JSONResponse(payout.wire(answer.shown_status), status_code=answer.status_code)


def _error_500() -> Response:
    return JSONResponse(
        {"error": {"code": "INTERNAL", "message": "sandbox scripted a server error"}},
        status_code=500,
    )


def _error(error: WalletflowError, status_code: int) -> Response:
    return JSONResponse({"error": error.to_dict()}, status_code=status_code)


async def _json_body(request: Request) -> tuple[bytes, Any]:
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        raise ValidationError("body too large", field_errors={"body": "too large"})
    try:
        return body, json.loads(body) if body else None
    except ValueError:
        raise ValidationError("body is not JSON", field_errors={"body": "not JSON"}) from None


def _payout_request(data: Any) -> PayoutRequest:
    if not isinstance(data, dict):
        raise ValidationError("body must be an object", field_errors={"body": "not an object"})
    errors = {
        name: "is required"
        for name in ("payout_id", "merchant_id", "asset", "amount_minor", "destination")
        if name not in data
    }
    if errors:
        raise ValidationError("invalid payout", field_errors=errors)
    try:
        return PayoutRequest(
            payout_id=data["payout_id"],
            merchant_id=data["merchant_id"],
            asset=data["asset"],
            amount_minor=data["amount_minor"],
            destination=data["destination"],
            callback_url=data.get("callback_url"),
        )
    except (TypeError, AttributeError):
        raise ValidationError(
            "invalid payout", field_errors={"body": "fields have the wrong types"}
        ) from None


def create_sandbox_app(
    settings: SandboxSettings, clock: Callable[[], float] = time.time
) -> Starlette:
    """The sandbox rail as a Starlette app; `app.state.rail` is its `SandboxRail`."""
    rail = SandboxRail(settings, clock)

    def check_signature(request: Request, body: bytes) -> None:
        if not settings.secret:
            return
        verify(
            settings.secret,
            request_signing_body(request.method, request.url.path, body),
            request.headers.get(SIGNATURE_HEADER),
            rail.clock(),
            settings.signature_tolerance_s,
        )

    async def submit_payout(request: Request) -> Response:
        try:
            body, data = await _json_body(request)
            check_signature(request, body)
            payout_request = _payout_request(data)
        except (InvalidSignature, StaleSignature) as error:
            return _error(error, 401)
        except ValidationError as error:
            return _error(error, 422)
        return await rail.submit(payout_request)

    async def get_payout(request: Request) -> Response:
        try:
            check_signature(request, b"")
        except (InvalidSignature, StaleSignature) as error:
            return _error(error, 401)
        return await rail.query(request.path_params["payout_id"])

    async def set_script(request: Request) -> Response:
        try:
            _, data = await _json_body(request)
            script = Script.parse(data)
        except ValidationError as error:
            return _error(error, 422)
        payout_id = request.path_params["payout_id"]
        rail.set_script(payout_id, script)
        already = payout_id in rail.payouts
        return JSONResponse(
            {"payout_id": payout_id, "script": script.to_json(), "already_submitted": already}
        )

    async def set_default_script(request: Request) -> Response:
        try:
            _, data = await _json_body(request)
            rail.default_script = Script.parse(data)
        except ValidationError as error:
            return _error(error, 422)
        return JSONResponse({"default_script": rail.default_script.to_json()})

    async def add_rule(request: Request) -> Response:
        try:
            _, data = await _json_body(request)
            rail.add_rule(Rule.parse(data))
        except ValidationError as error:
            return _error(error, 422)
        return JSONResponse({"rules": [rule.to_json() for rule in rail.rules]})

    async def send_payin(request: Request) -> Response:
        try:
            _, data = await _json_body(request)
            event = _payin_event(data)
        except ValidationError as error:
            return _error(error, 422)
        delivery = await rail.deliver(event, rail.webhook_target(None))
        return JSONResponse({"event": event.to_json(), "delivery": delivery})

    async def payout_detail(request: Request) -> Response:
        payout_id = request.path_params["payout_id"]
        payout = rail.payouts.get(payout_id)
        if payout is None:
            return _error(NotFound(f"no payout {payout_id}"), 404)
        return JSONResponse(
            {
                **payout.wire(),
                "submissions": rail.submissions.get(payout_id, 0),
                "queries": payout.queries,
                "script": payout.script.to_json(),
                "created_at": payout.created_at,
                "callback": payout.callback,
                "destination": payout.request.destination,
            }
        )

    async def stats(request: Request) -> Response:
        return JSONResponse(rail.stats())

    async def reset(request: Request) -> Response:
        rail.reset()
        return JSONResponse({"reset": True})

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        rail.client = httpx.AsyncClient()
        try:
            yield
        finally:
            await rail.aclose()

    app = Starlette(
        routes=[
            Route("/payouts", submit_payout, methods=["POST"]),
            Route("/payouts/{payout_id}", get_payout, methods=["GET"]),
            Route("/_scripts/{payout_id}", set_script, methods=["POST"]),
            Route("/_default_script", set_default_script, methods=["POST"]),
            Route("/_rules", add_rule, methods=["POST"]),
            Route("/_payins", send_payin, methods=["POST"]),
            Route("/_payouts/{payout_id}", payout_detail, methods=["GET"]),
            Route("/_stats", stats, methods=["GET"]),
            Route("/_reset", reset, methods=["POST"]),
        ],
        lifespan=lifespan,
    )
    app.state.rail = rail
    return app


def _payin_event(data: Any) -> ProviderEvent:
    if not isinstance(data, dict):
        raise ValidationError("a pay-in must be an object", field_errors={"body": "not object"})
    body = {
        "event_id": f"evt_{uuid.uuid4().hex}",
        "type": ProviderEventType.PAYIN_RECEIVED.value,
        "provider_reference": data.get("provider_reference") or f"sbx_{uuid.uuid4().hex[:24]}",
        "merchant_id": data.get("merchant_id"),
        "asset": data.get("asset"),
        "amount_minor": data.get("amount_minor"),
        "occurred_at": _now_iso(),
    }
    for key in ("fee_minor", "vat_minor"):
        if data.get(key) is not None:
            body[key] = data[key]
    return parse_provider_event(json.dumps(body).encode())


def sandbox_settings(
    *,
    name: str,
    secret: str | None,
    webhook_url: str | None,
    default_behaviour: str,
    callback_attempts: int = 5,
) -> SandboxSettings:
    """Settings from CLI-style values; raise `ValidationError` for a bad behaviour."""
    default_script = Script.parse({"behaviour": default_behaviour})
    return replace(
        SandboxSettings(),
        name=name,
        secret=secret or None,
        webhook_url=webhook_url or None,
        default_script=default_script,
        callback_attempts=callback_attempts,
    )
