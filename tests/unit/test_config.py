"""Settings come from the environment; a bad value is one readable line naming the setting."""

from __future__ import annotations

import pytest

from walletflow.config import (
    CompletionGating,
    ConfigError,
    FlagMode,
    LedgerBackend,
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


def test_emails_are_normalised_to_lower_case_sets() -> None:
    settings = load_settings({"OPS_ALLOWED_EMAILS": " Alice@Example.com, bob@example.org "})
    assert settings.ops_allowed_emails == {"alice@example.com", "bob@example.org"}
