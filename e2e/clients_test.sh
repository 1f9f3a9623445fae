#!/usr/bin/env bash
# End-to-end test with the real pipeline clients: Airflow's KubernetesPodOperator and spark-submit (cluster mode)
# creating their pods through a real kube-apiserver that calls the real pipeguard webhook.
#
# Usage: e2e/clients_test.sh
#   Installs (once, cached) Airflow 2.10.5 + apache-airflow-providers-cncf-kubernetes 10.1.0 + pyspark 3.5.8 from
#   PyPI (e2e/clients/install.sh), then brings up the e2e stack (e2e/stack.sh: control plane, webhook, operator,
#   registry with cosign) and stops it on exit. PIPEGUARD_E2E_STACK=DIR reuses a stack that is already up in DIR
#   (left running). PIPEGUARD_BUILD_DIR as for e2e/stack.sh (default build/). PIPEGUARD_E2E_KEEP=1 keeps the logs
#   (they are also kept when something failed; the path is printed).
#
# Scenarios (each in fresh namespaces clients-<id>-airflow / clients-<id>-spark with a PipelineSecurityProfile):
#   Airflow: a task whose env_vars hold a plaintext postgresql:// connection string is denied (plaintext-secret),
#            a clean task's pod is admitted (it stays Pending: no nodes), a task running as another service account
#            than the profile's is denied (service-account-scope). Driven by e2e/clients/airflow_kpo.py (DAG.test()).
#   Spark:   spark-submit --deploy-mode cluster with a secret in --conf (lands in the driver's spark-conf ConfigMap,
#            which Spark creates after the driver pod), a JDBC URL with a password in --conf (ConfigMap), a secret in
#            spark.kubernetes.driverEnv.* (driver pod env), a secret in the application arguments (driver pod args),
#            Hadoop/shell files in SPARK_CONF_DIR (shipped into the ConfigMap), an executor pod template with a
#            literal env secret (a ConfigMap of its own), and a clean submission (admitted).
#   docs/e2e-clients.md records what each client sends to the API server.
#
# Contract: prints a table "scenario | expected | outcome | result" and the line "clients e2e: N passed, M failed";
# exits 0 only if nothing failed. Secrets used here are made-up values; the test checks that pipeguard's denial,
# as the client reports it, never repeats them.
# shellcheck source-path=SCRIPTDIR
set -uo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=lib.sh
. "$repo/e2e/lib.sh"
# shellcheck source=stack_lib.sh
. "$repo/e2e/stack_lib.sh"

t_start=$SECONDS
tmp=$(mktemp -d "${TMPDIR:-/tmp}/pipeguard-clients-e2e.XXXXXX")
tmp=$(cd "$tmp" && pwd -P)
stack_dir=
cleanup() {
  local rc=$?
  set +e
  if [[ -n ${PIPEGUARD_E2E_KEEP:-} ]] || ((rc != 0)); then
    [[ -n $stack_dir ]] && stack_down "$stack_dir"
    e2e_log "clients e2e: logs kept in $tmp (Airflow task logs *.log, spark-*.log, stack/webhook/audit.log)"
  else
    [[ -n $stack_dir ]] && stack_down "$stack_dir" --rm
    rm -rf "$tmp"
  fi
  return "$rc"
}
trap cleanup EXIT

