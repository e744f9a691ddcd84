/*
 * Unit tests of the changes stream (sync/changes.c): a node's history sent
 * as each commit's changes and rebuilt on the other side to the very same
 * ids, which stock git judges (`git fsck --full --strict`, `git rev-parse`).
 * A stream cut anywhere keeps the commits that arrived whole and goes on
 * from the last of them; a forged or malformed one is refused whole, with
 * nothing left in the receiving repository.
 */
#include "harness.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "changes.h"
#include "store.h"
#include "tiersync.h"

#define NODE_ID "bj.dc.jingshan"


/* Files in DIR/objects/pack and loose object directories: what a refusal must not leave. */
static int objects_in(const char *gitdir)
{
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "find %s/objects -type f ! -path '*/info/*' | wc -l", gitdir);
	return atoi(ts_test_first_line(cmd));
}

/* An in-memory stream: written whole, then read back from `pos`, no more than `limit` bytes. */
typedef struct {
	unsigned char *p;
	size_t n, cap, pos, limit;
} mem;

static int mem_write(const void *data, size_t len, void *payload)
{
	mem *m = payload;
	if (m->n + len > m->cap) {
		size_t cap = (m->n + len) * 2;
		unsigned char *p = realloc(m->p, cap);
		if (!p)
			return -1;
		m->p = p;
		m->cap = cap;
	}
	memcpy(m->p + m->n, data, len);
	m->n += len;
	return 0;
}

static int mem_read(void *data, size_t size, size_t *got, void *payload)
{
	mem *m = payload;
	size_t end = m->limit && m->limit < m->n ? m->limit : m->n;
	size_t k = end - m->pos < size ? end - m->pos : size;

	memcpy(data, m->p + m->pos, k);
	m->pos += k;
	*got = k;
	return 0;
}

/* A node with seven commits: init's, new cases, updates of a few columns,
 * a case's events, a deletion. */
static int make_node(ts_node **out, char ids[][41], int *n)
{
	ts_init_options opts = { TS_INIT_OPTIONS_VERSION, TS_TIER_STREET, NODE_ID, NULL, "王伟", NULL };
	ts_field where[] = { { "lng", "116.397" }, { "lat", "39.9" } };
	ts_field moves[] = { { "status", "dispatched" }, { "description", "墙上\"小广告\"" } };
	ts_field officer = { "officer", "赵六" };
	char *a = NULL, *b = NULL;
	int error, i;

	*n = 0;
	if ((error = ts_node_init(out, "n", &opts)) < 0)
		return error;
	for (i = 0; i < 3 && error == 0; i++) {
		char address[64];
		snprintf(address, sizeof(address), "景山前街 %d号", i + 1);
		free(a);
		a = NULL;
		if ((error = ts_case_new(&a, *out, "王伟", "small_ads", "patrol", address, where, 2)) == 0 &&
		    i == 0)
			b = strdup(a);
		if (error == 0)
			error = ts_node_commit(ids[(*n)++], *out, "立案", "王伟");
	}
	if (error == 0 && (error = ts_case_update(*out, "张强", b, moves, 2)) == 0)
		error = ts_node_commit(ids[(*n)++], *out, "派遣", "张强");
	if (error == 0 && (error = ts_case_update(*out, "赵六", a, &officer, 1)) == 0)
		error = ts_node_commit(ids[(*n)++], *out, "认领", "赵六");
	free(a);
	free(b);
	return error;
}

static int send_main(mem *m, const char *gitdir, const char *have_hex)
{
	git_repository *repo = NULL;
	git_oid tip, have;
	int error;

	if (git_repository_open_bare(&repo, gitdir) < 0 || git_reference_name_to_id(&tip, repo, "refs/heads/main") < 0)
		return -1;
	if (have_hex)
		git_oid_fromstr(&have, have_hex);
	error = ts_changes__send(NULL, repo, &tip, 1, have_hex ? &have : NULL, have_hex ? 1 : 0, TS_CHANGES_LEVEL, mem_write, m, NULL, NULL);
	git_repository_free(repo);
	return error;
}

