/*
 * The case lifecycle: the steps of a case after its intake, and the rules
 * the upper tiers set for them (docs/LIFECYCLE.md).
 *
 *   discovered --dispatch--> dispatched --educate--> handling --feedback--> feedback --close--> closed
 *                                          (warn, penalize: stage)     (visit: complaints)
 *   any open state --transfer--> transferred
 *
 * A penalized case also goes through file (立案), decide (处罚决定),
 * review and file-up when major (法制审核, 备案), and execute (执行).
 *
 * Duties are kept apart: the legal review of a major case is made at the
 * tier of the review_tier rule (a district by default), on a node whose
 * jurisdiction covers the case, by someone other than who decided it; a
 * filing-up is a row of case_filings that the upper node acknowledges.
 * The ownership rules of schema/0011_duties.sql keep lower nodes from
 * writing either outcome by hand.
 *
 * Each step is a row of `steps` below: the check that says whether the
 * case's state allows it (and why not), and the SET clause that moves the
 * case. The check runs inside the write transaction, on the state it is
 * about to change; a refusal rolls everything back.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "lifecycle.h"
#include "node.h"

/* What a step needs to know of the case. */
typedef struct {
	char *status, *stage, *source, *category, *jurisdiction, *filed_at, *decided_at,
	     *review_status, *filed_up_at, *executed_at, *visited_at, *transfer_to;
	int major;
} case_state;

/* What a step was given, and what its check derives. */
typedef struct {
	const ts_node *node;       /* where the step is taken */
	const char *officer, *legal_basis, *reviewer, *to, *satisfaction, *note;
	int64_t amount;
	int major, approve;
	const char *review;        /* derived: approved or rejected */
	int64_t threshold;         /* derived: the major_threshold in force */
	char filed_with[256];      /* derived: the upper node a filing-up goes to */
} step_args;

typedef struct {
	const char *kind;          /* case_events.kind */
	const char *verb;          /* the `tiersync case` subcommand */
	int (*check)(sqlite3 *db, const char *id, const case_state *c, step_args *a);
	const char *set;           /* SET clause; named parameters bound from step_args */
} step_def;

static void state_dispose(case_state *c)
{
	free(c->status); free(c->stage); free(c->source); free(c->category); free(c->jurisdiction);
	free(c->filed_at); free(c->decided_at); free(c->review_status); free(c->filed_up_at);
	free(c->executed_at); free(c->visited_at); free(c->transfer_to);
	memset(c, 0, sizeof(*c));
}

static char *column_dup(sqlite3_stmt *st, int col)
{
	const unsigned char *s = sqlite3_column_text(st, col);
	return s ? strdup((const char *)s) : NULL;
}

static int state_load(case_state *c, sqlite3 *db, const char *id)
{
	sqlite3_stmt *st = NULL;
	int error = 0;

	memset(c, 0, sizeof(*c));
	if (sqlite3_prepare_v2(db, "SELECT status, stage, source, category, jurisdiction, filed_at, decided_at, "
			"review_status, filed_up_at, executed_at, visited_at, transfer_to, major "
			"FROM cases WHERE id = ?1", -1, &st, NULL) != SQLITE_OK) {
		error = ts_sqlite__error(db, "reading case %s", id);
		goto done;
	}
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_ROW) {
		error = ts_error_set(TS_ENOTFOUND, "no case %s", id);
		goto done;
	}
	c->status = column_dup(st, 0);
	c->stage = column_dup(st, 1);
	c->source = column_dup(st, 2);
	c->category = column_dup(st, 3);
	c->jurisdiction = column_dup(st, 4);
	c->filed_at = column_dup(st, 5);
	c->decided_at = column_dup(st, 6);
	c->review_status = column_dup(st, 7);
	c->filed_up_at = column_dup(st, 8);
	c->executed_at = column_dup(st, 9);
	c->visited_at = column_dup(st, 10);
	c->transfer_to = column_dup(st, 11);
	c->major = sqlite3_column_int(st, 12);
	if (!c->status || !c->source || !c->category || !c->jurisdiction)
		error = ts_error_set(TS_ERROR, "reading case %s: out of memory", id);
done:
	sqlite3_finalize(st);
	return error;
}

static int is(const char *value, const char *expected)
{
	return value && !strcmp(value, expected);
}

void ts_case_yuan_format(char out[32], int64_t fen)
{
	snprintf(out, 32, "%lld.%02lld", (long long)(fen / 100), (long long)(fen % 100));
}

/* --- the rules -------------------------------------------------------- */

char *ts_case_jurisdiction(const ts_node *node)
{
	return strdup(node->scope);
}

int ts_case__in_reach(const ts_node *node, const char *case_id, const char *jurisdiction)
{
	if (!jurisdiction || !ts_jurisdiction_covers(node->scope, jurisdiction))
		return ts_error_set(TS_EDENIED, "case %s is of %s, outside this node's jurisdiction (%s)",
			case_id, jurisdiction ? jurisdiction : "no jurisdiction", node->scope);
	return 0;
}

int ts_case__rule(int64_t *out, sqlite3 *db, const char *jurisdiction, const char *rule, const char *category)
{
	sqlite3_stmt *st = NULL;
	int error = TS_ENOTFOUND;

	/* scopes are node ids: a scope covers its own id and the ids below it */
	if (sqlite3_prepare_v2(db, "SELECT value FROM case_rules WHERE rule = ?2 AND category = ?3 "
			"AND (scope = '' OR scope = ?1 OR substr(?1, 1, length(scope) + 1) = scope || '.') "
			"ORDER BY length(scope) DESC LIMIT 1", -1, &st, NULL) != SQLITE_OK)
		return ts_sqlite__error(db, "reading the case rules");
	sqlite3_bind_text(st, 1, jurisdiction, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, rule, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, category ? category : "", -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		*out = sqlite3_column_int64(st, 0);
		error = 0;
	}
	sqlite3_finalize(st);
	return error;
}

/* The depth of a tier as a node id has it: 1 the city, 2 a district, ... */
static int tier_depth(const char *id)
{
	int n = 1;
	for (; *id; id++)
		n += *id == '.';
	return n;
}

static const char *tier_named(int depth)
{
	return depth == 1 ? "city" : depth == 2 ? "district" : depth == 3 ? "street" : "device";
}

/* The first `depth` labels of `id` into out: its ancestor at that tier. */
static void ancestor_at(char *out, size_t size, const char *id, int depth)
{
	const char *p = id;
	int labels = 1;
	size_t n;

	for (; *p; p++)
		if (*p == '.' && ++labels > depth)
			break;
	n = (size_t)(p - id) < size - 1 ? (size_t)(p - id) : size - 1;
	memcpy(out, id, n);
	out[n] = '\0';
}

/* The tier (a depth) that makes the legal review of the cases of
 * `jurisdiction`: the review_tier rule in force, else the district. */
