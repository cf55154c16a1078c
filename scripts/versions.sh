# Pinned versions of the tools built from the Go module proxy, and where they are cached.
# Sourced by scripts/*.sh; lab/ reads the same values through lab/control-plane/binaries.ts
# and lab/containerd/paths.ts.
K8S_VERSION="${K8S_VERSION:-v1.34.4}"
ETCD_VERSION="${ETCD_VERSION:-v3.6.16}"
# cnitool (github.com/containernetworking/cni/cnitool): newest 1.3.x on the proxy.
CNITOOL_VERSION="${CNITOOL_VERSION:-v1.3.1}"
# k8s.io/cri-api: the staging module of K8S_VERSION (v1.34.4 -> v0.34.4); source of api.proto.
CRI_API_VERSION="${CRI_API_VERSION:-v0.34.4}"
TABBY_CACHE_DIR="${TABBY_CACHE_DIR:-/var/cache/tabby}"
TABBY_CP_BIN_DIR="${TABBY_CP_BIN_DIR:-$TABBY_CACHE_DIR/control-plane/k8s-$K8S_VERSION-etcd-$ETCD_VERSION}"
TABBY_CNITOOL_DIR="${TABBY_CNITOOL_DIR:-$TABBY_CACHE_DIR/cnitool/$CNITOOL_VERSION}"
TABBY_CRI_API_DIR="${TABBY_CRI_API_DIR:-$TABBY_CACHE_DIR/cri-api/$CRI_API_VERSION}"