/* The stream's records, inflated; and a stream made again from records. */
static int inflate_all(mem *plain, const mem *m)
{
	size_t skip = strlen(TS_CHANGES_MAGIC);
	unsigned char out[65536];
	z_stream z;
	int rc;

	memset(&z, 0, sizeof(z));
	memset(plain, 0, sizeof(*plain));
	if (inflateInit(&z) != Z_OK)
		return -1;
	z.next_in = m->p + skip;
	z.avail_in = (uInt)(m->n - skip);
	do {
		z.next_out = out;
		z.avail_out = sizeof(out);
		rc = inflate(&z, Z_NO_FLUSH);
		mem_write(out, sizeof(out) - z.avail_out, plain);
	} while (rc == Z_OK);
	inflateEnd(&z);
	return rc == Z_STREAM_END ? 0 : -1;
}

static int deflate_all(mem *m, const mem *plain)
{
	unsigned char out[65536];
	z_stream z;
	int rc;

	memset(&z, 0, sizeof(z));
	memset(m, 0, sizeof(*m));
	if (deflateInit(&z, 6) != Z_OK)
		return -1;
	mem_write(TS_CHANGES_MAGIC, strlen(TS_CHANGES_MAGIC), m);
	z.next_in = plain->p;
	z.avail_in = (uInt)plain->n;
	do {
		z.next_out = out;
		z.avail_out = sizeof(out);
		rc = deflate(&z, Z_FINISH);
		mem_write(out, sizeof(out) - z.avail_out, m);
	} while (rc == Z_OK);
	deflateEnd(&z);
	return rc == Z_STREAM_END ? 0 : -1;
}

/* Replaces the first `from` in the records with `to` (same length or not);
 * a `from` of "A|B" is the first B after the first A. */
static int edit(mem *plain, const char *from, const char *to)
{
	const char *bar = strchr(from, '|');
	unsigned char *at = memmem(plain->p, plain->n, from, bar ? (size_t)(bar - from) : strlen(from));
	size_t off, fl, tl = strlen(to);
	mem out = { 0 };

	if (at && bar) {
		from = bar + 1;
		at = memmem(at, plain->n - (size_t)(at - plain->p), from, strlen(from));
	}
	fl = strlen(from);
	if (!at)
		return -1;
	off = (size_t)(at - plain->p);
	mem_write(plain->p, off, &out);
	mem_write(to, tl, &out);
	mem_write(plain->p + off + fl, plain->n - off - fl, &out);
	free(plain->p);
	*plain = out;
	return 0;
}

static int receive(ts_changes__stats *st, const char *gitdir, mem *m)
{
	ts_store *store = NULL;
	int error;

	if ((error = ts_store__open(&store, gitdir, 0)) == TS_ENOTFOUND)
		error = ts_store__open(&store, gitdir, 1);
	if (error < 0)
		return error;
	m->pos = 0;
	error = ts_changes__receive(st, store, mem_read, m, NULL, NULL);
	if ((error == 0 || error == TS_ENET) && st->commits)
		ts_store__ref_set(store, TS_STORE_MAIN, &st->last, "test");
	ts_store__free(store);
	return error;
}

void test_changes__a_history_rebuilds_to_the_same_ids(void)
{
	ts_node *node = NULL;
	char ids[16][41];
	ts_changes__stats st;
	mem m = { 0 }, plain = { 0 };
	int n;

	test_ok(make_node(&node, ids, &n));
	test_ok(send_main(&m, "n/history.git", NULL));
	test_ok(receive(&st, "r.git", &m));
	test_equal_i(st.cut, 0);
	test_equal_i(st.commits, atoi(ts_test_first_line("git --git-dir=n/history.git rev-list --count main")));
	test_equal_s(ts_test_first_line("git --git-dir=r.git rev-parse main"), ids[n - 1]);
	test_ok(ts_test_sh("git --git-dir=r.git fsck --full --strict >/dev/null 2>&1"));
	test_ok(ts_test_sh("test \"$(git --git-dir=r.git rev-list --objects main | sort)\" = "
		"\"$(git --git-dir=n/history.git rev-list --objects main | sort)\""));
	/* updates travel as their changed columns, not as whole rows */
	test_ok(inflate_all(&plain, &m));
	test_assert(memmem(plain.p, plain.n, "row ", 4) != NULL);
	test_assert(memmem(plain.p, plain.n, "status \"dispatched\"\n", 20) != NULL);
	free(m.p);
	free(plain.p);
	ts_node_free(node);
}

