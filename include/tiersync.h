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
#include <stdio.h>

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
	const char *key;       /* an unencrypted OpenSSH Ed25519 private key file: the
	                        * node's signing key (and its SSH identity for an
	                        * ssh:// upstream); NULL makes NODE/id_ed25519 */
} ts_init_options;

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

/*
 * The case lifecycle (node/lifecycle.c): the steps a case goes through
 * after intake, each refused with a message that says why when the case's
 * state or the rules forbid it, and the rules the upper tiers set. See
 * docs/LIFECYCLE.md.
 *
 * Every step is one ts_node_write(): the case row changes and one
 * append-only case_events row (the step's kind, the officer's real name,
 * the time, this node) is added in the same transaction, or nothing is
 * written at all. `author` is the officer's real name (NULL: the node's
 * identity); `note`, where taken, is free text added to the event (may be
 * NULL). Refusals return TS_EDENIED (the state or the rules forbid the
 * step), TS_EINVALID (a bad argument) or TS_ENOTFOUND (no such case).
 */

/* 即时调度: sends the case to the named officer (首问负责), who stays
 * responsible. From discovered, or again while dispatched. */
int ts_case_dispatch(ts_node *node, const char *author, const char *case_id, const char *officer,
	const char *note);

/* 三步法, step one, 教育核录: educate and record the party. The case must be
 * dispatched; it is then being handled. */
int ts_case_educate(ts_node *node, const char *author, const char *case_id, const char *note);

/* 三步法, step two, 警示训诫: only after educating. */
int ts_case_warn(ts_node *node, const char *author, const char *case_id, const char *note);

/* 三步法, step three, 依法处罚: only after warning, unless the case's
 * category may be penalized at once (rule immediate_penalty). */
int ts_case_penalize(ts_node *node, const char *author, const char *case_id, const char *note);

/* 立案: files a case being penalized. */
int ts_case_file(ts_node *node, const char *author, const char *case_id, const char *note);

/*
 * 处罚决定: the legal basis and the fine, in fen, of a filed case. The case
 * becomes major when `major` is 1 or the fine reaches the major_threshold
 * rule; a major case's review is then pending. A decision may be made
 * again only after its review rejected it.
 */
int ts_case_decide(ts_node *node, const char *author, const char *case_id, const char *legal_basis,
	int64_t amount_fen, int major, const char *note);

/* 法制审核: approves (approve = 1) or rejects the decision of a major case
 * whose review is pending. `reviewer` is the reviewer's real name (NULL:
 * the author); the event names the reviewer. */
int ts_case_review(ts_node *node, const char *author, const char *case_id, int approve,
	const char *reviewer, const char *note);

/* 备案: files an approved major case with the higher tier. */
int ts_case_file_up(ts_node *node, const char *author, const char *case_id, const char *note);

/* 执行: the decided penalty is carried out; a major one only once approved. */
int ts_case_execute(ts_node *node, const char *author, const char *case_id, const char *note);

/* 移送: hands an open case to another department or the police (`to`);
 * it takes no more steps here. */
int ts_case_transfer(ts_node *node, const char *author, const char *case_id, const char *to,
	const char *note);

/* 即时反馈: reports the result of the on-site handling. */
int ts_case_feedback(ts_node *node, const char *author, const char *case_id, const char *note);

/* 回访: the return visit of a complaint case after its feedback, with the
 * complainant's satisfaction: satisfied, basically_satisfied or
 * dissatisfied. */
int ts_case_visit(ts_node *node, const char *author, const char *case_id, const char *satisfaction,
	const char *note);

/*
 * 办结: closes a case after its feedback. A penalized case must be filed,
 * decided and executed; a major one also approved and filed up; a
 * complaint case must have had its return visit.
 */
int ts_case_close(ts_node *node, const char *author, const char *case_id, const char *note);

/*
 * Edits the columns of an open case that are not part of its lifecycle
 * (description, address, lng, lat, complainant, key area, event): like
 * ts_case_update(), but a lifecycle column is refused naming the step that
 * sets it, and a closed or transferred case is refused whole.
 */
