"""`walletflow ledger …` end to end: JSON out, typed error JSON and exit 1 on failure, and
`verify` naming a row edited by hand."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.integration.ledger.conftest import TEMPLATES


def walletflow(database_url: str, *args: str) -> tuple[int, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "walletflow", "ledger", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "DATABASE_URL": database_url},
        timeout=120,
        check=False,
    )
    return done.returncode, json.loads(done.stdout)


def test_each_ledger_action_has_help() -> None:
    for action in ("post", "revert", "balances", "tx", "verify"):
        done = subprocess.run(
            [sys.executable, "-m", "walletflow", "ledger", action, "--help"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0 and "usage: walletflow ledger" in done.stdout


async def test_post_balances_tx_and_verify_detects_a_hand_edit(
    database_url: str, engine: AsyncEngine
) -> None:
    postings = json.dumps(
        [
            {
                "source": "world",
                "destination": "merchants:m1:NGN:available",
                "amount": 900,
                "asset": "NGN/2",
            }
        ]
    )
    code, funded = walletflow(database_url, "post", "--postings", postings, "--reference", "f-1")
    assert code == 0 and funded["postBalances"]["merchants:m1:NGN:available"]["NGN/2"] == 900

    variables = json.dumps(
        {
            "amount": "NGN/2 300",
            "from_available": "merchants:m1:NGN:available",
            "to_available": "merchants:m2:NGN:available",
        }
    )
    script = str(TEMPLATES / "transfer.num")
    code, moved = walletflow(database_url, "post", "--script", script, "--vars", variables)
    assert code == 0 and moved["transaction"]["postings"][0]["amount"] == 300

    code, refused = walletflow(
        database_url, "post", "--script", script, "--vars", variables.replace("300", "601")
    )
    assert code == 1 and refused["error"]["code"] == "INSUFFICIENT_FUND"

    code, balances = walletflow(database_url, "balances", "--prefix", "merchants:")
    assert code == 0
    assert balances == {
        "merchants:m1:NGN:available": {"NGN/2": 600},
        "merchants:m2:NGN:available": {"NGN/2": 300},
    }

    tx_id = moved["transaction"]["id"]
    code, tx = walletflow(database_url, "tx", str(tx_id))
    assert code == 0 and tx["id"] == tx_id

    code, report = walletflow(database_url, "verify")
    assert code == 0 and report["ok"] and report["sealedEntries"] == 2

    async with engine.begin() as connection:
        await connection.execute(
            text("ALTER TABLE ledger_transactions DISABLE TRIGGER ledger_transactions_append_only")
        )
        await connection.execute(
            text("UPDATE ledger_transactions SET reference = 'forged' WHERE id = :id"),
            {"id": funded["transaction"]["id"]},
        )
        await connection.execute(
            text("ALTER TABLE ledger_transactions ENABLE TRIGGER ledger_transactions_append_only")
        )
    code, report = walletflow(database_url, "verify")
    assert code == 1 and not report["ok"]
    assert report["firstBrokenLink"]["txId"] == funded["transaction"]["id"]
    assert report["firstBrokenLink"]["seq"] == 1


def test_a_malformed_argument_is_a_typed_error(database_url: str) -> None:
    code, answer = walletflow(database_url, "post", "--postings", "not json")
    assert code == 1 and answer["error"]["code"] == "VALIDATION_ERROR"
    code, answer = walletflow(database_url, "tx", "424242")
    assert code == 1 and answer["error"]["code"] == "NOT_FOUND"
