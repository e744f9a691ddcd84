/*
 * tiersync — offline-first sync of a SQLite database through git history.
 *
 * A node is a directory holding a working SQLite database (tiersync.db), a
 * bare git repository of its history (history.git) and a git-config file
 * (config). Writes go through the node, which records them durably as
 * staged changesets; a commit turns them into one git commit whose tree is
 * the full state of the synced tables, one blob per row.
 *
 * Conventions: functions return 0 on success and a negative TS_E* code on
 * failure, with a message readable through ts_error_last(). Out-parameters
 * come first and are set to NULL on failure. Every handle that is opened or
 * created has a NULL-safe _free.
 */
#ifndef TIERSYNC_H
#define TIERSYNC_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sqlite3 sqlite3;

/* Error codes: the cases a caller can act on. */
enum {
	TS_OK        = 0,
	TS_ERROR     = -1,   /* anything else; see ts_error_last() */
	TS_ENOTFOUND = -3,   /* no such node, row, revision, remote */
	TS_EEXISTS   = -4,   /* a node or object already exists there */
	TS_EINVALID  = -5,   /* bad input: unknown column, malformed value */
	TS_ECONFLICT = -6,   /* a merge produced conflicts for review */
	TS_EAUTH     = -7,   /* authentication or host key refused */
	TS_ENET      = -8,   /* the network failed or timed out */
	TS_EDENIED   = -9,   /* not allowed: a rule or the gate said no */
	TS_ECORRUPT  = -10,  /* history or database damaged or tampered with */
	TS_EBUSY     = -11   /* the database is locked by another writer */
};

/* The message of the last failure on this thread, or NULL. */
const char *ts_error_last(void);

/* Sets the last error (printf-style) and returns `code`. */
int ts_error_set(int code, const char *fmt, ...)
#if defined(__GNUC__)
	__attribute__((format(printf, 2, 3)))
#endif
	;

/* The four tiers, top to bottom. */
typedef enum {
	TS_TIER_CITY = 0,
	TS_TIER_DISTRICT,
	TS_TIER_STREET,
	TS_TIER_DEVICE
} ts_tier;

/* "city", "district", ... or NULL. */
const char *ts_tier_name(ts_tier tier);
/* Parses a tier name; TS_EINVALID if unknown. */
int ts_tier_parse(ts_tier *out, const char *name);

typedef struct ts_node ts_node;

typedef struct {
	ts_tier tier;
	const char *id;        /* e.g. "bj.dc.jingshan"; see ts_node_id_valid() */
	const char *upstream;  /* URL of the upper node's history, or NULL */
	const char *identity;  /* default author (a real name), or NULL */
} ts_init_options;

/* 1 if `id` is a well-formed node id: dot-separated lowercase labels. */
int ts_node_id_valid(const char *id);

/*
 * Creates a node at `path` (which must not exist or be an empty directory):
 * the database with the current schema, an empty history with a first
 * commit, and the config file.
 */
int ts_node_init(ts_node **out, const char *path, const ts_init_options *opts);

/*
 * Opens the node at `path`, repairing it first if a crash left the history
 * ref and the database disagreeing. TS_ENOTFOUND if `path` is not a node.
 */
int ts_node_open(ts_node **out, const char *path);

void ts_node_free(ts_node *node);

/* 1 when opening the node had to repair it (objects rewritten from the
 * journal, a torn pack dropped, the branch moved back to the recorded head). */
int ts_node_repaired(const ts_node *node);

const char *ts_node_path(const ts_node *node);
const char *ts_node_id(const ts_node *node);
ts_tier ts_node_tier(const ts_node *node);

/* The configured identity (user.name), or NULL. */
const char *ts_node_identity(const ts_node *node);

/* The node's working database. Read from it freely; write only through
 * ts_node_write(), or the write is tampering that `verify` reports. */
sqlite3 *ts_node_db(ts_node *node);

/*
 * Runs `fn` inside one SQLite write transaction whose changes are captured
 * and stored as a staged changeset in that same transaction, attributed to
 * `author` with a one-line `summary`. If `fn` returns non-zero, nothing is
 * written and that value is returned.
 */
