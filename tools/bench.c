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
 */
#include <sqlite3.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <ftw.h>
#include <git2.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "tiersync.h"

/* ---- sizes ----------------------------------------------------------- */

#define NODE_ID      "bj.dc"          /* a district node: it holds its streets' cases */
#define AUTHOR       "王建国"
#define BLOCKS       8                /* alternating measurement blocks */
#define A_ITERS      128              /* (a): per block, 1024 in all */
#define B_ITERS      64               /* (b): per block and node size, 512 in all */
#define WARMUP       8                /* untimed iterations at the start of each block */

static uint64_t n_10k = 10000, n_100k = 100000, n_1m = 1000000, batch_1m = 100000;
static double scale = 1.0;
static int in_child;   /* a child must not run the parent's atexit cleanup */

/* ---- time and small helpers ------------------------------------------ */

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void die(const char *fmt, ...)
	__attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
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

static void ts_die(const char *what)
{
	die("%s: %s", what, ts_error_last() ? ts_error_last() : "unknown error");
}

static void sql_die(sqlite3 *db, const char *what)
{
	die("%s: %s", what, sqlite3_errmsg(db));
}

static void exec_or_die(sqlite3 *db, const char *sql)
{
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
		sql_die(db, sql);
}

static char *path_in(const char *dir, const char *name)
{
	size_t n = strlen(dir) + strlen(name) + 2;
	char *p = malloc(n);
	if (!p)
		die("out of memory");
	snprintf(p, n, "%s/%s", dir, name);
	return p;
}

/* splitmix64: a small, good, deterministic mixer */
static uint64_t mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

/* ---- realistic case rows --------------------------------------------- */

static const struct { const char *code; int days; const char *what; } categories[] = {
	{ "construction_dust", 3, "施工工地裸土未苫盖，车辆进出扬尘明显，未设置冲洗设施。" },
	{ "muck_spill", 1, "渣土运输车辆沿途遗撒，路面可见泥土拖带约五十米。" },
	{ "muck_vehicle", 3, "运输车辆未密闭、无准运证件，车厢苫盖不严。" },
	{ "outdoor_bbq", 1, "夜间店外露天烧烤，油烟扰民，居民多次投诉。" },
	{ "open_burning", 1, "绿地内露天焚烧落叶及垃圾，烟雾较大。" },
	{ "coal_unlicensed", 1, "居民区内无照销售散煤，现场存放约两吨。" },
	{ "small_ads", 3, "电线杆及楼道墙面张贴办证、开锁类小广告十余张。" },
	{ "unlicensed_vending", 3, "地铁站口无照游商兜售水果，占用盲道。" },
	{ "parking_lot", 15, "停车场未公示收费标准，出入口车辆排队占道。" },
	{ "outside_store", 3, "商户店外摆放货架占道经营，影响行人通行。" },
	{ "signboard", 15, "违规设置大型牌匾标识，未经审批，存在坠落隐患。" },
	{ "illegal_vehicle", 3, "路口聚集两轮三轮车非法揽客，扰乱交通秩序。" },
	{ "gas_safety", 3, "餐饮商户液化气钢瓶未加装安全装置，存放于后厨通道。" },
	{ "facility_damage", 7, "井盖破损缺失，占压雨水篦子，存在安全隐患。" },
	{ "kitchen_waste", 7, "餐厨垃圾未交有资质单位收运，混入其他垃圾桶。" },
	{ "illegal_building", 30, "平房院内私搭乱建彩钢板房约二十平方米。" },
};
#define NCAT (sizeof(categories) / sizeof(categories[0]))

static const char *const sources[] = { "patrol", "complaint", "video", "referral", "media", "supervision" };
static const char *const streets[][2] = {
	{ "bj.dc.jingshan", "景山街道" }, { "bj.dc.jiaodaokou", "交道口街道" },
	{ "bj.dc.andingmen", "安定门街道" }, { "bj.dc.beixinqiao", "北新桥街道" },
	{ "bj.dc.donghuamen", "东华门街道" }, { "bj.dc.dongsi", "东四街道" },
	{ "bj.dc.chaoyangmen", "朝阳门街道" }, { "bj.dc.jianguomen", "建国门街道" },
};
static const char *const roads[] = {
	"景山前街", "北河沿大街", "东四北大街", "交道口南大街", "地安门东大街", "南锣鼓巷",
	"鼓楼东大街", "美术馆后街", "五四大街", "沙滩北街", "黄化门街", "安定门内大街",
	"雍和宫大街", "北新桥三条", "朝阳门北小街", "东单北大街",
};
static const char *const spots[] = { "门前", "东侧便道", "西侧胡同口", "院内", "公交站旁", "底商外" };
static const char *const officers[] = {
	"王建国", "李秀英", "张伟", "刘洋", "陈静", "杨帆", "赵磊", "黄敏",
	"周强", "吴霞", "徐涛", "孙丽", "马超", "朱红", "胡斌", "郭鹏",
};
static const char *const surnames[] = { "王", "李", "张", "刘", "陈", "杨", "赵", "黄" };
static const char *const stages[] = { "educate", "warn", "penalize" };
static const char *const satisfaction[] = { "satisfied", "basically_satisfied", "dissatisfied" };

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

/* 2023-01-01T00:00:00+08:00 */
#define T0 INT64_C(1672502400)

/* The status of case number i; every status bucket is a share of 100. */
static const char *status_of(uint64_t i)
{
	unsigned b = (unsigned)(mix(i * 7 + 1) % 100);
	return b < 10 ? "discovered" : b < 25 ? "dispatched" : b < 45 ? "handling" :
	       b < 55 ? "feedback" : b < 95 ? "closed" : "transferred";
}

