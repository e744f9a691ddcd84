/*
 * Evidence: files of a case kept in history by content (see evidence.h).
 *
 * Adding is two steps. First the content is stored as a blob of the
 * history and synced to disk (files.c; a large file streams through in
 * chunks and is never held whole). Then one write through the node
 * records the evidence row, its 'evidence' case event and the staged file
 * reference together: the next commit puts the file into its tree beside
 * the rows. A blob stored by an add that then fails is unreferenced and
 * harmless, like any orphaned object.
 */
#include "tiersync.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "files.h"
#include "lifecycle.h"
#include "node.h"

static const char *const kinds[] = { "photo", "video", "bodycam", "document" };

/* The media type a file name's extension suggests. */
static const char *media_type_of(const char *path)
{
	static const struct { const char *ext, *type; } types[] = {
		{ "jpg", "image/jpeg" }, { "jpeg", "image/jpeg" }, { "png", "image/png" },
		{ "gif", "image/gif" }, { "webp", "image/webp" }, { "heic", "image/heic" },
		{ "mp4", "video/mp4" }, { "mov", "video/quicktime" }, { "avi", "video/x-msvideo" },
		{ "mkv", "video/x-matroska" }, { "3gp", "video/3gpp" }, { "pdf", "application/pdf" },
		{ "txt", "text/plain" }, { "doc", "application/msword" },
		{ "docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document" },
		{ "mp3", "audio/mpeg" }, { "m4a", "audio/mp4" }, { "wav", "audio/wav" },
	};
	const char *slash = strrchr(path, '/'), *dot = strrchr(slash ? slash : path, '.');
	size_t i;

	for (i = 0; dot && i < sizeof(types) / sizeof(types[0]); i++)
		if (!strcasecmp(dot + 1, types[i].ext))
			return types[i].type;
	return "application/octet-stream";
}

/* The kind a media type suggests. */
static const char *kind_of(const char *media_type)
{
	if (!strncmp(media_type, "image/", 6))
		return "photo";
	if (!strncmp(media_type, "video/", 6))
		return "video";
	return "document";
}

static int check_kind(const char *kind)
{
	size_t i;
	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (!strcmp(kind, kinds[i]))
			return 0;
	return ts_error_set(TS_EINVALID, "unknown evidence kind '%s' (photo, video, bodycam or document)", kind);
}

/* A media type is "type/subtype": printable ASCII, no spaces, one '/'. */
static int check_media_type(const char *t)
{
	const char *p, *slash = strchr(t, '/');
	if (!slash || slash == t || !slash[1] || strchr(slash + 1, '/'))
		goto bad;
	for (p = t; *p; p++)
		if (*p <= ' ' || *p > '~')
			goto bad;
	return 0;
bad:
	return ts_error_set(TS_EINVALID, "'%s' is not a media type such as image/jpeg", t);
}

static int case_exists(sqlite3 *db, const char *case_id)
{
	sqlite3_stmt *st = NULL;
	int found = 0;
	if (sqlite3_prepare_v2(db, "SELECT 1 FROM cases WHERE id = ?1", -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, case_id, -1, SQLITE_STATIC);
		found = sqlite3_step(st) == SQLITE_ROW;
	}
	sqlite3_finalize(st);
	return found;
}

/* 0 when the case exists and is open (neither closed nor transferred);
 * TS_ENOTFOUND or TS_EDENIED otherwise. Any node holding the case may add
 * to it: offices work on one another's cases, and history names who did. */
static int check_case(ts_node *node, const char *case_id)
{
	sqlite3_stmt *st = NULL;
	const char *status;
	int error = 0;

	if (sqlite3_prepare_v2(node->db, "SELECT status FROM cases WHERE id = ?1",
			-1, &st, NULL) != SQLITE_OK)
		return ts_sqlite__error(node->db, "reading the case");
	sqlite3_bind_text(st, 1, case_id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_ROW)
		error = ts_error_set(TS_ENOTFOUND, "no case %s", case_id);
	else if (!strcmp(status = (const char *)sqlite3_column_text(st, 0), "closed") ||
	         !strcmp(status, "transferred"))
		error = ts_error_set(TS_EDENIED, "case %s is %s; it takes no new evidence", case_id, status);
	sqlite3_finalize(st);
	return error;
}

typedef struct {
	ts_node *node;
	const char *author;
	const char *case_id;
	const char *kind;
	const char *media_type;
	const ts_evidence_options *opts;
	ts_file file;
	char *new_id;
} add_op;

