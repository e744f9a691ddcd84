/*
 * Small ads (非法小广告): the phone numbers found on the ads of a small_ads
 * case, one small_ad_phones row per number and case (a sighting), and the
 * warning call made to each number (违法电话号码警示): warned, unreachable
 * or suspended, by whom, when.
 *
 * A number is counted once however many cases it was found on. Its state
 * comes from its sightings: warned when every sighting is warned; else
 * untried when one was never called; else suspended when one reached a
 * suspended line; else unreachable. The warning rate is warned numbers ÷
 * numbers found (docs/TIERS.md defines it as a query).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lifecycle.h"
#include "node.h"
#include "tiers.h"

/* Cases of this node's jurisdiction (?1 = the node id), as an SQL condition on c. */
#define IN_JURISDICTION "(c.jurisdiction = ?1 OR substr(c.jurisdiction, 1, length(?1) + 1) = ?1 || '.')"

typedef struct {
	ts_node *node;
	const char *author;
	const char *case_id;
	char **phones;
	size_t n;
	const char *phone, *outcome;
	size_t rows;
} ads_op;

static int do_add(sqlite3 *db, void *payload)
{
	ads_op *op = payload;
	sqlite3_stmt *st = NULL;
	ts_buf detail = TS_BUF_INIT;
	char now[32], *id = NULL;
	size_t i;
	int error = 0;

	ts_time_format(now, ts_node__now());
	if (sqlite3_prepare_v2(db, "INSERT INTO small_ad_phones (id, case_id, phone) VALUES (?1, ?2, ?3)",
			-1, &st, NULL) != SQLITE_OK) {
		error = ts_tiers__db_error(db, "recording the numbers");
		goto done;
	}
	for (i = 0; i < op->n; i++) {
		if ((error = ts_node_mint_id(&id, op->node, "a")) < 0)
			goto done;
		sqlite3_reset(st);
		sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, op->case_id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, op->phones[i], -1, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE) {
			error = ts_tiers__db_error(db, "recording the numbers");
			goto done;
		}
		free(id);
		id = NULL;
		ts_buf__printf(&detail, "%s%s", i ? ", " : "small-ad numbers found: ", op->phones[i]);
	}
	/* the whole-process record of the case names them too */
	error = ts_case__event(op->node, op->case_id, "note", op->author, ts_buf__cstr(&detail), now);
done:
	sqlite3_finalize(st);
	ts_buf__dispose(&detail);
	free(id);
	return error;
}

/* Refuses a case that is not a small_ads case of this node's jurisdiction, or is closed. */
static int check_case(ts_node *node, const char *case_id)
{
	sqlite3_stmt *st = NULL;
	const char *category, *jurisdiction, *status;
	int error = 0;

	if (!case_id || !*case_id)
		return ts_error_set(TS_EINVALID, "name the small_ads case");
	if (sqlite3_prepare_v2(node->db, "SELECT category, jurisdiction, status FROM cases WHERE id = ?1",
			-1, &st, NULL) != SQLITE_OK)
		return ts_tiers__db_error(node->db, "reading the case");
	sqlite3_bind_text(st, 1, case_id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_ROW) {
		error = ts_error_set(TS_ENOTFOUND, "no case %s", case_id);
		goto done;
	}
	category = (const char *)sqlite3_column_text(st, 0);
	jurisdiction = (const char *)sqlite3_column_text(st, 1);
	status = (const char *)sqlite3_column_text(st, 2);
	if (strcmp(category, "small_ads"))
		error = ts_error_set(TS_EINVALID, "case %s is a %s case; phone numbers are recorded on "
			"small_ads cases", case_id, category);
	else if (!strcmp(status, "closed") || !strcmp(status, "transferred"))
		error = ts_error_set(TS_EDENIED, "case %s is %s; it cannot be edited", case_id, status);
	else
		error = ts_case__in_reach(node, case_id, jurisdiction);
done:
	sqlite3_finalize(st);
	return error;
}

