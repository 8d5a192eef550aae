"""Every setting of walletflow, read from the environment in one typed place.

A bad value stops start-up with one readable line naming the setting (`ConfigError`), never a
traceback: the CLI prints `str(error)` and exits 2.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum, StrEnum
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlparse

DEFAULT_API_PORT = 8000
DEFAULT_DASHBOARD_PORT = 3000
DEFAULT_DASHBOARD_BACKEND_PORT = 8001
DEFAULT_WORKER_METRICS_PORT = 9100
MAX_PORT = 65535

E = TypeVar("E", bound=Enum)


class ConfigError(Exception):
    """A setting has a bad value; the message is one line that names the setting."""

    def __init__(self, setting: str, problem: str) -> None:
        self.setting = setting
        self.problem = problem
        super().__init__(f"{setting}: {problem}")


class Environment(StrEnum):
    DEV = "dev"
    PRODUCTION = "production"


class LedgerBackend(StrEnum):
    POSTGRES = "postgres"
    FORMANCE = "formance"


class FlagMode(StrEnum):
    # fail_open: a scope transacts unless explicitly disabled.
    FAIL_OPEN = "fail_open"
    # fail_closed: only explicitly enabled scopes transact.
    FAIL_CLOSED = "fail_closed"


class LogFormat(StrEnum):
    # json: one JSON object per line, with request_id and actor (for log pipelines).
    JSON = "json"
    # text: one human-readable line per event (for a terminal).
    TEXT = "text"


class CompletionGating(StrEnum):
    # record: saga completions (settle/release) record even while a scope is disabled.
    RECORD = "record"
    # gate: a hard freeze, completions wait too.
    GATE = "gate"


@dataclass(frozen=True)
class Settings:
    env: Environment = Environment.DEV
    database_url: str | None = None
    redis_url: str | None = None
    data_dir: Path = field(default_factory=lambda: default_data_dir({}))
    host: str = "127.0.0.1"
    port: int = DEFAULT_API_PORT
    public_api_url: str | None = None
    dashboard_port: int = DEFAULT_DASHBOARD_PORT
    dashboard_backend_port: int = DEFAULT_DASHBOARD_BACKEND_PORT
    auth_token: str | None = None
    session_secret: str | None = None
    google_client_id: str | None = None
    google_client_secret: str | None = None
    ops_allowed_emails: frozenset[str] = frozenset()
    ops_admin_emails: frozenset[str] = frozenset()
    core_wallet_flag_mode: FlagMode = FlagMode.FAIL_OPEN
    core_wallet_completion_gating: CompletionGating = CompletionGating.RECORD
    ledger_backend: LedgerBackend = LedgerBackend.POSTGRES
    formance_url: str | None = None
    formance_ledger: str = "walletflow"
    graphql_introspection: bool = True
    """Default: on in dev, off when ENV=production."""
    graphql_max_depth: int = 12
    graphql_max_cost: int = 5000
    graphql_max_document_bytes: int = 16 * 1024
    graphql_max_nodes: int = 1000
    graphql_max_aliases: int = 50
    graphql_max_mutations: int = 1
    graphql_timeout_s: int = 20
    graphql_ws_max_connections: int = 16
    """Per principal and API process."""
    graphql_ws_max_subscriptions: int = 32
    """Per principal and API process, over all its connections."""
    max_body_bytes: int = 256 * 1024
    rate_limit_requests_per_min: int = 600
    """Per principal; 0 turns the limit off. Staff get STAFF_RATE_LIMIT_FACTOR times it."""
    rate_limit_money_per_min: int = 60
    """Money commands per principal per minute; 0 turns the limit off."""
    suspense_max_age_days: int = 3
    """The suspense gate is red while an open suspense item is older than this."""
    log_level: str = "INFO"
    log_format: LogFormat = LogFormat.JSON
    cors_allowed_origins: tuple[str, ...] = ()
    """Browser origins allowed to call the API cross-origin; empty: every one refused."""
    metrics_token: str | None = None
    """When set, `/metrics` (API and worker) needs `Authorization: Bearer <token>`."""
    worker_metrics_host: str = "127.0.0.1"
    worker_metrics_port: int = DEFAULT_WORKER_METRICS_PORT
    """0: the worker serves no metrics."""
    prometheus_multiproc_dir: Path | None = None
    """Where `serve --workers N` keeps its processes' metric files (a fresh temp dir if unset)."""
    tracing_otlp_endpoint: str | None = None
    """OTLP/HTTP traces endpoint (`http://collector:4318/v1/traces`); tracing is off when unset."""
    tracing_sample_ratio: float = 1.0

    @property
    def is_production(self) -> bool:
        return self.env is Environment.PRODUCTION

    @property
    def auth_configured(self) -> bool:
        return bool(self.auth_token) or bool(self.google_client_id and self.google_client_secret)

    @property
    def api_url(self) -> str:
        return self.public_api_url or f"http://{self.host}:{self.port}"


