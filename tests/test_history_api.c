/*
 * Unit tests of the public history calls (tiersync/history.h, over
 * node/history_node.c): the log with and without a record filter, the
 * diff of an update down to its cells, blame of a row, options of an
 * unknown version, and revisions that name nothing. Only the public API
 * is used, as a program linking the library would.
 */
#include "harness.h"

#include <stdlib.h>

#include "tiersync.h"

#define NODE_ID "bj.dc.jingshan"
#define MAX_SEEN 64

static int new_node(ts_node **out)
{
	ts_init_options opts = { TS_INIT_OPTIONS_VERSION, TS_TIER_STREET, NODE_ID, NULL, "王伟", NULL };
	return ts_node_init(out, "n", &opts);
}

static int new_case(char **id, ts_node *node, const char *author, const char *address)
{
	ts_field where[] = { { "lng", "116.397" }, { "lat", "39.9" } };
	return ts_case_new(id, node, author, "small_ads", "patrol", address, where, 2);
}

static int set_one(ts_node *node, const char *author, const char *id, const char *column, const char *value)
{
	ts_field f = { column, value };
	return ts_case_update(node, author, id, &f, 1);
}

/* Two cases, four commits after init's:
 *   c1 王伟 records a; c2 李娜 records b; c3 张强 dispatches a and moves it
 *   (status, lng, penalty_amount, description); c4 赵六 takes b. */
typedef struct {
	ts_node *node;
	char *a, *b;
	char c1[41], c2[41], c3[41], c4[41];
} history;

static int history_make(history *h)
{
	ts_field moves[] = {
		{ "status", "dispatched" }, { "lng", "116.5" }, { "penalty_amount", "20000" },
		{ "description", "墙上\"小广告\"" }
	};
	int error;

	memset(h, 0, sizeof(*h));
	if ((error = new_node(&h->node)) < 0 ||
	    (error = new_case(&h->a, h->node, "王伟", "景山前街 4号")) < 0 ||
	    (error = ts_node_commit(h->c1, h->node, "立案 A", "王伟")) < 0 ||
	    (error = new_case(&h->b, h->node, "李娜", "景山后街 9号")) < 0 ||
	    (error = ts_node_commit(h->c2, h->node, "立案 B\n\nwith a body", "李娜")) < 0 ||
	    (error = ts_case_update(h->node, "张强", h->a, moves, 4)) < 0 ||
	    (error = ts_node_commit(h->c3, h->node, "派遣 A", "张强")) < 0 ||
	    (error = set_one(h->node, "赵六", h->b, "officer", "赵六")) < 0)
		return error;
	return ts_node_commit(h->c4, h->node, "认领 B", "赵六");
}

static void history_free(history *h)
{
	free(h->a);
	free(h->b);
	ts_node_free(h->node);
}

/*
 * Log.
 */

typedef struct {
	int stop_after;          /* 0: never */
	int n;
	char id[MAX_SEEN][41], parent[MAX_SEEN][41], when[MAX_SEEN][32];
	size_t nparents[MAX_SEEN], inserts[MAX_SEEN], updates[MAX_SEEN];
	char *author[MAX_SEEN], *node[MAX_SEEN], *summary[MAX_SEEN], *rows[MAX_SEEN];
} seen_log;

static int see_entry(const ts_log_entry *e, void *payload)
{
	seen_log *s = payload;
	char line[512];
	size_t k, used = 0;

	if (s->n == MAX_SEEN)
		return -1;
	memcpy(s->id[s->n], e->id, 41);
	snprintf(s->parent[s->n], 41, "%s", e->nparents ? e->parents[0] : "");
	memcpy(s->when[s->n], e->when, 32);
	s->nparents[s->n] = e->nparents;
	s->inserts[s->n] = e->inserts;
	s->updates[s->n] = e->updates;
	s->author[s->n] = strdup(e->author);
	s->node[s->n] = strdup(e->node);
	s->summary[s->n] = strdup(e->summary);
	/* "op table key/ncolumns; ..." with events' keys left out (minted) */
	line[0] = '\0';
	for (k = 0; k < e->nchanges && used < sizeof(line); k++) {
		const ts_change *c = &e->changes[k];
		used += (size_t)snprintf(line + used, sizeof(line) - used, "%s %s %s/%d; ", ts_change_op_name(c->op),
			c->table, strcmp(c->table, "cases") ? "*" : c->key, c->ncolumns > 0);
	}
	s->rows[s->n] = e->changes ? strdup(line) : NULL;
	s->n++;
	return s->stop_after && s->n >= s->stop_after ? 1 : 0;
}

