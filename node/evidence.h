/*
 * Evidence (证据): photos, video, body-camera footage and documents of a
 * case, kept in history by content (SHA-256) through the engine's files
 * (sync/files.h), each recorded as an immutable row of `evidence` with who
 * captured it, when and where, plus a case event. See docs/EVIDENCE.md.
 *
 * To move into include/tiersync.h with the rest of the case API.
 */
#ifndef TS_NODE_EVIDENCE_H
#define TS_NODE_EVIDENCE_H

#include <stdint.h>

#include "tiersync.h"

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
 * nothing is left at `out_path` that was not there before. Writes the full
 * SHA-256 to `sha256_out` (may be NULL).
 */
int ts_evidence_get(char sha256_out[65], ts_node *node, const char *case_id, const char *sha256,
	const char *out_path);

#endif
