#!/usr/bin/env bash
# Builds (once) and caches the binaries of a local Kubernetes control plane for integration and e2e tests:
# kube-apiserver and kubectl (k8s.io/kubernetes), etcd 3.5 (go.etcd.io/etcd/server/v3) and helm v3, all built
# from the Go module proxy with the local Go toolchain; nothing is written into the repository.
#
# Usage: install.sh                 build what is missing, print progress and the "using" lines
#        install.sh --print-bindir  the same, then print only the bin dir on stdout (progress goes to stderr)
#        install.sh --no-build      like --print-bindir but never build: exit 2 if a binary is missing
#
# Contract:
#   - idempotent; concurrent runs serialise on a lock in the cache; a binary is moved into place only once it
#     has been built and runs, so an interrupted build leaves nothing half-made behind.
#   - binaries: $PIPEGUARD_CACHE/bin/<component>-<version>/<component> (PIPEGUARD_CACHE defaults to
#     ~/.cache/pipeguard); versions are PIPEGUARD_{KUBE,ETCD,HELM}_VERSION (defaults in lib.sh).
#   - if $KUBEBUILDER_ASSETS holds kube-apiserver and etcd they are used (and its kubectl, if any).
#   - the bin dir ($PIPEGUARD_CACHE/bin/controlplane-.../) holds symlinks named kube-apiserver, etcd, kubectl
#     and helm: usable as KUBEBUILDER_ASSETS or on PATH.
#   - one line "controlplane: using <path>" per binary on stderr.
#   - build knobs: GO (go binary, default `go` on PATH or /usr/local/go/bin/go), PIPEGUARD_BUILD_JOBS
#     (go build -p, default nproc). Builds are static (CGO_ENABLED=0), -trimpath, -ldflags "-s -w" plus the
#     version variables, so `kubectl version` and `helm version` report the real versions.
#   - needs: bash, a Go toolchain new enough for the chosen releases (go >= 1.24 for the defaults; GOTOOLCHAIN
#     may fetch one), network access to the Go module proxy on the first run only.
set -euo pipefail

# shellcheck source=lib.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"

mode=install
case "${1:-}" in
  "") ;;
  --print-bindir) mode=print ;;
  --no-build) mode=nobuild ;;
  -h | --help)
    sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'
    exit 0
    ;;
  *) cp_die "unknown argument '$1' (try --help)" ;;
esac

kube_ver=$PIPEGUARD_KUBE_VERSION
etcd_ver=$PIPEGUARD_ETCD_VERSION
helm_ver=$PIPEGUARD_HELM_VERSION
[[ $kube_ver =~ ^v1\.([0-9]+)\.([0-9]+)$ ]] || cp_die "PIPEGUARD_KUBE_VERSION must look like v1.33.13, got '$kube_ver'"
kube_minor=${BASH_REMATCH[1]}
staging_ver="v0.${BASH_REMATCH[1]}.${BASH_REMATCH[2]}" # the staging modules are published as v0.<minor>.<patch>
[[ $etcd_ver =~ ^v3\.[0-9]+\.[0-9]+$ ]] || cp_die "PIPEGUARD_ETCD_VERSION must look like v3.5.35, got '$etcd_ver'"
[[ $helm_ver =~ ^v3\.[0-9]+\.[0-9]+$ ]] || cp_die "PIPEGUARD_HELM_VERSION must look like v3.18.6, got '$helm_ver'"

cache=$PIPEGUARD_CACHE
declare -A target=(
  [kube-apiserver]="$cache/bin/kube-apiserver-$kube_ver/kube-apiserver"
  [kubectl]="$cache/bin/kubectl-$kube_ver/kubectl"
  [etcd]="$cache/bin/etcd-$etcd_ver/etcd"
  [helm]="$cache/bin/helm-$helm_ver/helm"
)
declare -A source_of=() # where each binary comes from, when not from our cache

