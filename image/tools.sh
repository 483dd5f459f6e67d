#!/usr/bin/env bash
# Build the install tooling from the Go module proxy, at pinned versions, into the same cache
# root as tests/cluster/build-binaries.sh (override with K8S_TEST_BIN_CACHE):
#   crane  github.com/google/go-containerregistry/cmd/crane  $CRANE_VERSION  (image/build.sh)
#   helm   helm.sh/helm/v3/cmd/helm                          $HELM_VERSION   (tests/install/chart.sh)
# usage: image/tools.sh crane|helm...   prints the path of each binary, one a line, on stdout.
# Idempotent: a binary that exists is not rebuilt (a warm run takes milliseconds). Progress and
# timings go to stderr.
set -euo pipefail

CRANE_VERSION="${CRANE_VERSION:-v0.22.1}"
HELM_VERSION="${HELM_VERSION:-v3.22.0}"
ROOT="${K8S_TEST_BIN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sealed-secrets-test-bins}"

log() { echo "image/tools: $*" >&2; }

# usage: build NAME VERSION PACKAGE [ldflags...]
build() {
  local name=$1 version=$2 pkg=$3 dir t0 gobin
  shift 3
  dir="$ROOT/$name-$version/bin"
  if [[ -x $dir/$name ]]; then echo "$dir/$name"; return 0; fi
  mkdir -p "$dir"
  # One build at a time per tool (two CI steps may ask at once).
  exec 8>"$ROOT/.$name.lock"
  flock 8
  if [[ ! -x $dir/$name ]]; then
    log "building $name (go install $pkg@$version) ..."
    t0=$(date +%s)
    gobin=$(mktemp -d "$ROOT/.gobin.XXXXXX")
    # Static, no cgo, as the other test binaries; GOBIN is a temp dir and the binary is moved
    # into place whole, so an interrupted build never leaves a half-written file.
    CGO_ENABLED=0 GOFLAGS=-buildvcs=false GOTOOLCHAIN="${GOTOOLCHAIN_BUILD:-auto}" GOBIN="$gobin" \
      go install -trimpath "-ldflags=-s -w $*" "$pkg@$version" >&2
    mv -f "$gobin/$name" "$dir/$name"
    rm -rf "$gobin"
    log "built $name in $(( $(date +%s) - t0 )) s"
  fi
  exec 8>&-
  echo "$dir/$name"
}

[[ $# -gt 0 ]] || { echo "usage: $0 crane|helm..." >&2; exit 2; }
mkdir -p "$ROOT"
for tool in "$@"; do
  case $tool in
    crane)
      build crane "$CRANE_VERSION" github.com/google/go-containerregistry/cmd/crane ;;
    helm)
      # As helm's Makefile: the version, and the Kubernetes version `helm template` and
      # `helm lint` assume (.Capabilities.KubeVersion), from the client-go it is built with
      # (v0.37 -> 1.37).
      cg=$(GOFLAGS='' go mod download -json "helm.sh/helm/v3@$HELM_VERSION" | jq -r '.GoMod // empty')
      minor=$(sed -n 's|^[[:space:]]*k8s.io/client-go v0\.\([0-9]*\)\..*|\1|p' "$cg" | head -1)
      [[ -n $minor ]] || { log "cannot read client-go's version from helm's go.mod"; exit 1; }
      flags=(-X "helm.sh/helm/v3/internal/version.version=$HELM_VERSION"
             -X "helm.sh/helm/v3/internal/version.gitTreeState=clean")
      for p in helm.sh/helm/v3/pkg/chartutil helm.sh/helm/v3/pkg/lint/rules; do
        flags+=(-X "$p.k8sVersionMajor=1" -X "$p.k8sVersionMinor=$minor")
      done
      build helm "$HELM_VERSION" helm.sh/helm/v3/cmd/helm "${flags[@]}" ;;
    *) echo "unknown tool: $tool (crane, helm)" >&2; exit 2 ;;
  esac
done
