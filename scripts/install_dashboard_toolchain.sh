#!/usr/bin/env bash
# Install the ops-dashboard toolchain without touching the internet beyond
# Debian apt and the npm registry:
#   * Debian `chromium` (for Playwright e2e tests; never `playwright install`)
#   * bun (from the npm package `bun`) into the project-local prefix .tools/bun
#
# Idempotent and fast when everything is already present.
# Usage:   bash scripts/install_dashboard_toolchain.sh          # install + print env
#          eval "$(bash scripts/install_dashboard_toolchain.sh --env)"  # install quietly, export env
# Flags:   --no-chromium   skip the browser (e.g. a build-only machine)
#          --env           print only the `export` lines on stdout (logs go to stderr)
set -euo pipefail

BUN_VERSION="${WALLETFLOW_BUN_VERSION:-1.4.5}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PREFIX="$ROOT/.tools/bun"
BUN_BIN="$PREFIX/node_modules/bun/bin/bun.exe"
BUN_LINK_DIR="$ROOT/.tools/bin"

want_chromium=1
env_only=0
for arg in "$@"; do
  case "$arg" in
    --no-chromium) want_chromium=0 ;;
    --env) env_only=1 ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "unknown argument: $arg" >&2; exit 2 ;;
  esac
done

log() { echo "[dashboard-toolchain] $*" >&2; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

apt_updated=0
apt_install() {
  if [ "$apt_updated" -eq 0 ]; then
    log "apt-get update"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
    apt_updated=1
  fi
  log "apt-get install -y $*"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >&2
}

# --- chromium (Debian) -------------------------------------------------------
if [ "$want_chromium" -eq 1 ]; then
  if [ -x /usr/bin/chromium ]; then
    log "chromium present: $(/usr/bin/chromium --version 2>/dev/null || echo '?')"
  else
    # fonts-liberation: so pages render readable text in screenshots.
    apt_install chromium fonts-liberation
  fi
fi

# --- node/npm (only needed to fetch bun from the npm registry) ---------------
if [ ! -x "$BUN_BIN" ] && ! command -v npm >/dev/null 2>&1; then
  apt_install nodejs npm
fi

# --- bun from npm into .tools/bun --------------------------------------------
have_bun_version() {
  [ -x "$BUN_BIN" ] && [ "$("$BUN_BIN" --version 2>/dev/null)" = "$BUN_VERSION" ]
}
if have_bun_version; then
  log "bun $BUN_VERSION present: $BUN_BIN"
else
  log "npm install bun@$BUN_VERSION into $PREFIX"
  mkdir -p "$PREFIX"
  # Own package.json so npm does not walk up into a parent project.
  [ -f "$PREFIX/package.json" ] || echo '{"name":"walletflow-tools","private":true}' >"$PREFIX/package.json"
  (cd "$PREFIX" && npm install --no-audit --no-fund --loglevel=error --save-exact "bun@$BUN_VERSION" >&2)
  have_bun_version || { log "bun install failed (expected $BUN_VERSION at $BUN_BIN)"; exit 1; }
fi
mkdir -p "$BUN_LINK_DIR"
ln -sfn "$BUN_BIN" "$BUN_LINK_DIR/bun"
ln -sfn "$BUN_BIN" "$BUN_LINK_DIR/bunx"

# --- environment -------------------------------------------------------------
env_lines="export PATH=\"$BUN_LINK_DIR:\$PATH\"
export REFLEX_USE_SYSTEM_BUN=1
export TELEMETRY_ENABLED=false
export REFLEX_CHECK_LATEST_VERSION=false
export NPM_CONFIG_REGISTRY=https://registry.npmjs.org/
export DO_NOT_TRACK=1"

if [ "$env_only" -eq 1 ]; then
  echo "$env_lines"
else
  log "done. Export this environment before running reflex:"
  echo "$env_lines"
fi