int ts_node_write(ts_node *node, const char *author, const char *summary,
	int (*fn)(sqlite3 *db, void *payload), void *payload);

/*
 * Mints a new globally unique, human-readable id for a row of `table`:
 * "<node id>-<prefix><yyyymmdd>-<n>". Call inside ts_node_write().
 * The caller frees *out with free().
 */
int ts_node_mint_id(char **out, ts_node *node, const char *prefix);

/* One staged (not yet committed) write. */
typedef struct {
	int64_t seq;
	const char *author;
	int64_t time;          /* seconds since the epoch */
	const char *summary;
	int inserts, updates, deletes;
} ts_staged_info;

/* Calls `cb` for each staged write, oldest first; a non-zero return stops. */
int ts_node_staged(ts_node *node,
	int (*cb)(const ts_staged_info *info, void *payload), void *payload);

/*
 * Turns every staged write into one history commit. The author is `author`,
 * or the authors of the staged writes when NULL (joined if several); the
 * committer is the node. Writes the commit id (40 hex digits + NUL) to
 * `id_out`. TS_ENOTFOUND if nothing is staged.
 */
int ts_node_commit(char id_out[41], ts_node *node, const char *message, const char *author);

/* The id of the node's HEAD commit (40 hex digits + NUL). */
int ts_node_head(char id_out[41], ts_node *node);

/* One difference found by ts_node_verify(). */
typedef struct {
	const char *table;
	const char *key;       /* the primary key, readable */
	const char *column;    /* NULL when the whole row is missing or extra */
	const char *problem;   /* e.g. "changed outside tiersync" */
	const char *expected;  /* value in history (+ staged), or NULL */
	const char *actual;    /* value in the database, or NULL */
} ts_verify_problem;

/*
 * Checks that the database equals the HEAD tree plus the staged writes, row
 * by row and column by column, and that the history is intact. Calls `cb`
 * for each difference. Returns 0 when equal, TS_ECORRUPT when not.
 */
int ts_node_verify(ts_node *node,
	int (*cb)(const ts_verify_problem *p, void *payload), void *payload);

/* The case application (node/case.c). */

/* One column assignment; `value` NULL means SQL NULL. Values are given as
 * text and converted to the column's type. */
typedef struct {
	const char *column;
	const char *value;
} ts_field;

/*
 * Records a new case found at this node, with its intake event. `category`,
 * `source` and `address` are required; `extra` sets further columns. The
 * new case id is written to *id_out (free() it).
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

/* Writes the current time as the schema's text form,
 * "YYYY-MM-DDTHH:MM:SS+08:00". */
void ts_time_format(char out[32], int64_t when);

/*
 * Remotes and transfer (node/remote_node.c over sync/remote.c).
 *
 * A node's remotes live in its config: remote.NAME.url and, for SSH,
 * remote.NAME.identity (a private key file; ssh-agent when unset). A URL is
 * a path to the upper node's directory or to its history.git, a file:// URL,
 * or ssh://[user@]host[:port]/path (the node's directory or its history.git
 * on that host). SSH host keys are checked against NODE/known_hosts (OpenSSH
 * format): an unknown or changed key is refused, and only
 * ts_node_remote_trust() adds one. "upstream" is the default remote.
 *
 * Refs: a push sends the local refs/heads/main to the remote's
 * refs/submissions/<this node's id> (forced: the lower node owns that ref);
 * a fetch brings the remote's refs/heads/main to refs/remotes/<NAME>/main.
 */

#define TS_REMOTE_DEFAULT "upstream"

/* What a transfer moved (so far, when passed to a progress callback). */
typedef struct {
	size_t objects;          /* objects sent or received */
	size_t total_objects;    /* objects to send or receive, when known, else 0 */
	uint64_t bytes;          /* bytes sent or received; 0 when not counted
	                            (a push to a path on this machine) */
	double seconds;          /* since the transfer started */
	int done;                /* 1 on the last progress call, success or not */
	int updated;             /* 1 when the target ref moved, 0 when it was already there */
} ts_transfer_stats;