static int review_tier(int *out, sqlite3 *db, const char *jurisdiction)
{
	int64_t v = 2;
	int error = ts_case__rule(&v, db, jurisdiction, "review_tier", NULL);

	if (error < 0 && error != TS_ENOTFOUND)
		return error;
	*out = v == 1 ? 1 : 2;
	return 0;
}

/* The upper node a major case of `jurisdiction` is filed with (备案): the
 * reviewing tier's node above it, else its parent (a district's own case
 * goes to the city); the city's own case stays with the city. */
static int filed_with(char *out, size_t size, sqlite3 *db, const char *jurisdiction)
{
	int depth, error;

	if ((error = review_tier(&depth, db, jurisdiction)) < 0)
		return error;
	if (tier_depth(jurisdiction) <= depth)
		depth = tier_depth(jurisdiction) > 1 ? tier_depth(jurisdiction) - 1 : 1;
	ancestor_at(out, size, jurisdiction, depth);
	return 0;
}

/* The officer of the case's latest decision event, malloc'd, or NULL. */
static char *decider(sqlite3 *db, const char *id)
{
	sqlite3_stmt *st = NULL;
	char *name = NULL;

	if (sqlite3_prepare_v2(db, "SELECT officer FROM case_events WHERE case_id = ?1 AND kind = 'decide' "
			"ORDER BY at DESC, id DESC LIMIT 1", -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW)
			name = column_dup(st, 0);
	}
	sqlite3_finalize(st);
	return name;
}

/* --- the checks: each says why a step is refused ----------------------- */

static int check_open(const char *id, const case_state *c)
{
	if (is(c->status, "closed"))
		return ts_error_set(TS_EDENIED, "case %s is closed; a closed case takes no more steps", id);
	if (is(c->status, "transferred"))
		return ts_error_set(TS_EDENIED, "case %s was transferred to %s; it takes no more steps here",
			id, c->transfer_to ? c->transfer_to : "another department");
	return 0;
}

/* On-site handling: the case is with its officer and has had no feedback. */
static int check_on_site(const char *id, const case_state *c, const char *verb)
{
	int error;
	if ((error = check_open(id, c)) < 0)
		return error;
	if (is(c->status, "discovered"))
		return ts_error_set(TS_EDENIED, "case %s is not dispatched to an officer yet; dispatch it "
			"before you %s", id, verb);
	if (is(c->status, "feedback"))
		return ts_error_set(TS_EDENIED, "case %s has had its feedback; the on-site handling is over", id);
	return 0;
}

static int check_dispatch(sqlite3 *db, const char *id, const case_state *c, step_args *a)
{
	int error;
	(void)db; (void)a;
	if ((error = check_open(id, c)) < 0)
		return error;
	if (!is(c->status, "discovered") && !is(c->status, "dispatched"))
		return ts_error_set(TS_EDENIED, "case %s is already %s; only a discovered or dispatched case "
			"is dispatched", id, c->status);
	return 0;
}

static int check_educate(sqlite3 *db, const char *id, const case_state *c, step_args *a)
{
	int error;
	(void)db; (void)a;
	if ((error = check_on_site(id, c, "educate")) < 0)
		return error;
	if (c->stage)
		return ts_error_set(TS_EDENIED, "case %s is already at the %s step; the three steps "
			"(educate, warn, penalize) only go forward", id, c->stage);
	return 0;
}

static int check_warn(sqlite3 *db, const char *id, const case_state *c, step_args *a)
{
	int error;
	(void)db; (void)a;
	if ((error = check_on_site(id, c, "warn")) < 0)
		return error;
	if (!c->stage)
		return ts_error_set(TS_EDENIED, "case %s has not been educated; the three-step method warns "
			"only after educating", id);
	if (!is(c->stage, "educate"))
		return ts_error_set(TS_EDENIED, "case %s is already at the %s step; the three steps "
			"(educate, warn, penalize) only go forward", id, c->stage);
	return 0;
}

static int check_penalize(sqlite3 *db, const char *id, const case_state *c, step_args *a)
{
	int64_t immediate = 0;
	int error;
	(void)a;
	if ((error = check_on_site(id, c, "penalize")) < 0)
		return error;
	if (is(c->stage, "penalize"))
		return ts_error_set(TS_EDENIED, "case %s is already being penalized", id);
	if (is(c->stage, "warn"))
		return 0;
	if ((error = ts_case__rule(&immediate, db, c->jurisdiction, "immediate_penalty", c->category)) < 0 &&
	    error != TS_ENOTFOUND)
		return error;
	if (immediate == 1)
		return 0;
	return ts_error_set(TS_EDENIED, "case %s (%s) %s; the three-step method penalizes only after "
		"educating and warning, except in the categories the rules allow an immediate penalty "
		"(the case rules)", id, c->category,
		c->stage ? "has been educated but not warned" : "has been neither educated nor warned");
}

/* The penalty procedure: an open case at the penalize step. */
static int check_penalty(const char *id, const case_state *c, const char *what)
{
	int error;
	if ((error = check_open(id, c)) < 0)
		return error;
	if (!is(c->stage, "penalize"))
		return ts_error_set(TS_EDENIED, "case %s is not being penalized; %s follows the penalize "
			"step", id, what);
	return 0;
}

static int check_file(sqlite3 *db, const char *id, const case_state *c, step_args *a)
{
	int error;
	(void)db; (void)a;
	if ((error = check_penalty(id, c, "filing (立案)")) < 0)
		return error;
	if (c->filed_at)
		return ts_error_set(TS_EDENIED, "case %s was already filed at %s", id, c->filed_at);
	return 0;
}

static int check_decide(sqlite3 *db, const char *id, const case_state *c, step_args *a)
{
	int error;
	if ((error = check_penalty(id, c, "a penalty decision")) < 0)
		return error;
	if (!c->filed_at)
		return ts_error_set(TS_EDENIED, "case %s is not filed; a penalty is decided only on a filed "
			"case", id);
	if (c->executed_at)
		return ts_error_set(TS_EDENIED, "case %s's penalty was already executed at %s", id, c->executed_at);
	if (c->decided_at && !is(c->review_status, "rejected"))
		return ts_error_set(TS_EDENIED, "case %s already has a penalty decision (%s); a decision is "
			"made again only after its legal review rejected it", id, c->decided_at);
	a->threshold = INT64_MAX;
	if ((error = ts_case__rule(&a->threshold, db, c->jurisdiction, "major_threshold", NULL)) < 0 &&
	    error != TS_ENOTFOUND)
		return error;
	/* a case once major stays major: a new decision after a rejected review
	 * goes back to review, whatever its amount */
	if (a->amount >= a->threshold || c->major || c->review_status)
		a->major = 1;
	return 0;
}

