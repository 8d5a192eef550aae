"""`walletflow migrate opening-balances FILE.csv`: move wallets in from the legacy estate.

One line per wallet: merchant_id, currency, available, holds, reserve, as_of (an ISO date, read
as the end of that day in UTC, or a date-time with its zone), optionally merchant_name. Each
line becomes one `migrateWallet` command through the bus (so the same validation, authority
and audit as any command), under the key `migration:{merchant}:{currency}`: a wallet migrates
once, forever, so a re-run after a crash or a fix resumes where it stopped and doubles nothing.

    plan       validate every line (the registry's own field rules), no writes: totals per
               currency, and every bad line with its reason — the dry run
    run        the plan first; any bad line stops before anything is posted, unless
               allow_partial; then the good lines, `concurrency` at a time
    reconcile  per currency: the file's total = the ledger's migration postings = the sum of
               the migrated wallets' balances, or the exact differences
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from walletflow.batches.records import LineError, records
from walletflow.domain.errors import IdempotencyKeyReused, WalletflowError
from walletflow.domain.principals import Principal
from walletflow.money import Asset, Money
from walletflow.service.bus import CommandBus
from walletflow.service.fields import parse_input
from walletflow.service.registry import CommandSpec

COMMAND = "migrateWallet"
COLUMNS = frozenset({"merchant_id", "currency", "available", "holds", "reserve", "as_of"})
OPTIONAL_COLUMNS = frozenset({"merchant_name"})
MAX_CONCURRENCY = 32
MAX_REPORTED_ERRORS = 1000
"""Every bad line is counted; the first this many are listed."""
_DATE_ONLY = re.compile(r"\A\d{4}-\d{2}-\d{2}\Z")
END_OF_DAY_UTC = "T23:59:59.999999+00:00"

Progress = Callable[[int], None]
"""Called with the number of lines just finished."""


@dataclass(frozen=True)
class WalletLine:
    line: int
    merchant_id: str
    currency: str
    values: dict[str, Any]
    """The typed command input (parse_input's output)."""
    raw: dict[str, Any]
    """The input as the bus takes it."""

    @property
    def total_minor(self) -> int:
        return int(
            self.values["available_minor"]
            + self.values["reserve_minor"]
            + self.values["holds_minor"]
        )

    @property
    def idempotency_key(self) -> str:
        return f"migration:{self.merchant_id}:{self.currency}"


@dataclass
class CurrencyTotals:
    wallets: int = 0
    available_minor: int = 0
    reserve_minor: int = 0
    holds_minor: int = 0

    @property
    def total_minor(self) -> int:
        return self.available_minor + self.reserve_minor + self.holds_minor

    def add(self, wallet: WalletLine) -> None:
        self.wallets += 1
        self.available_minor += wallet.values["available_minor"]
        self.reserve_minor += wallet.values["reserve_minor"]
        self.holds_minor += wallet.values["holds_minor"]

    def to_json(self, currency: str) -> dict[str, Any]:
        return {
            "wallets": self.wallets,
            "available": _major(currency, self.available_minor),
            "reserve": _major(currency, self.reserve_minor),
            "holds": _major(currency, self.holds_minor),
            "total": _major(currency, self.total_minor),
            "totalMinor": self.total_minor,
        }


@dataclass
class Plan:
    lines: int = 0
    totals: dict[str, CurrencyTotals] = field(default_factory=dict)
    error_count: int = 0
    errors: list[LineError] = field(default_factory=list)

    def fail(self, error: LineError) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_REPORTED_ERRORS:
            self.errors.append(error)

    def to_json(self) -> dict[str, Any]:
        return {
            "lines": self.lines,
            "wallets": sum(totals.wallets for totals in self.totals.values()),
            "badLines": self.error_count,
            "totals": {ccy: t.to_json(ccy) for ccy, t in sorted(self.totals.items())},
            "errors": [error.to_json() for error in self.errors],
        }


def _major(currency: str, amount_minor: int) -> str:
    return Money.of_minor(amount_minor, Asset.of(currency)).to_decimal_string()


def _input(record: dict[str, Any]) -> dict[str, Any]:
    raw = {name: value for name, value in record.items() if name in COLUMNS | OPTIONAL_COLUMNS}
    as_of = raw.get("as_of")
    if isinstance(as_of, str) and _DATE_ONLY.match(as_of):
        raw["as_of"] = as_of + END_OF_DAY_UTC
    return raw


def wallet_lines(path: Path, spec: CommandSpec) -> Iterator[WalletLine | LineError]:
    """Every line of the file, validated by the command's own field rules; a wallet named twice
    is an error on its second line."""
    assert spec.name == COMMAND
    seen: set[tuple[str, str]] = set()
    for number, record in records(path, required=COLUMNS):
        if isinstance(record, LineError):
            yield record
            continue
        unknown = sorted(set(record) - COLUMNS - OPTIONAL_COLUMNS)
        if unknown:
            yield LineError(number, "VALIDATION_ERROR", "unknown column", field=unknown[0])
            continue
        raw = _input(record)
        try:
            values = parse_input(spec.fields, raw)
        except WalletflowError as error:
            yield _field_error(number, error)
            continue
        wallet = (values["merchant_id"], values["currency"])
        if wallet in seen:
            yield LineError(
                number,
                "DUPLICATE_WALLET",
                f"{wallet[0]} {wallet[1]} appears on an earlier line",
                field="merchant_id",
            )
            continue
        seen.add(wallet)
        yield WalletLine(number, wallet[0], wallet[1], values, raw)


def _field_error(line: int, error: WalletflowError) -> LineError:
    field_errors = error.details.get("fieldErrors") if error.details else None
    if isinstance(field_errors, dict) and field_errors:
        name, reason = next(iter(field_errors.items()))
        code = reason.split(":", 1)[0] if ":" in reason else error.code
        return LineError(line, code if code.isupper() else error.code, str(reason), field=name)
    return LineError(line, error.code, error.message)


def plan(path: Path, spec: CommandSpec) -> Plan:
    """The dry run: validate every line, total what would be posted per currency."""
    result = Plan()
    for item in wallet_lines(path, spec):
        result.lines += 1
        if isinstance(item, LineError):
            result.fail(item)
        else:
            result.totals.setdefault(item.currency, CurrencyTotals()).add(item)
    return result


@dataclass
class RunResult:
    plan: Plan
    migrated: int = 0
    already_migrated: int = 0
    failed: int = 0
    errors: list[LineError] = field(default_factory=list)
    posted: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "plan": self.plan.to_json(),
            "posted": self.posted,
            "migrated": self.migrated,
            "alreadyMigrated": self.already_migrated,
            "failed": self.failed,
            "errors": [error.to_json() for error in self.errors[:MAX_REPORTED_ERRORS]],
        }