/* Called during a transfer at most every 0.1 s; once it has been called, a
 * last call with done = 1 follows whether the transfer succeeds or not. */
typedef void (*ts_transfer_progress_cb)(const ts_transfer_stats *stats, void *payload);

typedef struct {
	ts_transfer_progress_cb progress;   /* or NULL */
	void *payload;                      /* passed to progress */
	int timeout_ms;                     /* connect timeout; 0 for the default (10 s) */
} ts_transfer_options;

/* One configured remote; the strings live until the callback returns. */
typedef struct {
	const char *name;
	const char *url;
	const char *identity;    /* key file, or NULL (ssh-agent) */
} ts_remote_info;

/* 1 if `name` may name a remote: letters, digits, '-', '_' and inner dots. */
int ts_node_remote_name_valid(const char *name);

/*
 * Adds a remote to the node's config. A local path is stored absolute and
 * must exist; an identity file must be readable and is stored absolute.
 * TS_EEXISTS if the name is taken, TS_EINVALID for a bad name or URL.
 */
int ts_node_remote_add(ts_node *node, const char *name, const char *url, const char *identity);

/* Removes a remote and its fetched refs (refs/remotes/NAME/...).
 * TS_ENOTFOUND if there is no such remote. */
int ts_node_remote_remove(ts_node *node, const char *name);

/* Calls `cb` for each remote, in config order; a non-zero return stops. */
int ts_node_remote_list(ts_node *node,
	int (*cb)(const ts_remote_info *remote, void *payload), void *payload);

/*
 * Pushes the node's main to `remote` (NULL: upstream) as
 * refs/submissions/<node id>. Writes the commit pushed to `id_out` and what
 * moved to *stats (may be NULL). Fails with TS_ENOTFOUND (no such remote or
 * repository), TS_EAUTH (host key or node key refused), TS_ENET (network),
 * TS_EDENIED (the remote refused the ref), each with a message naming the
 * remote and the cause.
 */
int ts_node_push(char id_out[41], ts_transfer_stats *stats, ts_node *node, const char *remote,
	const ts_transfer_options *opts);

/*
 * Fetches `remote`'s main (NULL: upstream) into refs/remotes/<remote>/main
 * and writes the fetched commit to `id_out`. Errors as ts_node_push();
 * TS_ENOTFOUND also when the remote has no main.
 */
int ts_node_fetch(char id_out[41], ts_transfer_stats *stats, ts_node *node, const char *remote,
	const ts_transfer_options *opts);

typedef enum {
	TS_HOST_KEY_ADDED = 1,   /* appended to NODE/known_hosts */
	TS_HOST_KEY_KNOWN,       /* it was already there; nothing written */
	TS_HOST_KEY_REPLACED     /* the host's old entries were replaced */
} ts_host_key_status;

/* An SSH host key as ts_node_remote_trust() found it. */
typedef struct {
	char fingerprint[64];    /* "SHA256:<base64>", as ssh-keygen -l shows it */
	char type[32];           /* "ssh-ed25519", "ecdsa-sha2-nistp256", ... */
	char host[300];          /* as known_hosts names it: "host" or "[host]:port" */
	ts_host_key_status status;
} ts_host_key;

typedef struct {
	const char *expect;      /* trust only a key with this fingerprint, or NULL */
	int replace;             /* replace a different key known for the host (only
	                            after its new fingerprint was confirmed) */
	int timeout_ms;          /* connect and handshake timeout; 0 for 10 s */
} ts_trust_options;

/*
 * Connects to an ssh:// remote, reads its host key and records it in
 * NODE/known_hosts. *out says what was found and done (also filled, as far
 * as known, on failure). A key different from one already known for the
 * host is refused (TS_EAUTH) unless opts->replace. `opts` may be NULL.
 */
int ts_node_remote_trust(ts_host_key *out, ts_node *node, const char *remote,
	const ts_trust_options *opts);

#ifdef __cplusplus
}
#endif

#endif
