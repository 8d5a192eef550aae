"""Logs are one JSON object per line, each naming the request and the actor; a typed refusal
is an INFO line with its code and no trace, an unexpected failure an ERROR with the trace."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from walletflow.observability.context import (
    accept_request_id,
    actor_var,
    bind_actor,
    bind_request_id,
    request_id_var,
)
from walletflow.observability.logging import ContextFilter, JsonFormatter, log_refusal


@pytest.fixture
def captured() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(ContextFilter())
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("walletflow.test.logging")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    yield logger, stream
    logger.removeHandler(handler)


def lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_every_line_is_json_with_the_bound_request_id_and_actor(
    captured: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = captured
    request_token = bind_request_id("req-42")
    actor_token = bind_actor("token:admin")
    try:
        logger.info("paid %s", "once", extra={"command": "postPayin"})
    finally:
        request_id_var.reset(request_token)
        actor_var.reset(actor_token)
    logger.warning('outside a request: "quoted"\nand a newline')
    inside, outside = lines(stream)
    assert inside["message"] == "paid once" and inside["level"] == "INFO"
    assert (inside["request_id"], inside["actor"]) == ("req-42", "token:admin")
    assert inside["command"] == "postPayin" and inside["logger"] == "walletflow.test.logging"
    assert (outside["request_id"], outside["actor"]) == (None, "-")
    assert outside["message"] == 'outside a request: "quoted"\nand a newline'


def test_a_typed_refusal_is_info_with_its_code_and_no_trace(
    captured: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = captured
    log_refusal(logger, "FORBIDDEN", "analysts have read-only access", path="transfer")
    [line] = lines(stream)
    assert line["level"] == "INFO" and line["code"] == "FORBIDDEN"
    assert "error" not in line and "trace" not in json.dumps(line)


def test_an_unexpected_failure_is_error_with_the_trace(
    captured: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = captured
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        logger.exception("resolver failed")
    [line] = lines(stream)
    assert line["level"] == "ERROR"
    assert line["error"]["type"] == "RuntimeError" and line["error"]["message"] == "boom"
    assert 'raise RuntimeError("boom")' in line["error"]["trace"]


@pytest.mark.parametrize(
    ("offered", "kept"),
    [
        ("abc-123_x.y:z", True),
        ("", False),
        ("a" * 129, False),
        ("has space", False),
        ("inject\r\nx-evil: 1", False),
        (None, False),
    ],
)
def test_a_request_id_is_kept_only_when_well_formed(offered: str | None, kept: bool) -> None:
    accepted = accept_request_id(offered)
    assert (accepted == offered) is kept
    assert 1 <= len(accepted) <= 128


def test_configure_logging_installs_one_json_handler_however_often_it_runs() -> None:
    from walletflow.config import LogFormat
    from walletflow.observability.logging import configure_logging

    root = logging.getLogger()
    saved, level = list(root.handlers), root.level
    for handler in saved:
        root.removeHandler(handler)
    try:
        configure_logging("INFO", LogFormat.JSON)
        configure_logging("DEBUG", LogFormat.JSON)
        [ours] = root.handlers
        assert isinstance(ours.formatter, JsonFormatter) and root.level == logging.DEBUG
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in saved:
            root.addHandler(handler)
        root.setLevel(level)
