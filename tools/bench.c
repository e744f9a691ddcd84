/*
 * bench: the speed and memory figures of DESIGN.md's quality bars, each
 * measured in this one run against plain SQLite on the same machine.
 *
 * Output (stdout): a header block of '#' lines with the goals and the
 * machine, then one `name: value` line per figure (ratios `..._ratio`,
 * times `..._ms`, memory `..._kb`). Progress goes to stderr. docs/BENCH.md
 * says exactly what each figure measures.
 *
 * Every phase runs in its own forked child so that its peak RSS can be read
 * from wait4(); the parent only orchestrates and never touches SQLite or
 * libgit2. Measurements that are compared with each other run in
 * alternating blocks (node, baseline, node, baseline, ...) so that a noisy
 * neighbour on this shared machine hits both sides alike.
 *
 * TS_BENCH_SCALE=0.1 (say) shrinks every row count, for a quick run or a
 * profile under callgrind; the figure names keep their nominal sizes then.
 * TS_BENCH_KEEP=1 keeps the scratch directory (its nodes) for profiling.
 *
 * (e) and (f) run a real sshd on 127.0.0.1 (as tests/e2e/lib_sshd.inc
 * does), started by the parent, stopped by its PID on every way out, and
 * compare with stock `git push` through it; without /usr/sbin/sshd they
 * print `sync_bench: skipped (no sshd)`. The parent also runs cp, git and
 * ssh-keygen/ssh-keyscan; the product itself never shells out.
 *
 * Sub-modes run one operation alone, to put under perf, strace or
 * valgrind (all follow the forked child):
 *   bench import DIR N [BATCH]   a new node at DIR with N cases, in commits of BATCH (default N)
 *   bench update DIR N ITERS     ITERS update+commits on the node at DIR, which holds N cases
 *   bench bulk DIR N ROWS SEED   one commit changing ROWS of the node's N cases, as (e) and (g) do
 *   bench merge DIR REV          ts_node_merge of REV into the node at DIR
 *   bench report DIR             (i) alone: its nodes built under DIR (TS_BENCH_SCALE applies)
 *   bench cli DIR                (j) alone, on the node at DIR (made as (c) makes its node if
 *                                there is none; TS_BENCH_SCALE applies)
 *
 * This file holds main(), the sub-modes and what the figure groups share
 * (bench.h): time and errors, forked children and their RSS, statistics,
 * the `name: value` output, commands, the scratch directory, and (d)'s
 * peak RSS figures, gathered from (a)-(c). The rows are bench_rows.c's;
 * each group runs and prints its figures in its own file: (c) in
 * bench_import.c, (a) and (b) in bench_commit.c, (e) in bench_sync.c, (f)
 * in bench_bytes.c, (g) in bench_merge.c, (h) in bench_pull.c, (i) in
 * bench_report.c, (j) in bench_cli.c, and bench_sshd.c runs the sshd of
 * (e) and (f).
 */
#include <sqlite3.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <ftw.h>
#include <git2.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

/* ---- sizes ----------------------------------------------------------- */

uint64_t n_10k = 10000, n_100k = 100000, n_1m = 1000000, batch_1m = 100000;
uint64_t n_change = 10000, n_rows_f = 1000;
static double scale = 1.0;
static int in_child;   /* a child must not run the parent's atexit cleanup */

/* ---- time and small helpers ------------------------------------------ */

double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("bench: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	if (in_child)
		_exit(1);
	exit(1);
}

void ts_die(const char *what)
{
	die("%s: %s", what, ts_error_last() ? ts_error_last() : "unknown error");
}

void sql_die(sqlite3 *db, const char *what)
{
	die("%s: %s", what, sqlite3_errmsg(db));
}

void exec_or_die(sqlite3 *db, const char *sql)
{
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
		sql_die(db, sql);
}

char *path_in(const char *dir, const char *name)
{
	size_t n = strlen(dir) + strlen(name) + 2;
	char *p = malloc(n);
	if (!p)
		die("out of memory");
	snprintf(p, n, "%s/%s", dir, name);
	return p;
}

