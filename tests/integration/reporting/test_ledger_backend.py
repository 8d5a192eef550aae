"""`walletflow report …` with LEDGER_BACKEND=formance: the reports that read the built-in
ledger's tables refuse with UNSUPPORTED_BY_LEDGER_BACKEND (exit 1); `coa drift` still runs."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from typing import Any

import pytest

# Nothing listens here: the refused reports must not need the Formance server at all.
UNREACHABLE_FORMANCE = "http://127.0.0.1:9"


async def walletflow_formance(database_url: str, *args: str) -> tuple[int, Any]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "walletflow",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={
            **os.environ,
            "DATABASE_URL": database_url,
            "LEDGER_BACKEND": "formance",
            "FORMANCE_URL": UNREACHABLE_FORMANCE,
        },
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode is not None
    try:
        return process.returncode, json.loads(stdout)
    except json.JSONDecodeError:
        raise AssertionError(f"not JSON: {stdout!r} {stderr!r}") from None


@pytest.mark.parametrize(
    "report",
    [["trial-balance"], ["alm"], ["gates"], ["statements", "m1", "NGN"]],
    ids=lambda report: report[0],
)
async def test_cli_reports_refuse_formance_with_a_stable_code(
    database_url: str, report: list[str]
) -> None:
    code, body = await walletflow_formance(database_url, "report", *report)
    assert code == 1
    assert body["error"]["code"] == "UNSUPPORTED_BY_LEDGER_BACKEND", body
    assert body["error"]["details"]["ledgerBackend"] == "formance"


async def test_cli_coa_rebuild_and_drift_run_under_formance(database_url: str) -> None:
    code, rebuilt = await walletflow_formance(database_url, "coa", "rebuild")
    assert code == 0, rebuilt
    code, loaded = await walletflow_formance(
        database_url, "cmd", "rebuildTemplates", "--idempotency-key", "formance-templates"
    )
    assert code == 0, loaded
    assert await walletflow_formance(database_url, "coa", "drift") == (0, {"drift": []})
