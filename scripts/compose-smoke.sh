#!/usr/bin/env bash
# Builds the images of docker/Dockerfile, starts docker/compose.yaml's cloud and web (host
# network, loopback only), runs a simulated vehicle into a containerised fleet-agent, and finds
# the vehicle's telemetry through the API. Prints the build and total times and the image sizes.
# Fails loudly, with the reason, where it cannot run (no Docker engine, no base image).
#
# PostgreSQL and Mosquitto: this machine's own (127.0.0.1:5432 trust, 127.0.0.1:1883 anonymous),
# as the rest of the tests use them, instead of compose's postgres/mosquitto services, whose
# images (postgres:15, eclipse-mosquitto:2) cannot be pulled here; a database fleet_smoke_PID is
# made and dropped, and the topics are smoke$$/... so other stacks on that broker (their ingest's
# shared subscription on fleet/...) neither take nor give messages. Everything else is compose.yaml as shipped, with an override file for the
# secrets, free ports and FLEET_AUTO_REGISTER_VEHICLES=true (no device provisioning here).
#
#   bash scripts/compose-smoke.sh            # FLEET_SMOKE_KEEP=1 leaves the stack running
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
START=$(date +%s)
say() { echo "compose-smoke: $*"; }
die() { echo "compose-smoke: FAIL: $*" >&2; exit 1; }

# --- an engine, compose, base images ----------------------------------------------------------
# What the smoke needs is installed and started here (Debian's packages; root), never assumed.
IS_ROOT=$([ "$(id -u)" = 0 ] && echo 1 || true)
apt_install() { # PACKAGE...
  [ -n "$IS_ROOT" ] || die "missing $*: apt-get install -y $* (as root), then run this again"
  say "installing $* (apt)"
  local log=/tmp/fleet-compose-smoke-apt.log
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >"$log" 2>&1 ||
    { apt-get update -q >>"$log" 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >>"$log" 2>&1; } ||
    die "apt-get install $* failed, see $log"
}
command -v docker >/dev/null || apt_install docker.io
# Debian's docker.io builds with the classic builder (no buildx plugin); a newer docker client on
# the PATH would otherwise ask for buildx.
export DOCKER_BUILDKIT=0 COMPOSE_DOCKER_CLI_BUILD=0
# Starts Debian's dockerd at the lowest CPU priority (its builds share the machine): overlay2 where
# the kernel gives it (dockerd picks it), else vfs (slow, copies every layer, but works in a
# container without overlayfs). It keeps running after the smoke, with its images and build cache.
DOCKERD_LOG=/var/log/fleet-dockerd.log
start_engine() {
  command -v dockerd >/dev/null || apt_install docker.io
  [ -n "$IS_ROOT" ] || die "no Docker engine answers, and starting dockerd needs root"
  local driver pid
  for driver in "" vfs; do
    say "starting dockerd${driver:+ --storage-driver $driver} (log: $DOCKERD_LOG)"
    nice -n 19 dockerd ${driver:+--storage-driver "$driver"} >>"$DOCKERD_LOG" 2>&1 &
    pid=$!
    for _ in $(seq 60); do
      docker info >/dev/null 2>&1 && { say "dockerd up: $(docker info -f '{{.Driver}}') storage, pid $pid"; return 0; }
      kill -0 "$pid" 2>/dev/null || break
      sleep 1
    done
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  die "dockerd did not start with overlay2 nor vfs (it needs root and cgroups): $(grep -m3 -i 'level=fatal\|level=error' "$DOCKERD_LOG" || tail -3 "$DOCKERD_LOG")"
}
docker info >/dev/null 2>&1 || start_engine
if docker compose version >/dev/null 2>&1; then
  COMPOSE=(docker compose)
else
  command -v docker-compose >/dev/null || apt_install docker-compose
  COMPOSE=(docker-compose)
fi
command -v psql >/dev/null || die "psql missing (PostgreSQL client)"
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
port_open 5432 || die "PostgreSQL is not reachable on 127.0.0.1:5432"
port_open 1883 || die "Mosquitto is not reachable on 127.0.0.1:1883"

# Registry images where they can be had; else Debian-made stand-ins (scripts/docker-base.sh).
if docker image inspect node:20-bookworm-slim >/dev/null 2>&1 && docker image inspect node:20-bookworm >/dev/null 2>&1; then
  say "base images: node:20-bookworm, node:20-bookworm-slim"
elif timeout 60 docker pull -q node:20-bookworm-slim >/dev/null 2>&1 && timeout 300 docker pull -q node:20-bookworm >/dev/null 2>&1; then
  say "base images: pulled node:20-bookworm, node:20-bookworm-slim"
