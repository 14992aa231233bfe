/*
 * metrics — request counters, latency histogram, sign-in and gate counters
 * for /metrics.
 *
 * Updated with relaxed atomics from every worker; read by the Prometheus
 * text renderer. Nothing is locked on the request path.
 */
#ifndef SPANNER_METRICS_H
#define SPANNER_METRICS_H

#include "buf.h"

/* Moves the counters to memory shared with the processes forked after it. 0 or -1. */
int metrics_init(void);
void metrics_request(unsigned status, long usec);
/*
 * Sign-in outcomes: "ok", "failed", "blank", "throttled", "busy" (the hashing
 * queue was full), "slowed" (an attempt on an account under attack from many
 * addresses was delayed). Other names are not counted.
 */
void metrics_signin(const char *outcome);
/* An offload gate's (offload.h) running and waiting counts, and its refusals, by gate name. */
void metrics_gate_running(const char *gate, int delta);
void metrics_gate_waiting(const char *gate, int delta);
void metrics_gate_refused(const char *gate);
/* Appends the request metrics in Prometheus text format. */
void metrics_format(buf *out);

#endif
