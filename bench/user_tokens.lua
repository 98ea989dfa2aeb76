-- wrk script: a signed-in user's tokens (bench/refresh.sh --metric code_exchange|userinfo).
-- Environment:
--   BENCH_MODE     exchange: POST grant_type=authorization_code to the token endpoint, each code
--                  once (lines "CODE VERIFIER", PKCE S256); when a thread has used all its codes
--                  it stops, sending one last GET of BENCH_DRY_PATH (discovery) that is not
--                  counted in rps.
--                  userinfo: GET the userinfo endpoint with `Authorization: Bearer`, cycling
--                  through the access tokens (lines), each valid for the whole run.
--   BENCH_INPUT    the file of lines
--   BENCH_THREADS  wrk -t (default 1): with n threads each takes every n-th line
--   BENCH_AUTH     exchange: the Authorization header (client_secret_basic)
--   BENCH_REDIRECT exchange: the redirect_uri the codes were issued for
--   BENCH_DRY_PATH exchange: path of the request sent when the codes run out
--   BENCH_METRIC   metric name
-- In exchange mode the codes run out before wrk's fixed duration ends, so rps is taken over the
-- time the exchanges actually took: each thread notes (CLOCK_MONOTONIC, through LuaJIT's FFI)
-- when it sent its first code and when the answer to its last one arrived.
-- done() prints exactly one line on stdout, like shared/bench/oidc-bench.lua:
--   metric=<name> rps=<n> p50_ms=<n> p99_ms=<n> errors=<n>
-- errors = connect + read + write + timeout errors + HTTP status >= 400 + other non-200 answers
-- + (exchange) 200 answers without an access token. stderr gets `# requests=<n> seconds=<s>`
-- (requests measured, without the closing GETs).

local mode = os.getenv("BENCH_MODE") or "userinfo"
local metric = os.getenv("BENCH_METRIC") or (mode == "exchange" and "code_exchange" or "userinfo")
local input = os.getenv("BENCH_INPUT")
local auth = os.getenv("BENCH_AUTH") or ""
local redirect = os.getenv("BENCH_REDIRECT") or ""
local dry_path = os.getenv("BENCH_DRY_PATH") or "/.well-known/openid-configuration"

local threads = {}
local nthreads = 0
function setup(thread)
  thread:set("thread_index", nthreads)
  nthreads = nthreads + 1
  table.insert(threads, thread)
end

local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
  int clock_gettime(int clk_id, bench_timespec *tp);
]]
local ts = ffi.new("bench_timespec")
local function now_us()
  ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC
  return tonumber(ts.tv_sec) * 1e6 + tonumber(ts.tv_nsec) / 1e3
end

-- thread state ---------------------------------------------------------------
local lines, next_line = {}, 1
first_us = 0  -- exchange: when the first code was sent
last_us = 0   -- exchange: when the answer to the last code arrived
answered = 0  -- exchange: answers to codes
bad = 0     -- non-200 answers below 400, 200 exchanges without an access token
dry = 0     -- closing GETs sent once the codes ran out

local function formenc(s)
  return (s:gsub("[^%w%-%._~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end

function init(args)
  local idx = thread_index or 0
  local n = tonumber(os.getenv("BENCH_THREADS") or "1")
  local f = assert(io.open(assert(input, "BENCH_INPUT is not set"), "r"))
  local i = 0
  for line in f:lines() do
    line = line:gsub("%s+$", "")
    if line ~= "" then
      if i % n == idx then table.insert(lines, line) end
      i = i + 1
    end
  end
  f:close()
  if #lines == 0 then error("no input lines for thread " .. idx .. " in " .. input) end
  -- wrk calls request() once at start-up to check it (not sent): in exchange mode that code
  -- is left unused.
end

local function exchange()
  local line = lines[next_line]
  if line == nil then
    dry = dry + 1
    if dry == 1 then wrk.thread:stop() end
    return wrk.format("GET", dry_path)
  end
  if next_line == 1 then first_us = now_us() end
  next_line = next_line + 1
  local code, verifier = line:match("^(%S+)%s+(%S+)$")
  return wrk.format("POST", nil, {
    ["Authorization"] = auth,
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Accept"] = "application/json",
  }, "grant_type=authorization_code&code=" .. formenc(code) .. "&redirect_uri=" .. formenc(redirect)
    .. "&code_verifier=" .. formenc(verifier))
end

local function userinfo()
  local t = lines[next_line]
  next_line = next_line % #lines + 1
  return wrk.format("GET", nil, { ["Authorization"] = "Bearer " .. t, ["Accept"] = "application/json" })
end

function request()
  if mode == "exchange" then return exchange() end
  return userinfo()
end

function response(status, hdrs, body)
  if mode == "exchange" and dry == 0 and answered < #lines then
    answered = answered + 1
    last_us = now_us()
  end
  if status ~= 200 then
    if status < 400 then bad = bad + 1 end  -- >= 400 is counted by wrk itself
    return
  end
  if mode == "exchange" and dry == 0 and not (body and body:match('"access_token"')) then
    bad = bad + 1
  end
end

-- main state -----------------------------------------------------------------
done = function(summary, latency, requests)
  local secs = summary.duration / 1e6
  local e = summary.errors
  local errs = e.connect + e.read + e.write + e.status + e.timeout
  local closing, first, last = 0, nil, nil
  for _, t in ipairs(threads) do
    errs = errs + (t:get("bad") or 0)
    closing = closing + (t:get("dry") or 0)
    local f, l = t:get("first_us") or 0, t:get("last_us") or 0
    if f > 0 and (first == nil or f < first) then first = f end
    if l > 0 and (last == nil or l > last) then last = l end
  end
  local n = math.max(0, summary.requests - closing)
  if mode == "exchange" and first and last and last > first then
    secs = (last - first) / 1e6
  end
  io.stderr:write(string.format("# requests=%d seconds=%.3f\n", n, secs))
  local rps = 0
  if secs > 0 then rps = n / secs end
  io.write(string.format("metric=%s rps=%.1f p50_ms=%.3f p99_ms=%.3f errors=%d\n",
    metric, rps, latency:percentile(50) / 1000, latency:percentile(99) / 1000, errs))
end