int ts_case_edit(ts_node *node, const char *author, const char *case_id, const ts_field *sets,
	size_t nsets);

/* The step that sets a lifecycle column of `cases` ("dispatch", ...), or
 * NULL if the column may be edited. */
const char *ts_case_column_step(const char *column);

/*
 * Parses an amount of yuan ("200", "200.5", "1234.56") into fen. At most
 * two decimals, no sign, no exponent; TS_EINVALID otherwise.
 */
int ts_case_yuan_parse(int64_t *fen_out, const char *text);

/* One rule to set: `rule` is major_threshold (value in fen), deadline_days
 * or immediate_penalty (value 0/1); `category` names the category of the
 * last two (NULL for major_threshold). */
typedef struct {
	const char *rule;
	const char *category;
	int64_t value;
} ts_case_rule;

/*
 * Sets rules for this node's own jurisdiction, in one write. Only a city or
 * district node may (TS_EDENIED on a street or device); each rule is
 * checked before anything is written.
 */
int ts_case_rules_set(ts_node *node, const char *author, const ts_case_rule *rules, size_t nrules);

/* The jurisdiction of a case recorded at this node: a device's street (its
 * parent id), else the node's own id. The caller frees it. */
char *ts_case_jurisdiction(const ts_node *node);

/*
 * Between the tiers: key areas (node/areas.c), supervision items
 * (node/supervision.c), major events (node/events.c) and the phone numbers
 * of small ads (node/small_ads.c), with the tier and jurisdiction rules
 * they share (node/tiers.c). See docs/TIERS.md.
 *
 * Every write goes through ts_node_write() with the author's real name, so
 * it is staged durably and committed under that name. A refused operation
 * returns TS_EDENIED (the tier or jurisdiction forbids it), TS_EINVALID
 * (bad input) or TS_ENOTFOUND (no such row), with one clear message, and
 * writes nothing.
 */

/*
 * Jurisdiction and times (node/tiers.c).
 */

/* 1 when the place `id` lies in the jurisdiction of node `scope`: it is
 * `scope` itself or below it ("bj.dc.jingshan" lies in "bj.dc" and "bj"). */
int ts_jurisdiction_covers(const char *scope, const char *id);

/*
 * Parses a date or time given on the command line into the schema's form
 * "YYYY-MM-DDTHH:MM:SS+08:00". Accepts "YYYY-MM-DD" (then the start of the
 * day, or its last second when `end_of_day`), "YYYY-MM-DD HH:MM[:SS]",
 * "YYYY-MM-DDTHH:MM[:SS]" and the full form with "+08:00". A date that
 * does not exist (2015-02-30) is TS_EINVALID naming `what`.
 */
int ts_time_parse(char out[32], const char *text, int end_of_day, const char *what);

/* The current time in the schema's form (TIERSYNC_NOW overrides the clock). */
void ts_time_now(char out[32]);

/*
 * Key areas, 重点地区 (node/areas.c).
 */

/*
 * Lists a key area (挂账) now. Only the city or a district may. A
 * district's area is its own. The city names the districts the area lies
 * in (`districts`, at least one, each a district directly below the city):
 * the city row is written with one district row per district, carrying it
 * (city_key_area_id), so that a city key area is a key area of each of
 * those districts. The new (city or district) row's id goes to *id_out
 * (free() it).
 */
int ts_area_add(char **id_out, ts_node *node, const char *author, const char *name,
	const char *zone, const char *reason, const char *const *districts, size_t ndistricts);

/*
 * Delists a key area (销账) now, with a reason. The city may delist any
 * area; delisting a city area delists the district rows that carry it. A
 * district may delist only its own areas, and not a row that carries a
 * city area (the city delists that). Streets and devices are refused.
 */
int ts_area_delist(ts_node *node, const char *author, const char *area_id, const char *reason);

