#!/usr/bin/env bash
# Installs moto server (PyPI `moto[server]`, pinned) into a virtualenv in the cache, outside the repository.
#
# Usage: install.sh                 install if missing, print progress and the "using" line
#        install.sh --print-bin     the same, then print only the path of moto_server's python on stdout
#        install.sh --no-install    like --print-bin but never install: exit 2 if the venv is missing
#
# Contract:
#   - idempotent; concurrent runs serialise on a lock in the cache; the venv is built in a temporary directory and
#     moved into place only once `import moto.server` works, so an interrupted install leaves nothing half-made.
#   - venv: $PIPEGUARD_CACHE/venv-moto (PIPEGUARD_CACHE defaults to ~/.cache/pipeguard), holding moto
#     $PIPEGUARD_MOTO_VERSION; a venv holding another version is replaced. Its bin/python runs moto_server.
#   - needs: $PIPEGUARD_PYTHON (default python3, >= 3.9, with the venv module) and access to PyPI on the first
#     run only.
set -euo pipefail

# shellcheck source=lib.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"

mode=install
case "${1:-}" in
  "") ;;
  --print-bin) mode=print ;;
  --no-install) mode=noinstall ;;
  -h | --help)
    sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'
    exit 0
    ;;
  *) moto_die "unknown argument '$1' (try --help)" ;;
esac

version=$PIPEGUARD_MOTO_VERSION
[[ $version =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || moto_die "PIPEGUARD_MOTO_VERSION must look like 5.2.5, got '$version'"
venv=$PIPEGUARD_MOTO_VENV
stamp=$venv/.pipeguard-moto-version

installed() { [[ -x $venv/bin/python && -f $stamp && $(cat "$stamp") == "$version" ]]; }

tmp=
on_exit() { [[ -n $tmp ]] && rm -rf "$tmp"; true; }
trap on_exit EXIT

if ! installed; then
  [[ $mode == noinstall ]] && {
    moto_log "moto $version is not installed in $venv (run scripts/moto/install.sh)"
    exit 2
  }
  mkdir -p "$PIPEGUARD_CACHE"
  exec 9>"$PIPEGUARD_CACHE/.moto-install.lock"
  if ! flock -n 9; then
    moto_log "another install.sh is installing in $PIPEGUARD_CACHE; waiting for it"
    flock 9
  fi
  if ! installed; then # re-check under the lock
    command -v "$PIPEGUARD_PYTHON" >/dev/null || moto_die "no $PIPEGUARD_PYTHON (set PIPEGUARD_PYTHON or install python3)"
    "$PIPEGUARD_PYTHON" -c 'import sys, venv; sys.exit(sys.version_info < (3, 9))' ||
      moto_die "$PIPEGUARD_PYTHON needs to be >= 3.9 with the venv module (Debian: apt-get install python3-venv)"
    # The venv is made at its final path (venvs are not relocatable) after moving any old one aside.
    tmp=$(mktemp -d "$PIPEGUARD_CACHE/.venv-moto.XXXXXX")
    [[ -e $venv ]] && mv "$venv" "$tmp/old"
    moto_log "installing moto[server]==$version into $venv (from PyPI)"
    start=$SECONDS
    if ! "$PIPEGUARD_PYTHON" -m venv "$venv" >"$tmp/install.log" 2>&1 ||
      ! "$venv/bin/python" -m pip install --disable-pip-version-check --no-input -q \
        "moto[server]==$version" >>"$tmp/install.log" 2>&1 ||
      ! "$venv/bin/python" -c 'import moto, moto.server' >>"$tmp/install.log" 2>&1; then
      moto_log "install FAILED; last lines of the log:"
      tail -n 40 "$tmp/install.log" >&2
      rm -rf "$venv"
      exit 1
    fi
    echo "$version" >"$stamp"
    moto_log "installed in $((SECONDS - start))s"
  fi
  flock -u 9
fi

moto_log "using moto $version from $venv"
case $mode in
  install) ;;
  *) printf '%s\n' "$venv/bin/python" ;;
esac
