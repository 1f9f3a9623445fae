#!/usr/bin/env bash
# End-to-end scenarios with the real clients against the real stack (e2e/stack_lib.sh): kubectl apply of the
# examples, workloads, signed and unsigned images (real registry over TLS, real cosign), and the operator turning a
# PipelineSecurityProfile into a ServiceAccount, NetworkPolicies and an IAM role (moto).
#
# Usage: e2e/e2e_test.sh
#   PIPEGUARD_BUILD_DIR   build tree with cli/, webhook/ and operator/ binaries (default: build/ of this checkout)
#   PIPEGUARD_E2E_STACK=DIR  reuse a stack already started with `e2e/stack.sh up DIR` (left running); otherwise a
#                         stack is started in a temp dir and stopped on exit
#   PIPEGUARD_E2E_KEEP=1  keep the temp dir (logs: webhook audit/log, operator, registry, API server) on exit
#
# Contract: prints one line per check, then a summary table (scenario | expected | outcome | result | time) and
# "e2e: N passed, M failed"; exits 0 only if every check passed. The examples are applied with their image
# registry (123456789012.dkr.ecr.eu-west-1.amazonaws.com/) rewritten to the local TLS registry, where every image
# they name is pushed and signed with the trusted key, so admission runs the real signature verification.
# shellcheck source-path=SCRIPTDIR
set -uo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=lib.sh
. "$repo/e2e/lib.sh"
# shellcheck source=stack_lib.sh
. "$repo/e2e/stack_lib.sh"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/pipeguard-e2e.XXXXXX")
tmp=$(cd "$tmp" && pwd -P)
stack_dir=${PIPEGUARD_E2E_STACK:-}
own_stack=0
t_start=$SECONDS

