/*
 * Walks kept (sync/diffmemo.c): found by path and ids only, bounded, and
 * taken by a tree diff instead of reading the subtree.
 */
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "buf.h"
#include "diffmemo.h"
#include "harness.h"
#include "store.h"
#include "tiersync.h"

static git_oid id_of(int k)
{
	git_oid id;
	memset(&id, 0, sizeof(id));
	id.id[0] = (unsigned char)k;
	id.id[19] = (unsigned char)(k * 7);
	return id;
}

void test_diffmemo__keeps_walks_by_path_and_ids(void)
{
	ts_diffmemo *m = ts_diffmemo__new(1 << 20);
	git_oid a = id_of(1), b = id_of(2), c = id_of(3), x = id_of(4), y = id_of(5);
	ts_diffmemo_change ch;
	size_t first, n;

	test_assert(m != NULL);
	ts_diffmemo__begin(m, "t/1/", &a, &b);
	ts_diffmemo__add(m, "t/1/r1", &x, &y);
	ts_diffmemo__add(m, "t/1/r2", NULL, &y);
	ts_diffmemo__end(m, 1);
	ts_diffmemo__begin(m, "t/2/", NULL, &c);
	ts_diffmemo__add(m, "t/2/r3", NULL, &x);
	ts_diffmemo__end(m, 1);
	/* a walk that failed is not kept */
	ts_diffmemo__begin(m, "t/3/", &a, &c);
	ts_diffmemo__add(m, "t/3/r4", &x, NULL);
	ts_diffmemo__end(m, 0);

	test_equal_i(ts_diffmemo__find(&first, &n, m, "t/1/", &a, &b), 1);
	test_equal_i((int)n, 2);
	ts_diffmemo__change(&ch, m, first);
	test_equal_s(ch.path, "t/1/r1");
	test_assert(git_oid_equal(ch.old_id, &x) && git_oid_equal(ch.new_id, &y));
	ts_diffmemo__change(&ch, m, first + 1);
	test_equal_s(ch.path, "t/1/r2");
	test_assert(ch.old_id == NULL && git_oid_equal(ch.new_id, &y));
	test_equal_i(ts_diffmemo__find(&first, &n, m, "t/2/", NULL, &c), 1);
	test_equal_i((int)n, 1);
	ts_diffmemo__change(&ch, m, first);
	test_equal_s(ch.path, "t/2/r3");

	/* another path, another old side, none where there was one: not found */
	test_equal_i(ts_diffmemo__find(&first, &n, m, "t/9/", &a, &b), 0);
	test_equal_i(ts_diffmemo__find(&first, &n, m, "t/1/", &c, &b), 0);
	test_equal_i(ts_diffmemo__find(&first, &n, m, "t/1/", NULL, &b), 0);
	test_equal_i(ts_diffmemo__find(&first, &n, m, "t/2/", &a, &c), 0);
	test_equal_i(ts_diffmemo__find(&first, &n, m, "t/3/", &a, &c), 0);
	test_equal_i(ts_diffmemo__find(&first, &n, NULL, "t/1/", &a, &b), 0);
	ts_diffmemo__free(m);

	/* bounded: the walk that does not fit is dropped, and none after it kept */
	m = ts_diffmemo__new(600);
	ts_diffmemo__begin(m, "t/1/", &a, &b);
	ts_diffmemo__add(m, "t/1/r1", &x, &y);
	ts_diffmemo__end(m, 1);
	ts_diffmemo__begin(m, "t/2/", &a, &c);
	for (n = 0; n < 20; n++)
		ts_diffmemo__add(m, "t/2/a-rather-long-row-name", &x, &y);
	ts_diffmemo__end(m, 1);
	ts_diffmemo__begin(m, "t/3/", &a, &x);
	ts_diffmemo__end(m, 1);
	test_equal_i(ts_diffmemo__find(&first, &n, m, "t/1/", &a, &b), 1);
	test_equal_i(ts_diffmemo__find(&first, &n, m, "t/2/", &a, &c), 0);
	test_equal_i(ts_diffmemo__find(&first, &n, m, "t/3/", &a, &x), 0);
	ts_diffmemo__free(m);

	/* many walks: each found */
	m = ts_diffmemo__new(1 << 22);
	for (n = 0; n < 3000; n++) {
		char path[32];
		git_oid to = id_of((int)n);
		to.id[5] = (unsigned char)(n >> 8);
		snprintf(path, sizeof(path), "t/%zu/", n);
		ts_diffmemo__begin(m, path, NULL, &to);
		ts_diffmemo__add(m, path, NULL, &to);
		ts_diffmemo__end(m, 1);
	}
	for (n = 0; n < 3000; n++) {
		char path[32];
		size_t k, f;
		git_oid to = id_of((int)n);
		to.id[5] = (unsigned char)(n >> 8);
		snprintf(path, sizeof(path), "t/%zu/", n);
		test_equal_i(ts_diffmemo__find(&f, &k, m, path, NULL, &to), 1);
		ts_diffmemo__change(&ch, m, f);
		test_equal_s(ch.path, path);
	}
	ts_diffmemo__free(m);
}

