#!/usr/bin/env bash
# The install tests, on one cluster: the image (tests/install/image.sh) and the Helm chart and
# kustomize base (tests/install/chart.sh). Build the image first:
#   image/build.sh && tests/cluster/with-cluster.sh tests/install/run.sh
# Prints "install: N passed, N failed" last; exits non-zero if either script fails.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
rc=0 passed=0 failed=0
for t in image chart; do
  "$here/$t.sh" 2>&1 | tee "/tmp/install-$t.$$.log" || rc=1
  line=$(grep -E "^$t: [0-9]+ passed, [0-9]+ failed$" "/tmp/install-$t.$$.log" | tail -1)
  rm -f "/tmp/install-$t.$$.log"
  [[ -n $line ]] || { echo "$t.sh stopped before its summary" >&2; rc=1; failed=$((failed + 1)); continue; }
  read -r _ p _ f _ <<<"$line"
  passed=$((passed + p)) failed=$((failed + f))
done
echo "install: $passed passed, $failed failed"
exit "$rc"
