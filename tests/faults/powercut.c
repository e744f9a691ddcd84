/*
 * powercut: a power cut at a chosen moment, and the disk as it would be
 * found afterwards. See docs/FAULTS-POWER.md.
 *
 * Built twice from this one file:
 *
 *   powercut.so        an LD_PRELOAD shim. It watches the calls that change
 *                      files under one node directory (the ROOT), keeps a
 *                      record of what each file and directory looked like at
 *                      its last durable point, and at the Nth such call
 *                      (TS_POWERCUT_AT=N) kills its process with SIGKILL (and any
 *                      other process under the shim at its next call).
 *   powercut-restore   (-DPOWERCUT_TOOL) `snap DIR ROOT` starts a record:
 *                      everything under ROOT is durable now; `restore DIR
 *                      SEED` rewrites ROOT to what a power cut could leave:
 *                      the last durable state, plus, for each write made
 *                      since, by the seed: the write lost, torn (a prefix
 *                      of it) or kept.
 *
 * The durability model is the strict POSIX one:
 *   - a file's content is durable once fsync() or fdatasync() of it
 *     returned; writes and truncations since may each be lost, torn or kept;
 *   - a directory's entries (names created, renamed, linked, removed) are
 *     durable once fsync() or fdatasync() of the directory returned; until
 *     then the directory comes back with the entries it had at its last
 *     durable point, each naming the file it named then;
 *   - syncfs() and sync() make everything under ROOT durable;
 *   - close() makes nothing durable.
 * Files are told apart by inode number and birth time, so an inode number
 * reused for a new file is a different file.
 *
 * The record lives in DIR (TS_POWERCUT_DIR for the shim), never inside ROOT:
 *   DIR/root        ROOT's path
 *   DIR/copies/ID   a file's content at its last durable point
 *   DIR/dirs/ID     a directory's entries at its last durable point,
 *                   one "TYPE MODE ID NAME" line each (TYPE f or d)
 *   DIR/journal     in call order: "C N CALL PATH" each counted call,
 *                   "W ID OFFSET LENGTH", "T ID SIZE" each change of a
 *                   file, "F ID" / "D ID" a file / directory made durable,
 *                   "S" everything made durable
 *   DIR/count       the number of counted calls so far
 *   DIR/off         made at the cut: from then on, any process of the
 *                   trial that comes to a counted call dies there too
 * The counted calls are the ones that change something under ROOT: write,
 * pwrite, writev, ftruncate, fsync, fdatasync, syncfs, sync, open or creat
 * that creates or truncates, rename, link, symlink, unlink, mkdir, rmdir
 * (and their *at and *64 forms). The cut comes just before the Nth of them
 * runs. Only regular files and directories are kept: a symbolic link (libgit2
 * makes one to probe the file system, and removes it) does not survive.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

#define ID_MAX 64

static char root[PATH_MAX];
static char dir[PATH_MAX];

/* ID: inode number and birth time, as text ("" if the file is gone). */
static int file_id(int dirfd, const char *path, int flags, char id[ID_MAX], struct statx *st)
{
	struct statx sx;
	if (!st)
		st = &sx;
	if (statx(dirfd, path, flags | AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS | STATX_BTIME, st) < 0)
		return -1;
	snprintf(id, ID_MAX, "%llx.%llx.%x", (unsigned long long)st->stx_ino,
		(unsigned long long)((st->stx_mask & STATX_BTIME) ? st->stx_btime.tv_sec : 0),
		(st->stx_mask & STATX_BTIME) ? st->stx_btime.tv_nsec : 0);
	return 0;
}

static int write_all(int fd, const void *buf, size_t n)
{
	const char *p = buf;
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* The whole of a file, malloc'd; NULL and *len 0 if it cannot be read. */
static char *slurp(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	char *buf = NULL;
	size_t size = 0, cap = 0;
	*len = 0;
	if (fd < 0)
		return NULL;
	for (;;) {
		if (cap - size < 65536) {
			cap = cap * 2 + 65536;
			buf = realloc(buf, cap);
		}
		ssize_t r = read(fd, buf + size, cap - size);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		size += (size_t)r;
	}
	close(fd);
	*len = size;
	return buf;
}

/* Writes `len` bytes to DIR/SUB/NAME through a temporary file. */
static void put(const char *sub, const char *name, const char *buf, size_t len)
{
	char path[PATH_MAX + ID_MAX * 2], tmp[PATH_MAX + ID_MAX * 2 + 8];
	snprintf(path, sizeof(path), "%s/%s/%s", dir, sub, name);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || write_all(fd, buf, len) < 0 || close(fd) < 0 || rename(tmp, path) < 0) {
		fprintf(stderr, "powercut: cannot write %s: %s\n", path, strerror(errno));
		_exit(99);
	}
}

