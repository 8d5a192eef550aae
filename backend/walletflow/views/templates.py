"""Numscript templates: each catalog template's hash, and whether `rebuildTemplates` loaded
that same text."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from walletflow.db.schema_service import loaded_templates
from walletflow.ledger.templates import TemplateCatalog
from walletflow.views.visibility import Visibility


@dataclass(frozen=True)
class TemplateStatus:
    name: str
    sha256: str
    loaded_sha256: str | None
    loaded_at: datetime | None

    @property
    def loaded(self) -> bool:
        """True when the catalog's hash equals the one recorded by the last rebuildTemplates."""
        return self.loaded_sha256 == self.sha256


async def template_status(
    connection: AsyncConnection, visibility: Visibility, catalog: TemplateCatalog
) -> list[TemplateStatus]:
    """One line per catalog template, in catalog order: staff and analysts."""
    visibility.require_everything()
    t = loaded_templates.c
    rows = {
        row.name: row for row in await connection.execute(select(t.name, t.sha256, t.loaded_at))
    }
    result = []
    for name, sha256 in catalog.hashes().items():
        row = rows.get(name)
        result.append(
            TemplateStatus(
                name=name,
                sha256=sha256,
                loaded_sha256=None if row is None else row.sha256,
                loaded_at=None if row is None else row.loaded_at,
            )
        )
    return result
