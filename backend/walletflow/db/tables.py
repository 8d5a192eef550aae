"""SQLAlchemy Core tables: one MetaData for the whole schema.

Each bounded area defines its tables in its own module (`db/schema_*.py`) against this
`metadata`; importing this module imports them all, so Alembic and tests see the whole schema.
"""

from __future__ import annotations

from walletflow.db import (
    schema_api,  # noqa: F401  (registers the API tables)
    schema_audit,  # noqa: F401  (registers the audit and approval tables)
    schema_jobs,  # noqa: F401  (registers the long jobs table)
    schema_ledger,  # noqa: F401  (registers the ledger tables)
    schema_recon,  # noqa: F401  (registers the reconciliation tables)
    schema_reporting,  # noqa: F401  (registers the reporting tables)
    schema_service,  # noqa: F401  (registers the service tables)
    schema_workers,  # noqa: F401  (registers the worker tables)
)
from walletflow.db.metadata import metadata
from walletflow.db.schema_foundation import idempotency_claims

__all__ = ["idempotency_claims", "metadata"]
