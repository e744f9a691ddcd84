/*
 * The case lifecycle (node/lifecycle.c): the steps a case goes through
 * after intake, each refused with a message that says why when the case's
 * state or the rules forbid it, and the rules the upper tiers set. See
 * docs/LIFECYCLE.md.
 *
 * Every step is one ts_node_write(): the case row changes and one
 * append-only case_events row (the step's kind, the officer's real name,
 * the time, this node) is added in the same transaction, or nothing is
 * written at all. `author` is the officer's real name (NULL: the node's
 * identity); `note`, where taken, is free text added to the event (may be
 * NULL). Refusals return TS_EDENIED (the state or the rules forbid the
 * step), TS_EINVALID (a bad argument) or TS_ENOTFOUND (no such case).
 */
#ifndef TS_NODE_LIFECYCLE_H
#define TS_NODE_LIFECYCLE_H

#include <stdint.h>

#include "tiersync.h"

/* 即时调度: sends the case to the named officer (首问负责), who stays
 * responsible. From discovered, or again while dispatched. */
int ts_case_dispatch(ts_node *node, const char *author, const char *case_id, const char *officer,
	const char *note);

/* 三步法, step one, 教育核录: educate and record the party. The case must be
 * dispatched; it is then being handled. */
int ts_case_educate(ts_node *node, const char *author, const char *case_id, const char *note);

/* 三步法, step two, 警示训诫: only after educating. */
int ts_case_warn(ts_node *node, const char *author, const char *case_id, const char *note);

/* 三步法, step three, 依法处罚: only after warning, unless the case's
 * category may be penalized at once (rule immediate_penalty). */
int ts_case_penalize(ts_node *node, const char *author, const char *case_id, const char *note);

/* 立案: files a case being penalized. */
int ts_case_file(ts_node *node, const char *author, const char *case_id, const char *note);

/*
 * 处罚决定: the legal basis and the fine, in fen, of a filed case. The case
 * becomes major when `major` is 1 or the fine reaches the major_threshold
 * rule; a major case's review is then pending. A decision may be made
 * again only after its review rejected it.
 */
int ts_case_decide(ts_node *node, const char *author, const char *case_id, const char *legal_basis,
	int64_t amount_fen, int major, const char *note);

/* 法制审核: approves (approve = 1) or rejects the decision of a major case
 * whose review is pending. `reviewer` is the reviewer's real name (NULL:
 * the author); the event names the reviewer. */
int ts_case_review(ts_node *node, const char *author, const char *case_id, int approve,
	const char *reviewer, const char *note);

/* 备案: files an approved major case with the higher tier. */
int ts_case_file_up(ts_node *node, const char *author, const char *case_id, const char *note);

/* 执行: the decided penalty is carried out; a major one only once approved. */
int ts_case_execute(ts_node *node, const char *author, const char *case_id, const char *note);

/* 移送: hands an open case to another department or the police (`to`);
 * it takes no more steps here. */
int ts_case_transfer(ts_node *node, const char *author, const char *case_id, const char *to,
	const char *note);

/* 即时反馈: reports the result of the on-site handling. */
int ts_case_feedback(ts_node *node, const char *author, const char *case_id, const char *note);

/* 回访: the return visit of a complaint case after its feedback, with the
 * complainant's satisfaction: satisfied, basically_satisfied or
 * dissatisfied. */
int ts_case_visit(ts_node *node, const char *author, const char *case_id, const char *satisfaction,
	const char *note);

/*
 * 办结: closes a case after its feedback. A penalized case must be filed,
 * decided and executed; a major one also approved and filed up; a
 * complaint case must have had its return visit.
 */
int ts_case_close(ts_node *node, const char *author, const char *case_id, const char *note);

/*
 * Edits the columns of an open case that are not part of its lifecycle
 * (description, address, lng, lat, complainant, key area, event): like
 * ts_case_update(), but a lifecycle column is refused naming the step that
 * sets it, and a closed or transferred case is refused whole.
 */
int ts_case_edit(ts_node *node, const char *author, const char *case_id, const ts_field *sets,
	size_t nsets);

/* The step that sets a lifecycle column of `cases` ("dispatch", ...), or
 * NULL if the column may be edited. */
const char *ts_case_column_step(const char *column);

/*
 * Parses an amount of yuan ("200", "200.5", "1234.56") into fen. At most
 * two decimals, no sign, no exponent; TS_EINVALID otherwise.
 */
int ts_case_yuan_parse(int64_t *fen_out, const char *text);

/* One rule to set: `rule` is major_threshold (value in fen), deadline_days
 * or immediate_penalty (value 0/1); `category` names the category of the
 * last two (NULL for major_threshold). */
typedef struct {
	const char *rule;
	const char *category;
	int64_t value;
} ts_case_rule;

/*
 * Sets rules for this node's own jurisdiction, in one write. Only a city or
 * district node may (TS_EDENIED on a street or device); each rule is
 * checked before anything is written.
 */
int ts_case_rules_set(ts_node *node, const char *author, const ts_case_rule *rules, size_t nrules);

/* The jurisdiction of a case recorded at this node: a device's street (its
 * parent id), else the node's own id. The caller frees it. */
char *ts_case_jurisdiction(const ts_node *node);

/* Inside node/ only. */

/* The value of `rule` for `category` ("" for none) in `jurisdiction`: the
 * longest matching scope wins. 0 when found, TS_ENOTFOUND when no row. */
int ts_case__rule(int64_t *out, sqlite3 *db, const char *jurisdiction, const char *rule,
	const char *category);

/* Appends one case event, inside a ts_node_write(). */
int ts_case__event(ts_node *node, const char *case_id, const char *kind, const char *officer,
	const char *detail, const char *at);

#endif
