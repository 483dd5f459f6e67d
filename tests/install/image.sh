#!/usr/bin/env bash
# The image, run from its own files. Under tests/cluster/with-cluster.sh, as root:
#   tests/install/image.sh [ARCHIVE]     (default: target/image/unsealer-<version>-oci.tar)
# 1. Reads the OCI layout tarball by hand: index -> manifest -> config and layers, every blob's
#    sha256 checked, every layer's uncompressed sha256 checked against the config's diff_ids,
#    and extracts the layers in order into a root filesystem.
# 2. Checks the config (linux/amd64, user 1001:65534, entrypoint [controller], PATH) and the
#    files: exactly the two names of one static binary, /etc/passwd, /etc/group, /tmp; no shell.
# 3. Runs the image's entrypoint as the runtime would: chroot into that root, uid 1001, gid
#    65534, no_new_privs, only the image's environment: `controller --version`, `unsealer
#    --version`, `controller crd` (= manifests/crd.yaml).
# 4. Real unseals, three times: after `helm install` of our chart; after `helm install` of the
#    reference chart (v0.36.6, from the Go module cache, with its own RBAC) then `helm upgrade`
#    to ours (the API server takes it: same selector; the key-admin Role goes, the ClusterRole
#    gets rbac.yaml's rules); and with rbac.namespacedRoles (Roles only, a SealedSecret in the
#    additional namespace). Each time the Deployment's command, args and env, as the API server
#    holds them, run from that root as the pod would (there are no nodes): in-cluster
#    configuration (KUBERNETES_SERVICE_HOST/PORT and a ServiceAccount token, CA and namespace
#    under /var/run/secrets/kubernetes.io/serviceaccount), the root read-only, a tmpfs on /tmp.
#    It makes its key, serves its certificate; kubeseal (the reference's) seals a Secret
#    against it; the controller unseals it, writes Synced=True, counts it in /metrics, keeps the
#    plaintext and any "forbidden" out of its log, and exits 0 on SIGTERM.
# Prints "image: N passed, N failed" last; exits non-zero on any failure.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/../.." && pwd)
VERSION=$(sed -n '/^\[workspace.package\]/,/^\[/s/^version = "\(.*\)"/\1/p' "$REPO/Cargo.toml")
ARCHIVE="${1:-${CARGO_TARGET_DIR:-$REPO/target}/image/unsealer-$VERSION-oci.tar}"
CHART="$REPO/manifests/helm/sealed-secrets"
: "${TEST_CLUSTER_SERVER:?run under tests/cluster/with-cluster.sh}"
[[ -f $ARCHIVE ]] || { echo "no image archive at $ARCHIVE: run image/build.sh first" >&2; exit 1; }
[[ $(id -u) == 0 ]] || { echo "image.sh needs root (chroot, mount namespace)" >&2; exit 1; }
HELM=$("$REPO/image/tools.sh" helm | tail -1)

PASSED=0 FAILED=0
pass() { PASSED=$((PASSED + 1)); echo "ok: $*"; }
fail() { FAILED=$((FAILED + 1)); echo "FAILED: $*" >&2; }
check() { local what=$1; shift; if "$@"; then pass "$what"; else fail "$what"; fi; }
finish() {
  echo "image: $PASSED passed, $FAILED failed"
  [[ $FAILED == 0 ]]
}

W=$(mktemp -d /tmp/image-test.XXXXXX)
CTL_PID="" NAMESPACES=()
cleanup() {
  if [[ -n $CTL_PID ]] && kill -0 "$CTL_PID" 2>/dev/null; then kill -KILL "$CTL_PID" 2>/dev/null || true; fi
  for ns in "${NAMESPACES[@]}"; do
    "$HELM" uninstall "$ns" --namespace "$ns" >/dev/null 2>&1 || true
    kubectl delete namespace "$ns" --wait=false >/dev/null 2>&1 || true
  done
  rm -rf "$W"
}
trap cleanup EXIT

