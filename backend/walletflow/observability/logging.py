"""Structured logs: one JSON object per line, each with the request id and the actor.

`configure_logging(level, LogFormat.JSON)` installs one stderr handler on the root logger whose
formatter writes `{"ts", "level", "logger", "message", "request_id", "actor", ...}` plus any
`extra={...}` fields a call passes, and `error: {"type", "message", "trace"}` when the record
carries an exception. Typed refusals (FORBIDDEN, VALIDATION_ERROR, …) are logged at INFO with
their code and no trace (see `log_refusal`); unexpected failures at ERROR with the trace.
`LogFormat.TEXT` writes the same events as readable lines for a terminal.
"""

from __future__ import annotations

import json
import logging
import sys
import traceback
from datetime import UTC, datetime
from typing import Any

from walletflow.config import LogFormat
from walletflow.observability.context import current_actor, current_request_id

# The attributes every LogRecord has; anything else on a record came from `extra=`.
_STANDARD_ATTRIBUTES = frozenset(
    logging.LogRecord("", 0, "", 0, "", (), None).__dict__.keys() | {"message", "asctime"}
)
MAX_MESSAGE_CHARS = 8_000
MAX_TRACE_CHARS = 16_000
QUIET_LOGGERS = {"alembic": logging.WARNING, "httpx": logging.WARNING}


class ContextFilter(logging.Filter):
    """Stamp `request_id` and `actor` from the context variables onto every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = current_request_id()
        if not hasattr(record, "actor"):
            record.actor = current_actor()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line; never raises on an odd `extra` value (it is stringified)."""

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        document: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": message[:MAX_MESSAGE_CHARS],
            "request_id": getattr(record, "request_id", None),
            "actor": getattr(record, "actor", None),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD_ATTRIBUTES and key not in document:
                document[key] = value
        if record.exc_info and record.exc_info[0] is not None:
            kind, error, trace = record.exc_info
            document["error"] = {
                "type": kind.__name__,
                "message": str(error)[:MAX_MESSAGE_CHARS],
                "trace": "".join(traceback.format_exception(kind, error, trace))[-MAX_TRACE_CHARS:],
            }
        elif record.stack_info:
            document["stack"] = record.stack_info[-MAX_TRACE_CHARS:]
        return json.dumps(document, default=str, ensure_ascii=False)


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s %(actor)s]: %(message)s"


_OURS = "_walletflow_handler"


def configure_logging(level: str = "INFO", log_format: LogFormat = LogFormat.JSON) -> None:
    """Install one stderr handler in `log_format` on the root logger (idempotent: it replaces
    its own earlier handler, never stacks). Like `logging.basicConfig`, it leaves a root logger
    that someone else already set up (a test runner's capture) alone, except for the level."""
    root = logging.getLogger()
    for existing in list(root.handlers):
        if getattr(existing, _OURS, False):
            root.removeHandler(existing)
    root.setLevel(level)
    for name, quiet_level in QUIET_LOGGERS.items():
        logging.getLogger(name).setLevel(max(quiet_level, logging.getLevelName(level)))
    # uvicorn's loggers write through the root handler (serve passes log_config=None).
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        uvicorn_logger = logging.getLogger(name)
        uvicorn_logger.handlers.clear()
        uvicorn_logger.propagate = True
    if root.handlers:
        return
    handler = logging.StreamHandler(sys.stderr)
    setattr(handler, _OURS, True)
    handler.addFilter(ContextFilter())
    if log_format is LogFormat.JSON:
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    root.addHandler(handler)


def log_refusal(logger: logging.Logger, code: str, message: str, **fields: Any) -> None:
    """A typed, expected refusal: INFO, its stable code, no stack trace."""
    logger.info("refused %s: %s", code, message, extra={"code": code, **fields})
