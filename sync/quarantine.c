/*
 * A quarantine for incoming objects: a bare repository inside a
 * repository's git directory (tiersync-incoming-XXXXXX) that borrows its
 * objects through objects/info/alternates, so that what arrives (a fetch,
 * a bundle) can be read and checked with everything it builds on, while
 * nothing of it is in the repository's own objects. Only once it is
 * admitted does ts_quarantine__move() move its packs and loose objects in.
 * A quarantine whose owner died (its owner.lock is free) is removed by the
 * next ts_quarantine__open() in the same repository.
 *
 * Generic: it knows git repositories, nothing of nodes.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "error.h"
#include "quarantine.h"
#include "store.h"
#include "tiersync.h"

#define QUARANTINE_PREFIX "tiersync-incoming-"
#define KEPT_PREFIX "tiersync-kept-"
#define KEPT_TIP "refs/kept/tip"
#define QUARANTINE_LOCK "owner.lock"

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st; (void)flag; (void)ftw;
	return remove(path);
}

static void remove_tree(const char *path)
{
	nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Removes the quarantines whose owners are no longer running. */
static void sweep_quarantines(const char *gitdir)
{
	ts_buf path = TS_BUF_INIT;
	struct dirent *de;
	struct stat st;
	DIR *d = opendir(gitdir);
	int fd;

	if (!d)
		return;
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, QUARANTINE_PREFIX, strlen(QUARANTINE_PREFIX)))
			continue;
		ts_buf__clear(&path);
		ts_buf__printf(&path, "%s%s/" QUARANTINE_LOCK, gitdir, de->d_name);
		if (ts_buf__oom(&path))
			break;
		fd = open(path.ptr, O_RDWR | O_CLOEXEC);
		if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) < 0) {
			close(fd);        /* its owner is running */
			continue;
		}
		/* no lock file: killed while being set up, unless just made */
		ts_buf__clear(&path);
		ts_buf__printf(&path, "%s%s", gitdir, de->d_name);
		if (fd >= 0 || (stat(path.ptr, &st) == 0 && st.st_mtime < time(NULL) - 3600))
			remove_tree(path.ptr);
		if (fd >= 0)
			close(fd);
	}
	closedir(d);
	ts_buf__dispose(&path);
}

/* Lets the quarantine go, removing its directory unless it is kept. */
static void release(ts_quarantine *q, int keep)
{
	git_repository_free(q->repo);
	if (q->dir && !keep)
		remove_tree(q->dir);
	if (q->lock_fd >= 0)
		close(q->lock_fd);
	free(q->dir);
	q->repo = NULL;
	q->dir = NULL;
	q->lock_fd = -1;
}

void ts_quarantine__close(ts_quarantine *q)
{
	release(q, 0);
}

/* Seeds a ref of the quarantine from the node, when the node has it. */
static int quarantine_seed(ts_quarantine *q, git_repository *from, const char *ref)
{
	git_reference *made = NULL;
	git_oid id;

	if (!ref || git_reference_name_to_id(&id, from, ref) < 0)
		return 0;
	if (git_reference_create(&made, q->repo, ref, &id, 1, NULL) < 0)
		return ts_store__git_error(TS_ERROR, "preparing a place for incoming objects");
	git_reference_free(made);
	return 0;
}

/* A bare repository in q->dir reading `gitdir`'s objects too. */
static int quarantine_init(ts_quarantine *q, const char *gitdir)
{
	ts_buf a = TS_BUF_INIT, b = TS_BUF_INIT;
	FILE *f = NULL;
	int error = 0;

	if (git_repository_init(&q->repo, q->dir, 1) < 0)
		return ts_store__git_error(TS_ERROR, "creating a place for incoming objects");
	/* written aside and renamed: a place with this file is whole */
	ts_buf__printf(&b, "%sobjects/info/alternates.tmp", q->dir);
	if (ts_buf__oom(&b) || !(f = fopen(b.ptr, "w")))
		error = ts_error_set(TS_ERROR, "writing %s: %s", ts_buf__cstr(&b), strerror(errno));
	else if ((fprintf(f, "%sobjects\n", gitdir) < 0) | (fclose(f) != 0))   /* closed either way */
		error = ts_error_set(TS_ERROR, "writing %s: %s", b.ptr, strerror(errno));
	if (error == 0) {
		ts_buf__printf(&a, "%sobjects/info/alternates", q->dir);
		if (ts_buf__oom(&a) || rename(b.ptr, a.ptr) < 0)
			error = ts_error_set(TS_ERROR, "writing %s: %s", ts_buf__cstr(&a), strerror(errno));
	}
	ts_buf__dispose(&a);
	ts_buf__dispose(&b);
	return error;
}

