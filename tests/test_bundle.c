/*
 * Unit tests of bundles: the file format (sync/bundle.c) read back by
 * hand, and bundles made and taken between the tiers (node/bundle_node.c):
 * up as a submission, down as an update, the refusals that leave a node as
 * it was, and importing twice or out of order. Rows are judged with SQL
 * written here, refs and objects with plain libgit2 and the file system.
 */
#include "harness.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <git2.h>

#include "bundle.h"
#include "node.h"
#include "nodes.h"
#include "tiersync.h"

/* Everything an import may write, as one string: the refs, the files of
 * history.git's objects, staged writes and the cases. */
static char *snapshot(ts_node *node)
{
	git_repository *repo = ts_test_history(node->path);
	git_strarray refs = { 0 };
	ts_buf s = TS_BUF_INIT, dir = TS_BUF_INIT;
	struct dirent *de;
	DIR *d;
	size_t i;

	if (!repo || git_reference_list(&refs, repo) < 0) {
		git_repository_free(repo);
		return NULL;
	}
	for (i = 0; i < refs.count; i++) {
		git_oid id;
		char hex[41] = "";
		if (git_reference_name_to_id(&id, repo, refs.strings[i]) == 0)
			git_oid_tostr(hex, sizeof(hex), &id);
		ts_buf__printf(&s, "%s=%s ", refs.strings[i], hex);
	}
	git_strarray_dispose(&refs);
	git_repository_free(repo);
	/* no new pack, no quarantine left behind */
	ts_buf__printf(&dir, "%s/history.git/objects/pack", node->path);
	if ((d = opendir(ts_buf__cstr(&dir)))) {
		char **names = NULL;
		size_t n = 0, k;
		while ((de = readdir(d)))
			if (de->d_name[0] != '.') {
				names = realloc(names, (n + 1) * sizeof(*names));
				names[n++] = strdup(de->d_name);
			}
		closedir(d);
		for (k = 0; k < n; k++) {     /* order-free: count and total length */
			ts_buf__printf(&s, "%zu:", strlen(names[k]));
			free(names[k]);
		}
		free(names);
		ts_buf__printf(&s, " packs=%zu ", n);
	}
	ts_buf__clear(&dir);
	ts_buf__printf(&dir, "%s/history.git", node->path);
	if ((d = opendir(ts_buf__cstr(&dir)))) {
		while ((de = readdir(d)))
			if (!strncmp(de->d_name, "tiersync-incoming-", 18))
				ts_buf__printf(&s, "quarantine:%s ", de->d_name);
		closedir(d);
	}
	ts_buf__printf(&s, "%s", ts_test_query_text(node,
		"SELECT (SELECT count(*) FROM ts_staged) || '|' || (SELECT count(*) FROM cases) || '|' ||"
		" ifnull((SELECT group_concat(id) FROM cases), '')"));
	ts_buf__dispose(&dir);
	return ts_buf__oom(&s) ? NULL : ts_buf__detach(&s);
}

#define test_unchanged(node, before) ts_test_unchanged(snapshot, node, before)

static int new_case(char **id, ts_node *node, const char *address)
{
	char commit[41];
	int error;

	if ((error = ts_case_new(id, node, NULL, "small_ads", "patrol", address, NULL, 0)) < 0)
		return error;
	return ts_node_commit(commit, node, "a case", NULL);
}

static void tree_of(char out[41], ts_node *node)
{
	git_repository *repo = ts_test_history(node->path);
	git_object *tree = NULL;

	out[0] = '\0';
	if (repo && git_revparse_single(&tree, repo, "refs/heads/main^{tree}") == 0)
		git_oid_tostr(out, 41, git_object_id(tree));
	git_object_free(tree);
	git_repository_free(repo);
}

static int write_bytes(const char *path, const char *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	int ok = f && fwrite(data, 1, len, f) == len;
	if (f)
		fclose(f);
	return ok ? 0 : -1;
}

static char *read_all(size_t *len, const char *path)
{
	FILE *f = fopen(path, "rb");
	char *data;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	data = malloc((size_t)n + 1);
	if (data && fread(data, 1, (size_t)n, f) != (size_t)n) {
		free(data);
		data = NULL;
	}
	fclose(f);
	*len = (size_t)n;
	return data;
}

/* A district with a city above it and one enrolled street below. */
static int chain(ts_node **dc, ts_node **st, const char *st_dir, const char *st_id)
{
	int error;

	*dc = ts_test_node("dc", TS_TIER_DISTRICT, "bj.dc", "张区");
	*st = ts_test_node(st_dir, TS_TIER_STREET, st_id, "李街");
	if (!*dc || !*st)
		return -1;
	if ((error = ts_test_enrolled_above(*dc)) < 0 || (error = ts_test_enroll(*dc, *st)) < 0)
		return error;
	return 0;
}

