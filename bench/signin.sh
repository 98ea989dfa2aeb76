#!/usr/bin/env bash
# Sign-in under a brute-force flood (issue 12): a real user's sign-in latency (median, p99) alone
# and while 16 clients flood wrong passwords, against a release build on a temp SQLite database
# with the default limits (failure factor 5, address factor 50, hashing queue 32). 3 runs of each
# scenario, medians. Scenarios are described in bench/signin_load.py; in each, the real user
# signs in alternately as a returning user (with its device cookie) and a first-time one.
# The machine's load average is printed before each run on stderr: on a shared machine the
# argon2 work competes with everything else, so compare runs made under the same load.
# Usage: bench/signin.sh [SECONDS per scenario, default 15]
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-3}
SECS=${1:-15}
# The load script gives each client its own address in X-Forwarded-For.
export CASTELLAN_TRUSTED_PROXIES=127.0.0.1
source bench/castellan.sh
PASSWORD="bench sign-in passphrase"
echo "$PASSWORD" | "$BIN" user set-password --tenant default --email owner@localhost >/dev/null

: >"$WORK/out.txt"
for i in $(seq "$RUNS"); do
  for scenario in alone spray one; do
    echo "# run $i/$RUNS: $scenario (load average before: $(cut -d' ' -f1-3 /proc/loadavg))" >&2
    python3 bench/signin_load.py "http://127.0.0.1:$PORT" default owner@localhost "$PASSWORD" \
      "$scenario" "$SECS" | tee -a "$WORK/out.txt" >&2
  done
done

python3 - "$WORK/out.txt" <<'PY'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    kv = dict(p.split("=", 1) for p in line.split() if "=" in p and not p.startswith("flood_status") and not p.startswith("other"))
    rows.setdefault(kv["scenario"], []).append(kv)
med = lambda rs, k: statistics.median(float(r[k]) for r in rs)
print(f"{'scenario':<9}{'user':<10}{'sign-ins':>10}{'p50 ms':>9}{'p99 ms':>9}{'503s':>7}{'flood rps':>11}")
for s, rs in rows.items():
    for who, k in (("returning", ""), ("first", "new_")):
        print(f"{s:<9}{who:<10}{med(rs, k + 'signins'):>10.0f}{med(rs, k + 'p50_ms'):>9.1f}{med(rs, k + 'p99_ms'):>9.1f}{med(rs, k + 'busy'):>7.0f}{med(rs, 'flood_rps'):>11.0f}")
PY
