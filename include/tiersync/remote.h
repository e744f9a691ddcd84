/*
 * tiersync/remote.h — remotes, push and fetch, SSH host keys.
 * Part of the public API; include "tiersync.h" for all of it.
 */
#ifndef TIERSYNC_REMOTE_H
#define TIERSYNC_REMOTE_H

#include <stddef.h>
#include <stdint.h>
#include "tiersync/node.h"

#ifdef __cplusplus
extern "C" {
#endif

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
 * refs/submissions/<this node's id> (forced: the lower node owns that ref),
 * after its urgent reports to refs/urgent/<this node's id>;
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
	size_t commits;          /* commits sent or received as their changes (the changes
	                            exchange: docs/FORMAT.md); 0 over git's protocol, which
	                            counts objects only. With the exchange, `objects` counts
	                            the commits and the tree entries they change. */
} ts_transfer_stats;

/* Called during a transfer at most every 0.1 s; once it has been called, a
 * last call with done = 1 follows whether the transfer succeeds or not. */
typedef void (*ts_transfer_progress_cb)(const ts_transfer_stats *stats, void *payload);

#define TS_TRANSFER_OPTIONS_VERSION 1

typedef struct {
	unsigned int version;  /* TS_TRANSFER_OPTIONS_VERSION */
	ts_transfer_progress_cb progress;   /* or NULL */
	void *payload;                      /* passed to progress */
	int timeout_ms;                     /* connect timeout; 0 for the default (10 s) */
} ts_transfer_options;

/* No progress, the default timeout. */
#define TS_TRANSFER_OPTIONS_INIT { TS_TRANSFER_OPTIONS_VERSION, NULL, NULL, 0 }

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

/* Removes a remote, its fetched refs (refs/remotes/NAME/...) and the
 * urgent commit made for it (refs/urgent-out/NAME).
 * TS_ENOTFOUND if there is no such remote. */
int ts_node_remote_remove(ts_node *node, const char *name);

/* Calls `cb` for each remote, in config order; a non-zero return stops. */
int ts_node_remote_list(ts_node *node,
	int (*cb)(const ts_remote_info *remote, void *payload), void *payload);

/*
 * Pushes the node's main to `remote` (NULL: upstream) as
 * refs/submissions/<node id>, after the urgent commit when there is one
 * (ts_node_push_urgent()). Writes the commit pushed to `id_out` and what
 * moved to *stats (may be NULL). Fails with TS_ENOTFOUND (no such remote or
 * repository), TS_EHOSTKEY (the host's key is not known yet),
 * TS_EHOSTKEY_CHANGED (it is not the key known for the host), TS_EAUTH (no
 * key to offer, or this node's key refused), TS_ENET (network),
 * TS_EDENIED (the remote refused the ref), each with a message naming the
 * remote and the cause.
 */
int ts_node_push(char id_out[41], ts_transfer_stats *stats, ts_node *node, const char *remote,
	const ts_transfer_options *opts);

/* What a push sent ahead of main: the urgent commit (ts_node_push_urgent()). */
typedef struct {
	size_t reports;          /* urgent reports the commit carries; 0: none to send */
	char commit[41];         /* the urgent commit, "" when there was none to send */
	char parent[41];         /* the commit it stands on, "" when none */
	int no_base;             /* 1: this node never fetched the remote's main, so no
	                            commit is known to be held there: nothing was sent */
	int updated;             /* 1 when refs/urgent/<node id> moved */
	size_t objects;          /* objects sent for it */
	uint64_t bytes;          /* bytes sent for it (0 when not counted) */
} ts_urgent_push_stats;

/* ts_node_push_urgent(): send the urgent commit only, not main. */
#define TS_PUSH_URGENT_ONLY 1u

/*
 * ts_node_push(), with urgent reports sent first. When the node holds
 * urgent reports (include/tiersync/urgent.h) that the remote's main, as
 * last fetched into refs/remotes/<remote>/main, lacks, a commit holding
 * only them goes first: its parent is that fetched commit, its tree the
 * parent's tree plus those report rows as this node's main has them (and
 * the row of each case they name that the parent lacks), signed like every
 * commit. It is kept as refs/urgent-out/<remote> (made again only when
 * the reports or the parent changed) and pushed to the remote's
 * refs/urgent/<this node's id>, which the upper node merges before the
 * submissions. Then main goes as ts_node_push() sends it, unless `flags`
 * has TS_PUSH_URGENT_ONLY. What went first is written to *urgent (may be
 * NULL); `id_out` and *stats are main's (untouched with
 * TS_PUSH_URGENT_ONLY). Errors as ts_node_push(); with TS_PUSH_URGENT_ONLY,
 * TS_ENOTFOUND when the remote's main was never fetched (no commit is
 * known to be held there to build on).
 */
int ts_node_push_urgent(char id_out[41], ts_transfer_stats *stats, ts_urgent_push_stats *urgent,
	ts_node *node, const char *remote, const ts_transfer_options *opts, unsigned int flags);

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

#define TS_TRUST_OPTIONS_VERSION 1

typedef struct {
	unsigned int version;  /* TS_TRUST_OPTIONS_VERSION */
	const char *expect;      /* trust only a key with this fingerprint, or NULL */
	int replace;             /* replace a different key known for the host (only
	                            after its new fingerprint was confirmed) */
	int timeout_ms;          /* connect and handshake timeout; 0 for 10 s */
} ts_trust_options;

/* Any key, no replacing, the default timeout. */
#define TS_TRUST_OPTIONS_INIT { TS_TRUST_OPTIONS_VERSION, NULL, 0, 0 }

/*
 * Connects to an ssh:// remote, reads its host key and records it in
 * NODE/known_hosts. *out says what was found and done (also filled, as far
 * as known, on failure). A key different from one already known for the
 * host is refused (TS_EHOSTKEY_CHANGED) unless opts->replace; a key other
 * than opts->expect is refused with TS_EAUTH. `opts` may be NULL.
 */
int ts_node_remote_trust(ts_host_key *out, ts_node *node, const char *remote,
	const ts_trust_options *opts);

#ifdef __cplusplus
}
#endif

#endif