/*
 * For case intake: 1 when `area_id` is a listed key area that a case of
 * `jurisdiction` may lie in (the area's owner covers it), 0 when not (with
 * the reason as the last error), < 0 on failure. Writes nothing.
 */
int ts_area_fits_case(ts_node *node, const char *area_id, const char *jurisdiction);

/*
 * Supervision items, 督办 (node/supervision.c).
 */

typedef struct {
	const char *target;    /* the node that must answer: below the issuer */
	const char *subject;   /* one line */
	const char *detail;    /* or NULL */
	const char *case_id;   /* the case it is about, or NULL */
	const char *due;       /* a date or time (ts_time_parse), or NULL */
} ts_supervise_options;

/*
 * Issues a supervision item from this node (the city or a district) to a
 * node inside its jurisdiction. A case it names must exist and lie in the
 * target's jurisdiction; the case gets a 'supervise' event. The item's id
 * goes to *id_out (free() it).
 */
int ts_supervise_issue(char **id_out, ts_node *node, const char *author, const ts_supervise_options *opts);

/*
 * Adds this node's feedback to an open item (三级反馈): the target answers
 * (the item becomes 'answered'), and every node above the target up to the
 * city may add its own feedback at its level. Devices, nodes outside the
 * chain and closed items are refused. The feedback id goes to *id_out.
 */
int ts_supervise_answer(char **id_out, ts_node *node, const char *author, const char *item_id,
	const char *text);

/* Closes an answered item (闭合). Only the issuing node may. */
int ts_supervise_close(ts_node *node, const char *author, const char *item_id);

/*
 * Major events, 重大活动保障 (node/events.c).
 */

/*
 * Declares a major-event period from this node (the city or a district):
 * `from` and `to` as ts_time_parse() reads them (a date `to` means its
 * whole day). The cases this node already holds that fall in it are
 * marked in the same write; *marked says how many (may be NULL). The
 * event's id goes to *id_out (free() it).
 */
int ts_event_add(char **id_out, size_t *marked, ts_node *node, const char *author, const char *name,
	const char *from, const char *to, const char *zone);

/*
 * Marks the cases this node holds, in its jurisdiction, that fall in a
 * major event and carry none yet: for events that arrived by pull. `event`
 * limits it to one event (NULL: every event). *marked says how many
 * (0 writes nothing).
 */
int ts_event_mark(size_t *marked, ts_node *node, const char *author, const char *event);

/*
 * For case intake: the major event a case of `jurisdiction` reported at
 * `reported_at` falls in, or NULL in *event_out when none (free() it). Of
 * several, the most local one, then the earliest started, then the lowest
 * id. Reads only; callable inside ts_node_write().
 */
int ts_event_for_case(char **event_out, ts_node *node, const char *jurisdiction, const char *reported_at);

/*
 * For case intake: marks the case `case_id` with the major event it falls
 * in (ts_event_for_case on its own jurisdiction and reported_at), unless it
 * carries one already. Call it inside the intake's ts_node_write(), after
 * the case row is written. *marked (may be NULL) is 1 when it was marked.
 */
int ts_event_mark_case(int *marked, ts_node *node, const char *case_id);

/*
 * Small ads, 违法电话号码警示 (node/small_ads.c).
 */

/*
 * Records the phone numbers found on a small_ads case, one row each. Each
 * must be digits only (spaces and '-' are dropped), not repeated, and not
 * already recorded on the case; the case must lie in this node's
 * jurisdiction and not be closed. All or nothing.
 */
int ts_ads_add(ts_node *node, const char *author, const char *case_id, const char *const *phones,
	size_t nphones);

/*
 * Records a warning call to `phone` (warned, unreachable or suspended) now,
 * by `author`, on every sighting of it in this node's jurisdiction that is
 * not yet warned. *rows says how many (may be NULL). TS_ENOTFOUND when the
 * number is not on record or is already warned everywhere.
 */
int ts_ads_warn(size_t *rows, ts_node *node, const char *author, const char *phone, const char *outcome);

