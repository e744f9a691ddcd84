/*
 * Exports for the outward systems: the public disclosure of penalty
 * decisions (四公开), the final decisions with their parties for the social
 * credit system (社会信用体系), and the cases' places as GeoJSON for the
 * city-management map (城管地图). docs/EXPORTS.md is the formats' contract.
 *
 * Each export is SQL over the node's database, read in one snapshot. The
 * disclosure and credit rows are declared once, as a table of columns (a
 * name and an SQL expression each): CSV writes the expressions' text in
 * that order under a header of the names; JSON writes one json_object() of
 * the same names and expressions per row, so SQLite does the escaping.
 * GeoJSON is json_object() throughout.
 *
 * CSV (RFC 4180): UTF-8 without a byte-order mark, CRLF after every record,
 * a field quoted ("...", a quote doubled) when it holds a comma, a quote,
 * CR or LF; NULL is the empty field.
 *
 * The scope is a unit's jurisdiction, its id and every id below it at a
 * dot, written as the range node/report.c explains.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "node.h"

#define SCOPE(col) "(" col " = :scope OR (" col " >= :scope || '.' AND " col " < :scope || '/'))"

/* A case whose review was once asked for stays major (docs/LIFECYCLE.md). */
#define MAJOR "(c.major = 1 OR c.review_status IS NOT NULL)"
#define YUAN "printf('%d.%02d', c.penalty_amount / 100, c.penalty_amount % 100)"

/* One column of a row export: its name (CSV header, JSON key), its value as
 * CSV text, and as a JSON value where that differs (a number, a boolean). */
typedef struct {
	const char *name;
	const char *csv;
	const char *json;   /* NULL: the csv expression */
} column;

/* ---- 四公开: the penalty decisions, without who they were against ---- */

static const column disclosure_columns[] = {
	{ "case_id", "c.id", NULL },
	{ "unit", "c.jurisdiction", NULL },
	{ "category", "c.category", NULL },
	{ "category_name", "k.name_zh", NULL },
	{ "place", "ts_public_place(c.address)", NULL },
	{ "decided_at", "c.decided_at", NULL },
	{ "legal_basis", "c.legal_basis", NULL },
	{ "penalty_yuan", "CASE WHEN c.penalty_amount IS NOT NULL THEN " YUAN " END",
	  "json(CASE WHEN c.penalty_amount IS NOT NULL THEN " YUAN " END)" },
	{ "penalty_fen", "c.penalty_amount", NULL },
	{ "major", MAJOR, "json(CASE WHEN " MAJOR " THEN 'true' ELSE 'false' END)" },
	{ "review", "CASE WHEN " MAJOR " THEN c.review_status END", NULL },
	{ "executed_at", "c.executed_at", NULL },
	{ "closed_at", "c.closed_at", NULL },
};

static const char disclosure_from[] =
	"FROM cases c JOIN categories k ON k.code = c.category "
	"WHERE " SCOPE("c.jurisdiction") " AND c.decided_at >= :from AND c.decided_at < :to "
	"ORDER BY c.decided_at, c.id";

/* ---- 社会信用: final decisions, with their parties ---- */

/* Final: decided in the period; not major, or major and approved; not
 * reopened at or after the decision. */
#define FINAL_CASES \
	"FROM cases c WHERE " SCOPE("c.jurisdiction") " AND c.decided_at >= :from AND c.decided_at < :to " \
	"AND ((c.major = 0 AND c.review_status IS NULL) OR c.review_status = 'approved') " \
	"AND NOT EXISTS (SELECT 1 FROM case_events e WHERE e.case_id = c.id AND e.kind = 'reopen' " \
	"AND e.at >= c.decided_at)"

static const column credit_columns[] = {
	{ "party_kind", "p.kind", NULL },
	{ "party_name", "p.name", NULL },
	{ "id_number", "p.id_number", NULL },
	{ "case_id", "c.id", NULL },
	{ "unit", "c.jurisdiction", NULL },
	{ "category", "c.category", NULL },
	{ "category_name", "k.name_zh", NULL },
	{ "legal_basis", "c.legal_basis", NULL },
	{ "penalty_yuan", "CASE WHEN c.penalty_amount IS NOT NULL THEN " YUAN " END",
	  "json(CASE WHEN c.penalty_amount IS NOT NULL THEN " YUAN " END)" },
	{ "penalty_fen", "c.penalty_amount", NULL },
	{ "decided_at", "c.decided_at", NULL },
	{ "executed_at", "c.executed_at", NULL },
	{ "party_id", "p.id", NULL },
};

