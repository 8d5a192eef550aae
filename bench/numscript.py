"""Numscript engine throughput: the payin template, compiled once, run many times on one core.

    python bench/numscript.py [--seconds 3]
prints runs/s (target: >= 20,000).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from walletflow.numscript import compile_script

PAYIN = Path(__file__).resolve().parents[1] / "numscript" / "payin.num"
VARIABLES = {
    "amount": "NGN/2 1000000",
    "fee": "NGN/2 15050",
    "vat_share": "3/43",
    "provider_settlement": "providers:paystack:NGN:settlement",
    "merchant_available": "merchants:m1:NGN:available",
    "fee_revenue": "fees:NGN:revenue",
    "vat_payable": "tax:NGN:vat",
}
BALANCES = {"merchants:m1:NGN:available": {"NGN/2": 12_345}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()

    program = compile_script(PAYIN.read_text())
    expected = program.run(VARIABLES, BALANCES).postings
    assert sum(p.amount for p in expected) == 1_000_000

    runs = 0
    started = time.perf_counter()
    deadline = started + args.seconds
    while time.perf_counter() < deadline:
        for _ in range(1000):
            program.run(VARIABLES, BALANCES)
        runs += 1000
    elapsed = time.perf_counter() - started
    rate = runs / elapsed
    print(f"numscript payin: {rate:,.0f} runs/s ({runs} runs in {elapsed:.2f}s, one core)")


if __name__ == "__main__":
    main()
