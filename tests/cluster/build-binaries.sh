#!/usr/bin/env bash
# Build the real-cluster test binaries from the Go module proxy, at pinned versions, into a
# cache dir outside the repo:
#   kube-apiserver, kube-controller-manager, kubectl  (k8s.io/kubernetes $KUBE_VERSION)
#   etcd                                              (go.etcd.io/etcd/server/v3 $ETCD_VERSION)
#   kubeseal, controller (renamed sealed-secrets-controller)
#                                                     (bitnami-labs/sealed-secrets $SEALED_VERSION,
#                                                      the reference implementation, as test peers)
# Idempotent: binaries that already exist are not rebuilt, so a warm run takes well under a second.
# Prints progress and timings on stderr; the last line on stdout is the bin dir.
# Override the cache root with K8S_TEST_BIN_CACHE.
set -euo pipefail

KUBE_VERSION="${KUBE_VERSION:-v1.37.2}"
ETCD_VERSION="${ETCD_VERSION:-v3.6.16}"
SEALED_VERSION="${SEALED_VERSION:-v0.36.6}"

ROOT="${K8S_TEST_BIN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sealed-secrets-test-bins}"
OUT="$ROOT/kube-$KUBE_VERSION.etcd-$ETCD_VERSION.sealed-secrets-$SEALED_VERSION"
BIN="$OUT/bin"
# The reference SealedSecret CRD, copied from the same module, for running the Bitnami peer.
CRD="$OUT/share/bitnami.com_sealedsecrets.yaml"
ALL=(kube-apiserver kube-controller-manager kubectl etcd kubeseal sealed-secrets-controller)

log() { echo "build-binaries: $*" >&2; }

# with-cluster.sh makes its service address with iproute2 (service-net.sh); as root, with apt,
# install it if missing. Output on stderr: the last stdout line stays the bin dir.
if ! command -v ip >/dev/null 2>&1 && [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null 2>&1; then
  log "installing iproute2 (for with-cluster.sh's service address) ..."
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq iproute2; } >&2 ||
    log "WARNING: installing iproute2 failed; with-cluster.sh will run without TEST_CLUSTER_SERVICE_IP"
fi

all_present() {
  local b
  for b in "${ALL[@]}"; do [[ -x $BIN/$b ]] || return 1; done
  [[ -f $CRD ]]
}

# Fast path, without taking the lock.
if all_present; then
  log "all binaries cached in $BIN"
  echo "$BIN"
  exit 0
fi

mkdir -p "$BIN" "$OUT/src" "$OUT/share"
# Serialize concurrent builds (two with-cluster.sh runs at once) on one lock file.
exec 9>"$ROOT/.build.lock"
flock 9
if all_present; then echo "$BIN"; exit 0; fi

# CGO off: static binaries, no C toolchain involvement (upstream builds these static too).
# -mod=mod: the throwaway modules are edited/tidied on the fly. -buildvcs=false: the build dirs
# are not git checkouts. GOTOOLCHAIN=auto: if a module's go line needs a newer Go than the local
# one, the toolchain is fetched from the proxy instead of failing.
export CGO_ENABLED=0 GOFLAGS="-mod=mod -buildvcs=false" GOTOOLCHAIN="${GOTOOLCHAIN_BUILD:-auto}"
T_ALL=$(date +%s)

# Build into a temp name and rename, so an interrupted build never leaves a half-written binary
# that the fast path would trust.
# usage: timed_build NAME PACKAGE go build args... (-o and the package are appended)
timed_build() {
  local name=$1 pkg=$2 t0
  shift 2
  if [[ -x $BIN/$name ]]; then log "$name: cached"; return 0; fi
  log "building $name ..."
  t0=$(date +%s)
  "$@" -o "$BIN/.$name.tmp" "$pkg"
  mv -f "$BIN/.$name.tmp" "$BIN/$name"
  log "built $name in $(( $(date +%s) - t0 )) s"
}