static int seen_path(const ts_audit_change *c, void *payload)
{
	ts_buf *seen = payload;
	ts_buf__printf(seen, "%s %s\n", ts_audit__op_name(c->op), c->path);
	return 0;
}

static int stop_at_first(const ts_audit_change *c, void *payload)
{
	(*(int *)payload)++;
	return 7;
}

void test_diffmemo__a_kept_walk_is_taken_unread(void)
{
	ts_store *store = NULL;
	ts_store_update u[4];
	git_oid t1, t2, d1, d2, blob;
	git_tree *tree1 = NULL, *tree2 = NULL;
	ts_buf seen = TS_BUF_INIT;
	ts_diffmemo *m = ts_diffmemo__new(1 << 20);
	int calls = 0;

	git_libgit2_init();   /* released below; the node does this for itself */
	test_ok(ts_store__open(&store, "r.git", 1));
	u[0] = (ts_store_update){ "d/x", "1", 1 };
	u[1] = (ts_store_update){ "d/y", "2", 1 };
	u[2] = (ts_store_update){ "e/z", "3", 1 };
	test_ok(ts_store__tree_update(&t1, store, NULL, u, 3));
	u[0] = (ts_store_update){ "d/x", "4", 1 };
	u[1] = (ts_store_update){ "e/z", "5", 1 };
	test_ok(ts_store__tree_update(&t2, store, &t1, u, 2));
	test_ok(ts_store__flush(store));
	test_ok(ts_store__entry_at(&d1, store, &t1, "d"));
	test_ok(ts_store__entry_at(&d2, store, &t2, "d"));
	test_ok(ts_store__entry_at(&blob, store, &t1, "d/y"));
	test_ok(git_tree_lookup(&tree1, ts_store__repo(store), &t1));
	test_ok(git_tree_lookup(&tree2, ts_store__repo(store), &t2));

	/* what was walked */
	test_ok(ts_audit__diff(ts_store__repo(store), tree1, tree2, NULL, 0, m, seen_path, &seen));
	test_equal_s(seen.ptr, "update d/x\nupdate e/z\n");

	/* kept for d/ (here a change the trees do not hold, to tell the two
	 * apart): taken instead of the walk below d/; e/ is walked */
	ts_diffmemo__begin(m, "d/", &d1, &d2);
	ts_diffmemo__add(m, "d/kept", NULL, &blob);
	ts_diffmemo__end(m, 1);
	ts_buf__clear(&seen);
	test_ok(ts_audit__diff(ts_store__repo(store), tree1, tree2, NULL, 0, m, seen_path, &seen));
	test_equal_s(seen.ptr, "insert d/kept\nupdate e/z\n");
	/* not for d/ from nothing: walked */
	ts_buf__clear(&seen);
	test_ok(ts_audit__diff(ts_store__repo(store), NULL, tree2, NULL, 0, m, seen_path, &seen));
	test_equal_s(seen.ptr, "insert d/x\ninsert d/y\ninsert e/z\n");
	/* a callback that stops on a kept change stops the walk with its value */
	test_equal_i(ts_audit__diff(ts_store__repo(store), tree1, tree2, NULL, 0, m, stop_at_first, &calls), 7);
	test_equal_i(calls, 1);

	ts_buf__dispose(&seen);
	ts_diffmemo__free(m);
	git_tree_free(tree1);
	git_tree_free(tree2);
	ts_store__free(store);
	git_libgit2_shutdown();
}
