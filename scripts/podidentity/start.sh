#!/usr/bin/env bash
# Runs the Amazon EKS Pod Identity Webhook (install.sh builds it) as a local process against a control plane started
# by scripts/controlplane/start.sh, and registers it with the API server the way EKS configures it: pods whose
# ServiceAccount carries eks.amazonaws.com/role-arn get AWS_ROLE_ARN, AWS_WEB_IDENTITY_TOKEN_FILE
# (/var/run/secrets/eks.amazonaws.com/serviceaccount/token), AWS_REGION, AWS_DEFAULT_REGION,
# AWS_STS_REGIONAL_ENDPOINTS=regional and the projected volume aws-iam-token (a ServiceAccount token with audience
# sts.amazonaws.com).
#
# Usage: start.sh DIR CONTROLPLANE_DIR     (stop with stop.sh DIR)
#
# Contract:
#   - the webhook runs out-of-cluster (--in-cluster=false) with
#       * its own identity: ServiceAccount kube-system/pod-identity-webhook, allowed only to get/list/watch
#         ServiceAccounts (ClusterRole pod-identity-webhook), through DIR/kubeconfig holding a token of that
#         ServiceAccount (`kubectl create token`, 24 h);
#       * a serving certificate from the control plane's test CA (scripts/controlplane/cert.sh, SAN 127.0.0.1),
#         copied to DIR/tls.{crt,key};
#       * the annotation-based configuration of EKS: --annotation-prefix eks.amazonaws.com, --token-audience
#         sts.amazonaws.com, --token-mount-path /var/run/secrets/eks.amazonaws.com/serviceaccount,
#         --aws-default-region PIPEGUARD_PODIDENTITY_REGION (default us-east-1), --sts-regional-endpoint, and a
#         ServiceAccount lookup grace period of 2 s (a pod created right after its ServiceAccount still gets
#         mutated once the webhook's informer has it).
#   - ports: a free port for HTTPS (/mutate, /healthz) and one for metrics. The webhook has no bind-address flag: it
#     listens on all addresses of the machine (":PORT"); the API server calls it at https://127.0.0.1:PORT/mutate.
#     It sends traffic only to the API server named in DIR/kubeconfig (loopback).
#   - MutatingWebhookConfiguration pod-identity-webhook (PIPEGUARD_PODIDENTITY_CONFIGURATION overrides the name): as
#     the project's deploy/mutatingwebhook.yaml (Pod CREATE, objectSelector without the label
#     eks.amazonaws.com/skip-pod-identity-webhook, admissionReviewVersions [v1beta1], sideEffects None) except
#     failurePolicy Fail, so a webhook that is down is noticed instead of producing pods without credentials;
#     clientConfig.url https://127.0.0.1:PORT/mutate with caBundle = the control plane's CA.
#   - the process is started with setsid (PID = PGID), its PID in DIR/pod-identity-webhook.pid, log in
#     DIR/pod-identity-webhook.log. PIPEGUARD_PODIDENTITY_OWNER_PID=PID: a watchdog runs stop.sh DIR when PID exits.
#   - exits 0 once /healthz answers over TLS and the configuration is registered, after writing DIR/env (last):
#     PODIDENTITY_DIR PODIDENTITY_URL PODIDENTITY_PORT PODIDENTITY_METRICS_PORT PODIDENTITY_PID
#     PODIDENTITY_WATCHDOG_PID PODIDENTITY_CONFIGURATION PODIDENTITY_VERSION PODIDENTITY_LOG KUBECONFIG (the
#     control plane's admin kubeconfig). DIR/registration names what stop.sh removes. On failure it stops what
#     it started and exits 1 with the log's tail.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../controlplane/lib.sh
. "$here/../controlplane/lib.sh"

pi_log() { printf 'podidentity: %s\n' "$*" >&2; }
pi_die() {
  pi_log "error: $*"
  exit 1
}

