#!/usr/bin/env bash
# The Helm chart and the kustomize base, against the real API server. Under
# tests/cluster/with-cluster.sh:   tests/install/chart.sh
# 1. helm lint --strict, with the defaults and with each value set of tests/install/values/.
# 2. helm template with the defaults and each value set (modelled on the reference chart's
#    documented examples), every rendered object applied with server-side dry-run
#    (`kubectl apply --server-side --dry-run=server`) in namespaces that warn on the "restricted"
#    Pod Security Standard: any warning fails. The ServiceMonitor's CRD is a minimal one the test
#    installs (monitoring.coreos.com/v1, schema left open).
# 3. The same value sets rendered by the reference chart (bitnami-labs/sealed-secrets v0.36.6,
#    read from the Go module cache): our Deployment runs the same command and arguments, with the
#    same selector, ports, probes, volumes and scheduling, and at least the reference's security
#    context; the Services, ServiceAccount, Ingress, ServiceMonitor, PDB, dashboard ConfigMap and
#    extra objects are the same. RBAC differs on purpose, and is checked against
#    manifests/rbac.yaml instead: the same rules, bindings and subjects.
# 4. `kubectl kustomize manifests/` dry-run applied the same way; manifests/deployment.yaml
#    runs [controller] with the reference's (empty) arguments, probes and security context, and
#    the reference controller.yaml's selector; versions agree (crate, chart appVersion, image
#    tags), and the chart's CRD is manifests/crd.yaml.
# Prints "chart: N passed, N failed" last; exits non-zero on any failure.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/../.." && pwd)
cd "$REPO"
: "${TEST_CLUSTER_SERVER:?run under tests/cluster/with-cluster.sh}"
VERSION=$(sed -n '/^\[workspace.package\]/,/^\[/s/^version = "\(.*\)"/\1/p' Cargo.toml)
CHART=manifests/helm/sealed-secrets
SEALED_VERSION="${SEALED_VERSION:-v0.36.6}"
HELM=$(image/tools.sh helm | tail -1)
REF_CHART="$(GOFLAGS='' go mod download -json "github.com/bitnami-labs/sealed-secrets@$SEALED_VERSION" | jq -r .Dir)/helm/sealed-secrets"
[[ -f $REF_CHART/Chart.yaml ]] || { echo "cannot find the reference chart in the Go module cache" >&2; exit 1; }

PASSED=0 FAILED=0
pass() { PASSED=$((PASSED + 1)); echo "ok: $*"; }
fail() { FAILED=$((FAILED + 1)); echo "FAILED: $*" >&2; }
check() { local what=$1; shift; if "$@"; then pass "$what"; else fail "$what"; fi; }
same() { # what, expected, actual (JSON, compared canonically)
  if [[ $(jq -S . <<<"$2") == "$(jq -S . <<<"$3")" ]]; then pass "$1"
  else fail "$1"; diff <(jq -S . <<<"$2") <(jq -S . <<<"$3") | head -40 >&2 || true; fi
}

W=$(mktemp -d /tmp/chart-test.XXXXXX)
trap 'rm -rf "$W"' EXIT
# The namespaces the value sets name. Created for real (idempotent); "warn" makes the API
# server answer a dry-run whose pod template breaks the restricted profile with a warning.
NS=install-test
for ns in "$NS" team-a team-b; do
  kubectl create namespace "$ns" --dry-run=client -o yaml | kubectl apply -f - >/dev/null
  kubectl label --overwrite namespace "$ns" pod-security.kubernetes.io/warn=restricted \
    pod-security.kubernetes.io/warn-version=latest >/dev/null
done
# A minimal ServiceMonitor CRD, for the dry-run (the real one is Prometheus Operator's).
kubectl apply --server-side --field-manager=chart-test -f - >/dev/null <<'EOF'
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: servicemonitors.monitoring.coreos.com
spec:
  group: monitoring.coreos.com
  names: {kind: ServiceMonitor, listKind: ServiceMonitorList, plural: servicemonitors, singular: servicemonitor}
  scope: Namespaced
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          x-kubernetes-preserve-unknown-fields: true
EOF
kubectl apply --server-side --field-manager=chart-test -f manifests/crd.yaml >/dev/null
kubectl wait --for=condition=Established crd/servicemonitors.monitoring.coreos.com crd/sealedsecrets.bitnami.com --timeout=60s >/dev/null

