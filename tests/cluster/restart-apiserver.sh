#!/usr/bin/env bash
# Usage: tests/cluster/restart-apiserver.sh [DOWN_SECONDS]
#
# For tests run under with-cluster.sh (TEST_CLUSTER_DIR set): kills the kube-apiserver with
# SIGKILL (by the PID with-cluster.sh recorded), waits DOWN_SECONDS (default 0), starts it
# again with the same command line, in its own session, appending to logs/kube-apiserver.log,
# records the new PID (with-cluster.sh stops it at the end), and waits for /readyz.
# Prints one line on stdout: the seconds since the epoch at which /readyz answered.
set -euo pipefail
RUN=${TEST_CLUSTER_DIR:?run under tests/cluster/with-cluster.sh}
DOWN=${1:-0}
pid=$(cat "$RUN/kube-apiserver.pid")
kill -KILL "$pid" 2>/dev/null || true
for (( n=0; n<100; n++ )); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$pid" 2>/dev/null; then echo "restart-apiserver: pid $pid did not die" >&2; exit 1; fi
sleep "$DOWN"
mapfile -d '' cmd < "$RUN/kube-apiserver.cmd"
setsid "${cmd[@]}" >>"$RUN/logs/kube-apiserver.log" 2>&1 < /dev/null &
echo $! > "$RUN/kube-apiserver.pid"
server=$(cat "$RUN/server-url" 2>/dev/null || echo "$TEST_CLUSTER_SERVER")
for (( n=0; n<600; n++ )); do
  if curl -sf --cacert "$RUN/ca.crt" --cert "$RUN/admin.crt" --key "$RUN/admin.key" \
      "$server/readyz" >/dev/null 2>&1; then
    date +%s.%N
    exit 0
  fi
  kill -0 "$(cat "$RUN/kube-apiserver.pid")" 2>/dev/null || { echo "restart-apiserver: the new apiserver exited" >&2; exit 1; }
  sleep 0.2
done
echo "restart-apiserver: /readyz did not answer within 120 s" >&2
exit 1
