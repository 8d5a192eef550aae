"""The authority matrix: the README's table is what the registry enforces, and the registry's
declarations follow the rule "merchants never create value; a person's entry of value is under
four eyes" — read off the templates' GL mappings, not restated by hand."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest

from walletflow.coa.store import default_seeds_dir
from walletflow.domain.errors import Forbidden
from walletflow.domain.principals import SYSTEM_CLI, Principal, Role, provider_principal
from walletflow.service.authority import matrix_markdown
from walletflow.service.catalog import build_registry
from walletflow.service.registry import (
    Authority,
    CommandSpec,
    Permission,
    authorize,
    may_run,
)

REGISTRY = build_registry()
SPECS = list(REGISTRY)
README = Path(__file__).resolve().parents[3] / "README.md"
MATRIX_RE = re.compile(
    r"<!-- authority-matrix:start -->\n(.*?)<!-- authority-matrix:end -->", re.DOTALL
)
MERCHANT = Principal(Role.MERCHANT, "key_1", merchant_id="m1")

# Account kinds whose money is the company's or the outside world's: a posting out of one of
# them creates value in the books (or spends the house's).
HOUSE_KINDS = frozenset(
    {
        "world",
        "bank",
        "provider_settlement",
        "gps_pool",
        "fx_position",
        "stablecoin_custody",
        "counterparty",
        "suspense",
    }
)
# Templates a command runs besides its declared one (a correction debits with the other).
EXTRA_TEMPLATES = {"postCorrection": ("correction_debit",)}
# The FX position takes the other side of a merchant's exchange, but at a quote the server
# made from its own rate (amounts never supplied): the merchant spends only its own money.
QUOTED_EXCHANGES = frozenset({"bookFxDeal"})
# Commands with no template that still need a second person: a reversal mirrors any movement;
# flags and access lists decide who and what may transact.
FOUR_EYES_WITHOUT_TEMPLATE = frozenset({"reverse", "setFeatureFlag", "saveAccessLists"})


def source_kinds() -> dict[str, set[str]]:
    kinds: dict[str, set[str]] = {}
    with (default_seeds_dir() / "gl_mappings.csv").open() as handle:
        for row in csv.DictReader(handle):
            kinds.setdefault(row["template"], set()).add(row["source_kind"])
    return kinds


SOURCES = source_kinds()


def takes_house_money(spec: CommandSpec) -> bool:
    templates = [spec.template, *EXTRA_TEMPLATES.get(spec.name, ())] if spec.template else []
    return any(SOURCES[name] & HOUSE_KINDS for name in templates)


def test_the_readme_table_is_the_registry_matrix() -> None:
    found = MATRIX_RE.search(README.read_text())
    assert found is not None, "README has no authority-matrix markers"
    expected = matrix_markdown(REGISTRY)
    assert found.group(1) == expected, "README authority matrix is stale; paste:\n" + expected


def test_the_matrix_lists_every_command_once() -> None:
    rows = [line for line in matrix_markdown(REGISTRY).splitlines() if line.startswith("| `")]
    assert [row.split("`")[1] for row in rows] == REGISTRY.names()
    assert len(rows) == len(REGISTRY) == 28


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_a_command_that_takes_house_money_needs_four_eyes(spec: CommandSpec) -> None:
    if spec.name in QUOTED_EXCHANGES:
        assert takes_house_money(spec) and not spec.four_eyes
        assert spec.permission is Permission.MERCHANT
    elif spec.template is None:
        assert spec.four_eyes == (spec.name in FOUR_EYES_WITHOUT_TEMPLATE)
    else:
        assert spec.four_eyes == takes_house_money(spec)
    assert spec.authority is (Authority.FOUR_EYES if spec.four_eyes else Authority.NONE)


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_a_merchant_never_runs_a_command_that_creates_value(spec: CommandSpec) -> None:
    creates_value = spec.four_eyes or spec.provider_only
    assert may_run(spec, MERCHANT) == (spec.permission is Permission.MERCHANT)
    if creates_value:
        with pytest.raises(Forbidden):
            authorize(spec, MERCHANT, {"merchant_id": "m1", "from_merchant_id": "m1"})


def test_a_pay_in_is_a_provider_fact() -> None:
    payin = REGISTRY.get("postPayin")
    assert payin.provider_only and payin.four_eyes and payin.from_provider
    assert payin.permission is Permission.OPERATOR


def test_a_provider_runs_only_its_webhook_commands_for_itself() -> None:
    sandbox = provider_principal("sandbox")
    allowed = {spec.name for spec in SPECS if may_run(spec, sandbox)}
    assert allowed == {"postPayin", "settleHold", "releaseHold"}
    payin = REGISTRY.get("postPayin")
    authorize(payin, sandbox, {"merchant_id": "m1", "provider": "sandbox"})
    with pytest.raises(Forbidden):
        authorize(payin, sandbox, {"merchant_id": "m1", "provider": "mtn"})
    assert sandbox.provider == "sandbox" and SYSTEM_CLI.provider is None


def test_a_merchant_command_cannot_be_declared_four_eyes_or_provider_only() -> None:
    transfer = REGISTRY.get("transfer")
    with pytest.raises(AssertionError):
        CommandSpec(**{**vars(transfer), "four_eyes": True})
    with pytest.raises(AssertionError):
        CommandSpec(**{**vars(transfer), "provider_only": True})
