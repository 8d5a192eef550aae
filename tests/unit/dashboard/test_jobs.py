"""The dashboard's jobs panel: the API's answer to `JOBS_QUERY` parses into progress-bar rows,
and a row says how far a job got (done / total, a 0 to 100 bar, the typed error of a failure)."""

from __future__ import annotations

from typing import Any

from tests.unit.dashboard import fake_api
from walletflow_dashboard import documents
from walletflow_dashboard.jobs import JobAnswer, job_rows
from walletflow_dashboard.results import answer, parse_list


def job(**changes: Any) -> JobAnswer:
    fields: dict[str, Any] = {
        "id": "job_" + "a" * 32,
        "kind": "export.postings",
        "state": "running",
        "progress_done": 30,
        "progress_total": 120,
        "percent": 25.0,
        "error": None,
        "created_at": "2026-12-02T10:00:00+00:00",
    }
    return JobAnswer(**{**fields, **changes})


def test_the_jobs_answer_of_the_schema_parses_into_rows() -> None:
    data = fake_api.answer(documents.JOBS_QUERY)
    parsed = parse_list(JobAnswer, answer(data, "jobs"), "jobs")
    assert parsed and all(isinstance(row, JobAnswer) for row in parsed)
    assert len(job_rows(parsed)) == len(parsed)


def test_a_row_shows_done_of_total_and_the_bar_in_percent() -> None:
    (row,) = job_rows([job()])
    assert (row.progress, row.percent, row.error) == ("30 / 120", 25, "")


def test_a_job_without_a_total_yet_shows_its_count_and_an_empty_bar() -> None:
    (row,) = job_rows([job(progress_total=None, percent=None, progress_done=0, state="queued")])
    assert (row.progress, row.percent) == ("0", 0)


def test_a_failed_job_shows_its_typed_error() -> None:
    failure = {"code": "JOB_ABANDONED", "message": "started 3 times"}
    (row,) = job_rows([job(state="failed", error=failure)])
    assert row.error == "JOB_ABANDONED: started 3 times"