# usage: dry_run WHAT FILE [warnings-ok] -> the objects as JSON lines (server-defaulted) in
# FILE.json. Fails the check on an error or, unless warnings-ok, any warning (PodSecurity
# included; the reference chart's pod breaks "restricted": no seccomp profile, and privilege
# escalation allowed).
dry_run() {
  local what=$1 file=$2 ok=${3:-}
  if kubectl apply --server-side --field-manager=chart-test --dry-run=server -o json -f "$file" \
       > "$file.raw" 2> "$file.err" && { [[ -n $ok ]] || ! grep -qi 'warning' "$file.err"; }; then
    pass "$what: server-side dry-run${ok:+ (warnings allowed)}${ok:-, no warnings}"
  else
    fail "$what: server-side dry-run"; cat "$file.err" >&2
  fi
  jq -c 'if .kind == "List" then .items[] else . end' "$file.raw" > "$file.json" 2>/dev/null || : > "$file.json"
}
# usage: objects FILE.json KIND -> JSON array of that kind
objects() { jq -s --arg k "$2" '[.[] | select(.kind == $k)]' "$1"; }

# --- 1 and 2: lint, render, dry-run. ---
SETS=(defaults)
for f in tests/install/values/*.yaml; do SETS+=("$(basename "$f" .yaml)"); done
values_args() { [[ $1 == defaults ]] || echo "-f tests/install/values/$1.yaml"; }
for set in "${SETS[@]}"; do
  # shellcheck disable=SC2046
  if "$HELM" lint --strict "$CHART" --namespace "$NS" $(values_args "$set") > "$W/lint.$set" 2>&1; then
    pass "helm lint --strict ($set)"
  else fail "helm lint --strict ($set)"; cat "$W/lint.$set" >&2; fi
  # shellcheck disable=SC2046
  "$HELM" template sealed-secrets "$CHART" --namespace "$NS" --include-crds $(values_args "$set") > "$W/ours.$set.yaml"
  dry_run "chart ($set)" "$W/ours.$set.yaml"
  # shellcheck disable=SC2046
  "$HELM" template sealed-secrets "$REF_CHART" --namespace "$NS" $(values_args "$set") > "$W/ref.$set.yaml"
  dry_run "reference chart ($set)" "$W/ref.$set.yaml" warnings-ok
  # For the comparison with the reference below: our chart with the reference's HA defaults
  # (one replica, no PodDisruptionBudget unless the set asks for one), which ours changes.
  ref_ha=(--set replicaCount=1)
  if [[ $set == defaults ]] || ! grep -q '^pdb:' "tests/install/values/$set.yaml"; then
    ref_ha+=(--set pdb.create=false)
  fi
  # shellcheck disable=SC2046
  "$HELM" template sealed-secrets "$CHART" --namespace "$NS" --include-crds $(values_args "$set") \
    "${ref_ha[@]}" > "$W/ours-as-ref.$set.yaml"
  dry_run "chart with the reference's HA defaults ($set)" "$W/ours-as-ref.$set.yaml"
done

# Ours: two replicas, a PodDisruptionBudget and soft anti-affinity by default.
defaults_deploy=$(objects "$W/ours.defaults.yaml.json" Deployment)
check "defaults: 2 replicas" test "$(jq '.[0].spec.replicas' <<<"$defaults_deploy")" == 2
check "defaults: pods prefer different nodes" test "$(jq -r '.[0].spec.template.spec.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].podAffinityTerm.topologyKey' <<<"$defaults_deploy")" == kubernetes.io/hostname
check "defaults: a PodDisruptionBudget" test "$(objects "$W/ours.defaults.yaml.json" PodDisruptionBudget | jq length)" == 1

# --- 3: the same as the reference, where it should be. ---
DEPLOY='map({name: .metadata.name, ns: .metadata.namespace, replicas: .spec.replicas,
  revisionHistoryLimit: .spec.revisionHistoryLimit, selector: .spec.selector,
  podLabels: .spec.template.metadata.labels, podAnnotations: .spec.template.metadata.annotations}
  + (.spec.template.spec | {serviceAccountName, nodeSelector, tolerations, affinity,
     priorityClassName, imagePullSecrets, hostNetwork, volumes})
  + (.spec.template.spec.containers[0] | {container: .name, command, args, imagePullPolicy, ports,
     livenessProbe, readinessProbe, startupProbe, volumeMounts, resources,
     image: (.image | sub("^.*/"; "") | sub(":.*$"; ""))}))'