static void journal(const char *fmt, ...)
{
	char line[PATH_MAX * 2 + 128], path[PATH_MAX + 16];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(line))
		n = (int)sizeof(line) - 1;
	snprintf(path, sizeof(path), "%s/journal", dir);
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd < 0 || write_all(fd, line, (size_t)n) < 0) {
		fprintf(stderr, "powercut: cannot write %s\n", path);
		_exit(99);
	}
	close(fd);
}

/* The content of the file at `path` (identified by `id`) is durable now. */
static void durable_file(const char *path, const char *id)
{
	size_t len;
	char *buf = slurp(path, &len);
	put("copies", id, buf ? buf : "", len);
	free(buf);
	journal("F %s\n", id);
}

/* The entries of the directory at `path` are durable now. */
static void durable_dir(const char *path, const char *id)
{
	DIR *d = opendir(path);
	char *list = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&list, &len);
	struct dirent *e;
	while (d && (e = readdir(d))) {
		char child[ID_MAX];
		struct statx st;
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") ||
		    file_id(dirfd(d), e->d_name, 0, child, &st) < 0)
			continue;
		if (S_ISREG(st.stx_mode) || S_ISDIR(st.stx_mode))
			fprintf(f, "%c %o %s %s\n", S_ISDIR(st.stx_mode) ? 'd' : 'f', st.stx_mode & 07777, child,
				e->d_name);
	}
	if (d)
		closedir(d);
	fclose(f);
	put("dirs", id, list, len);
	free(list);
	journal("D %s\n", id);
}

static int snap_one(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	char id[ID_MAX];
	if (file_id(AT_FDCWD, path, 0, id, NULL) < 0)
		return 0;
	if (type == FTW_D)
		durable_dir(path, id);
	else if (type == FTW_F && S_ISREG(sb->st_mode))
		durable_file(path, id);
	return 0;
}

/* Everything under ROOT is durable now. */
static void durable_all(void)
{
	nftw(root, snap_one, 32, FTW_PHYS);
	journal("S\n");
}

static int read_setting(void)
{
	const char *d = getenv("TS_POWERCUT_DIR");
	char path[PATH_MAX + 16];
	size_t len;
	if (!d || !*d)
		return -1;
	snprintf(dir, sizeof(dir), "%s", d);
	snprintf(path, sizeof(path), "%s/root", dir);
	char *r = slurp(path, &len);
	if (!r || len == 0 || len >= sizeof(root)) {
		free(r);
		return -1;
	}
	memcpy(root, r, len);
	root[len] = '\0';
	if (root[len - 1] == '\n')
		root[len - 1] = '\0';
	free(r);
	return 0;
}

#ifndef POWERCUT_TOOL
/* ======================================================================
 * The shim
 * ====================================================================== */

static int active = -1;          /* -1 not set up yet, 0 off, 1 on */
static long cut_at;               /* 0: never cut, only count */
static __thread int inside;       /* the shim's own file calls pass through */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

