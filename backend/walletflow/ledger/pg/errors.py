"""The ledger's own reading of a database failure, on top of the shared table in `db/errors.py`:
the constraints it owns name a precise error (the overdraft CHECK is `InsufficientFunds`, the
unique reference is `ReferenceConflict`, the unique revert is `AlreadyReverted`); everything
else is what `database_error` says it is."""

from __future__ import annotations

import re
from typing import Any

from walletflow.db.errors import DbFault, classify, database_error, pg_details
from walletflow.domain.errors import (
    AlreadyReverted,
    InsufficientFunds,
    ReferenceConflict,
    WalletflowError,
)

OVERDRAFT_CHECK = "ck_ledger_volumes_no_overdraft"
REFERENCE_UNIQUE = "uq_ledger_transactions_reference"
REVERT_UNIQUE = "uq_ledger_transactions_reverts_tx_id"
FAILING_ROW = re.compile(r"Failing row contains \(([^,]*), ([^,]*),")
"""The (account, asset) at the head of the volume row PostgreSQL names in a CHECK failure."""


def map_error(error: BaseException) -> WalletflowError | None:
    """A typed error for a database failure, or None when it is not one we know."""
    fault = classify(error)
    if fault is DbFault.CHECK_VIOLATION or fault is DbFault.UNIQUE_VIOLATION:
        details = pg_details(error)
        if fault is DbFault.CHECK_VIOLATION and details.constraint == OVERDRAFT_CHECK:
            found: dict[str, Any] = {}
            match = FAILING_ROW.search(details.detail or "")
            if match:
                found = {"account": match.group(1), "asset": match.group(2)}
            return InsufficientFunds("insufficient funds", details=found)
        if fault is DbFault.UNIQUE_VIOLATION and details.constraint == REFERENCE_UNIQUE:
            return ReferenceConflict("a transaction with this reference exists")
        if fault is DbFault.UNIQUE_VIOLATION and details.constraint == REVERT_UNIQUE:
            return AlreadyReverted("transaction already reverted")
    return database_error(error)
