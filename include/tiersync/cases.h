/*
 * tiersync/cases.h — the case application: cases and their lifecycle, evidence, key areas, supervision, major events, small ads and the figures.
 * Part of the public API; include "tiersync.h" for all of it.
 */
#ifndef TIERSYNC_CASES_H
#define TIERSYNC_CASES_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "tiersync/node.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The case application (node/case.c). */

/* One column assignment; `value` NULL means SQL NULL. Values are given as
 * text and converted to the column's type. */
typedef struct {
	const char *column;
	const char *value;
} ts_field;

/*
 * Records a new case found at this node, with its intake event. `category`,
 * `source` and `address` are required; `extra` sets further columns. A
 * case found on a patrol names it in `extra` as { "patrol_id", ID }: its
 * source must be "patrol", and the patrol counts it (ts_patrol_start() in
 * tiersync/patrols.h says the rules). The new case id is written to
 * *id_out (free() it).
 */
int ts_case_new(char **id_out, ts_node *node, const char *author, const char *category,
	const char *source, const char *address, const ts_field *extra, size_t nextra);

/*
 * Sets columns of a case and records the step as a case event. An unknown
 * column, a value of the wrong type or outside its allowed set, and any
 * edit of a closed case are refused whole (TS_EINVALID / TS_EDENIED).
 */
int ts_case_update(ts_node *node, const char *author, const char *case_id,
	const ts_field *sets, size_t nsets);


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

/* 即时调度: sends the case to the named officer, who is then the current
 * officer (cases.officer). From discovered, or again while dispatched. The
 * first dispatch's officer is also the first-contact officer (首问负责制,
 * cases.first_officer), whom a re-dispatch does not change. */
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

/*
 * 法制审核: approves (approve = 1) or rejects the decision of a major case
 * whose review is pending. `reviewer` is the reviewer's real name (NULL:
 * the author); the event names the reviewer. The review is made at the
 * tier of the review_tier rule in force for the case (a district by
 * default), on a node of that tier whose jurisdiction holds the case (the
 * decision arrives there by sync), and by someone other than the officer
 * of the decision's event: else TS_EDENIED, naming the tier that reviews
 * or the decider.
 */
int ts_case_review(ts_node *node, const char *author, const char *case_id, int approve,
	const char *reviewer, const char *note);

/* 备案: files an approved major case with the higher tier: the case's
 * filed_up_at is set, and a row of case_filings names the upper node it is
 * filed with (the reviewing tier's node above the case, else the case's
 * parent), for that node to acknowledge. */
int ts_case_file_up(ts_node *node, const char *author, const char *case_id, const char *note);

/*
 * 备案: the upper node acknowledges a filing up: its case_filings row gets
 * who and when (and `note`, may be NULL), and the case a 'note' event.
 * Only a district or the city whose jurisdiction holds the node the case
 * is filed with may, once (TS_EDENIED otherwise, or when the case is not
 * filed up; TS_ENOTFOUND for no such case). Closing a case does not wait
 * for it: the filing is a record for the upper tier's oversight.
 */
int ts_case_file_up_ack(ts_node *node, const char *author, const char *case_id, const char *note);

/* One filing up (备案), as ts_case_filings() reports it. */
typedef struct {
	const char *case_id;
	const char *category;
	const char *jurisdiction;      /* the case's */
	const char *legal_basis;       /* of the decision filed */
	int64_t penalty_amount;        /* fen; -1 when none */
	const char *reviewer;          /* who approved it in legal review */
	const char *filed_at;
	const char *filed_by;          /* the real name of who filed it up */
	const char *node;              /* where it was filed up */
	const char *filed_with;        /* the upper node it is filed with */
	const char *acked_at;          /* NULL while it awaits acknowledgement */
	const char *acked_by;
	const char *ack_note;
} ts_case_filing_info;

#define TS_CASE_FILING_FILTER_VERSION 1

typedef struct {
	unsigned int version;          /* TS_CASE_FILING_FILTER_VERSION */
	int pending_only;              /* 1: only those not acknowledged yet */
} ts_case_filing_filter;

#define TS_CASE_FILING_FILTER_INIT { TS_CASE_FILING_FILTER_VERSION, 0 }

