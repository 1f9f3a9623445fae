# Grype's JSON report -> cosign's vulnerability predicate (predicate type
# https://cosign.sigstore.dev/attestation/vuln/v1), the attestation pipeguard's admission can require
# (`cosign attest --type vuln --predicate vuln.json`). scanner.result keeps Grype's own report shape (matches[] with
# vulnerability.{id,severity} and artifact.{name,version}), trimmed to what a policy reads.
# Usage: jq --arg started 2026-12-06T10:00:00Z --arg finished 2026-12-06T10:01:00Z -f grype-to-vuln-predicate.jq grype.json
{
  invocation: {parameters: [], uri: "", event_id: "", "builder.id": ""},
  scanner: {
    uri: "https://github.com/anchore/grype",
    version: (.descriptor.version // ""),
    db: {uri: "", version: ((.descriptor.db.schemaVersion // "") | tostring)},
    result: {
      matches: [(.matches // [])[] | {
        vulnerability: {id: .vulnerability.id, severity: .vulnerability.severity,
                        fix: {versions: (.vulnerability.fix.versions // [])}},
        artifact: {name: .artifact.name, version: .artifact.version}
      }]
    }
  },
  metadata: {scanStartedOn: $started, scanFinishedOn: $finished}
}
