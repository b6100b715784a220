-- wrk request bodies for minibert-serve's /classify: one SST-2 dev sentence per request, each
-- wrk thread walking the file from its own offset. Prints one JSON line of results at the end
-- (wrk's own summary has no P95).
--   wrk -t2 -c32 -d20s -s bench/serve/classify.lua http://127.0.0.1:8080 -- data/glue-sst2/dev.tsv [path] [model]
local bodies = {}
local counter = 0
local threads = {}

local function json_string(s)
  return '"' .. s:gsub('\\', '\\\\'):gsub('"', '\\"') .. '"'
end

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  local file = args[1] or "data/glue-sst2/dev.tsv"
  local path = args[2] or "/classify"
  local model = args[3]
  local first = true
  for line in io.lines(file) do
    if first then first = false else
      local text = line:match("^([^\t]*)")
      if text and #text > 0 then
        local body = '{"texts":' .. json_string(text)
        if model then body = body .. ',"model":' .. json_string(model) end
        table.insert(bodies, body .. '}')
      end
    end
  end
  wrk.method = "POST"
  wrk.path = path
  wrk.headers["Content-Type"] = "application/json"
  counter = (id or 0) * 97
  non200 = 0
end

function request()
  counter = counter + 1
  return wrk.format(nil, nil, nil, bodies[(counter % #bodies) + 1])
end

function response(status, headers, body)
  if status ~= 200 then non200 = non200 + 1 end
end

function done(summary, latency, requests)
  local bad = 0
  for _, t in ipairs(threads) do bad = bad + (t:get("non200") or 0) end
  local seconds = summary.duration / 1e6
  io.write(string.format(
    '{"requests":%d,"seconds":%.3f,"rps":%.1f,"p50_ms":%.2f,"p95_ms":%.2f,"p99_ms":%.2f,"max_ms":%.2f,"non200":%d,"socket_errors":%d}\n',
    summary.requests, seconds, summary.requests / seconds, latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000, bad,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