static int check_review(sqlite3 *db, const char *id, const case_state *c, step_args *a)
{
	char reviewing[256];
	char *decided_by = NULL;
	int depth, error;

	if ((error = check_open(id, c)) < 0)
		return error;
	if (!c->major && !c->review_status)
		return ts_error_set(TS_EDENIED, "case %s is not a major penalty case; only those take a "
			"legal review", id);
	if (!c->decided_at)
		return ts_error_set(TS_EDENIED, "case %s has no penalty decision to review", id);
	if (!is(c->review_status, "pending"))
		return ts_error_set(TS_EDENIED, "the legal review of case %s's decision is already %s",
			id, c->review_status ? c->review_status : "done");
	/* 法制审核 is the legal staff's, at the tier the rules name */
	if ((error = review_tier(&depth, db, c->jurisdiction)) < 0)
		return error;
	ancestor_at(reviewing, sizeof(reviewing), c->jurisdiction, depth);
	if (tier_depth(a->node->id) != depth)
		return ts_error_set(TS_EDENIED, "the legal review (法制审核) of case %s is made at the %s "
			"(%s), not at a %s node (%s)", id, tier_named(depth), reviewing,
			tier_named(tier_depth(a->node->id)), a->node->id);
	if (!ts_jurisdiction_covers(a->node->id, c->jurisdiction))
		return ts_error_set(TS_EDENIED, "the legal review (法制审核) of case %s is made at the %s "
			"(%s), not at %s, whose jurisdiction does not hold the case", id, tier_named(depth),
			reviewing, a->node->id);
	if (!a->reviewer)
		return ts_error_set(TS_EINVALID, "a legal review needs the reviewer's real name");
	decided_by = decider(db, id);
	if (decided_by && !strcmp(decided_by, a->reviewer)) {
		error = ts_error_set(TS_EDENIED, "case %s's decision was made by %s; its legal review "
			"(法制审核) is made by someone else", id, decided_by);
		free(decided_by);
		return error;
	}
	free(decided_by);
	a->review = a->approve ? "approved" : "rejected";
	return 0;
}

static int check_file_up(sqlite3 *db, const char *id, const case_state *c, step_args *a)
{
	int error;
	if ((error = check_open(id, c)) < 0)
		return error;
	if (!c->major && !c->review_status)
		return ts_error_set(TS_EDENIED, "case %s is not a major penalty case; only those are filed "
			"up with the higher tier (备案)", id);
	if (!is(c->review_status, "approved"))
		return ts_error_set(TS_EDENIED, "case %s's decision is not approved by legal review (review: %s); "
			"it is filed up only once approved", id, c->review_status ? c->review_status : "none");
	if (c->filed_up_at)
		return ts_error_set(TS_EDENIED, "case %s was already filed up at %s", id, c->filed_up_at);
	return filed_with(a->filed_with, sizeof(a->filed_with), db, c->jurisdiction);
}

static int check_execute(sqlite3 *db, const char *id, const case_state *c, step_args *a)
{
	int error;
	(void)db; (void)a;
	if ((error = check_open(id, c)) < 0)
		return error;
	if (!c->decided_at)
		return ts_error_set(TS_EDENIED, "case %s has no penalty decision; only a decided penalty is "
			"executed", id);
	if (c->executed_at)
		return ts_error_set(TS_EDENIED, "case %s's penalty was already executed at %s", id, c->executed_at);
	if ((c->major || c->review_status) && !is(c->review_status, "approved"))
		return ts_error_set(TS_EDENIED, "case %s is a major penalty case whose legal review is %s; "
			"it is executed only once approved", id,
			c->review_status ? c->review_status : "missing");
	return 0;
}

static int check_transfer(sqlite3 *db, const char *id, const case_state *c, step_args *a)
{
	(void)db; (void)a;
	return check_open(id, c);
}

static int check_feedback(sqlite3 *db, const char *id, const case_state *c, step_args *a)
{
	int error;
	(void)db; (void)a;
	if ((error = check_open(id, c)) < 0)
		return error;
	if (is(c->status, "feedback"))
		return ts_error_set(TS_EDENIED, "case %s has already had its feedback", id);
	if (!is(c->status, "handling"))
		return ts_error_set(TS_EDENIED, "case %s has not been handled on site yet (status %s); "
			"feedback follows the handling (educate, warn or penalize)", id, c->status);
	return 0;
}

static int check_visit(sqlite3 *db, const char *id, const case_state *c, step_args *a)
{
	int error;
	(void)db; (void)a;
	if ((error = check_open(id, c)) < 0)
		return error;
	if (!is(c->source, "complaint"))
		return ts_error_set(TS_EDENIED, "case %s came from %s, not a complaint; only complaint "
			"cases get a return visit", id, c->source);
	if (!is(c->status, "feedback"))
		return ts_error_set(TS_EDENIED, "case %s has had no feedback yet (status %s); the return "
			"visit follows the feedback", id, c->status);
	if (c->visited_at)
		return ts_error_set(TS_EDENIED, "case %s already had its return visit at %s", id, c->visited_at);
	return 0;
}

static int check_close(sqlite3 *db, const char *id, const case_state *c, step_args *a)
{
	int error;
	(void)db; (void)a;
	if ((error = check_open(id, c)) < 0)
		return error;
	if (!is(c->status, "feedback"))
		return ts_error_set(TS_EDENIED, "case %s has had no feedback yet (status %s); a case is "
			"closed after its feedback", id, c->status);
	if (is(c->stage, "penalize")) {
		if (!c->filed_at)
			return ts_error_set(TS_EDENIED, "case %s was penalized but is not filed (立案); "
				"a penalty case closes after filing, decision and execution", id);
		if (!c->decided_at)
			return ts_error_set(TS_EDENIED, "case %s was penalized but has no penalty decision; "
				"a penalty case closes after its decision is executed", id);
		if ((c->major || c->review_status) && !is(c->review_status, "approved"))
			return ts_error_set(TS_EDENIED, "case %s is a major penalty case whose legal review is "
				"not approved (review: %s); it cannot be closed", id,
				c->review_status ? c->review_status : "none");
		if ((c->major || c->review_status) && !c->filed_up_at)
			return ts_error_set(TS_EDENIED, "case %s is a major penalty case not filed up with the "
				"higher tier (备案); it cannot be closed", id);
		if (!c->executed_at)
			return ts_error_set(TS_EDENIED, "case %s's penalty is not executed; it cannot be closed", id);
	}
	if (is(c->source, "complaint") && !c->visited_at)
		return ts_error_set(TS_EDENIED, "case %s is a complaint case without its return visit; it "
			"closes only after the complainant is called back", id);
	return 0;
}

enum { STEP_DISPATCH, STEP_EDUCATE, STEP_WARN, STEP_PENALIZE, STEP_FILE, STEP_DECIDE, STEP_REVIEW,
	STEP_FILE_UP, STEP_EXECUTE, STEP_TRANSFER, STEP_FEEDBACK, STEP_VISIT, STEP_CLOSE };

