#!/usr/bin/env bash
# README command (1): the whole product on loopback, no cluster needed.
#
#   bash scripts/demo.sh
#
# Builds pipeguard (Release, build/), generates a fresh self-signed CA and server certificate, starts the admission
# webhook on 127.0.0.1 with the bundled configuration and context (examples/config.yaml, examples/context), sends
# every example manifest under examples/good and examples/bad as an admission.k8s.io/v1 AdmissionReview, and
# prints what was allowed, warned about or denied, and by which rules. Then runs the same checks offline with
# `pipeguard scan` and prints its summary.
#
# Exit status: 0 when every good example was admitted and every bad one denied, by the webhook and by the scan;
# non-zero otherwise. The webhook is always stopped on exit (also on Ctrl-C or failure).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

step() { printf '\n==> %s\n' "$*"; }
die() {
  echo "demo: $*" >&2
  exit 1
}

step "dependencies"
bash scripts/install-deps.sh

step "build (Release, build/)"
export CCACHE_BASEDIR=$PWD CCACHE_NOHASHDIR=true  # reuse objects of earlier builds (tests, CI) when ccache exists
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
ninja -C build -j 2 pipeguard pipeguard-webhook
pipeguard=build/cli/pipeguard
webhook=build/webhook/pipeguard-webhook
[[ -x $pipeguard && -x $webhook ]] || die "the build did not produce $pipeguard and $webhook"

