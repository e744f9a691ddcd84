/*
 * Policies declared in sync_policies, applied to a merge's conflicts: the
 * declarations are read once into a sorted array, and each conflict looks
 * up its column's declaration (else its table's '*' row) and decides from
 * the values alone. The rules are at the top of policy.h and in
 * docs/SCHEMA.md, "Merge policies".
 */
#include "policy.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "tiersync.h"

#define ORDER_PREFIX "order:"

typedef enum {
	POLICY_ORDER,
	POLICY_MAX,
	POLICY_MIN,
	POLICY_UPPER,
	POLICY_LOWER,
	POLICY_APPEND_ONLY,
	POLICY_MANUAL
} policy_kind;

static const struct {
	const char *name;
	policy_kind kind;
} plain_policies[] = {
	{ "max", POLICY_MAX },
	{ "min", POLICY_MIN },
	{ "upper", POLICY_UPPER },
	{ "lower", POLICY_LOWER },
	{ "append-only", POLICY_APPEND_ONLY },
	{ "manual", POLICY_MANUAL },
};

/* One row of sync_policies. */
typedef struct {
	char *table, *column;   /* column "*": the whole table */
	char *text;             /* the policy as declared */
	policy_kind kind;
	int settles;
	size_t nitems;
	char **items;           /* order: the values, earliest (weakest) first */
} declaration;

struct ts_policies {
	size_t n;
	declaration *d;         /* sorted by table, then column, bytewise */
};

static void declaration_clear(declaration *d)
{
	size_t i;

	for (i = 0; i < d->nitems; i++)
		free(d->items[i]);
	free(d->items);
	free(d->table);
	free(d->column);
	free(d->text);
	memset(d, 0, sizeof(*d));
}

void ts_policies__free(ts_policies *policies)
{
	size_t i;

	if (!policies)
		return;
	for (i = 0; i < policies->n; i++)
		declaration_clear(&policies->d[i]);
	free(policies->d);
	free(policies);
}

/*
 * Loading.
 */

static int out_of_memory(void)
{
	return ts_error_set(TS_ERROR, "out of memory");
}

/* Splits "v1,v2,..." into d->items; every item non-empty and listed once. */
static int parse_order(declaration *d, const char *list)
{
	const char *p = list;
	size_t i;

	for (;;) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		char **grown;

		if (!len)
			return ts_error_set(TS_EINVALID, TS_POLICIES_TABLE ": %s.%s: an empty value in '%s'",
				d->table, d->column, d->text);
		for (i = 0; i < d->nitems; i++)
			if (strlen(d->items[i]) == len && !memcmp(d->items[i], p, len))
				return ts_error_set(TS_EINVALID, TS_POLICIES_TABLE ": %s.%s: '%.*s' is listed "
					"twice in '%s'", d->table, d->column, (int)len, p, d->text);
		if (!(grown = realloc(d->items, (d->nitems + 1) * sizeof(*grown))))
			return out_of_memory();
		d->items = grown;
		if (!(d->items[d->nitems] = strndup(p, len)))
			return out_of_memory();
		d->nitems++;
		if (!end)
			return 0;
		p = end + 1;
	}
}

static int parse_policy(declaration *d)
{
	size_t i;

	if (!strncmp(d->text, ORDER_PREFIX, strlen(ORDER_PREFIX))) {
		d->kind = POLICY_ORDER;
		return parse_order(d, d->text + strlen(ORDER_PREFIX));
	}
	for (i = 0; i < sizeof(plain_policies) / sizeof(plain_policies[0]); i++)
		if (!strcmp(d->text, plain_policies[i].name)) {
			d->kind = plain_policies[i].kind;
			if (d->settles && (d->kind == POLICY_MANUAL || d->kind == POLICY_APPEND_ONLY))
				return ts_error_set(TS_EINVALID, TS_POLICIES_TABLE ": %s.%s: %s never settles "
					"(settles must be 0)", d->table, d->column, d->text);
			return 0;
		}
	return ts_error_set(TS_EINVALID, TS_POLICIES_TABLE ": %s.%s: unknown policy '%s' (expected "
		"order:v1,v2,..., max, min, upper, lower, append-only or manual)", d->table, d->column, d->text);
}

/* A text column of the current row, copied; TS_EINVALID unless it is text without NULs. */
static int text_field(char **out, sqlite3_stmt *st, int i, const char *what)
{
	const char *t;

	*out = NULL;
	if (sqlite3_column_type(st, i) != SQLITE_TEXT)
		return ts_error_set(TS_EINVALID, TS_POLICIES_TABLE ": a row whose %s is not text", what);
	t = (const char *)sqlite3_column_text(st, i);
	if (!t)
		return out_of_memory();
	if (strlen(t) != (size_t)sqlite3_column_bytes(st, i))
		return ts_error_set(TS_EINVALID, TS_POLICIES_TABLE ": a row whose %s holds a NUL byte", what);
	if (!(*out = strdup(t)))
		return out_of_memory();
	return 0;
}

