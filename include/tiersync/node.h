/*
 * tiersync/node.h — a node: tiers, its database and history, writes, commits and checks. The generic engine: any SQLite schema with primary keys.
 * Part of the public API; include "tiersync.h" for all of it.
 */
#ifndef TIERSYNC_NODE_H
#define TIERSYNC_NODE_H

#include <stddef.h>
#include <stdint.h>
#include "tiersync/errors.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sqlite3 sqlite3;

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

#define TS_INIT_OPTIONS_VERSION 1

typedef struct {
	unsigned int version;  /* TS_INIT_OPTIONS_VERSION */
	ts_tier tier;
	const char *id;        /* e.g. "bj.dc.jingshan"; see ts_node_id_valid() */
	const char *upstream;  /* URL of the upper node's history, or NULL; a
	                        * relative path is taken from the node's
	                        * directory (as remote.h says of remotes) */
	const char *identity;  /* default author (a real name), or NULL */
	const char *key;       /* an unencrypted OpenSSH Ed25519 private key file: the
	                        * node's signing key (and its SSH identity for an
	                        * ssh:// upstream); NULL makes NODE/id_ed25519 */
} ts_init_options;

/* Every field unset. */
#define TS_INIT_OPTIONS_INIT { TS_INIT_OPTIONS_VERSION, TS_TIER_CITY, NULL, NULL, NULL, NULL }

/* 1 if `id` is a well-formed node id: dot-separated lowercase labels. */
int ts_node_id_valid(const char *id);

/*
 * Creates a node at `path` (which must not exist or be an empty directory):
 * the database with the current schema, an empty history with a first
 * commit, and the config file. Every commit the node makes is signed with
 * its key (opts->key, or a new key pair NODE/id_ed25519 + .pub); a city
 * records its own public key in sync_signers in its first commit. With an
 * ssh:// upstream, the key is also the node's SSH identity.
 */
int ts_node_init(ts_node **out, const char *path, const ts_init_options *opts);

/*
 * Opens the node at `path`, repairing it first if a crash left the history
 * ref and the database disagreeing. TS_ENOTFOUND if `path` is not a node.
 */
int ts_node_open(ts_node **out, const char *path);

/* Closes the node and frees it: the database, the history, the key.
 * NULL-safe. Every string the node returned is gone with it. */
void ts_node_free(ts_node *node);

/* 1 when opening the node had to repair it (objects rewritten from the
 * journal, a torn pack dropped, the branch moved back to the recorded head). */
int ts_node_repaired(const ts_node *node);

/* The node's directory as it was opened, its id ("bj.dc.jingshan") and its
 * tier. The strings live as long as the node. */
const char *ts_node_path(const ts_node *node);
const char *ts_node_id(const ts_node *node);
ts_tier ts_node_tier(const ts_node *node);

/* The configured identity (user.name), or NULL; it lives as long as the node. */
const char *ts_node_identity(const ts_node *node);

/* The node's working database. Read from it freely; write only through
 * ts_node_write(), or the write is tampering that `verify` reports. */
sqlite3 *ts_node_db(ts_node *node);

/*
 * Runs `fn` inside one SQLite write transaction whose changes are captured
 * and stored as a staged changeset in that same transaction, attributed to
 * `author` with a one-line `summary`. If `fn` returns non-zero, nothing is
 * written and that value is returned. What `fn` wrote is then checked
 * against the ownership rules (sync_ownership) for this node: a change
 * outside its place (another street's case, the city's rules) is refused
 * whole with TS_EDENIED naming the row and the rule, nothing staged.
 * TS_EBUSY when another connection holds the database's write lock for
 * longer than the node waits (5 s).
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

/* A staged write taken back (ts_node_restore); the strings live until the
 * callback returns. */
typedef struct {
	int64_t seq;             /* its number while it was staged */
	const char *author;      /* who made the write */
	int64_t time;            /* when it was made, seconds since the epoch */
	const char *summary;
	int inserts, updates, deletes;
	const char *restored_by; /* who took it back */
	int64_t restored_at;     /* when */
} ts_restored_info;

/*
 * Takes back staged writes (not yet committed): those numbered `seqs[0..n)`
 * (ts_staged_info.seq), or every staged write when `seqs` is NULL. In one
 * transaction, newest first, each write's inverse is applied to the
 * database and the write moves from the staged writes to the node's record
 * of writes taken back (ts_node_restored()), under `author` (NULL: the
 * node's identity) and the time; history is not touched, and the database
 * stays equal to the head plus the writes still staged. Then calls `cb`
 * (may be NULL) for each write taken back, newest first.
 *
 * Refused whole, nothing changed: TS_ENOTFOUND for a number that is not a
 * staged write (or nothing staged, for all); TS_EDENIED for a write that a
 * later staged write not taken back with it changed a row of (the message
 * names both and the row); TS_ECONFLICT for one whose inverse meets a row
 * changed since (by a merge) or breaks a constraint; TS_EBUSY while a merge
 * is being applied; TS_EINVALID without an author.
 */
int ts_node_restore(ts_node *node, const int64_t *seqs, size_t n, const char *author,
	int (*cb)(const ts_restored_info *info, void *payload), void *payload);

