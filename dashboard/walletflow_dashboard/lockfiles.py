"""The dashboard's pinned frontend dependencies, kept where Reflex cannot rewrite them.

Reflex keeps its lockfiles in `<app root>/reflex.lock/` and copies `.web/package.json` and
`.web/bun.lock` back there on every frontend install, in whatever formatting the install left
(compact JSON from its template, or bun's indented JSON). Tracked there, they changed the work
tree on every `make run` and test run. So the pins are tracked in `frontend-lock/` instead, and
`reflex.lock/` is an ignored working copy: before each Reflex command (rxconfig.py calls
`restore_pinned_lockfiles`) the pins are copied into it where they differ in substance, and
whatever Reflex writes back stays out of git.

To take new pins (after upgrading Reflex or adding a frontend package): run the dashboard once,
then copy `reflex.lock/package.json` and `reflex.lock/bun.lock` over `frontend-lock/` and commit.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

PINNED_DIR = "frontend-lock"
REFLEX_LOCK_DIR = "reflex.lock"
LOCKFILE_NAMES = ("package.json", "bun.lock")


def _same(pinned: Path, working: Path) -> bool:
    if not working.is_file():
        return False
    if pinned.suffix == ".json":
        try:
            return bool(json.loads(pinned.read_text()) == json.loads(working.read_text()))
        except (ValueError, UnicodeDecodeError):
            return False
    return pinned.read_bytes() == working.read_bytes()


def restore_pinned_lockfiles(app_root: Path) -> list[str]:
    """Copy the tracked pins into Reflex's lock directory where they differ; return the names
    copied. Never writes a tracked file."""
    pinned_dir = app_root / PINNED_DIR
    working_dir = app_root / REFLEX_LOCK_DIR
    copied: list[str] = []
    for name in LOCKFILE_NAMES:
        pinned = pinned_dir / name
        if not pinned.is_file() or _same(pinned, working_dir / name):
            continue
        working_dir.mkdir(exist_ok=True)
        shutil.copyfile(pinned, working_dir / name)
        copied.append(name)
    return copied
