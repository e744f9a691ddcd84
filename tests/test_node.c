/*
 * Unit tests of the node (node/node.c, node/case.c): init and open, node
 * ids and tiers, durable staging, writes that fail or are called off,
 * minted ids, and the authors and committer of a commit.
 */
#include "harness.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <git2.h>
#include <sqlite3.h>

#include "node.h"
#include "nodes.h"
#include "tiersync.h"

#define NODE_ID "bj.dc.jingshan"

static int new_node(ts_node **out, const char *path, const char *id, const char *identity)
{
	ts_init_options opts = { TS_INIT_OPTIONS_VERSION, TS_TIER_STREET, id, NULL, identity, NULL };
	return ts_node_init(out, path, &opts);
}

static int is_dir(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int is_file(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static int exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

/* Entries of `dir` whose name holds ".init-": what a half-done init
 * would leave behind. */
static int init_leftovers_in(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (strstr(e->d_name, ".init-"))
			n++;
	closedir(d);
	return n;
}

static int init_leftovers(void)
{
	return init_leftovers_in(".");
}

/* The first column of the first row, or LLONG_MIN on error or no row. */
static long long query_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st = NULL;
	long long value = LLONG_MIN;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
		value = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return value;
}

/* The first column of the first row, malloc'd ("" for NULL), or NULL. */
static char *query_text(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st = NULL;
	char *value = NULL;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
		const char *text = (const char *)sqlite3_column_text(st, 0);
		value = strdup(text ? text : "");
	}
	sqlite3_finalize(st);
	return value;
}

/* The status of one case, malloc'd, or NULL. */
static char *case_status(ts_node *node, const char *id)
{
	sqlite3_stmt *st = NULL;
	char *value = NULL;

	if (sqlite3_prepare_v2(ts_node_db(node), "SELECT status FROM cases WHERE id = ?1", -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW)
			value = strdup((const char *)sqlite3_column_text(st, 0));
	}
	sqlite3_finalize(st);
	return value;
}

/* Everything a failed write must leave as it was, as one string. */
static char *db_snapshot(ts_node *node)
{
	return query_text(ts_node_db(node),
		"SELECT (SELECT count(*) FROM cases) || '|' || (SELECT count(*) FROM case_events) || '|' ||"
		" (SELECT count(*) FROM ts_staged) || '|' ||"
		" (SELECT group_concat(id || ':' || status || ':' || address || ':' || ifnull(description, '-'), ';')"
		"  FROM (SELECT * FROM cases ORDER BY id)) || '|' ||"
		" (SELECT group_concat(key || '=' || value, ';') FROM (SELECT * FROM ts_meta ORDER BY key))");
}

/* What ts_node_staged reports, copied out of the callback. */
typedef struct {
	int n;
	char author[8][64];
	char summary[8][256];
	int64_t time[8];
	int inserts[8], updates[8], deletes[8];
	int64_t seq[8];
} staged_list;

static int collect_staged(const ts_staged_info *info, void *payload)
{
	staged_list *l = payload;
	if (l->n < 8) {
		snprintf(l->author[l->n], sizeof(l->author[0]), "%s", info->author ? info->author : "(null)");
		snprintf(l->summary[l->n], sizeof(l->summary[0]), "%s", info->summary ? info->summary : "(null)");
		l->time[l->n] = info->time;
		l->inserts[l->n] = info->inserts;
		l->updates[l->n] = info->updates;
		l->deletes[l->n] = info->deletes;
		l->seq[l->n] = info->seq;
	}
	l->n++;
	return 0;
}

static int staged_count(ts_node *node)
{
	staged_list l;
	memset(&l, 0, sizeof(l));
	if (ts_node_staged(node, collect_staged, &l) < 0)
		return -1;
	return l.n;
}

/* The commit refs/heads/main points at in the node's history. */
static git_commit *main_commit(git_repository *repo)
{
	git_commit *commit = NULL;
	git_oid id;

	if (git_reference_name_to_id(&id, repo, "refs/heads/main") < 0 ||
	    git_commit_lookup(&commit, repo, &id) < 0)
		return NULL;
	return commit;
}

static int new_case(char **id, ts_node *node, const char *author)
{
	return ts_case_new(id, node, author, "small_ads", "patrol", "景山前街 4号", NULL, 0);
}

void test_node__init_creates_node(void)
{
	ts_node *node = NULL;
	char head[41], head2[41];

	test_ok(new_node(&node, "n", NODE_ID, "王伟"));
	test_assert(node != NULL);
	test_assert(is_file("n/config"));
	test_assert(is_file("n/tiersync.db"));
	test_assert(is_dir("n/history.git"));
	test_assert(is_dir("n/history.git/objects"));
	test_equal_s(ts_node_id(node), NODE_ID);
	test_equal_i(ts_node_tier(node), TS_TIER_STREET);
	test_equal_s(ts_node_identity(node), "王伟");
	test_equal_s(ts_node_path(node), "n");
	test_assert(ts_node_db(node) != NULL);
	test_ok(ts_node_head(head, node));
	test_equal_i(strlen(head), 40);
	/* a new node has nothing staged, and its database equals its first commit */
	test_equal_i(staged_count(node), 0);
	test_equal_i(ts_node_verify(node, NULL, NULL), 0);
	ts_node_free(node);
	node = NULL;

	test_ok(ts_node_open(&node, "n"));
	test_equal_s(ts_node_id(node), NODE_ID);
	test_equal_i(ts_node_tier(node), TS_TIER_STREET);
	test_equal_s(ts_node_identity(node), "王伟");
	test_ok(ts_node_head(head2, node));
	test_equal_s(head2, head);
	ts_node_free(node);
	test_equal_i(init_leftovers(), 0);
}

