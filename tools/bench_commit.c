/*
 * bench_commit.c: one durable case update + commit.
 *
 * (a) on the 100,000 cases of (c)'s node, against a plain SQLite
 * `BEGIN; UPDATE; COMMIT` of the same cases in (c)'s rollback-journal and
 * WAL databases: commit_100k_ms, sqlite_update_ms, sqlite_update_wal_ms
 * (each with _median_ms and _p99_ms), commit_vs_sqlite_ratio,
 * commit_vs_sqlite_median_ratio, commit_vs_sqlite_wal_ratio, and
 * case_update_100k_* / node_commit_100k_*, the node's two calls. Then
 * disk_vs_sqlite_ratio: the bytes the node's directory takes on disk
 * after those commits (the database, its log, the history) over those of
 * the rollback-journal database, which holds the same cases.
 *
 * (b) the same operation on a 10,000-case and a 1,000,000-case node, built
 * here: commit_1m_ms, commit_10k_ms (medians, with _mean_ms and _p99_ms),
 * commit_scaling_ratio, node_commit_1m/10k_median_ms and build_1m_ms.
 *
 * Both run in BLOCKS alternating blocks, each a fresh child that opens its
 * node or database, runs WARMUP untimed iterations, then the timed ones;
 * the time runs from before ts_case_update() to the return of
 * ts_node_commit(). The peak RSS of the children goes to (d) (main()).
 */
#define _XOPEN_SOURCE 700
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bench.h"

#define BLOCKS       8                /* alternating measurement blocks */
#define A_ITERS      128              /* (a): per block, 1024 in all */
#define B_ITERS      64               /* (b): per block and node size, 512 in all */
#define WARMUP       8                /* untimed iterations at the start of each block */

/* The operation of (a) and (b) (update_args in bench.h). */
void child_node_updates(int fd, const void *arg)
{
	const update_args *a = arg;
	ts_node *node = open_node(a->dir);
	double *v = malloc(2 * (size_t)a->iters * sizeof(double));
	uint64_t rng = a->seed;
	char head[41], desc[256];
	int k;

	if (!v)
		die("out of memory");
	if (a->batched && ts_node_batch_commits(node, 1) < 0)
		ts_die("ts_node_batch_commits");
	for (k = 0; k < WARMUP + a->iters; k++) {
		case_row r;
		ts_field f = { "description", desc };
		double t0, t1, t2;

		gen_row(&r, pick_open_case(&rng, a->ncases));
		snprintf(desc, sizeof(desc), "第%d次复查（%llu）：现场已整改，当事人签署承诺书，拍照留存。",
			k + 1, (unsigned long long)a->seed);
		t0 = now_ms();
		if (ts_case_update(node, r.officer ? r.officer : AUTHOR, r.id, &f, 1) < 0)
			ts_die("ts_case_update");
		t1 = now_ms();
		if (ts_node_commit(head, node, "复查：更新案件描述", NULL) < 0)
			ts_die("ts_node_commit");
		t2 = now_ms();
		if (k >= WARMUP) {
			v[2 * (k - WARMUP)] = t1 - t0;
			v[2 * (k - WARMUP) + 1] = t2 - t1;
		}
	}
	put(fd, v, 2 * (size_t)a->iters);
	free(v);
	ts_node_free(node);
}

/* ---- the plain SQLite baseline of (a) -------------------------------- */

/* (a) baseline: one durable single-row UPDATE transaction (BEGIN; UPDATE
 * cases SET description = ? WHERE id = ?; COMMIT), on the same cases as the
 * node's block with the same seed; rollback-journal and WAL databases in
 * turn. Writes, per timed iteration: rollback ms, WAL ms. */
typedef struct {
	const char *scratch;
	uint64_t ncases, seed;
	int iters;
} plain_update_args;

