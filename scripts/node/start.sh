#!/usr/bin/env bash
# Starts a real single-node Kubernetes cluster with all state in DIR, inside a network namespace of its own:
# etcd + kube-apiserver (scripts/controlplane/start.sh), kube-controller-manager, kube-scheduler, a TLS registry
# (scripts/registry/start.sh) holding the pause image, containerd + runc + the bridge CNI plugin from Debian, the
# kubelet, kube-proxy (iptables mode) and, when built, CoreDNS. Pods really run.
#
# Usage: start.sh DIR        (stop with stop.sh DIR, which also removes the namespace, mounts and cgroups)
#
# Contract:
#   - needs root; binaries from scripts/controlplane/install.sh and scripts/node/install.sh (built on first use).
#     One node per machine at a time (the kubelet's device-plugin socket path is fixed): refuses to start while
#     another pgn-* network namespace exists.
#   - network: a new namespace "pgn-<random>" (name in DIR/netns) holding lo (with NODE_IP) and the
#     CNI bridge with the pod subnet (lib.sh). It has no link to the host, so nothing the cluster does can reach
#     another machine, nor the host's own services; the host's interfaces, routes and iptables are not touched.
#     kube-proxy's rules, ip_forward and the bridge sysctls live in that namespace only. Every process of the
#     cluster runs in it (nsenter --net only, so mounts stay shared between kubelet, containerd and runc).
#     kube-apiserver listens on all addresses of the namespace, advertises NODE_IP, reconciles the kubernetes
#     Service's endpoints (lease) and runs with --enable-aggregator-routing=true: webhooks and aggregated APIs
#     behind a Service are dialled at their endpoints (pod IPs on the bridge), never at a ClusterIP.
#   - host state it changes, all undone by stop.sh: a bind mount of DIR/kubelet onto itself (made rshared so the
#     kubelet's volume mounts reach containerd), cgroups under /<netns name> in each cgroup v1 hierarchy, symlinks in
#     /var/log/containers that the kubelet makes. The kubelet runs in a private mount namespace in which six
#     /proc/sys files (vm.overcommit_memory, vm.panic_on_oom, kernel.panic, kernel.panic_on_oops,
#     kernel.keys.root_max{keys,bytes}) are bind-mounted from DIR/sysctl with the values it wants, and
#     protectKernelDefaults is on: the kubelet never writes the host's kernel settings.
#   - images: only from the registry in DIR/registry (NODE_IP:PORT inside the namespace, TLS with its test CA,
#     reachable from the pods too, e.g. for image verification); the pause image comes from pause-image.sh.
#   - DIR/env (written last) holds KUBECONFIG KUBECTL HELM NETNS REGISTRY_HOST REGISTRY_DIR NODE_DIR and the rest of
#     the control plane's env; every kubectl/helm call must run inside the namespace: node_exec DIR CMD (lib.sh) or
#     `nsenter --net=/run/netns/$NETNS CMD`.
#   - exits 0 once the node is Ready, kube-proxy has programmed the kubernetes Service and the default
#     ServiceAccount exists; otherwise prints the failing component's log tail, stops everything and exits 1.
#     PIPEGUARD_NODE_TIMEOUT (seconds, default 180) bounds each wait.
#   - PIPEGUARD_NODE_OWNER_PID=PID: watchdogs stop the cluster when PID exits.
#   - PIPEGUARD_CONTROLPLANE_SA_ISSUER (inherited by scripts/controlplane/start.sh): the ServiceAccount token issuer,
#     e.g. the OIDC provider URL of IRSA trust policies (scripts/test-node.sh); default the in-cluster name.
#   - processes a caller starts in DIR/podidentity (scripts/podidentity/start.sh) and DIR/moto (scripts/moto/start.sh)
#     are stopped by stop.sh too.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

