#!/usr/bin/env bash
# Controller benchmark under the real test control plane: our `unsealer` against the Bitnami
# sealed-secrets-controller v0.36.6, on N pre-existing SealedSecrets (3 items each).
#
#   tests/cluster/with-cluster.sh benches/controller.sh [N...]        (default N: 1000 5000)
#
# For each N and each controller variant, in fresh namespaces:
#   1. create N SealedSecrets (sealed with `seal` against the vector key) BEFORE the controller
#      runs, then start it and time: /healthz answering; all N SealedSecrets with Synced=True;
#      the counter sealed_secrets_controller_unseal_requests_total reaching N;
#   2. restart: SIGTERM, start again while everything is in sync, time /healthz and the counter
#      reaching N again (one count per object looked at);
#   3. peak RSS (VmHWM from /proc/PID/status, read just before each SIGTERM, which comes
#      SETTLE s after the run's end condition: the counter reaches N when the last object's
#      reconcile *starts*, so work is still in flight then) of both runs.
# Then delete the namespaces (the Secrets go with them) so the next controller does all the work.
#
# Variants (CONTROLLERS, default "ours bitnami bitnami-noqps"):
#   ours            target/release/unsealer --kubeconfig "$KUBECONFIG" (watches all namespaces)
#   bitnami         tests/cluster/run-bitnami-controller.sh --all-namespaces=true (as shipped:
#                   client-go rate limit --kubeclient-qps=5 --kubeclient-burst=10)
#   bitnami-noqps   the same with --kubeclient-qps=-1 (client-side rate limit off)
# All get --key-renew-period=0, so that no variant generates a key at start (the vector
# certificate's NotBefore would otherwise decide, depending on the date the bench is run).
#
# Environment: N_LIST (instead of args), NAMESPACES (default 4), CHUNK (objects per file, 500),
#   TIMEOUT (seconds per measured phase, default 900), POLL (seconds between SealedSecret
#   lists, default 1), SETTLE (seconds between a run's end condition and its SIGTERM, default
#   10), CONTROLLERS, RESULTS (dir, default a new /tmp/controller-bench.XXXXXX),
#   UNSEALER / SEAL (binaries; default: cargo build --release -p seal-cli -p unsealer),
#   UNSEALER_REV (a note on which revision a given UNSEALER was built from, for machine.txt).
# Needs: root (run-bitnami-controller.sh uses a mount namespace), python3, curl, jq.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
: "${KUBECONFIG:?run under tests/cluster/with-cluster.sh (KUBECONFIG is not set)}"
: "${TEST_CLUSTER_DIR:?run under tests/cluster/with-cluster.sh (TEST_CLUSTER_DIR is not set)}"
SERVER="$(cat "$TEST_CLUSTER_DIR/server-url")"
CERT="$ROOT/shared/tests/vectors/sealing-cert.pem"
KEY_SECRET="$ROOT/shared/tests/vectors/sealing-key-secret.yaml"
KEY_NS=kube-system # the vector key Secret's namespace, and both controllers' key namespace
NAMESPACES="${NAMESPACES:-4}"
CHUNK="${CHUNK:-500}"
TIMEOUT="${TIMEOUT:-900}"
POLL="${POLL:-1}"
SETTLE="${SETTLE:-10}"
CONTROLLERS="${CONTROLLERS:-ours bitnami bitnami-noqps}"
if (( $# )); then N_LIST="$*"; fi
N_LIST="${N_LIST:-1000 5000}"
RESULTS="${RESULTS:-$(mktemp -d /tmp/controller-bench.XXXXXX)}"
mkdir -p "$RESULTS/logs"
WORK="$(mktemp -d /tmp/controller-bench-work.XXXXXX)"

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# --- process bookkeeping: every controller we start is stopped by its PID ---------------------
CTL_PID=""
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
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# --- binaries -------------------------------------------------------------------------------
if [[ -z ${UNSEALER:-} || -z ${SEAL:-} ]]; then
  log "cargo build --release -p seal-cli -p unsealer"
  (cd "$ROOT" && cargo build --release -q -p seal-cli -p unsealer)
  UNSEALER_REV="git $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo ?);"
  UNSEALER_REV+=" uncommitted files under unsealer/ shared/ seal-cli/:"
  UNSEALER_REV+=" $(git -C "$ROOT" status --porcelain -- unsealer shared seal-cli 2>/dev/null | wc -l)"
fi
UNSEALER_REV="${UNSEALER_REV:-binary given in UNSEALER, revision unknown (set UNSEALER_REV)}"
UNSEALER="${UNSEALER:-${CARGO_TARGET_DIR:-$ROOT/target}/release/unsealer}"
SEAL="${SEAL:-${CARGO_TARGET_DIR:-$ROOT/target}/release/seal}"
BITNAMI_BIN="$(command -v sealed-secrets-controller)"
command -v jq >/dev/null || { echo "jq is missing" >&2; exit 1; }

# --- the poller: one Python process per measured phase ----------------------------------------
# Every 50 ms: is the PID alive, has it exec'd the controller binary yet (run-bitnami-controller.sh
# runs kubectl before it execs), VmHWM/VmRSS, and /healthz until it first answers. Every 250 ms:
# the unseal counter from /metrics. Every POLL s (phase "first" only): one list of all
# SealedSecrets as a server-side Table without objects (Synced is conditions[0].status in both
# CRDs' printer columns), counted here. Times are seconds since exec of the controller binary.
cat > "$WORK/poll.py" <<'EOF'
import json, os, re, ssl, sys, time, urllib.request

a = dict(arg.split("=", 1) for arg in sys.argv[1:])
n, mode = int(a["n"]), a["mode"]
timeout, poll = float(a["timeout"]), float(a["poll"])
exe_name, out, direct = a["exe"], a["out"], a["direct"] == "1"
cdir = os.environ["TEST_CLUSTER_DIR"]
ctx = ssl.create_default_context(cafile=f"{cdir}/ca.crt")
ctx.load_cert_chain(f"{cdir}/admin.crt", f"{cdir}/admin.key")
table_url = a["server"] + "/apis/bitnami.com/v1alpha1/sealedsecrets?includeObject=None"
TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io"
metric_re = re.compile(r"^sealed_secrets_controller_unseal_requests_total\s+(\S+)", re.M)

def get(url, accept=None, tls=False, to=2.0):
    req = urllib.request.Request(url, headers={"Accept": accept} if accept else {})
    with urllib.request.urlopen(req, timeout=to, context=ctx if tls else None) as r:
        return r.status, r.read()

def synced_count():
    _, body = get(table_url, TABLE, tls=True, to=30)
    t = json.loads(body)
    col = [c["name"] for c in t["columnDefinitions"]].index("Synced")
    rows = t.get("rows") or []
    return len(rows), sum(1 for r in rows if r["cells"][col] == "True")

CLK = os.sysconf("SC_CLK_TCK")
def cpu_of(p):  # utime + stime of one process, seconds
    try:
        f = open(f"/proc/{p}/stat").read().rsplit(")", 1)[1].split()
        return (int(f[11]) + int(f[12])) / CLK
    except (OSError, IndexError, ValueError):
        return None

def busy_all():  # busy CPU seconds of the whole machine (all cores), from /proc/stat
    f = [int(x) for x in open("/proc/stat").readline().split()[1:]]
    return (sum(f[:8]) - f[3] - f[4]) / CLK

def cluster_pids():  # this cluster's servers: their command lines name the run dir
    found = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            comm = open(f"/proc/{d}/comm").read().strip()
            if comm in ("kube-apiserver", "etcd", "kube-controller") and \
                    cdir in open(f"/proc/{d}/cmdline").read():
                found[{"kube-controller": "kcm"}.get(comm, comm)] = int(d)
        except OSError:
            pass
    return found

def cpu_snapshot():
    snap = {k: cpu_of(v) for k, v in servers.items()}
    snap["controller"] = cpu_of(pid)
    snap["poller"] = sum(os.times()[:2])
    snap["all"] = busy_all()
    snap["wall"] = time.time()
    return snap

def proc_status():
    try:
        with open(f"/proc/{pid}/status") as f:
            d = dict(l.split(":", 1) for l in f if ":" in l)
        return int(d["VmHWM"].split()[0]), int(d["VmRSS"].split()[0])
    except (OSError, KeyError, ValueError):
        return None

# Ready before the controller starts: the shell waits for this file, starts the controller,
# then writes "PID SPAWN_TIME" into the pid file.
servers = cluster_pids()
open(a["ready"], "w").close()
while not os.path.exists(a["pidfile"]):
    time.sleep(0.005)
pid, t_spawn = open(a["pidfile"]).read().split()
pid, t_spawn = int(pid), float(t_spawn)
r = {"mode": mode, "n": n, "t_exec_after_spawn": None, "healthz": None, "synced": None, "idle": None,
     "metric_n": None, "metric_last": None, "synced_last": None, "listed_last": None,
     "hwm_kib": 0, "exited": False, "timed_out": False, "timeout_s": timeout, "timeline": []}
t_exec = None
last_metric = last_list = 0.0
while True:
    now = time.time()
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        r["exited"] = True
        break
    if t_exec is None:
        if direct:  # started as the binary itself: no exec to wait for
            t_exec = t_spawn
        else:
            try:
                if os.path.basename(os.readlink(f"/proc/{pid}/exe")) == exe_name:
                    t_exec = now
            except OSError:
                pass
        if t_exec is not None:
            r["t_exec_after_spawn"] = round(t_exec - t_spawn, 3)
            cpu0 = cpu_snapshot()
            if direct:
                cpu0["controller"] = 0.0
    if t_exec is not None:
        el = now - t_exec
        st = proc_status()
        if st:
            r["hwm_kib"] = max(r["hwm_kib"], st[0])
        if r["healthz"] is None:
            try:
                if get(a["healthz"], to=0.5)[0] == 200:  # timed at the answer, not the ask
                    r["healthz"] = round(time.time() - t_exec, 3)
            except Exception:
                pass
        if now - last_metric >= 0.25:
            last_metric = now
            try:
                m = metric_re.search(get(a["metrics"], to=5)[1].decode())
                if m:
                    r["metric_last"] = int(float(m.group(1)))
                    if r["metric_n"] is None and r["metric_last"] >= n:
                        r["metric_n"] = round(time.time() - t_exec, 3)
            except Exception:
                pass
        if mode == "first" and r["synced"] is None and now - last_list >= poll:
            last_list = now
            try:
                listed, synced = synced_count()
                r["listed_last"], r["synced_last"] = listed, synced
                if synced >= n:
                    r["synced"] = round(time.time() - t_exec, 3)
            except Exception as e:
                print(f"poll: list failed: {e}", file=sys.stderr)
            r["timeline"].append([round(el, 1), r["synced_last"], r["metric_last"],
                                  st[1] if st else None])
        elif mode == "restart" and now - last_list >= 5:
            last_list = now
            r["timeline"].append([round(el, 1), None, r["metric_last"], st[1] if st else None])
        done = (r["synced"] is not None) if mode == "first" else \
            (r["healthz"] is not None and r["metric_n"] is not None)
        if done and mode == "restart":
            # The counter counts reconciles *started*. The pass is over when the controller has
            # gone idle: < 20 ms CPU in a 1 s window, with no requests from here meanwhile.
            hist = [(time.time(), cpu_of(pid))]
            while hist[-1][1] is not None and hist[-1][0] - t_exec < timeout:
                time.sleep(0.1)
                hist.append((time.time(), cpu_of(pid)))
                st = proc_status()
                if st:
                    r["hwm_kib"] = max(r["hwm_kib"], st[0])
                before = [h for h in hist if h[0] <= hist[-1][0] - 1.0]
                if before and hist[-1][1] is not None and hist[-1][1] - before[-1][1] < 0.02:
                    r["idle"] = round(before[-1][0] - t_exec, 3)
                    break
        if done or el > timeout:
            r["timed_out"] = not done
            # CPU seconds used during the phase (exec .. end condition, or .. idle on restart),
            # per process and in all;
            # "others" is whatever else ran on the machine meanwhile (other builds, benches).
            cpu1 = cpu_snapshot()
            d = {k: round(cpu1[k] - cpu0[k], 2) for k in cpu1
                 if cpu1.get(k) is not None and cpu0.get(k) is not None}
            d["others"] = round(d["all"] - sum(v for k, v in d.items() if k not in ("all", "wall")), 2)
            r["cpu_s"] = d
            break
    elif now - t_spawn > 120:
        r["timed_out"] = True
        break
    time.sleep(0.05)
json.dump(r, open(out, "w"))
EOF

# --- inputs: N Secrets with 3 items, round-robin over the namespaces, sealed in chunks ----------
make_inputs() { # N DIR
  local n=$1 dir=$2 f
  mkdir -p "$dir"
  python3 - "$n" "$NAMESPACES" "$CHUNK" "$dir" <<'EOF'
import base64, sys
n, k, chunk, d = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
b = lambda s: base64.b64encode(s.encode()).decode()
for c in range(0, n, chunk):
    with open(f"{d}/in-{c // chunk:04d}.yaml", "w") as f:
        for i in range(c, min(n, c + chunk)):
            f.write("---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: s-%05d\n  namespace: bench-%d\n"
                    "type: Opaque\ndata:\n  username: %s\n  password: %s\n  config.json: %s\n"
                    % (i, i % k, b("user%05d" % i), b("pw-%06d-Xq7!vR2#kL9@mN4$" % i),
                       b('{"replicas":3,"region":"eu-west-1","id":%d,"debug":false}' % i)))
EOF
  for f in "$dir"/in-*.yaml; do
    "$SEAL" --cert "$CERT" -o yaml <"$f" >"${f/in-/sealed-}"
  done
}

namespaces() { local i; for (( i=0; i<NAMESPACES; i++ )); do echo "bench-$i"; done; }

create_objects() { # DIR N — namespaces, then the sealed chunks (2 kubectl at a time)
  local dir=$1 n=$2 t0 t1 have
  for ns in $(namespaces); do kubectl create namespace "$ns" >/dev/null; done
  t0=$(date +%s.%N)
  printf '%s\n' "$dir"/sealed-*.yaml | xargs -P 2 -I{} kubectl create -f {} -o name >/dev/null
  t1=$(date +%s.%N)
  have=$(kubectl get sealedsecrets -A --no-headers 2>/dev/null | wc -l)
  [[ $have -eq $n ]] || { log "ERROR: created $have SealedSecrets, expected $n"; exit 1; }
  awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }'
}

delete_namespaces() {
  local t0 t1
  t0=$(date +%s.%N)
  # shellcheck disable=SC2046
  kubectl delete namespace $(namespaces) --ignore-not-found --wait=true --timeout=900s >/dev/null
  t1=$(date +%s.%N)
  awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }'
}

