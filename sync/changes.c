/*
 * The changes stream: see changes.h, and docs/FORMAT.md for the format.
 *
 * After the magic line, one zlib stream of records:
 *
 *   commit <id> <n>\n<n bytes>     a commit's exact bytes; its entries follow
 *   base <id>\n                    (right after it) entries against this commit's
 *                                  tree instead of the first parent's
 *   del <path>\n                   the path is gone from the first parent's tree
 *   put <mode> <n> <path>\n<n bytes>   a blob, whole
 *   row <n> <path>\n<n bytes>      the row at path in the first parent's tree,
 *                                  with these columns (row-blob lines) changed
 *                                  or, when new, appended
 *   end <id>\n                     the commit is whole: rebuild and check it
 *   done <count>\n                 the last record
 *
 * The sender flushes the zlib stream after each "end", so what arrived up to
 * there inflates whole on the other side.
 */
#include "changes.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "buf.h"
#include "error.h"
#include "rowcodec.h"
#include "treediff.h"

#define CHUNK (64 * 1024)
/* A record's line, a commit's bytes, a row's changed columns: at most. */
#define LINE_MAX_BYTES 8192
#define COMMIT_MAX_BYTES (16 * 1024 * 1024)
#define ROW_MAX_BYTES (16 * 1024 * 1024)
/* A whole blob (an evidence file) at most. */
#define BLOB_MAX_BYTES ((uint64_t)2 << 30)
/* A blob larger than this is written as it comes, never held whole. */
#define STREAM_BLOB_BYTES (1024 * 1024)

/* ------------------------------------------------------------ rows */

/*
 * `base` with the columns of `delta` laid over it: a column of the same
 * name takes the delta's value, a name `base` lacks is appended, in the
 * delta's order. The result encoded into `out`.
 */
static int row_apply(ts_buf *out, const ts_row *base, const ts_row *delta)
{
	const char **names = NULL;
	ts_value *values = NULL;
	int n = base->ncol, i, j, error;

	if (!(names = calloc((size_t)(base->ncol + delta->ncol) + 1, sizeof(*names))) ||
	    !(values = calloc((size_t)(base->ncol + delta->ncol) + 1, sizeof(*values)))) {
		free(names);
		return ts_error_set(TS_ERROR, "out of memory");
	}
	for (i = 0; i < base->ncol; i++) {
		names[i] = base->names[i];
		values[i] = base->values[i];
	}
	for (j = 0; j < delta->ncol; j++) {
		for (i = 0; i < base->ncol && strcmp(names[i], delta->names[j]); i++)
			;
		if (i == base->ncol)
			i = n++;
		names[i] = delta->names[j];
		values[i] = delta->values[j];
	}
	error = ts_rowcodec__encode_values(out, n, names, values);
	free(names);
	free(values);
	return error;
}

/*
 * The changed columns that turn row blob `old` into `new`, as row-blob
 * lines in `out`. 0 when `new` is not such a change of `old` (a column
 * gone, the order changed, not rows at all, nothing shorter): the blob then
 * goes whole. Both decode only when canonical, so row_apply() of these
 * lines on `old` gives `new` byte for byte (and the receiver checks the
 * commit's id whatever it rebuilt).
 */
static int row_delta(ts_buf *out, const git_blob *old, const git_blob *new)
{
	ts_row *a = NULL, *b = NULL;
	const char **names = NULL;
	ts_value *values = NULL;
	int i, n = 0, ok = 0;

	ts_buf__clear(out);
	if (ts_rowcodec__decode(&a, git_blob_rawcontent(old), (size_t)git_blob_rawsize(old)) < 0 ||
	    ts_rowcodec__decode(&b, git_blob_rawcontent(new), (size_t)git_blob_rawsize(new)) < 0 ||
	    b->ncol < a->ncol)
		goto done;
	if (!(names = calloc((size_t)b->ncol + 1, sizeof(*names))) ||
	    !(values = calloc((size_t)b->ncol + 1, sizeof(*values))))
		goto done;
	for (i = 0; i < b->ncol; i++) {
		if (i < a->ncol && strcmp(a->names[i], b->names[i]))
			goto done;
		if (i < a->ncol && ts_value__equal(&a->values[i], &b->values[i]))
			continue;
		names[n] = b->names[i];
		values[n++] = b->values[i];
	}
	ok = n > 0 && ts_rowcodec__encode_values(out, n, names, values) == 0 &&
		out->size < (size_t)git_blob_rawsize(new);
done:
	ts_row__free(a);
	ts_row__free(b);
	free(names);
	free(values);
	return ok;
}

/* ------------------------------------------------------------ sending */

typedef struct {
	z_stream z;
	int z_open;
	unsigned char out[CHUNK];
	ts_changes__write_fn write;
	void *payload;
	uint64_t bytes;
	size_t entries;     /* entry records written */
	ts_buf pending;     /* records not yet deflated */
} writer;