void test_bundle__header_round_trip(void)
{
	ts_node *dc = NULL, *st = NULL;
	ts_bundle__header h;
	ts_bundle__ref ref;
	git_oid main_id, first;
	char *id = NULL, *data;
	size_t objects, len;
	uint64_t bytes;

	test_ok(chain(&dc, &st, "st", "bj.dc.js"));
	test_ok(ts_store__ref_get(&first, st->store, TS_STORE_MAIN));
	test_ok(new_case(&id, st, "景山前街 1号"));
	test_ok(ts_store__ref_get(&main_id, st->store, TS_STORE_MAIN));
	ref.name = (char *)"refs/submissions/bj.dc.js";
	git_oid_cpy(&ref.id, &main_id);
	test_ok(ts_bundle__write(&objects, &bytes, "b.bundle", ts_store__repo(st->store), &ref, 1, &first, 1, 0));
	test_assert(objects > 0);
	test_ok(ts_bundle__read_header(&h, "b.bundle"));
	test_equal_i(h.nprerequisites, 1);
	test_assert(git_oid_equal(&h.prerequisites[0], &first));
	test_equal_i(h.nrefs, 1);
	test_equal_s(h.refs[0].name, "refs/submissions/bj.dc.js");
	test_assert(git_oid_equal(&h.refs[0].id, &main_id));
	test_equal_i(h.size, bytes);
	/* "# v2 git bundle\n", "-" + 40 + "\n", 40 + " " + ref + "\n", "\n" */
	test_equal_i(h.pack_offset, 16 + 42 + 41 + strlen("refs/submissions/bj.dc.js") + 1 + 1);
	ts_bundle__header_dispose(&h);

	/* what the reader refuses */
	test_assert((data = read_all(&len, "b.bundle")) != NULL);
	data[3] = '3';                                   /* "# v3 git bundle" */
	test_ok(write_bytes("bad.bundle", data, len));
	test_equal_i(ts_bundle__read_header(&h, "bad.bundle"), TS_ECORRUPT);
	test_error_says("does not begin");
	data[3] = '2';
	{
		/* upper-case hex is not what anyone writes: a flipped case bit */
		const char *upper = "# v2 git bundle\n-0123456789ABCDEF0123456789abcdef01234567\n"
			"0123456789abcdef0123456789abcdef01234567 refs/heads/main\n\nPACK";
		test_ok(write_bytes("bad.bundle", upper, strlen(upper)));
		test_equal_i(ts_bundle__read_header(&h, "bad.bundle"), TS_ECORRUPT);
		test_error_says("prerequisite");
	}
	test_ok(write_bytes("bad.bundle", data, 16 + 42 + 20));       /* cut inside the header */
	test_equal_i(ts_bundle__read_header(&h, "bad.bundle"), TS_ECORRUPT);
	test_error_says("cut short");
	test_ok(write_bytes("bad.bundle", data, (size_t)(16 + 42 + 41 + strlen("refs/submissions/bj.dc.js") + 2)));
	test_equal_i(ts_bundle__read_header(&h, "bad.bundle"), TS_ECORRUPT);    /* no pack */
	test_error_says("no pack");
	test_ok(write_bytes("bad.bundle", "# v2 git bundle\n\nPACK", 21));
	test_equal_i(ts_bundle__read_header(&h, "bad.bundle"), TS_ECORRUPT);
	test_error_says("no ref");
	test_ok(write_bytes("bad.bundle", "# v2 git bundle\n0123456789012345678901234567890123456789 refs/a..b\n\nPACK", 73));
	test_equal_i(ts_bundle__read_header(&h, "bad.bundle"), TS_ECORRUPT);
	test_error_says("invalid name");
	test_equal_i(ts_bundle__read_header(&h, "missing.bundle"), TS_ENOTFOUND);
	free(data);
	free(id);
	ts_node_free(st);
	ts_node_free(dc);
}

