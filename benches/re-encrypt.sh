#!/usr/bin/env bash
# Usage: benches/re-encrypt.sh [RESULTS_DIR]
#
# Re-encrypting a repository after a key rotation, side by side in one run on one cluster:
#   ours       `seal re-encrypt DIR` (one call) against our unsealer
#   reference  `kubeseal --re-encrypt -f FILE` once per file (the reference's way) against the
#              reference controller v0.36.6
# on N (default 1,000) SealedSecret files of 3 items each, sealed with an older key (the
# vectors' key, installed in kube-system beside each controller's own newer key). For each: the
# wall time, the API server's requests (the sum of apiserver_request_total, before and after),
# the files changed; then the same again on the result (a second run), files changed. Both
# controllers run with --rate-limit/--rate-limit-burst raised to 100000: at their default of 2
# a second, both would take N/2 seconds and the numbers would only show that limit.
#
# Prints a JSON line per row and a Markdown table (also written to RESULTS_DIR, default a temp
# dir). Runs in a fresh test cluster (tests/cluster/with-cluster.sh); needs root, like it.
# N, RUNS are environment knobs. Builds release binaries (cargo build --release).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
N=${N:-1000}
log() { echo "re-encrypt-bench: $*" >&2; }

# --- run by reference-suite.sh --exec (no arguments, SEALING_CLI set), a controller up: one row ---
if [[ $# -eq 0 && -n ${SEALING_CLI:-} ]]; then
  : "${SEALING_CLI:?} ${PAIR:?} ${KUBECONFIG:?} ${BENCH_DIR:?}"
  kubectl=("${K8S_TEST_BIN:?}/kubectl" --kubeconfig "$KUBECONFIG")
  requests() {
    "${kubectl[@]}" get --raw /metrics |
      awk '/^apiserver_request_total\{/ { n += $NF } END { printf "%d\n", n }'
  }
  changed() { # DIR: files that differ from the corpus
    local n=0 f
    for f in "$BENCH_DIR/corpus"/*.yaml; do
      cmp -s "$f" "$1/$(basename "$f")" || n=$((n + 1))
    done
    echo "$n"
  }
  run_once() { # DIR
    case $PAIR in
      ours) "$SEALING_CLI" re-encrypt --controller-namespace kube-system "$1" 2>/dev/null ;;
      reference)
        local f
        for f in "$1"/*.yaml; do
          "$SEALING_CLI" --re-encrypt --controller-namespace kube-system -f "$f" >/dev/null
        done ;;
    esac
  }
  work="$BENCH_DIR/work-$PAIR"
  rm -rf "$work"; cp -r "$BENCH_DIR/corpus" "$work"
  r0=$(requests); t0=$(date +%s.%N)
  run_once "$work"
  t1=$(date +%s.%N); r1=$(requests)
  first_changed=$(changed "$work")
  rm -rf "$work.after1"; cp -r "$work" "$work.after1"
  t2=$(date +%s.%N)
  run_once "$work"
  t3=$(date +%s.%N)
  second_changed=0
  for f in "$work"/*.yaml; do
    cmp -s "$f" "$work.after1/$(basename "$f")" || second_changed=$((second_changed + 1))
  done
  printf '{"tool":"%s","objects":%d,"items":%d,"seconds":%.2f,"api_requests":%d,"files_changed":%d,"second_run_seconds":%.2f,"second_run_files_changed":%d}\n' \
    "$PAIR" "$N" "$((N * 3))" "$(python3 -c "print($t1 - $t0)")" "$((r1 - r0))" "$first_changed" \
    "$(python3 -c "print($t3 - $t2)")" "$second_changed" | tee -a "$BENCH_DIR/rows.jsonl"
  exit 0
fi

# --- inside the cluster: the corpus, then one pair after the other ---
if [[ ${1:-} == --in-cluster ]]; then
  : "${BENCH_DIR:?}"
  kubectl=("${K8S_TEST_BIN:?}/kubectl" --kubeconfig "${KUBECONFIG:?}")
  "${kubectl[@]}" get namespace kube-system >/dev/null
  # The older key both controllers load beside their own.
  sed -e 's/^  name: .*/  name: sealed-secrets-key-older/' -e '/^  namespace:/d' \
    "$REPO/shared/tests/vectors/sealing-key-secret.yaml" |
    "${kubectl[@]}" -n kube-system apply -f - >&2
  # A key cutoff of now makes the first controller add a key newer than the older one; the
  # second finds that key and seals with it too, so both re-encrypt every value to the same key.
  cutoff=$(date -u '+%a, %d %b %Y %H:%M:%S %z')
  for pair in ours reference; do
    "$REPO/tests/compat/reference-suite.sh" --pair "$pair" \
      --controller-arg=--rate-limit=100000 --controller-arg=--rate-limit-burst=100000 \
      "--controller-arg=--key-cutoff-time=$cutoff" \
      --exec "$HERE/re-encrypt.sh"
  done
  exit 0
fi

# --- outside: binaries, corpus, a fresh cluster ---
RESULTS=${1:-$(mktemp -d "${TMPDIR:-/tmp}/re-encrypt-bench.XXXXXX")}
mkdir -p "$RESULTS"
RESULTS=$(cd "$RESULTS" && pwd)
log "building release binaries ..."
(cd "$REPO" && cargo build -q --release --locked --bin seal --bin unsealer)
TARGET=${CARGO_TARGET_DIR:-$REPO/target}
export SEAL_BIN="$TARGET/release/seal" UNSEALER_BIN="$TARGET/release/unsealer"
export BENCH_DIR="$RESULTS"
rm -f "$RESULTS/rows.jsonl"
log "sealing $N SealedSecrets of 3 items with the older key ..."
mkdir -p "$RESULTS/corpus"
python3 - "$N" > "$RESULTS/secrets.yaml" <<'EOF'
import sys
for i in range(int(sys.argv[1])):
    print(f"---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: app-{i}\n  namespace: bench\n"
          f"stringData:\n  username: user-{i}\n  password: pw-{i}-s3cret\n  url: postgres://db-{i}/app\n")
EOF
"$SEAL_BIN" --cert "$REPO/shared/tests/vectors/sealing-cert.pem" -o yaml \
  < "$RESULTS/secrets.yaml" > "$RESULTS/sealed.yaml"
python3 - "$RESULTS/sealed.yaml" "$RESULTS/corpus" <<'EOF'
import sys, pathlib
docs = [d for d in pathlib.Path(sys.argv[1]).read_text().split("---\n") if d.strip()]
for i, d in enumerate(docs):
    pathlib.Path(sys.argv[2], f"app-{i}.yaml").write_text("# app %d\n---\n%s" % (i, d))
EOF
rm -f "$RESULTS/secrets.yaml" "$RESULTS/sealed.yaml"
"$REPO/tests/cluster/with-cluster.sh" "$HERE/re-encrypt.sh" --in-cluster

python3 - "$RESULTS/rows.jsonl" <<'EOF' | tee "$RESULTS/table.md"
import json, sys
rows = {r["tool"]: r for r in map(json.loads, open(sys.argv[1]))}
o, r = rows["ours"], rows["reference"]
print(f"| {o['objects']:,} SealedSecrets, 3 items each | `seal re-encrypt DIR` (ours) | {o['objects']:,} x `kubeseal --re-encrypt -f` (reference) | ratio |")
print("| --- | ---: | ---: | ---: |")
print(f"| wall time | {o['seconds']:.1f} s | {r['seconds']:.1f} s | {r['seconds'] / o['seconds']:.1f}x faster |")
print(f"| API server requests | {o['api_requests']:,} | {r['api_requests']:,} | {r['api_requests'] / max(o['api_requests'], 1):.1f}x fewer |")
print(f"| files changed | {o['files_changed']:,} | {r['files_changed']:,} | |")
print(f"| second run: wall time | {o['second_run_seconds']:.1f} s | {r['second_run_seconds']:.1f} s | |")
print(f"| second run: files changed | {o['second_run_files_changed']:,} | {r['second_run_files_changed']:,} | |")
EOF