/*
 * Calls `cb` for each filing up this node holds that concerns it: filed
 * with it or with a node below it, or of a case of its jurisdiction. In
 * order of filing time, then case id. Reads only; a filing's strings live
 * until the callback returns, and a non-zero return stops the list and is
 * returned. A NULL filter lists all; a filter of another version is
 * refused (TS_EINVALID) before any call.
 */
int ts_case_filings(ts_node *node, const ts_case_filing_filter *filter,
	int (*cb)(const ts_case_filing_info *filing, void *payload), void *payload);

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

/* Writes an amount in fen as yuan with two decimals ("12000.00") to `out`,
 * which holds 32 bytes. */
void ts_case_yuan_format(char out[32], int64_t fen);

/* One rule to set: `rule` is major_threshold (value in fen), review_tier
 * (the tier that makes the legal review: 1 the city, 2 a district),
 * deadline_days or immediate_penalty (value 0/1); `category` names the
 * category of the last two (NULL for the first two). */
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

/*
 * The value of the case rule `rule` in force for `category` in
 * `jurisdiction` (NULL: this node's, as ts_case_jurisdiction() gives it),
 * as intake and the steps read it: the rule set for the narrowest scope
 * that covers the jurisdiction. Without such a rule, deadline_days is the
 * category's own (categories.deadline_days), immediate_penalty is 0 and
 * review_tier 2 (the district); major_threshold has no default:
 * TS_ENOTFOUND. The `category` of major_threshold and review_tier must be
 * NULL or "". An unknown rule, or a per-category rule without a known
 * category, is TS_EINVALID. Reads only; callable inside ts_node_write().
 */
int ts_case_rule_value(int64_t *out, ts_node *node, const char *jurisdiction, const char *rule,
	const char *category);

/* The rules in force for one category, as ts_case_rules_in_force() reports
 * them. A scope is the node id a rule was set for, or "" for the default
 * the schema ships. */
typedef struct {
	const char *category;
	int64_t deadline_days;                /* from report to deadline (限时办结) */
	const char *deadline_scope;           /* NULL: no rule; the category's own days */
	int immediate_penalty;                /* 1: may be penalized without educating and warning first */
	const char *immediate_penalty_scope;  /* NULL: no rule; 0 */
} ts_case_category_rules;

/* The case rules in force at a node, as ts_case_rules_in_force() reports them. */
typedef struct {
	const char *jurisdiction;             /* whose: the node's cases' (ts_case_jurisdiction) */
	int64_t major_threshold;              /* fen; -1 when no rule: only cases marked major are */
	const char *major_threshold_scope;    /* NULL when no rule */
	const ts_case_category_rules *categories;  /* every category, in order of its code */
	size_t ncategories;
	int review_tier;                      /* who makes the legal review: 1 the city, 2 a district */
	const char *review_tier_scope;        /* NULL when no rule (the district) */
} ts_case_rules_info;

/*
 * Calls `cb` once with the case rules in force for the cases of this node's
 * jurisdiction: the major-case threshold, and per category its deadline and
 * whether it may be penalized at once, each with the scope it comes from
 * (the rule of the narrowest scope that covers the jurisdiction, as
 * ts_case_rule_value() reads it). Everything `rules` points to lives until
 * the callback returns; a non-zero return is returned as it is.
 */
int ts_case_rules_in_force(ts_node *node, int (*cb)(const ts_case_rules_info *rules, void *payload),
	void *payload);

/*
 * Reading cases (node/case.c): the cases this node holds, one case, and
 * its events. These read only, and call a callback once per record, in a
 * stated order. A record's strings live until the callback returns: copy
 * what is kept. A non-zero return from the callback stops the reading, and
 * the call returns it as it is. Times are in the schema's form,
 * "YYYY-MM-DDTHH:MM:SS+08:00".
 */

/* One case: every column of `cases`, in the table's order, then what is
 * derived from them. A string column that is SQL NULL is NULL. */
