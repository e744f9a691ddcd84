/*
 * What the records between the tiers share: whether a place lies in a
 * node's jurisdiction, and the dates and times given on the command line.
 *
 * Node ids are hierarchical (bj → bj.dc → bj.dc.jingshan →
 * bj.dc.jingshan.d07), so a node's jurisdiction is itself and every id
 * that extends it by whole labels.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "error.h"
#include "node.h"
#include "tiers.h"

static int digits(const char *p, int n, int *out)
{
	int i, v = 0;
	for (i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return 0;
		v = v * 10 + (p[i] - '0');
	}
	*out = v;
	return 1;
}

int ts_time_parse(char out[32], const char *text, int end_of_day, const char *what)
{
	int y, mo, d, h = 0, mi = 0, s = 0;
	const char *p = text;
	struct tm tm;
	time_t t;

	out[0] = '\0';
	if (!text || strlen(text) < 10 || !digits(p, 4, &y) || p[4] != '-' || !digits(p + 5, 2, &mo) ||
	    p[7] != '-' || !digits(p + 8, 2, &d))
		goto bad;
	p += 10;
	if (*p == '\0') {
		if (end_of_day) {
			h = 23;
			mi = 59;
			s = 59;
		}
	} else {
		if ((*p != 'T' && *p != ' ') || !digits(p + 1, 2, &h) || p[3] != ':' || !digits(p + 4, 2, &mi))
			goto bad;
		p += 6;
		if (*p == ':') {
			if (!digits(p + 1, 2, &s))
				goto bad;
			p += 3;
		}
		if (*p && strcmp(p, "+08:00"))
			goto bad;
	}
	if (y < 1900 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 59)
		goto bad;
	/* a day that does not exist moves when normalised */
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = 12;
	t = timegm(&tm);
	gmtime_r(&t, &tm);
	if (tm.tm_mday != d || tm.tm_mon != mo - 1)
		goto bad;
	snprintf(out, 32, "%04d-%02d-%02dT%02d:%02d:%02d+08:00", y, mo, d, h, mi, s);
	return 0;
bad:
	return ts_error_set(TS_EINVALID, "%s: '%s' is not a date (YYYY-MM-DD) or time (YYYY-MM-DD HH:MM)",
		what, text ? text : "");
}

void ts_time_now(char out[32])
{
	ts_time_format(out, ts_node__now());
}

int ts_tiers__upper_only(ts_node *node, const char *what)
{
	ts_tier tier = ts_node_tier(node);

	if (tier == TS_TIER_CITY || tier == TS_TIER_DISTRICT)
		return 0;
	return ts_error_set(TS_EDENIED, "only the city or a district may %s; this node (%s) is a %s",
		what, ts_node_id(node), ts_tier_name(tier));
}

int ts_tiers__db_error(sqlite3 *db, const char *what)
{
	if ((sqlite3_extended_errcode(db) & 0xff) == SQLITE_CONSTRAINT)
		return ts_sqlite__error(db, "%s refused", what);
	return ts_sqlite__error(db, "%s", what);
}

int ts_tiers__query_text(char **out, sqlite3 *db, const char *sql, const char *p1, const char *p2)
{
	sqlite3_stmt *st = NULL;
	int rc, error = 0;

	*out = NULL;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return ts_tiers__db_error(db, "reading the database");
	sqlite3_bind_text(st, 1, p1, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, p2, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const char *text = (const char *)sqlite3_column_text(st, 0);
		if (text && !(*out = strdup(text)))
			error = ts_error_set(TS_ERROR, "out of memory");
		else
			error = 1;
	} else if (rc != SQLITE_DONE)
		error = ts_tiers__db_error(db, "reading the database");
	sqlite3_finalize(st);
	return error;
}

int ts_tiers__list_range(const char **scope, char from[32], char to[32], const ts_node *node,
	const char *jurisdiction, const char *from_text, const char *to_text)
{
	int error;

	from[0] = to[0] = '\0';
	*scope = node->scope;
	if (jurisdiction) {
		if (!ts_node_id_valid(jurisdiction) || !ts_jurisdiction_covers(node->scope, jurisdiction))
			return ts_error_set(TS_EINVALID, "'%s' is not %s or a node below it", jurisdiction,
				node->scope);
		*scope = jurisdiction;
	}
	if (from_text && (error = ts_time_parse(from, from_text, 0, "from")) < 0)
		return error;
	if (to_text && (error = ts_time_parse(to, to_text, 1, "to")) < 0)
		return error;
	return 0;
}
