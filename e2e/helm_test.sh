#!/usr/bin/env bash
# End-to-end test of the Helm chart (helm/pipeguard): lint, template in every mode, schema rejection, then a real
# helm install / upgrade / uninstall against a real kube-apiserver, and a development-mode install.
#
# Usage: e2e/helm_test.sh
#   Reuses the cluster in $KUBECONFIG when it is set and reachable (with $KUBECTL and $HELM, or the cached binaries);
#   otherwise starts a local control plane (scripts/controlplane) in a temp dir and stops it on exit.
#   PIPEGUARD_CLI=path/to/pipeguard additionally checks the rendered webhook configuration with the real parser
#   (default: the first of build/cli/pipeguard, build-rel/cli/pipeguard that exists; skipped when none does).
#
# Contract: prints "helm e2e: N passed, M failed" and exits 0 only if nothing failed. Objects it creates live in
# fresh namespaces (pipeguard-helm-*) and cluster-scoped objects carry the release names; releases are uninstalled
# on exit. Pods never run (the control plane has no nodes), so nothing waits for them.
# shellcheck source-path=SCRIPTDIR
set -uo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
chart=$repo/helm/pipeguard
# shellcheck source=lib.sh
. "$repo/e2e/lib.sh"
# shellcheck source=../scripts/controlplane/lib.sh
. "$repo/scripts/controlplane/lib.sh"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/pipeguard-helm-e2e.XXXXXX")
tmp=$(cd "$tmp" && pwd -P)
cp_dir=
releases=() # "namespace/name" of releases to uninstall on exit

cleanup() {
  local rc=$? r
  set +e
  for r in "${releases[@]}"; do "$HELM" uninstall "${r#*/}" -n "${r%%/*}" >/dev/null 2>&1; done
  [[ -n $cp_dir ]] && controlplane_down "$cp_dir" --rm
  rm -rf "$tmp"
  return "$rc"
}
trap cleanup EXIT

bindir=$("$repo/scripts/controlplane/install.sh" --print-bindir) || {
  echo "helm e2e: cannot build or find kubectl/helm (scripts/controlplane/install.sh)" >&2
  echo "helm e2e: 0 passed, 1 failed"
  exit 1
}
: "${HELM:=$bindir/helm}"
: "${KUBECTL:=$bindir/kubectl}"
export HELM KUBECTL
values=$chart/ci/test-values.yaml

# render OUTFILE ARGS... : helm template into OUTFILE; returns helm's status.
render() {
  local out=$1
  shift
  "$HELM" template pg "$chart" --namespace pipeguard-system --include-crds "$@" >"$out" 2>&1
}

# doc_of KIND FILE : the rendered documents of one kind (documents are separated by ---).
doc_of() {
  awk -v kind="kind: $1" 'BEGIN { RS = "\n---\n" } index($0, "\n" kind "\n") || index($0, kind "\n") == 1 { print; print "---" }' "$2"
}

e2e_log "== static: files, lint, template, schema"
check "chart CRD is identical to crds/pipeguard.io_pipelinesecurityprofiles.yaml" \
  cmp "$repo/crds/pipeguard.io_pipelinesecurityprofiles.yaml" "$chart/crds/pipeguard.io_pipelinesecurityprofiles.yaml"
check "helm lint --strict (in-cluster values)" "$HELM" lint --strict "$chart" -f "$values"
check "helm lint --strict (devMode)" "$HELM" lint --strict "$chart" --set devMode.enabled=true \
  --set devMode.webhookURL=https://127.0.0.1:8443 --set devMode.caBundle=Zm9v
check "helm lint --strict (certManager, monitoring, context files)" "$HELM" lint --strict "$chart" -f "$values" \
  --set certManager.enabled=true --set metrics.serviceMonitor.enabled=true --set metrics.prometheusRule.enabled=true \
  --set metrics.grafanaDashboard.enabled=true --set context.source=files --set context.configMapName=ctx
check "dashboard is valid JSON" python3 -m json.tool "$chart/dashboards/pipeguard.json"

# Defaults alone: the operator's AWS identity is mandatory, and the error names the missing keys.
check_fails "chart defaults without the operator's AWS identity are rejected, naming the keys" \
  'operator/config/(clusterName|awsAccountId|oidcIssuerUrl|permissionsBoundaryArn)' \
  "$HELM" template pg "$chart"
