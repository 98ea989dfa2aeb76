#!/usr/bin/env bash
# Large SCIM groups: Castellan (release build, temp SQLite database), a group of 50,000 members
# changed one member and 10,000 members at a time, read whole and lean, and sent back with PUT
# (bench/scim_groups.py; 3 rounds, medians). Issue 13, item 17: add one member under 20 ms
# median, add or remove 10,000 under 1 s.
# Usage: bench/scim_groups.sh      (MEMBERS=50000 BATCH=10000 SAMPLES=50 ROUNDS=3)
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/castellan.sh
TOKEN=$("$BIN" scim-token create --tenant default --name bench)
echo "# load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
python3 bench/scim_groups.py --url "http://127.0.0.1:$PORT/t/default/scim/v2" --token "$TOKEN" \
    --members "${MEMBERS:-50000}" --batch "${BATCH:-10000}" --samples "${SAMPLES:-50}" --rounds "${ROUNDS:-3}"
echo "# load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "castellan max_rss_kb=$(awk '/VmHWM/ {print $2}' /proc/$PID/status)"
