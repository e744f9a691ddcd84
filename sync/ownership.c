/*
 * Ownership rules (ownership.h): loaded once from sync_ownership, then
 * every row change a node offers is checked column by column.
 */
#include "ownership.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "error.h"
#include "statements.h"
#include "tiersync.h"

typedef struct {
	char *table, *column, *scope_column, *scope_table, *scope_table_column;
	char *new_values;    /* comma-separated, or NULL: any value */
	int max_depth, reach, below_only;
	int sole;            /* a column's rule: its column is written under its own rules only */
} rule;

struct ts_ownership {
	rule *rules;
	size_t n;
};

int ts_ownership__depth(const char *id)
{
	int n = 1;
	if (!id || !*id)
		return 0;
	for (; *id; id++)
		n += *id == '.';
	return n;
}

int ts_ownership__in_jurisdiction(const char *scope, const char *id)
{
	size_t n;

	if (!scope || !id || !*scope)
		return 0;
	n = strlen(scope);
	return !strncmp(scope, id, n) && (id[n] == '\0' || id[n] == '.');
}

static char *dup_text(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	return t ? strdup((const char *)t) : NULL;
}

void ts_ownership__free(ts_ownership *rules)
{
	size_t i;
	if (!rules)
		return;
	for (i = 0; i < rules->n; i++) {
		rule *r = &rules->rules[i];
		free(r->table);
		free(r->column);
		free(r->scope_column);
		free(r->scope_table);
		free(r->scope_table_column);
		free(r->new_values);
	}
	free(rules->rules);
	free(rules);
}

int ts_ownership__load(ts_ownership **out, sqlite3 *db)
{
	ts_ownership *rules;
	sqlite3_stmt *st = NULL;
	size_t alloc = 0;
	int rc, has_sole, error = 0;

	*out = NULL;
	if (!(rules = calloc(1, sizeof(*rules))))
		return ts_error_set(TS_ERROR, "out of memory");
	/* `sole` came with a later schema: a table without it has none */
	has_sole = sqlite3_table_column_metadata(db, NULL, TS_OWNERSHIP_TABLE, "sole", NULL, NULL, NULL, NULL,
		NULL) == SQLITE_OK;
	rc = ts_statements__prepare(db, has_sole ?
		"SELECT table_name, column_name, scope_column, max_depth, scope_table, "
		"scope_table_column, reach, below_only, new_values, sole FROM " TS_OWNERSHIP_TABLE
		" ORDER BY table_name, column_name, scope_column" :
		"SELECT table_name, column_name, scope_column, max_depth, scope_table, "
		"scope_table_column, reach, below_only, new_values, 0 FROM " TS_OWNERSHIP_TABLE
		" ORDER BY table_name, column_name, scope_column", &st);
	if (rc != SQLITE_OK) {
		/* no table: no rules */
		if (sqlite3_table_column_metadata(db, NULL, TS_OWNERSHIP_TABLE, NULL, NULL, NULL, NULL, NULL, NULL) != SQLITE_OK) {
			*out = rules;
			return 0;
		}
		ts_ownership__free(rules);
		/* by rc: the look-up above replaced the connection's message */
		return ts_sqlite__error_rc(rc, "reading %s", TS_OWNERSHIP_TABLE);
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		rule *r;
		if (rules->n == alloc) {
			size_t grown = alloc ? alloc * 2 : 32;
			rule *v = realloc(rules->rules, grown * sizeof(*v));
			if (!v) {
				error = ts_error_set(TS_ERROR, "out of memory");
				goto done;
			}
			rules->rules = v;
			alloc = grown;
		}
		r = &rules->rules[rules->n++];
		memset(r, 0, sizeof(*r));
		r->table = dup_text(st, 0);
		r->column = dup_text(st, 1);
		r->scope_column = dup_text(st, 2);
		r->max_depth = sqlite3_column_int(st, 3);
		r->scope_table = dup_text(st, 4);
		r->scope_table_column = dup_text(st, 5);
		r->reach = sqlite3_column_type(st, 6) == SQLITE_NULL ? 0 : sqlite3_column_int(st, 6);
		r->below_only = sqlite3_column_int(st, 7);
		r->new_values = dup_text(st, 8);
		r->sole = sqlite3_column_int(st, 9) == 1 && strcmp(r->column ? r->column : "*", "*") != 0;
		if ((sqlite3_column_type(st, 8) != SQLITE_NULL && !r->new_values) || !r->table || !r->column || !r->scope_column ||
		    (sqlite3_column_type(st, 4) != SQLITE_NULL && !r->scope_table) ||
		    (sqlite3_column_type(st, 5) != SQLITE_NULL && !r->scope_table_column)) {
			error = ts_error_set(TS_ERROR, "out of memory");
			goto done;
		}
	}
	if (rc != SQLITE_DONE)
		error = ts_sqlite__error(db, "reading %s", TS_OWNERSHIP_TABLE);
done:
	ts_statements__done(st);
	if (error < 0) {
		ts_ownership__free(rules);
		return error;
	}
	*out = rules;
	return 0;
}

