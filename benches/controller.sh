#!/usr/bin/env bash
# Controller benchmark under the real test control plane: our `unsealer` against the Bitnami
# sealed-secrets-controller v0.36.6, on N pre-existing SealedSecrets (3 items each), side by
# side, in one command:
#
#   tests/cluster/with-cluster.sh benches/controller.sh [N...]   (default N: 1000 5000 20000)
#
# Phases (benches/controller.md says what each number means):
#   0. keys (once, before the rest; KEYS > 1): KEYS-1 extra active RSA-4096 key Secrets in
#      kube-system besides the vector key (the oldest), KEYS_N SealedSecrets sealed with the
#      vector certificate; all Synced, then one of them re-applied with a new value: RSA
#      operations per item from ours' sealed_secrets_controller_rsa_operations_total.
#   For each UNRELATED count (unrelated 4 KiB Secrets in namespaces unrel-*, created once and
#   kept), each N and each controller variant, in fresh namespaces bench-*:
#   1. first sync: create N SealedSecrets BEFORE the controller runs, start it, time /healthz,
#      all N Synced=True, the unseal counter reaching N; CPU s, peak RSS, API requests;
#   2. restart: SIGTERM, start again while everything is in sync: /healthz, the counter
#      reaching N, idle again; Secret writes and RSA operations during it;
#   3. churn (same controller process as 2): CHURN_RATE merge-patches a second for
#      CHURN_SECONDS, each a pre-sealed new value of one SealedSecret; latency from the PATCH to
#      the value in the Secret (a watch), p50/p99;
#   4. key change (ours only; KEY_CHANGE=1): started again while everything is current, then
#      SIGUSR1 (a new key, as the 30-day renewal makes one): the unseal counter reaching N more
#      (every object looked at again), VmRSS before, at its peak and after, Secret writes and
#      RSA operations. The reference does not look at its objects again after a new key;
#   then delete the bench namespaces (the Secrets go with them) so the next variant does it all.
# API requests: deltas of the kube-apiserver's own apiserver_request_total around each phase,
#   the bench's own requests (the poller's list and watch, the churn driver's patches and watch)
#   subtracted, per object (per update for churn).
#
# Variants (CONTROLLERS, default "ours bitnami bitnami-noqps"):
#   ours            $UNSEALER --kubeconfig "$KUBECONFIG" (watches all namespaces)
#   bitnami         tests/cluster/run-bitnami-controller.sh --all-namespaces=true (as shipped:
#                   client-go rate limit --kubeclient-qps=5 --kubeclient-burst=10); only for
#                   N <= BITNAMI_MAX_N (default 1000): it needs ~0.6 s per object
#   bitnami-noqps   the same with --kubeclient-qps=-1 (client-side rate limit off); only for
#                   N <= NOQPS_MAX_N if that is set
# All get --key-renew-period=0, so that no variant generates a key at start (the vector
# certificate's NotBefore would otherwise decide, depending on the date the bench is run).
#
# Environment: N_LIST (instead of args), UNRELATED (default "0 20000"), UNRELATED_PER_NS
#   (Secrets per unrel-* namespace, 1000), UNRELATED_PARALLEL (kubectl create at a time, 4),
#   NAMESPACES (bench namespaces, 4), CHUNK (objects per file, 500), CREATE_PARALLEL (2),
#   TIMEOUT (seconds per measured phase, 900), POLL (seconds between timeline samples, 1),
#   SETTLE (seconds between a phase's end condition and what follows, 10),
#   CHURN_SECONDS (60; 0: no churn), CHURN_RATE (updates/s, 10), CHURN_DRAIN (seconds to wait
#   for the last updates, 120), KEYS (24; 1: no keys phase), KEYS_N (objects, 100),
#   KEY_CHANGE (1; 0: no key-change phase),
#   DECOY_DIR (the extra keys, kept; shared with cli-vs-kubeseal.sh), BITNAMI_MAX_N (1000;
#   empty: no cap), NOQPS_MAX_N (empty), RSA_SPEED_SECONDS (the RSA floor's measurement, 3),
#   RSA_FLOOR_BIN (default: cargo build --release -p shared --example rsa_floor; measured at
#   the start and at the end, the lower counts), LOCAL_FLOOR_SECONDS (the floor measured again
#   just before and just after each first sync, the lower of those two counting for that row's
#   ratios, 2; 0: off), CONTROLLERS,
#   RESULTS (dir, default a new /tmp/controller-bench.XXXXXX), UNSEALER / SEAL (binaries;
#   default: cargo build --release -p seal-cli -p unsealer), UNSEALER_REV (a note on which
#   revision a given UNSEALER was built from, for machine.txt).
# Needs: root (run-bitnami-controller.sh uses a mount namespace), python3, curl, jq, openssl.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
: "${KUBECONFIG:?run under tests/cluster/with-cluster.sh (KUBECONFIG is not set)}"
: "${TEST_CLUSTER_DIR:?run under tests/cluster/with-cluster.sh (TEST_CLUSTER_DIR is not set)}"
HELPER="$ROOT/benches/controller_bench.py"
CERT="$ROOT/shared/tests/vectors/sealing-cert.pem"
KEY_SECRET="$ROOT/shared/tests/vectors/sealing-key-secret.yaml"
KEY_SECRET_NAME=$(awk '/^  name:/ { print $2; exit }' "$KEY_SECRET")
KEY_NS=kube-system # the vector key Secret's namespace, and both controllers' key namespace
NAMESPACES="${NAMESPACES:-4}"
CHUNK="${CHUNK:-500}"
CREATE_PARALLEL="${CREATE_PARALLEL:-2}"
TIMEOUT="${TIMEOUT:-900}"
POLL="${POLL:-1}"
SETTLE="${SETTLE:-10}"
CONTROLLERS="${CONTROLLERS:-ours bitnami bitnami-noqps}"
if (( $# )); then N_LIST="$*"; fi
N_LIST="${N_LIST:-1000 5000 20000}"
UNRELATED="${UNRELATED:-0 20000}"
UNRELATED_PER_NS="${UNRELATED_PER_NS:-1000}"
UNRELATED_PARALLEL="${UNRELATED_PARALLEL:-4}"
CHURN_SECONDS="${CHURN_SECONDS:-60}"
CHURN_RATE="${CHURN_RATE:-10}"
CHURN_DRAIN="${CHURN_DRAIN:-120}"
KEYS="${KEYS:-24}"
KEYS_N="${KEYS_N:-100}"
KEY_CHANGE="${KEY_CHANGE:-1}"
DECOY_DIR="${DECOY_DIR:-$HOME/.cache/sealed-secrets-bench/decoys-rsa4096}"
BITNAMI_MAX_N="${BITNAMI_MAX_N-1000}"
NOQPS_MAX_N="${NOQPS_MAX_N:-}"
RSA_SPEED_SECONDS="${RSA_SPEED_SECONDS:-3}"
LOCAL_FLOOR_SECONDS="${LOCAL_FLOOR_SECONDS:-2}"
RESULTS="${RESULTS:-$(mktemp -d /tmp/controller-bench.XXXXXX)}"
mkdir -p "$RESULTS/logs" "$RESULTS/phases"
WORK="$(mktemp -d /tmp/controller-bench-work.XXXXXX)"
# Unrelated counts in ascending order: they are only ever added.
UNRELATED="$(tr ' ' '\n' <<<"$UNRELATED" | grep . | sort -n | xargs)"
CHURN_COUNT=$(awk -v r="$CHURN_RATE" -v s="$CHURN_SECONDS" 'BEGIN { printf "%d", r * s }')

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# --- process bookkeeping: every controller we start is stopped by its PID ---------------------
CTL_PID=""
POLLER_PID=""
stop_pid() { # PID: TERM, wait up to 30 s, then KILL
  local p=$1 n
  kill -0 "$p" 2>/dev/null || { wait "$p" 2>/dev/null || true; return 0; }
  kill -TERM "$p" 2>/dev/null || true
  for (( n=0; n<300; n++ )); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$p" 2>/dev/null; then
    log "pid $p did not stop on TERM within 30 s; killing"
    kill -KILL "$p" 2>/dev/null || true
  fi
  wait "$p" 2>/dev/null || true
}
cleanup() {
  local rc=$?
  if [[ -n $CTL_PID ]]; then stop_pid "$CTL_PID"; fi
  if [[ -n $POLLER_PID ]]; then stop_pid "$POLLER_PID"; fi
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}
elapsed() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }
js() { jq -cn --arg s "$1" '$s'; } # a JSON string

# --- binaries -------------------------------------------------------------------------------
if [[ -z ${UNSEALER:-} || -z ${SEAL:-} ]]; then
  log "cargo build --release -p seal-cli -p unsealer"
  (cd "$ROOT" && cargo build --release -q -p seal-cli -p unsealer)
  UNSEALER_REV="git $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo ?);"
  UNSEALER_REV+=" uncommitted files under unsealer/ shared/ seal-cli/:"
  UNSEALER_REV+=" $(git -C "$ROOT" status --porcelain -- unsealer shared seal-cli 2>/dev/null | wc -l)"
fi
# The RSA floor: the controller's own RSA (aws-lc-rs), a small example program.
if [[ -z ${RSA_FLOOR_BIN:-} ]]; then
  log "cargo build --release -p shared --example rsa_floor"
  (cd "$ROOT" && cargo build --release -q -p shared --example rsa_floor)
fi
RSA_FLOOR_BIN="${RSA_FLOOR_BIN:-${CARGO_TARGET_DIR:-$ROOT/target}/release/examples/rsa_floor}"
UNSEALER_REV="${UNSEALER_REV:-binary given in UNSEALER, revision unknown (set UNSEALER_REV)}"
UNSEALER="${UNSEALER:-${CARGO_TARGET_DIR:-$ROOT/target}/release/unsealer}"
SEAL="${SEAL:-${CARGO_TARGET_DIR:-$ROOT/target}/release/seal}"
BITNAMI_BIN="$(command -v sealed-secrets-controller)"
for tool in jq curl openssl python3; do
  command -v "$tool" >/dev/null || { echo "$tool is missing" >&2; exit 1; }
done

# --- inputs: N Secrets with 3 items, round-robin over the namespaces, sealed in chunks ----------
make_inputs() { # N DIR
  local n=$1 dir=$2 f
  mkdir -p "$dir"
  python3 "$HELPER" gen-inputs "$n" "$NAMESPACES" "$CHUNK" "$dir"
  for f in "$dir"/in-*.yaml; do
    "$SEAL" --cert "$CERT" -o yaml <"$f" >"${f/in-/sealed-}"
  done
}

# COUNT pre-sealed updates (a new password each) of objects 0..N-1, as JSON lines in FILE.
make_updates() { # N COUNT FILE TAG
  python3 "$HELPER" make-updates seal="$SEAL" cert="$CERT" n="$1" namespaces="$NAMESPACES" \
    count="$2" out="$3" tag="$4"
}

namespaces() { local i; for (( i=0; i<NAMESPACES; i++ )); do echo "bench-$i"; done; }

create_objects() { # DIR N — namespaces, then the sealed chunks (CREATE_PARALLEL kubectl at a time)
  local dir=$1 n=$2 t0 have ns
  for ns in $(namespaces); do kubectl create namespace "$ns" >/dev/null; done
  t0=$(date +%s.%N)
  printf '%s\n' "$dir"/sealed-*.yaml | xargs -P "$CREATE_PARALLEL" -I{} kubectl create -f {} -o name >/dev/null
  elapsed "$t0"
  have=$(kubectl get sealedsecrets -A --no-headers 2>/dev/null | wc -l)
  [[ $have -eq $n ]] || { log "ERROR: created $have SealedSecrets, expected $n"; exit 1; }
}

delete_namespaces() {
  local t0
  t0=$(date +%s.%N)
  # shellcheck disable=SC2046
  kubectl delete namespace $(namespaces) --ignore-not-found --wait=true --timeout=900s >/dev/null
  elapsed "$t0"
}

# Unrelated Secrets: 4 KiB Opaque ones in namespaces unrel-NNN (UNRELATED_PER_NS each), created
# once per count and never deleted, so each count in UNRELATED adds only the difference.
UNREL_HAVE=0
ensure_unrelated() { # COUNT
  local want=$1 dir="$WORK/unrel" t0 s ns
  (( want > UNREL_HAVE )) || return 0
  rm -rf "$dir"; mkdir -p "$dir"
  log "creating $((want - UNREL_HAVE)) unrelated 4 KiB Secrets ($UNREL_HAVE -> $want, $UNRELATED_PER_NS per namespace)"
  python3 "$HELPER" gen-unrelated "$UNREL_HAVE" "$((want - UNREL_HAVE))" "$UNRELATED_PER_NS" "$CHUNK" "$dir" >"$dir/namespaces"
  t0=$(date +%s.%N)
  while read -r ns; do
    printf -- '---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: %s\n' "$ns"
  done <"$dir/namespaces" >"$dir/namespaces.yaml"
  kubectl apply -f "$dir/namespaces.yaml" >/dev/null
  printf '%s\n' "$dir"/unrel-*.yaml | xargs -P "$UNRELATED_PARALLEL" -I{} kubectl create -f {} -o name >/dev/null
  s=$(elapsed "$t0")
  rm -rf "$dir"
  log "unrelated Secrets: $want in all; $((want - UNREL_HAVE)) created in ${s}s"
  echo "unrelated: $want Secrets in all; $((want - UNREL_HAVE)) created in ${s}s ($UNRELATED_PARALLEL kubectl at a time)" >>"$RESULTS/machine.txt"
  UNREL_HAVE=$want
}

# Sanity after a run: Secrets in the bench namespaces, SealedSecrets with a Synced=True
# condition (full objects this time, any position), and how many Secrets carry an owner.
verify() { # -> "secrets=.. synced=.. owned=.."
  local secrets=0 synced owned=0 ns s o
  for ns in $(namespaces); do
    read -r s o < <(kubectl -n "$ns" get secrets -o json | jq -r \
      '[(.items | length), ([.items[] | select(any(.metadata.ownerReferences[]?; .kind == "SealedSecret"))] | length)] | @tsv')
    secrets=$((secrets + s)); owned=$((owned + o))
  done
  synced=$(kubectl get sealedsecrets -A -o json | jq '[.items[] | select(any(.status.conditions[]?; .type == "Synced" and .status == "True"))] | length')
  echo "secrets=$secrets synced=$synced owned=$owned"
}

# --- the API server's request counter ------------------------------------------------------
api_snap() { python3 "$HELPER" api-snap "$1"; } # FILE
api_delta() { # BEFORE AFTER PER OUT [OWN_FILE:KEY...]
  local before=$1 after=$2 per=$3 out=$4 args=() o
  shift 4
  for o in "$@"; do args+=("own=$o"); done
  python3 "$HELPER" api-delta before="$before" after="$after" per="$per" "${args[@]}" >"$out"
}

# --- controllers ----------------------------------------------------------------------------
PORT=""; MPORT=""; T_SPAWN=""
exe_of() { case $1 in ours) echo unsealer ;; *) echo sealed-secrets-controller ;; esac; }
start_controller() { # VARIANT LOGFILE (uses PORT, MPORT) -> sets CTL_PID, T_SPAWN
  local variant=$1 logf=$2
  T_SPAWN=$(date +%s.%N)
  case $variant in
    ours)
      # The image's environment (image/build.sh): glibc with 1 malloc arena and no tcache.
      NO_COLOR=1 MALLOC_ARENA_MAX="${OURS_MALLOC_ARENA_MAX-1}" \
        GLIBC_TUNABLES="${OURS_GLIBC_TUNABLES-glibc.malloc.tcache_count=0}" "$UNSEALER" --kubeconfig "$KUBECONFIG" --namespace "$KEY_NS" --key-renew-period=0 \
        --listen-addr "127.0.0.1:$PORT" --listen-metrics-addr "127.0.0.1:$MPORT" >>"$logf" 2>&1 &
      ;;
    bitnami|bitnami-noqps)
      local extra=()
      [[ $variant == bitnami-noqps ]] && extra=(--kubeclient-qps=-1)
      BITNAMI_NAMESPACE=$KEY_NS BITNAMI_LISTEN_PORT=$PORT BITNAMI_METRICS_PORT=$MPORT \
        "$ROOT/tests/cluster/run-bitnami-controller.sh" --all-namespaces=true --key-renew-period=0 \
        "${extra[@]}" </dev/null >>"$logf" 2>&1 &
      ;;
    *) echo "unknown controller variant: $variant" >&2; exit 2 ;;
  esac
  CTL_PID=$!
}

