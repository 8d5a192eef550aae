"""Settings come from the environment; a bad value is one readable line naming the setting."""

from __future__ import annotations

import pytest

from walletflow.config import (
    CompletionGating,
    ConfigError,
    FlagMode,
    LedgerBackend,
    LogFormat,
    load_settings,
)

GOOD_TOKEN = "t" * 32


def test_defaults_are_dev_on_embedded_services() -> None:
    settings = load_settings({})
    assert settings.database_url is None
    assert settings.redis_url is None
    assert settings.ledger_backend is LedgerBackend.POSTGRES
    assert settings.core_wallet_flag_mode is FlagMode.FAIL_OPEN
    assert settings.core_wallet_completion_gating is CompletionGating.RECORD
    assert not settings.auth_configured


@pytest.mark.parametrize(
    ("environ", "setting"),
    [
        ({"LEDGER_BACKEND": "mysql"}, "LEDGER_BACKEND"),
        ({"DATABASE_URL": "http://db"}, "DATABASE_URL"),
        ({"DATABASE_URL": "postgresql://db:notaport/x"}, "DATABASE_URL"),
        ({"REDIS_URL": "redis://"}, "REDIS_URL"),
        ({"PORT": "eighty"}, "PORT"),
        ({"PORT": "70000"}, "PORT"),
        ({"CORE_WALLET_FLAG_MODE": "maybe"}, "CORE_WALLET_FLAG_MODE"),
        ({"CORE_WALLET_COMPLETION_GATING": "later"}, "CORE_WALLET_COMPLETION_GATING"),
        ({"ENV": "staging"}, "ENV"),
        ({"OPS_ALLOWED_EMAILS": "alice@example.com,bob"}, "OPS_ALLOWED_EMAILS"),
        ({"LEDGER_BACKEND": "formance"}, "FORMANCE_URL"),
        ({"GOOGLE_CLIENT_ID": "id"}, "GOOGLE_CLIENT_SECRET"),
        ({"AUTH_TOKEN": "short"}, "AUTH_TOKEN"),
        ({"GRAPHQL_INTROSPECTION": "perhaps"}, "GRAPHQL_INTROSPECTION"),
        ({"LOG_FORMAT": "xml"}, "LOG_FORMAT"),
        ({"CORS_ALLOWED_ORIGINS": "https://ok.example,*"}, "CORS_ALLOWED_ORIGINS"),
        ({"CORS_ALLOWED_ORIGINS": "https://ops.example/path"}, "CORS_ALLOWED_ORIGINS"),
        ({"CORS_ALLOWED_ORIGINS": "ftp://ops.example"}, "CORS_ALLOWED_ORIGINS"),
        ({"METRICS_TOKEN": "short"}, "METRICS_TOKEN"),
        ({"WORKER_METRICS_PORT": "70000"}, "WORKER_METRICS_PORT"),
        ({"TRACING_OTLP_ENDPOINT": "collector:4318"}, "TRACING_OTLP_ENDPOINT"),
        ({"TRACING_SAMPLE_RATIO": "2"}, "TRACING_SAMPLE_RATIO"),
        ({"GRAPHQL_MAX_MUTATIONS": "0"}, "GRAPHQL_MAX_MUTATIONS"),
        ({"GRAPHQL_MAX_DOCUMENT_BYTES": "big"}, "GRAPHQL_MAX_DOCUMENT_BYTES"),
        ({"GRAPHQL_MAX_NODES": "5"}, "GRAPHQL_MAX_NODES"),
        ({"GRAPHQL_MAX_ALIASES": "-1"}, "GRAPHQL_MAX_ALIASES"),
        ({"GRAPHQL_TIMEOUT_S": "0"}, "GRAPHQL_TIMEOUT_S"),
        ({"GRAPHQL_WS_MAX_CONNECTIONS": "0"}, "GRAPHQL_WS_MAX_CONNECTIONS"),
        ({"GRAPHQL_WS_MAX_SUBSCRIPTIONS": "none"}, "GRAPHQL_WS_MAX_SUBSCRIPTIONS"),
    ],
)
def test_bad_value_names_the_setting_in_one_line(environ: dict[str, str], setting: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(environ)
    message = str(caught.value)
    assert message.startswith(f"{setting}: ")
    assert "\n" not in message


def test_production_without_auth_refuses_to_start() -> None:
    with pytest.raises(ConfigError, match=r"^AUTH_TOKEN: production needs"):
        load_settings({"ENV": "production"})


def test_production_with_auth_and_explicit_services_starts() -> None:
    settings = load_settings(
        {
            "ENV": "production",
            "AUTH_TOKEN": GOOD_TOKEN,
            "SESSION_SECRET": "s" * 40,
            "DATABASE_URL": "postgresql://wf@db:5432/walletflow",
            "REDIS_URL": "redis://redis:6379/0",
        }
    )
    assert settings.is_production
    assert settings.auth_configured


PRODUCTION = {
    "ENV": "production",
    "AUTH_TOKEN": GOOD_TOKEN,
    "SESSION_SECRET": "s" * 40,
    "DATABASE_URL": "postgresql://wf@db:5432/walletflow",
    "REDIS_URL": "redis://redis:6379/0",
}


def test_introspection_is_on_in_dev_and_off_in_production_unless_asked_for() -> None:
    assert load_settings({}).graphql_introspection is True
    assert load_settings(PRODUCTION).graphql_introspection is False
    asked = load_settings({**PRODUCTION, "GRAPHQL_INTROSPECTION": "true"})
    assert asked.graphql_introspection is True
    assert load_settings({"GRAPHQL_INTROSPECTION": "false"}).graphql_introspection is False


def test_request_limits_default_to_one_mutation_and_bounded_documents() -> None:
    settings = load_settings({})
    assert settings.graphql_max_mutations == 1
    assert settings.graphql_max_document_bytes == 16 * 1024
    assert (settings.graphql_max_nodes, settings.graphql_max_aliases) == (1000, 50)
    assert settings.graphql_timeout_s == 20
    assert (settings.graphql_ws_max_connections, settings.graphql_ws_max_subscriptions) == (16, 32)


def test_emails_are_normalised_to_lower_case_sets() -> None:
    settings = load_settings({"OPS_ALLOWED_EMAILS": " Alice@Example.com, bob@example.org "})
    assert settings.ops_allowed_emails == {"alice@example.com", "bob@example.org"}


def test_observability_defaults_are_json_logs_no_cors_no_tracing_and_worker_metrics_on_9100() -> (
    None
):
    settings = load_settings({})
    assert settings.log_format is LogFormat.JSON
    assert settings.cors_allowed_origins == ()
    assert settings.tracing_otlp_endpoint is None
    assert settings.metrics_token is None
    assert (settings.worker_metrics_host, settings.worker_metrics_port) == ("127.0.0.1", 9100)


def test_cors_origins_are_normalised_and_deduplicated() -> None:
    settings = load_settings(
        {"CORS_ALLOWED_ORIGINS": "https://ops.example/, http://localhost:3000,https://ops.example"}
    )
    assert settings.cors_allowed_origins == ("https://ops.example", "http://localhost:3000")