[[ $# -eq 1 && $1 != -* ]] || node_die "usage: start.sh DIR"
[[ $(id -u) == 0 ]] || node_die "needs root (network namespace, containerd, kubelet)"
umask 022
mkdir -p "$1"
dir=$(cd "$1" && pwd -P)
((${#dir} <= 60)) || node_die "DIR path too long for unix sockets (keep it under 60 characters): $dir"
[[ ! -f $dir/netns ]] || node_die "$dir already holds a node (netns $(cat "$dir/netns")); stop.sh it first"
timeout=${PIPEGUARD_NODE_TIMEOUT:-180}
# One node per machine: the kubelet's device-plugin socket (/var/lib/kubelet/device-plugins/kubelet.sock) is fixed.
other=$(ip netns list 2>/dev/null | awk '$1 ~ /^pgn-/ { print $1 }' | head -n 1)
[[ -z $other ]] || node_die "another node runs on this machine (network namespace $other); stop it first (stop.sh DIR)"

started=false
on_exit() {
  local rc=$?
  if [[ $started != true ]]; then
    "$here/stop.sh" "$dir" >&2 || true
  fi
  exit "$rc"
}
trap on_exit EXIT

# Host paths the kubelet and containerd use whatever their configuration says (the kubelet's device-plugin socket,
# libcni's result cache, runc's and the shims' state, the kubelet's log links): those that do not exist yet are
# recorded, and stop.sh removes them again once they hold nothing but this node's files.
for p in /var/lib/kubelet /var/lib/cni /run/containerd /var/log/containers; do
  [[ -e $p ]] || printf '%s\n' "$p" >>"$dir/host-paths-created"
done

stage_start=$SECONDS
stage() { node_log "start: $1 ($((SECONDS - stage_start))s)"; }

eval "$("$here/install.sh" --print-env)" # KUBELET KUBE_CONTROLLER_MANAGER KUBE_SCHEDULER KUBE_PROXY COREDNS
pause_layout=$("$here/pause-image.sh")

# --- network namespace ---------------------------------------------------------------------------------------------
netns=pgn-$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
ip netns add "$netns"
printf '%s\n' "$netns" >"$dir/netns"
cgroup_root=/$netns
printf '%s\n' "$cgroup_root" >"$dir/cgroup-root"
in_ns() { nsenter --net="/run/netns/$netns" "$@"; }
in_ns ip link set lo up
# The node's address lives on the namespace's lo (this kernel has no dummy interfaces): pods reach it through the
# bridge's gateway as a local address. ClusterIPs are routed to lo too, so connections the namespace itself opens to
# a Service are DNATed by kube-proxy's OUTPUT rules. There is no default route: any other destination is unreachable.
in_ns ip addr add "$NODE_IP/32" dev lo
in_ns ip route add "$SERVICE_CIDR" dev lo
in_ns sysctl -qw net.ipv4.ip_forward=1
if [[ -e /proc/sys/net/bridge/bridge-nf-call-iptables ]]; then
  in_ns sysctl -qw net.bridge.bridge-nf-call-iptables=1 || true
fi
stage "network namespace $netns"

# --- control plane: etcd + kube-apiserver in the namespace -----------------------------------------------------------
cp_dir=$dir/cp
mkdir -p "$cp_dir"
issue_cert() { # issue_cert NAME SUBJECT EKU CA [SANS] : DIR/pki/NAME.{crt,key} signed by cp_dir/pki/CA
  local name=$1 subj=$2 eku=$3 ca=$4 sans=${5:-}
  openssl req -new -newkey rsa:2048 -nodes -subj "$subj" -keyout "$pki/$name.key" -out "$pki/$name.csr" 2>/dev/null
  {
    echo "basicConstraints = critical, CA:FALSE"
    echo "keyUsage = critical, digitalSignature, keyEncipherment"
    echo "extendedKeyUsage = $eku"
    [[ -z $sans ]] || echo "subjectAltName = $sans"
  } >"$pki/$name.ext"
  openssl x509 -req -in "$pki/$name.csr" -CA "$cp_dir/pki/$ca.crt" -CAkey "$cp_dir/pki/$ca.key" \
    -set_serial "0x$(openssl rand -hex 16)" -days 30 -sha256 -extfile "$pki/$name.ext" -out "$pki/$name.crt" 2>/dev/null
  rm -f "$pki/$name.csr" "$pki/$name.ext"
}
pki=$dir/pki
mkdir -p "$pki"
chmod 700 "$pki"

# The apiserver calls the kubelet API (logs, exec) with the control plane's admin client certificate (group
# system:masters, made by start.sh before the apiserver starts); the kubelet checks it against the client CA and
# authorizes it with a SubjectAccessReview.
apiserver_args="--bind-address=0.0.0.0 --advertise-address=$NODE_IP --endpoint-reconciler-type=lease"
apiserver_args+=" --enable-aggregator-routing=true --kubelet-certificate-authority=$cp_dir/pki/ca.crt"
apiserver_args+=" --kubelet-client-certificate=$cp_dir/pki/admin.crt --kubelet-client-key=$cp_dir/pki/admin.key"
apiserver_args+=" --kubelet-preferred-address-types=InternalIP"
PIPEGUARD_APISERVER_DISABLE_ADMISSION="" PIPEGUARD_APISERVER_EXTRA_ARGS="$apiserver_args" \
  PIPEGUARD_CONTROLPLANE_OWNER_PID=${PIPEGUARD_NODE_OWNER_PID:-} \
  in_ns "$repo/scripts/controlplane/start.sh" "$cp_dir" >"$dir/controlplane-start.log" 2>&1 ||
  { tail -n 30 "$dir/controlplane-start.log" >&2; node_die "the control plane did not start"; }
set -a
# shellcheck disable=SC1091
. "$cp_dir/env"
set +a
stage "etcd + kube-apiserver at $APISERVER_URL"

issue_cert kubelet-client "/O=system:nodes/CN=system:node:$NODE_NAME" clientAuth client-ca
issue_cert kubelet-serving "/CN=$NODE_NAME" serverAuth ca "IP:$NODE_IP, DNS:$NODE_NAME"
issue_cert kube-proxy "/CN=system:kube-proxy" clientAuth client-ca
issue_cert kube-controller-manager "/CN=system:kube-controller-manager" clientAuth client-ca
issue_cert kube-scheduler "/CN=system:kube-scheduler" clientAuth client-ca
issue_cert coredns "/CN=pipeguard:coredns" clientAuth client-ca

kubeconfig() { # kubeconfig NAME : DIR/NAME.kubeconfig with the client cert DIR/pki/NAME
  cat >"$dir/$1.kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: node
  cluster: {server: "$APISERVER_URL", certificate-authority: "$CA_CERT"}
users:
- name: $1
  user: {client-certificate: "$pki/$1.crt", client-key: "$pki/$1.key"}
contexts:
- name: node
  context: {cluster: node, user: $1}
current-context: node
EOF
}
for c in kubelet-client kube-proxy kube-controller-manager kube-scheduler coredns; do kubeconfig "$c"; done

k() { in_ns "$KUBECTL" --kubeconfig "$KUBECONFIG" --request-timeout=30s "$@"; }
# RBAC for the identities above: the node's (the Node authorizer is not enabled: start.sh runs RBAC only), and read
# access for CoreDNS. The controller-manager, scheduler and proxy use their built-in bindings.
k apply -f - >/dev/null <<EOF
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: "pipeguard-node:system:node"}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: "system:node"}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: User, name: "system:node:$NODE_NAME"}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: "pipeguard-node:coredns"}
rules:
- {apiGroups: [""], resources: [endpoints, services, pods, namespaces], verbs: [list, watch]}
- {apiGroups: [discovery.k8s.io], resources: [endpointslices], verbs: [list, watch]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: "pipeguard-node:coredns"}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: "pipeguard-node:coredns"}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: User, name: "pipeguard:coredns"}]
EOF

