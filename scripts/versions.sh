# Pinned versions of the tools built from the Go module proxy, and where they are cached.
# Sourced by scripts/*.sh; lab/ reads the same values through lab/control-plane/binaries.ts.
K8S_VERSION="${K8S_VERSION:-v1.34.4}"
ETCD_VERSION="${ETCD_VERSION:-v3.6.16}"
TABBY_CACHE_DIR="${TABBY_CACHE_DIR:-/var/cache/tabby}"
TABBY_CP_BIN_DIR="${TABBY_CP_BIN_DIR:-$TABBY_CACHE_DIR/control-plane/k8s-$K8S_VERSION-etcd-$ETCD_VERSION}"
