"""Drift between the seeds (files), the loaded COA/GL tables, the classifier and the templates.

No drift means: the seed files are valid; every classifier kind has a COA account; every
template on disk has GL mappings and every mapping names a template that exists; the loaded
COA and GL tables equal the files; the loaded templates (`loaded_templates`) equal the
template files on disk, and the in-memory catalog equals them too.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from walletflow.coa.csv_io import CoaCsvError, read_seeds
from walletflow.coa.model import CoaAccount, GlMapping
from walletflow.coa.store import default_seeds_dir, list_coa_accounts, list_gl_mappings
from walletflow.db.schema_service import loaded_templates
from walletflow.domain.accounts import ACCOUNT_KINDS
from walletflow.ledger.templates import MAX_TEMPLATE_BYTES, TemplateCatalog, source_hash

MAX_TEMPLATE_FILES = 500
T = TypeVar("T")


@dataclass(frozen=True)
class DriftItem:
    check: str
    """A stable name: `seed_invalid`, `coa_kind_missing`, `gl_template_unmapped`, …"""
    subject: str
    """What drifted: a file:line, an account kind, a template or a COA code."""
    detail: str

    def to_json(self) -> dict[str, str]:
        return {"check": self.check, "subject": self.subject, "detail": self.detail}


def _disk_template_hashes(directory: Path) -> dict[str, str]:
    hashes: dict[str, str] = {}
    for path in sorted(directory.glob("*.num"))[:MAX_TEMPLATE_FILES]:
        if path.stat().st_size <= MAX_TEMPLATE_BYTES:
            hashes[path.stem] = source_hash(path.read_text())
    return hashes


def _compare(check: str, files: dict[str, T], loaded: dict[str, T], items: list[DriftItem]) -> None:
    for key in sorted(files.keys() - loaded.keys()):
        items.append(DriftItem(f"{check}_not_loaded", key, "in the files, not loaded"))
    for key in sorted(loaded.keys() - files.keys()):
        items.append(DriftItem(f"{check}_not_in_seeds", key, "loaded, not in the files"))
    for key in sorted(files.keys() & loaded.keys()):
        if files[key] != loaded[key]:
            items.append(
                DriftItem(f"{check}_differs", key, f"file {files[key]!r} != loaded {loaded[key]!r}")
            )


async def coa_drift(
    connection: AsyncConnection, templates: TemplateCatalog, seeds_dir: Path | None = None
) -> list[DriftItem]:
    """Every drift found, in a stable order (a handful per seed row at most)."""
    items: list[DriftItem] = []
    coa_files: list[CoaAccount] = []
    gl_files: list[GlMapping] = []
    try:
        coa_files, gl_files = read_seeds(seeds_dir or default_seeds_dir())
    except CoaCsvError as error:
        items.append(DriftItem("seed_invalid", f"{error.file}:{error.line}", error.message))

    disk = _disk_template_hashes(templates.directory)
    if coa_files:
        for kind in sorted(set(ACCOUNT_KINDS) - {a.kind for a in coa_files}):
            items.append(DriftItem("coa_kind_missing", kind, "classifier kind without COA row"))
        mapped = {m.template for m in gl_files}
        for name in sorted(disk.keys() - mapped):
            items.append(DriftItem("gl_template_unmapped", name, "template without GL mappings"))
        for name in sorted(mapped - disk.keys()):
            items.append(DriftItem("gl_template_unknown", name, "GL mappings of no template"))
        _compare(
            "coa",
            {a.code: a for a in coa_files},
            {a.code: a for a in await list_coa_accounts(connection)},
            items,
        )
        _compare(
            "gl",
            {f"{m.template}/{m.leg}": m for m in gl_files},
            {f"{m.template}/{m.leg}": m for m in await list_gl_mappings(connection)},
            items,
        )

    rows = await connection.execute(
        select(loaded_templates.c.name, loaded_templates.c.sha256).order_by(loaded_templates.c.name)
    )
    loaded = {str(row.name): str(row.sha256) for row in rows}
    _compare("template", disk, loaded, items)
    memory = templates.hashes()
    for name in sorted(disk.keys() | memory.keys()):
        if disk.get(name) != memory.get(name):
            items.append(
                DriftItem("template_stale_in_memory", name, "catalog differs from the file")
            )
    return items