void test_bundle__up_and_down(void)
{
	ts_node *dc = NULL, *st = NULL;
	ts_bundle_info info;
	ts_bundle_import_result r;
	char *id = NULL, *id2 = NULL, *id3 = NULL, sql[256], tree_dc[41], tree_st[41], commit[41];

	test_ok(chain(&dc, &st, "st", "bj.dc.js"));
	/* down first: the whole history, no prerequisite */
	test_ok(ts_bundle_create(&info, dc, "down.bundle", &(ts_bundle_options){ TS_BUNDLE_OPTIONS_VERSION,
		"bj.dc.js", NULL, NULL, NULL, 0 }));
	test_equal_s(info.ref, "refs/heads/main");
	test_equal_i(info.prerequisites, 0);
	test_ok(ts_bundle_import(&r, st, "down.bundle", NULL, NULL));
	test_equal_i(r.submission, 0);
	test_equal_i(r.nothing_new, 0);
	test_equal_s(ts_test_query_text(st, "SELECT count(*) FROM sync_signers WHERE node_id = 'bj.dc.js'"), "1");

	/* up: a case, as a submission built on what the district is known to hold */
	test_ok(new_case(&id, st, "景山前街 1号"));
	test_ok(ts_bundle_create(&info, st, "up.bundle", NULL));
	test_equal_s(info.ref, "refs/submissions/bj.dc.js");
	test_equal_i(info.prerequisites, 1);
	test_ok(ts_bundle_import(&r, dc, "up.bundle", "张区", NULL));
	test_equal_i(r.submission, 1);
	test_equal_s(r.bundle.from, "bj.dc.js");
	test_assert(r.merge.rows_written >= 1);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM cases WHERE id = '%s'", id);
	test_equal_s(ts_test_query_text(dc, sql), "1");
	test_ok(ts_node_verify(dc, NULL, NULL));

	/* the district works too; its update reaches the street */
	test_ok(new_case(&id3, st, "景山前街 2号"));
	test_ok(ts_case_new(&id2, dc, NULL, "small_ads", "patrol", "东四 3号", NULL, 0));
	test_ok(ts_node_commit(commit, dc, "district case", NULL));
	test_ok(ts_bundle_create(&info, dc, "down2.bundle", &(ts_bundle_options){ TS_BUNDLE_OPTIONS_VERSION,
		"bj.dc.js", NULL, NULL, NULL, 0 }));
	test_equal_i(info.prerequisites, 1);
	test_ok(ts_bundle_import(&r, st, "down2.bundle", NULL, NULL));
	test_equal_i(r.merge.result, TS_MERGE_MERGED);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM cases WHERE id = '%s'", id2);
	test_equal_s(ts_test_query_text(st, sql), "1");
	/* and the street's merge goes up again: both hold one tree */
	test_ok(ts_bundle_create(&info, st, "up2.bundle", NULL));
	test_ok(ts_bundle_import(&r, dc, "up2.bundle", NULL, NULL));
	test_equal_i(r.merge.result, TS_MERGE_FAST_FORWARD);
	tree_of(tree_dc, dc);
	tree_of(tree_st, st);
	test_assert(tree_dc[0]);
	test_equal_s(tree_dc, tree_st);
	test_ok(ts_node_verify(st, NULL, NULL));
	free(id);
	free(id2);
	free(id3);
	ts_node_free(st);
	ts_node_free(dc);
}

/* A writer killed while it held a ref's lock file: the next import
 * removes the lock file the dead writer named in tiersync.lock, and only
 * that one (another may belong to a push stock git is receiving). */
void test_bundle__a_dead_writers_ref_lock_is_removed(void)
{
	ts_node *dc = NULL, *st = NULL;
	ts_bundle_info info;
	ts_bundle_import_result r;
	char *id = NULL, path[4096], before[41], sub[41];
	const char *named = "refs/submissions/bj.dc.js\n";
	struct stat sb;
	git_oid old;

	test_ok(chain(&dc, &st, "st", "bj.dc.js"));
	test_ok(ts_bundle_create(&info, dc, "down.bundle", &(ts_bundle_options){ TS_BUNDLE_OPTIONS_VERSION,
		"bj.dc.js", NULL, NULL, NULL, 0 }));
	test_ok(ts_bundle_import(&r, st, "down.bundle", NULL, NULL));
	test_ok(new_case(&id, st, "景山前街 1号"));
	test_ok(ts_bundle_create(&info, st, "up.bundle", NULL));
	test_ok(ts_store__ref_get(&old, dc->store, TS_STORE_MAIN));
	git_oid_tostr(before, sizeof(before), &old);

	/* what a writer killed between its lock file and its rename leaves */
	snprintf(path, sizeof(path), "%s/history.git/refs/submissions", dc->path);
	test_assert(mkdir(path, 0755) == 0 || errno == EEXIST);
	snprintf(path, sizeof(path), "%s/history.git/refs/submissions/bj.dc.js.lock", dc->path);
	test_ok(write_bytes(path, "", 0));
	snprintf(path, sizeof(path), "%s/history.git/refs/submissions/bj.dc.other.lock", dc->path);
	test_ok(write_bytes(path, "", 0));

	/* not named: the lock file is someone else's, and the import stops on it */
	test_assert(ts_bundle_import(&r, dc, "up.bundle", NULL, NULL) < 0);
	test_error_says("bj.dc.js.lock");
	test_equal_i(ts_store__ref_get(&old, dc->store, "refs/submissions/bj.dc.js"), TS_ENOTFOUND);
	test_ok(ts_store__ref_get(&old, dc->store, TS_STORE_MAIN));
	git_oid_tostr(sub, sizeof(sub), &old);
	test_equal_s(sub, before);

	/* named by the dead holder of the store lock: removed, the import goes through */
	snprintf(path, sizeof(path), "%s/history.git/tiersync.lock", dc->path);
	test_ok(write_bytes(path, named, strlen(named)));
	test_ok(ts_bundle_import(&r, dc, "up.bundle", NULL, NULL));
	test_equal_i(r.submission, 1);
	test_ok(ts_store__ref_get(&old, dc->store, "refs/submissions/bj.dc.js"));
	snprintf(path, sizeof(path), "%s/history.git/refs/submissions/bj.dc.js.lock", dc->path);
	test_assert(stat(path, &sb) < 0 && errno == ENOENT);
	snprintf(path, sizeof(path), "%s/history.git/refs/submissions/bj.dc.other.lock", dc->path);
	test_assert(stat(path, &sb) == 0);
	/* and the store lock names nothing once the writes are over */
	snprintf(path, sizeof(path), "%s/history.git/tiersync.lock", dc->path);
	test_assert(stat(path, &sb) == 0);
	test_equal_i((int)sb.st_size, 0);
	test_ok(ts_node_verify(dc, NULL, NULL));
	free(id);
	ts_node_free(st);
	ts_node_free(dc);
}

