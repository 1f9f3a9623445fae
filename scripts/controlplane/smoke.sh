#!/usr/bin/env bash
# Smoke test of the local control plane: start it in a temp dir, use it with kubectl and helm, register an
# admission webhook by URL, stop it, and check that no process is left behind.
#
# Usage: smoke.sh      (builds the binaries first if install.sh has not run yet)
#
# Contract: prints "controlplane smoke: 1 passed, 0 failed" and exits 0 on success; otherwise names the failed
# step, prints "controlplane smoke: 0 passed, 1 failed" and exits 1. Leaves nothing behind on success (the
# temp dir is kept on failure for its logs). The webhook step needs python3 and is skipped without it.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/pipeguard-smoke.XXXXXX")
tmp=$(cd "$tmp" && pwd -P)
current_step="setup"
webhook_pid=

step() {
  current_step=$*
  printf 'controlplane smoke: -- %s\n' "$*" >&2
}

finish() {
  local rc=$?
  set +e
  [[ -n $webhook_pid ]] && kill "$webhook_pid" 2>/dev/null
  "$here/stop.sh" "$tmp" >/dev/null 2>&1
  if ((rc == 0)); then
    rm -rf "$tmp"
    echo "controlplane smoke: 1 passed, 0 failed"
  else
    echo "controlplane smoke: FAILED at step '$current_step' (exit $rc); logs kept in $tmp" >&2
    echo "controlplane smoke: 0 passed, 1 failed"
  fi
  exit "$rc"
}
trap finish EXIT

# expect_fail DESCRIPTION PATTERN CMD... : CMD must fail with PATTERN in its output.
expect_fail() {
  local what=$1 pattern=$2 out
  shift 2
  if out=$("$@" 2>&1); then
    echo "expected failure ($what) but it succeeded: $out" >&2
    return 1
  fi
  grep -q -- "$pattern" <<<"$out" || {
    echo "expected '$pattern' in the error ($what), got: $out" >&2
    return 1
  }
}

step "install.sh (build or reuse binaries)"
"$here/install.sh"

step "start control plane in $tmp"
start=$SECONDS
controlplane_up "$tmp"
echo "started in $((SECONDS - start))s: $APISERVER_URL" >&2
pids=("$APISERVER_PID" "$ETCD_PID" "$WATCHDOG_PID")
k() { "$KUBECTL" --request-timeout=30s "$@"; }

step "kubectl version / get ns"
k version
k get ns
k get ns default kube-system kube-public -o name >/dev/null
[[ $(k auth can-i '*' '*') == yes ]]

step "namespace and ConfigMap"
k create namespace smoke
k -n smoke create configmap smoke --from-literal=hello=world
[[ $(k -n smoke get configmap smoke -o 'jsonpath={.data.hello}') == world ]]

step "Pod is admitted (no ServiceAccount controller needed)"
k -n smoke run smoke-pod --image=registry.invalid/none:1 --restart=Never
[[ $(k -n smoke get pod smoke-pod -o 'jsonpath={.status.phase}') == Pending ]]

step "CRD: apply, Established, schema validation"
k apply -f - <<'EOF'
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.smoke.pipeguard.io
spec:
  group: smoke.pipeguard.io
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget}
  versions:
  - name: v1
    served: true
    storage: true
    subresources: {status: {}}
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            required: [size]
            properties:
              size: {type: integer, minimum: 1}
EOF
k wait --for=condition=Established --timeout=30s crd/widgets.smoke.pipeguard.io
k -n smoke apply -f - <<'EOF'
apiVersion: smoke.pipeguard.io/v1
kind: Widget
metadata: {name: ok}
spec: {size: 3}
EOF
expect_fail "invalid Widget" "spec.size" k -n smoke apply -f - <<'EOF'
apiVersion: smoke.pipeguard.io/v1
kind: Widget
metadata: {name: bad}
spec: {size: 0}
EOF

step "helm version / install / list / uninstall"
"$HELM" version
chart=$tmp/chart
mkdir -p "$chart/templates"
printf 'apiVersion: v2\nname: smoke\nversion: 0.1.0\n' >"$chart/Chart.yaml"
cat >"$chart/templates/cm.yaml" <<'EOF'
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-cm
data:
  release: {{ .Release.Name | quote }}
