#!/usr/bin/env bash
# Starts a real OCI registry (Debian's docker-registry, i.e. CNCF distribution 2.8) on loopback with all state in
# DIR, optionally over TLS with a test CA and optionally with token auth in front (a stdlib-Python token server).
#
# Usage: start.sh DIR [--tls] [--token-auth]       (stop with stop.sh DIR)
#
# Contract:
#   - binaries come from install.sh (installed/built on first use; run install.sh first to see progress).
#   - listens on 127.0.0.1 only, on a free port picked at random (bind races are retried).
#     PIPEGUARD_REGISTRY_ADDRESS=IP listens on that IPv4 address instead (also named in the serving certificate and
#     in REGISTRY_HOST): for a registry inside a network namespace that pods must reach (scripts/node/start.sh).
#   - DIR afterwards holds:
#       env        KEY=VALUE lines (values shell-quoted), written last: its presence means ready.
#                  REGISTRY_HOST (127.0.0.1:PORT, as in image references) REGISTRY_URL REGISTRY_PID REGISTRY_DIR
#                  REGISTRY_TLS (0|1) CA_CERT (--tls: the test CA, PEM) TOKEN_AUTH (0|1) TOKEN_REALM
#                  TOKEN_SERVER_PID TOKEN_LOG (JSON lines, one per token request) REGISTRY_USER REGISTRY_PASSWORD
#                  (test-only account of the token server) CREDENTIALS_FILE (dockerconfigjson with that account)
#                  WRONG_CREDENTIALS_FILE (same user, wrong password) DOCKER_CONFIG (dir whose config.json is
#                  CREDENTIALS_FILE, for cosign) WATCHDOG_PID
#       config.yml registry.log data/ (blobs and manifests; kept across stop/start) pki/ token.log *.pid
#   - every process is started with setsid (PID = PGID) and recorded in DIR/<name>.pid; stop.sh DIR kills exactly
#     those. PIPEGUARD_REGISTRY_OWNER_PID=PID: a watchdog runs stop.sh DIR when PID exits (for test processes that
#     may die before they clean up).
#   - exits 0 once GET /v2/ answers (200, or 401 with token auth); otherwise 1 after printing the log tail, having
#     stopped what it started. PIPEGUARD_REGISTRY_TIMEOUT (seconds, default 30) bounds the wait.
#   - needs: openssl, curl, python3 (token auth).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

if (($# < 1)) || [[ $1 == -* ]]; then reg_die "usage: start.sh DIR [--tls] [--token-auth]"; fi
target=$1
shift
tls=0
token_auth=0
for arg in "$@"; do
  case $arg in
    --tls) tls=1 ;;
    --token-auth) token_auth=1 ;;
    *) reg_die "unknown option '$arg' (usage: start.sh DIR [--tls] [--token-auth])" ;;
  esac
done
command -v openssl >/dev/null || reg_die "openssl is required"
command -v curl >/dev/null || reg_die "curl is required"

umask 077
mkdir -p "$target"
dir=$(cd "$target" && pwd -P)
timeout=${PIPEGUARD_REGISTRY_TIMEOUT:-30}
address=${PIPEGUARD_REGISTRY_ADDRESS:-127.0.0.1}
[[ $address =~ ^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$ ]] || reg_die "PIPEGUARD_REGISTRY_ADDRESS must be an IPv4 address, got '$address'"
sans=IP:127.0.0.1,DNS:localhost
[[ $address == 127.0.0.1 ]] || sans+=",IP:$address"
pki=$dir/pki

for name in registry token-server watchdog; do
  if [[ -f $dir/$name.pid ]] && cp_pid_owned "$(cat "$dir/$name.pid")" "$dir"; then
    reg_die "a registry is already running in $dir ($name PID $(cat "$dir/$name.pid")); stop.sh it first"
  fi