void test_node__init_every_tier_and_no_identity(void)
{
	static const ts_tier tiers[] = { TS_TIER_CITY, TS_TIER_DISTRICT, TS_TIER_STREET, TS_TIER_DEVICE };
	size_t i;

	for (i = 0; i < sizeof(tiers) / sizeof(tiers[0]); i++) {
		ts_init_options opts = { TS_INIT_OPTIONS_VERSION, tiers[i], "bj", NULL, NULL, NULL };
		ts_node *node = NULL;
		char path[32];

		snprintf(path, sizeof(path), "tier%zu", i);
		test_ok(ts_node_init(&node, path, &opts));
		ts_node_free(node);
		node = NULL;
		test_ok(ts_node_open(&node, path));
		test_equal_i(ts_node_tier(node), tiers[i]);
		test_equal_s(ts_node_id(node), "bj");
		test_assert(ts_node_identity(node) == NULL);
		ts_node_free(node);
	}
}

void test_node__init_into_empty_dir(void)
{
	ts_node *node = NULL;

	test_assert(mkdir("empty", 0755) == 0);
	test_ok(new_node(&node, "empty", NODE_ID, "王伟"));
	test_assert(is_file("empty/tiersync.db"));
	ts_node_free(node);
	test_equal_i(init_leftovers(), 0);
}

void test_node__init_refuses_non_empty_dir(void)
{
	ts_node *node = (ts_node *)1;
	FILE *f;

	test_assert(mkdir("busy", 0755) == 0);
	test_assert((f = fopen("busy/notes.txt", "w")) != NULL);
	fputs("keep me\n", f);
	fclose(f);
	test_equal_i(new_node(&node, "busy", NODE_ID, "王伟"), TS_EEXISTS);
	test_assert(node == NULL);
	test_assert(ts_error_last() != NULL);
	test_assert(is_file("busy/notes.txt"));
	test_assert(!exists("busy/tiersync.db"));
	test_assert(!exists("busy/config"));
	test_equal_i(init_leftovers(), 0);

	/* nor over an existing node, which stays intact */
	test_ok(new_node(&node, "n", NODE_ID, "王伟"));
	ts_node_free(node);
	test_equal_i(new_node(&node, "n", "bj.other", "李娜"), TS_EEXISTS);
	test_assert(node == NULL);
	test_ok(ts_node_open(&node, "n"));
	test_equal_s(ts_node_id(node), NODE_ID);
	ts_node_free(node);

	/* nor over a file */
	test_assert((f = fopen("file", "w")) != NULL);
	fclose(f);
	test_assert(new_node(&node, "file", NODE_ID, NULL) < 0);
	test_assert(node == NULL);
	test_assert(is_file("file"));
	test_equal_i(init_leftovers(), 0);
}

void test_node__init_refuses_bad_id(void)
{
	char long_id[66];
	const char *bad[] = { "BJ", "bj..dc", "", "bj.", ".bj", "bj dc", "bj-dc", "bj/dc", "_bj", long_id, NULL };
	size_t i;

	memset(long_id, 'a', 65);
	long_id[65] = '\0';
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ts_node *node = (ts_node *)1;
		ts_init_options opts = { TS_INIT_OPTIONS_VERSION, TS_TIER_STREET, bad[i], NULL, "王伟", NULL };

		test_equal_i(ts_node_init(&node, "n", &opts), TS_EINVALID);
		test_assert(node == NULL);
		test_assert(ts_error_last() != NULL);
		test_assert(!exists("n"));
		test_equal_i(init_leftovers(), 0);
	}
	{
		ts_node *node = (ts_node *)1;
		test_equal_i(ts_node_init(&node, "n", NULL), TS_EINVALID);
		test_assert(node == NULL);
		test_assert(!exists("n"));
	}
	{
		ts_node *node = (ts_node *)1;
		ts_init_options opts = { TS_INIT_OPTIONS_VERSION, (ts_tier)7, NODE_ID, NULL, "王伟", NULL };
		test_equal_i(ts_node_init(&node, "n", &opts), TS_EINVALID);
		test_assert(node == NULL);
		test_assert(!exists("n"));
	}
}

/* A failure after the temporary node was made (here: an identity git
 * refuses as a signature name) removes it again. */
void test_node__init_failure_leaves_nothing(void)
{
	ts_node *node = (ts_node *)1;

	test_assert(new_node(&node, "n", NODE_ID, "王<伟>") < 0);
	test_assert(node == NULL);
	test_assert(ts_error_last() != NULL);
	test_assert(!exists("n"));
	test_equal_i(init_leftovers(), 0);
}

/* Bad input changes nothing: a failed init into an empty directory leaves
 * that directory in place (empty), not removed. */
void test_node__init_failure_keeps_empty_dir(void)
{
	ts_node *node = (ts_node *)1;

	test_assert(mkdir("empty", 0755) == 0);
	test_assert(new_node(&node, "empty", NODE_ID, "王<伟>") < 0);
	test_assert(node == NULL);
	test_assert(is_dir("empty"));   /* bad input changes nothing */
	test_assert(!exists("empty/tiersync.db"));
	test_assert(!exists("empty/config"));
	test_equal_i(init_leftovers(), 0);
}

/* `tiersync init /srv/node/` (a shell completes directories with a slash)
 * must create the node there, not fail or put it elsewhere. */
void test_node__init_path_with_trailing_slash(void)
{
	ts_node *node = NULL;

	test_ok(new_node(&node, "n/", NODE_ID, "王伟"));
	ts_node_free(node);
	test_assert(is_file("n/tiersync.db"));
	test_assert(is_dir("n/history.git"));
	test_equal_i(init_leftovers(), 0);
	test_equal_i(init_leftovers_in("n"), 0);

	/* and into an existing empty directory, which must survive a failure */
	test_assert(mkdir("e", 0755) == 0);
	node = NULL;
	test_ok(new_node(&node, "e/", NODE_ID, "王伟"));
	ts_node_free(node);
	test_assert(is_file("e/tiersync.db"));
}