void test_changes__an_increment_sends_only_the_new_commits(void)
{
	ts_node *node = NULL;
	char ids[16][41];
	ts_changes__stats st;
	mem all = { 0 }, m = { 0 };
	int n;

	test_ok(make_node(&node, ids, &n));
	test_ok(send_main(&all, "n/history.git", NULL));
	test_ok(receive(&st, "r.git", &all));
	/* the receiver holds everything: the next send is empty */
	test_ok(send_main(&m, "n/history.git", ids[n - 1]));
	test_ok(receive(&st, "r.git", &m));
	test_equal_i(st.commits, 0);
	free(m.p);
	memset(&m, 0, sizeof(m));
	/* from the third commit on: two commits, far fewer bytes than all of it */
	test_ok(send_main(&m, "n/history.git", ids[n - 3]));
	test_ok(ts_test_sh("rm -rf r2.git && git init -q --bare r2.git && "
		"git --git-dir=n/history.git push -q r2.git $(git --git-dir=n/history.git rev-parse main~2):refs/heads/main"));
	test_ok(receive(&st, "r2.git", &m));
	test_equal_i(st.commits, 2);
	test_assert(m.n < all.n / 2);
	test_equal_s(ts_test_first_line("git --git-dir=r2.git rev-parse main"), ids[n - 1]);
	test_ok(ts_test_sh("git --git-dir=r2.git fsck --full --strict >/dev/null 2>&1"));
	free(all.p);
	free(m.p);
	ts_node_free(node);
}

/* Cut at every 97th byte: the commits that came whole stay, and a send
 * from the last of them completes the history. */
void test_changes__a_cut_stream_resumes_from_the_last_whole_commit(void)
{
	ts_node *node = NULL;
	char ids[16][41], hex[41];
	ts_changes__stats st;
	mem m = { 0 }, rest = { 0 };
	size_t at;
	int n, error, cuts = 0, partial = 0;

	test_ok(make_node(&node, ids, &n));
	test_ok(send_main(&m, "n/history.git", NULL));
	for (at = 1; at < m.n; at += 97) {
		test_ok(ts_test_sh("rm -rf r.git"));
		m.limit = at;
		error = receive(&st, "r.git", &m);
		test_equal_i(error, TS_ENET);
		test_equal_i(st.cut, 1);
		cuts++;
		if (st.commits == 0)
			continue;
		partial++;
		git_oid_tostr(hex, sizeof(hex), &st.last);
		test_ok(ts_test_sh("git --git-dir=r.git fsck --full --strict >/dev/null 2>&1"));
		memset(&rest, 0, sizeof(rest));
		test_ok(send_main(&rest, "n/history.git", hex));
		test_ok(receive(&st, "r.git", &rest));
		test_equal_s(ts_test_first_line("git --git-dir=r.git rev-parse main"), ids[n - 1]);
		test_ok(ts_test_sh("git --git-dir=r.git fsck --full --strict >/dev/null 2>&1"));
		free(rest.p);
	}
	test_assert(cuts > 5 && partial > 2);
	free(m.p);
	ts_node_free(node);
}

/* Each forgery is refused whole: an error naming the fault, nothing written. */
static void refused(const mem *good, const char *from, const char *to, const char *says)
{
	mem plain = { 0 }, bad = { 0 };
	ts_changes__stats st;

	test_ok(ts_test_sh("rm -rf r.git && git init -q --bare r.git"));
	test_ok(inflate_all(&plain, good));
	if (edit(&plain, from, to) < 0) { ts_test__fail(__FILE__, __LINE__, "no \"%s\" in the stream", from); return; }
	test_ok(deflate_all(&bad, &plain));
	test_equal_i(receive(&st, "r.git", &bad), TS_ECORRUPT);
	test_error_says(says);
	test_equal_i(objects_in("r.git"), 0);
	test_ok(ts_test_sh("test -z \"$(git --git-dir=r.git for-each-ref)\""));
	free(plain.p);
	free(bad.p);
}

