#!/usr/bin/env bash
# Builds (once) and caches what a real single-node cluster needs on top of the control plane of
# scripts/controlplane/install.sh: kubelet, kube-controller-manager, kube-scheduler and kube-proxy from the same
# k8s.io/kubernetes module and version as kube-apiserver, in ONE `go build` (the shared packages compile once), plus
# CoreDNS from its Go module; installs containerd, runc, the CNI plugins, iptables and conntrack from Debian.
#
# Usage: install.sh                 build/install what is missing, print the "using" lines
#        install.sh --print-env     the same, then print KEY=VALUE lines (binary paths) on stdout
#        install.sh --no-build      like --print-env but never build or install: exit 2 if something is missing
#
# Contract:
#   - idempotent; serialises with scripts/controlplane/install.sh on the same cache lock; a binary is moved into
#     $PIPEGUARD_CACHE/bin/<component>-<version>/<component> only after it was built and reports its version.
#   - versions: PIPEGUARD_KUBE_VERSION (scripts/controlplane/lib.sh), PIPEGUARD_COREDNS_VERSION (default v1.12.1,
#     the CoreDNS line built against client-go 0.33).
#   - the Kubernetes build reuses the wrapper module scripts/controlplane/install.sh writes in
#     $PIPEGUARD_CACHE/src/kubernetes-<version> (it is run first when the module is not there) and the same
#     version ldflags, so every binary reports the real version (the kubelet puts it into node status).
#   - CPU: the builds run under `nice -n 10` with `go build -p ${PIPEGUARD_BUILD_JOBS:-1}` (the machine is shared;
#     raise PIPEGUARD_BUILD_JOBS on a machine of your own). Static builds (CGO_ENABLED=0), -trimpath, -s -w.
#   - Debian packages (apt-get, needs root): containerd runc containernetworking-plugins iptables conntrack, and for
#     the pause and task images (pause-image.sh, task-image.sh) umoci gcc binutils skopeo.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
# shellcheck source=../controlplane/lib.sh
. "$repo/scripts/controlplane/lib.sh"

: "${PIPEGUARD_COREDNS_VERSION:=v1.12.1}"

mode=install
case "${1:-}" in
  "") ;;
  --print-env) mode=print ;;
  --no-build) mode=nobuild ;;
  -h | --help)
    sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'
    exit 0
    ;;
  *) cp_die "unknown argument '$1' (try --help)" ;;
esac

log() { printf 'node: %s\n' "$*" >&2; }

kube_ver=$PIPEGUARD_KUBE_VERSION
coredns_ver=$PIPEGUARD_COREDNS_VERSION
[[ $kube_ver =~ ^v1\.([0-9]+)\.([0-9]+)$ ]] || cp_die "PIPEGUARD_KUBE_VERSION must look like v1.33.13, got '$kube_ver'"
kube_minor=${BASH_REMATCH[1]}
[[ $coredns_ver =~ ^v1\.[0-9]+\.[0-9]+$ ]] || cp_die "PIPEGUARD_COREDNS_VERSION must look like v1.12.1"
cache=$PIPEGUARD_CACHE
node_components=(kubelet kube-controller-manager kube-scheduler kube-proxy)
declare -A target=()
for c in "${node_components[@]}"; do target[$c]=$cache/bin/$c-$kube_ver/$c; done
target[coredns]=$cache/bin/coredns-$coredns_ver/coredns

missing() { # missing NAME... : the names whose binary is not there yet
  local b
  for b in "$@"; do [[ -x ${target[$b]} ]] || printf '%s\n' "$b"; done
}

# --- Debian packages -------------------------------------------------------------------------------------------------
declare -A deb_of=([containerd]=containerd [runc]=runc [/usr/lib/cni/bridge]=containernetworking-plugins
  [iptables]=iptables [conntrack]=conntrack [nsenter]=util-linux [ip]=iproute2 [umoci]=umoci [gcc]=gcc
  [strip]=binutils [skopeo]=skopeo)
