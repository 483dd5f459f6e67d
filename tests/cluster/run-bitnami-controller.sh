#!/usr/bin/env bash
# Usage (inside tests/cluster/with-cluster.sh): run-bitnami-controller.sh [CONTROLLER ARGS...]
#
# Runs the reference Bitnami sealed-secrets controller (built by build-binaries.sh) as a local
# process against the test cluster, as a test peer. The controller only supports in-cluster
# config (rest.InClusterConfig): KUBERNETES_SERVICE_HOST/PORT plus token, ca.crt and namespace
# files at the fixed path /var/run/secrets/kubernetes.io/serviceaccount. So this script
#   1. installs the reference SealedSecret CRD if no sealedsecrets.bitnami.com CRD exists yet,
#   2. creates ServiceAccount $BITNAMI_NAMESPACE/sealed-secrets-controller bound to
#      cluster-admin (admin-ish is fine for a reference peer) and mints a token for it,
#   3. execs the controller in a private mount namespace (unshare --mount) in which a tmpfs holds
#      those three files at the in-cluster path; the host's filesystem is not touched.
# Everything is exec'd, so this script's PID *is* the controller's: stop it by that PID.
#
# Env: BITNAMI_NAMESPACE (default kube-system; where the controller keeps its keys),
#      BITNAMI_LISTEN_PORT / BITNAMI_METRICS_PORT (default: free loopback ports; both are printed
#      on stderr as "bitnami-controller: listen HOST:PORT metrics 127.0.0.1:PORT"),
#      BITNAMI_LISTEN_HOST (default 127.0.0.1): the address of the HTTP API (/v1/cert.pem, ...);
#      set it to TEST_CLUSTER_SERVICE_IP to reach the controller through the API server's service
#      proxy (expose-service.sh wires the Service). The controller listens on one address only.
# Needs root (for the mount namespace) and KUBECONFIG / TEST_CLUSTER_DIR from with-cluster.sh.
set -euo pipefail

: "${KUBECONFIG:?run this under tests/cluster/with-cluster.sh (KUBECONFIG is not set)}"
: "${TEST_CLUSTER_DIR:?run this under tests/cluster/with-cluster.sh (TEST_CLUSTER_DIR is not set)}"
BIN="${K8S_TEST_BIN:-$(dirname "$(command -v kubectl)")}"
NS="${BITNAMI_NAMESPACE:-kube-system}"
SA=sealed-secrets-controller
CRD="$BIN/../share/bitnami.com_sealedsecrets.yaml"
KUBECTL=("$BIN/kubectl" --kubeconfig "$KUBECONFIG")

log() { echo "bitnami-controller: $*" >&2; }
free_port() { # [HOST]
  python3 -c 'import socket, sys; s=socket.socket(); s.bind((sys.argv[1], 0)); print(s.getsockname()[1]); s.close()' "${1:-127.0.0.1}"
}

if ! "${KUBECTL[@]}" get crd sealedsecrets.bitnami.com >/dev/null 2>&1; then
  "${KUBECTL[@]}" apply -f "$CRD" >&2
  "${KUBECTL[@]}" wait --for=condition=Established crd/sealedsecrets.bitnami.com --timeout=60s >&2
fi

# Tests usually create the namespace themselves; create it only if missing.
"${KUBECTL[@]}" get namespace "$NS" >/dev/null 2>&1 || "${KUBECTL[@]}" create namespace "$NS" >&2
"${KUBECTL[@]}" apply -f - >&2 <<EOF
apiVersion: v1
kind: ServiceAccount
metadata: {name: $SA, namespace: $NS}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: bitnami-peer-$NS-$SA}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
subjects:
- {kind: ServiceAccount, name: $SA, namespace: $NS}
EOF

# The files go under the cluster run dir, so with-cluster.sh removes them with everything else.
SA_DIR=$(mktemp -d "$TEST_CLUSTER_DIR/bitnami-sa.XXXXXX")
"${KUBECTL[@]}" -n "$NS" create token "$SA" --duration=24h > "$SA_DIR/token"
cp "$TEST_CLUSTER_DIR/ca.crt" "$SA_DIR/ca.crt"
printf '%s' "$NS" > "$SA_DIR/namespace"

SERVER=$(cat "$TEST_CLUSTER_DIR/server-url") # https://127.0.0.1:PORT
HOSTPORT=${SERVER#https://}
LISTEN_HOST="${BITNAMI_LISTEN_HOST:-127.0.0.1}"
LISTEN_PORT="${BITNAMI_LISTEN_PORT:-$(free_port "$LISTEN_HOST")}"
METRICS_PORT="${BITNAMI_METRICS_PORT:-$(free_port)}"
log "listen $LISTEN_HOST:$LISTEN_PORT metrics 127.0.0.1:$METRICS_PORT namespace $NS pid $$"

# In the new mount namespace (private propagation, so nothing leaks to the host's mounts):
# mount a tmpfs at the deepest existing ancestor of the in-cluster path (on most hosts /run,
# which is then empty for this one process only; the controller needs nothing from it), create
# the path and copy the files in, then exec the controller. unshare without --fork execs too.
export SA_DIR CONTROLLER="$BIN/sealed-secrets-controller"
export KUBERNETES_SERVICE_HOST=${HOSTPORT%:*} KUBERNETES_SERVICE_PORT=${HOSTPORT##*:}
# shellcheck disable=SC2016 # expanded by the inner shell
exec unshare --mount --propagation private -- sh -euc '
  target=/var/run/secrets/kubernetes.io/serviceaccount
  top=$(readlink -f /var/run)
  anc=$(readlink -f "$target" 2>/dev/null || true)
  anc=${anc:-$top/secrets/kubernetes.io/serviceaccount}
  while [ ! -d "$anc" ]; do anc=$(dirname "$anc"); done
  mount -t tmpfs -o mode=0755,size=1m sealed-secrets-test-sa "$anc"
  mkdir -p "$target"
  cp "$SA_DIR/token" "$SA_DIR/ca.crt" "$SA_DIR/namespace" "$target/"
  unset SA_DIR KUBECONFIG
  exec "$CONTROLLER" "$@"
' sh --listen-addr "$LISTEN_HOST:$LISTEN_PORT" --listen-metrics-addr "127.0.0.1:$METRICS_PORT" "$@"
