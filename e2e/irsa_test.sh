#!/usr/bin/env bash
# IRSA end to end without a node: the operator's IAM role, the real EKS pod identity webhook and the API server's
# own ServiceAccount tokens, on the e2e stack (e2e/stack_lib.sh with PIPEGUARD_STACK_OIDC_ISSUER=1 and
# PIPEGUARD_STACK_PODIDENTITY=1: control plane whose token issuer is the cluster's OIDC provider URL, moto, the
# registry, pipeguard's webhook and operator, and amazon-eks-pod-identity-webhook from scripts/podidentity).
#
# Usage: e2e/irsa_test.sh
#   PIPEGUARD_BUILD_DIR   build tree with cli/, webhook/ and operator/ binaries (default: build/ of this checkout)
#   PIPEGUARD_E2E_STACK=DIR  reuse a stack started with `PIPEGUARD_STACK_OIDC_ISSUER=1 PIPEGUARD_STACK_PODIDENTITY=1
#                         e2e/stack.sh up DIR` (left running); otherwise one is started in a temp dir, stopped on exit
#   PIPEGUARD_E2E_KEEP=1  keep the temp dir (logs) on exit
#
# What it shows:
#   1. a PipelineSecurityProfile becomes, through the operator, an IAM role in moto (trust policy: web identity of
#      the cluster's OIDC provider, sub = this ServiceAccount, aud = sts.amazonaws.com) and a ServiceAccount
#      annotated eks.amazonaws.com/role-arn;
#   2. a pipeline pod with that ServiceAccount, created through the API server, is mutated by the real pod identity
#      webhook (AWS_ROLE_ARN = the operator's role, AWS_WEB_IDENTITY_TOKEN_FILE, the projected volume aws-iam-token
#      with audience sts.amazonaws.com) and admitted by pipeguard's validating webhook with no finding at all;
#   3. a token of that ServiceAccount with audience sts.amazonaws.com (`kubectl create token`: the TokenRequest the
#      kubelet makes for the projected volume) verifies against the API server's JWKS (/openid/v1/jwks) with the
#      issuer of the role's OIDC provider, and satisfies the role's trust policy as read back from moto; tokens of
#      another ServiceAccount (wrong sub) and with the API server's default audience (wrong aud) do not;
#   4. with that token, moto's STS AssumeRoleWithWebIdentity on the role returns credentials, both called directly
#      and through the AWS SDK's own web-identity chain fed with the pod's injected environment (boto3; the token
#      file at the path the pod names is replaced by a local file: no node runs the pod). moto does not check the
#      token at all, so step 3 is where a wrong ServiceAccount is refused.
# What it does not show (a node does: scripts/test-node.sh, docs/real-node.md): the kubelet projecting the token into
# a running pod and the pod reading it and calling STS with it.
#
# Contract: one line per check, a table of the steps with their times, "irsa: N passed, M failed"; exits 0 only if
# every check passed. No token or credential value is printed (checked at the end against everything printed).
# shellcheck source-path=SCRIPTDIR
set -uo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=lib.sh
. "$repo/e2e/lib.sh"
# shellcheck source=stack_lib.sh
. "$repo/e2e/stack_lib.sh"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/pipeguard-irsa.XXXXXX")
tmp=$(cd "$tmp" && pwd -P)
chmod 700 "$tmp"
stack_dir=${PIPEGUARD_E2E_STACK:-}
own_stack=0
t_start=$SECONDS

