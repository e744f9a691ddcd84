/*
 * Complaint baselines (常量): the complaints of a whole year that the city
 * sets for a unit and a subject, for the report to measure a period's
 * complaints against (schema/0012_plan_figures.sql, docs/REPORT.md). Only
 * the city writes them; they reach every node with the city's history.
 */
#include <stdlib.h>
#include <string.h>

#include "node.h"
#include "tiers.h"

const char *const ts_baseline_subjects[] = { "key_areas", "dust_muck", "outdoor_bbq", "small_ads", NULL };

static int subject_known(const char *subject)
{
	size_t i;

	for (i = 0; subject && ts_baseline_subjects[i]; i++)
		if (!strcmp(subject, ts_baseline_subjects[i]))
			return 1;
	return 0;
}

/* A calendar year as the schema keeps it: four digits, 1000 to 2999. */
static int year_valid(const char *year)
{
	return year && strlen(year) == 4 && (year[0] == '1' || year[0] == '2') &&
		strspn(year, "0123456789") == 4;
}

typedef struct {
	const char *unit, *subject, *year, *author;
	int64_t complaints;
	char now[32];
	int removed;
} baseline_op;

/* What every write of a baseline checks first. */
static int baseline_key(ts_node *node, const char *unit, const char *subject, const char *year,
	const char *what)
{
	if (node->tier != TS_TIER_CITY)
		return ts_error_set(TS_EDENIED, "only the city %s complaint baselines; %s is not the city", what,
			node->id);
	if (!unit || !ts_node_id_valid(unit) || !ts_jurisdiction_covers(node->id, unit))
		return ts_error_set(TS_EINVALID, "a baseline's unit is %s or a node below it, not '%s'", node->id,
			unit ? unit : "");
	if (!subject_known(subject))
		return ts_error_set(TS_EINVALID, "unknown baseline subject '%s': key_areas, dust_muck, "
			"outdoor_bbq or small_ads", subject ? subject : "");
	if (!year_valid(year))
		return ts_error_set(TS_EINVALID, "a baseline's year is four digits, e.g. 2015, not '%s'",
			year ? year : "");
	return 0;
}

