/*
 * metrics — counters of requests by status and a latency histogram.
 *
 * Buckets follow Prometheus conventions (cumulative, in seconds). The bounds
 * bracket DESIGN.md's targets (p95 ≤ 10 ms, p99 ≤ 25 ms) closely so the
 * histogram can tell whether they are met.
 *
 * Kore answers from several worker processes; the counters live in one
 * shared anonymous mapping made by the parent before it forks (metrics_init),
 * so any worker's /metrics counts every worker's requests. Before
 * metrics_init (tools, tests) they live in this process's memory.
 */
#include "metrics.h"

#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>

#define METRICS_STATUS_MAX 600

static const double metrics_bounds[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
					0.05,	0.1,   0.25,   0.5,   1,    2.5};
#define METRICS_NBUCKETS (sizeof metrics_bounds / sizeof metrics_bounds[0])

static const char *const metrics_signin_outcomes[] = {"ok",	   "failed", "blank",
						      "throttled", "busy",   "slowed"};
#define METRICS_NSIGNIN (sizeof metrics_signin_outcomes / sizeof metrics_signin_outcomes[0])
/* The gates offload.h callers declare; a name not listed here is not measured. */
static const char *const metrics_gates[] = {"signin", "argon2"};
#define METRICS_NGATES (sizeof metrics_gates / sizeof metrics_gates[0])

struct metrics_counters {
	atomic_ulong signin[METRICS_NSIGNIN];
	atomic_long gate_running[METRICS_NGATES];
	atomic_long gate_waiting[METRICS_NGATES];
	atomic_ulong gate_refused[METRICS_NGATES];
	atomic_ulong by_status[METRICS_STATUS_MAX];
	atomic_ulong buckets[METRICS_NBUCKETS + 1];
	atomic_ulong count;
	atomic_ullong sum_usec;
};

static struct metrics_counters metrics_local;
static struct metrics_counters *m = &metrics_local;

int
metrics_init(void)
{
	void *p = mmap(NULL, sizeof *m, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return -1;
	m = p; /* zero-filled by the kernel */
	return 0;
}

void
metrics_request(unsigned status, long usec)
{
	double sec = (double)usec / 1e6;
	size_t i;

	if (status < METRICS_STATUS_MAX)
		atomic_fetch_add_explicit(&m->by_status[status], 1, memory_order_relaxed);
	for (i = 0; i < METRICS_NBUCKETS && sec > metrics_bounds[i]; i++)
		;
	atomic_fetch_add_explicit(&m->buckets[i], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&m->count, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&m->sum_usec, (unsigned long long)(usec > 0 ? usec : 0),
				  memory_order_relaxed);
}

static int
metrics_find(const char *const *names, size_t n, const char *name)
{
	size_t i;

	for (i = 0; name && i < n; i++)
		if (strcmp(names[i], name) == 0)
			return (int)i;
	return -1;
}

void
metrics_signin(const char *outcome)
{
	int i = metrics_find(metrics_signin_outcomes, METRICS_NSIGNIN, outcome);

	if (i >= 0)
		atomic_fetch_add_explicit(&m->signin[i], 1, memory_order_relaxed);
}

void
metrics_gate_running(const char *gate, int delta)
{
	int i = metrics_find(metrics_gates, METRICS_NGATES, gate);

	if (i >= 0)
		atomic_fetch_add_explicit(&m->gate_running[i], delta, memory_order_relaxed);
}

void
metrics_gate_waiting(const char *gate, int delta)
{
	int i = metrics_find(metrics_gates, METRICS_NGATES, gate);

	if (i >= 0)
		atomic_fetch_add_explicit(&m->gate_waiting[i], delta, memory_order_relaxed);
}

void
metrics_gate_refused(const char *gate)
{
	int i = metrics_find(metrics_gates, METRICS_NGATES, gate);

	if (i >= 0)
		atomic_fetch_add_explicit(&m->gate_refused[i], 1, memory_order_relaxed);
}

void
metrics_format(buf *out)
{
	unsigned long cumulative = 0;
	unsigned s;
	size_t i;

	buf_puts(out, "# HELP spanner_http_requests_total HTTP requests answered, by status.\n"
		      "# TYPE spanner_http_requests_total counter\n");
	for (s = 100; s < METRICS_STATUS_MAX; s++) {
		unsigned long n = atomic_load_explicit(&m->by_status[s], memory_order_relaxed);

		if (n)
			buf_printf(out, "spanner_http_requests_total{status=\"%u\"} %lu\n", s, n);
	}
	buf_puts(out,
		 "# HELP spanner_http_request_duration_seconds Time from request to response.\n"
		 "# TYPE spanner_http_request_duration_seconds histogram\n");
	for (i = 0; i < METRICS_NBUCKETS; i++) {
		cumulative += atomic_load_explicit(&m->buckets[i], memory_order_relaxed);
		buf_printf(out, "spanner_http_request_duration_seconds_bucket{le=\"%g\"} %lu\n",
			   metrics_bounds[i], cumulative);
	}
	cumulative += atomic_load_explicit(&m->buckets[METRICS_NBUCKETS], memory_order_relaxed);
	buf_printf(out, "spanner_http_request_duration_seconds_bucket{le=\"+Inf\"} %lu\n",
		   cumulative);
	buf_printf(out, "spanner_http_request_duration_seconds_sum %.6f\n",
		   (double)atomic_load_explicit(&m->sum_usec, memory_order_relaxed) / 1e6);
	buf_printf(out, "spanner_http_request_duration_seconds_count %lu\n",
		   atomic_load_explicit(&m->count, memory_order_relaxed));
	buf_puts(out, "# HELP spanner_signin_attempts_total Sign-in attempts by outcome.\n"
		      "# TYPE spanner_signin_attempts_total counter\n");
	for (i = 0; i < METRICS_NSIGNIN; i++)
		buf_printf(out, "spanner_signin_attempts_total{outcome=\"%s\"} %lu\n",
			   metrics_signin_outcomes[i],
			   atomic_load_explicit(&m->signin[i], memory_order_relaxed));
	buf_puts(out,
		 "# HELP spanner_gate_running Offloaded jobs of a kind running now, all workers.\n"
		 "# TYPE spanner_gate_running gauge\n");
	for (i = 0; i < METRICS_NGATES; i++)
		buf_printf(out, "spanner_gate_running{gate=\"%s\"} %ld\n", metrics_gates[i],
			   atomic_load_explicit(&m->gate_running[i], memory_order_relaxed));
	buf_puts(out, "# HELP spanner_gate_waiting Requests waiting for a turn, all workers.\n"
		      "# TYPE spanner_gate_waiting gauge\n");
	for (i = 0; i < METRICS_NGATES; i++)
		buf_printf(out, "spanner_gate_waiting{gate=\"%s\"} %ld\n", metrics_gates[i],
			   atomic_load_explicit(&m->gate_waiting[i], memory_order_relaxed));
	buf_puts(out,
		 "# HELP spanner_gate_refused_total Requests refused because the queue was full.\n"
		 "# TYPE spanner_gate_refused_total counter\n");
	for (i = 0; i < METRICS_NGATES; i++)
		buf_printf(out, "spanner_gate_refused_total{gate=\"%s\"} %lu\n", metrics_gates[i],
			   atomic_load_explicit(&m->gate_refused[i], memory_order_relaxed));
}