# --- 1. The layout, by hand. ---
L="$W/layout" ROOT="$W/rootfs"
mkdir -p "$L" "$ROOT"
tar -xf "$ARCHIVE" -C "$L"
blob() { # digest -> path, after checking the content's digest
  local d=$1 p
  [[ $d == sha256:* ]] || { echo "unsupported digest $d" >&2; return 1; }
  p="$L/blobs/sha256/${d#sha256:}"
  [[ $(sha256sum < "$p" | cut -d' ' -f1) == "${d#sha256:}" ]] || { echo "blob $d: wrong digest" >&2; return 1; }
  echo "$p"
}
check "oci-layout 1.0.0" test "$(jq -r .imageLayoutVersion "$L/oci-layout")" == 1.0.0
check "one image in index.json, named registry.example/sealed-secrets/unsealer:$VERSION" test \
  "$(jq -r '[.manifests | length, .[0].mediaType, .[0].annotations["org.opencontainers.image.ref.name"]] | join(" ")' "$L/index.json")" \
  == "1 application/vnd.oci.image.manifest.v1+json registry.example/sealed-secrets/unsealer:$VERSION"
MANIFEST=$(blob "$(jq -r '.manifests[0].digest' "$L/index.json")")
CONFIG=$(blob "$(jq -r .config.digest "$MANIFEST")")
check "config is an OCI config" test "$(jq -r .config.mediaType "$MANIFEST")" == application/vnd.oci.image.config.v1+json
n=$(jq '.layers | length' "$MANIFEST")
check "one layer per diff_id" test "$n" == "$(jq '.rootfs.diff_ids | length' "$CONFIG")"
for i in $(seq 0 $((n - 1))); do
  LAYER=$(blob "$(jq -r ".layers[$i].digest" "$MANIFEST")")
  mt=$(jq -r ".layers[$i].mediaType" "$MANIFEST")
  case $mt in
    application/vnd.oci.image.layer.v1.tar+gzip) cat=(gzip -dc) ;;
    application/vnd.oci.image.layer.v1.tar) cat=(cat) ;;
    *) fail "layer $i: media type $mt"; continue ;;
  esac
  check "layer $i: diff_id" test "sha256:$("${cat[@]}" < "$LAYER" | sha256sum | cut -d' ' -f1)" \
    == "$(jq -r ".rootfs.diff_ids[$i]" "$CONFIG")"
  # This image has no whiteouts; an extractor that ignored them would be wrong for others.
  if "${cat[@]}" < "$LAYER" | tar -t | grep -q '\.wh\.'; then fail "layer $i: whiteouts"; fi
  "${cat[@]}" < "$LAYER" | tar -x -p --numeric-owner -C "$ROOT"
done

# --- 2. Config and files. ---
check "linux/amd64" test "$(jq -r '.os + "/" + .architecture' "$CONFIG")" == linux/amd64
check "user 1001:65534 (the reference's uid 1001)" test "$(jq -r .config.User "$CONFIG")" == 1001:65534
check "entrypoint [controller], no cmd" test "$(jq -c '[.config.Entrypoint, .config.Cmd]' "$CONFIG")" == '[["controller"],null]'
check "labels carry the version" test "$(jq -r '.config.Labels["org.opencontainers.image.version"]' "$CONFIG")" == "$VERSION"
FILES=$(cd "$ROOT" && find . -mindepth 1 \( -type f -o -type l -o -type d \) -printf '%y %m %U:%G %p\n' | sort)
EXPECTED=$(printf '%s\n' 'd 1777 0:0 ./tmp' 'd 755 0:0 ./etc' 'd 755 0:0 ./usr' 'd 755 0:0 ./usr/local' \
  'd 755 0:0 ./usr/local/bin' 'f 644 0:0 ./etc/group' 'f 644 0:0 ./etc/passwd' \
  'f 755 0:0 ./usr/local/bin/controller' 'f 755 0:0 ./usr/local/bin/unsealer' | sort)
if [[ $FILES == "$EXPECTED" ]]; then pass "exactly the expected files (no shell)"; else fail "files:"$'\n'"$FILES"; fi
check "controller is a hard link of unsealer" test "$(stat -c %i "$ROOT/usr/local/bin/controller")" == "$(stat -c %i "$ROOT/usr/local/bin/unsealer")"
check "static: no interpreter, no shared libraries" bash -c \
  "! readelf -lW '$ROOT/usr/local/bin/unsealer' | grep -q interpreter && ! readelf -dW '$ROOT/usr/local/bin/unsealer' | grep -q NEEDED"
echo "image: $(jq '[.layers[].size] | add' "$MANIFEST") bytes of layers compressed, $(stat -c %s "$ROOT/usr/local/bin/unsealer") bytes unpacked"

