#!/usr/bin/env bash
# Builds kube-apiserver, kubectl (one pinned Kubernetes version) and etcd from the Go
# module proxy into a cache directory outside the repo, keyed by version.
# Idempotent: when all three binaries are cached it prints their paths and exits.
# Recipe: ../shared/notes/local-kube-apiserver.md (scratch module + staging replaces).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=versions.sh
. "$here/versions.sh"

out="$TABBY_CP_BIN_DIR"
have() { [ -f "$out/$1" ] && [ -x "$out/$1" ]; }
if have kube-apiserver && have kubectl && have etcd; then
  echo "control plane: cached in $out"
  exit 0
fi
command -v go >/dev/null || { echo "control plane: Go is required to build kube-apiserver/etcd (see README prerequisites)" >&2; exit 1; }

export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-modcacherw
mkdir -p "$out"
work="$(mktemp -d /tmp/tabby-cpbuild.XXXXXX)"
trap 'rm -rf "$work"' EXIT

minor="${K8S_VERSION#v1.}"; minor="${minor%%.*}"
staging="v0.${K8S_VERSION#v1.}"

if ! have kube-apiserver || ! have kubectl; then
  echo "control plane: building kube-apiserver + kubectl $K8S_VERSION (first run: about 5-10 min on 2 cores)"
  mkdir -p "$work/k8s-mod" "$work/bin" && cd "$work/k8s-mod"
  go mod init local/k8sbuild >/dev/null 2>&1
  gomod="$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p')"
  go mod edit -go="$(awk '$1=="go"{print $2; exit}' "$gomod")"
  grep -E '^godebug ' "$gomod" >> go.mod || true
  for m in $(awk '$1 ~ /^k8s\.io\// && $2=="v0.0.0" {print $1}' "$gomod"); do
    go mod edit -replace="$m=$m@$staging"
  done
  go get "k8s.io/kubernetes/cmd/kube-apiserver@$K8S_VERSION" "k8s.io/kubernetes/cmd/kubectl@$K8S_VERSION" >/dev/null 2>&1 \
    || go get "k8s.io/kubernetes/cmd/kube-apiserver@$K8S_VERSION" "k8s.io/kubernetes/cmd/kubectl@$K8S_VERSION"
  ld="-s -w"
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ld="$ld -X $p.gitVersion=$K8S_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean"
  done
  go build -trimpath -tags=notest,grpcnotrace -ldflags "$ld" -o "$work/bin/kube-apiserver" k8s.io/kubernetes/cmd/kube-apiserver
  go build -trimpath -tags=notest,grpcnotrace -ldflags "$ld" -o "$work/bin/kubectl" k8s.io/kubernetes/cmd/kubectl
  mv "$work/bin/kube-apiserver" "$work/bin/kubectl" "$out/"
fi

if ! have etcd; then
  rm -rf "${out:?}/etcd"
  echo "control plane: building etcd $ETCD_VERSION"
  mkdir -p "$work/etcd-mod" "$work/bin" && cd "$work/etcd-mod"
  go mod init local/etcdbuild >/dev/null 2>&1
  go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION" >/dev/null 2>&1 || go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION"
  go build -trimpath -ldflags "-s -w" -o "$work/bin/etcd" go.etcd.io/etcd/server/v3
  mv "$work/bin/etcd" "$out/"
fi
"$out/kube-apiserver" --version
"$out/etcd" --version | head -1
echo "control plane: built into $out"