static const step_def steps[] = {
	[STEP_DISPATCH] = { "dispatch", "dispatch", check_dispatch,
		"status = 'dispatched', officer = :officer, first_officer = coalesce(first_officer, :officer)" },
	[STEP_EDUCATE] = { "educate", "educate", check_educate, "status = 'handling', stage = 'educate'" },
	[STEP_WARN] = { "warn", "warn", check_warn, "status = 'handling', stage = 'warn'" },
	[STEP_PENALIZE] = { "penalize", "penalize", check_penalize, "status = 'handling', stage = 'penalize'" },
	[STEP_FILE] = { "file", "file", check_file, "filed_at = :now" },
	[STEP_DECIDE] = { "decide", "decide", check_decide,
		"legal_basis = :basis, penalty_amount = :amount, decided_at = :now, major = :major, "
		"review_status = CASE WHEN :major THEN 'pending' END" },
	[STEP_REVIEW] = { "review", "review", check_review,
		"review_status = :review, reviewer = :reviewer, reviewed_at = :now" },
	[STEP_FILE_UP] = { "file_up", "file-up", check_file_up, "filed_up_at = :now" },
	[STEP_EXECUTE] = { "execute", "execute", check_execute, "executed_at = :now" },
	[STEP_TRANSFER] = { "transfer", "transfer", check_transfer,
		"status = 'transferred', transfer_to = :to, transferred_at = :now" },
	[STEP_FEEDBACK] = { "feedback", "feedback", check_feedback, "status = 'feedback'" },
	[STEP_VISIT] = { "return_visit", "visit", check_visit, "visited_at = :now, satisfaction = :satisfaction" },
	[STEP_CLOSE] = { "close", "close", check_close, "status = 'closed', closed_at = :now" },
};

/* --- running a step ---------------------------------------------------- */

typedef struct {
	ts_node *node;
	const step_def *step;
	const char *case_id;
	const char *author;
	step_args *args;
} step_op;

static void bind_named(sqlite3_stmt *st, const char *name, const char *text)
{
	int idx = sqlite3_bind_parameter_index(st, name);
	if (idx > 0)
		sqlite3_bind_text(st, idx, text, -1, SQLITE_STATIC);
}

static void bind_named_int(sqlite3_stmt *st, const char *name, int64_t value)
{
	int idx = sqlite3_bind_parameter_index(st, name);
	if (idx > 0)
		sqlite3_bind_int64(st, idx, value);
}

/* The event's detail: what the step decided, then the note. */
static void event_detail(ts_buf *d, const step_def *step, const step_args *a)
{
	char yuan[32];

	if (step == &steps[STEP_DISPATCH])
		ts_buf__printf(d, "to %s", a->officer);
	else if (step == &steps[STEP_DECIDE]) {
		ts_case_yuan_format(yuan, a->amount);
		ts_buf__printf(d, "%s; fine %s yuan", a->legal_basis, yuan);
		if (a->major) {
			if (a->amount >= a->threshold) {
				ts_case_yuan_format(yuan, a->threshold);
				ts_buf__printf(d, "; major (the threshold is %s yuan)", yuan);
			} else
				ts_buf__puts(d, "; marked major");
		}
	} else if (step == &steps[STEP_REVIEW])
		ts_buf__printf(d, "%s by %s", a->review, a->reviewer);
	else if (step == &steps[STEP_FILE_UP])
		ts_buf__printf(d, "with %s", a->filed_with);
	else if (step == &steps[STEP_TRANSFER])
		ts_buf__printf(d, "to %s", a->to);
	else if (step == &steps[STEP_VISIT])
		ts_buf__puts(d, a->satisfaction);
	if (a->note && *a->note)
		ts_buf__printf(d, "%s%s", d->size ? "; " : "", a->note);
}

