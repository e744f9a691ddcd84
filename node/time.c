/*
 * Time at a node: the clock (TIERSYNC_NOW fixes it for reproducible runs)
 * and the schema's text form of a time. The service keeps Beijing time.
 */
#include <stdlib.h>
#include <time.h>

#include "node.h"

int64_t ts_node__now(void)
{
	const char *fixed = getenv("TIERSYNC_NOW");   /* for reproducible demos and tests */
	return fixed && *fixed ? strtoll(fixed, NULL, 10) : (int64_t)time(NULL);
}

void ts_time_format(char out[32], int64_t when)
{
	time_t t = (time_t)(when + TS_UTC_OFFSET_SECONDS);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%S+08:00", &tm);
}