void test_bundle__refusals_move_nothing(void)
{
	ts_node *dc = NULL, *st = NULL, *other = NULL, *stranger = NULL, *city = NULL;
	ts_bundle_import_result r;
	ts_bundle_info info;
	char *id = NULL, *before, *data;
	size_t len;

	test_ok(chain(&dc, &st, "st", "bj.dc.js"));
	test_ok(new_case(&id, st, "景山前街 1号"));
	test_ok(ts_bundle_create(&info, st, "up.bundle", NULL));
	test_equal_i(info.prerequisites, 0);          /* never fetched: the whole history */
	before = snapshot(dc);
	test_assert(before != NULL);

	/* cut short, anywhere */
	test_assert((data = read_all(&len, "up.bundle")) != NULL);
	test_ok(write_bytes("cut.bundle", data, len - 1));
	test_equal_i(ts_bundle_import(&r, dc, "cut.bundle", NULL, NULL), TS_ECORRUPT);
	test_unchanged(dc, before);
	test_ok(write_bytes("cut.bundle", data, len / 2));
	test_equal_i(ts_bundle_import(&r, dc, "cut.bundle", NULL, NULL), TS_ECORRUPT);
	test_unchanged(dc, before);
	/* one byte flipped in the pack, in its checksum, or more after it */
	data[len / 2] ^= 0x20;
	test_ok(write_bytes("flip.bundle", data, len));
	test_equal_i(ts_bundle_import(&r, dc, "flip.bundle", NULL, NULL), TS_ECORRUPT);
	test_unchanged(dc, before);
	data[len / 2] ^= 0x20;
	data[len - 1] ^= 0x01;
	test_ok(write_bytes("flip.bundle", data, len));
	test_equal_i(ts_bundle_import(&r, dc, "flip.bundle", NULL, NULL), TS_ECORRUPT);
	test_unchanged(dc, before);
	data[len - 1] ^= 0x01;
	{
		char *longer = malloc(len + 4);
		memcpy(longer, data, len);
		memcpy(longer + len, "junk", 4);
		test_ok(write_bytes("long.bundle", longer, len + 4));
		free(longer);
	}
	test_equal_i(ts_bundle_import(&r, dc, "long.bundle", NULL, NULL), TS_ECORRUPT);
	test_error_says("is damaged");
	test_unchanged(dc, before);
	free(data);

	/* a street of another district: not below this one */
	other = ts_test_node("other", TS_TIER_STREET, "bj.xc.dsh", "周街");
	test_assert(other != NULL);
	test_ok(ts_bundle_create(&info, other, "other.bundle", NULL));
	test_equal_i(ts_bundle_import(&r, dc, "other.bundle", NULL, NULL), TS_EDENIED);
	test_error_says("not a node below bj.dc");
	test_unchanged(dc, before);
	/* below, but never enrolled here */
	stranger = ts_test_node("stranger", TS_TIER_STREET, "bj.dc.ss", "吴街");
	test_assert(stranger != NULL);
	test_ok(ts_bundle_create(&info, stranger, "unenrolled.bundle", NULL));
	test_equal_i(ts_bundle_import(&r, dc, "unenrolled.bundle", NULL, NULL), TS_EDENIED);
	test_error_says("not enrolled");
	test_unchanged(dc, before);
	/* built on a commit the district lacks */
	{
		test_ok(ts_bundle_create(&info, st, "since.bundle", &(ts_bundle_options){ TS_BUNDLE_OPTIONS_VERSION,
			NULL, "refs/heads/main", NULL, NULL, 0 }));
		test_equal_i(ts_bundle_import(&r, dc, "since.bundle", NULL, NULL), TS_EDENIED);
		test_error_says("which this node lacks");
		test_unchanged(dc, before);
	}
	/* an update at a city, a submission at the node that made it */
	city = ts_test_node("city", TS_TIER_CITY, "bj", "王城");
	test_assert(city != NULL);
	test_ok(ts_bundle_create(&info, dc, "update.bundle", &(ts_bundle_options){ TS_BUNDLE_OPTIONS_VERSION,
		"bj.dc.js", NULL, NULL, NULL, 0 }));
	test_equal_i(ts_bundle_import(&r, city, "update.bundle", NULL, NULL), TS_EDENIED);
	test_error_says("no node is above it");
	free(before);
	before = snapshot(st);
	test_equal_i(ts_bundle_import(&r, st, "up.bundle", NULL, NULL), TS_EDENIED);
	test_unchanged(st, before);
	free(before);
	before = snapshot(dc);

	/* the good one still goes in afterwards */
	test_ok(ts_bundle_import(&r, dc, "up.bundle", NULL, NULL));
	test_equal_i(r.nothing_new, 0);
	test_ok(ts_node_verify(dc, NULL, NULL));
	free(before);
	free(id);
	ts_node_free(city);
	ts_node_free(stranger);
	ts_node_free(other);
	ts_node_free(st);
	ts_node_free(dc);
}