/* 备案: the record the upper node holds and acknowledges. */
static int insert_filing(sqlite3 *db, const step_op *op, const char *now)
{
	sqlite3_stmt *st = NULL;
	int error = 0;

	if (sqlite3_prepare_v2(db, "INSERT INTO case_filings (case_id, filed_at, filed_by, node, filed_with) "
			"VALUES (?1, ?2, ?3, ?4, ?5)", -1, &st, NULL) != SQLITE_OK)
		return ts_sqlite__error(db, "filing up case %s", op->case_id);
	sqlite3_bind_text(st, 1, op->case_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, now, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, op->author, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, op->node->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, op->args->filed_with, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		error = ts_sqlite__error_as(TS_EDENIED, db, "filing up case %s refused", op->case_id);
	sqlite3_finalize(st);
	return error;
}

static int do_step(sqlite3 *db, void *payload)
{
	step_op *op = payload;
	step_args *a = op->args;
	case_state c;
	sqlite3_stmt *st = NULL;
	ts_buf sql = TS_BUF_INIT, detail = TS_BUF_INIT;
	char now[32];
	int error;

	ts_time_format(now, ts_node__now());
	if ((error = state_load(&c, db, op->case_id)) < 0 ||
	    (error = op->step->check(db, op->case_id, &c, a)) < 0)
		goto done;
	ts_buf__printf(&sql, "UPDATE cases SET %s WHERE id = :id", op->step->set);
	if (ts_buf__oom(&sql) || sqlite3_prepare_v2(db, sql.ptr, -1, &st, NULL) != SQLITE_OK) {
		error = ts_sqlite__error(db, "%s of case %s", op->step->verb, op->case_id);
		goto done;
	}
	bind_named(st, ":id", op->case_id);
	bind_named(st, ":now", now);
	bind_named(st, ":officer", a->officer);
	bind_named(st, ":basis", a->legal_basis);
	bind_named_int(st, ":amount", a->amount);
	bind_named_int(st, ":major", a->major);
	bind_named(st, ":review", a->review);
	bind_named(st, ":reviewer", a->reviewer);
	bind_named(st, ":to", a->to);
	bind_named(st, ":satisfaction", a->satisfaction);
	if (sqlite3_step(st) != SQLITE_DONE || sqlite3_changes(db) != 1) {
		error = ts_sqlite__error(db, "%s of case %s refused", op->step->verb, op->case_id);
		goto done;
	}
	if (op->step == &steps[STEP_FILE_UP] && (error = insert_filing(db, op, now)) < 0)
		goto done;
	event_detail(&detail, op->step, a);
	error = ts_case__event(op->node, op->case_id, op->step->kind,
		op->step == &steps[STEP_REVIEW] ? a->reviewer : op->author,
		detail.size ? ts_buf__cstr(&detail) : NULL, now);
done:
	sqlite3_finalize(st);
	ts_buf__dispose(&sql);
	ts_buf__dispose(&detail);
	state_dispose(&c);
	return error;
}

/* A real name as a column holds it: not empty, no line break, no '<' '>'. */
static int check_name(const char *name, const char *what, const char *option)
{
	if (!name || !*name)
		return ts_error_set(TS_EINVALID, "%s needs %s", what, option);
	if (strchr(name, '\n') || strchr(name, '<') || strchr(name, '>'))
		return ts_error_set(TS_EINVALID, "%s: a name may not contain '<', '>' or a newline", what);
	return 0;
}

static int run_step(ts_node *node, const char *author, const char *case_id, int which, step_args *a)
{
	const step_def *step = &steps[which];
	step_op op;
	ts_buf summary = TS_BUF_INIT;
	int error;

	if (!case_id || !*case_id)
		return ts_error_set(TS_EINVALID, "%s: name a case", step->verb);
	op.node = node;
	op.step = step;
	op.case_id = case_id;
	op.author = author ? author : node->identity;
	op.args = a;
	a->node = node;
	if (which == STEP_REVIEW && !a->reviewer)
		a->reviewer = op.author;
	ts_buf__printf(&summary, "%s %s", step->verb, case_id);
	if (which == STEP_DISPATCH)
		ts_buf__printf(&summary, " to %s", a->officer);
	else if (which == STEP_TRANSFER)
		ts_buf__printf(&summary, " to %s", a->to);
	else if (which == STEP_REVIEW)
		ts_buf__printf(&summary, ": %s", a->approve ? "approved" : "rejected");
	error = ts_buf__oom(&summary) ? ts_error_set(TS_ERROR, "out of memory") :
		ts_node_write(node, op.author, summary.ptr, do_step, &op);
	ts_buf__dispose(&summary);
	return error;
}

int ts_case_dispatch(ts_node *node, const char *author, const char *case_id, const char *officer,
	const char *note)
{
	step_args a = { 0 };
	int error;

	if ((error = check_name(officer, "dispatching a case", "the officer's real name")) < 0)
		return error;
	a.officer = officer;
	a.note = note;
	return run_step(node, author, case_id, STEP_DISPATCH, &a);
}

static int simple_step(ts_node *node, const char *author, const char *case_id, int which, const char *note)
{
	step_args a = { 0 };
	a.note = note;
	return run_step(node, author, case_id, which, &a);
}

int ts_case_educate(ts_node *node, const char *author, const char *case_id, const char *note)
{
	return simple_step(node, author, case_id, STEP_EDUCATE, note);
}

int ts_case_warn(ts_node *node, const char *author, const char *case_id, const char *note)
{
	return simple_step(node, author, case_id, STEP_WARN, note);
}

int ts_case_penalize(ts_node *node, const char *author, const char *case_id, const char *note)
{
	return simple_step(node, author, case_id, STEP_PENALIZE, note);
}

int ts_case_file(ts_node *node, const char *author, const char *case_id, const char *note)
{
	return simple_step(node, author, case_id, STEP_FILE, note);
}

int ts_case_decide(ts_node *node, const char *author, const char *case_id, const char *legal_basis,
	int64_t amount_fen, int major, const char *note)
{
	step_args a = { 0 };

	if (!legal_basis || !*legal_basis)
		return ts_error_set(TS_EINVALID, "a penalty decision needs its legal basis");
	if (amount_fen < 0)
		return ts_error_set(TS_EINVALID, "a fine cannot be negative");
	a.legal_basis = legal_basis;
	a.amount = amount_fen;
	a.major = major ? 1 : 0;
	a.note = note;
	return run_step(node, author, case_id, STEP_DECIDE, &a);
}

int ts_case_review(ts_node *node, const char *author, const char *case_id, int approve,
	const char *reviewer, const char *note)
{
	step_args a = { 0 };
	int error;

	if (reviewer && (error = check_name(reviewer, "a legal review", "the reviewer's real name")) < 0)
		return error;
	a.approve = approve ? 1 : 0;
	a.reviewer = reviewer;
	a.note = note;
	return run_step(node, author, case_id, STEP_REVIEW, &a);
}

int ts_case_file_up(ts_node *node, const char *author, const char *case_id, const char *note)
{
	return simple_step(node, author, case_id, STEP_FILE_UP, note);
}

int ts_case_execute(ts_node *node, const char *author, const char *case_id, const char *note)
{
	return simple_step(node, author, case_id, STEP_EXECUTE, note);
}

int ts_case_transfer(ts_node *node, const char *author, const char *case_id, const char *to,
	const char *note)
{
	step_args a = { 0 };

	if (!to || !*to || strchr(to, '\n'))
		return ts_error_set(TS_EINVALID, "a transfer needs the department it goes to, on one line");
	a.to = to;
	a.note = note;
	return run_step(node, author, case_id, STEP_TRANSFER, &a);
}

int ts_case_feedback(ts_node *node, const char *author, const char *case_id, const char *note)
{
	return simple_step(node, author, case_id, STEP_FEEDBACK, note);
}

int ts_case_visit(ts_node *node, const char *author, const char *case_id, const char *satisfaction,
	const char *note)
{
	step_args a = { 0 };

	if (!satisfaction || (strcmp(satisfaction, "satisfied") && strcmp(satisfaction, "basically_satisfied") &&
	    strcmp(satisfaction, "dissatisfied")))
		return ts_error_set(TS_EINVALID, "a return visit records the complainant's satisfaction: "
			"satisfied, basically_satisfied or dissatisfied");
	a.satisfaction = satisfaction;
	a.note = note;
	return run_step(node, author, case_id, STEP_VISIT, &a);
}

int ts_case_close(ts_node *node, const char *author, const char *case_id, const char *note)
{
	return simple_step(node, author, case_id, STEP_CLOSE, note);
}

/* --- filings up and their acknowledgement (备案) ------------------------- */

typedef struct {
	ts_node *node;
	const char *author, *case_id, *note;
} ack_op;

static int do_ack(sqlite3 *db, void *payload)
{
	ack_op *op = payload;
	sqlite3_stmt *st = NULL;
	ts_buf detail = TS_BUF_INIT;
	char now[32];
	char *with = NULL, *acked_at = NULL, *acked_by = NULL;
	int rc, error = 0;

	ts_time_format(now, ts_node__now());
	if (sqlite3_prepare_v2(db, "SELECT f.filed_with, f.acked_at, f.acked_by, c.id IS NOT NULL "
			"FROM (SELECT ?1 AS id) k LEFT JOIN cases c ON c.id = k.id "
			"LEFT JOIN case_filings f ON f.case_id = k.id", -1, &st, NULL) != SQLITE_OK ||
	    (sqlite3_bind_text(st, 1, op->case_id, -1, SQLITE_STATIC), (rc = sqlite3_step(st)) != SQLITE_ROW)) {
		error = ts_sqlite__error(db, "reading the filing of case %s", op->case_id);
		goto done;
	}
	if (!sqlite3_column_int(st, 3)) {
		error = ts_error_set(TS_ENOTFOUND, "no case %s", op->case_id);
		goto done;
	}
	with = column_dup(st, 0);
	acked_at = column_dup(st, 1);
	acked_by = column_dup(st, 2);
	sqlite3_finalize(st);
	st = NULL;
	if (!with) {
		error = ts_error_set(TS_EDENIED, "case %s has not been filed up with the higher tier (备案); "
			"there is nothing to acknowledge", op->case_id);
		goto done;
	}
	if (!ts_jurisdiction_covers(op->node->id, with)) {
		error = ts_error_set(TS_EDENIED, "case %s is filed up with %s; the filing is acknowledged "
			"there, not at %s", op->case_id, with, op->node->id);
		goto done;
	}
	if (acked_at) {
		error = ts_error_set(TS_EDENIED, "the filing of case %s was already acknowledged by %s at %s",
			op->case_id, acked_by ? acked_by : "someone", acked_at);
		goto done;
	}
	if (sqlite3_prepare_v2(db, "UPDATE case_filings SET acked_at = ?2, acked_by = ?3, ack_note = ?4 "
			"WHERE case_id = ?1", -1, &st, NULL) != SQLITE_OK) {
		error = ts_sqlite__error(db, "acknowledging the filing of case %s", op->case_id);
		goto done;
	}
	sqlite3_bind_text(st, 1, op->case_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, now, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, op->author, -1, SQLITE_STATIC);
	if (op->note && *op->note)
		sqlite3_bind_text(st, 4, op->note, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE || sqlite3_changes(db) != 1) {
		error = ts_sqlite__error(db, "acknowledging the filing of case %s refused", op->case_id);
		goto done;
	}
	ts_buf__printf(&detail, "filing up (备案) acknowledged at %s", op->node->id);
	if (op->note && *op->note)
		ts_buf__printf(&detail, "; %s", op->note);
	error = ts_buf__oom(&detail) ? ts_error_set(TS_ERROR, "out of memory") :
		ts_case__event(op->node, op->case_id, "note", op->author, ts_buf__cstr(&detail), now);
done:
	sqlite3_finalize(st);
	ts_buf__dispose(&detail);
	free(with);
	free(acked_at);
	free(acked_by);
	return error;
}

int ts_case_file_up_ack(ts_node *node, const char *author, const char *case_id, const char *note)
{
	ack_op op;
	ts_buf summary = TS_BUF_INIT;
	int error;

	if (!case_id || !*case_id)
		return ts_error_set(TS_EINVALID, "acknowledging a filing: name a case");
	op.node = node;
	op.author = author ? author : node->identity;
	op.case_id = case_id;
	op.note = note;
	if ((error = check_name(op.author, "acknowledging a filing", "the real name of who acknowledges it")) < 0)
		return error;
	if (node->tier != TS_TIER_CITY && node->tier != TS_TIER_DISTRICT)
		return ts_error_set(TS_EDENIED, "a filing up (备案) is acknowledged by the higher tier it is "
			"filed with, a district or the city; %s is a %s node", node->id, ts_tier_name(node->tier));
	ts_buf__printf(&summary, "file-up-ack %s", case_id);
	error = ts_buf__oom(&summary) ? ts_error_set(TS_ERROR, "out of memory") :
		ts_node_write(node, op.author, summary.ptr, do_ack, &op);
	ts_buf__dispose(&summary);
	return error;
}

int ts_case_filings(ts_node *node, const ts_case_filing_filter *filter,
	int (*cb)(const ts_case_filing_info *filing, void *payload), void *payload)
{
	sqlite3_stmt *st = NULL;
	ts_case_filing_info f;
	int rc, error = 0;

	if (filter && filter->version != TS_CASE_FILING_FILTER_VERSION)
		return ts_error_set(TS_EINVALID, "a filing filter of version %u is not known (version %d is)",
			filter->version, TS_CASE_FILING_FILTER_VERSION);
	if (!cb)
		return ts_error_set(TS_EINVALID, "listing the filings needs a callback");
	/* filed with this node or a node below it, or of a case of its place */
	if (sqlite3_prepare_v2(node->db, "SELECT f.case_id, c.category, c.jurisdiction, c.legal_basis, "
			"c.penalty_amount, c.reviewer, f.filed_at, f.filed_by, f.node, f.filed_with, f.acked_at, "
			"f.acked_by, f.ack_note FROM case_filings f JOIN cases c ON c.id = f.case_id "
			"WHERE (f.filed_with = ?1 OR substr(f.filed_with, 1, length(?1) + 1) = ?1 || '.' "
			"  OR c.jurisdiction = ?2 OR substr(c.jurisdiction, 1, length(?2) + 1) = ?2 || '.') "
			"AND (NOT ?3 OR f.acked_at IS NULL) ORDER BY f.filed_at, f.case_id", -1, &st, NULL) != SQLITE_OK)
		return ts_sqlite__error(node->db, "reading the filings");
	sqlite3_bind_text(st, 1, node->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, node->scope, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, filter && filter->pending_only);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		memset(&f, 0, sizeof(f));
		f.case_id = (const char *)sqlite3_column_text(st, 0);
		f.category = (const char *)sqlite3_column_text(st, 1);
		f.jurisdiction = (const char *)sqlite3_column_text(st, 2);
		f.legal_basis = (const char *)sqlite3_column_text(st, 3);
		f.penalty_amount = sqlite3_column_type(st, 4) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, 4);
		f.reviewer = (const char *)sqlite3_column_text(st, 5);
		f.filed_at = (const char *)sqlite3_column_text(st, 6);
		f.filed_by = (const char *)sqlite3_column_text(st, 7);
		f.node = (const char *)sqlite3_column_text(st, 8);
		f.filed_with = (const char *)sqlite3_column_text(st, 9);
		f.acked_at = (const char *)sqlite3_column_text(st, 10);
		f.acked_by = (const char *)sqlite3_column_text(st, 11);
		f.ack_note = (const char *)sqlite3_column_text(st, 12);
		if ((error = cb(&f, payload)) != 0)
			break;
	}
	if (!error && rc != SQLITE_DONE)
		error = ts_sqlite__error(node->db, "reading the filings");
	sqlite3_finalize(st);
	return error;
}

