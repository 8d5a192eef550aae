"""The typed refusals of the backup tools, each with a stable code (see domain/errors.py)."""

from __future__ import annotations

from walletflow.domain.errors import Conflict, WalletflowError


class ManifestInvalid(WalletflowError):
    """The manifest is unreadable, of an unknown format, or does not match its own digest."""

    code = "BACKUP_MANIFEST_INVALID"


class DumpMismatch(WalletflowError):
    """The dump file is missing, or its size, checksum or table list differs from the manifest."""

    code = "BACKUP_DUMP_MISMATCH"


class DatabaseNotEmpty(Conflict):
    """A restore target already holds relations; restores go into an empty database only."""

    code = "DATABASE_NOT_EMPTY"


class NotAWalletflowDatabase(WalletflowError):
    """The database lacks the ledger tables a backup describes."""

    code = "NOT_A_WALLETFLOW_DATABASE"


class BackupToolMissing(WalletflowError):
    """No pg_dump / pg_restore of the server's major version was found."""

    code = "BACKUP_TOOL_MISSING"


class BackupToolFailed(WalletflowError):
    """pg_dump or pg_restore exited non-zero (a restore runs in one transaction: nothing kept)."""

    code = "BACKUP_TOOL_FAILED"


class BackupExists(Conflict):
    """A backup never overwrites a file."""

    code = "BACKUP_EXISTS"


class DatabaseExists(Conflict):
    """`restore --create` names a database that already exists."""

    code = "DATABASE_EXISTS"