missing_debs=()
for cmd in "${!deb_of[@]}"; do
  if [[ $cmd == /* ]]; then [[ -x $cmd ]] || missing_debs+=("${deb_of[$cmd]}"); else
    command -v "$cmd" >/dev/null || missing_debs+=("${deb_of[$cmd]}"); fi
done
if ((${#missing_debs[@]})); then
  [[ $mode == nobuild ]] && { log "not installed: ${missing_debs[*]} (run scripts/node/install.sh)"; exit 2; }
  [[ $(id -u) == 0 ]] || cp_die "installing ${missing_debs[*]} needs root"
  log "installing Debian packages: ${missing_debs[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq --no-install-recommends "${missing_debs[@]}" >&2 ||
    { apt-get update -qq >&2 && apt-get install -y -qq --no-install-recommends "${missing_debs[@]}" >&2; }
fi

# --- Go builds -------------------------------------------------------------------------------------------------------
go_bin=${GO:-$(command -v go || true)}
[[ -n $go_bin ]] || go_bin=/usr/local/go/bin/go
build_pid=
out=
on_exit() {
  [[ -n $build_pid ]] && kill "$build_pid" 2>/dev/null
  [[ -n $out ]] && rm -rf "$out"
  true
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

setup_go() {
  [[ -x $go_bin ]] || cp_die "no Go toolchain (set GO=/path/to/go or put go on PATH)"
  export CGO_ENABLED=0 GOWORK=off
  export GOFLAGS="-p=${PIPEGUARD_BUILD_JOBS:-1} -buildvcs=false"
  unset GOOS GOARCH
}

build_kubernetes_node() {
  local src=$cache/src/kubernetes-$kube_ver when ldflags pkg c info
  if [[ ! -f $src/go.mod ]]; then
    log "no wrapper module in $src yet: running scripts/controlplane/install.sh first"
    "$repo/scripts/controlplane/install.sh" >&2
  fi
  setup_go
  info=$(cd "$src" && "$go_bin" mod download -json "k8s.io/kubernetes@$kube_ver" | sed -n 's/^[[:space:]]*"Info": "\(.*\)",\{0,1\}$/\1/p')
  when=$(sed -n 's/.*"Time": *"\([^"]*\)".*/\1/p' "$info" | sed 's/\.[0-9]*Z$/Z/')
  # The same version variables as scripts/controlplane/install.sh (hack/lib/version.sh's release values).
  ldflags="-s -w"
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldflags+=" -X $pkg.gitVersion=$kube_ver -X $pkg.gitMajor=1 -X $pkg.gitMinor=$kube_minor"
    ldflags+=" -X $pkg.gitTreeState=archive -X $pkg.gitCommit= -X $pkg.buildDate=$when"
  done
  mkdir -p "$cache/logs"
  out=$(mktemp -d "$cache/src/.build.XXXXXX")
  log "kubernetes $kube_ver: building ${node_components[*]} in one go build (cold: 10-20 min on 2 cores)"
  cp_run_logged log "kubernetes $kube_ver node" "$cache/logs/kubernetes-node-$kube_ver.log" nice -n 10 \
    env -C "$src" "$go_bin" build -mod=mod -trimpath -ldflags "$ldflags" -o "$out/" \
    "${node_components[@]/#/k8s.io/kubernetes/cmd/}"
  for c in "${node_components[@]}"; do
    [[ $("$out/$c" --version 2>&1) == *"Kubernetes $kube_ver"* ]] || cp_die "built $c does not report $kube_ver"
    mkdir -p "$(dirname "${target[$c]}")"
    mv -f "$out/$c" "${target[$c]}"
  done
  rm -rf "$out"
  out=
}

build_coredns() {
  setup_go
  mkdir -p "$cache/logs"
  out=$(mktemp -d "$cache/src/.build.XXXXXX")
  log "coredns $coredns_ver: building"
  # CoreDNS's go.mod has no replace directives, so `go install module@version` works directly.
  cp_run_logged log "coredns $coredns_ver" "$cache/logs/coredns-$coredns_ver.log" nice -n 10 \
    env GOBIN="$out" "$go_bin" install -trimpath \
    -ldflags "-s -w -X github.com/coredns/coredns/coremain.GitCommit=$coredns_ver" \
    "github.com/coredns/coredns@$coredns_ver"
  [[ $("$out/coredns" -version 2>&1) == *"CoreDNS-${coredns_ver#v}"* ]] || cp_die "built coredns is not $coredns_ver"
  mkdir -p "$(dirname "${target[coredns]}")"
  mv -f "$out/coredns" "${target[coredns]}"
  rm -rf "$out"
  out=
}

todo=$(missing "${node_components[@]}" coredns)
if [[ -n $todo ]]; then
  [[ $mode == nobuild ]] && { log "not built yet: $(echo "$todo" | tr '\n' ' ')(run scripts/node/install.sh)"; exit 2; }
  mkdir -p "$cache/src"
  exec 9>"$cache/.install.lock"
  if ! flock -n 9; then
    log "another install is building in $cache; waiting for it"
    flock 9
  fi
  start=$SECONDS
  if [[ -n $(missing "${node_components[@]}") ]]; then build_kubernetes_node; fi
  if [[ -n $(missing coredns) ]]; then build_coredns; fi
  log "build finished in $((SECONDS - start))s"
  flock -u 9
fi

for b in "${node_components[@]}" coredns; do log "using ${target[$b]}"; done
if [[ $mode != install ]]; then
  for b in "${node_components[@]}" coredns; do
    printf '%s=%q\n' "$(tr 'a-z-' 'A-Z_' <<<"$b")" "${target[$b]}"
  done
fi
