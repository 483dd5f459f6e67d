#!/usr/bin/env bash
# Builds the GitOps health helper (tests/gitops: Flux's kstatus and Argo CD's SealedSecret
# health.lua, see main.go) into the cache tree of tests/cluster/build-binaries.sh:
#   $ROOT/gitops-health-<hash of the sources>/bin/gitops-health
#   $ROOT/gitops-health-<hash>/share/argo-cd/VERSION and SealedSecret/ (health.lua,
#     health_test.yaml, testdata/), copied from the Argo CD Go module at $ARGO_CD_VERSION
# Go modules come from the Go module proxy at the versions of go.mod/go.sum; Argo CD's module
# is checked against $ARGO_CD_SUM. After a build, Argo CD's own cases for the script are run
# under the helper (gitops-health argo-testdata); the build fails if any does not hold.
# Idempotent: a cached build returns at once. The last stdout line is the binary's path.
# Override the cache root with K8S_TEST_BIN_CACHE, as for build-binaries.sh.
set -euo pipefail

# v3.5.7: the newest release whose go.mod the local Go (1.26) accepts; v3.6.x needs Go 1.27,
# and its SealedSecret health.lua is the same file.
ARGO_CD_VERSION="${ARGO_CD_VERSION:-v3.5.7}"
ARGO_CD_SUM="${ARGO_CD_SUM:-h1:Xm1BF+I5OgDKUG3SDK49vn2/Y5AMyaNVko+/JT08gj0=}"

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT="${K8S_TEST_BIN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sealed-secrets-test-bins}"
HASH=$(cd "$HERE" && { printf 'argo-cd %s %s\n' "$ARGO_CD_VERSION" "$ARGO_CD_SUM"; cat build.sh go.mod go.sum ./*.go; } | sha256sum | cut -c1-16)
OUT="$ROOT/gitops-health-$HASH"
BIN="$OUT/bin/gitops-health"
SHARE="$OUT/share/argo-cd"

log() { echo "gitops-build: $*" >&2; }

if [[ -x $BIN && -f $OUT/.ready ]]; then
  echo "$BIN"
  exit 0
fi

mkdir -p "$ROOT"
exec 9>"$ROOT/.gitops-build.lock"
flock 9
if [[ -x $BIN && -f $OUT/.ready ]]; then echo "$BIN"; exit 0; fi

T0=$(date +%s)
rm -rf "$OUT"
mkdir -p "$OUT/bin" "$SHARE"

# The Argo CD module, only for its files (it is not a dependency of the helper).
json=$(cd "$ROOT" && GOFLAGS= go mod download -json "github.com/argoproj/argo-cd/v3@$ARGO_CD_VERSION")
dir=$(jq -r '.Dir // empty' <<<"$json")
sum=$(jq -r '.Sum // empty' <<<"$json")
if [[ -z $dir || ! -d $dir ]]; then
  log "cannot download github.com/argoproj/argo-cd/v3@$ARGO_CD_VERSION: $(jq -r '.Error // "?"' <<<"$json")"
  exit 1
fi
if [[ $sum != "$ARGO_CD_SUM" ]]; then
  log "github.com/argoproj/argo-cd/v3@$ARGO_CD_VERSION has sum $sum, expected $ARGO_CD_SUM"
  exit 1
fi
src="$dir/resource_customizations/bitnami.com/SealedSecret"
[[ -f $src/health.lua && -f $src/health_test.yaml && -d $src/testdata ]] || {
  log "$src has no health.lua, health_test.yaml and testdata/"
  exit 1
}
cp -r "$src" "$SHARE/SealedSecret"
chmod -R u+w "$SHARE" # the module cache is read-only
printf '%s\n' "$ARGO_CD_VERSION" >"$SHARE/VERSION"

# Static, reproducible; -mod=readonly: go.mod/go.sum are the pins.
(cd "$HERE" && CGO_ENABLED=0 GOFLAGS="-mod=readonly -buildvcs=false" GOTOOLCHAIN=local \
  go build -trimpath -ldflags="-s -w" -o "$BIN.tmp" .)
mv -f "$BIN.tmp" "$BIN"

# The harness must reproduce Argo CD's own expectations for the script before it is trusted.
"$BIN" argo-testdata >&2
touch "$OUT/.ready"
log "built $BIN in $(( $(date +%s) - T0 )) s: $("$BIN" versions)"
echo "$BIN"
