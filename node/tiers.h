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
 * To move into include/tiersync.h once the lead settles the public API.
 */
#ifndef TS_NODE_TIERS_H
#define TS_NODE_TIERS_H

#include <stddef.h>

#include "tiersync.h"

/*
 * Jurisdiction and times (node/tiers.c).
 */

/* 1 when the place `id` lies in the jurisdiction of node `scope`: it is
 * `scope` itself or below it ("bj.dc.jingshan" lies in "bj.dc" and "bj"). */
int ts_jurisdiction_covers(const char *scope, const char *id);

/*
 * Parses a date or time given on the command line into the schema's form
 * "YYYY-MM-DDTHH:MM:SS+08:00". Accepts "YYYY-MM-DD" (then the start of the
 * day, or its last second when `end_of_day`), "YYYY-MM-DD HH:MM[:SS]",
 * "YYYY-MM-DDTHH:MM[:SS]" and the full form with "+08:00". A date that
 * does not exist (2015-02-30) is TS_EINVALID naming `what`.
 */
int ts_time_parse(char out[32], const char *text, int end_of_day, const char *what);

/* The current time in the schema's form (TIERSYNC_NOW overrides the clock). */
void ts_time_now(char out[32]);

/* Refuses (TS_EDENIED) unless this node is the city or a district; `what`
 * says what it tried, e.g. "list key areas". */
int ts_tiers__upper_only(ts_node *node, const char *what);

/* Turns the last SQLite failure on `db` into the last error: TS_EINVALID
 * for a constraint, else TS_ERROR; `what` says what was being done. */
int ts_tiers__db_error(sqlite3 *db, const char *what);

/* The first column of a one-row query with up to two text parameters:
 * *out is a malloc'd copy, or NULL (no row, or SQL NULL). Returns 1 when
 * a row was found, 0 when not, < 0 on failure. */
int ts_tiers__query_text(char **out, sqlite3 *db, const char *sql, const char *p1, const char *p2);

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

#endif
