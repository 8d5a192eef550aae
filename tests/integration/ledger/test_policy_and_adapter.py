"""The overdraft policy, the request invariants, and the Formance adapter's failure mapping."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from walletflow.config import LedgerBackend, Settings
from walletflow.domain.errors import Unavailable, ValidationError
from walletflow.ledger import create_ledger
from walletflow.ledger.formance import FormanceLedger
from walletflow.ledger.pg import PostgresLedger, net_movements
from walletflow.ledger.policy import DEFAULT_POLICY, OverdraftPolicy
from walletflow.ledger.port import LedgerPort, Posting, PostRequest


@pytest.mark.parametrize(
    "account",
    [
        "world",
        "providers:paystack:NGN:settlement",
        "banks:gtb:NGN",
        "counterparties:c1:USD",
        "fx:NGN:position",
        "gps:NGN:pool",
        "stablecoin:USDC:custody",
    ],
)
def test_world_and_funding_accounts_may_go_negative(account: str) -> None:
    assert DEFAULT_POLICY.may_go_negative(account)


@pytest.mark.parametrize(
    "account",
    [
        "merchants:m1:NGN:available",
        "merchants:m1:NGN:holds:p1",
        "fees:NGN:revenue",
        "tax:NGN:vat",
        "stablecoin:USDC:hot",
        "worldwide",
    ],
)
def test_merchants_fees_tax_and_unknown_accounts_may_not(account: str) -> None:
    assert not DEFAULT_POLICY.may_go_negative(account)


def test_never_negative_wins_over_negative_allowed() -> None:
    policy = OverdraftPolicy.of(negative_allowed=("merchants:**",))
    assert not policy.may_go_negative("merchants:m1:NGN:available")


def test_hot_accounts_are_world_fees_tax_and_providers() -> None:
    for account in ("world", "fees:NGN:revenue", "tax:NGN:vat", "providers:p:NGN:settlement"):
        assert DEFAULT_POLICY.is_hot(account)
    assert not DEFAULT_POLICY.is_hot("merchants:m1:NGN:available")
    assert not OverdraftPolicy(shard_count=1).is_hot("world")


def test_a_posting_moves_a_positive_integer_amount_between_valid_accounts() -> None:
    with pytest.raises(ValidationError):
        Posting("world", "merchants:m1", 0, "NGN/2")
    with pytest.raises(ValidationError):
        Posting("world", "merchants:m1", -5, "NGN/2")
    with pytest.raises(ValidationError):
        Posting("world", "merchants m1", 5, "NGN/2")
    with pytest.raises(ValidationError):
        Posting("world", "merchants:m1", 5, "ngn")


def test_a_request_carries_postings_or_a_script_never_both() -> None:
    with pytest.raises(ValidationError):
        PostRequest()
    with pytest.raises(ValidationError):
        PostRequest(postings=(Posting("world", "a", 1, "NGN/2"),), script="send [NGN/2 1] ()")


def test_net_movements_foot_per_asset() -> None:
    movements = net_movements(
        [
            Posting("world", "a", 5, "NGN/2"),
            Posting("a", "b", 3, "NGN/2"),
            Posting("world", "b", 1, "UGX"),
        ]
    )
    assert movements[("a", "NGN/2")] == (5, 3)
    assert sum(i - o for (_, asset), (i, o) in movements.items() if asset == "NGN/2") == 0


def as_port(ledger: LedgerPort) -> LedgerPort:
    """mypy checks each argument against the Protocol; at runtime it is the identity."""
    return ledger


async def test_every_implementation_satisfies_the_port(engine: AsyncEngine) -> None:
    postgres = PostgresLedger(engine)
    assert as_port(postgres) is postgres
    async with engine.connect() as connection:
        bound = postgres.bound(connection)
        assert as_port(bound) is bound
    formance = FormanceLedger("http://formance.invalid", "walletflow")
    assert as_port(formance) is formance
    await formance.aclose()


async def test_formance_unreachable_is_unavailable_and_retryable() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    async with httpx.AsyncClient(transport=httpx.MockTransport(refuse)) as client:
        ledger = FormanceLedger("http://formance.invalid", "walletflow", client=client)
        with pytest.raises(Unavailable) as raised:
            await ledger.get_transaction(1)
    assert raised.value.retryable


async def test_formance_server_error_is_unavailable() -> None:
    def fail(request: httpx.Request) -> httpx.Response:
        return httpx.Response(503, json={"errorCode": "INTERNAL", "errorMessage": "down"})

    async with httpx.AsyncClient(transport=httpx.MockTransport(fail)) as client:
        ledger = FormanceLedger("http://formance.invalid", "walletflow", client=client)
        with pytest.raises(Unavailable):
            await ledger.post(PostRequest(postings=(Posting("world", "a", 1, "NGN/2"),)))


async def test_ledger_backend_setting_selects_the_implementation(engine: AsyncEngine) -> None:
    assert isinstance(create_ledger(Settings(), engine), PostgresLedger)
    formance = create_ledger(
        Settings(ledger_backend=LedgerBackend.FORMANCE, formance_url="http://formance.invalid"),
        engine,
    )
    assert isinstance(formance, FormanceLedger)
    await formance.aclose()
