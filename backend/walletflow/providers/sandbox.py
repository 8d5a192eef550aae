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
from enum import StrEnum
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
from walletflow.providers.port import MERCHANT_ID_PATTERN, PayoutRequest
from walletflow.providers.signing import (
    SIGNATURE_HEADER,
    request_signing_body,
    sign,
    verify,
)

log = logging.getLogger(__name__)

MAX_PAYOUTS = 100_000
MAX_SCRIPTS = 100_000
MAX_RULES = 1_000
MAX_PENDING_CALLBACKS = 10_000
MAX_DELIVERY_LOG = 1_000
MAX_BODY_BYTES = 64 * 1024
MAX_HANG_S = 120.0
MAX_DELAY_S = 3_600.0
MAX_UNKNOWN_COUNT = 1_000
MAX_CALLBACK_ATTEMPTS = 20
CALLBACK_TIMEOUT_S = 5.0
CALLBACK_BACKOFF_BASE_S = 0.2
CALLBACK_BACKOFF_CAP_S = 5.0
STATS_RECENT_LIMIT = 1_000
DEFAULT_REASON = "declined by sandbox"


class Behaviour(StrEnum):
    SUCCEED = "succeed"
    FAIL = "fail"
    REJECT = "reject"
    HANG = "hang"
    ERROR_500 = "error_500"
    UNKNOWN_THEN_SUCCEED = "unknown_then_succeed"
    UNKNOWN_THEN_FAIL = "unknown_then_fail"
    CALLBACK_LATER = "callback_later"


_SCRIPT_FIELDS = {
    "behaviour",
    "reason",
    "hang_s",
    "then",
    "hang_queries",
    "unknown_count",
    "unknown_as",
    "delay_s",
    "outcome",
}


@dataclass(frozen=True, slots=True)
class Script:
    behaviour: Behaviour = Behaviour.SUCCEED
    reason: str = DEFAULT_REASON
    hang_s: float = 30.0
    then: str = "succeeded"
    hang_queries: bool = False
    unknown_count: int = 2
    unknown_as: str = "error_500"
    delay_s: float = 1.0
    outcome: str = "succeeded"

    @classmethod
    def parse(cls, data: Any) -> Script:
        """Validate a script body; raise `ValidationError` naming the bad field."""
        if not isinstance(data, dict):
            raise ValidationError("a script must be an object", field_errors={"script": "object"})
        errors: dict[str, str] = {}
        for key in sorted(set(data) - _SCRIPT_FIELDS):
            errors[key] = "unknown field"
        values: dict[str, Any] = {}
        try:
            values["behaviour"] = Behaviour(str(data.get("behaviour")))
        except (ValueError, TypeError):
            errors["behaviour"] = f"must be one of {', '.join(b.value for b in Behaviour)}"
        if "reason" in data:
            if not isinstance(data["reason"], str) or not 0 < len(data["reason"]) <= 512:
                errors["reason"] = "must be a non-empty string of at most 512 characters"
            else:
                values["reason"] = data["reason"]
        for key, upper in (("hang_s", MAX_HANG_S), ("delay_s", MAX_DELAY_S)):
            if key in data:
                value = data[key]
                if isinstance(value, bool) or not isinstance(value, int | float):
                    errors[key] = "must be a number of seconds"
                elif not 0 <= value <= upper:
                    errors[key] = f"must be within [0, {upper:g}]"
                else:
                    values[key] = float(value)
        if "unknown_count" in data:
            value = data["unknown_count"]
            if isinstance(value, bool) or not isinstance(value, int):
                errors["unknown_count"] = "must be an integer"
            elif not 0 <= value <= MAX_UNKNOWN_COUNT:
                errors["unknown_count"] = f"must be within [0, {MAX_UNKNOWN_COUNT}]"
            else:
                values["unknown_count"] = value
        choices = {
            "then": ("succeeded", "failed", "pending"),
            "unknown_as": ("error_500", "pending"),
            "outcome": ("succeeded", "failed"),
        }
        for key, allowed in choices.items():
            if key in data:
                if data[key] not in allowed:
                    errors[key] = f"must be one of {', '.join(allowed)}"
                else:
                    values[key] = data[key]
        if "hang_queries" in data:
            if not isinstance(data["hang_queries"], bool):
                errors["hang_queries"] = "must be a boolean"
            else:
                values["hang_queries"] = data["hang_queries"]
        if errors:
            raise ValidationError("invalid script", field_errors=errors)
        return cls(**values)

    def to_json(self) -> dict[str, Any]:
        return {
            "behaviour": self.behaviour.value,
            "reason": self.reason,
            "hang_s": self.hang_s,
            "then": self.then,
            "hang_queries": self.hang_queries,
            "unknown_count": self.unknown_count,
            "unknown_as": self.unknown_as,
            "delay_s": self.delay_s,
            "outcome": self.outcome,
        }


