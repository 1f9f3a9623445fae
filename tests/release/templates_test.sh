#!/usr/bin/env bash
# The release workflow templates (examples/release/): the GitHub Actions workflow passes actionlint (built from its
# Go module; it runs shellcheck on every run: block) and a broken copy does not; the GitLab CI include is a
# consistent pipeline (stages, needs, the keyless id_token, the gate before deploy); the jq program that turns a
# Grype report into cosign's vulnerability predicate gives the documented fields; and the local run of the same
# steps (scripts/release/local-release.sh, real registry + cosign + pipeguard) succeeds.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
# shellcheck source=../../e2e/lib.sh
. "$repo/e2e/lib.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
workflow=$repo/examples/release/github/release.yml
include=$repo/examples/release/gitlab/pipeguard-release.gitlab-ci.yml

actionlint=$(bash "$repo/scripts/actionlint/install.sh" --print-path 2>"$tmp/actionlint-install.log") ||
  { cat "$tmp/actionlint-install.log" >&2; e2e_fail "build actionlint" "see above"; e2e_summary release_templates; exit 1; }
command -v shellcheck >/dev/null && shellcheck_note="(with shellcheck on run: blocks)" || shellcheck_note=""
check "actionlint accepts the GitHub Actions release workflow $shellcheck_note" "$actionlint" -no-color "$workflow"
# Each mistake on its own must be caught, or the lint above proves nothing.
for mistake in 's/          push: true/          pushh: true/' 's/id-token: write # keyless/id-token: writ # keyless/' \
  's/steps.build.outputs.digest }}$/steps.build.outputs.digets }}/'; do
  sed "$mistake" "$workflow" >"$tmp/broken.yml"
  check_fails "actionlint refuses a copy with one mistake ($mistake)" 'pushh|writ|digets' \
    "$actionlint" -no-color "$tmp/broken.yml"
done
check_match "the signing job may request an OIDC token (keyless)" \
  'id-token: write # keyless' "$(cat "$workflow")"
check_match "deploy needs the image, the manifest scan and the Terraform review" \
  'needs: \[image, manifests, terraform\]' "$(cat "$workflow")"

check "the GitLab include is a consistent pipeline" python3 - "$include" <<'PY'
import sys, yaml
doc = yaml.safe_load(open(sys.argv[1]))
stages = doc["stages"]
jobs = {name: job for name, job in doc.items() if isinstance(job, dict) and not name.startswith(".")
        and name not in ("variables", "default", "workflow")}
problems = []
for name, job in jobs.items():
    if job.get("stage") not in stages:
        problems.append(f"{name}: stage {job.get('stage')!r} is not in stages")
    for need in job.get("needs", []):
        if need not in jobs:
            problems.append(f"{name}: needs unknown job {need!r}")
        elif stages.index(jobs[need]["stage"]) > stages.index(job["stage"]):
            problems.append(f"{name}: needs {need!r}, which runs in a later stage")
    for parent in job.get("extends", []):
        if parent not in doc:
            problems.append(f"{name}: extends unknown {parent!r}")
sign = jobs["sign-and-attest"]
if sign.get("id_tokens", {}).get("SIGSTORE_ID_TOKEN", {}).get("aud") != "sigstore":
    problems.append("sign-and-attest: no id_tokens.SIGSTORE_ID_TOKEN with aud sigstore (keyless signing)")
if "verify-image" not in jobs["deploy"].get("needs", []):
    problems.append("deploy does not need verify-image: an unverified image could ship")
if not any("pipeguard verify-image" in line for line in jobs["verify-image"]["script"]):
    problems.append("verify-image does not run pipeguard verify-image")
print("\n".join(problems))
sys.exit(1 if problems else 0)
PY

jq -n '{descriptor: {version: "0.86.1", db: {schemaVersion: 6}}, matches: [
  {vulnerability: {id: "CVE-2026-0001", severity: "High", fix: {versions: ["3.0.16"]}},
   artifact: {name: "openssl", version: "3.0.15"}}]}' >"$tmp/grype.json"
predicate=$(jq --arg started 2026-12-06T10:00:00Z --arg finished 2026-12-06T10:01:00Z \
  -f "$repo/examples/release/grype-to-vuln-predicate.jq" "$tmp/grype.json")
check_eq "the vuln predicate names the scanner, each finding and when the scan ended" \
  "https://github.com/anchore/grype CVE-2026-0001 High 2026-12-06T10:01:00Z" \
  "$(jq -r '[.scanner.uri, .scanner.result.matches[0].vulnerability.id, .scanner.result.matches[0].vulnerability.severity, .metadata.scanFinishedOn] | join(" ")' <<<"$predicate")"

if out=$(bash "$repo/scripts/release/local-release.sh" --build "${PIPEGUARD_BUILD_DIR:-$repo/build}" 2>&1); then
  e2e_pass "the release steps run locally (real registry, cosign and pipeguard)"
else
  e2e_fail "the release steps run locally" "$(tail -n 20 <<<"$out")"
fi
check_eq "locally: signature, three attestations, two scans and two gate checks ran" 8 "$(grep -c '  ran  ' <<<"$out")"
e2e_summary release_templates
