#!/usr/bin/env bash
# Starts a real, local Sigstore signing path on loopback with all state in DIR: Fulcio (ephemeral CA) trusting the
# service-account tokens of a running control plane, Rekor v2 (rekor-tiles, POSIX-file log) and the RFC 3161
# timestamp authority (in-memory signer). cosign v3 signs keylessly against them with DIR/signing_config.json and
# a `kubectl create token SA --audience sigstore` token; pipeguard verifies with DIR/trusted_root.json.
#
# Usage: start.sh DIR CONTROLPLANE_DIR       (stop with stop.sh DIR)
#
# Contract:
#   - binaries come from install.sh (built on first use; run install.sh first to see progress).
#   - CONTROLPLANE_DIR is a control plane started by scripts/controlplane/start.sh with
#     PIPEGUARD_CONTROLPLANE_SA_ISSUER=loopback, so that its service-account issuer is its own https://127.0.0.1:PORT
#     URL. start.sh binds system:service-account-issuer-discovery to system:unauthenticated there (Fulcio fetches
#     the discovery document and the JWKS anonymously, trusting CONTROLPLANE_DIR's CA).
#   - Fulcio's OIDC issuer is of type `kubernetes`, client id `sigstore`: a token of ServiceAccount SA in namespace
#     NS gets a certificate whose only SAN is the URI https://kubernetes.io/namespaces/NS/serviceaccounts/SA and
#     whose issuer extensions (1.3.6.1.4.1.57264.1.1 and .8) are the issuer URL.
#   - no certificate-transparency log: Fulcio runs with --ct-log-url= and its certificates carry no SCT, so a
#     pipeguard configuration for this instance needs `requireSct: false`.
#   - every start is a fresh instance: a new Fulcio CA, a new timestamp authority chain and an empty Rekor log;
#     only the Rekor log key (DIR/rekor/key.pem, Ed25519) is kept. Signatures made before a restart no longer
#     verify against the new DIR/trusted_root.json.
#   - listens on 127.0.0.1 only (free ports picked at random), except two metrics listeners the servers open on
#     all interfaces: Fulcio's (a free port) and the timestamp authority's, which v2.1.3 hard-codes to :2112 (start.sh
#     fails early when 2112 is taken).
#   - DIR afterwards holds:
#       env                  KEY=VALUE lines (values shell-quoted), written last: its presence means ready.
#                            SIGSTORE_DIR FULCIO_URL REKOR_URL TSA_URL OIDC_ISSUER TRUSTED_ROOT SIGNING_CONFIG
#                            FULCIO_PID REKOR_PID TSA_PID COSIGN_V3 CONTROLPLANE_DIR WATCHDOG_PID
#       trusted_root.json    Sigstore TrustedRoot: the Fulcio CA, the Rekor v2 log (origin 127.0.0.1, as clients
#                            derive it from baseUrl), the timestamp authority (all valid from start time)
#       signing_config.json  cosign v3 SigningConfig: Fulcio v1, Rekor v2, the TSA
#       fulcio-config.json fulcio-chain.pem tsa-chain.pem rekor/{key.pem,pub.pem,log/} tsa.yaml *.log *.pid
#   - every process is started with setsid (PID = PGID) and recorded in DIR/<name>.pid; stop.sh DIR kills exactly
#     those. PIPEGUARD_SIGSTORE_OWNER_PID=PID: a watchdog runs stop.sh DIR when PID exits.
#   - exits 0 once all three answer; otherwise 1 after printing the failing server's log tail, having stopped what
#     it started. PIPEGUARD_SIGSTORE_TIMEOUT (seconds, default 60) bounds each wait.
#   - needs: openssl, curl.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

