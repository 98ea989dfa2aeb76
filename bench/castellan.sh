# Sourced by the bench scripts (from the repository's root): builds the release binary and
# starts Castellan on a fresh SQLite database in a temporary folder, logging warnings only.
# Sets BIN, WORK, PORT and PID; the server and the folder go when the script exits. A script
# may export more CASTELLAN_* settings before sourcing this.
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/castellan-target}
cargo build --release --quiet
BIN=$CARGO_TARGET_DIR/release/castellan

WORK=$(mktemp -d)
PID=""
trap '[ -n "$PID" ] && kill "$PID" 2>/dev/null; rm -rf "$WORK"' EXIT
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
export CASTELLAN_DATABASE_URL="sqlite:$WORK/castellan.db"
export CASTELLAN_LISTEN="127.0.0.1:$PORT"
export CASTELLAN_PUBLIC_URL="http://127.0.0.1:$PORT"
export CASTELLAN_LOG=${CASTELLAN_LOG:-warn}

"$BIN" serve >"$WORK/serve.log" 2>&1 &
PID=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.1; done
