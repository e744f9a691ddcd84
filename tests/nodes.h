/*
 * What tests that move history between nodes share.
 */
#ifndef TS_TESTS_NODES_H
#define TS_TESTS_NODES_H

#include "node.h"

/* Copies `from`'s main into `to` as `ref`, as a push or a fetch would. */
int ts_test_transfer(ts_node *from, ts_node *to, const char *ref);

/*
 * Enrolls `lower` at `upper`, as `tiersync -C UPPER enroll --node ID --key
 * LOWER.pub` would: the public half of the key `lower` signs with becomes
 * its row of sync_signers at `upper` (one commit there, carrying whatever
 * `upper` had staged), under `upper`'s identity. The authorized_keys line
 * goes to the test's own directory (TEST_DIR/authorized_keys), never to
 * ~/.ssh: ts_node_enroll() always writes one.
 */
int ts_test_enroll(ts_node *upper, ts_node *lower);

/*
 * Gives `node` the upper nodes a deployment has above it: a node with its
 * parent id (one tier up, in TEST_DIR/above-<parent id>) enrolls it, and
 * `node` merges that node's main, as a pull does, so that its own key (and
 * the keys above it) are in its sync_signers and travel down with its
 * history to the nodes below. For a test whose top node is not a city:
 * without it, no node knows the top node's key. Up to the city, which
 * enrolls itself.
 */
int ts_test_enrolled_above(ts_node *node);

/* A new node at `dir` (under the test's directory) of `tier` and `id`,
 * with `identity` as its default author; NULL on failure. */
ts_node *ts_test_node(const char *dir, ts_tier tier, const char *id, const char *identity);

/* The first column of the first row of `sql` on the node's database, as
 * an integer (LLONG_MIN when there is none), or as text ("" for NULL,
 * "(no row)", "(error: ...)") in a static buffer: compare before the next
 * call. */
long long ts_test_query_int(ts_node *node, const char *sql);
const char *ts_test_query_text(ts_node *node, const char *sql);

/* Fails the test, and returns from it, when `snapshot(node)` (a malloc'd
 * string of everything an operation may write) no longer equals `before`:
 * what a refusal must leave unchanged. */
#define ts_test_unchanged(snapshot, node, before) do { \
	char *test_after__ = snapshot(node); \
	int test_same__ = test_after__ && (before) && !strcmp(test_after__, (before)); \
	if (!test_same__) ts_test__fail(__FILE__, __LINE__, "refused, yet changed:\n  before %s\n  after  %s", \
		(before) ? (before) : "(null)", test_after__ ? test_after__ : "(null)"); \
	free(test_after__); \
	if (!test_same__) return; \
} while (0)

/* The history repository of the node at `node_path`, opened bare as stock
 * libgit2 would (not through the node); NULL on failure. Free with
 * git_repository_free(). */
git_repository *ts_test_history(const char *node_path);

/* Writes rows (SQL statements) as if they had arrived by sync from the
 * city, whose rights cover every row a test lays down. */
int ts_test_arrive(ts_node *node, const char *sql);

/* What a list callback saw: records joined by ' ', a count, and when to stop. */
typedef struct {
	char text[8192];
	int calls;
	int stop_at;      /* ts_test_seen_next returns 7 on this call (1-based); 0: never */
} ts_test_seen;

void ts_test_seen_add(ts_test_seen *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int ts_test_seen_next(ts_test_seen *s);

#define OR_NULL(s) ((s) ? (s) : "NULL")

#endif