static int read_declaration(declaration *d, sqlite3_stmt *st)
{
	int error;

	if ((error = text_field(&d->table, st, 0, "table_name")) < 0 ||
	    (error = text_field(&d->column, st, 1, "column_name")) < 0 ||
	    (error = text_field(&d->text, st, 2, "policy")) < 0)
		return error;
	if (sqlite3_column_type(st, 3) != SQLITE_INTEGER ||
	    (sqlite3_column_int64(st, 3) != 0 && sqlite3_column_int64(st, 3) != 1))
		return ts_error_set(TS_EINVALID, TS_POLICIES_TABLE ": %s.%s: settles must be 0 or 1",
			d->table, d->column);
	d->settles = sqlite3_column_int(st, 3);
	return parse_policy(d);
}

static int declaration_cmp(const void *a, const void *b)
{
	const declaration *x = a, *y = b;
	int cmp = strcmp(x->table, y->table);

	return cmp ? cmp : strcmp(x->column, y->column);
}

static int table_exists(int *out, sqlite3 *db)
{
	sqlite3_stmt *st = NULL;
	int rc;

	*out = 0;
	if (sqlite3_prepare_v2(db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1",
			-1, &st, NULL) != SQLITE_OK)
		return ts_sqlite__error(db, "reading " TS_POLICIES_TABLE);
	sqlite3_bind_text(st, 1, TS_POLICIES_TABLE, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	*out = rc == SQLITE_ROW;
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return ts_sqlite__error(db, "reading " TS_POLICIES_TABLE);
	return 0;
}

int ts_policies__load(ts_policies **out, sqlite3 *db)
{
	ts_policies *p = NULL;
	sqlite3_stmt *st = NULL;
	size_t cap = 0, i;
	int exists, rc, error;

	*out = NULL;
	if (!(p = calloc(1, sizeof(*p))))
		return out_of_memory();
	if ((error = table_exists(&exists, db)) < 0 || !exists)
		goto done;
	if (sqlite3_prepare_v2(db, "SELECT table_name, column_name, policy, settles FROM " TS_POLICIES_TABLE,
			-1, &st, NULL) != SQLITE_OK) {
		error = ts_sqlite__error_as(TS_EINVALID, db, "reading " TS_POLICIES_TABLE);
		goto done;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (p->n == cap) {
			size_t grown_cap = cap ? 2 * cap : 32;
			declaration *grown = realloc(p->d, grown_cap * sizeof(*grown));
			if (!grown) {
				error = out_of_memory();
				goto done;
			}
			p->d = grown;
			cap = grown_cap;
		}
		memset(&p->d[p->n], 0, sizeof(p->d[p->n]));
		p->n++;
		if ((error = read_declaration(&p->d[p->n - 1], st)) < 0)
			goto done;
	}
	if (rc != SQLITE_DONE) {
		error = ts_sqlite__error(db, "reading " TS_POLICIES_TABLE);
		goto done;
	}
	/* sorted here, not by SQL, so that lookups never depend on a collation */
	if (p->n)
		qsort(p->d, p->n, sizeof(*p->d), declaration_cmp);
	for (i = 1; i < p->n; i++)
		if (!declaration_cmp(&p->d[i - 1], &p->d[i])) {
			error = ts_error_set(TS_EINVALID, TS_POLICIES_TABLE ": %s.%s is declared twice",
				p->d[i].table, p->d[i].column);
			goto done;
		}
done:
	sqlite3_finalize(st);
	if (error < 0)
		ts_policies__free(p);
	else
		*out = p;
	return error;
}

/*
 * Lookup.
 */

static const declaration *find_exact(const ts_policies *p, const char *table, const char *column)
{
	declaration key;

	if (!p || !p->n)
		return NULL;
	memset(&key, 0, sizeof(key));
	key.table = (char *)table;
	key.column = (char *)column;
	return bsearch(&key, p->d, p->n, sizeof(*p->d), declaration_cmp);
}

/* The column's row, else the table's '*' row; column NULL: the '*' row. */
static const declaration *find(const ts_policies *p, const char *table, const char *column)
{
	const declaration *d = NULL;

	if (!table)
		return NULL;
	if (column)
		d = find_exact(p, table, column);
	return d ? d : find_exact(p, table, "*");
}

const char *ts_policies__lookup(const ts_policies *policies, const char *table,
	const char *column, int *settles)
{
	const declaration *d = find(policies, table, column);

	if (settles)
		*settles = d ? d->settles : 0;
	return d ? d->text : NULL;
}

/*
 * Deciding.
 */

/* Where an order list puts a value: its index, or -1 when it is not listed. */
static long order_rank(const declaration *d, const ts_value *v)
{
	char digits[32];
	const char *bytes;
	size_t len, i;

	if (v->type == SQLITE_TEXT) {
		bytes = v->p ? v->p : "";
		len = v->n;
	} else if (v->type == SQLITE_INTEGER) {
		snprintf(digits, sizeof(digits), "%" PRId64, v->i);
		bytes = digits;
		len = strlen(digits);
	} else
		return -1;
	for (i = 0; i < d->nitems; i++)
		if (strlen(d->items[i]) == len && !memcmp(d->items[i], bytes, len))
			return (long)i;
	return -1;
}

/* SQLite's order of storage classes: NULL, numbers, text, blob. */
static int class_rank(int type)
{
	switch (type) {
	case SQLITE_INTEGER:
	case SQLITE_FLOAT:
		return 1;
	case SQLITE_TEXT:
		return 2;
	case SQLITE_BLOB:
		return 3;
	default:
		return 0;
	}
}

/* Compares an integer with a double exactly (no rounding of the integer). */
static int int_real_cmp(int64_t i, double r)
{
	double whole, fraction;
	int64_t w;

	if (r >= 9223372036854775808.0)   /* 2^63: above every int64 */
		return -1;
	if (r < -9223372036854775808.0)
		return 1;
	w = (int64_t)r;                  /* truncated, exact: |r| < 2^63 */
	if (i != w)
		return i < w ? -1 : 1;
	whole = (double)w;
	fraction = r - whole;            /* exact: whole is r's integer part */
	return fraction > 0 ? -1 : fraction < 0 ? 1 : 0;
}

static int bytes_cmp(const char *a, size_t na, const char *b, size_t nb)
{
	size_t n = na < nb ? na : nb;
	int cmp = n ? memcmp(a, b, n) : 0;

	if (cmp)
		return cmp < 0 ? -1 : 1;
	return na < nb ? -1 : na > nb;
}

/* -1, 0 or 1 as a is less than, equal to or greater than b (see policy.h). */
static int value_cmp(const ts_value *a, const ts_value *b)
{
	int ra = class_rank(a->type), rb = class_rank(b->type);

	if (ra != rb)
		return ra < rb ? -1 : 1;
	switch (ra) {
	case 1:
		if (a->type == SQLITE_INTEGER && b->type == SQLITE_INTEGER)
			return a->i < b->i ? -1 : a->i > b->i;
		if (a->type == SQLITE_FLOAT && b->type == SQLITE_FLOAT)
			return a->r < b->r ? -1 : a->r > b->r;
		if (a->type == SQLITE_INTEGER)
			return int_real_cmp(a->i, b->r);
		return -int_real_cmp(b->i, a->r);
	case 2:
	case 3:
		return bytes_cmp(a->p, a->n, b->p, b->n);
	default:
		return 0;
	}
}

/* The side upper or lower takes: > 0 ours, < 0 theirs, 0 when the tiers are unknown. */
static int tier_winner(const declaration *d, int ours_is_upper)
{
	if (ours_is_upper != 0 && ours_is_upper != 1)
		return 0;
	return (d->kind == POLICY_UPPER) == (ours_is_upper == 1) ? 1 : -1;
}

/*
 * Which side a policy takes for a column: > 0 ours, < 0 theirs, 0 when it
 * cannot tell (then the default decides).
 */
static int column_winner(const declaration *d, int ours_is_upper, const ts_value *ours, const ts_value *theirs)
{
	long ro, rt;

	switch (d->kind) {
	case POLICY_ORDER:
		ro = order_rank(d, ours);
		rt = order_rank(d, theirs);
		return ro < rt ? -1 : ro > rt;
	case POLICY_MAX:
	case POLICY_MIN:
		/* NULL loses under both */
		if ((ours->type == SQLITE_NULL) != (theirs->type == SQLITE_NULL))
			return ours->type == SQLITE_NULL ? -1 : 1;
		return d->kind == POLICY_MAX ? value_cmp(ours, theirs) : -value_cmp(ours, theirs);
	case POLICY_UPPER:
	case POLICY_LOWER:
		return tier_winner(d, ours_is_upper);
	default:
		return 0;
	}
}

int ts_policy__decide(void *payload, ts_merge_kind kind, const char *table,
	const char *column, const ts_value *base, const ts_value *ours, const ts_value *theirs,
	const ts_value **chosen, int *keep_row, int *settles)
{
	const ts_policy_context *ctx = payload;
	const declaration *d = ctx ? find(ctx->policies, table, column) : NULL;
	int whole_row = kind == TS_MERGE_UPDATE_DELETE || kind == TS_MERGE_DELETE_UPDATE;
	int winner;

	if (!d || d->kind == POLICY_MANUAL)
		goto fallback;
	if (d->kind == POLICY_APPEND_ONLY)
		return ts_error_set(TS_ECORRUPT, "append-only table %s changed on both sides", table);
	if (whole_row) {
		int ours_deleted = kind == TS_MERGE_DELETE_UPDATE;

		if (d->kind != POLICY_UPPER && d->kind != POLICY_LOWER)
			goto fallback;
		if (!(winner = tier_winner(d, ctx->ours_is_upper)))
			goto fallback;
		/* the winning side's act stands: its update keeps the row, its delete removes it */
		*keep_row = winner > 0 ? !ours_deleted : ours_deleted;
		*settles = d->settles;
		return 0;
	}
	if (!ours || !theirs || !(winner = column_winner(d, ctx->ours_is_upper, ours, theirs)))
		goto fallback;
	*chosen = winner > 0 ? ours : theirs;
	*settles = d->settles;
	return 0;
fallback:
	return ts_merge__default_policy(NULL, kind, table, column, base, ours, theirs, chosen, keep_row, settles);
}