uint64_t mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

/* ---- children -------------------------------------------------------- */

void put(int fd, const double *v, size_t n)
{
	const char *p = (const char *)v;
	size_t left = n * sizeof(double);
	while (left) {
		ssize_t w = write(fd, p, left);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			die("writing to the parent: %s", strerror(errno));
		p += w;
		left -= (size_t)w;
	}
}

void run_child(child_result *out, const char *what, child_fn fn, const void *arg)
{
	int fds[2], status;
	size_t alloc = 0, have = 0;
	char *buf = NULL;
	double t0 = now_ms();
	pid_t pid;

	memset(out, 0, sizeof(*out));
	fflush(NULL);
	if (pipe(fds) < 0)
		die("pipe: %s", strerror(errno));
	if ((pid = fork()) < 0)
		die("fork: %s", strerror(errno));
	if (pid == 0) {
		in_child = 1;
		close(fds[0]);
		fn(fds[1], arg);
		close(fds[1]);
		_exit(0);
	}
	close(fds[1]);
	for (;;) {
		ssize_t r;
		if (alloc - have < 4096) {
			alloc = alloc ? alloc * 2 : 65536;
			if (!(buf = realloc(buf, alloc)))
				die("out of memory");
		}
		r = read(fds[0], buf + have, alloc - have);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			die("reading from a child: %s", strerror(errno));
		if (r == 0)
			break;
		have += (size_t)r;
	}
	close(fds[0]);
	while (wait4(pid, &status, 0, &out->ru) < 0)
		if (errno != EINTR)
			die("wait4: %s", strerror(errno));
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		die("%s failed (%s %d)", what, WIFEXITED(status) ? "exit" : "signal",
			WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
	out->v = (double *)buf;
	out->n = have / sizeof(double);
	out->wall_ms = now_ms() - t0;
}

void describe_rss(char *out, size_t size)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long anon = -1, file = -1, hwm = -1, rss = -1;

	snprintf(out, size, "rss unknown");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		sscanf(line, "VmHWM: %ld", &hwm);
		sscanf(line, "VmRSS: %ld", &rss);
		sscanf(line, "RssAnon: %ld", &anon);
		sscanf(line, "RssFile: %ld", &file);
	}
	fclose(f);
	snprintf(out, size, "rss %ld MB (anon %ld, file %ld), peak %ld MB",
		rss / 1024, anon / 1024, file / 1024, hwm / 1024);
}

ts_node *open_node(const char *dir)
{
	ts_node *node = NULL;
	if (ts_node_open(&node, dir) < 0)
		ts_die(dir);
	return node;
}

/* ---- statistics and output ------------------------------------------- */

void add(samples *s, double x)
{
	if (s->n == s->alloc) {
		s->alloc = s->alloc ? s->alloc * 2 : 256;
		if (!(s->v = realloc(s->v, s->alloc * sizeof(double))))
			die("out of memory");
	}
	s->v[s->n++] = x;
}

static int dbl_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

double mean(const samples *s)
{
	double sum = 0;
	size_t i;
	for (i = 0; i < s->n; i++)
		sum += s->v[i];
	return s->n ? sum / (double)s->n : 0;
}

double quantile(samples *s, double q)
{
	size_t k;
	if (!s->n)
		return 0;
	qsort(s->v, s->n, sizeof(double), dbl_cmp);
	k = (size_t)(q * (double)(s->n - 1) + 0.5);
	return s->v[k];
}

void figure(const char *name, double value)
{
	if (value != 0 && value < 10)
		printf("%s: %.3f\n", name, value);
	else
		printf("%s: %.1f\n", name, value);
	fflush(stdout);
}

void figure_int(const char *name, double value)
{
	printf("%s: %.0f\n", name, value);
	fflush(stdout);
}

void figure_kb(const char *name, long kb)
{
	printf("%s: %ld\n", name, kb);
	fflush(stdout);
}

