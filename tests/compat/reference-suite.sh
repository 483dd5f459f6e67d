#!/usr/bin/env bash
# Usage: tests/compat/reference-suite.sh [--pair PAIR] [--crd ours|reference] [--build-only]
#                                        [--controller-arg ARG]... [--exec PROGRAM]
#                                        [-- SUITE/GINKGO FLAGS...]
#
# Runs the reference's own integration suite (github.com/bitnami-labs/sealed-secrets/integration,
# Ginkgo v2, build tag "integration", at $SEALED_VERSION, default v0.36.6) against a
# (sealing CLI, controller) pair:
#
#   PAIR            -kubeseal-bin             controller in kube-system
#   ours            seal (ours)               unsealer (ours)
#   kubeseal-ours   kubeseal (reference)      unsealer (ours)
#   seal-reference  seal (ours)               sealed-secrets-controller (reference)
#   reference       kubeseal (reference)      sealed-secrets-controller (reference)   [default]
#   all             the four above, in this order
#
# The suite assumes a cluster with the controller installed as in the reference's manifests:
# keys in kube-system, the Service kube-system/sealed-secrets-controller (port name "http") in
# front of it, reached by kubeseal through the API server's service proxy. So, per pair:
#   1. the suite's test binary is built once from the Go module proxy (a throwaway module in
#      build-binaries.sh's cache tree requiring the reference module; cached, idempotent);
#   2. the CRD is applied: ours (manifests/crd.yaml) or, with --crd reference, the reference's;
#   3. the controller is started, HTTP API on TEST_CLUSTER_SERVICE_IP (see
#      tests/cluster/service-net.sh): our unsealer with --kubeconfig of a token of the
#      ServiceAccount kube-system/sealed-secrets-controller bound by manifests/rbac.yaml, or the
#      reference via tests/cluster/run-bitnami-controller.sh (which binds that ServiceAccount to
#      cluster-admin); then we wait for its key Secret and /v1/cert.pem;
#      (--controller-arg ARG, repeatable, adds ARG to the controller's command line);
#   4. tests/cluster/expose-service.sh wires the Service, and the proxy path is checked;
#   5. the suite runs with -kubeconfig (admin), -kubeseal-bin, -controller-bin and ginkgo's
#      -ginkgo.no-color and -ginkgo.json-report (plus the flags after --, e.g.
#      -ginkgo.focus=REGEX or -ginkgo.v); its output is printed, ginkgo's summary included;
#   6. the controller is stopped by PID and the Service, EndpointSlice and Pod are deleted.
# The last line of the output is "N passed, M failed" (", K skipped" if any), from the JSON
# report (for `all`: the totals, each pair's line before it). Exit status 0 only if every
# spec passed.
#
# Outside a with-cluster.sh run (no TEST_CLUSTER_DIR), each pair runs in a fresh cluster of its
# own (tests/cluster/with-cluster.sh is called). Inside one, the pair(s) run in that cluster,
# one after the other; keys left in kube-system by one controller are used by the next (ours and
# the reference's are interchangeable).
#
# --exec PROGRAM runs PROGRAM instead of the suite, with the pair's controller up and exposed as
# above (for benches/re-encrypt.sh): it gets SEALING_CLI (the pair's CLI), PAIR and KUBECONFIG
# in its environment, and its exit status is the run's.
#
# Our binaries: $SEAL_BIN / $UNSEALER_BIN if set, else `cargo build --bin seal --bin unsealer`
# in this workspace (target/debug, or $CARGO_TARGET_DIR). The suite binary, the controller's log
# and the JSON report are in TEST_CLUSTER_DIR/logs (kept with K8S_TEST_KEEP_LOGS=DIR).
# Needs root (network namespace, mount namespace for the reference controller).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
CLUSTER="$REPO/tests/cluster"
SEALED_VERSION="${SEALED_VERSION:-v0.36.6}"
export SEALED_VERSION
PAIRS=(ours kubeseal-ours seal-reference reference)
PAIR=reference CRD_FROM=ours BUILD_ONLY=0 EXTRA=() CTRL_ARGS=() EXEC=""

