#!/usr/bin/env bash
# SCIM benchmark: Castellan (release build, temp SQLite database) and the Python reference server
# (../shared/bench/peer-scim2-server, scim2-server in memory) in the same run, same load script
# (bench/scim_load.py) and the same wrk throughput runs.
# Usage: bench/scim.sh            (USERS=100000 CREATES=300 SAMPLES=500 PEER_SAMPLES=20 DURATION=10s)
# The peer answers the emails filter in seconds at 100,000 users, hence fewer samples for it.
set -euo pipefail
cd "$(dirname "$0")/.."
BENCH=${BENCH_DIR:-../shared/bench}
USERS=${USERS:-100000}
CREATES=${CREATES:-300}
SAMPLES=${SAMPLES:-500}
PEER_SAMPLES=${PEER_SAMPLES:-20}
DURATION=${DURATION:-10s}
command -v wrk >/dev/null || { echo "needs wrk (apt-get install -y wrk)" >&2; exit 2; }
HERE=$(pwd)
source bench/castellan.sh
TOKEN=$("$BIN" scim-token create --tenant default --name bench)

# One server: the load script, then wrk on the two lookups (16 connections, one thread).
measure() { # NAME URL TOKEN SAMPLES
  python3 "$HERE/bench/scim_load.py" --url "$2" --token "$3" --users "$USERS" --creates "$CREATES" \
    --samples "$4" --wrk-urls "$WORK/$1.urls" | sed -u "s/^/server=$1 /"
  n=0
  for metric in rps_username rps_email; do
    n=$((n + 1))
    url=$(sed -n "${n}p" "$WORK/$1.urls")
    out=$(wrk -t1 -c16 -d"$DURATION" --timeout 30s --latency -H "Authorization: Bearer $3" "$url")
    rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
    p50=$(awk '$1 == "50%" {print $2}' <<<"$out")
    non2xx=$(awk '/Non-2xx/ {print $NF}' <<<"$out")
    echo "server=$1 metric=$metric rps=$rps p50=$p50 non2xx=${non2xx:-0}"
  done
}

measure castellan "http://127.0.0.1:$PORT/t/default/scim/v2" "$TOKEN" "$SAMPLES" | tee "$WORK/results.txt"
echo "server=castellan metric=rss max_rss_kb=$(awk '/VmHWM/ {print $2}' /proc/$PID/status)" | tee -a "$WORK/results.txt"
kill "$PID"; PID=""
export -f measure; export WORK USERS CREATES PEER_SAMPLES DURATION HERE
"$BENCH/peer-scim2-server" -- bash -c 'measure peer "$PEER_SCIM_URL" "$PEER_SCIM_TOKEN" "$PEER_SAMPLES"' | tee -a "$WORK/results.txt"

python3 - "$WORK/results.txt" <<'PY'
import sys
rows = {}
for line in open(sys.argv[1]):
    kv = dict(p.split("=", 1) for p in line.split() if "=" in p)
    rows[(kv["server"], kv["metric"])] = kv
def g(s, m, k):
    try: return float(rows[(s, m)][k].rstrip("ms").rstrip("u"))
    except (KeyError, ValueError): return float("nan")
print(f"{'metric':<34}{'castellan':>12}{'peer':>12}{'ratio':>9}")
for m, k, label, higher in [
    ("bulk_import_10k", "users_per_s", "bulk import 10k (users/s)", True),
    ("create", "users_per_s", "POST /Users (users/s)", True),
    ("lookup_username", "median_ms", "userName eq, median (ms)", False),
    ("lookup_email", "median_ms", "emails[...] page, median (ms)", False),
    ("rps_username", "rps", "userName eq, 16 conn (req/s)", True),
    ("rps_email", "rps", "emails[...] page, 16 conn (req/s)", True),
]:
    c, p = g("castellan", m, k), g("peer", m, k)
    ratio = (c / p if higher else p / c) if c and p else float("nan")
    print(f"{label:<34}{c:>12.2f}{p:>12.2f}{ratio:>8.1f}x")
PY
