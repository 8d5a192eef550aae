"""Reporting: plain SQL views over the ledger (trial balance, ALM), the statements read model
and the gates. No domain objects: reads bypass the domain, as cosmicpython's views do."""

from walletflow.reporting.balances import (
    AlmView,
    TrialBalance,
    alm_view,
    trial_balance,
)
from walletflow.reporting.gates import GATE_NAMES, GateResult, run_gates
from walletflow.reporting.statements import (
    RebuildReport,
    StatementPage,
    WalletBalances,
    list_statement_lines,
    rebuild_statements,
    wallet_balances,
)

__all__ = [
    "GATE_NAMES",
    "AlmView",
    "GateResult",
    "RebuildReport",
    "StatementPage",
    "TrialBalance",
    "WalletBalances",
    "alm_view",
    "list_statement_lines",
    "rebuild_statements",
    "run_gates",
    "trial_balance",
    "wallet_balances",
]