int ts_ownership__covers(const ts_ownership *rules, const char *table)
{
	size_t i;
	for (i = 0; rules && i < rules->n; i++)
		if (!strcmp(rules->rules[i].table, table))
			return 1;
	return 0;
}

/* Why the last rule tried said no, for the message. */
typedef struct {
	ts_buf why;
} refusal;

/* The node a writer acts as: itself, or its ancestor at the rule's reach. */
static void acting_as(ts_buf *out, const char *writer, int reach)
{
	const char *p = writer;
	int labels = 1;

	ts_buf__clear(out);
	if (reach > 0)
		for (; *p; p++)
			if (*p == '.' && ++labels > reach)
				break;
	ts_buf__put(out, writer, reach > 0 ? (size_t)(p - writer) : strlen(writer));
}

static int rule_allows(refusal *why, const ts_ownership *rules, const rule *r, const char *writer,
	const ts_row *before, const ts_row *after, ts_ownership_lookup lookup, void *payload);

/*
 * Whether `writer` may write `row` of `table` as a whole, under the
 * table's '*' rules: the test a record about a row passes (a rule with
 * scope_table '*'). A table without rules is open.
 */
static int row_writable(refusal *why, const ts_ownership *rules, const char *writer, const char *table,
	const ts_row *row, ts_ownership_lookup lookup, void *payload)
{
	size_t i;
	int ok = 0, tried = 0;

	for (i = 0; i < rules->n && ok == 0; i++) {
		const rule *r = &rules->rules[i];
		if (strcmp(r->table, table) || strcmp(r->column, "*"))
			continue;
		tried = 1;
		if (r->scope_table && !strcmp(r->scope_table, "*")) {
			ts_buf__printf(&why->why, "a record of %s may not concern another record", table);
			return 0;
		}
		ok = rule_allows(why, rules, r, writer, NULL, row, lookup, payload);
	}
	return tried ? ok : 1;
}

/*
 * A rule with scope_table '*': the row is a record about another row
 * (a conflict in the review queue), whose history path its scope_column
 * holds; the writer must be one that may write that row. A path that no
 * side holds a row at concerns nothing the receiver has: it passes.
 */
static int concerned_row_allows(refusal *why, const ts_ownership *rules, const rule *r,
	const char *writer, const ts_value *v, ts_ownership_lookup lookup, void *payload)
{
	ts_buf table = TS_BUF_INIT, reason = TS_BUF_INIT;
	const char *name;
	ts_row *row = NULL;
	int ok;

	if (v->type != SQLITE_TEXT || memchr(v->p, '\0', v->n) ||
	    ts_rowcodec__path_split(&table, &name, v->p) < 0 || !strcmp(table.ptr, r->table)) {
		ts_buf__printf(&why->why, "its %s is not the path of a row", r->scope_column);
		ts_buf__dispose(&table);
		return 0;
	}
	if (!lookup || (ok = lookup(&row, table.ptr, NULL, v->p, payload)) < 0) {
		ts_buf__dispose(&table);
		return -1;
	}
	if (ok > 0) {
		refusal inner = { TS_BUF_INIT };
		ok = row_writable(&inner, rules, writer, table.ptr, row, lookup, payload);
		if (ok == 0) {
			ts_rowcodec__key_name_readable(&reason, name);
			ts_buf__printf(&why->why, "it concerns %s row %s, which %s may not write (%s)", table.ptr,
				reason.size ? reason.ptr : name, writer, ts_buf__cstr(&inner.why));
		}
		ts_buf__dispose(&inner.why);
	} else
		ok = 1;
	ts_row__free(row);
	ts_buf__dispose(&table);
	ts_buf__dispose(&reason);
	return ok;
}

