"""The ledger: `LedgerPort` (port.py), the built-in Postgres ledger (pg/, the default), the
Formance v2 adapter (formance.py) and the Numscript template catalog (templates.py).
`create_ledger` picks a ledger from the settings."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from walletflow.config import LedgerBackend, Settings
from walletflow.ledger.port import LedgerPort


def create_ledger(settings: Settings, engine: AsyncEngine) -> LedgerPort:
    """The configured ledger (LEDGER_BACKEND): PostgresLedger on `engine`, or FormanceLedger
    on FORMANCE_URL / FORMANCE_LEDGER (close it with `aclose()`)."""
    if settings.ledger_backend is LedgerBackend.FORMANCE:
        from walletflow.ledger.formance import FormanceLedger

        assert settings.formance_url is not None, "config requires FORMANCE_URL for formance"
        return FormanceLedger(settings.formance_url, settings.formance_ledger)
    from walletflow.ledger.pg import PostgresLedger

    return PostgresLedger(engine)


__all__ = ["LedgerPort", "create_ledger"]
