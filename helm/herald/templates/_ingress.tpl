{{/*
The annotations each ingress controller needs for Herald's long-lived requests: long-polls
that wait up to --max-listen-timeout, SSE and WebSocket streams that carry a heartbeat every
--heartbeat and last minutes. The read timeout is herald.proxyReadTimeout (above both);
streams must not be buffered. docs/kubernetes.md explains each.
*/}}
{{- define "herald.ingressAnnotations" -}}
{{- $read := include "herald.proxyReadTimeout" . -}}
{{- $deregistration := add (int .Values.preStop.sleepSeconds) (int .Values.herald.drainTimeoutSeconds) -}}
{{- $c := .Values.ingress.controller -}}
{{- $a := dict -}}
{{- if eq $c "ingress-nginx" -}}
{{- $a = dict
  "nginx.ingress.kubernetes.io/proxy-read-timeout" (toString $read)
  "nginx.ingress.kubernetes.io/proxy-send-timeout" (toString $read)
  "nginx.ingress.kubernetes.io/proxy-buffering" "off"
  "nginx.ingress.kubernetes.io/proxy-request-buffering" "off"
  "nginx.ingress.kubernetes.io/proxy-http-version" "1.1"
  "nginx.ingress.kubernetes.io/upstream-keepalive-timeout" "60"
-}}
{{- else if eq $c "haproxy" -}}
{{- $a = dict
  "haproxy.org/timeout-server" (printf "%ss" $read)
  "haproxy.org/timeout-client" (printf "%ss" $read)
  "haproxy.org/timeout-tunnel" "1h"
  "haproxy.org/check-http" "/readyz"
-}}
{{- else if eq $c "alb" -}}
{{- $a = dict
  "alb.ingress.kubernetes.io/target-type" "ip"
  "alb.ingress.kubernetes.io/load-balancer-attributes" (printf "idle_timeout.timeout_seconds=%s" $read)
  "alb.ingress.kubernetes.io/target-group-attributes" (printf "deregistration_delay.timeout_seconds=%d" (int $deregistration))
  "alb.ingress.kubernetes.io/healthcheck-path" "/readyz"
  "alb.ingress.kubernetes.io/healthcheck-interval-seconds" "5"
  "alb.ingress.kubernetes.io/healthy-threshold-count" "2"
  "alb.ingress.kubernetes.io/unhealthy-threshold-count" "2"
-}}
{{- end -}}
{{- toYaml (merge (deepCopy .Values.ingress.annotations) $a) -}}
{{- end -}}

{{/* The paths clients use; /metrics, /healthz and /readyz are never among them. */}}
{{- define "herald.publicPaths" -}}
- path: /v1
  pathType: Prefix
{{- if .Values.ingress.chatPage }}
- path: /
  pathType: Exact
- path: /herald.js
  pathType: Exact
{{- end }}
{{- end -}}