static void gen_row(case_row *r, uint64_t i)
{
	uint64_t h = mix(i), h2 = mix(h), h3 = mix(h2);
	unsigned cat = (unsigned)(h % NCAT), st = (unsigned)((h >> 8) % 8);
	int days = categories[cat].days;
	int64_t reported = T0 + (int64_t)(h2 % (730u * 86400u)), closed;

	memset(r, 0, sizeof(*r));
	r->penalty = -1;
	r->category = categories[cat].code;
	r->source = sources[(h >> 16) % 6];
	r->jurisdiction = streets[st][0];
	r->status = status_of(i);
	snprintf(r->address, sizeof(r->address), "北京市东城区%s%s%u号%s", streets[st][1],
		roads[(h >> 20) % 16], (unsigned)((h >> 24) % 300 + 1), spots[(h >> 32) % 6]);
	r->lng = 116.38 + (double)((h >> 36) % 6000) / 100000.0;
	r->lat = 39.89 + (double)((h >> 44) % 5000) / 100000.0;
	snprintf(r->created_by, sizeof(r->created_by), "%s.d%02u", streets[st][0], (unsigned)((h >> 52) % 12 + 1));
	snprintf(r->description, sizeof(r->description), "%s", categories[cat].what);
	ts_time_format(r->reported_at, reported);
	ts_time_format(r->deadline, reported + days * 86400);
	snprintf(r->id, sizeof(r->id), NODE_ID "-c%.4s%.2s%.2s-%llu",
		r->reported_at, r->reported_at + 5, r->reported_at + 8, (unsigned long long)i + 1);
	if (strcmp(r->status, "discovered"))
		r->officer = officers[h3 % 16];
	if (!strcmp(r->status, "handling") || !strcmp(r->status, "closed")) {
		r->stage = stages[(h3 >> 8) % 3];
		if (!strcmp(r->stage, "penalize")) {
			ts_time_format(r->filed_at, reported + 7200);
			ts_time_format(r->decided_at, reported + 86400);
			r->legal_basis = "《北京市市容环境卫生条例》第七十六条";
			r->penalty = (int64_t)((h3 >> 12) % 10 + 1) * 10000;
		}
	}
	if (!strcmp(r->status, "transferred")) {
		r->transfer_to = "东城公安分局";
		ts_time_format(r->transferred_at, reported + 3 * 3600);
	}
	closed = reported + 3600 + (int64_t)((h3 >> 16) % ((uint64_t)days * 86400));
	if (!strcmp(r->status, "closed"))
		ts_time_format(r->closed_at, closed);
	if (!strcmp(r->source, "complaint")) {
		snprintf(r->complainant, sizeof(r->complainant), "%s%s", surnames[(h3 >> 24) % 8],
			(h3 >> 28) & 1 ? "先生" : "女士");
		snprintf(r->phone, sizeof(r->phone), "13%09llu", (unsigned long long)((h3 >> 30) % 1000000000));
		if (!strcmp(r->status, "closed")) {
			ts_time_format(r->visited_at, closed + 86400);
			r->satisfaction = satisfaction[(h3 >> 40) % 3];
		}
	}
}

static const char insert_sql[] =
	"INSERT INTO cases (id, source, category, address, lng, lat, jurisdiction, description, "
	"  status, officer, reported_at, deadline, stage, filed_at, legal_basis, penalty_amount, "
	"  decided_at, transfer_to, transferred_at, complainant_name, complainant_phone, visited_at, "
	"  satisfaction, created_by_node, closed_at) "
	"VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, "
	"  ?19, ?20, ?21, ?22, ?23, ?24, ?25)";

static void bind_opt(sqlite3_stmt *st, int idx, const char *s)
{
	if (s && *s)
		sqlite3_bind_text(st, idx, s, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, idx);
}

/* Inserts cases [from, to) with one prepared statement; the caller owns
 * the transaction. Returns 0, or -1 with the reason on stderr. */
static int insert_cases(sqlite3 *db, uint64_t from, uint64_t to)
{
	sqlite3_stmt *st = NULL;
	case_row r;
	uint64_t i;
	int error = 0;

	if (sqlite3_prepare_v2(db, insert_sql, -1, &st, NULL) != SQLITE_OK) {
		fprintf(stderr, "bench: preparing the insert: %s\n", sqlite3_errmsg(db));
		return -1;
	}
	for (i = from; i < to; i++) {
		gen_row(&r, i);
		bind_opt(st, 1, r.id);
		bind_opt(st, 2, r.source);
		bind_opt(st, 3, r.category);
		bind_opt(st, 4, r.address);
		sqlite3_bind_double(st, 5, r.lng);
		sqlite3_bind_double(st, 6, r.lat);
		bind_opt(st, 7, r.jurisdiction);
		bind_opt(st, 8, r.description);
		bind_opt(st, 9, r.status);
		bind_opt(st, 10, r.officer);
		bind_opt(st, 11, r.reported_at);
		bind_opt(st, 12, r.deadline);
		bind_opt(st, 13, r.stage);
		bind_opt(st, 14, r.filed_at);
		bind_opt(st, 15, r.legal_basis);
		if (r.penalty >= 0)
			sqlite3_bind_int64(st, 16, r.penalty);
		else
			sqlite3_bind_null(st, 16);
		bind_opt(st, 17, r.decided_at);
		bind_opt(st, 18, r.transfer_to);
		bind_opt(st, 19, r.transferred_at);
		bind_opt(st, 20, r.complainant);
		bind_opt(st, 21, r.phone);
		bind_opt(st, 22, r.visited_at);
		bind_opt(st, 23, r.satisfaction);
		bind_opt(st, 24, r.created_by);
		bind_opt(st, 25, r.closed_at);
		if (sqlite3_step(st) != SQLITE_DONE) {
			fprintf(stderr, "bench: inserting case %llu: %s\n", (unsigned long long)i, sqlite3_errmsg(db));
			error = -1;
			break;
		}
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	return error;
}

typedef struct {
	uint64_t from, to;
} range;

static int insert_cb(sqlite3 *db, void *payload)
{
	range *r = payload;
	return insert_cases(db, r->from, r->to);
}

/* 1 when case i can still be edited: closed and transferred cases are refused. */
static int editable(uint64_t i)
{
	return strcmp(status_of(i), "closed") && strcmp(status_of(i), "transferred");
}

/* A case that can still be edited, picked at random. */
static uint64_t pick_open_case(uint64_t *rng, uint64_t n)
{
	for (;;) {
		uint64_t i;
		*rng = mix(*rng);
		i = *rng % n;
		if (editable(i))
			return i;
	}
}

/* ---- children -------------------------------------------------------- */

/* What the parent learns from one child: the doubles it wrote, its rusage. */
typedef struct {
	double *v;
	size_t n;
	struct rusage ru;
	double wall_ms;
} child_result;

typedef void (*child_fn)(int fd, const void *arg);

static void put(int fd, const double *v, size_t n)
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

static void run_child(child_result *out, const char *what, child_fn fn, const void *arg)
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

/* "rss 512 MB (anon 300, file 212), peak 600 MB" from /proc/self/status, for progress lines. */
static void describe_rss(char *out, size_t size)
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

static ts_node *open_node(const char *dir)
{
	ts_node *node = NULL;
	if (ts_node_open(&node, dir) < 0)
		ts_die(dir);
	return node;
}

/* Creates a node and fills it with cases [0, n) in commits of `batch` rows:
 * one ts_node_write() (a prepared INSERT per row) + one ts_node_commit()
 * each. Writes, per batch, the write time and the commit time. */
typedef struct {
	const char *dir, *label;
	uint64_t n, batch;
} build_args;

static void child_build(int fd, const void *arg)
{
	const build_args *a = arg;
	ts_init_options opts = { TS_INIT_OPTIONS_VERSION, TS_TIER_DISTRICT, NODE_ID, NULL, AUTHOR, NULL };
	ts_node *node = NULL;
	char head[41], msg[96];
	double start = now_ms();
	uint64_t from;

	if (ts_node_init(&node, a->dir, &opts) < 0)
		ts_die("ts_node_init");
	for (from = 0; from < a->n; from += a->batch) {
		range r = { from, from + a->batch < a->n ? from + a->batch : a->n };
		double t0 = now_ms(), t1, t2, v[2];
		snprintf(msg, sizeof(msg), "import cases %llu..%llu",
			(unsigned long long)r.from + 1, (unsigned long long)r.to);
		if (ts_node_write(node, AUTHOR, msg, insert_cb, &r) != 0)
			ts_die("ts_node_write (import)");
		t1 = now_ms();
		if (ts_node_commit(head, node, msg, NULL) < 0)
			ts_die("ts_node_commit (import)");
		t2 = now_ms();
		v[0] = t1 - t0;
		v[1] = t2 - t1;
		put(fd, v, 2);
		if (a->n > a->batch) {
			char rss[128];
			describe_rss(rss, sizeof(rss));
			fprintf(stderr, "bench: %s: %llu/%llu cases (write %.0f ms, commit %.0f ms, %.0f s so far; %s)\n",
				a->label, (unsigned long long)r.to, (unsigned long long)a->n, v[0], v[1],
				(now_ms() - start) / 1e3, rss);
		}
	}
	ts_node_free(node);
}

/* The operation of (a) and (b): one ts_case_update() setting description,
 * then one ts_node_commit(), on varying open cases. Writes, per timed
 * iteration: update time, commit time. */
typedef struct {
	const char *dir;
	uint64_t ncases, seed;
	int iters;
} update_args;

static void child_node_updates(int fd, const void *arg)
{
	const update_args *a = arg;
	ts_node *node = open_node(a->dir);
	double *v = malloc(2 * (size_t)a->iters * sizeof(double));
	uint64_t rng = a->seed;
	char head[41], desc[256];
	int k;

	if (!v)
		die("out of memory");
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

/* ---- plain SQLite baselines ------------------------------------------ */

static sqlite3 *open_plain(const char *path, const char *journal_mode)
{
	sqlite3 *db = NULL;
	char sql[128];

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK)
		die("opening %s: %s", path, db ? sqlite3_errmsg(db) : "out of memory");
	snprintf(sql, sizeof(sql), "PRAGMA journal_mode = %s; PRAGMA synchronous = FULL; "
		"PRAGMA foreign_keys = ON;", journal_mode);
	exec_or_die(db, sql);
	return db;
}

/* Gives `db` the synced tables of a fresh node, with their indexes,
 * triggers and reference rows (sources, categories), read from the node's
 * own database, so the baseline has exactly the product's schema. */
static void copy_schema(sqlite3 *db, const char *node_db)
{
	sqlite3_stmt *st = NULL;
	char **sql = NULL, **tables = NULL, *attach;
	size_t nsql = 0, ntables = 0, i;

	attach = sqlite3_mprintf("ATTACH %Q AS src", node_db);
	exec_or_die(db, attach);
	sqlite3_free(attach);
	if (sqlite3_prepare_v2(db,
			"SELECT type, name, sql FROM src.sqlite_master WHERE sql IS NOT NULL "
			"AND tbl_name NOT LIKE 'ts\\_%' ESCAPE '\\' AND tbl_name NOT LIKE 'sqlite\\_%' ESCAPE '\\' "
			"AND tbl_name NOT LIKE '\\_tiersync%' ESCAPE '\\' "
			"ORDER BY type <> 'table', rowid", -1, &st, NULL) != SQLITE_OK)
		sql_die(db, "reading the node's schema");
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (!(sql = realloc(sql, (nsql + 1) * sizeof(*sql))) ||
		    !(sql[nsql++] = strdup((const char *)sqlite3_column_text(st, 2))))
			die("out of memory");
		if (!strcmp((const char *)sqlite3_column_text(st, 0), "table")) {
			if (!(tables = realloc(tables, (ntables + 1) * sizeof(*tables))) ||
			    !(tables[ntables++] = strdup((const char *)sqlite3_column_text(st, 1))))
				die("out of memory");
		}
	}
	sqlite3_finalize(st);
	exec_or_die(db, "BEGIN");
	for (i = 0; i < nsql; i++) {
		exec_or_die(db, sql[i]);
		free(sql[i]);
	}
	for (i = 0; i < ntables; i++) {
		char *copy = sqlite3_mprintf("INSERT INTO main.\"%w\" SELECT * FROM src.\"%w\"", tables[i], tables[i]);
		exec_or_die(db, copy);
		sqlite3_free(copy);
		free(tables[i]);
	}
	exec_or_die(db, "COMMIT");
	exec_or_die(db, "DETACH src");
	free(sql);
	free(tables);
	if (ntables == 0)
		die("the node's database has no tables to copy");
}