typedef struct {
	const char *id;
	const char *source;            /* 发现渠道, a code of sources */
	const char *category;          /* 违法形态, a code of categories */
	const char *address;
	int has_lng;                   /* 1 when lng is set */
	double lng;                    /* longitude, degrees; 0 when not set */
	int has_lat;                   /* 1 when lat is set */
	double lat;                    /* latitude, degrees; 0 when not set */
	const char *jurisdiction;      /* the node id of the street or district it belongs to */
	const char *description;
	const char *status;            /* discovered, dispatched, handling, feedback, closed or transferred */
	const char *officer;           /* the current officer, once dispatched */
	const char *reported_at;
	const char *deadline;          /* 限时办结 */
	const char *stage;             /* 三步法: educate, warn or penalize; NULL before */
	const char *filed_at;          /* 立案 */
	const char *legal_basis;       /* 处罚决定 */
	int64_t penalty_amount;        /* fen; -1 when none was decided */
	const char *decided_at;
	int major;                     /* 1: a major penalty case (重大行政处罚) */
	const char *review_status;     /* 法制审核: pending, approved or rejected */
	const char *reviewer;
	const char *reviewed_at;
	const char *filed_up_at;       /* 备案 */
	const char *executed_at;       /* 执行 */
	const char *transfer_to;       /* 移送: the department */
	const char *transferred_at;
	const char *complainant_name;
	const char *complainant_phone;
	const char *visited_at;        /* 回访 */
	const char *satisfaction;      /* satisfied, basically_satisfied or dissatisfied */
	const char *key_area_id;
	const char *event_id;          /* the major event it fell in */
	const char *created_by_node;
	const char *closed_at;         /* 办结 */
	const char *patrol_id;         /* the patrol it was found on (tiersync/patrols.h), or NULL */
	int overdue;                   /* 1: open (neither closed nor transferred) and its
	                                  deadline before now, by the node's clock */
	const char *first_officer;     /* 首问负责制: the officer of the first dispatch, kept
	                                  when it is dispatched again (officer is the current
	                                  one); NULL before */
} ts_case_info;

#define TS_CASE_FILTER_VERSION 1

typedef struct {
	unsigned int version;          /* TS_CASE_FILTER_VERSION */
	const char *status;            /* only the cases in this status; NULL: any (a status
	                                  no case has lists none) */
	int overdue_only;              /* 1: only the overdue cases (ts_case_info.overdue) */
} ts_case_filter;

#define TS_CASE_FILTER_INIT { TS_CASE_FILTER_VERSION, NULL, 0 }

/*
 * Calls `cb` for each case this node holds (recorded here or arrived by
 * sync), in order of report time, then id. A NULL filter lists every case,
 * as does its _INIT; a filter whose `version` is not
 * TS_CASE_FILTER_VERSION is refused (TS_EINVALID) before any case.
 */
int ts_case_list(ts_node *node, const ts_case_filter *filter,
	int (*cb)(const ts_case_info *c, void *payload), void *payload);

/*
 * Calls `cb` once with the case `case_id`; TS_ENOTFOUND, with no call, if
 * this node holds no such case.
 */
int ts_case_get(ts_node *node, const char *case_id,
	int (*cb)(const ts_case_info *c, void *payload), void *payload);

/* One event of a case (执法全过程记录), as ts_case_events() reports it. */
typedef struct {
	const char *id;
	const char *case_id;
	const char *at;
	const char *kind;              /* intake, dispatch, educate, ... (docs/SCHEMA.md) */
	const char *officer;           /* the real name of who did it */
	const char *node;              /* where it was recorded */
	const char *detail;            /* or NULL */
} ts_case_event_info;

/*
 * Calls `cb` for each event of case `case_id`, in order of time, then id.
 * TS_ENOTFOUND if this node holds no such case.
 */
int ts_case_events(ts_node *node, const char *case_id,
	int (*cb)(const ts_case_event_info *event, void *payload), void *payload);

