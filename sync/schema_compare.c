/*
 * Schema comparison: a database's schema against a reference's.
 *
 * A schema is the rows of sqlite_master — (type, name, tbl_name, sql) of
 * every table, index, trigger and view — less SQLite's internal objects
 * (names starting with "sqlite_": automatic indexes, sqlite_sequence,
 * sqlite_stat*). The order in which objects were created does not matter.
 *
 * The reference is read once and kept. A quick check is one read of
 * sqlite_master in its stored order, each field compared in place with the
 * reference's bytes: no sort, no copy, no hash (a schema is tens of
 * kilobytes, which memcmp passes over faster than any hash would). Only
 * when that read differs are both schemas sorted by type and name and
 * compared object by object, to name what differs — or to find that the
 * same objects were merely created in another order (a node made by an
 * older tiersync gained an engine table after its migrations), which is
 * no difference.
 */
#include "schema_compare.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "error.h"

#define SCHEMA_TABLE "schema"   /* ts_verify_problem.table of a schema difference */

typedef struct {
	char *field[4];   /* type, name, tbl_name, sql (NULL when SQL NULL) */
	size_t len[4];    /* their lengths, kept for the reference's only */
} object;

struct ts_schema_ref {
	object *v;        /* in the order of list_sql */
	size_t n;
};

/* In the order the objects were created (rowid): the quick check's order,
 * which needs no sort; the full comparison sorts by type and name. */
static const char list_sql[] =
	"SELECT type, name, tbl_name, sql FROM main.sqlite_master "
	"WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\'";

static void objects_free(object *v, size_t n)
{
	size_t i;
	int f;
	for (i = 0; i < n; i++)
		for (f = 0; f < 4; f++)
			free(v[i].field[f]);
	free(v);
}

/* Reads `db`'s schema, in the order of list_sql (creation order). */
static int read_schema(object **out, size_t *n, sqlite3 *db)
{
	sqlite3_stmt *st = NULL;
	object *v = NULL;
	size_t count = 0, alloc = 0;
	int rc, f, error = 0;

	*out = NULL;
	*n = 0;
	if (sqlite3_prepare_v2(db, list_sql, -1, &st, NULL) != SQLITE_OK)
		return ts_sqlite__error(db, "reading the database's schema");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (count == alloc) {
			object *grown = realloc(v, (alloc = alloc ? 2 * alloc : 64) * sizeof(*v));
			if (!grown) {
				error = ts_error_set(TS_ERROR, "out of memory");
				goto done;
			}
			v = grown;
		}
		memset(&v[count], 0, sizeof(*v));
		count++;
		for (f = 0; f < 4; f++) {
			const unsigned char *text = sqlite3_column_text(st, f);
			if (text && !(v[count - 1].field[f] = strdup((const char *)text))) {
				error = ts_error_set(TS_ERROR, "out of memory");
				goto done;
			}
		}
	}
	if (rc != SQLITE_DONE) {
		error = ts_sqlite__error(db, "reading the database's schema");
		goto done;
	}
	*out = v;
	*n = count;
	v = NULL;
done:
	sqlite3_finalize(st);
	if (v)
		objects_free(v, count);
	return error;
}

/* 1 when `db`'s schema is the reference's, row for row and byte for byte:
 * one read of sqlite_master, nothing copied. */
static int same_schema(int *same, const ts_schema_ref *ref, sqlite3 *db)
{
	sqlite3_stmt *st = NULL;
	size_t i = 0;
	int rc = SQLITE_DONE, f;

	*same = 1;
	if (sqlite3_prepare_v2(db, list_sql, -1, &st, NULL) != SQLITE_OK)
		return ts_sqlite__error(db, "reading the database's schema");
	while (*same && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (i == ref->n) {
			*same = 0;
			break;
		}
		for (f = 0; f < 4 && *same; f++) {
			const char *text = (const char *)sqlite3_column_text(st, f);
			const char *want = ref->v[i].field[f];
			size_t len = (size_t)sqlite3_column_bytes(st, f);
			*same = text ? want && ref->v[i].len[f] == len && !memcmp(text, want, len) : !want;
		}
		i++;
	}
	if (*same && rc != SQLITE_DONE) {
		sqlite3_finalize(st);
		return ts_sqlite__error(db, "reading the database's schema");
	}
	if (i != ref->n)
		*same = 0;
	sqlite3_finalize(st);
	return 0;
}

int ts_schema__ref_new(ts_schema_ref **out, sqlite3 *reference)
{
	ts_schema_ref *ref;
	size_t i;
	int f, error;

	*out = NULL;
	if (!(ref = calloc(1, sizeof(*ref))))
		return ts_error_set(TS_ERROR, "out of memory");
	if ((error = read_schema(&ref->v, &ref->n, reference)) < 0) {
		free(ref);
		return error;
	}
	for (i = 0; i < ref->n; i++)
		for (f = 0; f < 4; f++)
			ref->v[i].len[f] = ref->v[i].field[f] ? strlen(ref->v[i].field[f]) : 0;
	*out = ref;
	return 0;
}