/* (c) baseline: fresh databases with the node's schema, n cases inserted in
 * one transaction, timed from BEGIN to the end of COMMIT; once with the
 * default rollback journal, once in WAL mode. The databases stay, as the
 * baselines of (a). Writes: rollback ms, WAL ms. */
typedef struct {
	const char *scratch;
	uint64_t n;
} insert_args;

static void child_sqlite_insert(int fd, const void *arg)
{
	const insert_args *a = arg;
	ts_init_options opts = { TS_INIT_OPTIONS_VERSION, TS_TIER_DISTRICT, NODE_ID, NULL, AUTHOR, NULL };
	static const char *const modes[2][2] = { { "base-rollback.db", "DELETE" }, { "base-wal.db", "WAL" } };
	char *tmpl = path_in(a->scratch, "template"), *tmpl_db;
	ts_node *node = NULL;
	double v[2];
	int m;

	/* a fresh node, only to read its schema */
	if (ts_node_init(&node, tmpl, &opts) < 0)
		ts_die("ts_node_init (template)");
	ts_node_free(node);
	tmpl_db = path_in(tmpl, "tiersync.db");
	for (m = 0; m < 2; m++) {
		char *path = path_in(a->scratch, modes[m][0]);
		sqlite3 *db = open_plain(path, modes[m][1]);
		double t0;
		copy_schema(db, tmpl_db);
		t0 = now_ms();
		exec_or_die(db, "BEGIN");
		if (insert_cases(db, 0, a->n) < 0)
			die("plain SQLite insert failed");
		exec_or_die(db, "COMMIT");
		v[m] = now_ms() - t0;
		sqlite3_close(db);
		free(path);
	}
	put(fd, v, 2);
	free(tmpl_db);
	free(tmpl);
}

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

/* ---- statistics and output ------------------------------------------- */

typedef struct {
	double *v;
	size_t n, alloc;
} samples;

static void add(samples *s, double x)
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

static double mean(const samples *s)
{
	double sum = 0;
	size_t i;
	for (i = 0; i < s->n; i++)
		sum += s->v[i];
	return s->n ? sum / (double)s->n : 0;
}

/* The q-quantile (0..1) by nearest rank; sorts the samples. */
static double quantile(samples *s, double q)
{
	size_t k;
	if (!s->n)
		return 0;
	qsort(s->v, s->n, sizeof(double), dbl_cmp);
	k = (size_t)(q * (double)(s->n - 1) + 0.5);
	return s->v[k];
}

static void figure(const char *name, double value)
{
	if (value != 0 && value < 10)
		printf("%s: %.3f\n", name, value);
	else
		printf("%s: %.1f\n", name, value);
	fflush(stdout);
}

