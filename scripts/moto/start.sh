#!/usr/bin/env bash
# Starts a moto server (AWS IAM, STS, ECR, ... emulator from PyPI `moto[server]`) on loopback with its state in DIR.
#
# Usage: start.sh DIR        (stop with stop.sh DIR; from bash tests prefer moto_up/moto_down in lib.sh)
#
# Contract:
#   - moto comes from install.sh (installed into the cache on first use, which needs PyPI).
#   - listens on 127.0.0.1 only, on a free port picked at random (bind races are retried).
#     PIPEGUARD_MOTO_ADDRESS=IP listens on that address instead (e.g. a node's address inside a network namespace
#     of our own, run with nsenter --net so that pods reach it; scripts/test-node.sh); MOTO_ENDPOINT names it.
#   - DIR afterwards holds:
#       env         KEY=VALUE lines, shell-sourceable and trivially parseable (written last: its presence means
#                   ready): MOTO_ENDPOINT (http://ADDRESS:PORT) MOTO_PORT MOTO_PID MOTO_WATCHDOG_PID MOTO_DIR
#                   MOTO_VERSION AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_DEFAULT_REGION (dummy credentials:
#                   moto accepts any until authentication is switched on, see below)
#       moto.log, moto.pid, watchdog.log, watchdog.pid, watchdog.armed
#   - the server is started with setsid (PID = PGID) and its PID is in DIR/moto.pid; its command line mentions
#     DIR/ (as a python -X option) so stop.sh recognises it as ours; stop.sh DIR kills exactly that.
#   - exits 0 once the server answers /moto-api/ ; otherwise exits 1 after printing the log tail, having stopped
#     what it started. PIPEGUARD_MOTO_TIMEOUT (seconds, default 60) bounds the wait.
#   - PIPEGUARD_MOTO_OWNER_PID=PID: a watchdog runs stop.sh DIR when PID exits (for harnesses that may be killed
#     before they can clean up). moto_up sets it to the calling shell.
#   - moto does not check SigV4 signatures by default. POST a number N to $MOTO_ENDPOINT/moto-api/reset-auth to make
#     every request after the next N authenticated: the access key must then exist in moto's IAM and the signature
#     must match (moto recomputes it with botocore). POST "inf" to switch it off again.
#   - needs: curl, and what install.sh needs.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

[[ $# -eq 1 && $1 != -* ]] || moto_die "usage: start.sh DIR"
command -v curl >/dev/null || moto_die "curl is required (scripts/install-deps.sh)"

umask 077
mkdir -p "$1"
dir=$(cd "$1" && pwd -P)
timeout=${PIPEGUARD_MOTO_TIMEOUT:-60}
address=${PIPEGUARD_MOTO_ADDRESS:-127.0.0.1}
[[ $address =~ ^[0-9]{1,3}(\.[0-9]{1,3}){3}$ ]] || moto_die "PIPEGUARD_MOTO_ADDRESS must be an IPv4 address, got '$address'"

for name in moto watchdog; do
  if [[ -f $dir/$name.pid ]] && cp_pid_owned "$(cat "$dir/$name.pid")" "$dir"; then
    moto_die "a moto server is already running in $dir ($name PID $(cat "$dir/$name.pid")); stop.sh it first"
  fi
done
rm -f "$dir/env" "$dir"/*.pid

python=$("$here/install.sh" --print-bin)

started=false
cleanup_on_failure() {
  local rc=$?
  if [[ $started != true ]]; then
    "$here/stop.sh" "$dir" >&2 || true
  fi
  exit "$rc"
}
trap cleanup_on_failure EXIT

# launch NAME CMD... : start CMD in its own session with output in DIR/NAME.log and its PID in DIR/NAME.pid.
launch() { cp_launch "$dir" "$@"; } # launch NAME CMD... (scripts/controlplane/lib.sh)

moto_port=
for attempt in 1 2 3; do
  cp_free_port moto_port
  # -X pipeguard_moto_dir=DIR/ is an implementation option python ignores; it marks the process as ours.
  launch moto "$python" -X "pipeguard_moto_dir=$dir/" -m moto.server -H "$address" -p "$moto_port"
  status=0
  cp_wait_up "$dir" moto "$timeout" curl -fsS --noproxy "*" --max-time 2 -o /dev/null \
    "http://$address:$moto_port/moto-api/" && break || status=$?
  if ((status == 2)); then
    moto_log "error: moto not ready at http://$address:$moto_port after ${timeout}s; last lines of $dir/moto.log:"
    tail -n 40 "$dir/moto.log" >&2 || true
    exit 1
  fi
  if cp_lost_port_race "$dir" moto && ((attempt < 3)); then
    moto_log "moto lost a port race; retrying"
    continue
  fi
  moto_log "error: moto exited during startup; last lines of $dir/moto.log:"
  tail -n 40 "$dir/moto.log" >&2 || true
  exit 1
done
moto_log "moto ready at http://$address:$moto_port (PID $(cat "$dir/moto.pid"))"

watchdog_pid=
if [[ -n ${PIPEGUARD_MOTO_OWNER_PID:-} ]]; then
  owner=$PIPEGUARD_MOTO_OWNER_PID
  cp_pid_alive "$owner" || moto_die "PIPEGUARD_MOTO_OWNER_PID=$owner is not running"
  cp_arm_watchdog "$dir" "$owner" "$here/stop.sh" pipeguard-moto-watchdog
  watchdog_pid=$(cat "$dir/watchdog.pid")
fi

{
  echo "MOTO_DIR=$(printf '%q' "$dir")"
  echo "MOTO_ENDPOINT=http://$address:$moto_port"
  echo "MOTO_PORT=$moto_port"
  echo "MOTO_PID=$(cat "$dir/moto.pid")"
  echo "MOTO_WATCHDOG_PID=$watchdog_pid"
  echo "MOTO_VERSION=$PIPEGUARD_MOTO_VERSION"
  echo "AWS_ACCESS_KEY_ID=AKIAPIPEGUARDTEST000"
  echo "AWS_SECRET_ACCESS_KEY=pipeguard-moto-dummy-secret"
  echo "AWS_DEFAULT_REGION=us-east-1"
} >"$dir/env.tmp"
mv -f "$dir/env.tmp" "$dir/env"
started=true
