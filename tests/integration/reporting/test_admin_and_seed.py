"""rebuildCoa and rebuildStatements run through the registry like every command; the demo seed
is idempotent; the CLI prints JSON and exits non-zero on a red gate."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio import Redis
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.support.service_fixtures import Run
from walletflow.bootstrap import Container
from walletflow.coa.csv_io import CoaCsvError
from walletflow.coa.store import default_seeds_dir, list_coa_accounts
from walletflow.db.schema_ledger import ledger_transactions
from walletflow.db.schema_reporting import statement_lines
from walletflow.db.schema_service import outbox
from walletflow.reporting.gates import run_gates
from walletflow.seeds import demo_steps, seed_demo
from walletflow.workers.jobs import execute_job


async def count(engine: AsyncEngine, table: Any) -> int:
    async with engine.connect() as connection:
        return int(await connection.scalar(select(func.count()).select_from(table)) or 0)


async def test_rebuild_coa_loads_the_seeds_and_emits_an_event(
    engine: AsyncEngine, run: Run
) -> None:
    outcome = await run("rebuildCoa")
    assert outcome.result.status == "completed"
    assert outcome.result.data == {"coaAccounts": 13, "glMappings": 29}
    async with engine.connect() as connection:
        assert len(await list_coa_accounts(connection)) == 13
        events = (await connection.execute(select(outbox.c.event_type, outbox.c.payload))).all()
    assert [(event_type, payload["glMappings"]) for event_type, payload in events] == [
        ("coa.rebuilt", 29)
    ]


async def test_rebuild_coa_with_a_bad_seed_is_a_typed_error_that_changes_nothing(
    engine: AsyncEngine, run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    await run("rebuildCoa")
    (tmp_path / "coa.csv").write_text(
        (default_seeds_dir() / "coa.csv").read_text().replace(",VAT payable,", ",,")
    )
    (tmp_path / "gl_mappings.csv").write_text((default_seeds_dir() / "gl_mappings.csv").read_text())
    monkeypatch.setenv("WALLETFLOW_SEEDS_DIR", str(tmp_path))
    with pytest.raises(CoaCsvError) as raised:
        await run("rebuildCoa")
    assert raised.value.code == "COA_SEED_INVALID"
    assert raised.value.message.startswith(f"{tmp_path / 'coa.csv'}:12:2: ")
    async with engine.connect() as connection:
        names = {account.name for account in await list_coa_accounts(connection)}
    assert "VAT payable" in names


async def test_rebuild_statements_command_applies_new_postings_then_queues_a_full_rebuild(
    engine: AsyncEngine, run: Run, funded_merchant: str, redis: Redis
) -> None:
    incremental = await run("rebuildStatements")
    assert incremental.result.data["full"] is False
    assert incremental.result.data["transactions"] == 1
    assert (await run("rebuildStatements", full=False)).result.data["transactions"] == 0
    full = await run("rebuildStatements", full=True)
    assert full.result.data["state"] == "queued" and full.result.data["jobId"].startswith("job_")
    ran = await execute_job(engine, redis, full.result.data["jobId"], "test-worker")
    assert ran["state"] == "done"
    assert (ran["result"]["full"], ran["result"]["transactions"]) == (True, 1)
    assert await count(engine, statement_lines) == 1


async def test_seed_demo_twice_changes_nothing_and_leaves_the_gates_green(
    engine: AsyncEngine, container: Container
) -> None:
    first = await seed_demo(container)
    assert (first.executed, first.replayed) == (len(demo_steps()), 0)
    transactions = await count(engine, ledger_transactions)
    lines = await count(engine, statement_lines)
    assert transactions > 10 and lines > 0

    again = await seed_demo(container)
    assert (again.executed, again.replayed) == (0, len(demo_steps()))
    assert await count(engine, ledger_transactions) == transactions
    assert await count(engine, statement_lines) == lines
    async with engine.begin() as connection:
        results = await run_gates(connection, container.templates)
    assert {r.name: r.ok for r in results} == {
        "books_foot": True,
        "holds": True,
        "statements": True,
        "coa_templates": True,
        "suspense": True,
    }


def test_every_seed_step_has_a_distinct_deterministic_key() -> None:
    keys = [step.key for step in demo_steps()]
    assert len(keys) == len(set(keys))
    assert all(key.startswith("seed-demo-") for key in keys)
    assert keys == [step.key for step in demo_steps()]


async def walletflow_cli(database_url: str, *args: str) -> tuple[int, Any]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "walletflow",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "DATABASE_URL": database_url},
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode is not None
    try:
        return process.returncode, json.loads(stdout)
    except json.JSONDecodeError:
        raise AssertionError(f"not JSON: {stdout!r} {stderr!r}") from None


async def test_cli_seeds_reports_exports_and_fails_on_a_red_gate(
    database_url: str, engine: AsyncEngine, tmp_path: Path
) -> None:
    code, seeded = await walletflow_cli(database_url, "seed", "demo")
    assert code == 0 and seeded["executed"] == seeded["commands"]

    code, gates = await walletflow_cli(database_url, "report", "gates")
    assert code == 0 and gates["ok"] is True

    code, balance = await walletflow_cli(database_url, "report", "trial-balance", "--asset", "UGX")
    assert code == 0 and balance["foots"] is True
    assert {line["asset"] for line in balance["lines"]} == {"UGX"}

    code, written = await walletflow_cli(database_url, "coa", "export", "--out", str(tmp_path))
    assert code == 0 and len(written["written"]) == 2
    for name in ("coa.csv", "gl_mappings.csv"):
        assert (tmp_path / name).read_text() == (default_seeds_dir() / name).read_text()

    code, drift = await walletflow_cli(database_url, "coa", "drift")
    assert (code, drift) == (0, {"drift": []})

    async with engine.begin() as connection:
        await connection.execute(text("UPDATE holds SET amount_minor = amount_minor + 1"))
    code, gates = await walletflow_cli(database_url, "report", "gates")
    assert code == 1
    assert {g["name"]: g["status"] for g in gates["gates"]}["holds"] == "red"
