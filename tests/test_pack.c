/*
 * Unit tests of pack files (sync/pack.c): packs combined by copying their
 * entries. The packs are made by stock git (deltas against an offset and
 * against an id, objects held by two packs, a delta whose base is such an
 * object), and stock git judges the result: `git verify-pack`, `git fsck
 * --full`, every object read back. A damaged part is refused whole.
 */
#include "harness.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "pack.h"
#include "store.h"
#include "tiersync.h"


/* The names ("pack-<id>") of the packs in `dir`, sorted, and how many. */
static size_t pack_names(char names[][64], size_t max, const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t n = 0;

	while (d && (de = readdir(d)))
		if (!strncmp(de->d_name, "pack-", 5) && strstr(de->d_name, ".idx") && n < max)
			snprintf(names[n++], 64, "%.*s", (int)(strlen(de->d_name) - 4), de->d_name);
	if (d)
		closedir(d);
	return n;
}

/*
 * r.git with two packs made by stock git: "ofs" holds commits 1-4 with
 * deltas against offsets, "ref" commits 3-6 with deltas against ids, so
 * the objects of commits 3 and 4 are in both, some as bases of deltas.
 */
static int two_packs(void)
{
	return ts_test_sh("set -e; exec >/dev/null 2>&1; git init -q --bare r.git; git init -q w; cd w; "
		"git config user.name t; git config user.email t@t; "
		"i=0; while [ $i -lt 200 ]; do echo \"line $i of a file long enough for deltas\"; i=$((i+1)); done > a; "
		"for c in 1 2 3 4 5 6; do echo \"change $c\" >> a; sed \"s/line 1$c /LINE $c /\" a > b; git add a b; "
		"git commit -q -m \"commit $c\"; git tag c$c; done; "
		"{ git rev-list --objects c4; } | git pack-objects -q --delta-base-offset ../r.git/objects/pack/pack; "
		"{ git rev-list --objects c6 ^c2; } | git pack-objects -q ../r.git/objects/pack/pack; "
		"git --git-dir=../r.git update-ref refs/heads/main $(git rev-parse c6)");
}

/* Every object of commits 1-6 is in r.git and reads back; git's checks pass. */
static int whole(void)
{
	return ts_test_sh("set -e; exec >/dev/null 2>&1; cd w; "
		"git rev-list --objects c6 | cut -d' ' -f1 | sort > ../want; "
		"cd ../r.git; git verify-pack objects/pack/*.idx; git fsck --full --strict; "
		"git cat-file --batch-all-objects --batch-check='%(objectname)' | sort > ../have; "
		"cmp ../want ../have; git cat-file --batch-all-objects --batch >/dev/null");
}

static void combine_in_order(int reverse)
{
	char names[8][64], *order[2], out[64];
	const char *dir = "r.git/objects/pack";

	test_ok(two_packs());
	test_equal_i(pack_names(names, 8, dir), 2);
	order[0] = names[reverse ? 1 : 0];
	order[1] = names[reverse ? 0 : 1];
	test_ok(ts_pack__combine(out, dir, order, 2, 1));
	test_assert(!strncmp(out, "pack-", 5) && strlen(out) == 45);
	/* the parts go; what is left is the combined pack alone */
	{
		char cmd[512];
		snprintf(cmd, sizeof(cmd), "cd %s && rm %s.pack %s.idx %s.pack %s.idx", dir, names[0], names[0], names[1],
			names[1]);
		test_ok(ts_test_sh(cmd));
	}
	test_equal_i(pack_names(names, 8, dir), 1);
	test_equal_s(names[0], out);
	test_ok(whole());
	/* nothing left behind in the pack directory */
	test_equal_s(ts_test_first_line("ls r.git/objects/pack | grep -vc '^pack-'"), "0");
	/* still deltas in it: nothing was expanded */
	test_assert(atoi(ts_test_first_line("cd r.git && git verify-pack -v objects/pack/*.idx | grep -c 'chain length'")) > 0);
}