else
  say "node:20 images cannot be pulled: Debian base images (scripts/docker-base.sh)"
  command -v debootstrap >/dev/null || apt_install debootstrap
  BASE_START=$(date +%s)
  bash scripts/docker-base.sh || die "no base image: scripts/docker-base.sh failed"
  BASE_SECONDS=$(($(date +%s) - BASE_START))
  export FLEET_BUILD_IMAGE=fleet-base/node-build:20 FLEET_RUNTIME_IMAGE=fleet-base/node:20 FLEET_NODE_HEADERS=/usr
fi

# --- the deployment's files, outside the repository -------------------------------------------
WORK=$(mktemp -d /tmp/fleet-compose-smoke.XXXXXX)
DB=fleet_smoke_$$
PROJECT=fleet-smoke-$$
free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
export FLEET_API_PORT=$(free_port) FLEET_WEB_PORT=$(free_port) FLEET_METRICS_PORT=$(free_port)
export FLEET_AUTO_REGISTER_VEHICLES=true FLEET_IMAGE_TAG=smoke
OBD_PORT=$(free_port)
GPS_PORT=$(free_port)
ADMIN_EMAIL=smoke@fleet.local
ADMIN_PASSWORD=$(node -e 'console.log(require("crypto").randomBytes(18).toString("base64url"))')
VEHICLE=smoke-van-1
SIM_PID=
compose() { "${COMPOSE[@]}" -p "$PROJECT" -f docker/compose.yaml -f "$WORK/smoke.yaml" "$@"; }
cleanup() {
  local rc=$?
  if [ "$rc" != 0 ]; then
    say "logs of the failed run:"
    compose logs --no-color --tail=40 2>/dev/null || true
    docker logs --tail=20 "$PROJECT-agent" 2>&1 | sed 's/^/agent: /' || true
  fi
  if [ -z "${FLEET_SMOKE_KEEP:-}" ]; then
    docker rm -f "$PROJECT-agent" >/dev/null 2>&1 || true
    compose down -v >/dev/null 2>&1 || true
    [ -n "$SIM_PID" ] && kill "$SIM_PID" 2>/dev/null || true
    psql -h 127.0.0.1 -U postgres -d postgres -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true
    rm -rf "$WORK"
  fi
  exit "$rc"
}
trap cleanup EXIT

psql -h 127.0.0.1 -U postgres -d postgres -qc "CREATE DATABASE $DB" >/dev/null
openssl genpkey -algorithm ed25519 -out "$WORK/command_key.pem" 2>/dev/null
touch "$WORK/passwd" "$WORK/pg_password"
# The cloud runs as uid 1000 (docker/Dockerfile): its secrets must be readable by it, by nobody else.
chown 1000:1000 "$WORK/command_key.pem" "$WORK/passwd" && chmod 600 "$WORK/command_key.pem"
cat >"$WORK/cloud.env" <<EOF
DATABASE_URL=postgres://postgres@127.0.0.1:5432/$DB
MQTT_PASSWORD=unused-anonymous-broker
FLEET_BASE_TOPIC=smoke$$
FLEET_SECRET_KEYS=1:$(node -e 'console.log(require("crypto").randomBytes(32).toString("base64"))')
FLEET_BOOTSTRAP_ADMIN_EMAIL=$ADMIN_EMAIL
FLEET_BOOTSTRAP_ADMIN_PASSWORD=$ADMIN_PASSWORD
EOF
export FLEET_CLOUD_ENV_FILE=$WORK/cloud.env
cat >"$WORK/smoke.yaml" <<EOF
services:
  cloud:
    volumes: ["$WORK/passwd:/mosquitto-config/passwd"]
secrets:
  command_key:
    file: $WORK/command_key.pem
  # compose.yaml's postgres is not started here, but compose checks every secret's file.
  pg_password:
    file: $WORK/pg_password
EOF

# --- build --------------------------------------------------------------------------------------
say "building cloud and web (compose), agent (docker build)"
BUILD_START=$(date +%s)
compose build cloud web
docker build -q -f docker/Dockerfile --target agent --network host -t "fleet-agent:smoke" \
  --build-arg "BUILD_IMAGE=${FLEET_BUILD_IMAGE:-node:20-bookworm}" \
  --build-arg "RUNTIME_IMAGE=${FLEET_RUNTIME_IMAGE:-node:20-bookworm-slim}" \
  --build-arg "NODE_HEADERS=${FLEET_NODE_HEADERS:-/usr/local}" . >/dev/null
BUILD_SECONDS=$(($(date +%s) - BUILD_START))
say "images built in $BUILD_SECONDS s"

