"""`walletflow jobs status ID [--follow] | list`: long jobs (full statement rebuilds, …).

`status` prints the job as JSON; `--follow` draws a live progress bar (rich) on stderr until
the job is done or failed, then prints the final JSON on stdout. Exit codes: 0 done (or, without
`--follow`, any state), 1 failed or not found, 2 configuration error, 3 `--timeout` passed.
A job is queued by its command, e.g. `walletflow cmd rebuildStatements --field full=true`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from typing import Any

from walletflow.config import load_settings
from walletflow.embedded import embedded_services

EXIT_FAILED = 1
EXIT_TIMEOUT = 3
POLL_S = 0.5
DEFAULT_TIMEOUT_S = 24 * 3600.0


def add_parser(subparsers: Any) -> None:
    jobs = subparsers.add_parser(
        "jobs", help="long jobs (full statement rebuilds, …): status with a progress bar, list"
    )
    actions = jobs.add_subparsers(dest="jobs_command", metavar="ACTION", required=True)
    status = actions.add_parser("status", help="print a job as JSON (--follow: a progress bar)")
    status.add_argument("job_id", metavar="ID")
    status.add_argument(
        "--follow", action="store_true", help="show its progress live until it ends"
    )
    status.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT_S,
        help="with --follow: give up after this many seconds (exit 3) [%(default)s]",
    )
    status.set_defaults(func=_status)
    listing = actions.add_parser("list", help="the newest jobs as JSON lines")
    listing.add_argument("--state", choices=("queued", "running", "done", "failed"))
    listing.add_argument("--first", type=int, default=20, help="how many [%(default)s]")
    listing.set_defaults(func=_list)


def _status(args: argparse.Namespace) -> int:
    settings = load_settings()
    with embedded_services(settings.data_dir, settings.database_url, "unused://") as (url, _):
        return asyncio.run(_status_async(url, args.job_id, args.follow, args.timeout))


async def _status_async(url: str, job_id: str, follow: bool, timeout_s: float) -> int:
    from walletflow.db.engine import create_engine
    from walletflow.domain.errors import WalletflowError
    from walletflow.service.jobs import get_job

    engine = create_engine(url, pool_size=1)
    try:
        async with engine.connect() as connection:
            try:
                job = await get_job(connection, job_id)
            except WalletflowError as error:
                print(json.dumps({"error": error.to_dict()}, sort_keys=True))
                return EXIT_FAILED
        if follow and not job.finished:
            job = await _follow(engine, job, timeout_s)
            if not job.finished:
                print(json.dumps(job.to_json(), sort_keys=True, default=str))
                return EXIT_TIMEOUT
    finally:
        await engine.dispose()
    print(json.dumps(job.to_json(), sort_keys=True, default=str))
    if job.state == "failed":
        return EXIT_FAILED
    return 0


async def _follow(engine: Any, job: Any, timeout_s: float) -> Any:
    """Redraw a progress bar from the job row every POLL_S until it ends (or the timeout)."""
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    from walletflow.service.jobs import get_job

    deadline = time.monotonic() + timeout_s
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[state]}"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=Console(file=sys.stderr), transient=False) as bar:
        task = bar.add_task(job.kind, total=job.progress_total, state=job.state)
        while not job.finished and time.monotonic() < deadline:
            await asyncio.sleep(POLL_S)
            async with engine.connect() as connection:
                job = await get_job(connection, job.id)
            bar.update(task, completed=job.progress_done, total=job.progress_total, state=job.state)
        if job.state == "done":
            total = job.progress_total or job.progress_done
            bar.update(task, completed=total, total=total)
    return job


def _list(args: argparse.Namespace) -> int:
    from walletflow.db.engine import create_engine
    from walletflow.domain.errors import WalletflowError
    from walletflow.service.jobs import list_jobs

    async def read(url: str) -> list[dict[str, Any]]:
        engine = create_engine(url, pool_size=1)
        try:
            async with engine.connect() as connection:
                found = await list_jobs(connection, state=args.state, limit=args.first)
        finally:
            await engine.dispose()
        return [job.to_json() for job in found]

    settings = load_settings()
    with embedded_services(settings.data_dir, settings.database_url, "unused://") as (url, _):
        try:
            listed = asyncio.run(read(url))
        except WalletflowError as error:
            print(json.dumps({"error": error.to_dict()}, sort_keys=True))
            return EXIT_FAILED
    for job in listed:
        print(json.dumps(job, sort_keys=True, default=str))
    return 0