static const char credit_from[] =
	"FROM (SELECT c.* " FINAL_CASES ") c JOIN parties p ON p.case_id = c.id "
	"JOIN categories k ON k.code = c.category "
	"ORDER BY c.decided_at, c.id, p.id";

static const char credit_without_party[] =
	"SELECT count(*) " FINAL_CASES " AND NOT EXISTS (SELECT 1 FROM parties p WHERE p.case_id = c.id)";

/* ---- 城管地图: GeoJSON ---- */

#define PERIOD_CASES "FROM cases c WHERE " SCOPE("c.jurisdiction") \
	" AND c.reported_at >= :from AND c.reported_at < :to"
#define PLACED "c.lng IS NOT NULL AND c.lat IS NOT NULL"

/* The key areas on the map: those the period's cases lie in, and those the
 * scope's own tiers keep that were listed at some time in the period. */
#define KEY_AREAS \
	"SELECT a.* FROM key_areas a WHERE a.id IN (SELECT c.key_area_id " PERIOD_CASES ") " \
	"OR (" SCOPE("a.owner_node") " AND a.listed_at < :to AND (a.delisted_at IS NULL OR a.delisted_at >= :from))"

static const char geojson_head[] =
	"SELECT json_object('type', 'FeatureCollection', 'tiersync', json_object("
	"'format', 1, 'export', 'geojson', 'unit', :scope, 'from', :from, 'to', :to, "
	"'cases', (SELECT count(*) " PERIOD_CASES " AND " PLACED "), "
	"'without_place', (SELECT count(*) " PERIOD_CASES " AND NOT (" PLACED ")), "
	"'key_areas', (SELECT count(*) FROM (" KEY_AREAS "))), 'features', json_array()), "
	"(SELECT count(*) " PERIOD_CASES " AND " PLACED "), "
	"(SELECT count(*) " PERIOD_CASES " AND NOT (" PLACED ")), "
	"(SELECT count(*) FROM (" KEY_AREAS "))";

static const char geojson_cases[] =
	"SELECT json_object('type', 'Feature', 'id', c.id, "
	"'geometry', json_object('type', 'Point', 'coordinates', json_array(c.lng, c.lat)), "
	"'properties', json_object('kind', 'case', 'id', c.id, 'category', c.category, "
	"'category_name', k.name_zh, 'status', c.status, 'reported_at', c.reported_at, "
	"'key_area_id', c.key_area_id, 'unit', c.jurisdiction)) "
	"FROM (SELECT c.* " PERIOD_CASES " AND " PLACED ") c JOIN categories k ON k.code = c.category "
	"ORDER BY c.reported_at, c.id";

static const char geojson_key_areas[] =
	"SELECT json_object('type', 'Feature', 'id', a.id, "
	"'geometry', json(CASE WHEN s.placed > 0 THEN "
	"json_object('type', 'Point', 'coordinates', json_array(s.lng, s.lat)) END), "
	"'properties', json_object('kind', 'key_area', 'id', a.id, 'name', a.name, 'level', a.level, "
	"'owner_node', a.owner_node, 'zone', a.zone, 'listed_at', a.listed_at, 'delisted_at', a.delisted_at, "
	"'cases', ifnull(s.cases, 0), 'cases_with_place', ifnull(s.placed, 0))) "
	"FROM (" KEY_AREAS ") a LEFT JOIN (SELECT c.key_area_id, count(*) AS cases, "
	"count(*) FILTER (WHERE " PLACED ") AS placed, "
	"avg(c.lng) FILTER (WHERE " PLACED ") AS lng, avg(c.lat) FILTER (WHERE " PLACED ") AS lat "
	PERIOD_CASES " AND c.key_area_id IS NOT NULL GROUP BY c.key_area_id) s ON s.key_area_id = a.id "
	"ORDER BY a.id";