@dataclass(frozen=True, slots=True)
class Rule:
    script: Script
    merchant_id: str | None = None
    amount_minor: int | None = None

    def matches(self, request: PayoutRequest) -> bool:
        return (self.merchant_id is None or self.merchant_id == request.merchant_id) and (
            self.amount_minor is None or self.amount_minor == request.amount_minor
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "merchant_id": self.merchant_id,
            "amount_minor": self.amount_minor,
            "script": self.script.to_json(),
        }


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
    default_script: Script = Script()
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
        if request.payout_id in self.scripts:
            return self.scripts[request.payout_id]
        for rule in self.rules:
            if rule.matches(request):
                return rule.script
        return self.default_script

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
        if script.behaviour is Behaviour.REJECT:
            return JSONResponse(
                {"error": {"code": "INVALID_DESTINATION", "message": script.reason}},
                status_code=422,
            )
        if script.behaviour is Behaviour.CALLBACK_LATER and len(self.tasks) >= (
            MAX_PENDING_CALLBACKS
        ):
            return JSONResponse(
                {"error": {"code": "UNAVAILABLE", "message": "too many pending callbacks"}},
                status_code=503,
            )
        status = _initial_status(script)
        payout = SandboxPayout(
            request=request,
            script=script,
            provider_reference=f"sbx_{uuid.uuid4().hex[:24]}",
            status=status,
            reason=script.reason if status == "failed" else None,
            created_at=_now_iso(),
        )
        self._store(payout)
        if script.behaviour is Behaviour.CALLBACK_LATER:
            task = asyncio.create_task(self._complete_later(payout))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)
        return await self._answer_submit(payout, first=True)

    async def _answer_submit(self, payout: SandboxPayout, *, first: bool) -> Response:
        script = payout.script
        behaviour = script.behaviour
        if behaviour is Behaviour.HANG:
            await asyncio.sleep(script.hang_s)
        if behaviour is Behaviour.ERROR_500:
            return _error_500()
        unknown_first = behaviour in (Behaviour.UNKNOWN_THEN_SUCCEED, Behaviour.UNKNOWN_THEN_FAIL)
        if unknown_first and payout.status == "pending":
            if script.unknown_as == "error_500":
                return _error_500()
            return JSONResponse(payout.wire(), status_code=202)
        status_code = 202 if payout.status == "pending" else (201 if first else 200)
        return JSONResponse(payout.wire(), status_code=status_code)

    async def query(self, payout_id: str) -> Response:
        payout = self.payouts.get(payout_id)
        if payout is None:
            error = NotFound(f"no payout {payout_id}")
            return JSONResponse({"error": error.to_dict()}, status_code=404)
        payout.queries += 1
        script = payout.script
        behaviour = script.behaviour
        if behaviour is Behaviour.HANG and script.hang_queries:
            await asyncio.sleep(script.hang_s)
        if behaviour is Behaviour.ERROR_500:
            return _error_500()
        if behaviour in (Behaviour.UNKNOWN_THEN_SUCCEED, Behaviour.UNKNOWN_THEN_FAIL):
            if payout.queries <= script.unknown_count:
                if script.unknown_as == "error_500":
                    return _error_500()
                return JSONResponse(payout.wire("pending"))
            if payout.status == "pending":
                final = "succeeded" if behaviour is Behaviour.UNKNOWN_THEN_SUCCEED else "failed"
                payout.status = final
                payout.reason = script.reason if final == "failed" else None
        return JSONResponse(payout.wire())

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
        payout.status = script.outcome
        payout.reason = script.reason if script.outcome == "failed" else None
        event_type = (
            ProviderEventType.PAYOUT_SUCCEEDED
            if script.outcome == "succeeded"
            else ProviderEventType.PAYOUT_FAILED
        )
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
                await asyncio.sleep(
                    min(CALLBACK_BACKOFF_CAP_S, CALLBACK_BACKOFF_BASE_S * 2**attempt)
                )
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


def _initial_status(script: Script) -> str:
    behaviour = script.behaviour
    if behaviour is Behaviour.SUCCEED:
        return "succeeded"
    if behaviour is Behaviour.FAIL:
        return "failed"
    if behaviour is Behaviour.HANG:
        return script.then
    return "pending"


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
            rail.add_rule(_rule(data))
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


def _rule(data: Any) -> Rule:
    if not isinstance(data, dict):
        raise ValidationError("a rule must be an object", field_errors={"body": "not object"})
    errors: dict[str, str] = {}
    merchant_id = data.get("merchant_id")
    amount_minor = data.get("amount_minor")
    if merchant_id is not None and (
        not isinstance(merchant_id, str) or not MERCHANT_ID_PATTERN.match(merchant_id)
    ):
        errors["merchant_id"] = "must be a merchant id"
    if amount_minor is not None and (
        isinstance(amount_minor, bool) or not isinstance(amount_minor, int) or amount_minor <= 0
    ):
        errors["amount_minor"] = "must be a positive integer"
    script: Script | None = None
    try:
        script = Script.parse(data.get("script"))
    except ValidationError as error:
        errors.update({f"script.{key}": reason for key, reason in error.field_errors.items()})
    if errors or script is None:
        raise ValidationError("invalid rule", field_errors=errors)
    return Rule(script=script, merchant_id=merchant_id, amount_minor=amount_minor)


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
