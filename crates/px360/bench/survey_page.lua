-- wrk script: GET the patient survey page over many tokens (one per invitation, read from
-- $PX360_BENCH_TOKENS, one per line). Each request claims a different client address through
-- X-Forwarded-For (the server trusts the loopback proxy in this benchmark), so the per-address
-- rate limit of the page does not turn the measurement into 429s.
local tokens = {}
for line in io.lines(os.getenv("PX360_BENCH_TOKENS")) do
  table.insert(tokens, line)
end
local counter = 0

request = function()
  counter = counter + 1
  local t = tokens[(counter % #tokens) + 1]
  local ip = string.format("10.%d.%d.%d", math.floor(counter / 65536) % 256, math.floor(counter / 256) % 256, counter % 256)
  return wrk.format("GET", "/s/" .. t, { ["X-Forwarded-For"] = ip })
end

done = function(summary, latency, requests)
  local secs = summary.duration / 1e6
  io.write(string.format("RESULT requests=%d non_2xx=%d rps=%.1f p50_ms=%.2f p95_ms=%.2f p99_ms=%.2f\n",
    summary.requests, summary.errors.status, summary.requests / secs,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000))
end