# launch NAME CMD... : CMD in the namespace, in its own session; PID in DIR/NAME.pid, output in DIR/NAME.log.
launch() {
  local name=$1
  shift
  setsid nsenter --net="/run/netns/$netns" "$@" </dev/null >"$dir/$name.log" 2>&1 &
  echo "$!" >"$dir/$name.pid"
}
# wait_for NAME WHAT CHECK... : poll CHECK until it succeeds; fail with NAME's log when NAME dies or on timeout.
wait_for() {
  local name=$1 what=$2 deadline=$((SECONDS + timeout)) pid
  shift 2
  pid=$(cat "$dir/$name.pid")
  while ! "$@" >/dev/null 2>&1; do
    if ! cp_pid_alive "$pid" || ((SECONDS >= deadline)); then
      node_log "error: $name: $what not reached (log $dir/$name.log):"
      tail -n 40 "$dir/$name.log" >&2
      exit 1
    fi
    sleep 0.5
  done
}

launch kube-controller-manager "$KUBE_CONTROLLER_MANAGER" \
  --kubeconfig="$dir/kube-controller-manager.kubeconfig" \
  --authentication-kubeconfig="$dir/kube-controller-manager.kubeconfig" \
  --authorization-kubeconfig="$dir/kube-controller-manager.kubeconfig" \
  --bind-address=127.0.0.1 --secure-port=10257 --cert-dir="$dir/kcm-certs" \
  --service-account-private-key-file="$cp_dir/pki/sa.key" --root-ca-file="$CA_CERT" \
  --cluster-signing-cert-file="$cp_dir/pki/client-ca.crt" --cluster-signing-key-file="$cp_dir/pki/client-ca.key" \
  --use-service-account-credentials=true --controllers='*' --leader-elect=false \
  --service-cluster-ip-range="$SERVICE_CIDR" --allocate-node-cidrs=false --profiling=false