static void child_sqlite_updates(int fd, const void *arg)
{
	const plain_update_args *a = arg;
	char *paths[2] = { path_in(a->scratch, "base-rollback.db"), path_in(a->scratch, "base-wal.db") };
	sqlite3 *db[2];
	sqlite3_stmt *st[2][3];
	double *v = malloc(2 * (size_t)a->iters * sizeof(double));
	uint64_t rng = a->seed;
	char desc[256];
	int k, m, j;

	if (!v)
		die("out of memory");
	for (m = 0; m < 2; m++) {
		db[m] = open_plain(paths[m], m ? "WAL" : "DELETE");
		if (sqlite3_prepare_v2(db[m], "BEGIN", -1, &st[m][0], NULL) != SQLITE_OK ||
		    sqlite3_prepare_v2(db[m], "UPDATE cases SET description = ?1 WHERE id = ?2", -1, &st[m][1], NULL) != SQLITE_OK ||
		    sqlite3_prepare_v2(db[m], "COMMIT", -1, &st[m][2], NULL) != SQLITE_OK)
			sql_die(db[m], "preparing the baseline update");
	}
	for (k = 0; k < WARMUP + a->iters; k++) {
		case_row r;
		gen_row(&r, pick_open_case(&rng, a->ncases));
		snprintf(desc, sizeof(desc), "第%d次复查（%llu）：现场已整改，当事人签署承诺书，拍照留存。",
			k + 1, (unsigned long long)a->seed);
		for (m = 0; m < 2; m++) {
			double t0 = now_ms();
			sqlite3_bind_text(st[m][1], 1, desc, -1, SQLITE_STATIC);
			sqlite3_bind_text(st[m][1], 2, r.id, -1, SQLITE_STATIC);
			for (j = 0; j < 3; j++) {
				if (sqlite3_step(st[m][j]) != SQLITE_DONE)
					sql_die(db[m], "baseline update");
				sqlite3_reset(st[m][j]);
			}
			if (sqlite3_changes(db[m]) != 1)
				die("baseline update changed %d rows", sqlite3_changes(db[m]));
			if (k >= WARMUP)
				v[2 * (k - WARMUP) + m] = now_ms() - t0;
		}
	}
	put(fd, v, 2 * (size_t)a->iters);
	for (m = 0; m < 2; m++) {
		for (j = 0; j < 3; j++)
			sqlite3_finalize(st[m][j]);
		sqlite3_close(db[m]);
		free(paths[m]);
	}
	free(v);
}

/* Progress: one block's update+commit mean, median and max, so that drift
 * between blocks (e.g. growing maintenance) shows on stderr. */
static void report_block(const char *label, const double *v, size_t n)
{
	samples s = { 0 };
	double max;
	size_t i;
	for (i = 0; i < n; i++)
		add(&s, v[2 * i] + v[2 * i + 1]);
	max = quantile(&s, 1.0);
	fprintf(stderr, "bench:   %s block: mean %.2f ms, median %.2f ms, max %.1f ms\n",
		label, mean(&s), quantile(&s, 0.5), max);
	free(s.v);
}

/* ---- the bytes on disk ------------------------------------------------- */

static uint64_t disk_bytes_sum;

static int add_disk_bytes(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)path;
	(void)ftw;
	if (flag == FTW_F)
		disk_bytes_sum += (uint64_t)st->st_blocks * 512;
	return 0;
}

/* The bytes the files under `path` take on disk (their allocated blocks). */
static uint64_t disk_bytes(const char *path)
{
	disk_bytes_sum = 0;
	if (nftw(path, add_disk_bytes, 16, FTW_PHYS) != 0)
		die("reading the sizes under %s", path);
	return disk_bytes_sum;
}

/* ---- (a) and (b): the runs and their figures -------------------------- */

