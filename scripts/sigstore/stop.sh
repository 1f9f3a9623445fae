#!/usr/bin/env bash
# Stops the Fulcio, Rekor v2 and timestamp-authority servers (and the watchdog) that start.sh started in DIR.
#
# Usage: stop.sh DIR
#
# Contract:
#   - kills exactly the processes recorded in DIR/{fulcio,rekor,tsa,watchdog}.pid, and only while they are still
#     ours (their command line mentions DIR/...; a recycled PID is left alone): SIGTERM to the process group
#     (started with setsid), SIGKILL after PIPEGUARD_SIGSTORE_STOP_TIMEOUT seconds (default 5).
#   - tolerates a DIR that is stopped, half-started, never started or missing: exits 0 if nothing of ours is left
#     running, 1 otherwise.
#   - removes DIR/env and the pid files; keeps logs, keys and configuration (start.sh DIR starts a fresh instance).
#   - leaves the control plane (and its discovery ClusterRoleBinding) alone.
set -euo pipefail

# shellcheck source=lib.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"

[[ $# -eq 1 && $1 != -* ]] || sg_die "usage: stop.sh DIR"
[[ -d $1 ]] || exit 0
dir=$(cd "$1" && pwd -P)
grace=${PIPEGUARD_SIGSTORE_STOP_TIMEOUT:-5}

rm -f "$dir/watchdog.armed" "$dir/env"

cp_stop_recorded sg_log "$dir" "$grace" fulcio rekor tsa watchdog