cat >"$dir/kube-scheduler.yaml" <<EOF
apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
clientConnection: {kubeconfig: "$dir/kube-scheduler.kubeconfig"}
leaderElection: {leaderElect: false}
EOF
launch kube-scheduler "$KUBE_SCHEDULER" --config="$dir/kube-scheduler.yaml" \
  --authentication-kubeconfig="$dir/kube-scheduler.kubeconfig" \
  --authorization-kubeconfig="$dir/kube-scheduler.kubeconfig" \
  --bind-address=127.0.0.1 --secure-port=10259 --cert-dir="$dir/scheduler-certs"
stage "controller-manager, scheduler started"

# --- registry with the pause image ---------------------------------------------------------------------------------
reg_dir=$dir/registry
mkdir -p "$reg_dir"
PIPEGUARD_REGISTRY_ADDRESS=$NODE_IP PIPEGUARD_REGISTRY_OWNER_PID=${PIPEGUARD_NODE_OWNER_PID:-} \
  in_ns "$repo/scripts/registry/start.sh" "$reg_dir" --tls \
  >"$dir/registry-start.log" 2>&1 || { tail -n 20 "$dir/registry-start.log" >&2; node_die "the registry did not start"; }
REGISTRY_HOST=$(sed -n 's/^REGISTRY_HOST=//p' "$reg_dir/env")
mkdir -p "$dir/certs.d/$REGISTRY_HOST" "$dir/skopeo-certs"
cp "$reg_dir/pki/ca.crt" "$dir/skopeo-certs/ca.crt"
pause_image=$REGISTRY_HOST/pause:$PIPEGUARD_PAUSE_VERSION
in_ns skopeo copy --quiet --dest-cert-dir "$dir/skopeo-certs" "oci:$pause_layout:$PIPEGUARD_PAUSE_VERSION" \
  "docker://$pause_image" >&2
stage "registry $REGISTRY_HOST with $pause_image"

# --- containerd ----------------------------------------------------------------------------------------------------
mkdir -p "$dir/containerd" "$dir/cni/net.d" "$dir/cni/ipam" "$dir/pod-logs"
cat >"$dir/certs.d/$REGISTRY_HOST/hosts.toml" <<EOF
server = "https://$REGISTRY_HOST"
[host."https://$REGISTRY_HOST"]
  capabilities = ["pull", "resolve"]
  ca = "$reg_dir/pki/ca.crt"
EOF
cat >"$dir/containerd/config.toml" <<EOF
version = 2
root = "$dir/containerd/root"
state = "$dir/containerd/state"
disabled_plugins = ["io.containerd.internal.v1.opt", "io.containerd.snapshotter.v1.aufs",
  "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs"]
