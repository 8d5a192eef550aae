"""Jobs: the newest long jobs (statement and COA rebuilds, postings exports), each with a live
progress bar, and the forms that queue them."""

from __future__ import annotations

import reflex as rx

from walletflow_dashboard import navigation
from walletflow_dashboard.components import command_form, form_button, layout, section
from walletflow_dashboard.forms import FormState
from walletflow_dashboard.jobs import ROUTE as JOBS_ROUTE
from walletflow_dashboard.jobs import JobRow, JobsState
from walletflow_dashboard.state import AppState

ROUTE = JOBS_ROUTE
NAV = navigation.Nav("Jobs")
ON_LOAD = [AppState.guard, FormState.close_form, JobsState.watch_jobs]


def _job(job: rx.Var[JobRow]) -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.badge(job.state, class_name="job-state"),
            rx.text(job.kind, weight="medium", class_name="job-kind"),
            rx.text(job.progress, size="2", class_name="job-progress"),
            rx.spacer(),
            rx.code(job.id, size="1"),
            width="100%",
        ),
        rx.progress(value=job.percent, max=100, width="100%", class_name="job-bar"),
        rx.cond(job.error != "", rx.text(job.error, color_scheme="red", size="2")),
        width="100%",
        class_name="job-row",
    )


def page() -> rx.Component:
    return layout(
        "Jobs",
        rx.hstack(
            form_button("Rebuild statements", "rebuildStatements", id="open-job-statements"),
            form_button("Rebuild COA", "rebuildCoa", id="open-job-coa"),
            form_button("Export postings", "exportPostings", id="open-job-export"),
        ),
        command_form(),
        rx.cond(JobsState.jobs_error != "", rx.callout(JobsState.jobs_error, color_scheme="red")),
        section(
            "Newest jobs (live)",
            rx.foreach(JobsState.job_list, _job),
            rx.text("Exports: walletflow jobs output ID --out FILE", size="1", color_scheme="gray"),
            id="jobs",
        ),
    )