# --- Kubernetes: a throwaway module that requires k8s.io/kubernetes and replaces every staging
# module (required there at the non-existent v0.0.0) with its published v0.X.Y twin. ---
build_kube() {
  local K="$OUT/src/kube" kmod sv gov g m minor ld kv t0
  if [[ -x $BIN/kube-apiserver && -x $BIN/kube-controller-manager && -x $BIN/kubectl ]]; then
    return 0
  fi
  if [[ ! -f $K/.ready ]]; then
    log "preparing module for k8s.io/kubernetes@$KUBE_VERSION ..."
    t0=$(date +%s)
    rm -rf "$K"; mkdir -p "$K"
    (
      cd "$K"
      go mod init local/k8s-test-bins >/dev/null 2>&1
      # The proxy serves kubernetes' own go.mod; the staging list and go/godebug lines come from
      # it, so a new staging module in a later minor cannot break this script.
      kmod=$(go mod download -json "k8s.io/kubernetes@$KUBE_VERSION" | jq -r '.GoMod // empty')
      [[ -n $kmod && -f $kmod ]] || { log "cannot download k8s.io/kubernetes@$KUBE_VERSION"; exit 1; }
      sv="v0.${KUBE_VERSION#v1.}" # v1.37.2 -> v0.37.2
      args=(-require="k8s.io/kubernetes@$KUBE_VERSION")
      gov=$(sed -n 's/^go \([0-9.]*\)$/\1/p' "$kmod")
      [[ -n $gov ]] && args+=(-go="$gov")
      # A dependency's godebug lines are ignored; copy them so GODEBUG defaults match releases.
      while read -r g; do args+=(-godebug="$g"); done \
        < <(sed -n 's/^godebug \([^ ]*=[^ ]*\)$/\1/p' "$kmod")
      while read -r m; do args+=(-replace="$m=$m@$sv"); done < <(
        sed -n 's|^[[:space:]]*\(k8s\.io/[^[:space:]]*\)[[:space:]]*=>[[:space:]]*\./staging/src/.*|\1|p' "$kmod")
      log "replacing $(( ${#args[@]} - 1 )) staging modules with @$sv (plus go/godebug lines)"
      go mod edit "${args[@]}"
      # Import the main packages under a build tag so `go mod tidy` records their deps.
      printf '//go:build tools\n\npackage tools\n\nimport (\n\t_ "k8s.io/kubernetes/cmd/kube-apiserver"\n\t_ "k8s.io/kubernetes/cmd/kube-controller-manager"\n\t_ "k8s.io/kubernetes/cmd/kubectl"\n)\n' > tools.go
      go mod tidy
    )
    touch "$K/.ready"
    log "module ready in $(( $(date +%s) - t0 )) s"
  fi
  minor=${KUBE_VERSION#v1.}; minor=${minor%%.*}
  # Version stamping as upstream's hack/lib/version.sh does; without it /version says v0.0.0.
  ld="-s -w"
  for kv in "gitVersion=$KUBE_VERSION" gitMajor=1 "gitMinor=$minor" gitTreeState=clean \
            "buildDate=$(date -u +%Y-%m-%dT%H:%M:%SZ)"; do
    ld+=" -X k8s.io/component-base/version.$kv -X k8s.io/client-go/pkg/version.$kv"
  done
  # Sequential builds: later ones reuse the build cache, and the per-binary time is visible.
  # shellcheck disable=SC2054 # the commas belong to -tags
  local gb=(go build -C "$K" -trimpath -tags=selinux,notest,grpcnotrace "-ldflags=$ld")
  timed_build kube-apiserver k8s.io/kubernetes/cmd/kube-apiserver "${gb[@]}"
  timed_build kube-controller-manager k8s.io/kubernetes/cmd/kube-controller-manager "${gb[@]}"
  timed_build kubectl k8s.io/kubernetes/cmd/kubectl "${gb[@]}"
}

# --- etcd: its own throwaway module, so MVS cannot bump the apiserver's etcd client/grpc deps. ---
build_etcd() {
  local E="$OUT/src/etcd" t0
  [[ -x $BIN/etcd ]] && return 0
  if [[ ! -f $E/.ready ]]; then
    log "preparing module for go.etcd.io/etcd/server/v3@$ETCD_VERSION ..."
    t0=$(date +%s)
    rm -rf "$E"; mkdir -p "$E"
    (
      cd "$E"
      go mod init local/etcd-test-bin >/dev/null 2>&1
      go mod edit -require="go.etcd.io/etcd/server/v3@$ETCD_VERSION"
      printf '//go:build tools\n\npackage tools\n\nimport _ "go.etcd.io/etcd/server/v3"\n' > tools.go
      go mod tidy
    )
    touch "$E/.ready"
    log "module ready in $(( $(date +%s) - t0 )) s"
  fi
  timed_build etcd go.etcd.io/etcd/server/v3 go build -C "$E" -trimpath "-ldflags=-s -w"
}

# --- sealed-secrets reference (no replace directives, so plain `go install pkg@version` works). ---
build_sealed() {
  local name pkg t0
  for name in kubeseal sealed-secrets-controller; do
    [[ -x $BIN/$name ]] && { log "$name: cached"; continue; }
    pkg=kubeseal; [[ $name == sealed-secrets-controller ]] && pkg=controller
    log "building $name (go install .../cmd/$pkg@$SEALED_VERSION) ..."
    t0=$(date +%s)
    # go install pkg@version refuses -mod=mod, hence the narrower GOFLAGS. GOBIN is a temp dir
    # because the binary is renamed ("controller" is too generic a name on PATH).
    rm -rf "$OUT/src/gobin"; mkdir -p "$OUT/src/gobin"
    GOFLAGS=-buildvcs=false GOBIN="$OUT/src/gobin" go install -trimpath "-ldflags=-s -w" \
      "github.com/bitnami-labs/sealed-secrets/cmd/$pkg@$SEALED_VERSION"
    mv -f "$OUT/src/gobin/$pkg" "$BIN/$name"
    log "built $name in $(( $(date +%s) - t0 )) s"
  done
  if [[ ! -f $CRD ]]; then
    local dir
    dir=$(GOFLAGS='' go mod download -json "github.com/bitnami-labs/sealed-secrets@$SEALED_VERSION" | jq -r '.Dir // empty')
    mkdir -p "$(dirname "$CRD")"
    cp "$dir/helm/sealed-secrets/crds/bitnami.com_sealedsecrets.yaml" "$CRD.tmp"
    mv -f "$CRD.tmp" "$CRD"
  fi
}

build_kube
build_etcd
build_sealed

log "done in $(( $(date +%s) - T_ALL )) s; binaries in $BIN"
"$BIN/kube-apiserver" --version >&2
"$BIN/etcd" --version 2>&1 | head -1 >&2
"$BIN/kubeseal" --version >&2
echo "$BIN"