check "chart defaults with operator.enabled=false render" "$HELM" template pg "$chart" --set operator.enabled=false
check_fails "schema rejects config.mode=relaxed" "/config/mode" "$HELM" template pg "$chart" -f "$values" --set config.mode=relaxed
check_fails "schema rejects blockingSeverity=urgent" "/config/blockingSeverity" \
  "$HELM" template pg "$chart" -f "$values" --set config.blockingSeverity=urgent
check_fails "schema rejects an unknown top-level key" "additional properties|additionalProperties|not allowed" \
  "$HELM" template pg "$chart" -f "$values" --set modee=enforce
check_fails "schema rejects a malformed awsAccountId" "/operator/config/awsAccountId" \
  "$HELM" template pg "$chart" -f "$values" --set-string operator.config.awsAccountId=12345
check_fails "devMode without a URL is rejected" "/devMode/webhookURL" "$HELM" template pg "$chart" --set devMode.enabled=true \
  --set devMode.caBundle=Zm9v

default_out=$tmp/default.yaml
if check "helm template (in-cluster values)" render "$default_out" -f "$values"; then
  rendered=$(cat "$default_out")
  for kind in CustomResourceDefinition ValidatingWebhookConfiguration MutatingWebhookConfiguration PodDisruptionBudget \
    NetworkPolicy ClusterRole ClusterRoleBinding Role RoleBinding ServiceAccount Service ConfigMap Secret; do
    check_match "template renders a $kind" "^kind: $kind$" "$rendered"
  done
  check_eq "template renders 2 Deployments (webhook, operator)" 2 "$(grep -c '^kind: Deployment$' <<<"$rendered")"
  deployments=$(doc_of Deployment "$default_out")
  container_contexts=$(grep -B3 -A7 'privileged: false' <<<"$deployments")
  for field in 'runAsNonRoot: true' 'runAsUser: 65532' 'readOnlyRootFilesystem: true' 'allowPrivilegeEscalation: false' \
    'type: RuntimeDefault' 'drop: \[ALL\]'; do
    check_eq "both containers set $field" 2 "$(grep -c -- "$field" <<<"$container_contexts")"
  done
  check_match "webhook readiness probe on /readyz over HTTPS" 'httpGet: \{path: /readyz, port: https, scheme: HTTPS\}' "$deployments"
  check_match "webhook liveness probe on /healthz over HTTPS" 'httpGet: \{path: /healthz, port: https, scheme: HTTPS\}' "$deployments"
  check_match "webhook anti-affinity by hostname" 'topologyKey: kubernetes.io/hostname' "$deployments"
  check_match "operator leader election args" '--leader-election-namespace=pipeguard-system' "$deployments"
  check_no_match "the webhook is not given --context in kubernetes mode" '--context' "$deployments"
  # Every flag the chart passes is one the binary parses (webhook/src/flags.cc, operator/reconcilers/src/flags.cc).
  for component in webhook operator; do
    case $component in
      webhook) parser=$repo/webhook/src/flags.cc ;;
      operator) parser=$repo/operator/reconcilers/src/flags.cc ;;
    esac
    [[ -f $parser ]] || continue
    mapfile -t flags < <(awk -v bin="pipeguard-$component]" 'index($0, bin) { on = 1; next } on && /^ *- --/ { sub(/^ *- /, ""); sub(/=.*/, ""); print; next } on && !/^ *args:/ { on = 0 }' <<<"$deployments")
    check_match "the $component Deployment passes flags" '--config' "${flags[*]:-}"
    for flag in "${flags[@]}"; do
      check_match "$component flag $flag is known to the binary" "\"$flag\"" "$(cat "$parser")"
    done
  done
  config_map=$(awk '/name: pg-pipeguard-webhook-config/,/^---/' "$default_out")
  check_match "webhook ConfigMap carries the configuration" 'mode: enforce' "$config_map"
  # The rendered configuration must be accepted by the real parser (unknown keys are errors there).
  cli=${PIPEGUARD_CLI:-}
  for candidate in "$repo/build/cli/pipeguard" "$repo/build-rel/cli/pipeguard"; do
    [[ -z $cli && -x $candidate ]] && cli=$candidate
  done
  if [[ -n $cli ]]; then
    sed -n '/^  config.yaml: |$/,/^---/p' <<<"$config_map" | sed '1d;/^---/d;s/^    //' >"$tmp/webhook-config.yaml"
    # images.verify needs registries; this checks the parser, not verification.
    # Exit 0 or 1 is a verdict; 2 is a usage or input error, e.g. a key the parser does not know.
    scan_parses() {
      "$cli" scan --config "$tmp/webhook-config.yaml" "$repo/examples/good/airflow-kpo-extract.yaml" >/dev/null
      (($? < 2))
    }
    check "rendered webhook configuration parses with pipeguard scan (exit 0 or 1, not 2)" scan_parses
  else
    e2e_log "  skip  rendered webhook configuration parse (no pipeguard CLI built; set PIPEGUARD_CLI)"
  fi
