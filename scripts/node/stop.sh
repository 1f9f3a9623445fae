#!/usr/bin/env bash
# Stops the node start.sh started in DIR and removes every trace of it from the host.
#
# Usage: stop.sh DIR
#
# Contract (tolerates a node that is half-started, dead or already stopped; exits 0 when nothing of it is left,
# 1 otherwise, after saying what is left):
#   1. stops exactly the processes recorded in DIR/*.pid that are still ours (command line mentions DIR/): kubelet
#      first (so nothing restarts containers), then kube-proxy, coredns, scheduler, controller-manager;
#   2. SIGKILLs the pods' processes, i.e. every process in the node's cgroups (/<netns> in each v1 hierarchy), then
#      the containerd shims of DIR's containerd (their command line names DIR/containerd/containerd.sock), then
#      containerd;
#   3. unmounts everything mounted under DIR (volumes, rootfs overlays, sandbox netns and shm, the kubelet bind);
#   4. stops what a caller started in DIR/podidentity (scripts/podidentity, its configuration deleted through the
#      API server inside the namespace) and DIR/moto (scripts/moto), then the registry and the control plane (their
#      own stop.sh);
#   5. deletes the network namespace (with it the bridge, the veths and all of kube-proxy's iptables rules), removes
#      the node's cgroups and the kubelet's /var/log/containers symlinks into DIR, libcni's cached results of the
#      node's sandboxes, and the host directories start.sh found missing (/var/lib/kubelet, /var/lib/cni,
#      /run/containerd, /var/log/containers) once nothing but empty directories is left in them.
#   Keeps DIR (logs) but removes DIR/env and DIR/netns.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

[[ $# -eq 1 && $1 != -* ]] || node_die "usage: stop.sh DIR"
[[ -d $1 ]] || exit 0
dir=$(cd "$1" && pwd -P)
rm -f "$dir/watchdog.armed" "$dir/env"
rc=0

cp_stop_recorded node_log "$dir" 10 kubelet kube-proxy coredns kube-scheduler kube-controller-manager || rc=1

cgroup_root=$(cat "$dir/cgroup-root" 2>/dev/null || true)
if [[ $cgroup_root == /pgn-* ]]; then
  for ((i = 0; i < 20; i++)); do
    pids=$(cat /sys/fs/cgroup/pids"$cgroup_root"/cgroup.procs 2>/dev/null
      find /sys/fs/cgroup/pids"$cgroup_root" -mindepth 2 -name cgroup.procs -exec cat {} + 2>/dev/null)
    [[ -n $pids ]] || break
    # shellcheck disable=SC2086 # one PID per word
    kill -KILL $pids 2>/dev/null
    sleep 0.5
  done
fi

# The shims of this containerd (they outlive containerd by design).
for p in /proc/[0-9]*; do
  pid=${p#/proc/}
  cmd=$({ tr '\0' ' ' <"$p/cmdline"; } 2>/dev/null) || continue
  [[ $cmd == *containerd-shim*"$dir/containerd/containerd.sock"* ]] && kill -KILL "$pid" 2>/dev/null
done
cp_stop_recorded node_log "$dir" 10 containerd || rc=1

# Every mount under DIR, deepest first (the kubelet's volumes, overlay rootfs, netns and shm of sandboxes).
for ((i = 0; i < 5; i++)); do
  mapfile -t mounts < <(awk -v d="$dir/" 'index($5, d) == 1 || $5 == substr(d, 1, length(d) - 1) { print $5 }' \
    /proc/self/mountinfo | sort -r)
  ((${#mounts[@]})) || break
  for m in "${mounts[@]}"; do umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null; done
done
rm -f "$dir/kubelet.mounted"
if awk -v d="$dir/" 'index($5, d) == 1 { found = 1 } END { exit !found }' /proc/self/mountinfo; then
  node_log "error: mounts left under $dir"
  rc=1
fi

if [[ -d $dir/podidentity ]]; then
  pi_netns=$(cat "$dir/netns" 2>/dev/null || true)
  if [[ $pi_netns == pgn-* && -e /run/netns/$pi_netns ]]; then
    node_exec "$dir" "$repo/scripts/podidentity/stop.sh" "$dir/podidentity" >&2 || rc=1
  else
    "$repo/scripts/podidentity/stop.sh" "$dir/podidentity" >&2 || rc=1
  fi
fi
if [[ -d $dir/moto ]]; then "$repo/scripts/moto/stop.sh" "$dir/moto" >&2 || rc=1; fi
if [[ -f $dir/registry/registry.pid || -f $dir/registry/env ]]; then "$repo/scripts/registry/stop.sh" "$dir/registry" >&2 || rc=1; fi
if [[ -d $dir/cp ]]; then "$repo/scripts/controlplane/stop.sh" "$dir/cp" >&2 || rc=1; fi

netns=$(cat "$dir/netns" 2>/dev/null || true)
if [[ $netns == pgn-* && -e /run/netns/$netns ]]; then
  ip netns delete "$netns" || rc=1
fi
[[ -e /run/netns/$netns ]] || rm -f "$dir/netns"

if [[ $cgroup_root == /pgn-* ]]; then
  for ctl in /sys/fs/cgroup/*/; do
    [[ -d $ctl${cgroup_root#/} ]] || continue
    find "$ctl${cgroup_root#/}" -depth -type d -exec rmdir {} + 2>/dev/null
    [[ -d $ctl${cgroup_root#/} ]] && { node_log "error: cgroup $ctl${cgroup_root#/} is still in use"; rc=1; }
  done
fi
for l in /var/log/containers/*; do
  [[ -L $l && $(readlink "$l") == "$dir/"* ]] && rm -f "$l"
done
# libcni's cached results of this node's sandboxes (left behind when pods are killed rather than deleted).
for sb in "$dir"/containerd/root/io.containerd.grpc.v1.cri/sandboxes/*/; do
  id=$(basename "$sb")
  [[ $id =~ ^[0-9a-f]{64}$ ]] && rm -f /var/lib/cni/results/*-"$id"-*
done
# Host paths start.sh found missing: remove them when only empty directories (and the kubelet's device-plugin
# socket, which is this node's: its kubelet is stopped) are left.
if [[ -f $dir/host-paths-created ]]; then
  while read -r p; do
    case $p in
      /var/lib/kubelet) rm -f /var/lib/kubelet/device-plugins/kubelet.sock ;;
      /var/lib/cni | /run/containerd | /var/log/containers) ;;
      *) continue ;;
    esac
    [[ -d $p ]] && find "$p" -depth -type d -empty -delete 2>/dev/null
    [[ -e $p ]] && node_log "note: $p is not empty, left in place"
  done <"$dir/host-paths-created"
  rm -f "$dir/host-paths-created"
fi
cp_stop_recorded node_log "$dir" 5 watchdog || true
left=$(cp_procs_in "$dir")
if [[ -n $left ]]; then
  node_log "error: processes still running in $dir: $(echo "$left" | tr '\n' ' ')"
  rc=1
fi
exit "$rc"