static void seen_log_free(seen_log *s)
{
	int k;
	for (k = 0; k < s->n; k++) {
		free(s->author[k]);
		free(s->node[k]);
		free(s->summary[k]);
		free(s->rows[k]);
	}
	memset(s, 0, sizeof(*s));
}

void test_history_api__log_lists_commits_and_filters_by_record(void)
{
	history h;
	seen_log *s = calloc(1, sizeof(*s));
	ts_log_options opts = TS_LOG_OPTIONS_INIT;
	char want[256];

	test_assert(s != NULL);
	test_ok(history_make(&h));

	/* every commit, newest first, with its parents, names and counts */
	test_ok(ts_node_log(h.node, NULL, see_entry, s));
	test_equal_i(s->n, 5);
	test_equal_s(s->id[0], h.c4);
	test_equal_s(s->id[1], h.c3);
	test_equal_s(s->id[2], h.c2);
	test_equal_s(s->id[3], h.c1);
	test_equal_i(s->nparents[0], 1);
	test_equal_s(s->parent[0], h.c3);
	test_equal_s(s->parent[3], s->id[4]);
	test_equal_i(s->nparents[4], 0);      /* init's root commit */
	test_equal_s(s->author[1], "张强");
	test_equal_s(s->node[1], NODE_ID);
	test_equal_s(s->summary[2], "立案 B");   /* the first line only */
	test_equal_i(strlen(s->when[0]), 25);
	test_equal_s(s->when[0] + 19, "+08:00");
	test_equal_i(s->inserts[1], 1);       /* the dispatch's event */
	test_equal_i(s->updates[1], 1);       /* the case */
	test_assert(s->rows[0] == NULL);      /* no filter, no changes attached */
	seen_log_free(s);

	/* the same through options, from an older start */
	opts.start = h.c3;
	test_ok(ts_node_log(h.node, &opts, see_entry, s));
	test_equal_i(s->n, 4);
	test_equal_s(s->id[0], h.c3);
	seen_log_free(s);

	/* one case and its records: exactly the commits that touched them */
	opts.start = NULL;
	opts.table = "cases";
	opts.column = "case_id";
	opts.key = h.a;
	test_ok(ts_node_log(h.node, &opts, see_entry, s));
	test_equal_i(s->n, 2);
	test_equal_s(s->id[0], h.c3);
	test_equal_s(s->id[1], h.c1);
	test_equal_i(s->updates[0], 1);       /* counts stay the whole commit's */
	snprintf(want, sizeof(want), "insert case_events */1; update cases %s/1; ", h.a);
	test_equal_s(s->rows[0], want);
	snprintf(want, sizeof(want), "insert case_events */1; insert cases %s/1; ", h.a);
	test_equal_s(s->rows[1], want);
	seen_log_free(s);

	/* the row alone, without the records pointing to it */
	opts.column = NULL;
	opts.key = h.b;
	test_ok(ts_node_log(h.node, &opts, see_entry, s));
	test_equal_i(s->n, 2);
	test_equal_s(s->id[0], h.c4);
	snprintf(want, sizeof(want), "update cases %s/1; ", h.b);
	test_equal_s(s->rows[0], want);
	seen_log_free(s);

	/* a record nothing touched */
	opts.column = "case_id";
	opts.key = "bj.dc.jingshan-c19990101-0001";
	test_ok(ts_node_log(h.node, &opts, see_entry, s));
	test_equal_i(s->n, 0);

	/* a callback's non-zero return stops the walk and comes back */
	s->stop_after = 2;
	test_equal_i(ts_node_log(h.node, NULL, see_entry, s), 1);
	test_equal_i(s->n, 2);
	seen_log_free(s);

	free(s);
	history_free(&h);
}

