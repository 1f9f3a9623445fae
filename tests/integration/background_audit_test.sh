#!/usr/bin/env bash
# The background audit of the real pipeguard-webhook (--background-audit) against a real kube-apiserver: objects
# stored before the webhook started appear in the namespace's PolicyReport with the right rules and no secret
# value; fixing or deleting one removes its result within 5 s; a report deleted by someone is restored; the
# metrics count the violations; with two replicas on one Lease only the leader writes; a quiet cluster costs no
# writes.
# Needs a running control plane: KUBECTL and KUBECONFIG in the environment (tests/integration/run.sh sets them),
# and the binaries in $PIPEGUARD_BUILD_DIR (default: build/).
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
build=${PIPEGUARD_BUILD_DIR:-$repo/build}
# shellcheck source=../../e2e/lib.sh
. "$repo/e2e/lib.sh"

webhook=$build/webhook/pipeguard-webhook
[[ -x $webhook ]] || { echo "background_audit_test: $webhook is missing; build first" >&2; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/pipeguard-background-audit.XXXXXX")
ns="audit-$RANDOM"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; done
  "$KUBECTL" delete namespace "$ns" --wait=false >/dev/null 2>&1
  rm -rf "$tmp"
}
trap cleanup EXIT

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=localhost \
  -addext subjectAltName=IP:127.0.0.1 -keyout "$tmp/key.pem" -out "$tmp/cert.pem" 2>/dev/null
printf 'mode: enforce\nimages:\n  verify: false\n' >"$tmp/config.yaml"
"$KUBECTL" apply -f "$repo/crds/pipeguard.io_pipelinesecurityprofiles.yaml" \
  -f "$repo/crds/wgpolicyk8s.io_policyreports.yaml" >/dev/null
"$KUBECTL" wait --for=condition=Established crd/pipelinesecurityprofiles.pipeguard.io \
  crd/policyreports.wgpolicyk8s.io --timeout=30s >/dev/null
"$KUBECTL" create namespace "$ns" >/dev/null
"$KUBECTL" apply -n "$ns" -f "$here/data/profile-valid.yaml" >/dev/null

# What was there before pipeguard: a pod and a Deployment with a literal password, a clean CronJob.
secret_value='Pq7-not-a-real-Secret-4x'
"$KUBECTL" apply -n "$ns" -f - >/dev/null <<EOF
apiVersion: v1
kind: Pod
metadata: {name: leaky-loader, labels: {pipeguard.io/pipeline: payments}}
spec:
  serviceAccountName: payments-etl
  automountServiceAccountToken: false
  containers:
    - name: main
      image: 123456789012.dkr.ecr.eu-west-1.amazonaws.com/payments/etl:1.0
      env: [{name: DB_PASSWORD, value: "$secret_value"}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: ingest}
spec:
  replicas: 0
  selector: {matchLabels: {app: ingest}}
  template:
    metadata: {labels: {app: ingest, pipeguard.io/pipeline: payments}}
    spec:
      serviceAccountName: payments-etl
      automountServiceAccountToken: false
      containers:
        - name: main
          image: 123456789012.dkr.ecr.eu-west-1.amazonaws.com/payments/ingest:2.1
          env: [{name: KAFKA_SASL_PASSWORD, value: "$secret_value"}]
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: nightly}
spec:
  schedule: "0 2 * * *"
  jobTemplate:
    spec:
      template:
        metadata: {labels: {pipeguard.io/pipeline: payments}}
        spec:
          restartPolicy: Never
          serviceAccountName: payments-etl
          automountServiceAccountToken: false
          containers: [{name: main, image: 123456789012.dkr.ecr.eu-west-1.amazonaws.com/payments/etl:1.0}]
EOF

# start_webhook NAME : a webhook replica with the background audit on the shared Lease.
start_webhook() {
  POD_NAME=$1 "$webhook" --tls-cert "$tmp/cert.pem" --tls-key "$tmp/key.pem" --config "$tmp/config.yaml" \
    --kubeconfig "$KUBECONFIG" --listen 127.0.0.1:0 --port-file "$tmp/$1.port" --background-audit \
    --audit-lease "$ns/pipeguard-audit" >"$tmp/$1.audit.log" 2>"$tmp/$1.log" &
  pids+=($!)
  for _ in $(seq 1 100); do [[ -s $tmp/$1.port ]] && break; sleep 0.1; done
}
start_webhook replica-a

