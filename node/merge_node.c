/*
 * Merging at a node: another node's commit into this node's main, the
 * pending submissions of the tiers below, the review queue of conflicts
 * read back, and their resolution (the public side is
 * include/tiersync/merge.h).
 *
 * Staged local work is committed first, under its own authors, so that a
 * merge always starts from a commit and no local write is lost or mixed
 * into the merge.
 */
#include <stdlib.h>
#include <string.h>

#include "conflicts.h"
#include "apply.h"
#include "capture.h"
#include "error.h"
#include "history.h"
#include "integrate.h"
#include "node.h"
#include "policy.h"
#include "progress.h"
#include "rowcodec.h"
#include "tables.h"
#include "tiers.h"

#define SUBMISSIONS "refs/submissions/"
#define URGENT "refs/urgent/"   /* urgent reports of a node below: merged first */

static int commit_local_work(ts_node *node)
{
	char id[41];
	if (ts_capture__count(node->db) == 0)
		return 0;
	return ts_node_commit(id, node, "local work, committed before a merge", NULL);
}

const char *ts_merge_result_name(ts_merge_result result)
{
	switch (result) {
	case TS_MERGE_UP_TO_DATE: return "up to date";
	case TS_MERGE_FAST_FORWARD: return "fast-forward";
	case TS_MERGE_MERGED: return "merged";
	}
	return NULL;
}

static void stats_public(ts_node_merge_stats *out, const ts_integrate_stats *in)
{
	out->result = in->result == TS_INTEGRATE_MERGED ? TS_MERGE_MERGED :
		in->result == TS_INTEGRATE_FAST_FORWARD ? TS_MERGE_FAST_FORWARD : TS_MERGE_UP_TO_DATE;
	out->rows_written = in->upserts;
	out->rows_deleted = in->deletes;
	out->conflicts = in->conflicts;
	out->settled = in->settled;
	out->constraint_conflicts = in->constraint_conflicts;
}

void ts_node_set_progress(ts_node *node, ts_progress_cb cb, void *payload)
{
	node->progress = cb;
	node->progress_payload = payload;
}

int ts_node_merge(char id_out[41], ts_node_merge_stats *stats, ts_node *node, const char *rev,
	const char *author, const char *message)
{
	git_object *obj = NULL;
	ts_policy_context ctx = { NULL, -1 };
	ts_integrate_stats integrated;
	ts_progress_meter progress;
	ts_store_who a, c;
	ts_buf default_message = TS_BUF_INIT;
	git_oid theirs, head;
	int64_t now = ts_node__now();
	int error, urgent;

	id_out[0] = '\0';
	if ((error = ts_store__publish(node->store)) < 0)
		return error;
	if (stats)
		memset(stats, 0, sizeof(*stats));
	if (!author)
		author = node->identity;
	if (!author || !*author)
		return ts_error_set(TS_EINVALID, "no author: name who merges, or set "
			"the node's identity (user.name in its config)");
	if (git_revparse_single(&obj, ts_store__repo(node->store), rev) < 0 ||
	    git_object_type(obj) != GIT_OBJECT_COMMIT) {
		git_object_free(obj);
		return ts_error_set(TS_ENOTFOUND, "unknown revision '%s'", rev);
	}
	git_oid_cpy(&theirs, git_object_id(obj));
	git_object_free(obj);
	ts_node__who(&a, node->id, author, now);
	ts_node__who(&c, node->id, node->id, now);
	/* the ref says which side is the upper tier: a submission comes from
	 * below, a remote's main from above */
	urgent = !strncmp(rev, URGENT, strlen(URGENT));
	ctx.ours_is_upper = urgent || !strncmp(rev, SUBMISSIONS, strlen(SUBMISSIONS)) ? 1 :
		!strncmp(rev, "refs/remotes/", 13) ? 0 : -1;
	/* a submission is the offer of the node its ref names: checked whole
	 * before any of it is written; an urgent commit also for its shape */
	if (ctx.ours_is_upper == 1) {
		const char *from = rev + strlen(urgent ? URGENT : SUBMISSIONS);
		char hex[GIT_OID_HEXSZ + 1];
		if (!ts_node_id_valid(from) || !ts_jurisdiction_covers(node->id, from) || !strcmp(from, node->id))
			return ts_error_set(TS_EDENIED, "%s names no node below %s", rev, node->id);
		git_oid_tostr(hex, sizeof(hex), &theirs);
		if ((error = urgent ? ts_node_admit_urgent(node, from, hex, NULL) :
				ts_node__admit(node, NULL, from, &theirs)) < 0)
			return error;
	} else if (ctx.ours_is_upper == 0 && (error = ts_node__admit(node, NULL, NULL, &theirs)) < 0)
		return error;   /* what came from above, checked again as it is merged */
	/* staged work is committed after the check: a commit of this node's own
	 * is in no offer, so the base is the same, and the check reads its rules
	 * from the database, which the commit does not change; against the head
	 * the fetch or the gate saw, their admission is not made again */
	if ((error = commit_local_work(node)) < 0 && error != TS_ENOTFOUND)
		return error;
	if (!message) {
		ts_buf__printf(&default_message, "merge %s\n", rev);
		if (ts_buf__oom(&default_message))
			return TS_ERROR;
		message = default_message.ptr;
	}
	if ((error = ts_policies__load(&ctx.policies, node->db)) < 0)
		goto done;
	ts_progress__init(&progress, node->progress, node->progress_payload);
	error = ts_integrate(&head, &integrated, node->db, node->store, &theirs, &a, &c, message,
		ts_policy__decide, &ctx, &progress);
	ts_policies__free(ctx.policies);
	if (error < 0)
		goto done;
	if (stats)
		stats_public(stats, &integrated);
	git_oid_tostr(id_out, 41, &head);
	error = 0;
done:
	ts_buf__dispose(&default_message);
	return error;
}