# Why VARIANT does not run at N (empty: it runs).
skip_reason() { # VARIANT N
  case $1 in
    bitnami) if [[ -n $BITNAMI_MAX_N ]] && (( $2 > BITNAMI_MAX_N )); then echo "N > BITNAMI_MAX_N=$BITNAMI_MAX_N"; fi ;;
    bitnami-noqps) if [[ -n $NOQPS_MAX_N ]] && (( $2 > NOQPS_MAX_N )); then echo "N > NOQPS_MAX_N=$NOQPS_MAX_N"; fi ;;
  esac
}

# Starts the poller, then (once it is ready) the controller, then waits for the poller.
measured_start() { # MODE VARIANT N OUT LOGFILE
  local mode=$1 variant=$2 n=$3 out=$4 logf=$5 direct=0 n_wait
  rm -f "$WORK/ready" "$WORK/pidfile"
  PORT=$(free_port); MPORT=$(free_port)
  [[ $variant == ours ]] && direct=1
  python3 "$HELPER" poll n="$n" mode="$mode" timeout="$TIMEOUT" poll="$POLL" direct="$direct" \
    exe="$(exe_of "$variant")" out="$out" ready="$WORK/ready" pidfile="$WORK/pidfile" \
    healthz="http://127.0.0.1:$PORT/healthz" metrics="http://127.0.0.1:$MPORT/metrics" &
  POLLER_PID=$!
  for (( n_wait=0; n_wait<600; n_wait++ )); do [[ -e $WORK/ready ]] && break; sleep 0.05; done
  start_controller "$variant" "$logf"
  echo "$CTL_PID $T_SPAWN" >"$WORK/pidfile.tmp"
  mv "$WORK/pidfile.tmp" "$WORK/pidfile"
  wait "$POLLER_PID"
  POLLER_PID=""
}

