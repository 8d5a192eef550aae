"""Observability: Prometheus metrics, structured JSON logs with request context, optional
OpenTelemetry tracing. Nothing here connects or starts anything at import time."""
