/*
 * Convergence, randomised: a city (bj), two districts (bj.dc, bj.xc), four
 * streets (bj.dc.a, bj.dc.b, bj.xc.c, bj.xc.d) and a device under each
 * street (<street>.d1), every one a real node, make random offline edits and
 * sync in random partial patterns; once everyone has pushed and pulled
 * until quiet, every node must hold the same tree, every database must
 * equal it, and no committed edit may be lost (DESIGN.md, "Between nodes":
 * convergence; "Nothing is lost").
 *
 *     build/rel/unit -s converge                        seeds 1..10, 5 rounds
 *     TS_CONVERGE_SEEDS=200 build/rel/unit -s converge   seeds 1..200
 *     TS_CONVERGE_SEED=17 build/rel/unit -s converge     seed 17 only
 *     TS_CONVERGE_FIRST=100 TS_CONVERGE_SEEDS=50 ...      seeds 100..149
 *     TS_CONVERGE_ROUNDS=12 ...                          rounds of offline work
 *     TS_CONVERGE_VERBOSE=1 ...                          print the trace
 *     TS_CONVERGE_KEEP=DIR ...                           keep every seed's nodes
 *                                                        and trace in DIR/s<seed>
 *     tools/converge.sh 200                              many seeds, 2 at a time
 *
 * A seed is all a run depends on: the PRNG is the test's own (xorshift64*)
 * and the clock is TIERSYNC_NOW, advanced by the test. A failing seed's
 * nodes and trace (trace.txt) are kept in s<seed>/ under the test's
 * directory, and the run goes on with the next seed.
 *
 * Every node writes only what the ownership rules (sync_ownership) let it:
 * the cases whose jurisdiction it covers (a device acts for its street) and
 * their parties, and the conflicts recorded at a node of its jurisdiction.
 * At setup, each node is enrolled at its parent (its key in the parent's
 * sync_signers) before the parent merges anything from it.
 *
 * A round: every node, in a random order, makes 1-3 case updates (one or
 * two columns among description, officer, status, stage, lng, lat,
 * penalty_amount; mostly on the four cases the streets made at the start,
 * one each, so that edits of one row and column collide between a street,
 * its device, its district and the city), sometimes a new case, a parties
 * insert and a parties delete (SQL through ts_node_write), and commits
 * under a random author; the upper tiers sometimes resolve an open
 * conflict (ours or theirs). Then 4-15 random syncs: a child submits,
 * a parent merges its submissions, a child pulls. After the rounds: passes
 * of devices submit / streets merge, streets submit / districts merge,
 * districts submit / city merges, then districts, streets, devices pull,
 * until a pass moves no head (at most 6).
 *
 * Checks: one tree id on every node; ts_node_verify on every node;
 * sync_conflicts and cases the same everywhere, no duplicate ids; no lost
 * edit. The model of "not lost": every committed edit (case, column, value)
 * is logged, a case's creation counting as an edit of each column and a
 * resolution as an edit by the resolving node. The test tracks which edits
 * each node has seen (its own, what it merged from a submission or a pull).
 * An edit is superseded when a later edit of the same case and column was
 * made on a node that had seen it. A three-way merge cannot tell a value
 * from the same value written elsewhere (A sets X, then back to the base's
 * Y: A's side is unchanged), so only edits whose (case, column, value)
 * occurs once in the whole run are checked strictly: if not superseded,
 * the value must be the city's final one, or appear (row-blob encoded, as
 * ts_rowcodec__put_value writes it) as base, ours or theirs of a
 * sync_conflicts record of that case and column. Parties rows inserted and
 * never deleted must exist at the end, with their case; deleted ones must
 * not come back.
 *
 * Figures, not failures (printed per run): conflicts recorded between an
 * edit and a later one that had seen it, and final values that such a later
 * edit had overwritten. A merge against a wrong base makes them (as a
 * single merge base did after criss-cross merges, which the two scenarios
 * at the end of this file pin down); they also arise legitimately when one
 * side holds the provisional value of an open conflict, which acts as an
 * edit. And records about sync_conflicts rows themselves: one conflict id
 * met at two merges with different origins or bases.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "harness.h"
#include "nodes.h"
#include "buf.h"
#include "conflicts.h"
#include "history.h"
#include "node.h"
#include "rowcodec.h"

#define NNODES 11
#define MAX_EDITS 16384
#define KWORDS (MAX_EDITS / 64)
#define HOT_CASES 4       /* one per street */
#define FIRST_STREET 3    /* topo: the streets, then their devices */
#define DEFAULT_SEEDS 10   /* make test; make converge runs 200 */
#define DEFAULT_ROUNDS 5
#define MAX_QUIET_PASSES 6

static const struct {
	const char *id;
	ts_tier tier;
	int parent;
} topo[NNODES] = {
	{ "bj", TS_TIER_CITY, -1 },
	{ "bj.dc", TS_TIER_DISTRICT, 0 },
	{ "bj.xc", TS_TIER_DISTRICT, 0 },
	{ "bj.dc.a", TS_TIER_STREET, 1 },
	{ "bj.dc.b", TS_TIER_STREET, 1 },
	{ "bj.xc.c", TS_TIER_STREET, 2 },
	{ "bj.xc.d", TS_TIER_STREET, 2 },
	{ "bj.dc.a.d1", TS_TIER_DEVICE, 3 },
	{ "bj.dc.b.d1", TS_TIER_DEVICE, 4 },
	{ "bj.xc.c.d1", TS_TIER_DEVICE, 5 },
	{ "bj.xc.d.d1", TS_TIER_DEVICE, 6 },
};

enum { COL_DESCRIPTION, COL_OFFICER, COL_STATUS, COL_STAGE, COL_LNG, COL_LAT, COL_PENALTY, NCOLS };

static const struct {
	const char *name;
	int type;
} cols[NCOLS] = {
	{ "description", SQLITE_TEXT },
	{ "officer", SQLITE_TEXT },
	{ "status", SQLITE_TEXT },
	{ "stage", SQLITE_TEXT },
	{ "lng", SQLITE_FLOAT },
	{ "lat", SQLITE_FLOAT },
	{ "penalty_amount", SQLITE_INTEGER },
};

static const char *const authors[] = { "王伟", "赵强", "李娜", "张敏", "刘洋", "陈静", "杨磊", "黄磊" };
static const char *const officers[] = { "李娜", "张伟", "王芳", "刘洋", "陈静", "杨磊" };
static const char *const statuses[] = { "discovered", "dispatched", "handling", "feedback" };
static const char *const stages[] = { "educate", "warn", "penalize" };
static const char *const descriptions[] = { "占道经营", "已清理", "当事人不在场", "现场已整改" };
static const char *const categories[] = { "small_ads", "outdoor_bbq", "unlicensed_vending", "outside_store",
	"construction_dust", "signboard" };
static const char *const sources[] = { "patrol", "complaint", "video", "referral" };
static const char *const party_names[] = { "张三", "李四", "某某餐饮有限公司", "王五", "便民超市" };

typedef struct {
	int node;            /* where it was made */
	int kase;            /* index into cases */
	int col;
	char *value;         /* as given to the API; NULL for SQL NULL */
	char *enc;           /* its row-blob encoding */
	int round;
	int creation;        /* the value a new case started with */
	int superseded;
} edit;

typedef struct {
	char *id;
	int node;
} kase;

typedef struct {
	char *id;
	char *case_id;
	int node;
	int deleted;
} party;