int ts_schema__ref_from(ts_schema_ref **out, const char *const (*rows)[4], size_t n)
{
	ts_schema_ref *ref;
	size_t i;
	int f;

	*out = NULL;
	if (!(ref = calloc(1, sizeof(*ref))) || !(ref->v = calloc(n ? n : 1, sizeof(*ref->v)))) {
		free(ref);
		return ts_error_set(TS_ERROR, "out of memory");
	}
	ref->n = n;   /* the fields not yet copied are NULL, which _free skips */
	for (i = 0; i < n; i++)
		for (f = 0; f < 4; f++) {
			if (!rows[i][f])
				continue;
			ref->v[i].len[f] = strlen(rows[i][f]);
			if (!(ref->v[i].field[f] = strdup(rows[i][f]))) {
				ts_schema__ref_free(ref);
				return ts_error_set(TS_ERROR, "out of memory");
			}
		}
	*out = ref;
	return 0;
}

size_t ts_schema__ref_count(const ts_schema_ref *ref)
{
	return ref->n;
}

const char *ts_schema__ref_field(const ts_schema_ref *ref, size_t i, int f)
{
	return i < ref->n && f >= 0 && f < 4 ? ref->v[i].field[f] : NULL;
}

void ts_schema__ref_free(ts_schema_ref *ref)
{
	if (!ref)
		return;
	objects_free(ref->v, ref->n);
	free(ref);
}

/* Objects in (type, name) order, byte by byte: SQLite's ORDER BY may sort
 * by another rule than the merge below, so both sides are sorted here. */
static int object_cmp(const void *a, const void *b)
{
	const object *x = a, *y = b;
	int c = strcmp(x->field[0] ? x->field[0] : "", y->field[0] ? y->field[0] : "");
	return c ? c : strcmp(x->field[1] ? x->field[1] : "", y->field[1] ? y->field[1] : "");
}

static int same_text(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

typedef struct {
	int (*cb)(const ts_verify_problem *p, void *payload);
	void *payload;
	int problems;
	int stop;
	ts_buf problem;
} reporter;

static void report(reporter *r, const object *o, const char *what, const char *expected, const char *actual)
{
	ts_verify_problem p;

	r->problems++;
	if (r->stop || !r->cb)
		return;
	ts_buf__clear(&r->problem);
	ts_buf__printf(&r->problem, "%s %s", o->field[0] ? o->field[0] : "object", what);
	p.table = SCHEMA_TABLE;
	p.key = o->field[1] ? o->field[1] : "";
	p.column = NULL;
	p.problem = r->problem.ptr;
	p.expected = expected;
	p.actual = actual;
	r->stop = r->cb(&p, r->payload) != 0;
}

int ts_schema__compare(int *problems, const ts_schema_ref *ref, sqlite3 *db,
	int (*cb)(const ts_verify_problem *p, void *payload), void *payload)
{
	reporter r = { cb, payload, 0, 0, TS_BUF_INIT };
	object *want = NULL, *have = NULL;
	size_t nwant = ref->n, nhave = 0, i = 0, j = 0;
	int error;

	*problems = 0;
	if ((error = read_schema(&have, &nhave, db)) < 0)
		return error;
	if (!(want = malloc((nwant ? nwant : 1) * sizeof(*want)))) {
		error = ts_error_set(TS_ERROR, "out of memory");
		goto done;
	}
	memcpy(want, ref->v, nwant * sizeof(*want));   /* borrowed fields, sorted apart */
	qsort(want, nwant, sizeof(*want), object_cmp);
	qsort(have, nhave, sizeof(*have), object_cmp);
	while (i < nwant || j < nhave) {
		int c = i == nwant ? 1 : j == nhave ? -1 : object_cmp(&want[i], &have[j]);
		if (c < 0) {
			report(&r, &want[i], "dropped", want[i].field[3], NULL);
			i++;
		} else if (c > 0) {
			report(&r, &have[j], "added outside tiersync", NULL, have[j].field[3]);
			j++;
		} else {
			if (!same_text(want[i].field[3], have[j].field[3]))
				report(&r, &have[j], "definition changed", want[i].field[3], have[j].field[3]);
			else if (!same_text(want[i].field[2], have[j].field[2]))
				report(&r, &have[j], "definition changed (the table it belongs to)",
					want[i].field[2], have[j].field[2]);
			i++;
			j++;
		}
	}
done:
	*problems = r.problems;
	free(want);
	objects_free(have, nhave);
	ts_buf__dispose(&r.problem);
	return error;
}

typedef struct {
	ts_buf first;
} first_problem;

static int keep_first(const ts_verify_problem *p, void *payload)
{
	first_problem *f = payload;
	ts_buf__printf(&f->first, "%s: %s", p->key, p->problem);
	return 1;
}

int ts_schema__check(const ts_schema_ref *ref, sqlite3 *db)
{
	first_problem f = { TS_BUF_INIT };
	int same, problems = 0, error;

	if ((error = same_schema(&same, ref, db)) < 0 || same)
		return error;
	/* they differ: name the first difference (rare, so its cost is no matter) */
	if ((error = ts_schema__compare(&problems, ref, db, keep_first, &f)) < 0 || problems == 0)
		goto done;   /* the same objects, created in another order */
	error = ts_error_set(TS_ECORRUPT, "the database's schema differs from the expected one (%s%s); "
		"verify lists %s", f.first.ptr, problems > 1 ? ", and more" : "", problems > 1 ? "them" : "it");
done:
	ts_buf__dispose(&f.first);
	return error;
}
