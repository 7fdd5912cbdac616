-- wrk script: rotate over (bearer token, path) pairs read from $WRK_PLAN
-- (one "token<TAB>path" per line; token "-" sends no Authorization header, "s:TOKEN" sends
-- TOKEN as the pages' session cookie instead of a bearer header),
-- and print a one-line JSON summary prefixed with WRKJSON.  $WRK_ACCEPT_ENCODING, when set,
-- is sent as Accept-Encoding (browsers send "gzip, deflate, br"; wrk alone sends none).

local plan = {}
local accept_encoding = os.getenv("WRK_ACCEPT_ENCODING")
local file = os.getenv("WRK_PLAN")
if file then
  for line in io.lines(file) do
    local token, path = line:match("^(%S+)\t(%S+)$")
    if token then
      local headers = {}
      if token:sub(1, 2) == "s:" then
        headers["Cookie"] = "gongzhi_session=" .. token:sub(3)
      elseif token ~= "-" then
        headers["Authorization"] = "Bearer " .. token
      end
      if accept_encoding and accept_encoding ~= "" then headers["Accept-Encoding"] = accept_encoding end
      table.insert(plan, wrk.format("GET", path, headers))
    end
  end
end
if #plan == 0 then
  table.insert(plan, wrk.format("GET", wrk.path))
end

local counter = 0
local thread_count = 0

function setup(thread)
  thread_count = thread_count + 1
  thread:set("offset", thread_count * 7)
end

function init(args)
  counter = offset or 0
end

function request()
  counter = counter + 1
  return plan[(counter % #plan) + 1]
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests": %d, "duration_us": %d, "bytes": %d, "errors": {"connect": %d, "read": %d, ' ..
    '"write": %d, "status": %d, "timeout": %d}, "latency_us": {"min": %d, "max": %d, "mean": %.1f, ' ..
    '"stdev": %.1f, "p50": %d, "p75": %d, "p90": %d, "p95": %d, "p99": %d, "p999": %d}}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency.min, latency.max, latency.mean, latency.stdev, latency:percentile(50), latency:percentile(75),
    latency:percentile(90), latency:percentile(95), latency:percentile(99), latency:percentile(99.9)))
end