log() { echo "reference-suite: $*" >&2; }
usage() {
  echo "usage: $0 [--pair ours|kubeseal-ours|seal-reference|reference|all] [--crd ours|reference] [--build-only] [--controller-arg ARG]... [-- SUITE FLAGS...]" >&2
  exit 2
}
ORIG_ARGS=("$@")
while (( $# )); do
  case $1 in
    --pair) PAIR=${2:-}; shift 2 || usage ;;
    --pair=*) PAIR=${1#--pair=}; shift ;;
    --crd) CRD_FROM=${2:-}; shift 2 || usage ;;
    --crd=*) CRD_FROM=${1#--crd=}; shift ;;
    --build-only) BUILD_ONLY=1; shift ;;
    --controller-arg) CTRL_ARGS+=("${2:-}"); shift 2 || usage ;;
    --controller-arg=*) CTRL_ARGS+=("${1#--controller-arg=}"); shift ;;
    --exec) EXEC=${2:-}; shift 2 || usage ;;
    --) shift; EXTRA=("$@"); break ;;
    *) usage ;;
  esac
done
[[ $PAIR == all || " ${PAIRS[*]} " == *" $PAIR "* ]] || usage
[[ $CRD_FROM == ours || $CRD_FROM == reference ]] || usage

# --- 1. the suite binary (cached next to build-binaries.sh's binaries) ---
BIN_DIR=$("$CLUSTER/build-binaries.sh" | tail -n 1)
OUT=$(dirname "$BIN_DIR")
SUITE="$OUT/suite/sealed-secrets-$SEALED_VERSION-integration.test"
build_suite() {
  local M="$OUT/src/integration-suite-$SEALED_VERSION" t0 lock
  [[ -x $SUITE ]] && return 0
  mkdir -p "$OUT/suite" "$OUT/src"
  exec {lock}>"$OUT/.suite-build.lock"
  flock "$lock"
  if [[ ! -x $SUITE ]]; then
    log "building the reference integration suite (sealed-secrets $SEALED_VERSION) ..."
    t0=$(date +%s)
    rm -rf "$M"; mkdir -p "$M"
    # The suite is a test-only package of the reference module; -mod=mod lets `go test -c`
    # record its test dependencies (ginkgo, gomega) in the throwaway module's go.mod/go.sum.
    (
      cd "$M"
      go mod init local/sealed-secrets-integration-suite >/dev/null 2>&1
      go mod edit -require="github.com/bitnami-labs/sealed-secrets@$SEALED_VERSION"
      CGO_ENABLED=0 GOFLAGS="-mod=mod -buildvcs=false" GOTOOLCHAIN="${GOTOOLCHAIN_BUILD:-auto}" \
        go test -c -tags integration -trimpath -o "$SUITE.tmp" \
        github.com/bitnami-labs/sealed-secrets/integration
    ) >&2
    mv -f "$SUITE.tmp" "$SUITE"
    log "built the suite in $(( $(date +%s) - t0 )) s: $SUITE"
  fi
  exec {lock}>&-
}
build_suite
(( BUILD_ONLY )) && { echo "$SUITE"; exit 0; }

# The original arguments without --pair, for running one pair in a process of its own.
REST=()
set -- "${ORIG_ARGS[@]}"
while (( $# )); do
  case $1 in
    --pair) shift 2 ;;
    --pair=*) shift ;;
    --) REST+=("$@"); break ;;
    *) REST+=("$1"); shift ;;
  esac
done

# --- all: each pair in a process of its own (in a fresh cluster unless already in one) ---
if [[ $PAIR == all ]]; then
  tp=0 tf=0 ts=0 rc=0
  tmp=$(mktemp "${TMPDIR:-/tmp}/reference-suite.XXXXXX")
  trap 'rm -f "$tmp"' EXIT
  for p in "${PAIRS[@]}"; do
    echo "===== pair $p ====="
    cmd=("$0" --pair "$p" "${REST[@]}")
    [[ -n ${TEST_CLUSTER_DIR:-} ]] || cmd=("$CLUSTER/with-cluster.sh" "${cmd[@]}")
    "${cmd[@]}" | tee "$tmp" || rc=1
    line=$(tail -n 1 "$tmp")
    if [[ $line =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed(,\ ([0-9]+)\ skipped)?$ ]]; then
      (( tp += BASH_REMATCH[1], tf += BASH_REMATCH[2], ts += ${BASH_REMATCH[4]:-0} )) || true
    else
      line="no report"
      rc=1
      (( tf += 1 )) # the run did not get as far as the report: count it as one failure
    fi
    echo "===== pair $p: $line ====="
  done
  echo "$tp passed, $tf failed$( (( ts )) && echo ", $ts skipped")"
  exit "$rc"