void test_bundle__create_refusals(void)
{
	ts_node *dc = NULL, *st = NULL, *city;
	ts_bundle_options o = TS_BUNDLE_OPTIONS_INIT;
	ts_bundle_info info;
	struct stat sb;

	test_ok(chain(&dc, &st, "st", "bj.dc.js"));
	city = ts_test_node("city", TS_TIER_CITY, "bj", "王城");
	test_assert(city != NULL);
	test_equal_i(ts_bundle_create(&info, city, "c.bundle", NULL), TS_EINVALID);
	test_error_says("no node above it");
	o.for_node = "bj.xc";
	test_equal_i(ts_bundle_create(&info, dc, "c.bundle", &o), TS_EDENIED);
	test_error_says("not below bj.dc");
	o.for_node = "bj.dc";
	test_equal_i(ts_bundle_create(&info, dc, "c.bundle", &o), TS_EDENIED);
	o.for_node = "Not An Id";
	test_equal_i(ts_bundle_create(&info, dc, "c.bundle", &o), TS_EINVALID);
	o.for_node = NULL;
	o.since = "no-such-revision";
	test_equal_i(ts_bundle_create(&info, st, "c.bundle", &o), TS_ENOTFOUND);
	test_error_says("unknown revision");
	o.since = NULL;
	o.version = 99;
	test_equal_i(ts_bundle_create(&info, st, "c.bundle", &o), TS_EINVALID);
	test_assert(stat("c.bundle", &sb) < 0);
	o.version = TS_BUNDLE_OPTIONS_VERSION;
	test_equal_i(ts_bundle_create(&info, st, "no-such-dir/c.bundle", &o), TS_ERROR);
	ts_node_free(city);
	ts_node_free(st);
	ts_node_free(dc);
}

void test_bundle__twice_and_out_of_order(void)
{
	ts_node *dc = NULL, *st = NULL;
	ts_bundle_import_result r;
	ts_bundle_info info;
	char *a = NULL, *b = NULL, *before, sql[256], head[41];
	git_oid sub;

	test_ok(chain(&dc, &st, "st", "bj.dc.js"));
	test_ok(new_case(&a, st, "景山前街 1号"));
	test_ok(ts_bundle_create(&info, st, "one.bundle", NULL));
	test_ok(new_case(&b, st, "景山前街 2号"));
	test_ok(ts_bundle_create(&info, st, "two.bundle", NULL));

	/* the newer first, then the older: nothing new, the ref not moved back */
	test_ok(ts_bundle_import(&r, dc, "two.bundle", NULL, NULL));
	test_equal_i(r.nothing_new, 0);
	snprintf(head, sizeof(head), "%s", r.head);
	before = snapshot(dc);
	test_ok(ts_bundle_import(&r, dc, "one.bundle", NULL, NULL));
	test_equal_i(r.nothing_new, 1);
	test_equal_s(r.head, head);
	test_unchanged(dc, before);
	/* the same again */
	test_ok(ts_bundle_import(&r, dc, "two.bundle", NULL, NULL));
	test_equal_i(r.nothing_new, 1);
	test_unchanged(dc, before);
	free(before);
	test_ok(ts_store__ref_get(&sub, dc->store, "refs/submissions/bj.dc.js"));
	test_equal_s(git_oid_tostr_s(&sub), info.commit);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM cases WHERE id IN ('%s', '%s')", a, b);
	test_equal_s(ts_test_query_text(dc, sql), "2");

	test_ok(ts_node_verify(dc, NULL, NULL));
	free(a);
	free(b);
	ts_node_free(st);
	ts_node_free(dc);
}

