"""Admin handlers: feature flags, reloading templates, access lists."""

from __future__ import annotations

from sqlalchemy import delete
from sqlalchemy.dialects.postgresql import insert as pg_insert

from walletflow.db.schema_service import loaded_templates
from walletflow.domain.commands import RebuildTemplates, SaveAccessLists, SetFeatureFlag
from walletflow.service.access_lists import save_access_lists as store_access_lists
from walletflow.service.handlers.common import COMPLETED
from walletflow.service.results import CommandResult
from walletflow.service.unit_of_work import UnitOfWork


async def set_feature_flag(command: SetFeatureFlag, uow: UnitOfWork) -> CommandResult:
    await uow.flags.set(
        command.scope_type,
        command.scope_value,
        command.enabled,
        uow.context.principal.subject,
        uow.clock.now(),
    )
    payload = {
        "scopeType": command.scope_type,
        "scopeValue": command.scope_value,
        "enabled": command.enabled,
    }
    uow.emit("flag.changed", payload, None)
    return CommandResult(command=uow.context.command, status=COMPLETED, data=payload)


async def rebuild_templates(command: RebuildTemplates, uow: UnitOfWork) -> CommandResult:
    """Reload every template from disk and record exactly that set as loaded."""
    hashes = uow.templates.reload()
    now = uow.clock.now()
    actor = uow.context.principal.subject
    await uow.connection.execute(delete(loaded_templates))
    await uow.connection.execute(
        pg_insert(loaded_templates),
        [
            {
                "name": name,
                "sha256": digest,
                "source": uow.templates.source(name),
                "loaded_by": actor,
                "loaded_at": now,
            }
            for name, digest in hashes.items()
        ],
    )
    uow.emit("templates.rebuilt", {"count": len(hashes)}, None)
    return CommandResult(
        command=uow.context.command,
        status=COMPLETED,
        data={"templates": len(hashes), "hashes": hashes},
    )


async def save_access_lists(command: SaveAccessLists, uow: UnitOfWork) -> CommandResult:
    await store_access_lists(
        uow.connection,
        command.allowed_emails,
        command.admin_emails,
        uow.context.principal.subject,
        uow.clock.now(),
    )
    payload = {
        "allowedEmails": list(command.allowed_emails),
        "adminEmails": list(command.admin_emails),
    }
    uow.emit("access_lists.saved", payload, None)
    return CommandResult(command=uow.context.command, status=COMPLETED, data=payload)