void figure_series(const char *name, samples *s, int mean_is_main)
{
	char buf[128];
	double m = mean(s), med = quantile(s, 0.5), p99 = quantile(s, 0.99);
	figure(name, mean_is_main ? m : med);
	/* name ends in _ms: insert the statistic before it */
	snprintf(buf, sizeof(buf), "%.*s_%s_ms", (int)(strlen(name) - 3), name, mean_is_main ? "median" : "mean");
	figure(buf, mean_is_main ? med : m);
	snprintf(buf, sizeof(buf), "%.*s_p99_ms", (int)(strlen(name) - 3), name);
	figure(buf, p99);
}

/* ---- commands -------------------------------------------------------- */

int run_cmd(char *const argv[], const char *out, const char *err, const char *env)
{
	int status;
	pid_t pid;

	fflush(NULL);
	if ((pid = fork()) < 0)
		die("fork: %s", strerror(errno));
	if (pid == 0) {
		int o = open(out ? out : "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0644);
		int e = open(err ? err : "/dev/null", O_WRONLY | O_CREAT | O_APPEND, 0644);
		int n = open("/dev/null", O_RDONLY);
		if (o < 0 || e < 0 || n < 0 || dup2(n, 0) < 0 || dup2(o, 1) < 0 || dup2(e, 2) < 0)
			_exit(126);
		if (env && putenv((char *)env) != 0)
			_exit(126);
		execvp(argv[0], argv);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			die("waitpid: %s", strerror(errno));
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t n = 0, alloc = 0, r;

	if (!f)
		return NULL;
	do {
		if (alloc - n < 4096 && !(buf = realloc(buf, alloc = alloc ? alloc * 2 : 8192)))
			die("out of memory");
		r = fread(buf + n, 1, alloc - n - 1, f);
		n += r;
	} while (r > 0);
	fclose(f);
	buf[n] = '\0';
	return buf;
}

/* ---- the scratch directory and the arguments ------------------------ */

char *scratch;

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st; (void)flag; (void)ftw;
	return remove(path);
}

void remove_dir(const char *path)
{
	nftw(path, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* copy_node(): the tree being copied, for copy_one(). */
static const char *copy_src, *copy_dst;

static int copy_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	const char *rel = path + strlen(copy_dst);
	char *from, *tmp;
	int in, out;
	ssize_t r;
	char buf[1 << 16];

	(void)ftw;
	if (flag != FTW_F || !S_ISREG(st->st_mode) || !strncmp(rel, "/history.git/objects/", 21))
		return 0;
	if (!(from = malloc(strlen(copy_src) + strlen(rel) + 1)) || !(tmp = malloc(strlen(path) + 5)))
		die("out of memory");
	sprintf(from, "%s%s", copy_src, rel);
	sprintf(tmp, "%s.tmp", path);
	if ((in = open(from, O_RDONLY)) < 0 || (out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, st->st_mode & 07777)) < 0)
		die("copying %s: %s", from, strerror(errno));
	while ((r = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)r) != r)
			die("copying %s: %s", from, strerror(errno));
	if (r < 0 || close(out) < 0 || rename(tmp, path) < 0)
		die("copying %s: %s", from, strerror(errno));
	close(in);
	free(from);
	free(tmp);
	return 0;
}

void copy_node(const char *src, const char *dst)
{
	char *cp[] = { "cp", "-al", (char *)src, (char *)dst, NULL };
	if (run_cmd(cp, NULL, NULL, NULL) != 0)
		die("cp -al %s %s failed", src, dst);
	copy_src = src;
	copy_dst = dst;
	if (nftw(dst, copy_one, 16, FTW_PHYS) != 0)
		die("copying %s", src);
}

static void cleanup(void)
{
	const char *keep = getenv("TS_BENCH_KEEP");
	sshd_stop();   /* by its PID, before its directory goes */
	if (scratch && keep && *keep && strcmp(keep, "0")) {
		fprintf(stderr, "bench: kept %s\n", scratch);
		free(scratch);
		scratch = NULL;
	}
	if (scratch) {
		nftw(scratch, remove_one, 16, FTW_DEPTH | FTW_PHYS);
		free(scratch);
		scratch = NULL;
	}
}