# VmHWM just before the SIGTERM, or the poller's last sample if the process is gone.
hwm_now() { # [POLLER_JSON]
  local h
  h=$(awk '/^VmHWM:/ { print $2 }' "/proc/$CTL_PID/status" 2>/dev/null || true)
  if [[ -n ${1:-} ]]; then jq --argjson h "${h:-0}" '[.hwm_kib, $h] | max' "$1"; else echo "${h:-null}"; fi
}

# A counter on the running controller's /metrics (summed over labels), or null.
metric_of() { # NAME
  curl -s --max-time 10 "http://127.0.0.1:$MPORT/metrics" 2>/dev/null |
    awk -v m="$1" '$1 == m || index($1, m "{") == 1 { s += $2; f = 1 } END { if (f) printf "%d\n", s; else print "null" }'
}

stop_controller() { stop_pid "$CTL_PID"; CTL_PID=""; sleep 1; } # then the API server has counted its ended watches

# One JSON line per row into results.jsonl, with the derived numbers (controller_bench.py derive).
# Arguments KEY=JSON or KEY=@FILE (a JSON file; a poller's timeline is left out).
record() {
  local kv v json='{}'
  for kv in "$@"; do
    v=${kv#*=}
    if [[ $v == @* ]]; then
      json=$(jq -c --arg k "${kv%%=*}" --slurpfile v "${v#@}" \
        '. + {($k): ($v[0] | if type == "object" then del(.timeline) else . end)}' <<<"$json")
    else
      json=$(jq -c --arg k "${kv%%=*}" --argjson v "$v" '. + {($k): $v}' <<<"$json")
    fi
  done
  python3 "$HELPER" derive rsa_ms="$RSA_MS" <<<"$json" >>"$RESULTS/results.jsonl"
}

secret_versions() { # -> "namespace/name resourceVersion" of every Secret in the bench namespaces, sorted
  local ns
  for ns in $(namespaces); do
    kubectl -n "$ns" get secrets -o jsonpath='{range .items[*]}{.metadata.namespace}/{.metadata.name} {.metadata.resourceVersion}{"\n"}{end}'
  done | sort
}

rss_now() { awk '/^VmRSS:/ { print $2 }' "/proc/$CTL_PID/status" 2>/dev/null || echo 0; } # KiB

# Phase 4 on a running `ours` that has looked at everything: SIGUSR1, then VmRSS sampled until
# the unseal counter is N higher (every object looked at again) and SETTLE seconds after.
key_change() { # N OUT PH
  local n=$1 out=$2 ph=$3 c0 c1 r0 r1 rss rss0 peak t0 t_end s=null changed
  secret_versions >"$ph-keychange-secrets-0.txt"
  api_snap "$ph-api-keychange-0.json"
  c0=$(metric_of sealed_secrets_controller_unseal_requests_total)
  r0=$(metric_of sealed_secrets_controller_rsa_operations_total)
  rss0=$(rss_now)
  peak=$rss0
  t0=$(date +%s.%N)
  t_end=""
  kill -USR1 "$CTL_PID"
  while [[ -z $t_end ]] || (( $(date +%s) < t_end )); do
    rss=$(rss_now)
    (( rss > peak )) && peak=$rss
    if [[ -z $t_end ]]; then
      c1=$(metric_of sealed_secrets_controller_unseal_requests_total)
      if [[ $c1 != null && $c0 != null ]] && (( c1 - c0 >= n )); then s=$(elapsed "$t0"); fi
      if [[ $s != null ]] || awk -v e="$(elapsed "$t0")" -v t="$TIMEOUT" 'BEGIN { exit !(e > t) }'; then
        t_end=$(( $(date +%s) + SETTLE ))
      fi
    fi
    sleep 0.2
  done
  r1=$(metric_of sealed_secrets_controller_rsa_operations_total)
  c1=$(metric_of sealed_secrets_controller_unseal_requests_total)
  rss=$(rss_now)
  stop_controller
  api_snap "$ph-api-keychange-1.json"
  secret_versions >"$ph-keychange-secrets-1.txt"
  # Only the vector key again, so that later variants start as every other does.
  kubectl -n "$KEY_NS" get secrets -l sealedsecrets.bitnami.com/sealed-secrets-key -o name |
    grep -vx "secret/$KEY_SECRET_NAME" | xargs -r kubectl -n "$KEY_NS" delete >/dev/null
  changed=$(comm -13 "$ph-keychange-secrets-0.txt" "$ph-keychange-secrets-1.txt" | wc -l)
  api_delta "$ph-api-keychange-0.json" "$ph-api-keychange-1.json" "$n" "$ph-keychange-api.json"
  jq -n --argjson s "$s" --argjson rss0 "$rss0" --argjson peak "$peak" --argjson rss1 "$rss" \
    --argjson c0 "$c0" --argjson c1 "$c1" --argjson r0 "$r0" --argjson r1 "$r1" \
    --slurpfile api "$ph-keychange-api.json" --argjson changed "$changed" \
    '{seconds: $s, rss_before_kib: $rss0, rss_peak_kib: $peak, rss_after_kib: $rss1,
      looked_at: (if $c0 and $c1 then $c1 - $c0 else null end),
      rsa_ops: (if $r0 and $r1 then $r1 - $r0 else null end),
      bench_secrets_changed: $changed, api: $api[0]}' >"$out"
}

