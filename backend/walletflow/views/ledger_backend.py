"""Which reads need the built-in ledger: the rule behind `UNSUPPORTED_BY_LEDGER_BACKEND`.

Postings and reporting (trial balance, ALM, the gates, statements) are SQL over the built-in
ledger's own tables (`ledger_postings`, `ledger_volumes`, the statements read model rebuilt
from them). With `LEDGER_BACKEND=formance` those tables stay empty, so these reads would answer
nothing, or a green gate over nothing: they refuse with a typed error instead, in the API and
the CLI alike. Balances, transactions and account movements go through the ledger port and
work with either backend.
"""

from __future__ import annotations

from walletflow.config import LedgerBackend
from walletflow.domain.errors import UnsupportedByLedgerBackend


def require_builtin_ledger(backend: LedgerBackend, read: str) -> None:
    """Refuse `read` (its name, for the message) unless the built-in ledger is configured."""
    if backend is not LedgerBackend.POSTGRES:
        raise UnsupportedByLedgerBackend(
            f"{read} reads the built-in ledger's tables, which LEDGER_BACKEND={backend.value} "
            "does not fill; use LEDGER_BACKEND=postgres",
            details={"ledgerBackend": backend.value, "read": read},
        )
