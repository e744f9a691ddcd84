/*
 * tiersync/patrols.h — street work: patrols (巡查, 人盯车巡) and the cases
 * found on them, and responsibility zones (市容环境卫生责任区, 门前三包) with
 * their notices (告知书) and the checks of their duties (责任落实).
 * Part of the public API; include "tiersync.h" for all of it. See
 * docs/PATROLS.md.
 *
 * Every write goes through ts_node_write() with the author's real name
 * (NULL: the node's identity), so it is staged durably and committed under
 * that name. A refused operation returns TS_EDENIED (the node's
 * jurisdiction does not cover the row), TS_EINVALID (bad input, or a step
 * the record's state does not allow) or TS_ENOTFOUND (no such row), with
 * one clear message, and writes nothing.
 *
 * Who may write: the nodes whose jurisdiction covers the row's, a device
 * acting for its street, as the ownership rules of schema/0007_ownership.sql
 * say for sync. The jurisdiction of a new patrol or zone is the one this
 * node records cases for (ts_case_jurisdiction(): a device's street, else
 * the node's own id).
 *
 * Times given are read by ts_time_parse() ("YYYY-MM-DD", "YYYY-MM-DD
 * HH:MM[:SS]", or the schema's form) and none may lie in the future; NULL
 * means now. Times reported are in the schema's form,
 * "YYYY-MM-DDTHH:MM:SS+08:00".
 *
 * The lists (ts_patrol_list, ts_patrol_cases, ts_zone_list,
 * ts_zone_checks) read only, and call a callback once per record, in a
 * stated order. A record's strings live until the callback returns: copy
 * what is kept. A non-zero return from the callback stops the list, and
 * the list returns it as it is. A NULL filter lists every record in this
 * node's view, as does a filter whose other fields are 0 or NULL (its
 * _INIT); a filter's `version` must be its TS_*_FILTER_VERSION, else the
 * list is refused (TS_EINVALID) before any record.
 */
#ifndef TIERSYNC_PATROLS_H
#define TIERSYNC_PATROLS_H

#include <stddef.h>
#include <stdint.h>
#include "tiersync/node.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Patrols, 巡查 (node/patrols.c).
 *
 * A patrol is started (who, where, when) and later ended (when, the route
 * taken, what was seen). A case found on it is recorded with
 * ts_case_new() and the field { "patrol_id", ID } among its `extra`
 * fields: the case's source must then be "patrol", the patrol must have
 * started and lie in the jurisdiction of the case, and the same write
 * counts the case in the patrol's `found` and names the patrol in the
 * case's intake event. The link is set at intake only: ts_case_edit()
 * refuses patrol_id.
 */

/* What a patrol starts with. */
typedef struct {
	const char *const *officers;  /* the real names of who patrols (人盯车巡: often two);
	                                 none: the author alone */
	size_t nofficers;
	const char *area;             /* the area or route name: required */
	const char *key_area_id;      /* the key area patrolled, or NULL: a listed key area
	                                 whose owner covers this node's jurisdiction */
	const char *started;          /* when it began (ts_time_parse), or NULL: now */
} ts_patrol_options;

/*
 * Starts a patrol of this node's jurisdiction. Each officer's name must be
 * non-empty, named once, and hold no '、' (the schema joins the names with
 * it). The new patrol's id goes to *id_out (free() it).
 */
int ts_patrol_start(char **id_out, ts_node *node, const char *author, const ts_patrol_options *opts);

/*
 * Ends the patrol `patrol_id` at `ended` (ts_time_parse, or NULL: now),
 * with the route taken and notes on what was seen (either may be NULL).
 * Refused: a patrol already ended, an end before its start, a patrol
 * outside this node's jurisdiction.
 */
int ts_patrol_end(ts_node *node, const char *author, const char *patrol_id, const char *ended,
	const char *route, const char *notes);

/* One patrol, as ts_patrol_list() and ts_patrol_get() report it. */
typedef struct {
	const char *id;
	const char *officers;          /* real names, separated by '、' */
	const char *jurisdiction;      /* the street or district patrolled */
	const char *area;              /* the area or route name, or NULL */
	const char *key_area_id;       /* or NULL */
	const char *started_at;
	const char *ended_at;          /* NULL while under way */
	const char *route;             /* or NULL */
	const char *notes;             /* or NULL */
	int64_t found;                 /* problems found: the cases recorded on it, as counted
	                                  where they were recorded */
	int64_t cases;                 /* of them, the cases this node holds (cases.patrol_id) */
} ts_patrol_info;

#define TS_PATROL_FILTER_VERSION 1

typedef struct {
	unsigned int version;          /* TS_PATROL_FILTER_VERSION */
	const char *jurisdiction;      /* only patrols of this node id or below it; NULL: this
	                                  node's view. One outside the view is TS_EINVALID */
	const char *from;              /* only patrols started at or after (ts_time_parse; a
	                                  date: its first second), or NULL */
	const char *to;                /* only patrols started at or before (a date: its last
	                                  second), or NULL */
	const char *key_area_id;       /* only patrols of this key area, or NULL */
	int under_way_only;            /* 1: only patrols not yet ended */
} ts_patrol_filter;

#define TS_PATROL_FILTER_INIT { TS_PATROL_FILTER_VERSION, NULL, NULL, NULL, NULL, 0 }

/*
 * Calls `cb` for each patrol in this node's view: those whose jurisdiction
 * lies in this node's (on a device, its street's). In order of start, then
 * id.
 */
