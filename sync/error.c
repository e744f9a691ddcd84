/*
 * The last error of the calling thread: a code and a message, set where a
 * failure happens (converting SQLite and libgit2 errors at that boundary).
 * SQLite's codes become tiersync's here, by the table in error.h.
 */
#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "tiersync.h"

static _Thread_local char last_message[1024];
static _Thread_local int last_code;
static _Thread_local int has_message;

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
	char message[sizeof(last_message)];
	va_list ap;

	/* formatted aside first: an argument may be the last message itself */
	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	memcpy(last_message, message, sizeof(message));
	last_code = code;
	has_message = 1;
	return code;
}

/* The tiersync code of SQLite result `rc` (primary or extended); `otherwise`
 * for the failures that have no code of their own. */
static int code_of(int rc, int otherwise)
{
	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return TS_EBUSY;
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		return TS_ECORRUPT;
	case SQLITE_CONSTRAINT:
		return TS_EINVALID;
	case SQLITE_NOMEM:
		return TS_ERROR;
	default:
		return otherwise;
	}
}

/* "<what>: <detail>", with `what` from fmt and ap. */
static int set_detailed(int code, const char *detail, const char *fmt, va_list ap)
{
	size_t n;

	vsnprintf(last_message, sizeof(last_message), fmt, ap);
	n = strlen(last_message);
	snprintf(last_message + n, sizeof(last_message) - n, ": %s", detail ? detail : "unknown SQLite error");
	last_code = code;
	has_message = 1;
	return code;
}

static int from_db(int otherwise, sqlite3 *db, const char *fmt, va_list ap)
{
	/* a NULL connection reads as SQLITE_NOMEM; after a failed allocation
	 * the connection's message may still be an earlier one */
	int rc = sqlite3_extended_errcode(db);
	const char *detail = (rc & 0xff) == SQLITE_NOMEM ? "out of memory" : sqlite3_errmsg(db);
	return set_detailed(code_of(rc, otherwise), detail, fmt, ap);
}

int ts_sqlite__error(sqlite3 *db, const char *fmt, ...)
{
	va_list ap;
	int code;

	va_start(ap, fmt);
	code = from_db(TS_ERROR, db, fmt, ap);
	va_end(ap);
	return code;
}

int ts_sqlite__error_as(int code, sqlite3 *db, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	code = from_db(code, db, fmt, ap);
	va_end(ap);
	return code;
}

int ts_sqlite__error_rc(int rc, const char *fmt, ...)
{
	va_list ap;
	int code;

	va_start(ap, fmt);
	code = set_detailed(code_of(rc, TS_ERROR), sqlite3_errstr(rc), fmt, ap);
	va_end(ap);
	return code;
}

int ts_error__version(unsigned int version, unsigned int known, const char *what)
{
	if (version == known)
		return 0;
	return ts_error_set(TS_EINVALID, "%s of version %u; this library knows version %u", what, version, known);
}
