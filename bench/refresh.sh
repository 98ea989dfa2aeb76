#!/usr/bin/env bash
# A signed-in user's tokens: by default the OAuth refresh_token grant (client_secret_basic),
# against Castellan (release build, fresh SQLite or PostgreSQL database) and the peer
# (node-oidc-provider) in the same run, 3 runs each, medians, ratios, whether each server rotates
# refresh tokens, server CPU per request and Castellan's max RSS.
#
#   bench/refresh.sh [--metric token_refresh|code_exchange|userinfo] [--database sqlite|postgres]
#                    [--duration 10s] [--connections 32] [--warmup 2s] [--timeout 10s] [--codes N]
#                    [--rounds N]
#   env: RUNS (default 3), BENCH_DIR (default ../shared/bench), CARGO_TARGET_DIR, BIN (a binary
#        to measure instead of building one),
#        PG_URL (default postgres://postgres@127.0.0.1:5432: a fresh database is made there)
#
# --metric code_exchange: per run, --rounds (default 10) rounds: each server issues --codes
# (default 300) authorization codes to 4 signed-in browsers (bench/refresh_tokens.py --mode code:
# one sign-in per worker, then the authorization endpoint once per code), then wrk
# (bench/user_tokens.lua) exchanges each code once at the token endpoint (PKCE S256,
# client_secret_basic) until they run out. rps = all exchanges over the time they took (first code
# sent to last answer, per round); p50/p99 are the medians of the rounds'. Rounds are small because
# node-oidc-provider keeps codes in an LRU of 1,000 entries: older codes are evicted, and codes
# live 60 s on both servers. Codes and access tokens are asked for with scope `openid` alone on
# both sides. --metric userinfo: 2 x connections access tokens, fresh from code exchanges, cycled as
# `Authorization: Bearer` on GET userinfo for the whole run.
#
# Per server: sign in once per token-fetching worker and collect 2 x connections refresh tokens
# with the authorization code flow + PKCE (bench/refresh_tokens.py), probe (with one extra token)
# whether the server rotates them, then run wrk with bench/refresh.lua on the token endpoint:
# a rotating server's answers feed their new refresh token back into the pool, so no token is
# ever presented twice (a reused token would revoke its grant); a non-rotating server's tokens
# are cycled. Every run (and every warm-up) gets fresh tokens: a run ends with tokens in flight.
# stdout: the metric lines of each run, then the table (ratio = castellan rps / peer rps, errors
# summed over the runs); stderr: `#` progress and CPU lines (read "everything else" before
# trusting a number: the machine has 2 shared cores). Exit status 3 when a run had errors.
set -euo pipefail
cd "$(dirname "$0")/.."
HERE=$PWD/bench
BENCH=${BENCH_DIR:-../shared/bench}
RUNS=${RUNS:-3}
DURATION=10s CONNECTIONS=32 WARMUP=2s TIMEOUT=10s METRIC=token_refresh DATABASE=sqlite CODES=300 ROUNDS=10
while [[ $# -gt 0 ]]; do
  case "$1" in
    --metric) METRIC=${2:?}; shift 2 ;;
    --database) DATABASE=${2:?}; shift 2 ;;
    --codes) CODES=${2:?}; shift 2 ;;
    --rounds) ROUNDS=${2:?}; shift 2 ;;
    --duration) DURATION=${2:?}; shift 2 ;;
    --connections) CONNECTIONS=${2:?}; shift 2 ;;
    --warmup) WARMUP=${2:?}; shift 2 ;;
    --timeout) TIMEOUT=${2:?}; shift 2 ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) echo "refresh.sh: unknown option $1 (see --help)" >&2; exit 1 ;;
  esac