/* The figures of the numbers in this node's jurisdiction. */
typedef struct {
	long long found;        /* distinct numbers recorded */
	long long warned;       /* of them: every sighting warned */
	long long unreachable;  /* of them: not warned, last outcome unreachable */
	long long suspended;    /* of them: not warned, suspended */
	long long untried;      /* of them: a sighting not yet called */
	double rate;            /* warned / found; 0 when nothing was found */
} ts_ads_figures;

/* Fills *out for this node's jurisdiction. */
int ts_ads_figures_get(ts_ads_figures *out, ts_node *node);

/*
 * Evidence (证据): photos, video, body-camera footage and documents of a
 * case, kept in history by content (SHA-256) through the engine's files
 * (sync/files.h), each recorded as an immutable row of `evidence` with who
 * captured it, when and where, plus a case event. See docs/EVIDENCE.md.
 */

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
 * nothing is left at `out_path` that was not there before; once whole, it
 * is synced to disk, renamed into place and its directory synced. Only a
 * regular file is ever replaced: if `out_path` is anything else — a device
 * such as /dev/null, a FIFO, a directory, a socket, or a symbolic link
 * (refused, not followed) — the call is refused with TS_EINVALID and
 * nothing is changed. Writes the full SHA-256 to `sha256_out` (may be NULL).
 */
int ts_evidence_get(char sha256_out[65], ts_node *node, const char *case_id, const char *sha256,
	const char *out_path);

/*
 * Figures (考核评议): what a tier reports from its own merged database for
 * its own jurisdiction, in total and per child unit (the next tier down).
 * Each figure is one SQL query over the case schema; the queries are in
 * node/report.c and, for anyone to re-run with the sqlite3 shell, in
 * docs/REPORT.md.
 */

/* How a figure reads. */
typedef enum {
	TS_FIGURE_COUNT = 0,   /* a number: value */
	TS_FIGURE_RATE,        /* value of base, e.g. 95 of 100; goal: at least goal_percent */
	TS_FIGURE_DROP         /* value this period against base the same period last year;
	                          goal: down by at least goal_percent */
} ts_figure_kind;

/* One figure's definition. */
typedef struct {
	const char *name;      /* the JSON key, e.g. "rectification_rate" */
	const char *label;     /* for people, e.g. "rectification rate 问题整改率" */
	ts_figure_kind kind;
	int goal_percent;      /* 0: no goal */
	const char *sql;       /* one row: (value, base); base NULL for a count.
	                          Parameters :scope :from :to :last_from :last_to */
} ts_report_figure;

/* The figures, in report order; ts_report_nfigures of them. */
extern const ts_report_figure ts_report_figures[];
extern const size_t ts_report_nfigures;

/* One value of a figure: base is the denominator (rates) or last year's
 * value (drops), 0 for counts. */
typedef struct {
	int64_t value;
	int64_t base;
} ts_report_value;

/* Cases of one category or source in the period. */
typedef struct {
	char *code;
	int64_t found, filed, penalised, transferred, closed;
} ts_report_group;

/* The figures of one unit: the whole jurisdiction or one child of it. */
typedef struct {
	char *unit;                    /* node id */
	ts_report_value *values;       /* one per ts_report_figures[] */
	ts_report_group *categories;   /* every category, in code order */
	size_t ncategories;
	ts_report_group *sources;      /* every source, in code order */
	size_t nsources;
} ts_report_unit;

typedef struct {
	char from[32], to[32];            /* the period: from <= reported_at < to */
	char last_from[32], last_to[32];  /* the same period a year earlier */
	ts_report_unit total;
	ts_report_unit *children;         /* in id order */
	size_t nchildren;
} ts_report;

/*
 * Parses a period "A..B" or "A", each side YYYY, YYYY-MM or YYYY-MM-DD
 * (Beijing time), into the schema's time form: `from` is the first second
 * of A, `to` the first second after B. TS_EINVALID for anything else.
 */
int ts_report_period(char from[32], char to[32], const char *spec);

