/*
 * The node's private parts, shared by the files of node/.
 */
#ifndef TS_NODE_NODE_H
#define TS_NODE_NODE_H

#include <git2.h>
#include <sqlite3.h>

#include "integrate.h"
#include "sshsig.h"
#include "store.h"
#include "ownership.h"
#include "quarantine.h"
#include "tables.h"
#include "tiersync.h"

struct ts_node {
	char *path;
	char *id;
	ts_tier tier;
	char *scope;          /* the jurisdiction of the cases it records and works on:
	                       * a device's street (its parent id), else its own id */
	char *identity;       /* user.name, or NULL */
	git_config *config;
	sqlite3 *db;
	ts_store *store;
	int repaired;         /* open had to repair history */
	ts_tables *tables;    /* the synced tables, loaded at first use (ts_node__tables) */
	ts_ownership *rules;  /* the ownership rules as of head `rules_head` */
	git_oid rules_head;
	int64_t schema_cookie;   /* PRAGMA schema_version when the schema check
	                       * last passed (-1: not yet); node/schema_check.c */
	ts_sshsig_key *key;   /* signs the node's commits (node/signing.c) */
	char *signers;        /* allowed_signers as last written, or NULL */
	ts_progress_cb progress;   /* hears of a merge's long phases, or NULL */
	void *progress_payload;
};

/* The service keeps Beijing time: case times and commit times carry +08:00. */
#define TS_UTC_OFFSET_SECONDS (8 * 3600)

/* The node's synced tables, loaded once (the schema changes only by
 * migration, at open). */
int ts_node__tables(ts_tables **out, ts_node *node);

/* Fills `who` for a change made now-ish at this node. */
void ts_node__who(ts_store_who *who, const char *node_id, const char *name, int64_t when);

/* The current time (TIERSYNC_NOW overrides it, for reproducible runs). */
int64_t ts_node__now(void);

/* The longest phone number, in digits. */
#define TS_NODE_PHONE_DIGITS 20
/* A phone number as its digits (spaces and '-' between them dropped),
 * malloc'd; NULL when anything else is there, when it is not 5 to
 * TS_NODE_PHONE_DIGITS digits long, or out of memory (node/ids.c). */
char *ts_node__phone_digits(const char *given);

/*
 * Checks commit `theirs` (read from `repo`, or the node's own repository
 * when NULL) as an offer of node `from` (NULL: from above) before it is
 * merged (node/admit.c, sync/admit.h).
 */
int ts_node__admit(ts_node *node, git_repository *repo, const char *from, const git_oid *theirs);

/*
 * Moves an admitted quarantine's objects into the node's history (durable)
 * and sets each of the `n` refs to its tip (`why` in the reflog), under the
 * store lock; without `forced`, a ref already at its tip or after it stays
 * where it is (an older bundle). node/remote_node.c.
 */
int ts_node__take_in(ts_node *node, ts_quarantine *q, const char *const *refs, const git_oid *tips,
	size_t n, int forced, const char *why);

/*
 * ts_node_admit_urgent() on commit `theirs` read from `repo` (the node's
 * own repository when NULL; a quarantine that borrows its objects for a
 * bundle): the urgent commit's shape, then ts_node__admit() (node/admit_node.c).
 */
int ts_node__admit_urgent(ts_node *node, git_repository *repo, const char *from, const git_oid *theirs);

/*
 * Makes the urgent commit (node/urgent_commit.c) on `parent`, a commit the
 * upper node's main is known to hold, into `ref` (refs/urgent-out/...),
 * or finds the one there still valid: the same reports on the same
 * parent. Fills urgent->reports, commit and parent; no commit when main
 * holds no report the parent lacks, and urgent->no_base when `parent` is
 * NULL (nothing is known to be held above).
 */
int ts_urgent_commit__make(ts_urgent_push_stats *urgent, ts_node *node, const git_oid *parent,
	const char *ref);