[grpc]
  address = "$dir/containerd/containerd.sock"
[ttrpc]
  address = "$dir/containerd/containerd.sock.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$pause_image"
  netns_mounts_under_state_dir = true
  enable_selinux = false
  # This VM's root lacks CAP_SYS_RESOURCE, so no process may lower its oom_score_adj (the kubelet asks -998 for
  # sandboxes, runc's write fails with EACCES): clamp to containerd's own value instead, as kind does in user
  # namespaces.
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$dir/cni/net.d"
    max_conf_num = 1
  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = "$dir/certs.d"
EOF
cat >"$dir/cni/net.d/10-pipeguard.conflist" <<EOF
{
  "cniVersion": "0.4.0",
  "name": "pipeguard-node",
  "plugins": [
    {
      "type": "bridge", "bridge": "$BRIDGE", "isGateway": true, "ipMasq": false, "hairpinMode": true,
      "ipam": {
        "type": "host-local", "dataDir": "$dir/cni/ipam",
        "ranges": [[{"subnet": "$POD_CIDR"}]], "routes": [{"dst": "0.0.0.0/0"}]
      }
    },
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
EOF
launch containerd containerd --config "$dir/containerd/config.toml"
wait_for containerd "CRI socket" in_ns ctr --address "$dir/containerd/containerd.sock" version
stage "containerd"

# --- kubelet -------------------------------------------------------------------------------------------------------
mkdir -p "$dir/kubelet" "$dir/sysctl"
mount --bind "$dir/kubelet" "$dir/kubelet"
mount --make-rshared "$dir/kubelet"
: >"$dir/kubelet.mounted"
# The kernel settings the kubelet insists on (pkg/kubelet/cm setupKernelTunables), shown to it only.
declare -A tunables=([vm/overcommit_memory]=1 [vm/panic_on_oom]=0 [kernel/panic]=10 [kernel/panic_on_oops]=1
  [kernel/keys/root_maxkeys]=1000000 [kernel/keys/root_maxbytes]=25000000)
binds=
for t in "${!tunables[@]}"; do
  printf '%s\n' "${tunables[$t]}" >"$dir/sysctl/${t//\//.}"
  binds+="mount --bind '$dir/sysctl/${t//\//.}' /proc/sys/$t && "
done
for ctl in /sys/fs/cgroup/*/; do
  [[ -f $ctl/cgroup.procs && $(stat -f -c %T "$ctl") == cgroupfs ]] || continue
  mkdir -p "$ctl${cgroup_root#/}"
  # A new cpuset cgroup starts with no CPUs and no memory nodes: give it the parent's.
  for f in cpuset.cpus cpuset.mems; do [[ -f $ctl$f ]] && cat "$ctl$f" >"$ctl${cgroup_root#/}/$f"; done
done
printf 'nameserver %s\nsearch cluster.local\n' "$NODE_IP" >"$dir/resolv.conf"
cat >"$dir/kubelet.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $NODE_IP
port: 10250
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: 10248
cgroupDriver: cgroupfs
cgroupRoot: $cgroup_root
failCgroupV1: false
failSwapOn: false
protectKernelDefaults: true
containerRuntimeEndpoint: unix://$dir/containerd/containerd.sock
podLogsDir: $dir/pod-logs
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: "$cp_dir/pki/client-ca.crt"}
authorization: {mode: Webhook}
tlsCertFile: $pki/kubelet-serving.crt
tlsPrivateKeyFile: $pki/kubelet-serving.key
clusterDNS: [$NODE_IP]
clusterDomain: cluster.local
resolvConf: $dir/resolv.conf
evictionHard: {memory.available: "100Mi", nodefs.available: "0%", nodefs.inodesFree: "0%", imagefs.available: "0%"}
imageGCHighThresholdPercent: 100
serializeImagePulls: false
maxPods: 60
EOF
# shellcheck disable=SC2016 # expanded by the inner shell
launch kubelet unshare --mount --propagation unchanged bash -c "${binds}"'exec "$@"' kubelet "$KUBELET" \
  --config="$dir/kubelet.yaml" --kubeconfig="$dir/kubelet-client.kubeconfig" --root-dir="$dir/kubelet" \
  --hostname-override="$NODE_NAME" --node-ip="$NODE_IP" --v=1
node_ready() {
  [[ $(k get node "$NODE_NAME" -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}') == True ]]
}
wait_for kubelet "node $NODE_NAME Ready" node_ready
stage "kubelet: node $NODE_NAME Ready"

# --- kube-proxy ----------------------------------------------------------------------------------------------------
cat >"$dir/kube-proxy.yaml" <<EOF
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: {kubeconfig: "$dir/kube-proxy.kubeconfig"}
mode: iptables
clusterCIDR: $POD_CIDR
hostnameOverride: $NODE_NAME
bindAddress: $NODE_IP
healthzBindAddress: 127.0.0.1:10256
metricsBindAddress: 127.0.0.1:10249
conntrack: {maxPerCore: 0, min: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s}
iptables: {minSyncPeriod: 1s, localhostNodePorts: false}
EOF
launch kube-proxy "$KUBE_PROXY" --config="$dir/kube-proxy.yaml"
service_programmed() { in_ns iptables -t nat -S KUBE-SERVICES | grep -q -- "-d $KUBERNETES_SERVICE_IP/32"; }
wait_for kube-proxy "iptables rules for the kubernetes Service ($KUBERNETES_SERVICE_IP)" service_programmed
stage "kube-proxy: kubernetes Service programmed"

# --- CoreDNS (host process in the namespace, on NODE_IP:53) --------------------------------------------------------
if [[ -n ${COREDNS:-} && -x ${COREDNS:-} ]]; then
  cat >"$dir/Corefile" <<EOF
.:53 {
    bind $NODE_IP
    errors
    health 127.0.0.1:18080
    ready 127.0.0.1:18181
    kubernetes cluster.local in-addr.arpa ip6.arpa {
        kubeconfig $dir/coredns.kubeconfig node
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
        ttl 30
    }
    cache 30
}
EOF
  launch coredns "$COREDNS" -conf "$dir/Corefile"
  wait_for coredns "ready" in_ns curl -fsS --max-time 2 --noproxy "*" http://127.0.0.1:18181/ready
  stage "coredns on $NODE_IP:53"
fi

default_sa() { k -n default get serviceaccount default; }
wait_for kube-controller-manager "the default ServiceAccount" default_sa

# --- watchdog and env ----------------------------------------------------------------------------------------------
if [[ -n ${PIPEGUARD_NODE_OWNER_PID:-} ]]; then
  : >"$dir/watchdog.armed"
  # shellcheck disable=SC2016 # expanded by the watchdog's shell
  setsid bash -c 'while kill -0 "$1" 2>/dev/null && [[ -f "$2" ]]; do sleep 1; done
    [[ -f "$2" ]] && exec "$3" "${2%/watchdog.armed}"' pipeguard-node-watchdog "$PIPEGUARD_NODE_OWNER_PID" \
    "$dir/watchdog.armed" "$here/stop.sh" </dev/null >"$dir/watchdog.log" 2>&1 &
  echo "$!" >"$dir/watchdog.pid"
fi
{
  cat "$cp_dir/env"
  printf '%s=%q\n' NODE_DIR "$dir" NETNS "$netns" NODE_NAME "$NODE_NAME" NODE_IP "$NODE_IP" \
    REGISTRY_HOST "$REGISTRY_HOST" REGISTRY_DIR "$reg_dir" REGISTRY_CA "$reg_dir/pki/ca.crt" \
    SKOPEO_CERT_DIR "$dir/skopeo-certs" CONTAINERD_ADDRESS "$dir/containerd/containerd.sock"
} >"$dir/env.tmp"
mv -f "$dir/env.tmp" "$dir/env"
started=true
node_log "ready: source $dir/env; run kubectl inside the namespace: nsenter --net=/run/netns/$netns \$KUBECTL ..."
