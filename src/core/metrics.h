/*
 * metrics — request counters and latency histogram for /metrics.
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
/* Appends the request metrics in Prometheus text format. */
void metrics_format(buf *out);

#endif