# Sanity after a run: Secrets in the bench namespaces, SealedSecrets with a Synced=True
# condition (full objects this time, any position), and how many Secrets carry an owner.
verify() { # N -> "secrets=.. synced=.. owned=.."
  local secrets synced owned
  secrets=$(kubectl get secrets -A -o json | jq '[.items[] | select(.metadata.namespace | startswith("bench-"))] | length')
  owned=$(kubectl get secrets -A -o json | jq '[.items[] | select(.metadata.namespace | startswith("bench-")) | select(any(.metadata.ownerReferences[]?; .kind == "SealedSecret"))] | length')
  synced=$(kubectl get sealedsecrets -A -o json | jq '[.items[] | select(any(.status.conditions[]?; .type == "Synced" and .status == "True"))] | length')
  echo "secrets=$secrets synced=$synced owned=$owned"
}

# --- controllers ----------------------------------------------------------------------------
PORT=""; MPORT=""; T_SPAWN=""
exe_of() { case $1 in ours) echo unsealer ;; *) echo sealed-secrets-controller ;; esac; }
start_controller() { # VARIANT LOGFILE (uses PORT, MPORT) -> sets CTL_PID, T_SPAWN
  local variant=$1 logf=$2
  T_SPAWN=$(date +%s.%N)
  case $variant in
    ours)
      NO_COLOR=1 "$UNSEALER" --kubeconfig "$KUBECONFIG" --namespace "$KEY_NS" --key-renew-period=0 \
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

