#!/usr/bin/env bash
# The real-node suite (docs/real-node.md): builds pipeguard's image and a real single-node cluster, `helm install`s
# the chart as a platform team would (not devMode) with that image from a local registry, and checks that pods really
# run and that the webhook pods admit and deny. Not part of scripts/test.sh (CI's budget); run it on its own:
#
#   sudo bash scripts/test-node.sh            build what is missing, run the suite, tear everything down
#   sudo bash scripts/test-node.sh --keep     leave the cluster running at the end (stop: scripts/node/stop.sh DIR)
#
# Needs root (network namespace, containerd, kubelet, mmdebstrap). Everything the cluster does stays inside a network
# namespace the suite creates (scripts/node/start.sh); nothing is sent to another machine. Builds are cached in
# ~/.cache/pipeguard (the node binaries: one `go build`, niced). Prints every stage's wall time at the end, and
# "real node: N passed, M failed"; exits non-zero if anything failed.
set -uo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo" || exit 1
# shellcheck source=../e2e/lib.sh
. "$repo/e2e/lib.sh"
# shellcheck source=node/lib.sh
. "$repo/scripts/node/lib.sh"

keep=0
for arg in "$@"; do
  case $arg in
    --keep) keep=1 ;;
    -h | --help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "test-node.sh: unknown argument '$arg' (try --help)" >&2; exit 2 ;;
  esac
done
[[ $(id -u) == 0 ]] || { echo "test-node.sh: needs root" >&2; exit 2; }

# shellcheck source=lib/stages.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib/stages.sh"

node_dir=$(mktemp -d /tmp/pgn.XXXXXX)
tmp=$node_dir/test
mkdir -p "$tmp"
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if ((keep)) && [[ -f $node_dir/env ]]; then
    echo "test-node.sh: cluster left running in $node_dir (source $node_dir/env; stop: scripts/node/stop.sh $node_dir)"
  else
    step "teardown (processes, mounts, cgroups, network namespace)"
    if bash scripts/node/stop.sh "$node_dir"; then rm -rf "$node_dir"; else echo "teardown incomplete; see $node_dir" >&2; fi
  fi
  print_stage_times
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

fatal() {
  e2e_fail "$1" "${2:-}"
  e2e_summary "real node"
  exit 1
}

step "dependencies and cached binaries (control plane, registry tools, node: one go build, niced; Airflow venv)"
bash scripts/install-deps.sh || fatal "scripts/install-deps.sh"
bash scripts/controlplane/install.sh || fatal "scripts/controlplane/install.sh"
bash scripts/registry/install.sh || fatal "scripts/registry/install.sh"
bash scripts/node/install.sh || fatal "scripts/node/install.sh"
venv=$(bash e2e/clients/install.sh --print-venv) || fatal "e2e/clients/install.sh (Airflow + the cncf.kubernetes provider)"
# IRSA: moto (IAM, STS) and the EKS pod identity webhook (one go build, cached).
moto_python=$(bash scripts/moto/install.sh --print-bin) || fatal "scripts/moto/install.sh"
bash scripts/podidentity/install.sh || fatal "scripts/podidentity/install.sh"

step "pipeguard binaries (Release, build/) and the image (scripts/image/build.sh)"
export CCACHE_BASEDIR=$repo CCACHE_NOHASHDIR=true
[[ -f build/build.ninja ]] || cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
nice -n 10 ninja -C build -j "${PIPEGUARD_JOBS:-$(nproc)}" pipeguard pipeguard-webhook pipeguard-operator ||
  fatal "ninja pipeguard pipeguard-webhook pipeguard-operator"
bash scripts/image/build.sh --build-dir build --no-compile --out "$tmp/image" >"$tmp/image-build.log" 2>&1 ||
  fatal "scripts/image/build.sh" "$(tail -n 20 "$tmp/image-build.log")"
image_digest=$(cat "$tmp/image/digest")
grep -E '^ *(digest|size|compressed|uncompressed)' "$tmp/image-build.log" | head -5

step "task image (busybox-static from Debian, the same daemonless way), the pause image, the Spark image"
task_layout=$(bash scripts/node/task-image.sh) || fatal "scripts/node/task-image.sh"
bash scripts/node/pause-image.sh >/dev/null || fatal "scripts/node/pause-image.sh"
# JDK 17 + python3 from Debian (mmdebstrap) and the jars of the venv's pyspark (e2e/clients), two layers (umoci).
spark_layout=$(bash scripts/node/spark-image.sh 2>"$tmp/spark-image.log") ||
  fatal "scripts/node/spark-image.sh" "$(tail -n 20 "$tmp/spark-image.log")"
spark_version=$("$venv/bin/python" -c 'import pyspark; print(pyspark.__version__)')
echo "    Spark image: $(cat "$spark_layout/../summary"), $(wc -l <"$spark_layout/../packages.txt") Debian packages"

step "node up: etcd, kube-apiserver, controller-manager, scheduler, registry, containerd, kubelet, kube-proxy, DNS"
owner=$$
((keep)) && owner= # --keep: no watchdog stops the cluster when this script exits
# The operator's AWS identity as the chart's CI values give it (what the helm install below uses). As on EKS, the API
# server signs ServiceAccount tokens with the issuer the operator writes into its roles' trust policies (IRSA).
values_field() { sed -n "s/^ *$1: *//p" helm/pipeguard/ci/test-values.yaml | tr -d '"' | head -n 1; }
oidc_issuer=$(values_field oidcIssuerUrl)
aws_account=$(values_field awsAccountId)
cluster_name=$(values_field clusterName)
boundary_arn=$(values_field permissionsBoundaryArn)
operator_role=$(values_field roleArn)
PIPEGUARD_CONTROLPLANE_SA_ISSUER=$oidc_issuer PIPEGUARD_NODE_OWNER_PID=$owner bash scripts/node/start.sh "$node_dir" ||
  fatal "scripts/node/start.sh"
set -a
# shellcheck disable=SC1091
. "$node_dir/env"
set +a
k() { nsenter --net="/run/netns/$NETNS" "$KUBECTL" --kubeconfig "$KUBECONFIG" --request-timeout=60s "$@"; }
h() { nsenter --net="/run/netns/$NETNS" "$HELM" --kubeconfig "$KUBECONFIG" "$@"; }
in_ns() { nsenter --net="/run/netns/$NETNS" "$@"; }
check_eq "node $NODE_NAME is Ready and reports kubelet $PIPEGUARD_KUBE_VERSION" "True $PIPEGUARD_KUBE_VERSION" \
  "$(k get node "$NODE_NAME" -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status} {.status.nodeInfo.kubeletVersion}')"
check_eq "the API server's ServiceAccount issuer and OIDC discovery name the operator's OIDC provider (as on EKS)" \
  "$oidc_issuer $oidc_issuer" \
  "$SA_ISSUER $(k get --raw /.well-known/openid-configuration | python3 -c 'import json, sys; print(json.load(sys.stdin)["issuer"])')"

step "IRSA: moto (IAM, STS) on the node address, the EKS pod identity webhook in the node's namespace"
# moto listens on NODE_IP inside the namespace (pods reach it through the bridge's gateway, the operator gets it as
# --aws-endpoint); the pod identity webhook listens on the namespace's addresses and the API server calls it at the
# namespace's 127.0.0.1. Both are stopped by scripts/node/stop.sh (DIR/moto, DIR/podidentity).
PIPEGUARD_MOTO_ADDRESS=$NODE_IP PIPEGUARD_MOTO_OWNER_PID=$owner in_ns bash scripts/moto/start.sh "$node_dir/moto" \
  2>"$tmp/moto-start.log" || fatal "scripts/moto/start.sh on $NODE_IP" "$(tail -n 20 "$tmp/moto-start.log")"
