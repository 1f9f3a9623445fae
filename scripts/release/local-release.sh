#!/usr/bin/env bash
# The release workflow of examples/release/ (GitHub Actions and GitLab CI templates) run on this machine: against a
# real local registry (scripts/registry, TLS) with the real cosign and pipeguard binaries, step by step, so a
# platform team can see what each step leaves behind before copying the templates.
#
# Usage: scripts/release/local-release.sh [--build DIR]
#
# Steps, as in the templates, and what differs here (each step prints "ran", "stood in" or "left out" and why):
#   1. build + push    a tiny OCI image (scripts/registry/artifacts.sh push) stands in for the pipeline's image
#   2. SBOM            no SBOM generator is built here: a CycloneDX 1.5 document naming the image by digest,
#                      written to the documented schema, stands in for syft's
#   3. scan            no vulnerability database is reachable from this machine: a Grype report written to its
#                      documented schema (no matches) stands in; examples/release/grype-to-vuln-predicate.jq turns
#                      it into cosign's vulnerability predicate exactly as the templates do
#   4. sign + attest   the real cosign 3 signs and attests (cyclonedx, vuln, slsaprovenance1) into the registry;
#                      with a key pair, because keyless needs the CI's OIDC token (GitHub, GitLab), not reachable
#                      here; then `cosign verify-attestation` checks each one is attached and verifies
#   5. manifests       `pipeguard scan -o sarif` of examples/good (passes) and examples/bad (fails the release)
#   6. Terraform       left out: Checkov is not installed here (the templates run bridgecrewio/checkov)
#   7. gate            `pipeguard verify-image` accepts the signed digest and refuses an unsigned one
# Exit status: 0 when every step that ran did what the workflow expects; 1 otherwise. Everything runs on
# 127.0.0.1 and is stopped on exit. Needs build/cli/pipeguard and scripts/registry/install.sh's tools.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=$repo/build
while (($#)); do
  case $1 in
    --build) build=$2; shift 2 ;;
    -h | --help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "local-release: unknown argument '$1' (try --help)" >&2; exit 2 ;;
  esac
done
pipeguard=$build/cli/pipeguard
[[ -x $pipeguard ]] || { echo "local-release: $pipeguard is missing; build first (cmake --build $build)" >&2; exit 2; }
bash "$repo/scripts/registry/install.sh" >/dev/null
artifacts="$repo/scripts/registry/artifacts.sh"

dir=$(mktemp -d "${TMPDIR:-/tmp}/pipeguard-release.XXXXXX")
trap 'bash "$repo/scripts/registry/stop.sh" "$dir" >/dev/null 2>&1 || true; rm -rf "$dir"' EXIT
bash "$repo/scripts/registry/start.sh" "$dir" --tls >/dev/null
set -a
# shellcheck disable=SC1091
. "$dir/env"
set +a

failed=0
step() { printf '%-14s %-9s %s\n' "$1" "$2" "$3"; }
fail() { step "$1" FAILED "$2"; failed=1; }
now=$(date -u +%Y-%m-%dT%H:%M:%SZ)

# 1. build + push
digest=$(bash "$artifacts" push "$dir" payments/etl:v1.0.0 release-1)
image="$REGISTRY_HOST/payments/etl@$digest"
step build "stood in" "a tiny OCI image pushed to $REGISTRY_HOST: $image"

# 2. SBOM (CycloneDX 1.5, the fields the templates' syft output carries at the top)
jq -n --arg image "$REGISTRY_HOST/payments/etl" --arg digest "$digest" --arg now "$now" '{
  bomFormat: "CycloneDX", specVersion: "1.5", version: 1,
  metadata: {timestamp: $now, component: {type: "container", name: $image, version: $digest}},
  components: []}' >"$dir/sbom.cdx.json"
step sbom "stood in" "no SBOM generator built here; CycloneDX 1.5 document of the image by digest"

# 3. scan -> cosign's vulnerability predicate, with the templates' jq program
jq -n '{descriptor: {name: "grype", version: "0.86.1", db: {schemaVersion: 6}}, matches: []}' >"$dir/grype.json"
jq --arg started "$now" --arg finished "$now" -f "$repo/examples/release/grype-to-vuln-predicate.jq" \
  "$dir/grype.json" >"$dir/vuln.json"
if jq -e '.scanner.uri and .metadata.scanFinishedOn and (.scanner.result.matches | type == "array")' \
  "$dir/vuln.json" >/dev/null; then
  step scan "stood in" "no vulnerability database reachable; Grype report to schema -> vuln predicate (0 findings)"