void test_pack__combine_keeps_every_object_once(void)
{
	combine_in_order(0);
}

void test_pack__combine_the_other_way_round(void)
{
	combine_in_order(1);
}

void test_pack__a_damaged_part_is_refused_whole(void)
{
	char names[8][64], *order[2], out[64], before[256], after[256];
	const char *dir = "r.git/objects/pack";
	char cmd[512];

	test_ok(two_packs());
	test_equal_i(pack_names(names, 8, dir), 2);
	order[0] = names[0];
	order[1] = names[1];
	/* one byte in the middle of the first pack turned over */
	snprintf(cmd, sizeof(cmd), "cd %s && f=%s.pack && chmod u+w $f && at=$(($(stat -c %%s $f) / 2)) && "
		"b=$(dd if=$f bs=1 skip=$at count=1 status=none | od -An -tu1) && "
		"printf \"\\\\$(printf %%o $((255 - b)))\" | dd of=$f bs=1 seek=$at conv=notrunc status=none", dir, names[0]);
	test_ok(ts_test_sh(cmd));
	snprintf(before, sizeof(before), "%s", ts_test_first_line("ls -l --time-style=full-iso r.git/objects/pack | md5sum"));
	test_equal_i(ts_pack__combine(out, dir, order, 2, 1), TS_ECORRUPT);
	test_error_says(names[0]);
	test_equal_s(out, "");
	snprintf(after, sizeof(after), "%s", ts_test_first_line("ls -l --time-style=full-iso r.git/objects/pack | md5sum"));
	test_equal_s(after, before);

	/* an index cut short */
	test_ok(ts_test_sh("cd w && git rev-list --objects c6 | git pack-objects -q ../r.git/objects/pack/pack >/dev/null"));
	test_equal_i(pack_names(names, 8, dir), 3);
	snprintf(cmd, sizeof(cmd), "cd %s && chmod u+w %s.idx && truncate -s 1000 %s.idx", dir, names[2], names[2]);
	test_ok(ts_test_sh(cmd));
	order[0] = names[2];
	test_equal_i(ts_pack__combine(out, dir, order, 1, 1), TS_ECORRUPT);
	test_error_says("cut short");
}

/* A write larger than the batch holds goes out as packs of its own while
 * it runs: memory stays bounded, and every object is there at the end. */
void test_pack__a_big_write_goes_out_in_bounded_packs(void)
{
	enum { N = 30000, LEN = 1000 };
	ts_store *store = NULL;
	ts_store_update *u = calloc(N, sizeof(*u));
	char *data = malloc((size_t)N * LEN), (*paths)[32] = malloc(N * sizeof(*paths)), names[64][64], cmd[4200];
	ts_store_who who = { "t", "bj", 1700000000, 480 };
	unsigned int seed = 7;
	git_oid tree, commit;
	size_t i, k, packs_during;

	test_assert(u && data && paths);
	test_assert((size_t)N * LEN > 3 * TS_BATCH_BYTES / 2);
	for (i = 0; i < N; i++) {
		for (k = 0; k < LEN; k++) {
			seed = seed * 1103515245u + 12345u;
			data[i * LEN + k] = "0123456789abcdef"[(seed >> 16) & 15];
		}
		snprintf(paths[i], sizeof(paths[i]), "t/%02zx/%05zu", i % 256, i);
		u[i] = (ts_store_update){ paths[i], data + i * LEN, LEN };
	}
	git_libgit2_init();   /* shut down below; a node does this for itself */
	test_ok(ts_store__open(&store, "r.git", 1));
	test_ok(ts_store__tree_update(&tree, store, NULL, u, N));
	packs_during = pack_names(names, 64, "r.git/objects/pack");
	test_assert(packs_during >= 1);
	test_ok(ts_store__commit(&commit, NULL, store, &tree, NULL, 0, &who, &who, "big\n"));
	test_ok(ts_store__flush(store));
	test_assert(pack_names(names, 64, "r.git/objects/pack") > packs_during);
	test_ok(ts_store__ref_set(store, TS_STORE_MAIN, &commit, "big"));
	for (i = 0; i < pack_names(names, 64, "r.git/objects/pack"); i++) {
		snprintf(cmd, sizeof(cmd), "stat -c %%s r.git/objects/pack/%s.pack", names[i]);
		test_assert(atol(ts_test_first_line(cmd)) <= TS_BATCH_BYTES + 2 * LEN);
	}
	test_ok(ts_test_sh("cd r.git && git fsck --full --strict >/dev/null 2>&1"));
	test_equal_i(atoi(ts_test_first_line("git --git-dir=r.git ls-tree -r main | wc -l")), N);
	ts_store__free(store);
	git_libgit2_shutdown();
	free(u);
	free(data);
	free(paths);
}

