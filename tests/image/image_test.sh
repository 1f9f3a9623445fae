#!/usr/bin/env bash
# The daemonless container image end to end (scripts/image/build.sh and push.sh, docs/image.md): built twice from the
# same inputs it has the same digest, and another SOURCE_DATE_EPOCH gives another; its config and its one layer hold
# what the Dockerfile and the Helm chart expect (non-root user, no entrypoint, the three binaries, their libraries,
# the CA bundle; no shell, no package manager, no setuid); pushed over TLS to the real test registry, signed with
# cosign 2 (.sig) and cosign 3 (Sigstore bundle), verified by `pipeguard verify-image` (and refused unsigned or with
# another key); pulled back, its own binaries run as 65532 from its own root and verify it themselves.
#
# Usage: tests/image/image_test.sh            (root; PIPEGUARD_BUILD_DIR = CMake build tree, default build)
# First run: mmdebstrap fetches the Debian root (~1 min, cached under ~/.cache/pipeguard/image) and
# scripts/registry/install.sh builds cosign if missing. Prints each stage's time at the end.
# shellcheck disable=SC2016 # the bash -c snippets expand their own arguments
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
build_dir=${PIPEGUARD_BUILD_DIR:-$repo/build}
[[ $build_dir == /* ]] || build_dir=$repo/$build_dir
cli=$build_dir/cli/pipeguard

passed=0 failed=0
check() { # check NAME COMMAND... : runs a check and counts it
  local name=$1
  shift
  if "$@"; then passed=$((passed + 1)); echo "  ok   $name"; else failed=$((failed + 1)); echo "  FAIL $name"; fi
}
stage_start=$SECONDS
stage_times=()
stage() {
  stage_times+=("$(printf '%-38s %4ss' "$1" $((SECONDS - stage_start)))")
  stage_start=$SECONDS
}

t=$(mktemp -d -t pipeguard-image.XXXXXX)
cleanup() {
  bash "$repo/scripts/registry/stop.sh" "$t/registry" >/dev/null 2>&1 || true
  rm -rf "$t"
}
trap cleanup EXIT

# --- build twice, and once with another SOURCE_DATE_EPOCH ----------------------------------------------------------
echo "==> build (twice) and reproducibility"
sde=$(git -C "$repo" log -1 --format=%ct 2>/dev/null || echo 1700000000)
build() { # build OUT [SOURCE_DATE_EPOCH] [build.sh options...]
  local out=$1 epoch=${2:-$sde}
  shift 2 || shift
  SOURCE_DATE_EPOCH=$epoch bash "$repo/scripts/image/build.sh" --build-dir "$build_dir" --out "$out" "$@" \
    >/dev/null 2>"$out.log" || { cat "$out.log"; echo "build.sh failed (log above)"; exit 1; }
}
build "$t/a" "$sde"
grep -E '^  (digest|size) |stage debian root' "$t/a.log" | sed 's/^ */  /'
stage "build 1 (compile check + image)"
build "$t/b" "$sde" --no-compile
stage "build 2 (same inputs)"
build "$t/c" $((sde + 1)) --no-compile
stage "build 3 (SOURCE_DATE_EPOCH+1)"
digest=$(cat "$t/a/digest")
check "same inputs, same digest ($digest)" test "$digest" = "$(cat "$t/b/digest")"
check "same inputs, byte-identical layouts" diff -r "$t/a/oci" "$t/b/oci"
check "another SOURCE_DATE_EPOCH, another digest" test "$digest" != "$(cat "$t/c/digest")"

layout=$t/a/oci
blob() { printf '%s/blobs/%s\n' "$layout" "${1/://}"; }
manifest=$(blob "$digest")
config=$(blob "$(jq -r .config.digest "$manifest")")
check "one layer, gzip" test "$(jq -r '[.layers[].mediaType] | join(",")' "$manifest")" = \
  "application/vnd.oci.image.layer.v1.tar+gzip"
layer=$(blob "$(jq -r '.layers[0].digest' "$manifest")")

# --- the image config ----------------------------------------------------------------------------------------------
echo "==> image config"
cfg() { jq -c "$1" "$config"; }
check "non-root user 65532:65532" test "$(cfg .config.User)" = '"65532:65532"'
check "no entrypoint (any of the three binaries can be the command)" test "$(cfg .config.Entrypoint)" = null
check "cmd is the webhook's help" test "$(cfg .config.Cmd)" = '["/usr/local/bin/pipeguard-webhook","--help"]'
check "env: PATH and SSL_CERT_FILE" test "$(cfg '.config.Env | sort')" = \
  '["PATH=/usr/local/bin","SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt"]'
check "exposes 8443/tcp" test "$(cfg '.config.ExposedPorts | keys')" = '["8443/tcp"]'
check "linux/amd64" test "$(cfg '[.os, .architecture]')" = '["linux","amd64"]'
check "created is SOURCE_DATE_EPOCH" test "$(cfg .created)" = "\"$(date -u -d "@$sde" +%Y-%m-%dT%H:%M:%SZ)\""
check "the config's diff_id is the uncompressed layer's digest" test "$(cfg '.rootfs.diff_ids[0]')" = \
  "\"sha256:$(gzip -dc "$layer" | sha256sum | cut -d' ' -f1)\""

# --- the Dockerfile describes the same image -----------------------------------------------------------------------
echo "==> Dockerfile and Helm chart agree with the image"
final=$(awk '/^FROM / { stage = "" } { stage = stage $0 "\n" } END { printf "%s", stage }' "$repo/Dockerfile")
check "Dockerfile's final stage is FROM scratch" grep -qx 'FROM scratch' <<<"$final"
check "Dockerfile USER = image user" test "$(sed -n 's/^USER //p' <<<"$final")" = "$(jq -r .config.User "$config")"
docker_cmd=$(sed -n 's/^CMD //p' <<<"$final" | jq -c .)
check "Dockerfile CMD = image cmd" test "$docker_cmd" = "$(cfg .config.Cmd)"
check "Dockerfile has no ENTRYPOINT, as the image" bash -c '! grep -q "^ENTRYPOINT" <<<"$1"' _ "$final"
docker_env=$(sed -n 's/^ENV //p' <<<"$final" | tr ' ' '\n' | sort | jq -R . | jq -cs .)
check "Dockerfile ENV = image env" test "$docker_env" = "$(cfg '.config.Env | sort')"
check "Dockerfile EXPOSE = image ports" test "$(sed -n 's/^EXPOSE //p' <<<"$final")/tcp" = \
  "$(jq -r '.config.ExposedPorts | keys[0]' "$config")"

tar -tvzf "$layer" --numeric-owner --full-time >"$t/layer.txt"
tar -tzf "$layer" >"$t/names.txt"
image_bins=$(grep '^usr/local/bin/.' "$t/names.txt" | sed 's|.*/||' | sort | tr '\n' ' ')
docker_bins=$(grep -o '/image-in/bin/pipeguard[a-z-]*' "$repo/Dockerfile" | sed 's|.*/||' | sort -u | tr '\n' ' ')
check "Dockerfile assembles the same binaries as the image ($image_bins)" test "$docker_bins" = "$image_bins"
chart_commands=$(grep -ho 'command: \[[^]]*\]' "$repo"/helm/pipeguard/templates/*.yaml |
  sed 's/command: \[\(.*\)\]/\1/')
for cmd in $chart_commands; do
  check "the chart's command $cmd is in the image" grep -qx "${cmd#/}" "$t/names.txt"
done
check "the chart's runAsUser/runAsGroup (65532) is the image user" bash -c \
  'grep -q "runAsUser: 65532" "$1" && grep -q "runAsGroup: 65532" "$1"' _ "$repo/helm/pipeguard/templates/_helpers.tpl"

# --- the layer's contents --------------------------------------------------------------------------------------------
echo "==> layer contents (distroless-style: no shell, no package manager)"
check "exactly the three binaries in /usr/local/bin" test "$image_bins" = \
  "pipeguard pipeguard-operator pipeguard-webhook "
check "the binaries are 0755" test "$(grep -c '^-rwxr-xr-x .* usr/local/bin/pipeguard' "$t/layer.txt")" = 3
check "entries sorted by name" bash -c 'LC_ALL=C sort -c "$1"' _ "$t/names.txt"
check "every entry owned by 0:0" test -z "$(awk '$2 != "0/0"' "$t/layer.txt")"
stamp=$(date -u -d "@$sde" '+%Y-%m-%d %H:%M:%S')
check "every entry's mtime is SOURCE_DATE_EPOCH" test -z "$(grep -v " $stamp " "$t/layer.txt")"
forbidden='(^|/)(sh|bash|dash|busybox|ls|cat|apt|apt-get|dpkg|perl)$'
check "no shell, coreutils or package manager" test -z "$(grep -E "$forbidden" "$t/names.txt")"
check "nothing in bin/ or sbin/ besides /usr/local/bin" test -z "$(grep -E '(^|/)s?bin/' "$t/names.txt" |
  grep -v '^usr/local/bin/')"
check "no setuid or setgid file" test -z "$(awk '$1 ~ /^-..[sS]|^-.....[sS]/' "$t/layer.txt")"
check "loader at the binaries' PT_INTERP path (lib64 -> usr/lib64)" grep -qx 'usr/lib64/ld-linux-x86-64.so.2' \
  "$t/names.txt"
mkdir -p "$t/root"
tar -xzf "$layer" -C "$t/root"
certs=$(grep -c 'BEGIN CERTIFICATE' "$t/root/etc/ssl/certs/ca-certificates.crt" || true)
check "CA bundle present ($certs certificates)" test "$certs" -gt 100
check "OpenSSL's default cert.pem links to the bundle" test "$(readlink "$t/root/usr/lib/ssl/cert.pem")" = \
  /etc/ssl/certs/ca-certificates.crt
check "/etc/passwd has nonroot 65532 without a login shell" grep -qx \
  'nonroot:x:65532:65532:nonroot:/nonexistent:/usr/sbin/nologin' "$t/root/etc/passwd"
check "/tmp is 1777" test "$(stat -c %a "$t/root/tmp")" = 1777
check "packages.txt lists libc6, libssl3 and ca-certificates" bash -c \
  'grep -q "^libc6 " "$1" && grep -q "^libssl3 " "$1" && grep -q "^ca-certificates " "$1"' _ "$t/a/packages.txt"
check "a dpkg status entry per listed package" test "$(find "$t/root/var/lib/dpkg/status.d" -type f | wc -l)" = \
  "$(wc -l <"$t/a/packages.txt")"
stage "config, Dockerfile and layer checks"

# --- push over TLS, sign with cosign 2 and 3, verify with pipeguard ----------------------------------------------
echo "==> push over TLS, sign (cosign v2 + v3), verify with pipeguard verify-image"
bash "$repo/scripts/registry/install.sh" >/dev/null 2>"$t/install.log" || { cat "$t/install.log"; exit 1; }
PIPEGUARD_REGISTRY_OWNER_PID=$$ bash "$repo/scripts/registry/start.sh" "$t/registry" --tls 2>"$t/registry.log" ||
  { cat "$t/registry.log"; exit 1; }
set -a
# shellcheck disable=SC1091
. "$t/registry/env"
set +a
check "the test registry serves TLS" test "$REGISTRY_TLS" = 1
push() { # push REPO FORMATS : push.sh the built image; its verify-image run must pass when FORMATS is non-empty
  bash "$repo/scripts/image/push.sh" "$t/a" "$t/registry" --repo "$1" --formats "$2" --cli "$cli" \
    2>"$t/push-${1//\//-}.log"
}
ref=$(push pipeguard/pipeguard "v2-legacy v3-bundle") || { cat "$t/push-pipeguard-pipeguard.log"; exit 1; }
check "pushed with the built digest" test "$ref" = "$REGISTRY_HOST/pipeguard/pipeguard@$digest"
check "push.sh ran cosign verify for both formats" test \
  "$(grep -c 'cosign verify: OK' "$t/push-pipeguard-pipeguard.log")" = 2
stage "push + sign v2 and v3 + verify"
verify() { "$cli" verify-image --config "$t/registry/verify-pipeguard-pipeguard.yaml" "$@"; }
pub=$t/registry/keys/pipeguard-image.pub
for format in v2-legacy v3-bundle; do
  push "pipeguard/$format-only" "$format" >/dev/null || { cat "$t/push-pipeguard-$format-only.log"; exit 1; }
  out=$(verify --key "$pub" "$REGISTRY_HOST/pipeguard/$format-only@$digest" 2>&1) || true
  expected="sigstore bundle"
  [[ $format == v2-legacy ]] && expected="cosign simple signing (.sig)"
  check "verify-image accepts the $format signature alone ($expected)" grep -qF "format:   $expected" <<<"$out"
done
push pipeguard/unsigned "" >/dev/null || { cat "$t/push-pipeguard-unsigned.log"; exit 1; }
rc=0
out=$(verify --key "$pub" "$REGISTRY_HOST/pipeguard/unsigned@$digest" 2>&1) || rc=$?
check "verify-image refuses the unsigned copy (exit $rc, 'not verified')" bash -c \
  '[[ $1 == 1 ]] && grep -q "not verified" <<<"$2"' _ "$rc" "$out"
other=$(bash "$repo/scripts/registry/artifacts.sh" keygen "$t/registry" another-key)
rc=0
out=$(verify --key "$other" "$ref" 2>&1) || rc=$?
check "verify-image refuses the signed image under another key (exit $rc)" bash -c \
  '[[ $1 == 1 ]] && grep -q "not verified" <<<"$2"' _ "$rc" "$out"
stage "format-by-format and negative checks"

# --- pull it back and run the image's own binaries from its own root ------------------------------------------------
echo "==> pull back, run the image's binaries as 65532 from its own root"
mkdir -p "$t/certs" && cp "$CA_CERT" "$t/certs/ca.crt"
skopeo copy --quiet --src-cert-dir "$t/certs" "docker://$ref" "oci:$t/pulled:p" >/dev/null
check "the pulled manifest has the built digest" test \
  "$(jq -r '.manifests[0].digest' "$t/pulled/index.json")" = "$digest"
pulled_layer=$t/pulled/blobs/$(jq -r '.layers[0].digest' "$t/pulled/blobs/${digest/://}" | tr : /)
mkdir -p "$t/run"
tar -xzf "$pulled_layer" -C "$t/run"
in_image() { env -i "$(command -v chroot)" --userspec=65532:65532 "$t/run" "$@"; } # clean env: no SSL_CERT_FILE
runs() { in_image "$@" >/dev/null 2>&1; }
for name in pipeguard pipeguard-webhook pipeguard-operator; do
  check "/usr/local/bin/$name --help runs from the image's root" runs "/usr/local/bin/$name" --help
done
mkdir -p "$t/run/tmp/check"
cp "$CA_CERT" "$pub" "$t/run/tmp/check/"
printf 'images:\n  registries:\n    - {host: "%s", caFile: /tmp/check/ca.crt}\n' "$REGISTRY_HOST" \
  >"$t/run/tmp/check/config.yaml"
chmod -R a+rX "$t/run/tmp/check"
out=$(in_image /usr/local/bin/pipeguard verify-image --config /tmp/check/config.yaml \
  --key /tmp/check/pipeguard-image.pub "$ref" 2>&1) || true
check "the image's own CLI verifies the image (TLS + signature from inside)" grep -q "^digest: *$digest" <<<"$out"
rc=0
out=$(in_image /usr/local/bin/pipeguard verify-image --key /tmp/check/pipeguard-image.pub "$ref" 2>&1) || rc=$?
check "without caFile the image's system trust store refuses the test CA" bash -c \
  '[[ $1 == 1 ]] && grep -q "not trusted" <<<"$2"' _ "$rc" "$out"
cat "$CA_CERT" >>"$t/run/etc/ssl/certs/ca-certificates.crt"
out=$(in_image /usr/local/bin/pipeguard verify-image --key /tmp/check/pipeguard-image.pub "$ref" 2>&1) || true
check "with the test CA in the image's bundle, default trust accepts it (OpenSSL default paths)" \
  grep -q "^digest: *$digest" <<<"$out"
stage "pull + run from the image's root"

echo "image: $digest, $(sed -n 's/^  size *//p' "$t/a.log")"
echo "stage times:"
printf '  %s\n' "${stage_times[@]}"
echo "image_test: $passed passed, $failed failed"
((failed == 0))
