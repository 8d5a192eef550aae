"""Statement parsers on real files: camt.053, camt.054, MT940 and provider CSV."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from walletflow.recon.camt import parse_camt
from walletflow.recon.formats import parse_statement
from walletflow.recon.model import StatementFormatError
from walletflow.recon.mt940 import parse_mt940
from walletflow.recon.settlement_csv import load_mappings, parse_settlement_csv

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "recon"
SEEDS = Path(__file__).resolve().parents[3] / "seeds" / "settlement_mappings.json"


def _read(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def test_camt053_booked_entries_in_minor_units_with_balances() -> None:
    statement = parse_camt(_read("gtb_ngn_2026-11-30.camt053.xml"))
    assert statement.format == "camt.053"
    assert statement.account_id == "0123456789"
    assert statement.currency == "NGN"
    assert [line.signed_minor for line in statement.lines] == [25_000_000, -5_000_000, -350_000]
    assert statement.opening is not None and statement.opening.amount_minor == 100_000_000
    assert statement.closing is not None and statement.closing.amount_minor == 119_650_000
    first = statement.lines[0]
    assert first.reference == "PAYIN-7F3A91C2"
    assert first.bank_reference == "GTB2611300000001"
    assert first.value_date == date(2026, 11, 30)
    assert "PAYOUT-0B12C9D4" in statement.lines[1].narrative
    assert statement.lines[1].reference == ""  # NOTPROVIDED is no reference


def test_camt053_pending_entry_is_not_a_booked_line() -> None:
    statement = parse_camt(_read("gtb_ngn_2026-11-30.camt053.xml"))
    assert all(line.bank_reference != "GTB2611300000004" for line in statement.lines)


def test_camt054_notification_line_has_the_same_fingerprint_as_the_statement_line() -> None:
    notification = parse_camt(_read("gtb_ngn_2026-11-30.camt054.xml"))
    statement = parse_camt(_read("gtb_ngn_2026-11-30.camt053.xml"))
    assert notification.format == "camt.054"
    assert notification.lines[0].fingerprint == statement.lines[0].fingerprint


def test_mt940_and_camt053_of_the_same_day_agree_line_for_line() -> None:
    mt = parse_mt940(_read("gtb_ngn_2026-11-30.mt940"))
    camt = parse_camt(_read("gtb_ngn_2026-11-30.camt053.xml"))
    assert [(x.signed_minor, x.bank_reference) for x in mt.lines] == [
        (x.signed_minor, x.bank_reference) for x in camt.lines
    ]
    assert mt.lines[1].narrative == "NIP TRF PAYOUT-0B12C9D4 TO BOLA ADE"
    assert mt.closing == camt.closing


def test_settlement_csv_read_through_the_seeded_mapping() -> None:
    mappings = load_mappings(SEEDS)
    report = parse_settlement_csv(_read("sandbox_settlement_2026-11-30.csv"), mappings["sandbox"])
    assert report.currency == "KES"
    assert [line.signed_minor for line in report.lines] == [1_500_000, 250_050, -700_000, -12_575]
    assert report.lines[0].line_no == 2


@pytest.mark.parametrize(
    ("name", "location"),
    [
        ("bad_amount.camt053.xml", "Stmt/Ntry[2]/Amt"),
        ("truncated.camt053.xml", "line "),
        ("bad_line.mt940", "line 11"),
        ("bad_balance.mt940", "closing balance"),
    ],
)
def test_a_bad_file_is_refused_naming_the_line_or_element(name: str, location: str) -> None:
    with pytest.raises(StatementFormatError) as caught:
        parse_statement(_read(name))
    assert caught.value.location.startswith(location)
    assert caught.value.code == "STATEMENT_FORMAT_ERROR"


def test_a_bad_csv_row_is_refused_naming_its_line() -> None:
    mappings = load_mappings(SEEDS)
    with pytest.raises(StatementFormatError) as caught:
        parse_statement(_read("bad_settlement.csv"), provider="sandbox", mappings=mappings)
    assert caught.value.location == "line 3"


def test_a_csv_needs_a_provider_mapping() -> None:
    with pytest.raises(StatementFormatError, match="needs --provider"):
        parse_statement(_read("sandbox_settlement_2026-11-30.csv"))