void bench_commit_100k(const char *dir_100k, long *rss_a)
{
	child_result res;
	samples a_node = { 0 }, a_update = { 0 }, a_commit = { 0 }, a_del = { 0 }, a_wal = { 0 }, a_batched = { 0 };
	char *batched_dir = path_in(scratch, "node-100k-batched");
	double commit_a, plain_a, plain_wal_a;
	size_t i;
	int r;

	*rss_a = 0;
	/* the batched commits go to a copy: the node's bytes on disk are
	 * measured after the default's alone */
	copy_node(dir_100k, batched_dir);
	for (r = 0; r < BLOCKS; r++) {
		update_args u = { dir_100k, n_100k, 1000 + (uint64_t)r, A_ITERS, 0 };
		update_args batched = { batched_dir, n_100k, 5000 + (uint64_t)r, A_ITERS, 1 };
		plain_update_args p = { scratch, n_100k, 1000 + (uint64_t)r, A_ITERS };
		fprintf(stderr, "bench: (a) block %d/%d: %d update+commit on %llu cases, then plain SQLite\n",
			r + 1, BLOCKS, A_ITERS, (unsigned long long)n_100k);
		run_child(&res, "the 100k update loop", child_node_updates, &u);
		if (res.n != 2 * (size_t)A_ITERS)
			die("the 100k update loop reported %zu values", res.n);
		for (i = 0; i < A_ITERS; i++) {
			add(&a_update, res.v[2 * i]);
			add(&a_commit, res.v[2 * i + 1]);
			add(&a_node, res.v[2 * i] + res.v[2 * i + 1]);
		}
		report_block("100k", res.v, A_ITERS);
		if (res.ru.ru_maxrss > *rss_a)
			*rss_a = res.ru.ru_maxrss;
		free(res.v);
		run_child(&res, "the plain SQLite update loop", child_sqlite_updates, &p);
		if (res.n != 2 * (size_t)A_ITERS)
			die("the plain SQLite update loop reported %zu values", res.n);
		for (i = 0; i < A_ITERS; i++) {
			add(&a_del, res.v[2 * i]);
			add(&a_wal, res.v[2 * i + 1]);
		}
		free(res.v);
		run_child(&res, "the batched update loop", child_node_updates, &batched);
		if (res.n != 2 * (size_t)A_ITERS)
			die("the batched update loop reported %zu values", res.n);
		for (i = 0; i < A_ITERS; i++)
			add(&a_batched, res.v[2 * i] + res.v[2 * i + 1]);
		report_block("100k batched", res.v, A_ITERS);
		if (res.ru.ru_maxrss > *rss_a)
			*rss_a = res.ru.ru_maxrss;
		free(res.v);
	}
	commit_a = mean(&a_node);
	plain_a = mean(&a_del);
	plain_wal_a = mean(&a_wal);
	printf("# (a) one durable case update + commit, %d iterations on %llu cases\n",
		BLOCKS * A_ITERS, (unsigned long long)n_100k);
	figure_series("commit_100k_ms", &a_node, 1);
	figure_series("sqlite_update_ms", &a_del, 1);
	figure("commit_vs_sqlite_ratio", commit_a / plain_a);
	figure("commit_vs_sqlite_median_ratio", quantile(&a_node, 0.5) / quantile(&a_del, 0.5));
	figure_series("sqlite_update_wal_ms", &a_wal, 1);
	figure("commit_vs_sqlite_wal_ratio", commit_a / plain_wal_a);
	figure("case_update_100k_ms", mean(&a_update));
	figure("node_commit_100k_ms", mean(&a_commit));
	figure("case_update_100k_median_ms", quantile(&a_update, 0.5));
	figure("node_commit_100k_median_ms", quantile(&a_commit, 0.5));
	figure_series("commit_batched_100k_ms", &a_batched, 1);
	figure("commit_batched_vs_sqlite_ratio", mean(&a_batched) / plain_a);
	{
		char *plain = path_in(scratch, "base-rollback.db");
		uint64_t node_bytes = disk_bytes(dir_100k), plain_bytes = disk_bytes(plain);
		figure_int("disk_node_100k_bytes", (double)node_bytes);
		figure_int("disk_sqlite_100k_bytes", (double)plain_bytes);
		figure("disk_vs_sqlite_ratio", (double)node_bytes / (double)plain_bytes);
		free(plain);
	}
	free(a_node.v); free(a_update.v); free(a_commit.v); free(a_del.v); free(a_wal.v); free(a_batched.v);
	remove_dir(batched_dir);
	free(batched_dir);
}

