"""The chart of accounts seeds: they agree with the address classifier, cover every template,
reject bad rows naming file:line:column, and export back byte for byte."""

from __future__ import annotations

from pathlib import Path

import pytest

from walletflow.coa.csv_io import (
    COA_FILE,
    GL_FILE,
    CoaCsvError,
    export_coa,
    export_gl_mappings,
    parse_coa,
    parse_gl_mappings,
    read_seeds,
)
from walletflow.coa.model import pattern_regex, resolve_gl, sample_address
from walletflow.coa.store import default_seeds_dir
from walletflow.domain import accounts
from walletflow.domain.accounts import ACCOUNT_KINDS, UnclassifiedAccount, classify
from walletflow.ledger.templates import TEMPLATE_NAMES

SEEDS = default_seeds_dir()
COA_TEXT = (SEEDS / COA_FILE).read_text()
GL_TEXT = (SEEDS / GL_FILE).read_text()

# One address per family, built by the domain's own builders.
ADDRESSES: dict[str, str] = {
    "world": accounts.WORLD,
    "merchant_available": accounts.merchant_available("m1", "NGN"),
    "merchant_hold": accounts.merchant_hold("m1", "NGN", "po_1"),
    "merchant_reserve": accounts.merchant_reserve("m1", "NGN"),
    "provider_settlement": accounts.provider_settlement("sandbox", "KES"),
    "bank": accounts.bank("gtbank", "NGN"),
    "fees_revenue": accounts.fees_revenue("UGX"),
    "tax_vat": accounts.tax_vat("NGN"),
    "fx_position": accounts.fx_position("USD"),
    "gps_pool": accounts.gps_pool("KES"),
    "stablecoin_custody": accounts.stablecoin_custody("USDC"),
    "counterparty": accounts.counterparty("otc-1", "USD"),
    "suspense": accounts.suspense("NGN"),
}


def test_the_address_table_covers_every_classifier_kind() -> None:
    assert set(ADDRESSES) == set(ACCOUNT_KINDS)


@pytest.mark.parametrize("kind", ACCOUNT_KINDS)
def test_every_address_family_classifies_to_its_coa_account(kind: str) -> None:
    coa = {account.kind: account for account in parse_coa(COA_TEXT)}
    address = ADDRESSES[kind]
    classification = classify(address)
    account = coa[kind]
    assert classification.kind == kind
    assert classification.account_class is account.account_class
    assert classification.normal_balance is account.normal_balance
    assert classification.may_go_negative is account.may_go_negative
    assert classify(sample_address(account.address_pattern)).kind == kind


def test_addresses_outside_the_scheme_are_refused() -> None:
    for address in ("merchants:m1:NGN", "nobody:here", "merchants:m1:NGN:holds", "bad address"):
        with pytest.raises(UnclassifiedAccount):
            classify(address)


def test_each_coa_pattern_regex_matches_exactly_its_family() -> None:
    import re

    for account in parse_coa(COA_TEXT):
        regex = re.compile(pattern_regex(account.address_pattern))
        matching = {kind for kind, address in ADDRESSES.items() if regex.match(address)}
        assert matching == {account.kind}, account.code


def test_gl_mappings_cover_every_template_with_at_least_eighteen_legs() -> None:
    coa, mappings = read_seeds(SEEDS)
    assert len(mappings) >= 18
    assert {m.template for m in mappings} == set(TEMPLATE_NAMES)
    codes = {a.code for a in coa}
    assert all(m.debit_code in codes and m.credit_code in codes for m in mappings)


def test_a_posting_debits_its_source_and_credits_its_destination_account() -> None:
    coa = {account.kind: account for account in parse_coa(COA_TEXT)}
    leg = resolve_gl(coa, ADDRESSES["provider_settlement"], ADDRESSES["merchant_available"])
    assert (leg.debit_code, leg.credit_code) == (
        coa["provider_settlement"].code,
        coa["merchant_available"].code,
    )


def test_export_round_trips_the_seed_files_byte_for_byte() -> None:
    coa = parse_coa(COA_TEXT)
    mappings = parse_gl_mappings(GL_TEXT, coa)
    assert export_coa(coa) == COA_TEXT
    assert export_gl_mappings(mappings) == GL_TEXT
    assert parse_coa(export_coa(coa)) == coa
    assert parse_gl_mappings(export_gl_mappings(mappings), coa) == mappings