/* ---- the place as the public sees it ---- */

/* Is the UTF-8 text at p a digit: ASCII 0-9 or fullwidth ０-９ (U+FF10..FF19)? */
static size_t digit_at(const unsigned char *p)
{
	if (*p >= '0' && *p <= '9')
		return 1;
	if (p[0] == 0xef && p[1] == 0xbc && p[2] >= 0x90 && p[2] <= 0x99)
		return 3;
	return 0;
}

/* The length of a separator ending the text at end (ASCII space and
 * punctuation, the ideographic space, 、，（ ), or 0. */
static size_t trailing_separator(const unsigned char *s, size_t end)
{
	static const char *const wide[] = { "\xe3\x80\x80", "\xe3\x80\x81", "\xef\xbc\x8c", "\xef\xbc\x88",
		"\xef\xbc\x83" };
	size_t i;

	if (end >= 1 && s[end - 1] && strchr(" \t,;-(#", s[end - 1]))
		return 1;
	for (i = 0; i < sizeof(wide) / sizeof(wide[0]); i++)
		if (end >= 3 && !memcmp(s + end - 3, wide[i], 3))
			return 3;
	return 0;
}

/*
 * ts_public_place(address): the address up to its first digit, trimmed of
 * trailing spaces and separators: "景山前街4号院" is "景山前街". A house number
 * names a household or a shop, and so the party; the road does not. NULL
 * when nothing is left.
 */
static void public_place(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	const unsigned char *s = sqlite3_value_text(argv[0]);
	size_t end = 0, n, cut;

	(void)argc;
	if (!s)
		return;
	while (s[end] && !digit_at(s + end))
		end++;
	while (end && (n = trailing_separator(s, end)) > 0)
		end -= n;
	/* leading spaces only: nothing worth showing */
	for (cut = 0; cut < end && s[cut] == ' '; cut++)
		;
	if (cut == end)
		return;
	sqlite3_result_text(ctx, (const char *)s, (int)end, SQLITE_TRANSIENT);
}

/* ---- writing ---- */

typedef struct {
	ts_export_sink sink;
	void *payload;
	int stopped;   /* the sink's nonzero return */
} out;

static int put(out *o, const char *bytes, size_t len)
{
	if (!o->stopped && len)
		o->stopped = o->sink(bytes, len, o->payload);
	return o->stopped;
}

static int put_text(out *o, const char *s)
{
	return put(o, s, strlen(s));
}

/* One CSV field, quoted when it must be. */
static int put_csv_field(out *o, const char *s)
{
	const char *q;

	if (!s)
		return 0;
	if (!strpbrk(s, ",\"\r\n"))
		return put_text(o, s);
	if (put(o, "\"", 1))
		return o->stopped;
	while ((q = strchr(s, '"')) != NULL) {
		if (put(o, s, (size_t)(q - s + 1)) || put(o, "\"", 1))
			return o->stopped;
		s = q + 1;
	}
	put_text(o, s);
	return put(o, "\"", 1);
}

typedef struct {
	sqlite3 *db;
	const char *scope, *from, *to;
} query;

static int prepare(sqlite3_stmt **st, const query *q, const char *sql)
{
	const char *names[] = { ":scope", ":from", ":to" };
	const char *values[] = { q->scope, q->from, q->to };
	size_t i;
	int index;

	if (sqlite3_prepare_v2(q->db, sql, -1, st, NULL) != SQLITE_OK)
		return ts_sqlite__error(q->db, "reading the export");
	for (i = 0; i < 3; i++)
		if ((index = sqlite3_bind_parameter_index(*st, names[i])) > 0)
			sqlite3_bind_text(*st, index, values[i], -1, SQLITE_STATIC);
	return 0;
}

static int count(int64_t *n, const query *q, const char *sql)
{
	sqlite3_stmt *st = NULL;
	int error;

	if ((error = prepare(&st, q, sql)) < 0)
		return error;
	if (sqlite3_step(st) != SQLITE_ROW)
		error = ts_sqlite__error(q->db, "reading the export");
	else
		*n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return error;
}

