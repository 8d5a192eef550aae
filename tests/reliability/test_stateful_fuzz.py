"""Stateful concurrency fuzz: random interleavings of every kind of command over several
merchants and currencies (zero-decimal UGX included) — concurrent bursts, replays with the same
and with altered bodies, reversals, flag flips and payout completions — with the invariant
checker after every step. Zero violations allowed.

Each Hypothesis example gets its own freshly cloned database and its own event loop.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from pathlib import Path
from typing import Any, ClassVar

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from tests.reliability.invariants import check_invariants, describe
from tests.support.databases import clone_database, drop_database
from walletflow.bootstrap import build_container
from walletflow.config import load_settings
from walletflow.db.engine import create_engine
from walletflow.domain.errors import (
    AlreadyReverted,
    FlagDenied,
    IdempotencyKeyReused,
    IllegalStateTransition,
    InsufficientFunds,
    NotFound,
    ReferenceConflict,
)
from walletflow.domain.principals import SYSTEM_CLI, Principal, Role
from walletflow.service.clock import ManualClock
from walletflow.service.results import CommandOutcome

MERCHANTS = ("m1", "m2", "m3")
CURRENCIES = ("NGN", "UGX", "USD")
EXPECTED_REFUSALS = (
    InsufficientFunds,
    FlagDenied,
    IllegalStateTransition,
    AlreadyReverted,
    NotFound,
    ReferenceConflict,
)
MAX_EXAMPLES = 20
STEPS_PER_EXAMPLE = 25
STATS_FILE = Path("test-output/reliability/fuzz_stats.json")

amounts = st.integers(min_value=1, max_value=50_000)
# Which earlier payout/transaction/command a rule picks: an index reduced modulo the list length,
# so data generation does not depend on which concurrent commands happened to succeed.
picks = st.integers(min_value=0, max_value=10**6)
merchants = st.sampled_from(MERCHANTS)
currencies = st.sampled_from(CURRENCIES)


class WalletMachine(RuleBasedStateMachine):
    server_url: ClassVar[str]
    template: ClassVar[str]
    examples_run: ClassVar[int] = 0
    steps_run: ClassVar[int] = 0

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.database_url = self.loop.run_until_complete(
            clone_database(self.server_url, self.template)
        )
        self.engine = create_engine(self.database_url, pool_size=10)
        self.container = build_container(load_settings({}), self.engine, clock=ManualClock())
        self.keys = itertools.count()
        self.done: list[tuple[str, dict[str, Any], Principal, str, CommandOutcome]] = []
        self.payouts: list[str] = []
        self.transactions: list[int] = []
        WalletMachine.examples_run += 1

    def teardown(self) -> None:
        self.loop.run_until_complete(self.engine.dispose())
        self.loop.run_until_complete(drop_database(self.server_url, self.database_url))
        self.loop.close()

    async def _execute(
        self, name: str, raw: dict[str, Any], principal: Principal = SYSTEM_CLI
    ) -> CommandOutcome | None:
        key = f"fuzz-{next(self.keys)}"
        try:
            outcome = await self.container.bus.execute(name, raw, principal, key)
        except EXPECTED_REFUSALS:
            return None
        self.done.append((name, raw, principal, key, outcome))
        if outcome.result.transaction_id is not None:
            self.transactions.append(outcome.result.transaction_id)
        payout = outcome.result.data.get("payoutId")
        if name == "reservePayout" and isinstance(payout, str):
            self.payouts.append(payout)
        return outcome

    def run(self, *calls: tuple[str, dict[str, Any]]) -> None:
        """Run the calls concurrently: one task each, in one gather."""

        async def all_of() -> None:
            await asyncio.gather(*(self._execute(name, raw) for name, raw in calls))

        self.loop.run_until_complete(all_of())
        WalletMachine.steps_run += 1

    @initialize()
    def open_wallets(self) -> None:
        calls = [
            ("createWallet", {"merchant_id": m, "currency": c})
            for m in MERCHANTS
            for c in CURRENCIES
        ]
        for name, raw in calls:
            self.run((name, raw))
        for merchant in MERCHANTS:
            for currency in CURRENCIES:
                self.run(
                    (
                        "postOpeningBalance",
                        {"merchant_id": merchant, "currency": currency, "amount": 100_000},
                    )
                )

    @rule(merchant=merchants, currency=currencies, amount=amounts, fee=st.integers(0, 500))
    def payin(self, merchant: str, currency: str, amount: int, fee: int) -> None:
        self.run(
            (
                "postPayin",
                {
                    "merchant_id": merchant,
                    "currency": currency,
                    "amount": amount + fee,
                    "fee": fee,
                    "provider": "sandbox",
                },
            )
        )

    @rule(source=merchants, recipient=merchants, currency=currencies, amount=amounts)
    def transfer(self, source: str, recipient: str, currency: str, amount: int) -> None:
        if source != recipient:
            self.run(
                (
                    "transfer",
                    {
                        "from_merchant_id": source,
                        "to_merchant_id": recipient,
                        "currency": currency,
                        "amount": amount,
                    },
                )
            )

    @rule(merchant=merchants, currency=currencies, amount=amounts)
    def reserve_payout(self, merchant: str, currency: str, amount: int) -> None:
        self.run(
            (
                "reservePayout",
                {
                    "merchant_id": merchant,
                    "currency": currency,
                    "amount": amount,
                    "provider": "sandbox",
                    "destination": {"bank": "058", "account": "0123456789"},
                },
            )
        )

    @rule(
        pick=picks, action=st.sampled_from(["settleHold", "releaseHold", "markPayoutManualReview"])
    )
    def complete_payout(self, pick: int, action: str) -> None:
        if not self.payouts:
            return
        payout = self.payouts[pick % len(self.payouts)]
        raw: dict[str, Any] = {"payout_id": payout}
        if action != "settleHold":
            raw["reason"] = "fuzz"
        # The same completion raced against itself and against the other completion.
        other = "releaseHold" if action == "settleHold" else "settleHold"
        other_raw: dict[str, Any] = {"payout_id": payout}
        if other == "releaseHold":
            other_raw["reason"] = "fuzz race"
        self.run((action, raw), (action, dict(raw)), (other, other_raw))

    @rule(pick=picks)
    def reverse(self, pick: int) -> None:
        if self.transactions:
            tx = self.transactions[pick % len(self.transactions)]
            self.run(
                ("reverse", {"transaction_id": tx, "reason": "fuzz"}),
                ("reverse", {"transaction_id": tx, "reason": "fuzz"}),
            )

    @rule(scope=st.sampled_from(["merchant", "currency"]), pick=picks, enabled=st.booleans())
    def flip_flag(self, scope: str, pick: int, enabled: bool) -> None:
        values = MERCHANTS if scope == "merchant" else CURRENCIES
        value = values[pick % len(values)]
        self.run(
            ("setFeatureFlag", {"scope_type": scope, "scope_value": value, "enabled": enabled})
        )

    @rule(
        merchant=merchants,
        currency=currencies,
        amount=amounts,
        direction=st.sampled_from(["credit", "debit"]),
    )
    def correction(self, merchant: str, currency: str, amount: int, direction: str) -> None:
        self.run(
            (
                "postCorrection",
                {
                    "direction": direction,
                    "merchant_id": merchant,
                    "currency": currency,
                    "amount": amount,
                    "reason": "fuzz",
                    "evidence_reference": "fuzz-evidence",
                },
            )
        )

    @rule(pick=picks)
    def replay_same_body(self, pick: int) -> None:
        if not self.done:
            return
        name, raw, principal, key, first = self.done[pick % len(self.done)]

        async def replays() -> list[CommandOutcome]:
            return await asyncio.gather(
                *(self.container.bus.execute(name, raw, principal, key) for _ in range(3))
            )

        for outcome in self.loop.run_until_complete(replays()):
            assert outcome.replayed and outcome.result == first.result

    @rule(pick=picks)
    def replay_altered_body(self, pick: int) -> None:
        candidates = [d for d in self.done if "amount" in d[1] or "reason" in d[1]]
        if not candidates:
            return
        name, raw, principal, key, _ = candidates[pick % len(candidates)]
        altered = dict(raw)
        if "amount" in altered:
            altered["amount"] = int(altered["amount"]) + 1
        else:
            altered["reason"] = "altered"
        with pytest.raises(IdempotencyKeyReused):
            self.loop.run_until_complete(self.container.bus.execute(name, altered, principal, key))

    @rule(merchant=merchants, currency=currencies, spends=st.lists(amounts, min_size=2, max_size=6))
    def merchant_burst(self, merchant: str, currency: str, spends: list[int]) -> None:
        """A merchant's own API calls, concurrently, spending the same balance."""
        principal = Principal(Role.MERCHANT, f"key-{merchant}", merchant_id=merchant)
        others = [m for m in MERCHANTS if m != merchant]

        async def burst() -> None:
            await asyncio.gather(
                *(
                    self._execute(
                        "transfer",
                        {
                            "from_merchant_id": merchant,
                            "to_merchant_id": others[i % 2],
                            "currency": currency,
                            "amount": amount,
                        },
                        principal,
                    )
                    for i, amount in enumerate(spends)
                )
            )

        self.loop.run_until_complete(burst())

    @invariant()
    def no_violations(self) -> None:
        violations = self.loop.run_until_complete(check_invariants(self.engine))
        assert not violations, describe(violations)


def test_random_concurrent_commands_never_break_an_invariant(
    pg_server_url: str, template_database: str
) -> None:
    WalletMachine.server_url = pg_server_url
    WalletMachine.template = template_database
    WalletMachine.examples_run = WalletMachine.steps_run = 0
    run_state_machine_as_test(
        WalletMachine,
        settings=settings(
            max_examples=MAX_EXAMPLES,
            stateful_step_count=STEPS_PER_EXAMPLE,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=False,
        ),
    )
    STATS_FILE.parent.mkdir(parents=True, exist_ok=True)
    STATS_FILE.write_text(
        json.dumps({"examples": WalletMachine.examples_run, "steps": WalletMachine.steps_run})
    )
    print(f"fuzz: {WalletMachine.examples_run} examples, {WalletMachine.steps_run} steps")