# --- scenario bookkeeping: one table row per scenario, PASS when all of its checks passed ----------------------
ROWS=()
_scenario_name='' _scenario_expected='' _scenario_failed0=0
scenario() { # scenario NAME EXPECTED
  _scenario_name=$1 _scenario_expected=$2 _scenario_failed0=$E2E_FAILED
  e2e_log "== $1 (expected: $2)"
}
scenario_done() { # scenario_done OUTCOME
  local result=PASS
  ((E2E_FAILED > _scenario_failed0)) && result=FAIL
  ROWS+=("$_scenario_name|$_scenario_expected|$1|$result")
}
print_table() {
  local row w1=8 w2=8 w3=7 a b c d
  for row in "${ROWS[@]}"; do
    IFS='|' read -r a b c d <<<"$row"
    ((${#a} > w1)) && w1=${#a}
    ((${#b} > w2)) && w2=${#b}
    ((${#c} > w3)) && w3=${#c}
  done
  printf '\n%-*s | %-*s | %-*s | %s\n' "$w1" scenario "$w2" expected "$w3" outcome result
  printf '%s-+-%s-+-%s-+-%s\n' "$(printf '%*s' "$w1" '' | tr ' ' -)" "$(printf '%*s' "$w2" '' | tr ' ' -)" \
    "$(printf '%*s' "$w3" '' | tr ' ' -)" ------
  for row in "${ROWS[@]}"; do
    IFS='|' read -r a b c d <<<"$row"
    printf '%-*s | %-*s | %-*s | %s\n' "$w1" "$a" "$w2" "$b" "$w3" "$c" "$d"
  done
  echo
}
finish() {
  print_table
  e2e_log "clients e2e took $((SECONDS - t_start)) s"
  e2e_summary "clients e2e"
  exit
}

# --- clients ---------------------------------------------------------------------------------------------------
t0=$SECONDS
if ! venv=$("$repo/e2e/clients/install.sh" --print-venv); then
  e2e_fail "install Airflow + cncf.kubernetes provider + pyspark (e2e/clients/install.sh)"
  finish
fi
e2e_pass "clients installed ($venv, $((SECONDS - t0)) s)"

# --- stack -----------------------------------------------------------------------------------------------------
t0=$SECONDS
if [[ -n ${PIPEGUARD_E2E_STACK:-} && -f ${PIPEGUARD_E2E_STACK}/env ]]; then
  stack_env "$PIPEGUARD_E2E_STACK" || finish
  e2e_pass "reusing the stack in $PIPEGUARD_E2E_STACK"
else
  stack_dir=$tmp/stack
  if ! stack_up "$stack_dir" >"$tmp/stack-up.log" 2>&1; then
    e2e_fail "bring up the e2e stack (e2e/stack.sh)" "$(tail -n 30 "$tmp/stack-up.log")"
    finish
  fi
  e2e_pass "e2e stack up in $((SECONDS - t0)) s ($APISERVER_URL, webhook $WEBHOOK_URL)"
fi
k() { "$KUBECTL" --request-timeout=30s "$@"; }

id=$RANDOM$RANDOM
ns_af=clients-$id-airflow
ns_sp=clients-$id-spark
task_repo=e2e/airflow-task:1.0
spark_repo=e2e/spark:3.5.8
task_image=$REGISTRY_HOST/$task_repo
spark_image=$REGISTRY_HOST/$spark_repo
# Made-up secrets (not the documentation examples such as AWS's ...EXAMPLEKEY, which pipeguard treats as
# placeholders).
pg_secret=Xq7pLw2RtB9vNc4K
s3a_secret=Jd8sKq2LmV7xRt4NpB6wZc9FyH3gTe5AuQ1oXs0I
jdbc_secret=Mh5TqW8zRb3LnY6c
env_secret=Vk2RfP9sLd4XwQ7m
arg_secret=Ge6NbT3yHs8JqZ5v
xml_secret=Pw4JcX7nKd2VtR9bLs6QmF3hZy8GaE5uNo1WeT0i
tmpl_secret=Rb7YtK2wQn5HsD8x
secrets_re="$pg_secret|$s3a_secret|$jdbc_secret|$env_secret|$arg_secret|$xml_secret|$tmpl_secret"

e2e_log "== setup: signed images, namespaces $ns_af and $ns_sp, PipelineSecurityProfiles"
check "push and sign $task_image (trusted key)" stack_push_signed "$task_repo"
check "push and sign $spark_image (trusted key)" stack_push_signed "$spark_repo"
profiles() {
  cat <<EOF
apiVersion: v1
kind: Namespace
metadata: {name: $ns_af}
---
apiVersion: v1
kind: Namespace
metadata: {name: $ns_sp}
---
apiVersion: pipeguard.io/v1alpha1
kind: PipelineSecurityProfile
metadata: {name: airflow-tasks, namespace: $ns_af}
spec:
  # Every pod the KubernetesPodOperator starts carries this label.
  podSelector: {matchLabels: {kubernetes_pod_operator: "True"}}
  serviceAccount: {name: airflow-worker, automountToken: false}
---
apiVersion: pipeguard.io/v1alpha1
kind: PipelineSecurityProfile
metadata: {name: spark-batch, namespace: $ns_sp}
spec:
  podSelector: {matchExpressions: [{key: spark-role, operator: In, values: [driver, executor]}]}
  serviceAccount: {name: spark, automountToken: true}  # the driver creates its executors through the API
EOF
}
check "namespaces and profiles applied" k apply -f <(profiles)
# The operator creates the profiles' ServiceAccounts (airflow-worker with automountServiceAccountToken: false, which
# the KPO pods rely on); wait for them so the webhook judges the pods against the real objects.
sa_ready() {
  local deadline=$((SECONDS + 60))
  while ((SECONDS < deadline)); do
    k -n "$ns_af" get serviceaccount airflow-worker >/dev/null 2>&1 &&
      k -n "$ns_sp" get serviceaccount spark >/dev/null 2>&1 && return 0
    sleep 0.5
  done
  return 1
}
check "the operator created the profiles' ServiceAccounts" sa_ready
check "the webhook sees the new profiles and ServiceAccounts" stack_sync_context

# --- Airflow ---------------------------------------------------------------------------------------------------
export AIRFLOW_HOME=$tmp/airflow
mkdir -p "$AIRFLOW_HOME/dags"
cp "$venv/airflow-home/airflow.db" "$AIRFLOW_HOME/airflow.db"
export AIRFLOW__CORE__LOAD_EXAMPLES=False AIRFLOW__CORE__DAGS_FOLDER=$AIRFLOW_HOME/dags
export AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=sqlite:///$AIRFLOW_HOME/airflow.db

# airflow_task TASK_ID [airflow_kpo.py args...] : run the task; its result JSON is $tmp/TASK_ID.json, the whole
# Airflow log $tmp/TASK_ID.log.
airflow_task() {
  local task=$1
  shift
  timeout 300 "$venv/bin/python" "$repo/e2e/clients/airflow_kpo.py" --kubeconfig "$KUBECONFIG" --namespace "$ns_af" \
    --image "$task_image" --task-id "$task" --out "$tmp/$task.json" --startup-timeout 3 "$@" >"$tmp/$task.log" 2>&1
}
json_field() { python3 -c 'import json, sys; v = json.load(open(sys.argv[1])).get(sys.argv[2]); print("\n".join(v) if isinstance(v, list) else ("" if v is None else v))' "$@" 2>/dev/null; }
task_pods() { k -n "$ns_af" get pods -l "task_id=$1" -o name 2>&1; }
# denial_of TEXT : the first admission-webhook denial quoted in TEXT (one line, for the table).
denial_of() { grep -Eo -m1 -- '- [a-z-]+ at /[^:]*' <<<"$1" | head -n1 | sed 's/^- //'; }

scenario "airflow: KPO task, plaintext postgresql:// URI in env_vars" "denied: plaintext-secret"
t0=$SECONDS
if check "the Airflow task ran (DAG.test)" airflow_task af_plaintext_conn \
  --service-account airflow-worker --env "DATABASE_URL=postgresql://etl:$pg_secret@db.internal:5432/ledger?sslmode=verify-full"; then
  errors=$(json_field "$tmp/af_plaintext_conn.json" errors)
  check_eq "the task failed" failed "$(json_field "$tmp/af_plaintext_conn.json" state)"
  check_match "the task's exception is the webhook's denial" 'admission webhook \\?"validate.pipeguard.io\\?" denied the request' "$errors"
  check_match "it names the rule and the field" 'plaintext-secret at /spec/containers/0/env/0/value' "$errors"
  check_match "it says how to fix it" 'valueFrom.secretKeyRef' "$errors"
  check_no_match "the task's exception does not repeat the password" "$pg_secret" "$errors"
  check_eq "no pod was created" "" "$(task_pods af_plaintext_conn)"
  # Not pipeguard's doing: the provider's PodManager logs the whole pod request (env values included) when the
  # create call fails. Reported, not asserted: docs/e2e-clients.md.
  grep -q -- "$pg_secret" "$tmp/af_plaintext_conn.log" &&
    e2e_log "  note  Airflow's own task log repeats the pod request, env values included (cncf.kubernetes PodManager)"
  scenario_done "denied in $((SECONDS - t0)) s: $(denial_of "$errors")"
else
  scenario_done "task did not run"
fi

scenario "airflow: KPO task, clean (profile's service account, signed image)" "admitted: pod created"
t0=$SECONDS
if check "the Airflow task ran (DAG.test)" airflow_task af_clean --service-account airflow-worker \
  --env "DATABASE_URL=postgresql://etl:\$(DB_PASSWORD)@db.internal:5432/ledger?sslmode=verify-full"; then
  errors=$(json_field "$tmp/af_clean.json" errors)
  check_no_match "the task was not denied by the webhook" 'denied the request' "$errors"
  pod=$(task_pods af_clean)
  check_match "the task's pod exists in the API server" '^pod/af-clean-' "$pod"
  if [[ $pod == pod/* ]]; then
    check_eq "it carries the KPO label and runs as airflow-worker" "True airflow-worker" \
      "$(k -n "$ns_af" get "$pod" -o 'jsonpath={.metadata.labels.kubernetes_pod_operator} {.spec.serviceAccountName}')"
    check_match "its image was pinned to the verified digest (/mutate)" "^$REGISTRY_HOST/e2e/airflow-task@sha256:[0-9a-f]{64}$" \
      "$(k -n "$ns_af" get "$pod" -o 'jsonpath={.spec.containers[0].image}')"
  fi
  # Pods never run here (no nodes): the operator gives up after its startup timeout, as designed.
  check_match "the task then timed out waiting for the pod to start (no nodes)" 'Pending|returned a failure|took too long' "$errors"
  scenario_done "admitted in $((SECONDS - t0)) s: ${pod:-no pod} (Pending)"
else
  scenario_done "task did not run"
fi

scenario "airflow: KPO task, service_account_name not the profile's" "denied: service-account-scope"
t0=$SECONDS
if check "the Airflow task ran (DAG.test)" airflow_task af_wrong_sa --service-account airflow-admin; then
  errors=$(json_field "$tmp/af_wrong_sa.json" errors)
  check_eq "the task failed" failed "$(json_field "$tmp/af_wrong_sa.json" state)"
  check_match "the task's exception is the webhook's denial" 'denied the request' "$errors"
  check_match "it names the rule, the field and the profile's account" \
    'service-account-scope at /spec/serviceAccountName: runs as service account \\?"airflow-admin\\?".*airflow-worker' "$errors"
  check_eq "no pod was created" "" "$(task_pods af_wrong_sa)"
  scenario_done "denied in $((SECONDS - t0)) s: $(denial_of "$errors")"
else
  scenario_done "task did not run"
fi

# --- Spark -----------------------------------------------------------------------------------------------------
spark_conf_dir=$tmp/spark-conf # empty: nothing from the machine's Spark configuration is shipped
mkdir -p "$spark_conf_dir"
examples_jar=local:///opt/spark/examples/jars/spark-examples_2.12-3.5.8.jar

# spark_submit NAME [CONF_DIR] -- [spark-submit args...] : submit SparkPi in cluster mode as application NAME; the
# client authenticates with the control plane's admin client certificate. Output in $tmp/spark-NAME.log.
spark_submit() {
  local name=$1 conf_dir=$2
  shift 3
  env -u KUBECONFIG SPARK_HOME="$venv/spark-home" SPARK_CONF_DIR="$conf_dir" SPARK_LOCAL_IP=127.0.0.1 \
    timeout 180 "$venv/bin/spark-submit" --master "k8s://$APISERVER_URL" --deploy-mode cluster --name "$name" \
    --class org.apache.spark.examples.SparkPi \
    --conf spark.kubernetes.namespace="$ns_sp" \
    --conf spark.kubernetes.container.image="$spark_image" \
    --conf spark.kubernetes.authenticate.driver.serviceAccountName=spark \
    --conf spark.kubernetes.authenticate.submission.caCertFile="$CONTROLPLANE_CA_CERT" \
    --conf spark.kubernetes.authenticate.submission.clientCertFile="$CONTROLPLANE_DIR/pki/admin.crt" \
    --conf spark.kubernetes.authenticate.submission.clientKeyFile="$CONTROLPLANE_DIR/pki/admin.key" \
    --conf spark.kubernetes.submission.waitAppCompletion=false \
    "$@" >"$tmp/spark-$name.log" 2>&1
}
# spark_submit_shown ARGS... : spark_submit, then print its output (for check_fails).
spark_submit_shown() {
  local rc=0
  spark_submit "$@" || rc=$?
  cat "$tmp/spark-$1.log"
  return "$rc"
}
driver_pods() { k -n "$ns_sp" get pods -l "spark-app-name=$1,spark-role=driver" -o name 2>&1; }
spark_conf_maps() { # the ConfigMaps of submission NAME that exist: its spark-conf one (named in its log) and
  # its executor pod template one (NAME-<id>-driver-podspec-conf-map)
  grep -Eo 'spark-drv-[0-9a-f]+-conf-map' "$tmp/spark-$1.log" | sort -u | while read -r cm; do
    k -n "$ns_sp" get configmap "$cm" -o name 2>/dev/null
  done
  k -n "$ns_sp" get configmaps -o name 2>/dev/null | grep -E "^configmap/$1-[0-9a-f]+-driver-podspec-conf-map$"
  return 0
}

# spark_denied NAME PATH_RE WHERE -- [spark-submit args...] : a submission that must be denied at PATH_RE.
spark_denied() {
  local name=$1 path_re=$2 where=$3 conf_dir=$spark_conf_dir out
  shift 4
  [[ ${1:-} == --conf-dir ]] && { conf_dir=$2; shift 2; }
  t0=$SECONDS
  check_fails "spark-submit fails" 'denied the request' spark_submit_shown "$name" "$conf_dir" -- "$@"
  out=$(cat "$tmp/spark-$name.log")
  check_match "the error is pipeguard's, naming the rule and the field ($where)" "plaintext-secret at $path_re" "$out"
  [[ -n ${also_path_re:-} ]] &&
    check_match "it also names the rule and the field ${also_path_re//\\/}" "plaintext-secret at $also_path_re" "$out"
  check_no_match "spark-submit's output does not repeat the secret" "$secrets_re" "$out"
  check_eq "no driver pod is left (denied, or deleted by spark-submit after the ConfigMap was denied)" "" "$(driver_pods "$name")"
  check_eq "no ConfigMap of the submission was stored" "" "$(spark_conf_maps "$name")"
  scenario_done "denied in $((SECONDS - t0)) s: $(denial_of "$out")"
}

scenario "spark: clean cluster-mode submission" "admitted: driver pod + ConfigMap"
t0=$SECONDS
if check "spark-submit succeeds" spark_submit sp-clean "$spark_conf_dir" -- \
  --conf spark.kubernetes.driver.secretKeyRef.DB_PASSWORD=ledger-db:password \
  --conf spark.hadoop.fs.s3a.aws.credentials.provider=com.amazonaws.auth.WebIdentityTokenCredentialsProvider \
  "$examples_jar" 100; then
  pod=$(driver_pods sp-clean)
  check_match "the driver pod exists in the API server" '^pod/sp-clean-.*-driver$' "$pod"
  if [[ $pod == pod/* ]]; then
    check_match "its image was pinned to the verified digest (/mutate)" "^$REGISTRY_HOST/e2e/spark@sha256:[0-9a-f]{64}$" \
      "$(k -n "$ns_sp" get "$pod" -o 'jsonpath={.spec.containers[0].image}')"
    cm=$(k -n "$ns_sp" get "$pod" -o 'jsonpath={.spec.volumes[?(@.name=="spark-conf-volume-driver")].configMap.name}')
    check_match "the spark-conf ConfigMap it mounts exists and holds spark.properties" 'spark\.kubernetes\.namespace=' \
      "$(k -n "$ns_sp" get configmap "${cm:-none}" -o 'jsonpath={.data.spark\.properties}' 2>&1)"
    check_eq "the driver's secret comes from a secretKeyRef" "ledger-db password" \
      "$(k -n "$ns_sp" get "$pod" -o 'jsonpath={.spec.containers[0].env[?(@.name=="DB_PASSWORD")].valueFrom.secretKeyRef.name} {.spec.containers[0].env[?(@.name=="DB_PASSWORD")].valueFrom.secretKeyRef.key}')"
  fi
  scenario_done "admitted in $((SECONDS - t0)) s: ${pod#pod/}"
else
  scenario_done "spark-submit failed: $(grep -m1 -E 'Exception|denied' "$tmp/spark-sp-clean.log" | cut -c1-80)"
fi

scenario "spark: --conf spark.hadoop.fs.s3a.secret.key=<literal>" "denied: plaintext-secret (ConfigMap)"
spark_denied sp-s3a-key '/data/spark\.properties: property data\[\\?"spark\.properties\\?"\]: spark\.hadoop\.fs\.s3a\.secret\.key' "ConfigMap" -- \
  --conf "spark.hadoop.fs.s3a.secret.key=$s3a_secret" "$examples_jar" 100

scenario "spark: --conf with a JDBC URL holding a password" "denied: plaintext-secret (ConfigMap)"
spark_denied sp-jdbc-url '/data/spark\.properties: property data\[\\?"spark\.properties\\?"\]: spark\.ledger\.jdbc\.url' "ConfigMap" -- \
  --conf "spark.ledger.jdbc.url=jdbc:postgresql://db.internal:5432/ledger?user=etl&password=$jdbc_secret&sslmode=verify-full" \
  "$examples_jar" 100

scenario "spark: --conf spark.kubernetes.driverEnv.DB_PASSWORD=<literal>" "denied: plaintext-secret (pod env)"
spark_denied sp-driver-env '/spec/containers/0/env/[0-9]+/value: env DB_PASSWORD' "driver pod env" -- \
  --conf "spark.kubernetes.driverEnv.DB_PASSWORD=$env_secret" "$examples_jar" 100

scenario "spark: application argument --password <literal>" "denied: plaintext-secret (pod args)"
spark_denied sp-app-args '/spec/containers/0/args/[0-9]+' "driver pod args" -- \
  "$examples_jar" --password "$arg_secret"

# Spark ships every file of SPARK_CONF_DIR (but spark-defaults.conf, which it merges into spark.properties) into the
# driver's ConfigMap, mounted at /opt/spark/conf: a core-site.xml with fs.s3a.secret.key reaches the cluster too.
xml_conf_dir=$tmp/spark-conf-xml
mkdir -p "$xml_conf_dir"
cat >"$xml_conf_dir/core-site.xml" <<EOF
<?xml version="1.0"?>
<configuration>
  <property>
    <name>fs.s3a.secret.key</name>
    <value>$xml_secret</value>
  </property>
</configuration>
EOF
echo "export AWS_SECRET_ACCESS_KEY=$env_secret" >"$xml_conf_dir/spark-env.sh"
scenario "spark: core-site.xml + spark-env.sh with secrets in SPARK_CONF_DIR" "denied: plaintext-secret (ConfigMap)"
also_path_re='/data/spark-env\.sh' spark_denied sp-conf-dir-files '/data/core-site\.xml' "ConfigMap file" -- \
  --conf-dir "$xml_conf_dir" "$examples_jar" 100

# spark.kubernetes.executor.podTemplateFile: spark-submit stores the template, as YAML, in a ConfigMap of its own
# (NAME-<id>-driver-podspec-conf-map, key podspec-configmap-key) that the driver creates every executor from.
cat >"$tmp/executor-template.yaml" <<EOF
apiVersion: v1
kind: Pod
spec:
  containers:
    - name: spark-executor
      env:
        - name: WAREHOUSE_PASSWORD
          value: $tmpl_secret
EOF
scenario "spark: executor pod template with a literal env secret" "denied: plaintext-secret (ConfigMap)"
spark_denied sp-exec-template '/data/podspec-configmap-key' "executor template ConfigMap" -- \
  --conf "spark.kubernetes.executor.podTemplateFile=$tmp/executor-template.yaml" "$examples_jar" 100

finish