/* The checkpoint's combining keeps the count of small packs down even when
 * the smallest is far smaller than the rest (a pack of a few bytes, as a
 * fetch of nothing new leaves): 24 packs become at most 8. */
void test_pack__maintain_bounds_the_packs(void)
{
	ts_store *store = NULL;
	char names[64][64], data[64], path[32];
	ts_store_update u = { path, data, 0 };
	git_oid tree;
	size_t i, k;

	git_libgit2_init();   /* shut down below; a node does this for itself */
	test_ok(ts_store__open(&store, "r.git", 1));
	test_ok(ts_test_sh("cd r.git && printf 'PACK\\0\\0\\0\\2\\0\\0\\0\\0' > p && git index-pack -q --stdin < p >/dev/null 2>&1 || "
		"git pack-objects -q objects/pack/pack < /dev/null >/dev/null"));
	test_ok(ts_test_sh("cd r.git && rm -f p && ls objects/pack/*.idx >/dev/null"));
	for (i = 0; i < 23; i++) {
		/* each pack a little bigger than the one before, none under twice the tiny one */
		for (k = 0; k < 10 + i; k++) {
			snprintf(path, sizeof(path), "t/%02zu/%02zu", i, k);
			u.len = (size_t)snprintf(data, sizeof(data), "row %zu of pack %zu", k, i);
			test_ok(ts_store__tree_update(&tree, store, NULL, &u, 1));
		}
		test_ok(ts_store__flush(store));
	}
	test_equal_i(pack_names(names, 64, "r.git/objects/pack"), 24);
	test_ok(ts_store__maintain(store, 0));
	test_assert(pack_names(names, 64, "r.git/objects/pack") <= TS_STORE_PACK_LIMIT / 2);
	test_ok(ts_test_sh("cd r.git && git fsck --full --strict >/dev/null 2>&1 && "
		"test $(git cat-file --batch-all-objects --batch-check | grep -c blob) = $(( (10 + 32) * 23 / 2 ))"));
	ts_store__free(store);
	git_libgit2_shutdown();
}

/* The blob of row i of a table of one shape or of another: the column
 * names in order, values that differ from row to row, columns left NULL. */
static size_t row_blob(char *out, size_t max, int shape, size_t i)
{
	if (shape == 0)
		return (size_t)snprintf(out, max, "id \"c-%05zu\"\nsource \"%s\"\naddress \"东城区交道口%zu号\"\n"
			"status \"open\"\nstage null\nfiled_at null\nlegal_basis null\npenalty_amount null\n"
			"reviewer null\nofficer \"officer %zu\"\n", i, i % 3 ? "patrol" : "complaint", i * 7, i % 11);
	return (size_t)snprintf(out, max, "id %zu\nname \"zone %zu\"\nparent null\nnote null\nkind \"street\"\n"
		"area %zu.5\n", i, i, i * 13);
}

