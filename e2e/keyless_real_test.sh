#!/usr/bin/env bash
# Keyless signing for real, end to end: a kube-apiserver whose service-account issuer Fulcio trusts, Fulcio, Rekor v2
# and a timestamp authority built from their Go modules (scripts/sigstore/), the real cosign v3 signing images in the
# local TLS registry with ServiceAccount tokens (signatures and SLSA provenance attestations), and pipeguard judging
# them offline from the trusted_root.json, with `pipeguard verify-image` and through the admission webhook with a
# PipelineSecurityProfile.
#
# Usage: e2e/keyless_real_test.sh
#   PIPEGUARD_BUILD_DIR   build tree with cli/pipeguard and webhook/pipeguard-webhook (default: build/ of this checkout)
#   PIPEGUARD_E2E_KEEP=1  keep the temp dir (logs of every server) on exit
#
# Contract: not part of scripts/test.sh (CI's time budget): run it on its own, after scripts/sigstore/install.sh
# (which builds Fulcio, Rekor v2 and the TSA once; minutes) and the registry and control-plane installs. Starts
# and stops everything it needs in a temp dir (watchdogs stop it if this shell dies), touches nothing else,
# talks only to loopback. Prints one line per check and "keyless-real: N passed, M failed"; exits 0 only if every
# check passed. No token is ever printed.
# shellcheck source-path=SCRIPTDIR
set -uo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=lib.sh
. "$repo/e2e/lib.sh"
# shellcheck source=../scripts/controlplane/lib.sh
. "$repo/scripts/controlplane/lib.sh"

build=${PIPEGUARD_BUILD_DIR:-$repo/build}
cli=$build/cli/pipeguard
webhook=$build/webhook/pipeguard-webhook
for bin in "$cli" "$webhook"; do
  [[ -x $bin ]] || { e2e_log "keyless-real: $bin is missing (build the pipeguard and pipeguard-webhook targets)"; exit 2; }
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/pipeguard-keyless-real.XXXXXX")
tmp=$(cd "$tmp" && pwd -P)
t_start=$SECONDS
webhook_pid=