# The reference's security context is a subset of ours (ours adds seccomp and no privilege
# escalation).
SECURITY='map({pod: (.spec.template.spec.securityContext // {}), container: (.spec.template.spec.containers[0].securityContext // {})})'
SERVICE='map({name: .metadata.name, ns: .metadata.namespace, component: .metadata.labels["app.kubernetes.io/component"], annotations: .metadata.annotations, spec: (.spec | {type, ports, selector})})'
META='map({name: .metadata.name, ns: .metadata.namespace, annotations: .metadata.annotations})'
SPEC='map({name: .metadata.name, ns: .metadata.namespace, spec})'
CM='map({name: .metadata.name, ns: .metadata.namespace, keys: (.data | keys)})'
for set in "${SETS[@]}"; do
  o="$W/ours-as-ref.$set.yaml.json" r="$W/ref.$set.yaml.json"
  ours_deploy=$(objects "$o" Deployment | jq "$DEPLOY") ref_deploy=$(objects "$r" Deployment | jq "$DEPLOY")
  # Our image's name is ours; the reference's repository is bitnami/sealed-secrets-controller.
  if [[ $set != reference-flags ]]; then
    ours_deploy=$(jq 'map(.image = "IMAGE")' <<<"$ours_deploy") ref_deploy=$(jq 'map(.image = "IMAGE")' <<<"$ref_deploy")
  fi
  same "Deployment as the reference's ($set)" "$ref_deploy" "$ours_deploy"
  sec=$(jq -n --argjson o "$(objects "$o" Deployment | jq "$SECURITY")" \
    --argjson r "$(objects "$r" Deployment | jq "$SECURITY")" \
    '[range($r | length) as $i | ($r[$i].pod | to_entries | all(. as $e | $o[$i].pod[$e.key] == $e.value))
      and ($r[$i].container | to_entries | all(. as $e | $o[$i].container[$e.key] == $e.value))] | all')
  check "security context includes the reference's ($set)" test "$sec" == true
  for kind in Service ServiceAccount Ingress ServiceMonitor PodDisruptionBudget ConfigMap; do
    case $kind in
      Service) p=$SERVICE ;; ServiceAccount) p=$META ;; ConfigMap) p=$CM ;; *) p=$SPEC ;;
    esac
    same "$kind as the reference's ($set)" "$(objects "$r" $kind | jq "$p")" "$(objects "$o" $kind | jq "$p")"
  done
  # The TLS Secret of a self-signed Ingress: the same name and keys (the contents are random).
  same "Secrets as the reference's ($set)" "$(objects "$r" Secret | jq "$CM")" "$(objects "$o" Secret | jq "$CM")"
  np='map({name: .metadata.name, podSelector: .spec.podSelector, ports: [.spec.ingress[].ports[].port], egress: .spec.egress})'
  same "NetworkPolicy as the reference's ($set)" "$(objects "$r" NetworkPolicy | jq "$np")" "$(objects "$o" NetworkPolicy | jq "$np")"
done

# The comparisons above compared something: the exposed set renders each optional object.
check "exposed: Ingress, TLS Secret, NetworkPolicy, ServiceMonitor, dashboard ConfigMap, PDB" test \
  "$(jq -s -c '[.[].kind] | unique' "$W/ours.exposed.yaml.json")" == \
  '["ClusterRole","ClusterRoleBinding","ConfigMap","CustomResourceDefinition","Deployment","Ingress","NetworkPolicy","PodDisruptionBudget","Role","RoleBinding","Secret","Service","ServiceAccount","ServiceMonitor"]'
check "additionalNamespaces: --additional-namespaces team-a,team-b" test \
  "$(objects "$W/ours.additional-namespaces.yaml.json" Deployment | jq -c '.[0].spec.template.spec.containers[0].args | index("--additional-namespaces") as $i | .[$i:$i+2]')" \
  == '["--additional-namespaces","team-a,team-b"]'