# The floor beside one phase, while the cluster is idle: a VM's speed can drift by a third within
# one run (4.75 ms at the start of a run and 6.15 ms at its end, run K), so the ratio of a row
# is taken against the floor measured next to it. -> ms, or null.
local_floor() {
  local ms
  (( LOCAL_FLOOR_SECONDS > 0 )) || { echo null; return; }
  ms=$("$RSA_FLOOR_BIN" "$LOCAL_FLOOR_SECONDS" 2>/dev/null || true)
  if [[ $ms =~ ^[0-9.]+$ ]]; then echo "$ms"; else echo null; fi
}

run_variant() { # VARIANT N DIR UNRELATED UPDATES
  local variant=$1 n=$2 dir=$3 u=$4 updates=$5 tag logf create_s hwm1 hwm2=null hwm3=null
  local first restart churn=null ph check del_s rsa=null rsa_src=null unseal per keychange=null
  local floor0 floor1
  tag="$variant-u$u-n$n"
  ph="$RESULTS/phases/$tag"
  logf="$RESULTS/logs/$tag.log"
  : >"$logf"
  log "[$tag] creating $n SealedSecrets in $NAMESPACES namespaces"
  create_s=$(create_objects "$dir" "$n")
  floor0=$(local_floor)
  log "[$tag] created in ${create_s}s; RSA floor now $floor0 ms; starting the controller"

  first="$ph-first.json"
  api_snap "$ph-api-first-0.json"
  measured_start first "$variant" "$n" "$first" "$logf"
  sleep "$SETTLE"
  hwm1=$(hwm_now "$first")
  log "[$tag] first run: $(jq -c '{healthz, synced, metric_n, synced_last, metric_last, hwm_kib, timed_out, exited}' "$first") VmHWM ${hwm1} KiB"
  stop_controller
  api_snap "$ph-api-first-1.json"
  floor1=$(local_floor)
  # Per object done: a run stopped at the TIMEOUT cap did only some (counted after the stop).
  per=$n
  if [[ $(jq -r '.synced == null' "$first") == true ]]; then
    per=$(kubectl get sealedsecrets -A -o json | jq '[[.items[] | select(any(.status.conditions[]?; .type == "Synced" and .status == "True"))] | length, 1] | max')
  fi
  api_delta "$ph-api-first-0.json" "$ph-api-first-1.json" "$per" "$ph-first-api.json" "$first:own_requests"
  log "[$tag] first run: $(jq -c '{per_object_total, per_object}' "$ph-first-api.json"); RSA floor after it $floor1 ms"

  restart="$ph-restart.json"
  echo '{"skipped": true}' >"$ph-restart-api.json"
  echo '{"skipped": true}' >"$ph-churn-api.json"
  if [[ $(jq -r '.synced != null' "$first") == true ]]; then
    sleep 2 # let the apiserver settle (watch fan-out of the last status writes)
    echo "----- restart -----" >>"$logf"
    api_snap "$ph-api-restart-0.json"
    measured_start restart "$variant" "$n" "$restart" "$logf"
    sleep "$SETTLE"
    hwm2=$(hwm_now "$restart")
    if [[ $variant == ours ]]; then
      rsa=$(metric_of sealed_secrets_controller_rsa_operations_total); rsa_src=$(js counter)
    else
      unseal=$(metric_of sealed_secrets_controller_unseal_requests_total)
      if [[ $unseal != null ]]; then rsa=$((unseal * 3)); fi
      rsa_src=$(js "estimate: unseal_requests_total x 3 items (each unseal decrypts every item; 1 key)")
    fi
    api_snap "$ph-api-restart-1.json"
    api_delta "$ph-api-restart-0.json" "$ph-api-restart-1.json" "$n" "$ph-restart-api.json" "$restart:own_requests"
    log "[$tag] restart: $(jq -c '{t_exec_after_spawn, healthz, metric_n, idle, metric_last, hwm_kib, timed_out, exited}' "$restart") VmHWM ${hwm2} KiB, RSA ops $rsa, $(jq -c '{per_object_total}' "$ph-restart-api.json")"
    if (( CHURN_COUNT > 0 )); then
      churn="$ph-churn.json"
      log "[$tag] churn: $CHURN_COUNT updates at $CHURN_RATE/s"
      echo "----- churn -----" >>"$logf"
      python3 "$HELPER" churn updates="$updates" count="$CHURN_COUNT" rate="$CHURN_RATE" \
        drain="$CHURN_DRAIN" pid="$CTL_PID" out="$churn"
      sleep 2
      hwm3=$(hwm_now)
      stop_controller
      api_snap "$ph-api-churn-1.json"
      api_delta "$ph-api-restart-1.json" "$ph-api-churn-1.json" "$CHURN_COUNT" "$ph-churn-api.json" "$churn:own_requests"
      log "[$tag] churn: $(jq -c '{achieved_rate, seen, missing, superseded, latency_ms}' "$churn"), $(jq -c '{per_object_total}' "$ph-churn-api.json")"
      churn="@$churn"
    else
      stop_controller
    fi
    if [[ $variant == ours && $KEY_CHANGE == 1 ]]; then
      echo "----- key change -----" >>"$logf"
      measured_start restart "$variant" "$n" "$ph-keychange-start.json" "$logf"
      sleep "$SETTLE"
      key_change "$n" "$ph-keychange.json" "$ph"
      log "[$tag] key change: $(jq -c 'del(.api)' "$ph-keychange.json")"
      keychange="@$ph-keychange.json"
    fi
  else
    log "[$tag] first run did not reach $n Synced within ${TIMEOUT}s: restart and churn skipped"
    echo '{"skipped": true}' >"$restart"
  fi

  check=$(verify)
  log "[$tag] after the runs: $check"
  record phase='"main"' controller="$(js "$variant")" n="$n" unrelated="$u" create_s="$create_s" \
    first="@$first" first_api="@$ph-first-api.json" hwm_first_kib="${hwm1:-0}" \
    restart="@$restart" restart_api="@$ph-restart-api.json" hwm_restart_kib="$hwm2" \
    restart_rsa_ops="$rsa" restart_rsa_source="$rsa_src" \
    churn="$churn" churn_api="@$ph-churn-api.json" hwm_churn_kib="$hwm3" keychange="$keychange" \
    rsa_ms_local="[$floor0,$floor1]" check="$(js "$check")"
  del_s=$(delete_namespaces)
  log "[$tag] namespaces deleted in ${del_s}s"
}