# --- run ----------------------------------------------------------------------------------------
say "starting cloud (api 127.0.0.1:$FLEET_API_PORT) and web (127.0.0.1:$FLEET_WEB_PORT)"
compose up -d --no-deps cloud web
wait_healthy() { # SERVICE SECONDS
  local id status deadline=$(($(date +%s) + $2))
  id=$(compose ps -q "$1")
  while :; do
    status=$(docker inspect -f '{{.State.Health.Status}}' "$id" 2>/dev/null || echo gone)
    [ "$status" = healthy ] && return 0
    [ "$(date +%s)" -ge "$deadline" ] && die "$1 is $status after $2 s"
    sleep 2
  done
}
wait_healthy cloud 240
say "cloud healthy (its HEALTHCHECK: /healthz)"

# The vehicle: firmware-sim on this host (TCP endpoints), read by the fleet-agent image.
node --import tsx firmware-sim/src/main.ts vehicle --id "$VEHICLE" --seed 1 --tick-ms 200 \
  --elm "tcp://127.0.0.1:$OBD_PORT" --nmea "tcp://127.0.0.1:$GPS_PORT" >"$WORK/sim.log" 2>&1 &
SIM_PID=$!
for _ in $(seq 60); do grep -q 'firmware-sim ready' "$WORK/sim.log" && break; sleep 1; done
grep -q 'firmware-sim ready' "$WORK/sim.log" || die "firmware-sim did not start: $(tail -3 "$WORK/sim.log")"
docker run -d --name "$PROJECT-agent" --network host fleet-agent:smoke run --tenant demo --vehicle "$VEHICLE" \
  --obd-port "tcp://127.0.0.1:$OBD_PORT" --gps-nmea "tcp://127.0.0.1:$GPS_PORT" \
  --mqtt-url mqtt://127.0.0.1:1883 --base-topic "smoke$$" >/dev/null

# --- the vehicle through the API (signed in as the bootstrap admin) ---------------------------
API=http://127.0.0.1:$FLEET_API_PORT
FOUND=$(API=$API EMAIL=$ADMIN_EMAIL PASSWORD=$ADMIN_PASSWORD VEHICLE=$VEHICLE node -e '
const { API, EMAIL, PASSWORD, VEHICLE } = process.env;
(async () => {
  const login = await fetch(`${API}/trpc/auth.login`, { method: "POST", headers: { "content-type": "application/json" },
    body: JSON.stringify({ email: EMAIL, password: PASSWORD }) });
  if (login.status !== 200) throw new Error(`auth.login: ${login.status} ${await login.text()}`);
  const cookie = login.headers.get("set-cookie").split(";")[0];
  const deadline = Date.now() + 120_000;
  for (;;) {
    const r = await fetch(`${API}/trpc/vehicles.list?input=${encodeURIComponent("{\"limit\":100}")}`, { headers: { cookie } });
    const rows = (await r.json()).result?.data ?? [];
    const v = rows.find((x) => x.vehicleId === VEHICLE);
    // A latest state with a reading in it: the samples went sim -> agent -> MQTT -> ingest -> PostgreSQL.
    if (v && [v.lat, v.speedKmh, v.rpm, v.fuelLevelPct].some((x) => typeof x === "number")) { console.log(JSON.stringify(v)); return; }
    if (Date.now() > deadline) throw new Error(`no telemetry of ${VEHICLE} through the API after 120 s: ${JSON.stringify(rows).slice(0, 300)}`);
    await new Promise((ok) => setTimeout(ok, 2000));
  }
})().catch((e) => { console.error(e.message); process.exit(1); });
') || die "the vehicle's telemetry was not found through the API"
say "found through the API: ${FOUND:0:300}"

WEB_STATUS=$(node -e "fetch('http://127.0.0.1:$FLEET_WEB_PORT/login').then(r=>console.log(r.status),()=>console.log('down'))")
for _ in $(seq 60); do
  [ "$WEB_STATUS" = 200 ] && break
  sleep 2
  WEB_STATUS=$(node -e "fetch('http://127.0.0.1:$FLEET_WEB_PORT/login').then(r=>console.log(r.status),()=>console.log('down'))")
done
[ "$WEB_STATUS" = 200 ] || die "web /login answered $WEB_STATUS"
wait_healthy web 120
say "web /login 200, healthy"

size() { docker image inspect -f '{{.Size}}' "$1" | numfmt --to=iec; }
say "PASS in $(($(date +%s) - START)) s (${BASE_SECONDS:+scripts/docker-base.sh $BASE_SECONDS s, }build $BUILD_SECONDS s); images: fleet-cloud $(size fleet-cloud:smoke), fleet-web $(size fleet-web:smoke), fleet-agent $(size fleet-agent:smoke)"
docker images --format '{{.Repository}}:{{.Tag}}\t{{.Size}}' |
  grep -E '^(fleet-(cloud|web|agent):smoke|fleet-base/)' | sed 's/^/compose-smoke: image /'