int ts_patrol_list(ts_node *node, const ts_patrol_filter *filter,
	int (*cb)(const ts_patrol_info *patrol, void *payload), void *payload);

/* Calls `cb` once with the patrol `patrol_id`; TS_ENOTFOUND, with no call,
 * if this node holds no such patrol. */
int ts_patrol_get(ts_node *node, const char *patrol_id,
	int (*cb)(const ts_patrol_info *patrol, void *payload), void *payload);

/* One case found on a patrol, as ts_patrol_cases() reports it. */
typedef struct {
	const char *id;
	const char *category;
	const char *status;
	const char *address;
	const char *reported_at;
} ts_patrol_case;

/* Calls `cb` for each case this node holds that was found on the patrol
 * `patrol_id`, in order of report time, then id. TS_ENOTFOUND if this node
 * holds no such patrol. */
int ts_patrol_cases(ts_node *node, const char *patrol_id,
	int (*cb)(const ts_patrol_case *c, void *payload), void *payload);

/*
 * Responsibility zones, 市容环境卫生责任区 / 门前三包 (node/responsibility.c).
 *
 * A zone is a shop or unit answerable for its frontage. The street office
 * (or one of its devices) adds it, hands the unit its notice (告知书发放)
 * once, and then checks from time to time whether the duties are met
 * (责任落实). The plan's goals: every zone's notice issued; duties met at
 * 90% of the checks in key areas, 80% elsewhere (docs/REPORT.md).
 */

/*
 * Adds a zone of this node's street: a device's street or the street
 * itself (a district or the city is refused: a zone belongs to a street).
 * `unit` and `address` are required; the same unit at the same address
 * twice in one street is refused. `key_area_id`, when not NULL, must be a
 * listed key area whose owner covers the street. The id goes to *id_out
 * (free() it).
 */
int ts_zone_add(char **id_out, ts_node *node, const char *author, const char *unit, const char *address,
	const char *key_area_id);

/*
 * Records that the zone's notice (告知书) was handed to the unit by
 * `author`, at `issued` (ts_time_parse, or NULL: now). Once: a zone whose
 * notice was issued is refused (TS_EINVALID), since the first issue is what
 * the notice figure counts; a unit that changed hands is a new zone.
 */
int ts_zone_notice(ts_node *node, const char *author, const char *zone_id, const char *issued);

/*
 * Records a check of the zone's duties now, by `author`: met (1) or not
 * (0), with a note (required when not met: what was wrong). A zone whose
 * notice has not been issued is refused (TS_EINVALID): its unit was never
 * told its duties, so there is nothing yet to hold it to. The check's id
 * goes to *id_out (free() it).
 */
int ts_zone_check(char **id_out, ts_node *node, const char *author, const char *zone_id, int met,
	const char *note);

/* One zone with its notice and its last check, as ts_zone_list() reports it. */
typedef struct {
	const char *id;
	const char *unit;
	const char *address;
	const char *jurisdiction;      /* its street */
	const char *key_area_id;       /* or NULL */
	const char *notice_issued_at;  /* NULL until the notice is issued */
	const char *notice_issued_by;
	int64_t checks;                /* how many checks this node holds */
	const char *last_checked_at;   /* the latest check, or NULL when none */
	int last_met;                  /* its verdict: 1 met, 0 not, -1 no check */
	const char *last_checker;
	const char *last_note;
} ts_zone_info;

#define TS_ZONE_FILTER_VERSION 1

typedef struct {
	unsigned int version;          /* TS_ZONE_FILTER_VERSION */
	const char *key_area_id;       /* only the zones in this key area, or NULL */
	int without_notice_only;       /* 1: only the zones whose notice is not issued */
} ts_zone_filter;

#define TS_ZONE_FILTER_INIT { TS_ZONE_FILTER_VERSION, NULL, 0 }

/*
 * Calls `cb` for each zone in this node's view: those whose street lies in
 * this node's jurisdiction (on a device, its street's). In order of street,
 * then unit, then id.
 */
int ts_zone_list(ts_node *node, const ts_zone_filter *filter,
	int (*cb)(const ts_zone_info *zone, void *payload), void *payload);

/* One check of a zone, as ts_zone_checks() reports it. */
typedef struct {
	const char *id;
	const char *zone_id;
	const char *unit;              /* the zone's */
	const char *checked_at;
	int met;                       /* 1 met, 0 not */
	const char *checker;           /* the real name of who checked */
	const char *note;              /* or NULL */
} ts_zone_check_info;

#define TS_ZONE_CHECK_FILTER_VERSION 1

typedef struct {
	unsigned int version;          /* TS_ZONE_CHECK_FILTER_VERSION */
	const char *zone_id;           /* one zone's checks (TS_ENOTFOUND if none such), or NULL */
	const char *from;              /* only checks at or after (ts_time_parse), or NULL */
	const char *to;                /* only checks at or before (a date: its last second), or NULL */
} ts_zone_check_filter;

#define TS_ZONE_CHECK_FILTER_INIT { TS_ZONE_CHECK_FILTER_VERSION, NULL, NULL, NULL }

/*
 * Calls `cb` for each check of the zones in this node's view (as
 * ts_zone_list()), in order of time, then id.
 */
int ts_zone_checks(ts_node *node, const ts_zone_check_filter *filter,
	int (*cb)(const ts_zone_check_info *check, void *payload), void *payload);

#ifdef __cplusplus
}
#endif

#endif