moto_endpoint=$(sed -n 's/^MOTO_ENDPOINT=//p' "$node_dir/moto/env")
moto_env=(env "$(grep '^AWS_ACCESS_KEY_ID=' "$node_dir/moto/env")" "$(grep '^AWS_SECRET_ACCESS_KEY=' "$node_dir/moto/env")"
  AWS_DEFAULT_REGION=us-east-1 AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null)
# What an EKS account holds before pipeguard is installed: the permissions boundary and the cluster's OIDC provider.
check "moto at $moto_endpoint seeded: boundary ${boundary_arn##*/}, OIDC provider ${oidc_issuer#https://}" \
  in_ns "${moto_env[@]}" "$moto_python" -c 'import json, sys, boto3
iam = boto3.client("iam", endpoint_url=sys.argv[1])
iam.create_policy(PolicyName=sys.argv[2], PolicyDocument=json.dumps({"Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": ["s3:*", "kms:Decrypt", "kms:GenerateDataKey"], "Resource": "*"}]}))
iam.create_open_id_connect_provider(Url=sys.argv[3], ClientIDList=["sts.amazonaws.com"], ThumbprintList=["0" * 40])' \
  "$moto_endpoint" "${boundary_arn##*/}" "$oidc_issuer"
PIPEGUARD_PODIDENTITY_OWNER_PID=$owner in_ns bash scripts/podidentity/start.sh "$node_dir/podidentity" "$node_dir/cp" \
  2>"$tmp/podidentity-start.log" || fatal "scripts/podidentity/start.sh" "$(tail -n 20 "$tmp/podidentity-start.log")"
podidentity_url=$(sed -n 's/^PODIDENTITY_URL=//p' "$node_dir/podidentity/env")
check_eq "MutatingWebhookConfiguration pod-identity-webhook calls it in the namespace (failurePolicy Fail)" \
  "$podidentity_url/mutate Fail" \
  "$(k get mutatingwebhookconfiguration pod-identity-webhook -o 'jsonpath={.webhooks[0].clientConfig.url} {.webhooks[0].failurePolicy}')"

step "push the images to the registry in the node's namespace (pipeguard image signed with cosign v2 and v3)"
in_ns bash scripts/image/push.sh "$tmp/image" "$REGISTRY_DIR" >"$tmp/push.out" 2>"$tmp/push.log" ||
  fatal "scripts/image/push.sh" "$(tail -n 20 "$tmp/push.log")"
pushed=$(tail -n 1 "$tmp/push.out")
check_eq "pushed pipeguard image keeps the built digest" "$REGISTRY_HOST/pipeguard/pipeguard@$image_digest" "$pushed"
task_image=$REGISTRY_HOST/pipeguard/task:1
in_ns skopeo copy --quiet --dest-cert-dir "$SKOPEO_CERT_DIR" --digestfile "$tmp/task.digest" \
  "oci:$task_layout:1" "docker://$task_image" || fatal "push the task image"
task_digest=$(cat "$tmp/task.digest")
# The task image signed with the same key as pipeguard's (cosign 2 format); a copy under another name stays unsigned.
in_ns bash scripts/registry/artifacts.sh sign "$REGISTRY_DIR" "pipeguard/task@$task_digest" pipeguard-image v2-legacy \
  >"$tmp/sign.log" 2>&1 || fatal "sign the task image" "$(tail -n 10 "$tmp/sign.log")"
spark_image=$REGISTRY_HOST/spark/spark:$spark_version
in_ns skopeo copy --quiet --dest-cert-dir "$SKOPEO_CERT_DIR" --digestfile "$tmp/spark.digest" \
  "oci:$spark_layout:$spark_version" "docker://$spark_image" || fatal "push the Spark image"
spark_digest=$(cat "$tmp/spark.digest")
in_ns bash scripts/registry/artifacts.sh sign "$REGISTRY_DIR" "spark/spark@$spark_digest" pipeguard-image v2-legacy \
  >"$tmp/sign-spark.log" 2>&1 || fatal "sign the Spark image" "$(tail -n 10 "$tmp/sign-spark.log")"
unsigned_image=$REGISTRY_HOST/pipeguard/unsigned:1
in_ns skopeo copy --quiet --dest-cert-dir "$SKOPEO_CERT_DIR" "oci:$task_layout:1" "docker://$unsigned_image" ||
  fatal "push the unsigned image"