void test_bundle__foreign_update_and_past_its_tier(void)
{
	ts_node *dc = NULL, *st = NULL, *foreign, *dev;
	ts_bundle_options o = TS_BUNDLE_OPTIONS_INIT;
	ts_bundle_import_result r;
	ts_bundle_info info;
	char *before;

	test_ok(chain(&dc, &st, "st", "bj.dc.js"));
	o.for_node = "bj.dc.js";
	test_ok(ts_bundle_create(&info, dc, "down.bundle", &o));
	test_ok(ts_bundle_import(&r, st, "down.bundle", NULL, NULL));

	/* another deployment's district of the same id: its whole history */
	foreign = ts_test_node("foreign", TS_TIER_DISTRICT, "bj.dc", "钱区");
	test_assert(foreign != NULL);
	test_ok(ts_bundle_create(&info, foreign, "foreign.bundle", &o));
	test_equal_i(info.prerequisites, 0);
	before = snapshot(st);
	test_equal_i(ts_bundle_import(&r, st, "foreign.bundle", NULL, NULL), TS_EDENIED);
	test_error_says("another deployment's");
	test_unchanged(st, before);
	free(before);

	/* a device of the street: its submission goes to the street, not past it */
	dev = ts_test_node("dev", TS_TIER_DEVICE, "bj.dc.js.d07", "赵强");
	test_assert(dev != NULL);
	test_ok(ts_test_enroll(st, dev));
	test_ok(ts_bundle_create(&info, st, "up.bundle", NULL));
	test_ok(ts_bundle_import(&r, dc, "up.bundle", NULL, NULL));
	test_ok(ts_bundle_create(&info, dev, "dev.bundle", NULL));
	before = snapshot(dc);
	test_equal_i(ts_bundle_import(&r, dc, "dev.bundle", NULL, NULL), TS_EDENIED);
	test_error_says("enrolled by bj.dc.js");
	test_unchanged(dc, before);
	free(before);
	ts_node_free(dev);
	ts_node_free(foreign);
	ts_node_free(st);
	ts_node_free(dc);
}

/* The urgent commit a submission bundle carries: made as a push makes it,
 * on what the district is known to hold, written as refs/urgent/<id>
 * before the submission, and merged first by the import; an urgent ref of
 * another node, or an urgent commit of another shape, refuses the whole
 * bundle. */
