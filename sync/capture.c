/*
 * Capture: session extension -> durable staged changesets.
 *
 * A ts_capture is one write transaction. A session attached to every synced
 * table records what the caller changes; at the end the session's changeset
 * is inserted into ts_staged before COMMIT, so the write and the record of
 * it are one atomic, durable unit.
 */
#include "capture.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "error.h"
#include "fd.h"
#include "rowcodec.h"
#include "statements.h"
#include "tiersync.h"

struct ts_capture {
	sqlite3 *db;
	sqlite3_session *session;
	int writers_fd;      /* a shared lock on the writers' file, or -1 */
	void *changeset;     /* the session's changeset as last read, or NULL */
	int spill_fd;        /* or the file holding it (a write of many rows), or -1 */
	int size;
	int read;            /* the changeset has been read */
	sqlite3_int64 begun;     /* sqlite3_total_changes64() at the start */
	sqlite3_int64 changes;   /* sqlite3_total_changes64() when it was read */
};

/*
 * A write that changed more rows than this has its changeset written to an
 * unnamed file beside the database as the session makes it, and read back
 * from there, instead of held in memory: an import of 100,000 rows makes
 * about 38 MB of it.
 */
#define SPILL_ROWS 4096

typedef struct {
	int fd;
	sqlite3_int64 at, size;
} spill_io;

static int spill_write(void *payload, const void *data, int n)
{
	spill_io *io = payload;

	if (ts_fd__write_all(io->fd, data, (size_t)n) < 0)
		return SQLITE_IOERR;
	io->size += n;
	return SQLITE_OK;
}

static int spill_read(void *payload, void *data, int *n)
{
	spill_io *io = payload;
	sqlite3_int64 left = io->size - io->at;
	ssize_t k = pread(io->fd, data, (size_t)(left < *n ? left : *n), (off_t)io->at);

	if (k < 0)
		return SQLITE_IOERR;
	io->at += k;
	*n = (int)k;
	return SQLITE_OK;
}

/* An unnamed file in the database's directory, or -1 (the changeset is
 * then held in memory). */
static int spill_open(sqlite3 *db)
{
	const char *path = sqlite3_db_filename(db, "main");
	const char *slash = path ? strrchr(path, '/') : NULL;
	char dir[4096];

	if (!path || !*path)
		return -1;
	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else if (snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path + 1), path) >= (int)sizeof(dir))
		return -1;
	return open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
}

static void changeset_drop(ts_capture *cap)
{
	sqlite3_free(cap->changeset);
	cap->changeset = NULL;
	if (cap->spill_fd >= 0)
		close(cap->spill_fd);
	cap->spill_fd = -1;
	cap->size = 0;
	cap->read = 0;
}

/* The session's changeset: read once, and again only if the write changed
 * rows since (reading it looks up every changed row in the database). */
static int read_changeset(ts_capture *cap)
{
	sqlite3_int64 now = sqlite3_total_changes64(cap->db);
	int rc;

	if (cap->read && cap->changes == now)
		return 0;
	changeset_drop(cap);
	if (now - cap->begun > SPILL_ROWS && (cap->spill_fd = spill_open(cap->db)) >= 0) {
		spill_io io = { cap->spill_fd, 0, 0 };
		if ((rc = sqlite3session_changeset_strm(cap->session, spill_write, &io)) != SQLITE_OK)
			return ts_sqlite__error_rc(rc, "reading the session");
		if (io.size > INT32_MAX)
			return ts_error_set(TS_EINVALID, "a write of more than 2 GB of changes");
		cap->size = (int)io.size;
	} else if ((rc = sqlite3session_changeset(cap->session, &cap->size, &cap->changeset)) != SQLITE_OK) {
		return ts_sqlite__error_rc(rc, "reading the session");
	}
	cap->changes = now;
	cap->read = 1;
	return 0;
}

static void capture_free(ts_capture *cap)
{
	changeset_drop(cap);
	free(cap);
}