/* Whether `r` lets `writer` (acting as `acting`) hold `row` in its scope
 * (one side of a change). */
static int scope_allows(refusal *why, const ts_ownership *rules, const rule *r, const char *writer,
	const char *acting, const ts_row *row, int before, ts_ownership_lookup lookup, void *payload)
{
	const ts_value *v = ts_row__get(row, r->scope_column);
	const ts_value *found = NULL;
	ts_row *parent = NULL;
	ts_buf path = TS_BUF_INIT;
	const char *scope;
	int allowed, rc;

	if (!v) {
		ts_buf__printf(&why->why, "the row has no column %s", r->scope_column);
		return 0;
	}
	if (r->scope_table && !strcmp(r->scope_table, "*"))
		return concerned_row_allows(why, rules, r, writer, v, lookup, payload);
	if (r->scope_table) {
		if (v->type == SQLITE_NULL) {
			ts_buf__printf(&why->why, "%s is NULL, so the row belongs to no node", r->scope_column);
			return 0;
		}
		ts_rowcodec__key_path_values(&path, r->scope_table, 1, v);
		if (ts_buf__oom(&path) || !lookup || (rc = lookup(&parent, r->scope_table, v, path.ptr, payload)) < 0) {
			ts_buf__dispose(&path);
			return -1;
		}
		ts_buf__dispose(&path);
		if (rc > 0)
			found = ts_row__get(parent, r->scope_table_column);
		if (!found) {
			ts_row__free(parent);
			/* a row leaving a parent that is gone: its new state decides */
			if (before)
				return 1;
			ts_buf__printf(&why->why, "%s names no row of %s", r->scope_column, r->scope_table);
			return 0;
		}
		v = found;
	}
	if (v->type != SQLITE_TEXT) {
		ts_buf__printf(&why->why, "its %s names no node", r->scope_table ? r->scope_table_column : r->scope_column);
		ts_row__free(parent);
		return 0;
	}
	scope = v->p;
	allowed = ts_ownership__in_jurisdiction(acting, scope) && !(r->below_only && !strcmp(acting, scope));
	if (!allowed) {
		if (r->below_only && !strcmp(acting, scope))
			ts_buf__printf(&why->why, "it is %s's own row, which only a node above it writes", scope);
		else
			ts_buf__printf(&why->why, "it belongs to %s, outside the jurisdiction of %s", *scope ? scope : "no node", acting);
	}
	ts_row__free(parent);
	return allowed;
}

/* 1 when `v` is a TEXT equal to one item of the comma-separated `list`. */
static int value_listed(const char *list, const ts_value *v)
{
	const char *p = list, *end;

	if (!v || v->type != SQLITE_TEXT)
		return 0;
	for (;;) {
		end = strchr(p, ',');
		if ((size_t)((end ? end : p + strlen(p)) - p) == v->n && !memcmp(p, v->p, v->n))
			return 1;
		if (!end)
			return 0;
		p = end + 1;
	}
}

static int rule_allows(refusal *why, const ts_ownership *rules, const rule *r, const char *writer,
	const ts_row *before, const ts_row *after, ts_ownership_lookup lookup, void *payload)
{
	ts_buf acting = TS_BUF_INIT;
	int ok = 1;

	ts_buf__clear(&why->why);
	if (r->max_depth < 1) {
		ts_buf__puts(&why->why, "it is fixed by the schema's migrations");
		return 0;
	}
	if (ts_ownership__depth(writer) > r->max_depth) {
		ts_buf__printf(&why->why, "only nodes of depth %d or less (%s) write it", r->max_depth,
			r->max_depth == 1 ? "the top node" : "the upper tiers");
		return 0;
	}
	if (r->new_values && after && !value_listed(r->new_values, ts_row__get(after, r->column))) {
		ts_buf__printf(&why->why, "under this rule %s may only be set to %s", r->column, r->new_values);
		return 0;
	}
	if (!*r->scope_column)
		return 1;
	acting_as(&acting, writer, r->reach);
	if (ts_buf__oom(&acting))
		return -1;
	if (before)
		ok = scope_allows(why, rules, r, writer, acting.ptr, before, after != NULL, lookup, payload);
	if (ok > 0 && after)
		ok = scope_allows(why, rules, r, writer, acting.ptr, after, 0, lookup, payload);
	ts_buf__dispose(&acting);
	return ok;
}

