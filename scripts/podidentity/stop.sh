#!/usr/bin/env bash
# Stops the pod identity webhook that start.sh started in DIR and removes its MutatingWebhookConfiguration.
#
# Usage: stop.sh DIR
#
# Contract:
#   - first deletes the MutatingWebhookConfiguration named in DIR/registration (if the API server still answers;
#     with failurePolicy Fail a configuration left behind would refuse every Pod CREATE), then kills exactly the
#     processes recorded in DIR/{pod-identity-webhook,watchdog}.pid that are still ours (command line mentions
#     DIR/...): SIGTERM to the process group, SIGKILL after PIPEGUARD_PODIDENTITY_STOP_TIMEOUT seconds (default 10).
#   - tolerates a DIR that is stopped, half-started, never started or missing: exits 0 if nothing of ours is left
#     running, 1 otherwise. Removes DIR/env, DIR/registration and the pid files; keeps the log.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../controlplane/lib.sh
. "$here/../controlplane/lib.sh"

pi_log() { printf 'podidentity: %s\n' "$*" >&2; }

[[ $# -eq 1 && $1 != -* ]] || { pi_log "error: usage: stop.sh DIR"; exit 1; }
[[ -d $1 ]] || exit 0
dir=$(cd "$1" && pwd -P)
grace=${PIPEGUARD_PODIDENTITY_STOP_TIMEOUT:-10}

rm -f "$dir/watchdog.armed" "$dir/env"
if [[ -s $dir/registration ]]; then
  { read -r kubectl; read -r kubeconfig; read -r configuration; } <"$dir/registration"
  if "$kubectl" --kubeconfig "$kubeconfig" --request-timeout=10s delete mutatingwebhookconfiguration \
    "$configuration" --ignore-not-found >/dev/null 2>&1; then
    pi_log "removed MutatingWebhookConfiguration $configuration"
  else
    pi_log "could not remove MutatingWebhookConfiguration $configuration (API server gone?)"
  fi
  rm -f "$dir/registration"
fi
cp_stop_recorded pi_log "$dir" "$grace" pod-identity-webhook watchdog