void test_node__open_not_a_node(void)
{
	ts_node *node = (ts_node *)1;

	test_equal_i(ts_node_open(&node, "nowhere"), TS_ENOTFOUND);
	test_assert(node == NULL);
	test_assert(ts_error_last() != NULL);
	test_assert(!exists("nowhere"));

	test_assert(mkdir("plain", 0755) == 0);
	node = (ts_node *)1;
	test_equal_i(ts_node_open(&node, "plain"), TS_ENOTFOUND);
	test_assert(node == NULL);
	/* opening must not turn a plain directory into half a node */
	test_assert(!exists("plain/tiersync.db"));
}

void test_node__id_valid(void)
{
	char id64[65], id65[66];

	memset(id64, 'a', 64);
	id64[64] = '\0';
	memset(id65, 'a', 65);
	id65[65] = '\0';

	test_assert(ts_node_id_valid("bj"));
	test_assert(ts_node_id_valid("bj.dc"));
	test_assert(ts_node_id_valid("bj.dc.jingshan"));
	test_assert(ts_node_id_valid("bj.dc.jingshan.d07"));
	test_assert(ts_node_id_valid("d07"));
	test_assert(ts_node_id_valid("0"));
	test_assert(ts_node_id_valid("bj.dc.jing_shan"));
	test_assert(ts_node_id_valid("a.b.c.d.e.f"));
	test_assert(ts_node_id_valid(id64));

	test_assert(!ts_node_id_valid(NULL));
	test_assert(!ts_node_id_valid(""));
	test_assert(!ts_node_id_valid("BJ"));
	test_assert(!ts_node_id_valid("bj.Dc"));
	test_assert(!ts_node_id_valid("bj..dc"));
	test_assert(!ts_node_id_valid("bj."));
	test_assert(!ts_node_id_valid(".bj"));
	test_assert(!ts_node_id_valid("."));
	test_assert(!ts_node_id_valid(".."));
	test_assert(!ts_node_id_valid(id65));
	test_assert(!ts_node_id_valid("_bj"));
	test_assert(!ts_node_id_valid("bj._dc"));
	test_assert(!ts_node_id_valid("bj-dc"));      /* '-' separates the node id in minted ids */
	test_assert(!ts_node_id_valid("bj dc"));
	test_assert(!ts_node_id_valid("bj/dc"));
	test_assert(!ts_node_id_valid("bj\ndc"));
	test_assert(!ts_node_id_valid("北京"));
	test_assert(!ts_node_id_valid("bj.dc\xff"));
}

void test_node__tier_parse_and_name(void)
{
	static const char *const names[] = { "city", "district", "street", "device" };
	ts_tier tier;
	int i;

	for (i = 0; i < 4; i++) {
		tier = (ts_tier)99;
		test_ok(ts_tier_parse(&tier, names[i]));
		test_equal_i(tier, i);
		test_equal_s(ts_tier_name((ts_tier)i), names[i]);
	}
	test_equal_i(TS_TIER_CITY, 0);
	test_equal_i(TS_TIER_DEVICE, 3);

	test_equal_i(ts_tier_parse(&tier, "City"), TS_EINVALID);
	test_assert(ts_error_last() != NULL);
	test_equal_i(ts_tier_parse(&tier, ""), TS_EINVALID);
	test_equal_i(ts_tier_parse(&tier, NULL), TS_EINVALID);
	test_equal_i(ts_tier_parse(&tier, "streets"), TS_EINVALID);
	test_equal_i(ts_tier_parse(&tier, "stree"), TS_EINVALID);
	test_equal_i(ts_tier_parse(&tier, " city"), TS_EINVALID);
	test_equal_i(ts_tier_parse(&tier, "0"), TS_EINVALID);

	test_assert(ts_tier_name((ts_tier)4) == NULL);
	test_assert(ts_tier_name((ts_tier)-1) == NULL);
	test_assert(ts_tier_name((ts_tier)1000) == NULL);
}

void test_node__staging_is_durable(void)
{
	ts_node *node = NULL;
	staged_list l;
	char *id = NULL, head_before[41], head[41], committed[41];

	test_ok(new_node(&node, "n", NODE_ID, "值班员"));
	test_ok(ts_node_head(head_before, node));
	test_ok(new_case(&id, node, "王伟"));
	test_assert(id != NULL);
	/* exit without committing */
	ts_node_free(node);
	node = NULL;

	test_ok(ts_node_open(&node, "n"));
	memset(&l, 0, sizeof(l));
	test_ok(ts_node_staged(node, collect_staged, &l));
	test_equal_i(l.n, 1);
	test_equal_s(l.author[0], "王伟");
	test_equal_i(l.inserts[0], 2);   /* the case and its intake event */
	test_equal_i(l.updates[0], 0);
	test_equal_i(l.deletes[0], 0);
	test_assert(l.time[0] > 0);
	test_assert(strstr(l.summary[0], "small_ads") != NULL);
	test_equal_i(query_int(ts_node_db(node), "SELECT count(*) FROM cases"), 1);
	test_equal_i(query_int(ts_node_db(node), "SELECT count(*) FROM case_events WHERE kind = 'intake'"), 1);
	/* nothing committed yet */
	test_ok(ts_node_head(head, node));
	test_equal_s(head, head_before);

	test_ok(ts_node_commit(committed, node, "new case", NULL));
	test_equal_i(strlen(committed), 40);
	test_equal_i(staged_count(node), 0);
	test_ok(ts_node_head(head, node));
	test_equal_s(head, committed);
	test_equal_i(ts_node_verify(node, NULL, NULL), 0);
	ts_node_free(node);
	node = NULL;

	/* the commit, too, survives */
	test_ok(ts_node_open(&node, "n"));
	test_equal_i(staged_count(node), 0);
	test_ok(ts_node_head(head, node));
	test_equal_s(head, committed);
	test_equal_i(query_int(ts_node_db(node), "SELECT count(*) FROM cases"), 1);
	ts_node_free(node);
	free(id);
}