void test_bundle__urgent_reports_go_first(void)
{
	ts_node *dc = NULL, *st = NULL;
	ts_urgent_options o = { "液化气罐泄漏", NULL, NULL, NULL };
	ts_bundle_info info;
	ts_bundle_import_result r;
	ts_bundle__header h;
	ts_bundle__ref refs[2];
	git_repository *repo = NULL;
	git_commit *head = NULL, *first = NULL;
	git_oid urgent, sub, prereq;
	char *gas = NULL, *report = NULL, *other = NULL, *dcase = NULL, *before, commit[41], sql[256];

	test_ok(chain(&dc, &st, "st", "bj.dc.js"));
	test_ok(ts_bundle_create(&info, dc, "down.bundle", &(ts_bundle_options){ TS_BUNDLE_OPTIONS_VERSION,
		"bj.dc.js", NULL, NULL, NULL, 0 }));
	test_ok(ts_bundle_import(&r, st, "down.bundle", NULL, NULL));
	test_ok(new_case(&other, st, "景山前街 1号"));
	test_ok(ts_case_new(&gas, st, NULL, "gas_safety", "patrol", "景山后街 9号", NULL, 0));
	o.case_id = gas;
	test_ok(ts_urgent_create(&report, st, "王伟", &o));
	test_ok(ts_node_commit(commit, st, "urgent", NULL));
	test_ok(ts_bundle_create(&info, st, "up.bundle", NULL));
	test_assert(info.urgent[0]);
	test_equal_i(info.urgent_reports, 1);
	test_ok(ts_bundle__read_header(&h, "up.bundle"));
	test_equal_i(h.nrefs, 2);
	test_equal_s(h.refs[0].name, "refs/urgent/bj.dc.js");
	test_equal_s(git_oid_tostr_s(&h.refs[0].id), info.urgent);
	test_equal_s(h.refs[1].name, "refs/submissions/bj.dc.js");
	test_equal_s(git_oid_tostr_s(&h.refs[1].id), info.commit);
	git_oid_cpy(&urgent, &h.refs[0].id);
	git_oid_cpy(&sub, &h.refs[1].id);
	git_oid_cpy(&prereq, &h.prerequisites[0]);
	ts_bundle__header_dispose(&h);
	test_ok(ts_store__ref_get(&prereq, st->store, "refs/remotes/upstream/main"));

	/* the district's main moves on meanwhile */
	test_ok(new_case(&dcase, dc, "东四 3号"));
	before = snapshot(dc);
	/* another node's urgent ref beside the street's submission */
	refs[0].name = (char *)"refs/urgent/bj.dc.other";
	git_oid_cpy(&refs[0].id, &urgent);
	refs[1].name = (char *)"refs/submissions/bj.dc.js";
	git_oid_cpy(&refs[1].id, &sub);
	test_ok(ts_bundle__write(NULL, NULL, "other.bundle", ts_store__repo(st->store), refs, 2, &prereq, 1, 0));
	test_equal_i(ts_bundle_import(&r, dc, "other.bundle", NULL, NULL), TS_EDENIED);
	test_error_says("only the urgent reports of the node whose submission it is");
	test_unchanged(dc, before);
	/* an urgent ref naming the whole backlog (the compact form): not one commit on the district's main */
	refs[0].name = (char *)"refs/urgent/bj.dc.js";
	git_oid_cpy(&refs[0].id, &sub);
	test_ok(ts_bundle__write(NULL, NULL, "backlog.bundle", ts_store__repo(st->store), refs, 2, &prereq, 1, 1));
	test_equal_i(ts_bundle_import(&r, dc, "backlog.bundle", NULL, NULL), TS_EDENIED);
	test_error_says("does not stand on a commit of this node's main");
	test_unchanged(dc, before);
	/* the urgent ref alone */
	git_oid_cpy(&refs[0].id, &urgent);
	test_ok(ts_bundle__write(NULL, NULL, "alone.bundle", ts_store__repo(st->store), refs, 1, &prereq, 1, 0));
	test_equal_i(ts_bundle_import(&r, dc, "alone.bundle", NULL, NULL), TS_EDENIED);
	test_error_says("urgent reports travel with the submission");
	test_unchanged(dc, before);
	free(before);

	/* the good one: the urgent commit merged first, then the submission */
	test_ok(ts_bundle_import(&r, dc, "up.bundle", "张区", NULL));
	test_equal_i(r.nothing_new, 0);
	test_equal_i(r.urgent_merged, 1);
	test_equal_i(r.urgent_merge.result, TS_MERGE_MERGED);
	test_equal_s(r.bundle.urgent, info.urgent);
	test_ok(ts_store__ref_get(&prereq, dc->store, "refs/urgent/bj.dc.js"));
	test_assert(git_oid_equal(&prereq, &urgent));
	test_ok(ts_store__ref_get(&prereq, dc->store, "refs/submissions/bj.dc.js"));
	test_assert(git_oid_equal(&prereq, &sub));
	test_assert((repo = ts_test_history(dc->path)) != NULL);
	test_ok(git_oid_fromstr(&prereq, r.head));
	test_ok(git_commit_lookup(&head, repo, &prereq));
	test_equal_s(git_commit_message(head), "merge submission of bj.dc.js\n");
	test_ok(git_commit_parent(&first, head, 0));
	test_equal_s(git_commit_message(first), "merge urgent reports of bj.dc.js\n");
	test_equal_i(git_commit_parentcount(first), 2);
	test_assert(git_oid_equal(git_commit_parent_id(first, 1), &urgent));
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM urgent_reports WHERE id = '%s'", report);
	test_equal_s(ts_test_query_text(dc, sql), "1");
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM cases WHERE id = '%s'", other);
	test_equal_s(ts_test_query_text(dc, sql), "1");
	test_equal_s(ts_test_query_text(dc, "SELECT count(*) FROM sync_conflicts"), "0");
	test_ok(ts_node_verify(dc, NULL, NULL));

	/* a street that never took its district's main: no urgent commit,
	 * its whole history carries the report */
	{
		ts_node *st2 = ts_test_node("st2", TS_TIER_STREET, "bj.dc.st2", "孙");
		char *id2 = NULL;
		test_assert(st2 != NULL);
		o.case_id = NULL;
		test_ok(ts_urgent_create(&id2, st2, NULL, &o));
		test_ok(ts_node_commit(commit, st2, "urgent", NULL));
		test_ok(ts_bundle_create(&info, st2, "st2.bundle", NULL));
		test_equal_s(info.urgent, "");
		test_ok(ts_bundle__read_header(&h, "st2.bundle"));
		test_equal_i(h.nrefs, 1);
		ts_bundle__header_dispose(&h);
		free(id2);
		ts_node_free(st2);
	}
	git_commit_free(first);
	git_commit_free(head);
	git_repository_free(repo);
	free(report);
	free(other);
	free(gas);
	free(dcase);
	ts_node_free(st);
	ts_node_free(dc);
}

