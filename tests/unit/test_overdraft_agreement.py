"""The chart of accounts and the ledger agree on which accounts may go negative.

The classifier (domain, feeding the COA seeds) and the ledger's OverdraftPolicy (the database
CHECK) state the same rule in two layers that may not import each other; this pins them.
"""

from __future__ import annotations

import pytest

from walletflow.domain import accounts
from walletflow.domain.accounts import ACCOUNT_KINDS, classify
from walletflow.ledger.policy import DEFAULT_POLICY

ONE_ADDRESS_PER_KIND = {
    "world": accounts.WORLD,
    "merchant_available": accounts.merchant_available("m1", "NGN"),
    "merchant_hold": accounts.merchant_hold("m1", "NGN", "po-1"),
    "merchant_reserve": accounts.merchant_reserve("m1", "NGN"),
    "provider_settlement": accounts.provider_settlement("sandbox", "NGN"),
    "bank": accounts.bank("b1", "NGN"),
    "fees_revenue": accounts.fees_revenue("NGN"),
    "tax_vat": accounts.tax_vat("NGN"),
    "fx_position": accounts.fx_position("NGN"),
    "gps_pool": accounts.gps_pool("KES"),
    "stablecoin_custody": accounts.stablecoin_custody("USDC"),
    "counterparty": accounts.counterparty("cp1", "USD"),
    "suspense": accounts.suspense("NGN"),
}


def test_every_account_kind_has_an_example() -> None:
    assert set(ONE_ADDRESS_PER_KIND) == set(ACCOUNT_KINDS)


@pytest.mark.parametrize(("kind", "address"), sorted(ONE_ADDRESS_PER_KIND.items()))
def test_classifier_and_ledger_policy_agree_on_overdraft(kind: str, address: str) -> None:
    classification = classify(address)
    assert classification.kind == kind
    assert classification.may_go_negative == DEFAULT_POLICY.may_go_negative(address)