static void figure_int(const char *name, double value)
{
	printf("%s: %.0f\n", name, value);
	fflush(stdout);
}

static void figure_kb(const char *name, long kb)
{
	printf("%s: %ld\n", name, kb);
	fflush(stdout);
}

/* Prints mean, median and p99 of a series under one name. */
static void figure_series(const char *name, samples *s, int mean_is_main)
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

/* ---- (e)-(h): sync between nodes ------------------------------------- */

#define STREET_ID      "bj.dc.jingshan"
#define STREET_AUTHOR  "李秀英"
#ifndef SSHD_BIN
#define SSHD_BIN       "/usr/sbin/sshd"   /* -DSSHD_BIN=... to try the skip path */
#endif
#define E_REPS         3    /* (e): push + merge against git push, alternating */
#define G_REPS         3    /* (g): merges on each base, alternating */
#define FEW_ROWS       3    /* how far the receiving node diverged: case updates */
#define OWN_CASES      8    /* cases the street records before its first pull */
#define WRITE_EVERY_MS 10   /* (h): a local write every 10 ms */

static uint64_t n_change = 10000, n_rows_f = 1000;

/* Cases are split in two halves by a hash that no seed changes: bulk
 * changes take theirs from one half, the receiving node's own few updates
 * from the other, so the two sides of a merge never touch the same row. */
static int bulk_half(uint64_t i)
{
	return (mix(~i) & 1) == 0;
}

/* The modulus that picks about 1.2 × count of the n / 2 bulk-half cases. */
static uint64_t pick_modulus(uint64_t n, size_t count)
{
	uint64_t m = (uint64_t)((double)n / (2.4 * (double)count));
	return m < 1 ? 1 : m;
}

/* Up to `count` cases of [0, n) for a bulk change, in key order: those of
 * the bulk half whose hash with `seed` is 0 mod m, whatever their status
 * (a bulk UPDATE does not go through the case workflow). */
static size_t pick_bulk(uint64_t *out, size_t count, uint64_t n, uint64_t seed)
{
	uint64_t m = pick_modulus(n, count), i;
	size_t k = 0;
	for (i = 0; i < n && k < count; i++)
		if (bulk_half(i) && mix(i ^ mix(seed)) % m == 0)
			out[k++] = i;
	return k;
}

/* `count` open cases of the other half, from a place that depends on the seed. */
static size_t pick_few(uint64_t *out, size_t count, uint64_t n, uint64_t seed)
{
	uint64_t start = mix(seed + 77) % n, j;
	size_t k = 0;
	for (j = 0; j < n && k < count; j++) {
		uint64_t i = (start + j) % n;
		if (!bulk_half(i) && editable(i))
			out[k++] = i;
	}
	return k;
}

typedef struct {
	const uint64_t *idx;
	size_t n;
	uint64_t seed;
	const char *what;
} bulk_args;

