#!/usr/bin/env bash
# Builds cnitool (github.com/containernetworking/cni/cnitool, pinned) from the Go module proxy
# and fetches the CRI API proto (k8s.io/cri-api pkg/apis/runtime/v1/api.proto, pinned) into
# version-keyed cache directories outside the repo. The tests drive tabby with these real
# clients: cnitool directly, the proto through lab/containerd/cri-client.ts.
# Idempotent: when both are cached it says so and exits.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=versions.sh
. "$here/versions.sh"

tool="$TABBY_CNITOOL_DIR/cnitool"
proto="$TABBY_CRI_API_DIR/api.proto"
if [ -x "$tool" ] && [ -s "$proto" ]; then
  echo "cnitool + CRI proto: cached in $TABBY_CNITOOL_DIR, $TABBY_CRI_API_DIR"
  exit 0
fi
command -v go >/dev/null || { echo "cnitool: Go is required to build cnitool (see README prerequisites)" >&2; exit 1; }

k8s_minor="${K8S_VERSION#v1.}"; k8s_minor="${k8s_minor%%.*}"
cri_minor="${CRI_API_VERSION#v0.}"; cri_minor="${cri_minor%%.*}"
if [ "$k8s_minor" != "$cri_minor" ]; then
  echo "cnitool: warning: CRI_API_VERSION $CRI_API_VERSION does not match K8S_VERSION $K8S_VERSION" >&2
fi

export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-modcacherw
work="$(mktemp -d /tmp/tabby-cnitool.XXXXXX)"
trap 'rm -rf "$work"' EXIT

if [ ! -x "$tool" ]; then
  echo "cnitool: building $CNITOOL_VERSION"
  mkdir -p "$TABBY_CNITOOL_DIR"
  GOBIN="$work/bin" go install -trimpath -ldflags "-s -w" \
    "github.com/containernetworking/cni/cnitool@$CNITOOL_VERSION"
  mv "$work/bin/cnitool" "$tool"
fi

if [ ! -s "$proto" ]; then
  echo "cnitool: fetching k8s.io/cri-api $CRI_API_VERSION api.proto"
  mkdir -p "$TABBY_CRI_API_DIR"
  # Outside any module: `go mod download` of an explicit version needs no go.mod.
  dir="$(cd "$work" && go mod download -json "k8s.io/cri-api@$CRI_API_VERSION" |
    sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
  [ -s "$dir/pkg/apis/runtime/v1/api.proto" ] || { echo "cnitool: no api.proto in $dir" >&2; exit 1; }
  install -m 0644 "$dir/pkg/apis/runtime/v1/api.proto" "$work/api.proto"
  mv "$work/api.proto" "$proto"
fi
echo "cnitool: built into $TABBY_CNITOOL_DIR, CRI proto in $TABBY_CRI_API_DIR"