if [[ -n ${KUBEBUILDER_ASSETS:-} && -x $KUBEBUILDER_ASSETS/kube-apiserver && -x $KUBEBUILDER_ASSETS/etcd ]]; then
  for b in kube-apiserver etcd kubectl; do
    if [[ -x $KUBEBUILDER_ASSETS/$b ]]; then
      target[$b]=$KUBEBUILDER_ASSETS/$b
      source_of[$b]=KUBEBUILDER_ASSETS
    fi
  done
fi

missing() { # missing NAME... : print the names whose binary is not there yet
  local b
  for b in "$@"; do [[ -x ${target[$b]} ]] || printf '%s\n' "$b"; done
}

# ---------------------------------------------------------------------------------------------------------------
# Build machinery

go_bin=
build_pid= # the running build job, if any
out=       # the temp dir it builds into
on_exit() { # an interrupted install stops its build and removes the half-made output
  [[ -n $build_pid ]] && kill "$build_pid" 2>/dev/null
  [[ -n $out ]] && rm -rf "$out"
  true
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

setup_go() {
  [[ -n $go_bin ]] && return 0
  go_bin=${GO:-$(command -v go || true)}
  [[ -n $go_bin ]] || go_bin=/usr/local/go/bin/go
  [[ -x $go_bin ]] || cp_die "no Go toolchain (set GO=/path/to/go or put go on PATH)"
  export CGO_ENABLED=0
  # -p limits parallel compiles (2 cores here); -buildvcs=false since we build from module zips, not a checkout.
  export GOFLAGS="-p=${PIPEGUARD_BUILD_JOBS:-$(nproc 2>/dev/null || echo 2)} -buildvcs=false"
  unset GOOS GOARCH GOWORK # a host build, never a workspace
  export GOWORK=off
  cp_log "go: $("$go_bin" version) ($GOFLAGS)"
}

# exec_in_dir DIR CMD... : replace the current (sub)shell by CMD running in DIR; only for cp_run_logged's
# background job, so that killing the job's PID kills the build itself.
exec_in_dir() { cd "$1" && shift && exec "$@"; }

# mod_info MODULE VERSION FIELD : a field ("GoMod", "Dir", ...) of `go mod download -json` (downloads the module).
mod_info() {
  "$go_bin" mod download -json "$1@$2" | sed -n "s/^[[:space:]]*\"$3\": \"\(.*\)\",\{0,1\}$/\1/p"
}

# mod_time MODULE VERSION : the release time of MODULE@VERSION from the proxy's .info, as 2006-01-02T15:04:05Z.
mod_time() {
  local info
  info=$(mod_info "$1" "$2" Info)
  sed -n 's/.*"Time": *"\([^"]*\)".*/\1/p' "$info" | sed 's/\.[0-9]*Z$/Z/'
}

# install_binary SRC DEST : move a freshly built binary into its cache dir.
install_binary() {
  mkdir -p "$(dirname "$2")"
  mv -f "$1" "$2"
}

# wrapper_go_header FILE.mod : the go and godebug directives of a go.mod, so the wrapper module builds with the
# same language version and GODEBUG defaults as the upstream main module.
wrapper_go_header() {
  awk '
    /^go [0-9]/ || /^toolchain / { print; next }
    /^godebug \(/ { inblock = 1 }
    inblock { print; if ($0 ~ /^\)/) inblock = 0; next }
    /^godebug / { print }
  ' "$1"
}

build_kubernetes() {
  local src=$cache/src/kubernetes-$kube_ver gomod when ldflags pkg
  setup_go
  mkdir -p "$src" "$cache/logs"
  rm -f "$src/go.mod" "$src/go.sum"
  cp_log "kubernetes $kube_ver: downloading k8s.io/kubernetes (one large module zip)"
  gomod=$(cd "$src" && mod_info k8s.io/kubernetes "$kube_ver" GoMod)
  [[ -s $gomod ]] || cp_die "could not download k8s.io/kubernetes@$kube_ver from $("$go_bin" env GOPROXY)"
  when=$(cd "$src" && mod_time k8s.io/kubernetes "$kube_ver")

  # The wrapper module: require k8s.io/kubernetes and replace each of its staging modules (which its own go.mod
  # points at ./staging/src/...) by the published v0.<minor>.<patch>. The list comes from kubernetes' go.mod at
  # that tag; replacements of other modules (none in 1.31-1.33) are carried over as they are.
  {
    echo "// Generated by pipeguard scripts/controlplane/install.sh from k8s.io/kubernetes@$kube_ver's go.mod."
    echo "module pipeguard.local/controlplane/kubernetes"
    echo
    wrapper_go_header "$gomod"
    echo
    echo "require k8s.io/kubernetes $kube_ver"
    echo
    echo "replace ("
    awk -v sv="$staging_ver" '
      function emit(mod, target) {
        if (target ~ /^\.\.?\//) printf "\t%s => %s %s\n", mod, mod, sv
        else printf "\t%s => %s\n", mod, target
      }
      /^replace \(/ { inblock = 1; next }
      inblock && /^\)/ { inblock = 0; next }
      inblock && $2 == "=>" { emit($1, substr($0, index($0, "=>") + 3)); next }
      /^replace [^(]/ && $3 == "=>" { emit($2, substr($0, index($0, "=>") + 3)) }
    ' "$gomod"
    echo ")"
  } >"$src/go.mod"
  local n
  n=$(grep -c "=> .* $staging_ver\$" "$src/go.mod" || true)
  ((n > 10)) || cp_die "found only $n staging modules in $gomod; the replace block format changed?"
  cp_log "kubernetes $kube_ver: wrapper module $src/go.mod (replaces $n staging modules with $staging_ver)"

  # The variables that hack/lib/version.sh sets in release builds, for both version packages kubectl and the
  # apiserver read. There is no commit in the module zip: gitTreeState=archive is what tarball builds report.
  ldflags="-s -w"
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldflags+=" -X $pkg.gitVersion=$kube_ver -X $pkg.gitMajor=1 -X $pkg.gitMinor=$kube_minor"
    ldflags+=" -X $pkg.gitTreeState=archive -X $pkg.gitCommit= -X $pkg.buildDate=$when"
  done

  out=$(mktemp -d "$cache/src/.build.XXXXXX")
  cp_log "kubernetes $kube_ver: building kube-apiserver and kubectl (cold: many minutes on 2 cores)"
  cp_run_logged cp_log "kubernetes $kube_ver" "$cache/logs/kubernetes-$kube_ver.log" \
    exec_in_dir "$src" \
    "$go_bin" build -mod=mod -trimpath -ldflags "$ldflags" -o "$out/" \
    k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kubectl
  # Captured, not piped into grep -q: under pipefail a writer that prints after grep exits fails with SIGPIPE.
  [[ $("$out/kube-apiserver" --version) == *"Kubernetes $kube_ver"* ]] || cp_die "built kube-apiserver is not $kube_ver"
  install_binary "$out/kube-apiserver" "$cache/bin/kube-apiserver-$kube_ver/kube-apiserver"
  install_binary "$out/kubectl" "$cache/bin/kubectl-$kube_ver/kubectl"
  rm -rf "$out"
  out=
}

build_etcd() {
  local src=$cache/src/etcd-$etcd_ver gomod
  setup_go
  mkdir -p "$src" "$cache/logs"
  rm -f "$src/go.mod" "$src/go.sum"
  gomod=$(cd "$src" && mod_info go.etcd.io/etcd/server/v3 "$etcd_ver" GoMod)
  [[ -s $gomod ]] || cp_die "could not download go.etcd.io/etcd/server/v3@$etcd_ver"
  # server/v3's go.mod replaces its sibling modules (api, client, pkg, raft) with ../ paths, so `go install` is
  # refused; in a wrapper module those replacements do not apply and the published siblings of the same
  # version (which server/v3 requires) are used. server/v3's root package is etcd's main.
  {
    echo "// Generated by pipeguard scripts/controlplane/install.sh."
    echo "module pipeguard.local/controlplane/etcd"
    echo
    wrapper_go_header "$gomod"
    echo
    echo "require go.etcd.io/etcd/server/v3 $etcd_ver"
  } >"$src/go.mod"
  out=$(mktemp -d "$cache/src/.build.XXXXXX")
  cp_log "etcd $etcd_ver: building"
  cp_run_logged cp_log "etcd $etcd_ver" "$cache/logs/etcd-$etcd_ver.log" \
    exec_in_dir "$src" \
    "$go_bin" build -mod=mod -trimpath -ldflags "-s -w -X go.etcd.io/etcd/api/v3/version.GitSHA=$etcd_ver" \
    -o "$out/etcd" go.etcd.io/etcd/server/v3
  [[ $("$out/etcd" --version) == *"etcd Version: ${etcd_ver#v}"* ]] || cp_die "built etcd is not $etcd_ver"
  install_binary "$out/etcd" "$cache/bin/etcd-$etcd_ver/etcd"
  rm -rf "$out"
  out=
}

build_helm() {
  setup_go
  mkdir -p "$cache/src" "$cache/logs"
  out=$(mktemp -d "$cache/src/.build.XXXXXX")
  local v=helm.sh/helm/v3/internal/version
  cp_log "helm $helm_ver: building"
  # helm's go.mod has no replace directives, so `go install module@version` works directly.
  cp_run_logged cp_log "helm $helm_ver" "$cache/logs/helm-$helm_ver.log" \
    env GOBIN="$out" "$go_bin" install -trimpath \
    -ldflags "-s -w -X $v.version=$helm_ver -X $v.gitTreeState=clean" \
    "helm.sh/helm/v3/cmd/helm@$helm_ver"
  [[ $("$out/helm" version --template '{{.Version}}') == "$helm_ver" ]] || cp_die "built helm is not $helm_ver"
  install_binary "$out/helm" "$cache/bin/helm-$helm_ver/helm"
  rm -rf "$out"
  out=
}

# ---------------------------------------------------------------------------------------------------------------

todo=$(missing kube-apiserver kubectl etcd helm)
if [[ -n $todo ]]; then
  [[ $mode == nobuild ]] && {
    cp_log "not built yet: $(echo "$todo" | tr '\n' ' ')(run scripts/controlplane/install.sh)"
    exit 2
  }
  mkdir -p "$cache"
  exec 9>"$cache/.install.lock"
  if ! flock -n 9; then
    cp_log "another install.sh is building in $cache; waiting for it"
    flock 9
  fi
  total_start=$SECONDS
  # Re-check under the lock: another run may have built them meanwhile.
  if [[ -n $(missing kube-apiserver kubectl) ]]; then build_kubernetes; fi
  if [[ -n $(missing etcd) ]]; then build_etcd; fi
  if [[ -n $(missing helm) ]]; then build_helm; fi
  cp_log "build finished in $((SECONDS - total_start))s"
  flock -u 9
fi

bindir=$cache/bin/controlplane-$kube_ver-etcd-$etcd_ver-helm-$helm_ver
if [[ -n ${source_of[kube-apiserver]:-} ]]; then
  bindir+=-kubebuilder-$(printf '%s' "$KUBEBUILDER_ASSETS" | cksum | cut -d' ' -f1)
fi
mkdir -p "$bindir"
for b in kube-apiserver etcd kubectl helm; do
  ln -sfn "${target[$b]}" "$bindir/$b"
  cp_log "using ${target[$b]}${source_of[$b]:+ (from ${source_of[$b]})}"
done

case $mode in
  install) cp_log "bin dir $bindir" ;;
  *) printf '%s\n' "$bindir" ;;
esac