/* The compact form: each commit as its changes, far smaller than the git
 * bundle of the same commits; taken in up and down alike, rebuilt to the
 * same ids; cut short, flipped or followed by more, refused whole. */
void test_bundle__compact_form(void)
{
	ts_node *dc = NULL, *st = NULL;
	ts_bundle_import_result r;
	ts_bundle_info info, git_info;
	ts_bundle_options compact = TS_BUNDLE_OPTIONS_INIT, down = TS_BUNDLE_OPTIONS_INIT;
	char *id = NULL, *before, *data, sql[256], tree_dc[41], tree_st[41];
	size_t len, cut;

	compact.compact = 1;
	down.compact = 1;
	down.for_node = "bj.dc.js";
	test_ok(chain(&dc, &st, "st", "bj.dc.js"));
	/* down: the whole history, from the empty tree */
	test_ok(ts_bundle_create(&info, dc, "down.bundle", &down));
	test_ok(ts_bundle_create(&git_info, dc, "down-git.bundle", &(ts_bundle_options){ TS_BUNDLE_OPTIONS_VERSION,
		"bj.dc.js", NULL, NULL, NULL, 0 }));
	test_assert(info.bytes < git_info.bytes / 2);
	test_ok(ts_bundle_import(&r, st, "down.bundle", NULL, NULL));
	test_equal_i(r.submission, 0);
	test_equal_s(ts_test_query_text(st, "SELECT count(*) FROM sync_signers WHERE node_id = 'bj.dc.js'"), "1");

	/* up: a case, as a submission */
	test_ok(new_case(&id, st, "景山前街 1号"));
	test_ok(ts_bundle_create(&info, st, "up.bundle", &compact));
	test_ok(ts_bundle_create(&git_info, st, "up-git.bundle", NULL));
	test_assert(info.bytes < git_info.bytes);
	test_assert((data = read_all(&len, "up.bundle")) != NULL);
	test_assert(!strncmp(data, "# tiersync changes bundle 1\n", 28));
	before = snapshot(dc);
	test_assert(before != NULL);
	for (cut = len / 8; cut < len; cut += len / 8 ? len / 8 : 1) {
		test_ok(write_bytes("cut.bundle", data, cut));
		test_equal_i(ts_bundle_import(&r, dc, "cut.bundle", NULL, NULL), TS_ECORRUPT);
		test_unchanged(dc, before);
	}
	data[len - 20] ^= 0x20;
	test_ok(write_bytes("flip.bundle", data, len));
	test_equal_i(ts_bundle_import(&r, dc, "flip.bundle", NULL, NULL), TS_ECORRUPT);
	test_unchanged(dc, before);
	data[len - 20] ^= 0x20;
	{
		char *longer = malloc(len + 4);
		memcpy(longer, data, len);
		memcpy(longer + len, "junk", 4);
		test_ok(write_bytes("long.bundle", longer, len + 4));
		free(longer);
	}
	test_equal_i(ts_bundle_import(&r, dc, "long.bundle", NULL, NULL), TS_ECORRUPT);
	test_error_says("after");
	test_unchanged(dc, before);
	free(data);
	free(before);

	test_ok(ts_bundle_import(&r, dc, "up.bundle", "张区", NULL));
	test_equal_i(r.submission, 1);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM cases WHERE id = '%s'", id);
	test_equal_s(ts_test_query_text(dc, sql), "1");
	test_ok(ts_node_verify(dc, NULL, NULL));
	/* the merge goes down again: one tree on both */
	test_ok(ts_bundle_create(&info, dc, "down2.bundle", &down));
	test_ok(ts_bundle_import(&r, st, "down2.bundle", NULL, NULL));
	tree_of(tree_dc, dc);
	tree_of(tree_st, st);
	test_assert(tree_dc[0]);
	test_equal_s(tree_dc, tree_st);
	test_ok(ts_node_verify(st, NULL, NULL));
	free(id);
	ts_node_free(st);
	ts_node_free(dc);
}