static int do_set(sqlite3 *db, void *payload)
{
	baseline_op *op = payload;
	sqlite3_stmt *st = NULL;
	int error = 0;

	if (sqlite3_prepare_v2(db, "INSERT INTO complaint_baselines (scope, subject, year, complaints, set_by, set_at) "
			"VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (scope, subject, year) DO UPDATE SET "
			"complaints = excluded.complaints, set_by = excluded.set_by, set_at = excluded.set_at",
			-1, &st, NULL) != SQLITE_OK)
		return ts_tiers__db_error(db, "setting the baseline");
	sqlite3_bind_text(st, 1, op->unit, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, op->subject, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, op->year, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, op->complaints);
	sqlite3_bind_text(st, 5, op->author, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, op->now, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		error = ts_tiers__db_error(db, "setting the baseline");
	sqlite3_finalize(st);
	return error;
}

int ts_baseline_set(ts_node *node, const char *author, const char *unit, const char *subject,
	const char *year, int64_t complaints)
{
	baseline_op op;
	ts_buf summary = TS_BUF_INIT;
	int error;

	if (!author)
		author = node->identity;
	if ((error = baseline_key(node, unit, subject, year, "sets")) < 0)
		return error;
	if (!author || !*author)
		return ts_error_set(TS_EINVALID, "a baseline needs the real name of who sets it");
	if (complaints < 0)
		return ts_error_set(TS_EINVALID, "a baseline counts complaints: 0 or more, not %lld",
			(long long)complaints);
	memset(&op, 0, sizeof(op));
	op.unit = unit;
	op.subject = subject;
	op.year = year;
	op.author = author;
	op.complaints = complaints;
	ts_time_now(op.now);
	ts_buf__printf(&summary, "baseline %s %s %s: %lld complaints", unit, subject, year, (long long)complaints);
	error = ts_node_write(node, author, summary.ptr, do_set, &op);
	ts_buf__dispose(&summary);
	return error;
}

static int do_remove(sqlite3 *db, void *payload)
{
	baseline_op *op = payload;
	sqlite3_stmt *st = NULL;
	int error = 0;

	if (sqlite3_prepare_v2(db, "DELETE FROM complaint_baselines WHERE scope = ?1 AND subject = ?2 AND year = ?3",
			-1, &st, NULL) != SQLITE_OK)
		return ts_tiers__db_error(db, "removing the baseline");
	sqlite3_bind_text(st, 1, op->unit, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, op->subject, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, op->year, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		error = ts_tiers__db_error(db, "removing the baseline");
	else if (sqlite3_changes(db) == 0)
		error = ts_error_set(TS_ENOTFOUND, "no %s baseline of %s for %s", op->subject, op->unit, op->year);
	sqlite3_finalize(st);
	return error;
}

int ts_baseline_remove(ts_node *node, const char *author, const char *unit, const char *subject,
	const char *year)
{
	baseline_op op;
	ts_buf summary = TS_BUF_INIT;
	int error;

	if ((error = baseline_key(node, unit, subject, year, "removes")) < 0)
		return error;
	memset(&op, 0, sizeof(op));
	op.unit = unit;
	op.subject = subject;
	op.year = year;
	ts_buf__printf(&summary, "remove baseline %s %s %s", unit, subject, year);
	error = ts_node_write(node, author, summary.ptr, do_remove, &op);
	ts_buf__dispose(&summary);
	return error;
}

int ts_baseline_list(ts_node *node, const ts_baseline_filter *filter,
	int (*cb)(const ts_baseline_info *baseline, void *payload), void *payload)
{
	sqlite3_stmt *st = NULL;
	const char *scope = node->scope;
	int rc, error = 0;

	if (filter && filter->version != TS_BASELINE_FILTER_VERSION)
		return ts_error_set(TS_EINVALID, "unknown baseline filter version %u (this library knows %d)",
			filter->version, TS_BASELINE_FILTER_VERSION);
	if (!cb)
		return ts_error_set(TS_EINVALID, "listing baselines needs a callback");
	if (filter && filter->unit) {
		if (!ts_node_id_valid(filter->unit) || !ts_jurisdiction_covers(node->scope, filter->unit))
			return ts_error_set(TS_EINVALID, "'%s' is not %s or a node below it", filter->unit,
				node->scope);
		scope = filter->unit;
	}
	if (filter && filter->subject && !subject_known(filter->subject))
		return ts_error_set(TS_EINVALID, "unknown baseline subject '%s': key_areas, dust_muck, "
			"outdoor_bbq or small_ads", filter->subject);
	if (filter && filter->year && !year_valid(filter->year))
		return ts_error_set(TS_EINVALID, "a year is four digits, e.g. 2015, not '%s'", filter->year);
	if (sqlite3_prepare_v2(node->db, "SELECT scope, subject, year, complaints, set_by, set_at "
			"FROM complaint_baselines "
			"WHERE (scope = ?1 OR (scope >= ?1 || '.' AND scope < ?1 || '/')) "
			"  AND (?2 IS NULL OR subject = ?2) AND (?3 IS NULL OR year = ?3) "
			"ORDER BY year, scope, subject", -1, &st, NULL) != SQLITE_OK)
		return ts_tiers__db_error(node->db, "reading the baselines");
	sqlite3_bind_text(st, 1, scope, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, filter ? filter->subject : NULL, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, filter ? filter->year : NULL, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		ts_baseline_info b;
		b.unit = (const char *)sqlite3_column_text(st, 0);
		b.subject = (const char *)sqlite3_column_text(st, 1);
		b.year = (const char *)sqlite3_column_text(st, 2);
		b.complaints = sqlite3_column_int64(st, 3);
		b.set_by = (const char *)sqlite3_column_text(st, 4);
		b.set_at = (const char *)sqlite3_column_text(st, 5);
		if ((error = cb(&b, payload)) != 0)
			goto done;
	}
	if (rc != SQLITE_DONE)
		error = ts_tiers__db_error(node->db, "reading the baselines");
done:
	sqlite3_finalize(st);
	return error;
}