[[ $# -eq 2 && $1 != -* ]] || sg_die "usage: start.sh DIR CONTROLPLANE_DIR"
command -v openssl >/dev/null || sg_die "openssl is required"
command -v curl >/dev/null || sg_die "curl is required"
[[ -f $2/env ]] || sg_die "$2/env is missing: start the control plane first (PIPEGUARD_CONTROLPLANE_SA_ISSUER=loopback scripts/controlplane/start.sh $2)"
cp_dir=$(cd "$2" && pwd -P)

umask 077
mkdir -p "$1"
dir=$(cd "$1" && pwd -P)
timeout=${PIPEGUARD_SIGSTORE_TIMEOUT:-60}

for name in fulcio rekor tsa watchdog; do
  if [[ -f $dir/$name.pid ]] && cp_pid_owned "$(cat "$dir/$name.pid")" "$dir"; then
    sg_die "Sigstore is already running in $dir ($name PID $(cat "$dir/$name.pid")); stop.sh it first"
  fi
done
rm -f "$dir/env" "$dir"/*.pid

eval "$("$here/install.sh" --print-env)"

# The control plane: its issuer must be fetchable from here.
cp_env() { sed -n "s/^$1=//p" "$cp_dir/env" | head -n1; }
issuer=$(cp_env SA_ISSUER)
kubectl=$(cp_env KUBECTL)
kubeconfig=$(cp_env KUBECONFIG)
cp_ca=$(cp_env CA_CERT)
[[ $issuer == https://127.0.0.1:* ]] ||
  sg_die "the control plane's service-account issuer is '${issuer:-unknown}', which Fulcio cannot fetch; start it with PIPEGUARD_CONTROLPLANE_SA_ISSUER=loopback"

failed() {
  local rc=$?
  if ((rc != 0)); then "$here/stop.sh" "$dir" || true; fi
  return "$rc"
}
trap failed EXIT

# show_log NAME WHY : report a server that did not come up, with its log tail, and fail.
show_log() {
  sg_log "error: $1 $2; last lines of $dir/$1.log:"
  tail -n 30 "$dir/$1.log" >&2 || true
  exit 1
}

launch() { cp_launch "$dir" "$@"; } # launch NAME CMD... (scripts/controlplane/lib.sh)

# wait_ready NAME URL : poll URL until it answers 2xx; fail with the log when the process dies or time runs out.
wait_ready() {
  local status=0
  cp_wait_up "$dir" "$1" "$timeout" curl -fsS --max-time 2 -o /dev/null "$2" && return 0 || status=$?
  if ((status == 1)); then show_log "$1" "exited during startup"; fi
  show_log "$1" "did not answer $2 within ${timeout}s"
}

# Anonymous reads of the discovery document and the JWKS (Fulcio sends no credentials).
"$kubectl" --kubeconfig "$kubeconfig" create clusterrolebinding pipeguard-sigstore-oidc-discovery \
  --clusterrole=system:service-account-issuer-discovery --group=system:unauthenticated \
  --dry-run=client -o yaml | "$kubectl" --kubeconfig "$kubeconfig" apply -f - >/dev/null
curl -fsS --max-time 5 --cacert "$cp_ca" -o /dev/null "$issuer/.well-known/openid-configuration" ||
  sg_die "cannot read $issuer/.well-known/openid-configuration anonymously"

start_time=$(date -u -d '-1 minute' +%Y-%m-%dT%H:%M:%SZ)

# --- timestamp authority ---------------------------------------------------------------------------------------
if (echo >/dev/tcp/127.0.0.1/2112) 2>/dev/null; then
  sg_die "port 2112 is in use; timestamp-server $TSA_VERSION binds its metrics to :2112 and would exit"
fi
tsa_port='' rekor_port='' rekor_grpc_port='' rekor_metrics_port='' fulcio_port='' fulcio_grpc_port='' fulcio_metrics_port=''
cp_free_port tsa_port
tsa_url=http://127.0.0.1:$tsa_port
# host and port are read from the config file (viper); the in-memory signer makes a fresh chain each start.
printf 'host: 127.0.0.1\nport: %s\n' "$tsa_port" >"$dir/tsa.yaml"
launch tsa "$TIMESTAMP_SERVER" serve --config "$dir/tsa.yaml" --timestamp-signer memory --disable-ntp-monitoring \
  --log-type prod
wait_ready tsa "$tsa_url/ping"
curl -fsS --max-time 5 "$tsa_url/api/v1/timestamp/certchain" >"$dir/tsa-chain.pem"
sg_log "timestamp authority ready at $tsa_url (PID $(cat "$dir/tsa.pid"))"

# --- Rekor v2 (POSIX log) --------------------------------------------------------------------------------------
mkdir -p "$dir/rekor"
if [[ ! -s $dir/rekor/key.pem ]]; then
  openssl genpkey -algorithm ed25519 -out "$dir/rekor/key.pem" 2>/dev/null
fi
openssl pkey -in "$dir/rekor/key.pem" -pubout -out "$dir/rekor/pub.pem" 2>/dev/null
rm -rf "$dir/rekor/log"
mkdir -p "$dir/rekor/log"
cp_free_port rekor_port
cp_free_port rekor_grpc_port
cp_free_port rekor_metrics_port
rekor_url=http://127.0.0.1:$rekor_port
# The checkpoint origin is the URL's host: that is what clients (sigstore-go, cosign) derive from baseUrl.
launch rekor "$REKOR_SERVER" serve --storage-dir "$dir/rekor/log" --signer-filepath "$dir/rekor/key.pem" \
  --hostname 127.0.0.1 --http-address 127.0.0.1 --http-port "$rekor_port" \
  --grpc-address 127.0.0.1 --grpc-port "$rekor_grpc_port" --http-metrics-port "$rekor_metrics_port" \
  --checkpoint-interval 1s --batch-max-age 100ms
wait_ready rekor "$rekor_url/healthz"
sg_log "Rekor v2 ready at $rekor_url (PID $(cat "$dir/rekor.pid"))"

# --- Fulcio ------------------------------------------------------------------------------------------------------
python3 - "$issuer" "$cp_ca" >"$dir/fulcio-config.json" <<'EOF'
import json, sys
issuer, ca = sys.argv[1], open(sys.argv[2]).read()
print(json.dumps({"OIDCIssuers": {issuer: {"IssuerURL": issuer, "ClientID": "sigstore", "Type": "kubernetes",
                                           "CACert": ca}}}, indent=2))
EOF
cp_free_port fulcio_port
cp_free_port fulcio_grpc_port
cp_free_port fulcio_metrics_port
fulcio_url=http://127.0.0.1:$fulcio_port
launch fulcio "$FULCIO" serve --ca ephemeralca --ct-log-url= --config-path "$dir/fulcio-config.json" \
  --host 127.0.0.1 --port "$fulcio_port" --grpc-host 127.0.0.1 --grpc-port "$fulcio_grpc_port" \
  --metrics-port "$fulcio_metrics_port" --legacy-unix-domain-socket "$dir/fulcio-legacy.sock" --log_type prod
wait_ready fulcio "$fulcio_url/api/v1/rootCert"
curl -fsS --max-time 5 "$fulcio_url/api/v1/rootCert" >"$dir/fulcio-chain.pem"
sg_log "Fulcio ready at $fulcio_url (PID $(cat "$dir/fulcio.pid")), OIDC issuer $issuer (kubernetes)"

# --- trust and signing configuration -----------------------------------------------------------------------------
cosign_env=(env "HOME=$dir/home" "TUF_ROOT=$dir/tuf" SIGSTORE_NO_CACHE=true)
mkdir -p "$dir/home"
"${cosign_env[@]}" "$COSIGN_V3" trusted-root create \
  --fulcio "url=$fulcio_url,certificate-chain=$dir/fulcio-chain.pem,start-time=$start_time" \
  --rekor "url=$rekor_url,public-key=$dir/rekor/pub.pem,start-time=$start_time,origin=127.0.0.1" \
  --tsa "url=$tsa_url/api/v1/timestamp,certificate-chain=$dir/tsa-chain.pem,start-time=$start_time" \
  --out "$dir/trusted_root.json" >"$dir/cosign-config.log" 2>&1 ||
  { cat "$dir/cosign-config.log" >&2; sg_die "cosign trusted-root create failed"; }
"${cosign_env[@]}" "$COSIGN_V3" signing-config create \
  --fulcio "url=$fulcio_url,api-version=1,start-time=$start_time,operator=pipeguard.local" \
  --rekor "url=$rekor_url,api-version=2,start-time=$start_time,operator=pipeguard.local" --rekor-config ANY \
  --tsa "url=$tsa_url/api/v1/timestamp,api-version=1,start-time=$start_time,operator=pipeguard.local" \
  --tsa-config ANY \
  --out "$dir/signing_config.json" >>"$dir/cosign-config.log" 2>&1 ||
  { cat "$dir/cosign-config.log" >&2; sg_die "cosign signing-config create failed"; }

watchdog_pid=
if [[ -n ${PIPEGUARD_SIGSTORE_OWNER_PID:-} ]]; then
  owner=$PIPEGUARD_SIGSTORE_OWNER_PID
  cp_pid_alive "$owner" || sg_die "PIPEGUARD_SIGSTORE_OWNER_PID=$owner is not running"
  cp_arm_watchdog "$dir" "$owner" "$here/stop.sh" pipeguard-watchdog
  watchdog_pid=$(cat "$dir/watchdog.pid")
fi

{
  printf '%s=%q\n' SIGSTORE_DIR "$dir" FULCIO_URL "$fulcio_url" REKOR_URL "$rekor_url" TSA_URL "$tsa_url" \
    OIDC_ISSUER "$issuer" TRUSTED_ROOT "$dir/trusted_root.json" SIGNING_CONFIG "$dir/signing_config.json" \
    FULCIO_PID "$(cat "$dir/fulcio.pid")" REKOR_PID "$(cat "$dir/rekor.pid")" TSA_PID "$(cat "$dir/tsa.pid")" \
    COSIGN_V3 "$COSIGN_V3" CONTROLPLANE_DIR "$cp_dir" WATCHDOG_PID "$watchdog_pid"
} >"$dir/env.tmp"
mv -f "$dir/env.tmp" "$dir/env"
sg_log "ready: source $dir/env; trusted root $dir/trusted_root.json"
