/*
 * tiersync/export.h — the exports for the service's outward systems: the
 * public disclosure of penalty decisions (四公开), the final decisions with
 * their parties for the social credit system (社会信用体系), and the cases'
 * places as GeoJSON for the city-management map (城管地图). docs/EXPORTS.md
 * describes every format, column by column, and what each leaves out.
 * Part of the public API; include "tiersync.h" for all of it.
 */
#ifndef TIERSYNC_EXPORT_H
#define TIERSYNC_EXPORT_H

#include <stddef.h>
#include <stdint.h>
#include "tiersync/node.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Exports (node/export.c).
 *
 * An export reads the node's database in one snapshot and hands its bytes,
 * in order, to a sink the caller gives (a file, a buffer, a socket): the
 * library writes nothing itself. The formats are stable: a later version
 * adds columns only at the end of a CSV row and keys only to a JSON
 * object, and never renames, reorders or drops one.
 *
 *   TS_EXPORT_DISCLOSURE  四公开: one record per case whose penalty decision
 *                         (decided_at) falls in the period, without the
 *                         parties, the complainant or the officers; the
 *                         place cut before its house number.
 *   TS_EXPORT_CREDIT      社会信用: one record per party of a case whose
 *                         decision, made in the period, is final: decided;
 *                         not major, or major with its legal review
 *                         approved; not reopened since (no 'reopen' event at
 *                         or after decided_at). Execution is not required.
 *                         Final decisions without a recorded party are
 *                         counted in ts_export_stats.without_party, not
 *                         written.
 *   TS_EXPORT_GEOJSON     城管地图: an RFC 7946 FeatureCollection of the cases
 *                         reported in the period that have a place (lng,
 *                         lat), then their key areas (geometry: the mean of
 *                         their cases' points, or null). Cases without a
 *                         place are counted in the collection's "tiersync"
 *                         member and ts_export_stats.without_place.
 *
 * The scope is a unit: the node's jurisdiction by default (a device's: its
 * street), or `unit`, that jurisdiction's id or an id below it.
 */
typedef enum {
	TS_EXPORT_DISCLOSURE = 0,
	TS_EXPORT_CREDIT,
	TS_EXPORT_GEOJSON
} ts_export_kind;

/* The encoding of the disclosure and credit exports (GeoJSON has its own). */
typedef enum {
	TS_EXPORT_CSV = 0,   /* RFC 4180: UTF-8, a header row, CRLF line ends */
	TS_EXPORT_JSON       /* one array of objects, one object per line */
} ts_export_format;

#define TS_EXPORT_OPTIONS_VERSION 1

typedef struct {
	unsigned int version;     /* TS_EXPORT_OPTIONS_VERSION */
	ts_export_format format;  /* ignored by TS_EXPORT_GEOJSON */
	const char *unit;         /* NULL: the node's jurisdiction */
	const char *from, *to;    /* the period, from <= time < to, in the schema's time form
	                             (ts_report_period() makes them from "2015-01..2015-06") */
} ts_export_options;

#define TS_EXPORT_OPTIONS_INIT { TS_EXPORT_OPTIONS_VERSION, TS_EXPORT_CSV, NULL, NULL, NULL }

/* What an export wrote and left out. */
typedef struct {
	int64_t records;         /* rows (disclosure, credit) or case features (GeoJSON) */
	int64_t without_party;   /* credit: final decisions with no party recorded, left out */
	int64_t without_place;   /* GeoJSON: cases of the period without lng/lat, left out */
	int64_t key_areas;       /* GeoJSON: key-area features */
} ts_export_stats;

/*
 * Receives the export's next `len` bytes (not NUL-terminated; valid only
 * during the call). A nonzero return stops the export, which returns that
 * value.
 */
typedef int (*ts_export_sink)(const char *bytes, size_t len, void *payload);

/*
 * Writes the export `kind` of the node's cases in `opts`' scope and period
 * to `sink`. `opts` must give both ends of the period. Fills *stats (may be
 * NULL). Returns 0; TS_EINVALID for a unit outside the node's
 * jurisdiction, a bad period or options; a sink's nonzero return; another TS_E* code
 * when the database cannot be read. On failure the sink may have received
 * part of the export: a caller writing a file writes a temporary one and
 * renames it on success.
 */
int ts_export_write(ts_export_stats *stats, ts_node *node, ts_export_kind kind,
	const ts_export_options *opts, ts_export_sink sink, void *payload);

/* The name of an export, "disclosure", "credit" or "geojson"; NULL for none. */
const char *ts_export_kind_name(ts_export_kind kind);

#ifdef __cplusplus
}
#endif

#endif
