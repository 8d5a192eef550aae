"""The git work tree before and after a test run: a run must leave it as it found it.

`snapshot()` lists every path `git status` reports (modified, staged, untracked, not ignored)
with a hash of its content, so a developer's own uncommitted edits are part of the "before"
and only what changed during the run is reported. Outside a git work tree (an sdist, an image)
there is nothing to compare.
"""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
GIT_TIMEOUT_S = 30.0

Snapshot = dict[str, str]


def _git(*args: str) -> str | None:
    try:
        done = subprocess.run(
            ["git", "-C", str(ROOT), *args],
            capture_output=True,
            text=True,
            timeout=GIT_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout if done.returncode == 0 else None


def snapshot() -> Snapshot | None:
    """{status code + path: content hash} for every path git reports, or None without git."""
    if _git("rev-parse", "--is-inside-work-tree") is None:
        return None
    status = _git("status", "--porcelain=v1", "-z", "--untracked-files=all")
    if status is None:
        return None
    entries: Snapshot = {}
    records = iter(status.split("\0"))
    for record in records:
        if not record:
            continue
        code, path = record[:2], record[3:]
        if code[0] in "RC":
            next(records, None)  # a rename's source path follows as its own record
        target = ROOT / path
        digest = hashlib.sha256(target.read_bytes()).hexdigest() if target.is_file() else "-"
        entries[f"{code} {path}"] = digest
    return entries


def changes(before: Snapshot, after: Snapshot) -> list[str]:
    """The status lines that appeared, disappeared or whose file content changed."""
    return sorted(key for key in set(before) | set(after) if before.get(key) != after.get(key))