# The examples with their ECR images replaced by the signed task image in this registry (as e2e/e2e_test.sh does).
ex=$tmp/examples
mkdir -p "$ex"
cp -r examples/good examples/bad "$ex/"
sed -i "s#123456789012\.dkr\.ecr\.eu-west-1\.amazonaws\.com/[^\"' ]*#$task_image#g" "$ex"/good/*.yaml "$ex"/bad/*.yaml

step "a pod from the local registry runs to completion"
k create namespace node-smoke >/dev/null
# shellcheck disable=SC2016 # expanded by the pod's shell
k -n node-smoke run hello --image="$task_image" --restart=Never --command -- /bin/sh -c 'echo hello from $(hostname)' \
  >/dev/null
pod_phase() { k -n "$1" get pod "$2" -o 'jsonpath={.status.phase}' 2>/dev/null; }
wait_phase() { # wait_phase NS POD PHASE SECONDS
  local deadline=$((SECONDS + $4))
  while ((SECONDS < deadline)); do
    [[ $(pod_phase "$1" "$2") == "$3" ]] && return 0
    sleep 1
  done
  return 1
}
# wait_ready_profile NS NAME SECONDS : prints the profile's Ready condition once it is True, or the last value seen.
wait_ready_profile() {
  local deadline=$((SECONDS + $3)) v=
  while ((SECONDS < deadline)); do
    v=$(k -n "$1" get pipelinesecurityprofile "$2" -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}' 2>&1)
    [[ $v == True ]] && break
    sleep 1
  done
  printf '%s\n' "$v"
}
check "pod node-smoke/hello Succeeded" wait_phase node-smoke hello Succeeded 120
check_eq "its log (through the kubelet API)" "hello from hello" "$(k -n node-smoke logs hello 2>&1)"

step "helm install the chart (in-cluster mode) with the pushed image, verifying images against the local registry"
release=pg
ns=pipeguard-system
full=$release-pipeguard
# Image verification as a platform team configures it: only this registry, signed by the release key, the
# registry's CA mounted from a ConfigMap (webhook.extraVolumes).
k create namespace "$ns" >/dev/null
k -n "$ns" create configmap node-registry-ca --from-file=ca.crt="$REGISTRY_CA" >/dev/null
{
  echo "config:"
  echo "  images:"
  echo "    verify: true"
  echo "    allowedRegistries: [\"$REGISTRY_HOST/\"]"
  echo "    registries: [{host: \"$REGISTRY_HOST\", caFile: /etc/pipeguard/registry/ca.crt}]"
  echo "    keys:"
  echo "      - name: pipeguard-image"
  echo "        publicKey: |"
  sed 's/^/          /' "$REGISTRY_DIR/keys/pipeguard-image.pub"
  echo "webhook:"
  echo "  extraVolumes: [{name: registry-ca, configMap: {name: node-registry-ca}}]"
  echo "  extraVolumeMounts: [{name: registry-ca, mountPath: /etc/pipeguard/registry, readOnly: true}]"
} >"$tmp/values-node.yaml"
helm_args=(-n "$ns" --create-namespace -f helm/pipeguard/ci/test-values.yaml -f "$tmp/values-node.yaml"
  --set image.repository="$REGISTRY_HOST/pipeguard/pipeguard" --set image.digest="$image_digest"
  --set operator.awsEndpoint="$moto_endpoint" --wait --timeout 240s)
if ! check "helm install --wait (2 webhook replicas and the operator Ready)" h install "$release" helm/pipeguard "${helm_args[@]}"; then
  k -n "$ns" get pods -o wide >&2
  k -n "$ns" describe pods >"$tmp/describe.txt" 2>&1
  tail -n 60 "$tmp/describe.txt" >&2
  fatal "helm install"
fi
check_eq "webhook Deployment: 2/2 ready" "2/2" \
  "$(k -n "$ns" get deploy "$full-webhook" -o 'jsonpath={.status.readyReplicas}/{.spec.replicas}')"
check_eq "operator Deployment: 1/1 ready" "1/1" \
  "$(k -n "$ns" get deploy "$full-operator" -o 'jsonpath={.status.readyReplicas}/{.spec.replicas}')"
mapfile -t webhook_pods < <(k -n "$ns" get pods -l app.kubernetes.io/component=webhook -o name)
check_eq "two webhook pods" 2 "${#webhook_pods[@]}"
for p in "${webhook_pods[@]}"; do
  check_eq "$p runs our image as 65532 (image digest, uid)" "$image_digest 65532" \
    "$(k -n "$ns" get "$p" -o 'jsonpath={.status.containerStatuses[0].imageID}' | sed 's/.*@//') $(k -n "$ns" get "$p" -o 'jsonpath={.spec.containers[0].securityContext.runAsUser}')"
done
check_eq "webhook configurations point at the Service" "$full-webhook $ns /validate" \
  "$(k get validatingwebhookconfiguration "$full" -o 'jsonpath={.webhooks[0].clientConfig.service.name} {.webhooks[0].clientConfig.service.namespace} {.webhooks[0].clientConfig.service.path}')"
check_eq "the Service has 2 ready endpoints (pod IPs on the bridge)" 2 \
  "$(k -n "$ns" get endpointslices -l kubernetes.io/service-name="$full-webhook" -o 'jsonpath={range .items[*].endpoints[?(@.conditions.ready==true)]}x{end}' | wc -c)"
# In-cluster credentials: the projected token is real (issued by the API server) and the webhook used it.
check_match "webhook pods mount a projected service-account token" "kube-api-access" \
  "$(k -n "$ns" get "${webhook_pods[0]}" -o 'jsonpath={.spec.volumes[*].name}')"
check_match "operator holds the leader Lease" "$full-operator" \
  "$(k -n "$ns" get lease pipeguard-operator -o 'jsonpath={.spec.holderIdentity}')"
# The operator's own AWS identity is IRSA too: its ServiceAccount carries operator.serviceAccount.roleArn, so the pod
# identity webhook gave the pod the role and a projected sts.amazonaws.com token (the operator assumes the role with
# it through moto's STS before calling IAM).
check_eq "the operator pod got IRSA from the pod identity webhook (AWS_ROLE_ARN = its role, volume aws-iam-token)" \
  "$operator_role aws-iam-token" \
  "$(k -n "$ns" get pods -l app.kubernetes.io/component=operator -o 'jsonpath={.items[0].spec.containers[0].env[?(@.name=="AWS_ROLE_ARN")].value} {.items[0].spec.volumes[?(@.name=="aws-iam-token")].name}')"

step "admission through the webhook pods"
check "kubectl apply -f examples/context (namespaces, ServiceAccounts, RBAC, profiles)" k apply -f examples/context/
check_fails "bad/airflow-env-password.yaml is denied by plaintext-secret (server-side dry run)" \
  'plaintext-secret at /spec/containers/0/env/2/value' k apply --dry-run=server -f "$ex/bad/airflow-env-password.yaml"
check_fails "bad/wrong-service-account.yaml is denied by service-account-scope" \
  'service-account-scope at /spec/serviceAccountName' k apply --dry-run=server -f "$ex/bad/wrong-service-account.yaml"
check "good/airflow-kpo-extract.yaml (signed image) is admitted (server-side dry run)" \
  k apply --dry-run=server -f "$ex/good/airflow-kpo-extract.yaml"
sed "s#$task_image#$unsigned_image#" "$ex/good/airflow-kpo-extract.yaml" >"$tmp/kpo-unsigned.yaml"
check_fails "the same pod with an unsigned image from the same registry is denied by unsigned-image" \
  'unsigned-image' k apply --dry-run=server -f "$tmp/kpo-unsigned.yaml"
sed "s#$task_image#123456789012.dkr.ecr.eu-west-1.amazonaws.com/airflow/ledger-tasks:2024.05.1#" \
  "$ex/good/airflow-kpo-extract.yaml" >"$tmp/kpo-ecr.yaml"
check_fails "... and with an image from another registry by untrusted-registry" \
  'untrusted-registry' k apply --dry-run=server -f "$tmp/kpo-ecr.yaml"

# The serving certificate each webhook pod presents is the chart's Secret (generated at install), checked on the pod IP.
secret_fp=$(k -n "$ns" get secret "$full-webhook-tls" -o 'jsonpath={.data.tls\.crt}' | base64 -d |
  openssl x509 -noout -fingerprint -sha256 2>&1)
for p in "${webhook_pods[@]}"; do
  ip=$(k -n "$ns" get "$p" -o 'jsonpath={.status.podIP}')
  served=$(in_ns openssl s_client -connect "$ip:8443" -servername "$full-webhook.$ns.svc" </dev/null 2>/dev/null |
    openssl x509 -noout -fingerprint -sha256 2>&1)
  check_eq "$p ($ip) serves the certificate of Secret $full-webhook-tls" "$secret_fp" "$served"
done
check_match "the webhook reads its policy context through the kubernetes Service's ClusterIP (kube-proxy)" \
  "policy context from the Kubernetes API at https://$KUBERNETES_SERVICE_IP:443" \
  "$(k -n "$ns" logs "${webhook_pods[0]}" 2>&1 | head -n 5)"
check_eq "the operator reconciled the example profiles (airflow-tasks Ready)" True \
  "$(wait_ready_profile data-pipelines airflow-tasks 60)"

step "an Airflow KubernetesPodOperator-shaped task pod, admitted by the webhook pods, really runs"
# good/airflow-kpo-extract.yaml as it is (labels, service account, secret references, $(VAR) expansion), with the
# task image from the local registry and a command that prints the expanded connection user instead of Python.
k -n data-pipelines create secret generic ledger-db-etl-reader --from-literal=password=not-a-real-password >/dev/null
k -n data-pipelines create secret generic ledger-msk-scram --from-literal=jaas.config=not-a-real-config >/dev/null
# shellcheck disable=SC2016 # $(LEDGER_DB_USER) is expanded by the kubelet
sed -e 's#^\( *\)args: .*#\1command: ["/bin/sh", "-c", "echo extract ran as $(LEDGER_DB_USER) with sslmode=verify-full"]#' \
  "$ex/good/airflow-kpo-extract.yaml" >"$tmp/kpo-task.yaml"
kpo_pod=daily-ledger-export-extract-transactions-k3x9q2mf
if check "kubectl apply of the KPO task pod is admitted" k apply -f "$tmp/kpo-task.yaml"; then
  check "KPO task pod Succeeded" wait_phase data-pipelines "$kpo_pod" Succeeded 120
  check_eq "KPO task log (the kubelet expanded \$(LEDGER_DB_USER))" \
    "extract ran as etl_reader with sslmode=verify-full" "$(k -n data-pipelines logs "$kpo_pod" 2>&1)"
  check_match "the mutating webhook pinned the task image to its signed digest" "^$REGISTRY_HOST/pipeguard/task(:1)?@$task_digest\$" \
    "$(k -n data-pipelines get pod "$kpo_pod" -o 'jsonpath={.spec.containers[0].image}')"
fi
cp "$ex/bad/airflow-env-password.yaml" "$tmp/kpo-bad.yaml"
check_fails "the same task with a literal password is denied (a real create, not a dry run)" \
  'plaintext-secret at /spec/containers/0/env/2/value' k apply -f "$tmp/kpo-bad.yaml"
check_no_match "the denial does not echo the secret value" 'Sup3r-S3cret-Passw0rd' "$(k apply -f "$tmp/kpo-bad.yaml" 2>&1)"

step "Airflow's KubernetesPodOperator (real Airflow, DAG.test()) runs a task pod on the node; a bad task fails with the denial"
export AIRFLOW_HOME=$tmp/airflow
mkdir -p "$AIRFLOW_HOME/dags"
cp "$venv/airflow-home/airflow.db" "$AIRFLOW_HOME/airflow.db"
export AIRFLOW__CORE__LOAD_EXAMPLES=False AIRFLOW__CORE__DAGS_FOLDER=$AIRFLOW_HOME/dags
export AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=sqlite:///$AIRFLOW_HOME/airflow.db
# airflow_task TASK_ID [airflow_kpo.py args...] : run the task inside the namespace (Airflow talks to the API server
# there); its result JSON is $tmp/TASK_ID.json, Airflow's whole log $tmp/TASK_ID.log.
airflow_task() {
  local task=$1
  shift
  timeout 300 nsenter --net="/run/netns/$NETNS" "$venv/bin/python" e2e/clients/airflow_kpo.py --kubeconfig "$KUBECONFIG" \
    --namespace data-pipelines --image "$task_image" --task-id "$task" --out "$tmp/$task.json" \
    --service-account airflow-worker "$@" >"$tmp/$task.log" 2>&1
}
json_field() { python3 -c 'import json, sys; v = json.load(open(sys.argv[1])).get(sys.argv[2]); print("\n".join(v) if isinstance(v, list) else ("" if v is None else v))' "$@" 2>/dev/null; }
# shellcheck disable=SC2016 # expanded by the pod's shell
if check "the Airflow task af_extract ran (DAG.test)" airflow_task af_extract --startup-timeout 120 --get-logs \
  --cmd /bin/sh --cmd=-c --arg 'echo extract done in $(hostname)'; then
  check_eq "af_extract: TaskInstance state success" success "$(json_field "$tmp/af_extract.json" state)"
  check_match "af_extract: the pod's output reached the task log (get_logs)" 'extract done in af-extract' "$(cat "$tmp/af_extract.log")"
  check_eq "af_extract: its pod Succeeded on $NODE_NAME" "Succeeded $NODE_NAME" \
    "$(k -n data-pipelines get pods -l task_id=af_extract -o 'jsonpath={.items[0].status.phase} {.items[0].spec.nodeName}')"
fi
af_secret=Af-Ledger-Pg-7731
if check "the Airflow task af_plaintext ran (DAG.test)" airflow_task af_plaintext --startup-timeout 30 \
  --env "DATABASE_URL=postgresql://etl:$af_secret@ledger-db.data.svc:5432/ledger?sslmode=verify-full"; then
  check_eq "af_plaintext: TaskInstance state failed" failed "$(json_field "$tmp/af_plaintext.json" state)"
  check_match "af_plaintext: the task's error is pipeguard's denial (plaintext-secret)" \
    'denied the request.*plaintext-secret|plaintext-secret at' "$(json_field "$tmp/af_plaintext.json" errors)"
  check_no_match "af_plaintext: the secret is not in the task's error" "$af_secret" "$(json_field "$tmp/af_plaintext.json" errors)"
  check_eq "af_plaintext: no pod was created" "" "$(k -n data-pipelines get pods -l task_id=af_plaintext -o name 2>&1)"
fi

step "a profile's ServiceAccount (made by the operator) mounted in a running pod: a real projected token"
k apply -f - >/dev/null <<'YAML'
apiVersion: pipeguard.io/v1alpha1
kind: PipelineSecurityProfile
metadata: {name: token-check, namespace: data-pipelines}
spec:
  podSelector: {matchLabels: {pipeguard.io/pipeline: token-check}}
  serviceAccount: {name: token-check-runner, automountToken: true}
YAML
check_eq "profile token-check Ready" True "$(wait_ready_profile data-pipelines token-check 60)"
check_eq "the operator created its ServiceAccount" token-check-runner \
  "$(k -n data-pipelines get serviceaccount token-check-runner -o 'jsonpath={.metadata.name}' 2>&1)"
# The pod prints the token's claims (the middle part of the JWT, decoded), never the token itself.
cat >"$tmp/token-pod.yaml" <<YAML
apiVersion: v1
kind: Pod
metadata:
  name: token-check
  namespace: data-pipelines
  labels: {pipeguard.io/pipeline: token-check}
spec:
  serviceAccountName: token-check-runner
  restartPolicy: Never
  containers:
    - name: main
      image: $task_image
      command: ["/bin/sh", "-c"]
      args:
        - p=\$(cut -d. -f2 /var/run/secrets/kubernetes.io/serviceaccount/token | tr '_-' '/+');
          while [ \$((\${#p} % 4)) -ne 0 ]; do p="\$p="; done; echo "\$p" | base64 -d; echo
YAML
if check "the pod with the profile's ServiceAccount is admitted" k apply -f "$tmp/token-pod.yaml"; then
  check "token-check pod Succeeded" wait_phase data-pipelines token-check Succeeded 120
  claims=$(k -n data-pipelines logs token-check 2>&1)
  check_match "its projected token names the ServiceAccount" '"sub":"system:serviceaccount:data-pipelines:token-check-runner"' "$claims"
  check_match "... and the API server's issuer (the cluster's OIDC provider)" "\"iss\":\"$oidc_issuer\"" "$claims"
  check_match "... and is bound to the pod (kubernetes.io.pod)" '"pod":\{"name":"token-check"' "$claims"
fi

step "IRSA in a running pod: the operator's role, the kubelet-projected web-identity token, moto's STS"
# e2e/data/irsa-profile.yaml (as e2e/irsa_test.sh): the operator makes the role in moto and annotates the profile's
# ServiceAccount with it; the pod identity webhook injects AWS_ROLE_ARN, AWS_WEB_IDENTITY_TOKEN_FILE and the projected
# volume aws-iam-token (audience sts.amazonaws.com) into the pipeline pod; the kubelet writes the token; the pod (busybox)
# decodes the token's claims, POSTs AssumeRoleWithWebIdentity with it to moto's STS on the node address (the pod
# identity webhook does not set an STS endpoint: AWS_ENDPOINT_URL_STS is the SDKs' variable for it) and prints only
# the assumed-role ARN from the answer (never the token nor the credentials).
irsa_ns=e2e-irsa irsa_profile=etl-irsa irsa_sa=etl-irsa irsa_pod=etl-irsa-sts
irsa_role_name=pg.$cluster_name.$irsa_ns.$irsa_profile
irsa_role_arn=arn:aws:iam::$aws_account:role/pipeguard/$cluster_name/$irsa_role_name
k create namespace "$irsa_ns" >/dev/null
k label namespace "$irsa_ns" pipeguard.io/mode=enforce >/dev/null
check "profile $irsa_ns/$irsa_profile (aws.s3 read) admitted" k apply -f e2e/data/irsa-profile.yaml
check_eq "profile $irsa_profile Ready (the operator made its role through moto with its own IRSA credentials)" True \
  "$(wait_ready_profile "$irsa_ns" "$irsa_profile" 90)"
# The operator's own IRSA at work: its AWS calls (metrics on its pod IP) include web-identity assumptions through
# moto's STS with its projected token, then the IAM calls that made the role.
operator_metrics=$(k -n "$ns" get pods -l app.kubernetes.io/component=operator \
  -o 'jsonpath={.items[0].status.podIP}:{.items[0].spec.containers[0].ports[?(@.name=="metrics")].containerPort}')
operator_aws=$(in_ns curl -sS --noproxy '*' --max-time 10 "http://$operator_metrics/metrics" 2>&1 |
  grep -E '^pipeguard_operator_aws_api_calls_total\{' | grep -E 'AssumeRoleWithWebIdentity|CreateRole"')
check_match "the operator assumed its role with its web-identity token (AssumeRoleWithWebIdentity success)" \
  'action="AssumeRoleWithWebIdentity",result="success"\} [1-9]' "$operator_aws"
check_match "... and created the role with those credentials (CreateRole success)" \
  'action="CreateRole",result="success"\} [1-9]' "$operator_aws"
check_eq "ServiceAccount $irsa_sa annotated eks.amazonaws.com/role-arn with the operator's role" "$irsa_role_arn" \
  "$(k -n "$irsa_ns" get serviceaccount "$irsa_sa" -o 'jsonpath={.metadata.annotations.eks\.amazonaws\.com/role-arn}' 2>&1)"
check_match "moto holds the role, its trust policy naming the OIDC provider, sub $irsa_ns:$irsa_sa and aud sts.amazonaws.com" \
  "^$irsa_role_arn .*\"${oidc_issuer#https://}:aud\": \"sts\.amazonaws\.com\", \"${oidc_issuer#https://}:sub\": \"system:serviceaccount:$irsa_ns:$irsa_sa\"" \
  "$(in_ns "${moto_env[@]}" "$moto_python" -c 'import json, sys, urllib.parse, boto3
r = boto3.client("iam", endpoint_url=sys.argv[1]).get_role(RoleName=sys.argv[2])["Role"]
t = r["AssumeRolePolicyDocument"]
print(r["Arn"], json.dumps(json.loads(urllib.parse.unquote(t)) if isinstance(t, str) else t, sort_keys=True))' \
    "$moto_endpoint" "$irsa_role_name" 2>&1)"
# The pod's script (quoted here, so nothing is expanded by this shell).
# shellcheck disable=SC2016
irsa_script='t=$AWS_WEB_IDENTITY_TOKEN_FILE
echo "role $AWS_ROLE_ARN token-file $t"
p=$(cut -d. -f2 "$t" | tr "_-" "/+"); while [ $((${#p} % 4)) -ne 0 ]; do p="$p="; done
echo "claims $(echo "$p" | base64 -d)"
r=$(wget -q -O- --post-data "Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn=$AWS_ROLE_ARN&RoleSessionName=etl-irsa-pod&WebIdentityToken=$(cat "$t")" "$AWS_ENDPOINT_URL_STS/") || { echo "sts call failed"; exit 1; }
echo "assumed $(echo "$r" | grep -o "<Arn>[^<]*</Arn>" | sed "s/<[^>]*>//g")"
echo "credentials $(echo "$r" | grep -c "<SecretAccessKey>")"'
python3 - "$tmp/irsa-pod.yaml" "$irsa_pod" "$irsa_ns" "$irsa_profile" "$irsa_sa" "$task_image" "$moto_endpoint" \
  "$irsa_script" <<'PY'
import json, sys
out, name, ns, profile, sa, image, sts, script = sys.argv[1:]
pod = {"apiVersion": "v1", "kind": "Pod",
       "metadata": {"name": name, "namespace": ns, "labels": {"pipeguard.io/pipeline": profile}},
       "spec": {"serviceAccountName": sa, "automountServiceAccountToken": False, "restartPolicy": "Never",
                "containers": [{"name": "main", "image": image, "command": ["/bin/sh", "-c", script],
                                "env": [{"name": "AWS_ENDPOINT_URL_STS", "value": sts}]}]}}
json.dump(pod, open(out, "w"), indent=1)
PY
# The pod identity webhook learns ServiceAccounts through an informer (as on EKS) and pipeguard's webhook pods learn
# the profile through theirs: wait until a server-side dry run is admitted and mutated before the real create.
mutated=
for _ in $(seq 1 60); do
  mutated=$(k create --dry-run=server -f "$tmp/irsa-pod.yaml" -o 'jsonpath={.spec.containers[0].env[*].name}' 2>&1)
  [[ $mutated == *AWS_ROLE_ARN* ]] && break
  sleep 1
done
check_match "a dry run of pod $irsa_ns/$irsa_pod is admitted and mutated by the pod identity webhook" AWS_ROLE_ARN "$mutated"
if check "kubectl apply of pod $irsa_ns/$irsa_pod (ServiceAccount $irsa_sa) admitted" k apply -f "$tmp/irsa-pod.yaml"; then
  check_eq "stored pod: AWS_ROLE_ARN, AWS_WEB_IDENTITY_TOKEN_FILE, the projected aws-iam-token volume (audience sts.amazonaws.com)" \
    "$irsa_role_arn /var/run/secrets/eks.amazonaws.com/serviceaccount/token sts.amazonaws.com" \
    "$(k -n "$irsa_ns" get pod "$irsa_pod" -o 'jsonpath={.spec.containers[0].env[?(@.name=="AWS_ROLE_ARN")].value} {.spec.containers[0].env[?(@.name=="AWS_WEB_IDENTITY_TOKEN_FILE")].value} {.spec.volumes[?(@.name=="aws-iam-token")].projected.sources[0].serviceAccountToken.audience}' 2>&1)"
  check "pod $irsa_pod Succeeded" wait_phase "$irsa_ns" "$irsa_pod" Succeeded 120
  irsa_log=$(k -n "$irsa_ns" logs "$irsa_pod" 2>&1)
  printf '%s\n' "$irsa_log" | sed 's/^/    /'
  check_match "the pod assumed the operator's role through moto's STS with its token file" \
    "^assumed arn:aws:sts::$aws_account:assumed-role/$irsa_role_name/etl-irsa-pod\$" "$irsa_log"
  check_match "... and got credentials (not printed)" '^credentials 1$' "$irsa_log"
  check_match "the kubelet-projected token names sub system:serviceaccount:$irsa_ns:$irsa_sa" \
    "\"sub\":\"system:serviceaccount:$irsa_ns:$irsa_sa\"" "$irsa_log"
  check_match "... aud sts.amazonaws.com" '"aud":\["sts\.amazonaws\.com"\]' "$irsa_log"
  check_match "... and the issuer the role trusts (the OIDC provider)" "\"iss\":\"$oidc_issuer\"" "$irsa_log"
  check_no_match "the pod's log holds neither a token nor credentials" \
    'eyJ[A-Za-z0-9_-]+\.|SecretAccessKey|SessionToken|AccessKeyId' "$irsa_log"
  # pipeguard's validating webhook runs after the mutating webhooks: its audit line (stdout of the webhook pods) is
  # the judgement of the mutated pod.
  irsa_audit=$(k -n "$ns" logs -l app.kubernetes.io/component=webhook --tail=-1 2>/dev/null | python3 -c '
import json, sys
ns, name = sys.argv[1:]
for line in sys.stdin:
    try: a = json.loads(line)
    except ValueError: continue
    if (a.get("webhook"), a.get("kind"), a.get("namespace"), a.get("name"), a.get("dry_run")) == ("validate", "Pod", ns, name, False):
        print("allowed=%s governed=%s profiles=%s findings=%d" % (a.get("allowed"), a.get("governed"),
              ",".join(a.get("profiles", [])), len(a.get("findings", []))))' "$irsa_ns" "$irsa_pod")
  check_match "pipeguard's audit: the mutated pod allowed, governed by profile $irsa_profile, 0 findings" \
    "^allowed=True governed=True profiles=([^ ]*,)?$irsa_ns/$irsa_profile(,[^ ]*)? findings=0$" "$irsa_audit"
fi

step "spark-submit in cluster mode (pyspark from PyPI, host side): the driver and executors run the signed Spark image"
# As e2e/clients_test.sh submits, inside the node's namespace: the API server's address, its CA and the admin client
# certificate; the examples' spark-jobs namespace, ServiceAccount spark and profile spark-batch. The job (jobs/pi.py in
# the image) sums 1..200000 and estimates pi on two executors, which are kept after the run to be inspected.
spark_conf_dir=$tmp/spark-conf # empty: nothing from this machine's Spark configuration is shipped
mkdir -p "$spark_conf_dir"
# spark_submit NAME [spark-submit args...] : submit jobs/pi.py as application NAME; output in $tmp/spark-NAME.log.
spark_submit() {
  local name=$1
  shift
  timeout 420 nsenter --net="/run/netns/$NETNS" env -u KUBECONFIG SPARK_HOME="$venv/spark-home" \
    SPARK_CONF_DIR="$spark_conf_dir" SPARK_LOCAL_IP=127.0.0.1 \
    "$venv/bin/spark-submit" --master "k8s://$APISERVER_URL" --deploy-mode cluster --name "$name" \
    --conf spark.kubernetes.namespace=spark-jobs \
    --conf spark.kubernetes.container.image="$spark_image" \
    --conf spark.kubernetes.authenticate.driver.serviceAccountName=spark \
    --conf spark.kubernetes.authenticate.submission.caCertFile="$CA_CERT" \
    --conf spark.kubernetes.authenticate.submission.clientCertFile="$ADMIN_CERT" \
    --conf spark.kubernetes.authenticate.submission.clientKeyFile="$ADMIN_KEY" \
    --conf spark.kubernetes.driver.request.cores=200m --conf spark.kubernetes.executor.request.cores=200m \
    --conf spark.driver.memory=512m --conf spark.executor.memory=512m --conf spark.executor.instances=2 \
    --conf spark.kubernetes.executor.deleteOnTermination=false \
    --conf spark.kubernetes.submission.waitAppCompletion=true \
    "$@" >"$tmp/spark-$name.log" 2>&1
}
spark_submit_shown() { # spark_submit, then print its output (for check_fails)
  local rc=0
  spark_submit "$@" || rc=$?
  cat "$tmp/spark-$1.log"
  return "$rc"
}
spark_pods() { k -n spark-jobs get pods -l "spark-app-name=$1,spark-role=$2" -o name 2>&1; }
t0=$SECONDS
if check "spark-submit --deploy-mode cluster local:///opt/spark/jobs/pi.py (waits for the driver)" \
  spark_submit spark-pi local:///opt/spark/jobs/pi.py 2; then
  driver=$(spark_pods spark-pi driver)
  echo "    spark-submit to driver completion: $((SECONDS - t0)) s"
  check_match "one driver pod" '^pod/spark-pi-[0-9a-f]+-driver$' "$driver"
  check_eq "the driver pod Succeeded on $NODE_NAME as ServiceAccount spark" "Succeeded $NODE_NAME spark" \
    "$(k -n spark-jobs get "${driver:-pod/none}" -o 'jsonpath={.status.phase} {.spec.nodeName} {.spec.serviceAccountName}' 2>&1)"
  check_match "the mutating webhook pinned the driver's image to its signed digest" \
    "^$REGISTRY_HOST/spark/spark(:$spark_version)?@$spark_digest\$" \
    "$(k -n spark-jobs get "${driver:-pod/none}" -o 'jsonpath={.spec.containers[0].image}' 2>&1)"
  driver_log=$(k -n spark-jobs logs "${driver:-pod/none}" 2>&1)
  check_match "the driver's log has the job's result (sum 1..200000 on 2 partitions)" \
    'pipeguard-spark: sum 1\.\.200000 = 20000100000 in 2 partitions' "$driver_log"
  check_match "... computed on executor pods" 'pipeguard-spark: executors spark-pi-[0-9a-f]+-exec-[0-9]' "$driver_log"
  check_match "... and its estimate of pi" 'Pi is roughly 3\.1[0-9]*' "$driver_log"
  executors=$(k -n spark-jobs get pods -l spark-app-name=spark-pi,spark-role=executor \
    -o 'jsonpath={range .items[*]}{.spec.containers[0].image} {.spec.serviceAccountName}{"\n"}{end}' 2>&1)
  check_eq "the driver created 2 executor pods, admitted with the image pinned and ServiceAccount spark" \
    "2 2" "$(wc -l <<<"$executors") $(grep -Ec "@$spark_digest spark\$" <<<"$executors")"
else
  tail -n 30 "$tmp/spark-spark-pi.log" >&2
  k -n spark-jobs get pods -o wide >&2
fi
spark_secret=Sk-Ledger-Db-5528
check_fails "spark-submit with a plaintext secret in spark.kubernetes.driverEnv.DB_PASSWORD fails: plaintext-secret" \
  'plaintext-secret at /spec/containers/0/env/[0-9]+/value: env DB_PASSWORD' \
  spark_submit_shown spark-env-secret --conf "spark.kubernetes.driverEnv.DB_PASSWORD=$spark_secret" \
  local:///opt/spark/jobs/pi.py 2
check_match "... its error is pipeguard's webhook denying the driver pod" \
  'admission webhook "validate.pipeguard.io" denied the request: pipeguard denied Pod spark-jobs/spark-env-secret-[0-9a-f]+-driver' \
  "$(cat "$tmp/spark-spark-env-secret.log")"
check_no_match "spark-submit's output does not repeat the secret" "$spark_secret" "$(cat "$tmp/spark-spark-env-secret.log")"
check_eq "no driver pod of the denied submission exists" "" "$(spark_pods spark-env-secret driver)"

step "drill: delete one webhook pod while dry-run creates go through the API server (0 failed, 0 wrongly admitted)"
# load SECONDS OUT [STOPFILE] : alternately a pod that must be admitted and one that must be denied, server-side dry runs sent
# to the API server (which calls the webhook pods through the Service's endpoints) every 0.2 s; one line per
# request in OUT: "good|bad HTTP_CODE RULE|- [why it failed]".
load() { # load SECONDS OUT [STOPFILE] : ... or until STOPFILE exists
  local end=$((SECONDS + $1)) n=0 kind file code rule why body=$tmp/load-body.$BASHPID stop=${3:-$tmp/no-such-file}
  while ((SECONDS < end)) && [[ ! -e $stop ]]; do
    if ((n % 2)); then kind=bad file=$ex/bad/airflow-env-password.yaml; else
      kind=good file=$tmp/load-good.yaml; fi
    code=$(in_ns curl -sS --max-time 20 -o "$body" -w '%{http_code}' --cacert "$CA_CERT" --cert "$ADMIN_CERT" \
      --key "$ADMIN_KEY" -H 'Content-Type: application/yaml' --data-binary "@$file" \
      "$APISERVER_URL/api/v1/namespaces/data-pipelines/pods?dryRun=All" 2>/dev/null) || code=000
    rule=$(grep -o 'plaintext-secret' "$body" 2>/dev/null | head -n 1)
    why=
    [[ $code == 201 || -n $rule ]] ||
      why=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1])).get("message", "")[:300])' "$body" 2>/dev/null ||
        head -c 300 "$body" 2>/dev/null | tr '\n' ' ')
    printf '%s %s %s %s\n' "$kind" "$code" "${rule:--}" "$why" >>"$2"
    n=$((n + 1))
    sleep 0.2
  done
}
# tally OUT : "requests good_admitted bad_denied failed wrongly_admitted"
tally() {
  awk '{ n++ }
    $1 == "good" && $2 == 201 { ga++ } $1 == "good" && $2 != 201 { f++ }
    $1 == "bad" && $2 == 403 && $3 == "plaintext-secret" { bd++ } $1 == "bad" && $2 == 201 { wa++ }
    $1 == "bad" && $2 != 201 && !($2 == 403 && $3 == "plaintext-secret") { f++ }
    END { printf "%d %d %d %d %d\n", n, ga, bd, f, wa }' "$1"
}
# The admitted pod under another name: the KPO task pod above exists, and a dry-run create of its name is a 409.
sed 's/^  name: .*/  name: load-good/' "$ex/good/airflow-kpo-extract.yaml" >"$tmp/load-good.yaml"
victim=${webhook_pods[0]}
: >"$tmp/load-delete.txt"
load 45 "$tmp/load-delete.txt" &
load_pid=$!
sleep 8
k -n "$ns" delete "$victim" --wait=false >/dev/null
rollout_ok=0
k -n "$ns" rollout status deploy "$full-webhook" --timeout=90s >/dev/null 2>&1 && rollout_ok=1
wait "$load_pid"
read -r n good_ok bad_ok failed wrong < <(tally "$tmp/load-delete.txt")
echo "    $n requests: $good_ok admitted, $bad_ok denied by plaintext-secret, $failed failed, $wrong wrongly admitted"
check_eq "the Deployment replaced the deleted pod (2/2 ready again)" "1 2/2" \
  "$rollout_ok $(k -n "$ns" get deploy "$full-webhook" -o 'jsonpath={.status.readyReplicas}/{.spec.replicas}')"
