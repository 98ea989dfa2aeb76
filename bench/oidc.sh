#!/usr/bin/env bash
# OpenID Connect benchmark: Castellan (release build, temp SQLite database) and the peer
# (node-oidc-provider) in the same run, 3 runs each, medians, ratios and Castellan's max RSS.
# Usage: bench/oidc.sh [extra oidc-bench options, e.g. --duration 10s]
# env: BENCH_DATABASE=postgres for a fresh PostgreSQL database (see bench/castellan.sh), RUNS.
# Introspection: of a fresh client_credentials access token (a JWT) at Castellan; the peer
# cannot introspect JWTs, so its wrapper introspects an opaque token of the same grant.
set -euo pipefail
cd "$(dirname "$0")/.."
BENCH=${BENCH_DIR:-../shared/bench}
RUNS=${RUNS:-3}
ONLY=token_client_credentials,discovery,jwks,introspection
source bench/castellan.sh
OUT=$("$BIN" client create --tenant default --name bench --grant-type client_credentials)
CLIENT_ID=$(awk '/^client_id:/ {print $2}' <<<"$OUT")
CLIENT_SECRET=$(awk '/^client_secret:/ {print $2}' <<<"$OUT")

: >"$WORK/castellan.txt"; : >"$WORK/peer.txt"; : >"$WORK/rss.txt"
for i in $(seq "$RUNS"); do
  echo "# run $i/$RUNS: castellan" >&2
  "$BENCH/oidc-bench" --issuer "http://127.0.0.1:$PORT/t/default" --client-id "$CLIENT_ID" \
    --client-secret "$CLIENT_SECRET" --server-pid "$PID" --only "$ONLY" "$@" >>"$WORK/castellan.txt" || true
  awk '/VmHWM/ {print $2}' "/proc/$PID/status" >>"$WORK/rss.txt"
  echo "# run $i/$RUNS: peer" >&2
  "$BENCH/peer-oidc-provider" --only "$ONLY" "$@" >>"$WORK/peer.txt" || true
done

python3 - "$WORK/castellan.txt" "$WORK/peer.txt" "$WORK/rss.txt" <<'PY'
import statistics, sys
def load(path):
    out = {}
    for line in open(path):
        if not line.startswith("metric="):
            continue
        kv = dict(p.split("=", 1) for p in line.split())
        out.setdefault(kv["metric"], []).append(kv)
    return out
c, p = load(sys.argv[1]), load(sys.argv[2])
med = lambda rows, k: statistics.median(float(r[k]) for r in rows)
print(f"{'metric':<26}{'castellan rps':>14}{'p99 ms':>9}{'peer rps':>10}{'p99 ms':>9}{'ratio':>8}{'errors c/p':>12}")
for m in c:
    cr, pr = med(c[m], "rps"), med(p.get(m, [{"rps": 0, "p99_ms": 0, "errors": 0}]), "rps")
    ce = sum(int(r["errors"]) for r in c[m]); pe = sum(int(r["errors"]) for r in p.get(m, []))
    ratio = f"{cr / pr:.1f}x" if pr else "n/a"
    print(f"{m:<26}{cr:>14.0f}{med(c[m], 'p99_ms'):>9.2f}{pr:>10.0f}{med(p.get(m, [{'p99_ms': 0}]), 'p99_ms'):>9.2f}{ratio:>8}{ce:>6}/{pe}")
rss = [int(x) for x in open(sys.argv[3]) if x.strip()]
print(f"castellan max RSS: {max(rss) / 1024:.1f} MB" if rss else "castellan max RSS: n/a")
PY