int ts_quarantine__open_kept(ts_quarantine *q, git_repository *repo, const char *name)
{
	static const char *const init_locks[] = { "config.lock", "HEAD.lock" };
	const char *gitdir = git_repository_path(repo);
	ts_buf b = TS_BUF_INIT;
	struct stat st;
	size_t i;
	int error = 0;

	memset(q, 0, sizeof(*q));
	q->lock_fd = -1;
	sweep_quarantines(gitdir);
	ts_buf__printf(&b, "%s" KEPT_PREFIX "%s/", gitdir, name);
	if (ts_buf__oom(&b))
		return TS_ERROR;
	q->dir = ts_buf__detach(&b);
	if (mkdir(q->dir, 0755) < 0 && errno != EEXIST) {
		error = ts_error_set(TS_ERROR, "creating a place for incoming objects in %s: %s", gitdir, strerror(errno));
		goto done;
	}
	ts_buf__printf(&b, "%s" QUARANTINE_LOCK, q->dir);
	if (ts_buf__oom(&b) || (q->lock_fd = open(b.ptr, O_RDWR | O_CREAT | O_CLOEXEC, 0644)) < 0) {
		error = ts_error_set(TS_ERROR, "creating a place for incoming objects in %s: %s", gitdir, strerror(errno));
		goto done;
	}
	if (flock(q->lock_fd, LOCK_EX | LOCK_NB) < 0) {
		error = ts_error_set(TS_EBUSY, "another transfer (%s) is taking objects in; try again when it ends", name);
		goto done;
	}
	/* the place is whole once its alternates file is there: it is written
	 * last, and whole (quarantine_init()) */
	ts_buf__clear(&b);
	ts_buf__printf(&b, "%sobjects/info/alternates", q->dir);
	if (ts_buf__oom(&b)) {
		error = TS_ERROR;
		goto done;
	}
	if (stat(b.ptr, &st) == 0 && git_repository_open_bare(&q->repo, q->dir) == 0)
		goto done;
	git_error_clear();
	/* a holder killed while it made the place may have left the lock files
	 * of the config and HEAD it was writing; the place is this holder's now */
	for (i = 0; i < sizeof(init_locks) / sizeof(*init_locks); i++) {
		ts_buf__clear(&b);
		ts_buf__printf(&b, "%s%s", q->dir, init_locks[i]);
		if (!ts_buf__oom(&b))
			unlink(b.ptr);
	}
	error = quarantine_init(q, gitdir);
done:
	ts_buf__dispose(&b);
	if (error < 0) {
		/* never remove another transfer's place */
		if (error == TS_EBUSY) {
			free(q->dir);
			q->dir = NULL;
		}
		ts_quarantine__close(q);
	}
	return error;
}

int ts_quarantine__kept_tip(git_oid *out, ts_quarantine *q)
{
	return git_reference_name_to_id(out, q->repo, KEPT_TIP) == 0 ? 0 : TS_ENOTFOUND;
}

int ts_quarantine__keep(ts_quarantine *q, const git_oid *tip)
{
	git_reference *ref = NULL;
	int error = 0;

	if (git_reference_create(&ref, q->repo, KEPT_TIP, tip, 1, NULL) < 0)
		error = ts_store__git_error(TS_ERROR, "keeping the commits that came whole");
	git_reference_free(ref);
	release(q, error == 0);
	return error;
}

int ts_quarantine__end_cut(ts_quarantine *q, int error, const git_oid *last, size_t commits, const char *next)
{
	git_oid tip;
	char why[900];

	if (error != TS_ENET || !q->repo)
		return error;
	if (!last || !commits) {
		if (ts_quarantine__kept_tip(&tip, q) < 0)
			return error;     /* nothing whole to keep */
		last = &tip;
	}
	snprintf(why, sizeof(why), "%s", ts_error_last() ? ts_error_last() : "the link failed");
	if (ts_quarantine__keep(q, last) < 0)
		return ts_error_set(error, "%s", why);
	if (commits)
		return ts_error_set(error, "%s; the %zu commit%s that came whole %s kept: %s", why, commits,
			commits == 1 ? "" : "s", commits == 1 ? "is" : "are", next);
	return ts_error_set(error, "%s; the commits that came whole before stay kept: %s", why, next);
}

