#!/usr/bin/env bash
# A ConfigMap created AFTER the governed pod that mounts it (issue 14, item 1, the other order), through the real
# API server calling the real pipeguard-webhook (--background-audit, registered as a ValidatingWebhookConfiguration):
# the pod is admitted with a warning that the ConfigMap does not exist yet; the ConfigMap with a literal password in
# its dbt profiles.yml is then denied at its own admission, naming the pod that reads it and no secret value; the
# same ConfigMap with env_var() is admitted; a ConfigMap read only by an ungoverned pod stays ungoverned; once the
# pod is deleted the ConfigMap is no longer governed.
# Needs a running control plane: KUBECTL, KUBECONFIG and CONTROLPLANE_DIR in the environment
# (tests/integration/run.sh sets them), and the binary in $PIPEGUARD_BUILD_DIR (default: build/).
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
build=${PIPEGUARD_BUILD_DIR:-$repo/build}
# shellcheck source=../../e2e/lib.sh
. "$repo/e2e/lib.sh"

webhook=$build/webhook/pipeguard-webhook
[[ -x $webhook ]] || { echo "config_map_readers_test: $webhook is missing; build first" >&2; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/pipeguard-cm-readers.XXXXXX")
ns="cm-readers-$RANDOM"
registration="pipeguard-cm-readers-$ns"
webhook_pid=
cleanup() {
  "$KUBECTL" delete validatingwebhookconfiguration "$registration" >/dev/null 2>&1
  [[ -n $webhook_pid ]] && kill "$webhook_pid" 2>/dev/null && wait "$webhook_pid" 2>/dev/null
  "$KUBECTL" delete namespace "$ns" --wait=false >/dev/null 2>&1
  rm -rf "$tmp"
}
trap cleanup EXIT

# A serving certificate the API server trusts (signed by the control plane's test CA).
cert=$(bash "$repo/scripts/controlplane/cert.sh" "$CONTROLPLANE_DIR" "cm-readers-$ns")
printf 'mode: enforce\nimages:\n  verify: false\n' >"$tmp/config.yaml"
"$KUBECTL" apply -f "$repo/crds/pipeguard.io_pipelinesecurityprofiles.yaml" \
  -f "$repo/crds/wgpolicyk8s.io_policyreports.yaml" >/dev/null
"$KUBECTL" wait --for=condition=Established crd/pipelinesecurityprofiles.pipeguard.io \
  crd/policyreports.wgpolicyk8s.io --timeout=30s >/dev/null
"$KUBECTL" create namespace "$ns" >/dev/null
"$KUBECTL" apply -n "$ns" -f "$here/data/profile-valid.yaml" >/dev/null

"$webhook" --tls-cert "$cert" --tls-key "${cert%.crt}.key" --config "$tmp/config.yaml" \
  --kubeconfig "$KUBECONFIG" --listen 127.0.0.1:0 --port-file "$tmp/port" --background-audit \
  >"$tmp/audit.log" 2>"$tmp/webhook.log" &
webhook_pid=$!
port=
for _ in $(seq 1 100); do
  [[ -s $tmp/port ]] && port=$(cat "$tmp/port") &&
    [[ $(curl -sk -o /dev/null -w '%{http_code}' "https://127.0.0.1:$port/readyz") == 200 ]] && break
  sleep 0.1
done
[[ -n $port ]] || { echo "config_map_readers_test: the webhook did not start: $(tail -5 "$tmp/webhook.log")" >&2; exit 1; }

"$KUBECTL" apply -f - >/dev/null <<EOF
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata: {name: $registration}
webhooks:
- name: validate.pipeguard.io
  clientConfig:
    url: https://127.0.0.1:$port/validate
    caBundle: $(base64 -w0 <"$CA_CERT")
  rules:
  - {apiGroups: [""], apiVersions: [v1], operations: [CREATE, UPDATE], resources: [pods, configmaps]}
  namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: $ns}}
  sideEffects: None
  admissionReviewVersions: [v1]
  failurePolicy: Fail
  timeoutSeconds: 10
EOF

