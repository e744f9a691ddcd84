/*
 * tiersync-gen: a district's year of realistic case work, written into
 * existing nodes through the node API, so that the history is real: every
 * week of work is a commit by a named officer, every step of a case is an
 * append-only case event.
 *
 *   tiersync-gen --district DIR --street DIR [--street DIR]... [--device DIR]...
 *                [--city DIR] [--year 2015] [--cases 2000] [--seed 1] [--commit-every DAYS]
 *
 * The nodes are made first with `tiersync init`: each street with the
 * district as its upstream, each device with its street as upstream. The
 * generator then
 *  1. lists the district's key areas (重点地区) and major events (重大活动) on
 *     the district node, and pulls them down into every street and device;
 *  2. on each street, sets up responsibility zones (责任区): notices issued
 *     in January, a check a month once the notice is out, and a failed
 *     check checked again some days later, mostly rectified (复查);
 *  3. simulates, day by day, the previous year's complaints (so that the
 *     year-on-year figure means something) and the year's cases on every
 *     street and device: categories by season (outdoor barbecue in summer,
 *     coal in winter, dust in the building season), sources in plausible
 *     shares (more complaints in summer), key areas, and each case's
 *     lifecycle: dispatch to a named officer, the three steps, filing,
 *     decision (a major penalty then waits for its legal review, which is
 *     the district's), execution,
 *     transfer, feedback, the return visit of complaints, closing (mostly
 *     before the deadline); small-ad phone numbers and their warnings;
 *     the day's patrols (人盯车巡), mostly in key areas, each case found on
 *     patrol naming its patrol (cases.patrol_id, counted in `found`);
 *     the party (当事人) of each case warned or penalised, a person or a
 *     business, its identity number where docs/PARTIES.md keeps one (always
 *     by the penalty), some of them the street's repeat offenders (屡查屡犯);
 *     each street's exposures (主动曝光) in the media, some naming a case;
 *  4. on the district, week by week: its own exposures, and supervision
 *     items (督办) to its streets, due in two to four weeks; each street
 *     pulls its district's main once a month and answers the items that
 *     reached it (三级反馈), mostly on time, some late, a few never. The
 *     district closes them once the answers reach it: that is the caller's
 *     sync (push, merge --submissions), then `tiersync supervise close`;
 *  5. with --city, on the city, in the first week of the year: the year's
 *     complaint baselines (常量) of the district and each street, per subject
 *     (key areas, dust and muck, barbecue, small ads), near last year's
 *     complaints, so that some goals are met and some missed.
 * Cases found on a device stay there until the device pushes: syncing is
 * the caller's (push, merge --submissions, pull).
 *
 * Reproducible: the same seed on freshly initialised nodes gives the same
 * rows, ids and commits (the clock is the simulated one, TIERSYNC_NOW).
 * On a terminal, one line of stderr shows the day under way, the node
 * writing it and the cases so far; elsewhere stderr carries errors only.
 */
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "tiersync.h"

#define DAY 86400
#define MAX_UNITS 64
#define MAX_STEPS 24
#define ROSTER 6

/* ---- the domain's shapes ------------------------------------------------ */

typedef struct {
	const char *code;
	int weight;              /* share of cases, in an average month */
	double month[12];        /* seasonal factor per month */
	int transfer_pct;        /* handed to another department */
	int penalize_pct;        /* of the rest: penalised */
	int fine_min, fine_max;  /* yuan */
	const char *basis;       /* the legal basis of a penalty */
	const char *department;  /* where a transfer goes */
	const char *what;        /* a description */
} category;

#define FLAT { 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1 }
#define SUMMER { 0.7, 0.7, 0.9, 1, 1.2, 1.4, 1.5, 1.5, 1.2, 1, 0.8, 0.7 }

static const category categories[] = {
	{ "construction_dust", 8, { 0.3, 0.3, 1.2, 1.5, 1.5, 1.3, 1, 1, 1.3, 1.4, 1.2, 0.4 }, 3, 30, 5000, 100000,
	  "《北京市大气污染防治条例》第一百零二条", "区环境保护局", "施工工地未采取覆盖、洒水等防尘措施" },
	{ "muck_spill", 5, { 0.4, 0.4, 1.1, 1.3, 1.3, 1.2, 1, 1, 1.2, 1.3, 1.1, 0.5 }, 3, 35, 2000, 30000,
	  "《北京市市容环境卫生条例》第五十条", "公安交通管理局", "渣土运输车辆沿途遗撒" },
	{ "muck_vehicle", 3, { 0.4, 0.4, 1.1, 1.3, 1.3, 1.2, 1, 1, 1.2, 1.3, 1.1, 0.5 }, 10, 40, 2000, 20000,
	  "《北京市大气污染防治条例》第八十三条", "公安交通管理局", "未密闭的渣土车辆上路运输" },
	{ "outdoor_bbq", 6, { 0.1, 0.1, 0.3, 0.8, 1.5, 2.5, 3, 3, 2, 1, 0.3, 0.1 }, 1, 20, 500, 5000,
	  "《北京市大气污染防治条例》第一百一十八条", "公安分局", "店外露天烧烤，油烟扰民" },
	{ "open_burning", 2, { 1.5, 1.2, 1.5, 2, 0.5, 0.5, 0.3, 0.3, 0.8, 1.5, 1.5, 1.5 }, 2, 15, 500, 2000,
	  "《北京市大气污染防治条例》第一百二十条", "公安分局", "露天焚烧树叶、垃圾" },
	{ "coal_unlicensed", 2, { 3, 3, 2, 0.5, 0, 0, 0, 0, 0, 0.5, 2.5, 3 }, 5, 35, 2000, 20000,
	  "《无照经营查处取缔办法》第十四条", "工商分局", "无照销售散煤" },
	{ "small_ads", 18, FLAT, 0, 10, 200, 2000,
	  "《北京市市容环境卫生条例》第六十二条", "公安分局", "墙面、电线杆张贴非法小广告" },
	{ "unlicensed_vending", 14, SUMMER, 2, 15, 200, 5000,
	  "《无照经营查处取缔办法》第十四条", "工商分局", "无照游商占道经营" },
	{ "parking_lot", 3, FLAT, 5, 20, 1000, 10000,
	  "《北京市机动车停车管理办法》第二十八条", "公安交通管理局", "停车场未备案擅自收费" },
	{ "outside_store", 12, SUMMER, 1, 12, 200, 3000,
	  "《北京市市容环境卫生条例》第五十六条", "工商分局", "商户超出门窗店外经营" },
	{ "signboard", 4, FLAT, 2, 25, 1000, 20000,
	  "《北京市户外广告设置管理办法》第二十九条", "区市政市容委", "违规设置广告牌匾" },
	{ "illegal_vehicle", 6, FLAT, 25, 20, 1000, 10000,
	  "《北京市道路交通安全条例》第八十二条", "公安交通管理局", "黑车、三轮车非法运营" },
	{ "gas_safety", 4, { 1.5, 1.3, 1, 0.8, 0.8, 0.8, 0.8, 0.8, 0.9, 1, 1.3, 1.5 }, 10, 25, 2000, 50000,
	  "《北京市燃气管理条例》第五十九条", "燃气集团", "餐饮摊点违规使用液化石油气" },
	{ "facility_damage", 4, FLAT, 5, 20, 1000, 20000,
	  "《北京市市政设施管理条例》第三十一条", "区市政市容委", "占压、损毁井盖等市政设施" },
	{ "kitchen_waste", 4, SUMMER, 3, 25, 1000, 30000,
	  "《北京市生活垃圾管理条例》第五十五条", "区环境卫生服务中心", "餐厨垃圾未交有资质单位收运" },
	{ "illegal_building", 5, { 0.6, 0.6, 1, 1.2, 1.2, 1.1, 1, 1, 1.1, 1.2, 1, 0.7 }, 15, 40, 5000, 300000,
	  "《北京市城乡规划条例》第六十六条", "区规划分局", "新增违法建设" },
};
#define NCAT (sizeof(categories) / sizeof(categories[0]))

enum { SRC_PATROL, SRC_COMPLAINT, SRC_VIDEO, SRC_REFERRAL, SRC_MEDIA, SRC_SUPERVISION, NSRC };
static const char *const sources[NSRC] = { "patrol", "complaint", "video", "referral", "media", "supervision" };
static const int street_sources[NSRC] = { 45, 22, 13, 7, 3, 10 };
static const int device_sources[NSRC] = { 85, 15, 0, 0, 0, 0 };
/* complaints follow the windows-open, people-outside season */
static const double complaint_month[12] = { 0.8, 0.8, 0.9, 1, 1.2, 1.5, 1.6, 1.5, 1.2, 1, 0.9, 0.8 };

static const char *const surnames[] = { "王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴",
	"徐", "孙", "马", "朱", "胡", "郭", "何", "高", "林", "罗" };
static const char *const given[] = { "伟", "芳", "娜", "敏", "静", "磊", "强", "军", "洋", "勇", "艳",
	"杰", "涛", "明", "超", "秀英", "丽", "刚", "平", "辉", "建华", "志强", "海燕", "文", "斌", "晓东" };
static const char *const roads[] = { "景山前街", "地安门内大街", "五四大街", "沙滩北街", "东四北大街",
	"交道口南大街", "鼓楼东大街", "王府井大街", "东华门大街", "北河沿大街", "美术馆后街", "朝阳门内大街",
	"东单北大街", "灯市口大街", "金鱼胡同", "东直门内大街", "北新桥三条", "安定门内大街", "张自忠路",
	"黄化门街" };
static const char *const key_area_names[] = { "王府井地区", "南锣鼓巷地区", "东单地区", "簋街地区",
	"雍和宫地区", "北京站地区", "前门东区", "地坛周边" };
static const char *const shops[] = { "便利店", "面馆", "水果店", "五金店", "理发店", "药店", "烟酒店",
	"干洗店", "包子铺", "书店", "茶叶店", "超市" };
