"""Idempotency key namespaces: providers' webhooks, the saga and people each claim keys only in
their own, so no principal can occupy a key another will use."""

from __future__ import annotations

import pytest

from walletflow.domain.errors import Forbidden
from walletflow.domain.principals import (
    SYSTEM_CLI,
    SYSTEM_SAGA,
    Principal,
    Role,
    provider_principal,
)
from walletflow.service.key_namespaces import check_key_namespace
from walletflow.service.webhooks import webhook_key
from walletflow.workers.saga_rules import Completion, completion_command

PEOPLE = (
    Principal(Role.MERCHANT, "key_1", merchant_id="m1"),
    Principal(Role.OPERATOR, "ops@example.com"),
    Principal(Role.ADMIN, "admin@example.com"),
    SYSTEM_CLI,
)
SAGA_KEY = completion_command(
    "po_1", Completion.SETTLE, provider_reference=None, completion_reason=None
).idempotency_key
WEBHOOK_KEY = webhook_key("sandbox", "sbx-1")


@pytest.mark.parametrize("person", PEOPLE, ids=lambda p: p.subject)
@pytest.mark.parametrize("key", [SAGA_KEY, WEBHOOK_KEY, "webhook:other:x", "saga:x"])
def test_a_person_cannot_claim_a_providers_or_the_sagas_key(person: Principal, key: str) -> None:
    with pytest.raises(Forbidden):
        check_key_namespace(person, key)


@pytest.mark.parametrize("person", PEOPLE, ids=lambda p: p.subject)
def test_a_person_claims_any_other_key(person: Principal) -> None:
    check_key_namespace(person, "dashboard-2f1c")
    check_key_namespace(person, "sagas-are-long")


def test_the_saga_claims_only_saga_keys() -> None:
    check_key_namespace(SYSTEM_SAGA, SAGA_KEY)
    for key in (WEBHOOK_KEY, "dashboard-2f1c"):
        with pytest.raises(Forbidden):
            check_key_namespace(SYSTEM_SAGA, key)


def test_a_provider_claims_only_its_own_webhook_keys() -> None:
    check_key_namespace(provider_principal("sandbox"), WEBHOOK_KEY)
    for key in (webhook_key("other", "sbx-1"), SAGA_KEY, "dashboard-2f1c"):
        with pytest.raises(Forbidden):
            check_key_namespace(provider_principal("sandbox"), key)
