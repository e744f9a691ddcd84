/*
 * A growable byte buffer with a sticky out-of-memory flag.
 */
#include "buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tiersync.h"

int ts_buf__grow(ts_buf *buf, size_t extra)
{
	size_t want, nsize;
	char *p;

	if (buf->oom)
		return -1;
	want = buf->size + extra + 1;
	if (want <= buf->asize)
		return 0;
	nsize = buf->asize ? buf->asize : 64;
	while (nsize < want)
		nsize = nsize * 3 / 2 + 8;
	if (!(p = realloc(buf->ptr, nsize))) {
		buf->oom = 1;
		return -1;
	}
	buf->ptr = p;
	buf->asize = nsize;
	return 0;
}

void ts_buf__put(ts_buf *buf, const void *data, size_t len)
{
	if (ts_buf__grow(buf, len) < 0)
		return;
	if (len)
		memcpy(buf->ptr + buf->size, data, len);
	buf->size += len;
	buf->ptr[buf->size] = '\0';
}

void ts_buf__puts(ts_buf *buf, const char *s)
{
	ts_buf__put(buf, s, strlen(s));
}

void ts_buf__putc(ts_buf *buf, char c)
{
	ts_buf__put(buf, &c, 1);
}

void ts_buf__printf(ts_buf *buf, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || ts_buf__grow(buf, (size_t)n) < 0)
		return;
	va_start(ap, fmt);
	vsnprintf(buf->ptr + buf->size, (size_t)n + 1, fmt, ap);
	va_end(ap);
	buf->size += (size_t)n;
}

void ts_buf__clear(ts_buf *buf)
{
	buf->size = 0;
	if (buf->ptr)
		buf->ptr[0] = '\0';
}

void ts_buf__dispose(ts_buf *buf)
{
	free(buf->ptr);
	buf->ptr = NULL;
	buf->size = buf->asize = 0;
	buf->oom = 0;
}

const char *ts_buf__cstr(const ts_buf *buf)
{
	return buf->ptr ? buf->ptr : "";
}

char *ts_buf__detach(ts_buf *buf)
{
	char *p = buf->ptr;
	if (!p)
		p = calloc(1, 1);
	buf->ptr = NULL;
	buf->size = buf->asize = 0;
	return p;
}

int ts_buf__oom(const ts_buf *buf)
{
	if (buf->oom)
		ts_error_set(TS_ERROR, "out of memory");
	return buf->oom;
}