typedef struct {
	unsigned long long seed;
	uint64_t rng;
	int rounds, round, verbose;
	char dir[4096];
	ts_node *n[NNODES];
	uint64_t known[NNODES][KWORDS];   /* edits each node has seen */
	uint64_t sub[NNODES][KWORDS];     /* what a node's pending submission holds */
	int submitted[NNODES];
	edit *edits;
	size_t nedits, capedits;
	kase *cases;
	size_t ncases, capcases;
	party *parties;
	size_t nparties, capparties;
	int64_t now;
	unsigned serial;                  /* numbers free-text values */
	ts_buf trace;
	ts_buf why;                       /* the failure */
	/* figures */
	size_t merges, conflicts, checked, syncs;
	size_t false_conflicts, stale_finals, queue_records;
	int passes;
	/* which edit overwrote which, knowing it: (older, newer) */
	size_t (*over)[2];
	size_t nover, capover;
	int *unique;                      /* per edit: its (case, column, value) occurs once */
} world;

/* ---- the PRNG: xorshift64*, seeded through splitmix64 ---- */

static uint64_t splitmix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static uint64_t rnd(world *w)
{
	w->rng ^= w->rng >> 12;
	w->rng ^= w->rng << 25;
	w->rng ^= w->rng >> 27;
	return w->rng * 0x2545f4914f6cdd1dULL;
}

static unsigned below(world *w, unsigned n)
{
	return n ? (unsigned)((rnd(w) >> 33) % n) : 0;
}

static int chance(world *w, unsigned percent)
{
	return below(w, 100) < percent;
}

#define PICK(w, arr) ((arr)[below((w), sizeof(arr) / sizeof((arr)[0]))])

/* ---- bookkeeping ---- */

static void trace(world *w, const char *fmt, ...)
#if defined(__GNUC__)
	__attribute__((format(printf, 2, 3)))
#endif
	;

static void trace(world *w, const char *fmt, ...)
{
	va_list ap;
	char line[1024];

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	ts_buf__printf(&w->trace, "%s\n", line);
	if (w->verbose)
		printf("    [%llu] %s\n", w->seed, line);
}

static int fail(world *w, const char *fmt, ...)
#if defined(__GNUC__)
	__attribute__((format(printf, 2, 3)))
#endif
	;

static int fail(world *w, const char *fmt, ...)
{
	va_list ap;
	char line[2048];

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	ts_buf__printf(&w->why, "%s%s", w->why.size ? "\n        " : "", line);
	trace(w, "FAIL: %s", line);
	return -1;
}

/* A product call that must succeed. */
#define CALL(w, expr, what) do { \
	int call_rc__ = (expr); \
	if (call_rc__ < 0) { \
		const char *call_msg__ = ts_error_last(); \
		return fail((w), "round %d: %s: %s returned %d: %s", (w)->round, (what), #expr, call_rc__, \
			call_msg__ ? call_msg__ : "(no message)"); \
	} \
} while (0)

static void tick(world *w)
{
	char v[32];
	w->now += 1 + (int64_t)below(w, 30);
	snprintf(v, sizeof(v), "%lld", (long long)w->now);
	setenv("TIERSYNC_NOW", v, 1);
}

static void bit_set(uint64_t *set, size_t i) { set[i / 64] |= 1ULL << (i % 64); }
static int bit_get(const uint64_t *set, size_t i) { return (set[i / 64] >> (i % 64)) & 1; }

static void bits_or(uint64_t *to, const uint64_t *from)
{
	size_t k;
	for (k = 0; k < KWORDS; k++)
		to[k] |= from[k];
}

static int encode_value(ts_buf *out, int col, const char *value)
{
	if (!value)
		return ts_rowcodec__put_value(out, SQLITE_NULL, 0, 0.0, NULL, 0);
	switch (cols[col].type) {
	case SQLITE_INTEGER:
		return ts_rowcodec__put_value(out, SQLITE_INTEGER, strtoll(value, NULL, 10), 0.0, NULL, 0);
	case SQLITE_FLOAT:
		return ts_rowcodec__put_value(out, SQLITE_FLOAT, 0, strtod(value, NULL), NULL, 0);
	default:
		return ts_rowcodec__put_value(out, SQLITE_TEXT, 0, 0.0, value, strlen(value));
	}
}

static int find_case(world *w, const char *id)
{
	size_t i;
	for (i = 0; i < w->ncases; i++)
		if (!strcmp(w->cases[i].id, id))
			return (int)i;
	return -1;
}

static int add_case(world *w, const char *id, int node)
{
	if (w->ncases == w->capcases) {
		size_t cap = w->capcases ? w->capcases * 2 : 32;
		kase *grown = realloc(w->cases, cap * sizeof(*grown));
		if (!grown)
			return fail(w, "out of memory");
		w->cases = grown;
		w->capcases = cap;
	}
	w->cases[w->ncases].id = strdup(id);
	w->cases[w->ncases].node = node;
	return (int)w->ncases++;
}

/* Logs an edit made (staged) at `node`: whatever it had seen of that case
 * and column is superseded by it. */
static int log_edit(world *w, int node, int k, int col, const char *value, int creation)
{
	ts_buf enc = TS_BUF_INIT;
	edit *e;
	size_t i;

	if (w->nedits == MAX_EDITS)
		return fail(w, "more than %d edits: raise MAX_EDITS", MAX_EDITS);
	if (w->nedits == w->capedits) {
		size_t cap = w->capedits ? w->capedits * 2 : 256;
		edit *grown = realloc(w->edits, cap * sizeof(*grown));
		if (!grown)
			return fail(w, "out of memory");
		w->edits = grown;
		w->capedits = cap;
	}
	for (i = 0; i < w->nedits; i++)
		if (w->edits[i].kase == k && w->edits[i].col == col && bit_get(w->known[node], i)) {
			w->edits[i].superseded = 1;
			if (w->nover == w->capover) {
				size_t cap = w->capover ? w->capover * 2 : 256;
				size_t (*grown)[2] = realloc(w->over, cap * sizeof(*grown));
				if (!grown)
					return fail(w, "out of memory");
				w->over = grown;
				w->capover = cap;
			}
			w->over[w->nover][0] = i;
			w->over[w->nover][1] = w->nedits;
			w->nover++;
		}
	if (encode_value(&enc, col, value) < 0) {
		ts_buf__dispose(&enc);
		return fail(w, "cannot encode %s", value);
	}
	e = &w->edits[w->nedits];
	memset(e, 0, sizeof(*e));
	e->node = node;
	e->kase = k;
	e->col = col;
	e->value = value ? strdup(value) : NULL;
	e->enc = ts_buf__detach(&enc);
	e->round = w->round;
	e->creation = creation;
	bit_set(w->known[node], w->nedits);
	w->nedits++;
	return 0;
}

static int add_party(world *w, const char *id, const char *case_id, int node)
{
	if (w->nparties == w->capparties) {
		size_t cap = w->capparties ? w->capparties * 2 : 32;
		party *grown = realloc(w->parties, cap * sizeof(*grown));
		if (!grown)
			return fail(w, "out of memory");
		w->parties = grown;
		w->capparties = cap;
	}
	w->parties[w->nparties].id = strdup(id);
	w->parties[w->nparties].case_id = strdup(case_id);
	w->parties[w->nparties].node = node;
	w->parties[w->nparties].deleted = 0;
	w->nparties++;
	return 0;
}

/* Every row of `sql` (one text column) at a node, as a NULL-terminated list. */
static char **column_list(ts_node *node, const char *sql, size_t *count)
{
	sqlite3_stmt *st = NULL;
	char **list = NULL;
	size_t n = 0;

	*count = 0;
	if (sqlite3_prepare_v2(node->db, sql, -1, &st, NULL) != SQLITE_OK)
		return NULL;
	while (sqlite3_step(st) == SQLITE_ROW) {
		char **grown = realloc(list, (n + 2) * sizeof(*grown));
		if (!grown)
			break;
		list = grown;
		list[n++] = strdup((const char *)sqlite3_column_text(st, 0));
		list[n] = NULL;
	}
	sqlite3_finalize(st);
	*count = n;
	return list;
}

static void list_free(char **list)
{
	size_t i;
	for (i = 0; list && list[i]; i++)
		free(list[i]);
	free(list);
}

/* ---- edits at a node ---- */