cleanup() {
  local rc=$?
  set +e
  if ((own_stack)); then
    if ((rc != 0)) || [[ ${PIPEGUARD_E2E_KEEP:-0} == 1 ]]; then
      stack_down "$stack_dir"
      rm -f "$tmp"/*.token
      e2e_log "irsa: logs kept in $tmp (pod identity webhook: $stack_dir/podidentity)"
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

STEPS=()
step_t0=$SECONDS step_name=
step() { # step NAME : close the previous step (its time) and open the next
  [[ -n $step_name ]] && STEPS+=("$step_name"$'\t'"$((SECONDS - step_t0)) s")
  step_name=$1 step_t0=$SECONDS
  [[ -n $1 ]] && e2e_log "== $1"
}
finish() {
  step ""
  echo
  echo "IRSA end to end (control plane only; total $((SECONDS - t_start)) s)"
  printf '%s\n' "${STEPS[@]}" | awk -F'\t' '{ printf "  %-78s %s\n", $1, $2 }'
  e2e_summary irsa
  exit $?
}

out_log=$tmp/printed.log # everything this test prints from kubectl and python, for the secret check
: >"$out_log"
k() { # k ARGS... : kubectl with a timeout; output to stdout and appended to $out_log
  local out rc
  out=$("$KUBECTL" --request-timeout=40s "$@" 2>&1)
  rc=$?
  printf '%s\n' "$out" >>"$out_log"
  printf '%s\n' "$out"
  return "$rc"
}

# --- the stack ---------------------------------------------------------------------------------------------------
step "pod identity webhook binary (scripts/podidentity/install.sh)"
t=$SECONDS
if check "amazon-eks-pod-identity-webhook built or cached" "$repo/scripts/podidentity/install.sh"; then
  e2e_log "  (install.sh took $((SECONDS - t)) s)"
else
  finish
fi

step "stack up (control plane with the OIDC issuer, moto, registry, webhook, operator, pod identity webhook)"
if [[ -n $stack_dir ]]; then
  if ! stack_env "$stack_dir" 2>"$tmp/stack-env.log"; then
    e2e_fail "reuse the running stack in $stack_dir" "$(cat "$tmp/stack-env.log")"
    finish
  fi
  e2e_pass "reuse the running stack in $stack_dir"
else
  stack_dir=$tmp/stack
  own_stack=1
  if PIPEGUARD_STACK_OIDC_ISSUER=1 PIPEGUARD_STACK_PODIDENTITY=1 stack_up "$stack_dir" 2>"$tmp/stack-up.log"; then
    e2e_pass "stack up ($(grep -o 'ready in [0-9]* s' "$tmp/stack-up.log"))"
  else
    e2e_fail "stack up" "$(tail -n 30 "$tmp/stack-up.log")"
    finish
  fi
fi
check_eq "the API server's ServiceAccount issuer is the cluster's OIDC provider URL (as on EKS)" \
  "${OIDC_ISSUER_URL:-?}" "${SA_ISSUER:-}" || finish
[[ -n ${PODIDENTITY_URL:-} ]] || { e2e_fail "the stack runs the pod identity webhook" "PODIDENTITY_URL is empty"; finish; }
[[ -n ${MOTO_PYTHON:-} ]] || { e2e_fail "moto's python (boto3) is installed" "MOTO_PYTHON is empty"; finish; }
check_eq "OIDC discovery document of the API server names that issuer" "$OIDC_ISSUER_URL" \
  "$(k get --raw /.well-known/openid-configuration | python3 -c 'import json, sys; print(json.load(sys.stdin)["issuer"])')"
check_eq "MutatingWebhookConfiguration $PODIDENTITY_CONFIGURATION calls the local pod identity webhook" \
  "$PODIDENTITY_URL/mutate Fail v1beta1" \
  "$(k get mutatingwebhookconfiguration "$PODIDENTITY_CONFIGURATION" \
    -o 'jsonpath={.webhooks[0].clientConfig.url} {.webhooks[0].failurePolicy} {.webhooks[0].admissionReviewVersions[*]}')"

# --- 1. the operator: profile -> IAM role + annotated ServiceAccount ------------------------------------------------
ns=e2e-irsa
profile=etl-irsa
sa=etl-irsa
role_name=pg.$CLUSTER_NAME.$ns.$profile
role_arn=arn:aws:iam::$AWS_ACCOUNT_ID:role/pipeguard/$CLUSTER_NAME/$role_name
step "operator: PipelineSecurityProfile -> IAM role in moto + ServiceAccount eks.amazonaws.com/role-arn"
check "namespace $ns (pipeguard mode enforce)" \
  bash -c "'$KUBECTL' create namespace $ns && '$KUBECTL' label namespace $ns pipeguard.io/mode=enforce"
check "a second ServiceAccount $ns/other-team (no role)" k -n "$ns" create serviceaccount other-team
check "profile $ns/$profile admitted" k apply -f "$repo/e2e/data/irsa-profile.yaml"
ready=
for _ in $(seq 1 120); do
  ready=$("$KUBECTL" -n "$ns" get pipelinesecurityprofile "$profile" \
    -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)
  [[ $ready == True ]] && break
  sleep 0.5
done
check_eq "profile Ready=True (the operator reconciled it)" True "$ready"
check_eq "ServiceAccount $sa annotated eks.amazonaws.com/role-arn with the operator's role" "$role_arn" \
  "$(k -n "$ns" get serviceaccount "$sa" -o 'jsonpath={.metadata.annotations.eks\.amazonaws\.com/role-arn}')"
# The role as moto stores it, and its trust policy (written by the operator) for the checks below.
"$MOTO_PYTHON" - "$MOTO_ENDPOINT" "$role_name" "$tmp/trust.json" >"$tmp/role.txt" 2>&1 <<'PY'
import json, sys, urllib.parse, boto3
iam = boto3.client("iam", endpoint_url=sys.argv[1])
role = iam.get_role(RoleName=sys.argv[2])["Role"]
trust = role["AssumeRolePolicyDocument"]
if isinstance(trust, str): trust = json.loads(urllib.parse.unquote(trust))
json.dump(trust, open(sys.argv[3], "w"), sort_keys=True)
providers = [p["Arn"] for p in iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]]
print("arn=" + role["Arn"])
print("providers=" + " ".join(providers))
print("trust=" + json.dumps(trust, sort_keys=True))
PY
cat "$tmp/role.txt" >>"$out_log"
role=$(cat "$tmp/role.txt")
check_match "IAM role $role_name exists in moto with that ARN" "^arn=$role_arn$" "$role"
provider_host=${OIDC_ISSUER_URL#https://}
check_match "the cluster's OIDC provider is registered in moto" \
  "^providers=.*arn:aws:iam::$AWS_ACCOUNT_ID:oidc-provider/$provider_host" "$role"
check_match "trust policy: sts:AssumeRoleWithWebIdentity for sub system:serviceaccount:$ns:$sa, aud sts.amazonaws.com" \
  "\"$provider_host:aud\": \"sts.amazonaws.com\", \"$provider_host:sub\": \"system:serviceaccount:$ns:$sa\"" \
  "$(grep '^trust=' <<<"$role")"

# --- 2. a pipeline pod: mutated by the pod identity webhook, admitted by pipeguard -----------------------------------
step "pod through the API server: pod identity webhook mutates it, pipeguard admits it"
stack_sync_context >/dev/null || e2e_fail "the webhook sees the profile and its ServiceAccount" "stack_sync_context"
if ! digest=$(stack_push_signed e2e/irsa-app:v1 2>"$tmp/push.log"); then
  e2e_fail "push + sign e2e/irsa-app:v1" "$(tail -n 5 "$tmp/push.log")"
  finish
fi
pod_yaml() { # pod_yaml NAME SA
  cat <<EOF
apiVersion: v1
kind: Pod
metadata:
  name: $1
  namespace: $ns
  labels: {pipeguard.io/pipeline: $profile}
spec:
  serviceAccountName: $2
  automountServiceAccountToken: false
  restartPolicy: Never
  containers:
    - name: main
      image: $REGISTRY_HOST/e2e/irsa-app:v1
      args: ["run"]
EOF
}
pod_yaml etl-irsa-run "$sa" >"$tmp/pod.yaml"
# The pod identity webhook learns ServiceAccounts through an informer (eventually consistent, as on EKS): wait until a
# server-side dry run of the pod comes back mutated, so the real create is not a race.
mutated=
for _ in $(seq 1 40); do
  mutated=$("$KUBECTL" --request-timeout=30s create --dry-run=server -f "$tmp/pod.yaml" -o json 2>&1 |
    python3 -c 'import json, sys
try: p = json.load(sys.stdin)
except ValueError: sys.exit()
print(" ".join(e["name"] for c in p["spec"]["containers"] for e in c.get("env", [])))' 2>/dev/null)
  [[ $mutated == *AWS_ROLE_ARN* ]] && break
  sleep 0.5
done
check_match "the pod identity webhook mutates the pod within 20 s (server-side dry run)" AWS_ROLE_ARN "$mutated"
if check "kubectl apply of pod $ns/etl-irsa-run (ServiceAccount $sa) admitted" k apply -f "$tmp/pod.yaml"; then
  k -n "$ns" get pod etl-irsa-run -o json >"$tmp/stored-pod.json"
  stored=$(python3 - "$tmp/stored-pod.json" <<'PY'
import json, sys
p = json.load(open(sys.argv[1]))
c = p["spec"]["containers"][0]
env = {e["name"]: e.get("value", "<valueFrom>") for e in c.get("env", [])}
for name in ("AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_STS_REGIONAL_ENDPOINTS"):
    print(f"env {name}={env.get(name, '<missing>')}")
mounts = {m["name"]: m for m in c.get("volumeMounts", [])}
m = mounts.get("aws-iam-token", {})
print(f"mount aws-iam-token {m.get('mountPath', '<missing>')} readOnly={m.get('readOnly', False)}")
vols = {v["name"]: v for v in p["spec"].get("volumes", [])}
for s in vols.get("aws-iam-token", {}).get("projected", {}).get("sources", []):
    t = s.get("serviceAccountToken")
    if t:
        print(f"volume aws-iam-token serviceAccountToken audience={t.get('audience')} path={t.get('path')} "
              f"expirationSeconds={t.get('expirationSeconds')}")
print(f"image {c['image']}")
print(f"automount {p['spec'].get('automountServiceAccountToken')}")
PY
  )
  printf '%s\n' "$stored" >>"$out_log"
  check_match "stored pod: AWS_ROLE_ARN is the operator's role" "^env AWS_ROLE_ARN=$role_arn$" "$stored"
  check_match "stored pod: AWS_WEB_IDENTITY_TOKEN_FILE=/var/run/secrets/eks.amazonaws.com/serviceaccount/token" \
    '^env AWS_WEB_IDENTITY_TOKEN_FILE=/var/run/secrets/eks\.amazonaws\.com/serviceaccount/token$' "$stored"
  check_eq "stored pod: AWS_REGION, AWS_DEFAULT_REGION us-east-1 and AWS_STS_REGIONAL_ENDPOINTS=regional (as on EKS)" \
    "env AWS_REGION=us-east-1|env AWS_DEFAULT_REGION=us-east-1|env AWS_STS_REGIONAL_ENDPOINTS=regional" \
    "$(grep -E '^env AWS_(REGION|DEFAULT_REGION|STS_REGIONAL_ENDPOINTS)=' <<<"$stored" | paste -sd '|')"
  check_match "stored pod: projected volume aws-iam-token, serviceAccountToken audience sts.amazonaws.com, path token" \
    '^volume aws-iam-token serviceAccountToken audience=sts\.amazonaws\.com path=token expirationSeconds=[0-9]+$' "$stored"
  check_match "stored pod: mounted read-only at /var/run/secrets/eks.amazonaws.com/serviceaccount" \
    '^mount aws-iam-token /var/run/secrets/eks\.amazonaws\.com/serviceaccount readOnly=True$' "$stored"
  check_match "stored pod: pipeguard's mutating webhook pinned the image to its signed digest" \
    "^image $REGISTRY_HOST/e2e/irsa-app@$digest$" "$stored"
  check_match "stored pod: the Kubernetes API token stays unmounted (automountServiceAccountToken false)" \
    '^automount False$' "$stored"
  # pipeguard's validating webhook runs after every mutating webhook, so it judged the mutated pod: its audit line
  # must be an evaluated, governed admission with no finding at all (not even a non-blocking one).
  audit=$(python3 - "$WEBHOOK_AUDIT_LOG" "$ns" etl-irsa-run <<'PY'
import json, sys
log, ns, name = sys.argv[1:]
for line in open(log):
    try: a = json.loads(line)
    except ValueError: continue
    if (a.get("webhook"), a.get("kind"), a.get("namespace"), a.get("name"), a.get("dry_run")) == ("validate", "Pod", ns, name, False):
        print(f"allowed={a.get('allowed')} evaluated={a.get('evaluated')} governed={a.get('governed')} "
              f"profiles={','.join(a.get('profiles', []))} findings={len(a.get('findings', []))} rules={','.join(a.get('rules', []))}")
PY
  )
  printf '%s\n' "$audit" >>"$out_log"
  check_match "pipeguard's audit: validate Pod $ns/etl-irsa-run allowed, evaluated under profile $profile, 0 findings" \
    "^allowed=True evaluated=True governed=True profiles=([^ ]*,)?$ns/$profile(,[^ ]*)? findings=0 rules=$" "$audit"
fi
# Control: pipeguard does judge these pods; the same pipeline pod with another ServiceAccount is refused (and the pod
# identity webhook leaves it alone: that ServiceAccount has no role).
pod_yaml etl-irsa-wrong-sa other-team >"$tmp/pod-wrong.yaml"
check_fails "control: the same pod with ServiceAccount other-team is denied by pipeguard (service-account-scope)" \
  'service-account-scope at /spec/serviceAccountName' \
  k apply -f "$tmp/pod-wrong.yaml"

# --- 3. the token the kubelet would project: JWKS, issuer, sub, aud against the role's trust policy -------------------
step "tokens (TokenRequest as the kubelet makes it) against the API server's JWKS and the role's trust policy"
umask 077
issue_token() { # issue_token SA AUDIENCE|- FILE : a TokenRequest for SA, written to FILE (never printed)
  local aud=()
  [[ $2 != - ]] && aud=(--audience "$2")
  "$KUBECTL" --request-timeout=30s -n "$ns" create token "$1" "${aud[@]}" --duration=1h >"$3" 2>"$3.err" && [[ -s $3 ]]
}
check "token of $sa, audience sts.amazonaws.com" issue_token "$sa" sts.amazonaws.com "$tmp/right.token"
check "token of other-team, audience sts.amazonaws.com" issue_token other-team sts.amazonaws.com "$tmp/other-sa.token"
check "token of $sa, the API server's default audience" issue_token "$sa" - "$tmp/default-aud.token"
k get --raw /openid/v1/jwks >"$tmp/jwks.json" 2>&1 || e2e_fail "fetch /openid/v1/jwks" "$(head -c 300 "$tmp/jwks.json")"
k get --raw /.well-known/openid-configuration >"$tmp/openid.json" 2>&1 || e2e_fail "fetch the discovery document"
# verify.py: signature against the JWKS (RS256), iss = discovery issuer = the trust policy's federated provider,
# expiry, then the trust policy's conditions (StringEquals/StringLike on PROVIDER:sub and PROVIDER:aud), the checks STS
# makes. Prints one line per token, claims only.
cat >"$tmp/verify.py" <<'PY'
import base64, fnmatch, json, sys, time
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

def b64(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))

jwks, openid, trust = (json.load(open(p)) for p in sys.argv[1:4])
keys = {k["kid"]: k for k in jwks["keys"]}
for label, path in (a.split("=", 1) for a in sys.argv[4:]):
    token = open(path).read().strip()
    head_b64, body_b64, sig_b64 = token.split(".")
    head, claims = json.loads(b64(head_b64)), json.loads(b64(body_b64))
    out = [label]
    try:
        jwk = keys[head["kid"]]
        assert head["alg"] == "RS256" and jwk["kty"] == "RSA"
        pub = rsa.RSAPublicNumbers(int.from_bytes(b64(jwk["e"]), "big"), int.from_bytes(b64(jwk["n"]), "big")).public_key()
        pub.verify(b64(sig_b64), f"{head_b64}.{body_b64}".encode(), padding.PKCS1v15(), hashes.SHA256())
        out.append("signature=ok")
    except Exception as e:  # noqa: BLE001 - any failure is a bad signature
        out.append(f"signature=BAD({type(e).__name__})")
    aud = claims.get("aud")
    auds = aud if isinstance(aud, list) else [aud]
    out += [f"iss={claims.get('iss')}", f"sub={claims.get('sub')}", f"aud={','.join(map(str, auds))}",
            "iss-matches-discovery=" + str(claims.get("iss") == openid["issuer"]),
            "unexpired=" + str(claims.get("exp", 0) > time.time())]
    allowed, why = False, "no statement for sts:AssumeRoleWithWebIdentity"
    for st in trust["Statement"]:
        actions = st.get("Action")
        actions = actions if isinstance(actions, list) else [actions]
        federated = st.get("Principal", {}).get("Federated", "")
        if st.get("Effect") != "Allow" or "sts:AssumeRoleWithWebIdentity" not in actions:
            continue
        provider = federated.split(":oidc-provider/", 1)[-1]
        if "https://" + provider != claims.get("iss"):
            why = f"issuer is not the provider {provider}"
            continue
        ok = True
        for op, conds in st.get("Condition", {}).items():
            for key, want in conds.items():
                want = want if isinstance(want, list) else [want]
                field = key.split(":", 1)[1] if key.startswith(provider + ":") else None
                have = auds if field == "aud" else [claims.get(field)] if field else [None]
                if op == "StringEquals":
                    hit = any(h == w for h in have for w in want)
                elif op == "StringLike":
                    hit = any(h is not None and fnmatch.fnmatchcase(h, w) for h in have for w in want)
                else:
                    hit = False
                if not hit:
                    ok, why = False, f"{op} {key} wants {'|'.join(want)}"
        if ok:
            allowed, why = True, ""
            break
    out.append("trust=allow" if allowed else f"trust=deny({why})")
    print(" ".join(out))
PY
verdicts=$("$MOTO_PYTHON" "$tmp/verify.py" "$tmp/jwks.json" "$tmp/openid.json" "$tmp/trust.json" \
  right="$tmp/right.token" other-sa="$tmp/other-sa.token" default-aud="$tmp/default-aud.token" 2>&1)
printf '%s\n' "$verdicts" >>"$out_log"
e2e_log "$(sed 's/^/    /' <<<"$verdicts")"
right=$(grep '^right ' <<<"$verdicts")
other=$(grep '^other-sa ' <<<"$verdicts")
defaud=$(grep '^default-aud ' <<<"$verdicts")
check_match "$sa's token: RS256 signature verifies against /openid/v1/jwks" ' signature=ok ' "$right"
check_match "$sa's token: iss = the OIDC provider = the discovery issuer, unexpired" \
  " iss=$OIDC_ISSUER_URL .* iss-matches-discovery=True unexpired=True " "$right"
check_match "$sa's token: sub system:serviceaccount:$ns:$sa, aud sts.amazonaws.com" \
  " sub=system:serviceaccount:$ns:$sa aud=sts\.amazonaws\.com " "$right"
check_match "$sa's token satisfies the role's trust policy (as read back from moto)" ' trust=allow$' "$right"
check_match "other-team's token: a valid token of this cluster (signature ok) ..." ' signature=ok .* sub=system:serviceaccount:'"$ns"':other-team ' "$other"
check_match "... that fails the trust policy's sub condition" \
  " trust=deny\(StringEquals ${provider_host//./\\.}:sub wants system:serviceaccount:$ns:$sa\)$" "$other"
check_match "$sa's token with the API server's default audience fails the aud condition" \
  " trust=deny\(StringEquals ${provider_host//./\\.}:aud wants sts\.amazonaws\.com\)$" "$defaud"

# --- 4. STS: AssumeRoleWithWebIdentity with that token, directly and through the SDK's web-identity chain ----------
step "moto STS: AssumeRoleWithWebIdentity on the operator's role with the token (direct and via the SDK chain)"
pod_env() { python3 -c 'import json, sys
p = json.load(open(sys.argv[1]))
print({e["name"]: e.get("value", "") for e in p["spec"]["containers"][0].get("env", [])}.get(sys.argv[2], ""))' \
  "$tmp/stored-pod.json" "$1" 2>/dev/null; }
pod_role=$(pod_env AWS_ROLE_ARN)
pod_token_path=$(pod_env AWS_WEB_IDENTITY_TOKEN_FILE)
sts=$(env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_SESSION_TOKEN -u AWS_PROFILE \
  AWS_REGION="$(pod_env AWS_REGION)" AWS_STS_REGIONAL_ENDPOINTS="$(pod_env AWS_STS_REGIONAL_ENDPOINTS)" \
  AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_EC2_METADATA_DISABLED=true \
  "$MOTO_PYTHON" - "$MOTO_ENDPOINT" "$pod_role" "$pod_token_path" "$tmp/right.token" "$tmp/other-sa.token" <<'PY' 2>&1
import os, sys, boto3
from botocore import UNSIGNED
from botocore.config import Config
endpoint, role, pod_path, token_file, other_file = sys.argv[1:]
secrets, lines = [], []
# Direct, unsigned (the call needs no AWS credentials), as every SDK makes it.
sts = boto3.client("sts", endpoint_url=endpoint, config=Config(signature_version=UNSIGNED))
r = sts.assume_role_with_web_identity(RoleArn=role, RoleSessionName="etl-irsa-run",
                                      WebIdentityToken=open(token_file).read().strip())
c = r["Credentials"]
secrets += [c["SecretAccessKey"], c["SessionToken"]]
lines.append(f"direct assumed={r['AssumedRoleUser']['Arn']} credentials={'present' if all(secrets) else 'missing'} "
             f"expires={'yes' if c.get('Expiration') else 'no'}")
# The SDK's own chain, fed with the pod's environment (the token path the pod names is a local file here).
os.environ.update(AWS_ROLE_ARN=role, AWS_WEB_IDENTITY_TOKEN_FILE=token_file, AWS_ROLE_SESSION_NAME="etl-irsa-run",
                  AWS_ENDPOINT_URL_STS=endpoint)
session = boto3.Session()
creds = session.get_credentials()
frozen = creds.get_frozen_credentials()
secrets += [frozen.secret_key, frozen.token]
ident = session.client("sts").get_caller_identity()
lines.append(f"sdk method={creds.method} caller={ident['Arn']} pod-token-path={pod_path}")
# moto does not verify web identity tokens: another ServiceAccount's token gets credentials too.
r = sts.assume_role_with_web_identity(RoleArn=role, RoleSessionName="other-team",
                                      WebIdentityToken=open(other_file).read().strip())
secrets += [r["Credentials"]["SecretAccessKey"], r["Credentials"]["SessionToken"]]
lines.append(f"moto-unverified other-sa-token assumed={r['AssumedRoleUser']['Arn']}")
text = "\n".join(lines)
assert not any(s and s in text for s in secrets), "a credential would be printed"
print(text)
PY
)
printf '%s\n' "$sts" >>"$out_log"
e2e_log "$(sed 's/^/    /' <<<"$sts")"
session_arn="arn:aws:sts::$AWS_ACCOUNT_ID:assumed-role/$role_name/etl-irsa-run"
check_match "AssumeRoleWithWebIdentity(role from the pod's AWS_ROLE_ARN, $sa's token) returns credentials" \
  "^direct assumed=$session_arn credentials=present expires=yes$" "$sts"
check_match "the SDK's web-identity chain with the pod's env (AWS_ROLE_ARN, AWS_WEB_IDENTITY_TOKEN_FILE) is the assumed role" \
  "^sdk method=assume-role-with-web-identity caller=$session_arn pod-token-path=/var/run/secrets/eks\.amazonaws\.com/serviceaccount/token$" "$sts"
check_match "moto's STS does not verify the token (other-team's token gets credentials): the trust check above is needed" \
  "^moto-unverified other-sa-token assumed=arn:aws:sts::$AWS_ACCOUNT_ID:assumed-role/$role_name/other-team$" "$sts"

# --- no secret printed ---------------------------------------------------------------------------------------------
step "no token or credential value printed"
leaks=0
for f in "$tmp"/*.token; do
  [[ -s $f ]] || continue
  value=$(<"$f")
  grep -qF -- "$value" "$out_log" "$tmp/stack-up.log" 2>/dev/null && leaks=$((leaks + 1))
  # the signature part alone is enough to identify a token
  grep -qF -- "${value##*.}" "$out_log" 2>/dev/null && leaks=$((leaks + 1))
done
check_eq "no ServiceAccount token appears in anything this test printed" 0 "$leaks"
check "pipeguard's webhook, operator and the pod identity webhook still running" \
  bash -c "kill -0 $WEBHOOK_PID && kill -0 $OPERATOR_PID && kill -0 \$(cat '$stack_dir/podidentity/pod-identity-webhook.pid')"
finish