/* Calls `cb` for each staged write ever taken back at this node, in the
 * order they were; a non-zero return stops and is returned. */
int ts_node_restored(ts_node *node,
	int (*cb)(const ts_restored_info *info, void *payload), void *payload);

/*
 * Turns every staged write into one history commit. The author is `author`,
 * or the authors of the staged writes when NULL (joined if several); the
 * committer is the node. Writes the commit id (40 hex digits + NUL) to
 * `id_out`. TS_ENOTFOUND if nothing is staged.
 */
int ts_node_commit(char id_out[41], ts_node *node, const char *message, const char *author);

/*
 * For a process that keeps the node open and commits often (an officer's
 * application): with `on`, a commit costs one durable database transaction
 * and the work in memory. Its objects and the move of the branch in
 * history.git wait, as many commits together, until every 32nd commit
 * (which writes them as one pack), anything of this handle that reads or sends the
 * history (log, verify, push, fetch, merge, bundles), ts_node_free(), or
 * ts_node_batch_commits(node, 0); each commit is durable at once all the
 * same (the database's journal has what writes it again), and another
 * process that opens the node or writes its history writes it from there.
 * Until then stock git and other processes see history.git as it was.
 * Off when a node is opened. An error is that of writing what waited.
 */
int ts_node_batch_commits(ts_node *node, int on);

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
 * by row and column by column, and that the history is intact: every
 * commit reachable from the head is signed, its signature matches its
 * bytes, and the key is its committer node's (this node's own, or the one
 * sync_signers records for it). A signature problem has table "history",
 * key the commit id. Calls `cb` for each difference. Returns 0 when equal,
 * TS_ECORRUPT when not.
 */
int ts_node_verify(ts_node *node,
	int (*cb)(const ts_verify_problem *p, void *payload), void *payload);

/*
 * Writes NODE/allowed_signers (OpenSSH's allowed-signers format, for
 * `git -c gpg.ssh.allowedSignersFile=NODE/allowed_signers verify-commit`)
 * from the node's own key and every row of sync_signers. The node does it
 * whenever its head moves; call it after changing sync_signers otherwise.
 */
int ts_node_signers_refresh(ts_node *node);

/*
 * Admission: whether this node may take commit `commit_hex` (40 hex digits)
 * offered by the lower node `from` (its id) as its submission. Checks,
 * before anything of it is written: every tree entry the offer changes
 * (known tables, rows canonical and at their own key's path, regular-file
 * and tree modes only, sizes within the limits, evidence files immutable),
 * the ownership rules of sync_ownership for `from`, and the signatures of
 * the commits new to this node. `objects_dir`, when not NULL, is an extra
 * objects directory to read the offer from (git's quarantine of a push in
 * progress). Returns 0 when admissible, else TS_EDENIED (or TS_ECORRUPT)
 * with one line naming the commit, the table and key, and the rule.
 */
int ts_node_admit(ts_node *node, const char *from, const char *commit_hex, const char *objects_dir);

/*
 * The node's settings (node/config.c): NODE/config, a git-config file, as
 * `git config` reads and writes it. A key is SECTION.NAME or
 * SECTION.SUBSECTION.NAME; section and name are case-insensitive.
 *
 * May be set: user.name (the node's identity, ts_node_identity()),
 * remote.<name>.url (a path, file:// or ssh:// URL, stored as given: a
 * relative path is taken from the node's directory) and
 * remote.<name>.identity (a readable key file of a remote that has a url,
 * stored absolute). Read only: node.id and node.tier (bound to the node's
 * key and its enrollment above), node.key (the enrolled signing key) and
 * signer.<id>.key (the key of a node above, as first seen).
 */

/* One setting; the strings live until the callback returns. */
typedef struct {
	const char *key;       /* canonical: section and name lowercased */
	const char *value;
	int settable;          /* 1 when ts_node_config_set() may change it */
} ts_config_entry;

/* The value of `key`. The caller frees *out with free(). TS_ENOTFOUND when
 * it is not set. */
int ts_node_config_get(char **out, ts_node *node, const char *key);

/* Sets `key` to `value`. TS_EDENIED for a read-only key, with the reason;
 * TS_EINVALID for a key nothing reads (the message names those that may
 * be set) or a bad value; TS_ENOTFOUND for the identity of a remote
 * without a url, or an identity file that cannot be read. */
int ts_node_config_set(ts_node *node, const char *key, const char *value);

/* Removes `key`: user.name or remote.<name>.identity (a remote goes whole,
 * with ts_node_remote_remove()). TS_ENOTFOUND when it is not set,
 * TS_EDENIED for any other known key. */
int ts_node_config_unset(ts_node *node, const char *key);

/* Calls `cb` for each setting, in file order; a non-zero return stops and
 * is returned. */
int ts_node_config_list(ts_node *node,
	int (*cb)(const ts_config_entry *entry, void *payload), void *payload);

/* Writes the current time as the schema's text form,
 * "YYYY-MM-DDTHH:MM:SS+08:00". */
void ts_time_format(char out[32], int64_t when);

#ifdef __cplusplus
}
#endif

#endif
