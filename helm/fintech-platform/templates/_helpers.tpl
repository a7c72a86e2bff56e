{{/* Common labels. */}}
{{- define "fintech.labels" -}}
app.kubernetes.io/part-of: fintech-platform
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/instance: {{ .Release.Name }}
helm.sh/chart: {{ .Chart.Name }}-{{ .Chart.Version }}
{{- end -}}

{{/* Selector labels of one component: include with (dict "root" $ "component" "customer"). */}}
{{- define "fintech.selector" -}}
app.kubernetes.io/name: fintech-{{ .component }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
{{- end -}}

{{/* An image pinned by digest; the tag is only informational. */}}
{{- define "fintech.image" -}}
{{- if not (regexMatch "^sha256:[a-f0-9]{64}$" .digest) -}}
{{- fail (printf "image %s must be pinned by a sha256 digest" .repository) -}}
{{- end -}}
{{ .repository }}{{ if .tag }}:{{ .tag }}{{ end }}@{{ .digest }}
{{- end -}}

{{/* Restricted pod security: non-root, seccomp. */}}
{{- define "fintech.podSecurity" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
fsGroup: 10001
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* Restricted container security: read-only root, no privilege escalation, no capabilities. */}}
{{- define "fintech.containerSecurity" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
capabilities:
  drop: ["ALL"]
{{- end -}}

{{/* `fintech health` over mTLS with the pod's own certificate (kubelet gRPC probes cannot present one). */}}
{{- define "fintech.healthProbe" -}}
exec:
  command:
    - fintech
    - health
    - --target
    - 127.0.0.1:{{ .root.Values.grpcPort }}
    - --ca
    - /etc/fintech/tls/ca.crt
    - --cert
    - /etc/fintech/tls/tls.crt
    - --key
    - /etc/fintech/tls/tls.key
    - --timeout
    - "3"
    {{- if .service }}
    - --service
    - {{ .service }}
    {{- end }}
{{- end -}}

{{/* The fully-qualified gRPC service of a short name. */}}
{{- define "fintech.grpcService" -}}
{{- $names := dict "customer" "fintech.customer.v1.CustomerService" "risk" "fintech.risk.v1.RiskService" "aml" "fintech.aml.v1.AMLService" "compliance" "fintech.compliance.v1.ComplianceService" "operations" "fintech.operations.v1.OperationsService" "audit" "fintech.audit.v1.AuditService" -}}
{{- get $names . -}}
{{- end -}}

{{/* vLLM's /health over TLS with the pod's own client certificate (vLLM requires one on every connection). */}}
{{- define "fintech.vllmProbe" -}}
exec:
  command:
    - python3
    - -c
    - >-
      import ssl, urllib.request as u;
      c = ssl.create_default_context(cafile='/etc/vllm/tls/ca.crt');
      c.load_cert_chain('/etc/vllm/tls/tls.crt', '/etc/vllm/tls/tls.key');
      c.check_hostname = False;
      u.urlopen('https://127.0.0.1:{{ .Values.vllm.port }}/health', context=c, timeout=5)
{{- end -}}