def _replace_line(text: str, line: int, new: str) -> str:
    lines = text.splitlines(keepends=True)
    lines[line - 1] = new + "\n"
    return "".join(lines)


COA_LINE_2 = COA_TEXT.splitlines()[1]


@pytest.mark.parametrize(
    ("mutated", "line", "column", "reason"),
    [
        (COA_TEXT.replace("code,name", "kode,name", 1), 1, 1, "expected column 'code'"),
        (_replace_line(COA_TEXT, 2, "10x0" + COA_LINE_2[4:]), 2, 1, "4 digits"),
        (_replace_line(COA_TEXT, 3, COA_LINE_2), 3, 1, "duplicate code"),
        (
            _replace_line(COA_TEXT, 2, COA_LINE_2.replace(",bank,", ",banks,")),
            2,
            3,
            "unknown account kind",
        ),
        (
            _replace_line(COA_TEXT, 2, COA_LINE_2.replace("ASSET,DEBIT", "LIABILITY,DEBIT")),
            2,
            4,
            "classifier says ASSET",
        ),
        (
            _replace_line(COA_TEXT, 2, COA_LINE_2.replace(",true", ",false")),
            2,
            7,
            "classifier says true",
        ),
        (
            _replace_line(
                COA_TEXT, 2, COA_LINE_2.replace("banks:{bank}:{ccy}", "fees:{ccy}:revenue")
            ),
            2,
            6,
            "classifies as fees_revenue",
        ),
        (_replace_line(COA_TEXT, 4, "1030,GPS pools,gps_pool"), 4, 4, "expected 7 columns"),
        (_replace_line(COA_TEXT, 2, COA_LINE_2.replace(",true", ",yes")), 2, 7, "true or false"),
    ],
)
def test_a_bad_coa_row_is_refused_naming_file_line_and_column(
    mutated: str, line: int, column: int, reason: str
) -> None:
    with pytest.raises(CoaCsvError) as raised:
        parse_coa(mutated, "seeds/coa.csv")
    error = raised.value
    assert (error.file, error.line, error.column) == ("seeds/coa.csv", line, column)
    assert error.message.startswith(f"seeds/coa.csv:{line}:{column}: ")
    assert reason in error.message
    assert error.code == "COA_SEED_INVALID"


GL_LINE_2 = GL_TEXT.splitlines()[1]  # bank_funding,funding,world,bank,3000,1010,…


@pytest.mark.parametrize(
    ("mutated", "line", "column", "reason"),
    [
        (
            _replace_line(GL_TEXT, 2, GL_LINE_2.replace(",3000,1010,", ",1010,1010,")),
            2,
            5,
            "world is GL 3000",
        ),
        (
            _replace_line(GL_TEXT, 2, GL_LINE_2.replace(",3000,1010,", ",3000,9999,")),
            2,
            6,
            "not in the COA",
        ),
        (_replace_line(GL_TEXT, 2, GL_LINE_2.replace(",world,", ",moon,")), 2, 3, "no COA account"),
        (_replace_line(GL_TEXT, 3, GL_LINE_2), 3, 2, "duplicate leg"),
        (
            _replace_line(GL_TEXT, 2, GL_LINE_2.replace("bank_funding", "Bank Funding")),
            2,
            1,
            "malformed template",
        ),
        (_replace_line(GL_TEXT, 2, GL_LINE_2 + ",extra"), 2, 8, "expected 7 columns"),
    ],
)
def test_a_bad_gl_mapping_row_is_refused_naming_file_line_and_column(
    mutated: str, line: int, column: int, reason: str
) -> None:
    coa = parse_coa(COA_TEXT)
    with pytest.raises(CoaCsvError) as raised:
        parse_gl_mappings(mutated, coa, "seeds/gl_mappings.csv")
    error = raised.value
    assert (error.line, error.column) == (line, column)
    assert error.message.startswith(f"seeds/gl_mappings.csv:{line}:{column}: ")
    assert reason in error.message


def test_a_missing_seed_file_is_a_typed_error_naming_the_file(tmp_path: Path) -> None:
    with pytest.raises(CoaCsvError) as raised:
        read_seeds(tmp_path)
    assert raised.value.file == str(tmp_path / COA_FILE)
