"""Loading the seeds into `coa_accounts` / `gl_mappings`, and reading them back (plain SQL)."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from walletflow.coa.csv_io import export_coa, export_gl_mappings, read_seeds
from walletflow.coa.model import CoaAccount, GlMapping
from walletflow.db.schema_reporting import coa_accounts, gl_mappings
from walletflow.domain.accounts import AccountClass, NormalBalance


def default_seeds_dir() -> Path:
    configured = os.environ.get("WALLETFLOW_SEEDS_DIR")
    if configured:
        return Path(configured)
    return Path(__file__).resolve().parents[3] / "seeds"


async def rebuild_coa(
    connection: AsyncConnection, seeds_dir: Path | None = None, now: datetime | None = None
) -> dict[str, int]:
    """Replace the loaded COA and GL mappings with the seed files' (validated first: a bad
    file raises `CoaCsvError` and changes nothing). Runs in the caller's transaction."""
    coa, mappings = read_seeds(seeds_dir or default_seeds_dir())
    loaded_at = now or datetime.now(UTC)
    await connection.execute(delete(gl_mappings))
    await connection.execute(delete(coa_accounts))
    await connection.execute(
        insert(coa_accounts),
        [
            {
                "code": a.code,
                "name": a.name,
                "kind": a.kind,
                "account_class": a.account_class.value,
                "normal_balance": a.normal_balance.value,
                "address_pattern": a.address_pattern,
                "address_regex": a.address_regex,
                "may_go_negative": a.may_go_negative,
                "loaded_at": loaded_at,
            }
            for a in coa
        ],
    )
    await connection.execute(
        insert(gl_mappings),
        [
            {
                "template": m.template,
                "leg": m.leg,
                "source_kind": m.source_kind,
                "destination_kind": m.destination_kind,
                "debit_code": m.debit_code,
                "credit_code": m.credit_code,
                "description": m.description,
                "loaded_at": loaded_at,
            }
            for m in mappings
        ],
    )
    return {"coa_accounts": len(coa), "gl_mappings": len(mappings)}


async def list_coa_accounts(connection: AsyncConnection) -> list[CoaAccount]:
    """The loaded chart of accounts, by code (bounded by the seed's row limit)."""
    rows = await connection.execute(select(coa_accounts).order_by(coa_accounts.c.code))
    return [
        CoaAccount(
            code=row.code,
            name=row.name,
            kind=row.kind,
            account_class=AccountClass(row.account_class),
            normal_balance=NormalBalance(row.normal_balance),
            address_pattern=row.address_pattern,
            may_go_negative=bool(row.may_go_negative),
        )
        for row in rows
    ]


async def list_gl_mappings(
    connection: AsyncConnection, template: str | None = None
) -> list[GlMapping]:
    """The loaded GL mappings, by template and leg; optionally of one template."""
    statement = select(gl_mappings).order_by(gl_mappings.c.template, gl_mappings.c.leg)
    if template is not None:
        statement = statement.where(gl_mappings.c.template == template)
    rows = await connection.execute(statement)
    return [
        GlMapping(
            template=row.template,
            leg=row.leg,
            source_kind=row.source_kind,
            destination_kind=row.destination_kind,
            debit_code=row.debit_code,
            credit_code=row.credit_code,
            description=row.description,
        )
        for row in rows
    ]


async def export_loaded(connection: AsyncConnection) -> dict[str, str]:
    """The loaded tables as seed files: file name → CSV text."""
    return {
        "coa.csv": export_coa(await list_coa_accounts(connection)),
        "gl_mappings.csv": export_gl_mappings(await list_gl_mappings(connection)),
    }
