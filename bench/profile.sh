#!/usr/bin/env bash
# Where a user token request's time goes, independent of the machine's load: for the refresh
# grant, the code exchange, userinfo and introspection of a user's access token, instructions per
# request under callgrind and SQL statements per request from sqlx's statement log.
#
#   bench/profile.sh [--database sqlite|postgres] [--count 200]
#   env: CARGO_TARGET_DIR, BIN (a binary to profile instead of building), PG_URL (default postgres://postgres@127.0.0.1:5432), KEEP=1 keeps the
#        callgrind files (their folder is printed) for callgrind_annotate
#
# Starts the release build twice on one fresh database: under `valgrind --tool=callgrind`, and
# natively with `CASTELLAN_LOG=warn,sqlx::query=trace`. Each gets its own tokens
# (bench/refresh_tokens.py: one sign-in per worker, then codes, refresh or access tokens), then
# bench/drive.py sends --count requests of each kind, one after the other. Under callgrind the
# counters are zeroed before and dumped after each kind (`callgrind_control -z`, `-d`), so the
# figure is the server's instructions for those requests only (all threads: runtime, sqlx's
# SQLite worker, the database driver), divided by the count. Statements per request: lines sqlx
# logged during the native run of each kind, divided by the count (sqlx does not log the BEGIN
# and COMMIT of a transaction, each one more round trip, nor a ping; and it logs a string of
# several statements, which SQLite runs in one hand-off, as one).
# stdout: one line per kind, `kind=... ir_per_request=... statements_per_request=...`.
set -euo pipefail
cd "$(dirname "$0")/.."
HERE=$PWD/bench
DATABASE=sqlite COUNT=200
while [[ $# -gt 0 ]]; do
  case "$1" in
    --database) DATABASE=${2:?}; shift 2 ;;
    --count) COUNT=${2:?}; shift 2 ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) echo "profile.sh: unknown option $1 (see --help)" >&2; exit 1 ;;
  esac
done
[[ $DATABASE =~ ^(sqlite|postgres)$ ]] || { echo "profile.sh: bad --database $DATABASE" >&2; exit 1; }
[[ $COUNT =~ ^[1-9][0-9]*$ ]] || { echo "profile.sh: bad --count $COUNT" >&2; exit 1; }
command -v valgrind >/dev/null || { echo "profile.sh: needs valgrind" >&2; exit 1; }

if [[ -z ${BIN:-} ]]; then   # BIN=path profiles that binary instead (an earlier build, to compare)
  export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/castellan-target-bench}
  cargo build --release --quiet
  BIN=$CARGO_TARGET_DIR/release/castellan
