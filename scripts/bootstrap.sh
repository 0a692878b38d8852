# Shared set-up for start.sh and test.sh (sourced, not run): Node check, pnpm 10, apt packages,
# workspace install. Everything comes from the npm registry and Debian's apt, nothing else.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PNPM_VERSION=10.34.9

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

need_node() {
  command -v node >/dev/null || die "Node.js 20 is required (Debian: apt-get install nodejs, or nodesource)"
  local major
  major=$(node -p 'process.versions.node.split(".")[0]')
  [ "$major" -ge 20 ] || die "Node.js >= 20 is required, found $(node -v)"
}

# pnpm 10 (11+ needs Node 22); `corepack pnpm` fails against this registry, so install it with npm.
need_pnpm() {
  if command -v pnpm >/dev/null && [[ "$(pnpm --version 2>/dev/null)" == 10.* ]]; then
    PNPM=(pnpm)
  elif npm install -g "pnpm@$PNPM_VERSION" >/dev/null 2>&1; then
    say "installed pnpm $PNPM_VERSION"
    PNPM=(pnpm)
  else
    say "cannot install pnpm globally; using npx pnpm@$PNPM_VERSION"
    PNPM=(npx --yes "pnpm@$PNPM_VERSION")
  fi
}

APT_UPDATED=0
# need_apt COMMAND PACKAGE [required|optional]: installs PACKAGE from apt when COMMAND is missing.
need_apt() {
  local cmd=$1 pkg=$2 kind=${3:-required}
  command -v "$cmd" >/dev/null && return 0
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    say "installing $pkg (apt)"
    if [ "$APT_UPDATED" -eq 0 ]; then apt-get update -qq >/dev/null; APT_UPDATED=1; fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$pkg" >/dev/null
    command -v "$cmd" >/dev/null && return 0
  fi
  if [ "$kind" = required ]; then
    die "$cmd is required: sudo apt-get install -y $pkg"
  fi
  return 1
}

install_workspace() {
  say "installing workspace dependencies (pnpm)"
  # better-sqlite3 has no reachable prebuilt binary and compiles against Node's headers in /usr.
  export npm_config_nodedir="${npm_config_nodedir:-/usr}"
  "${PNPM[@]}" install --frozen-lockfile --reporter=append-only 2>&1 | grep -vE '^\.\.\./|^$' | tail -n 5
}

export NEXT_TELEMETRY_DISABLED=1
