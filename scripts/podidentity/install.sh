#!/usr/bin/env bash
# Builds (once) and caches the Amazon EKS Pod Identity Webhook (github.com/aws/amazon-eks-pod-identity-webhook), the
# mutating admission webhook that injects IRSA credentials (AWS_ROLE_ARN, AWS_WEB_IDENTITY_TOKEN_FILE and a
# projected ServiceAccount token with audience sts.amazonaws.com) into pods whose ServiceAccount carries
# eks.amazonaws.com/role-arn. start.sh runs it against a control plane. Nothing is written into the repository.
#
# Usage: install.sh                 build if missing, then print "amazon-eks-pod-identity-webhook: using <path> ..."
#                                   on stderr
#        install.sh --print-path    the same, then print only the binary's path on stdout
#        install.sh --no-build      like --print-path but never build: exit 2 if the binary is missing
#
# Contract (scripts/lib/go_tool.sh, shared with the other tools built from Go modules):
#   - idempotent; serialised on a lock; the binary is moved into place only after it built and reports the
#     requested version, so an interrupted build leaves nothing behind.
#   - binary: $PIPEGUARD_CACHE/bin/amazon-eks-pod-identity-webhook-<version>/amazon-eks-pod-identity-webhook
#     (PIPEGUARD_CACHE defaults to ~/.cache/pipeguard); version PIPEGUARD_PODIDENTITY_VERSION, default v0.6.17.
#     The module stamps no version of its own (`--version` prints its default v0.1.0), so the build sets
#     main.webhookVersion to the module version and `--version` proves which one was built.
#   - the build is polite on a shared 2-core machine: `nice -n 10`, GOFLAGS=-p=1 (override the job count with
#     PIPEGUARD_BUILD_JOBS); static (CGO_ENABLED=0), -trimpath, -ldflags "-s -w". A cold build takes minutes.
#   - needs: a Go toolchain >= 1.26.3 (v0.6.17's go.mod), GO=/path/to/go or go on PATH or /usr/local/go/bin/go;
#     network access to the Go module proxy on the first run only.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../controlplane/lib.sh
. "$here/../controlplane/lib.sh"
# shellcheck source=../lib/go_tool.sh
. "$here/../lib/go_tool.sh"

: "${PIPEGUARD_PODIDENTITY_VERSION:=v0.6.17}"
ver=$PIPEGUARD_PODIDENTITY_VERSION
mode=${1:---install}
case $mode in
  -h | --help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
esac
[[ $ver =~ ^v0\.[0-9]+\.[0-9]+$ ]] || {
  echo "amazon-eks-pod-identity-webhook: error: PIPEGUARD_PODIDENTITY_VERSION must look like v0.6.17, got '$ver'" >&2
  exit 1
}
GO_TOOL_LDFLAGS="-X main.webhookVersion=$ver" go_tool_install amazon-eks-pod-identity-webhook \
  github.com/aws/amazon-eks-pod-identity-webhook "$ver" "^${ver//./\\.}$" "$mode" --version
