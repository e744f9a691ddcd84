/*
 * Admission of an offered commit (admit.h): one pass over what the offer
 * changes, tree entry by tree entry, before anything of it is written.
 */
#include "admit.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "files.h"
#include "ownership.h"
#include "rawtree.h"
#include "rowcodec.h"
#include "store.h"
#include "tables.h"
#include "treediff.h"
#include "tiersync.h"

typedef struct {
	git_repository *repo;
	git_odb *odb;
	ts_rawtree_cache *trees;     /* the trees the rows of base and ours are found through */
	const ts_admit_options *opts;
	char tip[13];                /* the offered commit, short, for messages */
	git_tree *base, *ours, *theirs;
	ts_tables *tables;
	ts_ownership *rules;
	int64_t row_bytes, file_bytes;
} admission;

static int refuse(admission *a, int code, const char *fmt, const char *what, const char *why)
{
	ts_buf msg = TS_BUF_INIT;
	int error;

	ts_buf__printf(&msg, fmt, what, why);
	error = ts_error_set(code, "commit %s: %s", a->tip, ts_buf__oom(&msg) ? "refused" : msg.ptr);
	ts_buf__dispose(&msg);
	return error;
}

static int load_limits(admission *a)
{
	sqlite3_stmt *st = NULL;

	a->row_bytes = TS_ADMIT_ROW_BYTES;
	a->file_bytes = TS_ADMIT_FILE_BYTES;
	if (sqlite3_prepare_v2(a->opts->db, "SELECT name, value FROM sync_limits", -1, &st, NULL) != SQLITE_OK) {
		sqlite3_finalize(st);
		return 0;   /* no declared limits: the defaults */
	}
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 0);
		if (name && !strcmp(name, "row_bytes"))
			a->row_bytes = sqlite3_column_int64(st, 1);
		else if (name && !strcmp(name, "file_bytes"))
			a->file_bytes = sqlite3_column_int64(st, 1);
	}
	sqlite3_finalize(st);
	return 0;
}

/* The entry at `path` in `tree`: 1 and its id and mode, or 0 when there is
 * none (or the trees down to it cannot be read: no row there then). Found
 * through the admission's tree cache: the rows of one offer come in path
 * order, so the trees above them do too. */
static int tree_entry(git_oid *id, unsigned *mode, admission *a, git_tree *tree, const char *path)
{
	return tree && ts_rawtree__entry_at(id, mode, a->trees, a->odb, git_tree_id(tree), path) == 0;
}

/* The row at `path` in `tree`, decoded: 1, or 0 when there is none. */
static int tree_row(ts_row **out, admission *a, git_tree *tree, const char *path)
{
	git_blob *blob = NULL;
	unsigned mode;
	git_oid id;
	int error;

	*out = NULL;
	if (!tree_entry(&id, &mode, a, tree, path) ||
	    ((mode & 0170000) != 0100000 && mode != 0120000) ||   /* a blob's modes */
	    git_blob_lookup(&blob, a->repo, &id) < 0)
		return 0;
	error = ts_rowcodec__decode(out, git_blob_rawcontent(blob), (size_t)git_blob_rawsize(blob));
	git_blob_free(blob);
	return error < 0 ? error : 1;
}

/* ts_ownership_lookup over the offered tree, then the receiver's: the
 * row a scope names. */
static int lookup_scope(ts_row **out, const char *table, const ts_value *key, const char *path, void *payload)
{
	admission *a = payload;
	int found;

	(void)table;
	(void)key;
	found = tree_row(out, a, a->theirs, path);
	if (found <= 0 && (found = tree_row(out, a, a->ours, path)) < 0)
		found = 0;   /* an unreadable row names no node */
	return found;
}

/* Reads an offered blob whole, once its header shows it within `limit`
 * (a `what` of sync_limits.`limit_name`). */
static int read_offered(git_odb_object **out, admission *a, const char *path, const git_oid *id,
	const char *what, int64_t limit, const char *limit_name)
{
	git_object_t type;
	size_t size;
	int error = 0;

	*out = NULL;
	if (git_odb_read_header(&size, &type, a->odb, id) < 0) {
		error = ts_store__git_error(TS_ECORRUPT, "reading an offered object");
	} else if (type != GIT_OBJECT_BLOB) {
		error = refuse(a, TS_EDENIED, "%s: %s", path, "not a blob");
	} else if ((int64_t)size > limit) {
		char why[128];
		snprintf(why, sizeof(why), "a %s of %zu bytes, over the limit of %lld (sync_limits.%s)",
			what, size, (long long)limit, limit_name);
		error = refuse(a, TS_EDENIED, "%s: %s", path, why);
	} else if (git_odb_read(out, a->odb, id) < 0)
		error = ts_store__git_error(TS_ECORRUPT, "reading an offered object");
	return error;
}