[[ $# -eq 2 && $1 != -* ]] || pi_die "usage: start.sh DIR CONTROLPLANE_DIR"
umask 077
mkdir -p "$1"
dir=$(cd "$1" && pwd -P)
cp_dir=$(cd "$2" && pwd -P)
[[ -s $cp_dir/env ]] || pi_die "no running control plane in $cp_dir (scripts/controlplane/start.sh)"
: "${PIPEGUARD_PODIDENTITY_VERSION:=v0.6.17}"
region=${PIPEGUARD_PODIDENTITY_REGION:-us-east-1}
configuration=${PIPEGUARD_PODIDENTITY_CONFIGURATION:-pod-identity-webhook}
timeout=${PIPEGUARD_PODIDENTITY_TIMEOUT:-60}

for name in pod-identity-webhook watchdog; do
  if [[ -f $dir/$name.pid ]] && cp_pid_owned "$(cat "$dir/$name.pid")" "$dir"; then
    pi_die "a pod identity webhook is already running in $dir ($name PID $(cat "$dir/$name.pid")); stop.sh it first"
  fi
done
rm -f "$dir/env" "$dir"/*.pid

bin=$("$here/install.sh" --print-path)
cp_kubeconfig=$(sed -n 's/^KUBECONFIG=//p' "$cp_dir/env")
kubectl=$(sed -n 's/^KUBECTL=//p' "$cp_dir/env")
ca_cert=$(sed -n 's/^CA_CERT=//p' "$cp_dir/env")
apiserver_url=$(sed -n 's/^APISERVER_URL=//p' "$cp_dir/env")
k() { "$kubectl" --kubeconfig "$cp_kubeconfig" --request-timeout=30s "$@"; }

started=false
cleanup() {
  $started && return 0
  "$here/stop.sh" "$dir" >&2 || true
}
trap cleanup EXIT

# --- identity: a ServiceAccount that may only read ServiceAccounts --------------------------------------------------
k apply -f - >/dev/null <<EOF
apiVersion: v1
kind: ServiceAccount
metadata: {name: pod-identity-webhook, namespace: kube-system}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: pod-identity-webhook}
rules:
  - {apiGroups: [""], resources: [serviceaccounts], verbs: [get, list, watch]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: pod-identity-webhook}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: pod-identity-webhook}
subjects:
  - {kind: ServiceAccount, name: pod-identity-webhook, namespace: kube-system}
EOF
token=$(k -n kube-system create token pod-identity-webhook --duration=24h) || pi_die "cannot issue its token"
cat >"$dir/kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: pipeguard
  cluster:
    server: $apiserver_url
    certificate-authority-data: $(base64 -w0 <"$ca_cert")
users:
- name: pod-identity-webhook
  user:
    token: $token
contexts:
- name: pod-identity-webhook
  context: {cluster: pipeguard, user: pod-identity-webhook}
current-context: pod-identity-webhook
EOF
unset token

# --- serving certificate ---------------------------------------------------------------------------------------------
"$here/../controlplane/cert.sh" "$cp_dir" pod-identity-webhook IP:127.0.0.1 DNS:localhost >/dev/null
cp "$cp_dir/pki/pod-identity-webhook.crt" "$dir/tls.crt"
cp "$cp_dir/pki/pod-identity-webhook.key" "$dir/tls.key"

launch() { cp_launch "$dir" "$@"; } # launch NAME CMD... (scripts/controlplane/lib.sh)
healthy() { [[ $(curl -fsS --max-time 2 --cacert "$ca_cert" "https://127.0.0.1:$wh_port/healthz") == ok ]]; }

wh_port='' wh_metrics_port=''
for attempt in 1 2 3; do
  cp_free_port wh_port
  cp_free_port wh_metrics_port
  launch pod-identity-webhook "$bin" --in-cluster=false --kubeconfig "$dir/kubeconfig" \
    --tls-cert "$dir/tls.crt" --tls-key "$dir/tls.key" --port "$wh_port" --metrics-port "$wh_metrics_port" \
    --annotation-prefix eks.amazonaws.com --token-audience sts.amazonaws.com \
    --token-mount-path /var/run/secrets/eks.amazonaws.com/serviceaccount \
    --aws-default-region "$region" --sts-regional-endpoint=true \
    --service-account-lookup-grace-period=2s --logtostderr
  pid=$(cat "$dir/pod-identity-webhook.pid")
  status=0
  cp_wait_up "$dir" pod-identity-webhook "$timeout" healthy && break || status=$?
  if ((status == 2)); then
    pi_log "error: not healthy at https://127.0.0.1:$wh_port after ${timeout}s; last lines of $dir/pod-identity-webhook.log:"
    tail -n 40 "$dir/pod-identity-webhook.log" >&2 || true
    exit 1
  fi
  if cp_lost_port_race "$dir" pod-identity-webhook && ((attempt < 3)); then
    pi_log "lost a port race; retrying"
    continue
  fi
  pi_log "error: exited during startup; last lines of $dir/pod-identity-webhook.log:"
  tail -n 40 "$dir/pod-identity-webhook.log" >&2 || true
  exit 1
done
pi_log "pod identity webhook $PIPEGUARD_PODIDENTITY_VERSION healthy at https://127.0.0.1:$wh_port (PID $pid)"

# --- registration, as deploy/mutatingwebhook.yaml but failurePolicy Fail and a URL ----------------------------------
printf '%s\n' "$kubectl" "$cp_kubeconfig" "$configuration" >"$dir/registration" # what stop.sh removes
k apply -f - >/dev/null <<EOF
apiVersion: admissionregistration.k8s.io/v1
kind: MutatingWebhookConfiguration
metadata:
  name: $configuration
  labels: {app.kubernetes.io/name: amazon-eks-pod-identity-webhook}
webhooks:
  - name: pod-identity-webhook.amazonaws.com
    failurePolicy: Fail
    clientConfig:
      url: https://127.0.0.1:$wh_port/mutate
      caBundle: $(base64 -w0 <"$ca_cert")
    objectSelector:
      matchExpressions:
        - {key: eks.amazonaws.com/skip-pod-identity-webhook, operator: DoesNotExist}
    rules:
      - {operations: [CREATE], apiGroups: [""], apiVersions: [v1], resources: [pods]}
    sideEffects: None
    admissionReviewVersions: [v1beta1]
    timeoutSeconds: 10
EOF
pi_log "MutatingWebhookConfiguration $configuration registered (url https://127.0.0.1:$wh_port/mutate)"

watchdog_pid=
if [[ -n ${PIPEGUARD_PODIDENTITY_OWNER_PID:-} ]]; then
  owner=$PIPEGUARD_PODIDENTITY_OWNER_PID
  cp_pid_alive "$owner" || pi_die "PIPEGUARD_PODIDENTITY_OWNER_PID=$owner is not running"
  cp_arm_watchdog "$dir" "$owner" "$here/stop.sh" pipeguard-podidentity-watchdog
  watchdog_pid=$(cat "$dir/watchdog.pid")
fi

{
  printf '%s=%q\n' PODIDENTITY_DIR "$dir" PODIDENTITY_URL "https://127.0.0.1:$wh_port" PODIDENTITY_PORT "$wh_port" \
    PODIDENTITY_METRICS_PORT "$wh_metrics_port" PODIDENTITY_PID "$pid" PODIDENTITY_WATCHDOG_PID "$watchdog_pid" \
    PODIDENTITY_CONFIGURATION "$configuration" PODIDENTITY_VERSION "$PIPEGUARD_PODIDENTITY_VERSION" \
    PODIDENTITY_LOG "$dir/pod-identity-webhook.log" KUBECONFIG "$cp_kubeconfig"
} >"$dir/env.tmp"
mv -f "$dir/env.tmp" "$dir/env"
started=true
