"""`ProviderPort` over HTTP (httpx): the adapter for every JSON payout rail we speak to.

Wire protocol (the sandbox rail implements it):

- `POST {base_url}/payouts` with the `PayoutRequest` as JSON, headers `Idempotency-Key:
  <payout_id>` and `Walletflow-Signature` (see `signing`, over method + path + body);
- `GET {base_url}/payouts/{payout_id}`, signed the same way over an empty body;
- a 2xx answer is `{"payout_id", "status": "succeeded"|"failed"|"pending",
  "provider_reference", "reason"}`.

How answers become outcomes (DESIGN rule 6, never move money on a guess):

| answer                                    | submit                  | query                   |
|-------------------------------------------|-------------------------|-------------------------|
| 2xx with a well-formed body               | its status              | its status              |
| 2xx unparsable / for another payout_id    | UNKNOWN                 | UNKNOWN                 |
| 400 / 422 (request refused as invalid)    | FAILED, reason given    | UNKNOWN                 |
| 404                                       | UNKNOWN                 | UNKNOWN (NOT_FOUND_…)   |
| 409 (payout_id reused with another body)  | UNKNOWN                 | UNKNOWN                 |
| any other 4xx (401, 403, 408, 429, …)     | UNKNOWN                 | UNKNOWN                 |
| 5xx, timeout, connection error            | UNKNOWN                 | UNKNOWN                 |

Only a definitive "no" is FAILED. A query's 404 stays UNKNOWN: for a payout we submitted, "not
found" after a timeout may be a submit still in flight or provider lag; the saga may resubmit
(safe: the payout_id is the provider's idempotency key) and requery, and sends the payout to
manual review when its budget is spent. A 401/403 is our misconfiguration, not the payout's
fate, so it is UNKNOWN too (it ends in manual review, where a person fixes the secret).

One HTTP call per method, bounded by the provider's `timeout_s`; no retry loop here: the payout
saga owns retries and backoff.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import httpx

from walletflow.providers.config import ProviderConfig
from walletflow.providers.port import (
    OutcomeStatus,
    PayoutRequest,
    ProviderOutcome,
    asset_currency,
)
from walletflow.providers.signing import SIGNATURE_HEADER, request_signing_body, sign

# Reasons carried by UNKNOWN / FAILED outcomes produced here (stable strings the saga may test).
REASON_TIMEOUT = "TIMEOUT"
REASON_TRANSPORT_ERROR = "TRANSPORT_ERROR"
REASON_PROVIDER_ERROR = "PROVIDER_5XX"
REASON_UNPARSABLE = "UNPARSABLE_ANSWER"
REASON_NOT_FOUND = "NOT_FOUND_AT_PROVIDER"
REASON_IDEMPOTENCY_CONFLICT = "IDEMPOTENCY_CONFLICT"
REASON_UNEXPECTED_STATUS = "UNEXPECTED_HTTP_STATUS"
REASON_CURRENCY_NOT_SUPPORTED = "CURRENCY_NOT_SUPPORTED"
REASON_REJECTED = "REJECTED"
REASON_FAILED_WITHOUT_REASON = "FAILED_WITHOUT_REASON"

MAX_ANSWER_BYTES = 1024 * 1024
MAX_REASON_LENGTH = 1024
_WIRE_STATUSES = {
    "succeeded": OutcomeStatus.SUCCEEDED,
    "failed": OutcomeStatus.FAILED,
    "pending": OutcomeStatus.PENDING,
}


class HttpRailProvider:
    """A payout rail reached over HTTP. Pass a shared `client` to pool connections across rails;
    otherwise this object owns one (close it with `aclose()` or `async with`)."""

    def __init__(
        self,
        config: ProviderConfig,
        client: httpx.AsyncClient | None = None,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self._owns_client = client is None
        self._client = client if client is not None else httpx.AsyncClient()
        self._clock = clock
        self._timeout = httpx.Timeout(config.timeout_s)
        self._base_url = config.base_url.rstrip("/")

    async def __aenter__(self) -> HttpRailProvider:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._owns_client:
            await self._client.aclose()

    async def submit_payout(self, request: PayoutRequest) -> ProviderOutcome:
        currency = asset_currency(request.asset)
        if not self.config.supports(currency):
            # Nothing was sent, so nothing can have been paid: a definitive refusal.
            return ProviderOutcome(
                OutcomeStatus.FAILED,
                reason=f"{REASON_CURRENCY_NOT_SUPPORTED}: {self.config.name} does not pay "
                f"out {currency}",
                raw={"provider": self.config.name, "currency": currency},
            )
        body = json.dumps(request.to_json(), separators=(",", ":"), sort_keys=True).encode()
        response = await self._send(
            "POST", "/payouts", body, extra_headers={"Idempotency-Key": request.payout_id}
        )
        if isinstance(response, ProviderOutcome):
            return response
        if response.status_code in (400, 422):
            answer = _json_or_none(response)
            return ProviderOutcome(
                OutcomeStatus.FAILED,
                reason=f"{REASON_REJECTED}: {_error_message(answer, response)}",
                raw=_raw(response, answer),
            )
        return _outcome_from_response(response, request.payout_id)

    async def query_payout(self, payout_id: str) -> ProviderOutcome:
        path = f"/payouts/{quote(payout_id, safe='')}"
        response = await self._send("GET", path, b"")
        if isinstance(response, ProviderOutcome):
            return response
        if response.status_code == 404:
            return ProviderOutcome.unknown(REASON_NOT_FOUND, _raw(response, None))
        return _outcome_from_response(response, payout_id)

    async def _send(
        self,
        method: str,
        path: str,
        body: bytes,
        *,
        extra_headers: dict[str, str] | None = None,
    ) -> httpx.Response | ProviderOutcome:
        url = httpx.URL(self._base_url + path)
        timestamp = int(self._clock())
        signature = sign(
            self.config.secret, request_signing_body(method, url.path, body), timestamp
        )
        headers = {SIGNATURE_HEADER: signature, **(extra_headers or {})}
        if body:
            headers["Content-Type"] = "application/json"
        try:
            return await self._client.request(
                method, url, content=body, headers=headers, timeout=self._timeout
            )
        except httpx.TimeoutException as error:
            return ProviderOutcome.unknown(REASON_TIMEOUT, _raw_error(error, method, url))
        except httpx.TransportError as error:
            return ProviderOutcome.unknown(
                f"{REASON_TRANSPORT_ERROR}: {type(error).__name__}",
                _raw_error(error, method, url),
            )
        except httpx.HTTPError as error:
            return ProviderOutcome.unknown(
                f"{REASON_TRANSPORT_ERROR}: {type(error).__name__}",
                _raw_error(error, method, url),
            )


def _raw_error(error: Exception, method: str, url: httpx.URL) -> dict[str, Any]:
    return {
        "error": type(error).__name__,
        "detail": str(error)[:MAX_REASON_LENGTH],
        "request": f"{method} {url}",
    }


def _json_or_none(response: httpx.Response) -> Any:
    if len(response.content) > MAX_ANSWER_BYTES:
        return None
    try:
        return response.json()
    except ValueError:
        return None


def _raw(response: httpx.Response, answer: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {"http_status": response.status_code}
    if answer is not None:
        raw["body"] = answer
    else:
        raw["text"] = response.text[:MAX_REASON_LENGTH] if response.content else ""
    return raw


def _error_message(answer: Any, response: httpx.Response) -> str:
    if isinstance(answer, dict):
        error = answer.get("error")
        if isinstance(error, dict):
            code, message = error.get("code"), error.get("message")
            text = ": ".join(str(part) for part in (code, message) if part)
            if text:
                return text[:MAX_REASON_LENGTH]
        if isinstance(answer.get("reason"), str):
            return str(answer["reason"])[:MAX_REASON_LENGTH]
    return f"HTTP {response.status_code}"


def _outcome_from_response(response: httpx.Response, payout_id: str) -> ProviderOutcome:
    status_code = response.status_code
    if 200 <= status_code < 300:
        answer = _json_or_none(response)
        return _outcome_from_answer(answer, payout_id, _raw(response, answer))
    answer = _json_or_none(response)
    raw = _raw(response, answer)
    if status_code >= 500:
        return ProviderOutcome.unknown(f"{REASON_PROVIDER_ERROR}: HTTP {status_code}", raw)
    if status_code == 409:
        return ProviderOutcome.unknown(
            f"{REASON_IDEMPOTENCY_CONFLICT}: {_error_message(answer, response)}", raw
        )
    return ProviderOutcome.unknown(f"{REASON_UNEXPECTED_STATUS}: HTTP {status_code}", raw)


def _outcome_from_answer(answer: Any, payout_id: str, raw: dict[str, Any]) -> ProviderOutcome:
    if not isinstance(answer, dict):
        return ProviderOutcome.unknown(f"{REASON_UNPARSABLE}: not a JSON object", raw)
    wire_status = answer.get("status")
    status = _WIRE_STATUSES.get(wire_status) if isinstance(wire_status, str) else None
    if status is None:
        return ProviderOutcome.unknown(f"{REASON_UNPARSABLE}: status {answer.get('status')!r}", raw)
    if answer.get("payout_id", payout_id) != payout_id:
        return ProviderOutcome.unknown(
            f"{REASON_UNPARSABLE}: answer is for payout {answer.get('payout_id')!r}", raw
        )
    reference = answer.get("provider_reference")
    if reference is not None and not isinstance(reference, str):
        return ProviderOutcome.unknown(f"{REASON_UNPARSABLE}: provider_reference", raw)
    reason = answer.get("reason")
    reason = str(reason)[:MAX_REASON_LENGTH] if reason is not None else None
    if status is OutcomeStatus.FAILED and not reason:
        reason = REASON_FAILED_WITHOUT_REASON
    return ProviderOutcome(status, reference, reason, raw)