void test_node__staged_order_and_counts(void)
{
	ts_node *node = NULL;
	staged_list l;
	char *id = NULL;
	ts_field set = { "status", "dispatched" };

	test_ok(new_node(&node, "n", NODE_ID, "值班员"));
	test_ok(new_case(&id, node, "王伟"));
	test_ok(ts_case_update(node, "李娜", id, &set, 1));
	memset(&l, 0, sizeof(l));
	test_ok(ts_node_staged(node, collect_staged, &l));
	test_equal_i(l.n, 2);
	test_assert(l.seq[0] < l.seq[1]);
	test_equal_s(l.author[0], "王伟");
	test_equal_s(l.author[1], "李娜");
	test_equal_i(l.inserts[1], 1);   /* the dispatch event */
	test_equal_i(l.updates[1], 1);   /* the case */
	test_equal_i(l.deletes[1], 0);
	ts_node_free(node);
	free(id);
}

typedef struct {
	int ret;
	int ran;
} called_off;

static int insert_then_call_off(sqlite3 *db, void *payload)
{
	called_off *c = payload;
	c->ran = 1;
	if (sqlite3_exec(db, "INSERT INTO sources (code, name_zh) VALUES ('drone', '无人机')", NULL, NULL, NULL) != SQLITE_OK)
		return -100;
	return c->ret;
}

void test_node__write_called_off_writes_nothing(void)
{
	ts_node *node = NULL;
	called_off c;
	char *before = NULL, *after = NULL;
	static const int codes[] = { 42, 1, -1, TS_EDENIED };
	size_t i;

	test_ok(new_node(&node, "n", NODE_ID, "王伟"));
	before = query_text(ts_node_db(node), "SELECT count(*) || ',' || group_concat(code) FROM sources");
	test_assert(before != NULL);
	for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		c.ret = codes[i];
		c.ran = 0;
		test_equal_i(ts_node_write(node, "王伟", "add a source", insert_then_call_off, &c), codes[i]);
		test_assert(c.ran);
		after = query_text(ts_node_db(node), "SELECT count(*) || ',' || group_concat(code) FROM sources");
		test_equal_s(after, before);
		free(after);
		after = NULL;
		test_equal_i(query_int(ts_node_db(node), "SELECT count(*) FROM sources WHERE code = 'drone'"), 0);
		test_equal_i(staged_count(node), 0);
		/* no transaction is left open */
		test_assert(sqlite3_get_autocommit(ts_node_db(node)));
	}
	test_equal_i(ts_node_verify(node, NULL, NULL), 0);

	/* the same write, let through, breaks an ownership rule (the sources
	 * are the city's): refused whole, before anything is staged */
	c.ret = 0;
	test_equal_i(ts_node_write(node, "王伟", "add a source", insert_then_call_off, &c), TS_EDENIED);
	test_assert(strstr(ts_error_last(), "sources") != NULL);
	test_equal_i(query_int(ts_node_db(node), "SELECT count(*) FROM sources WHERE code = 'drone'"), 0);
	test_equal_i(staged_count(node), 0);
	test_assert(sqlite3_get_autocommit(ts_node_db(node)));

	/* with the city's rights, it is written and staged */
	test_ok(ts_node__write_as(node, "bj", "王伟", "add a source", insert_then_call_off, &c));
	test_equal_i(query_int(ts_node_db(node), "SELECT count(*) FROM sources WHERE code = 'drone'"), 1);
	test_equal_i(staged_count(node), 1);
	ts_node_free(node);
	free(before);
}

static int change_nothing(sqlite3 *db, void *payload)
{
	(void)db;
	(void)payload;
	return 0;
}

void test_node__write_without_changes_stages_nothing(void)
{
	ts_node *node = NULL;
	char head[41];

	test_ok(new_node(&node, "n", NODE_ID, "王伟"));
	test_ok(ts_node_write(node, NULL, "nothing", change_nothing, NULL));
	test_equal_i(staged_count(node), 0);
	test_equal_i(ts_node_commit(head, node, "nothing", NULL), TS_ENOTFOUND);
	ts_node_free(node);
}

void test_node__write_needs_an_author(void)
{
	ts_node *node = NULL;
	called_off c = { 0, 0 };

	test_ok(new_node(&node, "n", NODE_ID, NULL));
	test_equal_i(ts_node_write(node, NULL, "x", insert_then_call_off, &c), TS_EINVALID);
	test_equal_i(ts_node_write(node, "", "x", insert_then_call_off, &c), TS_EINVALID);
	test_equal_i(ts_node_write(node, "王<伟>", "x", insert_then_call_off, &c), TS_EINVALID);
	test_equal_i(ts_node_write(node, "王伟\n", "x", insert_then_call_off, &c), TS_EINVALID);
	test_assert(!c.ran);
	test_equal_i(query_int(ts_node_db(node), "SELECT count(*) FROM sources WHERE code = 'drone'"), 0);
	test_equal_i(staged_count(node), 0);
	ts_node_free(node);
}

