/*
 * The transport: moves history between a local repository and a remote one
 * with libgit2's pack protocol, over a local path (file://) or SSH.
 *
 * Generic: it knows repositories, refspecs, URLs and host keys, nothing of
 * nodes or cases. Over SSH it runs on ssh.c's transport (a libssh2 session
 * of its own under libgit2's pack protocol), which checks the host key
 * against an OpenSSH known_hosts file (known_hosts.c) before any credential
 * is offered, refusing an unknown or changed key, and logs in with a key
 * file or ssh-agent.
 */
#ifndef TS_SYNC_REMOTE_H
#define TS_SYNC_REMOTE_H

#include <git2.h>

#include "store.h"
#include "tiersync.h"

/* The connect (and SSH handshake) timeout when the caller gives none. */
#define TS_REMOTE_TIMEOUT_MS 10000
/* How long an SSH read or write may make no progress, when not given. */
#define TS_REMOTE_IO_TIMEOUT_MS 60000

/* A parsed remote URL. */
typedef struct {
	int ssh;        /* 1: ssh://; 0: a local path (plain or file://) */
	char *user;     /* ssh: from the URL, or NULL */
	char *host;     /* ssh: the host, without brackets */
	int port;       /* ssh: the port (22 when the URL names none) */
	char *path;     /* the repository path (for file://, the local path) */
} ts_remote_url;

/*
 * Parses "ssh://[user@]host[:port]/path", "file:///path" or a plain path.
 * TS_EINVALID for a malformed URL. Free with ts_remote__url_dispose().
 */
int ts_remote__url_parse(ts_remote_url *out, const char *url);
void ts_remote__url_dispose(ts_remote_url *url);

/* The name known_hosts gives the host: "host", or "[host]:port" off port 22. */
void ts_remote__url_known_name(char *out, size_t size, const ts_remote_url *url);

/* What one push or fetch is told. */
typedef struct {
	const char *name;          /* the remote's name, used in messages */
	const char *url;           /* a path, file:// or ssh:// URL */
	const char *identity;      /* ssh: private key file (KEYFILE.pub is used when
	                              present), or NULL to ask ssh-agent */
	const char *known_hosts;   /* ssh: the OpenSSH known_hosts file to check */
	int timeout_ms;            /* connect timeout; 0 for TS_REMOTE_TIMEOUT_MS */
	int io_timeout_ms;         /* ssh: stall timeout; 0 for TS_REMOTE_IO_TIMEOUT_MS */
	ts_transfer_progress_cb progress;   /* or NULL */
	void *payload;             /* passed to progress */
} ts_remote_options;

/*
 * Pushes with one refspec ("+refs/heads/main:refs/submissions/x"). Fills
 * *stats (may be NULL). A ref the remote refuses is TS_EDENIED, with the
 * remote's own message when it sent one.
 */
int ts_remote__push(ts_transfer_stats *stats, git_repository *repo, const char *refspec,
	const ts_remote_options *opts);

/*
 * Fetches the remote's `src_ref` into the local `dst_ref` (forced). Writes
 * the fetched commit to *id. TS_ENOTFOUND when the remote has no `src_ref`.
 */
int ts_remote__fetch(git_oid *id, ts_transfer_stats *stats, git_repository *repo,
	const char *src_ref, const char *dst_ref, const ts_remote_options *opts);

/*
 * The same through the changes exchange (exchange.h): over SSH with the
 * gate's tiersync-upload-changes and tiersync-receive-changes, with a
 * history on this machine in this process. 1, with nothing done, when the
 * SSH remote does not speak it (the caller then uses git's protocol).
 *
 * A fetch takes `src_ref` into `into` (a quarantine), counting `haves` as
 * held; *cut says that it was cut and the whole commits that came are in
 * `into` (TS_ENET). A push sends `tip` of `repo` as the remote's
 * `dst_ref`; `local_upper` is the store of the history on this machine,
 * its lock held (NULL over SSH).
 */
int ts_remote__fetch_changes(git_oid *id, ts_transfer_stats *stats, int *cut, ts_store *into,
	const char *src_ref, const git_oid *haves, size_t nhaves, const ts_remote_options *opts);
int ts_remote__push_changes(ts_transfer_stats *stats, git_repository *repo, const git_oid *tip,
	const char *dst_ref, const git_oid *haves, size_t nhaves, ts_store *local_upper,
	const ts_remote_options *opts);

/*
 * Connects to an ssh:// remote, reads its host key and records it in
 * opts->known_hosts (created if missing). With `expect` (a "SHA256:..."
 * fingerprint) a different key is refused. A key different from one already
 * known for the host is refused as a possible attack unless `replace` is
 * set, which drops the old entries for that host.
 */
int ts_remote__trust(ts_host_key *out, const ts_remote_options *opts, const char *expect, int replace);

#endif