# Starts the poller, then (once it is ready) the controller, then waits for the poller.
measured_start() { # MODE VARIANT N OUT LOGFILE
  local mode=$1 variant=$2 n=$3 out=$4 logf=$5 poller direct=0 n_wait
  rm -f "$WORK/ready" "$WORK/pidfile"
  PORT=$(free_port); MPORT=$(free_port)
  [[ $variant == ours ]] && direct=1
  python3 "$WORK/poll.py" n="$n" mode="$mode" timeout="$TIMEOUT" poll="$POLL" direct="$direct" \
    exe="$(exe_of "$variant")" out="$out" server="$SERVER" ready="$WORK/ready" pidfile="$WORK/pidfile" \
    healthz="http://127.0.0.1:$PORT/healthz" metrics="http://127.0.0.1:$MPORT/metrics" &
  poller=$!
  for (( n_wait=0; n_wait<600; n_wait++ )); do [[ -e $WORK/ready ]] && break; sleep 0.05; done
  start_controller "$variant" "$logf"
  echo "$CTL_PID $T_SPAWN" >"$WORK/pidfile.tmp"
  mv "$WORK/pidfile.tmp" "$WORK/pidfile"
  wait "$poller"
}

# VmHWM just before the SIGTERM, or the poller's last sample if the process is gone.
hwm_now() { # POLLER_JSON
  local h
  h=$(awk '/^VmHWM:/ { print $2 }' "/proc/$CTL_PID/status" 2>/dev/null || true)
  jq --argjson h "${h:-0}" '[.hwm_kib, $h] | max' "$1"
}

