"""The long-running processes: `serve` (API), `worker` (arq), `dashboard`, and `run` (all of them).

`run` is what `make run` calls: it starts embedded PostgreSQL/Redis when no URL is configured,
migrates, starts the API, a worker and the dashboard as child processes, prints their URLs, and
stops everything it started on Ctrl-C. Data lives in the data dir, so the next `run` keeps it.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from walletflow.config import ConfigError, Settings, load_settings
from walletflow.entrypoints.startup import services

log = logging.getLogger(__name__)

HEALTH_WAIT_S = 60.0
CHILD_STOP_TIMEOUT_S = 15.0
SEED_TIMEOUT_S = 120.0
SANDBOX_PORT = 8100
MAX_API_WORKERS = 16
REPO_ROOT = Path(__file__).resolve().parents[3]


def add_parser(subparsers: Any) -> None:
    serve = subparsers.add_parser("serve", help="run the API (Starlette + GraphQL) with uvicorn")
    serve.add_argument(
        "--workers",
        type=int,
        default=1,
        choices=range(1, MAX_API_WORKERS + 1),
        metavar=f"1..{MAX_API_WORKERS}",
        help="API processes (default 1); each has its own database pool",
    )
    serve.set_defaults(func=_serve)
    from walletflow.workers.jobs_help import WORKER_DESCRIPTION

    worker = subparsers.add_parser(
        "worker",
        help="run an arq worker (outbox relay, statements, payout saga); several may run",
        description=WORKER_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    worker.add_argument(
        "--burst", action="store_true", help="run the due jobs once, then exit (for scripts)"
    )
    worker.add_argument(
        "--max-jobs",
        type=int,
        default=20,
        help="jobs this process runs concurrently (default %(default)s)",
    )
    worker.set_defaults(func=_worker)
    run = subparsers.add_parser(
        "run", help="start API + worker + dashboard (embedded PostgreSQL/Redis by default)"
    )
    run.add_argument("--no-dashboard", action="store_true", help="do not start the dashboard")
    run.add_argument("--no-sandbox", action="store_true", help="do not start the sandbox rail")
    run.add_argument("--no-seed", action="store_true", help="do not load the demo data")
    run.set_defaults(func=_run)
    dashboard = subparsers.add_parser(
        "dashboard", help="run the Reflex ops dashboard (talks to the API over GraphQL)"
    )
    dashboard.set_defaults(func=_dashboard)


def warn_if_open(settings: Settings) -> None:
    if not settings.auth_configured:
        banner = "!" * 78
        log.warning(
            "\n%s\n  walletflow is running OPEN: no AUTH_TOKEN and no Google sign-in configured.\n"
            "  Anyone who can reach this port has admin rights. Dev only.\n%s",
            banner,
            banner,
        )


def _serve(args: argparse.Namespace) -> int:
    settings = load_settings()
    if args.workers > 1 or settings.prometheus_multiproc_dir is not None:
        _use_multiprocess_metrics(settings)

    import uvicorn

    from walletflow.api.app import create_app

    warn_if_open(settings)
    with services(settings, redis=True) as urls:
        common: dict[str, Any] = {
            "host": settings.host,
            "port": settings.port,
            "log_level": settings.log_level.lower(),
            "proxy_headers": True,
            "access_log": False,
            # walletflow's own (JSON) logging handles uvicorn's loggers too.
            "log_config": None,
        }
        if args.workers > 1:
            os.environ["DATABASE_URL"] = urls.database_url
            os.environ["REDIS_URL"] = urls.redis_url
            uvicorn.run(
                "walletflow.api.factory:app_from_environment",
                factory=True,
                workers=args.workers,
                **common,
            )
        else:
            uvicorn.run(create_app(settings, urls.database_url, urls.redis_url), **common)
    return 0


def _use_multiprocess_metrics(settings: Settings) -> None:
    """Before any API process starts (and before prometheus-client is imported): one empty
    directory for every process's metric files, so `/metrics` merges them all."""
    import tempfile

    directory = settings.prometheus_multiproc_dir or Path(
        tempfile.mkdtemp(prefix="walletflow-metrics-")
    )
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("*.db"):  # a previous run's processes
        stale.unlink()
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(directory)


def _worker(args: argparse.Namespace) -> int:
    from arq.worker import run_worker

    # One worker process keeps its metrics in memory (the directory is the API's).
    os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)
    from walletflow.workers.settings import worker_settings

    settings = load_settings()
    with services(settings, redis=True) as urls:
        os.environ["DATABASE_URL"] = urls.database_url
        os.environ["REDIS_URL"] = urls.redis_url
        if not 1 <= args.max_jobs <= 1000:
            raise ConfigError("--max-jobs", "must be between 1 and 1000")
        if settings.log_level != "DEBUG":
            # arq logs every job start and result at INFO: several lines a second per worker.
            logging.getLogger("arq.worker").setLevel(logging.WARNING)
        run_worker(worker_settings(urls.redis_url, burst=args.burst, max_jobs=args.max_jobs))
    return 0


