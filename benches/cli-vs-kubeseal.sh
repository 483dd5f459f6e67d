#!/usr/bin/env bash
# Whole-binary comparison of `seal` with the reference `kubeseal` (v0.36.6):
#   1. sealing one 5-item Secret, and a 1,000-Secret multi-document YAML file (--cert, -o yaml);
#   2. --recovery-unseal of one sealed Secret (1 item and 5 items) with 1 key and with 24 keys
#      (23 RSA-4096 decoys first, the right key last; and once with the right key first);
#   3. peak RSS of each (GNU time -v).
# Usage: benches/cli-vs-kubeseal.sh [RESULTS_DIR]
# Environment: SEAL, KUBESEAL (binaries), RUNS (hyperfine runs for the fast cases, default 20),
#   BATCH_RUNS (default 5), BATCH (documents, default 1000), DECOY_DIR (23 decoy keys, kept
#   between runs), NO_HYPERFINE=1 (time with a plain loop instead).
# Needs: cargo, hyperfine (else a python3 timing loop), GNU time (/usr/bin/time), openssl, python3.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CERT="$ROOT/shared/tests/vectors/sealing-cert.pem"
KEY="$ROOT/shared/tests/vectors/sealing-key.pem"
RUNS="${RUNS:-20}"
BATCH_RUNS="${BATCH_RUNS:-5}"
BATCH="${BATCH:-1000}"
DECOY_DIR="${DECOY_DIR:-$HOME/.cache/sealed-secrets-bench/decoys-rsa4096}"
RESULTS="${1:-$(mktemp -d /tmp/cli-vs-kubeseal.XXXXXX)}"
WORK="$(mktemp -d /tmp/cli-vs-kubeseal-work.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$RESULTS"

log() { printf '\n== %s\n' "$*" >&2; }

# --- binaries -------------------------------------------------------------------------------
if [[ -z "${SEAL:-}" ]]; then
    (cd "$ROOT" && cargo build --release -q -p seal-cli)
    SEAL="${CARGO_TARGET_DIR:-$ROOT/target}/release/seal"
fi
if [[ -z "${KUBESEAL:-}" ]]; then
    KUBESEAL="$(find "$HOME/.cache" /tmp/kubeseal-bin -name kubeseal -type f -perm -u+x 2>/dev/null | head -n1 || true)"
fi
if [[ -z "$KUBESEAL" ]]; then
    log "building kubeseal v0.36.6 with go install"
    GOBIN=/tmp/kubeseal-bin go install github.com/bitnami-labs/sealed-secrets/cmd/kubeseal@v0.36.6
    KUBESEAL=/tmp/kubeseal-bin/kubeseal
fi
"$KUBESEAL" --version | grep -q 'v0.36.6' || { echo "not kubeseal v0.36.6: $KUBESEAL" >&2; exit 1; }
# kubeseal must not look for a cluster: every input names its namespace and --cert is given.
export KUBECONFIG=/dev/null
HAVE_HYPERFINE=0
[[ -z "${NO_HYPERFINE:-}" ]] && command -v hyperfine >/dev/null && HAVE_HYPERFINE=1
[[ -x /usr/bin/time ]] || { echo "GNU time missing: apt-get install -y time" >&2; exit 1; }

# --- inputs ---------------------------------------------------------------------------------
# The same documents as secret_yaml() in shared/benches/seal.rs: five data items, 8 to 88 bytes.
python3 - "$WORK" "$BATCH" <<'EOF'
import base64, sys
work, batch = sys.argv[1], int(sys.argv[2])
b = lambda s: base64.b64encode(s.encode()).decode()
def doc(i):
    return (
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: app-%d\n  namespace: bench\ntype: Opaque\ndata:\n"
        "  username: %s\n  password: %s\n  api-token: %s\n  database-url: %s\n  config.json: %s\n"
        % (i, b("user%04d" % i), b("pw-%06d-Xq7!vR2#kL9@mN4$" % i),
           b("tok_%06d_0123456789abcdef0123456789ab" % i),
           b("postgres://user%04d:pw-%06d@db.bench.svc.cluster.local:5432/app" % (i, i)),
           b('{"replicas":3,"region":"eu-west-1","feature_flags":["a","b","c"],"id":%d,"debug":false}' % i)))
open(f"{work}/one.yaml", "w").write(doc(0))
open(f"{work}/batch.yaml", "w").write("".join("---\n" + doc(i) for i in range(batch)))
open(f"{work}/one-item.yaml", "w").write(
    "apiVersion: v1\nkind: Secret\nmetadata:\n  name: one\n  namespace: bench\ndata:\n"
    "  password: " + b("s3cr3t-password-1234567890") + "\n")
EOF

mkdir -p "$DECOY_DIR"
for i in $(seq -w 1 23); do
    if [[ ! -s "$DECOY_DIR/decoy-$i.pem" ]]; then
        log "generating decoy RSA-4096 key $i/23 (once, into $DECOY_DIR)"
        openssl genrsa -traditional -out "$DECOY_DIR/decoy-$i.pem.tmp" 4096 2>/dev/null
        mv "$DECOY_DIR/decoy-$i.pem.tmp" "$DECOY_DIR/decoy-$i.pem"
    fi
done
KEYS_1="$KEY"
KEYS_24="$(printf '%s,' "$DECOY_DIR"/decoy-*.pem)$KEY"
KEYS_24_FIRST="$KEY$(printf ',%s' "$DECOY_DIR"/decoy-*.pem)"

# Sealed inputs for the unseal runs, made by kubeseal so neither side unseals its own output.
"$KUBESEAL" --cert "$CERT" -o yaml <"$WORK/one-item.yaml" >"$WORK/sealed-1-item.yaml"
"$KUBESEAL" --cert "$CERT" -o yaml <"$WORK/one.yaml" >"$WORK/sealed-5-items.yaml"