/*
 * Between the tiers: key areas (node/areas.c), supervision items
 * (node/supervision.c), major events (node/events.c) and the phone numbers
 * of small ads (node/small_ads.c), with the tier and jurisdiction rules
 * they share (node/tiers.c). See docs/TIERS.md.
 *
 * Every write goes through ts_node_write() with the author's real name, so
 * it is staged durably and committed under that name. A refused operation
 * returns TS_EDENIED (the tier or jurisdiction forbids it), TS_EINVALID
 * (bad input) or TS_ENOTFOUND (no such row), with one clear message, and
 * writes nothing.
 *
 * The lists (ts_area_list, ts_supervise_list, ts_event_list, ts_ads_list)
 * read only, and call a callback once per record, in a stated order. A
 * record's strings, and anything else it points to, live until the
 * callback returns: copy what is kept. A non-zero return from the callback
 * stops the list, and the list returns it as it is. A NULL filter lists
 * every record in this node's view, as does a filter whose other fields
 * are 0 (its _INIT); a filter's `version` must be its TS_*_FILTER_VERSION,
 * else the list is refused (TS_EINVALID) before any record. Times are in
 * the schema's form, "YYYY-MM-DDTHH:MM:SS+08:00".
 */

/*
 * Jurisdiction and times (node/tiers.c).
 */

/* 1 when the place `id` lies in the jurisdiction of node `scope`: it is
 * `scope` itself or below it ("bj.dc.jingshan" lies in "bj.dc" and "bj"). */
int ts_jurisdiction_covers(const char *scope, const char *id);

/*
 * Parses a date or time as people write it into the schema's form
 * "YYYY-MM-DDTHH:MM:SS+08:00". Accepts "YYYY-MM-DD" (then the start of the
 * day, or its last second when `end_of_day`), "YYYY-MM-DD HH:MM[:SS]",
 * "YYYY-MM-DDTHH:MM[:SS]" and the full form with "+08:00". A date that
 * does not exist (2015-02-30) is TS_EINVALID, the message starting with
 * `what`: the name of what the text gives ("due", say).
 */
int ts_time_parse(char out[32], const char *text, int end_of_day, const char *what);

/* The current time in the schema's form (TIERSYNC_NOW overrides the clock). */
void ts_time_now(char out[32]);

/*
 * Key areas, 重点地区 (node/areas.c).
 */

/*
 * Lists a key area (挂账) now. Only the city or a district may. A
 * district's area is its own. The city names the districts the area lies
 * in (`districts`, at least one, each a district directly below the city):
 * the city row is written with one district row per district, carrying it
 * (city_key_area_id), so that a city key area is a key area of each of
 * those districts. The new (city or district) row's id goes to *id_out
 * (free() it).
 */
int ts_area_add(char **id_out, ts_node *node, const char *author, const char *name,
	const char *zone, const char *reason, const char *const *districts, size_t ndistricts);

/*
 * Delists a key area (销账) now, with a reason. The city may delist any
 * area; delisting a city area delists the district rows that carry it. A
 * district may delist only its own areas, and not a row that carries a
 * city area (the city delists that). Streets and devices are refused.
 */
int ts_area_delist(ts_node *node, const char *author, const char *area_id, const char *reason);

/*
 * For case intake: 1 when `area_id` is a listed key area that a case of
 * `jurisdiction` may lie in (the area's owner covers it), 0 when not (with
 * the reason as the last error), < 0 on failure. Writes nothing.
 */
int ts_area_fits_case(ts_node *node, const char *area_id, const char *jurisdiction);

/* One key area, as ts_area_list() reports it. */
typedef struct {
	const char *id;
	const char *level;             /* "city" or "district": the tier that keeps it */
	const char *owner_node;        /* the city or district that keeps it */
	const char *city_key_area_id;  /* a district row carrying a city area: that area; else NULL */
	const char *name;
	const char *zone;              /* where its bounds run, or NULL */
	const char *listed_at;         /* 挂账 */
	const char *reason;            /* why it was listed, or NULL */
	const char *delisted_at;       /* 销账; NULL while it is listed */
	const char *delist_reason;     /* NULL while it is listed */
} ts_area_info;

#define TS_AREA_FILTER_VERSION 1

typedef struct {
	unsigned int version;          /* TS_AREA_FILTER_VERSION */
	int listed_only;               /* 1: leave out the delisted areas */
} ts_area_filter;

#define TS_AREA_FILTER_INIT { TS_AREA_FILTER_VERSION, 0 }

/*
 * Calls `cb` for each key area in this node's view: on the city, every
 * row, city and district; on any other node, the district rows of its own
 * district (a district's own, a street's or device's district's), which
 * include the rows carrying the city's areas there. In order of owner
 * node, then listing time, then id. The rules of lists are under "Between
 * the tiers" above.
 */
