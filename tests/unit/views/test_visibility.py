"""The one visibility rule: a merchant reads only its own merchant's data, staff and analysts
read everything, analysts write nothing, and only admins read who may sign in."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from walletflow.domain.errors import Forbidden
from walletflow.domain.principals import (
    SYSTEM_CLI,
    SYSTEM_SAGA,
    Principal,
    Role,
    provider_principal,
)
from walletflow.ledger.port import Posting, Transaction
from walletflow.service.catalog import build_registry
from walletflow.service.registry import authorize, may_run
from walletflow.views.visibility import EVERYTHING, Visibility, within

M1 = Visibility(Principal(Role.MERCHANT, "apikey:m1", "m1"))
ANALYST = Visibility(Principal(Role.ANALYST, "apikey:analyst"))
OPERATOR = Visibility(Principal(Role.OPERATOR, "op@example.com"))
ADMIN = Visibility(Principal(Role.ADMIN, "boss@example.com"))
EVERYONE_ELSE = (ANALYST, OPERATOR, ADMIN, EVERYTHING, Visibility(SYSTEM_SAGA))


def test_a_merchant_reads_its_own_merchant_and_nothing_else() -> None:
    assert M1.own_merchant == "m1" and not M1.sees_everything
    assert M1.merchant(None) == "m1"
    assert M1.merchant("m1") == "m1"
    with pytest.raises(Forbidden):
        M1.merchant("m2")


def test_a_merchant_reads_only_accounts_under_its_own_prefix() -> None:
    assert M1.account(None) == "merchants:m1:"
    assert M1.account("merchants:m1:NGN:available") == "merchants:m1:NGN:available"
    for foreign in ("merchants:m2:", "merchants:m1", "merchants:m10:NGN:available", "fees:"):
        with pytest.raises(Forbidden) as refused:
            M1.account(foreign)
        assert refused.value.details == {"prefix": "merchants:m1:"}


def test_a_merchant_balance_query_stays_under_its_prefix_whether_by_account_or_prefix() -> None:
    assert M1.balance_query(None, None) == "merchants:m1:"
    assert M1.balance_query(["merchants:m1:NGN:available"], None) is None
    assert M1.balance_query(None, "merchants:m1:NGN:") == "merchants:m1:NGN:"
    for accounts, prefix in (
        (["merchants:m1:NGN:available", "fees:NGN:revenue"], None),
        (["merchants:m1:NGN:available"], "merchants:m2:"),
        (None, "world"),
    ):
        with pytest.raises(Forbidden):
            M1.balance_query(accounts, prefix)


@pytest.mark.parametrize("visibility", EVERYONE_ELSE, ids=lambda v: v.principal.subject)
def test_staff_and_analysts_read_everything_and_filter_as_they_ask(
    visibility: Visibility,
) -> None:
    assert visibility.own_merchant is None and visibility.sees_everything
    visibility.require_everything()
    assert visibility.merchant(None) is None
    assert visibility.merchant("m2") == "m2"
    assert visibility.account(None) is None
    assert visibility.account("fees:") == "fees:"
    assert visibility.balance_query(["world"], "banks:") == "banks:"


def test_cross_merchant_reads_are_refused_to_merchants() -> None:
    with pytest.raises(Forbidden) as refused:
        M1.require_everything()
    assert refused.value.message == "merchants see only their own wallets, holds and transactions"


def test_only_admins_and_walletflow_itself_read_who_may_sign_in() -> None:
    ADMIN.require_admin()
    EVERYTHING.require_admin()
    for visibility in (M1, ANALYST, OPERATOR):
        with pytest.raises(Forbidden):
            visibility.require_admin()


def test_an_analyst_may_run_no_command_at_all() -> None:
    analyst = ANALYST.principal
    for spec in build_registry():
        assert not may_run(spec, analyst), spec.name
        with pytest.raises(Forbidden, match="analysts have read-only access"):
            authorize(spec, analyst, {})


def test_may_run_agrees_with_authorize_for_every_role_and_command() -> None:
    principals = [v.principal for v in (M1, ANALYST, OPERATOR, ADMIN)] + [SYSTEM_CLI]
    for spec in build_registry():
        for principal in principals:
            own = {spec.merchant_field: principal.merchant_id} if spec.merchant_field else {}
            try:
                authorize(spec, principal, own)
                authorized = True
            except Forbidden:
                authorized = False
            assert authorized == may_run(spec, principal), (spec.name, principal.role)


def test_an_event_passes_a_merchant_filter_only_when_it_is_that_merchants() -> None:
    assert within(None, "m1") and within(None, None)
    assert within("m1", "m1")
    assert not within("m1", "m2") and not within("m1", None)


def _movement() -> Transaction:
    at = datetime(2026, 1, 1, tzinfo=UTC)
    return Transaction(
        id=7,
        postings=(
            Posting("merchants:m1:NGN:available", "merchants:m2:NGN:available", 100, "NGN/2"),
            Posting("merchants:m2:NGN:available", "fees:NGN:revenue", 5, "NGN/2"),
        ),
        reference="r",
        metadata={"actor": "op@example.com", "merchantId": "m1"},
        effective_at=at,
        inserted_at=at,
    )


def test_a_merchant_sees_of_a_movement_only_postings_of_its_own_accounts_and_no_actor() -> None:
    seen = Visibility(Principal(Role.MERCHANT, "key_1", merchant_id="m1")).transaction(_movement())
    assert [p.destination for p in seen.postings] == ["merchants:m2:NGN:available"]
    assert seen.metadata == {"merchantId": "m1"}


def test_a_provider_sees_only_its_own_accounts_and_no_actor() -> None:
    sandbox = Visibility(provider_principal("sandbox"))
    assert sandbox.sees_account("providers:sandbox:NGN:settlement")
    assert not sandbox.sees_account("merchants:m1:NGN:available")
    assert sandbox.without_actors({"actor": "x", "a": 1}) == {"a": 1}


@pytest.mark.parametrize("visibility", [ANALYST, OPERATOR, ADMIN, EVERYTHING])
def test_staff_and_analysts_see_the_whole_movement_and_its_actor(visibility: Visibility) -> None:
    assert visibility.transaction(_movement()) == _movement()