# One JSON line per run into results.jsonl.
record() { # VARIANT N KEY=VALUE... (values are JSON)
  local variant=$1 n=$2 kv json
  shift 2
  json=$(jq -cn --arg c "$variant" --argjson n "$n" '{controller: $c, n: $n}')
  for kv in "$@"; do
    json=$(jq -c --arg k "${kv%%=*}" --argjson v "${kv#*=}" '. + {($k): $v}' <<<"$json")
  done
  echo "$json" >>"$RESULTS/results.jsonl"
}

run_variant() { # VARIANT N DIR
  local variant=$1 n=$2 dir=$3 create_s hwm1 hwm2 first restart check del_s logf
  logf="$RESULTS/logs/$variant-$n.log"
  : >"$logf"
  log "[$variant N=$n] creating $n SealedSecrets in $NAMESPACES namespaces"
  create_s=$(create_objects "$dir" "$n")
  log "[$variant N=$n] created in ${create_s}s; starting the controller"

  first="$RESULTS/$variant-$n-first.json"
  measured_start first "$variant" "$n" "$first" "$logf"
  sleep "$SETTLE"
  hwm1=$(hwm_now "$first")
  log "[$variant N=$n] first run: $(jq -c '{healthz, synced, metric_n, synced_last, metric_last, hwm_kib, timed_out, exited}' "$first") VmHWM ${hwm1} KiB"
  stop_pid "$CTL_PID"; CTL_PID=""

  restart="$RESULTS/$variant-$n-restart.json"
  if [[ $(jq -r '.synced != null' "$first") == true ]]; then
    sleep 2 # let the apiserver settle (watch fan-out of the last status writes)
    echo "----- restart -----" >>"$logf"
    measured_start restart "$variant" "$n" "$restart" "$logf"
    sleep "$SETTLE"
    hwm2=$(hwm_now "$restart")
    log "[$variant N=$n] restart: $(jq -c '{t_exec_after_spawn, healthz, metric_n, idle, metric_last, hwm_kib, timed_out, exited}' "$restart") VmHWM ${hwm2} KiB"
    stop_pid "$CTL_PID"; CTL_PID=""
  else
    log "[$variant N=$n] first run did not reach $n Synced within ${TIMEOUT}s: restart skipped"
    echo '{"skipped": true}' >"$restart"
    hwm2=null
  fi

  check=$(verify "$n")
  log "[$variant N=$n] after the runs: $check"
  record "$variant" "$n" "create_s=$create_s" "first=$(jq -c 'del(.timeline)' "$first")" \
    "restart=$(jq -c 'del(.timeline)' "$restart")" "hwm_first_kib=${hwm1:-0}" "hwm_restart_kib=${hwm2}" \
    "check=$(jq -cn --arg s "$check" '$s')"
  del_s=$(delete_namespaces)
  log "[$variant N=$n] namespaces deleted in ${del_s}s"
}

