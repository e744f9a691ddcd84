/*
 * Unit tests of evidence (node/evidence.c) and of the files it keeps in
 * history (sync/files.c): file names, put and read back, against the
 * standard's SHA-256 vectors; add, list and get round trip; the duplicate,
 * a bad case id, a missing file; a stored object altered on disk, caught
 * by get and by verify; staged files surviving a reopen and a lost pack; a
 * row naming a file history lacks; merges taking the union of files and
 * refusing one name with two blobs; get writing only regular files,
 * refusing devices, FIFOs, directories and symbolic links.
 */
#include "harness.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <git2.h>
#include <sqlite3.h>

#include "tiersync.h"
#include "files.h"
#include "merge.h"
#include "tiersync.h"

static int new_node(ts_node **out, const char *path)
{
	ts_init_options opts = { TS_INIT_OPTIONS_VERSION, TS_TIER_STREET, "bj.dc.jingshan", NULL, "王伟", NULL };
	return ts_node_init(out, path, &opts);
}

static int new_case(char **id, ts_node *node)
{
	return ts_case_new(id, node, "王伟", "small_ads", "patrol", "景山前街 4号", NULL, 0);
}

static long long query_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st = NULL;
	long long v = -1;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* Writes `n` bytes of a fixed pseudo-random sequence to `path`. */
static int write_content(const char *path, size_t n, unsigned seed)
{
	FILE *f = fopen(path, "wb");
	size_t i;
	if (!f)
		return -1;
	for (i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		fputc((int)(seed >> 16) & 0xff, f);
	}
	return fclose(f);
}

static unsigned char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *p = NULL;
	long n;
	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
	    (p = malloc((size_t)n + 1)) && fread(p, 1, (size_t)n, f) != (size_t)n) {
		free(p);
		p = NULL;
	}
	if (p)
		*len = (size_t)n;
	fclose(f);
	return p;
}

static int same_content(const char *a, const char *b)
{
	size_t la = 0, lb = 0;
	unsigned char *pa = slurp(a, &la), *pb = slurp(b, &lb);
	int same = pa && pb && la == lb && !memcmp(pa, pb, la);
	free(pa);
	free(pb);
	return same;
}

/* The SHA-256 of a file as the sha256sum tool computes it (independent of
 * the code under test: the stock tool). */
static int sha256sum(char out[65], const char *path)
{
	char cmd[512];
	FILE *p;
	int ok;
	snprintf(cmd, sizeof(cmd), "sha256sum '%s'", path);
	if (!(p = popen(cmd, "r")))
		return -1;
	ok = fread(out, 1, 64, p) == 64;
	out[64] = '\0';
	pclose(p);
	return ok ? 0 : -1;
}

/* The name ts_files__put() gives `len` bytes of `data`, read back whole. */
static int name_of(char out[65], ts_store *store, const void *data, size_t len)
{
	FILE *f = fopen("vector", "wb");
	ts_file file;
	int error;

	out[0] = '\0';
	if (!f || fwrite(data, 1, len, f) != len || fclose(f) != 0)
		return ts_error_set(TS_ERROR, "writing the vector file");
	if ((error = ts_files__put(&file, store, "vector")) < 0 ||
	    (error = ts_files__read(store, &file, NULL, NULL)) < 0)
		return error;
	memcpy(out, file.sha256, 65);
	return 0;
}

