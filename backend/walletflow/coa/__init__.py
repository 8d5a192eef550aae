"""The chart of accounts: seeds (`seeds/coa.csv`, `seeds/gl_mappings.csv`), CSV ingest and
export, the loaded tables, the GL resolver and drift detection."""

from walletflow.coa.csv_io import CoaCsvError, export_coa, export_gl_mappings, read_seeds
from walletflow.coa.drift import DriftItem, coa_drift
from walletflow.coa.model import CoaAccount, GlLeg, GlMapping, resolve_gl
from walletflow.coa.store import (
    default_seeds_dir,
    export_loaded,
    list_coa_accounts,
    list_gl_mappings,
    rebuild_coa,
)

__all__ = [
    "CoaAccount",
    "CoaCsvError",
    "DriftItem",
    "GlLeg",
    "GlMapping",
    "coa_drift",
    "default_seeds_dir",
    "export_coa",
    "export_gl_mappings",
    "export_loaded",
    "list_coa_accounts",
    "list_gl_mappings",
    "read_seeds",
    "rebuild_coa",
    "resolve_gl",
]