report() { "$KUBECTL" get policyreport pipeguard -n "$ns" -o json 2>/dev/null; }
# wait_report JQ_FILTER : waits up to 20 s until the report satisfies the filter; prints the seconds it took
# ("timeout" and a failure otherwise).
wait_report() {
  local start=$EPOCHREALTIME
  for _ in $(seq 1 200); do
    if report | jq -e "$1" >/dev/null 2>&1; then
      awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN {printf "%.1f\n", b - a}'
      return 0
    fi
    sleep 0.1
  done
  echo timeout
  return 1
}
# within SECONDS TOOK : true when TOOK (from wait_report) is a number no larger than SECONDS.
within() { [[ $2 != timeout ]] && awk -v t="$2" -v s="$1" 'BEGIN {exit !(t <= s)}'; }
fail_of() { printf '.results[] | select(.resources[0].name == "%s" and .result == "fail") | .rule' "$1"; }

check "the report of objects stored before the webhook started appears" \
  wait_report '.summary.fail == 2 and .summary.pass == 1'
check_eq "the pod's failure is plaintext-secret" plaintext-secret "$(report | jq -r "$(fail_of leaky-loader)")"
check_eq "the Deployment's pod template fails plaintext-secret" plaintext-secret \
  "$(report | jq -r "$(fail_of ingest)")"
check_eq "the clean CronJob passes" pass \
  "$(report | jq -r '.results[] | select(.resources[0].name == "nightly") | .result')"
check_no_match "no secret value in the stored report" "$secret_value" "$(report)"

pipeguard=$build/cli/pipeguard
if [[ -x $pipeguard ]]; then
  evidence=$("$pipeguard" report --kubeconfig "$KUBECONFIG" -o json 2>"$tmp/report.err")
  check_eq "pipeguard report --kubeconfig lists the namespace's current violations from the cluster" 2 \
    "$(jq --arg ns "$ns" '.currentViolations[] | select(.namespace == $ns) | .fail' <<<"$evidence" 2>&1)$(cat "$tmp/report.err")"
  check_no_match "the evidence holds no secret value" "$secret_value" "$evidence"
fi

port=$(cat "$tmp/replica-a.port")
metrics() { curl -sk "https://127.0.0.1:$1/metrics"; }
check_match "the metrics count the namespace's violations by rule" \
  "pipeguard_audit_violations\{namespace=\"$ns\",result=\"fail\",rule=\"plaintext-secret\"\} 2" "$(metrics "$port")"
check_eq "the Lease names the writing replica" replica-a \
  "$("$KUBECTL" get lease pipeguard-audit -n "$ns" -o jsonpath='{.spec.holderIdentity}')"

# A second replica on the same Lease keeps its caches warm and writes nothing.
start_webhook replica-b
sleep 2
check_match "the second replica does not lead" "pipeguard_audit_leader 0" "$(metrics "$(cat "$tmp/replica-b.port")")"
check_no_match "the second replica wrote no report" 'pipeguard_audit_report_writes_total\{' \
  "$(metrics "$(cat "$tmp/replica-b.port")")"

# Fixes reach the report within 5 s.
"$KUBECTL" delete pod leaky-loader -n "$ns" --wait=false >/dev/null
took=$(wait_report "[$(fail_of leaky-loader)] | length == 0")
check "deleting the leaky pod removes its result within 5 s (took $took s)" within 5 "$took"
"$KUBECTL" create secret generic ingest-kafka -n "$ns" --from-literal=PASSWORD=unused >/dev/null
"$KUBECTL" set env deployment/ingest -n "$ns" KAFKA_SASL_PASSWORD- >/dev/null
"$KUBECTL" set env deployment/ingest -n "$ns" --from=secret/ingest-kafka --prefix=KAFKA_SASL_ >/dev/null
took=$(wait_report '.summary.fail == 0 and .summary.pass == 2')
check "fixing the Deployment turns its result to pass within 5 s (took $took s)" within 5 "$took"

# Someone deletes the report: it comes back.
"$KUBECTL" delete policyreport pipeguard -n "$ns" >/dev/null
check "a deleted report is restored" wait_report '.summary.pass == 2'

# A quiet cluster costs no writes: the leader's writes over 3 s with nothing changing.
writes() { metrics "$port" | awk '/^pipeguard_audit_report_writes_total/ {n += $2} END {print n + 0}'; }
before=$(writes)
sleep 3
check_eq "no report writes while nothing changes" "$before" "$(writes)"

check_no_match "the webhooks logged no errors" '"level":"(error|critical)"' "$(cat "$tmp"/replica-*.log)"
e2e_summary background_audit_test