/*
 * Diff.
 */

/* The cells of one column change, copied out of the callback. */
typedef struct {
	int present;
	ts_cell_type type;
	int64_t integer;
	double real;
	char bytes[64];
	size_t len;
	char display[64];
} seen_cell;

typedef struct {
	int n, metadata;
	char *table[MAX_SEEN], *key[MAX_SEEN];
	ts_change_op op[MAX_SEEN];
	size_t ncolumns[MAX_SEEN];
	/* the columns of the change of `watch_key` in `cases` */
	const char *watch_key;
	int nwatched;
	char column[MAX_SEEN][32];
	seen_cell old_value[MAX_SEEN], new_value[MAX_SEEN];
} seen_diff;

static void keep_cell(seen_cell *out, const ts_cell *c)
{
	memset(out, 0, sizeof(*out));
	if (!c)
		return;
	out->present = 1;
	out->type = c->type;
	out->integer = c->integer;
	out->real = c->real;
	out->len = c->len;
	if (c->bytes)
		memcpy(out->bytes, c->bytes, c->len < sizeof(out->bytes) - 1 ? c->len : sizeof(out->bytes) - 1);
	snprintf(out->display, sizeof(out->display), "%s", c->display);
}

static int see_change(const ts_change *c, void *payload)
{
	seen_diff *s = payload;
	size_t k;

	if (s->n == MAX_SEEN)
		return -1;
	if (!c->table)
		s->metadata++;
	s->table[s->n] = c->table ? strdup(c->table) : NULL;
	s->key[s->n] = strdup(c->key);
	s->op[s->n] = c->op;
	s->ncolumns[s->n] = c->ncolumns;
	s->n++;
	if (c->table && !strcmp(c->table, "cases") && s->watch_key && !strcmp(c->key, s->watch_key))
		for (k = 0; k < c->ncolumns && s->nwatched < MAX_SEEN; k++, s->nwatched++) {
			snprintf(s->column[s->nwatched], 32, "%s", c->columns[k].column);
			keep_cell(&s->old_value[s->nwatched], c->columns[k].old_value);
			keep_cell(&s->new_value[s->nwatched], c->columns[k].new_value);
		}
	return 0;
}

static void seen_diff_free(seen_diff *s)
{
	int k;
	for (k = 0; k < s->n; k++) {
		free(s->table[k]);
		free(s->key[k]);
	}
	memset(s, 0, sizeof(*s));
}

static int diff_find(const seen_diff *s, const char *table, const char *key)
{
	int k;
	for (k = 0; k < s->n; k++)
		if (s->table[k] && !strcmp(s->table[k], table) && (!key || !strcmp(s->key[k], key)))
			return k;
	return -1;
}

static int column_find(const seen_diff *s, const char *column)
{
	int k;
	for (k = 0; k < s->nwatched; k++)
		if (!strcmp(s->column[k], column))
			return k;
	return -1;
}

typedef struct {
	int rows, metadata, other;
	int schema_version_as_stored;
} insert_count;

/* Counts the inserts of rows and of metadata, and anything else. */
static int count_inserts(const ts_change *c, void *payload)
{
	insert_count *n = payload;

	if (c->op != TS_CHANGE_INSERT)
		n->other++;
	else if (c->table)
		n->rows++;
	else if (c->new_text && c->new_len > 0 && !c->old_text && c->ncolumns == 0) {
		n->metadata++;
		/* the entry's bytes, its newline kept, NUL-terminated */
		if (!strcmp(c->key, "schema-version"))
			n->schema_version_as_stored = strlen(c->new_text) == c->new_len &&
				c->new_text[c->new_len - 1] == '\n';
	}
	else
		n->other++;
	return 0;
}

