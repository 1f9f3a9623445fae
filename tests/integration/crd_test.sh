#!/usr/bin/env bash
# The PipelineSecurityProfile CRD against a real kube-apiserver: it is accepted (structural schema, CEL cost
# budget), defaults are applied, and invalid profiles are rejected with the messages users will see.
# Needs a running control plane: KUBECTL and KUBECONFIG in the environment (tests/integration/run.sh sets them).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
passed=0 failed=0
check() {  # check NAME COMMAND...: runs a check and counts it
  local name=$1; shift
  if "$@"; then passed=$((passed + 1)); echo "  ok   $name"; else failed=$((failed + 1)); echo "  FAIL $name"; fi
}

ns="crd-test-$RANDOM"
"$KUBECTL" apply -f "$repo/crds/pipeguard.io_pipelinesecurityprofiles.yaml" >/dev/null
check "CRD becomes Established" "$KUBECTL" wait --for=condition=Established \
  crd/pipelinesecurityprofiles.pipeguard.io --timeout=30s
"$KUBECTL" create namespace "$ns" >/dev/null

check "a valid profile is accepted" "$KUBECTL" apply -n "$ns" -f "$here/data/profile-valid.yaml"
defaults=$("$KUBECTL" get pipelinesecurityprofile payments -n "$ns" \
  -o jsonpath='{.spec.serviceAccount.automountToken}/{.spec.deletionPolicy}/{.spec.network.egress[0].ports[0].protocol}')
check "defaults applied (automountToken=false, deletionPolicy=Delete, protocol=TCP)" test "$defaults" = "false/Delete/TCP"
check "spec.images.trustedKeys is kept (structural schema, not pruned)" test "$("$KUBECTL" get \
  pipelinesecurityprofile payments -n "$ns" -o jsonpath='{.spec.images.trustedKeys[0]}')" = "payments-ci"
check "printer columns list the service account" \
  bash -c "'$KUBECTL' get pipelinesecurityprofiles -n '$ns' | grep -q 'payments-etl'"
check "kubectl get -o wide lists the profile's signing keys" \
  bash -c "'$KUBECTL' get pipelinesecurityprofiles -n '$ns' -o wide | grep -q 'payments-ci'"
check "status subresource is writable" "$KUBECTL" patch pipelinesecurityprofile payments -n "$ns" \
  --subresource=status --type=merge -p '{"status":{"roleArn":"arn:aws:iam::123456789012:role/pipeguard/x"}}'

errors=$("$KUBECTL" apply -n "$ns" -f "$here/data/profile-invalid.yaml" 2>&1 || true)
for expected in "spec.serviceAccount.name" "In and NotIn need values" \
  "each egress rule names exactly one destination" "endPort must not be below port" "must be a CIDR" \
  "spec.images.trustedKeys[1]: Duplicate value"; do
  check "invalid profile rejected: $expected" grep -qF "$expected" <<<"$errors"
done

"$KUBECTL" delete namespace "$ns" --wait=false >/dev/null
echo "crd_test: $passed passed, $failed failed"
((failed == 0))