static void random_value(world *w, char *buf, size_t size, const char **out, int node, int col)
{
	*out = buf;
	switch (col) {
	case COL_DESCRIPTION:
		if (chance(w, 10))
			*out = NULL;
		else if (chance(w, 30))
			snprintf(buf, size, "%s", PICK(w, descriptions));
		else
			snprintf(buf, size, "现场: %s 第%u次记录 %08x", topo[node].id, ++w->serial, (unsigned)below(w, 1u << 31));
		break;
	case COL_OFFICER:
		if (chance(w, 5))
			*out = NULL;
		else if (chance(w, 50))
			snprintf(buf, size, "%s", PICK(w, officers));
		else
			snprintf(buf, size, "%s%u", PICK(w, officers), below(w, 100000));
		break;
	case COL_STATUS:
		snprintf(buf, size, "%s", PICK(w, statuses));
		break;
	case COL_STAGE:
		if (chance(w, 20))
			*out = NULL;
		else
			snprintf(buf, size, "%s", PICK(w, stages));
		break;
	case COL_LNG:
		if (chance(w, 5))
			*out = NULL;
		else
			snprintf(buf, size, "116.%04u", below(w, 10000));
		break;
	case COL_LAT:
		if (chance(w, 5))
			*out = NULL;
		else
			snprintf(buf, size, "39.%04u", below(w, 10000));
		break;
	default:
		if (chance(w, 5))
			*out = NULL;
		else if (chance(w, 20))
			snprintf(buf, size, "%u", 5000u * below(w, 4));
		else
			snprintf(buf, size, "%u", below(w, 1000000));
		break;
	}
}

static int edit_new_case(world *w, int node)
{
	char desc[256], addr[128];
	const char *dv = NULL;
	ts_field extra = { "description", NULL };
	char *id = NULL;
	int k, c;

	snprintf(addr, sizeof(addr), "%s 街 %u号", topo[node].id, below(w, 200) + 1);
	if (chance(w, 50)) {
		random_value(w, desc, sizeof(desc), &dv, node, COL_DESCRIPTION);
		extra.value = dv;
	}
	tick(w);
	CALL(w, ts_case_new(&id, w->n[node], PICK(w, authors), PICK(w, categories), PICK(w, sources), addr,
		dv ? &extra : NULL, dv ? 1 : 0), "new case");
	k = add_case(w, id, node);
	trace(w, "  %s: new case %s%s%s", topo[node].id, id, dv ? " description=" : "", dv ? dv : "");
	free(id);
	if (k < 0)
		return k;
	for (c = 0; c < NCOLS; c++)
		if (log_edit(w, node, k, c, c == COL_STATUS ? "discovered" : c == COL_DESCRIPTION ? dv : NULL, 1) < 0)
			return -1;
	return 0;
}

/* Whether the rules let `node` write case `k` (sync_ownership: a case is
 * written by the nodes whose jurisdiction holds it, a device acting for its
 * street). */
static int may_write_case(world *w, int node, const char *jurisdiction)
{
	return jurisdiction && ts_jurisdiction_covers(w->n[node]->scope, jurisdiction);
}

/* The ids of the cases `node` holds and may write, as a NULL-terminated list. */
static char **writable_cases(world *w, int node, size_t *count)
{
	size_t n = 0, i, kept = 0;
	char **rows = column_list(w->n[node], "SELECT id || ' ' || coalesce(jurisdiction, '') FROM cases ORDER BY id", &n);

	for (i = 0; i < n; i++) {
		char *sp = strchr(rows[i], ' ');
		if (sp && (*sp = '\0', may_write_case(w, node, sp + 1)))
			rows[kept++] = rows[i];
		else
			free(rows[i]);
	}
	if (rows)
		rows[kept] = NULL;
	*count = kept;
	return rows;
}

/* A case for an update: one this node may write, mostly one of the few hot
 * cases (one per street), so that edits of one row and column collide
 * between a street, its device, its district and the city. */
static int pick_case(world *w, int node, char **out)
{
	size_t n = 0, i;
	char **known = writable_cases(w, node, &n);
	int k = -1, hot[HOT_CASES], nhot = 0, h;

	*out = NULL;
	if (!n) {
		list_free(known);
		return fail(w, "%s knows no case it may write", topo[node].id);
	}
	for (h = 0; h < HOT_CASES; h++)
		for (i = 0; i < n; i++)
			if (!strcmp(known[i], w->cases[h].id))
				hot[nhot++] = h;
	if (nhot && chance(w, 75))
		k = hot[below(w, (unsigned)nhot)];
	if (k < 0)
		k = find_case(w, known[below(w, (unsigned)n)]);
	list_free(known);
	if (k < 0)
		return fail(w, "%s has a case the test did not create", topo[node].id);
	*out = w->cases[k].id;
	return k;
}

static int edit_update(world *w, int node)
{
	char v1[256], v2[256];
	ts_field f[2];
	const char *author = PICK(w, authors);
	char *id;
	int k, c1, c2 = -1, n = 1, rc;

	if ((k = pick_case(w, node, &id)) < 0)
		return -1;
	c1 = (int)below(w, NCOLS);
	f[0].column = cols[c1].name;
	random_value(w, v1, sizeof(v1), &f[0].value, node, c1);
	if (chance(w, 25)) {
		c2 = (int)below(w, NCOLS - 1);
		if (c2 >= c1)
			c2++;
		f[1].column = cols[c2].name;
		random_value(w, v2, sizeof(v2), &f[1].value, node, c2);
		n = 2;
	}
	tick(w);
	rc = ts_case_update(w->n[node], author, id, f, (size_t)n);
	trace(w, "  %s: update %s %s=%s%s%s%s%s", topo[node].id, id, f[0].column, f[0].value ? f[0].value : "NULL",
		n > 1 ? " " : "", n > 1 ? f[1].column : "", n > 1 ? "=" : "", n > 1 ? (f[1].value ? f[1].value : "NULL") : "");
	CALL(w, rc, "case update");
	if (log_edit(w, node, k, c1, f[0].value, 0) < 0)
		return -1;
	if (n > 1 && log_edit(w, node, k, c2, f[1].value, 0) < 0)
		return -1;
	return 0;
}

typedef struct {
	ts_node *node;
	const char *case_id, *kind, *name, *phone, *del;
	char *id;
} party_op;

static int do_party_insert(sqlite3 *db, void *payload)
{
	party_op *op = payload;
	sqlite3_stmt *st = NULL;
	int error;

	if ((error = ts_node_mint_id(&op->id, op->node, "p")) < 0)
		return error;
	if (sqlite3_prepare_v2(db, "INSERT INTO parties (id, case_id, kind, name, phone) VALUES (?1, ?2, ?3, ?4, ?5)",
			-1, &st, NULL) != SQLITE_OK)
		return ts_error_set(TS_ERROR, "%s", sqlite3_errmsg(db));
	sqlite3_bind_text(st, 1, op->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, op->case_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, op->kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, op->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, op->phone, -1, SQLITE_STATIC);
	error = sqlite3_step(st) == SQLITE_DONE ? 0 : ts_error_set(TS_ERROR, "%s", sqlite3_errmsg(db));
	sqlite3_finalize(st);
	return error;
}

static int do_party_delete(sqlite3 *db, void *payload)
{
	party_op *op = payload;
	sqlite3_stmt *st = NULL;
	int error;

	if (sqlite3_prepare_v2(db, "DELETE FROM parties WHERE id = ?1", -1, &st, NULL) != SQLITE_OK)
		return ts_error_set(TS_ERROR, "%s", sqlite3_errmsg(db));
	sqlite3_bind_text(st, 1, op->del, -1, SQLITE_STATIC);
	error = sqlite3_step(st) == SQLITE_DONE && sqlite3_changes(db) == 1 ? 0 :
		ts_error_set(TS_ERROR, "deleting %s: %s", op->del, sqlite3_errmsg(db));
	sqlite3_finalize(st);
	return error;
}