/* 1 when `column` of `table` has a sole rule: the table's '*' rules do
 * not cover it. */
static int sole_column(const ts_ownership *rules, const char *table, const char *column)
{
	size_t i;
	for (i = 0; column && i < rules->n; i++)
		if (rules->rules[i].sole && !strcmp(rules->rules[i].table, table) &&
		    !strcmp(rules->rules[i].column, column))
			return 1;
	return 0;
}

/*
 * A change of one column (NULL: an insert or delete) is allowed when any
 * rule of the table's '*' or of that column allows it; a column with a
 * sole rule, only by a rule of its own.
 */
static int check_column(const ts_ownership *rules, const char *writer, const char *table,
	const char *key, const char *column, const ts_row *before, const ts_row *after,
	ts_ownership_lookup lookup, void *payload)
{
	refusal why = { TS_BUF_INIT };
	size_t i;
	int ok = 0, tried = 0, error;
	int sole = sole_column(rules, table, column);

	for (i = 0; i < rules->n && ok == 0; i++) {
		const rule *r = &rules->rules[i];
		if (strcmp(r->table, table) || (strcmp(r->column, "*") && (!column || strcmp(r->column, column))))
			continue;
		if (sole && !strcmp(r->column, "*"))
			continue;
		tried = 1;
		ok = rule_allows(&why, rules, r, writer, before, after, lookup, payload);
	}
	if (!tried)
		ok = 1;
	if (ok < 0)
		error = ts_buf__oom(&why.why) ? ts_error_set(TS_ERROR, "out of memory") : TS_ERROR;
	else if (ok)
		error = 0;
	else if (!before && column)
		error = ts_error_set(TS_EDENIED, "%s may not insert %s row %s with %s set: %s", writer,
			table, key, column, ts_buf__cstr(&why.why));
	else if (!before || !after)
		error = ts_error_set(TS_EDENIED, "%s may not %s %s row %s: %s", writer,
			before ? "delete" : "insert", table, key, ts_buf__cstr(&why.why));
	else
		error = ts_error_set(TS_EDENIED, "%s may not change %s.%s of row %s: %s", writer,
			table, column, key, ts_buf__cstr(&why.why));
	ts_buf__dispose(&why.why);
	return error;
}

int ts_ownership__check(const ts_ownership *rules, const char *writer, const char *table,
	const char *key, const ts_row *before, const ts_row *after, const ts_row *held,
	ts_ownership_lookup lookup, void *payload)
{
	int i, error;

	if (!rules || !ts_ownership__covers(rules, table))
		return 0;
	if (!before || !after) {
		if ((error = check_column(rules, writer, table, key, NULL, before, after, lookup, payload)) < 0 ||
		    !after)
			return error;
		/* a row inserted with a sole column already set passes that column's rules too */
		for (i = 0; i < after->ncol; i++)
			if (after->values[i].type != SQLITE_NULL && sole_column(rules, table, after->names[i]) &&
			    (error = check_column(rules, writer, table, key, after->names[i], NULL, after,
					lookup, payload)) < 0)
				return error;
		return 0;
	}
	for (i = 0; i < after->ncol; i++) {
		const ts_value *old = ts_row__get(before, after->names[i]);
		const ts_value *kept = held ? ts_row__get(held, after->names[i]) : NULL;
		if ((old && ts_value__equal(old, &after->values[i])) || (kept && ts_value__equal(kept, &after->values[i])))
			continue;
		if ((error = check_column(rules, writer, table, key, after->names[i], before, after,
				lookup, payload)) < 0)
			return error;
	}
	return 0;
}