int ts_area_list(ts_node *node, const ts_area_filter *filter,
	int (*cb)(const ts_area_info *area, void *payload), void *payload);

/*
 * Supervision items, 督办 (node/supervision.c).
 */

typedef struct {
	const char *target;    /* the node that must answer: below the issuer */
	const char *subject;   /* one line */
	const char *detail;    /* or NULL */
	const char *case_id;   /* the case it is about, or NULL */
	const char *due;       /* a date or time (ts_time_parse), or NULL */
} ts_supervise_options;

/*
 * Issues a supervision item from this node (the city or a district) to a
 * node inside its jurisdiction. A case it names must exist and lie in the
 * target's jurisdiction; the case gets a 'supervise' event. The item's id
 * goes to *id_out (free() it).
 */
int ts_supervise_issue(char **id_out, ts_node *node, const char *author, const ts_supervise_options *opts);

/*
 * Adds this node's feedback to an open item (三级反馈): the target answers
 * (the item becomes 'answered'), and every node above the target up to the
 * city may add its own feedback at its level. Devices, nodes outside the
 * chain and closed items are refused. The feedback id goes to *id_out.
 */
int ts_supervise_answer(char **id_out, ts_node *node, const char *author, const char *item_id,
	const char *text);

/* Closes an answered item (闭合). Only the issuing node may. */
int ts_supervise_close(ts_node *node, const char *author, const char *item_id);

/* One feedback on a supervision item (三级反馈). */
typedef struct {
	const char *level;             /* "street", "district" or "city": the tier answering */
	const char *node;              /* the answering node */
	const char *at;
	const char *author;            /* the real name of who answered */
	const char *text;              /* what was done */
} ts_supervise_feedback;

/* One supervision item, as ts_supervise_list() reports it. */
typedef struct {
	const char *id;
	const char *status;            /* "open", "answered" (by the target) or "closed" (by the issuer) */
	const char *level;             /* "city" or "district": the issuer's tier */
	const char *issued_by_node;
	const char *issuer;            /* the real name of who issued it, or NULL */
	const char *target_node;       /* the node that must answer */
	const char *case_id;           /* the case it is about, or NULL */
	const char *subject;
	const char *detail;            /* or NULL */
	const char *issued_at;
	const char *due_at;            /* or NULL */
	const char *closed_at;         /* NULL until closed */
	int overdue;                   /* 1: still open, and due before now */
	const ts_supervise_feedback *feedback;  /* its feedback, in the order given (time, then id) */
	size_t nfeedback;
} ts_supervise_info;

#define TS_SUPERVISE_FILTER_VERSION 1

typedef struct {
	unsigned int version;          /* TS_SUPERVISE_FILTER_VERSION */
	int open_only;                 /* 1: leave out the closed items */
} ts_supervise_filter;

#define TS_SUPERVISE_FILTER_INIT { TS_SUPERVISE_FILTER_VERSION, 0 }

/*
 * Calls `cb` for each supervision item that concerns this node: issued by
 * it or by a node below it, or aimed at it, at a node below it or at a
 * node above it (a device sees its street's). In order of issue time, then
 * id. The rules of lists are under "Between the tiers" above.
 */
int ts_supervise_list(ts_node *node, const ts_supervise_filter *filter,
	int (*cb)(const ts_supervise_info *item, void *payload), void *payload);

/*
 * Major events, 重大活动保障 (node/events.c).
 */

/*
 * Declares a major-event period from this node (the city or a district):
 * `from` and `to` as ts_time_parse() reads them (a date `to` means its
 * whole day). The cases this node already holds that fall in it are
 * marked in the same write; *marked says how many (may be NULL). The
 * event's id goes to *id_out (free() it).
 */
int ts_event_add(char **id_out, size_t *marked, ts_node *node, const char *author, const char *name,
	const char *from, const char *to, const char *zone);

/*
 * Marks the cases this node holds, in its jurisdiction, that fall in a
 * major event and carry none yet: for events that arrived by pull. `event`
 * limits it to one event (NULL: every event). *marked says how many
 * (0 writes nothing).
 */