# RBAC: the chart renders manifests/rbac.yaml's grants. With kubeseal's defaults the
# ServiceAccount, ClusterRole, ClusterRoleBinding and leader-election Role and RoleBinding are
# the very objects of rbac.yaml; the service-proxier Role keeps the reference chart's name,
# <fullname>-service-proxier (rbac.yaml: the reference controller.yaml's, without "controller").
kubectl create --dry-run=client -o json -f manifests/rbac.yaml | jq -c 'if .kind == "List" then .items[] else . end' > "$W/rbac.json"
o="$W/ours.kubeseal-defaults.yaml.json"
RB='map({kind, name: .metadata.name, ns: .metadata.namespace, rules, roleRef, subjects})'
strip_proxier='map(if (.name // "") | test("service-proxier$") then .name = "PROXIER" | (if .roleRef then .roleRef.name = "PROXIER" else . end) else . end)'
for kind in ServiceAccount ClusterRole ClusterRoleBinding Role RoleBinding; do
  same "$kind = manifests/rbac.yaml's (kubeseal-defaults)" \
    "$(objects "$W/rbac.json" $kind | jq "$RB | $strip_proxier")" "$(objects "$o" $kind | jq "$RB | $strip_proxier")"
done
rules=$(objects "$W/rbac.json" ClusterRole | jq '.[0].rules')
o="$W/ours.namespaced-roles.yaml.json"
same "namespacedRoles: the controller's rules as Roles in its namespace and each additional one" \
  "$(jq -n --argjson r "$rules" --arg ns "$NS" '[$ns, "team-a", "team-b"] | map({ns: ., rules: $r})')" \
  "$(objects "$o" Role | jq 'map(select(.metadata.name == "secrets-unsealer") | {ns: .metadata.namespace, rules})')"
check "namespacedRoles: no ClusterRole, no ClusterRoleBinding" test \
  "$(jq -s '[.[] | select(.kind | test("^Cluster"))] | length' "$o")" == 0
same "namespacedRoles: each Role bound to the controller" \
  "$(jq -n --arg ns "$NS" '[$ns, "team-a", "team-b"] | map({ns: ., role: "secrets-unsealer", sa: "sealed-secrets"})')" \
  "$(objects "$o" RoleBinding | jq --arg ns "$NS" 'map(select(.roleRef.kind == "Role" and .roleRef.name == "secrets-unsealer")
     | {ns: .metadata.namespace, role: .roleRef.name, sa: (.subjects[0] | select(.namespace == $ns) | .name)})')"
for set in "${SETS[@]}"; do
  o="$W/ours.$set.yaml.json"
  extra=$(jq -s --argjson r "$rules" '[.[] | select(.kind == "ClusterRole" or .kind == "Role") | select(.metadata.name | test("(service-proxier|leader-election)$") | not) | select(.rules != $r) | .metadata.name]' "$o")
  check "no controller role grants other than rbac.yaml's ($set)" test "$extra" == "[]"
done
# Without additionalNamespaces, namespaced Roles mean the controller's own namespace only.
"$HELM" template sealed-secrets "$CHART" --namespace "$NS" --set rbac.namespacedRoles=true > "$W/ns-only.yaml"
check "namespacedRoles alone: --all-namespaces=false and one Role, in its namespace" test \
  "$(kubectl create --dry-run=client -o json -f "$W/ns-only.yaml" | jq -s -c '[.[] | if .kind == "List" then .items[] else . end]
     | [(.[] | select(.kind == "Deployment") | .spec.template.spec.containers[0].args | index("--all-namespaces=false") != null),
        ([.[] | select(.kind == "Role" and .metadata.name == "secrets-unsealer") | .metadata.namespace])]')" \
  == "[true,[\"$NS\"]]"
if "$HELM" template x "$CHART" --set rbac.pspEnabled=true > /dev/null 2> "$W/psp.err"; then
  fail "rbac.pspEnabled=true fails"
else check "rbac.pspEnabled=true fails with a message" grep -q 'PodSecurityPolicy was removed' "$W/psp.err"; fi

# --- 4: the kustomize base, manifests/deployment.yaml, versions. ---
kubectl kustomize manifests/ > "$W/kustomize.yaml"
dry_run "kubectl kustomize manifests/" "$W/kustomize.yaml"
# The same base in a namespace that warns on "restricted".
mkdir -p "$W/overlay"
printf 'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: %s\nresources:\n  - %s\n' \
  "$NS" "$(realpath --relative-to="$W/overlay" "$REPO/manifests")" > "$W/overlay/kustomization.yaml"
