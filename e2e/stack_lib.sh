# shellcheck shell=bash
# The end-to-end stack: everything pipeguard talks to, for real, on loopback, plus pipeguard itself as local
# processes, wired the way a platform team would wire it (the chart's devMode registers the webhook configurations).
#
#   source e2e/stack_lib.sh
#   stack_dir=$(mktemp -d)
#   trap 'stack_down "$stack_dir" --rm' EXIT    # never fails, keeps the script's exit status
#   stack_up "$stack_dir"                        # starts everything, exports the variables of $stack_dir/env
#   "$KUBECTL" apply -f pod.yaml                 # goes through the real API server to the real webhook
#
# Or from any other harness (Python, another shell): `e2e/stack.sh up DIR` (leaves the stack running; give
# PIPEGUARD_STACK_OWNER_PID=PID to have it stopped when PID exits), read DIR/env, `e2e/stack.sh down DIR`.
#
# CONTRACT (stable; other e2e suites build on it)
# Inputs (environment):
#   PIPEGUARD_BUILD_DIR   the CMake build tree holding cli/pipeguard, webhook/pipeguard-webhook and
#                         operator/pipeguard-operator (default: <repo>/build; nothing is built here)
#   PIPEGUARD_CACHE       cache of the real servers and tools (default ~/.cache/pipeguard; see scripts/*/README.md)
#   PIPEGUARD_STACK_CONTEXT  auto (default: --kubeconfig when the webhook has it, else files) or files
#   PIPEGUARD_STACK_OWNER_PID  watchdogs stop everything when this PID exits; unset: the shell calling stack_up;
#                         empty: no watchdogs (stack.sh up without it)
#   PIPEGUARD_STACK_OIDC_ISSUER=1  the API server signs ServiceAccount tokens with the cluster's OIDC provider URL
#                         (OIDC_ISSUER_URL, registered in moto and named by the operator's trust policies) as their
#                         issuer, as on EKS; default: https://kubernetes.default.svc.cluster.local
#   PIPEGUARD_STACK_PODIDENTITY=1  also run the Amazon EKS Pod Identity Webhook (scripts/podidentity, built on first
#                         use) in DIR/podidentity, registered as MutatingWebhookConfiguration pod-identity-webhook
#                         (called at https://127.0.0.1:PORT; it has no bind-address flag and listens on all addresses)
# What stack_up DIR starts (each component's state in DIR/<component>/, everything on 127.0.0.1, random ports):
#   - kube-apiserver + etcd (scripts/controlplane), kubectl and helm; no nodes: pods are stored, never run
#   - moto (scripts/moto): IAM/STS; the operator's permissions boundary policy and OIDC provider are created in it
#   - the OCI registry over TLS (scripts/registry, test CA), skopeo, cosign v2 and v3; a cosign key pair "trusted"
#     (configured as the webhook's only trusted key) and a key pair "rogue" (not trusted)
#   - pipeguard-webhook over HTTPS (serving certificate from the control plane's test CA), configuration
#     DIR/webhook/config.yaml: mode enforce, images.verify true, allowedRegistries [REGISTRY_HOST/], the "trusted"
#     key, the registry's CA, pinDigests true, breakGlass group platform-oncall; guardrails from the operator's
#     configuration. Context: --kubeconfig (informers) when the binary supports it, else --context DIR/webhook/context
#     which stack_sync_context fills from the API server.
#   - pipeguard-operator against the control plane and moto (cluster e2e, account 123456789012), all namespaces
#   - `helm install pipeguard-e2e helm/pipeguard -n pipeguard-system --set devMode.enabled=true ...`: the CRD and
#     the Validating + Mutating webhook configurations with clientConfig.url = the local webhook and caBundle = the
#     control plane's CA (kube-system and pipeguard-system are exempt)
#   - a minimal SparkApplication CRD (sparkoperator.k8s.io/v1beta2, schema-less) so SparkApplications can be applied
# DIR/env (KEY=VALUE lines, values shell-quoted with printf %q; written last, its presence means ready):
#   STACK_DIR REPO_ROOT PIPEGUARD_BUILD_DIR PIPEGUARD_CLI PIPEGUARD_WEBHOOK PIPEGUARD_OPERATOR
#   KUBECONFIG KUBECTL HELM APISERVER_URL CONTROLPLANE_DIR CONTROLPLANE_CA_CERT HELM_CACHE_HOME HELM_CONFIG_HOME
#   HELM_DATA_HOME HELM_RELEASE HELM_NAMESPACE WEBHOOK_CONFIGURATION_NAME (of both webhook configurations)
#   MOTO_ENDPOINT MOTO_PYTHON (python with boto3) AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_DEFAULT_REGION
#   AWS_REGION AWS_ACCOUNT_ID CLUSTER_NAME OIDC_ISSUER_URL (the OIDC provider in moto and the trust policies)
#   SA_ISSUER (the API server's ServiceAccount token issuer)
#   PODIDENTITY_URL PODIDENTITY_LOG PODIDENTITY_CONFIGURATION PODIDENTITY_VERSION (empty without the pod identity webhook)
#   REGISTRY_HOST (127.0.0.1:PORT, as in image references) REGISTRY_URL REGISTRY_DIR REGISTRY_CA_CERT COSIGN_V2
#   COSIGN_V3 COSIGN_KEY COSIGN_PUB (the trusted pair) COSIGN_ROGUE_KEY COSIGN_ROGUE_PUB
#   WEBHOOK_URL (https://127.0.0.1:PORT) WEBHOOK_PORT WEBHOOK_CA_CERT WEBHOOK_PID WEBHOOK_CONFIG
#   WEBHOOK_CONTEXT_MODE (kubeconfig|files) WEBHOOK_CONTEXT_DIR WEBHOOK_AUDIT_LOG (stdout: one JSON line per
#   decision) WEBHOOK_LOG (stderr: JSON log lines)
#   OPERATOR_PID OPERATOR_CONFIG OPERATOR_LOG
# Functions (after stack_up, or after stack_env DIR in a new shell):
#   stack_push_image REPO:TAG [SEED]           push a tiny image; prints its digest (sha256:...); REPO may carry
#                                              the $REGISTRY_HOST/ prefix
#   stack_push_signed REPO:TAG [KEY] [FORMAT]  push + cosign sign (KEY trusted|rogue, default trusted; FORMAT
#                                              v2-legacy|v3-bundle|v3-legacy, default v3-bundle; no tlog);
#                                              prints the digest
#   stack_sync_context                         make the webhook see the cluster's profiles, ServiceAccounts,
#                                              namespaces and RBAC now (files mode: dump + wait for the reload;
#                                              kubeconfig mode: a barrier through the informers, then
#                                              until the snapshot rebuilds settle)
#   stack_webhook_alive / stack_operator_alive  true while the process runs
#   stack_down DIR [--rm]                      stop everything stack_up started (exactly the recorded processes)
# Failure: stack_up returns non-zero after printing the failing component's log tail; call stack_down anyway.

