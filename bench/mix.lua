-- bench/mix.lua — wrk script for bench/soak: each request takes the next path of
-- a signed-in user's working mix (MIX_PATHS, '|'-separated), and done() prints one
-- machine-readable line with the counts and latency percentiles in microseconds.
local paths = {}
for p in string.gmatch(os.getenv("MIX_PATHS") or "/companies", "[^|]+") do
	table.insert(paths, p)
end
local i = 0
request = function()
	i = i + 1
	return wrk.format("GET", paths[(i % #paths) + 1])
end
done = function(summary, latency, requests)
	local e = summary.errors
	io.write(string.format(
		"BENCH requests=%d seconds=%.3f p50_us=%d p99_us=%d max_us=%d connect=%d read=%d write=%d timeout=%d status=%d\n",
		summary.requests, summary.duration / 1e6, latency:percentile(50), latency:percentile(99),
		latency.max, e.connect, e.read, e.write, e.timeout, e.status))
end
