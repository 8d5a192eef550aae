"""`POST /webhooks/{provider}`: a provider tells walletflow a payout settled or failed, or a
pay-in arrived. HMAC-SHA256 over the raw body with the provider's secret and a timestamp
tolerance; a forged or stale signature is refused (401) before anything is parsed or written.
The event then runs its command once, forever (`service.webhooks`, deduplicated by
`(provider, provider_reference)`)."""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from walletflow.api.errors import error_response
from walletflow.api.state import api_state
from walletflow.db.errors import database_unavailable
from walletflow.domain.errors import ValidationError, WalletflowError
from walletflow.observability.context import bind_actor
from walletflow.providers.events import MAX_EVENT_BODY_BYTES, parse_provider_event
from walletflow.providers.signing import SIGNATURE_HEADER, verify
from walletflow.service.webhooks import handle_provider_event

log = logging.getLogger(__name__)


async def _bounded_body(request: Request) -> bytes:
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_EVENT_BODY_BYTES:
            raise ValidationError(
                f"webhook body larger than {MAX_EVENT_BODY_BYTES} bytes",
                field_errors={"body": "too large"},
            )
        chunks.append(chunk)
    return b"".join(chunks)


async def provider_webhook(request: Request) -> Response:
    state = api_state(request)
    provider = str(request.path_params["provider"])
    try:
        config = state.providers.config(provider)
        body = await _bounded_body(request)
        verify(config.secret, body, request.headers.get(SIGNATURE_HEADER), state.unix_now())
        bind_actor(f"provider:{provider}")
        event = parse_provider_event(body)
        container = state.container
        outcome = await handle_provider_event(
            container.bus, container.engine, container.clock, provider, event
        )
    except WalletflowError as error:
        log.info("webhook from %s refused: %s", provider[:64], error.code)
        return error_response(error)
    except Exception as error:
        unavailable = database_unavailable(error)
        if unavailable is None:
            raise
        log.warning("webhook from %s deferred: %s", provider[:64], unavailable.message)
        return error_response(unavailable)
    return JSONResponse({**outcome.body, "replayed": outcome.replayed})