#define REAL(name) \
	static __typeof__(name) *real_##name; \
	if (!real_##name) \
		real_##name = (__typeof__(name) *)dlsym(RTLD_NEXT, #name)

static int setup(void)
{
	if (active < 0) {
		const char *at = getenv("TS_POWERCUT_AT");
		cut_at = at ? atol(at) : 0;
		active = read_setting() == 0;
	}
	return active;
}

/* Enters the shim's bookkeeping: 0 if the call is to pass through. */
static int enter(void)
{
	if (inside || !setup())
		return 0;
	inside = 1;
	pthread_mutex_lock(&lock);
	return 1;
}

static void leave(void)
{
	pthread_mutex_unlock(&lock);
	inside = 0;
}

static int under_root(const char *path)
{
	size_t n = strlen(root);
	return !strncmp(path, root, n) && (path[n] == '/' || path[n] == '\0');
}

/* The absolute path of `path` as seen from `dirfd`. */
static void absolute(char out[PATH_MAX], int dirfd, const char *path)
{
	char base[PATH_MAX] = "";
	if (path[0] == '/') {
		snprintf(out, PATH_MAX, "%s", path);
		return;
	}
	if (dirfd == AT_FDCWD) {
		if (!getcwd(base, sizeof(base)))
			base[0] = '\0';
	} else {
		char link[64];
		snprintf(link, sizeof(link), "/proc/self/fd/%d", dirfd);
		ssize_t n = readlink(link, base, sizeof(base) - 1);
		base[n > 0 ? n : 0] = '\0';
	}
	snprintf(out, PATH_MAX, "%.2048s/%.2000s", base, path);
}

/* The path of an open file under ROOT, its id and whether it is a
 * directory; -1 if it is not a file or directory under ROOT. */
static int tracked_fd(int fd, char path[PATH_MAX], char id[ID_MAX], int *is_dir)
{
	char link[64];
	struct statx st;
	if (file_id(fd, "", AT_EMPTY_PATH, id, &st) < 0 || !(S_ISREG(st.stx_mode) || S_ISDIR(st.stx_mode)))
		return -1;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	ssize_t n = readlink(link, path, PATH_MAX - 1);
	if (n <= 0)
		return -1;
	path[n] = '\0';
	*is_dir = S_ISDIR(st.stx_mode);
	return under_root(path) ? 0 : -1;
}

/* One more counted call: journals it and, at the cut point, dies. */
static void counted(const char *call, const char *path)
{
	char file[PATH_MAX + 16], text[32];
	long n = 0;
	snprintf(file, sizeof(file), "%s/count", dir);
	int fd = open(file, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		_exit(99);
	flock(fd, LOCK_EX);
	ssize_t r = pread(fd, text, sizeof(text) - 1, 0);
	text[r > 0 ? r : 0] = '\0';
	n = atol(text) + 1;
	int len = snprintf(text, sizeof(text), "%ld\n", n);
	if (pwrite(fd, text, (size_t)len, 0) != len)
		_exit(99);
	/* once the power is off, any process of the trial that touches ROOT
	 * dies too (a shell's child cut, the shell next) */
	snprintf(file, sizeof(file), "%s/off", dir);
	int off = access(file, F_OK) == 0;
	journal("C %ld %s %s\n", n, call, path);
	if (off || (cut_at > 0 && n == cut_at)) {
		if (!off) {
			journal("X cut before call %ld\n", n);
			close(open(file, O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
		}
		kill(getpid(), SIGKILL);
		for (;;)
			pause();
	}
	flock(fd, LOCK_UN);
	close(fd);
}

/* Before a change through a file descriptor: 1 if it is tracked. */
static int fd_before(const char *call, int fd, char id[ID_MAX], int *is_dir)
{
	char path[PATH_MAX];
	if (!enter())
		return 0;
	if (tracked_fd(fd, path, id, is_dir) < 0) {
		leave();
		return 0;
	}
	counted(call, path);
	return 1; /* still inside: fd_after() leaves */
}

static void wrote(int fd, const char *id, ssize_t n)
{
	if (n > 0) {
		off_t end = lseek(fd, 0, SEEK_CUR);
		journal("W %s %lld %lld\n", id, (long long)(end - n), (long long)n);
	}
}

ssize_t write(int fd, const void *buf, size_t count)
{
	REAL(write);
	char id[ID_MAX];
	int is_dir;
	if (!fd_before("write", fd, id, &is_dir))
		return real_write(fd, buf, count);
	ssize_t r = real_write(fd, buf, count);
	int saved = errno;
	wrote(fd, id, r);
	leave();
	errno = saved;
	return r;
}

ssize_t writev(int fd, const struct iovec *iov, int iovcnt)
{
	REAL(writev);
	char id[ID_MAX];
	int is_dir;
	if (!fd_before("writev", fd, id, &is_dir))
		return real_writev(fd, iov, iovcnt);
	ssize_t r = real_writev(fd, iov, iovcnt);
	int saved = errno;
	wrote(fd, id, r);
	leave();
	errno = saved;
	return r;
}

#define PWRITE(name, off_type) \
	ssize_t name(int fd, const void *buf, size_t count, off_type offset) \
	{ \
		REAL(name); \
		char id[ID_MAX]; \
		int is_dir; \
		if (!fd_before(#name, fd, id, &is_dir)) \
			return real_##name(fd, buf, count, offset); \
		ssize_t r = real_##name(fd, buf, count, offset); \
		int saved = errno; \
		if (r > 0) \
			journal("W %s %lld %lld\n", id, (long long)offset, (long long)r); \
		leave(); \
		errno = saved; \
		return r; \
	}
PWRITE(pwrite, off_t)
PWRITE(pwrite64, off64_t)

#define FTRUNCATE(name, off_type) \
	int name(int fd, off_type length) \
	{ \
		REAL(name); \
		char id[ID_MAX]; \
		int is_dir; \
		if (!fd_before(#name, fd, id, &is_dir)) \
			return real_##name(fd, length); \
		int r = real_##name(fd, length); \
		int saved = errno; \
		if (r == 0) \
			journal("T %s %lld\n", id, (long long)length); \
		leave(); \
		errno = saved; \
		return r; \
	}
FTRUNCATE(ftruncate, off_t)
FTRUNCATE(ftruncate64, off64_t)

#define FSYNC(name) \
	int name(int fd) \
	{ \
		REAL(name); \
		char id[ID_MAX], path[PATH_MAX]; \
		int is_dir; \
		if (!fd_before(#name, fd, id, &is_dir)) \
			return real_##name(fd); \
		int r = real_##name(fd); \
		int saved = errno; \
		if (r == 0 && tracked_fd(fd, path, id, &is_dir) == 0) { \
			if (is_dir) \
				durable_dir(path, id); \
			else \
				durable_file(path, id); \
		} \
		leave(); \
		errno = saved; \
		return r; \
	}
FSYNC(fsync)
FSYNC(fdatasync)

int syncfs(int fd)
{
	REAL(syncfs);
	if (!enter())
		return real_syncfs(fd);
	counted("syncfs", root);
	int r = real_syncfs(fd);
	int saved = errno;
	if (r == 0)
		durable_all();
	leave();
	errno = saved;
	return r;
}

void sync(void)
{
	REAL(sync);
	if (!enter()) {
		real_sync();
		return;
	}
	counted("sync", root);
	real_sync();
	durable_all();
	leave();
}

/* Before a change by path: 1 if it is under ROOT (and counted). */
static int path_before(const char *call, int dirfd, const char *path)
{
	char abs[PATH_MAX];
	if (!enter())
		return 0;
	absolute(abs, dirfd, path);
	if (!under_root(abs)) {
		leave();
		return 0;
	}
	counted(call, abs);
	leave();
	return 1;
}

/* open and creat: counted when they create or truncate a file under ROOT;
 * a truncation is journalled as one. */
static int opened(const char *call, int dirfd, const char *path, int flags, int fd)
{
	char id[ID_MAX], abs[PATH_MAX];
	int is_dir;
	if (fd >= 0 && (flags & O_TRUNC) && (flags & O_ACCMODE) != O_RDONLY && enter()) {
		if (tracked_fd(fd, abs, id, &is_dir) == 0)
			journal("T %s 0\n", id);
		leave();
	}
	return fd;
}

#define OPENAT(name) \
	int name(int dirfd, const char *path, int flags, ...) \
	{ \
		REAL(name); \
		mode_t mode = 0; \
		if (flags & (O_CREAT | O_TMPFILE)) { \
			va_list ap; \
			va_start(ap, flags); \
			mode = va_arg(ap, mode_t); \
			va_end(ap); \
		} \
		if ((flags & (O_CREAT | O_TRUNC)) && (flags & O_ACCMODE) != O_RDONLY) \
			path_before(#name, dirfd, path); \
		return opened(#name, dirfd, path, flags, real_##name(dirfd, path, flags, mode)); \
	}
OPENAT(openat)
OPENAT(openat64)

#define OPEN(name) \
	int name(const char *path, int flags, ...) \
	{ \
		REAL(name); \
		mode_t mode = 0; \
		if (flags & (O_CREAT | O_TMPFILE)) { \
			va_list ap; \
			va_start(ap, flags); \
			mode = va_arg(ap, mode_t); \
			va_end(ap); \
		} \
		if ((flags & (O_CREAT | O_TRUNC)) && (flags & O_ACCMODE) != O_RDONLY) \
			path_before(#name, AT_FDCWD, path); \
		return opened(#name, AT_FDCWD, path, flags, real_##name(path, flags, mode)); \
	}
OPEN(open)
OPEN(open64)

#define CREAT(name) \
	int name(const char *path, mode_t mode) \
	{ \
		REAL(name); \
		path_before(#name, AT_FDCWD, path); \
		return opened(#name, AT_FDCWD, path, O_WRONLY | O_CREAT | O_TRUNC, real_##name(path, mode)); \
	}
CREAT(creat)
CREAT(creat64)

int rename(const char *from, const char *to)
{
	REAL(rename);
	if (!path_before("rename", AT_FDCWD, from))
		path_before("rename", AT_FDCWD, to);
	return real_rename(from, to);
}

int renameat(int fromfd, const char *from, int tofd, const char *to)
{
	REAL(renameat);
	if (!path_before("renameat", fromfd, from))
		path_before("renameat", tofd, to);
	return real_renameat(fromfd, from, tofd, to);
}

int renameat2(int fromfd, const char *from, int tofd, const char *to, unsigned int flags)
{
	REAL(renameat2);
	if (!path_before("renameat2", fromfd, from))
		path_before("renameat2", tofd, to);
	return real_renameat2(fromfd, from, tofd, to, flags);
}

int link(const char *from, const char *to)
{
	REAL(link);
	path_before("link", AT_FDCWD, to);
	return real_link(from, to);
}

int symlink(const char *target, const char *path)
{
	REAL(symlink);
	path_before("symlink", AT_FDCWD, path);
	return real_symlink(target, path);
}

int unlink(const char *path)
{
	REAL(unlink);
	path_before("unlink", AT_FDCWD, path);
	return real_unlink(path);
}

int unlinkat(int dirfd, const char *path, int flags)
{
	REAL(unlinkat);
	path_before("unlinkat", dirfd, path);
	return real_unlinkat(dirfd, path, flags);
}

int mkdir(const char *path, mode_t mode)
{
	REAL(mkdir);
	path_before("mkdir", AT_FDCWD, path);
	return real_mkdir(path, mode);
}

int mkdirat(int dirfd, const char *path, mode_t mode)
{
	REAL(mkdirat);
	path_before("mkdirat", dirfd, path);
	return real_mkdirat(dirfd, path, mode);
}

int rmdir(const char *path)
{
	REAL(rmdir);
	path_before("rmdir", AT_FDCWD, path);
	return real_rmdir(path);
}

#else
/* ======================================================================
 * The restore tool
 * ====================================================================== */

/* A change to a file since its last durable point. */
struct op {
	char kind; /* 'W' write, 'T' truncate */
	long long off, len;
};

struct file {
	char id[ID_MAX];
	struct op *ops;
	size_t n, cap;
	char *now;          /* its path at the cut, if it still had one */
	struct statx st;    /* and what stat said of it then */
};

static struct file *files;
static size_t nfiles, capfiles;
static uint64_t rng;
static long kept, lost, torn, revived;

static uint64_t next_random(void)
{
	/* xorshift64* */
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 2685821657736338717ULL;
}

static struct file *file_of(const char *id)
{
	for (size_t i = 0; i < nfiles; i++)
		if (!strcmp(files[i].id, id))
			return &files[i];
	if (nfiles == capfiles) {
		capfiles = capfiles * 2 + 64;
		files = realloc(files, capfiles * sizeof(*files));
	}
	struct file *f = &files[nfiles++];
	memset(f, 0, sizeof(*f));
	snprintf(f->id, sizeof(f->id), "%s", id);
	return f;
}

static void replay_journal(void)
{
	char path[PATH_MAX + 16], line[PATH_MAX * 2 + 128], id[ID_MAX];
	long long a, b;
	snprintf(path, sizeof(path), "%s/journal", dir);
	FILE *j = fopen(path, "r");
	if (!j) {
		fprintf(stderr, "powercut-restore: no journal in %s\n", dir);
		exit(2);
	}
	while (fgets(line, sizeof(line), j)) {
		struct file *f;
		if (line[0] == 'S') {
			for (size_t i = 0; i < nfiles; i++)
				files[i].n = 0;
		} else if (line[0] == 'F' && sscanf(line, "F %63s", id) == 1) {
			file_of(id)->n = 0;
		} else if ((line[0] == 'W' && sscanf(line, "W %63s %lld %lld", id, &a, &b) == 3) ||
			   (line[0] == 'T' && sscanf(line, "T %63s %lld", id, &a) == 2)) {
			f = file_of(id);
			if (f->n == f->cap) {
				f->cap = f->cap * 2 + 16;
				f->ops = realloc(f->ops, f->cap * sizeof(*f->ops));
			}
			f->ops[f->n++] = (struct op){ line[0], a, line[0] == 'W' ? b : 0 };
		}
	}
	fclose(j);
}

/* What is under ROOT at the cut: each file's path by its id. */
static int note_now(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	char id[ID_MAX];
	struct statx st;
	if (file_id(AT_FDCWD, path, 0, id, &st) == 0) {
		struct file *f = file_of(id);
		free(f->now);
		f->now = strdup(path);
		f->st = st;
	}
	return 0;
}

/* The file `id` as the power cut leaves it, written to `out`. */
static void rebuild_file(const char *out, const char *id, mode_t mode)
{
	char path[PATH_MAX + ID_MAX * 2];
	size_t len = 0, now_len = 0;
	struct file *f = file_of(id);
	snprintf(path, sizeof(path), "%s/copies/%s", dir, id);
	char *buf = slurp(path, &len);
	char *now = f->now ? slurp(f->now, &now_len) : NULL;
	size_t cap = len;
	for (size_t i = 0; i < f->n; i++) {
		struct op *op = &f->ops[i];
		int fate = (int)(next_random() % 3); /* 0 lost, 1 torn, 2 kept */
		if (op->kind == 'T' && fate == 1)
			fate = 2;
		if (fate == 0 || (op->kind == 'W' && !now)) {
			lost++;
			continue;
		}
		long long size = op->off;
		long long take = 0;
		if (op->kind == 'W') {
			take = op->len;
			if (op->off + take > (long long)now_len)
				take = (long long)now_len - op->off;
			if (take <= 0) {
				lost++;
				continue;
			}
			if (fate == 1)
				take = (long long)(next_random() % (uint64_t)take);
			size = op->off + take;
		}
		if ((size_t)size > cap) {
			cap = (size_t)size;
			buf = realloc(buf, cap + 1);
		}
		if ((size_t)size > len)
			memset(buf + len, 0, (size_t)size - len);
		if (op->kind == 'T' || (size_t)size > len)
			len = (size_t)size;
		if (op->kind == 'W')
			memcpy(buf + op->off, now + op->off, (size_t)take);
		if (fate == 1)
			torn++;
		else
			kept++;
	}
	int fd = open(out, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 || write_all(fd, buf ? buf : "", len) < 0 || fchmod(fd, mode) < 0) {
		fprintf(stderr, "powercut-restore: cannot write %s: %s\n", out, strerror(errno));
		exit(1);
	}
	if (f->now) {
		struct timespec times[2] = {
			{ f->st.stx_atime.tv_sec, f->st.stx_atime.tv_nsec },
			{ f->st.stx_mtime.tv_sec, f->st.stx_mtime.tv_nsec },
		};
		futimens(fd, times);
	}
	close(fd);
	free(buf);
	free(now);
}

/* The directory `id` as the power cut leaves it, built at `out`. */
static void rebuild_dir(const char *out, const char *id)
{
	char path[PATH_MAX + ID_MAX * 2], line[PATH_MAX + 128];
	snprintf(path, sizeof(path), "%s/dirs/%s", dir, id);
	FILE *list = fopen(path, "r");
	if (!list)
		return; /* made since its last durable point: empty */
	while (fgets(line, sizeof(line), list)) {
		char type, child[ID_MAX], name[PATH_MAX], sub[PATH_MAX * 2];
		unsigned mode;
		int at = 0;
		line[strcspn(line, "\n")] = '\0';
		if (sscanf(line, "%c %o %63s %n", &type, &mode, child, &at) < 3 || at == 0)
			continue;
		snprintf(name, sizeof(name), "%s", line + at);
		snprintf(sub, sizeof(sub), "%s/%s", out, name);
		if (!file_of(child)->now)
			revived++;
		if (type == 'd') {
			if (mkdir(sub, 0700) < 0) {
				fprintf(stderr, "powercut-restore: cannot make %s: %s\n", sub, strerror(errno));
				exit(1);
			}
			rebuild_dir(sub, child);
			chmod(sub, mode);
		} else {
			rebuild_file(sub, child, mode);
		}
	}
	fclose(list);
}

static int remove_one(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	if (ftw->level == 0)
		return 0;
	return remove(path) < 0 ? -1 : 0;
}

/* The number of entries under `path`, at any depth. */
static long count_entries(const char *path)
{
	long n = 0;
	DIR *d = opendir(path);
	struct dirent *e;
	while (d && (e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
			char sub[PATH_MAX * 2];
			n++;
			snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name);
			if (e->d_type == DT_DIR)
				n += count_entries(sub);
		}
	if (d)
		closedir(d);
	return n;
}

static int restore(const char *seed)
{
	char rebuilt[PATH_MAX + 16], root_id[ID_MAX];
	rng = strtoull(seed, NULL, 10) * 0x9E3779B97F4A7C15ULL + 1;
	replay_journal();
	if (file_id(AT_FDCWD, root, 0, root_id, NULL) < 0) {
		fprintf(stderr, "powercut-restore: no %s\n", root);
		return 1;
	}
	nftw(root, note_now, 32, FTW_PHYS);
	long before = count_entries(root);
	snprintf(rebuilt, sizeof(rebuilt), "%s/rebuilt", dir);
	if (mkdir(rebuilt, 0700) < 0) {
		fprintf(stderr, "powercut-restore: cannot make %s: %s\n", rebuilt, strerror(errno));
		return 1;
	}
	rebuild_dir(rebuilt, root_id);
	long after = count_entries(rebuilt);

	/* ROOT's entries out, the rebuilt ones in */
	if (nftw(root, remove_one, 32, FTW_PHYS | FTW_DEPTH) != 0) {
		fprintf(stderr, "powercut-restore: cannot empty %s: %s\n", root, strerror(errno));
		return 1;
	}
	DIR *d = opendir(rebuilt);
	struct dirent *e;
	while (d && (e = readdir(d))) {
		char from[PATH_MAX * 2], to[PATH_MAX * 2];
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		snprintf(from, sizeof(from), "%s/%s", rebuilt, e->d_name);
		snprintf(to, sizeof(to), "%s/%s", root, e->d_name);
		if (rename(from, to) < 0) {
			fprintf(stderr, "powercut-restore: cannot move %s: %s\n", from, strerror(errno));
			return 1;
		}
	}
	if (d)
		closedir(d);
	rmdir(rebuilt);
	printf("restored %s: %ld writes lost, %ld torn, %ld kept; %ld entries before, %ld after (%ld revived)\n",
		root, lost, torn, kept, before, after, revived);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "snap")) {
		char sub[PATH_MAX + 16];
		if (!realpath(argv[3], root)) {
			fprintf(stderr, "powercut-restore: no %s\n", argv[3]);
			return 1;
		}
		snprintf(dir, sizeof(dir), "%s", argv[2]);
		mkdir(dir, 0700);
		snprintf(sub, sizeof(sub), "%s/copies", dir);
		mkdir(sub, 0700);
		snprintf(sub, sizeof(sub), "%s/dirs", dir);
		mkdir(sub, 0700);
		snprintf(sub, sizeof(sub), "%s/root", dir);
		FILE *f = fopen(sub, "w");
		if (!f || fprintf(f, "%s\n", root) < 0 || fclose(f) != 0)
			return 1;
		durable_all();
		return 0;
	}
	if (argc == 4 && !strcmp(argv[1], "restore")) {
		snprintf(dir, sizeof(dir), "%s", argv[2]);
		setenv("TS_POWERCUT_DIR", dir, 1);
		if (read_setting() < 0) {
			fprintf(stderr, "powercut-restore: no record in %s (run snap first)\n", dir);
			return 1;
		}
		return restore(argv[3]);
	}
	fprintf(stderr, "usage: powercut-restore snap DIR ROOT\n"
			"       powercut-restore restore DIR SEED\n");
	return 2;
}
#endif