# pod NAME LABELS CONFIGMAP : a pod (governed when LABELS say so) mounting CONFIGMAP.
pod() {
  cat <<EOF
apiVersion: v1
kind: Pod
metadata: {name: $1, namespace: $ns, labels: $2}
spec:
  serviceAccountName: payments-etl
  automountServiceAccountToken: false
  containers:
    - name: dbt
      image: 123456789012.dkr.ecr.eu-west-1.amazonaws.com/payments/dbt:1.8
      volumeMounts: [{name: profiles, mountPath: /root/.dbt}]
  volumes: [{name: profiles, configMap: {name: $3}}]
EOF
}
secret_value='Wh4reh0use-not-real-77'
# profiles NAME PASSWORD : a ConfigMap NAME (no pipeguard label) with a dbt profiles.yml.
profiles() {
  cat <<EOF
apiVersion: v1
kind: ConfigMap
metadata: {name: $1, namespace: $ns}
data:
  profiles.yml: |
    payments:
      target: prod
      outputs:
        prod:
          type: postgres
          host: warehouse.internal
          user: dbt
          password: $2
          sslmode: verify-full
EOF
}

# The registration is live once a governed pod with a literal password is denied (server-side dry run).
live=false
for _ in $(seq 1 100); do
  probe=$(pod probe '{pipeguard.io/pipeline: payments}' none |
    sed "s/      volumeMounts:/      env: [{name: DB_PASSWORD, value: $secret_value}]\n      volumeMounts:/" |
    "$KUBECTL" apply --dry-run=server -f - 2>&1)
  [[ $probe == *"pipeguard denied"* ]] && live=true && break
  sleep 0.1
done
check_eq "the API server calls the webhook" true "$live"

out=$(pod dbt-run '{pipeguard.io/pipeline: payments}' dbt-profiles | "$KUBECTL" apply -f - 2>&1)
check_match "the governed pod is admitted before its ConfigMap exists" "pod/dbt-run created" "$out"
check_match "with a warning that the ConfigMap will be checked at its own admission as read by the pod" \
  "ConfigMap $ns/dbt-profiles, which the pod reads, does not exist yet.*its own admission checks them as read by this pod" \
  "$out"

# The webhook's index follows the pod through the background audit's informer (milliseconds); the dry run
# waits for it without creating anything.
denied=
for _ in $(seq 1 100); do
  denied=$(profiles dbt-profiles "$secret_value" | "$KUBECTL" apply --dry-run=server -f - 2>&1)
  [[ $denied == *"pipeguard denied"* ]] && break
  sleep 0.1
done
out=$(profiles dbt-profiles "$secret_value" | "$KUBECTL" apply -f - 2>&1)
check_match "the ConfigMap with a literal password, created after the pod, is denied" \
  "denied the request: pipeguard denied ConfigMap $ns/dbt-profiles" "$out"
check_match "the denial names the pod that reads it and the file's field" \
  "plaintext-secret at /data/profiles.yml: read by Pod $ns/dbt-run at /spec/volumes/0/configMap/name; property data\[\"profiles.yml\"\]: payments.outputs.prod.password" \
  "$out"
check_no_match "no secret value in the denial" "$secret_value" "$out$denied"
check_eq "the ConfigMap was not stored" NotFound \
  "$("$KUBECTL" get configmap dbt-profiles -n "$ns" 2>&1 | grep -o NotFound)"

out=$(profiles dbt-profiles "\"{{ env_var('DBT_ENV_SECRET_PASSWORD') }}\"" | "$KUBECTL" apply -f - 2>&1)
check_match "the same ConfigMap with env_var() is admitted" "configmap/dbt-profiles created" "$out"

# A ConfigMap read only by an ungoverned pod is none of pipeguard's business.
pod web '{app: web}' web-profiles | "$KUBECTL" apply -f - >/dev/null 2>&1
sleep 1
out=$(profiles web-profiles "$secret_value" | "$KUBECTL" apply -f - 2>&1)
check_match "a ConfigMap read only by an ungoverned pod is admitted" "configmap/web-profiles created" "$out"

# Once the reader is gone the ConfigMap is ungoverned again (the index follows deletes).
"$KUBECTL" delete pod dbt-run -n "$ns" --wait=true >/dev/null 2>&1
outcome=
for _ in $(seq 1 100); do
  outcome=$(profiles dbt-profiles "$secret_value" | "$KUBECTL" apply --dry-run=server -f - 2>&1)
  [[ $outcome == *"configured"* ]] && break
  sleep 0.1
done
check_match "after the pod is deleted, the ConfigMap is no longer governed" "configmap/dbt-profiles configured" \
  "$outcome"

check_no_match "no secret value in the audit log" "$secret_value" "$(cat "$tmp/audit.log")"
check_no_match "the webhook logged no errors" '"level":"(error|critical)"' "$(cat "$tmp/webhook.log")"
e2e_summary config_map_readers_test