int ts_event_mark(size_t *marked, ts_node *node, const char *author, const char *event);

/*
 * For case intake: the major event a case of `jurisdiction` reported at
 * `reported_at` falls in, or NULL in *event_out when none (free() it). Of
 * several, the most local one, then the earliest started, then the lowest
 * id. Reads only; callable inside ts_node_write().
 */
int ts_event_for_case(char **event_out, ts_node *node, const char *jurisdiction, const char *reported_at);

/*
 * For case intake: marks the case `case_id` with the major event it falls
 * in (ts_event_for_case on its own jurisdiction and reported_at), unless it
 * carries one already. Call it inside the intake's ts_node_write(), after
 * the case row is written. *marked (may be NULL) is 1 when it was marked.
 */
int ts_event_mark_case(int *marked, ts_node *node, const char *case_id);

/* One major event, as ts_event_list() reports it. */
typedef struct {
	const char *id;
	const char *level;             /* "city" or "district": the tier that declared it */
	const char *owner_node;        /* the node that declared it */
	const char *name;
	const char *starts_at;         /* the period, both ends included */
	const char *ends_at;
	const char *zone;              /* the controlled zone, or NULL */
	int64_t cases;                 /* the cases this node holds that are marked with it */
} ts_event_info;

#define TS_EVENT_FILTER_VERSION 1

/* Nothing narrows the list of events yet: only the version. */
typedef struct {
	unsigned int version;          /* TS_EVENT_FILTER_VERSION */
} ts_event_filter;

#define TS_EVENT_FILTER_INIT { TS_EVENT_FILTER_VERSION }

/*
 * Calls `cb` for each major event that concerns this node: declared by it,
 * by a node above it or by a node below it. In order of start, then id.
 * The rules of lists are under "Between the tiers" above.
 */
int ts_event_list(ts_node *node, const ts_event_filter *filter,
	int (*cb)(const ts_event_info *event, void *payload), void *payload);

/*
 * Small ads, 违法电话号码警示 (node/small_ads.c).
 */

/*
 * Records the phone numbers found on a small_ads case, one row each. Each
 * must be digits only (spaces and '-' are dropped), not repeated, and not
 * already recorded on the case; the case must lie in this node's
 * jurisdiction and not be closed. All or nothing.
 */
int ts_ads_add(ts_node *node, const char *author, const char *case_id, const char *const *phones,
	size_t nphones);

/*
 * Records a warning call to `phone` (warned, unreachable or suspended) now,
 * by `author`, on every sighting of it in this node's jurisdiction that is
 * not yet warned. *rows says how many (may be NULL). TS_ENOTFOUND when the
 * number is not on record or is already warned everywhere.
 */
int ts_ads_warn(size_t *rows, ts_node *node, const char *author, const char *phone, const char *outcome);

/* The figures of the numbers in this node's jurisdiction. */
typedef struct {
	long long found;        /* distinct numbers recorded */
	long long warned;       /* of them: every sighting warned */
	long long unreachable;  /* of them: not warned, last outcome unreachable */
	long long suspended;    /* of them: not warned, suspended */
	long long untried;      /* of them: a sighting not yet called */
	double rate;            /* warned / found; 0 when nothing was found */
} ts_ads_figures;

/* Fills *out for this node's jurisdiction. */
int ts_ads_figures_get(ts_ads_figures *out, ts_node *node);

/* One phone number, as ts_ads_list() reports it. */
typedef struct {
	const char *phone;             /* digits only */
	const char *state;             /* from its sightings, as the figures count them: "warned"
	                                  (every one warned), else "untried" (one not yet called),
	                                  else "suspended" (one reached a suspended line),
	                                  else "unreachable" */
	int64_t cases;                 /* the cases it was found on (its sightings) */
	const char *last_call;         /* the latest warning call on any sighting, or NULL */
	const char *last_caller;       /* the real name of who made that call, or NULL */
} ts_ads_info;

#define TS_ADS_FILTER_VERSION 1

typedef struct {
	unsigned int version;          /* TS_ADS_FILTER_VERSION */
	int unwarned_only;             /* 1: leave out the numbers in state "warned" */
} ts_ads_filter;