static uint64_t scaled(uint64_t n)
{
	uint64_t s = (uint64_t)((double)n * scale + 0.5);
	return s < 100 ? 100 : s;
}

static uint64_t arg_count(const char *s)
{
	char *end;
	unsigned long long v = strtoull(s, &end, 10);
	if (!*s || *end || v == 0)
		die("'%s' is not a positive count", s);
	return v;
}

/* ---- sub-modes -------------------------------------------------------- */

/* `bench merge DIR REV`: ts_node_merge of REV into the node at DIR. */
typedef struct {
	const char *dir, *rev;
} merge_args;

static void child_merge_one(int fd, const void *arg)
{
	const merge_args *a = arg;
	ts_node *node = open_node(a->dir);
	ts_node_merge_stats is;
	char head[41];
	double t0 = now_ms(), v[2];

	if (ts_node_merge(head, &is, node, a->rev, NULL, "bench merge") < 0)
		ts_die("ts_node_merge");
	v[0] = now_ms() - t0;
	v[1] = (double)(is.rows_written + is.rows_deleted);
	put(fd, v, 2);
	ts_node_free(node);
}

/* `bench bulk DIR N ROWS SEED`: ROWS changed rows, as (e) and (g) make them. */
typedef struct {
	const char *dir;
	uint64_t n, rows, seed;
} bulk_one_args;

static void child_bulk_one(int fd, const void *arg)
{
	const bulk_one_args *a = arg;
	ts_node *node = open_node(a->dir);
	double t0 = now_ms(), v[2];

	v[1] = (double)commit_bulk(node, a->rows, a->n, a->seed, "bench bulk");
	v[0] = now_ms() - t0;
	put(fd, v, 2);
	ts_node_free(node);
}

/* The sub-modes: one operation alone, for a profiler. */
static int single(int argc, char **argv)
{
	child_result res;
	size_t i;

	if (argc >= 4 && argc <= 5 && !strcmp(argv[1], "import")) {
		build_args b = { argv[2], "import", arg_count(argv[3]), argc == 5 ? arg_count(argv[4]) : arg_count(argv[3]) };
		run_child(&res, "the import", child_build, &b);
		for (i = 0; i + 1 < res.n; i += 2) {
			figure("import_write_ms", res.v[i]);
			figure("import_commit_ms", res.v[i + 1]);
		}
	} else if (argc >= 5 && argc <= 6 && !strcmp(argv[1], "update")) {
		update_args u = { argv[2], arg_count(argv[3]), 1000, (int)arg_count(argv[4]),
			argc == 6 && !strcmp(argv[5], "batched") };
		samples s = { 0 };
		run_child(&res, "the update loop", child_node_updates, &u);
		for (i = 0; i + 1 < res.n; i += 2)
			add(&s, res.v[i] + res.v[i + 1]);
		figure_series("commit_ms", &s, 1);
		free(s.v);
	} else if (argc == 6 && !strcmp(argv[1], "bulk")) {
		bulk_one_args m = { argv[2], arg_count(argv[3]), arg_count(argv[4]), arg_count(argv[5]) };
		run_child(&res, "the bulk change", child_bulk_one, &m);
		figure("bulk_commit_ms", res.v[0]);
		figure_int("changed_rows", res.v[1]);
	} else if (argc == 4 && !strcmp(argv[1], "merge")) {
		merge_args m = { argv[2], argv[3] };
		run_child(&res, "the merge", child_merge_one, &m);
		figure("merge_ms", res.v[0]);
		figure_int("rows_written", res.v[1]);
	} else if (argc == 3 && !strcmp(argv[1], "report")) {
		report_figures r;
		bench_report_run(&r, argv[2]);
		bench_report_print(&r);
		return 0;
	} else if (argc == 3 && !strcmp(argv[1], "cli")) {
		cli_figures c;
		char *config = path_in(argv[2], "config");
		if (access(config, F_OK) != 0) {
			/* no node there yet: (c)'s import makes one of n_100k cases */
			build_args b = { argv[2], "import", n_100k, n_100k };
			run_child(&res, "the import", child_build, &b);
			free(res.v);
		}
		free(config);
		if (bench_cli_run(&c, argv[2]))
			bench_cli_print(&c);
		return 0;
	} else if (argc == 4 && !strcmp(argv[1], "pull")) {
		pull_args p = { argv[3], argv[2] };
		run_child(&res, "the first pull", child_first_pull, &p);
		if (res.n != 9)
			die("the first pull reported %zu values", res.n);
		figure("pull_fetch_ms", res.v[3]);
		figure("pull_merge_ms", res.v[0]);
		figure_int("rows_applied", res.v[1]);
		figure_int("writes_during", res.v[4]);
		figure("apply_longest_write_wait_ms", res.v[5]);
		figure("idle_write_median_ms", res.v[7]);
	} else {
		fprintf(stderr, "usage: bench\n       bench import DIR N [BATCH]\n       bench update DIR N ITERS\n"
			"       bench bulk DIR N ROWS SEED\n       bench merge DIR REV\n"
			"       bench pull DISTRICT_DIR NEW_STREET_DIR\n       bench report DIR\n       bench cli DIR\n");
		return 2;
	}
	figure_kb("peak_rss_kb", res.ru.ru_maxrss);
	free(res.v);
	return 0;
}

