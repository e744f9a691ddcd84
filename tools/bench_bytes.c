/*
 * bench_bytes.c: (f) bytes on the wire against the changeset:
 * bytes_vs_changeset_ratio (bytes_1000_rows over changeset_1000_rows_zlib),
 * changeset_1000_rows_bytes, pack_1000_rows_bytes, objects_1000_rows,
 * bytes_one_row_commit, objects_one_row_commit, bytes_case_update_commit
 * and objects_case_update_commit.
 *
 * On the street of (h), after (e), through (e)'s sshd: one write changes
 * n_rows_f rows; its staged SQLite session changeset is read and deflated
 * (zlib level 6) before it is committed and pushed. Then a one-row write
 * and one ts_case_update are each committed and pushed. A push's bytes
 * are those of the changes stream it sent (ts_transfer_stats; the
 * exchange's few lines of refs around it are not counted, as git's pkt-lines
 * were not); bytes_1000_rows falls back to the size of the packs that
 * arrived in the district's history.git (pack_1000_rows_bytes) should that
 * count be 0. The same 1000-row commit is also written as a compact bundle
 * file for the USB stick (tiersync bundle create --compact --since the head
 * before it): bundle_1000_rows_bytes and its ratio to the deflated changeset.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "bench.h"

/* Sizes of the pack files in DIR/objects/pack, by name (for what arrived). */
typedef struct {
	char **names;
	off_t *sizes;
	size_t n;
} pack_list;

static void list_packs(pack_list *l, const char *gitdir)
{
	char *dir = path_in(gitdir, "objects/pack");
	DIR *d = opendir(dir);
	struct dirent *de;

	memset(l, 0, sizeof(*l));
	if (!d)
		die("opening %s: %s", dir, strerror(errno));
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name);
		struct stat st;
		char *p;
		if (len < 5 || strcmp(de->d_name + len - 5, ".pack"))
			continue;
		p = path_in(dir, de->d_name);
		if (stat(p, &st) == 0) {
			if (!(l->names = realloc(l->names, (l->n + 1) * sizeof(*l->names))) ||
			    !(l->sizes = realloc(l->sizes, (l->n + 1) * sizeof(*l->sizes))) ||
			    !(l->names[l->n] = strdup(de->d_name)))
				die("out of memory");
			l->sizes[l->n++] = st.st_size;
		}
		free(p);
	}
	closedir(d);
	free(dir);
}

static void free_packs(pack_list *l)
{
	size_t i;
	for (i = 0; i < l->n; i++)
		free(l->names[i]);
	free(l->names);
	free(l->sizes);
}

/* Bytes of the packs in `after` that `before` did not have. */
static double new_pack_bytes(const pack_list *before, const pack_list *after)
{
	double sum = 0;
	size_t i, j;
	for (i = 0; i < after->n; i++) {
		for (j = 0; j < before->n && strcmp(before->names[j], after->names[i]); j++)
			;
		if (j == before->n)
			sum += (double)after->sizes[i];
	}
	return sum;
}

/* On the street: n_rows_f changed rows (the staged changeset read and
 * deflated before the commit), pushed over ssh; then a one-row write and a
 * case update, each committed and pushed. Writes changeset bytes, deflated,
 * then bytes / new pack bytes / objects for each of the three pushes. */
static void child_f_bytes(int fd, const void *arg)
{
	const sync_args *a = arg;
	ts_node *street = open_node(a->street);
	char *district_git = path_in(a->district, "history.git"), head[41];
	sqlite3_stmt *st = NULL;
	ts_transfer_stats ts;
	pack_list before, after;
	ts_bundle_options bo = TS_BUNDLE_OPTIONS_INIT;
	ts_bundle_info bundle;
	char *bundle_path = path_in(a->street, "bench-1000.bundle"), since[41];
	uLongf zlen;
	Bytef *z;
	double v[12];
	int i;

	if (ts_node_head(since, street) < 0)
		ts_die("ts_node_head (f)");
	write_bulk(street, n_rows_f, a->n, 7000, "街道抽查");
	if (sqlite3_prepare_v2(ts_node_db(street), "SELECT changeset FROM ts_staged ORDER BY seq DESC LIMIT 1",
			-1, &st, NULL) != SQLITE_OK || sqlite3_step(st) != SQLITE_ROW)
		sql_die(ts_node_db(street), "reading the staged changeset");
	v[0] = sqlite3_column_bytes(st, 0);
	zlen = compressBound((uLong)v[0]);
	if (!(z = malloc(zlen)))
		die("out of memory");
	if (compress2(z, &zlen, sqlite3_column_blob(st, 0), (uLong)v[0], Z_DEFAULT_COMPRESSION) != Z_OK)
		die("compress2 failed");
	v[1] = (double)zlen;
	free(z);
	sqlite3_finalize(st);
	if (ts_node_commit(head, street, "街道抽查", NULL) < 0)
		ts_die("ts_node_commit (f)");
	bo.since = since;
	bo.compact = 1;
	if (ts_bundle_create(&bundle, street, bundle_path, &bo) < 0)
		ts_die("ts_bundle_create (f)");
	v[11] = (double)bundle.bytes;
	unlink(bundle_path);
	free(bundle_path);
	for (i = 0; i < 3; i++) {
		if (i == 1)
			commit_bulk(street, 1, a->n, 7001, "更正一条");
		else if (i == 2)
			commit_few(street, 1, a->n, 7002);
		list_packs(&before, district_git);
		if (ts_node_push(head, &ts, street, NULL, NULL) < 0)
			ts_die("ts_node_push (f)");
		list_packs(&after, district_git);
		v[2 + 3 * i] = (double)ts.bytes;
		v[3 + 3 * i] = new_pack_bytes(&before, &after);
		v[4 + 3 * i] = (double)ts.objects;
		free_packs(&before);
		free_packs(&after);
	}
	put(fd, v, 12);
	free(district_git);
	ts_node_free(street);
}

/* ---- (f): the run and its figures ------------------------------------ */

void bench_bytes_run(double f[12], const sync_args *sa)
{
	child_result res;

	fprintf(stderr, "bench: (f) bytes pushed for %llu changed rows, one row, one case update\n",
		(unsigned long long)n_rows_f);
	run_child(&res, "(f)", child_f_bytes, sa);
	if (res.n != 12)
		die("(f) reported %zu values", res.n);
	memcpy(f, res.v, 12 * sizeof(*f));
	free(res.v);
}

void bench_bytes_print(const double f[12])
{
	printf("# (f) bytes a push over ssh sends (the changes stream of the exchange), vs the SQLite\n"
		"#     session changeset of the same %llu-row change, deflated with zlib level 6\n", (unsigned long long)n_rows_f);
	figure_int("bytes_1000_rows", f[2] ? f[2] : f[3]);
	figure_int("changeset_1000_rows_zlib", f[1]);
	figure("bytes_vs_changeset_ratio", (f[2] ? f[2] : f[3]) / f[1]);
	figure_int("changeset_1000_rows_bytes", f[0]);
	figure_int("pack_1000_rows_bytes", f[3]);
	figure_int("objects_1000_rows", f[4]);
	figure_int("bytes_one_row_commit", f[5]);
	figure_int("objects_one_row_commit", f[7]);
	figure_int("bytes_case_update_commit", f[8]);
	figure_int("objects_case_update_commit", f[10]);
	figure_int("bundle_1000_rows_bytes", f[11]);
	figure("bundle_vs_changeset_ratio", f[11] / f[1]);
}
