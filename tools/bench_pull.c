/*
 * bench_pull.c: (h) local writes during an incoming apply:
 * apply_longest_write_wait_ms, with apply_100k_ms, apply_rows,
 * apply_writes, apply_write_busy_refusals, apply_merge_refusals,
 * write_idle_median_ms and pull_fetch_100k_ms.
 *
 * A new street node records OWN_CASES cases of its own, fetches the
 * district of (c) and (a) from its local path, and merges it: every
 * district row is applied. A second process of the street, forked before
 * the merge, runs one ts_case_update every WRITE_EVERY_MS and times each;
 * a write refused as busy is retried, its wait running from the first
 * attempt. The figure is the longest wait among the writes whose run
 * overlaps the timed ts_node_merge. The street stays, for (e) and (f).
 *
 * Then clone_100k_vs_git_ratio: that first pull (the fetch and the merge)
 * over a stock `git clone --bare --no-local` of the district's history
 * (git's pack protocol, as between machines) plus (c)'s plain SQLite load
 * of the same rows: what a new node costs against getting the same two
 * things with the stock tools.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

#define OWN_CASES      8    /* cases the street records before its first pull */
#define WRITE_EVERY_MS 10   /* (h): a local write every 10 ms */

/* The writer: its own ts_node_open of the street; one ts_case_update every
 * WRITE_EVERY_MS until ctl_fd is closed. A write refused as busy (after the
 * node's 5 s busy timeout) is retried at once: its wait runs from the first
 * attempt to the success. Sends (start ms, wait ms, busy refusals) triples. */
static void writer_loop(const char *dir, char (*ids)[96], int nids, int ready_fd, int ctl_fd, int out_fd)
{
	ts_node *node = open_node(dir);
	samples s = { 0 };
	double next = now_ms();
	char c = 1, desc[160];
	int k = 0;

	if (write(ready_fd, &c, 1) != 1)
		die("telling the merge the writer is ready: %s", strerror(errno));
	close(ready_fd);
	for (;;) {
		struct pollfd p = { ctl_fd, POLLIN, 0 };
		double left = next - now_ms(), t0;
		ts_field f = { "description", desc };
		int rc, busy = 0;

		rc = poll(&p, 1, left > 0 ? (int)(left + 0.999) : 0);
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc != 0)
			break;   /* closed: the merge is over */
		snprintf(desc, sizeof(desc), "拉取期间现场复查第%d次：已整改。", k + 1);
		t0 = now_ms();
		while ((rc = ts_case_update(node, STREET_AUTHOR, ids[k % nids], &f, 1)) == TS_EBUSY)
			busy++;
		if (rc < 0)
			ts_die("ts_case_update (during the pull)");
		add(&s, t0);
		add(&s, now_ms() - t0);
		add(&s, busy);
		k++;
		next = t0 + WRITE_EVERY_MS;
	}
	put(out_fd, s.v, s.n);
	ts_node_free(node);
}

/* The district enrolls the street's signing key, so that it takes the
 * street's commits in (e) and (f); before the street's first fetch, so
 * that the street holds the district's main as it then is (not timed). */
static void enroll_street(const char *district_dir, const char *street_dir)
{
	ts_enroll_options eo = { TS_ENROLL_OPTIONS_VERSION, NULL, NULL, AUTHOR, 1 };
	ts_node *district = open_node(district_dir);
	char *pub_path = path_in(street_dir, "id_ed25519.pub"), *pub = slurp(pub_path);
	char head[41];

	if (!pub || ts_node_enroll(head, district, STREET_ID, pub, &eo) < 0)
		ts_die("ts_node_enroll (the street's signing key)");
	ts_node_free(district);
	free(pub);
	free(pub_path);
}

/* A new street node records OWN_CASES cases, fetches the district (a local
 * path), then merges it: every district row is applied. A second process
 * writes meanwhile. Writes: merge ms, rows applied, merge attempts refused
 * for the writer's staged work, fetch ms, writes during the merge, their
 * longest wait, busy refusals among them, the median write before the
 * merge, all writes. */
