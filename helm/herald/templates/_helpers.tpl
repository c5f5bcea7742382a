{{/* Names: <release>-herald unless the release name already contains the chart name. */}}
{{- define "herald.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "herald.fullname" -}}
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

{{/* The headless Service: pod DNS names and --peers-dns. Short enough for pod hostnames. */}}
{{- define "herald.headless" -}}
{{- printf "%s-headless" (include "herald.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "herald.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "herald.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/*
Selector labels: the StatefulSet's selector is immutable, so these two never change across
chart versions (tests/helm checks them). Nothing version-dependent goes in here.
*/}}
{{- define "herald.selectorLabels" -}}
app.kubernetes.io/name: {{ include "herald.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "herald.labels" -}}
{{ include "herald.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: herald
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* metadata.annotations from commonAnnotations plus the given dict (may be empty). */}}
{{- define "herald.annotations" -}}
{{- $all := merge (deepCopy (default (dict) .extra)) (default (dict) .root.Values.commonAnnotations) -}}
{{- with $all -}}
annotations:
  {{- toYaml . | nindent 2 }}
{{- end -}}
{{- end -}}

{{/* An image reference: registry (global.imageRegistry wins)/repository, then @digest or :tag. */}}
{{- define "herald.imageRef" -}}
{{- $registry := default .image.registry .global.imageRegistry -}}
{{- $ref := .image.repository -}}
{{- if $registry }}{{ $ref = printf "%s/%s" $registry $ref }}{{ end -}}
{{- if .image.digest -}}
{{- printf "%s@%s" $ref .image.digest -}}
{{- else -}}
{{- printf "%s:%s" $ref (toString (default .defaultTag .image.tag)) -}}
{{- end -}}
{{- end -}}

{{- define "herald.image" -}}
{{- include "herald.imageRef" (dict "image" .Values.image "global" .Values.global "defaultTag" .Chart.AppVersion) -}}
{{- end -}}

{{- define "herald.testImage" -}}
{{- include "herald.imageRef" (dict "image" .Values.tests.image "global" .Values.global "defaultTag" "latest") -}}
{{- end -}}

{{- define "herald.pullSecrets" -}}
{{- $names := concat (default list .Values.global.imagePullSecrets) (default list .Values.image.pullSecrets) | uniq -}}
{{- with $names -}}
imagePullSecrets:
{{- range . }}
  - name: {{ . }}
{{- end }}
{{- end -}}
{{- end -}}

{{/* Number of nodes the cluster is expected to have (the HPA's floor when it is on). */}}
{{- define "herald.replicas" -}}
{{- if .Values.autoscaling.enabled -}}{{ .Values.autoscaling.minReplicas }}{{- else -}}{{ .Values.replicaCount }}{{- end -}}
{{- end -}}

{{/*
The drain timing. The kubelet starts counting the grace period when it runs preStop, and
SIGKILLs at its end; Herald exits at most --drain-timeout after SIGTERM, which comes after
preStop. So grace >= preStop + drain timeout + margin, or a drain can be cut short.
*/}}
{{- define "herald.minimumGrace" -}}
{{- add (int .Values.preStop.sleepSeconds) (int .Values.herald.drainTimeoutSeconds) (int .Values.terminationMarginSeconds) -}}
{{- end -}}

{{- define "herald.terminationGrace" -}}
{{- $minimum := int (include "herald.minimumGrace" .) -}}
{{- if kindIs "invalid" .Values.terminationGracePeriodSeconds -}}
{{- $minimum -}}
{{- else if lt (int .Values.terminationGracePeriodSeconds) $minimum -}}
{{- fail (printf "terminationGracePeriodSeconds=%d is below preStop.sleepSeconds (%d) + herald.drainTimeoutSeconds (%d) + terminationMarginSeconds (%d) = %d: the kubelet would SIGKILL Herald before its drain ends" (int .Values.terminationGracePeriodSeconds) (int .Values.preStop.sleepSeconds) (int .Values.herald.drainTimeoutSeconds) (int .Values.terminationMarginSeconds) $minimum) -}}
{{- else -}}
{{- int .Values.terminationGracePeriodSeconds -}}
{{- end -}}
{{- end -}}

{{/*
How long a proxy must wait for the next byte from Herald: above the longest long-poll a
client may ask and above the heartbeat interval of streams, plus 15 s for slow networks.
*/}}
{{- define "herald.proxyReadTimeout" -}}
{{- add (max (int .Values.herald.maxListenTimeoutSeconds) (int .Values.herald.heartbeatSeconds)) 15 -}}
{{- end -}}

{{/* The config file (--config): the chart's typed settings, then herald.settings, then groups. */}}
{{- define "herald.configJson" -}}
{{- $config := dict
  "log-level" .Values.herald.logLevel
  "heartbeat" (printf "%ds" (int .Values.herald.heartbeatSeconds))
  "listen-timeout" (printf "%ds" (int .Values.herald.listenTimeoutSeconds))
  "max-listen-timeout" (printf "%ds" (int .Values.herald.maxListenTimeoutSeconds))
  "jsonp" (ternary "on" "off" .Values.herald.jsonp)
  "undeclared-groups" .Values.herald.undeclaredGroups
-}}
{{- with .Values.herald.allowOrigins }}{{ $_ := set $config "allow-origin" . }}{{ end -}}
{{- $config = merge (deepCopy .Values.herald.settings) $config -}}
{{- with .Values.herald.groups }}{{ $_ := set $config "groups" . }}{{ end -}}
{{- toPrettyJson $config -}}
{{- end -}}

{{/* Selects the pods (for policies, spread constraints and monitors). */}}
{{- define "herald.podSelector" -}}
matchLabels:
  {{- include "herald.selectorLabels" . | nindent 2 }}
{{- end -}}