static const char *const brands[] = { "老北京", "福满", "兴隆", "鑫源", "好邻居", "华联", "永和", "金鼎",
	"百顺", "东来", "宏达", "和平" };
static const char *const complainants[] = { "刘女士", "王先生", "张女士", "李先生", "陈先生", "赵女士",
	"孙先生", "周女士" };

/* The party (当事人) a category's cases are against: the share that are
 * businesses (单位), and what such a business is called. Indexed as
 * categories[]. */
static const struct {
	int business_pct;
	const char *business;
} party_kinds[] = {
	{ 95, "建筑工程有限公司" }, { 90, "渣土运输有限公司" }, { 90, "渣土运输有限公司" }, { 50, "餐饮店" },
	{ 10, "物业管理有限公司" }, { 20, "商贸有限公司" }, { 5, "广告有限公司" }, { 5, "商贸有限公司" },
	{ 80, "停车管理有限公司" }, { 70, "" }, { 85, "广告有限公司" }, { 0, "" }, { 60, "餐饮店" },
	{ 40, "建筑工程有限公司" }, { 90, "餐饮管理有限公司" }, { 30, "房地产开发有限公司" },
};
/* where persons' identity numbers were issued: Beijing's districts and a few provinces */
static const char *const regions[] = { "110101", "110102", "110105", "110106", "110108", "130102", "130602",
	"370102", "410105", "410306", "510107", "340104", "230102", "220102", "130402" };
static const char *const outlets[] = { "北京日报", "北京晚报", "北京青年报", "新京报", "北京电视台《城管进行时》",
	"北京城管微信公众号", "东城城管微博" };
static const char *const supervision_subjects[] = { "游商回潮，请组织联合整治", "渣土车遗撒反复，请查明源头",
	"夜间露天烧烤扰民投诉集中", "非法小广告反弹，请落实清理", "店外经营占道，请限期整改",
	"施工工地扬尘，请督促落实覆盖", "违法建设举报，请核查处置" };

/* ---- randomness: splitmix64, seeded, the same on every platform -------- */

static uint64_t rng_state;