async def run(
    path: Path,
    bus: CommandBus,
    principal: Principal,
    *,
    allow_partial: bool = False,
    concurrency: int = 8,
    progress: Progress | None = None,
    planned: Plan | None = None,
) -> RunResult:
    """Plan (unless the caller already did: `planned`), then, if the plan is clean or
    `allow_partial`, migrate every good line."""
    assert 1 <= concurrency <= MAX_CONCURRENCY, concurrency
    spec = bus.registry.get(COMMAND)
    result = RunResult(plan=planned if planned is not None else plan(path, spec))
    if result.plan.error_count and not allow_partial:
        return result
    result.posted = True
    async for _wallet, outcome in _execute(path, spec, bus, principal, concurrency):
        if isinstance(outcome, LineError):
            result.failed += 1
            result.errors.append(outcome)
        elif outcome:
            result.already_migrated += 1
        else:
            result.migrated += 1
        if progress is not None:
            progress(1)
    return result


async def _execute(
    path: Path, spec: CommandSpec, bus: CommandBus, principal: Principal, concurrency: int
) -> AsyncIterator[tuple[WalletLine, bool | LineError]]:
    """(wallet, replayed or its error) per good line, `concurrency` commands in flight; the
    queue bounds what is read ahead of the database."""
    queue: asyncio.Queue[WalletLine | None] = asyncio.Queue(maxsize=concurrency * 4)
    done: asyncio.Queue[tuple[WalletLine, bool | LineError]] = asyncio.Queue()

    async def produce() -> None:
        for item in wallet_lines(path, spec):
            if isinstance(item, WalletLine):
                await queue.put(item)
        for _ in range(concurrency):
            await queue.put(None)

    async def consume() -> None:
        while (wallet := await queue.get()) is not None:
            await done.put((wallet, await _migrate_one(bus, principal, wallet)))

    workers = [asyncio.create_task(consume()) for _ in range(concurrency)]
    producer = asyncio.create_task(produce())
    running = asyncio.gather(producer, *workers)
    try:
        while not (running.done() and done.empty()):
            if running.done():
                yield done.get_nowait()
                continue
            getter = asyncio.create_task(done.get())
            waiting: set[asyncio.Future[Any]] = {getter, running}
            finished, _ = await asyncio.wait(waiting, return_when="FIRST_COMPLETED")
            if getter in finished:
                yield getter.result()
            else:
                getter.cancel()
        running.result()  # re-raise a worker's unexpected error
    finally:
        for task in (producer, *workers):
            task.cancel()


async def _migrate_one(
    bus: CommandBus, principal: Principal, wallet: WalletLine
) -> bool | LineError:
    try:
        outcome = await bus.execute(COMMAND, wallet.raw, principal, wallet.idempotency_key)
    except IdempotencyKeyReused:
        return LineError(
            wallet.line,
            "ALREADY_MIGRATED",
            f"{wallet.merchant_id} {wallet.currency} was migrated before with other balances",
            field="merchant_id",
        )
    except WalletflowError as error:
        return LineError(wallet.line, error.code, error.message)
    return outcome.replayed