EOF
"$HELM" install smoke-release "$chart" -n smoke --wait --timeout 60s
[[ $(k -n smoke get configmap smoke-release-cm -o 'jsonpath={.data.release}') == smoke-release ]]
"$HELM" list -n smoke | grep -q smoke-release
"$HELM" uninstall smoke-release -n smoke

if command -v python3 >/dev/null; then
  step "validating webhook registered by URL (https://127.0.0.1:PORT)"
  "$here/cert.sh" "$tmp" webhook >/dev/null
  cat >"$tmp/webhook.py" <<'EOF'
# Denies objects labelled pipeguard-smoke/deny=true; allows everything else.
import json, ssl, sys
from http.server import BaseHTTPRequestHandler, HTTPServer

class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        review = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        req = review["request"]
        labels = ((req.get("object") or {}).get("metadata") or {}).get("labels") or {}
        deny = labels.get("pipeguard-smoke/deny") == "true"
        resp = {"uid": req["uid"], "allowed": not deny}
        if deny:
            resp["status"] = {"code": 403, "message": "denied by the pipeguard smoke webhook"}
        body = json.dumps({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
                           "response": resp}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass

server = HTTPServer(("127.0.0.1", int(sys.argv[1])), Handler)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(sys.argv[2], sys.argv[3])
server.socket = ctx.wrap_socket(server.socket, server_side=True)
server.serve_forever()
EOF
  webhook_port=
  cp_free_port webhook_port
  setsid python3 "$tmp/webhook.py" "$webhook_port" "$tmp/pki/webhook.crt" "$tmp/pki/webhook.key" \
    </dev/null >"$tmp/webhook.log" 2>&1 &
  webhook_pid=$!
  for _ in $(seq 50); do
    curl -s -o /dev/null --max-time 1 --cacert "$CA_CERT" "https://127.0.0.1:$webhook_port/" && break
    sleep 0.2
  done
  k apply -f - <<EOF
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata:
  name: pipeguard-smoke
webhooks:
- name: smoke.pipeguard.io
  clientConfig:
    url: https://127.0.0.1:$webhook_port/validate
    caBundle: $(base64 -w0 <"$CA_CERT")
  rules:
  - {apiGroups: [""], apiVersions: [v1], operations: [CREATE], resources: [configmaps]}
  namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: smoke}}
  sideEffects: None
  admissionReviewVersions: [v1]
  failurePolicy: Fail
  timeoutSeconds: 5
EOF
  # The API server picks the configuration up from its informer within a moment.
  denied=false
  for i in $(seq 50); do
    if ! out=$(k -n smoke create configmap "probe-$i" --from-literal=x=y --dry-run=server -o yaml |
      k label --local -f - pipeguard-smoke/deny=true -o yaml | k create --dry-run=server -f - 2>&1); then
      grep -q "denied by the pipeguard smoke webhook" <<<"$out" || {
        echo "unexpected error: $out" >&2
        exit 1
      }
      denied=true
      break
    fi
    sleep 0.2
  done
  [[ $denied == true ]] || {
    echo "the webhook never denied a labelled ConfigMap" >&2
    exit 1
  }
  k -n smoke create configmap allowed --from-literal=x=y
  kill "$webhook_pid"
  wait "$webhook_pid" 2>/dev/null || true
  webhook_pid=
else
  echo "controlplane smoke: python3 not found, webhook step skipped" >&2
fi

step "stop.sh and no leftover processes"
controlplane_down "$tmp"
[[ ! -e $tmp/env ]]
for pid in "${pids[@]}"; do
  ! cp_pid_alive "$pid" || {
    echo "PID $pid is still running" >&2
    exit 1
  }
done
leftover=$(cp_procs_in "$tmp")
[[ -z $leftover ]] || {
  echo "leftover processes: $(for p in $leftover; do tr '\0' ' ' <"/proc/$p/cmdline"; echo; done)" >&2
  exit 1
}
step "done"
