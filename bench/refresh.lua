-- wrk script: the OAuth refresh_token grant, with or without rotation (bench/refresh.sh).
-- Run wrk against the token endpoint URL. Environment:
--   REFRESH_TOKENS   file with refresh tokens, one per line (at least as many as connections;
--                    refresh.sh gets 2x)
--   REFRESH_THREADS  wrk -t (default 1): with n threads each takes every n-th line
--   REFRESH_AUTH     value of the Authorization header (client_secret_basic)
--   REFRESH_ROTATES  1: the server rotates (each answer carries a new refresh token and the
--                    old one is dead): tokens form a pool; request() takes one out, response()
--                    puts back the one the answer carries, so a token is never used twice and
--                    never by two connections at once. No ordering is assumed between
--                    connections. A failed request loses its token.
--                    0: the server does not rotate: requests cycle through the fixed pool.
--   REFRESH_METRIC   metric name (default token_refresh)
-- done() prints exactly one line on stdout, like shared/bench/oidc-bench.lua:
--   metric=<name> rps=<n> p50_ms=<n> p99_ms=<n> errors=<n>
-- errors = connect + read + write + timeout errors + HTTP status >= 400 + other non-200
-- answers + (rotating) 200 answers without a refresh token + requests sent after the pool
-- ran dry. stderr gets `# requests=<n> seconds=<s>` (for CPU per request). If the pool runs dry the thread stops and a `#` note goes to stderr.

local metric = os.getenv("REFRESH_METRIC") or "token_refresh"
local auth = os.getenv("REFRESH_AUTH") or ""
local rotates = os.getenv("REFRESH_ROTATES") ~= "0"
local tokens_file = os.getenv("REFRESH_TOKENS")

-- main state: hand each thread its number, keep the threads for done()
local threads = {}
local nthreads = 0
function setup(thread)
  thread:set("thread_index", nthreads)
  nthreads = nthreads + 1
  table.insert(threads, thread)
end

-- thread state ---------------------------------------------------------------
local pool = {}           -- FIFO of refresh tokens: pool[head .. tail]
local head, tail = 1, 0
local fixed, next_fixed = {}, 1
bad = 0                   -- non-200 answers below 400, 200 answers without a refresh token
dry = 0                   -- requests that found the pool empty
loaded = 0

local function push(t) tail = tail + 1; pool[tail] = t end
local function pop()
  if head > tail then return nil end
  local t = pool[head]; pool[head] = nil; head = head + 1
  return t
end

local function formenc(s)
  return (s:gsub("[^%w%-%._~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end

local headers = {
  ["Authorization"] = auth,
  ["Content-Type"] = "application/x-www-form-urlencoded",
  ["Accept"] = "application/json",
}

function init(args)
  local idx = thread_index or 0
  local n = tonumber(os.getenv("REFRESH_THREADS") or "1")
  local f = assert(io.open(assert(tokens_file, "REFRESH_TOKENS is not set"), "r"))
  local i = 0
  for line in f:lines() do
    line = line:gsub("%s+$", "")
    if line ~= "" then
      if i % n == idx then
        if rotates then push(line) else table.insert(fixed, line) end
        loaded = loaded + 1
      end
      i = i + 1
    end
  end
  f:close()
  if loaded == 0 then error("no refresh tokens for thread " .. idx .. " in " .. tokens_file) end
end

local function post(token)
  return wrk.format("POST", nil, headers, "grant_type=refresh_token&refresh_token=" .. formenc(token))
end

-- Note: wrk calls request() once at start-up to check the request (not sent): in rotating mode
-- that token is just left unused.
function request()
  if not rotates then
    local t = fixed[next_fixed]
    next_fixed = next_fixed % #fixed + 1
    return post(t)
  end
  local t = pop()
  if t == nil then
    -- Every token is lost (failed requests): stop this thread; this last request fails.
    dry = dry + 1
    if dry == 1 then wrk.thread:stop() end
    return post("refresh-token-pool-ran-dry")
  end
  return post(t)
end

function response(status, hdrs, body)
  if status ~= 200 then
    if status < 400 then bad = bad + 1 end  -- >= 400 is counted by wrk itself
    return
  end
  if rotates then
    local t = body and body:match('"refresh_token"%s*:%s*"([^"]+)"')
    if t then push(t) else bad = bad + 1 end
  end
end

-- main state -----------------------------------------------------------------
done = function(summary, latency, requests)
  local secs = summary.duration / 1e6
  local e = summary.errors
  local errs = e.connect + e.read + e.write + e.status + e.timeout
  local ran_dry = 0
  for _, t in ipairs(threads) do
    errs = errs + (t:get("bad") or 0)
    ran_dry = ran_dry + (t:get("dry") or 0)
  end
  if ran_dry > 0 then
    io.stderr:write(string.format("# %s: the refresh token pool ran dry (tokens lost to failed requests); the run stopped early\n", metric))
    errs = errs + ran_dry
  end
  io.stderr:write(string.format("# requests=%d seconds=%.3f\n", summary.requests, secs))
  local rps = 0
  if secs > 0 then rps = summary.requests / secs end
  io.write(string.format("metric=%s rps=%.1f p50_ms=%.3f p99_ms=%.3f errors=%d\n",
    metric, rps, latency:percentile(50) / 1000, latency:percentile(99) / 1000, errs))
end