typedef struct {
	char **names;
	size_t n;
} ref_list;

static int collect_ref(const char *name, void *payload)
{
	ref_list *l = payload;
	char **grown = realloc(l->names, (l->n + 1) * sizeof(*grown));
	if (!grown || !(grown[l->n] = strdup(name))) {
		if (grown)
			l->names = grown;
		return -1;
	}
	l->names = grown;
	l->n++;
	return 0;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int ts_node_merge_submissions(ts_node *node, const char *author,
	int (*cb)(const ts_submission_result *r, void *payload), void *payload)
{
	ref_list refs = { NULL, 0 };
	git_strarray all = { 0 };
	size_t i, nurgent;
	int error = 0;

	if ((error = ts_store__publish(node->store)) < 0)
		return error;
	if (git_reference_list(&all, ts_store__repo(node->store)) < 0)
		return ts_store__git_error(TS_ERROR, "listing submissions");
	/* urgent reports first, then the submissions, each in a fixed order:
	 * the same refs merge the same way everywhere */
	for (i = 0; i < all.count; i++)
		if (!strncmp(all.strings[i], URGENT, strlen(URGENT)) && collect_ref(all.strings[i], &refs) < 0) {
			error = ts_error_set(TS_ERROR, "out of memory");
			goto done;
		}
	nurgent = refs.n;
	for (i = 0; i < all.count; i++)
		if (!strncmp(all.strings[i], SUBMISSIONS, strlen(SUBMISSIONS)) && collect_ref(all.strings[i], &refs) < 0) {
			error = ts_error_set(TS_ERROR, "out of memory");
			goto done;
		}
	if (nurgent)
		qsort(refs.names, nurgent, sizeof(*refs.names), name_cmp);
	if (refs.n > nurgent)
		qsort(refs.names + nurgent, refs.n - nurgent, sizeof(*refs.names), name_cmp);
	for (i = 0; i < refs.n; i++) {
		ts_submission_result r;
		ts_buf msg = TS_BUF_INIT;
		int rc;

		memset(&r, 0, sizeof(r));
		r.urgent = i < nurgent;
		r.node = refs.names[i] + strlen(r.urgent ? URGENT : SUBMISSIONS);
		ts_buf__printf(&msg, r.urgent ? "merge urgent reports of %s\n" : "merge submission of %s\n", r.node);
		rc = ts_node_merge(r.commit, &r.stats, node, refs.names[i], author, msg.ptr);
		ts_buf__dispose(&msg);
		r.error = rc;
		r.message = rc < 0 ? ts_error_last() : NULL;
		if (rc < 0 && !error)
			error = rc;   /* the others still merge */
		if (cb && cb(&r, payload))
			break;
	}
done:
	for (i = 0; i < refs.n; i++)
		free(refs.names[i]);
	free(refs.names);
	git_strarray_dispose(&all);
	return error;
}

/*
 * The review queue read back: the records of sync_conflicts (sync/conflicts.c
 * describes them) as ts_conflict_info, strings straight from the statement.
 */

const char *ts_conflict_status_name(ts_conflict_status status)
{
	switch (status) {
	case TS_CONFLICT_OPEN: return "open";
	case TS_CONFLICT_SETTLED: return "settled";
	case TS_CONFLICT_RESOLVED: return "resolved";
	}
	return NULL;
}

static int status_parse(ts_conflict_status *out, const char *name)
{
	if (name && !strcmp(name, "open"))
		*out = TS_CONFLICT_OPEN;
	else if (name && !strcmp(name, "settled"))
		*out = TS_CONFLICT_SETTLED;
	else if (name && !strcmp(name, "resolved"))
		*out = TS_CONFLICT_RESOLVED;
	else
		return -1;
	return 0;
}

/* The columns in the order conflict_walk reads them. */
#define CONFLICT_COLUMNS "id, kind, status, table_name, row_key, column_name, base, ours, theirs, " \
	"provisional, ours_commit, ours_node, theirs_commit, theirs_node, resolution, resolved_value, " \
	"resolved_by, resolved_at"

/* Calls `cb` for each record with a status among `statuses` (bits) and the
 * given table, key and id (NULL: any); *found counts them. */
static int conflict_walk(size_t *found, ts_node *node, unsigned int statuses, const char *table,
	const char *key, const char *id, int (*cb)(const ts_conflict_info *conflict, void *payload),
	void *payload)
{
	sqlite3_stmt *st = NULL;
	int rc, error = 0;

	*found = 0;
	if (sqlite3_prepare_v2(node->db, "SELECT " CONFLICT_COLUMNS " FROM " TS_CONFLICTS_TABLE
			" WHERE (?1 & CASE status WHEN 'open' THEN 1 WHEN 'settled' THEN 2 WHEN 'resolved' THEN 4 "
			"ELSE 0 END) != 0 AND (?2 IS NULL OR table_name = ?2) AND (?3 IS NULL OR row_key = ?3) "
			"AND (?4 IS NULL OR id = ?4) ORDER BY table_name, row_key, column_name, id",
			-1, &st, NULL) != SQLITE_OK)
		return ts_error_set(TS_ERROR, "reading conflicts: %s", sqlite3_errmsg(node->db));
	sqlite3_bind_int(st, 1, (int)statuses);
	sqlite3_bind_text(st, 2, table, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, id, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		ts_conflict_info c;
#define TEXT(i) ((const char *)sqlite3_column_text(st, i))
		c.id = TEXT(0);
		c.kind = TEXT(1);
		if (status_parse(&c.status, TEXT(2)) < 0) {
			error = ts_error_set(TS_ECORRUPT, "conflict %s has no known status", c.id ? c.id : "?");
			goto done;
		}
		c.table = TEXT(3);
		c.key = TEXT(4);
		c.column = TEXT(5);
		c.base = TEXT(6);
		c.ours = TEXT(7);
		c.theirs = TEXT(8);
		c.provisional = TEXT(9);
		c.ours_commit = TEXT(10);
		c.ours_node = TEXT(11);
		c.theirs_commit = TEXT(12);
		c.theirs_node = TEXT(13);
		c.resolution = TEXT(14);
		c.resolved_value = TEXT(15);
		c.resolved_by = TEXT(16);
		c.resolved_at = TEXT(17);
#undef TEXT
		(*found)++;
		if (cb && (error = cb(&c, payload)) != 0)
			goto done;
	}
	if (rc != SQLITE_DONE)
		error = ts_error_set(TS_ERROR, "reading conflicts: %s", sqlite3_errmsg(node->db));
done:
	sqlite3_finalize(st);
	return error;
}

int ts_node_conflicts(ts_node *node, const ts_conflict_filter *filter,
	int (*cb)(const ts_conflict_info *conflict, void *payload), void *payload)
{
	size_t found;
	unsigned int statuses = TS_CONFLICT_ALL;

	if (filter && filter->version != TS_CONFLICT_FILTER_VERSION)
		return ts_error_set(TS_EINVALID, "a conflict filter of version %u (this library knows %d)",
			filter->version, TS_CONFLICT_FILTER_VERSION);
	if (filter && filter->status)
		statuses = filter->status;
	return conflict_walk(&found, node, statuses, filter ? filter->table : NULL, filter ? filter->key : NULL,
		NULL, cb, payload);
}

int ts_node_conflict(ts_node *node, const char *id,
	int (*cb)(const ts_conflict_info *conflict, void *payload), void *payload)
{
	size_t found;
	int error;

	if (!id)
		return ts_error_set(TS_EINVALID, "no conflict id");
	if ((error = conflict_walk(&found, node, TS_CONFLICT_ALL, NULL, NULL, id, cb, payload)) != 0)
		return error;
	if (!found)
		return ts_error_set(TS_ENOTFOUND, "no conflict %s in the review queue", id);
	return 0;
}

/* A value kept in a conflict record (row-blob encoding) read back. */
static int decode_value(ts_row **out, const char *column, const char *encoded)
{
	ts_buf blob = TS_BUF_INIT;
	int error;

	ts_buf__printf(&blob, "%s %s\n", column, encoded);
	error = ts_rowcodec__decode(out, blob.ptr, blob.size);
	ts_buf__dispose(&blob);
	return error;
}

typedef struct {
	ts_node *node;
	const char *id, *author, *take, *value;
	char *table, *path, *column, *ours, *theirs, *kind, *status;
} resolution;

static char *column_text(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	return t ? strdup((const char *)t) : NULL;
}

static int load_conflict(resolution *r)
{
	sqlite3_stmt *st = NULL;
	int error = 0;

	if (sqlite3_prepare_v2(r->node->db, "SELECT table_name, row_path, column_name, ours, theirs, kind, status "
			"FROM " TS_CONFLICTS_TABLE " WHERE id = ?1", -1, &st, NULL) != SQLITE_OK)
		return ts_sqlite__error(r->node->db, "reading conflicts");
	sqlite3_bind_text(st, 1, r->id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_ROW)
		error = ts_error_set(TS_ENOTFOUND, "no conflict %s in the review queue", r->id);
	else {
		r->table = column_text(st, 0);
		r->path = column_text(st, 1);
		r->column = column_text(st, 2);
		r->ours = column_text(st, 3);
		r->theirs = column_text(st, 4);
		r->kind = column_text(st, 5);
		r->status = column_text(st, 6);
	}
	sqlite3_finalize(st);
	return error;
}

static int do_resolve(sqlite3 *db, void *payload)
{
	resolution *r = payload;
	ts_tables *tables = NULL;
	ts_row *key = NULL, *chosen = NULL;
	sqlite3_stmt *st = NULL;
	ts_buf sql = TS_BUF_INIT;
	const ts_value *v = NULL;
	char now[32];
	ts_table *t;
	int k, error;

	if ((error = ts_tables__load(&tables, db)) < 0)
		goto done;
	if (!(t = ts_tables__find(tables, r->table))) {
		error = ts_error_set(TS_EINVALID, "conflict %s names table %s, which this node lacks", r->id, r->table);
		goto done;
	}
	if (!r->column) {
		/* a whole-row conflict: the chosen side's row, or its delete */
		const char *enc = !strcmp(r->take, "ours") ? r->ours : r->theirs;
		if (enc && (error = ts_rowcodec__decode(&chosen, enc, strlen(enc))) < 0)
			goto done;
		if (!enc && (error = ts_node__head_row(&key, r->node, r->path)) == TS_ENOTFOUND) {
			error = 0;   /* deleted already: the chosen side stands */
			goto record;
		}
		if (error < 0 || (error = ts_apply__one(db, t, chosen, key)) < 0)
			goto done;
		goto record;
	}
	if ((error = ts_node__head_row(&key, r->node, r->path)) < 0)
		goto done;
	if (!r->value) {
		const char *enc = !strcmp(r->take, "ours") ? r->ours : r->theirs;
		if (!enc) {
			error = ts_error_set(TS_EINVALID, "conflict %s has no %s value", r->id, r->take);
			goto done;
		}
		if ((error = decode_value(&chosen, r->column, enc)) < 0)
			goto done;
		v = &chosen->values[0];
	}
	ts_buf__printf(&sql, "UPDATE \"%s\" SET \"%s\" = ", t->name, r->column);
	if (r->value) {
		/* the column's declared type decides: INTEGER and REAL take numbers */
		ts_buf__printf(&sql, "CASE (SELECT upper(type) FROM pragma_table_info('%s') WHERE name = '%s') "
			"WHEN 'INTEGER' THEN CAST(?1 AS INTEGER) WHEN 'REAL' THEN CAST(?1 AS REAL) ELSE ?1 END",
			t->name, r->column);
	} else
		ts_buf__puts(&sql, "?1");
	ts_buf__puts(&sql, " WHERE ");
	for (k = 0; k < t->npk; k++)
		ts_buf__printf(&sql, "%s\"%s\" = ?%d", k ? " AND " : "", t->cols[t->pk[k]], k + 2);
	if (sqlite3_prepare_v2(db, sql.ptr, -1, &st, NULL) != SQLITE_OK) {
		error = ts_sqlite__error(db, "resolving %s", r->id);
		goto done;
	}
	if (r->value)
		sqlite3_bind_text(st, 1, r->value, -1, SQLITE_STATIC);
	else
		ts_value__bind(st, 1, v);
	for (k = 0; k < t->npk; k++) {
		const ts_value *kv = ts_row__get(key, t->cols[t->pk[k]]);
		if (!kv) {
			error = ts_error_set(TS_ECORRUPT, "the row of conflict %s has no key", r->id);
			goto done;
		}
		ts_value__bind(st, k + 2, kv);
	}
	if (sqlite3_step(st) != SQLITE_DONE) {
		error = ts_sqlite__error_as(TS_EINVALID, db, "resolving %s", r->id);
		goto done;
	}
	sqlite3_finalize(st);
	st = NULL;
record:
	ts_time_format(now, ts_node__now());
	if (sqlite3_prepare_v2(db, "UPDATE " TS_CONFLICTS_TABLE " SET status = 'resolved', resolution = ?2, "
			"resolved_value = ?3, resolved_by = ?4, resolved_at = ?5 WHERE id = ?1", -1, &st, NULL) != SQLITE_OK) {
		error = ts_sqlite__error(db, "resolving %s", r->id);
		goto done;
	}
	sqlite3_bind_text(st, 1, r->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, r->value ? "value" : r->take, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, r->value ? r->value : (!strcmp(r->take, "ours") ? r->ours : r->theirs), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, r->author, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, now, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		error = ts_sqlite__error(db, "resolving %s", r->id);
done:
	sqlite3_finalize(st);
	ts_buf__dispose(&sql);
	ts_row__free(key);
	ts_row__free(chosen);
	ts_tables__free(tables);
	return error;
}

int ts_node_resolve(char id_out[41], ts_node *node, const char *conflict, const char *take,
	const char *value, const char *author)
{
	resolution r;
	ts_buf msg = TS_BUF_INIT;
	int error;

	id_out[0] = '\0';
	memset(&r, 0, sizeof(r));
	r.node = node;
	r.id = conflict;
	r.take = take;
	r.value = value;
	r.author = author ? author : node->identity;
	if ((!take) == (!value) || (take && strcmp(take, "ours") && strcmp(take, "theirs")))
		return ts_error_set(TS_EINVALID, "a resolution takes a side (ours or theirs) or a value, one of them");
	if ((error = load_conflict(&r)) < 0)
		goto done;
	if (!r.column && value) {
		error = ts_error_set(TS_EINVALID, "conflict %s is about a whole row (%s): take ours or theirs",
			conflict, r.kind);
		goto done;
	}
	if (!strcmp(r.kind, "constraint") && take) {
		error = ts_error_set(TS_EINVALID, "conflict %s is a row that %s: set the column to a value "
			"(an existing record, or NULL where allowed)", conflict, r.theirs ? r.theirs : "names a missing record");
		goto done;
	}
	if (!strcmp(r.status, "resolved")) {
		error = ts_error_set(TS_EDENIED, "conflict %s is already resolved", conflict);
		goto done;
	}
	if ((error = commit_local_work(node)) < 0)
		goto done;
	ts_buf__printf(&msg, "resolve conflict %s: %s.%s", conflict, r.table, r.column);
	if ((error = ts_node_write(node, r.author, msg.ptr, do_resolve, &r)) < 0 ||
	    (error = ts_node_commit(id_out, node, msg.ptr, r.author)) < 0)
		goto done;
done:
	free(r.table);
	free(r.path);
	free(r.column);
	free(r.ours);
	free(r.theirs);
	free(r.kind);
	free(r.status);
	ts_buf__dispose(&msg);
	return error;
}