static int writer_emit(writer *w, const void *data, size_t len)
{
	int error;
	if ((error = w->write(data, len, w->payload)) < 0)
		return error;
	w->bytes += len;
	return 0;
}

/* Deflates `len` bytes at `data`; `flush` as deflate() takes it. */
static int writer_deflate_from(writer *w, const void *data, size_t len, int flush)
{
	int rc, error;

	w->z.next_in = (unsigned char *)data;
	w->z.avail_in = (uInt)len;
	do {
		w->z.next_out = w->out;
		w->z.avail_out = sizeof(w->out);
		rc = deflate(&w->z, flush);
		if (rc == Z_STREAM_ERROR)
			return ts_error_set(TS_ERROR, "compressing the changes failed");
		if (sizeof(w->out) - w->z.avail_out &&
		    (error = writer_emit(w, w->out, sizeof(w->out) - w->z.avail_out)) < 0)
			return error;
	} while (w->z.avail_out == 0 || (flush == Z_FINISH && rc != Z_STREAM_END));
	return 0;
}

/* Deflates what is pending. */
static int writer_deflate(writer *w, int flush)
{
	int error = writer_deflate_from(w, w->pending.ptr, w->pending.size, flush);
	ts_buf__clear(&w->pending);
	return error;
}

/* Records gather in `pending`; a large blob is deflated where it lies. */
static int writer_put(writer *w, const void *data, size_t len)
{
	int error;

	if (len >= CHUNK) {
		if ((error = writer_deflate(w, Z_NO_FLUSH)) < 0)
			return error;
		while (len) {
			size_t k = len < (1u << 30) ? len : (1u << 30);
			if ((error = writer_deflate_from(w, data, k, Z_NO_FLUSH)) < 0)
				return error;
			data = (const char *)data + k;
			len -= k;
		}
		return 0;
	}
	ts_buf__put(&w->pending, data, len);
	if (ts_buf__oom(&w->pending))
		return TS_ERROR;
	return w->pending.size >= CHUNK ? writer_deflate(w, Z_NO_FLUSH) : 0;
}

static int writer_printf(writer *w, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int writer_printf(writer *w, const char *fmt, ...)
{
	char line[LINE_MAX_BYTES + 64];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(line))
		return ts_error_set(TS_EINVALID, "a path too long for the changes stream");
	return writer_put(w, line, (size_t)n);
}

typedef struct {
	writer *w;
	git_repository *repo;
	ts_buf delta;
} send_commit;

static int send_entry(const char *path, const git_tree_entry *old_entry, const git_tree_entry *new_entry,
	void *payload)
{
	send_commit *s = payload;
	git_blob *old = NULL, *new = NULL;
	ts_buf table = TS_BUF_INIT;
	const char *name;
	int error;

	if (strlen(path) > LINE_MAX_BYTES - 64 || strchr(path, '\n'))
		return ts_error_set(TS_EINVALID, "the path %.100s... cannot travel in a changes stream", path);
	s->w->entries++;
	if (!new_entry)
		return writer_printf(s->w, "del %s\n", path);
	if (git_tree_entry_type(new_entry) != GIT_OBJECT_BLOB)
		return ts_error_set(TS_ECORRUPT, "%s: mode %06o: only regular files and trees are taken", path,
			(unsigned)git_tree_entry_filemode(new_entry));
	if (git_blob_lookup(&new, s->repo, git_tree_entry_id(new_entry)) < 0)
		return ts_store__git_error(TS_ECORRUPT, path);
	if (old_entry && git_tree_entry_type(old_entry) == GIT_OBJECT_BLOB &&
	    git_tree_entry_filemode(old_entry) == git_tree_entry_filemode(new_entry) &&
	    ts_rowcodec__path_split(&table, &name, path) == 0 &&
	    git_blob_lookup(&old, s->repo, git_tree_entry_id(old_entry)) == 0 &&
	    row_delta(&s->delta, old, new)) {
		if ((error = writer_printf(s->w, "row %zu %s\n", s->delta.size, path)) == 0)
			error = writer_put(s->w, s->delta.ptr, s->delta.size);
	} else {
		git_error_clear();
		if ((error = writer_printf(s->w, "put %o %llu %s\n", (unsigned)git_tree_entry_filemode(new_entry),
			(unsigned long long)git_blob_rawsize(new), path)) == 0)
			error = writer_put(s->w, git_blob_rawcontent(new), (size_t)git_blob_rawsize(new));
	}
	git_blob_free(old);
	git_blob_free(new);
	ts_buf__dispose(&table);
	return error;
}

/* Counts differing entries, stopping past `limit` (a diff no better than
 * the best found so far need not be walked whole). */
