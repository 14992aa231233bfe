/*
 * Fuzzes the cron expression parser (the dedup schedule, typed on
 * /admin/dedup). Invariants: a parsed expression's next run is strictly
 * after the time asked, on a whole minute, and matches again when asked
 * from one second before it; a refused one always says why.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/cron.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *expr = strndup((const char *)data, size), err[128];
	struct cron c;
	time_t after = 1796515200, next; /* 2026-12-06 00:00 UTC */

	err[0] = '\0';
	if (cron_parse(expr, &c, err, sizeof err) != 0) {
		if (!err[0])
			abort();
	} else {
		next = cron_next(&c, after);
		if (next != (time_t)-1) {
			if (next <= after || next % 60 != 0 || cron_next(&c, next - 1) != next)
				abort();
		}
	}
	free(expr);
	return 0;
}
