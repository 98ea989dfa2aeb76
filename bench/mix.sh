#!/usr/bin/env bash
# Sustained mix (bench/mix.py: sign-ins, code exchanges, refreshes, userinfo, client credentials)
# against Castellan (release build, fresh SQLite, or PostgreSQL with BENCH_DATABASE=postgres):
# first the peak (closed loop, PEAK_SECONDS, default 15), then SECONDS (default 60) paced at
# PERCENT (default 80) % of it. Prints both runs' lines: per operation count, p50, p99, errors;
# the total rate; Castellan's peak RSS (VmHWM) at the end.
#   bench/mix.sh            env: THREADS (16), SECONDS, PEAK_SECONDS, PERCENT, BENCH_DATABASE
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/castellan.sh
THREADS=${THREADS:-16} SECS=${SECONDS_:-${MIX_SECONDS:-60}} PEAK_SECONDS=${PEAK_SECONDS:-15} PERCENT=${PERCENT:-80}
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
echo "# peak: closed loop, $THREADS workers, ${PEAK_SECONDS}s; load average $(cut -d' ' -f1-3 /proc/loadavg)" >&2
python3 bench/mix.py "${args[@]}" --seconds "$PEAK_SECONDS" | tee "$WORK/peak.txt"
PEAK=$(awk '/^total/ {sub("rps=", "", $2); print $2}' "$WORK/peak.txt")
RATE=$(python3 -c "print(round($PEAK * $PERCENT / 100, 1))")
echo "# sustained: ${SECS}s at $RATE ops/s ($PERCENT % of $PEAK); load average $(cut -d' ' -f1-3 /proc/loadavg)" >&2
python3 bench/mix.py "${args[@]}" --seconds "$SECS" --rate "$RATE"
