/*
 * tiersync/errors.h — the error codes every call returns, and the last message.
 * Part of the public API; include "tiersync.h" for all of it.
 */
#ifndef TIERSYNC_ERRORS_H
#define TIERSYNC_ERRORS_H


#ifdef __cplusplus
extern "C" {
#endif

/* Error codes: the cases a caller can act on. */
enum {
	TS_OK        = 0,
	TS_ERROR     = -1,   /* anything else; see ts_error_last() */
	TS_ENOTFOUND = -3,   /* no such node, row, revision, remote */
	TS_EEXISTS   = -4,   /* a node or object already exists there */
	TS_EINVALID  = -5,   /* bad input: unknown column, malformed value */
	TS_ECONFLICT = -6,   /* a merge produced conflicts for review */
	TS_EAUTH     = -7,   /* authentication refused: no key to offer, or the key not taken */
	TS_ENET      = -8,   /* the network failed or timed out */
	TS_EDENIED   = -9,   /* not allowed: a rule or the gate said no */
	TS_ECORRUPT  = -10,  /* history or database damaged or tampered with */
	TS_EBUSY     = -11,  /* the database is locked by another writer */
	TS_EHOSTKEY  = -12,  /* the remote host's key is not known yet: nothing was sent */
	TS_EHOSTKEY_CHANGED = -13   /* the remote host's key is not the one known for it
	                             * (changed, or of another type): refused, nothing sent */
};

/* The message of the last failure on this thread, or NULL. */
const char *ts_error_last(void);

/*
 * The code of the last failure on this thread (what the failing call
 * returned: TS_EBUSY, TS_ECORRUPT ...), or TS_OK when none has failed.
 * Like ts_error_last(), a later success does not clear it.
 */
int ts_error_last_code(void);

/* Sets the last error (printf-style) and its code, and returns `code`. */
int ts_error_set(int code, const char *fmt, ...)
#if defined(__GNUC__)
	__attribute__((format(printf, 2, 3)))
#endif
	;

#ifdef __cplusplus
}
#endif

#endif