static int write_error(sqlite3 *db, const char *what)
{
	if ((sqlite3_extended_errcode(db) & 0xff) == SQLITE_CONSTRAINT)
		return ts_sqlite__error(db, "%s refused", what);
	return ts_sqlite__error(db, "%s", what);
}

/* TS_EEXISTS when the case already holds the content. */
static int check_duplicate(sqlite3 *db, const char *case_id, const char *sha256)
{
	sqlite3_stmt *st = NULL;
	int error = 0;

	if (sqlite3_prepare_v2(db, "SELECT id FROM evidence WHERE case_id = ?1 AND sha256 = ?2 ORDER BY id",
			-1, &st, NULL) != SQLITE_OK)
		return ts_sqlite__error(db, "reading the evidence");
	sqlite3_bind_text(st, 1, case_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, sha256, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		error = ts_error_set(TS_EEXISTS, "case %s already holds this content as evidence %s "
			"(SHA-256 %s); nothing added", case_id, sqlite3_column_text(st, 0), sha256);
	sqlite3_finalize(st);
	return error;
}

static int do_add(sqlite3 *db, void *payload)
{
	add_op *op = payload;
	sqlite3_stmt *st = NULL;
	char now[32], detail[512];
	int error;

	if ((error = check_case(op->node, op->case_id)) < 0 ||
	    (error = check_duplicate(db, op->case_id, op->file.sha256)) < 0)
		return error;
	ts_time_format(now, ts_node__now());
	if ((error = ts_node_mint_id(&op->new_id, op->node, "e")) < 0)
		return error;
	if (sqlite3_prepare_v2(db, "INSERT INTO evidence (id, case_id, kind, sha256, size, media_type, "
			"captured_by, captured_at, lng, lat, note) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
			-1, &st, NULL) != SQLITE_OK) {
		error = write_error(db, "recording the evidence");
		goto done;
	}
	sqlite3_bind_text(st, 1, op->new_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, op->case_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, op->kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, op->file.sha256, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)op->file.size);
	sqlite3_bind_text(st, 6, op->media_type, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, op->author, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 8, now, -1, SQLITE_STATIC);
	if (op->opts && op->opts->has_place) {
		sqlite3_bind_double(st, 9, op->opts->lng);
		sqlite3_bind_double(st, 10, op->opts->lat);
	}
	if (op->opts && op->opts->note)
		sqlite3_bind_text(st, 11, op->opts->note, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE) {
		error = write_error(db, "recording the evidence");
		goto done;
	}
	sqlite3_finalize(st);
	st = NULL;

	/* 执法全过程记录: the step is a case event too */
	snprintf(detail, sizeof(detail), "evidence %s: %s, %s, %llu bytes, sha256 %s", op->new_id, op->kind,
		op->media_type, (unsigned long long)op->file.size, op->file.sha256);
	if ((error = ts_case__event(op->node, op->case_id, "evidence", op->author, detail, now)) < 0)
		goto done;
	/* the content itself joins the next commit's tree */
	error = ts_files__stage(db, &op->file);
done:
	sqlite3_finalize(st);
	return error;
}

int ts_evidence_add(char **id_out, char sha256_out[65], ts_node *node, const char *author,
	const char *case_id, const char *path, const ts_evidence_options *opts)
{
	add_op op;
	char summary[256];
	int error;

	*id_out = NULL;
	sha256_out[0] = '\0';
	memset(&op, 0, sizeof(op));
	op.node = node;
	op.author = author ? author : node->identity;
	op.case_id = case_id;
	op.opts = opts;
	if (!case_id || !*case_id)
		return ts_error_set(TS_EINVALID, "name the case the evidence belongs to");
	if (!path || !*path)
		return ts_error_set(TS_EINVALID, "name the file to add");
	op.media_type = opts && opts->media_type ? opts->media_type : media_type_of(path);
	op.kind = opts && opts->kind ? opts->kind : kind_of(op.media_type);
	if ((error = check_kind(op.kind)) < 0 || (error = check_media_type(op.media_type)) < 0)
		return error;
	if (opts && opts->has_place &&
	    !(opts->lng >= -180 && opts->lng <= 180 && opts->lat >= -90 && opts->lat <= 90))
		return ts_error_set(TS_EINVALID, "a place needs a longitude in [-180, 180] and a latitude in [-90, 90]");
	if (!op.author || !*op.author)
		return ts_error_set(TS_EINVALID, "no author: name who captured it, or set "
			"the node's identity (user.name in its config)");
	/* refuse early what the write would refuse, before storing a large file */
	if ((error = check_case(node, case_id)) < 0)
		return error;
	if ((error = ts_files__put(&op.file, node->store, path)) < 0)
		return error;
	snprintf(summary, sizeof(summary), "evidence %s for %.120s: %.12s", op.kind, case_id, op.file.sha256);
	if ((error = ts_node_write(node, op.author, summary, do_add, &op)) < 0) {
		free(op.new_id);
		return error;
	}
	*id_out = op.new_id;
	memcpy(sha256_out, op.file.sha256, 65);
	return 0;
}

