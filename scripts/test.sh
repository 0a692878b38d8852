#!/usr/bin/env bash
# Quick start, command 2: install everything the tests need and run every test, then print
# `N passed, N failed` (vitest's tests plus the typecheck and lint gates).
source "$(dirname "$0")/bootstrap.sh"

need_node
need_pnpm
need_apt socat socat
need_apt gpsd gpsd
need_apt gpsfake gpsd-clients
need_apt chromium chromium
# prometheus and promtool: the metrics test scrapes a running stack and unit-tests the alerting rules.
need_apt prometheus prometheus
install_workspace

# The tests use this machine's PostgreSQL (127.0.0.1:5432) and Mosquitto (127.0.0.1:1883).
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
if ! port_open 5432 && command -v pg_ctlcluster >/dev/null; then
  say "starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start || true
fi
if ! port_open 1883 && command -v mosquitto >/dev/null; then
  say "starting Mosquitto"
  mosquitto -d -c /etc/mosquitto/mosquitto.conf || true
fi
port_open 5432 || die "PostgreSQL is not reachable on 127.0.0.1:5432; start it: pg_ctlcluster --skip-systemctl-redirect 15 main start"
port_open 1883 || die "Mosquitto is not reachable on 127.0.0.1:1883; start it: mosquitto -d -c /etc/mosquitto/mosquitto.conf"

gate_passed=0
gate_failed=0
gate() {
  local name=$1; shift
  say "$name"
  if "$@"; then gate_passed=$((gate_passed + 1)); else gate_failed=$((gate_failed + 1)); say "$name FAILED"; fi
}
gate "typecheck" "${PNPM[@]}" -s typecheck
gate "lint" "${PNPM[@]}" -s exec biome check .

say "tests (vitest)"
report="$(mktemp -t vitest-report.XXXXXX.json)"
set +e
"${PNPM[@]}" exec vitest run --reporter=default --reporter=json --outputFile.json="$report"
vitest_status=$?
set -e

read -r passed failed < <(node -e '
  const fs = require("node:fs");
  let r = {};
  try { r = JSON.parse(fs.readFileSync(process.argv[1], "utf8")); } catch {}
  const suiteErrors = (r.testResults || []).filter((f) => f.status === "failed" && !(f.assertionResults || []).length).length;
  console.log((r.numPassedTests || 0) + " " + ((r.numFailedTests || 0) + suiteErrors));
' "$report")
if [ "$vitest_status" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi   # e.g. an unhandled error
rm -f "$report"

total_passed=$((passed + gate_passed))
total_failed=$((failed + gate_failed))
echo "${total_passed} passed, ${total_failed} failed"
[ "$total_failed" -eq 0 ]
