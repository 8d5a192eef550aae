"""Admin handlers of the reporting area: reload the chart of accounts, rebuild statements.

Both run in the unit of work's transaction, so the rebuilt tables (or the queued job), the
command state and the outbox event commit together or not at all. A full statements rebuild
reads every posting, so it never runs in the request: it is queued as a long job and the
command answers at once with the job's id (`walletflow jobs status ID --follow`)."""

from __future__ import annotations

from walletflow.coa.store import rebuild_coa as load_coa
from walletflow.domain.commands import RebuildCoa, RebuildStatements
from walletflow.reporting.statements import rebuild_statements as apply_statements
from walletflow.service.handlers.common import COMPLETED
from walletflow.service.jobs import STATEMENTS_FULL_REBUILD, queue_job
from walletflow.service.results import CommandResult
from walletflow.service.unit_of_work import UnitOfWork


async def rebuild_coa(command: RebuildCoa, uow: UnitOfWork) -> CommandResult:
    """Replace the loaded COA and GL mappings with `seeds/coa.csv` and `seeds/gl_mappings.csv`
    (validated first; a bad file is a COA_SEED_INVALID error naming file:line:column)."""
    counts = await load_coa(uow.connection, now=uow.clock.now())
    payload = {"coaAccounts": counts["coa_accounts"], "glMappings": counts["gl_mappings"]}
    uow.emit("coa.rebuilt", payload, None)
    return CommandResult(command=uow.context.command, status=COMPLETED, data=payload)


async def rebuild_statements(command: RebuildStatements, uow: UnitOfWork) -> CommandResult:
    """Apply new ledger transactions to the statements read model; `full`: queue a job that
    rebuilds it all (the result is `{"jobId", "kind", "state": "queued"}`)."""
    if command.full:
        job_id = await queue_job(uow, STATEMENTS_FULL_REBUILD, {"full": True})
        payload = {"jobId": job_id, "kind": STATEMENTS_FULL_REBUILD, "state": "queued"}
        return CommandResult(command=uow.context.command, status=COMPLETED, data=payload)
    report = await apply_statements(uow.connection, full=command.full, now=uow.clock.now())
    payload = report.to_json()
    uow.emit("statements.rebuilt", payload, None)
    return CommandResult(command=uow.context.command, status=COMPLETED, data=payload)
