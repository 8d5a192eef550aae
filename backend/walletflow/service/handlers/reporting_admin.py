"""Admin handlers of the reporting area: reload the chart of accounts, rebuild statements,
export postings.

Each runs in the unit of work's transaction, so the rebuilt tables (or the queued job), the
command state and the outbox event commit together or not at all. Work that reads the whole
ledger or a range of it never runs in the request: a full statements rebuild and a postings
export are queued as long jobs (as is a COA rebuild asked for with `background`), and the
command answers at once with the job's id (`walletflow jobs status ID --follow`)."""

from __future__ import annotations

from collections.abc import Mapping

from walletflow.coa.store import rebuild_coa as load_coa
from walletflow.domain.commands import ExportPostings, RebuildCoa, RebuildStatements
from walletflow.domain.errors import ValidationError
from walletflow.ledger.port import check_asset, check_prefix
from walletflow.reporting.statements import rebuild_statements as apply_statements
from walletflow.service.handlers.common import COMPLETED
from walletflow.service.jobs import (
    COA_REBUILD,
    POSTINGS_EXPORT,
    STATEMENTS_FULL_REBUILD,
    queue_job,
)
from walletflow.service.results import CommandResult
from walletflow.service.unit_of_work import UnitOfWork


async def rebuild_coa(command: RebuildCoa, uow: UnitOfWork) -> CommandResult:
    """Replace the loaded COA and GL mappings with `seeds/coa.csv` and `seeds/gl_mappings.csv`
    (validated first; a bad file is a COA_SEED_INVALID error naming file:line:column);
    `background`: queue a job that does it (the result is `{"jobId", "kind", "state"}`)."""
    if command.background:
        return await _queued(uow, COA_REBUILD, {})
    counts = await load_coa(uow.connection, now=uow.clock.now())
    payload = {"coaAccounts": counts["coa_accounts"], "glMappings": counts["gl_mappings"]}
    uow.emit("coa.rebuilt", payload, None)
    return CommandResult(command=uow.context.command, status=COMPLETED, data=payload)


async def rebuild_statements(command: RebuildStatements, uow: UnitOfWork) -> CommandResult:
    """Apply new ledger transactions to the statements read model; `full`: queue a job that
    rebuilds it all (the result is `{"jobId", "kind", "state": "queued"}`)."""
    if command.full:
        return await _queued(uow, STATEMENTS_FULL_REBUILD, {"full": True})
    report = await apply_statements(uow.connection, full=command.full, now=uow.clock.now())
    payload = report.to_json()
    uow.emit("statements.rebuilt", payload, None)
    return CommandResult(command=uow.context.command, status=COMPLETED, data=payload)


async def export_postings(command: ExportPostings, uow: UnitOfWork) -> CommandResult:
    """Queue a CSV export of the postings effective in [from_time, to_time) (optionally under
    an account prefix, in one asset); `walletflow jobs output ID` reads it once done."""
    if command.from_time >= command.to_time:
        raise ValidationError(
            "from_time must be before to_time", field_errors={"to_time": "after from_time"}
        )
    params: dict[str, str] = {
        "fromTime": command.from_time.isoformat(),
        "toTime": command.to_time.isoformat(),
    }
    if command.account is not None:
        params["account"] = check_prefix(command.account, "account")
    if command.asset is not None:
        params["asset"] = check_asset(command.asset)
    return await _queued(uow, POSTINGS_EXPORT, params)


async def _queued(uow: UnitOfWork, kind: str, params: Mapping[str, object]) -> CommandResult:
    job_id = await queue_job(uow, kind, dict(params))
    payload = {"jobId": job_id, "kind": kind, "state": "queued"}
    return CommandResult(command=uow.context.command, status=COMPLETED, data=payload)