done
rm -f "$dir/env" "$dir"/*.pid

eval "$("$here/install.sh" --print-env)"

failed() {
  local rc=$?
  if ((rc != 0)); then
    for log in "$dir/registry.log" "$dir/token-server.log"; do
      [[ -s $log ]] && { reg_log "last lines of $log:"; tail -n 20 "$log" >&2; }
    done
    "$here/stop.sh" "$dir" || true
  fi
  return "$rc"
}
trap failed EXIT

# --- PKI: a test CA, the registry's serving certificate, the token signing key ---------------------------------
mkdir -p "$pki" "$dir/data"
if [[ ! -f $pki/ca.crt ]]; then
  openssl ecparam -name prime256v1 -genkey -noout -out "$pki/ca.key" 2>/dev/null
  openssl req -x509 -new -key "$pki/ca.key" -subj "/CN=pipeguard test registry CA" -days 3650 -sha256 \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -out "$pki/ca.crt" 2>/dev/null
  openssl ecparam -name prime256v1 -genkey -noout -out "$pki/registry.key" 2>/dev/null
  openssl req -new -key "$pki/registry.key" -subj "/CN=127.0.0.1" -out "$pki/registry.csr" 2>/dev/null
  printf '%s\n' "subjectAltName=$sans" "basicConstraints=CA:FALSE" \
    "keyUsage=critical,digitalSignature" "extendedKeyUsage=serverAuth" >"$pki/registry.ext"
  openssl x509 -req -in "$pki/registry.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" -CAcreateserial -days 3650 \
    -sha256 -extfile "$pki/registry.ext" -out "$pki/registry.crt" 2>/dev/null
  # Token signing: docker-registry trusts the key of the certificate in rootcertbundle, found by libtrust key id.
  openssl ecparam -name prime256v1 -genkey -noout -out "$pki/token.key" 2>/dev/null
  openssl req -x509 -new -key "$pki/token.key" -subj "/CN=pipeguard test token issuer" -days 3650 -sha256 \
    -out "$pki/token.crt" 2>/dev/null
fi
# libtrust key id: base32(first 240 bits of sha256(DER SubjectPublicKeyInfo)), in groups of 4 joined by ':'.
kid=$(openssl pkey -in "$pki/token.key" -pubout -outform DER 2>/dev/null | openssl dgst -sha256 -binary |
  head -c 30 | base32 | tr -d '=\n' | sed 's/\(....\)/\1:/g; s/:$//')

# --- test account and dockerconfigjson files -------------------------------------------------------------------
user=pipeguard-tester
if [[ ! -f $dir/users ]]; then
  printf '%s:%s\n' "$user" "$(openssl rand -hex 12)" >"$dir/users"
fi
password=$(cut -d: -f2- "$dir/users")

scheme=http
((tls)) && scheme=https
curl_tls=()
((tls)) && curl_tls=(--cacert "$pki/ca.crt")

start_token_server() {
  [[ $token_auth == 1 ]] || return 0
  rm -f "$dir/token-server.port"
  local tls_args=()
  ((tls)) && tls_args=(--tls-cert "$pki/registry.crt" --tls-key "$pki/registry.key")
  setsid python3 "$here/token_server.py" --port-file "$dir/token-server.port" --key "$pki/token.key" \
    --kid "$kid" --issuer pipeguard-test-issuer --service pipeguard-test-registry --users "$dir/users" \
    --log "$dir/token.log" "${tls_args[@]}" >"$dir/token-server.log" 2>&1 </dev/null &
  echo $! >"$dir/token-server.pid"
  local deadline=$((SECONDS + timeout))
  until [[ -s $dir/token-server.port ]]; do
    cp_pid_alive "$(cat "$dir/token-server.pid")" || reg_die "the token server exited at start"
    ((SECONDS < deadline)) || reg_die "the token server did not start within ${timeout}s"
    sleep 0.1
  done
  # "localhost", not 127.0.0.1: go-containerregistry (cosign 3) refuses realms on literal private/loopback IPs.
  token_realm="$scheme://localhost:$(cat "$dir/token-server.port")/token"
}
token_realm=
start_token_server

write_config() {
  {
    echo "version: 0.1"
    echo "log: {level: info, formatter: text, accesslog: {disabled: false}}"
    echo "storage:"
    echo "  filesystem: {rootdirectory: $dir/data}"
    echo "  delete: {enabled: true}"
    echo "http:"
    echo "  addr: $address:$port"
    echo "  secret: pipeguard-test-$port"
    if ((tls)); then echo "  tls: {certificate: $pki/registry.crt, key: $pki/registry.key}"; fi
    if ((token_auth)); then
      echo "auth:"
      echo "  token:"
      echo "    realm: $token_realm"
      echo "    service: pipeguard-test-registry"
      echo "    issuer: pipeguard-test-issuer"
      echo "    rootcertbundle: $pki/token.crt"
    fi
  } >"$dir/config.yml"
}

started=0
reg_port=
for ((try = 0; try < 5; try++)); do
  cp_free_port reg_port # (not "port": that name is local inside cp_free_port)
  port=$reg_port
  write_config
  : >"$dir/registry.log"
  setsid "$DOCKER_REGISTRY" serve "$dir/config.yml" >>"$dir/registry.log" 2>&1 </dev/null &
  echo $! >"$dir/registry.pid"
  deadline=$((SECONDS + timeout))
  bind_failed=0
  while ((SECONDS < deadline)); do
    if ! cp_pid_alive "$(cat "$dir/registry.pid")"; then
      grep -q "address already in use" "$dir/registry.log" || reg_die "docker-registry exited at start"
      bind_failed=1 # another process took the port: retry on another one
      break
    fi
    code=$(curl -s -o /dev/null -w '%{http_code}' "${curl_tls[@]}" "$scheme://$address:$port/v2/" || true)
    if [[ $code == 200 || ($token_auth == 1 && $code == 401) ]]; then
      started=1
      break
    fi
    sleep 0.1
  done
  ((started)) && break
  ((bind_failed)) || reg_die "docker-registry did not answer within ${timeout}s"
done
((started)) || reg_die "docker-registry could not bind a port after 5 tries"

host=$address:$port
mkdir -p "$dir/docker"
auth=$(printf '%s:%s' "$user" "$password" | base64 -w0)
wrong=$(printf '%s:%s' "$user" "not-the-password" | base64 -w0)
printf '{"auths": {"%s": {"auth": "%s"}}}\n' "$host" "$auth" >"$dir/docker/config.json"
printf '{"auths": {"%s": {"auth": "%s"}}}\n' "$host" "$wrong" >"$dir/wrong-credentials.json"

if [[ -n ${PIPEGUARD_REGISTRY_OWNER_PID:-} ]]; then
  # The trailing "$dir/" argument marks the watchdog as ours for stop.sh (cp_pid_owned).
  # shellcheck disable=SC2016 # expanded by the inner bash
  setsid bash -c 'while kill -0 "$1" 2>/dev/null && [[ -f "$3/watchdog.armed" ]]; do sleep 1; done
                  [[ -f "$3/watchdog.armed" ]] && exec "$2" "$3"' \
    watchdog "$PIPEGUARD_REGISTRY_OWNER_PID" "$here/stop.sh" "$dir/" >"$dir/watchdog.log" 2>&1 </dev/null &
  echo $! >"$dir/watchdog.pid"
  touch "$dir/watchdog.armed"
fi

{
  printf '%s=%q\n' REGISTRY_HOST "$host" REGISTRY_URL "$scheme://$host" REGISTRY_PID "$(cat "$dir/registry.pid")" \
    REGISTRY_DIR "$dir" REGISTRY_TLS "$tls" CA_CERT "$([[ $tls == 1 ]] && echo "$pki/ca.crt")" \
    TOKEN_AUTH "$token_auth" TOKEN_REALM "$token_realm" \
    TOKEN_SERVER_PID "$(cat "$dir/token-server.pid" 2>/dev/null)" TOKEN_LOG "$dir/token.log" \
    REGISTRY_USER "$user" REGISTRY_PASSWORD "$password" CREDENTIALS_FILE "$dir/docker/config.json" \
    WRONG_CREDENTIALS_FILE "$dir/wrong-credentials.json" DOCKER_CONFIG "$dir/docker" \
    WATCHDOG_PID "$(cat "$dir/watchdog.pid" 2>/dev/null)"
} >"$dir/env.tmp"
mv "$dir/env.tmp" "$dir/env"
reg_log "registry ready at $scheme://$host (dir $dir$([[ $token_auth == 1 ]] && echo ", token realm $token_realm"))"
