#!/usr/bin/env bash
# Run the ops dashboard offline (bun from .tools/, no telemetry/version checks).
#   bash dashboard/run_dashboard.sh            # prod: build + serve on $DASHBOARD_PORT (default 3000)
#   DASHBOARD_ENV=dev bash dashboard/run_dashboard.sh   # dev: hot reload, backend on $DASHBOARD_BACKEND_PORT
# Extra args go to `reflex run`. Installs the toolchain first if missing (fast no-op otherwise).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
eval "$(bash "$ROOT/scripts/install_dashboard_toolchain.sh" --env --no-chromium)"
export DASHBOARD_ENV="${DASHBOARD_ENV:-prod}"
REFLEX="${REFLEX:-$ROOT/.venv/bin/reflex}"
[ -x "$REFLEX" ] || REFLEX="$(command -v reflex)"
cd "$HERE"
if [ "$DASHBOARD_ENV" = "dev" ]; then
  exec "$REFLEX" run "$@"
else
  exec "$REFLEX" run --env prod "$@"
fi
