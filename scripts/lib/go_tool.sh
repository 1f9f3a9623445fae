# shellcheck shell=bash
# go_tool_install: build (once) and cache a command-line tool from its Go module, the way scripts/opa/install.sh and
# scripts/actionlint/install.sh need it. Sourced; needs scripts/controlplane/lib.sh sourced first (PIPEGUARD_CACHE).
#
#   go_tool_install NAME PACKAGE VERSION VERSION_REGEX MODE VERSION_ARGS...
#
#   NAME           the binary's name (opa, actionlint); cached at $PIPEGUARD_CACHE/bin/NAME-VERSION/NAME
#   PACKAGE        the main package to `go install` (github.com/rhysd/actionlint/cmd/actionlint)
#   VERSION        the module version (v1.7.12)
#   VERSION_REGEX  a bash regex the output of `NAME VERSION_ARGS...` must match, so a stale or wrong binary is
#                  never used
#   MODE           --install (print "NAME: using PATH (first version line)" on stderr), --print-path (the same,
#                  then the path on stdout) or --no-build (like --print-path, but exit 2 when not built yet)
#
#   GO_TOOL_BINARY the name `go install` gives the binary when it is not NAME (the last element of PACKAGE, e.g.
#                  `posix` for .../cmd/rekor-server/posix); it is cached as NAME all the same
#
# Contract: idempotent; concurrent runs serialise on $PIPEGUARD_CACHE/.install-NAME.lock; the binary is moved into
# place only after it built and reports VERSION, so an interrupted build leaves nothing behind. The build is polite
# on a shared 2-core machine: `nice -n 10`, GOFLAGS=-p=1 (PIPEGUARD_BUILD_JOBS overrides), static (CGO_ENABLED=0),
# -trimpath, -ldflags "-s -w" plus GO_TOOL_LDFLAGS when set (e.g. `-X main.version=v1.2.3` for a tool that only
# learns its version that way; the caller sets it for its own call). Go from GO, else `go` on PATH, else /usr/local/go/bin/go; the Go module proxy is
# needed on the first run only. Errors name the tool and exit 1.
go_tool_install() {
  local name=$1 package=$2 version=$3 pattern=$4 mode=$5
  shift 5
  local version_args=("$@")
  local dest="$PIPEGUARD_CACHE/bin/$name-$version/$name"
  _go_tool_say() { printf '%s: %s\n' "$name" "$*" >&2; }
  _go_tool_reports_version() {
    local said
    said=$("$1" "${version_args[@]}" 2>&1) || return 1
    [[ $said =~ $pattern ]]
  }
  case $mode in
    --install | --print-path | --no-build) ;;
    *) _go_tool_say "error: unknown mode '$mode' (--install, --print-path or --no-build)"; return 1 ;;
  esac
  if [[ ! -x $dest ]]; then
    if [[ $mode == --no-build ]]; then
      _go_tool_say "not built yet: $dest"
      return 2
    fi
    mkdir -p "$PIPEGUARD_CACHE"
    local lock_fd
    exec {lock_fd}>"$PIPEGUARD_CACHE/.install-$name.lock"
    if ! flock -n "$lock_fd"; then
      _go_tool_say "another install is building into $PIPEGUARD_CACHE; waiting for it"
      flock "$lock_fd"
    fi
    if [[ ! -x $dest ]]; then
      local go_bin out log start=$SECONDS
      go_bin=${GO:-$(command -v go || true)}
      [[ -n $go_bin ]] || go_bin=/usr/local/go/bin/go
      [[ -x $go_bin ]] || { _go_tool_say "error: no Go toolchain (set GO=/path/to/go or put go on PATH)"; return 1; }
      mkdir -p "$PIPEGUARD_CACHE/src" "$PIPEGUARD_CACHE/logs"
      out=$(mktemp -d "$PIPEGUARD_CACHE/src/.build-$name.XXXXXX")
      log="$PIPEGUARD_CACHE/logs/$name-$version.log"
      _go_tool_say "building $package@$version with $("$go_bin" version) (nice -n 10, -p=${PIPEGUARD_BUILD_JOBS:-1}; log $log)"
      if ! env -u GOOS -u GOARCH GOWORK=off CGO_ENABLED=0 GOBIN="$out" \
        GOFLAGS="-p=${PIPEGUARD_BUILD_JOBS:-1} -buildvcs=false" \
        nice -n 10 "$go_bin" install -trimpath -ldflags "-s -w${GO_TOOL_LDFLAGS:+ $GO_TOOL_LDFLAGS}" "$package@$version" >"$log" 2>&1; then
        tail -n 40 "$log" >&2
        rm -rf "$out"
        _go_tool_say "error: build failed after $((SECONDS - start))s"
        return 1
      fi
      local built=$out/${GO_TOOL_BINARY:-$name}
      if ! _go_tool_reports_version "$built"; then
        _go_tool_say "error: the built $name does not report $version: $("$built" "${version_args[@]}" 2>&1 | head -n1)"
        rm -rf "$out"
        return 1
      fi
      mkdir -p "$(dirname "$dest")"
      mv -f "$built" "$dest"
      rm -rf "$out"
      _go_tool_say "built in $((SECONDS - start))s"
    fi
    flock -u "$lock_fd"
  fi
  _go_tool_reports_version "$dest" || { _go_tool_say "error: $dest does not report $version (remove it to rebuild)"; return 1; }
  # The line that carries the version (some tools print a banner first).
  _go_tool_say "using $dest ($("$dest" "${version_args[@]}" 2>&1 | grep -m1 -E -- "$pattern" | sed 's/^[[:space:]]*//'))"
  [[ $mode == --install ]] || printf '%s\n' "$dest"
}
