"""`walletflow seed demo`: a small working world for `make run` and the dashboard.

Every step is a registry command run through the bus with a deterministic idempotency key
(`seed-demo-…`), so running the seed again replays each step and changes nothing: no second
pay-in, no second payout. The steps: feature flags, demo merchants `acme` and `globex` with
NGN/KES/UGX/USD wallets, FX rates, bank funding, a GPS pool top-up, pay-ins (UGX is
zero-decimal), a transfer, a reserved payout, a rolling reserve, a GPS corridor payout; then
`rebuildTemplates`, `rebuildCoa` and `rebuildStatements`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from walletflow.bootstrap import Container
from walletflow.domain.principals import SYSTEM_CLI

KEY_PREFIX = "seed-demo"
PROVIDER = "sandbox"
MERCHANTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "acme": ("Acme Payments Ltd", ("NGN", "KES", "UGX", "USD")),
    "globex": ("Globex Retail", ("NGN", "KES", "USD")),
}
BANKS: tuple[tuple[str, str, str], ...] = (
    ("gtbank", "NGN", "50000000.00"),
    ("kcb", "KES", "5000000.00"),
    ("stanbic", "UGX", "900000000"),
    ("citi", "USD", "250000.00"),
)
FX_RATES: tuple[tuple[str, str, str], ...] = (
    ("USD", "NGN", "1500"),
    ("USD", "KES", "129.5"),
    ("USD", "UGX", "3700"),
    ("NGN", "KES", "0.0863"),
)


@dataclass(frozen=True)
class Step:
    key: str
    command: str
    raw: dict[str, Any]


def demo_steps() -> list[Step]:
    """The seed as data: (idempotency key, command, input), in order."""
    steps: list[Step] = []

    def add(name: str, command: str, **raw: Any) -> None:
        steps.append(Step(f"{KEY_PREFIX}-{name}", command, raw))

    currencies = sorted({c for _, wallets in MERCHANTS.values() for c in wallets})
    for merchant_id in MERCHANTS:
        add(
            f"flag-merchant-{merchant_id}",
            "setFeatureFlag",
            scope_type="merchant",
            scope_value=merchant_id,
            enabled=True,
        )
    for currency in currencies:
        add(
            f"flag-currency-{currency}",
            "setFeatureFlag",
            scope_type="currency",
            scope_value=currency,
            enabled=True,
        )
    add(
        f"flag-provider-{PROVIDER}",
        "setFeatureFlag",
        scope_type="provider",
        scope_value=PROVIDER,
        enabled=True,
    )
    for merchant_id, (name, wallets) in MERCHANTS.items():
        for currency in wallets:
            add(
                f"wallet-{merchant_id}-{currency}",
                "createWallet",
                merchant_id=merchant_id,
                currency=currency,
                merchant_name=name,
            )
    for base, quote, rate in FX_RATES:
        add(
            f"fx-rate-{base}-{quote}",
            "setFxRate",
            base_currency=base,
            quote_currency=quote,
            rate=rate,
        )
    for bank_id, currency, amount in BANKS:
        add(
            f"bank-{bank_id}-{currency}",
            "fundBankAccount",
            bank_id=bank_id,
            currency=currency,
            amount=amount,
        )
    add("gps-pool-KES", "topUpGpsPool", bank_id="kcb", currency="KES", amount="1000000.00")
    add("gps-pool-UGX", "topUpGpsPool", bank_id="stanbic", currency="UGX", amount="200000000")
    payins = (
        ("acme", "NGN", "250000.00", "3762.50", "262.50"),
        ("acme", "KES", "50000.00", "750.00", "0"),
        ("acme", "UGX", "1500000", "22500", "1575"),
        ("acme", "USD", "2000.00", "30.00", "0"),
        ("globex", "NGN", "120000.00", "1806.00", "126.00"),
        ("globex", "USD", "800.00", "12.00", "0"),
    )
    for index, (merchant_id, currency, amount, fee, vat) in enumerate(payins, start=1):
        add(
            f"payin-{index}",
            "postPayin",
            merchant_id=merchant_id,
            currency=currency,
            amount=amount,
            fee=fee,
            vat=vat,
            provider=PROVIDER,
            provider_reference=f"demo-payin-{index}",
        )
    add(
        "transfer-1",
        "transfer",
        from_merchant_id="acme",
        to_merchant_id="globex",
        currency="NGN",
        amount="10000.00",
        description="Demo supplier invoice",
    )
    add(
        "payout-1",
        "reservePayout",
        merchant_id="acme",
        currency="NGN",
        amount="25000.00",
        provider=PROVIDER,
        destination={"bank": "058", "account": "0123456789"},
        payout_id="demo-payout-1",
    )
    add(
        "rolling-reserve-1",
        "holdRollingReserve",
        merchant_id="acme",
        currency="NGN",
        amount="5000.00",
    )
    add(
        "gps-payout-1",
        "gpsCrossCurrencyPayout",
        merchant_id="acme",
        debit_currency="NGN",
        debit_amount="15500.00",
        credit_currency="KES",
        credit_amount="1280.00",
        provider=PROVIDER,
    )
    add("rebuild-templates", "rebuildTemplates")
    add("rebuild-coa", "rebuildCoa")
    add("rebuild-statements", "rebuildStatements", full=False)
    return steps


@dataclass(frozen=True)
class SeedReport:
    commands: int
    executed: int
    replayed: int

    def to_json(self) -> dict[str, int]:
        return {"commands": self.commands, "executed": self.executed, "replayed": self.replayed}


async def seed_demo(container: Container) -> SeedReport:
    """Run every demo step through the command bus (idempotent: a re-run replays them)."""
    executed = replayed = 0
    steps = demo_steps()
    for step in steps:
        outcome = await container.bus.execute(step.command, step.raw, SYSTEM_CLI, step.key)
        if outcome.replayed:
            replayed += 1
        else:
            executed += 1
    return SeedReport(commands=len(steps), executed=executed, replayed=replayed)