fi

# --- one pair, not inside a cluster: in a fresh one ---
if [[ -z ${TEST_CLUSTER_DIR:-} ]]; then
  exec "$CLUSTER/with-cluster.sh" "$0" --pair "$PAIR" "${REST[@]}"
fi

# --- inside a cluster ---
: "${KUBECONFIG:?KUBECONFIG is not set (TEST_CLUSTER_DIR is; not a with-cluster.sh run?)}"
BIN=${K8S_TEST_BIN:-$BIN_DIR}
KUBECTL=("$BIN/kubectl" --kubeconfig "$KUBECONFIG")
NS=kube-system SVC=sealed-secrets-controller
IP=${TEST_CLUSTER_SERVICE_IP:-}
if [[ -z $IP ]]; then
  log "ERROR: TEST_CLUSTER_SERVICE_IP is not set: with-cluster.sh could not make the service address (see its log), and kubeseal can only reach the controller through the API server's service proxy"
  exit 1
fi
LOGS="$TEST_CLUSTER_DIR/logs"

our_bins() {
  if [[ -n ${SEAL_BIN:-} && -n ${UNSEALER_BIN:-} ]]; then return 0; fi
  log "building seal and unsealer (cargo build) ..."
  (cd "$REPO" && cargo build -q --bin seal --bin unsealer) >&2
  local target=${CARGO_TARGET_DIR:-$REPO/target}
  SEAL_BIN=${SEAL_BIN:-$target/debug/seal}
  UNSEALER_BIN=${UNSEALER_BIN:-$target/debug/unsealer}
}

# Our binaries under the reference's names, as its image and users' scripts run them
# (`kubeseal`, `controller`): each prints `<name> version: vX.Y.Z`, which the suite checks.
reference_names() {
  local dir="$TEST_CLUSTER_DIR/reference-names"
  mkdir -p "$dir"
  ln -sf "$SEAL_BIN" "$dir/kubeseal"
  ln -sf "$UNSEALER_BIN" "$dir/controller"
  SEAL_AS_KUBESEAL=$dir/kubeseal
  UNSEALER_AS_CONTROLLER=$dir/controller
}

free_port() { # HOST
  python3 -c 'import socket, sys; s=socket.socket(); s.bind((sys.argv[1], 0)); print(s.getsockname()[1]); s.close()' "$1"
}

# wait_until SECONDS WHAT CMD...: poll every 0.2 s; fail if the controller died.
wait_until() {
  local secs=$1 what=$2 n
  shift 2
  for (( n=0; n<secs*5; n++ )); do
    "$@" >/dev/null 2>&1 && return 0
    if [[ -n ${CTRL_PID:-} ]] && ! kill -0 "$CTRL_PID" 2>/dev/null; then
      log "ERROR: the controller exited while waiting for $what; its log:"
      tail -n 40 "$CTRL_LOG" >&2
      return 1
    fi
    sleep 0.2
  done
  log "ERROR: timed out after ${secs}s waiting for $what; controller log:"
  tail -n 40 "$CTRL_LOG" >&2
  return 1
}

CTRL_PID="" CTRL_LOG="" CLEANUP_BINDING=""
# shellcheck disable=SC2317 # invoked by trap
stop_controller() {
  local n
  if [[ -n $CTRL_PID ]] && kill -0 "$CTRL_PID" 2>/dev/null; then
    kill -TERM "$CTRL_PID" 2>/dev/null || true
    for (( n=0; n<100; n++ )); do kill -0 "$CTRL_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$CTRL_PID" 2>/dev/null || true
    wait "$CTRL_PID" 2>/dev/null || true
  fi
  CTRL_PID=""
  "$CLUSTER/expose-service.sh" --namespace "$NS" --name "$SVC" --delete >/dev/null 2>&1 || true
  if [[ -n $CLEANUP_BINDING ]]; then
    "${KUBECTL[@]}" delete --ignore-not-found clusterrolebinding "$CLEANUP_BINDING" >/dev/null 2>&1 || true
    CLEANUP_BINDING=""
  fi
}
trap stop_controller EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