# --- 3. The entrypoint, as a runtime runs it. ---
mapfile -t IMG_ENV < <(jq -r '.config.Env[]' "$CONFIG")
mapfile -t ENTRY < <(jq -r '.config.Entrypoint[]' "$CONFIG")
CHROOT=$(command -v chroot) SETPRIV=$(command -v setpriv)
# usage: in_image [VAR=value...] -- ARGV...  (ARGV[0] resolved on the image's PATH, in the root)
in_image() {
  local envs=("${IMG_ENV[@]}")
  while [[ $1 != -- ]]; do envs+=("$1"); shift; done
  shift
  env -i "${envs[@]}" "$SETPRIV" --no-new-privs "$CHROOT" --userspec=1001:65534 "$ROOT" "$@"
}
# glibc's malloc keeps one arena per thread by default; the image sets one in all, so memory a
# thread freed goes to the next allocation instead of staying in its arena (why: image/build.sh).
check "the image sets MALLOC_ARENA_MAX=1" bash -c 'printf "%s\n" "$@" | grep -qx MALLOC_ARENA_MAX=1' _ "${IMG_ENV[@]}"
# ...and no per-thread caches of freed chunks, which kept freed memory from being reused.
check "the image turns glibc's tcache off" bash -c 'printf "%s\n" "$@" | grep -qx GLIBC_TUNABLES=glibc.malloc.tcache_count=0' _ "${IMG_ENV[@]}"
check "controller --version" test "$(in_image -- "${ENTRY[@]}" --version)" == "controller version: v$VERSION"
check "unsealer --version" test "$(in_image -- unsealer --version)" == "unsealer version: v$VERSION"
check "controller crd = manifests/crd.yaml" cmp -s <(in_image -- "${ENTRY[@]}" crd) "$REPO/manifests/crd.yaml"

