"""`walletflow jobs status ID [--follow] | list | output ID [--out FILE]`: long jobs (full
statement rebuilds, COA rebuilds, postings exports).

`status` prints the job as JSON; `--follow` draws a live progress bar (rich) on stderr until
the job is done or failed, then prints the final JSON on stdout. `output` writes what an export
job produced (CSV) to stdout or `--out`. Exit codes: 0 done (or, without `--follow`, any
state), 1 failed, not found or (output) not done, 2 configuration error, 3 `--timeout` passed.
A job is queued by its command, e.g. `walletflow cmd rebuildStatements --field full=true`,
`walletflow cmd exportPostings --field from_time=… --field to_time=…`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from walletflow.config import load_settings
from walletflow.entrypoints.startup import started

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

    from walletflow.views.jobs import Job

EXIT_FAILED = 1
EXIT_TIMEOUT = 3
POLL_S = 0.5
DEFAULT_TIMEOUT_S = 24 * 3600.0


def add_parser(subparsers: Any) -> None:
    jobs = subparsers.add_parser(
        "jobs", help="long jobs (rebuilds, exports): status with a progress bar, list, output"
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
    output = actions.add_parser("output", help="what an export job wrote (CSV)")
    output.add_argument("job_id", metavar="ID")
    output.add_argument("--out", type=Path, help="write it to this file (default: stdout)")
    output.set_defaults(func=_output)


def _status(args: argparse.Namespace) -> int:
    return asyncio.run(_status_async(args.job_id, args.follow, args.timeout))


async def _status_async(job_id: str, follow: bool, timeout_s: float) -> int:
    from walletflow.domain.errors import WalletflowError
    from walletflow.views.jobs import get_job
    from walletflow.views.visibility import EVERYTHING

    async with started(load_settings(), migrate=False) as container:
        engine = container.engine
        async with engine.connect() as connection:
            try:
                job = await get_job(connection, EVERYTHING, job_id)
            except WalletflowError as error:
                print(json.dumps({"error": error.to_dict()}, sort_keys=True))
                return EXIT_FAILED
        if follow and not job.finished:
            job = await _follow(engine, job, timeout_s)
            if not job.finished:
                print(json.dumps(job.to_json(), sort_keys=True, default=str))
                return EXIT_TIMEOUT
    print(json.dumps(job.to_json(), sort_keys=True, default=str))
    if job.state == "failed":
        return EXIT_FAILED
    return 0


async def _follow(engine: AsyncEngine, job: Job, timeout_s: float) -> Job:
    """Redraw a progress bar from the job row every POLL_S until it ends (or the timeout)."""
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    from walletflow.views.jobs import get_job
    from walletflow.views.visibility import EVERYTHING

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
                job = await get_job(connection, EVERYTHING, job.id)
            bar.update(task, completed=job.progress_done, total=job.progress_total, state=job.state)
        if job.state == "done":
            total = job.progress_total or job.progress_done
            bar.update(task, completed=total, total=total)
    return job


def _list(args: argparse.Namespace) -> int:
    from walletflow.domain.errors import WalletflowError
    from walletflow.views.jobs import list_jobs
    from walletflow.views.visibility import EVERYTHING

    async def read() -> list[dict[str, Any]]:
        async with (
            started(load_settings(), migrate=False) as container,
            container.engine.connect() as connection,
        ):
            found = await list_jobs(connection, EVERYTHING, state=args.state, limit=args.first)
        return [job.to_json() for job in found]

    try:
        listed = asyncio.run(read())
    except WalletflowError as error:
        print(json.dumps({"error": error.to_dict()}, sort_keys=True))
        return EXIT_FAILED
    for job in listed:
        print(json.dumps(job, sort_keys=True, default=str))
    return 0


def _output(args: argparse.Namespace) -> int:
    from walletflow.domain.errors import WalletflowError
    from walletflow.views.jobs import job_output
    from walletflow.views.visibility import EVERYTHING

    async def write() -> int:
        written = 0
        async with (
            started(load_settings(), migrate=False) as container,
            container.engine.connect() as connection,
        ):
            parts = job_output(connection, EVERYTHING, args.job_id)
            first = await anext(parts, None)  # refuses a job that is not done
            target = sys.stdout if args.out is None else args.out.open("w", encoding="utf-8")
            try:
                part = first
                while part is not None:
                    target.write(part)
                    written += len(part.encode())
                    part = await anext(parts, None)
            finally:
                if target is not sys.stdout:
                    target.close()
        return written

    try:
        written = asyncio.run(write())
    except WalletflowError as error:
        print(json.dumps({"error": error.to_dict()}, sort_keys=True), file=sys.stderr)
        return EXIT_FAILED
    if args.out is not None:
        print(json.dumps({"written": str(args.out), "bytes": written}))
    return 0