static int edit_party_insert(world *w, int node)
{
	party_op op;
	char phone[32];
	char *case_id;
	int rc;

	memset(&op, 0, sizeof(op));
	if (pick_case(w, node, &case_id) < 0)
		return -1;
	snprintf(phone, sizeof(phone), "139%08u", below(w, 100000000));
	op.node = w->n[node];
	op.case_id = case_id;
	op.kind = chance(w, 60) ? "person" : "business";
	op.name = PICK(w, party_names);
	op.phone = phone;
	tick(w);
	rc = ts_node_write(w->n[node], PICK(w, authors), "add a party", do_party_insert, &op);
	trace(w, "  %s: party insert %s on %s", topo[node].id, op.id ? op.id : "?", case_id);
	if (rc == 0)
		rc = add_party(w, op.id, case_id, node);
	free(op.id);
	CALL(w, rc, "party insert");
	return 0;
}

static int edit_party_delete(world *w, int node)
{
	party_op op;
	size_t n = 0, i;
	char **ids = column_list(w->n[node], "SELECT p.id || ' ' || coalesce(c.jurisdiction, '') FROM parties p "
		"JOIN cases c ON c.id = p.case_id ORDER BY p.id", &n);
	size_t kept = 0;
	int rc;

	/* the parties of the cases this node may write */
	for (i = 0; i < n; i++) {
		char *sp = strchr(ids[i], ' ');
		if (sp && (*sp = '\0', may_write_case(w, node, sp + 1)))
			ids[kept++] = ids[i];
		else
			free(ids[i]);
	}
	if (ids)
		ids[kept] = NULL;
	n = kept;
	if (!n) {
		list_free(ids);
		return 0;
	}
	memset(&op, 0, sizeof(op));
	op.node = w->n[node];
	op.del = ids[below(w, (unsigned)n)];
	tick(w);
	rc = ts_node_write(w->n[node], PICK(w, authors), "remove a party", do_party_delete, &op);
	trace(w, "  %s: party delete %s", topo[node].id, op.del);
	for (i = 0; rc == 0 && i < w->nparties; i++)
		if (!strcmp(w->parties[i].id, op.del))
			w->parties[i].deleted = 1;
	list_free(ids);
	CALL(w, rc, "party delete");
	return 0;
}

static int column_index(const char *name)
{
	int c;
	for (c = 0; c < NCOLS; c++)
		if (!strcmp(cols[c].name, name))
			return c;
	return -1;
}

/* An admin settles an open conflict of the review queue: an edit of that
 * case and column by this node, which has seen both sides. */
static int edit_resolve(world *w, int node)
{
	ts_node *n = w->n[node];
	sqlite3_stmt *st = NULL;
	size_t count = 0;
	char **ids = column_list(n, "SELECT q.id || ' ' || coalesce(q.ours_node, '') || ' ' || "
		"coalesce(c.jurisdiction, '') FROM sync_conflicts q JOIN cases c ON c.id = q.row_key "
		"WHERE q.status = 'open' AND q.kind = 'column' AND "
		"q.table_name = 'cases' AND q.column_name IN ('description', 'officer', 'status', 'stage', 'lng', 'lat', "
		"'penalty_amount') ORDER BY q.id", &count);
	const char *take = chance(w, 50) ? "ours" : "theirs", *author = PICK(w, authors);
	char *id, *case_id = NULL, *value = NULL, commit[41];
	int k = -1, col = -1, rc, had_value = 0;

	size_t i, kept = 0;

	/* the conflicts this node may settle: recorded at a node of its
	 * jurisdiction (a conflict is its merging node's), on a case it may write */
	for (i = 0; i < count; i++) {
		char *ours = strchr(ids[i], ' '), *j = ours ? strchr(ours + 1, ' ') : NULL;
		if (j && (*ours = *j = '\0', ts_jurisdiction_covers(topo[node].id, ours + 1)) &&
		    may_write_case(w, node, j + 1))
			ids[kept++] = ids[i];
		else
			free(ids[i]);
	}
	if (ids)
		ids[kept] = NULL;
	count = kept;
	if (!count) {
		list_free(ids);
		return 0;
	}
	id = ids[below(w, (unsigned)count)];
	if (sqlite3_prepare_v2(n->db, "SELECT row_key, column_name FROM sync_conflicts WHERE id = ?1", -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW) {
			case_id = strdup((const char *)sqlite3_column_text(st, 0));
			col = column_index((const char *)sqlite3_column_text(st, 1));
		}
	}
	sqlite3_finalize(st);
	st = NULL;
	if (case_id)
		k = find_case(w, case_id);
	tick(w);
	rc = k < 0 || col < 0 ? TS_ERROR : ts_node_resolve(commit, n, id, take, NULL, author);
	trace(w, "  %s: resolve %s (%s.%s) taking %s", topo[node].id, id, case_id ? case_id : "?",
		col >= 0 ? cols[col].name : "?", take);
	if (rc == 0) {
		ts_buf sql = TS_BUF_INIT;
		ts_buf__printf(&sql, "SELECT \"%s\" FROM cases WHERE id = ?1", cols[col].name);
		if (sqlite3_prepare_v2(n->db, sql.ptr, -1, &st, NULL) == SQLITE_OK) {
			sqlite3_bind_text(st, 1, case_id, -1, SQLITE_STATIC);
			if (sqlite3_step(st) == SQLITE_ROW) {
				had_value = 1;
				if (sqlite3_column_type(st, 0) != SQLITE_NULL)
					value = strdup((const char *)sqlite3_column_text(st, 0));
			}
		}
		sqlite3_finalize(st);
		ts_buf__dispose(&sql);
	}
	list_free(ids);
	if (rc == 0 && had_value)
		rc = log_edit(w, node, k, col, value, 0);
	else if (rc == 0)
		rc = fail(w, "round %d: the case %s of a resolved conflict is gone", w->round, case_id);
	free(value);
	free(case_id);
	CALL(w, rc, "resolve");
	return 0;
}

static int node_edits(world *w, int node)
{
	char commit[41];
	unsigned ops = 1 + below(w, 3), i;
	const char *author;

	for (i = 0; i < ops; i++)
		if (edit_update(w, node) < 0)
			return -1;
	if (topo[node].tier != TS_TIER_CITY && chance(w, 20) && edit_new_case(w, node) < 0)
		return -1;
	if (chance(w, 25) && edit_party_insert(w, node) < 0)
		return -1;
	if (chance(w, 15) && edit_party_delete(w, node) < 0)
		return -1;
	author = chance(w, 50) ? NULL : PICK(w, authors);
	tick(w);
	CALL(w, ts_node_commit(commit, w->n[node], "offline work", author), "commit");
	trace(w, "  %s: commit %.10s by %s", topo[node].id, commit, author ? author : "(staged authors)");
	/* the upper tiers review conflicts now and then */
	if (topo[node].tier != TS_TIER_DEVICE && chance(w, 20) && edit_resolve(w, node) < 0)
		return -1;
	return 0;
}

/* ---- moving history between nodes ---- */

static int do_submit(world *w, int child)
{
	int parent = topo[child].parent;
	char ref[128];

	snprintf(ref, sizeof(ref), "refs/submissions/%s", topo[child].id);
	tick(w);
	CALL(w, ts_test_transfer(w->n[child], w->n[parent], ref), "submit");
	memcpy(w->sub[child], w->known[child], sizeof(w->sub[child]));
	w->submitted[child] = 1;
	w->syncs++;
	trace(w, "  %s -> %s: submit", topo[child].id, topo[parent].id);
	return 0;
}

typedef struct {
	world *w;
	int failed;
} merge_watch;

