-- wrk script: POST unique integration events (unique encounter per request, so none is a
-- duplicate); cycles through the three journey types and known patients of the demo seed.
local key = os.getenv("PX360_BENCH_KEY")
local run = os.getenv("PX360_BENCH_RUN") or "r"
local counter = 0
local threads = {}

-- `tid` is a global set in each thread's own Lua state, so encounter ids never collide.
function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end

local codes = { "OP_CHECKIN", "ED_ARRIVAL", "IP_ADMIT" }
local depts = { "CARD", "ED", "GMED" }

request = function()
  counter = counter + 1
  local k = (counter % 3) + 1
  local body = string.format(
    '{"source_system":"EPIC","event_code":"%s","encounter_id":"%s-%d-%d","patient_identifier":"RGH-%s-0001",' ..
    '"payload":{"physician_licence":"GMC111","department_code":"%s","timestamp":"2025-03-01T10:00:00Z","custom_fields":{"bench":true}}}',
    codes[k], run, tid, counter, depts[k], depts[k])
  return wrk.format("POST", "/api/integrations/events/", { ["Content-Type"] = "application/json", ["X-API-Key"] = key }, body)
end

done = function(summary, latency, requests)
  local secs = summary.duration / 1e6
  io.write(string.format("RESULT requests=%d errors_status=%d rps=%.1f p50_ms=%.2f p95_ms=%.2f p99_ms=%.2f\n",
    summary.requests, summary.errors.status, summary.requests / secs,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000))
end