/*
 * Writers announce themselves: each write holds a shared flock on
 * "<database>-writers" from before it asks for the database's write lock
 * until it ends. A long job that works in short transactions (an apply of
 * many rows) takes the lock exclusively between two of them, which waits
 * for every announced writer: a local write then waits for one short
 * transaction at most instead of racing the job for SQLite's lock. The
 * file is a separate one because closing any descriptor of the database
 * file itself would drop SQLite's own POSIX locks.
 */
static int writers_open(sqlite3 *db)
{
	const char *path = sqlite3_db_filename(db, "main");
	char name[4096];
	int fd;

	if (!path || !*path || snprintf(name, sizeof(name), "%s-writers", path) >= (int)sizeof(name))
		return -1;
	fd = open(name, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	return fd;
}

void ts_capture__yield(sqlite3 *db)
{
	int fd = writers_open(db);
	if (fd < 0)
		return;
	while (flock(fd, LOCK_EX) < 0 && errno == EINTR)
		;
	close(fd);   /* releases it */
}

int ts_capture__writers_waiting(sqlite3 *db)
{
	int fd = writers_open(db), waiting = 0;

	if (fd < 0)
		return 0;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0)
		waiting = errno == EWOULDBLOCK;
	close(fd);   /* releases it */
	return waiting;
}

static void writers_release(ts_capture *cap)
{
	if (cap->writers_fd >= 0)
		close(cap->writers_fd);
	cap->writers_fd = -1;
}

int ts_capture__setup(sqlite3 *db)
{
	static const char sql[] =
		"CREATE TABLE IF NOT EXISTS ts_staged ("
		"  seq INTEGER PRIMARY KEY AUTOINCREMENT,"
		"  author TEXT NOT NULL,"
		"  time INTEGER NOT NULL,"
		"  summary TEXT NOT NULL,"
		"  changeset BLOB NOT NULL);"
		/* staged writes taken back before any commit (ts_node_restore):
		 * kept whole, with who took them back and when */
		"CREATE TABLE IF NOT EXISTS ts_restored ("
		"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
		"  seq INTEGER NOT NULL UNIQUE,"
		"  author TEXT NOT NULL,"
		"  time INTEGER NOT NULL,"
		"  summary TEXT NOT NULL,"
		"  changeset BLOB NOT NULL,"
		"  restored_by TEXT NOT NULL,"
		"  restored_at INTEGER NOT NULL)";
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return ts_sqlite__error(db, "creating ts_staged");
	return 0;
}

static int synced_filter(void *payload, const char *table)
{
	(void)payload;
	return ts_table__name_synced(table);
}

int ts_capture__begin(ts_capture **out, sqlite3 *db)
{
	ts_capture *cap;
	int rc;

	*out = NULL;
	if (!(cap = calloc(1, sizeof(*cap))))
		return ts_error_set(TS_ERROR, "out of memory");
	cap->db = db;
	cap->spill_fd = -1;
	if ((cap->writers_fd = writers_open(db)) >= 0)
		while (flock(cap->writers_fd, LOCK_SH) < 0 && errno == EINTR)
			;
	if (ts_statements__exec(db, "BEGIN IMMEDIATE") != SQLITE_OK) {
		writers_release(cap);
		free(cap);
		return ts_sqlite__error(db, "starting a write");
	}
	if ((rc = sqlite3session_create(db, "main", &cap->session)) != SQLITE_OK ||
	    (rc = sqlite3session_attach(cap->session, NULL)) != SQLITE_OK) {
		int error = ts_sqlite__error_rc(rc, "starting a session");
		ts_capture__rollback(cap);
		return error;
	}
	sqlite3session_table_filter(cap->session, synced_filter, NULL);
	cap->begun = sqlite3_total_changes64(db);
	*out = cap;
	return 0;
}

/*
 * A changeset past this size is written into the row it is staged in
 * (incremental blob I/O), not bound to the INSERT, whose record would hold
 * a second copy of it: an import of 100,000 rows stages about 38 MB.
 */