static int on_submission(const ts_submission_result *r, void *payload)
{
	merge_watch *m = payload;
	if (r->error < 0) {
		fail(m->w, "round %d: merging the submission of %s failed: %d %s", m->w->round, r->node, r->error,
			r->message ? r->message : "");
		m->failed = 1;
		return 0;
	}
	m->w->conflicts += r->stats.conflicts + r->stats.constraint_conflicts;
	if (r->stats.result == TS_MERGE_MERGED)
		m->w->merges++;
	trace(m->w, "    merged %s: %s, %zu conflicts, %zu constraint", r->node,
		r->stats.result == TS_MERGE_MERGED ? "merge" :
		r->stats.result == TS_MERGE_FAST_FORWARD ? "fast-forward" : "up to date",
		r->stats.conflicts, r->stats.constraint_conflicts);
	return 0;
}

static int do_merge(world *w, int parent)
{
	merge_watch m = { w, 0 };
	int c, rc;

	tick(w);
	trace(w, "  %s: merge submissions", topo[parent].id);
	rc = ts_node_merge_submissions(w->n[parent], PICK(w, authors), on_submission, &m);
	if (m.failed)
		return -1;
	CALL(w, rc, "merge submissions");
	for (c = 0; c < NNODES; c++)
		if (topo[c].parent == parent && w->submitted[c])
			bits_or(w->known[parent], w->sub[c]);
	return 0;
}

static int do_pull(world *w, int child)
{
	int parent = topo[child].parent;
	ts_node_merge_stats stats;
	char id[41];

	tick(w);
	CALL(w, ts_test_transfer(w->n[parent], w->n[child], "refs/remotes/upstream/main"), "pull: fetch");
	CALL(w, ts_node_merge(id, &stats, w->n[child], "refs/remotes/upstream/main", PICK(w, authors),
		"pull from the upper node\n"), "pull: merge");
	bits_or(w->known[child], w->known[parent]);
	w->conflicts += stats.conflicts + stats.constraint_conflicts;
	if (stats.result == TS_MERGE_MERGED)
		w->merges++;
	w->syncs++;
	trace(w, "  %s <- %s: pull, %s, %zu conflicts, %zu constraint", topo[child].id, topo[parent].id,
		stats.result == TS_MERGE_MERGED ? "merge" :
		stats.result == TS_MERGE_FAST_FORWARD ? "fast-forward" : "up to date",
		stats.conflicts, stats.constraint_conflicts);
	return 0;
}

