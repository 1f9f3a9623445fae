#!/usr/bin/env bash
# Starts a real etcd and kube-apiserver on loopback with all state in DIR ("envtest"): no kubelet, scheduler or
# controller-manager. Tests then talk to it with DIR/kubeconfig as cluster admin.
#
# Usage: start.sh DIR        (stop with stop.sh DIR; from bash tests prefer controlplane_up/down in lib.sh)
#
# Contract:
#   - binaries come from install.sh (built on first use, so the first call may take long; run install.sh first).
#   - listens on 127.0.0.1 only, on free ports picked at random (bind races are retried).
#   - DIR afterwards holds:
#       env              KEY=VALUE lines, shell-sourceable (`set -a; . DIR/env; set +a`) and trivially parseable:
#                        KUBECONFIG APISERVER_URL APISERVER_PORT SA_ISSUER APISERVER_PID ETCD_URL ETCD_PID WATCHDOG_PID
#                        CONTROLPLANE_DIR CONTROLPLANE_BINDIR KUBECTL HELM CA_CERT ADMIN_CERT ADMIN_KEY
#                        KUBECACHEDIR HELM_CACHE_HOME HELM_CONFIG_HOME HELM_DATA_HOME (kubectl's discovery cache and
#                        helm's state stay in DIR). Written last: its presence means ready.
#       kubeconfig       context "pipeguard", user in group system:masters, credentials embedded
#       pki/             ca.{crt,key} (signs the serving certs; cert.sh issues more, e.g. for webhooks),
#                        client-ca.{crt,key}, admin.{crt,key}, apiserver.{crt,key}, sa.{key,pub}
#       etcd/            etcd data; kept across stop/start of the same DIR
#       etcd.log kube-apiserver.log watchdog.log, *.pid, watchdog.armed
#   - each process is started with setsid (its own session and process group, PID = PGID) and its PID is in
#     DIR/<name>.pid; stop.sh DIR kills exactly those.
#   - exits 0 once /readyz is ok and the "default" namespace exists; otherwise exits 1 after printing the
#     failing component's log tail, having stopped whatever it started. PIPEGUARD_CONTROLPLANE_TIMEOUT (seconds,
#     default 120) bounds the wait for each component.
#   - PIPEGUARD_CONTROLPLANE_OWNER_PID=PID: a watchdog runs stop.sh DIR when PID exits (for harnesses that may
#     be killed before they can clean up). controlplane_up sets it to the calling shell.
#   - kube-apiserver: --authorization-mode=RBAC, all default admission plugins (incl. MutatingAdmissionWebhook,
#     ValidatingAdmissionWebhook, ValidatingAdmissionPolicy) except those in
#     PIPEGUARD_APISERVER_DISABLE_ADMISSION (default "ServiceAccount": without the controller-manager no
#     namespace gets a "default" ServiceAccount, and that plugin would then reject every Pod; set it to "" to
#     keep the plugin and create the ServiceAccounts yourself). PIPEGUARD_APISERVER_EXTRA_ARGS is appended
#     (word-split). Webhooks registered with clientConfig.url https://127.0.0.1:PORT/... are called directly.
#   - ServiceAccount tokens are signed with DIR/pki/sa.key; their issuer (and the API server's own audience) is
#     PIPEGUARD_CONTROLPLANE_SA_ISSUER, default https://kubernetes.default.svc.cluster.local (as in a cluster;
#     nothing here can fetch its discovery document). An https URL sets it: on EKS it is the cluster's OIDC provider
#     URL, which IAM trust policies name (e2e/stack_lib.sh PIPEGUARD_STACK_OIDC_ISSUER=1). "loopback" makes it the
#     API server's own URL (https://127.0.0.1:PORT, known only once the port is picked), so an OIDC relying party on
#     this machine, e.g. Fulcio (scripts/sigstore/), can fetch PORT/.well-known/openid-configuration and the JWKS it
#     names (anonymous reads need a ClusterRoleBinding of system:service-account-issuer-discovery to
#     system:unauthenticated, which the relying party's script creates).
#   - needs: openssl, curl.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