static uint64_t rnd(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static double u01(void) { return (double)(rnd() >> 11) / 9007199254740992.0; }
static int below(int n) { return n > 0 ? (int)(rnd() % (uint64_t)n) : 0; }
static int64_t between(int64_t a, int64_t b) { return a + (int64_t)(rnd() % (uint64_t)(b - a + 1)); }
static int pct(int p) { return below(100) < p; }

#define PICK(arr) (arr[below((int)(sizeof(arr) / sizeof(arr[0])))])

static int pick_weighted(const double *w, int n)
{
	double total = 0, x;
	int i;
	for (i = 0; i < n; i++)
		total += w[i];
	x = u01() * total;
	for (i = 0; i < n - 1; i++)
		if ((x -= w[i]) < 0)
			return i;
	return n - 1;
}

/* ---- the simulation's state ---------------------------------------------- */

enum { ST_DISPATCH, ST_EDUCATE, ST_WARN, ST_PENALIZE, ST_FILE, ST_DECIDE,
	ST_EXECUTE, ST_TRANSFER, ST_FEEDBACK, ST_VISIT, ST_CLOSE, ST_PHONE };

typedef struct {
	int64_t at;
	int kind;
	int arg;          /* ST_PHONE: which phone */
} step;

typedef struct {
	char *id;
	int cat, src, officer;
	int major;
	int64_t fine_fen;
	int satisfaction;          /* 0 satisfied, 1 basically, 2 dissatisfied */
	char *phone_ids[3];
	char phones[3][12];
	int nphones;
	step steps[MAX_STEPS];
	int nsteps, next;
} gen_case;

typedef struct {
	char *id;
	int key;                   /* 1 in a key area */
	int64_t notice_at;         /* 0: never */
	int check_day;             /* day of the month it is checked */
	int64_t recheck_at;        /* a failed check's re-check (复查) after rectification; 0: none */
} zone;

/* A party (当事人) as recorded: a street's repeat offenders are kept */
typedef struct {
	int business;
	int cat;                   /* the category a repeat offender keeps being found for */
	char name[96];
	char id_number[20];        /* "" when not recorded */
	char phone[16];
	char address[128];
} party;

#define POOL 10
#define DAY_PATROLS 4

/* A supervision item (督办) the district issues to a street */
typedef struct {
	char *id;
	int target;                /* index into units */
	int64_t issued, due;
	int64_t reached;           /* when the street pulled it; 0: not yet */
	int64_t answer_at;         /* planned answer; 0: none planned yet */
	int never;                 /* the street never answers it */
	int answered;
} item;

enum { SUBJ_KEY_AREAS, SUBJ_DUST_MUCK, SUBJ_OUTDOOR_BBQ, SUBJ_SMALL_ADS, NSUBJ };
static const char *const subjects[NSUBJ] = { "key_areas", "dust_muck", "outdoor_bbq", "small_ads" };

typedef struct {
	const char *dir;
	ts_node *node;
	const char *id;
	char *jurisdiction;        /* of its cases: a device's street, else its own id */
	int deadline_days[16];     /* per category, the rules in force there */
	int64_t major_threshold;   /* fen */
	int device;                /* 1 device, 0 street */
	int street;                /* a device's street (index into units) */
	char roster[ROSTER][16];   /* [0] dispatches; a device's holder is [0] too */
	int nroster;
	int key_areas[8], nkey;    /* indexes into the district's key areas */
	int year_cases;            /* cases this year */
	int prev_complaints;       /* complaint cases the year before */
	double prev_key_factor;    /* how much more of last year's complaints were in key areas */
	int *per_day;              /* new cases per simulated day */
	gen_case **open;
	size_t nopen, aopen;
	zone *zones;
	int nzones;
	int made_cases, made_steps, commits;
	party pool[POOL];          /* a street's repeat offenders (屡查屡犯); a device uses its street's */
	int made_parties, made_exposures, made_answers;
	struct { char id[64]; int64_t start, end; } patrols[DAY_PATROLS];
	int npatrols;              /* today's patrols */
	char exposable[64];        /* a recent penalised case of this node, for an exposure */
	int prev_subject[NSUBJ];   /* last year's complaints by baseline subject */
	int pulled_month;          /* the month a street last pulled its district's main */
} unit;

typedef struct {
	int year;
	int days_prev, days;       /* days of the previous year; days simulated in all */
	int64_t start;             /* epoch of the first simulated day's 00:00, Beijing */
	char key_area_ids[8][64];
	int nkey;
	int64_t event_from[2], event_to[2];
	unit units[MAX_UNITS];
	int nunits;
	int batch_from, batch_to;  /* days of the write under way */
	unit *u;
	int error;
	ts_node *district;
	ts_node *city;             /* NULL: no --city, no baselines */
	char district_staff[3][16];
	char city_staff[16];
	item *items;
	int nitems, aitems, district_exposures;
} gen;

static void make_name(char out[16])
{
	snprintf(out, 16, "%s%s", PICK(surnames), PICK(given));
}

static void fmt_time(char out[32], int64_t t)
{
	ts_time_format(out, t);
}

/* Sets the node's clock (ids carry its date; commits its time). */
static void set_clock(int64_t t)
{
	char v[32];
	snprintf(v, sizeof(v), "%lld", (long long)t);
	setenv("TIERSYNC_NOW", v, 1);
}

static int month_of(int64_t t)
{
	char s[32];
	fmt_time(s, t);
	return atoi(s + 5) - 1;
}

/* ---- SQL helpers ------------------------------------------------------------ */

/* Prepared statements, kept per database and query text (the queries are
 * string literals): preparing them anew each time was a fifth of the run. */
static struct {
	sqlite3 *db;
	const char *sql;
	sqlite3_stmt *st;
} statements[128];   /* every query of every node: a street alone uses some thirty */
static int nstatements;

static sqlite3_stmt *prepared(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st = NULL;
	int i;
	for (i = 0; i < nstatements; i++)
		if (statements[i].db == db && statements[i].sql == sql)
			return statements[i].st;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return NULL;
	if (nstatements < (int)(sizeof(statements) / sizeof(statements[0]))) {
		statements[nstatements].db = db;
		statements[nstatements].sql = sql;
		statements[nstatements++].st = st;
	}
	return st;
}

/* Finalizes the statements of `db`, before the node closes it. */
static void forget_statements(sqlite3 *db)
{
	int i, kept = 0;
	for (i = 0; i < nstatements; i++)
		if (statements[i].db == db)
			sqlite3_finalize(statements[i].st);
		else
			statements[kept++] = statements[i];
	nstatements = kept;
}

static int is_cached(sqlite3_stmt *st)
{
	int i;
	for (i = 0; i < nstatements; i++)
		if (statements[i].st == st)
			return 1;
	return 0;
}

/* Runs one statement; `types` has one letter per argument: t text (NULL
 * is SQL NULL), i int64, d double. */
static int run(sqlite3 *db, const char *sql, const char *types, ...)
{
	sqlite3_stmt *st;
	va_list ap;
	int i, error = 0;

	if (!(st = prepared(db, sql)))
		return ts_error_set(TS_ERROR, "generator: %s: %s", sqlite3_errmsg(db), sql);
	va_start(ap, types);
	for (i = 0; types[i]; i++) {
		if (types[i] == 't') {
			const char *s = va_arg(ap, const char *);
			sqlite3_bind_text(st, i + 1, s, -1, SQLITE_TRANSIENT);
		} else if (types[i] == 'i')
			sqlite3_bind_int64(st, i + 1, va_arg(ap, int64_t));
		else
			sqlite3_bind_double(st, i + 1, va_arg(ap, double));
	}
	va_end(ap);
	if (sqlite3_step(st) != SQLITE_DONE)
		error = ts_error_set(TS_ERROR, "generator: %s", sqlite3_errmsg(db));
	if (is_cached(st)) {
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
	} else
		sqlite3_finalize(st);
	return error;
}

static int mint(char **out, unit *u, const char *prefix)
{
	return ts_node_mint_id(out, u->node, prefix);
}

static const char *officer_of(unit *u, gen_case *c);
static const char *patrol_at(unit *u, int64_t t);
static int64_t day_start(gen *g, int day);

static int add_event(unit *u, const char *case_id, int64_t at, const char *kind, const char *officer,
	const char *detail)
{
	char *id = NULL, when[32];
	int error;

	if ((error = mint(&id, u, "v")) < 0)
		return error;
	fmt_time(when, at);
	error = run(ts_node_db(u->node), "INSERT INTO case_events (id, case_id, at, kind, officer, node, detail) "
		"VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)", "ttttttt", id, case_id, when, kind, officer, u->id, detail);
	free(id);
	u->made_steps++;
	return error;
}

/* ---- parties (当事人) ------------------------------------------------------------ */

/* A 身份证号 (GB 11643): region, a real birth date, sequence, ISO 7064 MOD 11-2 check */
static void make_id_number(char out[20])
{
	static const int w[17] = { 7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2 };
	int i, sum = 0;
	snprintf(out, 20, "%s%04d%02d%02d%03d", PICK(regions), (int)between(1955, 1998), (int)between(1, 12),
		(int)between(1, 28), (int)between(1, 999));
	for (i = 0; i < 17; i++)
		sum += (out[i] - '0') * w[i];
	out[17] = "10X98765432"[sum % 11];
	out[18] = 0;
}

/* A 统一社会信用代码 (GB 32100): 9 (registered by industry and commerce), 1
 * a company or 2 a sole trader (个体工商户), the region, the organisation code
 * with its own check (GB 11714), and the MOD 31 check */
static void make_credit_code(char out[20], int company)
{
	static const char set[] = "0123456789ABCDEFGHJKLMNPQRTUWXY";
	static const int w[17] = { 1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28 };
	static const int wo[8] = { 3, 7, 9, 10, 5, 8, 4, 2 };
	int i, sum = 0, c;
	snprintf(out, 20, "9%d110101%08d", company ? 1 : 2, (int)between(0, 99999999));
	for (i = 0; i < 8; i++)
		sum += (out[8 + i] - '0') * wo[i];
	c = 11 - sum % 11;
	out[16] = c == 10 ? 'X' : c == 11 ? '0' : (char)('0' + c);
	for (i = 0, sum = 0; i < 17; i++)
		sum += (int)(strchr(set, out[i]) - set) * w[i];
	out[17] = set[(31 - sum % 31) % 31];
	out[18] = 0;
}

/* A new party of a case of category `cat`: a business or a person, with
 * an identity number or not */
static void make_party(party *p, int cat, int business, int with_id)
{
	memset(p, 0, sizeof(*p));
	p->business = business;
	p->cat = cat;
	snprintf(p->address, sizeof(p->address), "%s%d号", PICK(roads), (int)between(1, 180));
	snprintf(p->phone, sizeof(p->phone), "1%d%09d", 3 + below(6), (int)between(0, 999999999));
	if (business) {
		const char *suffix = party_kinds[cat].business;
		int company = strstr(suffix, "公司") != NULL;
		if (company)
			snprintf(p->name, sizeof(p->name), "北京%s%s", PICK(brands), suffix);
		else
			snprintf(p->name, sizeof(p->name), "%s%s", PICK(brands), *suffix ? suffix : PICK(shops));
		if (with_id)
			make_credit_code(p->id_number, company);
	} else {
		make_name(p->name);
		if (with_id)
			make_id_number(p->id_number);
	}
}

/* Records the party of case `c` at its warning, as `tiersync party add`
 * does: a row and a note; one in seven is one of the street's repeat
 * offenders. A case going on to its penalty has the identity number. */
static int add_party(gen *g, unit *u, gen_case *c, int64_t at)
{
	unit *street = u->device ? &g->units[u->street] : u;
	int business = pct(party_kinds[c->cat].business_pct), i;
	party fresh, *p = NULL;
	char *id = NULL, when[32], detail[160];
	int error;

	if (pct(20)) {   /* one of the street's repeat offenders, found for the same thing again */
		int from = below(POOL);
		for (i = 0; i < POOL && !p; i++)
			if (street->pool[(from + i) % POOL].cat == c->cat)
				p = &street->pool[(from + i) % POOL];
	}
	if (p)
		business = p->business;
	else {
		make_party(&fresh, c->cat, business, c->fine_fen > 0 || pct(business ? 80 : 45));
		p = &fresh;
	}
	if (p->id_number[0]) {   /* as `party add` checks it: the shape and check character */
		char parsed[19];
		if ((error = ts_party_id_number_parse(parsed, business ? "business" : "person", p->id_number)) < 0)
			return error;
	}
	fmt_time(when, at);
	if ((error = mint(&id, u, "p")) < 0)
		return error;
	error = run(ts_node_db(u->node), "INSERT INTO parties (id, case_id, kind, name, id_number, phone, address) "
		"VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)", "ttttttt", id, c->id, business ? "business" : "person", p->name,
		p->id_number[0] ? p->id_number : NULL, p->phone, p->address);
	snprintf(detail, sizeof(detail), "party %s recorded: %s %s", id, business ? "business" : "person", p->name);
	if (error == 0)
		error = add_event(u, c->id, at, "note", officer_of(u, c), detail);
	free(id);
	u->made_parties++;
	return error;
}

/* ---- one case --------------------------------------------------------------- */

static void add_step(gen_case *c, int64_t at, int kind, int arg)
{
	int i;
	if (c->nsteps == MAX_STEPS)
		return;
	/* keep the steps in time order (phone warnings interleave) */
	for (i = c->nsteps; i > 0 && c->steps[i - 1].at > at; i--)
		c->steps[i] = c->steps[i - 1];
	c->steps[i].at = at;
	c->steps[i].kind = kind;
	c->steps[i].arg = arg;
	c->nsteps++;
}

/* Plans the whole lifecycle of a case reported at `t`. */
static void plan(unit *u, gen_case *c, int64_t t)
{
	const category *cat = &categories[c->cat];
	int64_t deadline = t + (int64_t)u->deadline_days[c->cat] * DAY, close_at;
	int i;

	for (i = 0; i < c->nphones; i++)
		add_step(c, t + between(2 * 3600, 48 * 3600), ST_PHONE, i);
	add_step(c, t += between(600, 7200), ST_DISPATCH, 0);
	add_step(c, t += between(1200, 3 * 3600), ST_EDUCATE, 0);
	if (pct(cat->transfer_pct)) {
		add_step(c, t + between(3600, 2 * DAY), ST_TRANSFER, 0);
		return;
	}
	if (pct(cat->penalize_pct)) {
		/* most fines sit near the bottom of the range, a few near the top */
		double x = u01();
		c->fine_fen = (int64_t)(cat->fine_min * pow((double)cat->fine_max / cat->fine_min, x * x * x) / 50) * 5000;
		/* a major penalty (重大行政处罚): the threshold the rules set */
		c->major = c->fine_fen >= u->major_threshold;
		add_step(c, t += between(600, 6 * 3600), ST_WARN, 0);
		add_step(c, t += between(600, 6 * 3600), ST_PENALIZE, 0);
		add_step(c, t += between(3600, 12 * 3600), ST_FILE, 0);
		add_step(c, t += between(3600, DAY), ST_DECIDE, 0);
		/* a major penalty's legal review (法制审核) is the district's, by
		 * someone other than the officer, once the decision has reached
		 * it: the case waits on the street, decided, for that review */
		if (c->major)
			return;
		add_step(c, t += between(3600, 3 * DAY), ST_EXECUTE, 0);
	} else if (pct(35))
		add_step(c, t += between(600, DAY), ST_WARN, 0);
	if (pct(2))
		return;   /* the problem persists: the case stays in hand */
	add_step(c, t += between(600, 7200), ST_FEEDBACK, 0);
	if (c->src == SRC_COMPLAINT) {
		int r = below(100);
		if (pct(3))
			return;   /* the complainant cannot be reached: no visit, so no closing yet */
		c->satisfaction = r < 82 ? 0 : r < 94 ? 1 : 2;
		add_step(c, t += between(3600, 36 * 3600), ST_VISIT, 0);
	}
	/* most close well inside the deadline, some run over */
	if (pct(91))
		close_at = c->steps[0].at + (int64_t)((double)(deadline - c->steps[0].at) * (0.3 + 0.65 * u01()));
	else
		close_at = deadline + between(3600, 3 * DAY);
	add_step(c, close_at > t + 600 ? close_at : t + 600, ST_CLOSE, 0);
}

static const char *officer_of(unit *u, gen_case *c)
{
	return u->roster[c->officer];
}

static int apply_step(gen *g, unit *u, gen_case *c, const step *s)
{
	sqlite3 *db = ts_node_db(u->node);
	const category *cat = &categories[c->cat];
	const char *officer = officer_of(u, c);
	char when[32], detail[256];
	int error = 0;

	fmt_time(when, s->at);
	switch (s->kind) {
	case ST_DISPATCH:
		snprintf(detail, sizeof(detail), "派单至 %s", officer);
		if ((error = run(db, "UPDATE cases SET status = 'dispatched', officer = ?2, "
				"first_officer = ifnull(first_officer, ?2) WHERE id = ?1", "tt",
				c->id, officer)) == 0)
			error = add_event(u, c->id, s->at, "dispatch", u->roster[0], detail);
		break;
	case ST_EDUCATE:
		if ((error = run(db, "UPDATE cases SET status = 'handling', stage = 'educate' WHERE id = ?1", "t",
				c->id)) == 0)
			error = add_event(u, c->id, s->at, "educate", officer, "现场教育，核录当事人信息");
		break;
	case ST_WARN:
		if ((error = run(db, "UPDATE cases SET status = 'handling', stage = 'warn' WHERE id = ?1", "t",
				c->id)) == 0 &&
		    (error = add_event(u, c->id, s->at, "warn", officer, "警示训诫，责令改正")) == 0)
			error = add_party(g, u, c, s->at + 300);
		break;
	case ST_PENALIZE:
		if ((error = run(db, "UPDATE cases SET status = 'handling', stage = 'penalize' WHERE id = ?1", "t",
				c->id)) == 0)
			error = add_event(u, c->id, s->at, "penalize", officer, "拒不改正，依法处罚");
		break;
	case ST_FILE:
		if ((error = run(db, "UPDATE cases SET filed_at = ?2 WHERE id = ?1", "tt", c->id, when)) == 0)
			error = add_event(u, c->id, s->at, "file", officer, "立案");
		break;
	case ST_DECIDE:
		snprintf(detail, sizeof(detail), "依据%s，罚款%lld元", cat->basis, (long long)(c->fine_fen / 100));
		if ((error = run(db, "UPDATE cases SET legal_basis = ?2, penalty_amount = ?3, decided_at = ?4, "
				"major = ?5, review_status = CASE WHEN ?5 THEN 'pending' END, reviewer = NULL, "
				"reviewed_at = NULL WHERE id = ?1", "ttiti", c->id, cat->basis, c->fine_fen, when,
				(int64_t)c->major)) == 0)
			error = add_event(u, c->id, s->at, "decide", officer, detail);
		break;
	case ST_EXECUTE:
		if ((error = run(db, "UPDATE cases SET executed_at = ?2 WHERE id = ?1", "tt", c->id, when)) == 0)
			error = add_event(u, c->id, s->at, "execute", officer, "罚款已缴纳");
		if (!u->device)
			snprintf(u->exposable, sizeof(u->exposable), "%s", c->id);
		break;
	case ST_TRANSFER:
		snprintf(detail, sizeof(detail), "移送%s", cat->department);
		if ((error = run(db, "UPDATE cases SET status = 'transferred', transfer_to = ?2, transferred_at = ?3 "
				"WHERE id = ?1", "ttt", c->id, cat->department, when)) == 0)
			error = add_event(u, c->id, s->at, "transfer", officer, detail);
		break;
	case ST_FEEDBACK:
		if ((error = run(db, "UPDATE cases SET status = 'feedback' WHERE id = ?1", "t", c->id)) == 0)
			error = add_event(u, c->id, s->at, "feedback", officer, "处理结果已反馈");
		break;
	case ST_VISIT: {
		static const char *const marks[] = { "satisfied", "basically_satisfied", "dissatisfied" };
		snprintf(detail, sizeof(detail), "回访举报人：%s", marks[c->satisfaction]);
		if ((error = run(db, "UPDATE cases SET visited_at = ?2, satisfaction = ?3 WHERE id = ?1", "ttt",
				c->id, when, marks[c->satisfaction])) == 0)
			error = add_event(u, c->id, s->at, "return_visit", officer, detail);
		break;
	}
	case ST_CLOSE:
		if ((error = run(db, "UPDATE cases SET status = 'closed', closed_at = ?2 WHERE id = ?1", "tt",
				c->id, when)) == 0)
			error = add_event(u, c->id, s->at, "close", officer, "办结");
		break;
	case ST_PHONE: {
		int r = below(100);
		const char *outcome = r < 91 ? "warned" : r < 94 ? "suspended" : r < 98 ? "unreachable" : NULL;
		if (!outcome)
			break;   /* not tried yet */
		/* as `tiersync ads warn` does: the call covers every sighting of the
		 * number in the jurisdiction not yet warned */
		error = run(db, "UPDATE small_ad_phones SET warned_at = ?2, warned_by = ?3, outcome = ?4 "
			"WHERE phone = ?1 AND outcome IS NOT 'warned' AND case_id IN (SELECT id FROM cases "
			"WHERE jurisdiction = ?5 OR substr(jurisdiction, 1, length(?5) + 1) = ?5 || '.')", "ttttt",
			c->phones[s->arg], when, u->roster[0], outcome, u->jurisdiction);
		break;
	}
	}
	return error;
}

static void free_case(gen_case *c)
{
	int i;
	free(c->id);
	for (i = 0; i < c->nphones; i++)
		free(c->phone_ids[i]);
	free(c);
}

/* A new case on unit `u` at `t`; `complaint_only` for last year's. */
static int new_case(gen *g, unit *u, int64_t t, int complaint_only)
{
	sqlite3 *db = ts_node_db(u->node);
	double w[NCAT > NSRC ? NCAT : NSRC];
	const int *src_w = u->device ? device_sources : street_sources;
	int m = month_of(t), i, j, key = -1, error;
	char when[32], due[32], address[160], desc[256], *ka = NULL, *ev = NULL, intake[96];
	const char *patrol = NULL;
	char found_phones[128] = "";   /* "small-ad numbers found: " and up to three numbers */
	size_t found_len = 0;
	const char *cname = NULL;
	char cphone[16];
	gen_case *c, **grown;

	if (!(c = calloc(1, sizeof(*c))))
		return ts_error_set(TS_ERROR, "out of memory");
	for (i = 0; i < (int)NCAT; i++)
		w[i] = categories[i].weight * categories[i].month[m];
	c->cat = pick_weighted(w, NCAT);
	for (i = 0; i < NSRC; i++)
		w[i] = src_w[i] * (i == SRC_COMPLAINT ? complaint_month[m] : 1);
	c->src = complaint_only ? SRC_COMPLAINT : pick_weighted(w, NSRC);
	c->officer = u->device ? 0 : 1 + below(u->nroster - 1);
	if (u->nkey > 0 && u01() < 0.3 * (complaint_only ? u->prev_key_factor : 1)) {
		key = u->key_areas[below(u->nkey)];
		ka = g->key_area_ids[key];
	}
	if (key >= 0)
		snprintf(address, sizeof(address), "%s %s%d号", key_area_names[key], PICK(roads), (int)between(1, 180));
	else
		snprintf(address, sizeof(address), "%s%d号", PICK(roads), (int)between(1, 180));
	snprintf(desc, sizeof(desc), "%s", categories[c->cat].what);
	if (c->src == SRC_COMPLAINT) {
		cname = PICK(complainants);
		snprintf(cphone, sizeof(cphone), "13%09d", (int)between(0, 999999999));
	}
	fmt_time(when, t);
	fmt_time(due, t + (int64_t)u->deadline_days[c->cat] * DAY);
	/* the major event it falls in, as intake marks it */
	if ((error = ts_event_for_case(&ev, u->node, u->jurisdiction, when)) < 0 ||
	    (error = mint(&c->id, u, "c")) < 0)
		goto fail;
	if (c->src == SRC_PATROL && (patrol = patrol_at(u, t)))
		snprintf(intake, sizeof(intake), "patrol, found on patrol %s", patrol);
	else
		snprintf(intake, sizeof(intake), "%s", sources[c->src]);
	if (complaint_only) {   /* last year's complaints, as the city's baselines count them */
		unit *street = u->device ? &g->units[u->street] : u;
		const char *code = categories[c->cat].code;
		street->prev_subject[SUBJ_KEY_AREAS] += ka != NULL;
		street->prev_subject[SUBJ_DUST_MUCK] += !strcmp(code, "construction_dust") ||
			!strncmp(code, "muck_", 5);
		street->prev_subject[SUBJ_OUTDOOR_BBQ] += !strcmp(code, "outdoor_bbq");
		street->prev_subject[SUBJ_SMALL_ADS] += !strcmp(code, "small_ads");
	}
	if ((error = run(db, "INSERT INTO cases (id, source, category, address, lng, lat, jurisdiction, description, "
			"status, reported_at, deadline, complainant_name, complainant_phone, key_area_id, event_id, "
			"created_by_node, patrol_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'discovered', ?9, ?10, ?11, "
			"?12, ?13, ?14, ?15, ?16)", "ttttddtttttttttt", c->id, sources[c->src], categories[c->cat].code,
			address, 116.40 + (u01() - 0.5) * 0.04, 39.92 + (u01() - 0.5) * 0.04, u->jurisdiction, desc, when,
			due, cname, cname ? cphone : NULL, ka, ev, u->id, patrol)) < 0)
		goto fail;
	if (patrol && (error = run(db, "UPDATE patrols SET found = found + 1 WHERE id = ?1", "t", patrol)) < 0)
		goto fail;
	if ((error = add_event(u, c->id, t, "intake", c->src == SRC_PATROL ? officer_of(u, c) : u->roster[0],
			intake)) < 0)
		goto fail;
	if (!strcmp(categories[c->cat].code, "small_ads")) {
		c->nphones = 1 + below(3);
		for (i = 0; i < c->nphones; i++) {
			/* a few hundred numbers come back again and again */
			snprintf(c->phones[i], sizeof(c->phones[i]), "1%d%09d", 3 + below(6), (int)between(0, 400) * 2437);
			for (j = 0; j < i; j++)   /* one number once per case */
				if (!strcmp(c->phones[j], c->phones[i]))
					break;
			if (j < i) {
				c->nphones = i;
				break;
			}
			if ((error = mint(&c->phone_ids[i], u, "a")) < 0 ||
			    (error = run(db, "INSERT INTO small_ad_phones (id, case_id, phone) VALUES (?1, ?2, ?3)", "ttt",
					c->phone_ids[i], c->id, c->phones[i])) < 0)
				goto fail;
			found_len += (size_t)snprintf(found_phones + found_len, sizeof(found_phones) - found_len, "%s%s",
				i ? ", " : "small-ad numbers found: ", c->phones[i]);
		}
		/* as `tiersync ads add` records them: a note in the case's record */
		if ((error = add_event(u, c->id, t, "note", officer_of(u, c), found_phones)) < 0)
			goto fail;
	}
	plan(u, c, t);
	if (u->nopen == u->aopen) {
		size_t n = u->aopen ? u->aopen * 2 : 64;
		if (!(grown = realloc(u->open, n * sizeof(*grown)))) {
			error = ts_error_set(TS_ERROR, "out of memory");
			goto fail;
		}
		u->open = grown;
		u->aopen = n;
	}
	u->open[u->nopen++] = c;
	u->made_cases++;
	free(ev);
	return 0;
fail:
	free(ev);
	free_case(c);
	return error;
}

/* ---- responsibility zones ----------------------------------------------------- */

static int zones_day(gen *g, unit *u, int day, int64_t t0)
{
	sqlite3 *db = ts_node_db(u->node);
	char when[32], unitname[64], address[96];
	int i, error = 0, yday = day - g->days_prev;

	if (u->device || yday < 0)
		return 0;
	if (yday == 1) {   /* 2 January: the year's zones are set up */
		for (i = 0; i < u->nzones && !error; i++) {
			zone *z = &u->zones[i];
			snprintf(unitname, sizeof(unitname), "%s%s", PICK(brands), PICK(shops));
			snprintf(address, sizeof(address), "%s%d号", PICK(roads), (int)between(1, 180));
			if ((error = mint(&z->id, u, "z")) == 0)
				error = run(db, "INSERT INTO responsibility_zones (id, unit, address, jurisdiction, key_area_id) "
					"VALUES (?1, ?2, ?3, ?4, ?5)", "ttttt", z->id, unitname, address, u->id,
					z->key ? g->key_area_ids[u->key_areas[i % u->nkey]] : NULL);
		}
	}
	for (i = 0; i < u->nzones && !error; i++) {
		zone *z = &u->zones[i];
		if (z->notice_at >= t0 && z->notice_at < t0 + DAY) {
			fmt_time(when, z->notice_at);
			error = run(db, "UPDATE responsibility_zones SET notice_issued_at = ?2, notice_issued_by = ?3 "
				"WHERE id = ?1", "ttt", z->id, when, u->roster[1 + i % (u->nroster - 1)]);
		}
		/* a zone is checked once its unit has had the notice: monthly, and
		 * a failed check again some days later, once it has rectified (复查) */
		if (yday > 1 && !error && z->notice_at && z->notice_at < t0) {
			char day_s[32];
			int recheck = z->recheck_at >= t0 && z->recheck_at < t0 + DAY;
			fmt_time(day_s, t0);
			if (recheck || atoi(day_s + 8) == z->check_day) {
				static const char *const faults[] = { "门前堆物，未落实门前三包", "店外乱堆杂物，占用人行道",
					"门前垃圾未及时清扫", "违规摆放经营用品" };
				char *id = NULL;
				int met = u01() < (recheck ? 0.9 : z->key ? 0.9 : 0.8);
				fmt_time(when, recheck ? z->recheck_at : t0 + 10 * 3600 + i * 300);
				if ((error = mint(&id, u, "h")) == 0)
					error = run(db, "INSERT INTO responsibility_checks (id, zone_id, checked_at, met, checker, note) "
						"VALUES (?1, ?2, ?3, ?4, ?5, ?6)", "tttitt", id, z->id, when, (int64_t)met,
						u->roster[1 + i % (u->nroster - 1)], met ? (recheck ? "复查：已整改" : NULL) :
						recheck ? "复查：仍未整改" : PICK(faults));
				free(id);
				z->recheck_at = met ? 0 : t0 + between(3, 10) * DAY + between(9 * 3600, 17 * 3600);
			}
		}
	}
	return error;
}

/* ---- patrols (人盯车巡): the day's rounds, mostly in key areas ----------- */

/* The day's patrols, before its cases: a case found on patrol names the
 * patrol under way (or the latest started) and counts in its `found`, as
 * `tiersync case new --patrol` does. */
static int patrols_day(gen *g, unit *u, int day, int64_t t0)
{
	sqlite3 *db = ts_node_db(u->node);
	int i, n = u->device ? 1 : 2 + below(2), error = 0;

	u->npatrols = 0;
	if (day < g->days_prev)
		return 0;   /* the year before is there for its complaints only */
	for (i = 0; i < n && !error; i++) {
		char *id = NULL, officers[40], start[32], end[32], area[96];
		/* the first goes out before the day's first case (早巡) */
		int64_t at = t0 + (i == 0 ? between(6 * 3600 + 1800, 7 * 3600 - 60) : between(8 * 3600, 16 * 3600));
		int64_t until = at + between(2 * 3600, 4 * 3600);
		int key = u->nkey > 0 && pct(60) ? u->key_areas[below(u->nkey)] : -1;
		if (u->device)
			snprintf(officers, sizeof(officers), "%s", u->roster[0]);
		else {
			int a = 1 + below(u->nroster - 1), b = 1 + (a % (u->nroster - 1));
			snprintf(officers, sizeof(officers), "%s、%s", u->roster[a], u->roster[b]);
		}
		snprintf(area, sizeof(area), "%s", key >= 0 ? key_area_names[key] : PICK(roads));
		fmt_time(start, at);
		fmt_time(end, until);
		if ((error = mint(&id, u, "r")) == 0)
			error = run(db, "INSERT INTO patrols (id, officers, jurisdiction, area, key_area_id, started_at, "
				"ended_at, route, found) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 0)", "tttttttt",
				id, officers, u->jurisdiction, area, key >= 0 ? g->key_area_ids[key] : NULL, start, end,
				key >= 0 ? "重点地区步巡" : "车巡");
		if (error == 0) {
			snprintf(u->patrols[u->npatrols].id, sizeof(u->patrols[0].id), "%s", id);
			u->patrols[u->npatrols].start = at;
			u->patrols[u->npatrols++].end = until;
		}
		free(id);
	}
	return error;
}

/* The patrol a case found on patrol at `t` was found on: one under way,
 * else the latest started (the case written up on return); NULL when none
 * had started. */
static const char *patrol_at(unit *u, int64_t t)
{
	int i, best = -1;
	for (i = 0; i < u->npatrols; i++) {
		if (u->patrols[i].start > t)
			continue;
		if (best < 0 || (u->patrols[i].end >= t && u->patrols[best].end < t) ||
		    ((u->patrols[i].end >= t) == (u->patrols[best].end >= t) &&
		     u->patrols[i].start > u->patrols[best].start))
			best = i;
	}
	return best >= 0 ? u->patrols[best].id : NULL;
}

/* ---- exposures (主动曝光) and supervision (督办) ------------------------------------ */

/* An exposure by unit `jurisdiction` (a street, or the district) on day
 * `t0`, naming `case_id` if not NULL */
static int expose(ts_node *node, const char *jurisdiction, const char *case_id, const char *by, int64_t t0)
{
	static const char *const titles[] = { "曝光：%s商户店外经营屡教不改", "%s夜间露天烧烤油烟扰民，城管依法查处",
		"%s渣土车遗撒被罚", "整治非法小广告，%s清理小广告并追查号码", "%s游商占道经营回潮，城管开展整治" };
	char *id = NULL, title[200], when[32], url[96];
	int error;

	if ((error = ts_node_mint_id(&id, node, "x")) < 0)
		return error;
	snprintf(title, sizeof(title), PICK(titles), PICK(roads));
	fmt_time(when, t0 + between(7 * 3600, 20 * 3600));
	snprintf(url, sizeof(url), "https://news.example.cn/%s", id);
	error = run(ts_node_db(node), "INSERT INTO exposures (id, jurisdiction, case_id, outlet, title, published_at, "
		"made_by, url) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)", "tttttttt", id, jurisdiction, case_id,
		PICK(outlets), title, when, by, pct(60) ? url : NULL);
	free(id);
	return error;
}

/* A street's exposures: about three a month, most naming a case it penalised */
static int exposures_day(gen *g, unit *u, int day, int64_t t0)
{
	int error;
	if (u->device || day < g->days_prev || !pct(10))
		return 0;
	if ((error = expose(u->node, u->id, u->exposable[0] && pct(60) ? u->exposable : NULL,
			u->roster[1 + below(u->nroster - 1)], t0)) == 0)
		u->made_exposures++;
	return error;
}

/* A street answers the supervision items that have reached it (三级反馈):
 * most before they are due, some late, a few never */
static int answers_day(gen *g, unit *u, int64_t t0)
{
	static const char *const texts[] = { "已组织联合整治，现场清理完毕，建立长效巡查机制",
		"已约谈当事人，责令限期整改，复查已整改到位", "已增加巡查频次，落实人盯车巡，问题未再反弹",
		"已立案查处，依法处罚，并告知属地社区加强监督" };
	int i, error = 0;
	char *id = NULL, when[32];

	for (i = 0; i < g->nitems && !error; i++) {
		item *it = &g->items[i];
		if (&g->units[it->target] != u || it->answered || it->never || !it->reached ||
		    it->answer_at < t0 || it->answer_at >= t0 + DAY)
			continue;
		fmt_time(when, it->answer_at);
		if ((error = mint(&id, u, "f")) == 0 &&
		    (error = run(ts_node_db(u->node), "INSERT INTO supervision_feedback (id, item_id, level, node, at, "
				"author, text) VALUES (?1, ?2, 'street', ?3, ?4, ?5, ?6)", "tttttt", id, it->id, u->id, when,
				u->roster[0], PICK(texts))) == 0)
			error = run(ts_node_db(u->node), "UPDATE supervision_items SET status = 'answered' "
				"WHERE id = ?1 AND status = 'open'", "t", it->id);
		free(id);
		id = NULL;
		it->answered = 1;
		u->made_answers++;
	}
	return error;
}

/* The items of the district that reach street `u` by its pull at `t` */
static void items_reached(gen *g, unit *u, int64_t t)
{
	int i;
	for (i = 0; i < g->nitems; i++) {
		item *it = &g->items[i];
		int64_t from;
		if (&g->units[it->target] != u || it->reached)
			continue;
		it->reached = t > it->issued ? t : it->issued + 3600;
		from = it->reached + 3600;
		if (it->due - from > 2 * DAY && pct(80))
			it->answer_at = from + between(DAY, it->due - from - 3600);
		else
			it->answer_at = (it->due > from ? it->due : from) + between(DAY, 8 * DAY);
	}
}

/* The district's days: its exposures, and the supervision items it issues
 * to its streets (two a month each, on average), due in two to four weeks */
static int write_district_days(sqlite3 *db, void *payload)
{
	gen *g = payload;
	int day, i, error = 0;
	(void)db;
	for (day = g->batch_from; day < g->batch_to && !error; day++) {
		int64_t t0 = day_start(g, day);
		if (day < g->days_prev)
			continue;
		if (pct(8) && (error = expose(g->district, ts_node_id(g->district), NULL,
				g->district_staff[below(3)], t0)) == 0)
			g->district_exposures++;
		for (i = 0; i < g->nunits && !error; i++) {
			unit *u = &g->units[i];
			char *id = NULL, issued[32], due[32], subject[200];
			item *it;
			if (u->device || !pct(7))
				continue;
			if (g->nitems == g->aitems) {
				int n = g->aitems ? g->aitems * 2 : 32;
				item *grown = realloc(g->items, (size_t)n * sizeof(*grown));
				if (!grown)
					return ts_error_set(TS_ERROR, "out of memory");
				g->items = grown;
				g->aitems = n;
			}
			it = &g->items[g->nitems];
			memset(it, 0, sizeof(*it));
			it->target = i;
			it->issued = t0 + between(9 * 3600, 17 * 3600);
			it->due = day_start(g, day + (int)between(14, 28)) + 18 * 3600;
			it->never = pct(4);
			fmt_time(issued, it->issued);
			fmt_time(due, it->due);
			snprintf(subject, sizeof(subject), "%s%s",
				u->nkey > 0 && pct(50) ? key_area_names[u->key_areas[below(u->nkey)]] : PICK(roads),
				PICK(supervision_subjects));
			if ((error = ts_node_mint_id(&id, g->district, "s")) < 0)
				break;
			error = run(ts_node_db(g->district), "INSERT INTO supervision_items (id, issued_by_node, issuer, "
				"level, target_node, subject, detail, issued_at, due_at, status) VALUES (?1, ?2, ?3, 'district', "
				"?4, ?5, ?6, ?7, ?8, 'open')", "tttttttt", id, ts_node_id(g->district), g->district_staff[0],
				u->id, subject, "请于期限内整改到位并反馈处理结果", issued, due);
			it->id = id;
			g->nitems++;
		}
	}
	return error;
}

/* The city's complaint baselines (常量) for the year, for the district and
 * each street, per subject: near last year's complaints, so that some goals
 * are met and some missed */
static int write_baselines(sqlite3 *db, void *payload)
{
	gen *g = payload;
	char when[32], year[8];
	int i, k, error = 0, district[NSUBJ] = { 0 };

	fmt_time(when, day_start(g, g->batch_to - 1) + 10 * 3600);
	snprintf(year, sizeof(year), "%d", g->year);
	for (i = 0; i <= g->nunits && !error; i++) {
		const char *scope = i < g->nunits ? g->units[i].id : ts_node_id(g->district);
		if (i < g->nunits && g->units[i].device)
			continue;
		for (k = 0; k < NSUBJ && !error; k++) {
			int last = i < g->nunits ? g->units[i].prev_subject[k] : district[k];
			if (i < g->nunits)
				district[k] += last;
			error = run(db, "INSERT INTO complaint_baselines (scope, subject, year, complaints, set_by, set_at) "
				"VALUES (?1, ?2, ?3, ?4, ?5, ?6)", "tttitt", scope, subjects[k], year,
				(int64_t)(last * (0.95 + 0.35 * u01()) + 0.5), g->city_staff, when);
		}
	}
	return error;
}

/* ---- the days --------------------------------------------------------------- */

static int64_t day_start(gen *g, int day)
{
	return g->start + (int64_t)day * DAY;
}

static int cmp_time(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

static int one_day(gen *g, unit *u, int day)
{
	int64_t t0 = day_start(g, day), *times;
	int n = u->per_day[day], i, error = 0;
	size_t k, keep;

	set_clock(t0 + 12 * 3600);
	if ((error = zones_day(g, u, day, t0)) < 0)
		return error;
	if (!(times = malloc(((size_t)n + 1) * sizeof(*times))))
		return ts_error_set(TS_ERROR, "out of memory");
	for (i = 0; i < n; i++)
		times[i] = t0 + between(7 * 3600, 22 * 3600);
	qsort(times, (size_t)n, sizeof(times[0]), cmp_time);
	if ((error = patrols_day(g, u, day, t0)) < 0) {
		free(times);
		return error;
	}
	for (i = 0; i < n && !error; i++)
		error = new_case(g, u, times[i], day < g->days_prev);
	free(times);
	if (error < 0 || (error = exposures_day(g, u, day, t0)) < 0 || (error = answers_day(g, u, t0)) < 0)
		return error;
	for (k = 0, keep = 0; k < u->nopen; k++) {
		gen_case *c = u->open[k];
		while (c->next < c->nsteps && c->steps[c->next].at < t0 + DAY)
			if ((error = apply_step(g, u, c, &c->steps[c->next++])) < 0)
				return error;
		if (c->next == c->nsteps)
			free_case(c);
		else
			u->open[keep++] = c;
	}
	u->nopen = keep;
	return 0;
}

/* ---- progress, on a terminal only -------------------------------------------- */

static struct {
	int on;          /* stderr is a terminal */
	int shown;       /* a line is up and not yet ended */
	double at;       /* when it was last written */
	int total;       /* the cases of every node, both years */
} progress;

static double seconds_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The day under way, the node writing it and the cases so far, on one line
 * of stderr rewritten in place, at most every 0.1 s unless `now`. */
static void show_progress(gen *g, const unit *u, int day, int now)
{
	char date[32];
	double t;
	int i, made = 0;

	if (!progress.on)
		return;
	t = seconds_now();
	if (!now && progress.shown && t - progress.at < 0.1)
		return;
	for (i = 0; i < g->nunits; i++)
		made += g->units[i].made_cases;
	fmt_time(date, day_start(g, day));
	if (day < g->days_prev)
		fprintf(stderr, "\rtiersync-gen: %.10s (complaints of the year before)", date);
	else
		fprintf(stderr, "\rtiersync-gen: %.10s, day %d of %d", date, day - g->days_prev + 1,
			g->days - g->days_prev);
	fprintf(stderr, ": %s %d cases; %d of %d cases in all\033[K", u->id, u->made_cases, made, progress.total);
	fflush(stderr);
	progress.at = t;
	progress.shown = 1;
}

/* Ends the line, with ", done" when the work is. */
static void end_progress(int done)
{
	if (!progress.shown)
		return;
	fputs(done ? ", done\n" : "\n", stderr);
	progress.shown = 0;
}

static int write_days(sqlite3 *db, void *payload)
{
	gen *g = payload;
	int day, error;
	(void)db;
	for (day = g->batch_from; day < g->batch_to; day++) {
		if ((error = one_day(g, g->u, day)) < 0)
			return error;
		show_progress(g, g->u, day, 0);
	}
	return 0;
}

/* ---- setting up ----------------------------------------------------------------- */

static int year_days(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 ? 366 : 365;
}

static int64_t beijing_midnight(int y, int m, int d)
{
	struct tm tm;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = m - 1;
	tm.tm_mday = d;
	return (int64_t)timegm(&tm) - 8 * 3600;
}

/* Spreads `n` cases over days [from, to) by season; complaints by their own. */
static void spread(gen *g, int *per_day, int from, int to, int n, int complaints)
{
	double *cdf = calloc((size_t)(to - from), sizeof(double)), total = 0;
	int d, i;
	if (!cdf)
		return;
	for (d = from; d < to; d++) {
		int m = month_of(day_start(g, d) + 12 * 3600), wd = (int)((day_start(g, d) / DAY + 4) % 7);
		double w = 0;
		for (i = 0; i < (int)NCAT; i++)
			w += categories[i].weight * categories[i].month[m];
		if (complaints)
			w *= complaint_month[m];
		total += w * (wd == 0 || wd == 6 ? 0.85 : 1);
		cdf[d - from] = total;
	}
	for (i = 0; i < n; i++) {
		double x = u01() * total;
		int lo = 0, hi = to - from - 1;
		while (lo < hi) {
			int mid = (lo + hi) / 2;
			if (cdf[mid] < x)
				lo = mid + 1;
			else
				hi = mid;
		}
		per_day[from + lo]++;
	}
	free(cdf);
}

/* The rules a case intake at `u` follows (docs/LIFECYCLE.md): deadline days
 * per category and the major-penalty threshold in force in its jurisdiction. */
static int load_rules(unit *u)
{
	int64_t v;
	size_t i;
	int error;

	if (!(u->jurisdiction = ts_case_jurisdiction(u->node)))
		return ts_error_set(TS_ERROR, "out of memory");
	for (i = 0; i < NCAT; i++) {
		if ((error = ts_case_rule_value(&v, u->node, u->jurisdiction, "deadline_days", categories[i].code)) < 0)
			return error;
		if (v <= 0)
			return ts_error_set(TS_EINVALID, "%s has no category %s", u->id, categories[i].code);
		u->deadline_days[i] = (int)v;
	}
	if ((error = ts_case_rule_value(&u->major_threshold, u->node, u->jurisdiction, "major_threshold", NULL)) ==
	    TS_ENOTFOUND)
		u->major_threshold = 1000000;
	else if (error < 0)
		return error;
	return 0;
}

typedef struct {
	gen *g;
	ts_node *district;
} district_setup;

static int write_district(sqlite3 *db, void *payload)
{
	district_setup *s = payload;
	gen *g = s->g;
	char *id = NULL, when[32], to[32];
	int i, error = 0;
	static const char *const events[2] = { "全国两会", "国庆假日" };
	const int when_md[2][4] = { { 3, 3, 3, 17 }, { 10, 1, 10, 8 } };

	fmt_time(when, g->start + 9 * 3600);
	for (i = 0; i < g->nkey && !error; i++) {
		if ((error = ts_node_mint_id(&id, s->district, "k")) < 0)
			break;
		snprintf(g->key_area_ids[i], sizeof(g->key_area_ids[i]), "%s", id);
		error = run(db, "INSERT INTO key_areas (id, level, owner_node, name, zone, listed_at, reason) "
			"VALUES (?1, 'district', ?2, ?3, ?4, ?5, ?6)", "tttttt", id, ts_node_id(s->district),
			key_area_names[i], "以主要街道两侧各50米为界", when, "群众投诉集中，街面秩序问题反复");
		free(id);
		id = NULL;
	}
	for (i = 0; i < 2 && !error; i++) {
		g->event_from[i] = beijing_midnight(g->year, when_md[i][0], when_md[i][1]);
		g->event_to[i] = beijing_midnight(g->year, when_md[i][2], when_md[i][3]);
		if ((error = ts_node_mint_id(&id, s->district, "m")) < 0)
			break;
		fmt_time(when, g->event_from[i]);
		fmt_time(to, g->event_to[i] - 1);
		error = run(db, "INSERT INTO major_events (id, name, starts_at, ends_at, zone, level, owner_node) "
			"VALUES (?1, ?2, ?3, ?4, ?5, 'district', ?6)", "tttttt", id, events[i], when, to,
			"辖区全域", ts_node_id(s->district));
		free(id);
		id = NULL;
	}
	return error;
}

/* Fetches the upstream's main and merges it, as `tiersync pull` does. */
static int pull(unit *u, const char *author, const char *message)
{
	ts_transfer_options o;
	char id[41];
	int error;

	memset(&o, 0, sizeof(o));
	o.version = TS_TRANSFER_OPTIONS_VERSION;
	if ((error = ts_node_fetch(id, NULL, u->node, NULL, &o)) < 0) {
		char why[512];
		snprintf(why, sizeof(why), "%s", ts_error_last() ? ts_error_last() : "failed");
		return ts_error_set(error, "%s: pulling from its upstream: %s (give every street the district, "
			"and every device its street, as upstream: tiersync init ... --upstream DIR)", u->id, why);
	}
	return ts_node_merge(id, NULL, u->node, "refs/remotes/" TS_REMOTE_DEFAULT "/main", author, message);
}

static int has_upstream_cb(const ts_remote_info *remote, void *payload)
{
	if (!strcmp(remote->name, TS_REMOTE_DEFAULT))
		*(int *)payload = 1;
	return 0;
}

static int has_upstream(ts_node *node)
{
	int found = 0;
	return ts_node_remote_list(node, has_upstream_cb, &found) == 0 && found;
}

static int parent_of(const char *child, const char *parent)
{
	size_t n = strlen(parent);
	return !strncmp(child, parent, n) && child[n] == '.' && !strchr(child + n + 1, '.');
}

static int commit_unit(gen *g, unit *u, int day_to)
{
	char id[41], msg[160], from[32], to[32];
	const char *author = u->roster[(day_to / 7) % u->nroster];
	int error;

	fmt_time(from, day_start(g, g->batch_from));
	fmt_time(to, day_start(g, day_to - 1));
	set_clock(day_start(g, day_to - 1) + 20 * 3600);
	snprintf(msg, sizeof(msg), "%.10s..%.10s: the work of %s", from, to, u->id);
	error = ts_node_commit(id, u->node, msg, author);
	if (error == TS_ENOTFOUND)
		return 0;
	if (error == 0)
		u->commits++;
	return error;
}

/* Commits what `node` wrote, if anything, at the end of the batch's last day */
static int commit_node(gen *g, ts_node *node, const char *message, const char *author)
{
	char id[41];
	int error;
	set_clock(day_start(g, g->batch_to - 1) + 20 * 3600);
	error = ts_node_commit(id, node, message, author);
	return error == TS_ENOTFOUND ? 0 : error;
}

static int usage(const char *fmt, const char *arg)
{
	fprintf(stderr, "tiersync-gen: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, " (see 'tiersync-gen --help')\n");
	return 2;
}

static const char help[] =
	"usage: tiersync-gen --district DIR --street DIR [--street DIR]... [--device DIR]...\n"
	"                    [--city DIR] [--year YEAR] [--cases N] [--seed S] [--commit-every DAYS]\n\n"
	"Writes a district's year of realistic case work into existing nodes (made with\n"
	"tiersync init: streets with the district as upstream, devices with their street).\n\n"
	"  --district DIR      the district node: its key areas and major events are listed there\n"
	"                      and pulled into every street and device\n"
	"  --street DIR        a street node of the district (repeatable)\n"
	"  --device DIR        a device node under one of the streets (repeatable); its work\n"
	"                      stays on it until it pushes\n"
	"  --city DIR          the district's city node: it sets the year's complaint baselines\n"
	"                      (常量) for the district and each street (without it, none are set)\n"
	"  --year YEAR         the year of the cases (default 2015); the year before gets its\n"
	"                      complaints, for the year-on-year figure\n"
	"  --cases N           the cases of the year, over all streets and devices (default 2000)\n"
	"  --seed S            the same seed on fresh nodes gives the same rows (default 1)\n"
	"  --commit-every D    one write and one commit per node every D simulated days (default 7)\n";

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "district", required_argument, NULL, 'D' }, { "street", required_argument, NULL, 's' },
		{ "device", required_argument, NULL, 'v' }, { "year", required_argument, NULL, 'y' },
		{ "cases", required_argument, NULL, 'n' }, { "seed", required_argument, NULL, 'S' },
		{ "commit-every", required_argument, NULL, 'c' }, { "city", required_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ 0, 0, 0, 0 }
	};
	static gen g;
	const char *district_dir = NULL, *city_dir = NULL, *dirs[MAX_UNITS];
	int is_device[MAX_UNITS], ndirs = 0, cases = 2000, every = 7, nstreets = 0, opt, i, j, day, error = 0;
	unsigned long long seed = 1;
	ts_node *district = NULL;
	district_setup setup;
	char *end;
	long number;
	struct timespec t_start, t_end;

	g.year = 2015;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'D': district_dir = optarg; break;
		case 'C': city_dir = optarg; break;
		case 's': case 'v':
			if (ndirs == MAX_UNITS)
				return usage("at most %s streets and devices", "64");
			is_device[ndirs] = opt == 'v';
			nstreets += opt == 's';
			dirs[ndirs++] = optarg;
			break;
		case 'y':
			number = strtol(optarg, &end, 10);
			g.year = number >= 1971 && number <= 9998 ? (int)number : 0;
			if (*end || !*optarg || !g.year)
				return usage("--year takes a year, not '%s'", optarg);
			break;
		case 'n':
			number = strtol(optarg, &end, 10);
			cases = number >= 0 && number <= 10000000 ? (int)number : -1;
			if (*end || !*optarg || cases < 0)
				return usage("--cases takes a count from 0 to 10000000, not '%s'", optarg);
			break;
		case 'S':
			seed = strtoull(optarg, &end, 10);
			if (*end || !*optarg)
				return usage("--seed takes a number, not '%s'", optarg);
			break;
		case 'c':
			number = strtol(optarg, &end, 10);
			every = number >= 1 && number <= 366 ? (int)number : 0;
			if (*end || !*optarg || !every)
				return usage("--commit-every takes days from 1 to 366, not '%s'", optarg);
			break;
		case 'h':
			fputs(help, stdout);
			return 0;
		default:
			return usage("unknown option or missing value: %s", argv[optind - 1]);
		}
	}
	if (optind != argc)
		return usage("unexpected argument %s", argv[optind]);
	if (!district_dir || nstreets == 0)
		return usage("%sgive --district DIR and at least one --street DIR", "");

	clock_gettime(CLOCK_MONOTONIC, &t_start);
	progress.on = isatty(STDERR_FILENO);
	rng_state = seed;
	g.days_prev = year_days(g.year - 1);
	g.days = g.days_prev + year_days(g.year);
	g.start = beijing_midnight(g.year - 1, 1, 1);

	if ((error = ts_node_open(&district, district_dir)) < 0)
		goto done;
	if (ts_node_tier(district) != TS_TIER_DISTRICT) {
		error = ts_error_set(TS_EINVALID, "%s is a %s node, not a district", district_dir,
			ts_tier_name(ts_node_tier(district)));
		goto done;
	}
	g.district = district;
	if (city_dir) {
		if ((error = ts_node_open(&g.city, city_dir)) < 0)
			goto done;
		if (ts_node_tier(g.city) != TS_TIER_CITY) {
			error = ts_error_set(TS_EINVALID, "%s is a %s node, not a city", city_dir,
				ts_tier_name(ts_node_tier(g.city)));
			goto done;
		}
		if (!parent_of(ts_node_id(district), ts_node_id(g.city))) {
			error = ts_error_set(TS_EINVALID, "district %s is not under city %s", ts_node_id(district),
				ts_node_id(g.city));
			goto done;
		}
	}
	for (i = 0; i < ndirs; i++) {
		unit *u = &g.units[g.nunits++];
		u->dir = dirs[i];
		u->device = is_device[i];
		if ((error = ts_node_open(&u->node, dirs[i])) < 0)
			goto done;
		u->id = ts_node_id(u->node);
		if (ts_node_tier(u->node) != (u->device ? TS_TIER_DEVICE : TS_TIER_STREET)) {
			error = ts_error_set(TS_EINVALID, "%s (%s) is a %s node, not a %s", dirs[i], u->id,
				ts_tier_name(ts_node_tier(u->node)), u->device ? "device" : "street");
			goto done;
		}
		for (j = 0; j < i; j++)
			if (!strcmp(g.units[j].id, u->id)) {
				error = ts_error_set(TS_EINVALID, "%s is given twice", u->id);
				goto done;
			}
	}
	for (i = 0; i < g.nunits; i++) {
		unit *u = &g.units[i];
		if (!u->device && !parent_of(u->id, ts_node_id(district))) {
			error = ts_error_set(TS_EINVALID, "street %s is not under district %s", u->id, ts_node_id(district));
			goto done;
		}
		if (!has_upstream(u->node)) {
			error = ts_error_set(TS_EINVALID, "%s has no upstream: give every street the district, and every "
				"device its street, as upstream (tiersync init ... --upstream DIR)", u->id);
			goto done;
		}
		if (u->device) {
			u->street = -1;
			for (j = 0; j < g.nunits; j++)
				if (!g.units[j].device && parent_of(u->id, g.units[j].id))
					u->street = j;
			if (u->street < 0) {
				error = ts_error_set(TS_EINVALID, "device %s: give its street with --street", u->id);
				goto done;
			}
		}
	}

	/* who works where, and how much */
	g.nkey = nstreets + 1 > 8 ? 8 : nstreets + 1;
	for (j = 0; j < 3; j++)
		make_name(g.district_staff[j]);
	make_name(g.city_staff);
	for (i = 0; i < g.nunits; i++) {
		unit *u = &g.units[i];
		u->nroster = u->device ? 1 : ROSTER;
		for (j = 0; j < u->nroster; j++)
			make_name(u->roster[j]);
		/* the street's repeat offenders, each always recorded with its
		 * identity number: street vendors, barbecue stalls and small-ad
		 * posters; shops trading outside, kitchens, sign owners, builders */
		for (j = 0; j < POOL && !u->device; j++) {
			static const int pool_cats[POOL] = { 7, 7, 7, 3, 3, 6, 9, 9, 14, 10 };
			static const int pool_business[POOL] = { 0, 0, 0, 0, 1, 0, 1, 1, 1, 1 };
			make_party(&u->pool[j], pool_cats[j], pool_business[j], 1);
		}
		u->prev_key_factor = 0.85 + 0.45 * u01();
		if (!(u->per_day = calloc((size_t)g.days, sizeof(int)))) {
			error = ts_error_set(TS_ERROR, "out of memory");
			goto done;
		}
	}
	for (i = 0, j = 0; i < g.nkey; i++) {   /* key areas round the streets */
		while (g.units[j % g.nunits].device)
			j++;
		g.units[j % g.nunits].key_areas[g.units[j % g.nunits].nkey++] = i;
		j++;
	}
	for (i = 0; i < g.nunits; i++)   /* a device works in its street's key areas */
		if (g.units[i].device) {
			memcpy(g.units[i].key_areas, g.units[g.units[i].street].key_areas, sizeof(g.units[i].key_areas));
			g.units[i].nkey = g.units[g.units[i].street].nkey;
		}
	{
		double weights[MAX_UNITS], total = 0;
		int given_out = 0;
		for (i = 0; i < g.nunits; i++) {
			/* a device does about a quarter of its street's finding */
			weights[i] = (g.units[i].device ? 0.3 : 1.0) * (0.7 + 0.6 * u01());
			total += weights[i];
		}
		for (i = 0; i < g.nunits; i++) {
			unit *u = &g.units[i];
			u->year_cases = i == g.nunits - 1 ? cases - given_out : (int)(cases * weights[i] / total);
			given_out += u->year_cases;
			/* last year's complaints: about this year's, give or take */
			u->prev_complaints = (int)(u->year_cases * (u->device ? 0.15 : 0.22) * (0.95 + 0.3 * u01()));
			spread(&g, u->per_day, 0, g.days_prev, u->prev_complaints, 1);
			spread(&g, u->per_day, g.days_prev, g.days, u->year_cases, 0);
			for (day = 0; day < g.days; day++)
				progress.total += u->per_day[day];
			/* the streets' own inspected shops and units */
			if (!u->device) {
				u->nzones = u->year_cases / 40 < 12 ? 12 : u->year_cases / 40;
				if (!(u->zones = calloc((size_t)u->nzones, sizeof(zone)))) {
					error = ts_error_set(TS_ERROR, "out of memory");
					goto done;
				}
				for (j = 0; j < u->nzones; j++) {
					zone *z = &u->zones[j];
					z->key = u->nkey > 0 && pct(30);
					z->notice_at = pct(96) ? day_start(&g, g.days_prev + (int)between(4, 30)) +
						between(9 * 3600, 17 * 3600) : 0;
					z->check_day = 1 + (int)between(0, 27);
				}
			}
		}
	}

	/* 1. the district's key areas and major events, pulled down the tiers */
	setup.g = &g;
	setup.district = district;
	set_clock(g.start + 9 * 3600);
	{
		char id[41], admin[16];
		make_name(admin);
		if ((error = ts_node_write(district, admin, "key areas and major events", write_district, &setup)) < 0 ||
		    (error = ts_node_commit(id, district, "list the district's key areas and major events", admin)) < 0)
			goto done;
		for (i = 0; i < g.nunits && !error; i++)
			if (!g.units[i].device)
				error = pull(&g.units[i], g.units[i].roster[0],
					"merge upstream's main (pull): key areas and major events\n");
		for (i = 0; i < g.nunits && !error; i++)
			if (g.units[i].device)
				error = pull(&g.units[i], g.units[i].roster[0],
					"merge upstream's main (pull): key areas and major events\n");
		for (i = 0; i < g.nunits && !error; i++)
			error = load_rules(&g.units[i]);
		if (error < 0)
			goto done;
	}

	/* 2-3. the days, a write and a commit per node every `every` days */
	for (day = 0; day < g.days; day += every) {
		g.batch_from = day;
		g.batch_to = day + every < g.days ? day + every : g.days;
		/* the district's own work: exposures, supervision items issued */
		if (g.batch_to > g.days_prev) {
			char from[32], msg[96];
			fmt_time(from, day_start(&g, day));
			snprintf(msg, sizeof(msg), "%.10s: the district's exposures and supervision items", from);
			set_clock(day_start(&g, day) + 12 * 3600);
			if ((error = ts_node_write(district, g.district_staff[0], msg, write_district_days, &g)) < 0 ||
			    (error = commit_node(&g, district, msg, g.district_staff[0])) < 0)
				goto done;
		}
		for (i = 0; i < g.nunits; i++) {
			unit *u = &g.units[i];
			char summary[96], from[32];
			fmt_time(from, day_start(&g, day));
			snprintf(summary, sizeof(summary), "the work from %.10s", from);
			g.u = u;
			/* once a month in the year, a street pulls its district's main:
			 * the supervision items issued to it */
			if (!u->device && day >= g.days_prev && month_of(day_start(&g, day)) + 1 != u->pulled_month) {
				u->pulled_month = month_of(day_start(&g, day)) + 1;
				set_clock(day_start(&g, day) + 8 * 3600);
				if ((error = pull(u, u->roster[0], "merge upstream's main (pull): the district's supervision "
						"items\n")) < 0)
					goto done;
				items_reached(&g, u, day_start(&g, day) + 8 * 3600);
			}
			set_clock(day_start(&g, day) + 12 * 3600);
			if ((error = ts_node_write(u->node, u->roster[0], summary, write_days, &g)) < 0 ||
			    (error = commit_unit(&g, u, g.batch_to)) < 0)
				goto done;
		}
		/* the year's complaint baselines, once last year's complaints are in */
		if (g.city && g.batch_from <= g.days_prev && g.batch_to > g.days_prev) {
			if ((error = ts_node_write(g.city, g.city_staff, "complaint baselines", write_baselines, &g)) < 0 ||
			    (error = commit_node(&g, g.city, "常量: the year's complaint baselines", g.city_staff)) < 0)
				goto done;
		}
	}

	if (g.nunits)
		show_progress(&g, &g.units[g.nunits - 1], g.days - 1, 1);
	end_progress(1);
	clock_gettime(CLOCK_MONOTONIC, &t_end);
	for (i = 0; i < g.nunits; i++)
		printf("%-28s %6d cases (%d complaints of %d), %6d steps, %4d commits, %4d parties, %3d exposures, "
			"%3d answers\n", g.units[i].id, g.units[i].made_cases, g.units[i].prev_complaints, g.year - 1,
			g.units[i].made_steps, g.units[i].commits, g.units[i].made_parties, g.units[i].made_exposures,
			g.units[i].made_answers);
	printf("%-28s %d supervision items, %d exposures%s\n", ts_node_id(district), g.nitems,
		g.district_exposures, g.city ? "; the city's complaint baselines set" : "");
	printf("%d cases in %.1f s\n", cases, (double)(t_end.tv_sec - t_start.tv_sec) +
		(double)(t_end.tv_nsec - t_start.tv_nsec) / 1e9);
done:
	end_progress(0);
	if (error < 0)
		fprintf(stderr, "tiersync-gen: %s\n", ts_error_last() ? ts_error_last() : "failed");
	for (i = 0; i < g.nunits; i++) {
		size_t k;
		for (k = 0; k < g.units[i].nopen; k++)
			free_case(g.units[i].open[k]);
		free(g.units[i].open);
		for (j = 0; j < g.units[i].nzones; j++)
			free(g.units[i].zones[j].id);
		free(g.units[i].zones);
		free(g.units[i].per_day);
		free(g.units[i].jurisdiction);
		if (g.units[i].node)
			forget_statements(ts_node_db(g.units[i].node));
		ts_node_free(g.units[i].node);
	}
	for (i = 0; i < g.nitems; i++)
		free(g.items[i].id);
	free(g.items);
	if (g.city)
		forget_statements(ts_node_db(g.city));
	ts_node_free(g.city);
	if (district)
		forget_statements(ts_node_db(district));
	ts_node_free(district);
	return error < 0 ? 1 : 0;
}