check_eq "deleted webhook pod under load: 0 failed, 0 wrongly admitted (of $n)" "0 0" "$failed $wrong"
((n >= 60)) || e2e_fail "the load loop sent at least 60 requests" "only $n"

step "drill: SIGKILL one webhook container (a crash, no preStop, no drain) under the same load"
mapfile -t webhook_pods < <(k -n "$ns" get pods -l app.kubernetes.io/component=webhook -o name)
victim=${webhook_pods[0]}
cid=$(k -n "$ns" get "$victim" -o 'jsonpath={.status.containerStatuses[0].containerID}')
cid=${cid#containerd://}
restarts_before=$(k -n "$ns" get "$victim" -o 'jsonpath={.status.containerStatuses[0].restartCount}')
# The container's processes, from its cgroup under the node's cgroup root (only processes this suite started).
procs=$(find "/sys/fs/cgroup/pids$(cat "$node_dir/cgroup-root")" -type d -name "$cid" -exec cat {}/cgroup.procs \; 2>/dev/null)
if [[ -z $procs ]]; then
  e2e_fail "find the webhook container's processes in its cgroup" "container $cid of $victim"
else
  : >"$tmp/load-kill.txt"
  load 40 "$tmp/load-kill.txt" &
  load_pid=$!
  sleep 5
  # shellcheck disable=SC2086 # one PID per word
  kill -KILL $procs
  wait "$load_pid"
  read -r n good_ok bad_ok failed wrong < <(tally "$tmp/load-kill.txt")
  echo "    $n requests: $good_ok admitted, $bad_ok denied by plaintext-secret, $failed failed, $wrong wrongly admitted"
  check_eq "the killed container was restarted by the kubelet" "$((restarts_before + 1))" \
    "$(k -n "$ns" get "$victim" -o 'jsonpath={.status.containerStatuses[0].restartCount}')"
  # A crash (unlike a deletion) can cut requests the API server already sent to that container: those fail closed
  # (the webhook call errors, failurePolicy Fail denies). What must hold: nothing is wrongly admitted, the failures
  # are few and are webhook-call errors, and the load goes on being served by the other replica.
  check_eq "SIGKILLed webhook container under load: 0 wrongly admitted (of $n)" 0 "$wrong"
  # shellcheck disable=SC2016 # awk's own fields
  check "SIGKILLed webhook container under load: at most 5% of $n failed, each a fail-closed webhook-call error ($failed)" \
    awk -v n="$n" '$2 != 201 && $3 == "-" { f++; if ($0 !~ /failed calling webhook/) bad++ }
      END { exit !(f * 20 <= n && bad == 0) }' "$tmp/load-kill.txt"
  awk '$2 != 201 && $3 == "-"' "$tmp/load-kill.txt" | cut -c1-200 | sed 's/^/      /' | head -n 5
fi

step "drill: helm upgrade rolls the webhook (maxUnavailable 0) under the same load"
: >"$tmp/load-upgrade.txt"
load 60 "$tmp/load-upgrade.txt" &
load_pid=$!
sleep 5
upgrade_ok=0
h upgrade "$release" helm/pipeguard -n "$ns" "${helm_args[@]:3}" \
  --set-string 'webhook.podAnnotations.pipeguard\.io/rolled-at'="$(date +%s)" >"$tmp/upgrade.log" 2>&1 && upgrade_ok=1
wait "$load_pid"
read -r n good_ok bad_ok failed wrong < <(tally "$tmp/load-upgrade.txt")
echo "    $n requests: $good_ok admitted, $bad_ok denied by plaintext-secret, $failed failed, $wrong wrongly admitted"
check_eq "helm upgrade --wait succeeded and replaced both webhook pods" "1 0" \
  "$upgrade_ok $(comm -12 <(printf '%s\n' "${webhook_pods[@]}" | sort) <(k -n "$ns" get pods -l app.kubernetes.io/component=webhook -o name | sort) | wc -l)"
check_eq "rolling upgrade under load: 0 failed, 0 wrongly admitted (of $n)" "0 0" "$failed $wrong"

step "drill: rotate the webhook CA (tls.rotation stage, switch, \"\") under the same load: 0 failed, no restart"
# docs/real-node.md: stage puts a new CA next to the current one in both caBundles; switch re-issues the serving
# certificate from it (the webhook pods reload it from their Secret volume once the kubelet refreshes it); "" drops
# the old CA. --reuse-values: the same release otherwise (no pod template change, so nothing rolls).
secret_b64() { k -n "$ns" get secret "$full-webhook-tls" -o "jsonpath={.data.${1//./\\.}}"; }
bundle_certs() { # the number of certificates in the validating and mutating caBundles, and whether they are equal
  local v m
  v=$(k get validatingwebhookconfiguration "$full" -o 'jsonpath={.webhooks[0].clientConfig.caBundle}')
  m=$(k get mutatingwebhookconfiguration "$full" -o 'jsonpath={.webhooks[0].clientConfig.caBundle}')
  echo "$(base64 -d <<<"$v" | grep -c 'BEGIN CERTIFICATE') $([[ $v == "$m" ]] && echo same || echo differ)"
}
served_fps() { # the SHA-256 fingerprints the webhook pods serve on their pod IPs, one line each
  local p ip
  for p in "${webhook_pods[@]}"; do
    ip=$(k -n "$ns" get "$p" -o 'jsonpath={.status.podIP}')
    in_ns openssl s_client -connect "$ip:8443" -servername "$full-webhook.$ns.svc" </dev/null 2>/dev/null |
      openssl x509 -noout -fingerprint -sha256 2>&1
  done
}
tampered() { k -n default get events --field-selector reason=WebhookConfigurationTampered -o name 2>/dev/null | wc -l; }
rotate() { h upgrade "$release" helm/pipeguard -n "$ns" --reuse-values --wait --timeout 240s --set-string tls.rotation="$1"; }
mapfile -t webhook_pods < <(k -n "$ns" get pods -l app.kubernetes.io/component=webhook -o name)
pods_before=$(k -n "$ns" get pods -l app.kubernetes.io/component=webhook -o 'jsonpath={range .items[*]}{.metadata.name}={.status.containerStatuses[0].restartCount} {end}')
old_ca=$(secret_b64 ca.crt)
tampered_before=$(tampered)
: >"$tmp/load-rotate.txt"
rm -f "$tmp/load-rotate.stop"
load 420 "$tmp/load-rotate.txt" "$tmp/load-rotate.stop" &
load_pid=$!
sleep 5
rotation_start=$SECONDS
if check "helm upgrade --set tls.rotation=stage" rotate stage; then
  check_eq "stage: both caBundles hold the current and the new CA" "2 same" "$(bundle_certs)"
  sleep 5
  if check "helm upgrade --set tls.rotation=switch" rotate switch; then
    new_fp=$(secret_b64 tls.crt | base64 -d | openssl x509 -noout -fingerprint -sha256 2>&1)
    switch_start=$SECONDS
    while ((SECONDS - switch_start < 240)); do
      [[ $(served_fps | sort -u) == "$new_fp" ]] && break
      sleep 2
    done
    reload=$((SECONDS - switch_start))
    check_eq "switch: both webhook pods serve the new certificate (after ${reload} s, reloaded from the Secret volume)" \
      "$new_fp" "$(served_fps | sort -u)"
    sleep 5
    if check "helm upgrade --set tls.rotation= (drop the old CA)" rotate ""; then
      check_eq "done: both caBundles hold the new CA alone" "1 same" "$(bundle_certs)"
      check_eq "done: it is the CA of the certificate served (not the old one)" "$(secret_b64 ca.crt) different" \
        "$(k get validatingwebhookconfiguration "$full" -o 'jsonpath={.webhooks[0].clientConfig.caBundle}') $([[ $(secret_b64 ca.crt) != "$old_ca" ]] && echo different)"
    fi
  fi
fi
rotation=$((SECONDS - rotation_start))
sleep 10 # requests after the old CA is gone
touch "$tmp/load-rotate.stop"
wait "$load_pid"
read -r n good_ok bad_ok failed wrong < <(tally "$tmp/load-rotate.txt")
echo "    $n requests during the ${rotation} s rotation and 10 s after: $good_ok admitted, $bad_ok denied by plaintext-secret, $failed failed, $wrong wrongly admitted"
check_eq "CA rotation under load: 0 failed, 0 wrongly admitted (of $n)" "0 0" "$failed $wrong"
((n >= 60)) || e2e_fail "the load loop sent at least 60 requests" "only $n"
awk '$2 != 201 && $3 == "-"' "$tmp/load-rotate.txt" | cut -c1-200 | sed 's/^/      /' | head -n 5
check_eq "the webhook pods were neither replaced nor restarted (hot reload)" "$pods_before" \
  "$(k -n "$ns" get pods -l app.kubernetes.io/component=webhook -o 'jsonpath={range .items[*]}{.metadata.name}={.status.containerStatuses[0].restartCount} {end}')"
check_eq "the operator's guard followed each step (no WebhookConfigurationTampered Event)" "$tampered_before" "$(tampered)"

step "drill: two operator replicas, the leader's pod deleted: the other takes over and a new profile becomes Ready"
if check "helm upgrade --set operator.replicas=2 --wait" h upgrade "$release" helm/pipeguard -n "$ns" \
  "${helm_args[@]:3}" --set operator.replicas=2; then
  # The upgrade may roll the operator pods (a released Lease has no holder until the next one acquires it).
  k -n "$ns" rollout status deploy "$full-operator" --timeout=90s >/dev/null 2>&1
  leader=
  for ((i = 0; i < 60; i++)); do
    leader=$(k -n "$ns" get lease pipeguard-operator -o 'jsonpath={.spec.holderIdentity}' 2>/dev/null)
    [[ -n $leader ]] && k -n "$ns" get pod "$leader" >/dev/null 2>&1 && break
    sleep 1
  done
  check_match "a running operator pod holds the Lease" "^$full-operator-" "$leader"
  takeover_start=$SECONDS
  k -n "$ns" delete pod "$leader" --wait=false >/dev/null
  new_leader=
  while ((SECONDS - takeover_start < 90)); do
    new_leader=$(k -n "$ns" get lease pipeguard-operator -o 'jsonpath={.spec.holderIdentity}' 2>/dev/null)
    [[ -n $new_leader && $new_leader != "$leader" ]] && break
    sleep 1
  done
  takeover=$((SECONDS - takeover_start))
  check_match "another replica took the Lease (${takeover} s after the delete)" "^$full-operator-" \
    "$([[ -n $leader && $new_leader != "$leader" ]] && echo "$new_leader")"
  k apply -f - >/dev/null <<'YAML'
apiVersion: pipeguard.io/v1alpha1
kind: PipelineSecurityProfile
metadata: {name: after-failover, namespace: data-pipelines}
spec:
  podSelector: {matchLabels: {pipeguard.io/pipeline: after-failover}}
  serviceAccount: {name: airflow-worker, automountToken: false}
YAML
  check_eq "a profile created after the failover becomes Ready" True "$(wait_ready_profile data-pipelines after-failover 60)"
fi

e2e_summary "real node"
