# shellcheck shell=bash
# Shared settings and helpers of scripts/node/*.sh (a real single-node cluster inside a network namespace).
#
# Contract: safe to source (functions and default variables only). The addresses below exist only inside the network
# namespace start.sh creates: nothing is added to the host's interfaces, routes or iptables, and the namespace has no
# link to the host, so no packet to these addresses (or to any other) can leave the machine.

# shellcheck source=../controlplane/lib.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")/../controlplane" && pwd)/lib.sh"

# shellcheck disable=SC2034 # used by the scripts that source this file
PIPEGUARD_NODE_SCRIPTS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
: "${PIPEGUARD_PAUSE_VERSION:=3.10}" # kubeadm's pause version for Kubernetes 1.33

# shellcheck disable=SC2034 # used by the scripts that source this file
{
NODE_NAME=pgnode
NODE_IP=10.213.0.1        # on the namespace's lo: apiserver advertise address, kubelet, DNS
POD_CIDR=10.214.0.0/24    # the CNI bridge's subnet (host-local IPAM), gateway 10.214.0.1
SERVICE_CIDR=10.0.0.0/24  # scripts/controlplane/start.sh's range; its serving cert names 10.0.0.1
KUBERNETES_SERVICE_IP=10.0.0.1
BRIDGE=pgbr0
}

node_log() { printf 'node: %s\n' "$*" >&2; }
node_die() {
  node_log "error: $*"
  exit 1
}

# node_exec DIR CMD... : run CMD inside DIR's network namespace (only the network namespace: mounts stay shared with
# the host, which the kubelet and containerd need to see each other's volume mounts).
node_exec() {
  local dir=$1
  shift
  nsenter --net="/run/netns/$(cat "$dir/netns")" "$@"
}
