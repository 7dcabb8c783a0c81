-- wrk script: authenticated API reads (GET one patient, GET a journey list page).
local token = os.getenv("PX360_BENCH_TOKEN")
local patient = os.getenv("PX360_BENCH_PATIENT")
local n = 0
request = function()
  n = n + 1
  local path = (n % 2 == 0) and ("/api/patients/" .. patient) or "/api/journeys?limit=20"
  return wrk.format("GET", path, { ["Authorization"] = "Bearer " .. token })
end
done = function(summary, latency, requests)
  local secs = summary.duration / 1e6
  io.write(string.format("RESULT requests=%d errors_status=%d rps=%.1f p50_ms=%.2f p95_ms=%.2f p99_ms=%.2f\n",
    summary.requests, summary.errors.status, summary.requests / secs,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000))
end
