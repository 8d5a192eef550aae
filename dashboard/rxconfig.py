"""Reflex config for the walletflow ops dashboard.

Ports come from the environment so tests and deployments can pick free ports:

* ``DASHBOARD_PORT`` (default 3000): the public port. In production mode
  (``reflex run --env prod``) Reflex 0.9 serves the compiled frontend *and* the
  backend (websocket/event API) on this one port; it refuses two ports in prod.
* ``DASHBOARD_BACKEND_PORT``: backend port in dev mode only (``DASHBOARD_ENV=dev
  reflex run``; default DASHBOARD_PORT + 1).
* ``DASHBOARD_HOST`` (default 0.0.0.0): bind address of the server.
* ``DASHBOARD_API_URL``: URL the browser uses to reach the backend, baked into the
  frontend build (default ``http://localhost:<backend port>``). Set it when the
  dashboard sits behind a proxy or is opened from another host.
"""

import os
from pathlib import Path

import reflex as rx

from walletflow_dashboard.lockfiles import restore_pinned_lockfiles

# Reflex reads its pins from reflex.lock/ (ignored) and rewrites them there; the tracked pins
# live in frontend-lock/ (see walletflow_dashboard/lockfiles.py).
restore_pinned_lockfiles(Path(__file__).resolve().parent)

_DEV = os.environ.get("DASHBOARD_ENV", "prod") == "dev"
_port = int(os.environ.get("DASHBOARD_PORT", "3000"))
_backend_port = int(os.environ.get("DASHBOARD_BACKEND_PORT", _port + 1)) if _DEV else _port

config = rx.Config(
    app_name="walletflow_dashboard",
    frontend_port=_port,
    backend_port=_backend_port,
    backend_host=os.environ.get("DASHBOARD_HOST", "0.0.0.0"),
    api_url=os.environ.get("DASHBOARD_API_URL", f"http://localhost:{_backend_port}"),
    deploy_url=os.environ.get("DASHBOARD_DEPLOY_URL", f"http://localhost:{_port}"),
    telemetry_enabled=False,
    # Sessions live in memory only: the default disk manager would pickle backend vars, and
    # with them the API session / API key, into dashboard/.states. A restart signs users out.
    state_manager_mode=rx.constants.StateManagerMode.MEMORY,
    # The badge links reflex.dev assets; keep the page self-contained.
    show_built_with_reflex=False,
    # Dark/light follow the toggle (rx.color_mode); fonts are the system's (no web fonts).
    plugins=[
        rx.plugins.RadixThemesPlugin(
            theme=rx.theme(appearance="inherit", accent_color="teal", radius="medium")
        )
    ],
    # No sitemap for an internal ops tool.
    disable_plugins=[rx.plugins.SitemapPlugin],
)