/* --- columns, amounts, rules ------------------------------------------ */

const char *ts_case_column_step(const char *column)
{
	static const struct { const char *column, *step; } owned[] = {
		{ "status", "dispatch, educate, warn, penalize, feedback, close or transfer" },
		{ "stage", "educate, warn or penalize" },
		{ "officer", "dispatch" }, { "first_officer", "dispatch" },
		{ "filed_at", "file" },
		{ "legal_basis", "decide" }, { "penalty_amount", "decide" }, { "decided_at", "decide" },
		{ "major", "decide" },
		{ "review_status", "review" }, { "reviewer", "review" }, { "reviewed_at", "review" },
		{ "filed_up_at", "file-up" },
		{ "executed_at", "execute" },
		{ "transfer_to", "transfer" }, { "transferred_at", "transfer" },
		{ "visited_at", "visit" }, { "satisfaction", "visit" },
		{ "closed_at", "close" },
		/* set once, at intake */
		{ "source", "new" }, { "category", "new" }, { "jurisdiction", "new" },
		{ "reported_at", "new" }, { "deadline", "new" },
	};
	size_t i;

	for (i = 0; column && i < sizeof(owned) / sizeof(owned[0]); i++)
		if (!strcmp(column, owned[i].column))
			return owned[i].step;
	return NULL;
}

