#!/usr/bin/env bash
# Sustained mix (sign-ins, code exchanges, refreshes, userinfo, client credentials) against
# Castellan (release build, fresh SQLite, or PostgreSQL with BENCH_DATABASE=postgres): first the
# peak (closed loop, PEAK_SECONDS, default 60), then SECONDS (default 60) paced at PERCENT
# (default 80) % of it. The peak is taken over as long as the paced run: from a fresh database,
# PostgreSQL's first 15 s ran 10-20 % faster than a whole minute (the plans made on the empty
# tables stay until a table is analyzed, within a minute: BENCHMARKS.md, issue 16), and 80 % of
# that short peak was more than it could sustain. The client is benches/mix.rs (built here with
# `cargo bench --no-run`, in the same CARGO_TARGET_DIR as bench/castellan.sh; tokio, CLIENT_THREADS runtime threads,
# default 1), or bench/mix.py with MIX_CLIENT=python (16 Python threads: its own latency
# dominates the tail). Prints both runs' lines: per operation count, p50, p99, errors (the Rust
# client adds the service times: its paced run is an open loop over THREADS signed-in users, and its
# p50/p99 count an operation's wait for an idle user from its due time); the total rate; the client's CPU per operation (Rust); Castellan's peak RSS (VmHWM).
#   bench/mix.sh   env: THREADS (16), SECONDS, PEAK_SECONDS, PERCENT, BENCH_DATABASE, MIX_CLIENT,
#                  CLIENT_THREADS
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${MIX_CLIENT:-rust}" = python ]; then
  MIX=(python3 bench/mix.py) CLIENT=python
else
  # The bench binary's path from cargo's JSON messages (built first, before the server starts).
  MIX_BIN=$(CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/castellan-target-bench} \
    cargo bench --bench mix --no-run --quiet --message-format=json-render-diagnostics |
    python3 -c 'import json, sys
for m in map(json.loads, sys.stdin):
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "mix" and m.get("executable"):
        print(m["executable"])')
  [ -n "$MIX_BIN" ] || { echo "bench/mix.sh: cargo built no mix bench" >&2; exit 1; }
  MIX=("$MIX_BIN" --client-threads "${CLIENT_THREADS:-1}") CLIENT=rust
fi
source bench/castellan.sh
THREADS=${THREADS:-16} SECS=${SECONDS_:-${MIX_SECONDS:-60}} PEAK_SECONDS=${PEAK_SECONDS:-60} PERCENT=${PERCENT:-80}
PASSWORD="mix-$(python3 -c 'import secrets; print(secrets.token_urlsafe(18))')"
printf '%s\n' "$PASSWORD" | "$BIN" user set-password --tenant default --email owner@localhost >/dev/null
REDIRECT=http://127.0.0.1:9/cb
OUT=$("$BIN" client create --tenant default --name mix --first-party --redirect-uri "$REDIRECT" \
  --grant-type authorization_code --grant-type refresh_token --scope openid --scope offline_access)
CC=$("$BIN" client create --tenant default --name mix-service --grant-type client_credentials)
args=(--issuer "http://127.0.0.1:$PORT/t/default" --redirect-uri "$REDIRECT"
  --client-id "$(awk '/^client_id:/ {print $2}' <<<"$OUT")" --client-secret "$(awk '/^client_secret:/ {print $2}' <<<"$OUT")"
  --cc-client-id "$(awk '/^client_id:/ {print $2}' <<<"$CC")" --cc-client-secret "$(awk '/^client_secret:/ {print $2}' <<<"$CC")"
  --username owner@localhost --password "$PASSWORD" --threads "$THREADS" --server-pid "$PID")
echo "# peak: closed loop, $THREADS workers ($CLIENT client), ${PEAK_SECONDS}s; load average $(cut -d' ' -f1-3 /proc/loadavg)" >&2
"${MIX[@]}" "${args[@]}" --seconds "$PEAK_SECONDS" | tee "$WORK/peak.txt"
PEAK=$(awk '/^total/ {sub("rps=", "", $2); print $2}' "$WORK/peak.txt")
RATE=$(python3 -c "print(round($PEAK * $PERCENT / 100, 1))")
echo "# sustained: ${SECS}s at $RATE ops/s ($PERCENT % of $PEAK); load average $(cut -d' ' -f1-3 /proc/loadavg)" >&2
"${MIX[@]}" "${args[@]}" --seconds "$SECS" --rate "$RATE"