kubectl kustomize "$W/overlay" > "$W/overlay.yaml"
dry_run "kustomize base in a restricted namespace" "$W/overlay.yaml"
# The restart-consumers component: the flag and its RBAC on top of the base.
mkdir -p "$W/rc"
printf 'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - %s\ncomponents:\n  - %s\n' \
  "$(realpath --relative-to="$W/rc" "$REPO/manifests")" \
  "$(realpath --relative-to="$W/rc" "$REPO/manifests/restart-consumers")" > "$W/rc/kustomization.yaml"
kubectl kustomize "$W/rc" > "$W/rc.yaml"
dry_run "kustomize base with manifests/restart-consumers" "$W/rc.yaml"
check "manifests/restart-consumers: the flag, and list/patch on the apps workloads for the controller" test \
  "$(jq -s -c '[(.[] | select(.kind == "Deployment") | .spec.template.spec.containers[0].args),
      [.[] | select(.kind == "ClusterRole") | .rules[] | select(.apiGroups == ["apps"]) | [.resources, .verbs]],
      [.[] | select(.kind == "ClusterRoleBinding" and .roleRef.name == "secrets-unsealer-restart-consumers") | .subjects[0].name]]' "$W/rc.yaml.json")" \
  == '[["--restart-consumers"],[[["deployments","statefulsets","daemonsets"],["list","patch"]]],["sealed-secrets-controller"]]'
# And the chart's value: the same flag and rules; off by default (checked above: no grants
# beyond rbac.yaml's).
"$HELM" template sealed-secrets "$CHART" --namespace "$NS" --set restartConsumers=true > "$W/rc-chart.yaml"
check "restartConsumers=true: the flag, and list/patch on the apps workloads" test \
  "$(kubectl create --dry-run=client -o json -f "$W/rc-chart.yaml" | jq -s -c '[.[] | if .kind == "List" then .items[] else . end]
      | [(.[] | select(.kind == "Deployment") | .spec.template.spec.containers[0].args | index("--restart-consumers") != null),
         [.[] | select(.kind == "ClusterRole" and .metadata.name == "secrets-unsealer") | .rules[] | select(.apiGroups == ["apps"]) | .verbs]]')" \
  == '[true,[["list","patch"]]]'
d=$(objects "$W/kustomize.yaml.json" Deployment | jq '.[0]')
same "deployment.yaml: the reference controller.yaml's command, args, probes, security context and selector" \
  '{"selector":{"matchLabels":{"name":"sealed-secrets-controller"}},"command":["controller"],"args":null,
    "probe":{"path":"/healthz","port":"http"},
    "pod":{"fsGroup":65534,"runAsNonRoot":true,"runAsUser":1001,"seccompProfile":{"type":"RuntimeDefault"}},
    "container":{"allowPrivilegeEscalation":false,"capabilities":{"drop":["ALL"]},"readOnlyRootFilesystem":true},
    "tmp":{"mountPath":"/tmp","name":"tmp"},"name":"sealed-secrets-controller"}' \
  "$(jq '{selector: .spec.selector, command: .spec.template.spec.containers[0].command,
     args: (.spec.template.spec.containers[0].args | if . == [] then null else . end),
     probe: (.spec.template.spec.containers[0] | [.livenessProbe.httpGet, .readinessProbe.httpGet] | unique | .[0] | {path, port}),
     pod: .spec.template.spec.securityContext,
     container: .spec.template.spec.containers[0].securityContext,
     tmp: .spec.template.spec.containers[0].volumeMounts[0],
     name: .spec.template.spec.containers[0].name}' <<<"$d")"
check "deployment.yaml runs registry.example/sealed-secrets/unsealer:$VERSION" test \
  "$(jq -r '.spec.template.spec.containers[0].image' <<<"$d")" == "registry.example/sealed-secrets/unsealer:$VERSION"
check "Chart.yaml appVersion is the crate version" test \
  "$("$HELM" show chart "$CHART" | sed -n 's/^appVersion: "*\([^"]*\)"*$/\1/p')" == "$VERSION"
check "the chart's default image tag is the crate version" test \
  "$(objects "$W/ours.defaults.yaml.json" Deployment | jq -r '.[0].spec.template.spec.containers[0].image')" \
  == "registry.example/sealed-secrets/unsealer:$VERSION"
check "the chart's CRD is manifests/crd.yaml" cmp -s "$CHART/crds/bitnami.com_sealedsecrets.yaml" manifests/crd.yaml

echo "chart: $PASSED passed, $FAILED failed"
[[ $FAILED == 0 ]]