/* The SELECT of a row export: CSV's expressions, or one json_object(). */
static char *row_sql(const column *cols, size_t ncols, const char *from, ts_export_format format)
{
	size_t i, len = strlen(from) + 64;
	char *sql, *p;

	for (i = 0; i < ncols; i++)
		len += strlen(cols[i].name) + strlen(cols[i].json ? cols[i].json : cols[i].csv) +
			strlen(cols[i].csv) + 8;
	if (!(sql = malloc(len)))
		return NULL;
	p = sql + sprintf(sql, "SELECT %s", format == TS_EXPORT_JSON ? "json_object(" : "");
	for (i = 0; i < ncols; i++) {
		if (format == TS_EXPORT_JSON)
			p += sprintf(p, "%s'%s', %s", i ? ", " : "", cols[i].name,
				cols[i].json ? cols[i].json : cols[i].csv);
		else
			p += sprintf(p, "%s%s", i ? ", " : "", cols[i].csv);
	}
	sprintf(p, "%s %s", format == TS_EXPORT_JSON ? ")" : "", from);
	return sql;
}

static int write_rows(int64_t *nrows, out *o, const query *q, const column *cols, size_t ncols,
	const char *from, ts_export_format format)
{
	sqlite3_stmt *st = NULL;
	char *sql = row_sql(cols, ncols, from, format);
	size_t i;
	int rc, error = 0;

	*nrows = 0;
	if (!sql)
		return ts_error_set(TS_ERROR, "out of memory");
	if ((error = prepare(&st, q, sql)) < 0)
		goto done;
	if (format == TS_EXPORT_CSV)
		for (i = 0; i < ncols; i++)
			if (put_text(o, i ? "," : "") || put_text(o, cols[i].name))
				goto done;
	if (put_text(o, format == TS_EXPORT_CSV ? "\r\n" : "["))
		goto done;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (format == TS_EXPORT_JSON) {
			if (put_text(o, *nrows ? ",\n" : "\n") || put_text(o, (const char *)sqlite3_column_text(st, 0)))
				goto done;
		} else {
			for (i = 0; i < ncols; i++)
				if (put_text(o, i ? "," : "") ||
				    put_csv_field(o, (const char *)sqlite3_column_text(st, (int)i)))
					goto done;
			if (put_text(o, "\r\n"))
				goto done;
		}
		(*nrows)++;
	}
	if (rc != SQLITE_DONE) {
		error = ts_sqlite__error(q->db, "reading the export");
		goto done;
	}
	if (format == TS_EXPORT_JSON)
		put_text(o, *nrows ? "\n]\n" : "]\n");
done:
	sqlite3_finalize(st);
	free(sql);
	return error;
}

/* Every row of `sql`'s one column, each a feature, after the *n written before. */
static int write_features(int64_t *n, out *o, const query *q, const char *sql)
{
	sqlite3_stmt *st = NULL;
	int rc, error;

	if ((error = prepare(&st, q, sql)) < 0)
		return error;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (put_text(o, *n ? ",\n" : "\n") || put_text(o, (const char *)sqlite3_column_text(st, 0)))
			break;
		(*n)++;
	}
	if (!o->stopped && rc != SQLITE_DONE)
		error = ts_sqlite__error(q->db, "reading the export");
	sqlite3_finalize(st);
	return error;
}

/* The collection: its head from json_object() up to the empty features
 * array's "[", the features, and "]}". */
static int write_geojson(ts_export_stats *stats, out *o, const query *q)
{
	sqlite3_stmt *st = NULL;
	const char *head;
	size_t len;
	int64_t n = 0;
	int error;

	if ((error = prepare(&st, q, geojson_head)) < 0)
		return error;
	if (sqlite3_step(st) != SQLITE_ROW) {
		error = ts_sqlite__error(q->db, "reading the export");
		sqlite3_finalize(st);
		return error;
	}
	head = (const char *)sqlite3_column_text(st, 0);
	len = strlen(head);
	stats->without_place = sqlite3_column_int64(st, 2);
	/* json_object() ends the head with "features":[]} */
	if (len < 3 || strcmp(head + len - 3, "[]}")) {
		sqlite3_finalize(st);
		return ts_error_set(TS_ERROR, "the export's head is not the collection expected");
	}
	put(o, head, len - 2);
	sqlite3_finalize(st);
	if (o->stopped)
		return 0;
	if ((error = write_features(&n, o, q, geojson_cases)) < 0 || o->stopped)
		return error;
	stats->records = n;
	if ((error = write_features(&n, o, q, geojson_key_areas)) < 0 || o->stopped)
		return error;
	stats->key_areas = n - stats->records;
	put_text(o, n ? "\n]}\n" : "]}\n");
	return 0;
}