fi

dev_out=$tmp/dev.yaml
if check "helm template (devMode)" render "$dev_out" --set devMode.enabled=true \
  --set devMode.webhookURL=https://127.0.0.1:9443/ --set devMode.caBundle=Zm9v; then
  rendered=$(cat "$dev_out")
  check_no_match "devMode renders no Deployment, Secret or RBAC" '^kind: (Deployment|Secret|ClusterRole|Role)$' "$rendered"
  check_match "devMode validating clientConfig.url" 'url: "https://127.0.0.1:9443/validate"' "$rendered"
  check_match "devMode mutating clientConfig.url" 'url: "https://127.0.0.1:9443/mutate"' "$rendered"
  check_no_match "devMode uses no service reference" '^ *service:$' "$(doc_of ValidatingWebhookConfiguration "$dev_out"; doc_of MutatingWebhookConfiguration "$dev_out")"
fi

cm_out=$tmp/cert-manager.yaml
if check "helm template (certManager)" render "$cm_out" -f "$values" --set certManager.enabled=true; then
  rendered=$(cat "$cm_out")
  check_eq "certManager: 2 Issuers (self-signed, CA) and 2 Certificates (CA, serving)" "2 2" \
    "$(grep -c '^kind: Issuer$' <<<"$rendered") $(grep -c '^kind: Certificate$' <<<"$rendered")"
  check_eq "certManager: inject-ca-from on both webhook configurations" 2 \
    "$(grep -c 'cert-manager.io/inject-ca-from: pipeguard-system/pg-pipeguard-webhook-tls' \
      <<<"$(doc_of ValidatingWebhookConfiguration "$cm_out"; doc_of MutatingWebhookConfiguration "$cm_out")")"
  check_no_match "certManager: no Helm-generated key or caBundle" '(tls.key:|caBundle:)' "$rendered"
fi

# /mutate can only pin verified tags: with pinning or verification off the chart registers no mutating webhook (each
# governed create would otherwise pay a second call for nothing), neither live nor in the operator's desired state.
for off in config.images.pinDigests config.images.verify webhook.mutating.enabled; do
  no_mutate_out=$tmp/no-mutate-$off.yaml
  if check "helm template ($off=false)" render "$no_mutate_out" -f "$values" --set "$off=false"; then
    check_eq "$off=false: no MutatingWebhookConfiguration, live or in the operator's desired state" "0 1" \
      "$(grep -c 'kind: MutatingWebhookConfiguration' "$no_mutate_out") $(grep -c '^kind: ValidatingWebhookConfiguration$' "$no_mutate_out")"
  fi
done
check_eq "defaults (verify and pinDigests on): the mutating webhook is registered and in the desired state" 2 \
  "$(grep -c 'kind: MutatingWebhookConfiguration' "$default_out")"

# operator.awsEndpoint (an AWS API other than AWS's own, e.g. a VPC endpoint, or moto in the node suite): passed as
# --aws-endpoint, and absent by default.
aws_out=$tmp/aws-endpoint.yaml
if check "helm template (operator.awsEndpoint)" render "$aws_out" -f "$values" --set operator.awsEndpoint=https://sts.vpce.example:443; then
  check_match "operator.awsEndpoint becomes the operator's --aws-endpoint" '- --aws-endpoint=https://sts.vpce.example:443' "$(doc_of Deployment "$aws_out")"
fi
check_no_match "no --aws-endpoint by default" 'aws-endpoint' "$(doc_of Deployment "$default_out")"

