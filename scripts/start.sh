#!/usr/bin/env bash
# Quick start, command 1: install everything, build the web app, start the whole system on the
# embedded defaults (aedes broker, PGlite, simulated vehicles through the real agent, web app).
source "$(dirname "$0")/bootstrap.sh"

need_node
need_pnpm
need_apt socat socat optional || say "socat unavailable: vehicles will use TCP instead of virtual serial ports"
install_workspace
say "building the web app"
"${PNPM[@]}" --filter @fleet/web build 2>&1 | tail -n 3
say "starting the system with the demo fleet and its last 7 days (about a minute; FLEET_DEMO=false for an empty one)"
exec node --import tsx scripts/stack.ts