typedef struct {
	size_t n, limit;
} diff_count;

static int count_entry(const char *path, const git_tree_entry *old_entry, const git_tree_entry *new_entry,
	void *payload)
{
	diff_count *c = payload;
	(void)path; (void)old_entry; (void)new_entry;
	return ++c->n > c->limit ? 1 : 0;
}

/*
 * The commit whose tree `commit` is sent against, into *against: its first
 * parent; for a merge, the parent whose tree differs least (a street's
 * merge of its district's main is a few rows away from that main, and all
 * of the district's rows away from the street's own commit); for a commit
 * without parents, `base` (a commit the receiver holds), or none.
 * *named: the receiver must be told (a "base" record).
 */
static int choose_against(git_commit **against, int *named, git_repository *repo, git_commit *commit,
	const git_tree *tree, const git_oid *base)
{
	unsigned int i, n = git_commit_parentcount(commit);
	size_t best = (size_t)-1;
	int error = 0;

	*against = NULL;
	*named = 0;
	if (n == 0) {
		if (base && git_commit_lookup(against, repo, base) == 0)
			*named = 1;
		git_error_clear();
		return 0;
	}
	if (n == 1)
		return git_commit_parent(against, commit, 0) < 0 ?
			ts_store__git_error(TS_ECORRUPT, "reading the parent of a commit to send") : 0;
	for (i = 0; i < n; i++) {
		git_commit *p = NULL;
		git_tree *t = NULL;
		diff_count c = { 0, best };
		ts_treediff__callbacks cbs = { NULL, count_entry, &c, 0 };
		if (git_commit_parent(&p, commit, i) < 0 || git_commit_tree(&t, p) < 0) {
			git_commit_free(p);
			return ts_store__git_error(TS_ECORRUPT, "reading a parent of a commit to send");
		}
		if ((error = ts_treediff__walk(repo, t, tree, NULL, &cbs)) < 0) {
			git_tree_free(t);
			git_commit_free(p);
			return error;
		}
		git_tree_free(t);
		if (c.n < best) {
			git_commit_free(*against);
			*against = p;
			*named = i > 0;
			best = c.n;
		} else
			git_commit_free(p);
	}
	return 0;
}

/*
 * Sends commit `id` as its changes against the tree choose_against()
 * picks: its first parent's, unless told otherwise by a "base" record.
 */
static int send_one(writer *w, git_repository *repo, git_odb *odb, const git_oid *id, const git_oid *base)
{
	git_commit *commit = NULL, *against = NULL;
	git_tree *old_tree = NULL, *new_tree = NULL;
	git_odb_object *raw = NULL;
	ts_treediff__callbacks cbs = { NULL, send_entry, NULL, 0 };
	send_commit s = { w, repo, TS_BUF_INIT };
	char hex[GIT_OID_HEXSZ + 1], base_hex[GIT_OID_HEXSZ + 1];
	int error, named;

	git_oid_tostr(hex, sizeof(hex), id);
	if (git_commit_lookup(&commit, repo, id) < 0 || git_odb_read(&raw, odb, id) < 0 ||
	    git_commit_tree(&new_tree, commit) < 0) {
		error = ts_store__git_error(TS_ECORRUPT, hex);
		goto done;
	}
	if ((error = choose_against(&against, &named, repo, commit, new_tree, base)) < 0)
		goto done;
	if (against && git_commit_tree(&old_tree, against) < 0) {
		error = ts_store__git_error(TS_ECORRUPT, hex);
		goto done;
	}
	if ((error = writer_printf(w, "commit %s %zu\n", hex, git_odb_object_size(raw))) < 0 ||
	    (error = writer_put(w, git_odb_object_data(raw), git_odb_object_size(raw))) < 0)
		goto done;
	if (named && (error = writer_printf(w, "base %s\n",
			git_oid_tostr(base_hex, sizeof(base_hex), git_commit_id(against)))) < 0)
		goto done;
	cbs.payload = &s;
	if ((error = ts_treediff__walk(repo, old_tree, new_tree, NULL, &cbs)) < 0) {
		if (error != TS_ENET)
			error = ts_error_set(error, "commit %.12s: %s; it cannot be sent", hex, ts_error_last());
		goto done;
	}
	if ((error = writer_printf(w, "end %s\n", hex)) < 0)
		goto done;
	error = writer_deflate(w, Z_SYNC_FLUSH);
done:
	ts_buf__dispose(&s.delta);
	git_odb_object_free(raw);
	git_tree_free(old_tree);
	git_tree_free(new_tree);
	git_commit_free(against);
	git_commit_free(commit);
	return error;
}

