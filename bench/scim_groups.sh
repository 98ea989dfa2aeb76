#!/usr/bin/env bash
# Large SCIM groups: Castellan (release build, temp SQLite database), a group of 50,000 members
# changed one member and 10,000 members at a time, read whole and lean, and sent back with PUT
# (bench/scim_groups.py; 3 rounds, medians). Issue 13, item 17: add one member under 20 ms
# median, add or remove 10,000 under 1 s.
# Usage: bench/scim_groups.sh      (MEMBERS=50000 BATCH=10000 SAMPLES=50 ROUNDS=3)
set -euo pipefail
cd "$(dirname "$0")/.."
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
export RUST_LOG=warn
"$BIN" serve >"$WORK/serve.log" 2>&1 &
PID=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.1; done
TOKEN=$("$BIN" scim-token create --tenant default --name bench)
echo "# load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
python3 bench/scim_groups.py --url "http://127.0.0.1:$PORT/t/default/scim/v2" --token "$TOKEN" \
    --members "${MEMBERS:-50000}" --batch "${BATCH:-10000}" --samples "${SAMPLES:-50}" --rounds "${ROUNDS:-3}"
echo "# load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "castellan max_rss_kb=$(awk '/VmHWM/ {print $2}' /proc/$PID/status)"