done
[[ $CONNECTIONS =~ ^[1-9][0-9]*$ ]] || { echo "refresh.sh: bad --connections $CONNECTIONS" >&2; exit 1; }
[[ $WARMUP =~ ^0+[smh]?$ ]] && WARMUP=""
[[ $METRIC =~ ^(token_refresh|code_exchange|userinfo)$ ]] || { echo "refresh.sh: bad --metric $METRIC" >&2; exit 1; }
[[ $DATABASE =~ ^(sqlite|postgres)$ ]] || { echo "refresh.sh: bad --database $DATABASE" >&2; exit 1; }
[[ $CODES =~ ^[1-9][0-9]*$ ]] || { echo "refresh.sh: bad --codes $CODES" >&2; exit 1; }
[[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || { echo "refresh.sh: bad --rounds $ROUNDS" >&2; exit 1; }
NTOKENS=$((CONNECTIONS * 2)) MODE=refresh SCOPE='openid offline_access' PEER_PROMPT=(--prompt consent)
case $METRIC in
  code_exchange) NTOKENS=$CODES MODE=code ;;
  userinfo) MODE=access ;;
esac
# Codes and access tokens need no refresh token: plain `openid` on both sides (oidc-provider
# asks for consent again on every `offline_access` request, and each consent replaces the grant).
[[ $MODE == refresh ]] || { SCOPE=openid PEER_PROMPT=(); }

if ! command -v wrk >/dev/null; then
  echo "# installing wrk (apt-get install -y wrk)" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q wrk >&2 \
    || { apt-get update -q >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q wrk >&2; }
fi

if [[ -z ${BIN:-} ]]; then   # BIN=path measures that binary instead of building one
  export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/castellan-target-bench}
  cargo build --release --quiet
  BIN=$CARGO_TARGET_DIR/release/castellan
fi