#define TS_ADS_FILTER_INIT { TS_ADS_FILTER_VERSION, 0 }

/*
 * Calls `cb` for each phone number found on the cases whose jurisdiction
 * is this node's id or lies below it, counting only those sightings. In
 * order of the number. The rules of lists are under "Between the tiers"
 * above.
 *
 * The view is the node's id, where ts_ads_figures_get() and ts_ads_warn()
 * take its jurisdiction: on a device, whose cases are its street's, this
 * lists none.
 */
int ts_ads_list(ts_node *node, const ts_ads_filter *filter,
	int (*cb)(const ts_ads_info *number, void *payload), void *payload);

/*
 * Evidence (证据): photos, video, body-camera footage and documents of a
 * case, kept in history by content (SHA-256) through the engine's files
 * (sync/files.h), each recorded as an immutable row of `evidence` with who
 * captured it, when and where, plus a case event. See docs/EVIDENCE.md.
 */

/* What `evidence add` may say about an item besides its content. */
typedef struct {
	const char *kind;         /* photo, video, bodycam or document; NULL: from the media type */
	const char *media_type;   /* e.g. "image/jpeg"; NULL: from the file name's extension */
	int has_place;            /* 1 when lng and lat are given */
	double lng, lat;          /* where it was captured, degrees */
	const char *note;         /* what it shows, or NULL */
} ts_evidence_options;

/*
 * Adds the file at `path` to case `case_id` as evidence captured by
 * `author` (NULL: the node's identity) now, at this node. The content is
 * stored in history (streaming: never read whole into memory) and staged
 * with the evidence row and an 'evidence' case event in one write; the
 * next commit carries all three. Writes the new evidence id to *id_out
 * (free() it) and the content's SHA-256 to `sha256_out`.
 *
 * TS_ENOTFOUND: no such case, or no such file. TS_EDENIED: the case is
 * closed. TS_EEXISTS: the case already holds this content (the message
 * names the evidence that does). TS_EINVALID: a bad kind, media type,
 * place or author.
 */
int ts_evidence_add(char **id_out, char sha256_out[65], ts_node *node, const char *author,
	const char *case_id, const char *path, const ts_evidence_options *opts);

/* One evidence item, as ts_evidence_list() reports it. */
typedef struct {
	const char *id;
	const char *case_id;
	const char *kind;
	const char *sha256;
	int64_t size;
	const char *media_type;
	const char *captured_by;
	const char *captured_at;
	int has_place;
	double lng, lat;
	const char *note;         /* or NULL */
	int stored;               /* 1 when this node holds the content */
} ts_evidence_info;

/*
 * Calls `cb` for each evidence item of case `case_id`, in the order they
 * were captured; a non-zero return stops and is returned. TS_ENOTFOUND if
 * there is no such case.
 */
int ts_evidence_list(ts_node *node, const char *case_id,
	int (*cb)(const ts_evidence_info *item, void *payload), void *payload);

/*
 * Writes the content of the evidence of case `case_id` whose SHA-256 is
 * `sha256` (or starts with it: at least 8 hex digits, naming one item) to
 * the file `out_path`, streaming, and checks its SHA-256 on the way. The
 * content goes to a temporary file beside `out_path`, renamed into place
 * only once it proved whole: on any failure (TS_ECORRUPT for a mismatch)
 * nothing is left at `out_path` that was not there before; once whole, it
 * is synced to disk, renamed into place and its directory synced. Only a
 * regular file is ever replaced: if `out_path` is anything else — a device
 * such as /dev/null, a FIFO, a directory, a socket, or a symbolic link
 * (refused, not followed) — the call is refused with TS_EINVALID and
 * nothing is changed. Writes the full SHA-256 to `sha256_out` (may be NULL).
 */
int ts_evidence_get(char sha256_out[65], ts_node *node, const char *case_id, const char *sha256,
	const char *out_path);

/*
 * Figures (考核评议): what a tier reports from its own merged database for
 * its own jurisdiction, in total and per child unit (the next tier down).
 * Each figure is one SQL query over the case schema; the queries are in
 * node/report.c and, for anyone to re-run with the sqlite3 shell, in
 * docs/REPORT.md. The figures come back as the plain structs below; how
 * they are written out (as text or JSON) is up to the caller, e.g.
 * `tiersync report` (tools/cmd_report.c).
 */

