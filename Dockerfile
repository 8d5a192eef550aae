# walletflow: one image for the API (`walletflow serve`), the worker (`walletflow worker`), the
# ops dashboard (`walletflow dashboard`) and the operator tools (`walletflow backup …`);
# compose.yaml runs each service from it. It installs the way the README's "Deployment" section
# says: Python 3.11, `pip install -e '.[dashboard]'` from the repository (editable: the package
# reads numscript/, seeds/ and dashboard/ beside it), bun from npm through
# scripts/install_dashboard_toolchain.sh, and the dashboard's production build made here.
# tests/unit/test_compose.py holds this file, compose.yaml and the README to one another.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# --- build: the virtualenv, bun, and the dashboard's frontend ---------------------------------
FROM ${PYTHON_IMAGE} AS build
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH
WORKDIR /app

# Dependencies first, so a code change does not reinstall them.
COPY pyproject.toml ./
COPY backend ./backend
RUN python -m venv /opt/venv \
    && pip install --no-cache-dir -e '.[dashboard]'

COPY . .
# Debian's nodejs/npm only to fetch bun from the npm registry (the script is idempotent).
RUN bash scripts/install_dashboard_toolchain.sh --no-chromium \
    && rm -rf /var/lib/apt/lists/*

# The production frontend build: installs the pinned packages (dashboard/frontend-lock/, restored
# by rxconfig.py) into .web/node_modules and compiles the app, so the container starts offline.
WORKDIR /app/dashboard
RUN eval "$(bash /app/scripts/install_dashboard_toolchain.sh --env --no-chromium)" \
    && reflex export --frontend-only --no-zip --env prod --loglevel info

# Reflex writes into dashboard/ (.web, reflex.lock) and the toolchain links into .tools/bin at
# run time: those two trees go to the runtime user; the rest of /app stays root's.
RUN mv /app/dashboard /opt/dashboard && mv /app/.tools /opt/tools

# --- runtime ----------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime
SHELL ["/bin/bash", "-o", "pipefail", "-c"]

# pg_dump/pg_restore for `walletflow backup`, of the server's major version (compose: 15).
# Versions are not pinned: Debian's security updates replace a pinned version.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends postgresql-client-15 \
    && rm -rf /var/lib/apt/lists/*

RUN groupadd --system --gid 10001 walletflow \
    && useradd --system --uid 10001 --gid walletflow --create-home \
        --home-dir /home/walletflow --shell /usr/sbin/nologin walletflow \
    && install -d -o walletflow -g walletflow /backups /home/walletflow/.local/state/walletflow

ENV VIRTUAL_ENV=/opt/venv \
    PATH=/app/.tools/bin:/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    REFLEX_USE_SYSTEM_BUN=1 \
    TELEMETRY_ENABLED=false \
    REFLEX_CHECK_LATEST_VERSION=false \
    DO_NOT_TRACK=1 \
    HOST=0.0.0.0 \
    PORT=8000 \
    WALLETFLOW_DATA_DIR=/home/walletflow/.local/state/walletflow

COPY --from=build /opt/venv /opt/venv
COPY --from=build /app /app
COPY --from=build --chown=walletflow:walletflow /opt/dashboard /app/dashboard
COPY --from=build --chown=walletflow:walletflow /opt/tools /app/.tools

USER 10001:10001
WORKDIR /app
EXPOSE 8000 3000

# The API's health (database reachable and migrated, Redis reachable). compose.yaml gives the
# dashboard its own check and the worker none (its heartbeat shows in the API's /healthz).
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=5 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('PORT', '8000') + '/healthz', timeout=4)"]

CMD ["walletflow", "serve"]
