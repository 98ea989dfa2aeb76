# Sourced by the bench scripts (from the repository's root): builds the release binary and
# starts Castellan on a fresh SQLite database in a temporary folder (or, with
# BENCH_DATABASE=postgres, a fresh database on PG_URL, default postgres://postgres@127.0.0.1:5432),
# logging warnings only. Sets BIN, WORK, PORT and PID; the server, the folder and the database go
# when the script exits. A script may export more CASTELLAN_* settings before sourcing this.
if [ -z "${BIN:-}" ]; then   # BIN=path measures that binary instead of building one
  export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/castellan-target-bench}
  cargo build --release --quiet
  BIN=$CARGO_TARGET_DIR/release/castellan
fi

WORK=$(mktemp -d)
PID="" PG_DB=""
PG_URL=${PG_URL:-postgres://postgres@127.0.0.1:5432}
castellan_cleanup() {
  if [ -n "$PID" ]; then kill "$PID" 2>/dev/null; wait "$PID" 2>/dev/null; fi
  if [ -n "$PG_DB" ]; then psql -q "$PG_URL/postgres" -c "DROP DATABASE IF EXISTS $PG_DB" >/dev/null 2>&1; fi
  rm -rf "$WORK"
}
trap castellan_cleanup EXIT
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
if [ "${BENCH_DATABASE:-sqlite}" = postgres ]; then
  PG_DB="castellan_bench_$$_$RANDOM"
  psql -q "$PG_URL/postgres" -c "CREATE DATABASE $PG_DB" >/dev/null
  # With autovacuum off (as this machine's CI configuration sets it), PostgreSQL analyzes no
  # table: Castellan's minute job analyzes its own tables as they grow (without it, plans made on
  # the empty tables stayed and read a growing range of rows: BENCHMARKS.md, issue 16, seventh
  # and eighth sessions), but nothing vacuums them: dead rows accumulate during a run.
  if [ "$(psql -At "$PG_URL/postgres" -c 'SHOW autovacuum')" != on ]; then
    echo "# note: PostgreSQL runs with autovacuum off (Castellan analyzes its tables each minute; nothing vacuums them)" >&2
  fi
  export CASTELLAN_DATABASE_URL="$PG_URL/$PG_DB"
  # PostgreSQL needs a master key (SQLite makes one beside its file)
  "$BIN" master-key generate --out "$WORK/master.key" >/dev/null
  export CASTELLAN_MASTER_KEY_FILE="$WORK/master.key"
else
  export CASTELLAN_DATABASE_URL="sqlite:$WORK/castellan.db"
fi
export CASTELLAN_LISTEN="127.0.0.1:$PORT"
export CASTELLAN_PUBLIC_URL="http://127.0.0.1:$PORT"
export CASTELLAN_LOG=${CASTELLAN_LOG:-warn}

"$BIN" serve >"$WORK/serve.log" 2>&1 &
PID=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.1; done