#define STAGE_IN_PLACE (1024 * 1024)

static int stage_in_place(ts_capture *cap)
{
	sqlite3_blob *blob = NULL;
	spill_io io = { cap->spill_fd, 0, cap->size };
	char piece[65536];
	int rc;

	rc = sqlite3_blob_open(cap->db, "main", "ts_staged", "changeset", sqlite3_last_insert_rowid(cap->db), 1, &blob);
	if (rc == SQLITE_OK && cap->spill_fd < 0)
		rc = sqlite3_blob_write(blob, cap->changeset, cap->size, 0);
	while (rc == SQLITE_OK && cap->spill_fd >= 0 && io.at < io.size) {
		sqlite3_int64 at = io.at;
		int n = (int)sizeof(piece);
		if ((rc = spill_read(&io, piece, &n)) == SQLITE_OK && n == 0)
			rc = SQLITE_IOERR;   /* the file is shorter than it was written */
		if (rc == SQLITE_OK)
			rc = sqlite3_blob_write(blob, piece, n, (int)at);
	}
	if (sqlite3_blob_close(blob) != SQLITE_OK && rc == SQLITE_OK)
		rc = SQLITE_ERROR;
	return rc == SQLITE_OK ? 0 : ts_sqlite__error(cap->db, "staging");
}

int ts_capture__commit(ts_capture *cap, const char *author, int64_t time, const char *summary)
{
	sqlite3_stmt *ins = NULL;
	int error = 0;

	if ((error = read_changeset(cap)) < 0)
		goto done;
	if (cap->size > 0) {
		int in_place = cap->spill_fd >= 0 || cap->size > STAGE_IN_PLACE;
		if (ts_statements__prepare(cap->db, "INSERT INTO ts_staged (author, time, summary, changeset) "
				"VALUES (?1, ?2, ?3, ?4)", &ins) != SQLITE_OK) {
			error = ts_sqlite__error(cap->db, "staging");
			goto done;
		}
		sqlite3_bind_text(ins, 1, author, -1, SQLITE_STATIC);
		sqlite3_bind_int64(ins, 2, time);
		sqlite3_bind_text(ins, 3, summary, -1, SQLITE_STATIC);
		if (in_place)
			sqlite3_bind_zeroblob(ins, 4, cap->size);
		else
			sqlite3_bind_blob(ins, 4, cap->changeset, cap->size, SQLITE_STATIC);
		if (sqlite3_step(ins) != SQLITE_DONE) {
			error = ts_sqlite__error(cap->db, "staging");
			goto done;
		}
		if (in_place && (error = stage_in_place(cap)) < 0)
			goto done;
	}
	sqlite3session_delete(cap->session);
	cap->session = NULL;
	if (ts_statements__exec(cap->db, "COMMIT") != SQLITE_OK)
		error = ts_sqlite__error(cap->db, "committing a write");
done:
	ts_statements__done(ins);
	if (error < 0)
		ts_capture__rollback(cap);
	else {
		writers_release(cap);
		capture_free(cap);
	}
	return error;
}

void ts_capture__rollback(ts_capture *cap)
{
	if (!cap)
		return;
	if (cap->session)
		sqlite3session_delete(cap->session);
	if (!sqlite3_get_autocommit(cap->db))
		sqlite3_exec(cap->db, "ROLLBACK", NULL, NULL, NULL);
	writers_release(cap);
	capture_free(cap);
}