# --- phase 0: many keys ---------------------------------------------------------------------
# KEYS-1 extra active keys, all newer than the vector key (created later, and their NotBefore
# is now): a SealedSecret sealed with the vector certificate opens with the oldest key.
keys_phase() {
  local dir="$WORK/keys" i missing=() variant reason
  (( KEYS > 1 )) || return 0
  mkdir -p "$dir" "$DECOY_DIR"
  for (( i=1; i<KEYS; i++ )); do [[ -s $DECOY_DIR/decoy-$i.pem ]] || missing+=("$DECOY_DIR/decoy-$i.pem"); done
  if (( ${#missing[@]} )); then
    log "keys: generating ${#missing[@]} RSA-4096 keys into $DECOY_DIR (once; kept)"
    # shellcheck disable=SC2016 # expanded by the inner shell
    printf '%s\n' "${missing[@]}" | xargs -P 2 -I{} sh -c \
      'openssl genrsa -traditional -out "$1.tmp" 4096 2>/dev/null && mv "$1.tmp" "$1"' sh {}
  fi
  sleep 1 # creationTimestamp has a resolution of 1 s: the vector key stays strictly oldest
  for (( i=1; i<KEYS; i++ )); do
    openssl req -x509 -new -key "$DECOY_DIR/decoy-$i.pem" -days 3650 -subj "/CN=sealed-secrets-bench-decoy-$i" \
      -out "$dir/decoy-$i.crt" 2>/dev/null
    kubectl -n "$KEY_NS" create secret tls "sealed-secrets-keybench$i" --cert="$dir/decoy-$i.crt" \
      --key="$DECOY_DIR/decoy-$i.pem" --dry-run=client -o json |
      jq '.metadata.labels = {"sealedsecrets.bitnami.com/sealed-secrets-key": "active", "sealed-secrets-bench/decoy": "1"}' |
      kubectl create -f - >/dev/null
  done
  log "keys: $(kubectl -n "$KEY_NS" get secrets -l sealedsecrets.bitnami.com/sealed-secrets-key=active --no-headers | wc -l) active keys in $KEY_NS"
  make_inputs "$KEYS_N" "$dir/in"
  make_updates "$KEYS_N" 1 "$dir/reapply.jsonl" reapply
  for variant in $CONTROLLERS; do
    reason=$(skip_reason "$variant" "$KEYS_N")
    if [[ -n $reason ]]; then
      record phase='"keys"' controller="$(js "$variant")" n="$KEYS_N" keys="$KEYS" unrelated="$UNREL_HAVE" skipped="$(js "$reason")"
      continue
    fi
    run_keys_variant "$variant" "$dir"
  done
  kubectl -n "$KEY_NS" delete secrets -l sealed-secrets-bench/decoy=1 >/dev/null
}

run_keys_variant() { # VARIANT DIR
  local variant=$1 dir=$2 tag ph logf first rsa0=null rsa1=null rsa_re=null nkeys=null reapply=null check
  tag="keys-$variant"
  ph="$RESULTS/phases/$tag"
  logf="$RESULTS/logs/$tag.log"
  : >"$logf"
  log "[$tag] $KEYS keys, $KEYS_N SealedSecrets sealed with the vector (oldest) key"
  create_objects "$dir/in" "$KEYS_N" >/dev/null
  first="$ph-first.json"
  api_snap "$ph-api-0.json"
  measured_start first "$variant" "$KEYS_N" "$first" "$logf"
  if [[ $(jq -r '.synced != null' "$first") == true ]]; then
    sleep 2
    rsa0=$(metric_of sealed_secrets_controller_rsa_operations_total)
    nkeys=$(metric_of sealed_secrets_controller_keys)
    reapply="$ph-reapply.json"
    python3 "$HELPER" churn updates="$dir/reapply.jsonl" count=1 rate=1 drain="$CHURN_DRAIN" \
      pid="$CTL_PID" out="$reapply"
    sleep 1
    rsa1=$(metric_of sealed_secrets_controller_rsa_operations_total)
    if [[ $rsa0 != null && $rsa1 != null ]]; then rsa_re=$((rsa1 - rsa0)); fi
    log "[$tag] first: $(jq -c '{synced, cpu: .cpu_s.controller}' "$first"), RSA ops $rsa0 ($nkeys keys loaded); re-apply: $(jq -c '{seen, latency_ms: .latency_ms.max, cpu: .cpu_s.controller}' "$reapply"), RSA ops $rsa_re"
    reapply="@$reapply"
  else
    log "[$tag] not all Synced within ${TIMEOUT}s: re-apply skipped"
  fi
  stop_controller
  api_snap "$ph-api-1.json"
  if [[ $reapply == null ]]; then
    api_delta "$ph-api-0.json" "$ph-api-1.json" "$KEYS_N" "$ph-api.json" "$first:own_requests"
  else
    api_delta "$ph-api-0.json" "$ph-api-1.json" "$KEYS_N" "$ph-api.json" "$first:own_requests" "${reapply#@}:own_requests"
  fi
  check=$(verify)
  log "[$tag] after the runs: $check"
  record phase='"keys"' controller="$(js "$variant")" n="$KEYS_N" keys="$KEYS" unrelated="$UNREL_HAVE" \
    keys_loaded="$nkeys" first="@$first" api="@$ph-api.json" rsa_first="$rsa0" \
    reapply="$reapply" rsa_reapply="$rsa_re" check="$(js "$check")"
  delete_namespaces >/dev/null
}

# --- setup ----------------------------------------------------------------------------------
# The RSA floor: one RSA-4096 OAEP decryption with aws-lc-rs (the controller's RSA), one core,
# measured now, before the cluster is busy. OpenSSL's speed is recorded beside it.
RSA_MS=$("$RSA_FLOOR_BIN" "$RSA_SPEED_SECONDS")
[[ $RSA_MS =~ ^[0-9.]+$ ]] || { echo "rsa_floor gave no number: $RSA_MS" >&2; exit 1; }
RSA_SIGN_S=$(openssl speed -seconds "$RSA_SPEED_SECONDS" -mr rsa4096 2>/dev/null | awk -F: '/^\+F2:/ { print $4; exit }')
OPENSSL_MS=$(awk -v s="$RSA_SIGN_S" 'BEGIN { if (s > 0) printf "%.4f", 1000 / s; else print "?" }')
{
  echo "date: $(date -u +%FT%TZ)"
  echo "cpu: $(lscpu | sed -n 's/^Model name: *//p' | head -n1), $(nproc) cores; load average $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "memory: $(awk '/MemTotal/ { printf "%.1f GiB", $2/1048576 }' /proc/meminfo); kernel $(uname -r)"
  echo "rsa floor: $RSA_MS ms per RSA-4096 OAEP decryption (aws-lc-rs, benches: shared/examples/rsa_floor.rs, one core)"
  echo "openssl: $OPENSSL_MS ms per RSA-4096 private-key op ($RSA_SIGN_S/s, openssl speed -seconds $RSA_SPEED_SECONDS rsa4096, one core; $(openssl version))"
  echo "unsealer: $("$UNSEALER" --version) ($UNSEALER_REV)"
  echo "seal: $("$SEAL" --version 2>/dev/null | head -n1)"
  echo "bitnami: $("$BITNAMI_BIN" --version 2>&1 | head -n1)"
  echo "kube-apiserver: $(kube-apiserver --version 2>&1 | head -n1); etcd: $(etcd --version 2>&1 | head -n1)"
  echo "kubectl: $(kubectl version --client 2>/dev/null | head -n1)"
  echo "rustc: $(rustc --version 2>/dev/null)"
  echo "settings: N=[$N_LIST] unrelated=[$UNRELATED] per_ns=$UNRELATED_PER_NS namespaces=$NAMESPACES chunk=$CHUNK timeout=${TIMEOUT}s poll=${POLL}s settle=${SETTLE}s controllers=[$CONTROLLERS]"
  echo "settings: churn=${CHURN_RATE}/s x ${CHURN_SECONDS}s (drain ${CHURN_DRAIN}s) keys=$KEYS keys_n=$KEYS_N bitnami_max_n=${BITNAMI_MAX_N:-none} noqps_max_n=${NOQPS_MAX_N:-none}"
} | tee "$RESULTS/machine.txt" >&2

kubectl apply -f "$ROOT/manifests/crd.yaml" >/dev/null
kubectl wait --for=condition=Established crd/sealedsecrets.bitnami.com --timeout=60s >/dev/null
kubectl get namespace "$KEY_NS" >/dev/null 2>&1 || kubectl create namespace "$KEY_NS" >/dev/null
kubectl apply -f "$KEY_SECRET" >/dev/null
delete_namespaces >/dev/null

keys_phase

for u in $UNRELATED; do
  ensure_unrelated "$u"
  for n in $N_LIST; do
    if [[ ! -d $WORK/n$n ]]; then
      log "sealing $n Secrets (3 items each) and $CHURN_COUNT churn updates with $SEAL"
      make_inputs "$n" "$WORK/n$n"
      : >"$WORK/n$n/updates.jsonl"
      if (( CHURN_COUNT > 0 )); then make_updates "$n" "$CHURN_COUNT" "$WORK/n$n/updates.jsonl" "churn"; fi
    fi
    for variant in $CONTROLLERS; do
      reason=$(skip_reason "$variant" "$n")
      if [[ -n $reason ]]; then
        log "[$variant-u$u-n$n] skipped: $reason"
        record phase='"main"' controller="$(js "$variant")" n="$n" unrelated="$u" skipped="$(js "$reason")"
        continue
      fi
      run_variant "$variant" "$n" "$WORK/n$n" "$u" "$WORK/n$n/updates.jsonl"
    done
    # the key must still be the only one (no variant generated a key)
    keys=$(kubectl -n "$KEY_NS" get secrets -l sealedsecrets.bitnami.com/sealed-secrets-key --no-headers | wc -l)
    [[ $keys -eq 1 ]] || log "WARNING: $keys sealing keys in $KEY_NS (expected 1)"
  done
done

# --- the tables -----------------------------------------------------------------------------
# The floor again, now the cluster is idle: a machine that was slow for a while at the start
# would make every ratio to the floor look better. The lower of the two counts, and the rows
# are derived again with it.
RSA_MS_END=$("$RSA_FLOOR_BIN" "$RSA_SPEED_SECONDS")
echo "rsa floor at the end: $RSA_MS_END ms (at the start: $RSA_MS; the lower is used)" >>"$RESULTS/machine.txt"
if [[ $RSA_MS_END =~ ^[0-9.]+$ ]] && awk -v a="$RSA_MS_END" -v b="$RSA_MS" 'BEGIN { exit !(a < b) }'; then
  log "RSA floor at the end: $RSA_MS_END ms, lower than at the start ($RSA_MS): rows derived again with it"
  while read -r row; do
    python3 "$HELPER" derive rsa_ms="$RSA_MS_END" <<<"$row"
  done <"$RESULTS/results.jsonl" >"$RESULTS/results.jsonl.tmp"
  mv "$RESULTS/results.jsonl.tmp" "$RESULTS/results.jsonl"
fi
python3 "$HELPER" table "$RESULTS/results.jsonl" | tee "$RESULTS/table.md"
log "results in $RESULTS (results.jsonl, table.md, phases/ with the timelines and API deltas, logs/)"
