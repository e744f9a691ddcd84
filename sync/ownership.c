/*
 * Ownership rules (ownership.h): loaded once from sync_ownership, then
 * every row change a node offers is checked column by column.
 */
#include "ownership.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "tiersync.h"

typedef struct {
	char *table, *column, *scope_column, *scope_table, *scope_table_column;
	int max_depth, reach, below_only;
} rule;

struct ts_ownership {
	rule *rules;
	size_t n;
};

int ts_ownership_depth(const char *id)
{
	int n = 1;
	if (!id || !*id)
		return 0;
	for (; *id; id++)
		n += *id == '.';
	return n;
}

int ts_ownership_in_jurisdiction(const char *scope, const char *id)
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

void ts_ownership_free(ts_ownership *rules)
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
	}
	free(rules->rules);
	free(rules);
}

int ts_ownership_load(ts_ownership **out, sqlite3 *db)
{
	ts_ownership *rules;
	sqlite3_stmt *st = NULL;
	size_t alloc = 0;
	int rc, error = 0;

	*out = NULL;
	if (!(rules = calloc(1, sizeof(*rules))))
		return ts_error_set(TS_ERROR, "out of memory");
	rc = sqlite3_prepare_v2(db, "SELECT table_name, column_name, scope_column, max_depth, scope_table, "
		"scope_table_column, reach, below_only FROM " TS_OWNERSHIP_TABLE
		" ORDER BY table_name, column_name, scope_column", -1, &st, NULL);
	if (rc != SQLITE_OK) {
		sqlite3_finalize(st);
		/* no table: no rules */
		if (sqlite3_table_column_metadata(db, NULL, TS_OWNERSHIP_TABLE, NULL, NULL, NULL, NULL, NULL, NULL) != SQLITE_OK) {
			*out = rules;
			return 0;
		}
		ts_ownership_free(rules);
		return ts_error_set(TS_ERROR, "reading %s: %s", TS_OWNERSHIP_TABLE, sqlite3_errmsg(db));
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
		if (!r->table || !r->column || !r->scope_column ||
		    (sqlite3_column_type(st, 4) != SQLITE_NULL && !r->scope_table) ||
		    (sqlite3_column_type(st, 5) != SQLITE_NULL && !r->scope_table_column)) {
			error = ts_error_set(TS_ERROR, "out of memory");
			goto done;
		}
	}
	if (rc != SQLITE_DONE)
		error = ts_error_set(TS_ERROR, "reading %s: %s", TS_OWNERSHIP_TABLE, sqlite3_errmsg(db));
done:
	sqlite3_finalize(st);
	if (error < 0) {
		ts_ownership_free(rules);
		return error;
	}
	*out = rules;
	return 0;
}

int ts_ownership_covers(const ts_ownership *rules, const char *table)
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

	ts_buf_clear(out);
	if (reach > 0)
		for (; *p; p++)
			if (*p == '.' && ++labels > reach)
				break;
	ts_buf_put(out, writer, reach > 0 ? (size_t)(p - writer) : strlen(writer));
}

/* Whether `r` lets `writer` hold `row` in its scope (one side of a change). */
static int scope_allows(refusal *why, const rule *r, const char *acting, const ts_row *row,
	int before, ts_ownership_lookup lookup, void *payload)
{
	const ts_value *v = ts_row_get(row, r->scope_column);
	ts_value found = { SQLITE_NULL, 0, 0, NULL, 0 };
	const char *scope;
	int allowed, rc;

	if (!v) {
		ts_buf_printf(&why->why, "the row has no column %s", r->scope_column);
		return 0;
	}
	if (r->scope_table) {
		if (v->type == SQLITE_NULL) {
			ts_buf_printf(&why->why, "%s is NULL, so the row belongs to no node", r->scope_column);
			return 0;
		}
		if (!lookup || (rc = lookup(&found, r->scope_table, v, r->scope_table_column, payload)) < 0)
			return -1;
		if (rc == 0) {
			/* a row leaving a parent that is gone: its new state decides */
			if (before)
				return 1;
			ts_buf_printf(&why->why, "%s names no row of %s", r->scope_column, r->scope_table);
			return 0;
		}
		v = &found;
	}
	if (v->type != SQLITE_TEXT) {
		ts_buf_printf(&why->why, "its %s names no node", r->scope_table ? r->scope_table_column : r->scope_column);
		ts_value_clear(&found);
		return 0;
	}
	scope = v->p;
	allowed = ts_ownership_in_jurisdiction(acting, scope) && !(r->below_only && !strcmp(acting, scope));
	if (!allowed) {
		if (r->below_only && !strcmp(acting, scope))
			ts_buf_printf(&why->why, "it is %s's own row, which only a node above it writes", scope);
		else
			ts_buf_printf(&why->why, "it belongs to %s, outside the jurisdiction of %s", *scope ? scope : "no node", acting);
	}
	ts_value_clear(&found);
	return allowed;
}