# --- setup ----------------------------------------------------------------------------------
{
  echo "date: $(date -u +%FT%TZ)"
  echo "cpu: $(lscpu | sed -n 's/^Model name: *//p' | head -n1), $(nproc) cores"
  echo "memory: $(awk '/MemTotal/ { printf "%.1f GiB", $2/1048576 }' /proc/meminfo); kernel $(uname -r)"
  echo "unsealer: $("$UNSEALER" --version) ($UNSEALER_REV)"
  echo "seal: $("$SEAL" --version 2>/dev/null | head -n1)"
  echo "bitnami: $("$BITNAMI_BIN" --version 2>&1 | head -n1)"
  echo "kube-apiserver: $(kube-apiserver --version 2>&1 | head -n1); etcd: $(etcd --version 2>&1 | head -n1)"
  echo "kubectl: $(kubectl version --client 2>/dev/null | head -n1)"
  echo "rustc: $(rustc --version 2>/dev/null)"
  echo "settings: N=[$N_LIST] namespaces=$NAMESPACES chunk=$CHUNK timeout=${TIMEOUT}s poll=${POLL}s settle=${SETTLE}s controllers=[$CONTROLLERS]"
} | tee "$RESULTS/machine.txt" >&2

kubectl apply -f "$ROOT/manifests/crd.yaml" >/dev/null
kubectl wait --for=condition=Established crd/sealedsecrets.bitnami.com --timeout=60s >/dev/null
kubectl get namespace "$KEY_NS" >/dev/null 2>&1 || kubectl create namespace "$KEY_NS" >/dev/null
kubectl apply -f "$KEY_SECRET" >/dev/null
delete_namespaces >/dev/null