/* An offered row blob: within the limit, canonical, at its own key's path. */
static int check_row_blob(ts_row **out, admission *a, const ts_table *t, const char *path, const git_oid *id)
{
	git_odb_object *obj = NULL;
	ts_buf again = TS_BUF_INIT, want = TS_BUF_INIT;
	ts_value *keys = NULL;
	ts_row *row = NULL;
	int i, error = 0;

	*out = NULL;
	if ((error = read_offered(&obj, a, path, id, "row", a->row_bytes, "row_bytes")) < 0)
		goto done;
	if (ts_rowcodec__decode(&row, git_odb_object_data(obj), git_odb_object_size(obj)) < 0) {
		error = refuse(a, TS_EDENIED, "%s: %s", path, "not a row encoding");
		goto done;
	}
	if (row->ncol != t->ncol)
		goto not_canonical;
	for (i = 0; i < t->ncol; i++)
		if (strcmp(row->names[i], t->cols[i]))
			goto not_canonical;
	if (ts_rowcodec__encode_values(&again, row->ncol, (const char *const *)row->names, row->values) < 0 ||
	    again.size != git_odb_object_size(obj) || memcmp(again.ptr, git_odb_object_data(obj), again.size))
		goto not_canonical;
	if (!(keys = calloc((size_t)t->npk, sizeof(*keys)))) {
		error = ts_error_set(TS_ERROR, "out of memory");
		goto done;
	}
	for (i = 0; i < t->npk; i++)
		keys[i] = row->values[t->pk[i]];   /* borrowed */
	if (ts_rowcodec__key_path_values(&want, t->name, t->npk, keys) < 0 || strcmp(want.ptr, path)) {
		error = refuse(a, TS_EDENIED, "%s: %s", path, "the row is not stored at its own key's path");
		goto done;
	}
	*out = row;
	row = NULL;
	goto done;
not_canonical:
	error = refuse(a, TS_EDENIED, "%s: %s", path, "not the canonical encoding of a row of its table");
done:
	free(keys);
	ts_row__free(row);
	ts_buf__dispose(&again);
	ts_buf__dispose(&want);
	git_odb_object_free(obj);
	return error;
}

/* A new file: within the limit, and its content has the SHA-256 its name says. */
static int check_new_file(admission *a, const char *path, const char *name, const git_oid *id)
{
	git_odb_object *obj = NULL;
	unsigned char md[32];
	unsigned int mdlen = 0;
	char hex[65];
	int i, error = 0;

	if ((error = read_offered(&obj, a, path, id, "file", a->file_bytes, "file_bytes")) < 0)
		goto done;
	if (!EVP_Digest(git_odb_object_data(obj), git_odb_object_size(obj), md, &mdlen, EVP_sha256(), NULL)) {
		error = ts_error_set(TS_ERROR, "hashing an offered file");
		goto done;
	}
	for (i = 0; i < 32; i++)
		sprintf(hex + 2 * i, "%02x", md[i]);
	if (strcmp(hex, name))
		error = refuse(a, TS_EDENIED, "%s: %s", path, "the file's content does not have the SHA-256 its name says");
done:
	git_odb_object_free(obj);
	return error;
}

static int is_hex_name(const char *s, size_t n)
{
	size_t i;
	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return s[n] == '\0';
}

/* The SHA-256 a path under the files directory names, or NULL when the
 * path is no well-formed file entry ("_tiersync/files/ab/ab…", 64 hex). */
static const char *file_name(const char *path)
{
	static const char files[] = TS_FILES_DIR "/";
	const char *name = path + sizeof(files) - 1;

	if (strncmp(path, files, sizeof(files) - 1) || strlen(name) != 2 + 1 + 64 ||
	    !is_hex_name(name + 3, 64) || name[2] != '/' || strncmp(name, name + 3, 2))
		return NULL;
	return name + 3;
}

/* `ours`: 1 when the receiver holds an entry at the path. */
static int check_engine_entry(admission *a, const char *path, const git_tree_entry *theirs, int ours)
{
	static const char files[] = TS_FILES_DIR "/";
	const char *sha;

	if (!strcmp(path, TS_STORE_SCHEMA_PATH))
		return refuse(a, TS_EDENIED, "%s: %s", path,
			"the schema version differs from this node's: both nodes need the same migrations");
	if (strncmp(path, files, sizeof(files) - 1))
		return refuse(a, TS_EDENIED, "%s: %s", path, "not a path of the engine");
	if (!(sha = file_name(path)))
		return refuse(a, TS_EDENIED, "%s: %s", path, "not a well-formed file name");
	if (ours && !theirs)
		return refuse(a, TS_EDENIED, "%s: %s", path, "a file was removed: files are immutable");
	if (ours)
		return refuse(a, TS_EDENIED, "%s: %s", path, "a file's bytes were changed: files are immutable");
	if (!theirs)
		return 0;   /* gone from a file this node never held */
	return check_new_file(a, path, sha, git_tree_entry_id(theirs));
}