# --- sanity: both agree on what they produce -------------------------------------------------
log "sanity checks"
for tool in "$SEAL" "$KUBESEAL"; do
    n=$("$tool" --cert "$CERT" -o yaml <"$WORK/batch.yaml" | grep -c '^kind: SealedSecret')
    [[ "$n" == "$BATCH" ]] || { echo "$tool sealed $n of $BATCH documents" >&2; exit 1; }
    for f in sealed-1-item sealed-5-items; do
        "$tool" --recovery-unseal --recovery-private-key "$KEYS_24" -o yaml <"$WORK/$f.yaml" \
            >"$WORK/$f.$(basename "$tool").out"
    done
done
# Cross-check: ours unseals kubeseal's sealing of one.yaml, and kubeseal unseals ours.
"$SEAL" --cert "$CERT" -o yaml <"$WORK/one.yaml" >"$WORK/ours-5-items.yaml"
"$KUBESEAL" --recovery-unseal --recovery-private-key "$KEY" -o json <"$WORK/ours-5-items.yaml" \
    >"$WORK/cross-1.json"
"$SEAL" --recovery-unseal --recovery-private-key "$KEY" -o json <"$WORK/sealed-5-items.yaml" \
    >"$WORK/cross-2.json"
python3 - "$WORK/cross-1.json" "$WORK/cross-2.json" <<'EOF'
import json, sys
a, b = (json.load(open(f))["data"] for f in sys.argv[1:])
assert a == b and len(a) == 5, (sorted(a), sorted(b))
EOF

# --- timings --------------------------------------------------------------------------------
# name|runs|command   ({TOOL} is replaced by each binary)
CASES=(
    "seal-one-5-items|$RUNS|{TOOL} --cert $CERT -o yaml -f $WORK/one.yaml"
    "seal-batch-$BATCH|$BATCH_RUNS|{TOOL} --cert $CERT -o yaml -f $WORK/batch.yaml"
    "unseal-1-item-1-key|$RUNS|{TOOL} --recovery-unseal --recovery-private-key $KEYS_1 -o yaml -f $WORK/sealed-1-item.yaml"
    "unseal-1-item-24-keys|$RUNS|{TOOL} --recovery-unseal --recovery-private-key $KEYS_24 -o yaml -f $WORK/sealed-1-item.yaml"
    "unseal-1-item-24-keys-right-first|$RUNS|{TOOL} --recovery-unseal --recovery-private-key $KEYS_24_FIRST -o yaml -f $WORK/sealed-1-item.yaml"
    "unseal-5-items-1-key|$RUNS|{TOOL} --recovery-unseal --recovery-private-key $KEYS_1 -o yaml -f $WORK/sealed-5-items.yaml"
    "unseal-5-items-24-keys|$RUNS|{TOOL} --recovery-unseal --recovery-private-key $KEYS_24 -o yaml -f $WORK/sealed-5-items.yaml"
)

# Mean, standard deviation, minimum and CPU time (user + system) in seconds, when hyperfine is
# missing.
loop_time() {
    local runs=$1
    shift
    python3 - "$runs" "$@" <<'EOF'
import resource, statistics, subprocess, sys, time
runs, cmd = int(sys.argv[1]), sys.argv[2:]
subprocess.run(cmd, stdout=subprocess.DEVNULL, check=True)
ts = []
cpu = lambda: (lambda r: r.ru_utime + r.ru_stime)(resource.getrusage(resource.RUSAGE_CHILDREN))
c0 = cpu()
for _ in range(runs):
    t = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, check=True)
    ts.append(time.perf_counter() - t)
print(f"{statistics.mean(ts):.6f} {statistics.stdev(ts) if len(ts) > 1 else 0.0:.6f} {min(ts):.6f} {(cpu() - c0) / runs:.6f}")
EOF
}

# Peak RSS in KiB: the median of three runs.
peak_rss() {
    local out
    out=$(for _ in 1 2 3; do
        /usr/bin/time -v "$@" 2>&1 >/dev/null | awk -F': ' '/Maximum resident set size/ {print $2}'
    done | sort -n | sed -n 2p)
    echo "$out"
}

SUMMARY="$RESULTS/summary.tsv"
printf 'case\ttool\tmean_ms\tstddev_ms\tmin_ms\tcpu_ms\tpeak_rss_kib\n' >"$SUMMARY"
for c in "${CASES[@]}"; do
    IFS='|' read -r name runs template <<<"$c"
    for tool in "$SEAL" "$KUBESEAL"; do
        label="$(basename "$tool")"
        cmd="${template//\{TOOL\}/$tool}"
        log "$name: $label"
        # shellcheck disable=SC2086
        if ((HAVE_HYPERFINE)); then
            hyperfine -N --warmup 2 --runs "$runs" --style basic \
                --export-json "$RESULTS/$name.$label.json" "$cmd" >&2
            read -r mean sd min cpu < <(python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["results"][0]; print(r["mean"], r["stddev"], r["min"], r["user"] + r["system"])' \
                "$RESULTS/$name.$label.json")
        else
            read -r mean sd min cpu < <(loop_time "$runs" $cmd)
        fi
        # shellcheck disable=SC2086
        rss=$(peak_rss $cmd)
        ms() { echo "$1*1000" | bc -l; }
        printf '%s\t%s\t%.2f\t%.2f\t%.2f\t%.2f\t%s\n' "$name" "$label" \
            "$(ms "$mean")" "$(ms "$sd")" "$(ms "$min")" "$(ms "$cpu")" "$rss" >>"$SUMMARY"
    done
done

log "results in $RESULTS"
column -t -s $'\t' "$SUMMARY"
