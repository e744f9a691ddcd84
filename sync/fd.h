/*
 * A file descriptor written whole: write(2) may write less than asked (a
 * signal, a full pipe) and is then called again for the rest.
 */
#ifndef TS_SYNC_FD_H
#define TS_SYNC_FD_H

#include <stddef.h>

/* Writes `len` bytes of `data` to `fd`, going on after a short write or an
 * interruption: 0, or -1 with errno set (0 for a write that wrote nothing
 * and said no error). */
int ts_fd__write_all(int fd, const void *data, size_t len);

#endif
