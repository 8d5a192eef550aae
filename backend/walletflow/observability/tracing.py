"""Optional OpenTelemetry tracing: off unless `TRACING_OTLP_ENDPOINT` is set.

When off, `span()` is a no-op context manager and OpenTelemetry is never imported (it is the
optional extra `walletflow[otel]`). When on, each process builds its own tracer provider
(`configure_tracing`) exporting over OTLP/HTTP in batches, and spans follow one request:

    HTTP server span (API middleware, W3C `traceparent` accepted from the caller)
      └ command <name> (the bus)
          └ ledger.<op> (the ledger port: post, revert)
          └ outbox: the command's events are written in its transaction; a job queued by a
            command stores the trace context in its row
    worker: job <kind> (a child of the command that queued it, in another process)

Tests pass an in-memory exporter to `configure_tracing(..., exporter=...)`.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator, Mapping
from typing import Any

log = logging.getLogger(__name__)

TRACEPARENT = "traceparent"


class _Tracing:
    """The process's tracer (None while tracing is off)."""

    tracer: Any = None
    provider: Any = None


_state = _Tracing()


def tracing_enabled() -> bool:
    return _state.tracer is not None


def configure_tracing(
    endpoint: str | None,
    service_name: str,
    *,
    sample_ratio: float = 1.0,
    exporter: Any = None,
) -> bool:
    """Turn tracing on for this process (an `endpoint`, or an `exporter` for tests); returns
    whether it is on. Without either, tracing stays off and nothing is imported."""
    if endpoint is None and exporter is None:
        return False
    assert 0.0 <= sample_ratio <= 1.0
    try:
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor
        from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased
    except ImportError:
        log.error(
            "TRACING_OTLP_ENDPOINT is set but OpenTelemetry is not installed "
            "(pip install 'walletflow[otel]'); tracing stays off"
        )
        return False
    provider = TracerProvider(
        resource=Resource.create({"service.name": service_name}),
        sampler=ParentBased(TraceIdRatioBased(sample_ratio)),
    )
    if exporter is not None:
        provider.add_span_processor(SimpleSpanProcessor(exporter))
    else:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
    shutdown_tracing()
    _state.provider = provider
    _state.tracer = provider.get_tracer("walletflow")
    log.info("tracing on: %s", endpoint or "in-process exporter")
    return True


def shutdown_tracing() -> None:
    """Flush and stop this process's provider (tracing is off afterwards)."""
    provider, _state.provider, _state.tracer = _state.provider, None, None
    if provider is not None:
        provider.shutdown()


@contextlib.contextmanager
def span(
    name: str,
    *,
    attributes: Mapping[str, str | int | float | bool] | None = None,
    parent: str | None = None,
    kind: str = "internal",
) -> Iterator[Any]:
    """A span named `name` under the current one (or under the W3C `parent` traceparent);
    yields the span, or None while tracing is off. An exception is recorded on the span."""
    tracer = _state.tracer
    if tracer is None:
        yield None
        return
    from opentelemetry import trace
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    context = None
    if parent is not None:
        context = TraceContextTextMapPropagator().extract({TRACEPARENT: parent})
    span_kind = {
        "server": trace.SpanKind.SERVER,
        "consumer": trace.SpanKind.CONSUMER,
        "client": trace.SpanKind.CLIENT,
    }.get(kind, trace.SpanKind.INTERNAL)
    with tracer.start_as_current_span(
        name, context=context, kind=span_kind, attributes=dict(attributes or {})
    ) as current:
        yield current


def current_traceparent() -> str | None:
    """The current span's W3C traceparent, to carry across a process boundary (job rows)."""
    if _state.tracer is None:
        return None
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    carrier: dict[str, str] = {}
    TraceContextTextMapPropagator().inject(carrier)
    return carrier.get(TRACEPARENT)


def incoming_traceparent(headers: Mapping[str, str]) -> str | None:
    value = headers.get(TRACEPARENT)
    return value if value and len(value) <= 128 else None


def set_attribute(current: Any, key: str, value: str | int | float | bool) -> None:
    if current is not None:
        current.set_attribute(key, value)


class TracedLedger:
    """The ledger port with a span around each write (only built while tracing is on)."""

    TRACED = frozenset({"post", "revert"})

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        found = getattr(self._inner, name)
        if name not in self.TRACED or not callable(found):
            return found

        async def traced(*args: Any, **kwargs: Any) -> Any:
            with span(f"ledger.{name}", attributes={"walletflow.ledger.op": name}):
                return await found(*args, **kwargs)

        return traced
