{{/* Names: <release>-pipeguard unless the release name already contains "pipeguard"; max 63 chars. */}}
{{- define "pipeguard.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "pipeguard.fullname" -}}
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

{{/* Object names per component (suffixes keep them under 63 characters with a 46-character fullname). */}}
{{- define "pipeguard.webhook.fullname" -}}{{ include "pipeguard.fullname" . | trunc 55 | trimSuffix "-" }}-webhook{{- end -}}
{{- define "pipeguard.operator.fullname" -}}{{ include "pipeguard.fullname" . | trunc 54 | trimSuffix "-" }}-operator{{- end -}}
{{- define "pipeguard.webhook.tlsSecret" -}}{{ include "pipeguard.webhook.fullname" . }}-tls{{- end -}}
{{/* Name of both webhook configurations (Validating and Mutating); the operator's RBAC is restricted to it. */}}
{{- define "pipeguard.webhookConfigurationName" -}}{{ include "pipeguard.fullname" . }}{{- end -}}

{{- define "pipeguard.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/name: {{ include "pipeguard.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: pipeguard
{{- end -}}

{{/* Selector labels; call with (dict "root" $ "component" "webhook"). */}}
{{- define "pipeguard.selectorLabels" -}}
app.kubernetes.io/name: {{ include "pipeguard.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "pipeguard.componentLabels" -}}
{{ include "pipeguard.labels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "pipeguard.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
{{- end -}}

{{- define "pipeguard.webhook.serviceAccountName" -}}
{{- if .Values.webhook.serviceAccount.create -}}
{{- default (include "pipeguard.webhook.fullname" .) .Values.webhook.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.webhook.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "pipeguard.operator.serviceAccountName" -}}
{{- if .Values.operator.serviceAccount.create -}}
{{- default (include "pipeguard.operator.fullname" .) .Values.operator.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.operator.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* Namespaces never sent to the webhooks: kube-system, the release namespace, webhook.excludedNamespaces. */}}
{{- define "pipeguard.excludedNamespaces" -}}
{{- $namespaces := list "kube-system" .Release.Namespace -}}
{{- range .Values.webhook.excludedNamespaces }}{{ $namespaces = append $namespaces . }}{{ end -}}
{{- toYaml ($namespaces | uniq) -}}
{{- end -}}

{{/* Hardened security contexts shared by both components. */}}
{{- define "pipeguard.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 65532
runAsGroup: 65532
fsGroup: 65532
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "pipeguard.containerSecurityContext" -}}
runAsNonRoot: true
runAsUser: 65532
runAsGroup: 65532
privileged: false
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
seccompProfile:
  type: RuntimeDefault
capabilities:
  drop: [ALL]
{{- end -}}

{{/*
The webhook's command-line arguments, in one place. Context: with context.source=files the context ConfigMap is
passed as --context; with context.source=kubernetes no flag is passed yet (the Kubernetes-backed context provider and
its flag arrive with the operator issue: add it here, e.g. `- --context-source=kubernetes`).
*/}}
{{- define "pipeguard.webhook.args" -}}
- --config=/etc/pipeguard/config/config.yaml
- --guardrails-config=/etc/pipeguard/config/guardrails.yaml
- --tls-cert=/etc/pipeguard/tls/tls.crt
- --tls-key=/etc/pipeguard/tls/tls.key
- --listen={{ if contains ":" .Values.webhook.listenHost }}[{{ .Values.webhook.listenHost }}]{{ else }}{{ .Values.webhook.listenHost }}{{ end }}:{{ .Values.webhook.port }}
- --max-body-bytes={{ int64 .Values.webhook.maxBodyBytes }}
- --log-level={{ .Values.webhook.logLevel }}
{{- if eq .Values.context.source "files" }}
- --context=/etc/pipeguard/context
{{- else }}
- --in-cluster
{{- if .Values.backgroundAudit.enabled }}
- --background-audit
- --audit-period-seconds={{ int64 .Values.backgroundAudit.periodSeconds }}
- --audit-writes-per-second={{ int64 .Values.backgroundAudit.writesPerSecond }}
- --audit-lease={{ .Release.Namespace }}/{{ include "pipeguard.webhook.fullname" . }}-audit
{{- end }}
{{- end }}
{{- end -}}

{{/* The operator's command-line arguments (operator/main.cc), in one place; the pod name is its leader-election identity. */}}
{{- define "pipeguard.operator.args" -}}
- --config=/etc/pipeguard/operator/config.yaml
- --leader-election-namespace={{ .Release.Namespace }}
- --leader-election-id={{ .Values.operator.leaderElection.id }}
- --metrics-listen=0.0.0.0:{{ .Values.operator.metricsPort }}
- --identity=$(POD_NAME)
- --webhook-configurations=/etc/pipeguard/webhooks/webhook-configurations.yaml
- --webhook-configurations-configmap={{ .Release.Namespace }}/{{ include "pipeguard.operator.fullname" . }}-webhook-configurations
{{- with .Values.operator.awsEndpoint }}
- --aws-endpoint={{ . }}
{{- end }}
{{- end -}}

{{/*
The webhook's configuration file: the keys of .Values.config, leaving out empty strings, empty lists and empty maps
so that the webhook's built-in defaults apply to them (e.g. governance.selectors, breakGlass.trustedRequesters).
*/}}
{{- define "pipeguard.webhook.config" -}}
{{- $out := dict -}}
{{- range $key, $value := .Values.config -}}
{{- if kindIs "map" $value -}}
{{- $section := dict -}}
{{- range $k, $v := $value -}}
{{- if or (kindIs "bool" $v) (kindIs "float64" $v) (kindIs "int64" $v) (kindIs "int" $v) $v -}}
{{- $_ := set $section $k $v -}}
{{- end -}}
{{- end -}}
{{- if $section }}{{ $_ := set $out $key $section }}{{ end -}}
{{- else if or (kindIs "bool" $value) $value -}}
{{- $_ := set $out $key $value -}}
{{- end -}}
{{- end -}}
{{- toYaml $out -}}
{{- end -}}

{{/* The operator's configuration file, the same way (mandatory keys are enforced by values.schema.json). */}}
{{- define "pipeguard.operator.config" -}}
{{- $out := dict -}}
{{- range $key, $value := .Values.operator.config -}}
{{- if or (kindIs "bool" $value) (kindIs "float64" $value) (kindIs "int64" $value) (kindIs "int" $value) $value -}}
{{- $_ := set $out $key $value -}}
{{- end -}}
{{- end -}}
{{- toYaml $out -}}
{{- end -}}