static int foreach(sqlite3 *db, int64_t after, int whole,
	int (*cb)(const ts_staged_write *w, void *payload), void *payload)
{
	sqlite3_stmt *st = NULL;
	int rc, error = 0;

	if (ts_statements__prepare(db, whole ?
			"SELECT seq, author, time, summary, length(changeset), changeset FROM ts_staged "
			"WHERE seq > ?1 ORDER BY seq" :
			"SELECT seq, author, time, summary, length(changeset) FROM ts_staged "
			"WHERE seq > ?1 ORDER BY seq", &st) != SQLITE_OK)
		return ts_sqlite__error(db, "reading staged writes");
	sqlite3_bind_int64(st, 1, after);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		ts_staged_write w;
		w.seq = sqlite3_column_int64(st, 0);
		w.author = (const char *)sqlite3_column_text(st, 1);
		w.time = sqlite3_column_int64(st, 2);
		w.summary = (const char *)sqlite3_column_text(st, 3);
		w.size = sqlite3_column_int(st, 4);
		w.changeset = whole ? sqlite3_column_blob(st, 5) : NULL;
		if ((error = cb(&w, payload)) != 0)
			break;
	}
	if (!error && rc != SQLITE_DONE)
		error = ts_sqlite__error(db, "reading staged writes");
	ts_statements__done(st);
	return error;
}

int ts_capture__foreach(sqlite3 *db, int (*cb)(const ts_staged_write *w, void *payload), void *payload)
{
	return foreach(db, 0, 1, cb, payload);
}

int ts_capture__foreach_after(sqlite3 *db, int64_t after,
	int (*cb)(const ts_staged_write *w, void *payload), void *payload)
{
	return foreach(db, after, 1, cb, payload);
}

int ts_capture__foreach_header(sqlite3 *db, int (*cb)(const ts_staged_write *w, void *payload), void *payload)
{
	return foreach(db, 0, 0, cb, payload);
}