int ts_quarantine__open(ts_quarantine *q, git_repository *repo, const char *dst_ref)
{
	const char *gitdir = git_repository_path(repo);
	ts_buf b = TS_BUF_INIT;
	int error = 0;

	memset(q, 0, sizeof(*q));
	q->lock_fd = -1;
	sweep_quarantines(gitdir);
	ts_buf__printf(&b, "%s" QUARANTINE_PREFIX "XXXXXX", gitdir);
	if (ts_buf__oom(&b))
		return TS_ERROR;
	if (!mkdtemp(b.ptr)) {
		error = ts_error_set(TS_ERROR, "creating a place for incoming objects in %s: %s", gitdir, strerror(errno));
		ts_buf__dispose(&b);
		return error;
	}
	ts_buf__putc(&b, '/');
	q->dir = ts_buf__detach(&b);
	ts_buf__printf(&b, "%s" QUARANTINE_LOCK, q->dir);
	if (ts_buf__oom(&b) || (q->lock_fd = open(b.ptr, O_RDWR | O_CREAT | O_CLOEXEC, 0644)) < 0 ||
	    flock(q->lock_fd, LOCK_EX) < 0) {
		error = ts_error_set(TS_ERROR, "creating a place for incoming objects in %s: %s", gitdir, strerror(errno));
		goto done;
	}
	if ((error = quarantine_init(q, gitdir)) < 0)
		goto done;
	/* what the node has, so that only the rest is sent */
	if ((error = quarantine_seed(q, repo, TS_STORE_MAIN)) < 0 ||
	    (error = quarantine_seed(q, repo, dst_ref)) < 0)
		goto done;
done:
	ts_buf__dispose(&b);
	if (error < 0)
		ts_quarantine__close(q);
	return error;
}

/* Moves the objects fetched into the quarantine to the node's objects:
 * packs (each .pack before its .idx, so that no reader sees an index
 * without its pack) and any loose objects. Call with the store lock held. */
int ts_quarantine__move(ts_quarantine *q, const char *gitdir)
{
	static const char *const pass_suffix[] = { ".pack", ".idx" };
	ts_buf from = TS_BUF_INIT, to = TS_BUF_INIT, dir = TS_BUF_INIT;
	struct dirent *de, *le;
	int pass, error = 0;
	DIR *d;

	for (pass = 0; pass < 2 && !error; pass++) {
		ts_buf__clear(&dir);
		ts_buf__printf(&dir, "%sobjects/pack", q->dir);
		if (ts_buf__oom(&dir) || !(d = opendir(dir.ptr)))
			break;
		while (!error && (de = readdir(d))) {
			size_t n = strlen(de->d_name), m = strlen(pass_suffix[pass]);
			if (strncmp(de->d_name, "pack-", 5) || n <= m || strcmp(de->d_name + n - m, pass_suffix[pass]))
				continue;
			ts_buf__clear(&from);
			ts_buf__clear(&to);
			ts_buf__printf(&from, "%s/%s", dir.ptr, de->d_name);
			ts_buf__printf(&to, "%sobjects/pack/%s", gitdir, de->d_name);
			if (ts_buf__oom(&from) || ts_buf__oom(&to) ||
			    (access(to.ptr, F_OK) < 0 && rename(from.ptr, to.ptr) < 0))
				error = ts_error_set(TS_ERROR, "moving incoming objects into %s: %s", gitdir, strerror(errno));
		}
		closedir(d);
	}
	/* loose objects: objects/xx/yyyy */
	ts_buf__clear(&dir);
	ts_buf__printf(&dir, "%sobjects", q->dir);
	if (!error && !ts_buf__oom(&dir) && (d = opendir(dir.ptr))) {
		while (!error && (de = readdir(d))) {
			DIR *ld;
			if (strlen(de->d_name) != 2 || !isxdigit((unsigned char)de->d_name[0]))
				continue;
			ts_buf__clear(&from);
			ts_buf__printf(&from, "%s/%s", dir.ptr, de->d_name);
			ts_buf__clear(&to);
			ts_buf__printf(&to, "%sobjects/%s", gitdir, de->d_name);
			if (ts_buf__oom(&from) || ts_buf__oom(&to) || !(ld = opendir(from.ptr)))
				continue;
			mkdir(to.ptr, 0755);
			while (!error && (le = readdir(ld))) {
				ts_buf a = TS_BUF_INIT, z = TS_BUF_INIT;
				if (le->d_name[0] == '.')
					continue;
				ts_buf__printf(&a, "%s/%s", from.ptr, le->d_name);
				ts_buf__printf(&z, "%s/%s", to.ptr, le->d_name);
				if (ts_buf__oom(&a) || ts_buf__oom(&z) || (access(z.ptr, F_OK) < 0 && rename(a.ptr, z.ptr) < 0))
					error = ts_error_set(TS_ERROR, "moving incoming objects into %s: %s", gitdir, strerror(errno));
				ts_buf__dispose(&a);
				ts_buf__dispose(&z);
			}
			closedir(ld);
		}
		closedir(d);
	}
	ts_buf__dispose(&from);
	ts_buf__dispose(&to);
	ts_buf__dispose(&dir);
	return error;
}
