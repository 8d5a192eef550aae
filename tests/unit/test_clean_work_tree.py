"""Tests and `make run` leave the work tree clean: Reflex's lockfile write-back lands in an
ignored directory, the tracked pins reach Reflex before each of its commands, and the session
check reports only what a run changed."""

from __future__ import annotations

import importlib
import json
import runpy
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support import work_tree

DASHBOARD = Path(__file__).resolve().parents[2] / "dashboard"
PINS = DASHBOARD / "frontend-lock"


def _git(*args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(DASHBOARD), *args], capture_output=True, text=True, check=False
    ).stdout


def test_reflex_writing_back_its_lockfiles_leaves_the_work_tree_clean(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    frontend_skeleton = pytest.importorskip("reflex.utils.frontend_skeleton")
    before = work_tree.snapshot()
    if before is None:
        pytest.skip("not a git work tree")
    pins = json.loads((PINS / "package.json").read_text())
    web = tmp_path / ".web"
    web.mkdir()
    # What an install leaves in .web: Reflex's compact package.json (bun's is indented).
    (web / "package.json").write_text(json.dumps(pins))
    shutil.copyfile(PINS / "bun.lock", web / "bun.lock")
    monkeypatch.setenv("REFLEX_WEB_WORKDIR", str(web))
    monkeypatch.chdir(DASHBOARD)

    # The two calls Reflex makes after every frontend install (js_runtimes).
    frontend_skeleton.sync_web_lockfiles_to_root()
    frontend_skeleton.sync_web_package_json_to_root()

    assert (DASHBOARD / "reflex.lock" / "package.json").read_text() == json.dumps(pins)
    after = work_tree.snapshot()
    assert after is not None
    assert work_tree.changes(before, after) == []


def test_the_pins_are_tracked_and_reflexs_copy_is_ignored() -> None:
    if not _git("rev-parse", "--is-inside-work-tree"):
        pytest.skip("not a git work tree")
    tracked = set(_git("ls-files", "frontend-lock", "reflex.lock").split())
    assert tracked == {"frontend-lock/package.json", "frontend-lock/bun.lock"}
    assert _git("check-ignore", "reflex.lock/package.json").strip()


def test_every_reflex_command_starts_from_the_tracked_pins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("reflex")
    app_root = tmp_path / "dashboard"
    shutil.copytree(PINS, app_root / "frontend-lock")
    shutil.copyfile(DASHBOARD / "rxconfig.py", app_root / "rxconfig.py")
    stale = app_root / "reflex.lock"
    stale.mkdir()
    (stale / "bun.lock").write_text("a lock from another day")
    monkeypatch.syspath_prepend(str(DASHBOARD))

    runpy.run_path(str(app_root / "rxconfig.py"))  # what Reflex does first, for every command

    for name in ("package.json", "bun.lock"):
        assert (stale / name).read_bytes() == (PINS / name).read_bytes(), name


def test_pins_equal_in_substance_are_not_rewritten(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.syspath_prepend(str(DASHBOARD))
    restore_pinned_lockfiles = importlib.import_module(
        "walletflow_dashboard.lockfiles"
    ).restore_pinned_lockfiles
    shutil.copytree(PINS, tmp_path / "frontend-lock")
    assert restore_pinned_lockfiles(tmp_path) == ["package.json", "bun.lock"]
    compact = json.dumps(json.loads((PINS / "package.json").read_text()))
    (tmp_path / "reflex.lock" / "package.json").write_text(compact)
    assert restore_pinned_lockfiles(tmp_path) == []
    assert (tmp_path / "reflex.lock" / "package.json").read_text() == compact


def test_the_session_check_reports_only_what_changed_during_the_run() -> None:
    before = {" M README.md": "a", "?? notes.txt": "b"}
    assert work_tree.changes(before, dict(before)) == []
    after = {" M README.md": "a", "?? notes.txt": "c", " M dashboard/rxconfig.py": "d"}
    assert work_tree.changes(before, after) == [" M dashboard/rxconfig.py", "?? notes.txt"]