else
  fail scan "the vuln predicate lacks scanner.uri, metadata.scanFinishedOn or the matches"
fi

# 4. sign + attest with the real cosign, then verify what is attached
jq -n --arg image "$REGISTRY_HOST/payments/etl" --arg now "$now" '{
  buildDefinition: {
    buildType: "https://actions.github.io/buildtypes/workflow/v1",
    externalParameters: {workflow: {ref: "refs/tags/v1.0.0", repository: "https://github.com/acme/payments-pipelines",
                                    path: ".github/workflows/release.yml"}},
    resolvedDependencies: []},
  runDetails: {builder: {id: "https://github.com/acme/payments-pipelines/.github/workflows/release.yml@refs/tags/v1.0.0"},
               metadata: {invocationId: "local-release", startedOn: $now, finishedOn: $now}}}' >"$dir/provenance.json"
bash "$artifacts" keygen "$dir" release >/dev/null
if bash "$artifacts" sign "$dir" "payments/etl@$digest" release v3-bundle; then
  step sign ran "cosign 3 (Sigstore bundle, OCI 1.1 referrer) with a key pair; keyless needs the CI's OIDC token"
else
  fail sign "cosign sign"
fi
for attestation in cyclonedx:sbom.cdx.json vuln:vuln.json slsaprovenance1:provenance.json; do
  type=${attestation%%:*} predicate=$dir/${attestation#*:}
  if bash "$artifacts" attest "$dir" "payments/etl@$digest" release v3-bundle "$type" "$predicate" &&
    bash "$artifacts" verify-attestation "$dir" "payments/etl@$digest" release v3-bundle "$type" >"$dir/$type.out"; then
    step attest ran "$type: attached, and cosign verify-attestation verifies it"
  else
    fail attest "$type"
  fi
done

# 5. manifests: the same engine as admission
if "$pipeguard" scan --config "$repo/examples/config.yaml" --profiles "$repo/examples/context" -o sarif \
  "$repo/examples/good" >"$dir/good.sarif" 2>/dev/null && jq -e '.version == "2.1.0"' "$dir/good.sarif" >/dev/null; then
  step manifests ran "pipeguard scan -o sarif examples/good: exit 0, SARIF 2.1.0 for code scanning"
else
  fail manifests "pipeguard scan of examples/good did not pass with SARIF 2.1.0"
fi
status=0
"$pipeguard" scan --config "$repo/examples/config.yaml" --profiles "$repo/examples/context" -o sarif \
  "$repo/examples/bad" >"$dir/bad.sarif" 2>/dev/null || status=$?
if [[ $status == 1 ]] && jq -e '[.runs[0].results[]] | length > 0' "$dir/bad.sarif" >/dev/null; then
  step manifests ran "pipeguard scan examples/bad: exit 1, $(jq '[.runs[0].results[]] | length' "$dir/bad.sarif") results: the release stops"
else
  fail manifests "pipeguard scan of examples/bad exited $status, expected 1 with results"
fi

# 6. Terraform
step terraform "left out" "Checkov is not installed here; the templates run bridgecrewio/checkov-action / bridgecrew/checkov"

# 7. gate: exactly admission's verification
printf 'images:\n  registries:\n    - {host: "%s", caFile: "%s"}\n' "$REGISTRY_HOST" "$CA_CERT" >"$dir/pipeguard.yaml"
if "$pipeguard" verify-image --config "$dir/pipeguard.yaml" --key "$dir/keys/release.pub" "$image" >"$dir/gate.out" 2>&1; then
  step gate ran "pipeguard verify-image accepts $image"
else
  fail gate "pipeguard verify-image refused the signed image: $(tail -n 3 "$dir/gate.out")"
fi
unsigned=$(bash "$artifacts" push "$dir" payments/etl:v1.0.1-unsigned release-2)
status=0
"$pipeguard" verify-image --config "$dir/pipeguard.yaml" --key "$dir/keys/release.pub" \
  "$REGISTRY_HOST/payments/etl@$unsigned" >"$dir/gate-unsigned.out" 2>&1 || status=$?
if [[ $status == 1 ]]; then
  step gate ran "pipeguard verify-image refuses an unsigned image (exit 1): the deploy job never starts"
else
  fail gate "an unsigned image got exit $status from verify-image, expected 1"
fi
exit $failed