PIPEGUARD_E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PIPEGUARD_REPO_ROOT=$(cd "$PIPEGUARD_E2E_DIR/.." && pwd)
# shellcheck source=../scripts/controlplane/lib.sh
. "$PIPEGUARD_REPO_ROOT/scripts/controlplane/lib.sh"

stack_log() { printf 'stack: %s\n' "$*" >&2; }

# _stack_read_env FILE PREFIX : define PREFIX<KEY> for each KEY=VALUE line of FILE (values shell-quoted), so that the
# components' env files (which share names such as CA_CERT) do not overwrite one another.
_stack_read_env() {
  local file=$1 prefix=$2 line key
  while IFS= read -r line; do
    [[ $line == *=* ]] || continue
    key=${line%%=*}
    eval "${prefix}${key}=${line#*=}"
  done <"$file"
}

# stack_env DIR : export the variables of DIR/env into the calling shell (e.g. a second shell using a running stack).
stack_env() {
  local dir=${1:?usage: stack_env DIR} line
  [[ -f $dir/env ]] || { stack_log "error: $dir/env is missing (stack not up)"; return 1; }
  while IFS= read -r line; do
    [[ $line == *=* ]] && eval "export $line"
  done <"$dir/env"
}

_stack_tail() { # _stack_tail FILE... : log tails of the given files
  local f
  for f in "$@"; do
    [[ -s $f ]] || continue
    stack_log "last lines of $f:"
    tail -n 25 "$f" >&2
  done
}

