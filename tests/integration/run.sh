#!/usr/bin/env bash
# Integration suites against a real kube-apiserver + etcd (scripts/controlplane). Builds or reuses the cached
# binaries, starts one control plane for all suites, runs every tests/integration/*_test.sh, stops it.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)

bash "$repo/scripts/controlplane/install.sh" >/dev/null
dir=$(mktemp -d -t pipeguard-it.XXXXXX)
trap 'bash "$repo/scripts/controlplane/stop.sh" "$dir" >/dev/null 2>&1 || true; rm -rf "$dir"' EXIT
bash "$repo/scripts/controlplane/start.sh" "$dir" >/dev/null
set -a
# shellcheck disable=SC1091
source "$dir/env"
set +a

status=0
for suite in "$here"/*_test.sh; do
  echo "==> $(basename "$suite")"
  bash "$suite" || status=1
done
exit $status
