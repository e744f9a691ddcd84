/*
 * bench.h: what the files of the bench share. tools/bench.c holds main(),
 * the sub-modes, and the helpers declared here (time, errors, forked
 * children and their RSS, statistics, figure output, commands, the scratch
 * directory); tools/bench_rows.c the rows every figure writes; each other
 * tools/bench_<group>.c runs one group of figures of docs/BENCH.md in
 * forked children and prints them.
 *
 * Nothing here is part of the product: the bench reaches the node through
 * include/tiersync.h only, and SQLite and libgit2 directly for its
 * baselines.
 */
#ifndef TS_BENCH_H
#define TS_BENCH_H

#include <sqlite3.h>

#include <stddef.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/types.h>

#include "tiersync.h"

#define NODE_ID        "bj.dc"          /* a district node: it holds its streets' cases */
#define AUTHOR         "王建国"
#define STREET_ID      "bj.dc.jingshan"
#define STREET_AUTHOR  "李秀英"
#ifndef SSHD_BIN
#define SSHD_BIN       "/usr/sbin/sshd"   /* -DSSHD_BIN=... to try the skip path */
#endif
#define FEW_ROWS       3    /* how far the receiving node diverged: case updates */

/* Row counts, TS_BENCH_SCALE applied by main() before any figure runs. */
extern uint64_t n_10k, n_100k, n_1m, batch_1m, n_change, n_rows_f;

/* The run's scratch directory; removed at exit unless TS_BENCH_KEEP. */
extern char *scratch;

/* ---- time and small helpers (bench.c) --------------------------------- */

double now_ms(void);   /* CLOCK_MONOTONIC */
/* "bench: " and the message on stderr, then exit(1) (_exit(1) in a child). */
void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void ts_die(const char *what);
void sql_die(sqlite3 *db, const char *what);
void exec_or_die(sqlite3 *db, const char *sql);
/* "dir/name", malloc'ed: the caller frees it. */
char *path_in(const char *dir, const char *name);
/* splitmix64: a small, good, deterministic mixer */
uint64_t mix(uint64_t x);

/* ---- children (bench.c) ----------------------------------------------- */

/* What the parent learns from one child: the doubles it wrote, its rusage.
 * The caller frees v. */
typedef struct {
	double *v;
	size_t n;
	struct rusage ru;
	double wall_ms;
} child_result;

typedef void (*child_fn)(int fd, const void *arg);

/* In a child: sends n doubles to the parent. */
void put(int fd, const double *v, size_t n);
/* Runs fn(fd, arg) in a forked child and collects what it sent; dies,
 * naming `what`, if the child fails. */
void run_child(child_result *out, const char *what, child_fn fn, const void *arg);
/* "rss 512 MB (anon 300, file 212), peak 600 MB" from /proc/self/status, for progress lines. */
void describe_rss(char *out, size_t size);
ts_node *open_node(const char *dir);

/* ---- statistics and output (bench.c) ---------------------------------- */

typedef struct {
	double *v;
	size_t n, alloc;
} samples;

void add(samples *s, double x);
double mean(const samples *s);
/* The q-quantile (0..1) by nearest rank; sorts the samples. */
double quantile(samples *s, double q);
/* One `name: value` line on stdout. */
void figure(const char *name, double value);
void figure_int(const char *name, double value);
void figure_kb(const char *name, long kb);
/* Prints mean, median and p99 of a series under one name. */
void figure_series(const char *name, samples *s, int mean_is_main);

/* ---- commands (bench.c) ----------------------------------------------- */

/* Runs argv, stdout and stderr to the files given (NULL: /dev/null), with
 * `env` ("NAME=value") added; returns the exit status, -1 if killed. */
int run_cmd(char *const argv[], const char *out, const char *err, const char *env);
/* The whole file, malloc'ed (the caller frees it), or NULL. */
char *slurp(const char *path);
void remove_dir(const char *path);
/* A copy of the node at `src` in `dst`: history.git/objects hard-linked
 * (objects and packs are never written in place), every other file copied. */
void copy_node(const char *src, const char *dst);

/* ---- the rows (bench_rows.c) ------------------------------------------ */

struct case_category { const char *code; int days; const char *what; };
#define NCAT 16
extern const struct case_category categories[];   /* NCAT of them */
extern const char *const roads[];                  /* 16 of them */

typedef struct {
	char id[96];
	const char *source, *category, *jurisdiction, *status, *officer, *stage;
	const char *legal_basis, *transfer_to, *satisfaction;
	char address[192], created_by[64], description[256];
	double lng, lat;
	char reported_at[32], deadline[32], filed_at[32], decided_at[32];
	char transferred_at[32], visited_at[32], closed_at[32];
	char complainant[32], phone[16];
	int64_t penalty;   /* fen; < 0 for NULL */
} case_row;

/* Case number i, from splitmix64(i) alone. */
void gen_row(case_row *r, uint64_t i);
/* Inserts cases [from, to) with one prepared statement; the caller owns
 * the transaction. Returns 0, or -1 with the reason on stderr. */
int insert_cases(sqlite3 *db, uint64_t from, uint64_t to);

typedef struct {
	uint64_t from, to;
} range;

/* ts_node_write() callback: insert_cases() of the range in payload. */
int insert_cb(sqlite3 *db, void *payload);
/* A case that can still be edited, picked at random. */
uint64_t pick_open_case(uint64_t *rng, uint64_t n);
/* Changes `count` cases' description in one write, not yet committed;
 * returns how many. */