int main(int argc, char **argv)
{
	double start = now_ms();
	const char *tmpdir = getenv("TMPDIR"), *env_scale = getenv("TS_BENCH_SCALE");
	char *dir_100k, *dir_10k, *dir_1m, *dir_street, *tmpl;
	long rss_a, rss_b, rss_c, rss_build_1m;
	double h[PULL_FIGURES], f[12], sqlite_insert_ms;
	sync_figures e;
	merge_figures g;
	report_figures i;
	cli_figures j;
	int major, minor, rev, have_ssh, have_cli;

	main_pid = getpid();
	if (env_scale && *env_scale) {
		scale = strtod(env_scale, NULL);
		if (!(scale > 0 && scale <= 10))
			die("TS_BENCH_SCALE must be a number in (0, 10]");
	}
	n_10k = scaled(n_10k);
	n_100k = scaled(n_100k);
	n_1m = scaled(n_1m);
	batch_1m = scaled(batch_1m);
	n_change = scaled(n_change);
	n_rows_f = scaled(n_rows_f);
	if (argc > 1)
		return single(argc, argv);

	tmpl = path_in(tmpdir && *tmpdir ? tmpdir : "/tmp", "tiersync-bench-XXXXXX");
	if (!(scratch = mkdtemp(tmpl)))
		die("creating a scratch directory: %s", strerror(errno));
	atexit(cleanup);
	dir_100k = path_in(scratch, "node-100k");
	dir_10k = path_in(scratch, "node-10k");
	dir_1m = path_in(scratch, "node-1m");

	git_libgit2_version(&major, &minor, &rev);
	printf("# tiersync bench: figures are `name: value` lines; ratios are node / plain SQLite or\n");
	printf("# stock git, measured in this run. Goals (docs/BENCH.md):\n");
	printf("#   commit_vs_sqlite_ratio  <= 2     (mean durable update+commit, 100k cases, vs rollback-journal UPDATE;\n");
	printf("#                                     and commit_100k_p99_ms <= 5 x sqlite_update_p99_ms)\n");
	printf("#   commit_batched_vs_sqlite_ratio   (the same with ts_node_batch_commits() on: reported)\n");
	printf("#   commit_scaling_ratio    <= 1.3   (median update+commit, 1M cases / 10k cases)\n");
	printf("#   import_vs_sqlite_ratio  >= 0.5   (rows/s importing 100k cases in one commit, vs one-transaction INSERT)\n");
	printf("#   sync_vs_git_push_ratio  <= 1.0   (push over ssh + district merge of 10k changed rows, vs stock git push\n");
	printf("#                                     of the same commit through the same sshd; medians)\n");
	printf("#   bytes_vs_changeset_ratio <= 3    (bytes pushed for 1,000 changed rows / zlib'd SQLite changeset of them)\n");
	printf("#   bytes_one_row_commit    <= 1024  (bytes pushed for a commit changing one row, signature included)\n");
	printf("#   merge_scaling_ratio     <= 1.3   (median merge of 10k changed rows, 1M-row base / 100k-row base)\n");
	printf("#   apply_longest_write_wait_ms ~100 (longest local write while 100k incoming rows apply in a pull)\n");
	printf("#   clone_100k_vs_git_ratio <= 1.5   (a new street's first pull of the 100k district, fetch + apply, vs\n");
	printf("#                                     stock git clone of its history + plain SQLite load of the rows)\n");
	printf("#   disk_vs_sqlite_ratio    <= 2     (the 100k node's directory after (a), vs the plain SQLite database)\n");
	printf("#   report_vs_scan_ratio    <= 3     (tiersync report of a year, 1M cases in 16 units, vs one plain\n");
	printf("#                                     GROUP BY jurisdiction, category scan of the same period; medians)\n");
	printf("#   report_units_ratio      <= 1.3   (the same report, 1M cases in 16 units / in 4 units)\n");
	printf("#   cli_status_vs_sqlite3_ratio <= 3 (a `tiersync status` process on the 100k-case node, vs a sqlite3\n");
	printf("#                                     shell process counting its cases; best of 15 each)\n");
	printf("#   cli_case_commit_ms      reported (a `case new` + `commit` pair of processes, best of 15)\n");
	printf("#   peak_rss_*_kb           <= 65536 (each phase's forked child; building the 1M node <= 262144)\n");
	printf("# machine: %ld cores online, SQLite %s, libgit2 %d.%d.%d, scratch %s\n",
		sysconf(_SC_NPROCESSORS_ONLN), sqlite3_libversion(), major, minor, rev, scratch);
	if (scale != 1.0)
		printf("# TS_BENCH_SCALE=%g: every row count is scaled; figure names keep nominal sizes\n", scale);
	fflush(stdout);

	/* (c) import: a fresh node, 100k cases, one write + one commit */
	bench_import(dir_100k, &rss_c, &sqlite_insert_ms);
	/* (a) update + commit on 100k cases vs a plain UPDATE, alternating */
	bench_commit_100k(dir_100k, &rss_a);
	/* (b) the same operation on 10k and 1M cases */
	bench_commit_scaling(dir_10k, dir_1m, &rss_b, &rss_build_1m);

	printf("# (d) peak RSS of the forked child of each phase (wait4 ru_maxrss)\n");
	figure_kb("peak_rss_a_kb", rss_a);
	figure_kb("peak_rss_b_kb", rss_b);
	figure_kb("peak_rss_c_kb", rss_c);
	figure_kb("peak_rss_build_1m_kb", rss_build_1m);

	/* (h) a new street node's first pull of the district, writing meanwhile */
	dir_street = path_in(scratch, "node-street");
	bench_pull_run(h, dir_street, dir_100k);
	/* (e) and (f): over a real sshd on 127.0.0.1, from the street of (h) */
	have_ssh = bench_sync_run(&e, f, dir_street, dir_100k);
	/* (g) merge of n_change changed rows into a 1M-row and a 100k-row base */
	bench_merge_run(&g, dir_1m, dir_100k);
	/* (i) the report over 1M cases in 16 units, against a grouped scan and at 4 units */
	bench_report_run(&i, scratch);
	/* (j) CLI processes on the 100k node; last, as its commits add to that node */
	have_cli = bench_cli_run(&j, dir_100k);

	if (have_ssh) {
		bench_sync_print(&e);
		bench_bytes_print(f);
	}
	bench_merge_print(&g);
	bench_pull_print(h, sqlite_insert_ms);
	bench_report_print(&i);
	if (have_cli)
		bench_cli_print(&j);

	free(dir_street);
	free(dir_100k);
	free(dir_10k);
	free(dir_1m);
	cleanup();
	figure("total_elapsed_ms", now_ms() - start);
	return 0;
}