void test_node__failed_write_changes_nothing(void)
{
	ts_node *node = NULL;
	char *id = NULL, *before = NULL, *after = NULL, *status = NULL, head[41];
	ts_field bogus = { "status", "bogus" };
	ts_field unknown = { "colour", "red" };
	ts_field bad_type = { "lng", "east" };
	ts_field out_of_range = { "lat", "91" };
	ts_field protected_id = { "id", "bj-c1" };
	ts_field folded_id = { "ID", "bj-c1" };
	ts_field folded_node = { "Created_By_Node", "bj" };
	ts_field mixed[2] = { { "description", "堆放杂物" }, { "status", "bogus" } };

	test_ok(new_node(&node, "n", NODE_ID, "王伟"));
	test_ok(new_case(&id, node, "王伟"));
	test_ok(ts_node_commit(head, node, "new case", NULL));
	before = db_snapshot(node);
	test_assert(before != NULL);

	/* a CHECK violation */
	test_equal_i(ts_case_update(node, "王伟", id, &bogus, 1), TS_EINVALID);
	test_assert(ts_error_last() != NULL);
	after = db_snapshot(node);
	test_equal_s(after, before);
	free(after);
	test_equal_i(staged_count(node), 0);
	status = case_status(node, id);
	test_equal_s(status, "discovered");
	free(status);

	/* a good column with a bad one: refused whole */
	test_equal_i(ts_case_update(node, "王伟", id, mixed, 2), TS_EINVALID);
	after = db_snapshot(node);
	test_equal_s(after, before);
	free(after);

	/* an unknown column */
	test_equal_i(ts_case_update(node, "王伟", id, &unknown, 1), TS_EINVALID);
	test_assert(strstr(ts_error_last(), "colour") != NULL);
	/* a value of the wrong type, and one outside its range */
	test_equal_i(ts_case_update(node, "王伟", id, &bad_type, 1), TS_EINVALID);
	test_equal_i(ts_case_update(node, "王伟", id, &out_of_range, 1), TS_EINVALID);
	/* the key may not change, nor under a name of other case, which SQL
	 * would take for the same column */
	test_equal_i(ts_case_update(node, "王伟", id, &protected_id, 1), TS_EDENIED);
	test_assert(ts_case_update(node, "王伟", id, &folded_id, 1) < 0);
	test_assert(ts_case_update(node, "王伟", id, &folded_node, 1) < 0);
	/* nor a case that does not exist */
	test_equal_i(ts_case_update(node, "王伟", "bj.dc.jingshan-c20000101-9999", &mixed[0], 1), TS_ENOTFOUND);
	after = db_snapshot(node);
	test_equal_s(after, before);
	free(after);
	test_equal_i(staged_count(node), 0);
	test_equal_i(ts_node_verify(node, NULL, NULL), 0);

	free(before);
	ts_node_free(node);
	free(id);
}

void test_node__closed_case_refuses_edits(void)
{
	ts_node *node = NULL;
	char *id = NULL, *before = NULL, *after = NULL, head[41];
	ts_field close = { "status", "closed" };
	ts_field note = { "description", "补充说明" };
	ts_field reopen = { "status", "discovered" };

	test_ok(new_node(&node, "n", NODE_ID, "王伟"));
	test_ok(new_case(&id, node, "王伟"));
	test_ok(ts_case_update(node, "王伟", id, &close, 1));
	test_equal_i(staged_count(node), 2);
	before = db_snapshot(node);

	test_equal_i(ts_case_update(node, "李娜", id, &note, 1), TS_EDENIED);
	test_assert(ts_error_last() != NULL);
	test_equal_i(ts_case_update(node, "李娜", id, &reopen, 1), TS_EDENIED);
	after = db_snapshot(node);
	test_equal_s(after, before);
	free(after);
	test_equal_i(staged_count(node), 2);

	/* still refused once committed and reopened */
	test_ok(ts_node_commit(head, node, "closed", NULL));
	ts_node_free(node);
	node = NULL;
	test_ok(ts_node_open(&node, "n"));
	test_equal_i(ts_case_update(node, "李娜", id, &note, 1), TS_EDENIED);
	test_equal_i(staged_count(node), 0);
	test_equal_i(query_int(ts_node_db(node), "SELECT count(*) FROM cases WHERE description IS NOT NULL"), 0);

	free(before);
	ts_node_free(node);
	free(id);
}

typedef struct {
	ts_node *node;
	const char *prefix;
	char **ids;
	int n;
	int made;
} mint_job;

