/*
 * bench_merge.c: (g) merge cost against the size of the base:
 * merge_1m_ms and merge_100k_ms (medians), merge_scaling_ratio, and
 * peak_rss_merge_1m_kb, the largest 1M merge child.
 *
 * The 1M node of (b) and the 100k district each get a copy ("peer"):
 * objects hard-linked, every other file copied. In each of G_REPS runs per
 * size, sizes alternating, the peer commits n_change changed rows, the
 * node diverges (FEW_ROWS case updates) and fetches the peer from its
 * path, none of it timed; then a fresh child opens the node and times
 * ts_node_merge of refs/remotes/peer/main.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench.h"

#define G_REPS         3    /* (g): merges on each base, alternating */

typedef struct {
	const char *ours, *theirs;
	uint64_t n;
	int rep;
} scale_args;

/* Not timed: `theirs` (a copy of `ours`) commits n_change changed rows;
 * `ours` commits FEW_ROWS case updates and fetches theirs (a local path). */
static void child_g_prepare(int fd, const void *arg)
{
	const scale_args *a = arg;
	uint64_t seed = 9000 + (uint64_t)a->rep;
	ts_node *node = open_node(a->theirs);
	ts_transfer_stats ts;
	char head[41];
	double v[2], t0;

	v[0] = (double)commit_bulk(node, n_change, a->n, seed, "分中心集中复查");
	ts_node_free(node);
	node = open_node(a->ours);
	if (a->rep == 0 && ts_node_remote_add(node, "peer", a->theirs, NULL) < 0)
		ts_die("ts_node_remote_add (peer)");
	commit_few(node, FEW_ROWS, a->n, seed);
	t0 = now_ms();
	if (ts_node_fetch(head, &ts, node, "peer", NULL) < 0)
		ts_die("ts_node_fetch (peer)");
	v[1] = now_ms() - t0;
	ts_node_free(node);
	put(fd, v, 2);
}

/* Timed: ts_node_merge of the fetched commit. Writes ms, rows written,
 * the result, conflicts. */
static void child_g_merge(int fd, const void *arg)
{
	const scale_args *a = arg;
	ts_node *node = open_node(a->ours);
	ts_node_merge_stats is;
	char head[41];
	double t0 = now_ms(), v[4];

	if (ts_node_merge(head, &is, node, "refs/remotes/peer/main", NULL, "合并分中心复查") < 0)
		ts_die("ts_node_merge (g)");
	v[0] = now_ms() - t0;
	v[1] = (double)(is.rows_written + is.rows_deleted);
	v[2] = is.result;
	v[3] = (double)is.conflicts;
	put(fd, v, 4);
	ts_node_free(node);
}

/* ---- (g): the runs and their figures --------------------------------- */

void bench_merge_run(merge_figures *m, const char *dir_1m, const char *dir_100k)
{
	char *peer_1m = path_in(scratch, "node-1m-peer"), *peer_100k = path_in(scratch, "node-100k-peer");
	double t0 = now_ms();
	child_result res;
	int r;

	memset(m, 0, sizeof(*m));
	fprintf(stderr, "bench: (g) copying the 1M and 100k nodes (objects hard-linked)\n");
	copy_node(dir_1m, peer_1m);
	copy_node(dir_100k, peer_100k);
	fprintf(stderr, "bench: (g) copied in %.1f s\n", (now_ms() - t0) / 1e3);
	for (r = 0; r < G_REPS; r++) {
		int side;
		for (side = 0; side < 2; side++) {
			int big = (side == 0) == (r % 2 == 0);
			scale_args g = { big ? dir_1m : dir_100k, big ? peer_1m : peer_100k, big ? n_1m : n_100k, r };
			fprintf(stderr, "bench: (g) run %d/%d on %llu cases: prepare\n", r + 1, G_REPS, (unsigned long long)g.n);
			run_child(&res, "preparing (g)", child_g_prepare, &g);
			free(res.v);
			run_child(&res, "the merge (g)", child_g_merge, &g);
			if (res.n != 4)
				die("the merge (g) reported %zu values", res.n);
			add(big ? &m->merge_1m : &m->merge_100k, res.v[0]);
			if (big && res.ru.ru_maxrss > m->rss_merge_1m)
				m->rss_merge_1m = res.ru.ru_maxrss;
			fprintf(stderr, "bench:   merge %.0f ms (%s, %.0f rows written, %.0f conflicts)\n",
				res.v[0], res.v[2] == TS_MERGE_MERGED ? "a merge" : "not a merge", res.v[1], res.v[3]);
			free(res.v);
		}
	}
	free(peer_1m);
	free(peer_100k);
}

void bench_merge_print(merge_figures *m)
{
	printf("# (g) ts_node_merge of %llu changed rows into a node diverged by %d case updates, on bases of\n"
		"#     %llu and %llu rows; %d runs each, alternating, medians\n", (unsigned long long)n_change, FEW_ROWS,
		(unsigned long long)n_1m, (unsigned long long)n_100k, G_REPS);
	figure("merge_1m_ms", quantile(&m->merge_1m, 0.5));
	figure("merge_100k_ms", quantile(&m->merge_100k, 0.5));
	figure("merge_scaling_ratio", quantile(&m->merge_1m, 0.5) / quantile(&m->merge_100k, 0.5));
	figure_kb("peak_rss_merge_1m_kb", m->rss_merge_1m);
	free(m->merge_1m.v); free(m->merge_100k.v);
}
