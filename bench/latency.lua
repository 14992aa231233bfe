-- bench/latency.lua — wrk script: prints the percentiles wrk's --latency leaves out
-- (p95) as one machine-readable line, in microseconds.
done = function(summary, latency, requests)
	local e = summary.errors
	io.write(string.format(
		"BENCH requests=%d seconds=%.3f mean_us=%.1f p50_us=%d p90_us=%d p95_us=%d p99_us=%d max_us=%d errors=%d\n",
		summary.requests, summary.duration / 1e6, latency.mean, latency:percentile(50),
		latency:percentile(90), latency:percentile(95), latency:percentile(99), latency.max,
		e.connect + e.read + e.write + e.timeout + e.status))
end
