"""The reconciliation tables (adapter): import a parsed statement idempotently, in one
transaction, in bounded batches. A line already stored for the account (same fingerprint) is
skipped, so a file imported twice, or a line in two overlapping files, is counted once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from walletflow.recon.model import ParsedStatement

IMPORT_BATCH_LINES = 1_000
"""Lines per INSERT round trip (bounded)."""


@dataclass(frozen=True, slots=True)
class ImportSummary:
    account: str
    format: str
    statement_ref: str
    lines_in_file: int
    new_lines: int
    duplicate_lines: int
    file_already_imported: bool
    dry_run: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "account": self.account,
            "format": self.format,
            "statementRef": self.statement_ref,
            "linesInFile": self.lines_in_file,
            "newLines": self.new_lines,
            "duplicateLines": self.duplicate_lines,
            "fileAlreadyImported": self.file_already_imported,
            "dryRun": self.dry_run,
        }


_INSERT_LINES = sa.text(
    """
    insert into recon_lines (account, fingerprint, statement_id, line_no, amount_minor,
        direction, currency, booking_date, value_date, reference, bank_reference, narrative)
    select :account, fp, :statement_id, ln, am, dir, :currency, bd, vd, ref, bref, nar
    from unnest(cast(:fps as text[]), cast(:lns as int[]), cast(:ams as bigint[]),
        cast(:dirs as text[]), cast(:bds as date[]), cast(:vds as date[]),
        cast(:refs as text[]), cast(:brefs as text[]), cast(:nars as text[]))
        as t(fp, ln, am, dir, bd, vd, ref, bref, nar)
    on conflict (account, fingerprint) do nothing
    """
)


async def import_statement(
    engine: AsyncEngine,
    statement: ParsedStatement,
    *,
    account: str,
    actor: str,
    now: datetime,
    dry_run: bool = False,
    progress: Callable[[int], None] | None = None,
) -> ImportSummary:
    """Store `statement`'s lines for `account`; a dry run counts what would be new and rolls
    back. All or nothing: a failure leaves no row behind."""
    file_fp = statement.file_fingerprint
    async with engine.connect() as connection:
        transaction = await connection.begin()
        try:
            seen = await connection.scalar(
                sa.text(
                    "select 1 from recon_statements where account = :a and file_fingerprint = :f"
                ),
                {"a": account, "f": file_fp},
            )
            if seen:
                await transaction.rollback()
                return ImportSummary(
                    account,
                    statement.format,
                    statement.statement_id,
                    len(statement.lines),
                    0,
                    len(statement.lines),
                    True,
                    dry_run,
                )
            statement_id = await connection.scalar(
                sa.text(
                    """
                    insert into recon_statements (account, format, statement_ref,
                        file_fingerprint, currency, opening_minor, closing_minor, closing_on,
                        line_count, new_line_count, imported_by, imported_at)
                    values (:account, :format, :ref, :fp, :currency, :opening, :closing,
                        :closing_on, :count, 0, :actor, :now)
                    returning id
                    """
                ),
                {
                    "account": account,
                    "format": statement.format,
                    "ref": statement.statement_id,
                    "fp": file_fp,
                    "currency": statement.currency,
                    "opening": statement.opening.amount_minor if statement.opening else None,
                    "closing": statement.closing.amount_minor if statement.closing else None,
                    "closing_on": statement.closing.on if statement.closing else None,
                    "count": len(statement.lines),
                    "actor": actor,
                    "now": now,
                },
            )
            new = 0
            lines = statement.lines
            for start in range(0, len(lines), IMPORT_BATCH_LINES):
                batch = lines[start : start + IMPORT_BATCH_LINES]
                result = await connection.execute(
                    _INSERT_LINES,
                    {
                        "account": account,
                        "statement_id": statement_id,
                        "currency": statement.currency,
                        "fps": [x.fingerprint for x in batch],
                        "lns": [x.line_no for x in batch],
                        "ams": [x.amount_minor for x in batch],
                        "dirs": [x.direction for x in batch],
                        "bds": [x.booking_date for x in batch],
                        "vds": [x.value_date for x in batch],
                        "refs": [x.reference for x in batch],
                        "brefs": [x.bank_reference for x in batch],
                        "nars": [x.narrative for x in batch],
                    },
                )
                new += result.rowcount
                if progress is not None:
                    progress(len(batch))
            await connection.execute(
                sa.text("update recon_statements set new_line_count = :n where id = :id"),
                {"n": new, "id": statement_id},
            )
            if dry_run:
                await transaction.rollback()
            else:
                await transaction.commit()
        except BaseException:
            if transaction.is_active:
                await transaction.rollback()
            raise
    return ImportSummary(
        account,
        statement.format,
        statement.statement_id,
        len(lines),
        new,
        len(lines) - new,
        False,
        dry_run,
    )


_OPEN_LINES = sa.text(
    """
    select l.id, l.amount_minor, l.direction, l.value_date, l.reference, l.bank_reference,
        l.narrative
    from recon_lines l
    where l.account = :account
      and not exists (select 1 from recon_matches m where m.account = l.account
                      and m.unmatched_at is null and l.id = any(m.line_ids))
    """
)

_OPEN_MOVEMENTS = sa.text(
    """
    select p.tx_id::text || ':' || p.ordinal::text as movement_id,
        case when p.destination = :account then p.amount else -p.amount end as signed_minor,
        (p.effective_at at time zone 'UTC')::date as value_date,
        coalesce(t.reference, '') as reference,
        coalesce(t.metadata ->> 'batch', '') as batch_id
    from ledger_postings p join ledger_transactions t on t.id = p.tx_id
    where (p.destination = :account or p.source = :account)
      and not exists (select 1 from recon_matches m where m.account = :account
                      and m.unmatched_at is null
                      and (p.tx_id::text || ':' || p.ordinal::text) = any(m.movement_ids))
    """
)


@dataclass(frozen=True, slots=True)
class MatchRunSummary:
    account: str
    open_lines: int
    open_movements: int
    new_matches: int
    ambiguous_lines: int

    def to_json(self) -> dict[str, Any]:
        return {
            "account": self.account,
            "openLines": self.open_lines,
            "openMovements": self.open_movements,
            "newMatches": self.new_matches,
            "ambiguousLines": self.ambiguous_lines,
        }


async def run_matching(
    engine: AsyncEngine, *, account: str, actor: str, now: datetime, window_days: int = 3
) -> MatchRunSummary:
    """Match what is open on `account` (lines and ledger postings not in an active match) and
    store the matches. Idempotent: a re-run finds nothing new to match."""
    from walletflow.recon.matching import OpenLine, OpenMovement, match

    async with engine.begin() as connection:
        await connection.execute(
            sa.text("select pg_advisory_xact_lock(hashtext('recon:' || :a))"), {"a": account}
        )
        lines = [
            OpenLine(
                str(row.id),
                row.amount_minor if row.direction == "credit" else -row.amount_minor,
                row.value_date,
                row.reference,
                row.bank_reference,
                row.narrative,
            )
            for row in await connection.execute(_OPEN_LINES, {"account": account})
        ]
        movements = [
            OpenMovement(
                row.movement_id, int(row.signed_minor), row.value_date, row.reference, row.batch_id
            )
            for row in await connection.execute(_OPEN_MOVEMENTS, {"account": account})
        ]
        result = match(lines, movements, window_days=window_days)
        if result.matches:
            await connection.execute(
                sa.text(
                    """
                    insert into recon_matches (account, rule, confidence_pct, line_ids,
                        movement_ids, matched_by, matched_at)
                    values (:account, :rule, :confidence, :line_ids, :movement_ids, :actor, :now)
                    """
                ),
                [
                    {
                        "account": account,
                        "rule": found.rule,
                        "confidence": found.confidence_pct,
                        "line_ids": [int(x) for x in found.line_ids],
                        "movement_ids": list(found.movement_ids),
                        "actor": actor,
                        "now": now,
                    }
                    for found in result.matches
                ],
            )
    return MatchRunSummary(
        account, len(lines), len(movements), len(result.matches), len(result.ambiguous_line_ids)
    )


@dataclass(frozen=True, slots=True)
class AccountGate:
    """Ledger balance of an outside account vs its latest statement's closing balance."""

    account: str
    ledger_minor: int
    statement_closing_minor: int | None
    statement_closing_on: str | None

    @property
    def difference_minor(self) -> int | None:
        if self.statement_closing_minor is None:
            return None
        return self.ledger_minor - self.statement_closing_minor

    @property
    def green(self) -> bool:
        return self.difference_minor == 0

    def to_json(self) -> dict[str, Any]:
        return {
            "account": self.account,
            "ledgerMinor": self.ledger_minor,
            "statementClosingMinor": self.statement_closing_minor,
            "statementClosingOn": self.statement_closing_on,
            "differenceMinor": self.difference_minor,
            "green": self.green,
        }


async def account_gate(engine: AsyncEngine, *, account: str) -> AccountGate:
    async with engine.connect() as connection:
        ledger = await connection.scalar(
            sa.text(
                "select coalesce(sum(input - output), 0) from ledger_volumes where account = :a"
            ),
            {"a": account},
        )
        latest = (
            await connection.execute(
                sa.text(
                    """
                    select closing_minor, closing_on from recon_statements
                    where account = :a and closing_minor is not null
                    order by closing_on desc, id desc limit 1
                    """
                ),
                {"a": account},
            )
        ).first()
    return AccountGate(
        account,
        int(ledger or 0),
        None if latest is None else int(latest.closing_minor),
        None if latest is None else latest.closing_on.isoformat(),
    )