void test_history_api__diff_of_an_update(void)
{
	history h;
	seen_diff *s = calloc(1, sizeof(*s));
	insert_count all;
	char from[41], to[41], head[41];
	int k;

	test_assert(s != NULL);
	test_ok(history_make(&h));

	s->watch_key = h.a;
	test_ok(ts_node_diff(from, to, h.node, "HEAD~2", "HEAD~1", see_change, s));
	test_equal_s(from, h.c2);
	test_equal_s(to, h.c3);
	test_equal_i(s->n, 2);                /* the case and its event */
	test_equal_i(s->metadata, 0);
	test_assert((k = diff_find(s, "cases", h.a)) >= 0);
	test_equal_i(s->op[k], TS_CHANGE_UPDATE);
	test_equal_s(ts_change_op_name(s->op[k]), "update");
	test_equal_i(s->ncolumns[k], 4);      /* only what changed */
	test_equal_i(s->nwatched, 4);
	test_assert((k = diff_find(s, "case_events", NULL)) >= 0);
	test_equal_i(s->op[k], TS_CHANGE_INSERT);
	test_assert(s->ncolumns[k] > 3);

	/* text: its bytes, and quoted as a row blob writes it */
	test_assert((k = column_find(s, "status")) >= 0);
	test_equal_i(s->old_value[k].type, TS_CELL_TEXT);
	test_equal_s(s->old_value[k].bytes, "discovered");
	test_equal_i(s->old_value[k].len, 10);
	test_equal_s(s->old_value[k].display, "\"discovered\"");
	test_equal_s(s->new_value[k].bytes, "dispatched");
	test_equal_s(s->new_value[k].display, "\"dispatched\"");
	test_assert((k = column_find(s, "description")) >= 0);
	test_equal_i(s->old_value[k].present, 1);   /* SQL NULL is a value */
	test_equal_i(s->old_value[k].type, TS_CELL_NULL);
	test_equal_s(s->old_value[k].display, "NULL");
	test_equal_s(s->new_value[k].display, "\"墙上\\\"小广告\\\"\"");
	test_equal_s(s->new_value[k].bytes, "墙上\"小广告\"");
	/* a real and an integer */
	test_assert((k = column_find(s, "lng")) >= 0);
	test_equal_i(s->old_value[k].type, TS_CELL_FLOAT);
	test_assert(s->old_value[k].real == 116.397);
	test_equal_s(s->old_value[k].display, "116.397");
	test_assert(s->new_value[k].real == 116.5);
	test_equal_s(s->new_value[k].display, "116.5");
	test_assert((k = column_find(s, "penalty_amount")) >= 0);
	test_equal_i(s->old_value[k].type, TS_CELL_NULL);
	test_equal_i(s->new_value[k].type, TS_CELL_INTEGER);
	test_equal_i(s->new_value[k].integer, 20000);
	test_equal_s(s->new_value[k].display, "20000");
	seen_diff_free(s);

	/* the new row of an insert: every column, nothing on the old side */
	s->watch_key = h.a;
	test_ok(ts_node_diff(from, to, h.node, "HEAD~4", "HEAD~3", see_change, s));
	test_assert((k = diff_find(s, "cases", h.a)) >= 0);
	test_equal_i(s->op[k], TS_CHANGE_INSERT);
	test_assert(s->nwatched > 20);
	test_equal_s(s->column[0], "id");
	test_equal_i(s->old_value[0].present, 0);
	test_equal_s(s->new_value[0].bytes, h.a);
	seen_diff_free(s);

	/* no from: everything of `to` is an insert, metadata too; to NULL: HEAD */
	memset(&all, 0, sizeof(all));
	test_ok(ts_node_diff(from, to, h.node, NULL, NULL, count_inserts, &all));
	test_equal_s(from, "");
	test_ok(ts_node_head(head, h.node));
	test_equal_s(to, head);
	test_assert(all.metadata >= 1);
	test_equal_i(all.schema_version_as_stored, 1);
	test_assert(all.rows > 20);
	test_equal_i(all.other, 0);

	/* the same commit on both sides: nothing */
	test_ok(ts_node_diff(from, to, h.node, h.c2, h.c2, see_change, s));
	test_equal_i(s->n, 0);

	free(s);
	history_free(&h);
}