/* What the store writes for a row or a file: a regular file, not executable. */
static int refuse_mode(admission *a, const char *path, const git_tree_entry *e)
{
	char why[64];

	if (git_tree_entry_filemode_raw(e) == GIT_FILEMODE_BLOB)
		return 0;
	snprintf(why, sizeof(why), "mode %06o: only regular files and trees are taken",
		(unsigned)git_tree_entry_filemode_raw(e));
	return refuse(a, TS_EDENIED, "%s: %s", path, why);
}

/* One path the offer changes against the base (treediff.h callback). */
static int check_change(const char *path, const git_tree_entry *from, const git_tree_entry *theirs, void *payload)
{
	admission *a = payload;
	git_oid ours_id;
	unsigned ours_mode;
	ts_row *before = NULL, *after = NULL, *held = NULL;
	ts_buf table = TS_BUF_INIT, key = TS_BUF_INIT;
	const char *name;
	ts_table *t;
	int error = 0, ours = tree_entry(&ours_id, &ours_mode, a, a->ours, path);

	/* what the receiver already holds is no change of the offer's */
	if ((!theirs && !ours) ||
	    (theirs && ours && git_oid_equal(git_tree_entry_id(theirs), &ours_id) &&
	     ours_mode == (unsigned)git_tree_entry_filemode_raw(theirs)))
		goto done;
	if (theirs && (error = refuse_mode(a, path, theirs)) < 0)
		goto done;
	if (!strncmp(path, TS_STORE_META_DIR "/", sizeof(TS_STORE_META_DIR))) {
		error = check_engine_entry(a, path, theirs, ours);
		goto done;
	}
	if (ts_rowcodec__path_split(&table, &name, path) < 0) {
		error = refuse(a, TS_EDENIED, "%s: %s", path, "not the path of a row");
		goto done;
	}
	if (!(t = ts_tables__find(a->tables, table.ptr))) {
		error = refuse(a, TS_EDENIED, "%s: %s", path, "no such table on this node");
		goto done;
	}
	if (theirs && (error = check_row_blob(&after, a, t, path, git_tree_entry_id(theirs))) < 0)
		goto done;
	if (!a->opts->writer || !ts_ownership__covers(a->rules, t->name))
		goto done;
	if (from && (error = tree_row(&before, a, a->base, path)) < 0)
		goto done;
	if (ours && (error = tree_row(&held, a, a->ours, path)) < 0)
		goto done;
	ts_table__put_key(&key, t, after ? after : before ? before : held);
	if ((error = ts_ownership__check(a->rules, a->opts->writer, t->name, ts_buf__cstr(&key), before, after,
			held, lookup_scope, a)) < 0) {
		char *why = strdup(ts_error_last() ? ts_error_last() : "refused");
		error = ts_error_set(error, "commit %s: %s", a->tip, why ? why : "refused");
		free(why);
	}
done:
	ts_row__free(before);
	ts_row__free(after);
	ts_row__free(held);
	ts_buf__dispose(&table);
	ts_buf__dispose(&key);
	return error;
}

static int commit_tree(git_tree **out, git_repository *repo, const git_oid *commit)
{
	git_commit *c = NULL;
	int error;

	*out = NULL;
	if (git_commit_lookup(&c, repo, commit) < 0)
		return ts_store__git_error(TS_ECORRUPT, "reading an offered commit");
	error = git_commit_tree(out, c);
	git_commit_free(c);
	return error < 0 ? ts_store__git_error(TS_ECORRUPT, "reading an offered tree") : 0;
}

/*
 * The shape of one offered commit's own changes (against its first
 * parent): what its tree holds must be what a tree of this node may hold,
 * so that no commit of the history the receiver takes in, not only the
 * last one, carries a gitlink, a link or a path of no table.
 */
static int check_shape_entry(const char *path, const git_tree_entry *before, const git_tree_entry *after,
	void *payload)
{
	admission *a = payload;
	ts_buf table = TS_BUF_INIT;
	const char *name;
	int error = 0;

	if (!after || !strcmp(path, TS_STORE_SCHEMA_PATH))
		return 0;
	if ((error = refuse_mode(a, path, after)) < 0)
		return error;
	if (!strncmp(path, TS_FILES_DIR "/", sizeof(TS_FILES_DIR))) {
		if (!file_name(path))
			error = refuse(a, TS_EDENIED, "%s: %s", path, "not a well-formed file name");
	} else if (ts_rowcodec__path_split(&table, &name, path) < 0) {
		error = refuse(a, TS_EDENIED, "%s: %s", path, "not the path of a row");
	} else if (!ts_tables__find(a->tables, table.ptr)) {
		error = refuse(a, TS_EDENIED, "%s: %s", path, "no such table on this node");
	}
	ts_buf__dispose(&table);
	return error;
}

