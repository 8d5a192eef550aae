"""Formance's own interpreter test cases, run through walletflow's engine.

The corpus lives beside the repository (`../shared/formance-numscript`, MIT, Formance) and is
read at test time, never copied in. `NUMSCRIPT_CONFORMANCE_DIR` points elsewhere if needed.
Core cases must all pass. Cases with `featureFlags` are Formance's experimental features: they
run too; the ones needing asset colors or asset scaling (not supported) are expected to fail.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from walletflow.numscript import NumscriptError, compile_script

REPO_ROOT = Path(__file__).resolve().parents[3]
CORPUS = Path(
    os.environ.get("NUMSCRIPT_CONFORMANCE_DIR")
    or (REPO_ROOT / ".." / "shared" / "formance-numscript")
).resolve()

UNSUPPORTED_FLAGS = {
    "experimental-asset-colors": "asset colors are not supported",
    "experimental-asset-scaling": "asset scaling is not supported",
}


def _cases() -> list[Any]:
    params: list[Any] = []
    for specs_path in sorted(CORPUS.rglob("*.num.specs.json")):
        script_path = specs_path.with_name(specs_path.name.removesuffix(".specs.json"))
        specs = json.loads(specs_path.read_text())
        flags = tuple(specs.get("featureFlags", ()))
        kind = "experimental" if flags else "core"
        for index, case in enumerate(specs["testCases"]):
            marks = []
            unsupported = [UNSUPPORTED_FLAGS[f] for f in flags if f in UNSUPPORTED_FLAGS]
            if unsupported:
                marks.append(pytest.mark.xfail(reason="; ".join(unsupported), strict=True))
            if case.get("skip"):
                marks.append(pytest.mark.skip(reason="skipped in the corpus"))
            name = f"{kind}:{script_path.relative_to(CORPUS)}#{index}:{case['it']}"
            params.append(pytest.param(script_path, specs, case, flags, id=name, marks=marks))
    return params


if not CORPUS.is_dir():
    pytest.skip(f"conformance corpus not found at {CORPUS}", allow_module_level=True)


def _balances(rows: list[dict[str, Any]]) -> dict[str, dict[str, int]]:
    balances: dict[str, dict[str, int]] = {}
    for row in rows:
        asset = row["asset"] + (f"_{row['color']}" if row.get("color") else "")
        balances.setdefault(row["account"], {})[asset] = row["amount"]
    return balances


def _merged(specs: dict[str, Any], case: dict[str, Any], key: str) -> Any:
    if key == "balances":
        return [*specs.get("balances", []), *case.get("balances", [])]
    merged = dict(specs.get(key, {}))
    merged.update(case.get(key, {}))
    return merged


@pytest.mark.parametrize(("script_path", "specs", "case", "flags"), _cases())
def test_formance_case(
    script_path: Path, specs: dict[str, Any], case: dict[str, Any], flags: tuple[str, ...]
) -> None:
    balances = _balances(_merged(specs, case, "balances"))
    variables = _merged(specs, case, "variables")
    metadata = _merged(specs, case, "metadata")

    program = compile_script(script_path.read_text())
    if case.get("expect.error.missingFunds"):
        with pytest.raises(NumscriptError) as excinfo:
            program.run(variables, balances, metadata, feature_flags=flags)
        assert excinfo.value.code == "INSUFFICIENT_FUND"
        return

    result = program.run(variables, balances, metadata, feature_flags=flags)
    postings = [
        {"source": p.source, "destination": p.destination, "amount": p.amount, "asset": p.asset}
        for p in result.postings
    ]
    if "expect.postings" in case:
        expected = [{k: v for k, v in p.items() if k != "color"} for p in case["expect.postings"]]
        assert postings == expected
    if "expect.txMetadata" in case:
        assert result.tx_metadata == case["expect.txMetadata"]
    if "expect.metadata" in case:
        assert result.accounts_metadata == case["expect.metadata"]
    if "expect.movements" in case:
        movements: dict[tuple[str, str, str], int] = {}
        for p in result.postings:
            key = (p.source, p.destination, p.asset)
            movements[key] = movements.get(key, 0) + p.amount
        expected_movements = {
            (m["source"], m["destination"], m["asset"]): m["amount"]
            for m in case["expect.movements"]
        }
        assert movements == expected_movements
    for key in ("expect.endBalances", "expect.endBalances.include"):
        if key in case:
            end = {(a, s): v for a, by in balances.items() for s, v in by.items()}
            for p in result.postings:
                end[(p.source, p.asset)] = end.get((p.source, p.asset), 0) - p.amount
                end[(p.destination, p.asset)] = end.get((p.destination, p.asset), 0) + p.amount
            for row in case[key]:
                assert end.get((row["account"], row["asset"]), 0) == row["amount"]
