#!/usr/bin/env bash
# The real pipeguard-webhook binary reading its context from a real kube-apiserver (--kubeconfig): /readyz turns
# 200 after the informers sync, and decisions follow PipelineSecurityProfiles and ServiceAccounts as they are
# created and deleted with kubectl, without a restart.
# Needs a running control plane: KUBECTL and KUBECONFIG in the environment (tests/integration/run.sh sets them),
# and the binaries in $PIPEGUARD_BUILD_DIR (default: build/).
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
build=${PIPEGUARD_BUILD_DIR:-$repo/build}
# shellcheck source=../../e2e/lib.sh
. "$repo/e2e/lib.sh"

for binary in webhook/pipeguard-webhook cli/pipeguard; do
  if [[ ! -x $build/$binary ]]; then
    echo "webhook_context_test: $build/$binary is missing; build first (cmake --build $build)" >&2
    exit 1
  fi
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/pipeguard-webhook-context.XXXXXX")
ns="webhook-context-$RANDOM"
webhook_pid=
cleanup() {
  [[ -n $webhook_pid ]] && kill "$webhook_pid" 2>/dev/null && wait "$webhook_pid" 2>/dev/null
  "$KUBECTL" delete namespace "$ns" --wait=false >/dev/null 2>&1
  rm -rf "$tmp"
}
trap cleanup EXIT

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=localhost \
  -addext subjectAltName=IP:127.0.0.1 -keyout "$tmp/key.pem" -out "$tmp/cert.pem" 2>/dev/null
# No registry here: the image rules are covered by the registry suites.
printf 'mode: enforce\nimages:\n  verify: false\n' >"$tmp/config.yaml"

"$KUBECTL" apply -f "$repo/crds/pipeguard.io_pipelinesecurityprofiles.yaml" >/dev/null
"$KUBECTL" wait --for=condition=Established crd/pipelinesecurityprofiles.pipeguard.io --timeout=30s >/dev/null
"$KUBECTL" create namespace "$ns" >/dev/null

"$build/webhook/pipeguard-webhook" --tls-cert "$tmp/cert.pem" --tls-key "$tmp/key.pem" --config "$tmp/config.yaml" \
  --kubeconfig "$KUBECONFIG" --listen 127.0.0.1:0 --port-file "$tmp/port" >"$tmp/audit.log" 2>"$tmp/webhook.log" &
webhook_pid=$!

# readyz PORT: prints the HTTP status of /readyz.
readyz() { curl -sk -o /dev/null -w '%{http_code}' "https://127.0.0.1:$1/readyz"; }
port=
for _ in $(seq 1 100); do
  [[ -s $tmp/port ]] && port=$(cat "$tmp/port") && [[ $(readyz "$port") == 200 ]] && break
  sleep 0.1
done
check_eq "/readyz is 200 once the informers have synced" 200 "$( [[ -n $port ]] && readyz "$port")"

# decide MANIFEST : prints "allowed" or the denial's rule IDs, from the webhook's AdmissionReview response.
decide() {
  "$build/cli/pipeguard" admission-review "$1" |
    curl -sk -H 'Content-Type: application/json' --data-binary @- "https://127.0.0.1:$port/validate" |
    jq -r 'if .response.allowed then "allowed" else .response.status.message end'
}

# pod NAME SERVICE_ACCOUNT : writes a governed pod of the "payments" pipeline to $tmp/NAME.yaml.
pod() {
  cat >"$tmp/$1.yaml" <<EOF
apiVersion: v1
kind: Pod
metadata: {name: $1, namespace: $ns, labels: {pipeguard.io/pipeline: payments}}
spec:
  serviceAccountName: $2
  automountServiceAccountToken: false
  containers: [{name: main, image: 123456789012.dkr.ecr.eu-west-1.amazonaws.com/payments/etl:1.0}]
EOF
}
pod good payments-etl
pod other-sa default

check_match "without a profile in the cluster, a pipeline pod is denied (missing-profile)" "missing-profile" \
  "$(decide "$tmp/good.yaml")"

"$KUBECTL" apply -n "$ns" -f "$here/data/profile-valid.yaml" >/dev/null
outcome=
for _ in $(seq 1 50); do
  outcome=$(decide "$tmp/good.yaml")
  [[ $outcome == allowed ]] && break
  sleep 0.1
done
check_eq "a profile applied with kubectl admits its pipeline's pod within 5 s, no restart" allowed "$outcome"
check_match "a pod of that pipeline with another service account is denied (service-account-scope)" \
  "service-account-scope" "$(decide "$tmp/other-sa.yaml")"

# The ServiceAccount object itself is context: one that automounts its token makes an unset pod field unsafe.
"$KUBECTL" create serviceaccount payments-etl -n "$ns" >/dev/null
"$KUBECTL" create rolebinding payments-admin -n "$ns" --clusterrole=admin \
  --serviceaccount="$ns:payments-etl" >/dev/null
outcome=
for _ in $(seq 1 50); do
  outcome=$(decide "$tmp/good.yaml")
  [[ $outcome != allowed ]] && break
  sleep 0.1
done
check_match "binding the profile's service account to 'admin' with kubectl is seen and denied" \
  "service-account-scope" "$outcome"

"$KUBECTL" delete pipelinesecurityprofile payments -n "$ns" >/dev/null
outcome=
for _ in $(seq 1 50); do
  outcome=$(decide "$tmp/good.yaml")
  [[ $outcome == *missing-profile* ]] && break
  sleep 0.1
done
check_match "deleting the profile is seen: missing-profile again" "missing-profile" "$outcome"

check_no_match "the webhook logged no errors" '"level":"(error|critical)"' "$(cat "$tmp/webhook.log")"
e2e_summary webhook_context_test
