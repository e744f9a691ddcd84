/*
 * The last error of the calling thread: a code and a message, set where a
 * failure happens (converting SQLite and libgit2 errors at that boundary).
 */
#include <stdarg.h>
#include <stdio.h>

#include "tiersync.h"

static _Thread_local char last_message[1024];
static _Thread_local int has_message;
static _Thread_local int last_code;

const char *ts_error_last(void)
{
	return has_message ? last_message : NULL;
}

int ts_error_last_code(void)
{
	return has_message ? last_code : TS_OK;
}

int ts_error_set(int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(last_message, sizeof(last_message), fmt, ap);
	va_end(ap);
	has_message = 1;
	last_code = code;
	return code;
}
