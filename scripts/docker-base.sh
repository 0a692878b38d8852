#!/usr/bin/env bash
# Makes the two base images the Dockerfile starts from when no registry image can be pulled
# (machines that reach only Debian's packages and npm): a Debian root made by debootstrap and
# loaded with `docker import`. The Dockerfile stays standard (FROM ${BUILD_IMAGE}/${RUNTIME_IMAGE},
# node:20-bookworm and node:20-bookworm-slim by default); the smoke script passes these instead.
#   fleet-base/node-build:20   nodejs 20, pnpm, python3, make, g++, Node's headers (native modules)
#   fleet-base/node:20         nodejs 20 and CA certificates only
# Node 20 is Debian 13 (trixie)'s nodejs; bookworm's is 18. Each image is made once (delete it
# with `docker rmi` to remake it). Needs root, debootstrap and a running Docker engine.
# FLEET_BASE_CA_BUNDLE (default: this machine's /etc/ssl/certs/ca-certificates.crt) goes into the
# build image only, so `pnpm install` there trusts what this machine trusts (a TLS-inspecting
# proxy in front of the npm registry included); the runtime image keeps Debian's own bundle.
set -euo pipefail
SUITE=${FLEET_BASE_SUITE:-trixie}
MIRROR=${FLEET_BASE_MIRROR:-http://deb.debian.org/debian}
WORK=${FLEET_BASE_WORK:-/tmp/fleet-docker-base}
CA_BUNDLE=${FLEET_BASE_CA_BUNDLE-/etc/ssl/certs/ca-certificates.crt}

die() { echo "docker-base: $*" >&2; exit 1; }
command -v debootstrap >/dev/null || die "debootstrap missing: apt-get install -y debootstrap"
docker info >/dev/null 2>&1 || die "no Docker engine answers (docker info failed)"

ROOT="$WORK/root"
runtime_root() { # a minimal Debian with nodejs, once
  [ -x "$ROOT/usr/bin/node" ] && return
  echo "docker-base: debootstrap $SUITE (nodejs, ca-certificates)"
  rm -rf "$ROOT" && mkdir -p "$ROOT"
  debootstrap --variant=minbase --include=nodejs,ca-certificates "$SUITE" "$ROOT" "$MIRROR" >"$WORK/debootstrap.log" 2>&1 ||
    die "debootstrap failed, see $WORK/debootstrap.log"
  # The same user the official node images have (uid 1000): the Dockerfile runs as 1000:1000.
  chroot "$ROOT" useradd --uid 1000 --user-group --create-home --shell /bin/sh node
}
import_root() { # DIR TAG [docker import --change ...]
  local dir=$1 tag=$2
  shift 2
  rm -rf "$dir"/var/cache/apt/archives/*.deb "$dir"/var/lib/apt/lists/*
  tar -C "$dir" -c . | docker import --change 'ENV LANG=C.UTF-8' --change 'CMD ["node"]' "$@" - "$tag" >/dev/null
  echo "docker-base: $tag $(docker image inspect -f '{{.Size}}' "$tag" | numfmt --to=iec)"
}

mkdir -p "$WORK"
for tag in fleet-base/node:20 fleet-base/node-build:20; do
  docker image inspect "$tag" >/dev/null 2>&1 && echo "docker-base: $tag present (docker rmi it to remake it)"
done
if ! docker image inspect fleet-base/node:20 >/dev/null 2>&1; then
  runtime_root
  import_root "$ROOT" fleet-base/node:20
fi
if ! docker image inspect fleet-base/node-build:20 >/dev/null 2>&1; then
  runtime_root
  BUILD="$WORK/build-root"
  rm -rf "$BUILD" && cp -a "$ROOT" "$BUILD"
  # apt resolves what debootstrap --include does not (Debian's npm alone is 400 packages, and
  # debootstrap leaves it unconfigured), so the compilers come in with apt inside the root.
  mount -t proc proc "$BUILD/proc"
  trap 'umount "$BUILD/proc" 2>/dev/null || true' EXIT
  chroot "$BUILD" sh -c 'apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends g++ make python3 libnode-dev' \
    >"$WORK/apt.log" 2>&1 || die "apt-get in the build root failed, see $WORK/apt.log"
  umount "$BUILD/proc"
  # pnpm itself from the npm registry (what `npm install -g pnpm` would fetch; the Dockerfile
  # skips that step when pnpm is there).
  mkdir -p "$BUILD/usr/local/lib/node_modules/pnpm" "$BUILD/usr/local/bin"
  (cd "$WORK" && npm pack -q pnpm@10.34.9 >/dev/null) || die "npm pack pnpm failed"
  tar -xzf "$WORK"/pnpm-10.34.9.tgz -C "$BUILD/usr/local/lib/node_modules/pnpm" --strip-components=1
  ln -sf ../lib/node_modules/pnpm/bin/pnpm.cjs "$BUILD/usr/local/bin/pnpm"
  extra=()
  if [ -n "$CA_BUNDLE" ]; then
    cp "$CA_BUNDLE" "$BUILD/etc/ssl/certs/ca-certificates.crt"
    extra=(--change "ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt")
  fi
  import_root "$BUILD" fleet-base/node-build:20 "${extra[@]}"
  rm -rf "$BUILD"
fi
