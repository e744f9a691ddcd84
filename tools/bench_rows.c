/*
 * bench_rows.c: the rows every figure writes (docs/BENCH.md, "Rows", and
 * "Bulk change" and "Divergence" under the sync figures). It measures no
 * figure itself.
 *
 * Case number i is derived from splitmix64(i) alone: a realistic
 * Dongcheng case (docs/BENCH.md lists its fields), inserted with one
 * prepared 25-column INSERT, so the node (inside ts_node_write()'s
 * callback, for (c) and the nodes of (b)) and plain SQLite (the baseline
 * of (c)) get the same rows.
 * (a) and (b) edit open cases picked from them with a seed, the same cases
 * on both sides of the comparison. (e)-(g) change one half of the cases
 * in bulk (one UPDATE per row in one write) and make the receiving node
 * diverge with a few case updates on the other half, so that no merge
 * meets a conflict.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

/* ---- realistic case rows --------------------------------------------- */

const struct case_category categories[] = {
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
_Static_assert(sizeof(categories) / sizeof(categories[0]) == NCAT, "NCAT counts the categories");

static const char *const sources[] = { "patrol", "complaint", "video", "referral", "media", "supervision" };
static const char *const streets[][2] = {
	{ "bj.dc.jingshan", "景山街道" }, { "bj.dc.jiaodaokou", "交道口街道" },
	{ "bj.dc.andingmen", "安定门街道" }, { "bj.dc.beixinqiao", "北新桥街道" },
	{ "bj.dc.donghuamen", "东华门街道" }, { "bj.dc.dongsi", "东四街道" },
	{ "bj.dc.chaoyangmen", "朝阳门街道" }, { "bj.dc.jianguomen", "建国门街道" },
};
const char *const roads[] = {
	"景山前街", "北河沿大街", "东四北大街", "交道口南大街", "地安门东大街", "南锣鼓巷",
	"鼓楼东大街", "美术馆后街", "五四大街", "沙滩北街", "黄化门街", "安定门内大街",
	"雍和宫大街", "北新桥三条", "朝阳门北小街", "东单北大街",
};
_Static_assert(sizeof(roads) / sizeof(roads[0]) == 16, "16 roads");
static const char *const spots[] = { "门前", "东侧便道", "西侧胡同口", "院内", "公交站旁", "底商外" };
static const char *const officers[] = {
	"王建国", "李秀英", "张伟", "刘洋", "陈静", "杨帆", "赵磊", "黄敏",
	"周强", "吴霞", "徐涛", "孙丽", "马超", "朱红", "胡斌", "郭鹏",
};
static const char *const surnames[] = { "王", "李", "张", "刘", "陈", "杨", "赵", "黄" };
static const char *const stages[] = { "educate", "warn", "penalize" };
static const char *const satisfaction[] = { "satisfied", "basically_satisfied", "dissatisfied" };

/* 2023-01-01T00:00:00+08:00 */
#define T0 INT64_C(1672502400)

/* The status of case number i; every status bucket is a share of 100. */
static const char *status_of(uint64_t i)
{
	unsigned b = (unsigned)(mix(i * 7 + 1) % 100);
	return b < 10 ? "discovered" : b < 25 ? "dispatched" : b < 45 ? "handling" :
	       b < 55 ? "feedback" : b < 95 ? "closed" : "transferred";
}

/* The street of case number i. */
static unsigned street_of(uint64_t i)
{
	return (unsigned)((mix(i) >> 8) % 8);
}

void gen_row(case_row *r, uint64_t i)
{
	uint64_t h = mix(i), h2 = mix(h), h3 = mix(h2);
	unsigned cat = (unsigned)(h % NCAT), st = street_of(i);
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
int insert_cases(sqlite3 *db, uint64_t from, uint64_t to)
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

int insert_cb(sqlite3 *db, void *payload)
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
uint64_t pick_open_case(uint64_t *rng, uint64_t n)
{
	for (;;) {
		uint64_t i;
		*rng = mix(*rng);
		i = *rng % n;
		if (editable(i))
			return i;
	}
}

/* ---- bulk changes and divergence, for (e)-(g) ----------------------- */

/* Cases are split in two halves by a hash that no seed changes: bulk
 * changes take theirs from one half, the receiving node's own few updates
 * from the other, so the two sides of a merge never touch the same row. */
static int bulk_half(uint64_t i)
{
	return (mix(~i) & 1) == 0;
}

/* 1 when case number i lies in the jurisdiction of node `within`: a
 * street changes only its own cases (the ownership rules), a district all. */
static int bulk_candidate(uint64_t i, const char *within)
{
	return bulk_half(i) && ts_jurisdiction_covers(within, streets[street_of(i)][0]);
}

/* Up to `count` cases of [0, n) for a bulk change by node `within`, in key
 * order: those of the bulk half in its jurisdiction whose hash with `seed`
 * is 0 mod m, m picking about 1.2 × count of them, whatever their status
 * (a bulk UPDATE does not go through the case workflow). */
static size_t pick_bulk(uint64_t *out, size_t count, uint64_t n, uint64_t seed, const char *within)
{
	uint64_t candidates = 0, m, i;
	size_t k = 0;

	for (i = 0; i < n; i++)
		candidates += (uint64_t)bulk_candidate(i, within);
	m = (uint64_t)((double)candidates / (1.2 * (double)count));
	if (m < 1)
		m = 1;
	for (i = 0; i < n && k < count; i++)
		if (bulk_candidate(i, within) && mix(i ^ mix(seed)) % m == 0)
			out[k++] = i;
	return k;
}

/* `count` open cases of the other half in the jurisdiction of node
 * `within`, from a place that depends on the seed. */
static size_t pick_few(uint64_t *out, size_t count, uint64_t n, uint64_t seed, const char *within)
{
	uint64_t start = mix(seed + 77) % n, j;
	size_t k = 0;
	for (j = 0; j < n && k < count; j++) {
		uint64_t i = (start + j) % n;
		if (!bulk_half(i) && editable(i) && ts_jurisdiction_covers(within, streets[street_of(i)][0]))
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
size_t write_bulk(ts_node *node, size_t count, uint64_t n, uint64_t seed, const char *what)
{
	uint64_t *idx = malloc(count * sizeof(*idx));
	char msg[128];
	bulk_args b;

	if (!idx)
		die("out of memory");
	b.idx = idx;
	b.n = pick_bulk(idx, count, n, seed, ts_node_id(node));
	b.seed = seed;
	b.what = what;
	snprintf(msg, sizeof(msg), "%s: %zu cases", what, b.n);
	if (ts_node_write(node, NULL, msg, bulk_update, &b) != 0)
		ts_die("ts_node_write (bulk update)");
	free(idx);
	return b.n;
}

size_t commit_bulk(ts_node *node, size_t count, uint64_t n, uint64_t seed, const char *what)
{
	char head[41];
	size_t changed = write_bulk(node, count, n, seed, what);
	if (ts_node_commit(head, node, what, NULL) < 0)
		ts_die("ts_node_commit (bulk update)");
	return changed;
}

/* The receiving side's own work: `count` case updates, one commit. */
void commit_few(ts_node *node, size_t count, uint64_t n, uint64_t seed)
{
	uint64_t idx[16];
	char desc[256], head[41];
	size_t k, got = pick_few(idx, count < 16 ? count : 16, n, seed, ts_node_id(node));

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