void test_evidence__file_names_are_sha256(void)
{
	static const char *abc448 = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	ts_store *store = NULL;
	char hex[65], *million;
	int error;

	git_libgit2_init();   /* released below; a node does this for itself */
	test_ok(ts_store__open(&store, "h.git", 1));
	test_ok(name_of(hex, store, "", 0));
	test_equal_s(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	test_ok(name_of(hex, store, "abc", 3));
	test_equal_s(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	test_ok(name_of(hex, store, abc448, strlen(abc448)));
	test_equal_s(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	/* one million 'a': put and read both hash it in pieces */
	million = malloc(1000000);
	test_assert(million);
	memset(million, 'a', 1000000);
	error = name_of(hex, store, million, 1000000);
	free(million);
	test_ok(error);
	test_equal_s(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
	ts_store__free(store);
	git_libgit2_shutdown();
	test_assert(ts_files__name_valid("ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb"));
	test_assert(!ts_files__name_valid("FFE054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb"));
	test_assert(!ts_files__name_valid("ffe054fe"));
	test_assert(!ts_files__name_valid(NULL));
}

typedef struct {
	int n;
	char sha[65];
	char id[80];
	long long size;
	int stored, has_place;
	double lng;
	char captured_by[32];
} seen;

static int collect(const ts_evidence_info *e, void *payload)
{
	seen *s = payload;
	s->n++;
	snprintf(s->sha, sizeof(s->sha), "%s", e->sha256);
	snprintf(s->id, sizeof(s->id), "%s", e->id);
	snprintf(s->captured_by, sizeof(s->captured_by), "%s", e->captured_by);
	s->size = e->size;
	s->stored = e->stored;
	s->has_place = e->has_place;
	s->lng = e->lng;
	return 0;
}

/* The content of the blob at `path` in the tree of main, read by libgit2. */
static int history_blob_equals(const char *node, const char *path, const char *file)
{
	char gitdir[512];
	git_repository *repo = NULL;
	git_object *obj = NULL;
	git_tree_entry *e = NULL;
	git_blob *blob = NULL;
	unsigned char *want = NULL;
	size_t len = 0;
	int same = 0;

	snprintf(gitdir, sizeof(gitdir), "%s/history.git", node);
	if (git_repository_open_bare(&repo, gitdir) == 0 &&
	    git_revparse_single(&obj, repo, "refs/heads/main^{tree}") == 0 &&
	    git_tree_entry_bypath(&e, (git_tree *)obj, path) == 0 &&
	    git_blob_lookup(&blob, repo, git_tree_entry_id(e)) == 0 &&
	    (want = slurp(file, &len)))
		same = (size_t)git_blob_rawsize(blob) == len && !memcmp(git_blob_rawcontent(blob), want, len);
	free(want);
	git_blob_free(blob);
	git_tree_entry_free(e);
	git_object_free(obj);
	git_repository_free(repo);
	return same;
}

void test_evidence__add_list_get_round_trip(void)
{
	ts_node *node = NULL;
	ts_evidence_options o;
	char *case_id = NULL, *ev = NULL, sha[65], want[65], got[65], path[TS_FILES_PATH_SIZE], head[41];
	seen s;
	sqlite3 *db;

	memset(&o, 0, sizeof(o));
	memset(&s, 0, sizeof(s));
	test_ok(new_node(&node, "n"));
	test_ok(new_case(&case_id, node));
	test_ok(write_content("photo.jpg", 300001, 7));
	test_ok(sha256sum(want, "photo.jpg"));
	o.has_place = 1;
	o.lng = 116.3975;
	o.lat = 39.9245;
	o.note = "ad on a lamp post";
	test_ok(ts_evidence_add(&ev, sha, node, "李娜", case_id, "photo.jpg", &o));
	test_equal_s(sha, want);
	db = ts_node_db(node);
	/* the row, its event and the staged file, in one write */
	test_equal_i(query_int(db, "SELECT count(*) FROM evidence WHERE kind = 'photo' AND size = 300001 "
		"AND media_type = 'image/jpeg' AND captured_by = '李娜' AND lng = 116.3975 AND note IS NOT NULL"), 1);
	test_equal_i(query_int(db, "SELECT count(*) FROM case_events WHERE kind = 'evidence' AND officer = '李娜'"), 1);
	test_equal_i(query_int(db, "SELECT count(*) FROM ts_staged"), 2);
	test_equal_i(query_int(db, "SELECT count(*) FROM ts_files_staged"), 1);

	test_ok(ts_evidence_list(node, case_id, collect, &s));
	test_equal_i(s.n, 1);
	test_equal_s(s.sha, want);
	test_equal_s(s.id, ev);
	test_equal_s(s.captured_by, "李娜");
	test_equal_i(s.size, 300001);
	test_assert(s.stored && s.has_place && s.lng == 116.3975);

	/* gettable while staged, and after the commit; a prefix names it */
	test_ok(ts_evidence_get(got, node, case_id, want, "staged.out"));
	test_assert(same_content("photo.jpg", "staged.out"));
	test_ok(ts_node_commit(head, node, "evidence", NULL));
	test_equal_i(query_int(db, "SELECT count(*) FROM ts_files_staged"), 0);
	ts_files__path(path, want);
	test_assert(history_blob_equals("n", path, "photo.jpg"));
	{
		char prefix[9];
		memcpy(prefix, want, 8);
		prefix[8] = '\0';
		test_ok(ts_evidence_get(got, node, case_id, prefix, "committed.out"));
	}
	test_equal_s(got, want);
	test_assert(same_content("photo.jpg", "committed.out"));
	test_ok(ts_node_verify(node, NULL, NULL));
	free(case_id);
	free(ev);
	ts_node_free(node);
}

void test_evidence__duplicate_in_one_case_refused(void)
{
	ts_node *node = NULL;
	char *case_id = NULL, *other = NULL, *ev = NULL, sha[65];
	int error;

	test_ok(new_node(&node, "n"));
	test_ok(new_case(&case_id, node));
	test_ok(new_case(&other, node));
	test_ok(write_content("a.pdf", 5000, 1));
	test_ok(ts_evidence_add(&ev, sha, node, NULL, case_id, "a.pdf", NULL));
	free(ev);
	ev = NULL;
	test_ok(write_content("copy.pdf", 5000, 1));   /* the same bytes under another name */
	error = ts_evidence_add(&ev, sha, node, NULL, case_id, "copy.pdf", NULL);
	test_equal_i(error, TS_EEXISTS);
	test_assert(ev == NULL);
	test_assert(strstr(ts_error_last(), "already holds this content"));
	test_equal_i(query_int(ts_node_db(node), "SELECT count(*) FROM evidence"), 1);
	test_equal_i(query_int(ts_node_db(node), "SELECT count(*) FROM case_events WHERE kind = 'evidence'"), 1);
	/* another case may hold the same content: one file, two rows */
	test_ok(ts_evidence_add(&ev, sha, node, NULL, other, "copy.pdf", NULL));
	test_equal_i(query_int(ts_node_db(node), "SELECT count(*) FROM evidence"), 2);
	test_equal_i(query_int(ts_node_db(node), "SELECT count(*) FROM ts_files_staged"), 1);
	test_equal_i(query_int(ts_node_db(node), "SELECT count(*) FROM evidence WHERE kind = 'document' "
		"AND media_type = 'application/pdf'"), 2);
	free(ev);
	free(case_id);
	free(other);
	ts_node_free(node);
}

void test_evidence__bad_case_and_missing_file_change_nothing(void)
{
	ts_node *node = NULL;
	ts_evidence_options o;
	char *case_id = NULL, *ev = NULL, sha[65];
	sqlite3 *db;

	test_ok(new_node(&node, "n"));
	test_ok(new_case(&case_id, node));
	db = ts_node_db(node);
	test_ok(write_content("p.jpg", 1000, 3));
	test_equal_i(ts_evidence_add(&ev, sha, node, NULL, "bj.dc.jingshan-c20150101-9999", "p.jpg", NULL),
		TS_ENOTFOUND);
	test_assert(strstr(ts_error_last(), "no case"));
	test_equal_i(ts_evidence_add(&ev, sha, node, NULL, case_id, "no-such-file.jpg", NULL), TS_ENOTFOUND);
	test_assert(strstr(ts_error_last(), "no-such-file.jpg"));
	test_equal_i(ts_evidence_add(&ev, sha, node, NULL, case_id, ".", NULL), TS_EINVALID);
	memset(&o, 0, sizeof(o));
	o.kind = "selfie";
	test_equal_i(ts_evidence_add(&ev, sha, node, NULL, case_id, "p.jpg", &o), TS_EINVALID);
	o.kind = NULL;
	o.media_type = "jpeg";
	test_equal_i(ts_evidence_add(&ev, sha, node, NULL, case_id, "p.jpg", &o), TS_EINVALID);
	o.media_type = NULL;
	o.has_place = 1;
	o.lng = 200;
	test_equal_i(ts_evidence_add(&ev, sha, node, NULL, case_id, "p.jpg", &o), TS_EINVALID);
	test_assert(ev == NULL);
	/* a node with no identity adds evidence only when someone is named */
	{
		ts_init_options anon = { TS_INIT_OPTIONS_VERSION, TS_TIER_STREET, "bj.dc.donghuamen", NULL, NULL, NULL };
		ts_node *nobody = NULL;
		char *other = NULL;

		test_ok(ts_node_init(&nobody, "anon", &anon));
		test_ok(ts_case_new(&other, nobody, "王伟", "small_ads", "patrol", "东华门大街 2号", NULL, 0));
		test_equal_i(ts_evidence_add(&ev, sha, nobody, NULL, other, "p.jpg", NULL), TS_EINVALID);
		test_error_says("no author: name who captured it, or set the node's identity (user.name in its config)");
		test_assert(ev == NULL);
		free(other);
		ts_node_free(nobody);
	}
	test_equal_i(query_int(db, "SELECT count(*) FROM evidence"), 0);
	test_equal_i(query_int(db, "SELECT count(*) FROM ts_files_staged"), 0);
	test_equal_i(query_int(db, "SELECT count(*) FROM ts_staged"), 1);   /* the case's intake only */
	test_equal_i(ts_evidence_list(node, "nosuch", collect, &(seen){ 0 }), TS_ENOTFOUND);
	test_equal_i(ts_evidence_get(NULL, node, case_id, "0123456789abcdef", "x.out"), TS_ENOTFOUND);
	test_equal_i(ts_evidence_get(NULL, node, case_id, "not-hex!", "x.out"), TS_EINVALID);
	test_assert(access("x.out", F_OK) < 0);
	free(case_id);
	ts_node_free(node);
}

/* Rewrites the loose object of `blob` as a valid object of other content of
 * the same length: what a careless editor or a bad disk could leave. */
static int rewrite_loose(const char *node, const git_oid *blob, size_t len)
{
	char hex[GIT_OID_HEXSZ + 1], path[512], header[64];
	unsigned char *raw, *z;
	size_t hlen, i;
	uLongf zlen;
	FILE *f;
	int ok;

	git_oid_tostr(hex, sizeof(hex), blob);
	snprintf(path, sizeof(path), "%s/history.git/objects/%.2s/%s", node, hex, hex + 2);
	hlen = (size_t)snprintf(header, sizeof(header), "blob %zu", len) + 1;
	raw = malloc(hlen + len);
	zlen = compressBound((uLong)(hlen + len));
	z = malloc(zlen);
	if (!raw || !z)
		return -1;
	memcpy(raw, header, hlen);
	for (i = 0; i < len; i++)
		raw[hlen + i] = (unsigned char)(i * 31);
	ok = compress(z, &zlen, raw, (uLong)(hlen + len)) == Z_OK;
	chmod(path, 0644);
	ok = ok && (f = fopen(path, "wb")) && fwrite(z, 1, zlen, f) == zlen && fclose(f) == 0;
	free(raw);
	free(z);
	return ok ? 0 : -1;
}

typedef struct {
	int n;
	int file_named;
} problems;

static int note_problem(const ts_verify_problem *p, void *payload)
{
	problems *pr = payload;
	pr->n++;
	if (p->key && strstr(p->key, TS_FILES_DIR "/") && p->problem && strstr(p->problem, "SHA-256"))
		pr->file_named++;
	return 0;
}

static int leftovers(const char *prefix)
{
	DIR *d = opendir(".");
	struct dirent *e;
	int n = 0;
	while (d && (e = readdir(d)))
		n += !strncmp(e->d_name, prefix, strlen(prefix));
	if (d)
		closedir(d);
	return n;
}

void test_evidence__altered_object_caught_by_get_and_verify(void)
{
	ts_node *node = NULL;
	ts_file f;
	problems pr = { 0, 0 };

	memset(&f, 0, sizeof(f));
	char *case_id = NULL, *ev = NULL, sha[65], head[41];

	test_ok(new_node(&node, "n"));
	test_ok(new_case(&case_id, node));
	test_ok(write_content("v.mp4", 200000, 11));
	test_ok(ts_evidence_add(&ev, sha, node, NULL, case_id, "v.mp4", NULL));
	test_ok(ts_node_commit(head, node, "video", NULL));
	test_ok(ts_node_verify(node, NULL, NULL));
	ts_node_free(node);
	node = NULL;

	/* the file's blob, found with stock tools' view: the tree entry */
	{
		git_repository *repo = NULL;
		git_object *obj = NULL;
		git_tree_entry *e = NULL;
		char path[TS_FILES_PATH_SIZE];
		ts_files__path(path, sha);
		test_assert(git_repository_open_bare(&repo, "n/history.git") == 0);
		test_assert(git_revparse_single(&obj, repo, "main^{tree}") == 0);
		test_assert(git_tree_entry_bypath(&e, (git_tree *)obj, path) == 0);
		git_oid_cpy(&f.blob, git_tree_entry_id(e));
		git_tree_entry_free(e);
		git_object_free(obj);
		git_repository_free(repo);
	}
	test_ok(rewrite_loose("n", &f.blob, 200000));

	test_ok(ts_node_open(&node, "n"));
	test_equal_i(ts_evidence_get(NULL, node, case_id, sha, "v.out"), TS_ECORRUPT);
	test_assert(strstr(ts_error_last(), sha));
	test_assert(access("v.out", F_OK) < 0);          /* no partial output */
	test_equal_i(leftovers("v.out"), 0);             /* nor its temporary file */
	test_equal_i(ts_node_verify(node, note_problem, &pr), TS_ECORRUPT);
	test_equal_i(pr.file_named, 1);
	free(case_id);
	free(ev);
	ts_node_free(node);
}

void test_evidence__staged_file_survives_reopen(void)
{
	ts_node *node = NULL;
	char *case_id = NULL, *ev = NULL, sha[65], head[41], path[TS_FILES_PATH_SIZE];

	test_ok(new_node(&node, "n"));
	test_ok(new_case(&case_id, node));
	test_ok(write_content("b.mov", 70000, 5));
	test_ok(ts_evidence_add(&ev, sha, node, NULL, case_id, "b.mov", NULL));
	ts_node_free(node);
	node = NULL;
	test_ok(ts_node_open(&node, "n"));
	test_ok(ts_node_verify(node, NULL, NULL));
	test_ok(ts_node_commit(head, node, "after reopen", NULL));
	ts_files__path(path, sha);
	test_assert(history_blob_equals("n", path, "b.mov"));
	test_equal_i(query_int(ts_node_db(node), "SELECT count(*) FROM evidence WHERE kind = 'video'"), 1);
	free(case_id);
	free(ev);
	ts_node_free(node);
}

/* Names of the files in `dir`, one string. */
static void listing(char *out, size_t size, const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	out[0] = '\0';
	while (d && (e = readdir(d)))
		if (e->d_name[0] != '.' && strlen(out) + strlen(e->d_name) + 2 < size) {
			strcat(out, e->d_name);
			strcat(out, " ");
		}
	if (d)
		closedir(d);
}

void test_evidence__lost_pack_rebuilt_with_its_files(void)
{
	ts_node *node = NULL;
	char *case_id = NULL, *ev = NULL, sha[65], head[41], path[TS_FILES_PATH_SIZE];
	char before[8192], after[8192], *p;
	git_oid id;

	test_ok(new_node(&node, "n"));
	test_ok(new_case(&case_id, node));
	test_ok(write_content("c.jpg", 4000, 9));
	test_ok(ts_evidence_add(&ev, sha, node, NULL, case_id, "c.jpg", NULL));
	listing(before, sizeof(before), "n/history.git/objects/pack");
	test_ok(ts_node_commit(head, node, "evidence", NULL));
	ts_node_free(node);
	node = NULL;
	/* a power loss takes the commit's pack (never synced); the journal stays */
	listing(after, sizeof(after), "n/history.git/objects/pack");
	for (p = strtok(after, " "); p; p = strtok(NULL, " ")) {
		char file[512];
		if (strstr(before, p))
			continue;
		snprintf(file, sizeof(file), "n/history.git/objects/pack/%s", p);
		test_assert(unlink(file) == 0);
	}
	test_ok(ts_node_open(&node, "n"));
	test_assert(ts_node_repaired(node));
	test_ok(ts_node_head(after, node));
	test_equal_s(after, head);
	ts_files__path(path, sha);
	test_assert(history_blob_equals("n", path, "c.jpg"));
	test_ok(ts_node_verify(node, NULL, NULL));
	test_assert(git_oid_fromstr(&id, head) == 0);
	free(case_id);
	free(ev);
	ts_node_free(node);
}

static int note_reference(const ts_verify_problem *p, void *payload)
{
	int *n = payload;
	if (p->table && !strcmp(p->table, "evidence") && p->column && !strcmp(p->column, "sha256") &&
	    strstr(p->problem, "file history does not hold"))
		(*n)++;
	return 0;
}

void test_evidence__row_naming_a_missing_file_caught(void)
{
	ts_node *node = NULL;
	char *case_id = NULL, *ev = NULL, sha[65], head[41];
	int n = 0;

	test_ok(new_node(&node, "n"));
	test_ok(new_case(&case_id, node));
	test_ok(write_content("d.jpg", 3000, 4));
	test_ok(ts_evidence_add(&ev, sha, node, NULL, case_id, "d.jpg", NULL));
	/* the staged reference lost behind the node's back: the row stays */
	test_assert(sqlite3_exec(ts_node_db(node), "DELETE FROM ts_files_staged", NULL, NULL, NULL) == SQLITE_OK);
	test_equal_i(ts_node_verify(node, note_reference, &n), TS_ECORRUPT);
	test_equal_i(n, 1);
	test_ok(ts_node_commit(head, node, "without its file", NULL));
	n = 0;
	test_equal_i(ts_node_verify(node, note_reference, &n), TS_ECORRUPT);
	test_equal_i(n, 1);
	free(case_id);
	free(ev);
	ts_node_free(node);
}

/*
 * Merges of files, in the generic engine: a store, trees with a row and
 * files, and ts_merge__trees().
 */

/* A tree: `base` plus one row blob at `row` (may be NULL) and files. */
static int tree_with(git_oid *out, ts_store *store, const git_oid *base, const char *row,
	const ts_file *files, size_t n)
{
	ts_store_update u[8];
	char paths[8][TS_FILES_PATH_SIZE];
	size_t k = 0, i;

	if (row) {
		u[k].path = "notes/0/0/0/0/a";
		u[k].data = row;
		u[k].len = strlen(row);
		k++;
	}
	for (i = 0; i < n && k < 8; i++)
		ts_files__link(&u[k++], paths[i], &files[i]);
	return ts_store__tree_update(out, store, base, u, k);
}

static int file_in_tree(ts_store *store, const git_oid *tree_id, const ts_file *f)
{
	char path[TS_FILES_PATH_SIZE];
	git_tree *tree = NULL;
	git_tree_entry *e = NULL;
	int found;

	ts_files__path(path, f->sha256);
	if (git_tree_lookup(&tree, ts_store__repo(store), tree_id) < 0)
		return 0;
	found = git_tree_entry_bypath(&e, tree, path) == 0 && git_oid_equal(git_tree_entry_id(e), &f->blob);
	git_tree_entry_free(e);
	git_tree_free(tree);
	return found;
}

void test_evidence__merge_takes_the_union_of_files(void)
{
	ts_store *store = NULL;
	ts_file a, b, c;
	git_oid base, ours, theirs, merged, again;

	test_ok(ts_store__open(&store, "h.git", 1));
	test_ok(write_content("a", 1000, 1));
	test_ok(write_content("b", 2000, 2));
	test_ok(write_content("c", 3000, 3));
	test_ok(ts_files__put(&a, store, "a"));
	test_ok(ts_files__put(&b, store, "b"));
	test_ok(ts_files__put(&c, store, "c"));
	/* base holds a; ours adds b and changes the row; theirs adds c */
	test_ok(tree_with(&base, store, NULL, "x 1\n", &a, 1));
	test_ok(tree_with(&ours, store, &base, "x 2\n", &b, 1));
	test_ok(tree_with(&theirs, store, &base, NULL, &c, 1));
	test_ok(ts_merge__trees(&merged, NULL, store, &base, &ours, &theirs, NULL));
	test_assert(file_in_tree(store, &merged, &a));
	test_assert(file_in_tree(store, &merged, &b));
	test_assert(file_in_tree(store, &merged, &c));
	/* the same tree whichever side merges */
	test_ok(ts_merge__trees(&again, NULL, store, &base, &theirs, &ours, NULL));
	test_assert(git_oid_equal(&merged, &again));
	/* one side unchanged: the other's tree, plus files it lacks */
	test_ok(ts_merge__trees(&again, NULL, store, &base, &base, &theirs, NULL));
	test_assert(git_oid_equal(&again, &theirs));
	/* a file removed on one side comes back: files are never lost */
	test_ok(tree_with(&theirs, store, NULL, "x 1\n", NULL, 0));
	test_ok(ts_merge__trees(&again, NULL, store, &base, &ours, &theirs, NULL));
	test_assert(file_in_tree(store, &again, &a) && file_in_tree(store, &again, &b));
	test_ok(ts_store__flush(store));
	ts_store__free(store);
}

void test_evidence__merge_refuses_one_name_two_blobs(void)
{
	ts_store *store = NULL;
	ts_file a, forged;
	git_oid base, ours, theirs, merged;

	test_ok(ts_store__open(&store, "h.git", 1));
	test_ok(write_content("a", 1000, 1));
	test_ok(write_content("z", 1000, 99));
	test_ok(ts_files__put(&a, store, "a"));
	test_ok(ts_files__put(&forged, store, "z"));
	memcpy(forged.sha256, a.sha256, 65);     /* other bytes under a's name */
	test_ok(tree_with(&base, store, NULL, "x 1\n", NULL, 0));
	test_ok(tree_with(&ours, store, &base, NULL, &a, 1));
	test_ok(tree_with(&theirs, store, &base, "x 2\n", &forged, 1));
	test_equal_i(ts_merge__trees(&merged, NULL, store, &base, &ours, &theirs, NULL), TS_ECORRUPT);
	test_assert(strstr(ts_error_last(), a.sha256));
	ts_store__discard(store);
	ts_store__free(store);
}

/* A node with one case whose one photo is stored; its SHA-256 in `sha`. */
static int node_with_photo(ts_node **node, char **case_id, char sha[65])
{
	char *ev = NULL;
	int error;

	if ((error = new_node(node, "n")) < 0 || (error = new_case(case_id, *node)) < 0 ||
	    (error = write_content("photo.jpg", 5000, 3)) < 0 ||
	    (error = ts_evidence_add(&ev, sha, *node, "李娜", *case_id, "photo.jpg", NULL)) < 0)
		return error;
	free(ev);
	return 0;
}

void test_evidence__get_writes_only_regular_files(void)
{
	ts_node *node = NULL;
	char *case_id = NULL, sha[65], link_target[64];
	struct stat before, after;
	ssize_t n;

	test_ok(node_with_photo(&node, &case_id, sha));

	/* /dev/null stays the character device it is (the tests may run as root) */
	test_assert(stat("/dev/null", &before) == 0 && S_ISCHR(before.st_mode));
	test_equal_i(ts_evidence_get(NULL, node, case_id, sha, "/dev/null"), TS_EINVALID);
	test_assert(strstr(ts_error_last(), "/dev/null") && strstr(ts_error_last(), "character device"));
	test_assert(!strchr(ts_error_last(), '\n'));
	test_assert(stat("/dev/null", &after) == 0 && S_ISCHR(after.st_mode) && after.st_rdev == before.st_rdev &&
		after.st_ino == before.st_ino);

	/* a FIFO: refused without opening it (which would block) */
	test_assert(mkfifo("pipe", 0600) == 0);
	test_equal_i(ts_evidence_get(NULL, node, case_id, sha, "pipe"), TS_EINVALID);
	test_assert(strstr(ts_error_last(), "FIFO"));
	test_assert(lstat("pipe", &after) == 0 && S_ISFIFO(after.st_mode));

	/* a directory, with or without its slash */
	test_assert(mkdir("dir", 0700) == 0);
	test_equal_i(ts_evidence_get(NULL, node, case_id, sha, "dir"), TS_EINVALID);
	test_assert(strstr(ts_error_last(), "directory"));
	test_equal_i(ts_evidence_get(NULL, node, case_id, sha, "dir/"), TS_EINVALID);
	test_assert(lstat("dir", &after) == 0 && S_ISDIR(after.st_mode));

	/* a symbolic link, to a regular file or to nothing: refused, not followed */
	test_ok(write_content("target", 10, 9));
	test_assert(symlink("target", "link") == 0 && symlink("nowhere", "dangling") == 0);
	test_equal_i(ts_evidence_get(NULL, node, case_id, sha, "link"), TS_EINVALID);
	test_assert(strstr(ts_error_last(), "symbolic link"));
	test_equal_i(ts_evidence_get(NULL, node, case_id, sha, "dangling"), TS_EINVALID);
	test_assert((n = readlink("link", link_target, sizeof(link_target) - 1)) == 6);
	test_assert(lstat("nowhere", &after) < 0 && errno == ENOENT);
	test_assert(stat("target", &after) == 0 && after.st_size == 10);

	/* none of the refusals left a temporary file behind */
	test_equal_i(leftovers("pipe.tmp-") + leftovers("link.tmp-") + leftovers("dangling.tmp-"), 0);

	/* a regular file is replaced whole; a new one is created */
	test_ok(write_content("existing.out", 3, 1));
	test_ok(ts_evidence_get(NULL, node, case_id, sha, "existing.out"));
	test_assert(same_content("photo.jpg", "existing.out"));
	test_ok(ts_evidence_get(NULL, node, case_id, sha, "dir/new.out"));
	test_assert(same_content("photo.jpg", "dir/new.out"));
	test_equal_i(leftovers("existing.out.tmp-"), 0);
	free(case_id);
	ts_node_free(node);
}