/* The current calendar year (Beijing time; TIERSYNC_NOW sets the clock). */
void ts_report_this_year(char from[32], char to[32]);

/*
 * Computes the figures for `scope` (NULL: the node's id; otherwise the node
 * itself or a unit below it, TS_EINVALID if not) over [from, to), with a
 * row per child unit that has cases or responsibility zones. Free *out with
 * ts_report_free().
 */
int ts_report_compute(ts_report **out, ts_node *node, const char *scope,
	const char *from, const char *to);

/* Writes the report as one JSON object (see docs/REPORT.md) and a newline. */
void ts_report_write_json(FILE *out, const ts_report *report);

/* Writes the report as a table for people. */
void ts_report_write_text(FILE *out, const ts_report *report);

/* NULL-safe. */
void ts_report_free(ts_report *report);

/*
 * The gate (node/enroll.c, node/gate.c). An upper node on a stock OpenSSH
 * host lets each lower node in with that node's own Ed25519 key, enrolled
 * in two places: authorized_keys, with the forced command
 * `tiersync -C NODE gate --node ID --key FINGERPRINT`, and the synced table sync_signers (the
 * key is also the node's signing key). The gate lets that key run only
 * git-upload-pack and git-receive-pack on this node's history, and a push
 * may move only refs/submissions/ID, after ts_node_admit() took the offer.
 * README.md, "Setting up an upper host", says how to run it. A lower node
 * that reaches this node only through a path remote or bundles, never over
 * SSH, is enrolled signing-only: in sync_signers alone.
 */

/* How an enrollment reaches authorized_keys. */
typedef struct {
	const char *authorized_keys;  /* the file; NULL: $HOME/.ssh/authorized_keys */
	const char *program;          /* the absolute path of the tiersync binary the
	                                 forced command runs (enroll only) */
	const char *author;           /* who enrolls or revokes (NULL: the node's identity) */
	/*
	 * 1: signing-only. Only the sync_signers row (and its commit) is written;
	 * no authorized_keys file is read, created, locked or changed, so
	 * `authorized_keys` must be NULL and `program` is not used. A line an
	 * earlier enrollment wrote for the node stays as it is (the gate still
	 * takes its key while the row is in force): revoke without this flag to
	 * remove it.
	 */
	int signing_only;
} ts_enroll_options;

/*
 * Reads one OpenSSH public key line "ssh-ed25519 BASE64 [comment]" (a final
 * newline allowed, nothing else around it) and writes its canonical form
 * "ssh-ed25519 BASE64", without the comment, to *out (free() it). The key
 * must decode to a 51-byte ssh-ed25519 blob. TS_EINVALID otherwise.
 */
int ts_enroll_key_parse(char **out, const char *line);

/*
 * Enrolls the lower node `node_id` (strictly below this node, else
 * TS_EDENIED) with the key `public_key` (as ts_enroll_key_parse() reads
 * it): a row of sync_signers (enrolled by this node, now, in force), written
 * and committed under opts->author, then a line of authorized_keys with the
 * forced command, replacing the node's earlier line. Other lines are left as
 * they are; the file is replaced whole (temporary file and rename, its mode
 * kept), created 0600 in a 0700 directory when missing. Enrolling again
 * replaces the key and lifts a revocation. The commit (as ts_node_commit(),
 * so it carries any other staged write too) goes to `id_out`. With
 * opts->signing_only only the row is written (TS_EINVALID if
 * opts->authorized_keys is set too).
 */
int ts_node_enroll(char id_out[41], ts_node *node, const char *node_id, const char *public_key,
	const ts_enroll_options *opts);

/*
 * Revokes the enrollment of `node_id`: its lines leave authorized_keys
 * first, then its sync_signers row gets revoked_at (committed under
 * opts->author; opts->program is not used). A file without a line of the
 * node, or no file, is left as it is and the row is still revoked. With
 * opts->signing_only authorized_keys is not touched at all (TS_EINVALID if
 * opts->authorized_keys is set too): the row alone closes the gate.
 * TS_ENOTFOUND if it was never enrolled; revoking again changes nothing and
 * returns 0 with `id_out` the current HEAD.
 */