int ts_evidence_list(ts_node *node, const char *case_id,
	int (*cb)(const ts_evidence_info *item, void *payload), void *payload)
{
	sqlite3_stmt *st = NULL, *c = NULL;
	int rc, error = 0;

	if (sqlite3_prepare_v2(node->db, "SELECT 1 FROM cases WHERE id = ?1", -1, &c, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(node->db, "SELECT id, case_id, kind, sha256, size, media_type, captured_by, "
			"captured_at, lng, lat, note FROM evidence WHERE case_id = ?1 ORDER BY captured_at, id",
			-1, &st, NULL) != SQLITE_OK) {
		error = ts_sqlite__error(node->db, "reading the evidence");
		goto done;
	}
	sqlite3_bind_text(c, 1, case_id, -1, SQLITE_STATIC);
	if (sqlite3_step(c) != SQLITE_ROW) {
		error = ts_error_set(TS_ENOTFOUND, "no case %s", case_id);
		goto done;
	}
	sqlite3_bind_text(st, 1, case_id, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		ts_evidence_info e;
		ts_file f;
		e.id = (const char *)sqlite3_column_text(st, 0);
		e.case_id = (const char *)sqlite3_column_text(st, 1);
		e.kind = (const char *)sqlite3_column_text(st, 2);
		e.sha256 = (const char *)sqlite3_column_text(st, 3);
		e.size = sqlite3_column_int64(st, 4);
		e.media_type = (const char *)sqlite3_column_text(st, 5);
		e.captured_by = (const char *)sqlite3_column_text(st, 6);
		e.captured_at = (const char *)sqlite3_column_text(st, 7);
		e.has_place = sqlite3_column_type(st, 8) != SQLITE_NULL && sqlite3_column_type(st, 9) != SQLITE_NULL;
		e.lng = sqlite3_column_double(st, 8);
		e.lat = sqlite3_column_double(st, 9);
		e.note = (const char *)sqlite3_column_text(st, 10);
		e.stored = ts_files__find(&f, node->db, node->store, e.sha256) == 0;
		if ((error = cb(&e, payload)) != 0)
			goto done;
	}
	if (rc != SQLITE_DONE)
		error = ts_sqlite__error(node->db, "reading the evidence");
done:
	sqlite3_finalize(c);
	sqlite3_finalize(st);
	return error;
}

/* Finds the one evidence SHA-256 of the case that `given` names. */
static int resolve_sha(char out[65], sqlite3 *db, const char *case_id, const char *given)
{
	sqlite3_stmt *st = NULL;
	size_t len = given ? strlen(given) : 0, i;
	int n = 0, error = 0;

	for (i = 0; i < len; i++)
		if (!((given[i] >= '0' && given[i] <= '9') || (given[i] >= 'a' && given[i] <= 'f')))
			break;
	if (len < 8 || len > 64 || i < len)
		return ts_error_set(TS_EINVALID, "'%s' is not a SHA-256 (64 lowercase hex digits, or at least "
			"the first 8)", given ? given : "");
	if (!case_exists(db, case_id))
		return ts_error_set(TS_ENOTFOUND, "no case %s", case_id);
	if (sqlite3_prepare_v2(db, "SELECT DISTINCT sha256 FROM evidence WHERE case_id = ?1 "
			"AND substr(sha256, 1, ?3) = ?2", -1, &st, NULL) != SQLITE_OK)
		return ts_sqlite__error(db, "reading the evidence");
	sqlite3_bind_text(st, 1, case_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, given, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, (int)len);
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (n++ == 0)
			snprintf(out, 65, "%s", (const char *)sqlite3_column_text(st, 0));
	}
	sqlite3_finalize(st);
	if (n == 0)
		error = ts_error_set(TS_ENOTFOUND, "case %s has no evidence with SHA-256 %s", case_id, given);
	else if (n > 1)
		error = ts_error_set(TS_EINVALID, "%s names %d evidence items of case %s; give more digits",
			given, n, case_id);
	return error;
}

