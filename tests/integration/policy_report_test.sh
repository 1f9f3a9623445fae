#!/usr/bin/env bash
# `pipeguard scan -o policyreport` against a real kube-apiserver: the wgpolicyk8s.io CRDs are accepted, the scan's
# reports of the examples apply with kubectl as they are, the stored summaries match the scan, the schema refuses a
# result the format does not allow, and no secret value from the examples reaches a stored report.
# Needs a running control plane (KUBECTL, KUBECONFIG; tests/integration/run.sh) and build/cli/pipeguard.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
build=${PIPEGUARD_BUILD_DIR:-$repo/build}
pipeguard=$build/cli/pipeguard
[[ -x $pipeguard ]] || { echo "policy_report_test: $pipeguard is missing; build first" >&2; exit 1; }
passed=0 failed=0
check() {  # check NAME COMMAND...: runs a check and counts it
  local name=$1; shift
  if "$@"; then passed=$((passed + 1)); echo "  ok   $name"; else failed=$((failed + 1)); echo "  FAIL $name"; fi
}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$KUBECTL" apply -f "$repo/crds/wgpolicyk8s.io_policyreports.yaml" >/dev/null
check "PolicyReport CRD becomes Established" "$KUBECTL" wait --for=condition=Established \
  crd/policyreports.wgpolicyk8s.io crd/clusterpolicyreports.wgpolicyk8s.io --timeout=30s
check "the chart ships the same CRDs" cmp "$repo/crds/wgpolicyk8s.io_policyreports.yaml" \
  "$repo/helm/pipeguard/crds/wgpolicyk8s.io_policyreports.yaml"

# Exit 1 (denials) is expected: the bad examples are there to be denied.
"$pipeguard" scan --config "$repo/examples/config.yaml" --profiles "$repo/examples/context" -o policyreport \
  "$repo/examples/good" "$repo/examples/bad" >"$tmp/reports.json" 2>/dev/null || [[ $? == 1 ]]
python3 - "$tmp/reports.json" >"$tmp/namespaces" <<'PY'
import json, sys
items = json.load(open(sys.argv[1]))["items"]
print("\n".join(sorted({i["metadata"]["namespace"] for i in items if i["kind"] == "PolicyReport"})))
PY
while read -r ns; do "$KUBECTL" create namespace "$ns" --dry-run=client -o yaml | "$KUBECTL" apply -f - >/dev/null; done \
  <"$tmp/namespaces"
check "the scan's reports apply with kubectl as they are" "$KUBECTL" apply -f "$tmp/reports.json"

# Every stored summary equals the scan's; the failures are there.
python3 - "$tmp/reports.json" >"$tmp/expected" <<'PY'
import json, sys
for i in json.load(open(sys.argv[1]))["items"]:
    s = i["summary"]
    print(i["metadata"].get("namespace", "-"), s["pass"], s["fail"], s["warn"], len(i["results"]))
PY
# Only the namespaces of the examples: other suites' reports (the background audit's) may share the cluster.
"$KUBECTL" get policyreports -A -o json | python3 -c '
import json, sys
wanted = set(open(sys.argv[1]).read().split())
for i in sorted(json.load(sys.stdin)["items"], key=lambda i: i["metadata"]["namespace"]):
    if i["metadata"]["namespace"] not in wanted:
        continue
    s = i["summary"]
    print(i["metadata"]["namespace"], s["pass"], s["fail"], s["warn"], len(i["results"]))
' "$tmp/namespaces" >"$tmp/stored"
check "stored summaries and result counts match the scan" diff <(grep -v '^- ' "$tmp/expected" | sort) "$tmp/stored"
check "the bad examples are reported as failures" test "$(awk '{f += $3} END {print f + 0}' "$tmp/stored")" -gt 0
check "kubectl prints the summary columns" bash -c "'$KUBECTL' get polr -A | head -1 | grep -q 'PASS.*FAIL.*WARN'"

# No literal secret of the bad examples in any stored report: the values of env vars and conf keys named like
# credentials, and the passwords of URIs with user:password@.
python3 - "$repo/examples/bad" >"$tmp/secrets" <<'PY'
import os, re, sys, yaml
credential = re.compile(r"(password|passwd|secret|token|credential)", re.I)
found = set()
def walk(node):
    if isinstance(node, dict):
        name = str(node.get("name", ""))
        if credential.search(name) and isinstance(node.get("value"), str):
            found.add(node["value"])
        for key, value in node.items():
            if credential.search(str(key)) and isinstance(value, str) and "://" not in value:
                found.add(value)
            walk(value)
    elif isinstance(node, list):
        for item in node:
            walk(item)
    elif isinstance(node, str):
        found.update(re.findall(r"://[^:/@\s]+:([^@\s]+)@", node))
        found.update(m[1] for m in re.findall(r"(password|secret)[=:]([^\s;,&]+)", node, re.I))
for root, _, files in os.walk(sys.argv[1]):
    for f in files:
        for doc in yaml.safe_load_all(open(os.path.join(root, f))):
            walk(doc)
print("\n".join(sorted(v for v in found if len(v) >= 6)))
PY
stored=$("$KUBECTL" get policyreports -A -o json)
leaked=0
while read -r secret; do
  [[ -z $secret ]] && continue
  grep -qF -- "$secret" <<<"$stored" && { echo "    leaked a value from examples/bad"; leaked=1; }
done <"$tmp/secrets"
check "no secret value from the bad examples is stored ($(wc -l <"$tmp/secrets") values checked)" \
  test "$leaked" = 0 -a -s "$tmp/secrets"

# The schema is enforced: a result outside the format's enums is refused.
ns=$(head -1 "$tmp/namespaces")
bad=$(printf '{"apiVersion":"wgpolicyk8s.io/v1alpha2","kind":"PolicyReport","metadata":{"name":"bad","namespace":"%s"},"results":[{"policy":"p","result":"maybe"}]}' "$ns")
errors=$("$KUBECTL" apply -f - <<<"$bad" 2>&1 || true)
check "a result outside pass/fail/warn/error/skip is refused" grep -q 'Unsupported value: "maybe"' <<<"$errors"

echo "policy_report_test: $passed passed, $failed failed"
((failed == 0))
