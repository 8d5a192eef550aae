"""Long jobs in the dashboard: the newest jobs with a live progress bar each.

`JobsState.follow_jobs` (a background task, while the Jobs page is open) asks the API for the
newest jobs every `POLL_S` and keeps each job's progress in the state, so the bars move as the
worker writes progress. `job_rows` turns the API's answer into rows (pure, unit-tested); the
page is `pages/jobs.py`.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import reflex as rx

from walletflow_dashboard import documents
from walletflow_dashboard.api import ApiError, Credential, graphql
from walletflow_dashboard.results import answer, parse_list
from walletflow_dashboard.state import AppState

POLL_S = 1.0
ROUTE = "/jobs"


@dataclass
class JobAnswer:
    """One `Job` of `documents.JOBS_QUERY`, as the API sends it."""

    id: str
    kind: str
    state: str
    progress_done: int
    progress_total: int | None
    percent: float | None
    error: Any
    created_at: str


@dataclass
class JobRow:
    """What a progress bar shows for one job."""

    id: str
    kind: str
    state: str
    progress: str
    """`done / total` (or `done` while the total is unknown)."""
    percent: int
    """0 to 100 for the bar (0 while unknown)."""
    error: str
    created_at: str


def job_rows(jobs: list[JobAnswer]) -> list[JobRow]:
    rows = []
    for job in jobs:
        total = job.progress_total
        progress = f"{job.progress_done} / {total}" if total is not None else f"{job.progress_done}"
        error = ""
        if isinstance(job.error, dict):
            error = f"{job.error.get('code', '')}: {job.error.get('message', '')}"
        rows.append(
            JobRow(
                id=job.id,
                kind=job.kind,
                state=job.state,
                progress=progress,
                percent=round(job.percent) if job.percent is not None else 0,
                error=error,
                created_at=job.created_at,
            )
        )
    return rows


async def fetch_jobs(credential: Credential) -> list[JobRow]:
    data = await graphql(credential, documents.JOBS_QUERY)
    return job_rows(parse_list(JobAnswer, answer(data, "jobs"), "jobs"))


class JobsState(AppState):
    job_list: list[JobRow] = []
    jobs_error: str = ""
    _jobs_running: bool = False

    def watch_jobs(self) -> Any:
        self._route = ROUTE
        if self.signed_in and not self._jobs_running:
            self._jobs_running = True
            return JobsState.follow_jobs
        return None

    @rx.event(background=True)
    async def follow_jobs(self) -> None:
        """Refresh the jobs while the Jobs page is open in this tab."""
        try:
            while True:
                async with self:
                    if not self.signed_in or self._route != ROUTE:
                        return
                    credential = self.credential()
                try:
                    rows, problem = await fetch_jobs(credential), ""
                except ApiError as error:
                    rows, problem = [], f"{error.code}: {error.message}"
                async with self:
                    if not problem:
                        self.job_list = rows
                    self.jobs_error = problem
                await asyncio.sleep(POLL_S)
        finally:
            async with self:
                self._jobs_running = False