int ts_ads_add(ts_node *node, const char *author, const char *case_id, const char *const *phones,
	size_t nphones)
{
	ads_op op;
	ts_buf summary = TS_BUF_INIT;
	char *known = NULL;
	size_t i, j;
	int error;

	memset(&op, 0, sizeof(op));
	if ((error = check_case(node, case_id)) < 0)
		return error;
	if (nphones == 0)
		return ts_error_set(TS_EINVALID, "name the phone numbers found on the ads");
	if (!(op.phones = calloc(nphones, sizeof(*op.phones))))
		return ts_error_set(TS_ERROR, "out of memory");
	for (i = 0; i < nphones; i++) {
		if (!(op.phones[i] = ts_node__phone_digits(phones[i]))) {
			error = ts_error_set(TS_EINVALID, "'%s' is not a phone number (5 to %d digits; spaces "
				"and '-' may separate them)", phones[i] ? phones[i] : "", TS_NODE_PHONE_DIGITS);
			goto done;
		}
		for (j = 0; j < i; j++)
			if (!strcmp(op.phones[i], op.phones[j])) {
				error = ts_error_set(TS_EINVALID, "%s is named twice", op.phones[i]);
				goto done;
			}
		if ((error = ts_tiers__query_text(&known, node->db, "SELECT id FROM small_ad_phones "
				"WHERE case_id = ?1 AND phone = ?2", case_id, op.phones[i])) < 0)
			goto done;
		free(known);
		known = NULL;
		if (error == 1) {
			error = ts_error_set(TS_EINVALID, "%s is already recorded on case %s", op.phones[i], case_id);
			goto done;
		}
	}
	op.node = node;
	op.author = author ? author : node->identity;
	op.case_id = case_id;
	op.n = nphones;
	ts_buf__printf(&summary, "small-ad numbers on %s:", case_id);
	for (i = 0; i < nphones; i++)
		ts_buf__printf(&summary, " %s", op.phones[i]);
	error = ts_node_write(node, op.author, summary.ptr, do_add, &op);
done:
	for (i = 0; i < nphones; i++)
		free(op.phones[i]);
	free(op.phones);
	ts_buf__dispose(&summary);
	return error;
}

