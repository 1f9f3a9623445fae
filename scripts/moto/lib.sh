# shellcheck shell=bash
# Shared helpers for scripts/moto/*.sh, and the entry points for bash tests.
#
# Contract: safe to source from any bash script (defines functions and default variables only, changes no shell
# options). It reuses the process and port helpers of scripts/controlplane/lib.sh (cp_free_port, cp_pid_alive,
# cp_pid_owned), so a moto server is found, owned and stopped by the same rules as the control plane. Usage:
#
#   source scripts/moto/lib.sh
#   moto_dir=$(mktemp -d)
#   trap 'moto_down "$moto_dir" --rm' EXIT     # never fails, keeps the script's exit status
#   moto_up "$moto_dir"                        # starts moto_server, exports the variables of DIR/env
#   curl "$MOTO_ENDPOINT/moto-api/"            # MOTO_ENDPOINT=http://127.0.0.1:PORT
#
# Versions and paths (override through the environment):
#   PIPEGUARD_MOTO_VERSION   the moto release installed from PyPI (pinned; the venv is rebuilt when it changes)
#   PIPEGUARD_CACHE          cache root, default ~/.cache/pipeguard; the venv is $PIPEGUARD_CACHE/venv-moto
#   PIPEGUARD_PYTHON         the interpreter that creates the venv (default python3; needs the venv module)

# shellcheck source=../controlplane/lib.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")/../controlplane" && pwd)/lib.sh"

: "${PIPEGUARD_MOTO_VERSION:=5.2.5}"
: "${PIPEGUARD_PYTHON:=python3}"

PIPEGUARD_MOTO_SCRIPTS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck disable=SC2034 # used by the scripts that source this file
PIPEGUARD_MOTO_VENV=$PIPEGUARD_CACHE/venv-moto

# moto_log MSG... : progress and diagnostics go to stderr so that stdout stays machine-readable.
moto_log() { printf 'moto: %s\n' "$*" >&2; }

# moto_die MSG... : log and exit 1 (only for use inside the scripts).
moto_die() {
  moto_log "error: $*"
  exit 1
}

# moto_up DIR : start a moto server with its state in DIR (see start.sh) and export the variables of DIR/env into
# the calling shell. A watchdog stops the server if the calling shell dies without calling moto_down.
moto_up() {
  local dir=${1:?usage: moto_up DIR}
  PIPEGUARD_MOTO_OWNER_PID=$$ "$PIPEGUARD_MOTO_SCRIPTS/start.sh" "$dir" || return
  local line
  while IFS= read -r line; do
    eval "export $line" # lines are KEY=VALUE with VALUE shell-quoted by start.sh
  done <"$dir/env"
}

# moto_down DIR [--rm] : stop the moto server in DIR (tolerates one that is stopped, dead or never started); with
# --rm also delete DIR. Never fails and returns the exit status it was called with (fits `trap ... EXIT`).
moto_down() {
  local rc=$? dir=${1:-} opt=${2:-}
  [[ -n $dir ]] || return "$rc"
  "$PIPEGUARD_MOTO_SCRIPTS/stop.sh" "$dir" || true
  if [[ $opt == --rm && -d $dir && -z $(cp_procs_in "$dir") ]]; then
    rm -rf -- "$dir" || true
  fi
  return "$rc"
}