void test_changes__forged_or_malformed_streams_are_refused_whole(void)
{
	ts_node *node = NULL;
	char ids[16][41], line[128];
	mem m = { 0 };
	int n;

	test_ok(make_node(&node, ids, &n));
	test_ok(send_main(&m, "n/history.git", NULL));
	/* a changed value: the tree no longer matches the signed commit */
	refused(&m, "\"dispatched\"", "\"dispatchex\"", "does not rebuild");
	refused(&m, "put 100644 ", "put 100755 ", "mode 100644");
	refused(&m, " _tiersync/schema-version\n", " _tiersync/../x\n", "malformed put");
	refused(&m, "\ndone ", "\ndone 9", "ends saying");
	snprintf(line, sizeof(line), "\nend %s\n", ids[0]);
	refused(&m, line, "\nend 0000000000000000000000000000000000000000\n", "ends commit");
	refused(&m, "\nend ", "\nfoo ", "unexpected record");
	refused(&m, "row ", "row 99999999999999999999 ", "malformed row");
	/* a row change where the parent holds no row */
	refused(&m, "row | cases/", " casez/", "does not hold");
	/* not a stream at all, and garbage after the end */
	{
		mem junk = { (unsigned char *)"tiersync-changes 2\n", 19, 0, 0, 0 };
		ts_changes__stats st;
		test_equal_i(receive(&st, "r.git", &junk), TS_ECORRUPT);
		test_error_says("not a changes stream");
	}
	{
		mem tail = { 0 };
		ts_changes__stats st;
		mem_write(m.p, m.n, &tail);
		mem_write("x", 1, &tail);
		test_ok(ts_test_sh("rm -rf r.git"));
		test_equal_i(receive(&st, "r.git", &tail), TS_ECORRUPT);
		test_error_says("after its end");
		free(tail.p);
	}
	free(m.p);
	ts_node_free(node);
}

/* A merge travels against its closest parent: a merge whose tree is its
 * second parent's sends no entry at all, only a base record naming that
 * parent, and rebuilds to its id. */
void test_changes__a_merge_travels_against_its_closest_parent(void)
{
	ts_node *node = NULL;
	char ids[16][41], cmd[512], merge[41], line[64];
	git_repository *repo = NULL;
	git_oid tip, have;
	ts_changes__stats st;
	mem m = { 0 }, plain = { 0 };
	int n;

	test_ok(make_node(&node, ids, &n));
	test_ok(ts_test_sh("git init -q --bare r.git && git --git-dir=n/history.git push -q r.git main:refs/heads/main"));
	/* first parent the second commit, second parent main, main's tree */
	snprintf(cmd, sizeof(cmd), "git --git-dir=n/history.git -c user.name=t -c user.email=t commit-tree "
		"-p %s -p %s -m merge %s^{tree}", ids[0], ids[n - 1], ids[n - 1]);
	snprintf(merge, sizeof(merge), "%s", ts_test_first_line(cmd));
	test_equal_i(strlen(merge), 40);
	test_assert(git_repository_open_bare(&repo, "n/history.git") == 0);
	git_oid_fromstr(&tip, merge);
	git_oid_fromstr(&have, ids[n - 1]);
	test_ok(ts_changes__send(NULL, repo, &tip, 1, &have, 1, Z_BEST_SPEED, mem_write, &m, NULL, NULL));
	git_repository_free(repo);
	test_ok(inflate_all(&plain, &m));
	snprintf(line, sizeof(line), "\nbase %s\nend ", ids[n - 1]);
	test_assert(memmem(plain.p, plain.n, line, strlen(line)) != NULL);
	test_ok(receive(&st, "r.git", &m));
	test_equal_i(st.commits, 1);
	test_equal_s(ts_test_first_line("git --git-dir=r.git rev-parse main"), merge);
	test_ok(ts_test_sh("git --git-dir=r.git fsck --full --strict >/dev/null 2>&1"));
	free(m.p);
	free(plain.p);
	ts_node_free(node);
}