def _run(args: argparse.Namespace) -> int:
    settings = load_settings()
    warn_if_open(settings)
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    # Ctrl-C must stop everything even when started from a shell that ignored SIGINT.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    with services(settings, redis=True) as urls:
        child_env = {**os.environ, "DATABASE_URL": urls.database_url, "REDIS_URL": urls.redis_url}
        commands = {
            "api": ["serve"],
            "worker": ["worker"],
            # The demo payout rail the seeded `sandbox` provider points at (seeds/providers.json).
            "sandbox": [
                "sandbox-provider",
                "--port",
                str(SANDBOX_PORT),
                "--webhook-url",
                settings.api_url,
            ],
        }
        if args.no_sandbox:
            del commands["sandbox"]
        if not args.no_dashboard and _dashboard_available():
            commands["dashboard"] = ["dashboard"]
        children = {
            name: subprocess.Popen(
                [sys.executable, "-m", "walletflow", *argv], env=child_env, start_new_session=True
            )
            for name, argv in commands.items()
        }
        try:
            _wait_healthy(settings.api_url, children)
            if not args.no_seed:
                _seed_demo(child_env)
            print(f"walletflow API:        {settings.api_url}/healthz", flush=True)
            print(f"walletflow GraphQL:    {settings.api_url}/graphql", flush=True)
            if "sandbox" in children:
                print(f"sandbox payout rail:   http://127.0.0.1:{SANDBOX_PORT}", flush=True)
            if "dashboard" in children:
                print(
                    f"walletflow dashboard:  http://127.0.0.1:{settings.dashboard_port}", flush=True
                )
            print("Ctrl-C stops everything.", flush=True)
            return _supervise(children)
        finally:
            _stop_children(children)


def _seed_demo(env: dict[str, str]) -> None:
    """Demo merchants, providers and money, through the command bus; idempotent by design."""
    result = subprocess.run(
        [sys.executable, "-m", "walletflow", "seed", "demo"],
        env=env,
        capture_output=True,
        text=True,
        timeout=SEED_TIMEOUT_S,
        check=False,
    )
    if result.returncode != 0:
        log.error("demo seed failed (the system still runs): %s", result.stderr.strip()[-500:])


def _dashboard_available() -> bool:
    return (REPO_ROOT / "dashboard" / "rxconfig.py").exists()


def _wait_healthy(api_url: str, children: dict[str, subprocess.Popen[bytes]]) -> None:
    import httpx

    deadline = time.monotonic() + HEALTH_WAIT_S
    while time.monotonic() < deadline:
        for name, child in children.items():
            if child.poll() is not None:
                raise SystemExit(f"walletflow: {name} exited with code {child.returncode}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{api_url}/healthz", timeout=2.0).status_code == 200:
                return
        time.sleep(0.5)
    raise SystemExit(f"walletflow: API not healthy after {HEALTH_WAIT_S:.0f}s")


def _stop_on_sigterm(signum: int, frame: object) -> None:
    # A service manager's SIGTERM stops everything exactly as Ctrl-C does.
    raise KeyboardInterrupt


def _supervise(children: dict[str, subprocess.Popen[bytes]]) -> int:
    """Wait until Ctrl-C / SIGTERM or until any child exits; then everything is stopped."""
    try:
        while True:
            for name, child in children.items():
                if child.poll() is not None:
                    log.error("%s exited with code %s; stopping the rest", name, child.returncode)
                    return 1
            time.sleep(0.5)
    except KeyboardInterrupt:
        return 0


def _stop_children(children: dict[str, subprocess.Popen[bytes]]) -> None:
    for child in children.values():
        if child.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.pid, signal.SIGTERM)
    deadline = time.monotonic() + CHILD_STOP_TIMEOUT_S
    for child in children.values():
        remaining_s = max(0.1, deadline - time.monotonic())
        try:
            child.wait(timeout=remaining_s)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.pid, signal.SIGKILL)
            child.wait()


def _dashboard(args: argparse.Namespace) -> int:
    """Run the Reflex ops dashboard (production build, one port) via dashboard/run_dashboard.sh."""
    settings = load_settings()
    script = REPO_ROOT / "dashboard" / "run_dashboard.sh"
    env = {
        **os.environ,
        "DASHBOARD_PORT": str(settings.dashboard_port),
        "DASHBOARD_BACKEND_PORT": str(settings.dashboard_backend_port),
        "WALLETFLOW_API_URL": settings.api_url,
    }
    return subprocess.call(["bash", str(script)], env=env, cwd=REPO_ROOT / "dashboard")
