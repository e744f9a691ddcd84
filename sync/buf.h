/*
 * A growable byte buffer, always NUL-terminated so that text can be read
 * from it directly. Errors are sticky: after a failed allocation every
 * later append is a no-op and ts_buf__oom() says so, so encoders can append
 * freely and check once at the end.
 */
#ifndef TS_SYNC_BUF_H
#define TS_SYNC_BUF_H

#include <stddef.h>

typedef struct {
	char *ptr;     /* the bytes, NUL-terminated; NULL until the first append */
	size_t size;   /* bytes used, not counting the NUL */
	size_t asize;  /* bytes allocated */
	int oom;       /* set once an allocation failed */
} ts_buf;

#define TS_BUF_INIT { NULL, 0, 0, 0 }

int ts_buf__grow(ts_buf *buf, size_t extra);
void ts_buf__put(ts_buf *buf, const void *data, size_t len);
void ts_buf__puts(ts_buf *buf, const char *s);
void ts_buf__putc(ts_buf *buf, char c);
void ts_buf__printf(ts_buf *buf, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void ts_buf__clear(ts_buf *buf);          /* size = 0, keeps the memory */
void ts_buf__dispose(ts_buf *buf);        /* frees; the buffer may be reused */
/* The text so far ("" when empty). */
const char *ts_buf__cstr(const ts_buf *buf);
/* Hands the bytes over to the caller (free() them); the buffer is reset. */
char *ts_buf__detach(ts_buf *buf);
/* Non-zero after a failed allocation; also sets the last error. */
int ts_buf__oom(const ts_buf *buf);

#endif
