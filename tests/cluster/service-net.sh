# shellcheck shell=bash
# shellcheck disable=SC2034 # SERVICE_IP is read by with-cluster.sh
# Sourced by with-cluster.sh: an address of its own for controllers under test, so that the API
# server's service proxy (/api/v1/namespaces/NS/services/http:NAME:PORT/proxy/...) can reach
# them. The API server proxies only to EndpointSlice addresses, and endpoint validation refuses
# loopback (127.0.0.0/8, ::1) and link-local (169.254.0.0/16, fe80::/10) addresses, so a
# controller on 127.0.0.1 cannot be a Service endpoint.
#
# service_net_up makes, for this with-cluster.sh run only:
#   * a network namespace  sealed-secrets-test-<pid>-<start time of with-cluster.sh>
#   * a veth pair: sst<pid> stays in the host namespace, its peer sstp<pid> lives in that
#     network namespace (so the host sees a single new interface, and deleting the namespace
#     deletes the pair),
#   * the address 198.51.100.N/32 on sst<pid>, N picked under a lock so that concurrent runs
#     get different ones (IPv6 is switched off on sst<pid>: no link-local address, no chatter).
# Address choice: 198.51.100.0/24 is TEST-NET-2 (RFC 5737), reserved for documentation and
# never routed on the Internet. 192.0.2.0/24 (TEST-NET-1) is not used because some hosts
# (this project's machine among them) number their real uplink from it. A /32 on our own
# interface makes the address local: the kernel delivers traffic to it through its local
# routing table, so nothing addressed to it leaves the host, and no route for the rest of the
# /24 is added or needed. Servers bind to exactly this address (never 0.0.0.0).
#
# service_net_down deletes the namespace (and with it the veth pair and the address). It is
# called from with-cluster.sh's EXIT trap, which also runs on failure, INT and TERM. A run that
# was killed with SIGKILL cannot clean up; the next service_net_up deletes such leftovers: every
# sealed-secrets-test-<pid>-<start> namespace whose process is gone (or whose PID now belongs to
# a process that started at another time) is removed.
#
# Sets SERVICE_IP on success. If the namespace cannot be made (no `ip`, no CAP_NET_ADMIN), it
# prints why and returns 1; with-cluster.sh then runs without TEST_CLUSTER_SERVICE_IP, and the
# tests that need it fail saying so.

SERVICE_NET_PREFIX=198.51.100 # TEST-NET-2, see above
SERVICE_NET_LOCK=/run/sealed-secrets-test-net.lock
SERVICE_NET_NS=""
SERVICE_NET_IF=""
SERVICE_IP=""

# Start time (clock ticks since boot, /proc/PID/stat field 22) of PID, or nothing.
service_net_starttime() {
  local stat rest
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
  rest=${stat##*) } # the command name, in parentheses, may contain spaces
  # shellcheck disable=SC2086 # split on purpose
  set -- $rest
  echo "${20}"
}

service_net_sweep() {
  local ns pid start
  while read -r ns _; do
    [[ $ns =~ ^sealed-secrets-test-([0-9]+)-([0-9]+)$ ]] || continue
    pid=${BASH_REMATCH[1]} start=${BASH_REMATCH[2]}
    [[ $(service_net_starttime "$pid") == "$start" ]] && continue
    echo "with-cluster: removing network namespace $ns left by an earlier run (pid $pid is gone)" >&2
    ip netns del "$ns" 2>/dev/null || true
  done < <(ip netns list 2>/dev/null)
}

service_net_up() {
  local start n used fd
  if ! command -v ip >/dev/null 2>&1; then
    echo "with-cluster: no 'ip' command (iproute2): no service address for the API server's service proxy" >&2
    return 1
  fi
  start=$(service_net_starttime $$)
  { exec {fd}>>"$SERVICE_NET_LOCK"; } 2>/dev/null || { echo "with-cluster: cannot open $SERVICE_NET_LOCK" >&2; return 1; }
  flock "$fd"
  service_net_sweep
  used=$(ip -4 -o addr show 2>/dev/null)
  for (( n=2; n<255; n++ )); do
    [[ $used == *" $SERVICE_NET_PREFIX.$n/"* ]] || break
  done
  if (( n == 255 )); then
    echo "with-cluster: every address of $SERVICE_NET_PREFIX.0/24 is taken" >&2
    exec {fd}>&-
    return 1
  fi
  # Recorded before they exist, so that a signal half way through still removes them.
  SERVICE_NET_NS="sealed-secrets-test-$$-$start"
  SERVICE_NET_IF="sst$$"
  if ! { ip netns add "$SERVICE_NET_NS" &&
         ip link add "$SERVICE_NET_IF" type veth peer name "sstp$$" netns "$SERVICE_NET_NS" &&
         { sysctl -qw "net.ipv6.conf.$SERVICE_NET_IF.disable_ipv6=1" || true; } &&
         ip addr add "$SERVICE_NET_PREFIX.$n/32" dev "$SERVICE_NET_IF" &&
         ip link set "$SERVICE_NET_IF" up &&
         ip -n "$SERVICE_NET_NS" link set "sstp$$" up; } 2>"$RUN/logs/service-net.log"; then
    echo "with-cluster: cannot make the service address (needs root / CAP_NET_ADMIN): $(tr '\n' ' ' <"$RUN/logs/service-net.log")" >&2
    exec {fd}>&-
    service_net_down
    return 1
  fi
  exec {fd}>&-
  SERVICE_IP="$SERVICE_NET_PREFIX.$n"
}

# shellcheck disable=SC2317 # called from with-cluster.sh's cleanup
service_net_down() {
  [[ -n $SERVICE_NET_NS ]] || return 0
  ip netns del "$SERVICE_NET_NS" 2>/dev/null || true
  # Deleting the namespace deletes the peer and so the pair; this is in case it did not.
  if [[ -n $SERVICE_NET_IF ]] && ip link show "$SERVICE_NET_IF" >/dev/null 2>&1; then
    ip link del "$SERVICE_NET_IF" 2>/dev/null || true
  fi
  SERVICE_NET_NS="" SERVICE_NET_IF="" SERVICE_IP=""
}