# --- 4. Real unseals, as the chart's pod: after a fresh `helm install` of our chart, and after a
# `helm upgrade` from the reference chart to ours (a reference installation swapped over). ---
REF_CHART="$(GOFLAGS='' go mod download -json "github.com/bitnami-labs/sealed-secrets@${SEALED_VERSION:-v0.36.6}" | jq -r .Dir)/helm/sealed-secrets"
free_port() { # a port nothing listens on
  local p
  while :; do
    p=$((30000 + RANDOM % 30000))
    ss -Htln | awk '{print $4}' | grep -q ":$p\$" || { echo "$p"; return; }
  done
}
HOSTPORT=${TEST_CLUSTER_SERVER#https://}
C='.spec.template.spec.containers[0]'
SADIR="$ROOT/var/run/secrets/kubernetes.io/serviceaccount"

# usage: run_pod NS HTTP METRICS WHAT [SEAL_NS]: runs the controller of the Deployment in NS (as
# the API server holds it) from the image's root as its pod would run, unseals one SealedSecret
# in SEAL_NS (default NS), stops it.
run_pod() {
  local ns=$1 http=$2 metrics=$3 what=$4 sns=${5:-$1} sa log plain got synced rc status
  local -a cmd args pod_env
  local failed_before=$FAILED
  kubectl -n "$ns" get deployment -o json | jq '.items[0]' > "$W/$ns.deployment.json"
  mapfile -t cmd < <(jq -r "$C.command[]" "$W/$ns.deployment.json")
  mapfile -t args < <(jq -r "$C.args[]" "$W/$ns.deployment.json")
  sa=$(jq -r .spec.template.spec.serviceAccountName "$W/$ns.deployment.json")
  # The container's env as the kubelet resolves it (values, the pod's name and namespace).
  mapfile -t pod_env < <(jq -r --arg ns "$ns" --arg pod "$ns-pod" "$C.env[]"'
    | .name + "=" + (if .value then .value
        elif .valueFrom.fieldRef.fieldPath == "metadata.namespace" then $ns
        elif .valueFrom.fieldRef.fieldPath == "metadata.name" then $pod
        else error("env \(.name): not emulated") end)' "$W/$ns.deployment.json")
  check "$what: the Deployment runs our image as uid 1001 with command [controller]" test \
    "$(jq -c "[$C.image, $C.securityContext.runAsUser, $C.command]" "$W/$ns.deployment.json")" \
    == "[\"registry.example/sealed-secrets/unsealer:$VERSION\",1001,[\"controller\"]]"
  echo "$what: ${cmd[*]} ${args[*]}; env ${pod_env[*]}"
  # The pod's mounts: the ServiceAccount's files, as the kubelet mounts them ...
  mkdir -p "$SADIR"
  for _ in $(seq 30); do
    kubectl -n "$ns" create token "$sa" --duration=1h > "$SADIR/token" 2>/dev/null && break
    sleep 1
  done
  cp "$TEST_CLUSTER_DIR/ca.crt" "$SADIR/ca.crt"
  printf '%s' "$ns" > "$SADIR/namespace"
  chmod 0644 "$SADIR"/*
  log="$W/$ns.controller.log"
  # ... a read-only root and an emptyDir on /tmp, in a mount namespace of its own; exec all the
  # way down, so $! is the controller.
  unshare --mount --propagation private -- bash -c '
    set -e
    root=$1; shift
    mount --bind "$root" "$root"
    mount -o remount,bind,ro "$root"
    mount -t tmpfs -o mode=1777,size=16m tmpfs "$root/tmp"
    exec "$@"' _ "$ROOT" \
    env -i "${IMG_ENV[@]}" KUBERNETES_SERVICE_HOST="${HOSTPORT%:*}" KUBERNETES_SERVICE_PORT="${HOSTPORT##*:}" \
      "${pod_env[@]}" "$SETPRIV" --no-new-privs "$CHROOT" --userspec=1001:65534 "$ROOT" \
      "${cmd[@]}" "${args[@]}" > "$log" 2>&1 &
  CTL_PID=$!
  local up=""
  for _ in $(seq 240); do
    curl -fsS "http://127.0.0.1:$http/healthz" >/dev/null 2>&1 && { up=1; break; }
    kill -0 "$CTL_PID" 2>/dev/null || break
    sleep 0.5
  done
  if [[ -z $up ]]; then fail "$what: the controller from the image answers /healthz"; cat "$log" >&2; return; fi
  pass "$what: the controller from the image answers /healthz (in-cluster config, read-only root)"
  check "$what: it runs as uid 1001" test "$(stat -c %u "/proc/$CTL_PID")" == 1001
  # The certificate comes once the leader has made its key (500 until then).
  for _ in $(seq 120); do
    curl -fsS "http://127.0.0.1:$http/v1/cert.pem" > "$W/$ns.cert.pem" 2>/dev/null && break
    sleep 0.5
  done
  check "$what: it serves its certificate" grep -q 'BEGIN CERTIFICATE' "$W/$ns.cert.pem"
  check "$what: its key is a Secret in its namespace" test "$(kubectl -n "$ns" get secrets \
    -l sealedsecrets.bitnami.com/sealed-secrets-key=active -o name | wc -l)" == 1
  plain="image-test-$RANDOM$RANDOM$RANDOM"
  kubectl -n "$sns" create secret generic db --from-literal=password="$plain" --dry-run=client -o json \
    | kubeseal --cert "$W/$ns.cert.pem" --format yaml > "$W/$ns.sealed.yaml"
  kubectl -n "$sns" apply -f "$W/$ns.sealed.yaml" >/dev/null
  got=""
  for _ in $(seq 120); do
    got=$(kubectl -n "$sns" get secret db -o jsonpath='{.data.password}' 2>/dev/null | base64 -d 2>/dev/null || true)
    [[ -n $got ]] && break
    sleep 0.5
  done
  check "$what: the SealedSecret in $sns is unsealed into its Secret" test "$got" == "$plain"
  synced=""
  for _ in $(seq 60); do
    synced=$(kubectl -n "$sns" get sealedsecret db -o jsonpath='{.status.conditions[?(@.type=="Synced")].status}')
    [[ $synced == True ]] && break
    sleep 0.5
  done
  check "$what: status Synced=True" test "$synced" == True
  curl -fsS "http://127.0.0.1:$metrics/metrics" > "$W/$ns.metrics" || true
  check "$what: /metrics counts the unseal" grep -Eq '^sealed_secrets_controller_unseal_requests_total [1-9]' "$W/$ns.metrics"
  check "$what: no plaintext in its log" bash -c "! grep -q '$plain' '$log'"
  check "$what: nothing forbidden in its log (its RBAC suffices)" bash -c "! grep -qi forbidden '$log'"
  kill -TERM "$CTL_PID"
  rc=0; timeout 20 tail --pid="$CTL_PID" -f /dev/null || rc=$?
  wait "$CTL_PID" && status=0 || status=$?
  CTL_PID=""
  check "$what: it exits 0 on SIGTERM" test "$rc:$status" == 0:0
  if [[ $FAILED != "$failed_before" ]]; then echo "--- $what: controller log" >&2; cat "$log" >&2; fi
}

# A. helm install of our chart. Release $NS: fullname $NS-sealed-secrets, a ClusterRole of its
# own (runs never collide); the ports are free ones, so the arguments carry them.
NS="image-$(date +%s)-$RANDOM"
NAMESPACES+=("$NS")
kubectl create namespace "$NS" >/dev/null
HTTP=$(free_port) METRICS=$(free_port)
SETS=(--set rbac.clusterRoleName="unsealer-$NS" --set containerPorts.http="$HTTP" --set containerPorts.metrics="$METRICS")
"$HELM" install "$NS" "$CHART" --namespace "$NS" "${SETS[@]}" > "$W/install.log" 2>&1 \
  && pass "helm install of our chart" || { fail "helm install of our chart"; cat "$W/install.log" >&2; }
kubectl wait --for=condition=Established crd/sealedsecrets.bitnami.com --timeout=60s >/dev/null
run_pod "$NS" "$HTTP" "$METRICS" "helm install"

# B. A reference installation (the reference chart, v0.36.6's, with its own RBAC), then
# `helm upgrade` to our chart with the same values.
NSB="upgrade-$(date +%s)-$RANDOM"
NAMESPACES+=("$NSB")
kubectl create namespace "$NSB" >/dev/null
HTTP=$(free_port) METRICS=$(free_port)
SETS=(--set rbac.clusterRoleName="unsealer-$NSB" --set containerPorts.http="$HTTP" --set containerPorts.metrics="$METRICS")
"$HELM" install "$NSB" "$REF_CHART" --namespace "$NSB" --skip-crds "${SETS[@]}" > "$W/ref-install.log" 2>&1 \
  && pass "helm install of the reference chart" || { fail "helm install of the reference chart"; cat "$W/ref-install.log" >&2; }
check "the reference installation has its key-admin Role" kubectl -n "$NSB" get role "$NSB-sealed-secrets-key-admin" -o name
"$HELM" upgrade "$NSB" "$CHART" --namespace "$NSB" "${SETS[@]}" > "$W/upgrade.log" 2>&1 \
  && pass "helm upgrade from the reference chart to ours (immutable selector kept)" \
  || { fail "helm upgrade from the reference chart to ours"; cat "$W/upgrade.log" >&2; }
check "after the upgrade: no key-admin Role, a leader-election Role" bash -c \
  "! kubectl -n '$NSB' get role '$NSB-sealed-secrets-key-admin' >/dev/null 2>&1 && kubectl -n '$NSB' get role '$NSB-sealed-secrets-leader-election' >/dev/null"
check "after the upgrade: the ClusterRole has rbac.yaml's rules" test \
  "$(kubectl get clusterrole "unsealer-$NSB" -o json | jq -c '.rules | map(.verbs |= sort) | sort')" \
  == "$(kubectl create --dry-run=client -o json -f "$REPO/manifests/rbac.yaml" | jq -s -c '[.[] | if .kind == "List" then .items[] else . end
        | select(.kind == "ClusterRole")][0].rules | map(.verbs |= sort) | sort')"
run_pod "$NSB" "$HTTP" "$METRICS" "upgraded from the reference"

# C. rbac.namespacedRoles with additionalNamespaces: Roles only, no ClusterRole; the controller
# watches its namespace and the additional one, and unseals there.
NSC="roles-$(date +%s)-$RANDOM"
NAMESPACES+=("$NSC" "$NSC-team")
kubectl create namespace "$NSC" >/dev/null
kubectl create namespace "$NSC-team" >/dev/null
HTTP=$(free_port) METRICS=$(free_port)
SETS=(--set rbac.namespacedRoles=true --set "additionalNamespaces={$NSC-team}" --set containerPorts.http="$HTTP" --set containerPorts.metrics="$METRICS")
"$HELM" install "$NSC" "$CHART" --namespace "$NSC" "${SETS[@]}" > "$W/roles-install.log" 2>&1 \
  && pass "helm install with rbac.namespacedRoles" || { fail "helm install with rbac.namespacedRoles"; cat "$W/roles-install.log" >&2; }
check "namespacedRoles: no ClusterRoleBinding for it" bash -c "! kubectl get clusterrolebinding '$NSC-sealed-secrets' >/dev/null 2>&1"
run_pod "$NSC" "$HTTP" "$METRICS" "namespaced Roles" "$NSC-team"
finish
