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
 * Two sub-modes run one operation alone, to put under perf, strace or
 * valgrind (all follow the forked child):
 *   bench import DIR N [BATCH]   a new node at DIR with N cases, in commits of BATCH (default N)
 *   bench update DIR N ITERS     ITERS update+commits on the node at DIR, which holds N cases
 */
#include <sqlite3.h>

#include <errno.h>
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

/* A case that can still be edited (closed cases are refused), picked at random. */
static uint64_t pick_open_case(uint64_t *rng, uint64_t n)
{
	for (;;) {
		uint64_t i;
		*rng = mix(*rng);
		i = *rng % n;
		if (strcmp(status_of(i), "closed"))
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
	ts_init_options opts = { TS_TIER_DISTRICT, NODE_ID, NULL, AUTHOR };
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
	ts_init_options opts = { TS_TIER_DISTRICT, NODE_ID, NULL, AUTHOR };
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

static char *scratch;

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st; (void)flag; (void)ftw;
	return remove(path);
}

static void cleanup(void)
{
	const char *keep = getenv("TS_BENCH_KEEP");
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
	} else {
		fprintf(stderr, "usage: bench\n       bench import DIR N [BATCH]\n       bench update DIR N ITERS\n");
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
	char *dir_100k, *dir_10k, *dir_1m, *tmpl;
	child_result res;
	samples a_node = { 0 }, a_update = { 0 }, a_commit = { 0 }, a_del = { 0 }, a_wal = { 0 };
	samples b_1m = { 0 }, b_10k = { 0 }, b_1m_commit = { 0 }, b_10k_commit = { 0 };
	long rss_a = 0, rss_b = 0, rss_c, rss_build_1m;
	double import_write, import_commit, import_ms, plain_ms, plain_wal_ms, build_1m_ms;
	double commit_a, plain_a, plain_wal_a;
	int major, minor, rev, r;
	size_t i;

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

	tmpl = path_in(tmpdir && *tmpdir ? tmpdir : "/tmp", "tiersync-bench-XXXXXX");
	if (!(scratch = mkdtemp(tmpl)))
		die("creating a scratch directory: %s", strerror(errno));
	atexit(cleanup);
	dir_100k = path_in(scratch, "node-100k");
	dir_10k = path_in(scratch, "node-10k");
	dir_1m = path_in(scratch, "node-1m");

	git_libgit2_version(&major, &minor, &rev);
	printf("# tiersync bench: figures are `name: value` lines; ratios are node / plain SQLite,\n");
	printf("# measured in this run. Goals (DESIGN.md, quality bars):\n");
	printf("#   commit_vs_sqlite_ratio  <= 2     (mean durable update+commit, 100k cases, vs rollback-journal UPDATE)\n");
	printf("#   commit_scaling_ratio    <= 1.3   (median update+commit, 1M cases / 10k cases)\n");
	printf("#   import_vs_sqlite_ratio  >= 0.5   (rows/s importing 100k cases in one commit, vs one-transaction INSERT)\n");
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

	free(dir_100k);
	free(dir_10k);
	free(dir_1m);
	free(a_node.v); free(a_update.v); free(a_commit.v); free(a_del.v); free(a_wal.v);
	free(b_1m.v); free(b_10k.v); free(b_1m_commit.v); free(b_10k_commit.v);
	cleanup();
	figure("total_elapsed_ms", now_ms() - start);
	return 0;
}
