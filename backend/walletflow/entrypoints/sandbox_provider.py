"""`walletflow sandbox-provider`: run the scriptable sandbox payout rail."""

from __future__ import annotations

import argparse
import logging
import os
from typing import Any

from walletflow.config import ConfigError
from walletflow.domain.errors import ValidationError

log = logging.getLogger(__name__)

DEFAULT_PORT = 8100
# The sandbox's secret in seeds/providers.json, so a demo works with no flags (dev only).
DEV_SECRET = "sandbox-dev-secret-not-for-production"
GRACEFUL_SHUTDOWN_S = 5

DESCRIPTION = """\
Run a real HTTP server that plays a payout rail, for tests and demos. It speaks the protocol of
walletflow's HTTP rail adapter (POST /payouts, GET /payouts/{payout_id}), is idempotent by
payout_id, and can be scripted per payout, by merchant/amount rule, or by default:

  succeed | fail | reject | hang | error_500 | unknown_then_succeed | unknown_then_fail |
  callback_later

Control endpoints (unsigned; keep the sandbox on localhost):
  POST /_scripts/{payout_id}   {"behaviour": "fail", "reason": "account closed"}
  POST /_default_script        {"behaviour": "callback_later", "delay_s": 2, "outcome": "failed"}
  POST /_rules                 {"merchant_id": "m1", "amount_minor": 1313, "script": {...}}
  POST /_payins                {"merchant_id": "m1", "asset": "NGN/2", "amount_minor": 10000}
  GET  /_stats   GET /_payouts/{payout_id}   POST /_reset

callback_later (and /_payins) POST a signed webhook (Walletflow-Signature: t=...,v1=...) to
the payout's callback_url, else to WEBHOOK_URL/webhooks/NAME, retrying a bounded number of times.
State is in memory and bounded; a restart forgets everything.
"""

EPILOG = """\
example:
  walletflow sandbox-provider --secret "$SANDBOX_PROVIDER_SECRET" \\
      --webhook-url http://127.0.0.1:8000 --default-behaviour succeed
  curl -X POST localhost:8100/_scripts/po_42 -d '{"behaviour": "unknown_then_succeed", \\
      "unknown_count": 3}'
"""


def add_parser(subparsers: Any) -> None:
    from walletflow.providers.sandbox_script import Behaviour

    parser = subparsers.add_parser(
        "sandbox-provider",
        help="run the scriptable sandbox payout rail (real HTTP server) for tests and demos",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--host", default="127.0.0.1", help="bind address (default %(default)s)")
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help="bind port (default %(default)s)"
    )
    parser.add_argument(
        "--name",
        default="sandbox",
        help="provider name: webhooks go to WEBHOOK_URL/webhooks/NAME (default %(default)s)",
    )
    parser.add_argument(
        "--secret",
        default=None,
        help="HMAC secret shared with walletflow (verifies our requests, signs webhooks); "
        "default $SANDBOX_PROVIDER_SECRET, else the dev secret of seeds/providers.json; "
        "--secret '' disables verification and sends webhooks unsigned",
    )
    parser.add_argument(
        "--webhook-url",
        default="http://127.0.0.1:8000",
        help="walletflow API base URL for webhooks (default %(default)s)",
    )
    parser.add_argument(
        "--default-behaviour",
        choices=[b.value for b in Behaviour],
        default=Behaviour.SUCCEED.value,
        help="behaviour of payouts no script or rule matches (default %(default)s)",
    )
    parser.add_argument(
        "--callback-attempts",
        type=int,
        default=5,
        help="webhook delivery attempts before giving up, 1-20 (default %(default)s)",
    )
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    import uvicorn

    from walletflow.providers.sandbox import (
        MAX_CALLBACK_ATTEMPTS,
        create_sandbox_app,
        sandbox_settings,
    )

    if not 1 <= args.callback_attempts <= MAX_CALLBACK_ATTEMPTS:
        raise ConfigError("--callback-attempts", f"must be within [1, {MAX_CALLBACK_ATTEMPTS}]")
    if not 0 < args.port < 65536:
        raise ConfigError("--port", "must be within [1, 65535]")
    try:
        secret = args.secret
        if secret is None:
            secret = os.environ.get("SANDBOX_PROVIDER_SECRET") or DEV_SECRET
        settings = sandbox_settings(
            name=args.name,
            secret=secret,
            webhook_url=args.webhook_url,
            default_behaviour=args.default_behaviour,
            callback_attempts=args.callback_attempts,
        )
    except ValidationError as error:
        raise ConfigError("--default-behaviour", f"{error.field_errors}") from None
    if not settings.secret:
        log.warning("sandbox-provider has no secret: requests are not verified, webhooks unsigned")
    log.info(
        "sandbox rail %r on http://%s:%s, webhooks to %s, default behaviour %s",
        settings.name,
        args.host,
        args.port,
        settings.webhook_url,
        settings.default_script.behaviour.value,
    )
    uvicorn.run(
        create_sandbox_app(settings),
        host=args.host,
        port=args.port,
        log_level="info",
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
    )
    return 0