/*
 * Rows of one shape go into a batch's pack as deltas (OFS_DELTA) against
 * the first of their shape, one step deep; a blob of another shape, a
 * short one and one with no line in common stay whole. Stock git reads
 * every object back (fsck --full hashes each resolved delta), libgit2
 * too, and the packs combined by maintenance keep them.
 */
void test_pack__rows_of_a_shape_go_as_deltas(void)
{
	enum { PACKS = 20, ROWS = 40 };
	ts_store *store = NULL;
	git_repository *repo = NULL;
	git_odb *odb = NULL;
	char names[64][64], path[32], data[512];
	ts_store_update u = { path, data, 0 };
	git_oid tree, id;
	size_t i, k;
	int shape;

	git_libgit2_init();   /* shut down below; a node does this for itself */
	test_ok(ts_store__open(&store, "r.git", 1));
	for (i = 0; i < PACKS; i++) {
		for (k = 0; k < ROWS; k++)
			for (shape = 0; shape < 2; shape++) {
				snprintf(path, sizeof(path), "t%d/%02zu/%02zu", shape, i, k);
				u.len = row_blob(data, sizeof(data), shape, i * ROWS + k);
				test_ok(ts_store__tree_update(&tree, store, NULL, &u, 1));
			}
		/* short, and unlike any row: whole */
		snprintf(path, sizeof(path), "s/%02zu", i);
		u.len = (size_t)snprintf(data, sizeof(data), "id %zu\n", i);
		test_ok(ts_store__tree_update(&tree, store, NULL, &u, 1));
		snprintf(path, sizeof(path), "x/%02zu", i);
		for (k = 0; k < 200; k++)
			data[k] = (char)('a' + (i * 7 + k * k) % 26);
		u.len = 200;
		test_ok(ts_store__tree_update(&tree, store, NULL, &u, 1));
		test_ok(ts_store__flush(store));
	}
	test_equal_i(pack_names(names, 64, "r.git/objects/pack"), PACKS);

	/* every row but the base of each shape is a delta, none deeper than one */
	test_equal_i(atoi(ts_test_first_line("cd r.git && for i in objects/pack/*.idx; do git verify-pack -v $i; done | "
		"awk '$2 == \"blob\" && NF >= 7 && $6 == 1' | wc -l")), PACKS * (2 * ROWS - 2));
	test_equal_i(atoi(ts_test_first_line("cd r.git && for i in objects/pack/*.idx; do git verify-pack -v $i; done | "
		"awk '$2 == \"blob\" && NF >= 7 && $6 != 1' | wc -l")), 0);
	test_ok(ts_test_sh("cd r.git && git fsck --full --strict >/dev/null 2>&1"));

	/* libgit2 reads each back as written */
	test_ok(git_repository_open(&repo, "r.git"));
	test_ok(git_repository_odb(&odb, repo));
	for (i = 0; i < PACKS * ROWS; i++)
		for (shape = 0; shape < 2; shape++) {
			git_odb_object *o = NULL;
			size_t len = row_blob(data, sizeof(data), shape, i);
			test_ok(git_odb_hash(&id, data, len, GIT_OBJECT_BLOB));
			test_ok(git_odb_read(&o, odb, &id));
			test_equal_i(git_odb_object_size(o), len);
			test_assert(!memcmp(git_odb_object_data(o), data, len));
			git_odb_object_free(o);
		}
	git_odb_free(odb);
	git_repository_free(repo);

	/* combined, the deltas are still deltas (their distances rewritten) */
	test_ok(ts_store__maintain(store, 0));
	test_assert(pack_names(names, 64, "r.git/objects/pack") < PACKS);
	test_ok(ts_test_sh("cd r.git && git fsck --full --strict >/dev/null 2>&1"));
	test_equal_i(atoi(ts_test_first_line("cd r.git && for i in objects/pack/*.idx; do git verify-pack -v $i; done | "
		"awk '$2 == \"blob\" && NF >= 7' | wc -l")), PACKS * (2 * ROWS - 2));
	ts_store__free(store);
	git_libgit2_shutdown();
}
