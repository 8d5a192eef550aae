"""At volume: a generated 5,000-line MT940 and camt.053 parse, and match against the ledger
side, with every line found once. Prints the cost (not asserted: tests never time)."""

from __future__ import annotations

import random
import time
from datetime import date, timedelta

from walletflow.recon.camt import parse_camt
from walletflow.recon.matching import OpenLine, OpenMovement, match
from walletflow.recon.mt940 import parse_mt940

N = 5_000
DAY = date(2026, 11, 1)


def _amounts(seed: int) -> list[int]:
    rng = random.Random(seed)
    return [rng.randint(1, 5_000_000) * (1 if rng.random() < 0.6 else -1) for _ in range(N)]


def generate_mt940(amounts: list[int]) -> bytes:
    out = [":20:VOL20261101", ":25:GTBINGLA/0123456789", ":28C:1/1", ":60F:C261101NGN0,00"]
    total = 0
    for i, minor in enumerate(amounts):
        mark = "C" if minor > 0 else "D"
        day = DAY + timedelta(days=i % 20)
        out.append(
            f":61:{day:%y%m%d}{day:%m%d}{mark}N{abs(minor) // 100},{abs(minor) % 100:02d}"
            f"NTRFREF{i:08d}//GTB{i:013d}"
        )
        out.append(f":86:volume line {i}")
        total += minor
    mark = "C" if total >= 0 else "D"
    out.append(
        f":62F:{mark}{DAY + timedelta(days=19):%y%m%d}NGN{abs(total) // 100},{abs(total) % 100:02d}"
    )
    return ("\r\n".join(out) + "\r\n-}").encode()


def generate_camt053(amounts: list[int]) -> bytes:
    entries = []
    for i, minor in enumerate(amounts):
        day = DAY + timedelta(days=i % 20)
        entries.append(
            f'<Ntry><Amt Ccy="NGN">{abs(minor) // 100}.{abs(minor) % 100:02d}</Amt>'
            f"<CdtDbtInd>{'CRDT' if minor > 0 else 'DBIT'}</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>"
            f"<BookgDt><Dt>{day}</Dt></BookgDt><ValDt><Dt>{day}</Dt></ValDt>"
            f"<AcctSvcrRef>GTB{i:013d}</AcctSvcrRef><NtryDtls><TxDtls><Refs>"
            f"<EndToEndId>REF{i:08d}</EndToEndId></Refs></TxDtls></NtryDtls></Ntry>"
        )
    return (
        '<?xml version="1.0"?><Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">'
        "<BkToCstmrStmt><GrpHdr><MsgId>V</MsgId></GrpHdr><Stmt><Id>VOL</Id>"
        "<Acct><Id><Othr><Id>0123456789</Id></Othr></Id><Ccy>NGN</Ccy></Acct>"
        + "".join(entries)
        + "</Stmt></BkToCstmrStmt></Document>"
    ).encode()


def test_five_thousand_lines_parse_and_each_matches_its_own_movement_once() -> None:
    amounts = _amounts(15)
    started = time.perf_counter()
    mt = parse_mt940(generate_mt940(amounts))
    camt = parse_camt(generate_camt053(amounts))
    parsed_s = time.perf_counter() - started
    assert [x.signed_minor for x in mt.lines] == amounts
    assert [x.fingerprint for x in mt.lines] == [x.fingerprint for x in camt.lines]
    lines = [
        OpenLine(str(i), x.signed_minor, x.value_date, x.reference, x.bank_reference, "")
        for i, x in enumerate(mt.lines)
    ]
    # the ledger side: half carry the reference, half only amount and date (unique amounts not
    # guaranteed, so the engine must leave duplicates open rather than guess)
    moves = [
        OpenMovement(f"m{i}", minor, DAY + timedelta(days=i % 20), f"REF{i:08d}" if i % 2 else "")
        for i, minor in enumerate(amounts)
    ]
    started = time.perf_counter()
    result = match(lines, moves)
    matched_s = time.perf_counter() - started
    matched_lines = [lid for m in result.matches for lid in m.line_ids]
    matched_moves = [mid for m in result.matches for mid in m.movement_ids]
    assert len(matched_lines) == len(set(matched_lines))
    assert len(matched_moves) == len(set(matched_moves))
    assert sum(1 for m in result.matches if m.rule == "exact_reference") == N // 2
    for found in result.matches:
        (lid,), (mid,) = found.line_ids, found.movement_ids
        assert mid == f"m{lid}", "a line is only ever matched to its own movement"
    print(
        f"\nrecon volume: {N} lines x2 formats parsed in {parsed_s:.3f}s "
        f"({2 * N / parsed_s:,.0f} lines/s); matched {len(result.matches)} in {matched_s:.3f}s "
        f"({N / matched_s:,.0f} lines/s)"
    )
