#!/usr/bin/env bash
# Usage (inside tests/cluster/with-cluster.sh):
#   expose-service.sh [--namespace NS] [--name NAME] [--port-name P] IP:PORT  # wire (idempotent)
#   expose-service.sh [--namespace NS] [--name NAME] --delete                   # unwire
#
# Makes a server listening on IP:PORT (IP = TEST_CLUSTER_SERVICE_IP, see service-net.sh) reachable
# through the API server's service proxy, as kubeseal reaches the controller:
#   GET /api/v1/namespaces/NS/services/http:NAME:P/proxy/v1/cert.pem
# (kubeseal takes P from the Service's spec.ports[0].name). Defaults: NS kube-system, NAME
# sealed-secrets-controller (kubeseal's --controller-namespace and --controller-name defaults),
# P "http" (the reference's manifests). The objects, all in NS, are what a real cluster would
# hold for the reference's Service, so the proxy behaves as there:
#   * Service NAME, without a selector: port 8080, port name P, targetPort PORT;
#   * EndpointSlice NAME-endpoint (label kubernetes.io/service-name=NAME), one ready endpoint
#     IP with port P = PORT, as the EndpointSlice controller would mirror it. Since Kubernetes
#     1.33 the service proxy reads EndpointSlices only (no Endpoints object is needed, and none
#     is made: that API is deprecated). The proxy matches the port *name* of the request with
#     the slice's: with P = "http", http:NAME:http and http:NAME:8080 (a number is mapped to
#     its name) work, but http:NAME: (empty name) gets 503 "no endpoints available", exactly
#     as in a real cluster; with --port-name "" it is the other way round;
#   * Pod NAME-endpoint, a placeholder that never runs (there are no nodes), with status.podIPs
#     = [IP]: the proxy only goes to an endpoint whose targetRef is a Pod that has the endpoint's
#     address (pkg/registry/core/service/storage isValidAddress).
# The API server then dials IP:PORT itself, which is local (service-net.sh). It refuses
# loopback and link-local endpoint addresses, hence the address of its own.
set -euo pipefail

: "${KUBECONFIG:?run this under tests/cluster/with-cluster.sh (KUBECONFIG is not set)}"
BIN="${K8S_TEST_BIN:-$(dirname "$(command -v kubectl)")}"
KUBECTL=("$BIN/kubectl" --kubeconfig "$KUBECONFIG")
NS=kube-system NAME=sealed-secrets-controller PORT_NAME=http DELETE=0 TARGET=""

usage() { echo "usage: $0 [--namespace NS] [--name NAME] [--port-name PORT_NAME] (IP:PORT | --delete)" >&2; exit 2; }
while (( $# )); do
  case $1 in
    -n|--namespace) NS=${2:?}; shift 2 ;;
    --name) NAME=${2:?}; shift 2 ;;
    --port-name) PORT_NAME=${2?}; shift 2 ;;
    --delete) DELETE=1; shift ;;
    -*) usage ;;
    *) [[ -z $TARGET ]] || usage; TARGET=$1; shift ;;
  esac
done
log() { echo "expose-service: $*" >&2; }

if (( DELETE )); then
  [[ -z $TARGET ]] || usage
  "${KUBECTL[@]}" -n "$NS" delete --ignore-not-found --wait=false \
    "service/$NAME" "endpointslice.discovery.k8s.io/$NAME-endpoint" "pod/$NAME-endpoint" >&2
  exit 0
fi
[[ $TARGET =~ ^([0-9.]+):([0-9]+)$ ]] || usage
IP=${BASH_REMATCH[1]} PORT=${BASH_REMATCH[2]}
POD=$NAME-endpoint

"${KUBECTL[@]}" get namespace "$NS" >/dev/null 2>&1 || "${KUBECTL[@]}" create namespace "$NS" >&2

# The placeholder Pod. Admission needs the namespace's "default" ServiceAccount, which the
# controller-manager creates a moment after the namespace: retry for a while.
pod_yaml() {
  cat <<EOF
apiVersion: v1
kind: Pod
metadata:
  name: $POD
  namespace: $NS
  labels: {app.kubernetes.io/name: $NAME, sealed-secrets-test/role: service-endpoint}
  annotations: {sealed-secrets-test/what: "placeholder for the EndpointSlice targetRef; never runs"}
spec:
  automountServiceAccountToken: false
  containers: [{name: placeholder, image: placeholder.invalid/none}]
EOF
}
for (( n=0; ; n++ )); do
  if out=$(pod_yaml | "${KUBECTL[@]}" apply -f - 2>&1); then break; fi
  if (( n >= 100 )); then log "cannot create Pod $NS/$POD: $out"; exit 1; fi
  sleep 0.2
done
# status.podIPs is set once; a Pod's IP cannot change, so an existing one must already match.
have=$("${KUBECTL[@]}" -n "$NS" get pod "$POD" -o jsonpath='{.status.podIP}')
if [[ -z $have ]]; then
  "${KUBECTL[@]}" -n "$NS" patch pod "$POD" --subresource=status --type=merge \
    -p "{\"status\":{\"podIP\":\"$IP\",\"podIPs\":[{\"ip\":\"$IP\"}]}}" >&2
elif [[ $have != "$IP" ]]; then
  log "Pod $NS/$POD has IP $have, not $IP; delete it first (--delete)"
  exit 1
fi
UID_=$("${KUBECTL[@]}" -n "$NS" get pod "$POD" -o jsonpath='{.metadata.uid}')

"${KUBECTL[@]}" apply -f - >&2 <<EOF
apiVersion: v1
kind: Service
metadata:
  name: $NAME
  namespace: $NS
  labels: {app.kubernetes.io/name: $NAME}
spec:
  ports: [{name: "$PORT_NAME", port: 8080, protocol: TCP, targetPort: $PORT}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: $NAME-endpoint
  namespace: $NS
  labels:
    kubernetes.io/service-name: $NAME
    endpointslice.kubernetes.io/managed-by: sealed-secrets-tests
addressType: IPv4
endpoints:
- addresses: ["$IP"]
  conditions: {ready: true}
  targetRef: {kind: Pod, namespace: $NS, name: $POD, uid: $UID_}
ports: [{name: "$PORT_NAME", port: $PORT, protocol: TCP}]
EOF
log "service $NS/$NAME (port 8080 named \"$PORT_NAME\") -> $IP:$PORT"
