#!/usr/bin/env bash
# Memory of the real pipeguard-webhook binary under hostile large reviews: N concurrent AdmissionReviews of SIZE
# bytes, sent by curl processes. --shape dense: the object is an array of `{}` (the most allocations per byte a
# JSON DOM can be made to do; refused by the value bound before parsing); --shape capped: objects padded so the
# body stays just under the value bound (the largest DOM the server builds). Reports the server's resident memory
# idle, at peak (VmHWM) and 10 s after, with the ratios peak / bodies in flight and after / idle.
#
#   bench/webhook_memory.sh [--build DIR] [--concurrency N] [--bytes SIZE] [--shape dense|capped]
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="$repo/build" concurrency=16 bytes=$((3 << 20)) shape=dense
while (($#)); do
  case "$1" in
    --build) build="$2"; shift 2 ;;
    --concurrency) concurrency="$2"; shift 2 ;;
    --bytes) bytes="$2"; shift 2 ;;
    --shape) shape="$2"; shift 2 ;;
    -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
    *) echo "webhook_memory.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
((concurrency <= 64)) || { echo "webhook_memory.sh: --concurrency is at most 64" >&2; exit 2; }
work="$(mktemp -d)"
pid=""
trap '[[ -n $pid ]] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
"$build/bench/write_fixtures" "$work"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=localhost \
  -addext subjectAltName=IP:127.0.0.1 -keyout "$work/tls.key" -out "$work/tls.crt" 2>/dev/null
python3 - "$work/big.json" "$bytes" "$shape" <<'PY'
import json, sys
path, size, shape = sys.argv[1], int(sys.argv[2]), sys.argv[3]
head = ('{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"big","kind":{"group":"",'
        '"version":"v1","kind":"Pod"},"resource":{"group":"","version":"v1","resource":"pods"},"namespace":"etl",'
        '"operation":"CREATE","userInfo":{"username":"u"},"object":{"apiVersion":"v1","kind":"Pod","metadata":'
        '{"name":"big","labels":{"pipeguard.io/pipeline":"payments"}},"spec":{"containers":[]},"x":[')
tail = ']}}}'
if shape == "dense":
    n = (size - len(head) - len(tail)) // 3
    items = ["{}"] * n
else:  # ~95,000 one-member objects (~190,000 values by the server's estimate), padded to the size
    n = 95000
    pad = max(1, (size - len(head) - len(tail)) // n - len('{"k":""},'))
    items = ['{"k":"%s"}' % ("v" * pad)] * n
open(path, "w").write(head + ",".join(items) + tail)
PY
"$build/webhook/pipeguard-webhook" --config "$work/config.yaml" --context "$work/context" \
  --tls-cert "$work/tls.crt" --tls-key "$work/tls.key" --listen 127.0.0.1:0 --port-file "$work/port" \
  --log-level warn >/dev/null 2>"$work/log" &
pid=$!
for _ in $(seq 100); do [[ -s $work/port ]] && break; sleep 0.1; done
port=$(cat "$work/port")
until curl -ksf "https://127.0.0.1:$port/readyz" >/dev/null; do sleep 0.1; done
kib() { awk -v k="$1" '$1 == k":" {print $2}' "/proc/$pid/status"; }
fresh=$(kib VmRSS)
# Warm-up: one large and a few small reviews start the pools' threads and the allocator's arenas, as in a server
# that has served traffic; "idle" is measured after it.
curl -ks -o /dev/null -H 'Content-Type: application/json' --data-binary @"$work/big.json" "https://127.0.0.1:$port/validate"
for _ in 1 2 3 4; do
  curl -ks -o /dev/null -H 'Content-Type: application/json' --data-binary @"$work/review.json" "https://127.0.0.1:$port/validate"
done
sleep 3
idle=$(kib VmRSS)
start=$(date +%s.%N)
for i in $(seq "$concurrency"); do
  curl -ks -o "$work/reply.$i" -w '%{http_code}\n' -H 'Content-Type: application/json' \
    --data-binary @"$work/big.json" "https://127.0.0.1:$port/validate" >"$work/code.$i" &
done
wait $(jobs -p | grep -v "^$pid$") 2>/dev/null || true
elapsed=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN{printf "%.1f", e-s}')
peak=$(kib VmHWM)
sleep 10
after=$(kib VmRSS)
codes=$(sort "$work"/code.* | uniq -c | awk '{printf "%s x %s; ", $1, $2}')
echo "webhook_memory: $concurrency concurrent reviews of $(wc -c <"$work/big.json") bytes (shape $shape), load average $(cut -d' ' -f1 /proc/loadavg)"
echo "  replies: ${codes% ; } in ${elapsed}s; first reply: $(head -c 300 "$work/reply.1")"
awk -v f="$fresh" -v i="$idle" -v p="$peak" -v a="$after" -v n="$concurrency" -v b="$bytes" 'BEGIN {
  printf "  RSS at start %.1f MiB, idle after warm-up %.1f MiB, peak %.1f MiB, 10 s after %.1f MiB\n", f/1024, i/1024, p/1024, a/1024
  printf "  peak - idle = %.1fx the bodies in flight; after / idle = %.2f\n", (p-i)*1024/(n*b), a/i }'
