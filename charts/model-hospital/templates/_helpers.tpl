{{/* The chart's name, or nameOverride. */}}
{{- define "model-hospital.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The release's full name: object names start with it. */}}
{{- define "model-hospital.fullname" -}}
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

{{/* Labels on every object. */}}
{{- define "model-hospital.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "model-hospital.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: model-hospital
{{- end -}}

{{/* Labels that select the operator's pod. */}}
{{- define "model-hospital.selectorLabels" -}}
app.kubernetes.io/name: {{ include "model-hospital.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* The ServiceAccount the operator runs as. */}}
{{- define "model-hospital.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "model-hospital.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- required "serviceAccount.name: name the existing ServiceAccount when serviceAccount.create is false" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* The namespaces served in namespaced mode: watch.namespaces, or the release namespace. */}}
{{- define "model-hospital.watchedNamespaces" -}}
{{- if .Values.watch.namespaces -}}
{{- toJson (uniq .Values.watch.namespaces) -}}
{{- else -}}
{{- toJson (list .Release.Namespace) -}}
{{- end -}}
{{- end -}}

{{/* An image reference: repository:tag, the tag defaulting to the chart's appVersion. */}}
{{- define "model-hospital.image" -}}
{{- printf "%s:%s" .repository (default .appVersion .tag) -}}
{{- end -}}

{{/* The artifact claim's name: the existing claim, or the one the chart makes. */}}
{{- define "model-hospital.artifactClaim" -}}
{{- default (printf "%s-artifacts" (include "model-hospital.fullname" .)) .Values.artifacts.existingClaim -}}
{{- end -}}

{{/* The model cache claim's name: the existing claim, or the one the chart makes. */}}
{{- define "model-hospital.modelCacheClaim" -}}
{{- default (printf "%s-model-cache" (include "model-hospital.fullname" .)) .Values.modelCache.existingClaim -}}
{{- end -}}

{{/*
The namespaces where stage Jobs run and so need the claims: the watched namespaces
in namespaced mode, the release namespace in cluster-wide mode (other namespaces
bring a claim of the same name; NOTES.txt says so).
*/}}
{{- define "model-hospital.claimNamespaces" -}}
{{- if .Values.watch.allNamespaces -}}
{{- toJson (list .Release.Namespace) -}}
{{- else -}}
{{- include "model-hospital.watchedNamespaces" . -}}
{{- end -}}
{{- end -}}

{{/* Restricted pod security context (Pod Security Standard "restricted"). */}}
{{- define "model-hospital.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ .Values.operator.runAsUser }}
runAsGroup: {{ .Values.operator.runAsUser }}
fsGroup: {{ .Values.operator.runAsUser }}
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* Restricted container security context. */}}
{{- define "model-hospital.containerSecurityContext" -}}
runAsNonRoot: true
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
privileged: false
capabilities:
  drop: ["ALL"]
seccompProfile:
  type: RuntimeDefault
{{- end -}}