/*
 * Blame.
 */

typedef struct {
	int n;
	char column[MAX_SEEN][32], commit[MAX_SEEN][41], when[MAX_SEEN][32];
	char *author[MAX_SEEN], *node[MAX_SEEN], *summary[MAX_SEEN];
	seen_cell value[MAX_SEEN];
} seen_blame;

static int see_line(const ts_blame_line *l, void *payload)
{
	seen_blame *s = payload;

	if (s->n == MAX_SEEN)
		return -1;
	snprintf(s->column[s->n], 32, "%s", l->column);
	memcpy(s->commit[s->n], l->commit, 41);
	memcpy(s->when[s->n], l->when, 32);
	s->author[s->n] = strdup(l->author);
	s->node[s->n] = strdup(l->node);
	s->summary[s->n] = strdup(l->summary);
	keep_cell(&s->value[s->n], &l->value);
	s->n++;
	return 0;
}

static void seen_blame_free(seen_blame *s)
{
	int k;
	for (k = 0; k < s->n; k++) {
		free(s->author[k]);
		free(s->node[k]);
		free(s->summary[k]);
	}
	memset(s, 0, sizeof(*s));
}

static int blame_find(const seen_blame *s, const char *column)
{
	int k;
	for (k = 0; k < s->n; k++)
		if (!strcmp(s->column[k], column))
			return k;
	return -1;
}

void test_history_api__blame_of_a_row(void)
{
	history h;
	seen_blame *s = calloc(1, sizeof(*s));
	char head[41], node_head[41];
	int k;

	test_assert(s != NULL);
	test_ok(history_make(&h));

	test_ok(ts_node_blame(head, h.node, NULL, "cases", h.a, see_line, s));
	test_ok(ts_node_head(node_head, h.node));
	test_equal_s(head, node_head);
	test_assert(s->n > 20);
	test_equal_s(s->column[0], "id");     /* the row's column order */
	test_equal_s(s->commit[0], h.c1);
	test_assert((k = blame_find(s, "address")) >= 0);
	test_equal_s(s->commit[k], h.c1);
	test_equal_s(s->author[k], "王伟");
	test_equal_s(s->node[k], NODE_ID);
	test_equal_s(s->summary[k], "立案 A");
	test_equal_s(s->when[k] + 19, "+08:00");
	test_equal_i(s->value[k].type, TS_CELL_TEXT);
	test_equal_s(s->value[k].display, "\"景山前街 4号\"");
	test_assert((k = blame_find(s, "status")) >= 0);
	test_equal_s(s->commit[k], h.c3);
	test_equal_s(s->author[k], "张强");
	test_equal_s(s->value[k].bytes, "dispatched");
	test_assert((k = blame_find(s, "penalty_amount")) >= 0);
	test_equal_s(s->commit[k], h.c3);
	test_equal_i(s->value[k].type, TS_CELL_INTEGER);
	test_equal_i(s->value[k].integer, 20000);
	test_assert((k = blame_find(s, "lat")) >= 0);
	test_equal_s(s->commit[k], h.c1);
	test_equal_i(s->value[k].type, TS_CELL_FLOAT);
	test_equal_s(s->value[k].display, "39.9");
	test_assert((k = blame_find(s, "stage")) >= 0);   /* NULL since the start */
	test_equal_s(s->commit[k], h.c1);
	test_equal_i(s->value[k].type, TS_CELL_NULL);
	test_equal_s(s->value[k].display, "NULL");
	seen_blame_free(s);

	/* at an older revision: the row as it stood then */
	test_ok(ts_node_blame(head, h.node, "HEAD~2", "cases", h.a, see_line, s));
	test_equal_s(head, h.c2);
	test_assert((k = blame_find(s, "status")) >= 0);
	test_equal_s(s->commit[k], h.c1);
	test_equal_s(s->value[k].display, "\"discovered\"");
	seen_blame_free(s);

	/* a row that revision does not have: the head is still named */
	test_equal_i(ts_node_blame(head, h.node, h.c1, "cases", h.b, see_line, s), TS_ENOTFOUND);
	test_equal_s(head, h.c1);
	test_equal_i(s->n, 0);
	test_assert(strstr(ts_error_last(), h.b) != NULL);
	/* a table that is not synced: no head */
	test_equal_i(ts_node_blame(head, h.node, NULL, "nope", h.a, see_line, s), TS_ENOTFOUND);
	test_equal_s(head, "");
	test_assert(strstr(ts_error_last(), "'nope'") != NULL);
	/* a key of several columns cannot be named by one string */
	test_equal_i(ts_node_blame(head, h.node, NULL, "sync_ownership", "x", see_line, s), TS_EINVALID);
	test_equal_i(s->n, 0);

	free(s);
	history_free(&h);
}