apply_crd() {
  local file
  if [[ $CRD_FROM == reference ]]; then file="$BIN/../share/bitnami.com_sealedsecrets.yaml"
  else file="$REPO/manifests/crd.yaml"; fi
  # Server-side, forced: the CRD may have been created by someone else (another test, the
  # other implementation's file); this run's CRD wins.
  "${KUBECTL[@]}" apply --server-side --force-conflicts --field-manager=reference-suite -f "$file" >&2
  "${KUBECTL[@]}" wait --for=condition=Established crd/sealedsecrets.bitnami.com --timeout=60s >&2
}

start_ours() {
  local dir port mport token
  "${KUBECTL[@]}" get namespace "$NS" >/dev/null 2>&1 || "${KUBECTL[@]}" create namespace "$NS" >&2
  "${KUBECTL[@]}" apply -f "$REPO/manifests/rbac.yaml" >&2
  dir=$(mktemp -d "$TEST_CLUSTER_DIR/unsealer-suite.XXXXXX")
  token=$("${KUBECTL[@]}" -n "$NS" create token "$SVC" --duration=2h)
  # The ServiceAccount's token, the cluster CA by path: what the controller gets in a pod.
  cat > "$dir/kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters: [{name: test, cluster: {server: "$TEST_CLUSTER_SERVER", certificate-authority: "$TEST_CLUSTER_DIR/ca.crt"}}]
users: [{name: $SVC, user: {token: "$token"}}]
contexts: [{name: test, context: {cluster: test, user: $SVC, namespace: $NS}}]
current-context: test
EOF
  chmod 600 "$dir/kubeconfig"
  port=$(free_port "$IP"); mport=$(free_port 127.0.0.1)
  CTRL_LOG="$LOGS/unsealer-suite.log"
  log "starting $UNSEALER_BIN on $IP:$port (metrics 127.0.0.1:$mport), keys in $NS"
  env -u RUST_LOG "$UNSEALER_BIN" --kubeconfig "$dir/kubeconfig" --namespace "$NS" \
    --listen-addr "$IP:$port" --listen-metrics-addr "127.0.0.1:$mport" "${CTRL_ARGS[@]}" \
    </dev/null >"$CTRL_LOG" 2>&1 &
  CTRL_PID=$!
  CTRL_PORT=$port
}

start_reference() {
  local port
  port=$(free_port "$IP")
  CTRL_LOG="$LOGS/bitnami-suite.log"
  CLEANUP_BINDING="bitnami-peer-$NS-$SVC"
  log "starting the reference controller on $IP:$port, keys in $NS"
  BITNAMI_NAMESPACE=$NS BITNAMI_LISTEN_HOST=$IP BITNAMI_LISTEN_PORT=$port \
    "$CLUSTER/run-bitnami-controller.sh" "${CTRL_ARGS[@]}" </dev/null >"$CTRL_LOG" 2>&1 &
  CTRL_PID=$!
  CTRL_PORT=$port
}

has_key() {
  [[ -n $("${KUBECTL[@]}" -n "$NS" get secrets -l sealedsecrets.bitnami.com/sealed-secrets-key=active -o name) ]]
}
proxy_cert() {
  "${KUBECTL[@]}" get --raw "/api/v1/namespaces/$NS/services/http:$SVC:http/proxy/v1/cert.pem" |
    grep -q 'BEGIN CERTIFICATE'
}