void child_first_pull(int fd, const void *arg)
{
	const pull_args *a = arg;
	ts_init_options opts = { TS_INIT_OPTIONS_VERSION, TS_TIER_STREET, STREET_ID, NULL, STREET_AUTHOR, NULL };
	ts_transfer_stats ts;
	ts_node_merge_stats is;
	ts_node *node = NULL;
	char ids[OWN_CASES][96], head[41];
	int ready[2], ctl[2], out[2], k, status, retries = 0, rc;
	samples w = { 0 }, idle = { 0 };
	double t0, t_start, t_end, v[9], max_wait = 0, busy = 0;
	size_t got = 0, alloc = 0, i;
	char *buf = NULL;
	pid_t pid;

	if (ts_node_init(&node, a->street, &opts) < 0)
		ts_die("ts_node_init (street)");
	for (k = 0; k < OWN_CASES; k++) {
		char *id = NULL, addr[128];
		snprintf(addr, sizeof(addr), "北京市东城区景山街道%s%d号门前", roads[k % 16], k + 1);
		if (ts_case_new(&id, node, STREET_AUTHOR, categories[k % NCAT].code, "patrol", addr, NULL, 0) < 0)
			ts_die("ts_case_new (street)");
		snprintf(ids[k], sizeof(ids[k]), "%s", id);
		free(id);
	}
	if (ts_node_commit(head, node, "巡查登记", NULL) < 0 ||
	    ts_node_remote_add(node, "district", a->district, NULL) < 0)
		ts_die("preparing the street");
	enroll_street(a->district, a->street);
	t0 = now_ms();
	if (ts_node_fetch(head, &ts, node, "district", NULL) < 0)
		ts_die("ts_node_fetch (district)");
	v[3] = now_ms() - t0;
	ts_node_free(node);

	if (pipe(ready) < 0 || pipe(ctl) < 0 || pipe(out) < 0)
		die("pipe: %s", strerror(errno));
	fflush(NULL);
	if ((pid = fork()) < 0)
		die("fork: %s", strerror(errno));
	if (pid == 0) {
		close(fd);
		close(ready[0]);
		close(ctl[1]);
		close(out[0]);
		writer_loop(a->street, ids, OWN_CASES, ready[1], ctl[0], out[1]);
		_exit(0);
	}
	close(ready[1]);
	close(ctl[0]);
	close(out[1]);
	node = open_node(a->street);
	if (read(ready[0], head, 1) != 1)
		die("the writer did not start");
	close(ready[0]);
	usleep(100 * 1000);   /* a few writes before: the idle wait */
	t_start = now_ms();
	while ((rc = ts_node_merge(head, &is, node, "refs/remotes/district/main", NULL, "拉取区级数据")) == TS_ECONFLICT &&
	       retries < 100)
		retries++;   /* the writer staged between the merge's commit of local work and its lock */
	if (rc < 0)
		ts_die("ts_node_merge (first pull)");
	t_end = now_ms();
	usleep(100 * 1000);
	close(ctl[1]);
	for (;;) {
		ssize_t r;
		if (alloc - got < 4096 && !(buf = realloc(buf, alloc = alloc ? alloc * 2 : 65536)))
			die("out of memory");
		r = read(out[0], buf + got, alloc - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(out[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		die("the writer failed");
	for (i = 0; i + 2 < got / sizeof(double); i += 3) {
		double *x = (double *)buf + i;
		if (x[0] < t_end && x[0] + x[1] > t_start) {
			add(&w, x[1]);
			if (x[1] > max_wait)
				max_wait = x[1];
			busy += x[2];
		} else if (x[0] + x[1] <= t_start)
			add(&idle, x[1]);
	}
	v[0] = t_end - t_start;
	v[1] = (double)(is.rows_written + is.rows_deleted);
	v[2] = retries;
	v[4] = (double)w.n;
	v[5] = max_wait;
	v[6] = busy;
	v[7] = quantile(&idle, 0.5);
	v[8] = (double)(got / sizeof(double) / 3);
	fprintf(stderr, "bench: (h) merge %.0f ms (%zu rows, %s); %zu writes during it, longest %.1f ms\n",
		v[0], is.rows_written + is.rows_deleted, is.result == TS_MERGE_MERGED ? "a merge" :
		is.result == TS_MERGE_FAST_FORWARD ? "a fast-forward" : "up to date", w.n, max_wait);
	put(fd, v, 9);
	free(buf);
	free(w.v);
	free(idle.v);
	ts_node_free(node);
}

/* ---- (h): the run and its figures ------------------------------------ */

void bench_pull_run(double h[PULL_FIGURES], const char *dir_street, const char *dir_100k)
{
	pull_args p = { dir_street, dir_100k };
	child_result res;
	char *from = path_in(dir_100k, "history.git"), *to = path_in(scratch, "clone-100k.git");
	char *clone[] = { "git", "clone", "--bare", "--no-local", "--quiet", from, to, NULL };
	double t0;

	fprintf(stderr, "bench: (h) a new street node pulls the %llu-case district while it writes every %d ms\n",
		(unsigned long long)n_100k, WRITE_EVERY_MS);
	run_child(&res, "the first pull", child_first_pull, &p);
	if (res.n != 9)
		die("the first pull reported %zu values", res.n);
	memcpy(h, res.v, 9 * sizeof(*h));
	free(res.v);
	fprintf(stderr, "bench: (h) stock git clone of the district's history\n");
	t0 = now_ms();
	if (run_cmd(clone, NULL, NULL, NULL) != 0)
		die("git clone of %s failed", from);
	h[9] = now_ms() - t0;
	free(from);
	free(to);
}

void bench_pull_print(const double h[PULL_FIGURES], double sqlite_insert_ms)
{
	printf("# (h) a new street node merges the district (%llu cases) while another process of it runs\n"
		"#     ts_case_update every %d ms\n", (unsigned long long)n_100k, WRITE_EVERY_MS);
	figure("apply_longest_write_wait_ms", h[5]);
	figure("apply_100k_ms", h[0]);
	figure_int("apply_rows", h[1]);
	figure_int("apply_writes", h[4]);
	figure_int("apply_write_busy_refusals", h[6]);
	figure_int("apply_merge_refusals", h[2]);
	figure("write_idle_median_ms", h[7]);
	figure("pull_fetch_100k_ms", h[3]);
	figure("git_clone_100k_ms", h[9]);
	figure("clone_100k_vs_git_ratio", (h[3] + h[0]) / (h[9] + sqlite_insert_ms));
}