cleanup() {
  local rc=$?
  set +e
  if ((own_stack)); then
    if ((rc != 0)) || [[ ${PIPEGUARD_E2E_KEEP:-0} == 1 ]]; then
      stack_down "$stack_dir"
      e2e_log "e2e: logs kept in $tmp (webhook: $stack_dir/webhook, operator: $stack_dir/operator)"
    else
      stack_down "$stack_dir" --rm
      rm -rf "$tmp"
    fi
  else
    rm -rf "$tmp"
  fi
  return "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- summary table -----------------------------------------------------------------------------------------------
ROWS=()
row_begin() { # row_begin SCENARIO EXPECTED
  ROW_NAME=$1 ROW_EXPECTED=$2 ROW_FAILS=$E2E_FAILED ROW_T0=$SECONDS
  e2e_log "== $1"
}
row_end() { # row_end OUTCOME
  local result=PASS
  ((E2E_FAILED > ROW_FAILS)) && result=FAIL
  ROWS+=("$ROW_NAME"$'\t'"$ROW_EXPECTED"$'\t'"$1"$'\t'"$result"$'\t'"$((SECONDS - ROW_T0))s")
}
print_table() {
  printf '%s\n' "${ROWS[@]}" | awk -F'\t' '
    function cut(s, n) { return length(s) <= n ? s : substr(s, 1, n - 3) "..." }
    { for (i = 1; i <= 5; i++) { c[NR, i] = cut($i, i == 1 ? 46 : 60); if (length(c[NR, i]) > w[i]) w[i] = length(c[NR, i]) } }
    END {
      h[1] = "SCENARIO"; h[2] = "EXPECTED"; h[3] = "OUTCOME"; h[4] = "RESULT"; h[5] = "TIME"
      for (i = 1; i <= 5; i++) if (length(h[i]) > w[i]) w[i] = length(h[i])
      line = ""; for (i = 1; i <= 5; i++) { sep = ""; for (j = 0; j < w[i]; j++) sep = sep "-"; line = line (i > 1 ? "-+-" : "") sep }
      for (i = 1; i <= 5; i++) printf "%s%-*s", (i > 1 ? " | " : ""), w[i], h[i]; print ""
      print line
      for (r = 1; r <= NR; r++) { for (i = 1; i <= 5; i++) printf "%s%-*s", (i > 1 ? " | " : ""), w[i], c[r, i]; print "" }
    }'
}
finish() {
  echo
  echo "pipeguard end-to-end scenarios (webhook context from ${WEBHOOK_CONTEXT_MODE:-?}; total $((SECONDS - t_start)) s)"
  print_table
  e2e_summary "e2e"
  exit $?
}

# --- the stack ---------------------------------------------------------------------------------------------------
row_begin "stack up" "control plane, moto, TLS registry, webhook, operator, helm devMode install"
if [[ -n $stack_dir ]]; then
  if ! stack_env "$stack_dir" 2>"$tmp/stack-env.log"; then
    e2e_fail "reuse the running stack in $stack_dir" "$(cat "$tmp/stack-env.log")"
    row_end "no stack in $stack_dir"
    finish
  fi
  e2e_pass "reuse the running stack in $stack_dir"
  outcome="reused $stack_dir"
else
  stack_dir=$tmp/stack
  own_stack=1
  if stack_up "$stack_dir" 2>"$tmp/stack-up.log"; then
    e2e_pass "stack up ($(grep -o 'ready in [0-9]* s' "$tmp/stack-up.log"))"
    outcome="ready in $((SECONDS - ROW_T0)) s"
  else
    e2e_fail "stack up" "$(tail -n 30 "$tmp/stack-up.log")"
    row_end "failed to start (see the log above)"
    finish
  fi
fi
check_eq "webhook configurations installed by the chart (devMode) call the local webhook" \
  "$WEBHOOK_URL/validate $WEBHOOK_URL/mutate" \
  "$("$KUBECTL" get validatingwebhookconfiguration "$WEBHOOK_CONFIGURATION_NAME" -o 'jsonpath={.webhooks[0].clientConfig.url}') $("$KUBECTL" get mutatingwebhookconfiguration "$WEBHOOK_CONFIGURATION_NAME" -o 'jsonpath={.webhooks[0].clientConfig.url}')"
check_eq "their caBundle is the test CA that signed the webhook's certificate" "$(base64 -w0 <"$WEBHOOK_CA_CERT")" \
  "$("$KUBECTL" get validatingwebhookconfiguration "$WEBHOOK_CONFIGURATION_NAME" -o 'jsonpath={.webhooks[0].clientConfig.caBundle}')"
row_end "$outcome; webhook context from $WEBHOOK_CONTEXT_MODE"

all_output=$tmp/kubectl-output.log # everything kubectl printed, for the secret check
: >"$all_output"
# k ARGS... : kubectl with a timeout; output to stdout and appended to $all_output.
k() {
  local out rc
  out=$("$KUBECTL" --request-timeout=40s "$@" 2>&1)
  rc=$?
  printf '%s\n' "$out" >>"$all_output"
  printf '%s\n' "$out"
  return "$rc"
}
# apply_ok DESCRIPTION FILE : kubectl apply must succeed; sets APPLY_OUT.
apply_ok() {
  APPLY_OUT=$(k apply -f "$2") && { e2e_pass "$1"; return 0; }
  e2e_fail "$1" "$(tail -n 8 <<<"$APPLY_OUT")"
  return 1
}
# apply_denied DESCRIPTION FILE : kubectl apply must be refused by pipeguard's webhook; sets APPLY_OUT.
apply_denied() {
  if APPLY_OUT=$(k apply -f "$2"); then
    e2e_fail "$1" "admitted: $APPLY_OUT"
    return 1
  fi
  check_match "$1" 'admission webhook "validate\.pipeguard\.io" denied the request' "$APPLY_OUT"
}
# audit_records OUTPUT RULE PATH : the webhook's audit log has the /validate denial named in OUTPUT ("pipeguard denied
# KIND NS/NAME:"), with RULE among its rules and PATH among its paths.
audit_records() {
  local object
  object=$(grep -oE 'pipeguard denied [A-Za-z]+ [a-z0-9.-]+/[a-z0-9.-]+' <<<"$1" | head -n 1)
  [[ -n $object ]] || { echo "no 'pipeguard denied KIND NS/NAME' in the output"; return 1; }
  set -- "${object#pipeguard denied }" "$2" "$3"
  python3 - "$WEBHOOK_AUDIT_LOG" "$@" <<'PY'
import json, sys
log, obj, rule, path = sys.argv[1:]
kind, ref = obj.split(" ", 1)
ns, name = ref.split("/", 1)
for line in open(log):
    try:
        a = json.loads(line)
    except ValueError:
        continue
    if (a.get("webhook"), a.get("kind"), a.get("namespace"), a.get("name"), a.get("allowed")) == ("validate", kind, ns, name, False) \
            and rule in a.get("rules", []) and path in a.get("paths", []):
        sys.exit(0)
print(f"no audit line: validate {kind} {ns}/{name} allowed=false rules∋{rule} paths∋{path}")
sys.exit(1)
PY
}
# profile_ready NS NAME : the profile's Ready condition status once it is True, or the last seen after 60 s.
profile_ready() {
  local deadline=$((SECONDS + 60)) ready=
  while ((SECONDS < deadline)); do
    ready=$("$KUBECTL" -n "$1" get pipelinesecurityprofile "$2" -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)
    [[ $ready == True ]] && break
    sleep 0.5
  done
  printf '%s\n' "$ready"
}
# violation_line OUTPUT RULE PATH : the "- RULE at PATH: ..." line of a denial.
violation_line() { grep -F -- "- $2 at $3:" <<<"$1" | head -n 1; }
# denied_rules OUTPUT : "rule at path, ..." of a denial, for the table.
denied_rules() { grep -oE '^- [a-z-]+ at [^:]+' <<<"$1" | sed 's/^- //' | paste -sd ';' | sed 's/;/; /g'; }
# images_of FILE_OR_KIND/NAME... : every image string in the stored objects (pod specs, templates, SparkApplications).
stored_images() {
  "$KUBECTL" --request-timeout=30s get "$@" -o json | python3 -c '
import json, sys
def walk(o, out):
    if isinstance(o, dict):
        for k, v in o.items():
            if k == "image" and isinstance(v, str): out.append(v)
            else: walk(v, out)
    elif isinstance(o, list):
        for v in o: walk(v, out)
    return out
d = json.load(sys.stdin)
for item in d.get("items", [d]):
    for image in walk(item.get("spec", {}), []): print(image)'
}

ecr=123456789012.dkr.ecr.eu-west-1.amazonaws.com/
declare -A digest_of # repo:tag -> digest pushed

# --- examples: context, images --------------------------------------------------------------------------------------
row_begin "examples: context and signed images" "namespaces, SAs, RBAC, profiles applied; images pushed + signed"
ex=$tmp/examples
mkdir -p "$ex"
cp -r "$repo/examples/good" "$repo/examples/bad" "$ex/"
sed -i "s#$ecr#$REGISTRY_HOST/#g" "$ex"/good/*.yaml "$ex"/bad/*.yaml
check "kubectl apply -f examples/context (namespaces, ServiceAccounts, RBAC, profiles through the webhook)" \
  k apply -f "$repo/examples/context/"
mapfile -t example_images < <(grep -ho "$REGISTRY_HOST/[^\"' ]*" "$ex"/good/*.yaml "$ex"/bad/*.yaml | sort -u)
n=0
for image in "${example_images[@]}"; do
  ref=${image#"$REGISTRY_HOST/"}
  # Half the images with cosign 2 (legacy .sig), half with cosign 3 (Sigstore bundle): the webhook takes both.
  format=v3-bundle
  ((n % 2)) && format=v2-legacy
  n=$((n + 1))
  if d=$(stack_push_signed "$ref" trusted "$format" 2>"$tmp/push.log"); then
    digest_of[$ref]=$d
  else
    e2e_fail "push and sign $ref ($format)" "$(tail -n 5 "$tmp/push.log")"
  fi
done
check_eq "every example image pushed and signed" "${#example_images[@]}" "${#digest_of[@]}"
check "the webhook sees the cluster's profiles and ServiceAccounts" stack_sync_context
row_end "${#digest_of[@]} images signed (cosign v2 + v3), context applied"

# --- examples/good -------------------------------------------------------------------------------------------------
for f in "$ex"/good/*.yaml; do
  name=good/$(basename "$f")
  row_begin "kubectl apply $name" "admitted; images pinned to the signed digest"
  outcome="denied"
  if apply_ok "$name admitted" "$f"; then
    outcome="admitted ($(grep -c -E ' (created|configured|unchanged)$' <<<"$APPLY_OUT") objects)"
    if [[ $name == good/sandbox-audit-warning.yaml ]]; then
      check_match "$name: audit-mode namespace returns a warning instead of a denial" \
        'Warning: pipeguard audit \(would deny\): insecure-transport at /spec/containers/0/env/0/value' "$APPLY_OUT" &&
        outcome+=", audit warning"
    fi
    mapfile -t imgs < <(stored_images -f "$f")
    pinned=0
    for img in "${imgs[@]}"; do
      repo_part=${img#"$REGISTRY_HOST/"}
      repo_part=${repo_part%@*}
      want=
      for ref in "${!digest_of[@]}"; do [[ ${ref%:*} == "$repo_part" ]] && want=${digest_of[$ref]}; done
      if check_eq "$name: stored image $repo_part pinned to its signed digest" "$REGISTRY_HOST/$repo_part@$want" "$img"; then
        pinned=$((pinned + 1))
      fi
    done
    ((${#imgs[@]})) && outcome+=", $pinned/${#imgs[@]} images pinned"
  fi
  row_end "$outcome"
done

# --- examples/bad --------------------------------------------------------------------------------------------------
# file | rule | field (JSON pointer) | how to fix (part of the message) | secret values that must never be echoed
bad_cases=(
  "airflow-connection-uri.yaml|plaintext-secret|/spec/containers/0/env/0/value|use an Airflow secrets backend, or valueFrom.secretKeyRef|Pg-Ledger-2024-Xq7v"
  "airflow-env-password.yaml|plaintext-secret|/spec/containers/0/env/2/value|use valueFrom.secretKeyRef|Sup3r-S3cret-Passw0rd!"
  "break-glass-misuse.yaml|plaintext-secret|/spec/containers/0/env/0/value|use valueFrom.secretKeyRef|Backfill-Hotfix-Pa55!"
  "cluster-admin-service-account.yaml|service-account-scope|/spec/template/spec/serviceAccountName|need a dedicated least-privilege service account|"
  "kafka-sasl-plaintext.yaml|insecure-transport|/spec/template/spec/containers/0/env/1/value|use security.protocol=SASL_SSL|"
  "missing-profile.yaml|missing-profile|/metadata/labels|create one whose spec.podSelector matches them|"
  "postgres-sslmode-disable.yaml|insecure-transport|/spec/jobTemplate/spec/template/spec/containers/0/env/0/value|use sslmode=verify-full|"
  "spark-jdbc-password.yaml|plaintext-secret|/spec/arguments/1|expose it with valueFrom.secretKeyRef|Jdbc-Ledger-Pa55word"
  "spark-submit-conf-secret.yaml|plaintext-secret|/spec/containers/0/args/8|use spark.kubernetes.driver.secretKeyRef|AKIAZ3MXQ7RWN2KXJ3VD,t9Vq2LmR7xKp4NcW8zYb3HdF6sJg1QeUaT5oRiXn"
  "untrusted-registry.yaml|untrusted-registry|/spec/containers/0/image|push it to one of them|"
  "wrong-service-account.yaml|service-account-scope|/spec/serviceAccountName|set serviceAccountName: airflow-worker|"
)
all_secrets=()
for case in "${bad_cases[@]}"; do
  IFS='|' read -r file rule path fix secrets <<<"$case"
  name=bad/$file
  row_begin "kubectl apply $name" "denied: $rule at $path"
  outcome="admitted"
  if apply_denied "$name denied by the webhook" "$ex/bad/$file"; then
    outcome="denied: $(denied_rules "$APPLY_OUT")"
    line=$(violation_line "$APPLY_OUT" "$rule" "$path")
    check_match "$name: message names rule $rule and field $path" . "$line" &&
      check_match "$name: message says how to fix it ($fix)" "$(sed 's/[][\.*^$(){}+?|]/\\&/g' <<<"$fix")" "$line"
    check_match "$name: message ends with the general remediation" 'Fix the fields above and apply again' "$APPLY_OUT"
    check "$name: audit log has the denial with $rule at $path" audit_records "$APPLY_OUT" "$rule" "$path"
    if [[ $file == break-glass-misuse.yaml ]]; then
      check_match "$name: the refused break-glass waiver is reported with the reason pipeguard scan gives" \
        'Warning: pipeguard warning: break-glass at /metadata/annotations/pipeguard\.io~1break-glass-rules: break-glass not honoured: the expiry is more than [0-9]+h ahead' \
        "$APPLY_OUT"
    fi
    IFS=',' read -r -a values <<<"$secrets"
    for value in "${values[@]}"; do
      [[ -n $value ]] || continue
      all_secrets+=("$value")
      if grep -qF -- "$value" <<<"$APPLY_OUT"; then
        e2e_fail "$name: kubectl output does not contain the secret value"
      else
        e2e_pass "$name: kubectl output does not contain the secret value"
      fi
    done
  fi
  check_fails "$name: nothing was stored" "NotFound|not found" k get -f "$ex/bad/$file"
  row_end "$outcome"
done

# --- workloads: CronJob, Job, Deployment -----------------------------------------------------------------------------
workload_secret=E2e-W0rkload-Secr3t-9zQ
sed -e "s#__REGISTRY__#$REGISTRY_HOST#g" -e "s#__SECRET__#$workload_secret#g" "$repo/e2e/data/workloads.yaml" >"$tmp/workloads.yaml"
all_secrets+=("$workload_secret")
for kind_path in "CronJob|/spec/jobTemplate/spec/template/spec/containers/0/env/0/value" \
  "Job|/spec/template/spec/containers/0/env/0/value" "Deployment|/spec/template/spec/containers/0/env/0/value"; do
  kind=${kind_path%%|*} path=${kind_path#*|}
  row_begin "kubectl apply $kind with a plaintext password" "denied at apply time: plaintext-secret at $path"
  python3 - "$tmp/workloads.yaml" "$kind" >"$tmp/$kind.yaml" <<'PY'
import sys
docs = open(sys.argv[1]).read().split("\n---\n")
print("\n---\n".join(d for d in docs if f"\nkind: {sys.argv[2]}\n" in "\n" + d + "\n"))
PY
  outcome=admitted
  if apply_denied "$kind denied at apply time" "$tmp/$kind.yaml"; then
    outcome="denied: $(denied_rules "$APPLY_OUT")"
    check_match "$kind: message names plaintext-secret at $path and the fix" 'valueFrom\.secretKeyRef' \
      "$(violation_line "$APPLY_OUT" plaintext-secret "$path")"
    check_no_match "$kind: kubectl output does not contain the secret value" "$workload_secret" "$APPLY_OUT"
    check "$kind: audit log has the denial" audit_records "$APPLY_OUT" plaintext-secret "$path"
  fi
  check_fails "$kind: nothing was stored" "NotFound|not found" k get -f "$tmp/$kind.yaml"
  row_end "$outcome"
done

# --- images: unsigned, wrong key, signed (v3 bundle, v2 .sig), pinned ------------------------------------------------
pod_manifest() { # pod_manifest NAME IMAGE [SA] [PIPELINE] [NAMESPACE]
  cat <<EOF
apiVersion: v1
kind: Pod
metadata:
  name: $1
  namespace: ${5:-data-pipelines}
  labels: {pipeguard.io/pipeline: ${4:-dbt-nightly}}
spec:
  serviceAccountName: ${3:-dbt-runner}
  automountServiceAccountToken: false
  restartPolicy: Never
  containers:
    - name: main
      image: $2
      args: ["run"]
EOF
}
row_begin "image: unsigned" "denied: unsigned-image at /spec/containers/0/image"
outcome=admitted
if d=$(stack_push_image e2e/app:unsigned 2>"$tmp/push.log"); then
  pod_manifest img-unsigned "$REGISTRY_HOST/e2e/app:unsigned" >"$tmp/img-unsigned.yaml"
  if apply_denied "pod with an unsigned image denied" "$tmp/img-unsigned.yaml"; then
    outcome="denied: $(denied_rules "$APPLY_OUT")"
    check_match "unsigned: message names unsigned-image at /spec/containers/0/image, the image and its digest" \
      "is not signed by a trusted key.*$d|$d.*is not signed by a trusted key" \
      "$(violation_line "$APPLY_OUT" unsigned-image /spec/containers/0/image)"
  fi
else
  e2e_fail "push e2e/app:unsigned" "$(tail -n 5 "$tmp/push.log")"
fi
row_end "$outcome"

row_begin "image: signed by an untrusted key" "denied: unsigned-image"
outcome=admitted
if stack_push_signed e2e/app:rogue rogue v3-bundle >/dev/null 2>"$tmp/push.log"; then
  pod_manifest img-rogue "$REGISTRY_HOST/e2e/app:rogue" >"$tmp/img-rogue.yaml"
  apply_denied "pod with an image signed by an untrusted key denied" "$tmp/img-rogue.yaml" &&
    outcome="denied: $(denied_rules "$APPLY_OUT")" &&
    check_match "rogue: denied by unsigned-image" . "$(violation_line "$APPLY_OUT" unsigned-image /spec/containers/0/image)"
else
  e2e_fail "push and sign e2e/app:rogue" "$(tail -n 5 "$tmp/push.log")"
fi
row_end "$outcome"

for format in v3-bundle v2-legacy; do
  row_begin "image: signed (cosign $format), tag" "admitted; stored pod pinned to @sha256 of the signed manifest"
  outcome=denied
  if d=$(stack_push_signed "e2e/app:$format" trusted "$format" 2>"$tmp/push.log"); then
    pod_manifest "img-$format" "$REGISTRY_HOST/e2e/app:$format" >"$tmp/img-$format.yaml"
    if apply_ok "pod with a signed image ($format) admitted" "$tmp/img-$format.yaml"; then
      stored=$("$KUBECTL" -n data-pipelines get pod "img-$format" -o 'jsonpath={.spec.containers[0].image}')
      check_eq "the mutating webhook pinned the stored pod's image to the signed digest" \
        "$REGISTRY_HOST/e2e/app@$d" "$stored" && outcome="admitted, image $stored"
      outcome=${outcome/$REGISTRY_HOST\//}
    fi
  else
    e2e_fail "push and sign e2e/app:$format" "$(tail -n 5 "$tmp/push.log")"
  fi
  row_end "$outcome"
done

row_begin "image: signed, Deployment template" "admitted; template image pinned"
outcome=denied
d=${digest_of[ledger/stream-consumer:2.7.1]:-}
sed -e "s#__REGISTRY__#$REGISTRY_HOST#g" "$repo/e2e/data/signed-deployment.yaml" >"$tmp/signed-deployment.yaml"
if apply_ok "Deployment with a signed image admitted" "$tmp/signed-deployment.yaml"; then
  stored=$("$KUBECTL" -n data-pipelines get deployment e2e-signed-consumer -o 'jsonpath={.spec.template.spec.containers[0].image}')
  check_eq "the Deployment's pod template is pinned to the signed digest" "$REGISTRY_HOST/ledger/stream-consumer@$d" "$stored" &&
    outcome="admitted, template pinned"
fi
row_end "$outcome"

# --- operator: profile -> ServiceAccount, NetworkPolicies, IAM role ---------------------------------------------------
ns=e2e-orders
profile=orders-etl
role_name=pg.$CLUSTER_NAME.$ns.$profile
role_arn=arn:aws:iam::$AWS_ACCOUNT_ID:role/pipeguard/$CLUSTER_NAME/$role_name
row_begin "operator: kubectl apply PipelineSecurityProfile" "ServiceAccount (role-arn), NetworkPolicies, IAM role in moto"
outcome="not reconciled"
check "namespace $ns" k create namespace "$ns"
check "label $ns enforce" k label namespace "$ns" pipeguard.io/mode=enforce
# The Service the profile's egress names: its selector and port become the NetworkPolicy's peer.
check "namespace e2e-streaming" k create namespace e2e-streaming
check "Service e2e-streaming/kafka (selector app=kafka, port 9096)" \
  k -n e2e-streaming create service clusterip kafka --tcp=9096:9096
if apply_ok "profile $ns/$profile admitted (guardrails pass)" "$repo/e2e/data/orders-profile.yaml"; then
  check_eq "profile status Ready=True (operator reconciled it)" True "$(profile_ready "$ns" "$profile")"
  check_eq "ServiceAccount $profile annotated with the profile's IAM role (IRSA)" "$role_arn" \
    "$("$KUBECTL" -n "$ns" get serviceaccount "$profile" -o 'jsonpath={.metadata.annotations.eks\.amazonaws\.com/role-arn}' 2>&1)"
  check_eq "ServiceAccount token automount follows the profile (false)" false \
    "$("$KUBECTL" -n "$ns" get serviceaccount "$profile" -o 'jsonpath={.automountServiceAccountToken}' 2>&1)"
  check_eq "NetworkPolicies: default-deny and allow for the pipeline's pods" \
    "pipeguard-$profile-allow pipeguard-$profile-deny" \
    "$("$KUBECTL" -n "$ns" get networkpolicy -o 'jsonpath={.items[*].metadata.name}' 2>&1)"
  check_eq "deny NetworkPolicy selects the pipeline's pods, Ingress+Egress, no rules" \
    "orders-etl Ingress Egress ||" "$("$KUBECTL" -n "$ns" get networkpolicy "pipeguard-$profile-deny" \
      -o 'jsonpath={.spec.podSelector.matchLabels.pipeguard\.io/pipeline} {.spec.policyTypes[*]} |{.spec.ingress}|{.spec.egress}' 2>&1)"
  check_eq "allow NetworkPolicy lets the pipeline reach 10.20.0.0/16 on TCP 5432 (the profile's egress)" "5432 TCP" \
    "$("$KUBECTL" -n "$ns" get networkpolicy "pipeguard-$profile-allow" \
      -o 'jsonpath={.spec.egress[?(@.to[0].ipBlock.cidr=="10.20.0.0/16")].ports[0].port} {.spec.egress[?(@.to[0].ipBlock.cidr=="10.20.0.0/16")].ports[0].protocol}' 2>&1)"
  # allow_peer_port SELECTOR_VALUE : the port of the allow policy's egress rule to pods with app=SELECTOR_VALUE.
  allow_peer_port() {
    "$KUBECTL" -n "$ns" get networkpolicy "pipeguard-$profile-allow" \
      -o "jsonpath={.spec.egress[?(@.to[0].podSelector.matchLabels.app==\"$1\")].ports[0].port}" 2>&1
  }
  check_eq "allow NetworkPolicy lets the pipeline reach the Service's pods (app=kafka) on 9096" 9096 \
    "$(allow_peer_port kafka)"
  # The Service moves to other pods: the operator's Service informer re-reconciles the profile (no resync wait).
  k -n e2e-streaming patch service kafka --type=merge -p '{"spec":{"selector":{"app":"kafka-v2"}}}' >/dev/null
  peer=
  for _ in $(seq 1 50); do
    peer=$(allow_peer_port kafka-v2)
    [[ $peer == 9096 ]] && break
    sleep 0.2
  done
  check_eq "a changed Service selector reaches the NetworkPolicy within 10 s" 9096 "$peer"
  iam=$("$MOTO_PYTHON" - "$MOTO_ENDPOINT" "$role_name" 2>&1 <<'PY'
import json, sys, urllib.parse, boto3
iam = boto3.client("iam", endpoint_url=sys.argv[1])
role = iam.get_role(RoleName=sys.argv[2])["Role"]
trust = role["AssumeRolePolicyDocument"]
if isinstance(trust, str): trust = json.loads(urllib.parse.unquote(trust))
policy = iam.get_role_policy(RoleName=sys.argv[2], PolicyName="pipeguard-profile")["PolicyDocument"]
if isinstance(policy, str): policy = json.loads(urllib.parse.unquote(policy))
tags = {t["Key"]: t["Value"] for t in iam.list_role_tags(RoleName=sys.argv[2])["Tags"]}
print("arn=" + role["Arn"])
print("boundary=" + role.get("PermissionsBoundary", {}).get("PermissionsBoundaryArn", ""))
print("managed-by=" + tags.get("pipeguard.io/managed-by", ""))
print("trust=" + json.dumps(trust, sort_keys=True))
print("policy=" + json.dumps(policy, sort_keys=True))
PY
  )
  check_match "IAM role $role_name exists in moto with the ARN on the ServiceAccount" "^arn=$role_arn$" "$iam"
  check_match "IAM role has the permissions boundary" "^boundary=arn:aws:iam::$AWS_ACCOUNT_ID:policy/pipeguard-e2e-boundary$" "$iam"
  check_match "IAM role is tagged pipeguard.io/managed-by=pipeguard" '^managed-by=pipeguard$' "$iam"
  check_match "trust policy: web identity of the cluster's OIDC provider, for this ServiceAccount only" \
    "oidc\.e2e\.pipeguard\.test/id/E2E:sub\": \"system:serviceaccount:$ns:$profile\"" "$(grep '^trust=' <<<"$iam")"
  check_match "inline policy grants read on s3://e2e-orders-raw/orders/" 'arn:aws:s3:::e2e-orders-raw/orders/' \
    "$(grep '^policy=' <<<"$iam")"
  ((E2E_FAILED == ROW_FAILS)) && outcome="Ready; SA + 2 NetworkPolicies + IAM role $role_name"
fi
row_end "$outcome"

check "the webhook sees the operator's ServiceAccount and the profile" stack_sync_context >/dev/null
row_begin "operator: pod with the operator-made ServiceAccount" "admitted"
outcome=denied
pod_manifest orders-load "$REGISTRY_HOST/e2e/app:v3-bundle" "$profile" "$profile" "$ns" >"$tmp/orders-ok.yaml"
apply_ok "pod of $profile running as ServiceAccount $profile admitted" "$tmp/orders-ok.yaml" && outcome=admitted
row_end "$outcome"

row_begin "operator: pod of the pipeline with another SA" "denied: service-account-scope at /spec/serviceAccountName"
outcome=admitted
check "a second ServiceAccount in $ns" k -n "$ns" create serviceaccount other-team
stack_sync_context >/dev/null
pod_manifest orders-wrong-sa "$REGISTRY_HOST/e2e/app:v3-bundle" other-team "$profile" "$ns" >"$tmp/orders-wrong.yaml"
if apply_denied "pod of $profile running as another ServiceAccount denied" "$tmp/orders-wrong.yaml"; then
  outcome="denied: $(denied_rules "$APPLY_OUT")"
  check_match "message names service-account-scope at /spec/serviceAccountName and the fix" \
    "set serviceAccountName: $profile" "$(violation_line "$APPLY_OUT" service-account-scope /spec/serviceAccountName)"
fi
row_end "$outcome"

row_begin "operator: profile beyond the guardrails" "denied: profile-guardrail (bucket not allowed)"
outcome=admitted
if apply_denied "profile asking for a bucket outside allowedBucketPatterns denied" "$repo/e2e/data/greedy-profile.yaml"; then
  outcome="denied: $(denied_rules "$APPLY_OUT")"
  check_match "message names profile-guardrail at /spec/aws/s3/0/bucket" . \
    "$(violation_line "$APPLY_OUT" profile-guardrail /spec/aws/s3/0/bucket)"
fi
row_end "$outcome"

# A profile stored before the guardrails were tightened (as after a `helm upgrade` that tightens them): here it gets
# in while no webhook judges profiles (the ValidatingWebhookConfiguration is taken away for a moment). The operator
# adds its finalizer and reports Ready=False. With the webhook back, a change of its spec is still denied, but the
# updates that only touch finalizers (the operator's and a user's, before and after the delete) are admitted without
# evaluation, so `kubectl delete` completes.
legacy=orders-legacy
row_begin "operator: stored profile beyond the guardrails deleted" "finalizer updates admitted, spec change denied, gone"
outcome="not deleted"
cat >"$tmp/legacy-profile.yaml" <<YAML
apiVersion: pipeguard.io/v1alpha1
kind: PipelineSecurityProfile
metadata:
  name: $legacy
  namespace: $ns
spec:
  podSelector:
    matchLabels: {pipeguard.io/pipeline: $legacy}
  serviceAccount:
    name: $legacy
  aws:
    s3:
      - {bucket: finance-prod-ledger, access: read}
YAML
legacy_get() { "$KUBECTL" --request-timeout=30s -n "$ns" get pipelinesecurityprofile "$legacy" -o "jsonpath=$1" 2>&1; }
"$KUBECTL" --request-timeout=30s get validatingwebhookconfiguration "$WEBHOOK_CONFIGURATION_NAME" -o json |
  python3 -c '
import json, sys
o = json.load(sys.stdin)
for k in ("resourceVersion", "uid", "creationTimestamp", "generation", "managedFields"):
    o["metadata"].pop(k, None)
json.dump(o, sys.stdout)' >"$tmp/vwc.json"
stored=0
if check "ValidatingWebhookConfiguration saved" test -s "$tmp/vwc.json" &&
  check "ValidatingWebhookConfiguration taken away" k delete validatingwebhookconfiguration "$WEBHOOK_CONFIGURATION_NAME"; then
  for _ in $(seq 1 30); do # the API server's webhook cache follows within a moment
    if k apply -f "$tmp/legacy-profile.yaml" >/dev/null; then
      stored=1
      break
    fi
    sleep 1
  done
  check_eq "profile $ns/$legacy (bucket outside the guardrails) stored while no webhook judged profiles" 1 "$stored"
  check "ValidatingWebhookConfiguration restored" k apply -f "$tmp/vwc.json"
fi
judged=0
for _ in $(seq 1 30); do
  if ! out=$(k apply --dry-run=server -f "$repo/e2e/data/greedy-profile.yaml") &&
    grep -q 'admission webhook "validate\.pipeguard\.io" denied the request' <<<"$out"; then
    judged=1
    break
  fi
  sleep 1
done
check_eq "the webhook judges profiles again (a profile beyond the guardrails is denied)" 1 "$judged"
if ((stored)); then
  for _ in $(seq 1 60); do
    state="$(legacy_get '{.metadata.finalizers[*]}') $(legacy_get '{.status.conditions[?(@.type=="Ready")].status} {.status.conditions[?(@.type=="Ready")].reason}')"
    [[ $state == "pipeguard.io/iam-role False GuardrailViolation" ]] && break
    sleep 1
  done
  check_eq "the operator added its finalizer and reports Ready=False (GuardrailViolation)" \
    "pipeguard.io/iam-role False GuardrailViolation" "$state"
  check "a finalizer added by hand is admitted (only metadata no rule reads changes)" \
    k -n "$ns" patch pipelinesecurityprofile "$legacy" --type=json \
    -p '[{"op": "add", "path": "/metadata/finalizers/-", "value": "e2e.pipeguard.test/hold"}]'
  check_fails "a change of its spec is still judged and denied (profile-guardrail)" \
    'profile-guardrail at /spec/aws/s3/0/bucket' \
    k -n "$ns" patch pipelinesecurityprofile "$legacy" --type=merge \
    -p '{"spec": {"aws": {"s3": [{"bucket": "finance-prod-payroll", "access": "read"}]}}}'
  if check "kubectl delete (returns at once: finalizers pending)" \
    k -n "$ns" delete pipelinesecurityprofile "$legacy" --wait=false; then
    for _ in $(seq 1 60); do
      finalizers=$(legacy_get '{.metadata.finalizers[*]}')
      [[ $finalizers == e2e.pipeguard.test/hold ]] && break
      sleep 1
    done
    check_eq "the operator removed its finalizer (its UPDATE admitted)" e2e.pipeguard.test/hold "$finalizers"
    check "the last finalizer removed by hand is admitted (an update of an object being deleted)" \
      k -n "$ns" patch pipelinesecurityprofile "$legacy" --type=json -p '[{"op": "remove", "path": "/metadata/finalizers"}]'
    check "profile $ns/$legacy is gone" k -n "$ns" wait --for=delete "pipelinesecurityprofile/$legacy" --timeout=30s &&
      outcome="deleted"
    check "the audit log records those updates as allowed and not evaluated, for both reasons" \
      python3 - "$WEBHOOK_AUDIT_LOG" "$ns" "$legacy" <<'PY'
import json, sys
log, ns, name = sys.argv[1:]
reasons = set()
for line in open(log):
    try:
        a = json.loads(line)
    except ValueError:
        continue
    if (a.get("webhook"), a.get("kind"), a.get("namespace"), a.get("name"), a.get("operation")) == \
            ("validate", "PipelineSecurityProfile", ns, name, "UPDATE") and a.get("allowed") and not a.get("evaluated"):
        reason = a.get("not_evaluated", "")
        reasons.add("deleting" if "being deleted" in reason else "metadata" if "only metadata" in reason else reason)
if not {"deleting", "metadata"} <= reasons:
    sys.exit(f"expected unevaluated UPDATEs for both reasons, saw {sorted(reasons)}")
PY
  fi
fi
row_end "$outcome"

row_begin "operator: profile deleted" "IAM role removed from moto (finalizer)"
outcome="role still present"
if check "kubectl delete the profile" k -n "$ns" delete pipelinesecurityprofile "$profile" --timeout=60s; then
  gone=$("$MOTO_PYTHON" - "$MOTO_ENDPOINT" "$role_name" 2>&1 <<'PY'
import sys, boto3
iam = boto3.client("iam", endpoint_url=sys.argv[1])
try:
    iam.get_role(RoleName=sys.argv[2])
    print("present")
except iam.exceptions.NoSuchEntityException:
    print("gone")
PY
  )
  check_eq "IAM role $role_name deleted from moto" gone "$gone" && outcome="role deleted"
fi
row_end "$outcome"

# --- per-pipeline image policy: a fresh, passing vulnerability scan (cosign attest) -------------------------------------
# A profile that requires cosign's vulnerability attestation, no older than 12 h and with nothing at or above high:
# its pipeline's images are admitted only with such a scan, signed by the profile's key (issue 13). Attestations made
# by the real cosign (v3 Sigstore bundles and v2 `.att` tags) in the real registry; predicates in cosign's documented
# vuln schema with Grype's report shape, as templates/release/grype-to-vuln-predicate.jq writes them.
pay_ns=e2e-payments
pay=payments-release
row_begin "profile requiring a fresh vulnerability scan" "Ready; seen by the webhook"
outcome="not reconciled"
check "namespace $pay_ns" k create namespace "$pay_ns"
check "label $pay_ns enforce" k label namespace "$pay_ns" pipeguard.io/mode=enforce
cat >"$tmp/pay-profile.yaml" <<YAML
apiVersion: pipeguard.io/v1alpha1
kind: PipelineSecurityProfile
metadata: {name: $pay, namespace: $pay_ns}
spec:
  podSelector:
    matchLabels: {pipeguard.io/pipeline: $pay}
  serviceAccount: {name: $pay, automountToken: false}
  images:
    trustedKeys: [e2e-trusted]
    attestations:
      vulnerabilities: {maxAgeHours: 12, failAt: high}
YAML
if apply_ok "profile $pay_ns/$pay (vulnerabilities: maxAgeHours 12, failAt high) admitted" "$tmp/pay-profile.yaml"; then
  check_eq "profile $pay Ready=True (its ServiceAccount made)" True "$(profile_ready "$pay_ns" "$pay")" && outcome=Ready
fi
check "the webhook sees profile $pay and its ServiceAccount" stack_sync_context >/dev/null
row_end "$outcome"

# vuln_predicate FILE MINUTES_AGO [SEVERITY] : cosign's vuln predicate, a Grype scan that finished MINUTES_AGO with
# one finding of SEVERITY (none when empty).
vuln_predicate() {
  python3 - "$@" <<'PY'
import datetime, json, sys
path, minutes, severity = sys.argv[1], int(sys.argv[2]), sys.argv[3] if len(sys.argv) > 3 else ""
finished = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=minutes)
stamp = lambda t: t.strftime("%Y-%m-%dT%H:%M:%SZ")
matches = [{"vulnerability": {"id": "CVE-2026-31337", "severity": severity}, "artifact": {"name": "openssl"}}] if severity else []
json.dump({"invocation": {"parameters": [], "uri": "", "event_id": "", "builder.id": ""},
           "scanner": {"uri": "https://github.com/anchore/grype", "version": "0.74.0",
                       "db": {"uri": "", "version": "5"}, "result": {"matches": matches}},
           "metadata": {"scanStartedOn": stamp(finished - datetime.timedelta(minutes=1)), "scanFinishedOn": stamp(finished)}},
          open(path, "w"))
PY
}
# case | cosign format | scan age in minutes ("" = no attestation) | finding severity | expected | the denial (regex)
pay_cases=(
  "scanned|v3-bundle|10|low|admitted|"
  "scanned-legacy|v2-legacy|10||admitted|"
  "unscanned|v3-bundle|||denied|vulnerability scan: no attestation of type https://cosign.sigstore.dev/attestation/vuln/v1"
  "stale-scan|v3-bundle|4320||denied|vulnerability scan: the newest scan finished .* ago \\(at most 12"
  "critical-finding|v2-legacy|10|critical|denied|1 finding at or above high: CVE-2026-31337"
)
for entry in "${pay_cases[@]}"; do
  IFS='|' read -r case format age severity expected reason <<<"$entry"
  row_begin "image of $pay: $case ($format)" "$expected${reason:+: unsigned-image naming profile $pay_ns/$pay}"
  outcome=error
  if d=$(stack_push_signed "e2e/payments:$case" trusted "$format" 2>"$tmp/push.log"); then
    if [[ -n $age ]]; then
      vuln_predicate "$tmp/vuln-$case.json" "$age" "$severity"
      check "cosign attest --type vuln ($format) on e2e/payments@$d" "$repo/scripts/registry/artifacts.sh" attest \
        "$REGISTRY_DIR" "e2e/payments@$d" trusted "$format" vuln "$tmp/vuln-$case.json"
    fi
    pod_manifest "pay-$case" "$REGISTRY_HOST/e2e/payments:$case" "$pay" "$pay" "$pay_ns" >"$tmp/pay-$case.yaml"
    if [[ $expected == admitted ]]; then
      if apply_ok "$case: image with a fresh passing scan admitted" "$tmp/pay-$case.yaml"; then
        stored=$("$KUBECTL" -n "$pay_ns" get pod "pay-$case" -o 'jsonpath={.spec.containers[0].image}')
        check_eq "$case: stored image pinned to the attested digest" "$REGISTRY_HOST/e2e/payments@$d" "$stored" &&
          outcome="admitted, pinned"
      fi
    elif apply_denied "$case: image without a fresh passing scan denied" "$tmp/pay-$case.yaml"; then
      outcome="denied: $(denied_rules "$APPLY_OUT")"
      line=$(violation_line "$APPLY_OUT" unsigned-image /spec/containers/0/image)
      check_match "$case: the denial names the profile's unmet attestation" \
        "attestations not satisfied: profile $pay_ns/$pay: .*$reason" "$line"
    fi
  else
    e2e_fail "push and sign e2e/payments:$case" "$(tail -n 5 "$tmp/push.log")"
  fi
  row_end "$outcome"
done

row_begin "the unscanned image outside that pipeline" "admitted (the requirement is the profile's, not global)"
outcome=denied
pod_manifest pay-unscanned-elsewhere "$REGISTRY_HOST/e2e/payments:unscanned" >"$tmp/pay-elsewhere.yaml"
apply_ok "the same unscanned image in data-pipelines (no such profile) admitted" "$tmp/pay-elsewhere.yaml" &&
  outcome=admitted
row_end "$outcome"

# --- evidence report -------------------------------------------------------------------------------------------------------
row_begin "pipeguard report on this run" "every denial and waiver in the audit log, every drift and tamper record"
build_dir=${PIPEGUARD_BUILD_DIR:-$repo/build}
[[ $build_dir == /* ]] || build_dir=$repo/$build_dir
"$KUBECTL" get pipelinesecurityprofiles -A -o json >"$tmp/profiles.json"
if "$build_dir/cli/pipeguard" report --audit-log "$WEBHOOK_AUDIT_LOG" --audit-log "$OPERATOR_LOG" \
  --profiles "$tmp/profiles.json" -o json >"$tmp/evidence.json" 2>"$tmp/evidence.err"; then
  # Counted independently from the raw logs: what the run caused must all be in the report.
  counts=$(python3 - "$WEBHOOK_AUDIT_LOG" "$OPERATOR_LOG" "$tmp/evidence.json" <<'PY'
import json, sys
denied = waived = drift = tamper = 0
for path in sys.argv[1:3]:
    for line in open(path, errors="replace"):
        brace = line.find("{")
        if brace < 0:
            continue
        try:
            r = json.loads(line[brace:])
        except ValueError:
            continue
        if isinstance(r, dict) and isinstance(r.get("msg"), str) and "log" not in r:
            try:
                r = json.loads(r["msg"])
            except ValueError:
                continue
        if not isinstance(r, dict):
            continue
        if r.get("log") == "audit":
            denied += r.get("decision") == "denied"
            waived += r.get("decision") != "denied" and bool(r.get("break_glass_ticket"))
        drift += r.get("audit") == "drift_reverted"
        tamper += r.get("audit") == "webhook_configuration_tampered"
e = json.load(open(sys.argv[3]))
print(f"{denied} {waived} {drift} {tamper}|{len(e['denials'])} {len(e['breakGlassWaivers'])} "
      f"{len(e['driftReverted'])} {len(e['tamperRestored'])}|{len(e['profiles'])}")
PY
  )
  check_eq "report lists every denial, waiver, drift revert and tamper restore (logs | report)" \
    "${counts%%|*}" "$(cut -d'|' -f2 <<<"$counts")"
  check "the run's denials are in it" test "$(cut -d' ' -f1 <<<"$counts")" -gt 0
  check "every stored profile is in it" test "${counts##*|}" = "$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["items"]))' "$tmp/profiles.json")"
  "$build_dir/cli/pipeguard" report --audit-log "$WEBHOOK_AUDIT_LOG" --audit-log "$OPERATOR_LOG" >>"$all_output" 2>&1
  outcome="report: ${counts%%|*} (denials waivers drift tamper)"
else
  e2e_fail "pipeguard report runs on this run's logs" "$(cat "$tmp/evidence.err")"
  outcome="report failed"
fi
row_end "$outcome"

# --- secrets never echoed ------------------------------------------------------------------------------------------------
row_begin "secret values never echoed" "absent from kubectl output, the evidence report, webhook audit log and webhook log"
leaks=0
for value in "${all_secrets[@]}"; do
  for f in "$all_output" "$WEBHOOK_AUDIT_LOG" "$WEBHOOK_LOG"; do
    if grep -qF -- "$value" "$f"; then
      e2e_fail "secret value ${value:0:4}... absent from $(basename "$f")" "found in $f"
      leaks=$((leaks + 1))
    fi
  done
done
((leaks == 0)) && e2e_pass "${#all_secrets[@]} secret values absent from kubectl output, audit log, webhook log"
check_match "the audit log recorded the denials (one JSON line per decision)" '"allowed":false' "$(cat "$WEBHOOK_AUDIT_LOG")"
check "webhook and operator still running" bash -c "kill -0 $WEBHOOK_PID && kill -0 $OPERATOR_PID"
row_end "$leaks leaks in ${#all_secrets[@]} values x 3 outputs"

finish
