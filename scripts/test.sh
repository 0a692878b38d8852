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

# Two vitest runs side by side, one file at a time each: the browser files (each starts a whole
# stack) and everything else. Vitest itself would run them one after the other (files of a project
# without file parallelism go last, alone). A third file at once (maxWorkers 2 for the rest) made
# the browser lane, the longest, slower by more than it saved: on 2 cores the stacks compute.
say "tests (vitest: unit and integration, with the browser files alongside)"
reports="$(mktemp -d -t vitest-report.XXXXXX)"
e2e_log="$reports/e2e.log"
set +e
"${PNPM[@]}" exec vitest run --project e2e --reporter=default --reporter=json \
  --outputFile.json="$reports/e2e.json" >"$e2e_log" 2>&1 &
e2e_pid=$!
"${PNPM[@]}" exec vitest run --project unit --project integration --maxWorkers=1 --reporter=default --reporter=json \
  --outputFile.json="$reports/rest.json"
rest_status=$?
wait "$e2e_pid"
e2e_status=$?
set -e
say "tests (vitest: browser files)"
cat "$e2e_log"

read -r passed failed < <(node -e '
  const fs = require("node:fs");
  let passed = 0, failed = 0;
  for (const file of process.argv.slice(1)) {
    let r = {};
    try { r = JSON.parse(fs.readFileSync(file, "utf8")); } catch { failed += 1; continue; } // no report: the run died
    const suiteErrors = (r.testResults || []).filter((f) => f.status === "failed" && !(f.assertionResults || []).length).length;
    passed += r.numPassedTests || 0;
    failed += (r.numFailedTests || 0) + suiteErrors;
    // Named again here, next to the summary: a CI log cut to its tail still says what failed.
    for (const f of r.testResults || []) {
      const name = f.name.replace(process.cwd() + "/", "");
      const tests = (f.assertionResults || []).filter((a) => a.status === "failed");
      if (f.status === "failed" && !tests.length) console.error("FAILED " + name + ": " + String(f.message || "").split("\n")[0]);
      for (const a of tests) console.error("FAILED " + name + " > " + a.fullName + ": " + String((a.failureMessages || [])[0] || "").split("\n")[0].slice(0, 300));
    }
  }
  console.log(passed + " " + failed);
' "$reports/rest.json" "$reports/e2e.json")
if { [ "$rest_status" -ne 0 ] || [ "$e2e_status" -ne 0 ]; } && [ "$failed" -eq 0 ]; then failed=1; fi   # e.g. an unhandled error
rm -rf "$reports"

total_passed=$((passed + gate_passed))
total_failed=$((failed + gate_failed))
echo "${total_passed} passed, ${total_failed} failed"
[ "$total_failed" -eq 0 ]