void bench_commit_scaling(const char *dir_10k, const char *dir_1m, long *rss_b, long *rss_build_1m)
{
	child_result res;
	samples b_1m = { 0 }, b_10k = { 0 }, b_1m_commit = { 0 }, b_10k_commit = { 0 };
	double build_1m_ms;
	size_t i;
	int r;

	*rss_b = 0;
	fprintf(stderr, "bench: (b) building a node of %llu cases\n", (unsigned long long)n_10k);
	{
		build_args b = { dir_10k, "10k", n_10k, n_10k };
		run_child(&res, "the 10k build", child_build, &b);
		free(res.v);
	}
	fprintf(stderr, "bench: (b) building a node of %llu cases in commits of %llu\n",
		(unsigned long long)n_1m, (unsigned long long)batch_1m);
	{
		build_args b = { dir_1m, "build 1m", n_1m, batch_1m };
		run_child(&res, "the 1m build", child_build, &b);
		build_1m_ms = res.wall_ms;
		*rss_build_1m = res.ru.ru_maxrss;
		free(res.v);
	}
	for (r = 0; r < BLOCKS; r++) {
		update_args big = { dir_1m, n_1m, 2000 + (uint64_t)r, B_ITERS, 0 };
		update_args small = { dir_10k, n_10k, 3000 + (uint64_t)r, B_ITERS, 0 };
		fprintf(stderr, "bench: (b) block %d/%d: %d update+commit on %llu cases, then on %llu\n",
			r + 1, BLOCKS, B_ITERS, (unsigned long long)n_1m, (unsigned long long)n_10k);
		run_child(&res, "the 1m update loop", child_node_updates, &big);
		if (res.n != 2 * (size_t)B_ITERS)
			die("the 1m update loop reported %zu values", res.n);
		for (i = 0; i < B_ITERS; i++) {
			add(&b_1m, res.v[2 * i] + res.v[2 * i + 1]);
			add(&b_1m_commit, res.v[2 * i + 1]);
		}
		report_block("1m", res.v, B_ITERS);
		if (res.ru.ru_maxrss > *rss_b)
			*rss_b = res.ru.ru_maxrss;
		free(res.v);
		run_child(&res, "the 10k update loop", child_node_updates, &small);
		if (res.n != 2 * (size_t)B_ITERS)
			die("the 10k update loop reported %zu values", res.n);
		for (i = 0; i < B_ITERS; i++) {
			add(&b_10k, res.v[2 * i] + res.v[2 * i + 1]);
			add(&b_10k_commit, res.v[2 * i + 1]);
		}
		report_block("10k", res.v, B_ITERS);
		free(res.v);
	}
	printf("# (b) the same update + commit, %d iterations each on %llu and %llu cases (medians)\n",
		BLOCKS * B_ITERS, (unsigned long long)n_1m, (unsigned long long)n_10k);
	figure_series("commit_1m_ms", &b_1m, 0);
	figure_series("commit_10k_ms", &b_10k, 0);
	figure("commit_scaling_ratio", quantile(&b_1m, 0.5) / quantile(&b_10k, 0.5));
	figure("node_commit_1m_median_ms", quantile(&b_1m_commit, 0.5));
	figure("node_commit_10k_median_ms", quantile(&b_10k_commit, 0.5));
	figure("build_1m_ms", build_1m_ms);
	free(b_1m.v); free(b_10k.v); free(b_1m_commit.v); free(b_10k_commit.v);
}