const char *ts_export_kind_name(ts_export_kind kind)
{
	switch (kind) {
	case TS_EXPORT_DISCLOSURE: return "disclosure";
	case TS_EXPORT_CREDIT: return "credit";
	case TS_EXPORT_GEOJSON: return "geojson";
	}
	return NULL;
}

static int in_jurisdiction(const char *unit, const char *node_id)
{
	size_t n = strlen(node_id);
	return !strcmp(unit, node_id) || (!strncmp(unit, node_id, n) && unit[n] == '.');
}

int ts_export_write(ts_export_stats *stats_out, ts_node *node, ts_export_kind kind,
	const ts_export_options *opts, ts_export_sink sink, void *payload)
{
	ts_export_stats stats;
	out o = { sink, payload, 0 };
	query q;
	int error;

	memset(&stats, 0, sizeof(stats));
	if (stats_out)
		*stats_out = stats;
	if (!opts || !sink)
		return ts_error_set(TS_EINVALID, "an export needs its options and somewhere to write");
	if ((error = ts_error__version(opts->version, TS_EXPORT_OPTIONS_VERSION, "export options")) < 0)
		return error;
	if (!ts_export_kind_name(kind))
		return ts_error_set(TS_EINVALID, "no export of kind %d", (int)kind);
	if (opts->format != TS_EXPORT_CSV && opts->format != TS_EXPORT_JSON)
		return ts_error_set(TS_EINVALID, "no export format %d", (int)opts->format);
	/* the node's jurisdiction: a device's is its street's */
	if (opts->unit && (!ts_node_id_valid(opts->unit) || !in_jurisdiction(opts->unit, node->scope)))
		return ts_error_set(TS_EINVALID, "'%s' is not %s or a unit below it", opts->unit, node->scope);
	if (!opts->from || !opts->to || strlen(opts->from) != 25 || strlen(opts->to) != 25 ||
	    strcmp(opts->from, opts->to) >= 0)
		return ts_error_set(TS_EINVALID, "an export's period needs from < to, as YYYY-MM-DDTHH:MM:SS+08:00");
	q.db = node->db;
	q.scope = opts->unit ? opts->unit : node->scope;
	q.from = opts->from;
	q.to = opts->to;
	if (sqlite3_create_function_v2(node->db, "ts_public_place", 1,
			SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS, NULL, public_place, NULL, NULL,
			NULL) != SQLITE_OK)
		return ts_sqlite__error(node->db, "preparing the export");
	/* one snapshot: the counts and the rows read the same data */
	if (sqlite3_exec(node->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
		return ts_sqlite__error(node->db, "reading the export");
	switch (kind) {
	case TS_EXPORT_DISCLOSURE:
		error = write_rows(&stats.records, &o, &q, disclosure_columns,
			sizeof(disclosure_columns) / sizeof(disclosure_columns[0]), disclosure_from, opts->format);
		break;
	case TS_EXPORT_CREDIT:
		if ((error = count(&stats.without_party, &q, credit_without_party)) == 0)
			error = write_rows(&stats.records, &o, &q, credit_columns,
				sizeof(credit_columns) / sizeof(credit_columns[0]), credit_from, opts->format);
		break;
	case TS_EXPORT_GEOJSON:
		error = write_geojson(&stats, &o, &q);
		break;
	}
	sqlite3_exec(node->db, "ROLLBACK", NULL, NULL, NULL);
	if (error == 0 && o.stopped)
		error = o.stopped;
	if (stats_out)
		*stats_out = stats;
	return error;
}
