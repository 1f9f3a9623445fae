#!/usr/bin/env bash
# Installs (once) the real tools of the registry integration tests: Debian's docker-registry (the CNCF
# distribution registry 2.8) and skopeo via apt, openssl and python3 (token server, fake upstreams), and two
# cosign CLIs built from the Go module proxy with the local Go toolchain: cosign 2.x (writes legacy
# `sha256-<hex>.sig` signatures) and cosign 3.x (writes Sigstore bundles as OCI 1.1 referrers).
#
# Usage: install.sh                 install/build what is missing, print "registry: using ..." lines
#        install.sh --print-env     the same, then print KEY=VALUE lines on stdout:
#                                   DOCKER_REGISTRY SKOPEO COSIGN_V2 COSIGN_V3 COSIGN_V2_VERSION COSIGN_V3_VERSION
#        install.sh --no-build      like --print-env but never install or build: exit 2 if something is missing
#
# Contract:
#   - idempotent; concurrent runs serialise on $PIPEGUARD_CACHE/.install-registry.lock; a cosign binary is moved
#     into place only after it built and reports its version, so an interrupted build leaves nothing behind.
#   - cosign binaries: $PIPEGUARD_CACHE/bin/cosign-<version>/cosign, versions PIPEGUARD_COSIGN_V{2,3}_VERSION
#     (defaults in lib.sh). Built static (CGO_ENABLED=0), -trimpath, with the version stamped into
#     `cosign version`.
#   - apt-get runs only when a Debian package is missing (and `apt-get update` only when the install fails).
#   - build knobs: GO (go binary), PIPEGUARD_BUILD_JOBS (go build -p, default nproc). Cold builds take several
#     minutes each on 2 cores.
#   - needs: root or a working apt for the Debian packages, a Go toolchain (go >= 1.26 for cosign 3.1), network
#     access to Debian's mirrors and the Go module proxy on the first run only.
set -euo pipefail

# shellcheck source=lib.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"

mode=install
case "${1:-}" in
  "") ;;
  --print-env) mode=print ;;
  --no-build) mode=nobuild ;;
  -h | --help)
    sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'
    exit 0
    ;;
  *) reg_die "unknown argument '$1' (try --help)" ;;
esac

v2=$PIPEGUARD_COSIGN_V2_VERSION
v3=$PIPEGUARD_COSIGN_V3_VERSION
[[ $v2 =~ ^v2\.[0-9]+\.[0-9]+$ ]] || reg_die "PIPEGUARD_COSIGN_V2_VERSION must look like v2.6.5, got '$v2'"
[[ $v3 =~ ^v3\.[0-9]+\.[0-9]+$ ]] || reg_die "PIPEGUARD_COSIGN_V3_VERSION must look like v3.1.3, got '$v3'"
cache=$PIPEGUARD_CACHE
cosign2=$(cosign_path 2)
cosign3=$(cosign_path 3)

# Debian packages: command -> package.
declare -A deb=([docker-registry]=docker-registry [skopeo]=skopeo [openssl]=openssl [python3]=python3)

missing_debs() {
  local c
  for c in "${!deb[@]}"; do command -v "$c" >/dev/null || printf '%s\n' "${deb[$c]}"; done
}

install_debs() {
  local pkgs
  mapfile -t pkgs < <(missing_debs | sort -u)
  ((${#pkgs[@]})) || return 0
  reg_log "installing Debian packages: ${pkgs[*]}"
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >&2; then
    apt-get update -qq >&2
    apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >&2
  fi
  [[ -z $(missing_debs) ]] || reg_die "still missing after apt-get: $(missing_debs | tr '\n' ' ')"
}

# ---------------------------------------------------------------------------------------------------------------
# cosign builds (same conventions as scripts/controlplane/install.sh)

go_bin=
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
  [[ -n $go_bin ]] && return 0
  go_bin=${GO:-$(command -v go || true)}
  [[ -n $go_bin ]] || go_bin=/usr/local/go/bin/go
  [[ -x $go_bin ]] || reg_die "no Go toolchain (set GO=/path/to/go or put go on PATH)"
  export CGO_ENABLED=0 GOWORK=off
  export GOFLAGS="-p=${PIPEGUARD_BUILD_JOBS:-$(nproc 2>/dev/null || echo 2)} -buildvcs=false"
  unset GOOS GOARCH
  reg_log "go: $("$go_bin" version) ($GOFLAGS)"
}

# build_cosign MAJOR VERSION DEST : `go install` of cosign's main package (its go.mod has no replace directives).
build_cosign() {
  local major=$1 ver=$2 dest=$3 mod=github.com/sigstore/cosign
  [[ $major == 2 || $major == 3 ]] && mod+=/v$major
  setup_go
  mkdir -p "$cache/src" "$cache/logs"
  out=$(mktemp -d "$cache/src/.build.XXXXXX")
  reg_log "cosign $ver: building $mod/cmd/cosign (cold: several minutes on 2 cores)"
  # release-utils' version package is what `cosign version` prints.
  cp_run_logged reg_log "cosign $ver" "$cache/logs/cosign-$ver.log" \
    env GOBIN="$out" "$go_bin" install -trimpath \
    -ldflags "-s -w -X sigs.k8s.io/release-utils/version.gitVersion=$ver -X sigs.k8s.io/release-utils/version.gitTreeState=clean" \
    "$mod/cmd/cosign@$ver"
  # Captured, not piped into grep -q: under pipefail a writer that prints after grep exits fails with SIGPIPE.
  [[ $("$out/cosign" version 2>&1) =~ GitVersion:\ *$ver ]] || reg_die "built cosign does not report $ver"
  mkdir -p "$(dirname "$dest")"
  mv -f "$out/cosign" "$dest"
  rm -rf "$out"
  out=
}

# ---------------------------------------------------------------------------------------------------------------

need_build() { [[ ! -x $cosign2 || ! -x $cosign3 || -n $(missing_debs) ]]; }

if need_build; then
  if [[ $mode == nobuild ]]; then
    reg_log "not installed yet:$(missing_debs | tr '\n' ' ')$([[ -x $cosign2 ]] || echo " cosign-$v2")$([[ -x $cosign3 ]] || echo " cosign-$v3") (run scripts/registry/install.sh)"
    exit 2
  fi
  mkdir -p "$cache"
  exec 9>"$cache/.install-registry.lock"
  if ! flock -n 9; then
    reg_log "another install.sh is installing into $cache; waiting for it"
    flock 9
  fi
  install_debs
  [[ -x $cosign2 ]] || build_cosign 2 "$v2" "$cosign2"
  [[ -x $cosign3 ]] || build_cosign 3 "$v3" "$cosign3"
  flock -u 9
fi

registry_bin=$(command -v docker-registry)
skopeo_bin=$(command -v skopeo)
if [[ $mode == install ]]; then
  reg_log "using $registry_bin ($("$registry_bin" --version 2>&1 | head -n1))"
  reg_log "using $skopeo_bin ($("$skopeo_bin" --version 2>&1 | head -n1))"
  reg_log "using $cosign2"
  reg_log "using $cosign3"
fi

if [[ $mode != install ]]; then
  printf '%s=%q\n' DOCKER_REGISTRY "$registry_bin" SKOPEO "$skopeo_bin" COSIGN_V2 "$cosign2" COSIGN_V3 "$cosign3" \
    COSIGN_V2_VERSION "$v2" COSIGN_V3_VERSION "$v3"
fi
