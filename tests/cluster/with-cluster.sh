#!/usr/bin/env bash
# Usage: tests/cluster/with-cluster.sh [--fallback-unit-tests] CMD [ARGS...]
#
# Starts a real, throwaway Kubernetes control plane on 127.0.0.1 (etcd, kube-apiserver with
# client-cert + ServiceAccount-token authentication and RBAC, kube-controller-manager with the
# garbage-collector, namespace and serviceaccount controllers), runs CMD with
#   KUBECONFIG           admin kubeconfig (client cert in group system:masters, embedded data)
#   TEST_CLUSTER_DIR     run dir: ca.crt, admin.crt/.key, admin.kubeconfig, server-url, logs/
#   TEST_CLUSTER_SERVER  https://127.0.0.1:PORT
#   K8S_TEST_BIN         bin dir of the built binaries (also prepended to PATH)
#   TEST_CLUSTER_AUDIT_LOG  the apiserver's audit log, logs/audit.log (JSON lines at level
#                        Metadata: user, verb, resource, response code; no bodies)
#   TEST_CLUSTER_SERVICE_IP  an address of this run's own (198.51.100.N on a veth interface it
#                        makes, see service-net.sh) for controllers that must be reachable
#                        through the API server's service proxy (expose-service.sh); unset if
#                        it could not be made (needs root)
# The apiserver's command line and PID are kept in the run dir, so a test can kill -9 it and
# start it again with tests/cluster/restart-apiserver.sh (which see).
# and then stops every process it started, by PID, also when CMD fails or on INT/TERM.
# Exit status: CMD's. If the cluster cannot start: 3, after a clear message — or, with
# --fallback-unit-tests, CMD is run anyway with SKIP_CLUSTER_TESTS=1 and the script exits 3
# regardless of CMD's result (so unit tests still run but the run is marked failed).
#
# Env knobs: K8S_TEST_KEEP_LOGS=DIR copies the logs there before the run dir is removed;
# K8S_TEST_VERBOSE=1 prints the component logs' tails on exit even on success.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
FALLBACK=0
if [[ ${1:-} == --fallback-unit-tests ]]; then FALLBACK=1; shift; fi
if (( $# == 0 )); then
  echo "usage: $0 [--fallback-unit-tests] CMD [ARGS...]" >&2
  exit 2
fi

log() { echo "with-cluster: $*" >&2; }
# shellcheck source=tests/cluster/service-net.sh
source "$HERE/service-net.sh"

RUN=$(mktemp -d "${TMPDIR:-/tmp}/sealed-secrets-cluster.XXXXXX")
mkdir -p "$RUN/logs" # etcd creates etcd-data itself, with the 0700 mode it insists on
PIDS=()     # servers, in start order
NAMES=()
CMD_PGID="" # CMD runs in its own process group (= its PID), see the end of the script

# shellcheck disable=SC2317 # invoked by trap
cleanup() {
  local rc=$? i p n
  trap '' INT TERM # don't let a second Ctrl-C abort the teardown half way
  # Whatever CMD started and left running (a test binary orphaned by cargo, a peer controller
  # a test did not stop) is in CMD's process group: stop that group, by its id, first.
  if [[ -n $CMD_PGID ]] && kill -0 -- "-$CMD_PGID" 2>/dev/null; then
    kill -TERM -- "-$CMD_PGID" 2>/dev/null || true
    for (( n=0; n<100; n++ )); do kill -0 -- "-$CMD_PGID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$CMD_PGID" 2>/dev/null || true
    wait "$CMD_PGID" 2>/dev/null || true
  fi
  # An apiserver that restart-apiserver.sh started again has a PID of its own.
  if [[ -f $RUN/kube-apiserver.pid ]]; then
    p=$(cat "$RUN/kube-apiserver.pid")
    # shellcheck disable=SC2076 # a literal match on purpose
    if [[ -n $p && ! " ${PIDS[*]} " =~ " $p " ]] && kill -0 "$p" 2>/dev/null; then
      kill -TERM "$p" 2>/dev/null || true
      for (( n=0; n<100; n++ )); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
      kill -KILL "$p" 2>/dev/null || true
    fi
  fi
  # Reverse start order: controller-manager, apiserver, then etcd.
  for (( i=${#PIDS[@]}-1; i>=0; i-- )); do
    p=${PIDS[i]}
    kill -TERM "$p" 2>/dev/null || continue
    for (( n=0; n<100; n++ )); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$p" 2>/dev/null; then
      log "${NAMES[i]} (pid $p) did not stop on TERM; killing"
      kill -KILL "$p" 2>/dev/null || true
    fi
    wait "$p" 2>/dev/null || true
  done
  # Nothing listens on the service address any more: remove it, its interface and namespace.
  service_net_down
  if [[ -n ${K8S_TEST_KEEP_LOGS:-} ]]; then
    { mkdir -p "$K8S_TEST_KEEP_LOGS" && cp -r "$RUN/logs/." "$K8S_TEST_KEEP_LOGS/"; } || true
  fi
  if [[ ${K8S_TEST_VERBOSE:-0} == 1 ]]; then
    for f in "$RUN"/logs/*.log; do [[ -f $f ]] && { echo "--- $f" >&2; tail -n 20 "$f" >&2; }; done
  fi
  rm -rf "$RUN"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Print why the cluster did not come up, then exit 3 (or run CMD without the cluster).
cluster_down() {
  local f
  log "ERROR: the test Kubernetes cluster could not start: $*"
  for f in "$RUN"/logs/*.log; do
    [[ -f $f ]] || continue
    echo "----- last lines of $(basename "$f") -----" >&2
    tail -n 30 "$f" >&2
  done
  if (( FALLBACK )); then
    log "running '${CMD[*]}' WITHOUT the cluster (SKIP_CLUSTER_TESTS=1); the run will still fail"
    SKIP_CLUSTER_TESTS=1 "${CMD[@]}" || true
  fi
  log "ERROR: cluster tests did not run (cluster could not start); exiting 3"
  exit 3
}
CMD=("$@")

# A free loopback port: bind port 0 and read what the kernel picked. (There is a small race
# between closing it and the server binding it; the ports are random, so it doesn't bite.)
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# wait_for SECONDS WHAT CMD...: poll CMD every 0.2 s; also fail fast if a server died.
wait_for() {
  local secs=$1 what=$2 n i
  shift 2
  for (( n=0; n<secs*5; n++ )); do
    "$@" >/dev/null 2>&1 && return 0
    for i in "${!PIDS[@]}"; do
      kill -0 "${PIDS[i]}" 2>/dev/null || cluster_down "${NAMES[i]} exited while waiting for $what"
    done
    sleep 0.2
  done
  cluster_down "timed out after ${secs}s waiting for $what"
}

start() { # NAME CMD... — start a server in the background, log to logs/NAME.log
  local name=$1
  shift
  "$@" >"$RUN/logs/$name.log" 2>&1 &
  PIDS+=($!)
  NAMES+=("$name")
}

T0=$(date +%s.%N)

# --- binaries ---
if ! BIN=$("$HERE/build-binaries.sh" | tail -n 1) || [[ ! -x $BIN/kube-apiserver ]]; then
  cluster_down "building the binaries failed (tests/cluster/build-binaries.sh; see its output above)"
fi
T_BIN=$(date +%s.%N)

# --- PKI: one CA for serving and client certs. X.509 v3 with SANs, because rustls rejects v1
# certificates and verifies IP SANs (the in-cluster config of the Bitnami controller connects
# to https://127.0.0.1:PORT, so IP:127.0.0.1 must be in the serving cert). ---
cat > "$RUN/openssl.cnf" <<'EOF'
[req]
distinguished_name = dn
[dn]
[v3_ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, digitalSignature, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[v3_server]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, DNS:kubernetes, DNS:kubernetes.default, DNS:kubernetes.default.svc, DNS:kubernetes.default.svc.cluster.local, IP:127.0.0.1, IP:10.0.0.1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[v3_client]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
EOF
pki() {
  # EC P-256 keys: generation is instant (RSA-2048 takes ~0.1-1 s each on a slow machine);
  # kube-apiserver, Go clients and rustls all accept them.
  openssl ecparam -name prime256v1 -genkey -noout -out "$RUN/ca.key"
  openssl req -x509 -new -key "$RUN/ca.key" -out "$RUN/ca.crt" -days 7 \
    -subj "/CN=sealed-secrets-test-ca" -config "$RUN/openssl.cnf" -extensions v3_ca
  local spec name subj ext
  for spec in "apiserver|/CN=kube-apiserver|v3_server" \
              "admin|/O=system:masters/CN=test-admin|v3_client"; do
    IFS='|' read -r name subj ext <<<"$spec"
    openssl ecparam -name prime256v1 -genkey -noout -out "$RUN/$name.key"
    openssl req -new -key "$RUN/$name.key" -out "$RUN/$name.csr" -subj "$subj" -config "$RUN/openssl.cnf"
    openssl x509 -req -in "$RUN/$name.csr" -CA "$RUN/ca.crt" -CAkey "$RUN/ca.key" \
      -CAcreateserial -days 7 -extfile "$RUN/openssl.cnf" -extensions "$ext" -out "$RUN/$name.crt"
  done
  # ServiceAccount token signing key (TokenRequest / kubectl create token).
  openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$RUN/sa.key"
  openssl pkey -in "$RUN/sa.key" -pubout -out "$RUN/sa.pub"
}
pki >"$RUN/logs/openssl.log" 2>&1 || cluster_down "openssl failed to make the test PKI"

# --- the service address (service-net.sh): removed by cleanup, like the servers ---
if service_net_up; then
  echo "$SERVICE_IP" > "$RUN/service-ip"
else
  log "WARNING: no TEST_CLUSTER_SERVICE_IP; tests of the service-proxy path will fail"
fi

ETCD_PORT=$(free_port); ETCD_PEER_PORT=$(free_port); API_PORT=$(free_port); KCM_PORT=$(free_port)
SERVER="https://127.0.0.1:$API_PORT"
echo "$SERVER" > "$RUN/server-url"

# --- etcd: client and peer URLs on loopback; metrics are served on the client URL only. ---
start etcd "$BIN/etcd" --name test --data-dir "$RUN/etcd-data" \
  --listen-client-urls "http://127.0.0.1:$ETCD_PORT" \
  --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
  --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
  --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
  --initial-cluster "test=http://127.0.0.1:$ETCD_PEER_PORT" \
  --unsafe-no-fsync=true --log-level warn
wait_for 30 "etcd /health" curl -sf "http://127.0.0.1:$ETCD_PORT/health"

# Audit: every request at level Metadata, so tests can check what a component really calls
# (e.g. that its RBAC grants nothing unused).
cat > "$RUN/audit-policy.yaml" <<'EOF'
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["RequestReceived"]
rules:
  - level: Metadata
EOF
# --- kube-apiserver: secure port only (the insecure port no longer exists), bound to loopback;
# --advertise-address avoids the default-route lookup that fails on isolated hosts; a loopback
# advertise address is refused by the endpoint reconciler (it publishes the address as the
# "kubernetes" Service's endpoint), so that is switched off: nothing here needs the endpoint. ---
# The command line is kept in the run dir, NUL-separated, with the PID, so that
# restart-apiserver.sh can kill -9 it and start the same server again mid-test.
# shellcheck disable=SC2206 # KUBE_APISERVER_EXTRA_ARGS is a word list on purpose
APISERVER_CMD=("$BIN/kube-apiserver" \
  --etcd-servers="http://127.0.0.1:$ETCD_PORT" \
  --bind-address=127.0.0.1 --advertise-address=127.0.0.1 --secure-port="$API_PORT" \
  --endpoint-reconciler-type=none \
  --tls-cert-file="$RUN/apiserver.crt" --tls-private-key-file="$RUN/apiserver.key" \
  --client-ca-file="$RUN/ca.crt" \
  --service-account-issuer=https://kubernetes.default.svc.cluster.local \
  --service-account-key-file="$RUN/sa.pub" --service-account-signing-key-file="$RUN/sa.key" \
  --authorization-mode=RBAC \
  --service-cluster-ip-range=10.0.0.0/24 \
  --allow-privileged=true \
  --profiling=false \
  --audit-policy-file="$RUN/audit-policy.yaml" --audit-log-path="$RUN/logs/audit.log" \
  ${KUBE_APISERVER_EXTRA_ARGS:-})
printf '%s\0' "${APISERVER_CMD[@]}" > "$RUN/kube-apiserver.cmd"
start kube-apiserver "${APISERVER_CMD[@]}"
echo "${PIDS[-1]}" > "$RUN/kube-apiserver.pid"

# Admin kubeconfig with embedded data (kubectl and kube-rs Config::infer both read it).
b64() { base64 -w0 < "$1"; }
cat > "$RUN/admin.kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: test
  cluster:
    server: $SERVER
    certificate-authority-data: $(b64 "$RUN/ca.crt")
users:
- name: admin
  user:
    client-certificate-data: $(b64 "$RUN/admin.crt")
    client-key-data: $(b64 "$RUN/admin.key")
contexts:
- name: test
  context: {cluster: test, user: admin, namespace: default}
current-context: test
EOF
# shellcheck disable=SC2317 # invoked through wait_for
curl_admin() {
  curl -sf --cacert "$RUN/ca.crt" --cert "$RUN/admin.crt" --key "$RUN/admin.key" "$SERVER$1"
}
wait_for 120 "kube-apiserver /readyz" curl_admin /readyz
# /readyz does not cover the bootstrap namespaces; tests rely on "default" existing.
wait_for 30 "namespace default" curl_admin /api/v1/namespaces/default
T_API=$(date +%s.%N)

# --- kube-controller-manager: only what the tests need. garbage-collector deletes owned objects
# (Secrets owned by a SealedSecret); namespace deletes namespace contents; serviceaccount
# creates each namespace's "default" SA, like a real cluster. Secure port on loopback; it has
# no other listener. No authentication/authorization kubeconfig: its port then serves only the
# always-allowed /healthz, /readyz, /livez, which is all this script uses, and it doesn't watch
# the aggregation CA configmap (which this apiserver doesn't have; that just logs errors). Leader election off: single instance, and it saves lease writes. ---
start kube-controller-manager "$BIN/kube-controller-manager" \
  --kubeconfig="$RUN/admin.kubeconfig" \
  --controllers=garbage-collector-controller,namespace-controller,serviceaccount-controller \
  --leader-elect=false --use-service-account-credentials=false \
  --bind-address=127.0.0.1 --secure-port="$KCM_PORT" \
  --profiling=false
wait_for 60 "kube-controller-manager /healthz" curl -skf "https://127.0.0.1:$KCM_PORT/healthz"
T_END=$(date +%s.%N)

log "cluster up at $SERVER (etcd :$ETCD_PORT, controller-manager :$KCM_PORT; run dir $RUN)"
log "$(awk -v a="$T0" -v b="$T_BIN" -v c="$T_API" -v d="$T_END" 'BEGIN {
  printf "timings: binaries %.1fs, etcd+apiserver ready %.1fs, controller-manager %.1fs, cluster start total %.1fs", b-a, c-b, d-c, d-b }')"

export KUBECONFIG="$RUN/admin.kubeconfig" TEST_CLUSTER_DIR="$RUN" TEST_CLUSTER_SERVER="$SERVER"
export TEST_CLUSTER_AUDIT_LOG="$RUN/logs/audit.log"
if [[ -n $SERVICE_IP ]]; then export TEST_CLUSTER_SERVICE_IP="$SERVICE_IP"; else unset TEST_CLUSTER_SERVICE_IP; fi
export K8S_TEST_BIN="$BIN" PATH="$BIN:$PATH"
# kubectl's discovery/HTTP cache would otherwise pile up in ~/.kube/cache, one dir per port.
export KUBECACHEDIR="$RUN/kube-cache"
unset SKIP_CLUSTER_TESTS

# CMD runs in the background in a new session/process group (setsid execs it, so its PID is
# the group id): `wait` is interruptible, so INT/TERM sent to this script tear everything down
# right away, and cleanup can stop everything CMD started. `0<&0` keeps CMD's stdin
# (background jobs would otherwise get /dev/null).
setsid "${CMD[@]}" 0<&0 &
CMD_PGID=$!
rc=0
wait "$CMD_PGID" || rc=$?
exit "$rc"