/* The row stored at history path `path` in the head commit (the row a
 * conflict record is about; node/merge_node.c); TS_ENOTFOUND when the
 * head has none. */
int ts_node__head_row(ts_row **out, ts_node *node, const char *path);

/* Checks the write in progress against the ownership rules for node id
 * `writer` (node/admit_node.c); TS_EDENIED names the row and the rule. */
#include "capture.h"
int ts_node__check_write(ts_node *node, const char *writer, ts_capture *cap);

/* ts_node_write() with the rights of node `writer` instead of this node's:
 * for tests that lay down rows as if they had arrived from that node. */
int ts_node__write_as(ts_node *node, const char *writer, const char *author, const char *summary,
	int (*fn)(sqlite3 *db, void *payload), void *payload);

/* Applies the migrations of schema/ up to version `target` only (the
 * runner of ts_schema__migrate(), node/migrate.c). */
int ts_schema__migrate_to(sqlite3 *db, int target, int *version_out);

/* The schema check (node/schema_check.c): the database's schema against
 * the one a fresh node at its schema version has. Before a commit: 0, or
 * TS_ECORRUPT naming the first difference. In verify: each difference
 * reported through `cb`; returns `prior` (ts_history__verify's result)
 * when the schema is as expected, else TS_ECORRUPT. */
int ts_node__schema_check(ts_node *node);
int ts_node__schema_verify(ts_node *node, int prior,
	int (*cb)(const ts_verify_problem *p, void *payload), void *payload);

/* Signing (node/signing.c). */

/* The node's key file when the config names none. */
#define TS_NODE_KEY_FILE "id_ed25519"

/* Init: the key opts->key names, or a new pair saved in `dir` (the node
 * being made); a named key's absolute path goes to dir/config (node.key). */
int ts_node__key_init(ts_sshsig_key **out, const char *dir, const ts_init_options *opts);

/* Init of a city: its own public key as its row of sync_signers. */
int ts_node__key_enroll_self(sqlite3 *db, const ts_sshsig_key *key, const char *node_id, int64_t when);

/* Records, for ts_node_remote_status(), that `commit` (hex) was pushed to
 * (`what` "pushed") or fetched from ("fetched") the remote `remote`, now:
 * "sync.REMOTE.WHAT = HEX TIME" in NODE/sync-state (git-config format, kept
 * out of the database, which holds the data alone). A failure to record is
 * not the transfer's: it is ignored. */
#define TS_NODE_SYNC_STATE "sync-state"

void ts_node__sync_record(ts_node *node, const char *remote, const char *what, const char *commit);

/* Init: an ssh:// upstream without an identity gets the node's key. */
int ts_node__key_as_identity(ts_node *node);

/* Open: loads the node's key (making one for a node that has none), signs
 * the store's commits with it and keeps allowed_signers up to date. */
int ts_node__key_load(ts_node *node);

/* Admission: the keys an offer's commits may be signed with (from: the
 * offering node below, or NULL for an offer from above), and the check of
 * one offered commit: signed, by the key enrolled for its committer node,
 * before any revocation, by a node the offer may carry (ts_admit_options).
 * From above, the key that signs the oldest commit of a node above this
 * one that nothing records yet is kept as that node's (config
 * signer.<id>.key), as ssh keeps a host's key on first contact. */
typedef struct ts_node__offer_keys ts_node__offer_keys;
int ts_node__offer_keys_load(ts_node__offer_keys **out, ts_node *node, git_repository *repo,
	const git_oid *ours, const git_oid *theirs, const char *from);
void ts_node__offer_keys_free(ts_node__offer_keys *keys);
int ts_node__offer_commit_check(git_repository *repo, const git_oid *commit, void *payload);

/* Verify: the signature of every commit reachable from the head. */
int ts_node__verify_signatures(ts_node *node,
	int (*cb)(const ts_verify_problem *p, void *payload), void *payload);

#endif
