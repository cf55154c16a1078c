#!/usr/bin/env bash
# One-command setup for tabby's demo and tests (root, idempotent, says what it does).
#   1. Debian packages: gobgpd + gobgp protos, FRR, BIRD2, iproute2, nftables, iperf3, ping,
#      containerd + runc, busybox-static, the reference CNI plugins.
#   2. npm ci (only when node_modules is missing or older than package-lock.json).
#   3. kube-apiserver, kubectl and etcd built from the Go module proxy into a version-keyed
#      cache outside the repo (scripts/build-control-plane.sh).
# Package installs never start services: FRR, containerd etc. run only inside lab namespaces.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(dirname "$here")"
cd "$repo"

say() { printf 'setup: %s\n' "$*"; }

if [ "$(id -u)" != 0 ]; then
  echo "setup: must run as root (installs Debian packages; the lab and tests create network namespaces)" >&2
  exit 1
fi

packages=(gobgpd golang-github-osrg-gobgp-dev frr bird2 iproute2 nftables iperf3 iputils-ping
  containerd runc busybox-static containernetworking-plugins procps ca-certificates)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  say "installing Debian packages: ${missing[*]}"
  # Keep maintainer scripts from starting FRR, BIRD, containerd... in the root namespace.
  policy=/usr/sbin/policy-rc.d
  own_policy=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' > "$policy"; chmod +x "$policy"; own_policy=1
  fi
  trap '[ "$own_policy" = 1 ] && rm -f "$policy"' EXIT
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # Stop anything a postinst started anyway (no systemd here; init scripts may still run).
  for svc in frr bird containerd gobgpd; do
    if [ -x "/etc/init.d/$svc" ]; then "/etc/init.d/$svc" stop >/dev/null 2>&1 || true; fi
  done
else
  say "Debian packages: all present"
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules ]; then
  say "npm ci"
  npm ci --no-audit --no-fund --loglevel=error
  touch node_modules
else
  say "node_modules: up to date"
fi
"$here/build-cni.sh" | sed 's/^/setup: /'
"$here/gen-proto-types.sh" | sed 's/^/setup: /'

"$here/build-control-plane.sh" | sed 's/^/setup: /'
"$here/build-cnitool.sh" | sed 's/^/setup: /'
say "done"