_stack_wait_https() { # _stack_wait_https URL CA PID SECONDS
  local url=$1 ca=$2 pid=$3 deadline=$((SECONDS + $4))
  while ((SECONDS < deadline)); do
    cp_pid_alive "$pid" || return 1
    curl -fsS --max-time 2 --cacert "$ca" "$url" >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  return 1
}

stack_up() {
  local dir=${1:?usage: stack_up DIR}
  mkdir -p "$dir" && dir=$(cd "$dir" && pwd -P)
  local repo=$PIPEGUARD_REPO_ROOT
  local build=${PIPEGUARD_BUILD_DIR:-$repo/build}
  [[ $build == /* ]] || build=$repo/$build
  local cli=$build/cli/pipeguard webhook=$build/webhook/pipeguard-webhook operator=$build/operator/pipeguard-operator
  local b
  for b in "$cli" "$webhook" "$operator"; do
    [[ -x $b ]] || { stack_log "error: $b is missing: build first (PIPEGUARD_BUILD_DIR=$build)"; return 1; }
  done
  local owner=${PIPEGUARD_STACK_OWNER_PID-$$} # unset: this shell; empty: no watchdogs
  local t0=$SECONDS
  local account=123456789012 cluster=e2e
  local boundary=arn:aws:iam::$account:policy/pipeguard-e2e-boundary oidc=https://oidc.e2e.pipeguard.test/id/E2E
  local sa_issuer=https://kubernetes.default.svc.cluster.local
  [[ ${PIPEGUARD_STACK_OIDC_ISSUER:-0} == 1 ]] && sa_issuer=$oidc

  # --- control plane -----------------------------------------------------------------------------------------
  mkdir -p "$dir/controlplane"
  PIPEGUARD_CONTROLPLANE_OWNER_PID=$owner PIPEGUARD_CONTROLPLANE_SA_ISSUER=$sa_issuer \
    "$repo/scripts/controlplane/start.sh" "$dir/controlplane" >&2 || {
    stack_log "error: the control plane did not start"; return 1; }
  local CP_KUBECONFIG CP_KUBECTL CP_HELM CP_APISERVER_URL CP_CA_CERT CP_HELM_CACHE_HOME CP_HELM_CONFIG_HOME \
    CP_HELM_DATA_HOME CP_KUBECACHEDIR
  _stack_read_env "$dir/controlplane/env" CP_
  local kubectl=$CP_KUBECTL
  _stack_k() { "$kubectl" --kubeconfig "$CP_KUBECONFIG" --request-timeout=30s "$@"; }

  # --- moto ----------------------------------------------------------------------------------------------------
  mkdir -p "$dir/moto"
  PIPEGUARD_MOTO_OWNER_PID=$owner "$repo/scripts/moto/start.sh" "$dir/moto" >&2 || {
    stack_log "error: moto did not start"; return 1; }
  local MO_MOTO_ENDPOINT MO_AWS_ACCESS_KEY_ID MO_AWS_SECRET_ACCESS_KEY MO_AWS_DEFAULT_REGION
  _stack_read_env "$dir/moto/env" MO_
  local moto_python
  moto_python=$("$repo/scripts/moto/install.sh" --no-install 2>/dev/null) || moto_python=
  if [[ -n $moto_python ]]; then
    AWS_ACCESS_KEY_ID=$MO_AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY=$MO_AWS_SECRET_ACCESS_KEY \
      AWS_DEFAULT_REGION=$MO_AWS_DEFAULT_REGION "$moto_python" - "$MO_MOTO_ENDPOINT" "$oidc" <<'PY' >&2 || {
import json, sys, boto3
iam = boto3.client("iam", endpoint_url=sys.argv[1])
iam.create_policy(PolicyName="pipeguard-e2e-boundary", PolicyDocument=json.dumps({"Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": ["s3:*", "kms:Decrypt", "kms:GenerateDataKey"], "Resource": "*"}]}))
iam.create_open_id_connect_provider(Url=sys.argv[2], ClientIDList=["sts.amazonaws.com"], ThumbprintList=["0" * 40])
PY
      stack_log "error: cannot seed moto (boundary policy, OIDC provider)"; return 1; }
  fi

  # --- registry (TLS) + cosign keys ------------------------------------------------------------------------------
  mkdir -p "$dir/registry"
  PIPEGUARD_REGISTRY_OWNER_PID=$owner "$repo/scripts/registry/start.sh" "$dir/registry" --tls >&2 || {
    stack_log "error: the registry did not start"; return 1; }
  local RG_REGISTRY_HOST RG_REGISTRY_URL RG_CA_CERT
  _stack_read_env "$dir/registry/env" RG_
  local RT_COSIGN_V2 RT_COSIGN_V3
  eval "$("$repo/scripts/registry/install.sh" --no-build | sed 's/^/RT_/')" || {
    stack_log "error: registry tools missing (scripts/registry/install.sh)"; return 1; }
  local pub rogue_pub
  pub=$("$repo/scripts/registry/artifacts.sh" keygen "$dir/registry" trusted) || return 1
  rogue_pub=$("$repo/scripts/registry/artifacts.sh" keygen "$dir/registry" rogue) || return 1

  # --- operator configuration (also the webhook's guardrails) -------------------------------------------------
  mkdir -p "$dir/operator" "$dir/webhook/context"
  cat >"$dir/operator/config.yaml" <<EOF
clusterName: $cluster
awsAccountId: "$account"
oidcIssuerUrl: $oidc
permissionsBoundaryArn: $boundary
rolePathPrefix: /pipeguard/
stsEgressCidrs: [10.0.8.0/24]
resyncPeriod: 1m
guardrails:
  allowedBucketPatterns: ["acme-*", "e2e-*"]
EOF

  # --- webhook ---------------------------------------------------------------------------------------------------
  cat >"$dir/webhook/config.yaml" <<EOF
# pipeguard e2e configuration (e2e/stack_lib.sh)
mode: enforce
blockingSeverity: medium
images:
  verify: true
  allowedRegistries: ["$RG_REGISTRY_HOST/"]
  keys:
    - {name: e2e-trusted, path: $pub}
  registries:
    - {host: "$RG_REGISTRY_HOST", caFile: $RG_CA_CERT}
  pinDigests: true
  deadline: 6s
breakGlass:
  groups: [platform-oncall]
EOF
  "$repo/scripts/controlplane/cert.sh" "$dir/controlplane" webhook IP:127.0.0.1 DNS:localhost >/dev/null || return 1
  local context_mode=files context_args=(--context "$dir/webhook/context")
  if [[ ${PIPEGUARD_STACK_CONTEXT:-auto} != files ]] && "$webhook" --help 2>/dev/null | grep -q -- '--kubeconfig'; then
    context_mode=kubeconfig
    context_args=(--kubeconfig "$CP_KUBECONFIG")
  fi
  # CRDs first, as `helm install` does (helm then skips the existing one): with --kubeconfig the webhook is ready
  # only after its informers' first full sync, which needs the PipelineSecurityProfile API.
  _stack_k apply -f "$repo/helm/pipeguard/crds/" -f "$PIPEGUARD_E2E_DIR/data/sparkapplication-crd.yaml" >&2 || return 1
  _stack_k wait --for condition=established --timeout=60s crd/pipelinesecurityprofiles.pipeguard.io \
    crd/sparkapplications.sparkoperator.k8s.io >&2 || return 1
  # The webhook must be up before the webhook configurations exist (failurePolicy Fail). In files mode the context
  # directory gets the cluster's objects once the namespaces exist (stack_sync_context).
  rm -f "$dir/webhook/port"
  setsid "$webhook" --config "$dir/webhook/config.yaml" "${context_args[@]}" \
    --guardrails-config "$dir/operator/config.yaml" \
    --tls-cert "$dir/controlplane/pki/webhook.crt" --tls-key "$dir/controlplane/pki/webhook.key" \
    --listen 127.0.0.1:0 --port-file "$dir/webhook/port" \
    >"$dir/webhook/audit.log" 2>"$dir/webhook/webhook.log" </dev/null &
  echo $! >"$dir/webhook.pid"
  local webhook_pid=$! deadline=$((SECONDS + 30)) port=
  while ((SECONDS < deadline)) && [[ ! -s $dir/webhook/port ]]; do
    cp_pid_alive "$webhook_pid" || break
    sleep 0.1
  done
  port=$(tr -d '[:space:]' <"$dir/webhook/port" 2>/dev/null)
  if [[ -z $port ]] || ! _stack_wait_https "https://127.0.0.1:$port/readyz" "$CP_CA_CERT" "$webhook_pid" 30; then
    stack_log "error: the webhook did not become ready"
    _stack_tail "$dir/webhook/webhook.log"
    return 1
  fi
  stack_log "webhook ready at https://127.0.0.1:$port (context from $context_mode)"

  # --- watchdog for the local processes -------------------------------------------------------------------------
  if [[ -n $owner ]]; then
    : >"$dir/stack-watchdog.armed"
    # shellcheck disable=SC2016 # expanded by the watchdog's shell
    setsid bash -c 'while kill -0 "$1" 2>/dev/null && [[ -f "$3/stack-watchdog.armed" ]]; do sleep 1; done
                    [[ -f "$3/stack-watchdog.armed" ]] && exec "$2" down "$3"' \
      stack-watchdog "$owner" "$PIPEGUARD_E2E_DIR/stack.sh" "$dir/" >"$dir/stack-watchdog.log" 2>&1 </dev/null &
    echo $! >"$dir/stack-watchdog.pid"
  fi

  # --- CRDs and the webhook configurations through the chart's devMode -------------------------------------------
  local helm_env=(env "KUBECONFIG=$CP_KUBECONFIG" "HELM_CACHE_HOME=$CP_HELM_CACHE_HOME"
    "HELM_CONFIG_HOME=$CP_HELM_CONFIG_HOME" "HELM_DATA_HOME=$CP_HELM_DATA_HOME")
  "${helm_env[@]}" "$CP_HELM" install pipeguard-e2e "$repo/helm/pipeguard" -n pipeguard-system --create-namespace \
    --set devMode.enabled=true --set devMode.webhookURL="https://127.0.0.1:$port" \
    --set devMode.caBundle="$(base64 -w0 <"$CP_CA_CERT")" --wait=false --timeout 120s >"$dir/helm-install.log" 2>&1 || {
    stack_log "error: helm install (devMode) failed"; _stack_tail "$dir/helm-install.log"; return 1; }
  local vwc
  vwc=$(_stack_k get validatingwebhookconfigurations -l app.kubernetes.io/instance=pipeguard-e2e \
    -o 'jsonpath={.items[0].metadata.name}') || vwc=
  if [[ -z $vwc ]]; then
    stack_log "error: the chart installed no ValidatingWebhookConfiguration"
    return 1
  fi

  # --- operator (after the CRD exists) -------------------------------------------------------------------------
  AWS_ACCESS_KEY_ID=$MO_AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY=$MO_AWS_SECRET_ACCESS_KEY AWS_REGION=us-east-1 \
    setsid "$operator" --config "$dir/operator/config.yaml" --kubeconfig "$CP_KUBECONFIG" \
    --aws-endpoint "$MO_MOTO_ENDPOINT" --metrics-listen 127.0.0.1:0 --identity e2e-operator --resync 30s \
    >"$dir/operator/operator.log" 2>&1 </dev/null &
  echo $! >"$dir/operator.pid"
  local operator_pid=$!

  sleep 1
  if ! cp_pid_alive "$operator_pid"; then
    stack_log "error: the operator exited"
    _stack_tail "$dir/operator/operator.log"
    return 1
  fi

  # --- the EKS pod identity webhook (IRSA), when asked -------------------------------------------------------------
  local PI_PODIDENTITY_URL= PI_PODIDENTITY_LOG= PI_PODIDENTITY_CONFIGURATION= PI_PODIDENTITY_VERSION=
  if [[ ${PIPEGUARD_STACK_PODIDENTITY:-0} == 1 ]]; then
    PIPEGUARD_PODIDENTITY_OWNER_PID=$owner "$repo/scripts/podidentity/start.sh" "$dir/podidentity" "$dir/controlplane" >&2 || {
      stack_log "error: the pod identity webhook did not start"; return 1; }
    _stack_read_env "$dir/podidentity/env" PI_
  fi

  {
    printf '%s=%q\n' STACK_DIR "$dir" REPO_ROOT "$repo" PIPEGUARD_BUILD_DIR "$build" PIPEGUARD_CLI "$cli" \
      PIPEGUARD_WEBHOOK "$webhook" PIPEGUARD_OPERATOR "$operator" \
      KUBECONFIG "$CP_KUBECONFIG" KUBECTL "$kubectl" HELM "$CP_HELM" APISERVER_URL "$CP_APISERVER_URL" \
      CONTROLPLANE_DIR "$dir/controlplane" CONTROLPLANE_CA_CERT "$CP_CA_CERT" KUBECACHEDIR "$CP_KUBECACHEDIR" \
      HELM_CACHE_HOME "$CP_HELM_CACHE_HOME" HELM_CONFIG_HOME "$CP_HELM_CONFIG_HOME" HELM_DATA_HOME "$CP_HELM_DATA_HOME" \
      HELM_RELEASE pipeguard-e2e HELM_NAMESPACE pipeguard-system WEBHOOK_CONFIGURATION_NAME "$vwc" \
      MOTO_ENDPOINT "$MO_MOTO_ENDPOINT" MOTO_PYTHON "$moto_python" AWS_ACCESS_KEY_ID "$MO_AWS_ACCESS_KEY_ID" \
      AWS_SECRET_ACCESS_KEY "$MO_AWS_SECRET_ACCESS_KEY" AWS_DEFAULT_REGION us-east-1 AWS_REGION us-east-1 \
      AWS_ACCOUNT_ID "$account" CLUSTER_NAME "$cluster" OIDC_ISSUER_URL "$oidc" SA_ISSUER "$sa_issuer" \
      PODIDENTITY_URL "$PI_PODIDENTITY_URL" PODIDENTITY_LOG "$PI_PODIDENTITY_LOG" \
      PODIDENTITY_CONFIGURATION "$PI_PODIDENTITY_CONFIGURATION" PODIDENTITY_VERSION "$PI_PODIDENTITY_VERSION" \
      REGISTRY_HOST "$RG_REGISTRY_HOST" REGISTRY_URL "$RG_REGISTRY_URL" REGISTRY_DIR "$dir/registry" \
      REGISTRY_CA_CERT "$RG_CA_CERT" COSIGN_V2 "$RT_COSIGN_V2" COSIGN_V3 "$RT_COSIGN_V3" \
      COSIGN_KEY "${pub%.pub}.key" COSIGN_PUB "$pub" COSIGN_ROGUE_KEY "${rogue_pub%.pub}.key" COSIGN_ROGUE_PUB "$rogue_pub" \
      WEBHOOK_URL "https://127.0.0.1:$port" WEBHOOK_PORT "$port" WEBHOOK_CA_CERT "$CP_CA_CERT" \
      WEBHOOK_PID "$webhook_pid" WEBHOOK_CONFIG "$dir/webhook/config.yaml" WEBHOOK_CONTEXT_MODE "$context_mode" \
      WEBHOOK_CONTEXT_DIR "$dir/webhook/context" WEBHOOK_AUDIT_LOG "$dir/webhook/audit.log" \
      WEBHOOK_LOG "$dir/webhook/webhook.log" \
      OPERATOR_PID "$operator_pid" OPERATOR_CONFIG "$dir/operator/config.yaml" OPERATOR_LOG "$dir/operator/operator.log"
  } >"$dir/env.tmp"
  mv -f "$dir/env.tmp" "$dir/env"
  stack_env "$dir" || return 1
  stack_sync_context || return 1
  stack_log "ready in $((SECONDS - t0)) s: KUBECONFIG=$CP_KUBECONFIG webhook $WEBHOOK_URL registry $RG_REGISTRY_HOST moto $MO_MOTO_ENDPOINT (env: $dir/env)"
}

# stack_down DIR [--rm] : stop what stack_up started in DIR (tolerates a partial or dead stack); --rm deletes DIR
# when nothing of it runs any more. Never fails; returns the status it was called with.
stack_down() {
  local rc=$? dir=${1:-} opt=${2:-}
  [[ -n $dir && -d $dir ]] || return "$rc"
  "$PIPEGUARD_E2E_DIR/stack.sh" down "$dir" >&2 || true
  if [[ $opt == --rm && -z $(cp_procs_in "$dir") ]]; then
    rm -rf -- "$dir" || true
  fi
  return "$rc"
}

stack_webhook_alive() { cp_pid_alive "${WEBHOOK_PID:-}"; }
stack_operator_alive() { cp_pid_alive "${OPERATOR_PID:-}"; }

# stack_push_image REPO:TAG [SEED] : push a tiny OCI image to the TLS registry; prints its digest. REPO may also
# be given with the registry in front ($REGISTRY_HOST/REPO:TAG).
stack_push_image() {
  local ref=${1#"$REGISTRY_HOST/"}
  "$REPO_ROOT/scripts/registry/artifacts.sh" push "$REGISTRY_DIR" "$ref" "${2:-$ref}"
}

# stack_push_signed REPO:TAG [KEY] [FORMAT] : push, then sign the digest with cosign; prints the digest.
stack_push_signed() {
  local ref=${1#"$REGISTRY_HOST/"} key=${2:-trusted} format=${3:-v3-bundle} digest
  digest=$(stack_push_image "$ref") || return 1
  "$REPO_ROOT/scripts/registry/artifacts.sh" sign "$REGISTRY_DIR" "${ref%:*}@$digest" "$key" "$format" || return 1
  printf '%s\n' "$digest"
}

# _stack_context_reloads : the webhook's count of successful context reloads.
_stack_context_reloads() {
  curl -fsS --max-time 5 --cacert "$WEBHOOK_CA_CERT" "$WEBHOOK_URL/metrics" 2>/dev/null |
    awk '/^pipeguard_webhook_reloads_total\{/ && /source="context"/ && /result="success"/ { n += $NF } END { print n + 0 }'
}

# stack_sync_context : make the webhook see the cluster's current profiles, ServiceAccounts, namespaces and RBAC.
stack_sync_context() {
  local out=$WEBHOOK_CONTEXT_DIR/cluster.yaml before deadline last stable_since
  if [[ $WEBHOOK_CONTEXT_MODE == kubeconfig ]]; then
    # A barrier: touch a watched object (the release namespace), wait for the snapshot rebuild that follows, then
    # until rebuilds settle (the provider debounces changes by 200 ms), so earlier changes are in the snapshot too.
    before=$(_stack_context_reloads)
    "$KUBECTL" --request-timeout=30s annotate namespace "$HELM_NAMESPACE" --overwrite \
      "pipeguard.io/e2e-sync=$(date +%s%N)" >/dev/null || return 1
    deadline=$((SECONDS + 15))
    until (($(_stack_context_reloads) > before)); do
      if ((SECONDS >= deadline)); then
        stack_log "error: the webhook did not rebuild its context within 15 s"
        return 1
      fi
      sleep 0.1
    done
    last=$(_stack_context_reloads) stable_since=$SECONDS
    while ((SECONDS - stable_since < 1 && SECONDS < deadline)); do
      sleep 0.3
      local now
      now=$(_stack_context_reloads)
      [[ $now == "$last" ]] || { last=$now; stable_since=$SECONDS; }
    done
    return 0
  fi
  "$KUBECTL" --request-timeout=30s get namespaces,serviceaccounts,pipelinesecurityprofiles.pipeguard.io,roles,rolebindings,clusterroles,clusterrolebindings \
    -A -o json >"$out.json" || { stack_log "error: cannot read the cluster's context objects"; return 1; }
  python3 - "$out.json" >"$out.new" <<'PY' || return 1
import json, sys
for item in json.load(open(sys.argv[1]))["items"]:
    item.get("metadata", {}).pop("managedFields", None)
    print("---")
    print(json.dumps(item, sort_keys=True))
PY
  rm -f "$out.json"
  if cmp -s "$out.new" "$out"; then
    rm -f "$out.new"
    return 0
  fi
  before=$(_stack_context_reloads)
  mv -f "$out.new" "$out"
  deadline=$((SECONDS + 15))
  while ((SECONDS < deadline)); do
    (($(_stack_context_reloads) > before)) && return 0
    sleep 0.2
  done
  stack_log "error: the webhook did not reload its context within 15 s"
  _stack_tail "$WEBHOOK_LOG"
  return 1
}