int ts_case_yuan_parse(int64_t *fen_out, const char *text)
{
	const char *p = text;
	int64_t yuan = 0, fen = 0;
	int digits = 0, decimals = 0;

	*fen_out = 0;
	for (; p && *p >= '0' && *p <= '9'; p++, digits++) {
		if (digits >= 12)
			goto bad;
		yuan = yuan * 10 + (*p - '0');
	}
	if (!digits)
		goto bad;
	if (*p == '.') {
		for (p++; *p >= '0' && *p <= '9'; p++, decimals++) {
			if (decimals == 2)
				goto bad;
			fen = fen * 10 + (*p - '0');
		}
		if (!decimals)
			goto bad;
		if (decimals == 1)
			fen *= 10;
	}
	if (*p)
		goto bad;
	*fen_out = yuan * 100 + fen;
	return 0;
bad:
	return ts_error_set(TS_EINVALID, "'%s' is not an amount of yuan (digits, at most two decimals, "
		"e.g. 200 or 1234.50)", text ? text : "");
}

typedef struct {
	ts_node *node;
	const char *author;
	const ts_case_rule *rules;
	size_t n;
} rules_op;

static int do_rules(sqlite3 *db, void *payload)
{
	rules_op *op = payload;
	sqlite3_stmt *st = NULL;
	char now[32];
	size_t i;
	int error = 0;

	ts_time_format(now, ts_node__now());
	if (sqlite3_prepare_v2(db, "INSERT INTO case_rules (scope, rule, category, value, set_by, set_at) "
			"VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (scope, rule, category) "
			"DO UPDATE SET value = excluded.value, set_by = excluded.set_by, set_at = excluded.set_at",
			-1, &st, NULL) != SQLITE_OK)
		return ts_sqlite__error(db, "setting the case rules");
	for (i = 0; i < op->n && !error; i++) {
		sqlite3_reset(st);
		sqlite3_bind_text(st, 1, op->node->id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, op->rules[i].rule, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, op->rules[i].category ? op->rules[i].category : "", -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 4, op->rules[i].value);
		sqlite3_bind_text(st, 5, op->author, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 6, now, -1, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE)
			error = ts_sqlite__error_as(TS_EINVALID, db, "setting rule %s refused", op->rules[i].rule);
	}
	sqlite3_finalize(st);
	return error;
}

static int category_exists(sqlite3 *db, const char *code)
{
	sqlite3_stmt *st = NULL;
	int found = 0;
	if (sqlite3_prepare_v2(db, "SELECT 1 FROM categories WHERE code = ?1", -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, code, -1, SQLITE_STATIC);
		found = sqlite3_step(st) == SQLITE_ROW;
	}
	sqlite3_finalize(st);
	return found;
}

/* The rules there are; the first two are not per category. */
static int known_rule(const char *rule)
{
	return rule && (!strcmp(rule, "major_threshold") || !strcmp(rule, "review_tier") ||
		!strcmp(rule, "deadline_days") || !strcmp(rule, "immediate_penalty"));
}

static int rule_per_category(const char *rule)
{
	return strcmp(rule, "major_threshold") && strcmp(rule, "review_tier");
}

#define KNOWN_RULES "major_threshold, review_tier, deadline_days or immediate_penalty"

static int check_rule(sqlite3 *db, const ts_case_rule *r)
{
	int per_category;

	if (!known_rule(r->rule))
		return ts_error_set(TS_EINVALID, "unknown rule '%s' (" KNOWN_RULES ")", r->rule ? r->rule : "");
	per_category = rule_per_category(r->rule);
	if (per_category && (!r->category || !category_exists(db, r->category)))
		return ts_error_set(TS_EINVALID, "rule %s needs a known category (a code of categories), "
			"not '%s'", r->rule, r->category ? r->category : "");
	if (!per_category && r->category && *r->category)
		return ts_error_set(TS_EINVALID, "rule %s is not per category", r->rule);
	if (!strcmp(r->rule, "review_tier") && r->value != 1 && r->value != 2)
		return ts_error_set(TS_EINVALID, "the legal review is made at the city (1) or a district (2), "
			"not at tier %lld", (long long)r->value);
	if (!strcmp(r->rule, "major_threshold") && r->value < 0)
		return ts_error_set(TS_EINVALID, "the major-case threshold cannot be negative");
	if (!strcmp(r->rule, "deadline_days") && (r->value < 1 || r->value > 3650))
		return ts_error_set(TS_EINVALID, "a deadline is 1 to 3650 days, not %lld", (long long)r->value);
	if (!strcmp(r->rule, "immediate_penalty") && r->value != 0 && r->value != 1)
		return ts_error_set(TS_EINVALID, "immediate_penalty is yes or no");
	return 0;
}

int ts_case_rules_set(ts_node *node, const char *author, const ts_case_rule *rules, size_t nrules)
{
	rules_op op;
	ts_buf summary = TS_BUF_INIT;
	size_t i, j;
	int error;

	if (node->tier != TS_TIER_CITY && node->tier != TS_TIER_DISTRICT)
		return ts_error_set(TS_EDENIED, "the case rules are set by the city or a district; %s is a %s node",
			node->id, ts_tier_name(node->tier));
	if (nrules == 0)
		return ts_error_set(TS_EINVALID, "no rule to set");
	for (i = 0; i < nrules; i++) {
		if ((error = check_rule(node->db, &rules[i])) < 0)
			return error;
		for (j = 0; j < i; j++)
			if (!strcmp(rules[i].rule, rules[j].rule) &&
			    !strcmp(rules[i].category ? rules[i].category : "", rules[j].category ? rules[j].category : ""))
				return ts_error_set(TS_EINVALID, "rule %s%s%s is set twice", rules[i].rule,
					rules[i].category ? " " : "", rules[i].category ? rules[i].category : "");
	}
	op.node = node;
	op.author = author ? author : node->identity;
	op.rules = rules;
	op.n = nrules;
	ts_buf__printf(&summary, "case rules of %s:", node->id);
	for (i = 0; i < nrules; i++)
		ts_buf__printf(&summary, " %s%s%s=%lld", rules[i].rule, rules[i].category ? "." : "",
			rules[i].category ? rules[i].category : "", (long long)rules[i].value);
	error = ts_node_write(node, op.author, summary.ptr, do_rules, &op);
	ts_buf__dispose(&summary);
	return error;
}