int ts_capture__count(sqlite3 *db)
{
	sqlite3_stmt *st = NULL;
	int n = 0;
	if (ts_statements__prepare(db, "SELECT count(*) FROM ts_staged", &st) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int(st, 0);
	ts_statements__done(st);
	return n;
}

/* Calls `cb` for each operation `it` (NULL: it could not start) yields,
 * then finalizes it; `what` names the changeset in the error of a damaged
 * one. */
static int each_op(sqlite3_changeset_iter *it, int (*cb)(sqlite3_changeset_iter *it, void *payload),
	void *payload, const char *what)
{
	int rc = SQLITE_CORRUPT, error = 0;

	while (it && (rc = sqlite3changeset_next(it)) == SQLITE_ROW)
		if ((error = cb(it, payload)) != 0)
			break;
	sqlite3changeset_finalize(it);
	if (!error && rc != SQLITE_DONE)
		error = ts_error_set(TS_ECORRUPT, "%s is damaged", what);
	return error;
}

int ts_staged__write_foreach_op(const ts_staged_write *w,
	int (*cb)(sqlite3_changeset_iter *it, void *payload), void *payload)
{
	sqlite3_changeset_iter *it = NULL;
	char what[64];

	snprintf(what, sizeof(what), "staged write %lld", (long long)w->seq);
	if (sqlite3changeset_start(&it, w->size, (void *)w->changeset) != SQLITE_OK)
		it = NULL;
	return each_op(it, cb, payload, what);
}

/* A staged changeset read a piece at a time from its row. */
typedef struct {
	sqlite3_blob *blob;
	int at, size;
} staged_input;

static int staged_read(void *payload, void *data, int *n)
{
	staged_input *in = payload;
	int k = in->size - in->at < *n ? in->size - in->at : *n;

	if (k > 0 && sqlite3_blob_read(in->blob, data, k, in->at) != SQLITE_OK)
		return SQLITE_IOERR;
	in->at += k;
	*n = k;
	return SQLITE_OK;
}

int ts_capture__foreach_staged_op(sqlite3 *db,
	int (*cb)(sqlite3_changeset_iter *it, void *payload), void *payload)
{
	sqlite3_stmt *st = NULL;
	int rc, error = 0;

	if (ts_statements__prepare(db, "SELECT seq FROM ts_staged ORDER BY seq", &st) != SQLITE_OK)
		return ts_sqlite__error(db, "reading staged writes");
	while (!error && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		sqlite3_int64 seq = sqlite3_column_int64(st, 0);
		staged_input in = { NULL, 0, 0 };
		sqlite3_changeset_iter *it = NULL;
		char what[64];

		if (sqlite3_blob_open(db, "main", "ts_staged", "changeset", seq, 0, &in.blob) != SQLITE_OK) {
			error = ts_sqlite__error(db, "reading staged write %lld", (long long)seq);
			break;
		}
		in.size = sqlite3_blob_bytes(in.blob);
		snprintf(what, sizeof(what), "staged write %lld", (long long)seq);
		if (sqlite3changeset_start_strm(&it, staged_read, &in) != SQLITE_OK)
			it = NULL;
		error = each_op(it, cb, payload, what);
		sqlite3_blob_close(in.blob);
		rc = SQLITE_DONE;
	}
	if (!error && rc != SQLITE_DONE)
		error = ts_sqlite__error(db, "reading staged writes");
	ts_statements__done(st);
	return error;
}

int ts_capture__foreach_op(ts_capture *cap,
	int (*cb)(sqlite3_changeset_iter *it, void *payload), void *payload)
{
	ts_staged_write w;
	int error;

	if ((error = read_changeset(cap)) < 0)
		return error;
	if (cap->size == 0)
		return 0;
	if (cap->spill_fd >= 0) {
		spill_io io = { cap->spill_fd, 0, cap->size };
		sqlite3_changeset_iter *it = NULL;
		if (sqlite3changeset_start_strm(&it, spill_read, &io) != SQLITE_OK)
			it = NULL;
		return each_op(it, cb, payload, "the write's changeset");
	}
	memset(&w, 0, sizeof(w));
	w.changeset = cap->changeset;
	w.size = cap->size;
	return ts_staged__write_foreach_op(&w, cb, payload);
}

int ts_staged__op_key(ts_table **table, int *op, sqlite3_value **keys, ts_buf *path,
	ts_tables *tables, sqlite3_changeset_iter *it)
{
	const char *tname;
	int ncol, indirect, k;
	ts_table *t;

	sqlite3changeset_op(it, &tname, &ncol, op, &indirect);
	if (!(t = ts_tables__find(tables, tname)))
		return ts_error_set(TS_ECORRUPT, "a staged write names table %s, which is not synced", tname);
	if (t->npk > 64 || ncol != t->ncol)
		return ts_error_set(TS_ECORRUPT, "a staged write of %s does not match its columns", tname);
	for (k = 0; k < t->npk; k++)
		if ((*op == SQLITE_INSERT ? sqlite3changeset_new(it, t->pk[k], &keys[k])
		                          : sqlite3changeset_old(it, t->pk[k], &keys[k])) != SQLITE_OK || !keys[k])
			return ts_error_set(TS_ECORRUPT, "a staged write of %s has no key", tname);
	*table = t;
	if (!path)
		return 0;
	ts_buf__clear(path);
	return ts_rowcodec__key_path(path, t->name, t->npk, keys);
}

int ts_changeset__count(const void *changeset, int size, int *inserts, int *updates, int *deletes)
{
	sqlite3_changeset_iter *it = NULL;
	int rc;

	*inserts = *updates = *deletes = 0;
	if (sqlite3changeset_start(&it, size, (void *)changeset) != SQLITE_OK)
		return ts_error_set(TS_ECORRUPT, "a staged changeset is damaged");
	while ((rc = sqlite3changeset_next(it)) == SQLITE_ROW) {
		const char *table;
		int ncol, op, indirect;
		sqlite3changeset_op(it, &table, &ncol, &op, &indirect);
		if (op == SQLITE_INSERT) (*inserts)++;
		else if (op == SQLITE_UPDATE) (*updates)++;
		else (*deletes)++;
	}
	sqlite3changeset_finalize(it);
	if (rc != SQLITE_DONE)
		return ts_error_set(TS_ECORRUPT, "a staged changeset is damaged");
	return 0;
}