mon_out=$tmp/monitoring.yaml
if check "helm template (ServiceMonitor, PrometheusRule, dashboard)" render "$mon_out" -f "$values" \
  --set metrics.serviceMonitor.enabled=true --set metrics.prometheusRule.enabled=true --set metrics.grafanaDashboard.enabled=true; then
  rendered=$(cat "$mon_out")
  check_match "Grafana dashboard ConfigMap labelled grafana_dashboard" 'grafana_dashboard: "1"' "$rendered"
  check_eq "2 ServiceMonitors (webhook over HTTPS, operator)" 2 "$(grep -c '^kind: ServiceMonitor$' <<<"$rendered")"
  # Every pipeguard_* metric the alerts and dashboard use is declared in the sources.
  sources=$(cat "$repo/webhook/src/metrics.cc" "$repo/webhook/src/image_verification.cc" \
    "$repo/imageverify/include/pipeguard/imageverify/metrics.h" "$repo/audit/include/pipeguard/audit/metrics.h" \
    "$repo"/operator/*/include/pipeguard/*/*.h "$repo"/operator/*/src/*.cc 2>/dev/null)
  mapfile -t metrics < <(grep -Eo 'pipeguard_[a-z_]+' <<<"$rendered" | sed -E 's/_(bucket|sum|count)$//' | sort -u)
  for metric in "${metrics[@]}"; do
    check_match "metric $metric is declared in the sources" "\"?$metric" "$sources"
  done
fi

# --- Against a real API server ------------------------------------------------------------------------------------
e2e_log "== real control plane"
if [[ -n ${KUBECONFIG:-} ]] && "$KUBECTL" --request-timeout=10s get --raw /readyz >/dev/null 2>&1; then
  e2e_log "using the cluster in KUBECONFIG=$KUBECONFIG"
else
  cp_dir=$tmp/controlplane
  mkdir -p "$cp_dir"
  if ! controlplane_up "$cp_dir" >"$tmp/controlplane.log" 2>&1; then
    e2e_fail "start a local control plane" "$(tail -n 20 "$tmp/controlplane.log")"
    e2e_summary "helm e2e"
    exit 1
  fi
  # controlplane_up exported the control plane's own kubectl/helm; keep ours (the same cached binaries).
  e2e_pass "start a local control plane ($APISERVER_URL)"
fi
k() { "$KUBECTL" --request-timeout=30s "$@"; }
jp() { k get "$1" "$2" ${3:+-n "$3"} -o "jsonpath=$4" 2>&1; }

suffix=$RANDOM$RANDOM
ns=pipeguard-helm-$suffix
release=pg$suffix
full=$release-pipeguard
sa_webhook=system:serviceaccount:$ns:$full-webhook
sa_operator=system:serviceaccount:$ns:$full-operator

e2e_log "== helm install $release into $ns"
releases+=("$ns/$release")
if check "helm install (all objects accepted by the API server)" "$HELM" install "$release" "$chart" -n "$ns" \
  --create-namespace -f "$values" --timeout 120s; then
  check_eq "CRD installed and Established" True \
    "$(jp crd pipelinesecurityprofiles.pipeguard.io '' '{.status.conditions[?(@.type=="Established")].status}')"
  vwc='{.webhooks[0].failurePolicy} {.webhooks[0].timeoutSeconds} {.webhooks[0].sideEffects} {.webhooks[0].admissionReviewVersions[*]} {.webhooks[0].clientConfig.service.name} {.webhooks[0].clientConfig.service.path}'
  check_eq "ValidatingWebhookConfiguration: Fail, 10s, None, v1, service /validate" \
    "Fail 10 None v1 $full-webhook /validate" "$(jp validatingwebhookconfiguration "$full" '' "$vwc")"
  check_eq "namespaceSelector excludes kube-system and the release namespace" "NotIn kube-system $ns" \
    "$(jp validatingwebhookconfiguration "$full" '' '{.webhooks[0].namespaceSelector.matchExpressions[0].operator} {.webhooks[0].namespaceSelector.matchExpressions[0].values[*]}')"
  check_eq "validating rules cover pods, workloads, SparkApplications, ConfigMaps, profiles" \
    "pods deployments statefulsets daemonsets replicasets jobs cronjobs sparkapplications scheduledsparkapplications configmaps pipelinesecurityprofiles" \
    "$(jp validatingwebhookconfiguration "$full" '' '{.webhooks[0].rules[*].resources[*]}')"
  check_eq "MutatingWebhookConfiguration: Fail, Never, /mutate" "Fail Never /mutate" \
    "$(jp mutatingwebhookconfiguration "$full" '' '{.webhooks[0].failurePolicy} {.webhooks[0].reinvocationPolicy} {.webhooks[0].clientConfig.service.path}')"
  ca_secret=$(jp secret "$full-webhook-tls" "$ns" '{.data.ca\.crt}')
  check_eq "caBundle of the validating webhook is the Secret's CA" "$ca_secret" \
    "$(jp validatingwebhookconfiguration "$full" '' '{.webhooks[0].clientConfig.caBundle}')"
  check_eq "caBundle of the mutating webhook is the Secret's CA" "$ca_secret" \
    "$(jp mutatingwebhookconfiguration "$full" '' '{.webhooks[0].clientConfig.caBundle}')"
  # The serving certificate chains to the CA and names the Service.
  jp secret "$full-webhook-tls" "$ns" '{.data.tls\.crt}' | base64 -d >"$tmp/tls.crt"
  base64 -d <<<"$ca_secret" >"$tmp/ca.crt"
  check "serving certificate verifies against the CA" openssl verify -CAfile "$tmp/ca.crt" "$tmp/tls.crt"
  check_match "serving certificate names $full-webhook.$ns.svc" "DNS:$full-webhook.$ns.svc([,]|$)" \
    "$(openssl x509 -in "$tmp/tls.crt" -noout -ext subjectAltName 2>&1)"
  check_eq "PodDisruptionBudget minAvailable 1" 1 "$(jp pdb "$full-webhook" "$ns" '{.spec.minAvailable}')"
  check_eq "webhook Deployment: 2 replicas, non-root 65532, read-only root, no escalation, caps dropped" \
    "2 true 65532 true false ALL RuntimeDefault" \
    "$(jp deployment "$full-webhook" "$ns" '{.spec.replicas} {.spec.template.spec.containers[0].securityContext.runAsNonRoot} {.spec.template.spec.containers[0].securityContext.runAsUser} {.spec.template.spec.containers[0].securityContext.readOnlyRootFilesystem} {.spec.template.spec.containers[0].securityContext.allowPrivilegeEscalation} {.spec.template.spec.containers[0].securityContext.capabilities.drop[*]} {.spec.template.spec.securityContext.seccompProfile.type}')"
  check_eq "operator Deployment: 1 replica, leader election on its Lease" \
    "1 --leader-election-namespace=$ns --leader-election-id=pipeguard-operator" \
    "$(jp deployment "$full-operator" "$ns" '{.spec.replicas} {.spec.template.spec.containers[0].args[1]} {.spec.template.spec.containers[0].args[2]}')"
  check_eq "operator ServiceAccount has the IRSA role annotation" "arn:aws:iam::123456789012:role/pipeguard-operator" \
    "$(jp serviceaccount "$full-operator" "$ns" '{.metadata.annotations.eks\.amazonaws\.com/role-arn}')"
  check_eq "NetworkPolicies for both components (Ingress+Egress)" "Ingress Egress|Ingress Egress" \
    "$(jp networkpolicy "$full-webhook" "$ns" '{.spec.policyTypes[*]}')|$(jp networkpolicy "$full-operator" "$ns" '{.spec.policyTypes[*]}')"
  check_match "operator config ConfigMap carries the AWS identity" 'awsAccountId: "123456789012"' \
    "$(jp configmap "$full-operator-config" "$ns" '{.data.config\.yaml}')"
  desired_webhooks=$(jp configmap "$full-operator-webhook-configurations" "$ns" '{.data.webhook-configurations\.yaml}')
  check_eq "operator's desired webhook configurations (--webhook-configurations) name both webhooks" "1 1" \
    "$(grep -c 'name: validate.pipeguard.io' <<<"$desired_webhooks") $(grep -c 'name: mutate.pipeguard.io' <<<"$desired_webhooks")"
  check_match "operator's desired webhook configurations carry the live caBundle" \
    "caBundle: $(jp validatingwebhookconfiguration "$full" '' '{.webhooks[0].clientConfig.caBundle}')" "$desired_webhooks"

  # RBAC, as the API server's authorizer sees it (authorization-mode=RBAC).
  can() { k auth can-i "$@" 2>/dev/null; }
  check_eq "webhook SA may list profiles, serviceaccounts, clusterrolebindings" "yes yes yes" \
    "$(can list pipelinesecurityprofiles.pipeguard.io --as="$sa_webhook" -A) $(can list serviceaccounts --as="$sa_webhook" -A) $(can watch clusterrolebindings --as="$sa_webhook")"
  check_eq "webhook SA may list and watch ConfigMaps (mounted by governed pods), not get or write them" \
    "yes yes no no" \
    "$(can list configmaps --as="$sa_webhook" -A) $(can watch configmaps --as="$sa_webhook" -A) $(can get configmaps --as="$sa_webhook" -n default) $(can update configmaps --as="$sa_webhook" -n default)"
  check_eq "webhook SA (background audit) may watch pods and jobs, write PolicyReports, hold its Lease" \
    "yes yes yes yes no" \
    "$(can watch pods --as="$sa_webhook" -A) $(can list jobs.batch --as="$sa_webhook" -A) $(can update policyreports.wgpolicyk8s.io --as="$sa_webhook" -n default) $(can update leases.coordination.k8s.io --as="$sa_webhook" -n "$ns") $(can update leases.coordination.k8s.io --as="$sa_webhook" -n default)"
  check_eq "webhook SA may not read Secrets, nor write anything but its PolicyReports and Lease" "no no no" \
    "$(can get secrets --as="$sa_webhook" -n "$ns") $(can create serviceaccounts --as="$sa_webhook" -n default) $(can update pipelinesecurityprofiles.pipeguard.io --as="$sa_webhook" -n default)"
  check_eq "operator SA may create ServiceAccounts and NetworkPolicies, update profile status and finalizers" \
    "yes yes yes yes" \
    "$(can create serviceaccounts --as="$sa_operator" -n default) $(can patch networkpolicies.networking.k8s.io --as="$sa_operator" -n default) $(can update pipelinesecurityprofiles.pipeguard.io --subresource=status --as="$sa_operator" -n default) $(can update pipelinesecurityprofiles.pipeguard.io --subresource=finalizers --as="$sa_operator" -n default)"
  check_eq "operator SA may not delete NetworkPolicies or ServiceAccounts, nor read Secrets" "no no no" \
    "$(can delete networkpolicies.networking.k8s.io --as="$sa_operator" -n default) $(can delete serviceaccounts --as="$sa_operator" -n default) $(can get secrets --as="$sa_operator" -n default)"
  check_eq "operator SA may patch its own webhook configurations only" "yes yes no" \
    "$(can patch "validatingwebhookconfigurations/$full" --as="$sa_operator") $(can patch "mutatingwebhookconfigurations/$full" --as="$sa_operator") $(can patch validatingwebhookconfigurations/someone-else --as="$sa_operator")"
  check_eq "operator SA may watch its own webhook configurations and recreate deleted ones" "yes yes yes" \
    "$(can watch "validatingwebhookconfigurations/$full" --as="$sa_operator") $(can get "mutatingwebhookconfigurations/$full" --as="$sa_operator") $(can create validatingwebhookconfigurations --as="$sa_operator")"
  check_eq "operator SA may read its desired webhook configurations ConfigMap, and no other" "yes no" \
    "$(can get "configmaps/$full-operator-webhook-configurations" --as="$sa_operator" -n "$ns") $(can get "configmaps/$full-operator-config" --as="$sa_operator" -n "$ns")"
  check_eq "operator SA may update its Lease in the release namespace only" "yes no" \
    "$(can update leases.coordination.k8s.io/pipeguard-operator --as="$sa_operator" -n "$ns") $(can update leases.coordination.k8s.io/pipeguard-operator --as="$sa_operator" -n default)"

  # The webhook is live and fails closed: no webhook pod runs (no nodes), so a ConfigMap in a governed namespace is
  # rejected, while kube-system and the release namespace stay exempt.
  k create namespace "$ns-tenant" >/dev/null 2>&1
  check_fails "a governed namespace is fail-closed while the webhook is unreachable" "pipeguard.io" \
    k -n "$ns-tenant" create configmap probe --from-literal=a=b
  check "kube-system is exempt" k -n kube-system create configmap "pipeguard-helm-probe-$suffix" --from-literal=a=b
  k -n kube-system delete configmap "pipeguard-helm-probe-$suffix" >/dev/null 2>&1
  check "the release namespace is exempt" k -n "$ns" create configmap probe --from-literal=a=b

  e2e_log "== helm upgrade"
  if check "helm upgrade (webhook.replicas=3)" "$HELM" upgrade "$release" "$chart" -n "$ns" -f "$values" \
    --set webhook.replicas=3 --timeout 120s; then
    check_eq "upgrade applied (3 webhook replicas)" 3 "$(jp deployment "$full-webhook" "$ns" '{.spec.replicas}')"
    check_eq "upgrade keeps the Secret's CA (lookup)" "$ca_secret" "$(jp secret "$full-webhook-tls" "$ns" '{.data.ca\.crt}')"
    check_eq "upgrade keeps the caBundle" "$ca_secret" \
      "$(jp validatingwebhookconfiguration "$full" '' '{.webhooks[0].clientConfig.caBundle}')"
  fi

  e2e_log "== CA rotation without a failed admission: tls.rotation=stage, switch, then \"\""
  secret_key() { jp secret "$full-webhook-tls" "$ns" "{.data.${1//./\\.}}"; }
  bundle_of() { jp "$1" "$full" '' '{.webhooks[0].clientConfig.caBundle}'; }
  desired_bundle() { # the validating webhook's caBundle in the operator's desired state
    jp configmap "$full-operator-webhook-configurations" "$ns" '{.data.webhook-configurations\.yaml}' |
      awk '/name: validate.pipeguard.io/ { v = 1 } v && /caBundle:/ { print $2; exit }'
  }
  b64cat() { { base64 -d <<<"$1"; base64 -d <<<"$2"; } | base64 -w0; } # two base64 PEMs as one bundle
  upgrade_tls() { "$HELM" upgrade "$release" "$chart" -n "$ns" -f "$values" --set webhook.replicas=3 --set-string tls.rotation="$1" --timeout 120s; }
  check_fails "tls.rotation=switch without a staged CA fails the upgrade" 'needs a staged CA' upgrade_tls switch
  old_tls=$(secret_key tls.crt)
  if check "helm upgrade --set tls.rotation=stage" upgrade_tls stage; then
    next_ca=$(secret_key next-ca.crt)
    check_match "stage: the Secret holds a new CA and its key" '^[A-Za-z0-9+/=]{100,} [A-Za-z0-9+/=]{100,}$' \
      "$next_ca $(secret_key next-ca.key)"
    check_eq "stage: ca.crt and the served certificate are unchanged" "$ca_secret $old_tls" "$(secret_key ca.crt) $(secret_key tls.crt)"
    check_eq "stage: both caBundles trust the current CA and the new one" "$(b64cat "$ca_secret" "$next_ca")|$(b64cat "$ca_secret" "$next_ca")" \
      "$(bundle_of validatingwebhookconfiguration)|$(bundle_of mutatingwebhookconfiguration)"
    check_eq "stage: the operator's desired state carries the same bundle" "$(b64cat "$ca_secret" "$next_ca")" "$(desired_bundle)"
    check "helm upgrade --set tls.rotation=stage again" upgrade_tls stage
    check_eq "stage again keeps the staged CA" "$next_ca" "$(secret_key next-ca.crt)"
  fi
  if check "helm upgrade --set tls.rotation=switch" upgrade_tls switch; then
    new_tls=$(secret_key tls.crt)
    check_eq "switch: ca.crt is the staged CA, previous-ca.crt the old one, the staged key is gone" \
      "$next_ca $ca_secret " "$(secret_key ca.crt) $(secret_key previous-ca.crt) $(secret_key next-ca.key)"
    base64 -d <<<"$new_tls" >"$tmp/tls-new.crt"
    base64 -d <<<"$next_ca" >"$tmp/ca-new.crt"
    check "switch: the new serving certificate verifies against the new CA" openssl verify -CAfile "$tmp/ca-new.crt" "$tmp/tls-new.crt"
    check_fails "switch: ... and not against the old CA" 'error|fail' openssl verify -CAfile "$tmp/ca.crt" "$tmp/tls-new.crt"
    check_match "switch: it names $full-webhook.$ns.svc" "DNS:$full-webhook.$ns.svc([,]|$)" \
      "$(openssl x509 -in "$tmp/tls-new.crt" -noout -ext subjectAltName 2>&1)"
    check_eq "switch: both caBundles trust the old CA and the new one" "$(b64cat "$ca_secret" "$next_ca")|$(b64cat "$ca_secret" "$next_ca")" \
      "$(bundle_of validatingwebhookconfiguration)|$(bundle_of mutatingwebhookconfiguration)"
    check "helm upgrade --set tls.rotation=switch again" upgrade_tls switch
    check_eq "switch again changes nothing" "$new_tls $next_ca" "$(secret_key tls.crt) $(secret_key ca.crt)"
  fi
  if check "helm upgrade --set tls.rotation= (the last step)" upgrade_tls ""; then
    check_eq "done: both caBundles trust the new CA alone" "$next_ca|$next_ca" \
      "$(bundle_of validatingwebhookconfiguration)|$(bundle_of mutatingwebhookconfiguration)"
    check_eq "done: the Secret keeps the new CA and certificate, no old or staged CA" "$next_ca $new_tls  " \
      "$(secret_key ca.crt) $(secret_key tls.crt) $(secret_key previous-ca.crt) $(secret_key next-ca.crt)"
    check_eq "done: the operator's desired state carries the new CA" "$next_ca" "$(desired_bundle)"
  fi

  e2e_log "== helm uninstall"
  if check "helm uninstall" "$HELM" uninstall "$release" -n "$ns" --timeout 120s; then
    releases=()
    for object in "validatingwebhookconfiguration/$full" "mutatingwebhookconfiguration/$full" \
      "clusterrole/$full-webhook" "clusterrole/$full-operator" "clusterrolebinding/$full-operator"; do
      check_fails "uninstall removed $object" "NotFound|not found" k get "$object"
    done
    for object in "deployment/$full-webhook" "pdb/$full-webhook" "secret/$full-webhook-tls" "role/$full-operator-leader-election"; do
      check_fails "uninstall removed $object" "NotFound|not found" k -n "$ns" get "$object"
    done
    check "uninstall keeps the CRD (Helm never deletes crds/, so profiles survive)" k get crd pipelinesecurityprofiles.pipeguard.io
  fi
fi

e2e_log "== devMode install"
dev_ns=$ns-dev
dev_release=${release}dev
ca_bundle=$(base64 -w0 <"${CA_CERT:-$tmp/ca.crt}" 2>/dev/null || echo Zm9v)
releases+=("$dev_ns/$dev_release")
if check "helm install (devMode, webhook URL https://127.0.0.1:1)" "$HELM" install "$dev_release" "$chart" -n "$dev_ns" \
  --create-namespace --set devMode.enabled=true --set devMode.webhookURL=https://127.0.0.1:1 \
  --set devMode.caBundle="$ca_bundle" --timeout 120s; then
  check_eq "devMode: validating clientConfig.url" "https://127.0.0.1:1/validate" \
    "$(jp validatingwebhookconfiguration "$dev_release-pipeguard" '' '{.webhooks[0].clientConfig.url}')"
  check_eq "devMode: mutating clientConfig.url" "https://127.0.0.1:1/mutate" \
    "$(jp mutatingwebhookconfiguration "$dev_release-pipeguard" '' '{.webhooks[0].clientConfig.url}')"
  check_eq "devMode: caBundle from values" "$ca_bundle" \
    "$(jp validatingwebhookconfiguration "$dev_release-pipeguard" '' '{.webhooks[0].clientConfig.caBundle}')"
  check_eq "devMode: no Deployments" "" "$(k -n "$dev_ns" get deployments -o name 2>&1)"
  check "helm uninstall (devMode)" "$HELM" uninstall "$dev_release" -n "$dev_ns" --timeout 120s && releases=()
  check_fails "devMode uninstall removed the webhook configuration" "NotFound|not found" \
    k get validatingwebhookconfiguration "$dev_release-pipeguard"
fi

e2e_summary "helm e2e"