static int mint_many(sqlite3 *db, void *payload)
{
	mint_job *job = payload;
	int i, error;
	(void)db;
	for (i = 0; i < job->n; i++) {
		if ((error = ts_node_mint_id(&job->ids[job->made], job->node, job->prefix)) < 0)
			return error;
		job->made++;
	}
	return 0;
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* "<node id>-<prefix><yyyymmdd>-<n>" */
static int id_well_formed(const char *id, const char *node_id, const char *prefix)
{
	size_t nl = strlen(node_id), pl = strlen(prefix);
	const char *p;
	int k;

	if (strncmp(id, node_id, nl) || id[nl] != '-' || strncmp(id + nl + 1, prefix, pl))
		return 0;
	p = id + nl + 1 + pl;
	for (k = 0; k < 8; k++)
		if (p[k] < '0' || p[k] > '9')
			return 0;
	p += 8;
	if (*p++ != '-' || !*p)
		return 0;
	for (; *p; p++)
		if (*p < '0' || *p > '9')
			return 0;
	return 1;
}

#define MINTS 600

void test_node__minted_ids_unique(void)
{
	static const char *const node_ids[3] = { "bj.dc", "bj.dc.a", "bj.dc.b" };
	char **ids = calloc(3 * MINTS, sizeof(char *));
	int k, i, total = 0;

	test_assert(ids != NULL);
	for (k = 0; k < 3; k++) {
		ts_node *node = NULL;
		mint_job job;
		char path[16];

		snprintf(path, sizeof(path), "n%d", k);
		test_ok(new_node(&node, path, node_ids[k], "王伟"));
		/* half in one write, half over several writes, with a reopen between */
		job.node = node;
		job.prefix = "c";
		job.ids = ids + total;
		job.made = 0;
		job.n = MINTS / 2;
		test_ok(ts_node_write(node, NULL, "mint", mint_many, &job));
		test_equal_i(job.made, MINTS / 2);
		ts_node_free(node);
		node = NULL;
		test_ok(ts_node_open(&node, path));
		job.node = node;
		job.n = 10;
		for (i = 0; i < MINTS / 2 / 10; i++)
			test_ok(ts_node_write(node, NULL, "mint", mint_many, &job));
		test_equal_i(job.made, MINTS);
		for (i = 0; i < MINTS; i++)
			test_assert(id_well_formed(job.ids[i], node_ids[k], "c"));
		total += MINTS;
		ts_node_free(node);
	}
	qsort(ids, total, sizeof(char *), str_cmp);
	for (i = 1; i < total; i++)
		if (!strcmp(ids[i - 1], ids[i])) {
			ts_test__fail(__FILE__, __LINE__, "id minted twice: %s", ids[i]);
			break;
		}
	for (i = 0; i < total; i++)
		free(ids[i]);
	free(ids);
}

void test_node__minted_ids_per_prefix(void)
{
	ts_node *node = NULL;
	char *c = NULL, *e = NULL, *cid = NULL, *eid = NULL;
	mint_job job;

	test_ok(new_node(&node, "n", NODE_ID, "王伟"));
	job.node = node;
	job.prefix = "c";
	job.ids = &c;
	job.made = 0;
	job.n = 1;
	test_ok(ts_node_write(node, NULL, "mint", mint_many, &job));
	job.prefix = "e";
	job.ids = &e;
	job.made = 0;
	test_ok(ts_node_write(node, NULL, "mint", mint_many, &job));
	test_assert(id_well_formed(c, NODE_ID, "c"));
	test_assert(id_well_formed(e, NODE_ID, "e"));
	test_assert(strcmp(c, e) != 0);

	/* a case's id and its event's id come from the same minting */
	test_ok(new_case(&cid, node, "王伟"));
	test_assert(id_well_formed(cid, NODE_ID, "c"));
	test_assert(strcmp(cid, c) != 0);
	eid = query_text(ts_node_db(node), "SELECT id FROM case_events");
	test_assert(eid != NULL);
	test_assert(id_well_formed(eid, NODE_ID, "e"));
	test_assert(strcmp(eid, e) != 0);
	free(c);
	free(e);
	free(cid);
	free(eid);
	ts_node_free(node);
}

/* The date in a minted id is the service's (Beijing) date, the same as the
 * case's reported_at, whatever the time zone of the machine: at
 * 2015-05-22 01:00 in Beijing (17:00 UTC the day before) a case is
 * "...-c20150522-1", reported at "2015-05-22T01:00:00+08:00". */
void test_node__minted_id_date_is_beijing_date(void)
{
	ts_node *node = NULL;
	char *id = NULL, *reported = NULL, *old_tz = getenv("TZ") ? strdup(getenv("TZ")) : NULL;
	char want[64];
	int error, reported_ok, id_ok;

	test_ok(new_node(&node, "n", NODE_ID, "王伟"));
	setenv("TIERSYNC_NOW", "1432227600", 1);
	setenv("TZ", "UTC", 1);
	tzset();
	error = new_case(&id, node, "王伟");
	unsetenv("TIERSYNC_NOW");
	if (old_tz)
		setenv("TZ", old_tz, 1);
	else
		unsetenv("TZ");
	tzset();
	free(old_tz);
	test_ok(error);
	reported = query_text(ts_node_db(node), "SELECT reported_at FROM cases");
	ts_node_free(node);
	snprintf(want, sizeof(want), "%s-c20150522-", NODE_ID);
	reported_ok = reported && !strcmp(reported, "2015-05-22T01:00:00+08:00");
	id_ok = id && !strncmp(id, want, strlen(want));
	if (!id_ok)
		fprintf(stderr, "    minted %s, reported at %s\n", id ? id : "(null)", reported ? reported : "(null)");
	free(reported);
	free(id);
	test_assert(reported_ok);
	test_assert(id_ok);
}

/* Author and committer of the commit refs/heads/main points at. */
static int head_people(char *author, char *author_email, char *committer, char *committer_email,
	size_t size, const char *node_path)
{
	git_repository *repo = ts_test_history(node_path);
	git_commit *commit = repo ? main_commit(repo) : NULL;
	int ok = commit != NULL;

	if (ok) {
		snprintf(author, size, "%s", git_commit_author(commit)->name);
		snprintf(author_email, size, "%s", git_commit_author(commit)->email);
		snprintf(committer, size, "%s", git_commit_committer(commit)->name);
		snprintf(committer_email, size, "%s", git_commit_committer(commit)->email);
	}
	git_commit_free(commit);
	git_repository_free(repo);
	return ok ? 0 : -1;
}

void test_node__commit_author(void)
{
	ts_node *node = NULL;
	char *a = NULL, *b = NULL, head[41], msg_head[41];
	char author[128], aemail[128], committer[128], cemail[128];
	ts_field dispatch = { "status", "dispatched" };
	ts_field note = { "description", "已劝离" };
	git_repository *repo;
	git_commit *commit;

	test_ok(new_node(&node, "n", NODE_ID, "值班员"));

	/* explicit author */
	test_ok(new_case(&a, node, "王伟"));
	test_ok(ts_node_commit(head, node, "new case", "赵敏"));
	test_ok(head_people(author, aemail, committer, cemail, sizeof(author), "n"));
	test_equal_s(author, "赵敏");
	test_equal_s(committer, NODE_ID);
	test_equal_s(cemail, NODE_ID);
	test_equal_s(aemail, NODE_ID);

	/* no author: the staged authors, each once, in order */
	test_ok(new_case(&b, node, "王伟"));
	test_ok(ts_case_update(node, "李娜", b, &dispatch, 1));
	test_ok(ts_case_update(node, "王伟", b, &note, 1));
	test_ok(ts_node_commit(head, node, "dispatch", NULL));
	test_ok(head_people(author, aemail, committer, cemail, sizeof(author), "n"));
	test_equal_s(author, "王伟, 李娜");
	test_equal_s(committer, NODE_ID);

	/* one staged author */
	test_ok(ts_case_update(node, "李娜", a, &note, 1));
	test_ok(ts_node_commit(msg_head, node, "note", NULL));
	test_ok(head_people(author, aemail, committer, cemail, sizeof(author), "n"));
	test_equal_s(author, "李娜");

	/* the commit the ref names is the one ts_node_commit returned, with its message */
	repo = ts_test_history("n");
	test_assert(repo != NULL);
	commit = main_commit(repo);
	test_assert(commit != NULL);
	test_equal_s(git_oid_tostr_s(git_commit_id(commit)), msg_head);
	test_equal_s(git_commit_message(commit), "note\n");
	test_equal_i(git_commit_parentcount(commit), 1);
	test_equal_s(git_oid_tostr_s(git_commit_parent_id(commit, 0)), head);
	git_commit_free(commit);
	git_repository_free(repo);

	ts_node_free(node);
	free(a);
	free(b);
}

/* Joining authors must not take one name for a part of another. */
void test_node__commit_authors_similar_names(void)
{
	ts_node *node = NULL;
	char *a = NULL, *b = NULL, *c = NULL, head[41];
	char author[256], aemail[128], committer[128], cemail[128];

	test_ok(new_node(&node, "n", NODE_ID, "值班员"));
	test_ok(new_case(&a, node, "Wang Wei"));
	test_ok(new_case(&b, node, "Wei"));
	test_ok(new_case(&c, node, "Wang"));
	test_ok(ts_node_commit(head, node, "three officers", NULL));
	test_ok(head_people(author, aemail, committer, cemail, sizeof(author), "n"));
	ts_node_free(node);
	free(a);
	free(b);
	free(c);
	test_equal_s(author, "Wang Wei, Wei, Wang");
}

void test_node__commit_falls_back_to_identity(void)
{
	ts_node *node = NULL;
	char *a = NULL, head[41];
	char author[128], aemail[128], committer[128], cemail[128];

	test_ok(new_node(&node, "n", NODE_ID, "值班员"));
	/* no author on the write: the node's identity does it */
	test_ok(new_case(&a, node, NULL));
	test_ok(ts_node_commit(head, node, "new case", NULL));
	test_ok(head_people(author, aemail, committer, cemail, sizeof(author), "n"));
	test_equal_s(author, "值班员");
	ts_node_free(node);
	free(a);
}

void test_node__commit_nothing_staged(void)
{
	ts_node *node = NULL;
	char before[41], after[41], id[41], *a = NULL;
	git_repository *repo;
	git_commit *commit;

	test_ok(new_node(&node, "n", NODE_ID, "王伟"));
	test_ok(ts_node_head(before, node));
	memset(id, 'x', sizeof(id));
	test_equal_i(ts_node_commit(id, node, "nothing", NULL), TS_ENOTFOUND);
	test_equal_s(id, "");
	test_assert(ts_error_last() != NULL);
	test_ok(ts_node_head(after, node));
	test_equal_s(after, before);
	repo = ts_test_history("n");
	test_assert(repo != NULL);
	commit = main_commit(repo);
	test_assert(commit != NULL);
	test_equal_s(git_oid_tostr_s(git_commit_id(commit)), before);
	git_commit_free(commit);
	git_repository_free(repo);

	/* and again right after a commit */
	test_ok(new_case(&a, node, "王伟"));
	test_ok(ts_node_commit(before, node, "new case", NULL));
	test_equal_i(ts_node_commit(id, node, "again", NULL), TS_ENOTFOUND);
	test_ok(ts_node_head(after, node));
	test_equal_s(after, before);

	/* a commit needs a message; staged work stays staged */
	free(a);
	a = NULL;
	test_ok(new_case(&a, node, "王伟"));
	test_equal_i(ts_node_commit(id, node, "", NULL), TS_EINVALID);
	test_equal_i(ts_node_commit(id, node, NULL, NULL), TS_EINVALID);
	test_equal_i(staged_count(node), 1);
	test_ok(ts_node_head(after, node));
	test_equal_s(after, before);
	ts_node_free(node);
	free(a);
}

static long long file_size(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 ? (long long)st.st_size : 0;
}

/* One short command: a process of its own opens the node, records a case,
 * commits it and exits. 0 when it did. */
static int command_in_process(const char *path)
{
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		ts_node *node = NULL;
		char *id = NULL, hex[41];
		int ok = ts_node_open(&node, path) == 0 &&
			ts_case_new(&id, node, NULL, "small_ads", "patrol", "景山前街 4号", NULL, 0) == 0 &&
			ts_node_commit(hex, node, "a case", NULL) == 0;
		free(id);
		ts_node_free(node);
		_exit(ok ? 0 : 1);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

/* A node's database keeps its write-ahead log between commands (no copy
 * into the database when the connection closes); SQLite's checkpoint at
 * 1,000 pages lets a later command start the log over, cut back to 4 MiB,
 * and a log left longer than that (here by a large write made behind the
 * node's back) is emptied by the next opening. Pages freed in bulk go
 * back to the file system at the next commit. The judges are the file's
 * size and a stock SQLite connection's view. */
void test_node__log_kept_and_bounded(void)
{
	ts_node *node = NULL;
	long long size = 0, start, after_ten = 0, largest = 0;
	int i;
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;

	test_ok(new_node(&node, "n", NODE_ID, "王伟"));
	ts_node_free(node);
	start = file_size("n/tiersync.db-wal");
	for (i = 0; i < 60; i++) {
		test_ok(command_in_process("n"));
		/* what the command committed is in the log it left */
		size = file_size("n/tiersync.db-wal");
		test_assert(size > 0);
		if (i == 9)
			after_ten = size;
		if (size > largest)
			largest = size;
	}
	/* at the pace of the first ten, sixty commands would have written
	 * more than 5 MiB to the log; SQLite started it over inside a file
	 * that never passed 4 MiB by much */
	test_assert(after_ten > start);
	test_assert((after_ten - start) * 6 > 4194304 + 1048576);
	test_assert(largest > 2 * 1048576);
	test_assert(largest <= 4194304 + 1048576);

	/* 6 MB written in one transaction, left in the log */
	test_assert(sqlite3_open("n/tiersync.db", &db) == SQLITE_OK);
	test_assert(sqlite3_db_config(db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, (int *)NULL) == SQLITE_OK);
	test_assert(sqlite3_exec(db, "INSERT INTO ts_meta VALUES ('ballast', zeroblob(6000000))",
		NULL, NULL, NULL) == SQLITE_OK);
	sqlite3_close(db);
	db = NULL;
	test_assert(file_size("n/tiersync.db-wal") > 4194304 + 1048576);
	test_ok(command_in_process("n"));
	test_assert(file_size("n/tiersync.db-wal") > 0);
	test_assert(file_size("n/tiersync.db-wal") < 1048576);

	/* taken back: the pages it held are free, and the next commit gives
	 * them back to the file system (the database is auto_vacuum =
	 * INCREMENTAL from its creation) */
	test_assert(sqlite3_open("n/tiersync.db", &db) == SQLITE_OK);
	test_assert(sqlite3_db_config(db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, (int *)NULL) == SQLITE_OK);
	test_assert(sqlite3_exec(db, "DELETE FROM ts_meta WHERE key = 'ballast'", NULL, NULL, NULL) == SQLITE_OK);
	test_assert(query_int(db, "PRAGMA freelist_count") * 4096 > 4194304 + 1048576);
	sqlite3_close(db);
	db = NULL;
	test_ok(command_in_process("n"));
	test_assert(sqlite3_open_v2("n/tiersync.db", &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK);
	test_equal_i(query_int(db, "PRAGMA auto_vacuum"), 2);
	test_equal_i(query_int(db, "PRAGMA freelist_count"), 0);
	test_assert(query_int(db, "PRAGMA page_count") * 4096 < 1048576);
	sqlite3_close(db);
	db = NULL;

	test_assert(sqlite3_open_v2("n/tiersync.db", &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK);
	test_assert(sqlite3_prepare_v2(db, "SELECT count(*) FROM cases", -1, &st, NULL) == SQLITE_OK);
	test_assert(sqlite3_step(st) == SQLITE_ROW);
	test_equal_i(sqlite3_column_int(st, 0), 62);
	sqlite3_finalize(st);
	sqlite3_close(db);
	test_ok(ts_node_open(&node, "n"));
	test_equal_i(ts_node_verify(node, NULL, NULL), 0);
	ts_node_free(node);
}

/* Runs the SQL text `payload` inside a node's write. */
static int exec_write(sqlite3 *db, void *payload)
{
	return sqlite3_exec(db, payload, NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

/*
 * A write whose changeset is larger than a megabyte is staged in place
 * (written into its row, not copied into the INSERT's record) and read
 * back a piece at a time by the commit: what stock SQLite sees staged is
 * the whole changeset, and every row reaches history (stock git counts).
 * Past 4,096 changed rows the changeset goes through an unnamed file
 * instead of memory, and nothing of it is left in the node's directory.
 */
static void large_write(int rows)
{
	ts_node *node = NULL;
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	ts_buf cols = TS_BUF_INIT, sql = TS_BUF_INIT;
	staged_list l;
	char *id = NULL, committed[41], cmd[256];

	test_ok(new_node(&node, "n", NODE_ID, "王伟"));
	test_ok(new_case(&id, node, "王伟"));
	test_ok(ts_node_commit(committed, node, "one case", NULL));
	/* ROWS copies of that case under new ids, each with a long description */
	test_assert(sqlite3_prepare_v2(ts_node_db(node), "SELECT name FROM pragma_table_info('cases') ORDER BY cid",
		-1, &st, NULL) == SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 0);
		if (cols.size)
			ts_buf__puts(&cols, ", ");
		if (!strcmp(name, "id"))
			ts_buf__puts(&cols, "id || '-' || n.i");
		else if (!strcmp(name, "description"))
			ts_buf__puts(&cols, "printf('%.600c', '#') || n.i");
		else
			ts_buf__printf(&cols, "\"%s\"", name);
	}
	sqlite3_finalize(st);
	ts_buf__printf(&sql, "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < %d) "
		"INSERT INTO cases SELECT %s FROM cases, n", rows, ts_buf__cstr(&cols));
	test_ok(ts_node_write(node, "王伟", "many copies", exec_write, (void *)ts_buf__cstr(&sql)));
	ts_node_free(node);
	node = NULL;

	test_assert(sqlite3_open_v2("n/tiersync.db", &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK);
	test_assert(query_int(db, "SELECT max(length(changeset)) FROM ts_staged") > (long long)rows * 600);
	sqlite3_close(db);
	test_equal_i(atoi(ts_test_first_line("ls -A n | wc -l")), 9);
	test_ok(ts_node_open(&node, "n"));
	memset(&l, 0, sizeof(l));
	test_ok(ts_node_staged(node, collect_staged, &l));
	test_equal_i(l.n, 1);
	test_equal_i(l.inserts[0], rows);
	test_ok(ts_node_commit(committed, node, "many copies", NULL));
	/* a commit this large lets go of the packs it read (none stays mapped),
	 * and history reads on as before */
	snprintf(cmd, sizeof(cmd), "grep -c \"$PWD/n/history.git/objects/pack/pack-.*\\.pack$\" /proc/%d/maps", (int)getpid());
	test_equal_i(atoi(ts_test_first_line(cmd)), 0);
	test_equal_i(staged_count(node), 0);
	test_equal_i(ts_node_verify(node, NULL, NULL), 0);
	ts_node_free(node);
	snprintf(cmd, sizeof(cmd), "git --git-dir=n/history.git ls-tree -r %s -- cases | wc -l", committed);
	test_equal_i(atoi(ts_test_first_line(cmd)), rows + 1);
	test_ok(ts_test_sh("git --git-dir=n/history.git fsck --full --strict >/dev/null 2>&1"));
	free(id);
	ts_buf__dispose(&cols);
	ts_buf__dispose(&sql);
}

void test_node__a_large_write_is_staged_and_committed(void)
{
	large_write(3000);
}

void test_node__a_larger_write_goes_through_a_file(void)
{
	large_write(6000);
}