def default_data_dir(environ: Mapping[str, str]) -> Path:
    """The user's state folder (XDG), where embedded PostgreSQL and Redis keep their data."""
    state_home = environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state_home) / "walletflow"


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read and validate every setting; raise `ConfigError` on the first bad one."""
    env = os.environ if environ is None else environ
    get = _Reader(env)
    environment = get.choice("ENV", Environment, Environment.DEV)
    settings = Settings(
        env=environment,
        database_url=get.url("DATABASE_URL", {"postgresql", "postgres", "postgresql+asyncpg"}),
        redis_url=get.url("REDIS_URL", {"redis", "rediss", "unix"}),
        data_dir=Path(get.text("WALLETFLOW_DATA_DIR") or default_data_dir(env)),
        host=get.text("HOST") or "127.0.0.1",
        port=get.port("PORT", DEFAULT_API_PORT),
        public_api_url=get.url("PUBLIC_API_URL", {"http", "https"}),
        dashboard_port=get.port("DASHBOARD_PORT", DEFAULT_DASHBOARD_PORT),
        dashboard_backend_port=get.port("DASHBOARD_BACKEND_PORT", DEFAULT_DASHBOARD_BACKEND_PORT),
        auth_token=get.text("AUTH_TOKEN"),
        session_secret=get.text("SESSION_SECRET"),
        google_client_id=get.text("GOOGLE_CLIENT_ID"),
        google_client_secret=get.text("GOOGLE_CLIENT_SECRET"),
        ops_allowed_emails=get.emails("OPS_ALLOWED_EMAILS"),
        ops_admin_emails=get.emails("OPS_ADMIN_EMAILS"),
        core_wallet_flag_mode=get.choice("CORE_WALLET_FLAG_MODE", FlagMode, FlagMode.FAIL_OPEN),
        core_wallet_completion_gating=get.choice(
            "CORE_WALLET_COMPLETION_GATING", CompletionGating, CompletionGating.RECORD
        ),
        ledger_backend=get.choice("LEDGER_BACKEND", LedgerBackend, LedgerBackend.POSTGRES),
        formance_url=get.url("FORMANCE_URL", {"http", "https"}),
        formance_ledger=get.text("FORMANCE_LEDGER") or "walletflow",
        graphql_introspection=get.boolean(
            "GRAPHQL_INTROSPECTION", environment is not Environment.PRODUCTION
        ),
        graphql_max_depth=get.bounded_int("GRAPHQL_MAX_DEPTH", 12, 2, 64),
        graphql_max_cost=get.bounded_int("GRAPHQL_MAX_COST", 5000, 10, 1_000_000),
        graphql_max_document_bytes=get.bounded_int(
            "GRAPHQL_MAX_DOCUMENT_BYTES", 16 * 1024, 256, 1024 * 1024
        ),
        graphql_max_nodes=get.bounded_int("GRAPHQL_MAX_NODES", 1000, 10, 100_000),
        graphql_max_aliases=get.bounded_int("GRAPHQL_MAX_ALIASES", 50, 0, 10_000),
        graphql_max_mutations=get.bounded_int("GRAPHQL_MAX_MUTATIONS", 1, 1, 100),
        graphql_timeout_s=get.bounded_int("GRAPHQL_TIMEOUT_S", 20, 1, 600),
        graphql_ws_max_connections=get.bounded_int("GRAPHQL_WS_MAX_CONNECTIONS", 16, 1, 10_000),
        graphql_ws_max_subscriptions=get.bounded_int(
            "GRAPHQL_WS_MAX_SUBSCRIPTIONS", 32, 1, 100_000
        ),
        max_body_bytes=get.bounded_int("MAX_BODY_BYTES", 256 * 1024, 1024, 16 * 1024 * 1024),
        rate_limit_requests_per_min=get.bounded_int(
            "RATE_LIMIT_REQUESTS_PER_MIN", 600, 0, 1_000_000
        ),
        rate_limit_money_per_min=get.bounded_int("RATE_LIMIT_MONEY_PER_MIN", 60, 0, 1_000_000),
        suspense_max_age_days=get.bounded_int("SUSPENSE_MAX_AGE_DAYS", 3, 1, 365),
        log_level=get.choice_text("LOG_LEVEL", LOG_LEVELS, "INFO"),
        log_format=get.choice("LOG_FORMAT", LogFormat, LogFormat.JSON),
        cors_allowed_origins=get.origins("CORS_ALLOWED_ORIGINS"),
        metrics_token=get.text("METRICS_TOKEN"),
        worker_metrics_host=get.text("WORKER_METRICS_HOST") or "127.0.0.1",
        worker_metrics_port=get.bounded_int(
            "WORKER_METRICS_PORT", DEFAULT_WORKER_METRICS_PORT, 0, MAX_PORT
        ),
        prometheus_multiproc_dir=_optional_path(get.text("PROMETHEUS_MULTIPROC_DIR")),
        tracing_otlp_endpoint=get.url("TRACING_OTLP_ENDPOINT", {"http", "https"}),
        tracing_sample_ratio=get.ratio("TRACING_SAMPLE_RATIO", 1.0),
    )
    _check_consistency(settings)
    return settings


LOG_LEVELS = {"DEBUG", "INFO", "WARNING", "ERROR"}


def load_log_settings(environ: Mapping[str, str] | None = None) -> tuple[str, LogFormat]:
    """LOG_LEVEL and LOG_FORMAT alone, for logging set up before the other settings are read."""
    get = _Reader(os.environ if environ is None else environ)
    return (
        get.choice_text("LOG_LEVEL", LOG_LEVELS, "INFO"),
        get.choice("LOG_FORMAT", LogFormat, LogFormat.JSON),
    )


def _optional_path(value: str | None) -> Path | None:
    return None if value is None else Path(value)


def _check_consistency(settings: Settings) -> None:
    if settings.ledger_backend is LedgerBackend.FORMANCE and not settings.formance_url:
        raise ConfigError("FORMANCE_URL", "required when LEDGER_BACKEND=formance")
    if bool(settings.google_client_id) != bool(settings.google_client_secret):
        raise ConfigError(
            "GOOGLE_CLIENT_SECRET", "GOOGLE_CLIENT_ID and GOOGLE_CLIENT_SECRET go together"
        )
    if settings.google_client_id and not (settings.ops_allowed_emails or settings.ops_admin_emails):
        raise ConfigError("OPS_ALLOWED_EMAILS", "Google sign-in needs an email allowlist")
    if settings.is_production:
        if not settings.auth_configured:
            raise ConfigError(
                "AUTH_TOKEN", "production needs AUTH_TOKEN or Google sign-in (fail closed)"
            )
        if not settings.session_secret or len(settings.session_secret) < 32:
            raise ConfigError("SESSION_SECRET", "production needs a secret of 32+ characters")
        if not settings.database_url:
            raise ConfigError("DATABASE_URL", "production needs an explicit database")
        if not settings.redis_url:
            raise ConfigError("REDIS_URL", "production needs an explicit Redis")
    if settings.auth_token is not None and len(settings.auth_token) < 16:
        raise ConfigError("AUTH_TOKEN", "must be at least 16 characters")
    if settings.metrics_token is not None and len(settings.metrics_token) < 16:
        raise ConfigError("METRICS_TOKEN", "must be at least 16 characters")


class _Reader:
    """Reads one setting at a time, turning a bad value into a one-line `ConfigError`."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self._environ = environ

    def text(self, name: str) -> str | None:
        value = self._environ.get(name, "").strip()
        return value or None

    def url(self, name: str, schemes: set[str]) -> str | None:
        value = self.text(name)
        if value is None:
            return None
        try:
            parsed = urlparse(value)
            parsed.port  # noqa: B018 - raises ValueError on a malformed port
        except ValueError as error:
            raise ConfigError(name, f"malformed URL ({error})") from None
        if parsed.scheme not in schemes:
            allowed = ", ".join(sorted(schemes))
            raise ConfigError(name, f"malformed URL: scheme must be one of {allowed}")
        if parsed.scheme != "unix" and not (parsed.hostname or "host=" in parsed.query):
            raise ConfigError(name, "malformed URL: no host")
        return value

    def port(self, name: str, default: int) -> int:
        return self.bounded_int(name, default, 1, MAX_PORT)

    def bounded_int(self, name: str, default: int, low: int, high: int) -> int:
        value = self.text(name)
        if value is None:
            return default
        if not value.isdigit():
            raise ConfigError(name, f"must be an integer between {low} and {high} (got {value!r})")
        number = int(value)
        if not low <= number <= high:
            raise ConfigError(name, f"must be between {low} and {high} (got {number})")
        return number

    def boolean(self, name: str, default: bool) -> bool:
        value = self.text(name)
        if value is None:
            return default
        lowered = value.lower()
        if lowered in {"1", "true", "yes", "on"}:
            return True
        if lowered in {"0", "false", "no", "off"}:
            return False
        raise ConfigError(name, f"must be true or false (got {value!r})")

    def choice(self, name: str, kind: type[E], default: E) -> E:
        value = self.text(name)
        if value is None:
            return default
        try:
            return kind(value.lower())
        except ValueError:
            allowed = ", ".join(str(member.value) for member in kind)
            raise ConfigError(name, f"must be one of {allowed} (got {value!r})") from None

    def choice_text(self, name: str, allowed: set[str], default: str) -> str:
        value = self.text(name)
        if value is None:
            return default
        if value.upper() not in allowed:
            raise ConfigError(name, f"must be one of {', '.join(sorted(allowed))} (got {value!r})")
        return value.upper()

    def ratio(self, name: str, default: float) -> float:
        value = self.text(name)
        if value is None:
            return default
        try:
            number = float(value)
        except ValueError:
            raise ConfigError(name, f"must be a number between 0 and 1 (got {value!r})") from None
        if not 0.0 <= number <= 1.0:
            raise ConfigError(name, f"must be between 0 and 1 (got {value!r})")
        return number

    def origins(self, name: str) -> tuple[str, ...]:
        """Comma-separated `scheme://host[:port]` origins (no path, no wildcard)."""
        value = self.text(name)
        if value is None:
            return ()
        found: list[str] = []
        for part in value.split(","):
            origin = part.strip().rstrip("/")
            if not origin:
                continue
            try:
                parsed = urlparse(origin)
                parsed.port  # noqa: B018 - raises ValueError on a malformed port
            except ValueError:
                raise ConfigError(name, f"not an origin: {origin!r}") from None
            if (
                parsed.scheme not in {"http", "https"}
                or not parsed.hostname
                or parsed.path
                or parsed.query
                or "*" in origin
            ):
                raise ConfigError(name, f"not an origin (scheme://host[:port]): {origin!r}")
            found.append(origin)
        return tuple(dict.fromkeys(found))

    def emails(self, name: str) -> frozenset[str]:
        value = self.text(name)
        if value is None:
            return frozenset()
        emails = frozenset(part.strip().lower() for part in value.split(",") if part.strip())
        for email in emails:
            local, _, domain = email.partition("@")
            if not local or "." not in domain:
                raise ConfigError(name, f"not an email address: {email!r}")
        return emails
