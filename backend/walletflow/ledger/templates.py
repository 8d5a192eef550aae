"""The Numscript templates the commands run: loaded from `numscript/*.num`, hashed, reloadable.

`rebuildTemplates` reloads them from disk and records what is loaded in the database; the
COA/templates gate compares the files, the loaded set and the GL mappings for drift.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from walletflow.domain.errors import NotFound
from walletflow.numscript import compile_script

TEMPLATE_NAMES: tuple[str, ...] = (
    "payin",
    "transfer",
    "payout_reserve",
    "payout_settle",
    "payout_release",
    "payout_fee",
    "fx_deal",
    "counterparty_trade",
    "stablecoin_onramp",
    "stablecoin_offramp",
    "gps_pool_topup",
    "gps_cross_currency_payout",
    "bank_funding",
    "opening_balance",
    "migration",
    "rolling_reserve_hold",
    "rolling_reserve_release",
    "correction_credit",
    "correction_debit",
)
MAX_TEMPLATE_BYTES = 64 * 1024


def default_templates_dir() -> Path:
    configured = os.environ.get("WALLETFLOW_TEMPLATES_DIR")
    if configured:
        return Path(configured)
    return Path(__file__).resolve().parents[3] / "numscript"


def source_hash(source: str) -> str:
    return hashlib.sha256(source.encode()).hexdigest()


class TemplateCatalog:
    """Template name → Numscript source, every one compiled once at load to fail fast."""

    def __init__(self, directory: Path | None = None) -> None:
        self.directory = directory or default_templates_dir()
        self._sources: dict[str, str] = {}
        self.reload()

    def reload(self) -> dict[str, str]:
        """Read every template from disk; return name → sha256. A broken one raises."""
        sources: dict[str, str] = {}
        for path in sorted(self.directory.glob("*.num")):
            assert path.stat().st_size <= MAX_TEMPLATE_BYTES, path
            source = path.read_text()
            compile_script(source)
            sources[path.stem] = source
        missing = set(TEMPLATE_NAMES) - set(sources)
        assert not missing, f"templates missing from {self.directory}: {sorted(missing)}"
        self._sources = sources
        return self.hashes()

    def source(self, name: str) -> str:
        try:
            return self._sources[name]
        except KeyError:
            raise NotFound(f"no Numscript template {name!r}") from None

    def hashes(self) -> dict[str, str]:
        return {name: source_hash(source) for name, source in sorted(self._sources.items())}

    def names(self) -> list[str]:
        return sorted(self._sources)