work=$(mktemp -d "${TMPDIR:-/tmp}/pipeguard-demo.XXXXXX")
webhook_pid=""
cleanup() {
  if [[ -n $webhook_pid ]] && kill -0 "$webhook_pid" 2>/dev/null; then
    kill -TERM "$webhook_pid" 2>/dev/null || true
    # SIGTERM drains in-flight requests; give it a few seconds, then insist.
    for _ in $(seq 50); do kill -0 "$webhook_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$webhook_pid" 2>/dev/null || true
    wait "$webhook_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

step "certificates (fresh self-signed CA and a server certificate for 127.0.0.1 / localhost)"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 \
  -subj "/CN=pipeguard demo CA" -keyout "$work/ca.key" -out "$work/ca.crt" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
  -subj "/CN=localhost" -keyout "$work/server.key" -out "$work/server.csr" 2>/dev/null
printf '%s\n' "subjectAltName=IP:127.0.0.1,DNS:localhost" "basicConstraints=critical,CA:FALSE" \
  "keyUsage=critical,digitalSignature" "extendedKeyUsage=serverAuth" >"$work/server.ext"
openssl x509 -req -in "$work/server.csr" -CA "$work/ca.crt" -CAkey "$work/ca.key" -CAcreateserial -days 1 \
  -extfile "$work/server.ext" -out "$work/server.crt" 2>/dev/null
echo "CA $work/ca.crt, server certificate for IP:127.0.0.1, DNS:localhost"

step "webhook on 127.0.0.1 (port chosen by the kernel)"
"$webhook" --config examples/config.yaml --context examples/context \
  --tls-cert "$work/server.crt" --tls-key "$work/server.key" \
  --listen 127.0.0.1:0 --port-file "$work/port" >"$work/webhook.log" 2>&1 &
webhook_pid=$!

port=""
for _ in $(seq 300); do  # up to 30 s
  kill -0 "$webhook_pid" 2>/dev/null || { cat "$work/webhook.log" >&2; die "the webhook exited during startup"; }
  if [[ -s $work/port ]]; then
    port=$(tr -d '[:space:]' <"$work/port")
    if curl -fsS --cacert "$work/ca.crt" "https://127.0.0.1:$port/readyz" >/dev/null 2>&1; then break; fi
  fi
  sleep 0.1
done
curl -fsS --cacert "$work/ca.crt" "https://127.0.0.1:${port:-0}/readyz" >/dev/null 2>&1 ||
  { cat "$work/webhook.log" >&2; die "the webhook did not become ready within 30 s"; }
echo "ready: https://127.0.0.1:$port (pid $webhook_pid)"

step "admission reviews: every example as CREATE by jane.doe@ledgerline.example (group data-engineers)"
webhook_status=0
python3 - "$pipeguard" "https://127.0.0.1:$port/validate" "$work/ca.crt" examples/good/*.yaml examples/bad/*.yaml <<'PY' ||
import json, re, subprocess, sys

pipeguard, url, ca, files = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
RULES = ["plaintext-secret", "insecure-transport", "untrusted-registry", "unsigned-image",
         "service-account-scope", "missing-profile", "profile-guardrail", "break-glass"]
rows, failures, reasons = [], [], []
for path in files:
    reviews = subprocess.run(
        [pipeguard, "admission-review", "--user", "jane.doe@ledgerline.example",
         "--group", "data-engineers", "--group", "system:authenticated", path],
        check=True, capture_output=True, text=True).stdout.splitlines()
    expect_denied = "/bad/" in path
    shown = path.removeprefix("examples/")
    for line in reviews:
        request = json.loads(line)["request"]
        post = subprocess.run(
            ["curl", "-sS", "--max-time", "10", "--cacert", ca, "-H", "Content-Type: application/json",
             "--data-binary", "@-", url], input=line, capture_output=True, text=True)
        obj = f'{request["kind"]["kind"]}/{request.get("name", "")}'
        if post.returncode != 0:
            rows.append((shown, obj, "ERROR", post.stderr.strip()[:60]))
            failures.append(path)
            continue
        try:
            response = json.loads(post.stdout)["response"]
        except (ValueError, KeyError):
            rows.append((shown, obj, "ERROR", "not an AdmissionReview response"))
            failures.append(path)
            continue
        warnings = response.get("warnings") or []
        annotations = response.get("auditAnnotations") or {}
        if "rules" in annotations:  # the webhook's audit annotation lists the rule IDs that fired
            rules = sorted({r for r in annotations["rules"].split(",") if r})
        else:  # otherwise find rule IDs in the denial message and the warnings
            text = " ".join([response.get("status", {}).get("message", "")] + warnings)
            rules = sorted({r for r in RULES if re.search(r"(?<![a-z-])" + re.escape(r) + r"(?![a-z-])", text)})
        allowed = response.get("allowed") is True
        decision = "DENIED" if not allowed else ("WARN" if warnings else "ALLOWED")
        if response.get("uid") != request["uid"]:
            decision += "?uid"
            failures.append(path)
        elif allowed == expect_denied:
            failures.append(path)
        rows.append((shown, obj, decision, ", ".join(rules) or "-"))
        message = response.get("status", {}).get("message", "")
        why = [l[2:] for l in message.splitlines() if l.startswith("- ")] + warnings
        reasons += [(shown, w) for w in why]

def cut(s, n):
    return s if len(s) <= n else s[: n - 1] + "…"

widths = (40, 58, 8)
print(f'{"FILE":<{widths[0]}} {"OBJECT":<{widths[1]}} {"DECISION":<{widths[2]}} RULES')
for f, o, d, r in rows:
    print(f"{cut(f, widths[0]):<{widths[0]}} {cut(o, widths[1]):<{widths[1]}} {d:<{widths[2]}} {r}")
print("\nWhy (from the webhook's replies; the full report with fixes: pipeguard scan, below):")
for f, w in reasons:
    print(f"  {cut(f, 38):<38} {cut(w, 150)}")
good = sum(1 for r in rows if r[0].startswith("good/"))
print(f"\n{len(rows)} admission reviews: {good} from examples/good (expected admitted), "
      f"{len(rows) - good} from examples/bad (expected denied); {len(failures)} unexpected.")
for f in sorted(set(failures)):
    print(f"UNEXPECTED: {f}", file=sys.stderr)
sys.exit(1 if failures else 0)
PY
  webhook_status=$?

step "pipeguard scan --config examples/config.yaml -o text examples/ (the same checks offline, as a CI gate)"
scan_status=0
"$pipeguard" scan --config examples/config.yaml -o text examples/ >"$work/scan.txt" 2>"$work/scan.err" || scan_status=$?
sed -n '/^Summary:/,$p' "$work/scan.txt"
echo "(exit status $scan_status: 0 nothing denied, 1 something denied, 2 input error; full report: rerun the command)"
((scan_status == 1)) || { cat "$work/scan.err" >&2; die "scan exit status $scan_status, expected 1 (the bad examples are denied)"; }

# The offline verdicts must match the examples' intent too: denied exactly when the file is under examples/bad.
"$pipeguard" scan --config examples/config.yaml -o json examples/ 2>/dev/null >"$work/scan.json" || true
scan_check=0
python3 - "$work/scan.json" <<'PY' || scan_check=$?
import json, sys
results = json.load(open(sys.argv[1]))["results"]
wrong = [r["source"] for r in results if r["allowed"] == ("/bad/" in r["source"])]
for w in wrong:
    print(f"UNEXPECTED scan verdict: {w}", file=sys.stderr)
sys.exit(1 if wrong or not results else 0)
PY

step "result"
if ((webhook_status == 0 && scan_check == 0)); then
  echo "OK: every good example was admitted and every bad example denied, by the webhook and by pipeguard scan."
  exit 0
fi
echo "FAILED: some examples were not decided as expected (see UNEXPECTED lines above)." >&2
exit 1