static int rule_allows(refusal *why, const rule *r, const char *writer, const ts_row *before,
	const ts_row *after, ts_ownership_lookup lookup, void *payload)
{
	ts_buf acting = TS_BUF_INIT;
	int ok = 1;

	ts_buf_clear(&why->why);
	if (r->max_depth < 1) {
		ts_buf_puts(&why->why, "it is fixed by the schema's migrations");
		return 0;
	}
	if (ts_ownership_depth(writer) > r->max_depth) {
		ts_buf_printf(&why->why, "only nodes of depth %d or less (%s) write it", r->max_depth,
			r->max_depth == 1 ? "the top node" : "the upper tiers");
		return 0;
	}
	if (!*r->scope_column)
		return 1;
	acting_as(&acting, writer, r->reach);
	if (ts_buf_oom(&acting))
		return -1;
	if (before)
		ok = scope_allows(why, r, acting.ptr, before, after != NULL, lookup, payload);
	if (ok > 0 && after)
		ok = scope_allows(why, r, acting.ptr, after, 0, lookup, payload);
	ts_buf_dispose(&acting);
	return ok;
}

/* The rules for one column: its own, or the table's '*' ones. */
static void rules_for(size_t *first, size_t *count, const ts_ownership *rules, const char *table,
	const char *column)
{
	size_t i, star_first = 0, star_n = 0;

	*first = *count = 0;
	for (i = 0; i < rules->n; i++) {
		const rule *r = &rules->rules[i];
		if (strcmp(r->table, table))
			continue;
		if (column && !strcmp(r->column, column)) {
			if (!*count)
				*first = i;
			(*count)++;
		} else if (!strcmp(r->column, "*")) {
			if (!star_n)
				star_first = i;
			star_n++;
		}
	}
	if (!*count) {
		*first = star_first;
		*count = star_n;
	}
}

static int check_column(const ts_ownership *rules, const char *writer, const char *table,
	const char *key, const char *column, const ts_row *before, const ts_row *after,
	ts_ownership_lookup lookup, void *payload)
{
	refusal why = { TS_BUF_INIT };
	size_t first, count, i;
	int ok = 0, error;

	rules_for(&first, &count, rules, table, column);
	if (!count)
		return 0;
	for (i = first; i < first + count && ok == 0; i++)
		ok = rule_allows(&why, &rules->rules[i], writer, before, after, lookup, payload);
	if (ok < 0)
		error = ts_buf_oom(&why.why) ? ts_error_set(TS_ERROR, "out of memory") : TS_ERROR;
	else if (ok)
		error = 0;
	else if (!before || !after)
		error = ts_error_set(TS_EDENIED, "%s may not %s %s row %s: %s", writer,
			before ? "delete" : "insert", table, key, ts_buf_cstr(&why.why));
	else
		error = ts_error_set(TS_EDENIED, "%s may not change %s.%s of row %s: %s", writer,
			table, column, key, ts_buf_cstr(&why.why));
	ts_buf_dispose(&why.why);
	return error;
}

int ts_ownership_check(const ts_ownership *rules, const char *writer, const char *table,
	const char *key, const ts_row *before, const ts_row *after, const ts_row *held,
	ts_ownership_lookup lookup, void *payload)
{
	int i, error;

	if (!rules || !ts_ownership_covers(rules, table))
		return 0;
	if (!before || !after)
		return check_column(rules, writer, table, key, NULL, before, after, lookup, payload);
	for (i = 0; i < after->ncol; i++) {
		const ts_value *old = ts_row_get(before, after->names[i]);
		const ts_value *kept = held ? ts_row_get(held, after->names[i]) : NULL;
		if ((old && ts_value_equal(old, &after->values[i])) || (kept && ts_value_equal(kept, &after->values[i])))
			continue;
		if ((error = check_column(rules, writer, table, key, after->names[i], before, after,
				lookup, payload)) < 0)
			return error;
	}
	return 0;
}