int ts_changes__send(ts_changes__stats *stats, git_repository *repo, const git_oid *tips, size_t ntips,
	const git_oid *haves, size_t nhaves, int level, ts_changes__write_fn write, void *payload,
	ts_changes__progress_fn progress, void *progress_payload)
{
	ts_changes__stats st;
	git_revwalk *walk = NULL;
	git_odb *odb = NULL;
	git_oid *ids = NULL, id, base;
	size_t n = 0, cap = 0, i;
	writer *w;
	int has_base = 0;
	int error = 0;

	memset(&st, 0, sizeof(st));
	if (!(w = calloc(1, sizeof(*w))))
		return ts_error_set(TS_ERROR, "out of memory");
	w->write = write;
	w->payload = payload;
	if (git_repository_odb(&odb, repo) < 0 || git_revwalk_new(&walk, repo) < 0 ||
	    git_revwalk_sorting(walk, GIT_SORT_TOPOLOGICAL | GIT_SORT_REVERSE) < 0) {
		error = ts_store__git_error(TS_ERROR, "listing the commits to send");
		goto done;
	}
	for (i = 0; i < ntips; i++)
		if (git_revwalk_push(walk, &tips[i]) < 0) {
			error = ts_store__git_error(TS_ENOTFOUND, "the commit to send");
			goto done;
		}
	for (i = 0; i < nhaves; i++) {
		if (!git_odb_exists(odb, &haves[i]))
			continue;
		if (git_revwalk_hide(walk, &haves[i]) < 0)
			git_error_clear();    /* not a commit: it hides nothing */
		else if (!has_base) {
			git_oid_cpy(&base, &haves[i]);
			has_base = 1;
		}
	}
	while ((error = git_revwalk_next(&id, walk)) == 0) {
		if (n == cap) {
			git_oid *grown = realloc(ids, (cap = cap ? 2 * cap : 64) * sizeof(*ids));
			if (!grown) {
				error = ts_error_set(TS_ERROR, "out of memory");
				goto done;
			}
			ids = grown;
		}
		git_oid_cpy(&ids[n++], &id);
	}
	if (error != GIT_ITEROVER) {
		error = ts_store__git_error(TS_ECORRUPT, "listing the commits to send");
		goto done;
	}
	st.total = n;
	if (deflateInit(&w->z, level) != Z_OK) {
		error = ts_error_set(TS_ERROR, "out of memory");
		goto done;
	}
	w->z_open = 1;
	if ((error = writer_emit(w, TS_CHANGES_MAGIC, strlen(TS_CHANGES_MAGIC))) < 0)
		goto done;
	for (i = 0; i < n; i++) {
		if ((error = send_one(w, repo, odb, &ids[i], has_base ? &base : NULL)) < 0)
			goto done;
		st.commits++;
		git_oid_cpy(&st.last, &ids[i]);
		st.bytes = w->bytes;
		st.entries = w->entries;
		if (progress)
			progress(&st, progress_payload);
	}
	if ((error = writer_printf(w, "done %zu\n", n)) < 0 || (error = writer_deflate(w, Z_FINISH)) < 0)
		goto done;
	st.bytes = w->bytes;
done:
	if (w->z_open)
		deflateEnd(&w->z);
	ts_buf__dispose(&w->pending);
	free(w);
	free(ids);
	git_revwalk_free(walk);
	git_odb_free(odb);
	if (stats)
		*stats = st;
	return error;
}

void ts_changes__transfer_stats(ts_transfer_stats *out, const ts_changes__stats *st)
{
	out->commits = st->commits;
	out->objects = st->commits + st->entries;
	out->bytes = st->bytes;
}

/* ------------------------------------------------------------ receiving */

typedef struct {
	z_stream z;
	int z_open, z_end;
	unsigned char in[CHUNK];
	unsigned char out[CHUNK];
	size_t pos, len;         /* inflated bytes not yet taken: out[pos..len) */
	int eof;                 /* the input ended */
	ts_changes__read_fn read;
	void *payload;
	uint64_t bytes;
} reader;

static int cut(void)
{
	return ts_error_set(TS_ENET, "the changes stream was cut short");
}

/* Fills r->out with more inflated bytes: 0 when some came, 1 at the zlib
 * stream's end, TS_ENET at a cut. */
static int reader_fill(reader *r)
{
	int rc, error;

	r->pos = r->len = 0;
	while (!r->len) {
		if (r->z_end)
			return 1;
		if (r->z.avail_in == 0) {
			size_t got = 0;
			if (r->eof)
				return cut();
			if ((error = r->read(r->in, sizeof(r->in), &got, r->payload)) < 0)
				return error;
			if (got == 0) {
				r->eof = 1;
				return cut();
			}
			r->bytes += got;
			r->z.next_in = r->in;
			r->z.avail_in = (uInt)got;
		}
		r->z.next_out = r->out;
		r->z.avail_out = sizeof(r->out);
		rc = inflate(&r->z, Z_NO_FLUSH);
		if (rc == Z_STREAM_END)
			r->z_end = 1;
		else if (rc != Z_OK && rc != Z_BUF_ERROR)
			return ts_error_set(TS_ECORRUPT, "the changes stream is damaged (%s)",
				r->z.msg ? r->z.msg : "zlib");
		r->len = sizeof(r->out) - r->z.avail_out;
	}
	return 0;
}

