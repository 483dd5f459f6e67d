{{/* Names and labels as the reference chart's, so an upgrade from it keeps the Deployment's
(immutable) selector and kubeseal's defaults. */}}

{{- define "sealed-secrets.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* fullnameOverride, else the release name if it contains the chart name, else
<release>-<chart>. kubeseal's default is sealed-secrets-controller. */}}
{{- define "sealed-secrets.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "sealed-secrets.namespace" -}}
{{- default .Release.Namespace .Values.namespace -}}
{{- end -}}

{{- define "sealed-secrets.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "sealed-secrets.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "sealed-secrets.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "sealed-secrets.labels" -}}
app.kubernetes.io/name: {{ include "sealed-secrets.name" . }}
helm.sh/chart: {{ include "sealed-secrets.chart" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/part-of: sealed-secrets
{{- end -}}

{{/* The Deployment's selector: never change it (immutable). */}}
{{- define "sealed-secrets.matchLabels" -}}
app.kubernetes.io/name: {{ include "sealed-secrets.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* Standard labels, rbac-style extras (dict "extra" map "context" $), then commonLabels. */}}
{{- define "sealed-secrets.allLabels" -}}
{{ include "sealed-secrets.labels" .context }}
{{- with .extra }}
{{ include "sealed-secrets.render" (dict "value" . "context" $.context) }}
{{- end }}
{{- with .context.Values.commonLabels }}
{{ include "sealed-secrets.render" (dict "value" . "context" $.context) }}
{{- end }}
{{- end -}}

{{/* "annotations:" with the given map and commonAnnotations, or nothing when both are empty.
(dict "extra" map "context" $); call as
  {{- with include "sealed-secrets.annotations" (dict ...) }}{{ . | nindent 2 }}{{ end }} */}}
{{- define "sealed-secrets.annotations" -}}
{{- if or .extra .context.Values.commonAnnotations -}}
annotations:
{{- with .extra }}
{{ include "sealed-secrets.render" (dict "value" . "context" $.context) | indent 2 }}
{{- end }}
{{- with .context.Values.commonAnnotations }}
{{ include "sealed-secrets.render" (dict "value" . "context" $.context) | indent 2 }}
{{- end }}
{{- end -}}
{{- end -}}

{{/* A value that may hold templates: a string is rendered as is, anything else as YAML. */}}
{{- define "sealed-secrets.render" -}}
{{- if typeIs "string" .value -}}
{{- tpl .value .context -}}
{{- else -}}
{{- tpl (.value | toYaml) .context -}}
{{- end -}}
{{- end -}}

{{/* "k=v,k=v" of a map of strings, for --privatekey-labels/-annotations, in the reference
chart's order (reverse by key). (dict "map" m "what" "Label") */}}
{{- define "sealed-secrets.pairs" -}}
{{- $pairs := "" -}}
{{- range $k, $v := .map -}}
{{- if not (and $v (kindIs "string" $v)) -}}
{{- fail (printf "%s values have to be strings (%s)" $.what $k) -}}
{{- end -}}
{{- $pairs = printf "%s=%s,%s" $k $v $pairs -}}
{{- end -}}
{{- trimSuffix "," $pairs -}}
{{- end -}}

{{/* The namespaces of the namespaced Roles: the controller's own, then additionalNamespaces. */}}
{{- define "sealed-secrets.roleNamespaces" -}}
{{- concat (list (include "sealed-secrets.namespace" .)) .Values.additionalNamespaces | uniq | toJson -}}
{{- end -}}

{{/* Leader election: one Lease in the controller's own namespace, as manifests/rbac.yaml. */}}
{{- define "sealed-secrets.leaseRules" -}}
- apiGroups: ["coordination.k8s.io"]
  resources: ["leases"]
  verbs: ["get", "create", "patch"]
{{- end -}}

{{/* The controller's rules: exactly manifests/rbac.yaml's ClusterRole (proven minimal by
unsealer/tests/rbac_audit.rs against the API server's audit log; tests/install/chart.sh checks
that the two agree). */}}
{{- define "sealed-secrets.controllerRules" -}}
- apiGroups: ["bitnami.com"]
  resources: ["sealedsecrets"]
  verbs: ["get", "list", "watch"]
- apiGroups: ["bitnami.com"]
  resources: ["sealedsecrets/status"]
  verbs: ["patch"]
- apiGroups: [""]
  resources: ["secrets"]
  verbs: ["get", "list", "watch", "create", "update", "patch"]
- apiGroups: ["events.k8s.io"]
  resources: ["events"]
  verbs: ["create", "patch"]
{{- if .Values.restartConsumers }}
- apiGroups: ["apps"]
  resources: ["deployments", "statefulsets", "daemonsets"]
  verbs: ["list", "patch"]
{{- end }}
{{- end -}}

{{- define "sealed-secrets.checks" -}}
{{- if .Values.rbac.pspEnabled -}}
{{- fail "rbac.pspEnabled: PodSecurityPolicy was removed in Kubernetes 1.25; use Pod Security Admission (the defaults meet \"restricted\")" -}}
{{- end -}}
{{- end -}}