/* ts_node_write() callback: one UPDATE of description per case. */
static int bulk_update(sqlite3 *db, void *payload)
{
	const bulk_args *b = payload;
	sqlite3_stmt *st = NULL;
	case_row r;
	size_t k;
	int error = 0;

	if (sqlite3_prepare_v2(db, "UPDATE cases SET description = ?1 WHERE id = ?2", -1, &st, NULL) != SQLITE_OK) {
		fprintf(stderr, "bench: preparing the bulk update: %s\n", sqlite3_errmsg(db));
		return -1;
	}
	for (k = 0; k < b->n; k++) {
		char desc[256];
		gen_row(&r, b->idx[k]);
		/* a text of the officers' kind, different on every row */
		snprintf(desc, sizeof(desc), "第%llu轮%s：现场已整改，责任人签署承诺书，整改单号%08llx。",
			(unsigned long long)b->seed, b->what, (unsigned long long)(mix(b->idx[k] ^ b->seed) & 0xffffffffu));
		sqlite3_bind_text(st, 1, desc, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 2, r.id, -1, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE || sqlite3_changes(db) != 1) {
			fprintf(stderr, "bench: bulk update of %s: %s\n", r.id, sqlite3_errmsg(db));
			error = -1;
			break;
		}
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	return error;
}

/* Changes `count` cases' description in one write, not yet committed. */
static size_t write_bulk(ts_node *node, size_t count, uint64_t n, uint64_t seed, const char *what)
{
	uint64_t *idx = malloc(count * sizeof(*idx));
	char msg[128];
	bulk_args b;

	if (!idx)
		die("out of memory");
	b.idx = idx;
	b.n = pick_bulk(idx, count, n, seed);
	b.seed = seed;
	b.what = what;
	snprintf(msg, sizeof(msg), "%s: %zu cases", what, b.n);
	if (ts_node_write(node, NULL, msg, bulk_update, &b) != 0)
		ts_die("ts_node_write (bulk update)");
	free(idx);
	return b.n;
}

static size_t commit_bulk(ts_node *node, size_t count, uint64_t n, uint64_t seed, const char *what)
{
	char head[41];
	size_t changed = write_bulk(node, count, n, seed, what);
	if (ts_node_commit(head, node, what, NULL) < 0)
		ts_die("ts_node_commit (bulk update)");
	return changed;
}

/* The receiving side's own work: `count` case updates, one commit. */
static void commit_few(ts_node *node, size_t count, uint64_t n, uint64_t seed)
{
	uint64_t idx[16];
	char desc[256], head[41];
	size_t k, got = pick_few(idx, count < 16 ? count : 16, n, seed);

	for (k = 0; k < got; k++) {
		case_row r;
		ts_field f = { "description", desc };
		gen_row(&r, idx[k]);
		snprintf(desc, sizeof(desc), "区级督办第%llu轮：责令限期整改。", (unsigned long long)seed);
		if (ts_case_update(node, r.officer ? r.officer : AUTHOR, r.id, &f, 1) < 0)
			ts_die("ts_case_update (divergence)");
	}
	if (ts_node_commit(head, node, "督办：更新案件描述", NULL) < 0)
		ts_die("ts_node_commit (divergence)");
}

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

/* ---- (h) a new street's first pull, with local writes meanwhile ------- */

typedef struct {
	const char *street, *district;
} pull_args;

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

/* A new street node records OWN_CASES cases, fetches the district (a local
 * path), then merges it: every district row is applied. A second process
 * writes meanwhile. Writes: merge ms, rows applied, merge attempts refused
 * for the writer's staged work, fetch ms, writes during the merge, their
 * longest wait, busy refusals among them, the median write before the
 * merge, all writes. */
static void child_first_pull(int fd, const void *arg)
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

/* ---- sshd on 127.0.0.1, as tests/e2e/lib_sshd.inc runs it -------------- */

static pid_t sshd_pid, main_pid;
static int sshd_port;

static void sshd_stop(void)
{
	if (sshd_pid > 0 && getpid() == main_pid) {
		kill(sshd_pid, SIGTERM);
		while (waitpid(sshd_pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
	sshd_pid = 0;
}

static void on_fatal_signal(int sig)
{
	if (sshd_pid > 0 && getpid() == main_pid) {
		kill(sshd_pid, SIGTERM);
		waitpid(sshd_pid, NULL, 0);
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

/* Runs argv, stdout and stderr to the files given (NULL: /dev/null), with
 * `env` ("NAME=value") added; returns the exit status, -1 if killed. */
static int run_cmd(char *const argv[], const char *out, const char *err, const char *env)
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

static char *slurp(const char *path)
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

static void spit(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	if (!f || fputs(text, f) < 0 || fclose(f) != 0)
		die("writing %s: %s", path, strerror(errno));
}

/* The second field of an OpenSSH public key line (the base64 key), in out. */
static int key_field(char *out, size_t size, const char *line, int field)
{
	int i;
	const char *p = line, *end;
	for (i = 0; i < field; i++) {
		p = strchr(p, ' ');
		if (!p)
			return -1;
		p++;
	}
	end = p + strcspn(p, " \n");
	if ((size_t)(end - p) >= size || end == p)
		return -1;
	memcpy(out, p, (size_t)(end - p));
	out[end - p] = '\0';
	return 0;
}

/* Starts sshd -D -e -f CONFIG on 127.0.0.1 in `dir` (host key, user key
 * `dir`/street_key allowed in, config and log there), on the first port
 * from 20000 + pid % 10000 that works, and writes `known_hosts` with its
 * host key once ssh-keyscan finds that key on the port. */
static void sshd_start(const char *dir, const char *known_hosts)
{
	char *host_key = path_in(dir, "host_key"), *user_key = path_in(dir, "street_key");
	char *config = path_in(dir, "sshd_config"), *log = path_in(dir, "log"), *scan = path_in(dir, "scan");
	char *auth = path_in(dir, "authorized_keys"), *pub, *host_pub, hostb64[512], port_s[16];
	char *keygen_host[] = { "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "tiersync-bench-host", "-f", host_key, NULL };
	char *keygen_user[] = { "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", STREET_ID, "-f", user_key, NULL };
	char *keyscan[] = { "ssh-keyscan", "-T", "2", "-t", "ed25519", "-p", port_s, "127.0.0.1", NULL };
	int tries, port = 20000 + (int)(getpid() % 10000);

	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		die("mkdir %s: %s", dir, strerror(errno));
	if (run_cmd(keygen_host, NULL, log, NULL) != 0 || run_cmd(keygen_user, NULL, log, NULL) != 0)
		die("ssh-keygen failed (see %s)", log);
	{
		char *p = path_in(dir, "street_key.pub"), *h = path_in(dir, "host_key.pub");
		if (!(pub = slurp(p)) || !(host_pub = slurp(h)) || key_field(hostb64, sizeof(hostb64), host_pub, 1) < 0)
			die("reading the generated keys");
		free(p);
		free(h);
	}
	spit(auth, pub);
	if (mkdir("/run/sshd", 0755) < 0 && errno != EEXIST)   /* sshd's privilege separation directory */
		die("mkdir /run/sshd: %s", strerror(errno));
	for (tries = 0; tries < 10; tries++, port++) {
		char text[2048];
		int waited;
		pid_t pid;

		snprintf(text, sizeof(text),
			"Port %d\nListenAddress 127.0.0.1\nHostKey %s\nPidFile %s/sshd.pid\nAuthorizedKeysFile %s\n"
			"StrictModes no\nUsePAM no\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n"
			"PubkeyAuthentication yes\nPermitRootLogin prohibit-password\nUseDNS no\nLogLevel VERBOSE\n",
			port, host_key, dir, auth);
		spit(config, text);
		fflush(NULL);
		if ((pid = fork()) < 0)
			die("fork: %s", strerror(errno));
		if (pid == 0) {
			int l = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644), n = open("/dev/null", O_RDONLY);
			prctl(PR_SET_PDEATHSIG, SIGTERM);   /* never outlives the bench */
			if (getppid() != main_pid || l < 0 || n < 0 || dup2(n, 0) < 0 || dup2(l, 1) < 0 || dup2(l, 2) < 0)
				_exit(126);
			execl(SSHD_BIN, SSHD_BIN, "-D", "-e", "-f", config, (char *)NULL);
			_exit(127);
		}
		sshd_pid = pid;
		snprintf(port_s, sizeof(port_s), "%d", port);
		for (waited = 0; waited < 50; waited++) {
			char *found, *line, b64[512];
			if (waitpid(pid, NULL, WNOHANG) == pid) {
				sshd_pid = 0;   /* it exited: most likely the port is taken */
				break;
			}
			if (run_cmd(keyscan, scan, NULL, NULL) == 0 && (found = slurp(scan))) {
				for (line = found; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
					if (*line != '#' && key_field(b64, sizeof(b64), line, 2) == 0 && !strcmp(b64, hostb64)) {
						size_t len = strcspn(line, "\n");
						char *kh = malloc(len + 2);
						if (!kh)
							die("out of memory");
						memcpy(kh, line, len);
						strcpy(kh + len, "\n");
						spit(known_hosts, kh);
						free(kh);
						free(found);
						sshd_port = port;
						goto started;
					}
				}
				free(found);
			}
			usleep(100 * 1000);
		}
		sshd_stop();
	}
	die("sshd did not start on any of ten ports from %d (see %s)", port - 10, log);
started:
	free(host_key);
	free(user_key);
	free(config);
	free(log);
	free(scan);
	free(auth);
	free(pub);
	free(host_pub);
}

/* ---- (e) push + district merge over ssh, against stock git push -------- */

typedef struct {
	const char *street, *district, *url, *key;
	uint64_t n;
	int rep;
} sync_args;

/* The street's upstream over ssh, and a first push (its own cases and the
 * merge of the district): from then on the district holds a submission
 * the street knows, as after any earlier sync. Writes ms, bytes, objects. */
static void child_e_setup(int fd, const void *arg)
{
	const sync_args *a = arg;
	ts_node *street = open_node(a->street);
	ts_transfer_stats st;
	char head[41];
	double t0 = now_ms(), v[3];

	if (ts_node_remote_add(street, TS_REMOTE_DEFAULT, a->url, a->key) < 0)
		ts_die("ts_node_remote_add (ssh upstream)");
	if (ts_node_push(head, &st, street, NULL, NULL) < 0)
		ts_die("ts_node_push (first)");
	v[0] = now_ms() - t0;
	v[1] = (double)st.bytes;
	v[2] = (double)st.objects;
	put(fd, v, 3);
	ts_node_free(street);
}

/* Not timed: the district's own work (FEW_ROWS case updates, a commit its
 * street has not seen), then the street's commit of n_change changed rows. */
static void child_e_prepare(int fd, const void *arg)
{
	const sync_args *a = arg;
	uint64_t seed = 5000 + (uint64_t)a->rep;
	ts_node *node = open_node(a->district);
	double v[1];

	commit_few(node, FEW_ROWS, a->n, seed);
	ts_node_free(node);
	node = open_node(a->street);
	v[0] = (double)commit_bulk(node, n_change, a->n, seed, "街道集中复查");
	ts_node_free(node);
	put(fd, v, 1);
}

typedef struct {
	ts_submission_result r;
	int seen;
} submission_seen;

static int on_submission(const ts_submission_result *r, void *payload)
{
	submission_seen *s = payload;
	if (r->error < 0)
		die("merging the submission of %s: %s", r->node, r->message ? r->message : "failed");
	s->r = *r;
	s->seen++;
	return 0;
}

/* Timed: ts_node_push from the street over ssh, then
 * ts_node_merge_submissions on the district. Writes push ms, merge ms,
 * bytes, objects, rows written, the merge's result, conflicts. */
static void child_e_sync(int fd, const void *arg)
{
	const sync_args *a = arg;
	ts_node *street = open_node(a->street), *district = open_node(a->district);
	ts_transfer_stats st;
	submission_seen seen;
	char head[41];
	double t0, t1, t2, v[7];

	memset(&seen, 0, sizeof(seen));
	t0 = now_ms();
	if (ts_node_push(head, &st, street, NULL, NULL) < 0)
		ts_die("ts_node_push");
	t1 = now_ms();
	if (ts_node_merge_submissions(district, NULL, on_submission, &seen) < 0)
		ts_die("ts_node_merge_submissions");
	t2 = now_ms();
	if (seen.seen != 1)
		die("the district merged %d submissions, not 1", seen.seen);
	v[0] = t1 - t0;
	v[1] = t2 - t1;
	v[2] = (double)st.bytes;
	v[3] = (double)st.objects;
	v[4] = (double)(seen.r.stats.rows_written + seen.r.stats.rows_deleted);
	v[5] = seen.r.stats.result;
	v[6] = (double)seen.r.stats.conflicts;
	put(fd, v, 7);
	ts_node_free(street);
	ts_node_free(district);
}

/* The bytes of the last "Writing objects: 100% (n/n), 1.23 MiB" in git's
 * progress, or 0; n in *objects. */
static double git_written_bytes(double *objects, const char *text)
{
	const char *p = text, *last = NULL;
	double x;
	unsigned long n;
	char unit[16];

	*objects = 0;
	while (p && (p = strstr(p, "Writing objects: 100%"))) {
		last = p;
		p++;
	}
	if (!last || sscanf(last, "Writing objects: 100%% (%lu/", &n) != 1 || !(p = strstr(last, "), ")) ||
	    sscanf(p + 3, "%lf %15[A-Za-z]", &x, unit) != 2)
		return 0;
	*objects = (double)n;
	return !strcmp(unit, "KiB") ? x * 1024 : !strcmp(unit, "MiB") ? x * 1048576 :
	       !strcmp(unit, "GiB") ? x * 1073741824.0 : x;
}

/* Stock git push of the street's main to refs/submissions/<street> of the
 * bare repository `base` through the same sshd, timed from fork to exit.
 * *bytes: what git's progress says it wrote. */
static double stock_git_push(double *bytes, double *objects, const char *street_git, const char *base, const char *user,
	const char *key, const char *known_hosts, const char *errlog)
{
	char url[4096], env[8192];
	char *argv[] = { "git", "--git-dir", (char *)street_git, "push", "--progress", url,
		"+refs/heads/main:refs/submissions/" STREET_ID, NULL };
	char *err;
	double t0;
	int rc;

	snprintf(url, sizeof(url), "%s@127.0.0.1:%s", user, base);
	snprintf(env, sizeof(env), "GIT_SSH_COMMAND=ssh -F /dev/null -o BatchMode=yes -o IdentitiesOnly=yes "
		"-o StrictHostKeyChecking=yes -o GlobalKnownHostsFile=/dev/null -o 'UserKnownHostsFile=%s' "
		"-i '%s' -p %d", known_hosts, key, sshd_port);
	unlink(errlog);
	t0 = now_ms();
	rc = run_cmd(argv, NULL, errlog, env);
	t0 = now_ms() - t0;
	err = slurp(errlog);
	if (rc != 0)
		die("git push to %s failed (%d): %s", base, rc, err ? err : "");
	*bytes = err ? git_written_bytes(objects, err) : 0;
	free(err);
	return t0;
}

/* ---- (f) bytes on the wire against the changeset --------------------- */

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
	uLongf zlen;
	Bytef *z;
	double v[11];
	int i;

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
	put(fd, v, 11);
	free(district_git);
	ts_node_free(street);
}

/* ---- (g) merge cost against the size of the base ---------------------- */

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

/* A copy of the node at `src`: history.git/objects hard-linked (objects
 * and packs are never written in place), every other file copied. */
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

static void copy_node(const char *src, const char *dst)
{
	char *cp[] = { "cp", "-al", (char *)src, (char *)dst, NULL };
	if (run_cmd(cp, NULL, NULL, NULL) != 0)
		die("cp -al %s %s failed", src, dst);
	copy_src = src;
	copy_dst = dst;
	if (nftw(dst, copy_one, 16, FTW_PHYS) != 0)
		die("copying %s", src);
}

static char *scratch;

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st; (void)flag; (void)ftw;
	return remove(path);
}

static void remove_dir(const char *path)
{
	nftw(path, remove_one, 16, FTW_DEPTH | FTW_PHYS);
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
	} else if (argc == 5 && !strcmp(argv[1], "update")) {
		update_args u = { argv[2], arg_count(argv[3]), 1000, (int)arg_count(argv[4]) };
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
	} else if (argc == 4 && !strcmp(argv[1], "pull")) {
		pull_args p = { argv[3], argv[2] };
		run_child(&res, "the first pull", child_first_pull, &p);
		if (res.n != 9)
			die("the first pull reported %zu values", res.n);
		figure("pull_merge_ms", res.v[0]);
		figure_int("rows_applied", res.v[1]);
		figure_int("writes_during", res.v[4]);
		figure("apply_longest_write_wait_ms", res.v[5]);
		figure("idle_write_median_ms", res.v[7]);
	} else {
		fprintf(stderr, "usage: bench\n       bench import DIR N [BATCH]\n       bench update DIR N ITERS\n"
			"       bench bulk DIR N ROWS SEED\n       bench merge DIR REV\n"
			"       bench pull DISTRICT_DIR NEW_STREET_DIR\n");
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
	child_result res;
	samples a_node = { 0 }, a_update = { 0 }, a_commit = { 0 }, a_del = { 0 }, a_wal = { 0 };
	samples b_1m = { 0 }, b_10k = { 0 }, b_1m_commit = { 0 }, b_10k_commit = { 0 };
	long rss_a = 0, rss_b = 0, rss_c, rss_build_1m;
	double import_write, import_commit, import_ms, plain_ms, plain_wal_ms, build_1m_ms;
	double commit_a, plain_a, plain_wal_a;
	double h[9], f[11], e_first[3] = { 0 }, e_bytes = 0, e_git_bytes = 0, e_git_objects = 0, e_rows = 0, e_written = 0;
	samples e_sync = { 0 }, e_push = { 0 }, e_merge = { 0 }, e_git = { 0 }, g_1m = { 0 }, g_100k = { 0 };
	long rss_g = 0;
	int major, minor, rev, r, have_ssh;
	size_t i;

	main_pid = getpid();
	if (argc > 1)
		return single(argc, argv);
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

	tmpl = path_in(tmpdir && *tmpdir ? tmpdir : "/tmp", "tiersync-bench-XXXXXX");
	if (!(scratch = mkdtemp(tmpl)))
		die("creating a scratch directory: %s", strerror(errno));
	atexit(cleanup);
	dir_100k = path_in(scratch, "node-100k");
	dir_10k = path_in(scratch, "node-10k");
	dir_1m = path_in(scratch, "node-1m");

	git_libgit2_version(&major, &minor, &rev);
	printf("# tiersync bench: figures are `name: value` lines; ratios are node / plain SQLite or\n");
	printf("# stock git, measured in this run. Goals (DESIGN.md, quality bars):\n");
	printf("#   commit_vs_sqlite_ratio  <= 2     (mean durable update+commit, 100k cases, vs rollback-journal UPDATE)\n");
	printf("#   commit_scaling_ratio    <= 1.3   (median update+commit, 1M cases / 10k cases)\n");
	printf("#   import_vs_sqlite_ratio  >= 0.5   (rows/s importing 100k cases in one commit, vs one-transaction INSERT)\n");
	printf("#   sync_vs_git_push_ratio  <= 1.5   (push over ssh + district merge of 10k changed rows, vs stock git push\n");
	printf("#                                     of the same commit through the same sshd; medians)\n");
	printf("#   bytes_vs_changeset_ratio <= 3    (bytes pushed for 1,000 changed rows / zlib'd SQLite changeset of them)\n");
	printf("#   bytes_one_row_commit    <= 4096  (bytes pushed for a commit changing one row)\n");
	printf("#   merge_scaling_ratio     <= 1.3   (median merge of 10k changed rows, 1M-row base / 100k-row base)\n");
	printf("#   apply_longest_write_wait_ms ~100 (longest local write while 100k incoming rows apply in a pull)\n");
	printf("#   peak_rss_*_kb           reported (no goal yet)\n");
	printf("# machine: %ld cores online, SQLite %s, libgit2 %d.%d.%d, scratch %s\n",
		sysconf(_SC_NPROCESSORS_ONLN), sqlite3_libversion(), major, minor, rev, scratch);
	if (scale != 1.0)
		printf("# TS_BENCH_SCALE=%g: every row count is scaled; figure names keep nominal sizes\n", scale);
	fflush(stdout);

	/* (c) import: a fresh node, 100k cases, one write + one commit */
	fprintf(stderr, "bench: (c) importing %llu cases into a fresh node in one commit\n", (unsigned long long)n_100k);
	{
		build_args b = { dir_100k, "import", n_100k, n_100k };
		run_child(&res, "the import", child_build, &b);
		if (res.n != 2)
			die("the import reported %zu values", res.n);
		import_write = res.v[0];
		import_commit = res.v[1];
		import_ms = import_write + import_commit;
		rss_c = res.ru.ru_maxrss;
		free(res.v);
	}
	fprintf(stderr, "bench: (c) plain SQLite insert of the same rows\n");
	{
		insert_args b = { scratch, n_100k };
		run_child(&res, "the plain SQLite insert", child_sqlite_insert, &b);
		if (res.n != 2)
			die("the plain SQLite insert reported %zu values", res.n);
		plain_ms = res.v[0];
		plain_wal_ms = res.v[1];
		free(res.v);
	}
	printf("# (c) import of %llu cases in one commit\n", (unsigned long long)n_100k);
	figure("import_rows_per_s", (double)n_100k / (import_ms / 1e3));
	figure("sqlite_insert_rows_per_s", (double)n_100k / (plain_ms / 1e3));
	figure("import_vs_sqlite_ratio", plain_ms / import_ms);
	figure("import_ms", import_ms);
	figure("import_write_ms", import_write);
	figure("import_commit_ms", import_commit);
	figure("sqlite_insert_ms", plain_ms);
	figure("sqlite_insert_wal_rows_per_s", (double)n_100k / (plain_wal_ms / 1e3));

	/* (a) update + commit on 100k cases vs a plain UPDATE, alternating */
	for (r = 0; r < BLOCKS; r++) {
		update_args u = { dir_100k, n_100k, 1000 + (uint64_t)r, A_ITERS };
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
		if (res.ru.ru_maxrss > rss_a)
			rss_a = res.ru.ru_maxrss;
		free(res.v);
		run_child(&res, "the plain SQLite update loop", child_sqlite_updates, &p);
		if (res.n != 2 * (size_t)A_ITERS)
			die("the plain SQLite update loop reported %zu values", res.n);
		for (i = 0; i < A_ITERS; i++) {
			add(&a_del, res.v[2 * i]);
			add(&a_wal, res.v[2 * i + 1]);
		}
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

	/* (b) the same operation on 10k and 1M cases */
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
		rss_build_1m = res.ru.ru_maxrss;
		free(res.v);
	}
	for (r = 0; r < BLOCKS; r++) {
		update_args big = { dir_1m, n_1m, 2000 + (uint64_t)r, B_ITERS };
		update_args small = { dir_10k, n_10k, 3000 + (uint64_t)r, B_ITERS };
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
		if (res.ru.ru_maxrss > rss_b)
			rss_b = res.ru.ru_maxrss;
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

	printf("# (d) peak RSS of the forked child of each phase (wait4 ru_maxrss)\n");
	figure_kb("peak_rss_a_kb", rss_a);
	figure_kb("peak_rss_b_kb", rss_b);
	figure_kb("peak_rss_c_kb", rss_c);
	figure_kb("peak_rss_build_1m_kb", rss_build_1m);

	/* (h) a new street node's first pull of the district, writing meanwhile */
	dir_street = path_in(scratch, "node-street");
	fprintf(stderr, "bench: (h) a new street node pulls the %llu-case district while it writes every %d ms\n",
		(unsigned long long)n_100k, WRITE_EVERY_MS);
	{
		pull_args p = { dir_street, dir_100k };
		run_child(&res, "the first pull", child_first_pull, &p);
		if (res.n != 9)
			die("the first pull reported %zu values", res.n);
		memcpy(h, res.v, sizeof(h));
		free(res.v);
	}

	/* (e) and (f): over a real sshd on 127.0.0.1 */
	have_ssh = access(SSHD_BIN, X_OK) == 0;
	if (!have_ssh) {
		printf("sync_bench: skipped (no sshd)\n");
		fflush(stdout);
	} else {
		char *ssh_dir = path_in(scratch, "sshd"), *known = path_in(dir_street, "known_hosts");
		char *key = path_in(ssh_dir, "street_key"), *street_git = path_in(dir_street, "history.git");
		char *base = path_in(scratch, "base.git"), *errlog = path_in(ssh_dir, "git-push.log");
		char *district_git = path_in(dir_100k, "history.git"), url[4096];
		char *cp[] = { "cp", "-a", district_git, base, NULL };
		struct passwd *pw = getpwuid(getuid());
		struct sigaction sa_new, sa_old[3];
		static const int sigs[3] = { SIGINT, SIGTERM, SIGHUP };
		sync_args sa;
		int k;

		if (!pw)
			die("who am I? getpwuid: %s", strerror(errno));
		memset(&sa_new, 0, sizeof(sa_new));
		sa_new.sa_handler = on_fatal_signal;
		for (k = 0; k < 3; k++)
			sigaction(sigs[k], &sa_new, &sa_old[k]);
		fprintf(stderr, "bench: (e) starting sshd on 127.0.0.1\n");
		sshd_start(ssh_dir, known);
		snprintf(url, sizeof(url), "ssh://%s@127.0.0.1:%d%s", pw->pw_name, sshd_port, district_git);
		sa.street = dir_street;
		sa.district = dir_100k;
		sa.url = url;
		sa.key = key;
		sa.n = n_100k;
		sa.rep = 0;
		fprintf(stderr, "bench: (e) sshd on port %d; the street's first push to %s\n", sshd_port, url);
		run_child(&res, "the first push", child_e_setup, &sa);
		memcpy(e_first, res.v, sizeof(e_first));
		free(res.v);
		for (r = 0; r < E_REPS; r++) {
			int side;
			sa.rep = r;
			fprintf(stderr, "bench: (e) run %d/%d: the district diverges by %d case updates, the street "
				"commits %llu changed rows\n", r + 1, E_REPS, FEW_ROWS, (unsigned long long)n_change);
			run_child(&res, "preparing (e)", child_e_prepare, &sa);
			e_rows = res.v[0];
			free(res.v);
			remove_dir(base);
			if (run_cmd(cp, NULL, NULL, NULL) != 0)
				die("copying %s to %s failed", district_git, base);
			for (side = 0; side < 2; side++) {
				if ((side == 0) == (r % 2 == 0)) {
					run_child(&res, "push + merge", child_e_sync, &sa);
					if (res.n != 7)
						die("push + merge reported %zu values", res.n);
					add(&e_push, res.v[0]);
					add(&e_merge, res.v[1]);
					add(&e_sync, res.v[0] + res.v[1]);
					e_bytes = res.v[2];
					e_written = res.v[4];
					fprintf(stderr, "bench:   push %.0f ms (%.0f objects, %.0f bytes), merge %.0f ms "
						"(%s, %.0f rows written, %.0f conflicts)\n", res.v[0], res.v[3], res.v[2], res.v[1],
						res.v[5] == TS_MERGE_MERGED ? "a merge" : res.v[5] == TS_MERGE_FAST_FORWARD ?
						"a fast-forward" : "up to date", res.v[4], res.v[6]);
					free(res.v);
				} else {
					double ms = stock_git_push(&e_git_bytes, &e_git_objects, street_git, base, pw->pw_name,
						key, known, errlog);
					add(&e_git, ms);
					fprintf(stderr, "bench:   git push %.0f ms (%.0f objects, %.0f bytes written)\n", ms,
						e_git_objects, e_git_bytes);
				}
			}
		}
		remove_dir(base);
		fprintf(stderr, "bench: (f) bytes pushed for %llu changed rows, one row, one case update\n",
			(unsigned long long)n_rows_f);
		run_child(&res, "(f)", child_f_bytes, &sa);
		if (res.n != 11)
			die("(f) reported %zu values", res.n);
		memcpy(f, res.v, sizeof(f));
		free(res.v);
		sshd_stop();
		for (k = 0; k < 3; k++)
			sigaction(sigs[k], &sa_old[k], NULL);
		free(ssh_dir); free(known); free(key); free(street_git); free(base); free(errlog); free(district_git);
	}

	/* (g) merge of n_change changed rows into a 1M-row and a 100k-row base */
	{
		char *peer_1m = path_in(scratch, "node-1m-peer"), *peer_100k = path_in(scratch, "node-100k-peer");
		double t0 = now_ms();
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
				add(big ? &g_1m : &g_100k, res.v[0]);
				if (big && res.ru.ru_maxrss > rss_g)
					rss_g = res.ru.ru_maxrss;
				fprintf(stderr, "bench:   merge %.0f ms (%s, %.0f rows written, %.0f conflicts)\n",
					res.v[0], res.v[2] == TS_MERGE_MERGED ? "a merge" : "not a merge", res.v[1], res.v[3]);
				free(res.v);
			}
		}
		free(peer_1m);
		free(peer_100k);
	}

	if (have_ssh) {
		printf("# (e) push over ssh + district merge of %llu changed rows (the district diverged by %d case\n"
			"#     updates), vs stock git push of the same commit through the same sshd; %d runs, medians\n",
			(unsigned long long)n_change, FEW_ROWS, E_REPS);
		figure("sync_10k_ms", quantile(&e_sync, 0.5));
		figure("git_push_10k_ms", quantile(&e_git, 0.5));
		figure("sync_vs_git_push_ratio", quantile(&e_sync, 0.5) / quantile(&e_git, 0.5));
		figure("push_10k_ms", quantile(&e_push, 0.5));
		figure("push_vs_git_push_ratio", quantile(&e_push, 0.5) / quantile(&e_git, 0.5));
		figure("merge_submission_10k_ms", quantile(&e_merge, 0.5));
		figure_int("push_10k_bytes", e_bytes);
		figure_int("git_push_10k_bytes", e_git_bytes);
		figure_int("merge_submission_10k_rows_written", e_written);
		figure_int("changed_rows_10k", e_rows);
		figure("first_push_ms", e_first[0]);
		printf("# (f) bytes a push over ssh sends (libgit2's count of the pack), vs the SQLite session\n"
			"#     changeset of the same %llu-row change, deflated with zlib level 6\n", (unsigned long long)n_rows_f);
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
	}
	printf("# (g) ts_node_merge of %llu changed rows into a node diverged by %d case updates, on bases of\n"
		"#     %llu and %llu rows; %d runs each, alternating, medians\n", (unsigned long long)n_change, FEW_ROWS,
		(unsigned long long)n_1m, (unsigned long long)n_100k, G_REPS);
	figure("merge_1m_ms", quantile(&g_1m, 0.5));
	figure("merge_100k_ms", quantile(&g_100k, 0.5));
	figure("merge_scaling_ratio", quantile(&g_1m, 0.5) / quantile(&g_100k, 0.5));
	figure_kb("peak_rss_merge_1m_kb", rss_g);
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

	free(dir_street);
	free(e_sync.v); free(e_push.v); free(e_merge.v); free(e_git.v); free(g_1m.v); free(g_100k.v);
	free(dir_100k);
	free(dir_10k);
	free(dir_1m);
	free(a_node.v); free(a_update.v); free(a_commit.v); free(a_del.v); free(a_wal.v);
	free(b_1m.v); free(b_10k.v); free(b_1m_commit.v); free(b_10k_commit.v);
	cleanup();
	figure("total_elapsed_ms", now_ms() - start);
	return 0;
}