/* A few random syncs: submits, merges and pulls in any order. */
static int random_syncs(world *w)
{
	unsigned n = 4 + below(w, 12), i;

	for (i = 0; i < n; i++) {
		unsigned what = below(w, 3);
		int rc;
		if (what == 0)
			rc = do_submit(w, 1 + (int)below(w, NNODES - 1));
		else if (what == 1)
			rc = do_merge(w, (int)below(w, 7));   /* the city, districts and streets */
		else
			rc = do_pull(w, 1 + (int)below(w, NNODES - 1));
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int heads(world *w, char out[NNODES][41])
{
	int i;
	for (i = 0; i < NNODES; i++)
		CALL(w, ts_node_head(out[i], w->n[i]), "head");
	return 0;
}

/* Bottom-up then top-down, until a full pass moves no head. */
static int sync_until_quiet(world *w)
{
	char before[NNODES][41], after[NNODES][41];
	int pass, i;

	for (pass = 1; pass <= MAX_QUIET_PASSES; pass++) {
		trace(w, "quiet pass %d", pass);
		if (heads(w, before) < 0)
			return -1;
		/* devices to streets, streets to districts, districts to the city:
		 * the node ids are in tier order, so from the end backwards */
		for (i = NNODES - 1; i >= 1; i--)
			if (do_submit(w, i) < 0 || do_merge(w, topo[i].parent) < 0)
				return -1;
		/* and down again, the city's districts first */
		for (i = 1; i < NNODES; i++)
			if (do_pull(w, i) < 0)
				return -1;
		if (heads(w, after) < 0)
			return -1;
		if (!memcmp(before, after, sizeof(before))) {
			w->passes = pass;
			return 0;
		}
	}
	return fail(w, "not quiet after %d passes of pushing and pulling", MAX_QUIET_PASSES);
}

/* ---- the checks ---- */

static int tree_of(git_oid *out, ts_node *node)
{
	git_oid head;
	int error = ts_history__head(&head, node->db);
	return error < 0 ? error : ts_store__commit_tree(out, node->store, &head);
}

typedef struct {
	world *w;
	int node, n;
} verify_watch;

static int on_problem(const ts_verify_problem *p, void *payload)
{
	verify_watch *v = payload;
	if (v->n++ < 5)
		fail(v->w, "verify %s: %s %s%s%s: %s (expected %s, actual %s)", topo[v->node].id, p->table, p->key,
			p->column ? "." : "", p->column ? p->column : "", p->problem,
			p->expected ? p->expected : "NULL", p->actual ? p->actual : "NULL");
	return 0;
}

/* A digest of a query's whole result, to compare nodes. */
static int digest(ts_buf *out, ts_node *node, const char *sql)
{
	sqlite3_stmt *st = NULL;
	int c, rc;

	ts_buf__clear(out);
	if (sqlite3_prepare_v2(node->db, sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		for (c = 0; c < sqlite3_column_count(st); c++) {
			ts_rowcodec__put_sqlite_value(out, sqlite3_column_value(st, c));
			ts_buf__putc(out, c + 1 < sqlite3_column_count(st) ? '\t' : '\n');
		}
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

static int count_of(ts_node *node, const char *sql)
{
	sqlite3_stmt *st = NULL;
	int n = -1;
	if (sqlite3_prepare_v2(node->db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return n;
}

static int check_converged(world *w)
{
	git_oid trees[NNODES];
	ts_buf a = TS_BUF_INIT, b = TS_BUF_INIT;
	char hex[GIT_OID_HEXSZ + 1], hex0[GIT_OID_HEXSZ + 1];
	int i, bad = 0;

	for (i = 0; i < NNODES; i++)
		CALL(w, tree_of(&trees[i], w->n[i]), "tree of the head");
	git_oid_tostr(hex0, sizeof(hex0), &trees[0]);
	for (i = 1; i < NNODES; i++)
		if (!git_oid_equal(&trees[i], &trees[0])) {
			git_oid_tostr(hex, sizeof(hex), &trees[i]);
			bad = fail(w, "%s's tree %.12s differs from the city's %.12s", topo[i].id, hex, hex0);
		}
	for (i = 0; i < NNODES; i++) {
		verify_watch v = { w, i, 0 };
		int rc = ts_node_verify(w->n[i], on_problem, &v);
		if (rc < 0)
			bad = fail(w, "%s: verify returned %d (%d problems): %s", topo[i].id, rc, v.n,
				ts_error_last() ? ts_error_last() : "");
	}
	/* sync_conflicts: no duplicate ids, the same rows everywhere */
	for (i = 0; i < NNODES; i++) {
		int dup = count_of(w->n[i], "SELECT count(*) - count(DISTINCT id) FROM sync_conflicts");
		if (dup != 0)
			bad = fail(w, "%s: %d duplicate ids in sync_conflicts", topo[i].id, dup);
	}
	if (digest(&a, w->n[0], "SELECT * FROM sync_conflicts ORDER BY id") < 0)
		bad = fail(w, "reading sync_conflicts at the city");
	for (i = 1; i < NNODES && !bad; i++) {
		if (digest(&b, w->n[i], "SELECT * FROM sync_conflicts ORDER BY id") < 0 || a.size != b.size ||
		    (a.size && memcmp(a.ptr, b.ptr, a.size)))
			bad = fail(w, "%s: sync_conflicts differs from the city's", topo[i].id);
	}
	/* the data itself, compared directly too */
	if (!bad && digest(&a, w->n[0], "SELECT * FROM cases ORDER BY id") == 0)
		for (i = 1; i < NNODES; i++)
			if (digest(&b, w->n[i], "SELECT * FROM cases ORDER BY id") < 0 || a.size != b.size ||
			    (a.size && memcmp(a.ptr, b.ptr, a.size)))
				bad = fail(w, "%s: cases differ from the city's", topo[i].id);
	ts_buf__dispose(&a);
	ts_buf__dispose(&b);
	return bad;
}

static int compute_unique(world *w)
{
	size_t i, j;

	if (!(w->unique = calloc(w->nedits + 1, sizeof(*w->unique))))
		return fail(w, "out of memory");
	for (i = 0; i < w->nedits; i++) {
		w->unique[i] = 1;
		for (j = 0; j < w->nedits && w->unique[i]; j++)
			if (j != i && w->edits[j].kase == w->edits[i].kase && w->edits[j].col == w->edits[i].col &&
			    !strcmp(w->edits[j].enc, w->edits[i].enc))
				w->unique[i] = 0;
	}
	return 0;
}

/* The city's value of a case's column, encoded, into `out`. */
static void final_value(ts_buf *out, world *w, int k, int col)
{
	sqlite3_stmt *st = NULL;
	ts_buf sql = TS_BUF_INIT;

	ts_buf__clear(out);
	ts_buf__printf(&sql, "SELECT \"%s\" FROM cases WHERE id = ?1", cols[col].name);
	if (sqlite3_prepare_v2(w->n[0]->db, sql.ptr, -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, w->cases[k].id, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW)
			ts_rowcodec__put_sqlite_value(out, sqlite3_column_value(st, 0));
		else
			ts_buf__puts(out, "(no row)");
	}
	sqlite3_finalize(st);
	ts_buf__dispose(&sql);
}

/*
 * Not failures, figures: conflicts recorded between a value and an edit
 * that overwrote it knowingly (a three-way merge against the right base
 * sees only one side changed there), and final values that such an edit
 * had overwritten.
 */
static void observe(world *w)
{
	sqlite3_stmt *st = NULL;
	ts_buf final = TS_BUF_INIT;
	size_t i;

	if (sqlite3_prepare_v2(w->n[0]->db, "SELECT count(*) FROM sync_conflicts WHERE table_name = 'cases' AND "
			"row_key = ?1 AND column_name = ?2 AND ((ours = ?3 AND theirs = ?4) OR (ours = ?4 AND theirs = ?3))",
			-1, &st, NULL) != SQLITE_OK)
		return;
	for (i = 0; i < w->nover; i++) {
		const edit *older = &w->edits[w->over[i][0]], *newer = &w->edits[w->over[i][1]];
		if (!w->unique[w->over[i][0]] || !w->unique[w->over[i][1]])
			continue;
		sqlite3_reset(st);
		sqlite3_bind_text(st, 1, w->cases[older->kase].id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, cols[older->col].name, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, older->enc, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, newer->enc, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) > 0) {
			w->false_conflicts++;
			trace(w, "false conflict: %s.%s %s (by %s, round %d) against %s (by %s, round %d), which knew it",
				w->cases[older->kase].id, cols[older->col].name, older->enc, topo[older->node].id,
				older->round, newer->enc, topo[newer->node].id, newer->round);
		}
	}
	sqlite3_finalize(st);
	/* records about records: one conflict id met with different origins or bases */
	w->queue_records = (size_t)count_of(w->n[0], "SELECT count(*) FROM sync_conflicts WHERE table_name = 'sync_conflicts'");
	for (i = 0; i < w->nedits; i++) {
		const edit *e = &w->edits[i];
		if (!e->superseded || !w->unique[i])
			continue;
		final_value(&final, w, e->kase, e->col);
		if (!strcmp(ts_buf__cstr(&final), e->enc)) {
			w->stale_finals++;
			trace(w, "stale final value: %s.%s = %s (by %s, round %d) was overwritten knowingly",
				w->cases[e->kase].id, cols[e->col].name, e->enc, topo[e->node].id, e->round);
		}
	}
	ts_buf__dispose(&final);
}

static int check_not_lost(world *w)
{
	sqlite3 *db = w->n[0]->db;
	sqlite3_stmt *rec = NULL, *party_st = NULL;
	ts_buf final = TS_BUF_INIT;
	size_t i;
	int bad = 0, lost = 0;

	if (sqlite3_prepare_v2(db, "SELECT count(*) FROM sync_conflicts WHERE table_name = 'cases' AND "
			"row_key = ?1 AND column_name = ?2 AND (ours = ?3 OR theirs = ?3 OR base = ?3)", -1, &rec, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "SELECT case_id FROM parties WHERE id = ?1", -1, &party_st, NULL) != SQLITE_OK) {
		bad = fail(w, "preparing the checks: %s", sqlite3_errmsg(db));
		goto done;
	}
	for (i = 0; i < w->nedits; i++) {
		edit *e = &w->edits[i];
		int found = 0;

		if (e->superseded || !w->unique[i])
			continue;
		w->checked++;
		final_value(&final, w, e->kase, e->col);
		if (!strcmp(ts_buf__cstr(&final), e->enc))
			continue;
		sqlite3_reset(rec);
		sqlite3_bind_text(rec, 1, w->cases[e->kase].id, -1, SQLITE_STATIC);
		sqlite3_bind_text(rec, 2, cols[e->col].name, -1, SQLITE_STATIC);
		sqlite3_bind_text(rec, 3, e->enc, -1, SQLITE_STATIC);
		if (sqlite3_step(rec) == SQLITE_ROW)
			found = sqlite3_column_int(rec, 0);
		if (found)
			continue;
		if (lost++ < 8)
			fail(w, "lost edit #%zu: %s set %s.%s = %s in round %d%s; the city has %s and no conflict "
				"record keeps it", i, topo[e->node].id, w->cases[e->kase].id, cols[e->col].name, e->enc,
				e->round, e->creation ? " (at creation)" : "", ts_buf__cstr(&final));
		bad = -1;
	}
	if (lost > 8)
		fail(w, "... %d lost edits in all", lost);
	for (i = 0; i < w->nparties; i++) {
		party *p = &w->parties[i];
		int exists;

		sqlite3_reset(party_st);
		sqlite3_bind_text(party_st, 1, p->id, -1, SQLITE_STATIC);
		exists = sqlite3_step(party_st) == SQLITE_ROW;
		if (!p->deleted && !exists)
			bad = fail(w, "lost party %s (inserted at %s, never deleted)", p->id, topo[p->node].id);
		else if (p->deleted && exists)
			bad = fail(w, "party %s was deleted but is back at the city", p->id);
		else if (exists && strcmp((const char *)sqlite3_column_text(party_st, 0), p->case_id))
			bad = fail(w, "party %s names case %s, not %s", p->id, sqlite3_column_text(party_st, 0), p->case_id);
	}
done:
	sqlite3_finalize(rec);
	sqlite3_finalize(party_st);
	ts_buf__dispose(&final);
	return bad;
}

/* ---- one seed ---- */

static int setup(world *w)
{
	char commit[41], path[4200];
	int i, k;

	for (i = 0; i < NNODES; i++) {
		ts_init_options o = { TS_INIT_OPTIONS_VERSION, topo[i].tier, topo[i].id, NULL, PICK(w, authors), NULL };
		snprintf(path, sizeof(path), "%s/%s", w->dir, topo[i].id);
		tick(w);
		CALL(w, ts_node_init(&w->n[i], path, &o), "init");
	}
	/* each node enrolled at its parent, once, before anything moves */
	for (i = 1; i < NNODES; i++) {
		tick(w);
		CALL(w, ts_test_enroll(w->n[topo[i].parent], w->n[i]), "enroll");
	}
	/* the hot cases, one per street, known everywhere before the offline
	 * rounds: each is written by its street, the street's device, its
	 * district and the city */
	for (k = 0; k < HOT_CASES; k++) {
		int street = FIRST_STREET + k;
		if (edit_new_case(w, street) < 0)
			return -1;
		tick(w);
		CALL(w, ts_node_commit(commit, w->n[street], "a case everyone of its street works on", NULL), "commit");
		if (do_submit(w, street) < 0)
			return -1;
	}
	for (i = 1; i < FIRST_STREET; i++)
		if (do_merge(w, i) < 0 || do_submit(w, i) < 0)
			return -1;
	if (do_merge(w, 0) < 0)
		return -1;
	for (i = 1; i < NNODES; i++)
		if (do_pull(w, i) < 0)
			return -1;
	return 0;
}

static void world_free(world *w)
{
	size_t i;
	int n;

	for (n = 0; n < NNODES; n++)
		ts_node_free(w->n[n]);
	for (i = 0; i < w->nedits; i++) {
		free(w->edits[i].value);
		free(w->edits[i].enc);
	}
	free(w->edits);
	for (i = 0; i < w->ncases; i++)
		free(w->cases[i].id);
	free(w->cases);
	for (i = 0; i < w->nparties; i++) {
		free(w->parties[i].id);
		free(w->parties[i].case_id);
	}
	free(w->parties);
	free(w->over);
	free(w->unique);
	ts_buf__dispose(&w->trace);
	ts_buf__dispose(&w->why);
}

static int run_rounds(world *w)
{
	int order[NNODES], i, j;

	if (setup(w) < 0)
		return -1;
	for (w->round = 1; w->round <= w->rounds; w->round++) {
		trace(w, "round %d", w->round);
		/* every node's offline work, in a random order */
		for (i = 0; i < NNODES; i++)
			order[i] = i;
		for (i = NNODES - 1; i > 0; i--) {
			int t;
			j = (int)below(w, (unsigned)i + 1);
			t = order[i];
			order[i] = order[j];
			order[j] = t;
		}
		for (i = 0; i < NNODES; i++)
			if (node_edits(w, order[i]) < 0)
				return -1;
		if (random_syncs(w) < 0)
			return -1;
	}
	w->round = w->rounds + 1;
	if (sync_until_quiet(w) < 0)
		return -1;
	if (check_converged(w) < 0 || compute_unique(w) < 0)
		return -1;
	observe(w);
	return check_not_lost(w);
}

typedef struct {
	size_t edits, merges, conflicts, checked, syncs, parties, false_conflicts, stale_finals, queue_records;
} totals;

/* Runs one seed in DIR/s<seed>; 0 when it passed. */
static int run_seed(unsigned long long seed, int rounds, int verbose, totals *t, char *why, size_t whysize)
{
	world *w = calloc(1, sizeof(*w));
	const char *keep = getenv("TS_CONVERGE_KEEP") && *getenv("TS_CONVERGE_KEEP") ? getenv("TS_CONVERGE_KEEP") : NULL;
	char cmd[4300], file[4200];
	int rc;

	if (!w) {
		snprintf(why, whysize, "out of memory");
		return -1;
	}
	w->seed = seed;
	w->rng = splitmix64(seed) | 1;
	w->rounds = rounds;
	w->verbose = verbose;
	w->now = 1431000000 + (int64_t)(seed % 1000) * 86400;   /* May 2015, Beijing */
	snprintf(w->dir, sizeof(w->dir), "%s/s%llu", keep ? keep : ts_test_dir(), seed);
	mkdir(w->dir, 0777);
	trace(w, "seed %llu, %d rounds", seed, rounds);
	rc = run_rounds(w);
	t->edits += w->nedits;
	t->merges += w->merges;
	t->conflicts += w->conflicts;
	t->checked += w->checked;
	t->false_conflicts += w->false_conflicts;
	t->stale_finals += w->stale_finals;
	t->queue_records += w->queue_records;
	t->syncs += w->syncs;
	t->parties += w->nparties;
	snprintf(why, whysize, "%s", rc < 0 ? ts_buf__cstr(&w->why) : "");
	if (rc < 0 || keep) {
		FILE *f;
		snprintf(file, sizeof(file), "%s/trace.txt", w->dir);
		if ((f = fopen(file, "w"))) {
			fputs(ts_buf__cstr(&w->trace), f);
			fclose(f);
		}
	}
	world_free(w);
	if (rc == 0 && !keep) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", w->dir);
		if (system(cmd) != 0)
			fprintf(stderr, "warning: could not remove %s\n", w->dir);
	}
	free(w);
	return rc;
}

static unsigned long long env_number(const char *name, unsigned long long fallback)
{
	const char *v = getenv(name);
	char *end;
	unsigned long long n;
	if (!v || !*v)
		return fallback;
	n = strtoull(v, &end, 10);
	return *end ? fallback : n;
}

void test_converge__random_offline_edits_and_partial_syncs(void)
{
	unsigned long long first = env_number("TS_CONVERGE_FIRST", 1);
	unsigned long long seeds = env_number("TS_CONVERGE_SEEDS", DEFAULT_SEEDS), s;
	int rounds = (int)env_number("TS_CONVERGE_ROUNDS", DEFAULT_ROUNDS);
	int verbose = (int)env_number("TS_CONVERGE_VERBOSE", 0);
	const char *saved_now = getenv("TIERSYNC_NOW");
	char *saved = saved_now ? strdup(saved_now) : NULL;
	char failed_list[1024] = "";
	totals t;
	struct timespec t0, t1;
	int failed = 0;

	memset(&t, 0, sizeof(t));
	if (getenv("TS_CONVERGE_SEED") && *getenv("TS_CONVERGE_SEED")) {
		first = env_number("TS_CONVERGE_SEED", 1);
		seeds = 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (s = first; s < first + seeds; s++) {
		char why[8192];
		if (run_seed(s, rounds, verbose, &t, why, sizeof(why)) < 0) {
			size_t len = strlen(failed_list);
			ts_test__fail(__FILE__, __LINE__, "seed %llu failed (reproduce: TS_CONVERGE_SEED=%llu "
				"build/rel/unit -s converge::random_offline_edits_and_partial_syncs; kept %s/s%llu):\n        %s", s, s, ts_test_dir(), s, why);
			if (len + 24 < sizeof(failed_list))
				snprintf(failed_list + len, sizeof(failed_list) - len, "%s%llu", len ? " " : "", s);
			failed++;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("    converge: seeds %llu..%llu, %d rounds: %llu passed, %d failed; %zu edits, %zu parties, "
		"%zu syncs, %zu merges, %zu conflicts (%zu between an edit and one that knowingly overwrote it), "
		"%zu stale final values, %zu edits checked strictly, %zu records about sync_conflicts rows; %.1f s\n",
		first, first + seeds - 1, rounds, seeds - (unsigned long long)failed, failed, t.edits, t.parties, t.syncs, t.merges,
		t.conflicts, t.false_conflicts, t.stale_finals, t.checked, t.queue_records,
		(double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	if (failed)
		printf("    converge: failed seeds: %s\n", failed_list);
	fflush(stdout);
	if (saved) {
		setenv("TIERSYNC_NOW", saved, 1);
		free(saved);
	} else
		unsetenv("TIERSYNC_NOW");
}

/*
 * The smallest scenario behind the seeds that fail: a criss-cross between
 * a device and its street, which every "submit, then pull before the
 * street has merged" makes.
 *
 *     s0 --- s1 ------- s2 = merge(s1, d1)   (the street merges the submission)
 *       \          \ /
 *        d1 ------- d2 = merge(d1, s1)       (the device pulls the street)
 *
 * s2 and d2 have two best common ancestors, s1 and d1. Merging a later
 * device commit into s2 against s1 alone (git_merge_base picks one) sees
 * what d1 brought as "added on our side": a row the device then deleted
 * comes back, and a column the street changed after d1 looks changed on
 * both sides (a false conflict whose provisional value may undo the
 * street's newer edit).
 */

static int cc_pull(ts_node *node, ts_node *upper)
{
	ts_node_merge_stats stats;
	char id[41];
	int error;
	if ((error = ts_test_transfer(upper, node, "refs/remotes/upstream/main")) < 0)
		return error;
	return ts_node_merge(id, &stats, node, "refs/remotes/upstream/main", "同步", "pull\n");
}

static int cc_submit(ts_node *lower, ts_node *upper)
{
	char ref[128];
	snprintf(ref, sizeof(ref), "refs/submissions/%s", lower->id);
	return ts_test_transfer(lower, upper, ref);
}

static void cc_now(int64_t *now)
{
	char v[32];
	snprintf(v, sizeof(v), "%lld", (long long)(*now += 60));
	setenv("TIERSYNC_NOW", v, 1);
}

static int cc_count(ts_node *node, const char *sql, const char *arg)
{
	sqlite3_stmt *st = NULL;
	int n = -1;
	if (sqlite3_prepare_v2(node->db, sql, -1, &st, NULL) == SQLITE_OK) {
		if (arg)
			sqlite3_bind_text(st, 1, arg, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW)
			n = sqlite3_column_int(st, 0);
	}
	sqlite3_finalize(st);
	return n;
}

/* A step that must succeed; on failure the scenario stops (and frees). */
#define STEP(expr) do { \
	int step_rc__ = (expr); \
	if (step_rc__ < 0) { \
		ts_test__fail(__FILE__, __LINE__, "%s returned %d: %s", #expr, step_rc__, ts_test__lasterror()); \
		goto done; \
	} \
} while (0)

static char *cc_text(ts_node *node, const char *sql, const char *arg)
{
	sqlite3_stmt *st = NULL;
	char *s = NULL;
	if (sqlite3_prepare_v2(node->db, sql, -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, arg, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
			s = strdup((const char *)sqlite3_column_text(st, 0));
	}
	sqlite3_finalize(st);
	return s;
}

void test_converge__criss_cross_brings_back_a_deleted_row(void)
{
	ts_node *s = NULL, *d = NULL;
	ts_init_options so = { TS_INIT_OPTIONS_VERSION, TS_TIER_STREET, "bj.dc.a", NULL, "王伟", NULL };
	ts_init_options dopt = { TS_INIT_OPTIONS_VERSION, TS_TIER_DEVICE, "bj.dc.a.d1", NULL, "赵强", NULL };
	ts_field officer = { "officer", "李娜" };
	party_op op;
	char *id = NULL, commit[41];
	int64_t now = 1431000000;
	git_oid ts, td;
	int merged_has = -1, street_has = -1, device_has = -1, same_tree = 0, ran = 0;

	memset(&op, 0, sizeof(op));
	cc_now(&now);
	STEP(ts_node_init(&s, "s", &so));
	STEP(ts_node_init(&d, "d", &dopt));
	STEP(ts_test_enroll(s, d));
	/* s0: a case both know */
	STEP(ts_case_new(&id, s, NULL, "small_ads", "patrol", "景山前街 4号", NULL, 0));
	STEP(ts_node_commit(commit, s, "case", NULL));
	STEP(cc_pull(d, s));
	/* d1: the device adds a party and submits */
	cc_now(&now);
	op.node = d;
	op.case_id = id;
	op.kind = "person";
	op.name = "张三";
	op.phone = "13900000000";
	STEP(ts_node_write(d, NULL, "add a party", do_party_insert, &op));
	STEP(ts_node_commit(commit, d, "party", NULL));
	STEP(cc_submit(d, s));
	/* s1: the street works on, not merged yet; the device pulls it (d2) */
	cc_now(&now);
	STEP(ts_case_update(s, NULL, id, &officer, 1));
	STEP(ts_node_commit(commit, s, "dispatch", NULL));
	cc_now(&now);
	STEP(cc_pull(d, s));
	/* s2: now the street merges the submission */
	cc_now(&now);
	STEP(ts_node_merge_submissions(s, NULL, NULL, NULL));
	merged_has = cc_count(s, "SELECT count(*) FROM parties WHERE id = ?1", op.id);
	/* d3: the device deletes the party and submits; the street merges; the device pulls */
	cc_now(&now);
	op.del = op.id;
	STEP(ts_node_write(d, NULL, "remove a party", do_party_delete, &op));
	STEP(ts_node_commit(commit, d, "no party", NULL));
	STEP(cc_submit(d, s));
	cc_now(&now);
	STEP(ts_node_merge_submissions(s, NULL, NULL, NULL));
	STEP(cc_pull(d, s));
	STEP(tree_of(&ts, s));
	STEP(tree_of(&td, d));
	same_tree = git_oid_equal(&ts, &td);
	street_has = cc_count(s, "SELECT count(*) FROM parties WHERE id = ?1", op.id);
	device_has = cc_count(d, "SELECT count(*) FROM parties WHERE id = ?1", op.id);
	ran = 1;
done:
	free(op.id);
	free(id);
	ts_node_free(s);
	ts_node_free(d);
	unsetenv("TIERSYNC_NOW");
	if (!ran)
		return;
	test_equal_i(merged_has, 1);
	test_assert(same_tree);
	/* the device's delete must hold */
	test_equal_i(street_has, 0);
	test_equal_i(device_has, 0);
}

void test_converge__criss_cross_makes_a_false_conflict(void)
{
	ts_node *s = NULL, *d = NULL;
	ts_init_options so = { TS_INIT_OPTIONS_VERSION, TS_TIER_STREET, "bj.dc.a", NULL, "王伟", NULL };
	ts_init_options dopt = { TS_INIT_OPTIONS_VERSION, TS_TIER_DEVICE, "bj.dc.a.d1", NULL, "赵强", NULL };
	/* the stale value sorts after the newer one, so the default policy picks it */
	ts_field stale = { "officer", "李娜" }, newer = { "officer", "张伟" };
	ts_field note = { "description", "占道经营" }, stage = { "stage", "educate" };
	char *id = NULL, *value = NULL, commit[41];
	int64_t now = 1431000000;
	int conflicts = -1, ran = 0;

	cc_now(&now);
	STEP(ts_node_init(&s, "s", &so));
	STEP(ts_node_init(&d, "d", &dopt));
	STEP(ts_test_enroll(s, d));
	STEP(ts_case_new(&id, s, NULL, "small_ads", "patrol", "景山前街 4号", NULL, 0));
	STEP(ts_node_commit(commit, s, "case", NULL));
	STEP(cc_pull(d, s));
	/* d1: the device names the officer and submits */
	cc_now(&now);
	STEP(ts_case_update(d, NULL, id, &stale, 1));
	STEP(ts_node_commit(commit, d, "officer", NULL));
	STEP(cc_submit(d, s));
	/* s1: the street notes something else; the device pulls it */
	cc_now(&now);
	STEP(ts_case_update(s, NULL, id, &note, 1));
	STEP(ts_node_commit(commit, s, "note", NULL));
	cc_now(&now);
	STEP(cc_pull(d, s));
	/* s2: the street merges the submission, then, having seen 李娜, names 张伟 */
	cc_now(&now);
	STEP(ts_node_merge_submissions(s, NULL, NULL, NULL));
	cc_now(&now);
	STEP(ts_case_update(s, NULL, id, &newer, 1));
	STEP(ts_node_commit(commit, s, "officer again", NULL));
	/* d3: the device changes another column and submits; the street merges */
	cc_now(&now);
	STEP(ts_case_update(d, NULL, id, &stage, 1));
	STEP(ts_node_commit(commit, d, "stage", NULL));
	STEP(cc_submit(d, s));
	cc_now(&now);
	STEP(ts_node_merge_submissions(s, NULL, NULL, NULL));
	value = cc_text(s, "SELECT officer FROM cases WHERE id = ?1", id);
	conflicts = cc_count(s, "SELECT count(*) FROM sync_conflicts WHERE column_name = 'officer'", NULL);
	ran = 1;
done:
	free(id);
	ts_node_free(s);
	ts_node_free(d);
	unsetenv("TIERSYNC_NOW");
	if (ran) {
		/* only the street changed the officer since both saw 李娜: no conflict, 张伟 stays */
		test_equal_i(conflicts, 0);
		test_equal_s(value, "张伟");
	}
	free(value);
}