static int reader_get(reader *r, void *into, size_t n)
{
	unsigned char *p = into;
	int error;

	while (n) {
		size_t k;
		if (r->pos == r->len && (error = reader_fill(r)) != 0)
			return error < 0 ? error : ts_error_set(TS_ECORRUPT, "the changes stream ends inside a record");
		k = r->len - r->pos < n ? r->len - r->pos : n;
		memcpy(p, r->out + r->pos, k);
		r->pos += k;
		p += k;
		n -= k;
	}
	return 0;
}

/* One record line, without its '\n', into line (NUL-terminated). */
static int reader_line(reader *r, char *line, size_t size)
{
	size_t n = 0;
	int error;

	for (;;) {
		char c;
		if ((error = reader_get(r, &c, 1)) < 0)
			return error;
		if (c == '\n')
			break;
		if (c == '\0' || n + 1 >= size)
			return ts_error_set(TS_ECORRUPT, "the changes stream holds a malformed record");
		line[n++] = c;
	}
	line[n] = '\0';
	return 0;
}

/* A decimal count with no sign and no leading zero, at most `max`. */
static int parse_size(uint64_t *out, const char **p, uint64_t max)
{
	const char *s = *p;
	uint64_t v = 0;

	if (*s < '0' || *s > '9' || (*s == '0' && s[1] >= '0' && s[1] <= '9'))
		return -1;
	for (; *s >= '0' && *s <= '9'; s++) {
		v = v * 10 + (uint64_t)(*s - '0');
		if (v > max)
			return -1;
	}
	*out = v;
	*p = s;
	return 0;
}

/* A path a tree can hold: relative, no empty, "." or ".." part. */
static int path_valid(const char *p)
{
	const char *part = p;

	if (!*p)
		return 0;
	for (;; p++) {
		if (*p == '/' || *p == '\0') {
			size_t len = (size_t)(p - part);
			if (len == 0 || (len == 1 && part[0] == '.') || (len == 2 && part[0] == '.' && part[1] == '.'))
				return 0;
			if (*p == '\0')
				return 1;
			part = p + 1;
		}
	}
}

/* The commit being taken: each blob is written as it comes, and its path
 * and id wait in `updates` until the commit's end builds the trees. */
typedef struct {
	ts_store *store;
	git_oid id;
	ts_buf raw;
	git_oid named_tree;
	git_oid parent_tree;     /* the first parent's tree: rows change against it */
	int has_parent;
	ts_store_update *updates;
	git_oid *blobs;          /* the blob of updates[i] when its len is TS_STORE_LINK */
	size_t n, alloc, blobs_alloc;
	size_t entries;          /* entries taken, all commits */
} taking;

static void taking_reset(taking *t)
{
	size_t i;
	for (i = 0; i < t->n; i++)
		free((char *)t->updates[i].path);
	t->n = 0;
	t->has_parent = 0;
	ts_buf__clear(&t->raw);
}

/* `path` gets the blob `data` (written now), or the blob `known` already
 * written, or goes when both are NULL. */
static int taking_add(taking *t, const char *path, const char *data, size_t len, const git_oid *known)
{
	char *p = strdup(path);
	int error;

	if (!p || ts_store__update_reserve(&t->updates, t->n, &t->alloc) < 0) {
		free(p);
		return ts_error_set(TS_ERROR, "out of memory");
	}
	if (t->n + 1 > t->blobs_alloc) {
		size_t cap = t->alloc > t->n + 1 ? t->alloc : t->n + 1;
		git_oid *grown = realloc(t->blobs, cap * sizeof(*grown));
		if (!grown) {
			free(p);
			return ts_error_set(TS_ERROR, "out of memory");
		}
		t->blobs = grown;
		t->blobs_alloc = cap;
	}
	t->updates[t->n].path = p;
	t->updates[t->n].data = NULL;
	t->updates[t->n].len = data || known ? TS_STORE_LINK : 0;   /* linked to blobs[n] at the end */
	if (known)
		git_oid_cpy(&t->blobs[t->n], known);
	else if (data && (error = ts_store__put_blob(&t->blobs[t->n], t->store, data, len)) < 0) {
		free(p);
		return error;
	}
	t->n++;
	t->entries++;
	return 0;
}

