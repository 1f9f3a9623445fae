#!/usr/bin/env bash
# Brings the end-to-end stack up or down from any harness (see e2e/stack_lib.sh for the full contract: what runs,
# the variables of DIR/env and the helper functions).
#
# Usage:
#   e2e/stack.sh up DIR      start everything with its state in DIR; leaves it running and exits 0 once DIR/env is
#                            written (set PIPEGUARD_STACK_OWNER_PID=PID to have watchdogs stop it when PID exits);
#                            on failure stops what it started and exits 1
#   e2e/stack.sh down DIR    stop exactly the processes recorded in DIR (webhook, operator, watchdog, pod identity
#                            webhook, registry, moto, control plane); tolerates a partial or dead stack; keeps DIR (logs)
#   e2e/stack.sh env DIR     print DIR/env
# Binaries come from PIPEGUARD_BUILD_DIR (default: build/ of this checkout); nothing is built here.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=stack_lib.sh
. "$here/stack_lib.sh"

usage() {
  sed -n '2,12p' "$0" >&2
  exit 2
}
(($# == 2)) || usage
cmd=$1
dir=$2

case $cmd in
  up)
    export PIPEGUARD_STACK_OWNER_PID=${PIPEGUARD_STACK_OWNER_PID:-}
    if ! stack_up "$dir"; then
      "$0" down "$dir"
      exit 1
    fi
    ;;
  down)
    [[ -d $dir ]] || exit 0
    dir=$(cd "$dir" && pwd -P)
    rm -f "$dir/stack-watchdog.armed"
    rc=0
    cp_stop_recorded stack_log "$dir" 10 webhook operator stack-watchdog || rc=1
    [[ -d $dir/podidentity ]] && { "$PIPEGUARD_REPO_ROOT/scripts/podidentity/stop.sh" "$dir/podidentity" >&2 || rc=1; }
    [[ -d $dir/registry ]] && { "$PIPEGUARD_REPO_ROOT/scripts/registry/stop.sh" "$dir/registry" >&2 || rc=1; }
    [[ -d $dir/moto ]] && { "$PIPEGUARD_REPO_ROOT/scripts/moto/stop.sh" "$dir/moto" >&2 || rc=1; }
    [[ -d $dir/controlplane ]] && { "$PIPEGUARD_REPO_ROOT/scripts/controlplane/stop.sh" "$dir/controlplane" >&2 || rc=1; }
    exit "$rc"
    ;;
  env) cat "$dir/env" ;;
  *) usage ;;
esac