# run_pair PAIR: prints the suite's output and the count line; returns 0 if all passed. Called
# at the top level only, so `set -e` applies, and the EXIT trap stops the controller.
run_pair() {
  local pair=$1 kubeseal ctrl report out rc=0 t0 t1 counts
  case $pair in
    ours|kubeseal-ours|seal-reference) our_bins; reference_names ;;
  esac
  case $pair in
    ours) kubeseal=$SEAL_AS_KUBESEAL ctrl=$UNSEALER_AS_CONTROLLER ;;
    kubeseal-ours) kubeseal=$BIN/kubeseal ctrl=$UNSEALER_AS_CONTROLLER ;;
    seal-reference) kubeseal=$SEAL_AS_KUBESEAL ctrl=$BIN/sealed-secrets-controller ;;
    reference) kubeseal=$BIN/kubeseal ctrl=$BIN/sealed-secrets-controller ;;
  esac
  apply_crd
  if [[ $ctrl == "$BIN/sealed-secrets-controller" ]]; then start_reference; else start_ours; fi
  wait_until 120 "the controller's /healthz on $IP:$CTRL_PORT" curl -sf "http://$IP:$CTRL_PORT/healthz" || return 1
  wait_until 60 "a key Secret in $NS" has_key || return 1
  wait_until 60 "the controller's /v1/cert.pem" curl -sf "http://$IP:$CTRL_PORT/v1/cert.pem" || return 1
  "$CLUSTER/expose-service.sh" --namespace "$NS" --name "$SVC" "$IP:$CTRL_PORT"
  wait_until 30 "/v1/cert.pem through the service proxy" proxy_cert || return 1

  if [[ -n $EXEC ]]; then
    SEALING_CLI=$kubeseal PAIR=$pair "$EXEC" || rc=$?
    stop_controller
    return "$rc"
  fi

  report="$LOGS/reference-suite-$pair.json"
  out="$LOGS/reference-suite-$pair.log"
  # The suite writes temporary kubeconfigs and key files to TMPDIR: keep them in the run dir.
  mkdir -p "$TEST_CLUSTER_DIR/suite-tmp"
  log "running the suite: -kubeseal-bin $kubeseal -controller-bin $ctrl ${EXTRA[*]}"
  t0=$(date +%s)
  (cd "$TEST_CLUSTER_DIR/suite-tmp" && TMPDIR="$TEST_CLUSTER_DIR/suite-tmp" "$SUITE" \
    -kubeconfig "$KUBECONFIG" -kubeseal-bin "$kubeseal" -controller-bin "$ctrl" \
    -ginkgo.no-color -ginkgo.json-report="$report" "${EXTRA[@]}") 2>&1 | tee "$out" || rc=$?
  t1=$(date +%s)
  log "suite ran in $(( t1 - t0 )) s (pair $pair, exit $rc); output in $out"
  stop_controller
  if [[ ! -s $report ]]; then
    log "ERROR: the suite wrote no report ($report)"
    echo "0 passed, 1 failed"
    return 1
  fi
  # Specs (It nodes) by state; "failed" is everything that neither passed nor was skipped or
  # pending (failed, panicked, timedout, interrupted, aborted).
  counts=$(jq -r '[.[].SpecReports[] | select(.LeafNodeType == "It") | .State] |
    [(map(select(. == "passed")) | length),
     (map(select(. != "passed" and . != "skipped" and . != "pending")) | length),
     (map(select(. == "skipped" or . == "pending")) | length)] | @tsv' "$report")
  read -r P F S <<<"$counts"
  # Failures outside specs (BeforeSuite, a report entry of the suite itself) also fail the run.
  if jq -e '[.[] | select(.SuiteSucceeded == false)] | length > 0' "$report" >/dev/null && (( F == 0 )); then
    F=1
  fi
  if (( F )); then
    echo
    echo "Failed specs (pair $pair):"
    # Each: the spec, where it failed, the message (an exit status instead of the dump of
    # Go's exec.ExitError), and the "error: ..." lines the CLI printed (in the captured output).
    jq -r '.[].SpecReports[] | select(.LeafNodeType == "It" and .State != "passed" and .State != "skipped" and .State != "pending") |
      (.Failure.Message // "") as $m |
      (if ($m | test("exec.ExitError")) then "Unexpected error: " + (($m | capture("(?<s>exit status [0-9]+)") | .s) // "exit")
       else ($m | split("\n") | .[0:8] | join("\n")) end) as $msg |
      ([(.CapturedGinkgoWriterOutput // "") | split("\n")[] | select(startswith("error:"))] | unique) as $errs |
      "  [\(.State)] \((.ContainerHierarchyTexts + [.LeafNodeText]) | join(" "))",
      "      in \(.Failure.FailureNodeType // "?") at \(.Failure.Location.FileName // "?" | split("/") | last):\(.Failure.Location.LineNumber // "?")",
      "      \($msg | gsub("\n"; "\n      "))",
      ($errs[] | "      CLI said: \(.)")' "$report"
  fi
  echo "$P passed, $F failed$( (( S )) && echo ", $S skipped")"
  (( F == 0 && rc == 0 ))
}

run_pair "$PAIR"