fi
WORK=$(mktemp -d)
PID="" PG_DB=""
PG_URL=${PG_URL:-postgres://postgres@127.0.0.1:5432}
cleanup() {
  if [[ -n $PID ]]; then kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; fi
  if [[ -n $PG_DB ]]; then psql -q "$PG_URL/postgres" -c "DROP DATABASE IF EXISTS $PG_DB" >/dev/null 2>&1 || true; fi
  if [[ ${KEEP:-0} == 1 ]]; then echo "# kept $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
if [[ $DATABASE == postgres ]]; then
  PG_DB="castellan_profile_$$_$RANDOM"
  psql -q "$PG_URL/postgres" -c "CREATE DATABASE $PG_DB" >/dev/null
  export CASTELLAN_DATABASE_URL="$PG_URL/$PG_DB"
  # PostgreSQL needs a master key (SQLite makes one beside its file)
  "$BIN" master-key generate --out "$WORK/master.key" >/dev/null
  export CASTELLAN_MASTER_KEY_FILE="$WORK/master.key"
else
  export CASTELLAN_DATABASE_URL="sqlite:$WORK/castellan.db"
fi
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
export CASTELLAN_LISTEN="127.0.0.1:$PORT" CASTELLAN_PUBLIC_URL="http://127.0.0.1:$PORT"
ISSUER="http://127.0.0.1:$PORT/t/default"

# The first start migrates the database; then the password and the client.
start() { # LOGFILE [WRAPPER...]
  local log=$1; shift
  "$@" "$BIN" serve >"$log" 2>&1 &
  PID=$!
  for _ in $(seq 1200); do
    curl -sf -o /dev/null "http://127.0.0.1:$PORT/healthz" && return 0
    kill -0 "$PID" 2>/dev/null || { cat "$log" >&2; exit 2; }
    sleep 0.1
  done
  echo "profile.sh: the server did not come up" >&2; exit 2
}
stop() { kill "$PID"; wait "$PID" 2>/dev/null || true; PID=""; }
start "$WORK/native0.log" env CASTELLAN_LOG=warn
PASSWORD="profile-$(python3 -c 'import secrets; print(secrets.token_urlsafe(18))')"
printf '%s\n' "$PASSWORD" | "$BIN" user set-password --tenant default --email owner@localhost >/dev/null
REDIRECT=http://127.0.0.1:9/cb
OUT=$("$BIN" client create --tenant default --name profile --first-party --redirect-uri "$REDIRECT" \
  --grant-type authorization_code --grant-type refresh_token --scope openid --scope offline_access \
  --scope profile --scope email)
CID=$(awk '/^client_id:/ {print $2}' <<<"$OUT")
CSECRET=$(awk '/^client_secret:/ {print $2}' <<<"$OUT")
AUTH="Basic $(python3 -c 'import base64,sys,urllib.parse as u; q=lambda s: u.quote(s, safe=""); print(base64.b64encode((q(sys.argv[1])+":"+q(sys.argv[2])).encode()).decode())' "$CID" "$CSECRET")"
stop

tokens() { # MODE COUNT OUTFILE
  python3 "$HERE/refresh_tokens.py" --issuer "$ISSUER" --client-id "$CID" --client-secret "$CSECRET" \
    --redirect-uri "$REDIRECT" --username owner@localhost --password "$PASSWORD" \
    --scope 'openid offline_access profile email' --mode "$1" --count "$2" --out "$3" --parallel 1 >/dev/null
}
drive() { # KIND INPUT
  local url
  case $1 in
    refresh|exchange) url=$ISSUER/token ;;
    userinfo) url=$ISSUER/userinfo ;;
    introspect) url=$ISSUER/introspect ;;
  esac
  python3 "$HERE/drive.py" --mode "$1" --url "$url" --input "$2" --count "$COUNT" --auth "$AUTH" \
    --redirect-uri "$REDIRECT" >/dev/null
}
inputs() { # PREFIX: the tokens every kind needs
  tokens refresh 8 "$WORK/$1.refresh"
  tokens code "$COUNT" "$WORK/$1.exchange"
  tokens access 8 "$WORK/$1.access"
  cp "$WORK/$1.access" "$WORK/$1.userinfo"; cp "$WORK/$1.access" "$WORK/$1.introspect"
}
KINDS=(refresh exchange userinfo introspect)

# --- statements per request (native, statement log) ---------------------------------------
start "$WORK/native.log" env CASTELLAN_LOG=warn,sqlx::query=trace
inputs native
declare -A STATEMENTS
for k in "${KINDS[@]}"; do
  drive "$k" "$WORK/native.$k"   # warm-up: caches (tenant, client, keys) and prepared statements
  [[ $k == exchange ]] && tokens code "$COUNT" "$WORK/native.exchange"
  before=$(grep -c 'sqlx::query' "$WORK/native.log" || true)
  drive "$k" "$WORK/native.$k"
  after=$(grep -c 'sqlx::query' "$WORK/native.log" || true)
  STATEMENTS[$k]=$(python3 -c "print(f'{($after - $before) / $COUNT:.2f}')")
done
stop

# --- instructions per request (callgrind) ----------------------------------------------------
start "$WORK/cg.log" env CASTELLAN_LOG=warn valgrind --tool=callgrind --dump-instr=no \
  --callgrind-out-file="$WORK/callgrind.out" --separate-threads=no
inputs cg
for k in "${KINDS[@]}"; do
  drive "$k" "$WORK/cg.$k"   # warm-up
  [[ $k == exchange ]] && tokens code "$COUNT" "$WORK/cg.exchange"
  callgrind_control -z "$PID" >/dev/null
  drive "$k" "$WORK/cg.$k"
  callgrind_control --dump="$k" "$PID" >/dev/null
  dump=$(ls -t "$WORK"/callgrind.out.* | head -n 1)
  ir=$(awk '/^(summary|totals):/ {print $2; exit}' "$dump")
  echo "kind=$k database=$DATABASE count=$COUNT ir_per_request=$((ir / COUNT)) statements_per_request=${STATEMENTS[$k]}"
done