int ts_changes__parse_id(git_oid *out, const char *s, size_t len)
{
	size_t i;
	if (len != GIT_OID_HEXSZ)
		return -1;
	for (i = 0; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return -1;
	return git_oid_fromstrn(out, s, len) < 0 ? -1 : 0;
}

/* "commit <id> <n>": the commit's bytes, its tree and first parent's tree. */
static int take_commit(taking *t, reader *r, const char *args)
{
	const char *p = args + GIT_OID_HEXSZ, *raw;
	uint64_t n;
	git_oid parent;
	int error;

	if (strlen(args) < GIT_OID_HEXSZ + 2 || ts_changes__parse_id(&t->id, args, GIT_OID_HEXSZ) < 0 || *p++ != ' ' ||
	    parse_size(&n, &p, COMMIT_MAX_BYTES) < 0 || *p)
		return ts_error_set(TS_ECORRUPT, "the changes stream holds a malformed commit record");
	ts_buf__clear(&t->raw);
	if (ts_buf__grow(&t->raw, (size_t)n + 1) < 0)
		return TS_ERROR;
	if ((error = reader_get(r, t->raw.ptr, (size_t)n)) < 0)
		return error;
	t->raw.size = (size_t)n;
	t->raw.ptr[n] = '\0';
	raw = t->raw.ptr;
	if (n < 46 || memcmp(raw, "tree ", 5) || ts_changes__parse_id(&t->named_tree, raw + 5, GIT_OID_HEXSZ) < 0 || raw[45] != '\n')
		return ts_error_set(TS_ECORRUPT, "commit %s as sent does not begin with its tree", args);
	if (n >= 46 + 48 && !memcmp(raw + 46, "parent ", 7) && raw[46 + 47] == '\n') {
		char hex[GIT_OID_HEXSZ + 1];
		if (ts_changes__parse_id(&parent, raw + 53, GIT_OID_HEXSZ) < 0)
			return ts_error_set(TS_ECORRUPT, "commit %.40s as sent names a malformed parent", args);
		if ((error = ts_store__commit_tree(&t->parent_tree, t->store, &parent)) < 0 ||
		    !ts_store__has(t->store, &t->parent_tree)) {
			git_oid_tostr(hex, sizeof(hex), &parent);
			return ts_error_set(TS_ECORRUPT, "commit %.40s stands on %s, which is neither here nor "
				"sent before it", args, hex);
		}
		t->has_parent = 1;
	}
	/* every other parent (a merge's) is here or was sent before it too */
	for (p = raw + 46 + (t->has_parent ? 48 : 0); (size_t)(p - raw) + 48 <= n && !memcmp(p, "parent ", 7) &&
	     p[47] == '\n'; p += 48) {
		if (ts_changes__parse_id(&parent, p + 7, GIT_OID_HEXSZ) < 0)
			return ts_error_set(TS_ECORRUPT, "commit %.40s as sent names a malformed parent", args);
		if (!ts_store__has(t->store, &parent))
			return ts_error_set(TS_ECORRUPT, "commit %.40s merges %.40s, which is neither here nor sent "
				"before it", args, p + 7);
	}
	return 0;
}

/* "base <id>": the commit is rebuilt on this commit's tree instead. */
static int take_base(taking *t, const char *args)
{
	git_oid base;

	if (ts_changes__parse_id(&base, args, strlen(args)) < 0)
		return ts_error_set(TS_ECORRUPT, "commit %s: a malformed base record", git_oid_tostr_s(&t->id));
	t->has_parent = 0;
	if (ts_store__commit_tree(&t->parent_tree, t->store, &base) < 0 ||
	    !ts_store__has(t->store, &t->parent_tree)) {
		git_error_clear();
		return ts_error_set(TS_ECORRUPT, "commit %s is sent against %.40s, which is not here",
			git_oid_tostr_s(&t->id), args);
	}
	t->has_parent = 1;
	return 0;
}

/* A large blob (an evidence file) goes from the stream into a loose
 * object of its own as it comes, CHUNK bytes at a time. */
static int take_large(taking *t, reader *r, const char *path, uint64_t n)
{
	ts_store_blob_writer *w = NULL;
	unsigned char *buf;
	git_oid id;
	int error;

	if (!(buf = malloc(CHUNK)))
		return ts_error_set(TS_ERROR, "out of memory");
	if ((error = ts_store__blob_open(&w, t->store, n)) < 0)
		goto done;
	while (n) {
		size_t k = n < CHUNK ? (size_t)n : CHUNK;
		if ((error = reader_get(r, buf, k)) < 0 || (error = ts_store__blob_write(w, buf, k)) < 0)
			goto done;
		n -= k;
	}
	error = ts_store__blob_finish(&id, w);
	w = NULL;
	if (error == 0)
		error = taking_add(t, path, NULL, 0, &id);
done:
	ts_store__blob_free(w);
	free(buf);
	return error;
}

/* "put <mode> <n> <path>": a whole blob. */
static int take_put(taking *t, reader *r, const char *args)
{
	const char *p = args;
	uint64_t n;
	char *data;
	int error;

	if (strncmp(p, "100644 ", 7))
		return ts_error_set(TS_ECORRUPT, "commit %s: only plain files (mode 100644) may travel, not "
			"'%.40s'", git_oid_tostr_s(&t->id), args);
	p += 7;
	if (parse_size(&n, &p, BLOB_MAX_BYTES) < 0 || *p++ != ' ' || !path_valid(p))
		return ts_error_set(TS_ECORRUPT, "commit %s: a malformed put record", git_oid_tostr_s(&t->id));
	if (n > STREAM_BLOB_BYTES)
		return take_large(t, r, p, n);
	if (!(data = malloc((size_t)n + 1)))
		return ts_error_set(TS_ERROR, "out of memory");
	if ((error = reader_get(r, data, (size_t)n)) == 0)
		error = taking_add(t, p, data, (size_t)n, NULL);
	free(data);
	return error;
}

/* "row <n> <path>": the parent's row at path with these columns changed. */
static int take_row(taking *t, reader *r, const char *args)
{
	const char *p = args;
	git_oid old;
	git_blob *blob = NULL;
	ts_row *base = NULL, *delta = NULL;
	ts_buf lines = TS_BUF_INIT, row = TS_BUF_INIT;
	uint64_t n;
	int error;

	if (parse_size(&n, &p, ROW_MAX_BYTES) < 0 || *p++ != ' ' || !path_valid(p))
		return ts_error_set(TS_ECORRUPT, "commit %s: a malformed row record", git_oid_tostr_s(&t->id));
	if (ts_buf__grow(&lines, (size_t)n + 1) < 0)
		return TS_ERROR;
	if ((error = reader_get(r, lines.ptr, (size_t)n)) < 0)
		goto done;
	lines.size = (size_t)n;
	/* the row's blob in the parent, found through the store's tree cache:
	 * a commit's rows come in path order, so the trees above them do too */
	if (!t->has_parent || ts_store__entry_at(&old, t->store, &t->parent_tree, p) < 0 ||
	    git_blob_lookup(&blob, ts_store__repo(t->store), &old) < 0) {
		git_error_clear();
		error = ts_error_set(TS_ECORRUPT, "commit %s changes the row %s, which its parent does not hold",
			git_oid_tostr_s(&t->id), p);
		goto done;
	}
	if (ts_rowcodec__decode(&base, git_blob_rawcontent(blob), (size_t)git_blob_rawsize(blob)) < 0 ||
	    ts_rowcodec__decode(&delta, lines.ptr, lines.size) < 0 || (error = row_apply(&row, base, delta)) < 0) {
		error = ts_error_set(TS_ECORRUPT, "commit %s: the change of row %s does not apply: %s",
			git_oid_tostr_s(&t->id), p, ts_error_last());
		goto done;
	}
	error = taking_add(t, p, row.ptr ? row.ptr : "", row.size, NULL);
done:
	ts_row__free(base);
	ts_row__free(delta);
	ts_buf__dispose(&lines);
	ts_buf__dispose(&row);
	git_blob_free(blob);
	return error;
}

/* "end <id>": the commit rebuilt, and checked against the ids it names. */
static int take_end(taking *t, const char *args)
{
	git_oid named, written, tree;
	char built[GIT_OID_HEXSZ + 1], claimed[GIT_OID_HEXSZ + 1];
	size_t i;
	int error;

	if (ts_changes__parse_id(&named, args, strlen(args)) < 0 || !git_oid_equal(&named, &t->id))
		return ts_error_set(TS_ECORRUPT, "the changes stream ends commit %s with '%.60s'",
			git_oid_tostr_s(&t->id), args);
	for (i = 0; i < t->n; i++)
		if (t->updates[i].len == TS_STORE_LINK)
			t->updates[i].data = (const char *)&t->blobs[i];
	if ((error = ts_store__tree_update(&tree, t->store, t->has_parent ? &t->parent_tree : NULL,
			t->updates, t->n)) < 0)
		return error;
	if (!git_oid_equal(&tree, &t->named_tree)) {
		git_oid_tostr(built, sizeof(built), &tree);
		git_oid_tostr(claimed, sizeof(claimed), &t->named_tree);
		return ts_error_set(TS_ECORRUPT, "commit %s does not rebuild: its changes give tree %s, "
			"it names tree %s", git_oid_tostr_s(&t->id), built, claimed);
	}
	if ((error = ts_store__write_raw_commit(&written, t->store, t->raw.ptr, t->raw.size)) < 0)
		return error;
	if (!git_oid_equal(&written, &t->id)) {
		git_oid_tostr(built, sizeof(built), &written);
		return ts_error_set(TS_ECORRUPT, "commit %s as sent hashes to %s", git_oid_tostr_s(&t->id), built);
	}
	return 0;
}

int ts_changes__receive(ts_changes__stats *stats, ts_store *store,
	ts_changes__read_fn read, void *payload, ts_changes__progress_fn progress, void *progress_payload)
{
	ts_changes__stats st;
	char magic[sizeof(TS_CHANGES_MAGIC)], line[LINE_MAX_BYTES];
	taking t;
	reader *r;
	size_t got = 0, have = 0;
	int error = 0, in_commit = 0;

	memset(&st, 0, sizeof(st));
	memset(&t, 0, sizeof(t));
	t.store = store;
	if (!(r = calloc(1, sizeof(*r))))
		return ts_error_set(TS_ERROR, "out of memory");
	r->read = read;
	r->payload = payload;
	/* the magic line, read a byte at a time: the zlib data follows it */
	while (have < strlen(TS_CHANGES_MAGIC)) {
		if ((error = read(magic + have, 1, &got, payload)) < 0)
			goto done;
		if (got == 0) {
			error = have ? cut() : ts_error_set(TS_ECORRUPT, "the changes stream is empty");
			goto done;
		}
		if (magic[have] != TS_CHANGES_MAGIC[have]) {
			error = ts_error_set(TS_ECORRUPT, "not a changes stream (version 1)");
			goto done;
		}
		have++;
	}
	r->bytes = have;
	if (inflateInit(&r->z) != Z_OK) {
		error = ts_error_set(TS_ERROR, "out of memory");
		goto done;
	}
	r->z_open = 1;
	for (;;) {
		if ((error = reader_line(r, line, sizeof(line))) < 0)
			goto done;
		if (!strncmp(line, "commit ", 7) && !in_commit) {
			taking_reset(&t);
			if ((error = take_commit(&t, r, line + 7)) < 0)
				goto done;
			in_commit = 1;
		} else if (!strncmp(line, "base ", 5) && in_commit == 1) {
			if ((error = take_base(&t, line + 5)) < 0)
				goto done;
			in_commit = 2;
		} else if (!strncmp(line, "del ", 4) && in_commit) {
			if (!path_valid(line + 4)) {
				error = ts_error_set(TS_ECORRUPT, "commit %s: a malformed del record", git_oid_tostr_s(&t.id));
				goto done;
			}
			if ((error = taking_add(&t, line + 4, NULL, 0, NULL)) < 0)
				goto done;
			in_commit = 2;
		} else if (!strncmp(line, "put ", 4) && in_commit) {
			if ((error = take_put(&t, r, line + 4)) < 0)
				goto done;
			in_commit = 2;
		} else if (!strncmp(line, "row ", 4) && in_commit) {
			if ((error = take_row(&t, r, line + 4)) < 0)
				goto done;
			in_commit = 2;
		} else if (!strncmp(line, "end ", 4) && in_commit) {
			if ((error = take_end(&t, line + 4)) < 0)
				goto done;
			in_commit = 0;
			st.commits++;
			st.entries = t.entries;
			git_oid_cpy(&st.last, &t.id);
			st.bytes = r->bytes;
			if (progress)
				progress(&st, progress_payload);
		} else if (!strncmp(line, "done ", 5) && !in_commit) {
			const char *p = line + 5;
			uint64_t n;
			if (parse_size(&n, &p, SIZE_MAX) < 0 || *p || n != st.commits) {
				error = ts_error_set(TS_ECORRUPT, "the changes stream ends saying '%s' after %zu commits",
					line, st.commits);
				goto done;
			}
			break;
		} else {
			error = ts_error_set(TS_ECORRUPT, "the changes stream holds an unexpected record '%.60s'", line);
			goto done;
		}
	}
	/* the zlib stream ends with "done", and nothing follows it */
	if (r->pos != r->len || (error = reader_fill(r)) != 1 || r->z.avail_in) {
		error = error < 0 ? error : ts_error_set(TS_ECORRUPT, "the changes stream goes on after its end");
		goto done;
	}
	error = ts_store__flush(store);
done:
	if (error == TS_ENET) {
		/* a cut: the commits that came whole are kept */
		int code = error;
		char why[512];
		snprintf(why, sizeof(why), "%s", ts_error_last() ? ts_error_last() : "cut");
		st.cut = 1;
		st.bytes = r->bytes;
		if ((error = ts_store__flush(store)) == 0)
			error = ts_error_set(code, "%s", why);
	} else if (error < 0) {
		ts_store__discard(store);
	}
	taking_reset(&t);
	free(t.updates);
	free(t.blobs);
	ts_buf__dispose(&t.raw);
	if (r->z_open)
		inflateEnd(&r->z);
	free(r);
	if (stats)
		*stats = st;
	return error;
}