[[ $# -eq 1 && $1 != -* ]] || cp_die "usage: start.sh DIR"
command -v openssl >/dev/null || cp_die "openssl is required (scripts/install-deps.sh)"
command -v curl >/dev/null || cp_die "curl is required (scripts/install-deps.sh)"

umask 077
mkdir -p "$1"
dir=$(cd "$1" && pwd -P)
timeout=${PIPEGUARD_CONTROLPLANE_TIMEOUT:-120}
sa_issuer=${PIPEGUARD_CONTROLPLANE_SA_ISSUER:-https://kubernetes.default.svc.cluster.local}
[[ $sa_issuer == https://* || $sa_issuer == loopback ]] ||
  cp_die "PIPEGUARD_CONTROLPLANE_SA_ISSUER must be an https URL or 'loopback', got '$sa_issuer'"
pki=$dir/pki

for name in kube-apiserver etcd watchdog; do
  if [[ -f $dir/$name.pid ]] && cp_pid_owned "$(cat "$dir/$name.pid")" "$dir"; then
    cp_die "a control plane is already running in $dir ($name PID $(cat "$dir/$name.pid")); stop.sh it first"
  fi
done
rm -f "$dir/env" "$dir"/*.pid

bindir=$("$here/install.sh" --print-bindir)

# On any failure from here on, stop what we started.
started=false
cleanup_on_failure() {
  local rc=$?
  if [[ $started != true ]]; then
    "$here/stop.sh" "$dir" >&2 || true
  fi
  exit "$rc"
}
trap cleanup_on_failure EXIT

# ---------------------------------------------------------------------------------------------------------------
# PKI. Generated once per DIR (a restart keeps the CA, so tests' copies of the CA stay valid).

openssl_cnf=$pki/openssl.cnf

# sign NAME SUBJECT EXTENSIONS CA : a key and a certificate signed by CA (a prefix under pki/).
sign() {
  local name=$1 subj=$2 ext=$3 ca=$4
  openssl req -new -newkey rsa:2048 -nodes -config "$openssl_cnf" -subj "$subj" \
    -keyout "$pki/$name.key" -out "$pki/$name.csr" 2>/dev/null
  printf '[ext]\n%b\n' "$ext" >"$pki/$name.ext"
  openssl x509 -req -in "$pki/$name.csr" -CA "$pki/$ca.crt" -CAkey "$pki/$ca.key" \
    -set_serial "0x$(openssl rand -hex 16)" -days 365 -sha256 \
    -extfile "$pki/$name.ext" -extensions ext -out "$pki/$name.crt" 2>/dev/null
  rm -f "$pki/$name.csr" "$pki/$name.ext"
}

# make_ca NAME CN : a self-signed CA.
make_ca() {
  openssl req -x509 -new -newkey rsa:2048 -nodes -config "$openssl_cnf" -extensions v3_ca -days 3650 -sha256 \
    -subj "/CN=$2" -keyout "$pki/$1.key" -out "$pki/$1.crt" 2>/dev/null
}

if [[ ! -s $pki/admin.crt ]]; then
  cp_log "generating certificates in $pki"
  mkdir -p "$pki"
  # A self-contained openssl config, so the system's openssl.cnf defaults do not matter.
  cat >"$openssl_cnf" <<'EOF'
[req]
distinguished_name = dn
[dn]
[v3_ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign, digitalSignature
subjectKeyIdentifier = hash
EOF
  make_ca ca pipeguard-test-ca
  make_ca client-ca pipeguard-test-client-ca
  leaf='basicConstraints = critical, CA:FALSE\nkeyUsage = critical, digitalSignature, keyEncipherment'
  leaf+='\nsubjectKeyIdentifier = hash\nauthorityKeyIdentifier = keyid'
  sans='IP:127.0.0.1, IP:10.0.0.1, DNS:localhost, DNS:kubernetes, DNS:kubernetes.default'
  sans+=', DNS:kubernetes.default.svc, DNS:kubernetes.default.svc.cluster.local'
  sign apiserver "/CN=kube-apiserver" "$leaf\nextendedKeyUsage = serverAuth\nsubjectAltName = $sans" ca
  sign admin "/O=system:masters/CN=pipeguard-admin" "$leaf\nextendedKeyUsage = clientAuth" client-ca
  openssl genrsa -out "$pki/sa.key" 2048 2>/dev/null
  openssl rsa -in "$pki/sa.key" -pubout -out "$pki/sa.pub" 2>/dev/null
fi

# ---------------------------------------------------------------------------------------------------------------
# Processes

launch() { cp_launch "$dir" "$@"; }                            # launch NAME CMD... (scripts/controlplane/lib.sh)
wait_ready() { cp_wait_up "$dir" "$1" "$timeout" "${@:2}"; } # wait_ready NAME CHECK_CMD... : 0 up, 1 died, 2 timeout

# failed NAME WHY : report a component that did not come up, with its log tail.
failed() {
  cp_log "error: $1 $2; last lines of $dir/$1.log:"
  tail -n 40 "$dir/$1.log" >&2 || true
  exit 1
}

bind_race() { cp_lost_port_race "$dir" "$1"; }

etcd_healthy() { curl -fsS --max-time 2 "$etcd_url/health" | grep -q '"health":"true"'; }

etcd_port='' peer_port='' apiserver_port=''
for attempt in 1 2 3; do
  cp_free_port etcd_port
  cp_free_port peer_port
  etcd_url=http://127.0.0.1:$etcd_port
  launch etcd "$bindir/etcd" \
    --name=pipeguard \
    --data-dir="$dir/etcd" \
    --listen-client-urls="$etcd_url" --advertise-client-urls="$etcd_url" \
    --listen-peer-urls="http://127.0.0.1:$peer_port" --initial-advertise-peer-urls="http://127.0.0.1:$peer_port" \
    --initial-cluster="pipeguard=http://127.0.0.1:$peer_port" \
    --unsafe-no-fsync --log-level=warn
  wait_ready etcd etcd_healthy && break
  cp_pid_alive "$(cat "$dir/etcd.pid")" && failed etcd "not healthy at $etcd_url/health after ${timeout}s"
  if bind_race etcd && ((attempt < 3)); then
    cp_log "etcd lost a port race; retrying"
    continue
  fi
  failed etcd "exited during startup"
done
cp_log "etcd ready at $etcd_url (PID $(cat "$dir/etcd.pid"))"

curl_admin() {
  curl -fsS --max-time 5 --cacert "$pki/ca.crt" --cert "$pki/admin.crt" --key "$pki/admin.key" "$@"
}
apiserver_ready() {
  [[ $(curl_admin "$apiserver_url/readyz") == ok ]] && curl_admin -o /dev/null "$apiserver_url/api/v1/namespaces/default"
}

readyz_failures() {
  curl -sS --max-time 5 --cacert "$pki/ca.crt" --cert "$pki/admin.crt" --key "$pki/admin.key" \
    "$apiserver_url/readyz?verbose" 2>&1 | grep -v ' ok$' | tr '\n' ' ' || true
}

read -r -a disable_admission <<<"${PIPEGUARD_APISERVER_DISABLE_ADMISSION-ServiceAccount}"
read -r -a extra_args <<<"${PIPEGUARD_APISERVER_EXTRA_ARGS:-}"
admission_args=()
if ((${#disable_admission[@]})); then
  admission_args=("--disable-admission-plugins=$(IFS=,; echo "${disable_admission[*]}")")
fi

for attempt in 1 2 3; do
  cp_free_port apiserver_port
  apiserver_url=https://127.0.0.1:$apiserver_port
  issuer=$sa_issuer
  [[ $sa_issuer == loopback ]] && issuer=$apiserver_url
  launch kube-apiserver "$bindir/kube-apiserver" \
    --etcd-servers="$etcd_url" \
    --bind-address=127.0.0.1 --advertise-address=127.0.0.1 --secure-port="$apiserver_port" \
    --cert-dir="$pki" --tls-cert-file="$pki/apiserver.crt" --tls-private-key-file="$pki/apiserver.key" \
    --client-ca-file="$pki/client-ca.crt" \
    --authorization-mode=RBAC \
    --service-cluster-ip-range=10.0.0.0/24 \
    --service-account-issuer="$issuer" --api-audiences="$issuer" \
    --service-account-key-file="$pki/sa.pub" --service-account-signing-key-file="$pki/sa.key" \
    --endpoint-reconciler-type=none \
    --allow-privileged=true \
    --profiling=false \
    "${admission_args[@]}" \
    "${extra_args[@]}"
  wait_ready kube-apiserver apiserver_ready && break
  cp_pid_alive "$(cat "$dir/kube-apiserver.pid")" &&
    failed kube-apiserver "not ready at $apiserver_url after ${timeout}s; failing checks: $(readyz_failures)"
  if bind_race kube-apiserver && ((attempt < 3)); then
    cp_log "kube-apiserver lost a port race; retrying"
    continue
  fi
  failed kube-apiserver "exited during startup"
done
cp_log "kube-apiserver ready at $apiserver_url (PID $(cat "$dir/kube-apiserver.pid"))"

b64() { base64 -w0 <"$1"; }
cat >"$dir/kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: pipeguard
  cluster:
    server: $apiserver_url
    certificate-authority-data: $(b64 "$pki/ca.crt")
users:
- name: pipeguard-admin
  user:
    client-certificate-data: $(b64 "$pki/admin.crt")
    client-key-data: $(b64 "$pki/admin.key")
contexts:
- name: pipeguard
  context:
    cluster: pipeguard
    user: pipeguard-admin
    namespace: default
current-context: pipeguard
EOF

watchdog_pid=
if [[ -n ${PIPEGUARD_CONTROLPLANE_OWNER_PID:-} ]]; then
  owner=$PIPEGUARD_CONTROLPLANE_OWNER_PID
  cp_pid_alive "$owner" || cp_die "PIPEGUARD_CONTROLPLANE_OWNER_PID=$owner is not running"
  cp_arm_watchdog "$dir" "$owner" "$here/stop.sh" pipeguard-watchdog
  watchdog_pid=$(cat "$dir/watchdog.pid")
fi

# env_line KEY VALUE : KEY=VALUE, quoted for the shell only when the value needs it.
env_line() {
  if [[ $2 =~ ^[-A-Za-z0-9_./:+,@=]*$ ]]; then
    printf '%s=%s\n' "$1" "$2"
  else
    printf '%s=%q\n' "$1" "$2"
  fi
}

{
  env_line CONTROLPLANE_DIR "$dir"
  env_line CONTROLPLANE_BINDIR "$bindir"
  env_line KUBECONFIG "$dir/kubeconfig"
  env_line APISERVER_URL "$apiserver_url"
  env_line APISERVER_PORT "$apiserver_port"
  env_line SA_ISSUER "$issuer"
  env_line APISERVER_PID "$(cat "$dir/kube-apiserver.pid")"
  env_line ETCD_URL "$etcd_url"
  env_line ETCD_PID "$(cat "$dir/etcd.pid")"
  env_line WATCHDOG_PID "$watchdog_pid"
  env_line KUBECTL "$bindir/kubectl"
  env_line HELM "$bindir/helm"
  env_line CA_CERT "$pki/ca.crt"
  env_line ADMIN_CERT "$pki/admin.crt"
  env_line ADMIN_KEY "$pki/admin.key"
  env_line KUBECACHEDIR "$dir/kube-cache"
  env_line HELM_CACHE_HOME "$dir/helm/cache"
  env_line HELM_CONFIG_HOME "$dir/helm/config"
  env_line HELM_DATA_HOME "$dir/helm/data"
} >"$dir/env.tmp"
mv -f "$dir/env.tmp" "$dir/env"
started=true
cp_log "ready: KUBECONFIG=$dir/kubeconfig (source $dir/env)"