static int do_warn(sqlite3 *db, void *payload)
{
	ads_op *op = payload;
	sqlite3_stmt *st = NULL;
	char now[32];
	int error = 0;

	ts_time_format(now, ts_node__now());
	if (sqlite3_prepare_v2(db, "UPDATE small_ad_phones SET warned_at = ?3, warned_by = ?4, outcome = ?5 "
			"WHERE phone = ?2 AND outcome IS NOT 'warned' "
			"  AND case_id IN (SELECT c.id FROM cases c WHERE " IN_JURISDICTION ")", -1, &st, NULL) != SQLITE_OK)
		return ts_tiers__db_error(db, "recording the warning");
	sqlite3_bind_text(st, 1, op->node->scope, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, op->phone, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, now, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, op->author, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, op->outcome, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		error = ts_tiers__db_error(db, "recording the warning");
	else
		op->rows = (size_t)sqlite3_changes(db);
	sqlite3_finalize(st);
	return error;
}

int ts_ads_warn(size_t *rows, ts_node *node, const char *author, const char *phone, const char *outcome)
{
	ads_op op;
	ts_buf summary = TS_BUF_INIT;
	sqlite3_stmt *st = NULL;
	long long sightings = 0, pending = 0;
	char *digits = NULL;
	int error;

	if (rows)
		*rows = 0;
	if (!outcome || (strcmp(outcome, "warned") && strcmp(outcome, "unreachable") && strcmp(outcome, "suspended")))
		return ts_error_set(TS_EINVALID, "unknown outcome '%s' (warned, unreachable or suspended)",
			outcome ? outcome : "");
	if (!(digits = ts_node__phone_digits(phone)))
		return ts_error_set(TS_EINVALID, "'%s' is not a phone number", phone ? phone : "");
	if (sqlite3_prepare_v2(node->db, "SELECT count(*), count(*) FILTER (WHERE p.outcome IS NOT 'warned') "
			"FROM small_ad_phones p JOIN cases c ON c.id = p.case_id "
			"WHERE p.phone = ?2 AND " IN_JURISDICTION, -1, &st, NULL) != SQLITE_OK) {
		error = ts_tiers__db_error(node->db, "reading the numbers");
		goto done;
	}
	sqlite3_bind_text(st, 1, node->scope, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, digits, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		sightings = sqlite3_column_int64(st, 0);
		pending = sqlite3_column_int64(st, 1);
	}
	sqlite3_finalize(st);
	if (sightings == 0) {
		error = ts_error_set(TS_ENOTFOUND, "%s is not on record in %s's small-ad cases", digits, node->scope);
		goto done;
	}
	if (pending == 0) {
		error = ts_error_set(TS_EINVALID, "%s is already warned on every case it was found on", digits);
		goto done;
	}
	memset(&op, 0, sizeof(op));
	op.node = node;
	op.author = author ? author : node->identity;
	op.phone = digits;
	op.outcome = outcome;
	ts_buf__printf(&summary, "warning call to %s: %s", digits, outcome);
	error = ts_node_write(node, op.author, summary.ptr, do_warn, &op);
	if (error == 0 && rows)
		*rows = op.rows;
done:
	free(digits);
	ts_buf__dispose(&summary);
	return error;
}

int ts_ads_figures_get(ts_ads_figures *out, ts_node *node)
{
	sqlite3_stmt *st = NULL;
	int error = 0;

	memset(out, 0, sizeof(*out));
	if (sqlite3_prepare_v2(node->db,
			"WITH numbers AS ("
			"  SELECT p.phone,"
			"    CASE WHEN count(*) FILTER (WHERE p.outcome IS NOT 'warned') = 0 THEN 'warned'"
			"         WHEN count(*) FILTER (WHERE p.outcome IS NULL) > 0 THEN 'untried'"
			"         WHEN count(*) FILTER (WHERE p.outcome = 'suspended') > 0 THEN 'suspended'"
			"         ELSE 'unreachable' END AS state"
			"  FROM small_ad_phones p JOIN cases c ON c.id = p.case_id"
			"  WHERE " IN_JURISDICTION " GROUP BY p.phone) "
			"SELECT count(*), count(*) FILTER (WHERE state = 'warned'),"
			"  count(*) FILTER (WHERE state = 'unreachable'), count(*) FILTER (WHERE state = 'suspended'),"
			"  count(*) FILTER (WHERE state = 'untried') FROM numbers", -1, &st, NULL) != SQLITE_OK)
		return ts_tiers__db_error(node->db, "counting the numbers");
	sqlite3_bind_text(st, 1, node->scope, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_ROW)
		error = ts_tiers__db_error(node->db, "counting the numbers");
	else {
		out->found = sqlite3_column_int64(st, 0);
		out->warned = sqlite3_column_int64(st, 1);
		out->unreachable = sqlite3_column_int64(st, 2);
		out->suspended = sqlite3_column_int64(st, 3);
		out->untried = sqlite3_column_int64(st, 4);
		out->rate = out->found ? (double)out->warned / (double)out->found : 0.0;
	}
	sqlite3_finalize(st);
	return error;
}

/* The numbers found on the cases whose jurisdiction lies in ?1, with their
 * state (as the figures above count it), on how many cases, and the last
 * call and who made it; ?2 = 1 leaves out the warned ones. */
#define NUMBERS_SQL \
	"WITH s AS (SELECT p.* FROM small_ad_phones p JOIN cases c ON c.id = p.case_id " \
	"  WHERE " IN_JURISDICTION "), " \
	"n AS (SELECT phone, " \
	"  CASE WHEN count(*) FILTER (WHERE outcome IS NOT 'warned') = 0 THEN 'warned' " \
	"       WHEN count(*) FILTER (WHERE outcome IS NULL) > 0 THEN 'untried' " \
	"       WHEN count(*) FILTER (WHERE outcome = 'suspended') > 0 THEN 'suspended' " \
	"       ELSE 'unreachable' END AS state, " \
	"  count(*) AS cases, max(warned_at) AS last_call, " \
	"  (SELECT warned_by FROM s s2 WHERE s2.phone = s.phone AND s2.warned_at IS NOT NULL " \
	"   ORDER BY s2.warned_at DESC, s2.id DESC LIMIT 1) AS last_caller " \
	"  FROM s GROUP BY phone) " \
	"SELECT phone, state, cases, last_call, last_caller FROM n " \
	"WHERE NOT ?2 OR state <> 'warned' ORDER BY phone"

int ts_ads_list(ts_node *node, const ts_ads_filter *filter,
	int (*cb)(const ts_ads_info *number, void *payload), void *payload)
{
	sqlite3_stmt *st = NULL;
	int rc, error = 0;

	if (filter && filter->version != TS_ADS_FILTER_VERSION)
		return ts_error_set(TS_EINVALID, "unknown small-ad number filter version %u (this library knows %d)",
			filter->version, TS_ADS_FILTER_VERSION);
	if (!cb)
		return ts_error_set(TS_EINVALID, "listing small-ad numbers needs a callback");
	if (sqlite3_prepare_v2(node->db, NUMBERS_SQL, -1, &st, NULL) != SQLITE_OK)
		return ts_tiers__db_error(node->db, "reading the numbers");
	/* the node's id, not its scope: see ts_ads_list() in tiersync/cases.h */
	sqlite3_bind_text(st, 1, node->id, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, filter && filter->unwarned_only);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		ts_ads_info a;
		a.phone = (const char *)sqlite3_column_text(st, 0);
		a.state = (const char *)sqlite3_column_text(st, 1);
		a.cases = sqlite3_column_int64(st, 2);
		a.last_call = (const char *)sqlite3_column_text(st, 3);
		a.last_caller = (const char *)sqlite3_column_text(st, 4);
		if ((error = cb(&a, payload)) != 0)
			goto done;
	}
	if (rc != SQLITE_DONE)
		error = ts_tiers__db_error(node->db, "reading the numbers");
done:
	sqlite3_finalize(st);
	return error;
}