size_t write_bulk(ts_node *node, size_t count, uint64_t n, uint64_t seed, const char *what);
/* The same, committed. */
size_t commit_bulk(ts_node *node, size_t count, uint64_t n, uint64_t seed, const char *what);
/* The receiving side's own work: `count` case updates, one commit. */
void commit_few(ts_node *node, size_t count, uint64_t n, uint64_t seed);

/* ---- (c) import (bench_import.c) -------------------------------------- */

/* Creates a node and fills it with cases [0, n) in commits of `batch` rows:
 * one ts_node_write() (a prepared INSERT per row) + one ts_node_commit()
 * each. Writes, per batch, the write time and the commit time. */
typedef struct {
	const char *dir, *label;
	uint64_t n, batch;
} build_args;

void child_build(int fd, const void *arg);
/* A plain SQLite database with the baselines' pragmas. */
sqlite3 *open_plain(const char *path, const char *journal_mode);
/* Runs (c) into dir_100k and prints its figures; *rss_c: the import's peak
 * RSS, *sqlite_insert_ms: the plain SQLite insert of the same rows. */
void bench_import(const char *dir_100k, long *rss_c, double *sqlite_insert_ms);

/* ---- (a) and (b) update + commit (bench_commit.c) --------------------- */

/* The operation of (a) and (b): one ts_case_update() setting description,
 * then one ts_node_commit(), on varying open cases. Writes, per timed
 * iteration: update time, commit time. */
typedef struct {
	const char *dir;
	uint64_t ncases, seed;
	int iters;
	int batched;         /* ts_node_batch_commits() on */
} update_args;

void child_node_updates(int fd, const void *arg);
/* Runs (a) on the node (c) made and prints its figures; *rss_a: the largest node child. */
void bench_commit_100k(const char *dir_100k, long *rss_a);
/* Builds the 10k and 1M nodes, runs (b) on them and prints its figures. */
void bench_commit_scaling(const char *dir_10k, const char *dir_1m, long *rss_b, long *rss_build_1m);

/* ---- (h) local writes during an incoming apply (bench_pull.c) --------- */

typedef struct {
	const char *street, *district;
} pull_args;

void child_first_pull(int fd, const void *arg);
/* Makes the street at dir_street and runs (h); h: the first pull's values,
 * then (h[9]) a stock `git clone` of the district's history. */
#define PULL_FIGURES 10
void bench_pull_run(double h[PULL_FIGURES], const char *dir_street, const char *dir_100k);
/* `sqlite_insert_ms`: (c)'s plain load of the same rows, the rest of the
 * baseline of clone_100k_vs_git_ratio. */
void bench_pull_print(const double h[PULL_FIGURES], double sqlite_insert_ms);

/* ---- sshd on 127.0.0.1 (bench_sshd.c) --------------------------------- */

extern pid_t main_pid;   /* set by main(): only it starts and stops sshd */
extern int sshd_port;

/* Starts sshd in `dir` (its keys, config and log; `dir`/street_key is the
 * user key it lets in) and writes `known_hosts` for it. */
void sshd_start(const char *dir, const char *known_hosts);
void sshd_stop(void);   /* by its PID; safe to call when none runs */
void on_fatal_signal(int sig);

/* ---- (e) and (f) over ssh (bench_sync.c, bench_bytes.c) --------------- */

typedef struct {
	const char *street, *district, *url, *key;
	const char *authorized_keys;   /* sshd's, where the district enrolls the street's key */
	const char *program;           /* the tiersync binary the gate's forced command runs */
	uint64_t n;
	int rep;
} sync_args;

/* What (e) measured, printed after (g) has run. */
typedef struct {
	samples sync, push, merge, git;
	double first[3], bytes, git_bytes, git_objects, rows, written;
} sync_figures;

/* Starts sshd, runs (e) and then (f) (bench_bytes_run) through it; returns
 * 0, having printed `sync_bench: skipped (no sshd)`, without SSHD_BIN. */
int bench_sync_run(sync_figures *e, double f[12], const char *dir_street, const char *dir_100k);
void bench_sync_print(sync_figures *e);   /* frees the samples */
void bench_bytes_run(double f[12], const sync_args *sa);
void bench_bytes_print(const double f[12]);

/* ---- (g) merge cost against the size of the base (bench_merge.c) ------ */

typedef struct {
	samples merge_1m, merge_100k;
	long rss_merge_1m;   /* the largest 1M merge child */
} merge_figures;

void bench_merge_run(merge_figures *g, const char *dir_1m, const char *dir_100k);
void bench_merge_print(merge_figures *g);   /* frees the samples */

/* ---- (i) the report over 1M cases (bench_report.c) ------------------- */

typedef struct {
	double report_ms, scan_ms, report_4_ms, build_ms;   /* medians, but build_ms: both builds */
	long rss_kb;                                         /* the child timing the reports */
} report_figures;

/* Builds the report nodes under dir, times the report against its
 * baseline and at 4 units, and removes the nodes. */
void bench_report_run(report_figures *out, const char *dir);
void bench_report_print(const report_figures *f);

/* ---- (j) process start: the CLI against the sqlite3 shell (bench_cli.c) */

typedef struct {
	samples status, sqlite3, pair;   /* ms per process, or per pair of them */
} cli_figures;

/* Times `tiersync status` against `sqlite3 ... count(*)` on the node at
 * dir, then `case new` + `commit` pairs there; returns 0, having printed
 * `cli_bench: skipped (...)`, when the CLI or the shell is missing. */
int bench_cli_run(cli_figures *out, const char *dir);
void bench_cli_print(cli_figures *f);   /* frees the samples */

#endif