int ts_node_revoke(char id_out[41], ts_node *node, const char *node_id, const ts_enroll_options *opts);

/* One row of sync_signers; the strings live until the callback returns. */
typedef struct {
	const char *node_id;
	const char *public_key;    /* "ssh-ed25519 BASE64" */
	const char *enrolled_by;
	const char *enrolled_at;
	const char *revoked_at;    /* NULL while the key is in force */
} ts_enrolled_info;

/* Calls `cb` for each enrolled node (revoked ones too), in id order; a
 * non-zero return stops and is returned. */
int ts_node_enrolled(ts_node *node, int (*cb)(const ts_enrolled_info *info, void *payload), void *payload);

/* 0 when `node_id` lies strictly below this node and has a key in force in
 * sync_signers, and, with `fingerprint` not NULL, that key's fingerprint is
 * `fingerprint` ("SHA256:...", as ssh-keygen -l prints it); TS_EDENIED,
 * naming the reason, when not. */
int ts_node_signer_check(ts_node *node, const char *node_id, const char *fingerprint);

typedef enum {
	TS_GATE_UPLOAD_PACK = 1,   /* a fetch */
	TS_GATE_RECEIVE_PACK       /* a push */
} ts_gate_service;

/* What a lower node asked the gate for. */
typedef struct {
	ts_gate_service service;
	char path[4096];           /* the repository path, unquoted */
} ts_gate_request;

/*
 * Parses the command an SSH client asked for (SSH_ORIGINAL_COMMAND): only
 * "git-upload-pack 'PATH'", "git-receive-pack 'PATH'" and the same with
 * "git upload-pack" / "git receive-pack", one space, PATH quoted as git
 * quotes it (a ' or ! inside written '\'' or '\!'), nothing before or
 * after. PATH must be non-empty and hold no control character. Pure: reads
 * nothing but its arguments. TS_EDENIED, naming what is wrong, otherwise.
 */
int ts_gate_parse(ts_gate_request *out, const char *command);

/* The stock git process the gate hands a connection to: pass to execve(). */
typedef struct {
	char **argv;               /* git, its service, the repository; NULL-terminated */
	char **envp;               /* NULL-terminated */
} ts_gate_exec;

/*
 * Decides on `command` (SSH_ORIGINAL_COMMAND) from the lower node
 * `node_id`, who came in with the key whose fingerprint is `fingerprint`
 * (the forced command's --key): it must parse (ts_gate_parse), name this
 * node's history.git or directory, and that key must be the node's key in
 * force (ts_node_signer_check).
 * Then fills *out with git's service on history.git. The environment is
 * this process's without GIT_* variables, plus, for a push, a config that
 * runs the pre-receive hook NODE/gate-hooks/ID/pre-receive (written here:
 * it runs `program -C NODE gate --pre-receive --node ID`) and refuses
 * deletes; refs other than main and the node's own submission are hidden.
 * TS_EDENIED (with one line) when refused. Free *out with
 * ts_gate_exec_free().
 */
int ts_gate_prepare(ts_gate_exec **out, ts_node *node, const char *node_id, const char *fingerprint,
	const char *command, const char *program);

/* NULL-safe. */
void ts_gate_exec_free(ts_gate_exec *exec);

/*
 * The pre-receive check of a push by `node_id`: reads git's update lines
 * "OLD NEW REF" from `updates`; every one must create or update exactly
 * refs/submissions/ID (no delete, no other ref), else the whole push is
 * refused (TS_EDENIED, one line naming the ref and the rule). Then each new
 * commit goes through ts_node_admit() with `quarantine` (git's
 * GIT_QUARANTINE_PATH, or NULL).
 */
int ts_gate_pre_receive(ts_node *node, const char *node_id, FILE *updates, const char *quarantine);

#ifdef __cplusplus
}
#endif

#endif