/* How a figure reads. */
typedef enum {
	TS_FIGURE_COUNT = 0,   /* a number: value */
	TS_FIGURE_RATE,        /* value of base, e.g. 95 of 100; goal: at least goal_percent */
	TS_FIGURE_DROP,        /* value this period against base the same period last year;
	                          goal: down by at least goal_percent */
	TS_FIGURE_ZERO         /* a number whose goal is zero (零发生): met when value is 0 */
} ts_figure_kind;

/* One figure's definition. */
typedef struct {
	const char *name;      /* the JSON key, e.g. "cases_closed_rate" */
	const char *label;     /* for people, e.g. "rectification rate 问题整改率" */
	ts_figure_kind kind;
	int goal_percent;      /* 0: no goal */
	const char *sql;       /* one row: (value, base); base NULL for a count.
	                          Parameters :scope :from :to :last_from :last_to */
	const char *baseline_sql;  /* NULL, or (a drop) one row: the unit's complaint
	                          baseline (常量) prorated over the period, NULL when
	                          the unit has none; goal: value below it by at least
	                          goal_percent. Parameters :scope :from :to */
} ts_report_figure;

/* The figures, in report order; ts_report_nfigures of them. */
extern const ts_report_figure ts_report_figures[];
extern const size_t ts_report_nfigures;

/* One value of a figure: base is the denominator (rates) or last year's
 * value (drops), 0 for counts; met is the goal's verdict. A figure with a
 * baseline_sql also has its prorated baseline and that goal's verdict. */
typedef struct {
	int64_t value;
	int64_t base;
	int met;            /* 1 goal met, 0 missed, -1 none: no goal, or base 0 */
	int has_baseline;   /* 1 when the unit has a baseline for the whole period */
	double baseline;    /* the baseline prorated over the period; 0 without one */
	int met_baseline;   /* 1 met, 0 missed, -1 none: no baseline, or baseline 0 */
} ts_report_value;

/* Cases of one category or source in the period. */
typedef struct {
	char *code;
	int64_t found, filed, penalised, transferred, closed;
} ts_report_group;

/* The cases of one major event reported in the period (major_event_cases). */
typedef struct {
	char *id;                      /* major_events.id */
	char *name;                    /* e.g. "田径世锦赛" */
	int64_t cases;
} ts_report_event;

/* The figures of one unit: the whole jurisdiction or one child of it. */
typedef struct {
	char *unit;                    /* node id */
	ts_report_value *values;       /* one per ts_report_figures[] */
	ts_report_event *events;       /* the major events with cases, in id order */
	size_t nevents;
	ts_report_group *categories;   /* every category, in code order */
	size_t ncategories;
	ts_report_group *sources;      /* every source, in code order */
	size_t nsources;
} ts_report_unit;

typedef struct {
	char from[32], to[32];            /* the period: from <= reported_at < to */
	char last_from[32], last_to[32];  /* the same period a year earlier */
	ts_report_unit total;
	ts_report_unit *children;         /* in id order */
	size_t nchildren;
} ts_report;

/*
 * Parses a period "A..B" or "A", each side YYYY, YYYY-MM or YYYY-MM-DD
 * (Beijing time), into the schema's time form: `from` is the first second
 * of A, `to` the first second after B. TS_EINVALID for anything else.
 */
int ts_report_period(char from[32], char to[32], const char *spec);

/* The current calendar year (Beijing time; TIERSYNC_NOW sets the clock). */
void ts_report_this_year(char from[32], char to[32]);

/*
 * Computes the figures for `scope` (NULL: the node's id; otherwise the node
 * itself or a unit below it, TS_EINVALID if not) over [from, to), with a
 * row per child unit that has cases, responsibility zones, supervision
 * items (to it or by it) or exposures. Free *out with ts_report_free().
 */
int ts_report_compute(ts_report **out, ts_node *node, const char *scope,
	const char *from, const char *to);

/* NULL-safe. */
void ts_report_free(ts_report *report);

#ifdef __cplusplus
}
#endif

#endif