WORK=$(mktemp -d)
PID="" PEER_PID="" PG_DB=""
PG_URL=${PG_URL:-postgres://postgres@127.0.0.1:5432}
cleanup() {
  for p in $PID $PEER_PID; do kill "$p" 2>/dev/null || true; done
  for p in $PID $PEER_PID; do wait "$p" 2>/dev/null || true; done
  if [[ -n $PG_DB ]]; then psql -q "$PG_URL/postgres" -c "DROP DATABASE IF EXISTS $PG_DB" >/dev/null 2>&1 || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_up() { # URL PID LOG
  for _ in $(seq 300); do
    kill -0 "$2" 2>/dev/null || { echo "refresh.sh: server exited:" >&2; cat "$3" >&2; exit 2; }
    curl -sf -o /dev/null --max-time 2 "$1" && return 0
    sleep 0.1
  done
  echo "refresh.sh: $1 did not come up" >&2; cat "$3" >&2; exit 2
}

# --- Castellan ---------------------------------------------------------------
PORT=$(free_port)
if [[ $DATABASE == postgres ]]; then
  PG_DB="castellan_bench_$$_$RANDOM"
  psql -q "$PG_URL/postgres" -c "CREATE DATABASE $PG_DB" >/dev/null
  export CASTELLAN_DATABASE_URL="$PG_URL/$PG_DB"
  # PostgreSQL needs a master key (SQLite makes one beside its file)
  "$BIN" master-key generate --out "$WORK/master.key" >/dev/null
  export CASTELLAN_MASTER_KEY_FILE="$WORK/master.key"
else
  export CASTELLAN_DATABASE_URL="sqlite:$WORK/castellan.db"
fi
export CASTELLAN_LISTEN="127.0.0.1:$PORT"
export CASTELLAN_PUBLIC_URL="http://127.0.0.1:$PORT"
export RUST_LOG=warn
"$BIN" serve >"$WORK/serve.log" 2>&1 &
PID=$!
wait_up "http://127.0.0.1:$PORT/healthz" "$PID" "$WORK/serve.log"
C_PASSWORD="bench-$(python3 -c 'import secrets; print(secrets.token_urlsafe(18))')"
printf '%s\n' "$C_PASSWORD" | "$BIN" user set-password --tenant default --email owner@localhost >"$WORK/cli.log" 2>&1 \
  || { cat "$WORK/cli.log" >&2; exit 2; }
C_REDIRECT=http://127.0.0.1:9/cb
OUT=$("$BIN" client create --tenant default --name bench --first-party --redirect-uri "$C_REDIRECT" \
  --grant-type authorization_code --grant-type refresh_token --scope openid --scope offline_access)
C_ID=$(awk '/^client_id:/ {print $2}' <<<"$OUT")
C_SECRET=$(awk '/^client_secret:/ {print $2}' <<<"$OUT")
[[ -n $C_ID && -n $C_SECRET ]] || { echo "refresh.sh: client create: $OUT" >&2; exit 2; }
castellan_tokens() { # OUTFILE [--probe]
  python3 "$HERE/refresh_tokens.py" --issuer "http://127.0.0.1:$PORT/t/default" \
    --client-id "$C_ID" --client-secret "$C_SECRET" --redirect-uri "$C_REDIRECT" \
    --username owner@localhost --password "$C_PASSWORD" --scope "$SCOPE" --count "$NTOKENS" --mode "$MODE" --out "$@"
}

# --- the peer: node-oidc-provider ------------------------------------------------
PEER_PORT=$(free_port)
PEER_QUIET=1 "$BENCH/peer-oidc-provider" --serve "$PEER_PORT" >"$WORK/peer.log" 2>&1 &
PEER_PID=$!  # --serve execs node: this is the server's pid
wait_up "http://127.0.0.1:$PEER_PORT/.well-known/openid-configuration" "$PEER_PID" "$WORK/peer.log"
peer_tokens() { # OUTFILE [--probe]
  python3 "$HERE/refresh_tokens.py" --issuer "http://127.0.0.1:$PEER_PORT" \
    --client-id bench --client-secret bench-secret --redirect-uri http://127.0.0.1/cb \
    --username alice --password alice-password "${PEER_PROMPT[@]}" --scope "$SCOPE" --count "$NTOKENS" --mode "$MODE" --out "$@"
}

# --- pre-check: sign-in, token endpoint, rotation (a second --count wins) ----------------
echo "# castellan $(git rev-parse --short HEAD) pid $PID http://127.0.0.1:$PORT/t/default; peer pid $PEER_PID http://127.0.0.1:$PEER_PORT" >&2
probe() { # NAME -> NAME.probe with token_endpoint= and rotates=
  local extra=(); [[ $1 == peer ]] && extra=(--prompt consent)
  "${1}_tokens" "$WORK/$1.tok" --probe --count 1 --mode refresh --scope 'openid offline_access' "${extra[@]}" >"$WORK/$1.probe" || { echo "refresh.sh: $1: no refresh tokens" >&2; exit 2; }
}
probe castellan; probe peer
C_TOKEN_URL=$(sed -n 's/^token_endpoint=//p' "$WORK/castellan.probe")
P_TOKEN_URL=$(sed -n 's/^token_endpoint=//p' "$WORK/peer.probe")
if [[ $METRIC == userinfo ]]; then
  C_TOKEN_URL=$(sed -n 's/^userinfo_endpoint=//p' "$WORK/castellan.probe")
  P_TOKEN_URL=$(sed -n 's/^userinfo_endpoint=//p' "$WORK/peer.probe")
fi
C_ROTATES=$(sed -n 's/^rotates=//p' "$WORK/castellan.probe")
P_ROTATES=$(sed -n 's/^rotates=//p' "$WORK/peer.probe")
echo "# $METRIC on $DATABASE; rotates refresh tokens: castellan $C_ROTATES, peer $P_ROTATES; $NTOKENS $MODE lines per run, $CONNECTIONS connections" >&2

ticks() { local s; s=$(cat "/proc/$1/stat" 2>/dev/null) || { echo 0; return; }; s=${s##*) }; read -r -a f <<<"$s"; echo $((f[11] + f[12])); }
# CPU ticks of all PostgreSQL server processes (with --database postgres, around Castellan's
# loads: the database's own CPU per request, which Castellan's does not include). Processes that
# end during the load are not counted; the token connections are kept for the whole run.
pg_ticks() {
  local total=0 f rest
  for f in /proc/[0-9]*/stat; do
    { read -r rest <"$f"; } 2>/dev/null || continue
    [[ $rest == *" (postgres) "* ]] || continue
    rest=${rest##*) }
    set -- $rest
    total=$((total + ${12} + ${13}))
  done
  echo "$total"
}
busy() { local c u n s i w q sq st r; read -r c u n s i w q sq st r </proc/stat; echo "$((u + n + s + q + sq + st)) $((u + n + s + i + w + q + sq + st))"; }

# load NAME SERVER_PID TOKEN_URL CLIENT_ID SECRET ROTATES DURATION [CPUFILE] -> metric line on stdout
# (CPUFILE gets the server's µs of CPU per request)
load() {
  local name=$1 pid=$2 url=$3 id=$4 secret=$5 rot=$6 dur=$7 cpufile=${8:-/dev/null}
  local auth
  auth="Basic $(python3 -c 'import base64,sys,urllib.parse as u; q=lambda s: u.quote(s, safe=""); print(base64.b64encode((q(sys.argv[1])+":"+q(sys.argv[2])).encode()).decode())' "$id" "$secret")"
  local script=$HERE/refresh.lua redirect=$C_REDIRECT dry_path rounds=1 round
  [[ $name == peer ]] && redirect=http://127.0.0.1/cb
  dry_path=$(python3 -c 'import sys, urllib.parse as u; print(u.urlsplit(sys.argv[1]).path.rsplit("/", 1)[0] + "/.well-known/openid-configuration")' "$url")
  [[ $name == peer ]] && dry_path=/.well-known/openid-configuration
  # A round of codes lasts well under a second: wrk waits out its -d even when the codes ran out.
  case $METRIC in code_exchange) export BENCH_MODE=exchange; rounds=$ROUNDS dur=2s ;; userinfo) export BENCH_MODE=userinfo ;; esac
  [[ $METRIC == token_refresh ]] || script=$HERE/user_tokens.lua
  # code_exchange: $rounds rounds of --codes fresh codes each, exchanged until they run out (the
  # peer keeps its codes in an LRU of 1000 entries, so a round must stay well below that); the
  # CPU is counted around wrk only, and rps is all exchanges over the time they took.
  : >"$WORK/rounds.txt"; : >"$WORK/wrk.all"
  local srv_ticks=0 busy0=0 busy1=0 tot0=0 tot1=0 wrk_time="0 0 0" t0 b0 t1 b1 TIMEFORMAT='%R %U %S'
  local pg_used=0 p0=0 pg=0
  [[ $DATABASE == postgres && $name == castellan ]] && pg=1
  for round in $(seq "$rounds"); do
    "${name}_tokens" "$WORK/$name.tok" >/dev/null || { echo "metric=$METRIC rps=0 p50_ms=0 p99_ms=0 errors=1"; return; }
    if [[ $name == castellan && $round == 1 ]]; then
      # The sign-ins that collected the tokens peak at one argon2 (19 MiB) per core: record that
      # peak, then reset the high-water mark (clear_refs 5) so VmHWM afterwards is the load's.
      awk '/VmHWM/ {print $2}' "/proc/$pid/status" >>"$WORK/rss_signin.txt"
      echo 5 >"/proc/$pid/clear_refs" 2>/dev/null || true
    fi
    t0=$(ticks "$pid"); b0=$(busy); ((pg)) && p0=$(pg_ticks)
    { time REFRESH_TOKENS="$WORK/$name.tok" REFRESH_AUTH="$auth" REFRESH_ROTATES="$rot" \
        BENCH_INPUT="$WORK/$name.tok" BENCH_AUTH="$auth" BENCH_REDIRECT="$redirect" BENCH_DRY_PATH="$dry_path" \
        BENCH_METRIC="$METRIC" \
        wrk -t1 -c "$CONNECTIONS" -d "$dur" --timeout "$TIMEOUT" -s "$script" "$url" >"$WORK/wrk.out" 2>&1 || true; } 2>"$WORK/time.out"
    t1=$(ticks "$pid"); b1=$(busy); ((pg)) && pg_used=$((pg_used + $(pg_ticks) - p0))
    srv_ticks=$((srv_ticks + t1 - t0))
    busy0=$((busy0 + ${b0% *})); busy1=$((busy1 + ${b1% *})); tot0=$((tot0 + ${b0#* })); tot1=$((tot1 + ${b1#* }))
    wrk_time=$(python3 -c 'import sys; a=[float(x) for x in sys.argv[1].split()]; b=[float(x) for x in sys.argv[2].split()]; print(" ".join(str(x+y) for x, y in zip(a, b)))' "$wrk_time" "$(tail -n 1 "$WORK/time.out")")
    cat "$WORK/wrk.out" >>"$WORK/wrk.all"
    line=$(grep -E '^metric=' "$WORK/wrk.out" | tail -n 1 || true)
    if [[ -z $line ]]; then
      echo "# $name: wrk produced no result: $(tail -n 3 "$WORK/wrk.out" | tr '\n' ' ')" >&2
      line="metric=$METRIC rps=0 p50_ms=0 p99_ms=0 errors=1"
    fi
    echo "$line $(grep -E '^# requests=' "$WORK/wrk.out" | tail -n 1 | tr -d '#')" >>"$WORK/rounds.txt"
  done
  grep -E '^#' "$WORK/wrk.all" | grep -v '^# requests=' | sort -u >&2 || true
  # One metric line for the run: over the rounds, all requests over all measured seconds; p50
  # and p99 are the medians of the rounds' own.
  line=$(python3 - "$WORK/rounds.txt" <<'PY'
import statistics, sys
rows = [dict(p.split("=", 1) for p in l.split()) for l in open(sys.argv[1]) if l.startswith("metric=")]
n = sum(int(r.get("requests", 0)) for r in rows)
secs = sum(float(r.get("seconds", 0)) for r in rows)
med = lambda k: statistics.median(float(r[k]) for r in rows)
print(f"metric={rows[0]['metric']} rps={n / secs if secs else 0:.1f} p50_ms={med('p50_ms'):.3f} "
      f"p99_ms={med('p99_ms'):.3f} errors={sum(int(r['errors']) for r in rows)} requests={n} seconds={secs:.3f}")
PY
)
  # CPU accounting, as oidc-bench does: read it before trusting a number (2 shared cores)
  python3 - "$name" "$dur" "$line" "$wrk_time" "$srv_ticks" "$busy0" "$busy1" "$tot0" "$tot1" \
    "$(getconf CLK_TCK)" "$(nproc)" "$cpufile" "$rounds" "$pg" "$pg_used" >&2 <<'PY'
import sys
name, dur, line, tm, srv, bb0, bb1, bt0, bt1, clk, ncpu, cpufile, rounds, pg, pg_used = sys.argv[1:]
clk, ncpu = int(clk), int(ncpu)
kv = dict(p.split("=", 1) for p in line.split())
n = int(kv.get("requests", 0))
real, usr, sys_ = (float(x) for x in tm.split())
srv = int(srv) / clk
gen = usr + sys_
busy = (int(bb1) - int(bb0)) / clk
wall = (int(bt1) - int(bt0)) / clk / ncpu
pg_cpu = int(pg_used) / clk if pg == "1" else 0.0
other = max(0.0, busy - srv - gen - pg_cpu)
per = f"{srv * 1e6 / n:.0f} us/request" if n else "n/a"
if n:
    open(cpufile, "a").write(f"{srv * 1e6 / n:.0f}\n")
    if pg == "1":
        open(cpufile + ".pg", "a").write(f"{pg_cpu * 1e6 / n:.0f}\n")
        per += f"; PostgreSQL's own {pg_cpu:.2f} s, {pg_cpu * 1e6 / n:.0f} us/request"
what = f"{rounds} rounds" if rounds != "1" else dur
print(f"#   {name} {what}: {n} requests; server CPU {srv:.2f} s ({per}), wrk {gen:.2f} s, "
      f"everything else {other:.2f} s ({other / wall * 100 if wall else 0:.0f}% of one core)")
PY
  echo "${line% requests=*}"
}

: >"$WORK/castellan.txt"; : >"$WORK/peer.txt"; : >"$WORK/rss.txt"; : >"$WORK/rss_signin.txt"; : >"$WORK/castellan.cpu"; : >"$WORK/peer.cpu"
for i in $(seq "$RUNS"); do
  for name in castellan peer; do
    if [[ $name == castellan ]]; then args=("$PID" "$C_TOKEN_URL" "$C_ID" "$C_SECRET" "$C_ROTATES")
    else args=("$PEER_PID" "$P_TOKEN_URL" bench bench-secret "$P_ROTATES"); fi
    echo "# run $i/$RUNS: $name" >&2
    if [[ -n $WARMUP ]]; then ROUNDS=1 load "$name" "${args[@]}" "$WARMUP" >/dev/null; fi
    load "$name" "${args[@]}" "$DURATION" "$WORK/$name.cpu" | tee -a "$WORK/$name.txt"
    if [[ $name == castellan ]]; then awk '/VmHWM/ {print $2}' "/proc/$PID/status" >>"$WORK/rss.txt"; fi
  done
done

python3 - "$WORK/castellan.txt" "$WORK/peer.txt" "$WORK/rss.txt" "$C_ROTATES" "$P_ROTATES" "$CONNECTIONS" "$DURATION" "$RUNS" \
  "$WORK/castellan.cpu" "$WORK/peer.cpu" "$WORK/rss_signin.txt" "$METRIC" "$DATABASE" <<'PY'
import statistics, sys
metric, database = sys.argv[12], sys.argv[13]
def load(path):
    rows = []
    for line in open(path):
        if line.startswith("metric="):
            rows.append(dict(p.split("=", 1) for p in line.split()))
    return rows or [{"metric": metric, "rps": 0, "p50_ms": 0, "p99_ms": 0, "errors": 1}]
c, p = load(sys.argv[1]), load(sys.argv[2])
med = lambda rows, k: statistics.median(float(r[k]) for r in rows)
yn = lambda s: "yes" if s == "1" else "no"
conns, dur, runs = sys.argv[6:9]
print(f"# {metric}, Castellan on {database}, {conns} connections, {dur} per run, medians of {runs} runs")
print(f"{'metric':<15}{'castellan rps':>14}{'p50 ms':>9}{'p99 ms':>9}{'peer rps':>10}{'p50 ms':>9}{'p99 ms':>9}"
      f"{'ratio':>8}{'errors c/p':>12}{'rotates c/p':>13}")
cr, pr = med(c, "rps"), med(p, "rps")
ce, pe = sum(int(r["errors"]) for r in c), sum(int(r["errors"]) for r in p)
ratio = f"{cr / pr:.1f}x" if pr else "n/a"
errs, rot = f"{ce}/{pe}", f"{yn(sys.argv[4])}/{yn(sys.argv[5])}"
print(f"{metric:<15}{cr:>14.0f}{med(c, 'p50_ms'):>9.2f}{med(c, 'p99_ms'):>9.2f}"
      f"{pr:>10.0f}{med(p, 'p50_ms'):>9.2f}{med(p, 'p99_ms'):>9.2f}{ratio:>8}{errs:>12}{rot:>13}")
rss = [int(x) for x in open(sys.argv[3]) if x.strip()]
print(f"castellan max RSS under the load: {max(rss) / 1024:.1f} MB" if rss else "castellan max RSS: n/a")
signin = [int(x) for x in open(sys.argv[11]) if x.strip()]
if signin:
    print(f"castellan max RSS while collecting tokens (sign-ins, argon2): {max(signin) / 1024:.1f} MB")
cpu = lambda path: [float(x) for x in open(path) if x.strip()]
cc, pc = cpu(sys.argv[9]), cpu(sys.argv[10])
fmt = lambda v: f"{statistics.median(v):.0f} us" if v else "n/a"
print(f"server CPU per request (median): castellan {fmt(cc)}, peer {fmt(pc)}")
import os
if os.path.exists(sys.argv[9] + ".pg"):
    print(f"PostgreSQL's CPU per request (median, beside Castellan's): {fmt(cpu(sys.argv[9] + '.pg'))}")
sys.exit(0 if ce == 0 and pe == 0 else 3)
PY