static int check_shape(admission *a, git_commit *c)
{
	ts_treediff__callbacks cbs = { NULL, check_shape_entry, a, 0 };
	git_commit *parent = NULL;
	git_tree *tree = NULL, *before = NULL;
	char tip[13];
	int error;

	memcpy(tip, a->tip, sizeof(tip));
	git_oid_tostr(a->tip, sizeof(a->tip), git_commit_id(c));
	if (git_commit_tree(&tree, c) < 0 ||
	    (git_commit_parentcount(c) > 0 && (git_commit_parent(&parent, c, 0) < 0 || git_commit_tree(&before, parent) < 0)))
		error = ts_store__git_error(TS_ECORRUPT, "reading an offered commit");
	else
		error = ts_treediff__walk(a->repo, before, tree, NULL, &cbs);
	memcpy(a->tip, tip, sizeof(tip));
	git_tree_free(before);
	git_tree_free(tree);
	git_commit_free(parent);
	return error;
}

/* Every offered commit the receiver lacks, oldest first. */
static int check_commits(admission *a, const git_oid *ours, const git_oid *theirs)
{
	git_revwalk *walk = NULL;
	git_oid id;
	int rc, error = 0;

	if (git_revwalk_new(&walk, a->repo) < 0 ||
	    git_revwalk_sorting(walk, GIT_SORT_TOPOLOGICAL | GIT_SORT_REVERSE) < 0 ||
	    git_revwalk_push(walk, theirs) < 0 || (ours && git_revwalk_hide(walk, ours) < 0)) {
		error = ts_store__git_error(TS_ECORRUPT, "walking the offered history");
		goto done;
	}
	while ((rc = git_revwalk_next(&id, walk)) == 0) {
		git_commit *c = NULL;
		if (a->opts->commit_check && (error = a->opts->commit_check(a->repo, &id, a->opts->payload)) < 0)
			goto done;
		if (git_commit_lookup(&c, a->repo, &id) < 0) {
			error = ts_store__git_error(TS_ECORRUPT, "reading an offered commit");
			goto done;
		}
		/* the last commit's tree is checked whole below */
		error = git_oid_equal(&id, theirs) ? 0 : check_shape(a, c);
		git_commit_free(c);
		if (error < 0)
			goto done;
	}
	if (rc != GIT_ITEROVER)
		error = ts_store__git_error(TS_ECORRUPT, "walking the offered history");
done:
	git_revwalk_free(walk);
	return error;
}

int ts_admit(git_repository *repo, const git_oid *ours, const git_oid *theirs, const ts_admit_options *opts)
{
	ts_treediff__callbacks cbs;
	admission a;
	git_oid base;
	int error;

	memset(&a, 0, sizeof(a));
	a.repo = repo;
	a.opts = opts;
	git_oid_tostr(a.tip, sizeof(a.tip), theirs);
	if (ours && (git_oid_equal(ours, theirs) || git_graph_descendant_of(repo, ours, theirs) == 1))
		return 0;   /* nothing new */
	if (git_repository_odb(&a.odb, repo) < 0)
		return ts_store__git_error(TS_ERROR, "opening the object database");
	if (!(a.trees = ts_rawtree__cache_new())) {
		error = ts_error_set(TS_ERROR, "out of memory");
		goto done;
	}
	if ((error = ts_tables__load(&a.tables, opts->db)) < 0 ||
	    (error = ts_ownership__load(&a.rules, opts->db)) < 0 ||
	    (error = load_limits(&a)) < 0 ||
	    (error = commit_tree(&a.theirs, repo, theirs)) < 0 ||
	    (ours && (error = commit_tree(&a.ours, repo, ours)) < 0))
		goto done;
	if (opts->base_tree) {
		if (git_tree_lookup(&a.base, repo, opts->base_tree) < 0) {
			error = ts_store__git_error(TS_ECORRUPT, "reading the merge base");
			goto done;
		}
	} else if (ours && !opts->no_base && git_merge_base(&base, repo, ours, theirs) == 0 &&
	           (error = commit_tree(&a.base, repo, &base)) < 0)
		goto done;
	if (!opts->commits_checked && (error = check_commits(&a, ours, theirs)) < 0)
		goto done;
	memset(&cbs, 0, sizeof(cbs));
	cbs.entry = check_change;
	cbs.payload = &a;
	error = ts_treediff__walk(repo, a.base, a.theirs, NULL, &cbs);
done:
	git_tree_free(a.base);
	git_tree_free(a.ours);
	git_tree_free(a.theirs);
	ts_tables__free(a.tables);
	ts_ownership__free(a.rules);
	ts_rawtree__cache_free(a.trees);
	git_odb_free(a.odb);
	return error;
}