/*
 * Bad input.
 */

static int must_not_be_called(const ts_log_entry *e, void *payload)
{
	(void)e;
	(*(int *)payload)++;
	return 0;
}

void test_history_api__bad_options_version_is_refused(void)
{
	ts_node *node = NULL;
	ts_log_options opts = TS_LOG_OPTIONS_INIT;
	int calls = 0;

	test_ok(new_node(&node));
	test_equal_i(opts.version, TS_LOG_OPTIONS_VERSION);
	opts.version = TS_LOG_OPTIONS_VERSION + 1;
	test_equal_i(ts_node_log(node, &opts, must_not_be_called, &calls), TS_EINVALID);
	test_assert(strstr(ts_error_last(), "version") != NULL);
	opts.version = 0;   /* a zeroed struct someone forgot to version */
	test_equal_i(ts_node_log(node, &opts, must_not_be_called, &calls), TS_EINVALID);

	/* a filter needs a key, and a key needs a place to look */
	opts.version = TS_LOG_OPTIONS_VERSION;
	opts.key = "x";
	test_equal_i(ts_node_log(node, &opts, must_not_be_called, &calls), TS_EINVALID);
	opts.key = NULL;
	opts.table = "cases";
	test_equal_i(ts_node_log(node, &opts, must_not_be_called, &calls), TS_EINVALID);
	test_equal_i(calls, 0);

	opts.table = NULL;
	test_ok(ts_node_log(node, &opts, must_not_be_called, &calls));
	test_equal_i(calls, 1);   /* init's commit */
	ts_node_free(node);
}

static int count_change(const ts_change *c, void *payload)
{
	(void)c;
	(*(int *)payload)++;
	return 0;
}

static int count_line(const ts_blame_line *l, void *payload)
{
	(void)l;
	(*(int *)payload)++;
	return 0;
}

void test_history_api__unknown_revision_is_not_found(void)
{
	ts_node *node = NULL;
	ts_log_options opts = TS_LOG_OPTIONS_INIT;
	char from[41], to[41], head[41];
	int calls = 0;

	test_ok(new_node(&node));
	opts.start = "nope";
	test_equal_i(ts_node_log(node, &opts, must_not_be_called, &calls), TS_ENOTFOUND);
	test_equal_s(ts_error_last(), "unknown revision 'nope'");

	test_equal_i(ts_node_diff(from, to, node, "nope", NULL, count_change, &calls), TS_ENOTFOUND);
	test_equal_s(from, "");
	test_equal_s(to, "");
	/* a node fresh from init has one commit: HEAD~1 names nothing */
	test_equal_i(ts_node_diff(from, to, node, "HEAD~1", "HEAD", count_change, &calls), TS_ENOTFOUND);
	test_equal_s(ts_error_last(), "unknown revision 'HEAD~1'");
	test_equal_i(ts_node_diff(from, to, node, "HEAD", "HEAD~99", count_change, &calls), TS_ENOTFOUND);

	test_equal_i(ts_node_blame(head, node, "nope", "sources", "patrol", count_line, &calls), TS_ENOTFOUND);
	test_equal_s(head, "");
	test_equal_i(calls, 0);

	/* and the row is there at HEAD */
	test_ok(ts_node_blame(head, node, "HEAD", "sources", "patrol", count_line, &calls));
	test_equal_i(calls, 2);   /* code, name_zh */
	ts_node_free(node);
}