cleanup() {
  local rc=$?
  set +e
  [[ -n $webhook_pid ]] && cp_stop_recorded e2e_log "$tmp" 5 webhook >/dev/null 2>&1
  "$repo/scripts/sigstore/stop.sh" "$tmp/sigstore" >/dev/null 2>&1
  "$repo/scripts/registry/stop.sh" "$tmp/registry" >/dev/null 2>&1
  controlplane_down "$tmp/cp" >/dev/null 2>&1
  if ((rc != 0)) || [[ ${PIPEGUARD_E2E_KEEP:-0} == 1 ]]; then
    e2e_log "keyless-real: logs kept in $tmp"
  else
    rm -rf "$tmp"
  fi
  return "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# read_env FILE PREFIX : export FILE's KEY=VALUE lines as PREFIX_KEY.
read_env() {
  local line
  while IFS= read -r line; do eval "export $2${line}"; done <"$1"
}

# --- servers ---------------------------------------------------------------------------------------------------
e2e_log "== servers: control plane (loopback SA issuer), TLS registry, Fulcio + Rekor v2 + TSA"
t0=$SECONDS
PIPEGUARD_CONTROLPLANE_SA_ISSUER=loopback controlplane_up "$tmp/cp" 2>"$tmp/cp-up.log" ||
  { tail -n 20 "$tmp/cp-up.log" >&2; exit 1; }
PIPEGUARD_REGISTRY_OWNER_PID=$$ "$repo/scripts/registry/start.sh" "$tmp/registry" --tls 2>"$tmp/registry-up.log" ||
  { tail -n 20 "$tmp/registry-up.log" >&2; exit 1; }
read_env "$tmp/registry/env" RG_
PIPEGUARD_SIGSTORE_OWNER_PID=$$ "$repo/scripts/sigstore/start.sh" "$tmp/sigstore" "$tmp/cp" 2>"$tmp/sigstore-up.log" ||
  { tail -n 20 "$tmp/sigstore-up.log" >&2; exit 1; }
read_env "$tmp/sigstore/env" SG_
e2e_pass "servers up in $((SECONDS - t0)) s (Fulcio $SG_FULCIO_URL, Rekor v2 $SG_REKOR_URL, TSA $SG_TSA_URL)"
check_eq "the OIDC issuer is the API server's own URL" "$APISERVER_URL" "$SG_OIDC_ISSUER"
check_match "the trusted root has one Fulcio CA, one Rekor v2 log (Ed25519) and one TSA, and no CT log" \
  '^1 1 1 0 PKIX_ED25519$' "$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))
print(len(r.get("certificateAuthorities",[])), len(r.get("tlogs",[])), len(r.get("timestampAuthorities",[])),
      len(r.get("ctlogs",[])), r["tlogs"][0]["publicKey"]["keyDetails"])' "$SG_TRUSTED_ROOT")"

k() { "$KUBECTL" --request-timeout=30s "$@"; }
show() { e2e_log "        > $(tr '\n' ' ' <<<"$1" | head -c 700)"; } # show OUTPUT : what pipeguard said, for the log
check "namespace etl with ServiceAccounts release and intern" \
  bash -c "'$KUBECTL' create namespace etl && '$KUBECTL' -n etl create serviceaccount release &&
           '$KUBECTL' -n etl create serviceaccount intern"

# --- signing: the same image content in two repositories, signed by two ServiceAccounts -------------------------
e2e_log "== keyless signing with cosign $(basename "$(dirname "$SG_COSIGN_V3")") (ServiceAccount tokens, audience sigstore)"
digest=$("$repo/scripts/registry/artifacts.sh" push "$tmp/registry" pipelines/etl:v1 41) || exit 1
other=$("$repo/scripts/registry/artifacts.sh" push "$tmp/registry" pipelines/etl-by-intern:v1 41) || exit 1
"$repo/scripts/registry/artifacts.sh" push "$tmp/registry" pipelines/etl-unsigned:v1 42 >/dev/null || exit 1
check_eq "the same image (one digest) in pipelines/etl and pipelines/etl-by-intern" "$digest" "$other"
t0=$SECONDS
check "cosign sign as etl/release (pipelines/etl)" \
  "$repo/scripts/sigstore/sign.sh" "$tmp/sigstore" "$tmp/registry" etl/release "pipelines/etl@$digest"
sign_seconds=$((SECONDS - t0))
check "cosign sign as etl/intern (pipelines/etl-by-intern)" \
  "$repo/scripts/sigstore/sign.sh" "$tmp/sigstore" "$tmp/registry" etl/intern "pipelines/etl-by-intern@$digest"
check_match "Fulcio issued the certificates without a CT log" 'Skipping CT log upload' "$(cat "$tmp/sigstore/fulcio.log")"
check_eq "Rekor v2 holds both entries (checkpoint tree size)" 2 \
  "$(sed -n 2p "$tmp/sigstore/rekor/log/checkpoint" 2>/dev/null)"
cosign_verify() { # cosign_verify REPO SUBJECT : the real cosign's own verdict (it needs --insecure-ignore-sct too)
  env "DOCKER_CONFIG=$RG_DOCKER_CONFIG" "SSL_CERT_FILE=$RG_CA_CERT" "HOME=$tmp/sigstore/home" \
    "TUF_ROOT=$tmp/sigstore/tuf" "$SG_COSIGN_V3" verify --insecure-ignore-sct --trusted-root "$SG_TRUSTED_ROOT" \
    --certificate-identity "$2" --certificate-oidc-issuer "$SG_OIDC_ISSUER" "$RG_REGISTRY_HOST/$1@$digest"
}
release_subject=https://kubernetes.io/namespaces/etl/serviceaccounts/release
intern_subject=https://kubernetes.io/namespaces/etl/serviceaccounts/intern
check "cross-check: cosign verify accepts pipelines/etl for etl/release" cosign_verify pipelines/etl "$release_subject"
check_fails "cross-check: cosign verify refuses pipelines/etl-by-intern for etl/release" 'none of the expected identities matched|no matching' \
  cosign_verify pipelines/etl-by-intern "$release_subject"

# --- pipeguard verify-image --------------------------------------------------------------------------------------
e2e_log "== pipeguard verify-image (offline, trusted_root.json, requireSct: false)"
mkdir -p "$tmp/pipeguard"
cat >"$tmp/pipeguard/config.yaml" <<EOF
mode: enforce
images:
  verify: true
  allowedRegistries: ["$RG_REGISTRY_HOST/"]
  keys: []
  keyless:
    trustedRootFile: $SG_TRUSTED_ROOT
    requireSct: false   # this Fulcio has no certificate-transparency log
    identities:
      - name: etl-release
        issuer: $SG_OIDC_ISSUER
        subject: $release_subject
      - name: etl-intern
        issuer: $SG_OIDC_ISSUER
        subject: $intern_subject
  registries:
    - {host: "$RG_REGISTRY_HOST", caFile: $RG_CA_CERT}
  pinDigests: true
  deadline: 6s
EOF
# Only etl/release may sign (the platform also knows etl-intern; profiles narrow to it below).
sed '/- name: etl-intern/,/subject: .*intern/d' "$tmp/pipeguard/config.yaml" >"$tmp/pipeguard/release-only.yaml"
out=$("$cli" verify-image --config "$tmp/pipeguard/release-only.yaml" "$RG_REGISTRY_HOST/pipelines/etl:v1" 2>&1)
rc=$?
check_eq "verify-image pipelines/etl (signed by etl/release): exit 0" 0 "$rc"
show "$out"
check_match "... by the keyless identity etl-release, from a Sigstore bundle, Rekor entry verified" \
  "key: +keyless identity 'etl-release'.*format: +sigstore bundle.*tlog: +Rekor entry verified" "$(tr '\n' ' ' <<<"$out")"
out=$("$cli" verify-image --config "$tmp/pipeguard/release-only.yaml" "$RG_REGISTRY_HOST/pipelines/etl-by-intern:v1" 2>&1)
rc=$?
check_eq "verify-image pipelines/etl-by-intern (same image, signed by etl/intern): exit 1" 1 "$rc"
show "$out"
check_match "... denied for the identity, naming the certificate's subject and issuer" \
  "signer identity not allowed: .*keyless identity check: certificate subject '$intern_subject' issuer '$SG_OIDC_ISSUER' is not an allowed signer" "$out"
out=$("$cli" verify-image --config "$tmp/pipeguard/release-only.yaml" "$RG_REGISTRY_HOST/pipelines/etl-unsigned:v1" 2>&1)
check_match "verify-image of an unsigned image: denied, no signature" 'not verified: .*no signature' "$out"
show "$out"
# A trusted root from another start (another Fulcio CA, TSA and Rekor key) trusts none of this.
"$repo/scripts/sigstore/stop.sh" "$tmp/sigstore" >/dev/null 2>&1
cp "$SG_TRUSTED_ROOT" "$tmp/pipeguard/trusted_root_first.json"
PIPEGUARD_SIGSTORE_OWNER_PID=$$ "$repo/scripts/sigstore/start.sh" "$tmp/sigstore2" "$tmp/cp" 2>"$tmp/sigstore2-up.log" ||
  { tail -n 20 "$tmp/sigstore2-up.log" >&2; exit 1; }
sed "s#$SG_TRUSTED_ROOT#$tmp/sigstore2/trusted_root.json#" "$tmp/pipeguard/release-only.yaml" >"$tmp/pipeguard/other-root.yaml"
out=$("$cli" verify-image --config "$tmp/pipeguard/other-root.yaml" "$RG_REGISTRY_HOST/pipelines/etl:v1" 2>&1)
check_match "verify-image with another instance's trusted root: denied (log or CA not trusted)" \
  'not verified: .*keyless (tlog|certificate-chain|timestamp) check' "$out"
show "$out"
"$repo/scripts/sigstore/stop.sh" "$tmp/sigstore2" >/dev/null 2>&1

# --- keyless attestations: SLSA provenance v1 by cosign attest, required by the configuration --------------------
e2e_log "== keyless attestations (cosign attest --type slsaprovenance1, Rekor v2, TSA)"
PIPEGUARD_SIGSTORE_OWNER_PID=$$ "$repo/scripts/sigstore/start.sh" "$tmp/sigstore3" "$tmp/cp" 2>"$tmp/sigstore3-up.log" ||
  { tail -n 20 "$tmp/sigstore3-up.log" >&2; exit 1; }
read_env "$tmp/sigstore3/env" S3_
cat >"$tmp/pipeguard/provenance.json" <<'EOF'
{"buildDefinition": {"buildType": "https://pipeguard.io/buildtypes/local-release/v1",
                     "externalParameters": {"source": "https://git.example.com/acme/etl", "ref": "refs/tags/v1.0.0"}},
 "runDetails": {"builder": {"id": "https://pipeguard.io/builders/local-release"}}}
EOF
prov=$("$repo/scripts/registry/artifacts.sh" push "$tmp/registry" pipelines/etl-prov:v1 43) || exit 1
noprov=$("$repo/scripts/registry/artifacts.sh" push "$tmp/registry" pipelines/etl-noprov:v1 44) || exit 1
badprov=$("$repo/scripts/registry/artifacts.sh" push "$tmp/registry" pipelines/etl-badprov:v1 45) || exit 1
for ref in "etl-prov@$prov" "etl-noprov@$noprov" "etl-badprov@$badprov"; do
  check "cosign sign as etl/release (pipelines/${ref%@*})" \
    "$repo/scripts/sigstore/sign.sh" "$tmp/sigstore3" "$tmp/registry" etl/release "pipelines/$ref"
done
check "cosign attest SLSA provenance v1 as etl/release (pipelines/etl-prov)" "$repo/scripts/sigstore/sign.sh" \
  "$tmp/sigstore3" "$tmp/registry" etl/release "pipelines/etl-prov@$prov" --attest slsaprovenance1 "$tmp/pipeguard/provenance.json"
check "cosign attest the same provenance as etl/intern (pipelines/etl-badprov)" "$repo/scripts/sigstore/sign.sh" \
  "$tmp/sigstore3" "$tmp/registry" etl/intern "pipelines/etl-badprov@$badprov" --attest slsaprovenance1 "$tmp/pipeguard/provenance.json"
sed "s#$SG_TRUSTED_ROOT#$S3_TRUSTED_ROOT#" "$tmp/pipeguard/release-only.yaml" |
  sed '/^  registries:/i\  attestations:\n    provenance:\n      builderIds: [https://pipeguard.io/builders/local-release]\n      buildType: https://pipeguard.io/buildtypes/local-release/v1' \
    >"$tmp/pipeguard/provenance.yaml"
out=$("$cli" verify-image --config "$tmp/pipeguard/provenance.yaml" "$RG_REGISTRY_HOST/pipelines/etl-prov:v1" 2>&1)
rc=$?
check_eq "verify-image pipelines/etl-prov (signed and attested by etl/release, provenance required): exit 0" 0 "$rc"
show "$out"
check_match "... by the keyless identity etl-release, its SLSA v1 provenance verified" \
  "keyless identity 'etl-release'.*attestations satisfy the requirements \\(provenance; 1 verified attestation\\(s\\): https://slsa.dev/provenance/v1" \
  "$(tr '\n' ' ' <<<"$out")"
out=$("$cli" verify-image --config "$tmp/pipeguard/provenance.yaml" "$RG_REGISTRY_HOST/pipelines/etl-noprov:v1" 2>&1)
check_match "verify-image pipelines/etl-noprov (signed, no provenance): denied for the missing provenance" \
  'not verified: .*provenance' "$out"
show "$out"
out=$("$cli" verify-image --config "$tmp/pipeguard/provenance.yaml" "$RG_REGISTRY_HOST/pipelines/etl-badprov:v1" 2>&1)
check_match "verify-image pipelines/etl-badprov (provenance attested by etl/intern only): denied, the attestation's signer not allowed" \
  "not verified: attestations not satisfied: provenance: .*1 ignored: .*signer identity not allowed .*certificate subject '$intern_subject'" "$out"
show "$out"
"$repo/scripts/sigstore/stop.sh" "$tmp/sigstore3" >/dev/null 2>&1

# --- admission: the webhook with a PipelineSecurityProfile naming etl-release ------------------------------------
e2e_log "== admission webhook with PipelineSecurityProfile etl/etl (keylessIdentities: [etl-release])"
"$repo/scripts/controlplane/cert.sh" "$tmp/cp" webhook IP:127.0.0.1 DNS:localhost >/dev/null || exit 1
k apply -f "$repo/helm/pipeguard/crds/" >/dev/null || exit 1
k wait --for condition=established --timeout=60s crd/pipelinesecurityprofiles.pipeguard.io >/dev/null || exit 1
setsid "$webhook" --config "$tmp/pipeguard/config.yaml" --kubeconfig "$KUBECONFIG" \
  --tls-cert "$tmp/cp/pki/webhook.crt" --tls-key "$tmp/cp/pki/webhook.key" \
  --listen 127.0.0.1:0 --port-file "$tmp/webhook.port" >"$tmp/webhook-audit.log" 2>"$tmp/webhook.log" </dev/null &
webhook_pid=$!
echo "$webhook_pid" >"$tmp/webhook.pid"
port=
for _ in $(seq 1 100); do
  port=$(tr -d '[:space:]' 2>/dev/null <"$tmp/webhook.port") && [[ -n $port ]] &&
    curl -fsS --max-time 2 --cacert "$CA_CERT" "https://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
  port=
  cp_pid_alive "$webhook_pid" || break
  sleep 0.3
done
[[ -n $port ]] || { e2e_fail "webhook ready" "$(tail -n 15 "$tmp/webhook.log")"; e2e_summary keyless-real; exit 1; }
e2e_pass "webhook ready at https://127.0.0.1:$port (context from the API server)"
helm_env=(env "KUBECONFIG=$KUBECONFIG" "HELM_CACHE_HOME=$HELM_CACHE_HOME" "HELM_CONFIG_HOME=$HELM_CONFIG_HOME"
  "HELM_DATA_HOME=$HELM_DATA_HOME")
check "helm install (devMode): the chart's webhook configurations call the local webhook" \
  "${helm_env[@]}" "$HELM" install pipeguard-keyless "$repo/helm/pipeguard" -n pipeguard-system --create-namespace \
  --set devMode.enabled=true --set devMode.webhookURL="https://127.0.0.1:$port" \
  --set devMode.caBundle="$(base64 -w0 <"$CA_CERT")" --wait=false --timeout 120s
check "PipelineSecurityProfile etl/etl: pods labelled pipeguard.io/pipeline=etl, signed by etl-release only" \
  k apply -f - <<EOF
apiVersion: pipeguard.io/v1alpha1
kind: PipelineSecurityProfile
metadata: {name: etl, namespace: etl}
spec:
  podSelector: {matchLabels: {pipeguard.io/pipeline: etl}}
  serviceAccount: {name: release, automountToken: false}
  images:
    keylessIdentities: [etl-release]
EOF
check_match "kubectl get shows the profile's keyless signers" 'etl-release' "$(k -n etl get pipelinesecurityprofile etl -o wide 2>&1)"
sleep 2 # the webhook's informers see the profile within a moment

pod() { # pod NAME IMAGE
  cat <<EOF
apiVersion: v1
kind: Pod
metadata: {name: $1, namespace: etl, labels: {pipeguard.io/pipeline: etl}}
spec:
  serviceAccountName: release
  automountServiceAccountToken: false
  restartPolicy: Never
  containers:
    - name: main
      image: $2
      securityContext: {allowPrivilegeEscalation: false, runAsNonRoot: true, capabilities: {drop: [ALL]}}
      resources: {requests: {cpu: 100m, memory: 64Mi}, limits: {memory: 128Mi}}
EOF
}
out=$(pod etl-release "$RG_REGISTRY_HOST/pipelines/etl:v1" | k apply -f - 2>&1)
check_match "pod with pipelines/etl:v1 (signed by etl/release): admitted" 'pod/etl-release created' "$out"
check_eq "... and its image pinned to the verified digest" "$RG_REGISTRY_HOST/pipelines/etl@$digest" \
  "$(k -n etl get pod etl-release -o 'jsonpath={.spec.containers[0].image}' 2>&1)"
out=$(pod etl-intern "$RG_REGISTRY_HOST/pipelines/etl-by-intern:v1" | k apply -f - 2>&1)
check_match "pod with pipelines/etl-by-intern:v1 (same image, signed by etl/intern): denied by the webhook" \
  'admission webhook "validate\.pipeguard\.io" denied the request' "$out"
show "$out"
check_match "... for the signer identity, naming the certificate's subject and issuer in kubectl's output" \
  "unsigned-image at /spec/containers/0/image: .*keylessIdentities: etl-release\\): signer identity not allowed: keyless identity check: certificate subject '$intern_subject' issuer '$SG_OIDC_ISSUER'" "$out"
reason=$(python3 -c 'import json, sys
for line in open(sys.argv[1]):
    try: a = json.loads(line)
    except ValueError: continue
    if a.get("webhook") == "validate" and a.get("name") == "etl-intern" and not a.get("allowed"):
        print(a["images"][0]["reason"])' "$tmp/webhook-audit.log" 2>&1)
check_match "... the audit record names the certificate's subject and issuer" \
  "certificate subject '$intern_subject' issuer '$SG_OIDC_ISSUER' is not an allowed signer \\(identity 'etl-release'" "$reason"
out=$("$cli" verify-image --config "$tmp/pipeguard/config.yaml" "$RG_REGISTRY_HOST/pipelines/etl-by-intern:v1" 2>&1)
check_match "without the profile the platform (which also trusts etl-intern) accepts it" "keyless identity 'etl-intern'" "$out"
show "$out"
k -n etl get pipelinesecurityprofile etl -o yaml >"$tmp/pipeguard/profile.yaml" 2>/dev/null
out=$("$cli" verify-image --config "$tmp/pipeguard/config.yaml" --profile "$tmp/pipeguard/profile.yaml" \
  "$RG_REGISTRY_HOST/pipelines/etl-by-intern:v1" 2>&1)
show "$out"
check_match "verify-image --profile etl agrees with admission: denied" 'not verified: .*signer identity not allowed' "$out"

e2e_log "keyless-real: signing one image took ${sign_seconds}s (token, Fulcio, Rekor v2, TSA, registry); total $((SECONDS - t_start)) s"
e2e_summary keyless-real