int ts_case_rule_value(int64_t *out, ts_node *node, const char *jurisdiction, const char *rule,
	const char *category)
{
	const char *scope = jurisdiction ? jurisdiction : node->scope;
	sqlite3_stmt *st = NULL;
	int per_category, error;

	*out = 0;
	if (!known_rule(rule))
		return ts_error_set(TS_EINVALID, "unknown rule '%s' (" KNOWN_RULES ")", rule ? rule : "");
	per_category = rule_per_category(rule);
	if (!per_category && category && *category)
		return ts_error_set(TS_EINVALID, "rule %s is not per category", rule);
	if (per_category && (!category || !category_exists(node->db, category)))
		return ts_error_set(TS_EINVALID, "unknown category '%s'", category ? category : "");
	if ((error = ts_case__rule(out, node->db, scope, rule, per_category ? category : NULL)) != TS_ENOTFOUND)
		return error;
	if (!strcmp(rule, "review_tier")) {
		*out = 2;   /* the district holds the legal staff */
		return 0;
	}
	if (!per_category)
		return ts_error_set(TS_ENOTFOUND, "no major_threshold rule is in force in %s", scope);
	if (!strcmp(rule, "immediate_penalty"))
		return 0;
	/* deadline_days without a rule: the category's own */
	if (sqlite3_prepare_v2(node->db, "SELECT deadline_days FROM categories WHERE code = ?1", -1, &st,
			NULL) != SQLITE_OK)
		return ts_sqlite__error(node->db, "reading the category");
	sqlite3_bind_text(st, 1, category, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		*out = sqlite3_column_int64(st, 0);
		error = 0;
	} else
		error = ts_sqlite__error(node->db, "reading category %s", category);
	sqlite3_finalize(st);
	return error;
}

/* The rules whose scope covers the jurisdiction ?1; the narrowest wins. */
#define RULES_IN_FORCE \
	"WITH r AS (SELECT * FROM case_rules WHERE scope = '' OR scope = ?1 " \
	"  OR substr(?1, 1, length(scope) + 1) = scope || '.') "

static void category_rules_dispose(ts_case_category_rules *c, size_t n)
{
	size_t i;
	for (i = 0; i < n; i++) {
		free((char *)c[i].category);
		free((char *)c[i].deadline_scope);
		free((char *)c[i].immediate_penalty_scope);
	}
	free(c);
}

static char *text_dup(sqlite3_stmt *st, int col, int *oom)
{
	char *s = column_dup(st, col);
	if (!s && sqlite3_column_type(st, col) != SQLITE_NULL)
		*oom = 1;
	return s;
}

int ts_case_rules_in_force(ts_node *node, int (*cb)(const ts_case_rules_info *rules, void *payload),
	void *payload)
{
	sqlite3_stmt *st = NULL;
	ts_case_rules_info info;
	ts_case_category_rules *cats = NULL, *grown;
	char *threshold_scope = NULL, *review_scope = NULL;
	size_t n = 0, alloc = 0;
	int rc, oom = 0, error = 0;

	if (!cb)
		return ts_error_set(TS_EINVALID, "reading the case rules needs a callback");
	memset(&info, 0, sizeof(info));
	info.jurisdiction = node->scope;
	info.major_threshold = -1;
	if (sqlite3_prepare_v2(node->db, RULES_IN_FORCE "SELECT value, scope FROM r "
			"WHERE rule = 'major_threshold' ORDER BY length(scope) DESC LIMIT 1", -1, &st, NULL) != SQLITE_OK) {
		error = ts_sqlite__error(node->db, "reading the case rules");
		goto done;
	}
	sqlite3_bind_text(st, 1, node->scope, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		info.major_threshold = sqlite3_column_int64(st, 0);
		threshold_scope = text_dup(st, 1, &oom);
	} else if (rc != SQLITE_DONE) {
		error = ts_sqlite__error(node->db, "reading the case rules");
		goto done;
	}
	sqlite3_finalize(st);
	st = NULL;
	info.review_tier = 2;
	if (sqlite3_prepare_v2(node->db, RULES_IN_FORCE "SELECT value, scope FROM r "
			"WHERE rule = 'review_tier' ORDER BY length(scope) DESC LIMIT 1", -1, &st, NULL) != SQLITE_OK) {
		error = ts_sqlite__error(node->db, "reading the case rules");
		goto done;
	}
	sqlite3_bind_text(st, 1, node->scope, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		info.review_tier = sqlite3_column_int(st, 0);
		review_scope = text_dup(st, 1, &oom);
	} else if (rc != SQLITE_DONE) {
		error = ts_sqlite__error(node->db, "reading the case rules");
		goto done;
	}
	sqlite3_finalize(st);
	if (sqlite3_prepare_v2(node->db, RULES_IN_FORCE "SELECT c.code, "
			"  coalesce((SELECT value FROM r WHERE rule = 'deadline_days' AND category = c.code "
			"    ORDER BY length(scope) DESC LIMIT 1), c.deadline_days), "
			"  (SELECT scope FROM r WHERE rule = 'deadline_days' AND category = c.code "
			"    ORDER BY length(scope) DESC LIMIT 1), "
			"  coalesce((SELECT value FROM r WHERE rule = 'immediate_penalty' AND category = c.code "
			"    ORDER BY length(scope) DESC LIMIT 1), 0), "
			"  (SELECT scope FROM r WHERE rule = 'immediate_penalty' AND category = c.code "
			"    ORDER BY length(scope) DESC LIMIT 1) "
			"FROM categories c ORDER BY c.code", -1, &st, NULL) != SQLITE_OK) {
		error = ts_sqlite__error(node->db, "reading the case rules");
		goto done;
	}
	sqlite3_bind_text(st, 1, node->scope, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		ts_case_category_rules *c;
		if (n == alloc) {
			alloc = alloc ? 2 * alloc : 32;
			if (!(grown = realloc(cats, alloc * sizeof(*cats)))) {
				oom = 1;
				break;
			}
			cats = grown;
		}
		c = &cats[n++];
		c->category = text_dup(st, 0, &oom);
		c->deadline_days = sqlite3_column_int64(st, 1);
		c->deadline_scope = text_dup(st, 2, &oom);
		c->immediate_penalty = sqlite3_column_int(st, 3) == 1;
		c->immediate_penalty_scope = text_dup(st, 4, &oom);
	}
	if (!oom && rc != SQLITE_DONE) {
		error = ts_sqlite__error(node->db, "reading the case rules");
		goto done;
	}
	if (oom) {
		error = ts_error_set(TS_ERROR, "reading the case rules: out of memory");
		goto done;
	}
	info.major_threshold_scope = threshold_scope;
	info.review_tier_scope = review_scope;
	info.categories = cats;
	info.ncategories = n;
	error = cb(&info, payload);
done:
	sqlite3_finalize(st);
	category_rules_dispose(cats, n);
	free(threshold_scope);
	free(review_scope);
	return error;
}