for n in $N_LIST; do
  log "sealing $n Secrets (3 items each) with $SEAL"
  make_inputs "$n" "$WORK/n$n"
  for variant in $CONTROLLERS; do
    run_variant "$variant" "$n" "$WORK/n$n"
  done
  # the key must still be the only one (no variant generated a key)
  keys=$(kubectl -n "$KEY_NS" get secrets -l sealedsecrets.bitnami.com/sealed-secrets-key --no-headers | wc -l)
  [[ $keys -eq 1 ]] || log "WARNING: $keys sealing keys in $KEY_NS (expected 1)"
done

# --- the table ------------------------------------------------------------------------------
jq -rs '
  def s: if . == null then "—" elif . < 10 then (. * 100 | round / 100 | tostring) + " s" else (. * 10 | round / 10 | tostring) + " s" end;
  def mib: if . == null or . == 0 then "—" else ((. / 1024 * 10 | round / 10) | tostring) + " MiB" end;
  "| controller | N | first: /healthz | first: all Synced | first: counter = N | peak RSS first | restart: /healthz | restart: counter = N | restart: idle again | peak RSS restart |",
  "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
  (.[] | "| \(.controller) | \(.n) | \(.first.healthz | s) | \(if .first.synced == null then "not reached in \(.first.timeout_s) s (\(.first.synced_last)/\(.n) Synced)" else (.first.synced | s) end) | \(.first.metric_n | s) | \(.hwm_first_kib | mib) | \(.restart.healthz | s) | \(if .restart.skipped then "skipped" else (.restart.metric_n | s) end) | \(.restart.idle | s) | \(.hwm_restart_kib | mib) |")
' "$RESULTS/results.jsonl" | tee "$RESULTS/table.md"
echo | tee -a "$RESULTS/table.md"
# CPU seconds during each measured phase: the controller, the apiserver + etcd, and everything
# else on the machine (the poller and the controller-manager excluded).
jq -rs '
  def c: if . == null then "—" else (.controller | tostring) + " / " + (((.["kube-apiserver"] // 0) + (.etcd // 0)) * 100 | round / 100 | tostring) + " / " + (.others | tostring) end;
  def w: if . == null then "—" else (.wall * 10 | round / 10 | tostring) end;
  "| controller | N | first: wall s | first: CPU s controller / apiserver+etcd / others | restart: wall s | restart: CPU s controller / apiserver+etcd / others |",
  "| --- | ---: | ---: | --- | ---: | --- |",
  (.[] | "| \(.controller) | \(.n) | \(.first.cpu_s | w) | \(.first.cpu_s | c) | \(.restart.cpu_s | w) | \(.restart.cpu_s | c) |")
' "$RESULTS/results.jsonl" | tee -a "$RESULTS/table.md"
log "results in $RESULTS (results.jsonl, *-first.json with the timelines, logs/)"