typedef struct {
	FILE *f;
	const char *path;
} writer;

static int write_chunk(const void *data, size_t len, void *payload)
{
	writer *w = payload;
	if (fwrite(data, 1, len, w->f) != len)
		return ts_error_set(TS_ERROR, "writing %s: %s", w->path, strerror(errno));
	return 0;
}

/* What `mode` is, for a refusal. */
static const char *file_kind(mode_t mode)
{
	if (S_ISDIR(mode))
		return "a directory";
	if (S_ISCHR(mode))
		return "a character device";
	if (S_ISBLK(mode))
		return "a block device";
	if (S_ISFIFO(mode))
		return "a FIFO";
	if (S_ISSOCK(mode))
		return "a socket";
	if (S_ISLNK(mode))
		return "a symbolic link";
	return "not a regular file";
}

/*
 * 0 when the output may go to `path`: nothing is there, or a regular file
 * that the rename replaces. Anything else — a device such as /dev/null, a
 * FIFO, a directory, a socket — is refused, and so is a symbolic link, even
 * to a regular file: the link would be replaced, not what it points to,
 * and following it would write wherever it leads.
 */
static int output_allowed(const char *path)
{
	struct stat st;

	if (lstat(path, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		return ts_error_set(TS_ERROR, "cannot write %s: %s", path, strerror(errno));
	}
	if (S_ISREG(st.st_mode))
		return 0;
	return ts_error_set(TS_EINVALID, "refusing to write %s: it is %s; name a new or regular file",
		path, file_kind(st.st_mode));
}

/* Syncs the directory holding `path`, so that a rename into it lasts. */
static int sync_dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir;
	int fd, error = 0;

	if (!slash)
		dir = strdup(".");
	else if (slash == path)
		dir = strdup("/");
	else
		dir = strndup(path, (size_t)(slash - path));
	if (!dir)
		return ts_error_set(TS_ERROR, "out of memory");
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 || fsync(fd) < 0)
		error = ts_error_set(TS_ERROR, "syncing %s: %s", dir, strerror(errno));
	if (fd >= 0)
		close(fd);
	free(dir);
	return error;
}

int ts_evidence_get(char sha256_out[65], ts_node *node, const char *case_id, const char *sha256,
	const char *out_path)
{
	char sha[65], *tmp = NULL;
	ts_file file;
	writer w = { NULL, out_path };
	int fd = -1, error;

	if (sha256_out)
		sha256_out[0] = '\0';
	if (!out_path || !*out_path)
		return ts_error_set(TS_EINVALID, "name the file to write (-o FILE)");
	if ((error = output_allowed(out_path)) < 0 ||
	    (error = resolve_sha(sha, node->db, case_id, sha256)) < 0 ||
	    (error = ts_files__find(&file, node->db, node->store, sha)) < 0)
		return error;
	if (!(tmp = malloc(strlen(out_path) + 16)))
		return ts_error_set(TS_ERROR, "out of memory");
	/* beside the output, so that the rename stays on one file system */
	sprintf(tmp, "%s.tmp-XXXXXX", out_path);
	if ((fd = mkstemp(tmp)) < 0 || !(w.f = fdopen(fd, "wb"))) {
		error = ts_error_set(TS_ERROR, "cannot write %s: %s", out_path, strerror(errno));
		if (fd >= 0) {
			close(fd);
			unlink(tmp);
		}
		goto done;
	}
	{
		/* as an ordinary new file would be: the umask decides */
		mode_t mask = umask(0);
		umask(mask);
		fchmod(fd, 0666 & ~mask);
	}
	error = ts_files__read(node->store, &file, write_chunk, &w);
	if (error == 0 && (fflush(w.f) != 0 || fsync(fd) < 0))
		error = ts_error_set(TS_ERROR, "writing %s: %s", out_path, strerror(errno));
	if (fclose(w.f) != 0 && error == 0)
		error = ts_error_set(TS_ERROR, "writing %s: %s", out_path, strerror(errno));
	/* looked at again: something may have appeared there meanwhile */
	if (error == 0)
		error = output_allowed(out_path);
	if (error == 0 && rename(tmp, out_path) < 0)
		error = ts_error_set(TS_ERROR, "cannot write %s: %s", out_path, strerror(errno));
	if (error < 0) {
		unlink(tmp);
		goto done;
	}
	if ((error = sync_dir_of(out_path)) == 0 && sha256_out)
		memcpy(sha256_out, sha, 65);
done:
	free(tmp);
	return error;
}
