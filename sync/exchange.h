/*
 * The exchange (sync/exchange.c): the short conversation around a changes
 * stream (changes.h) between a node and the one above it, over any pair of
 * byte pipes (an SSH channel to `tiersync gate`, or a thread in this
 * process for a history on this machine). docs/FORMAT.md ("The exchange")
 * has the exact lines.
 *
 *   server: tiersync-exchange 1, then "ref <id> <name>" for each ref it
 *           shows, then an empty line
 *   fetch:  client "want <id>", "have <id>"..., empty line; server "ok"
 *           (or "refused <why>") and the changes stream
 *   push:   client "update <id> <name>", empty line, the changes stream;
 *           server "ok" or "refused <why>"
 *
 * A server keeping commits of an earlier, cut push shows the last of them
 * as "ref <id> partial": the client counts it as held, and sends only what
 * follows it.
 *
 * Generic: it knows refs and commits, nothing of nodes; who may see and
 * move which ref is the caller's.
 */
#ifndef TS_SYNC_EXCHANGE_H
#define TS_SYNC_EXCHANGE_H

#include <git2.h>

#include "changes.h"

#define TS_EXCHANGE_GREETING "tiersync-exchange 1"
/* The most refs a server shows, and haves a client names. */
#define TS_EXCHANGE_MAX_REFS 16
#define TS_EXCHANGE_MAX_HAVES 64
/* The name under which a server shows the tip of a cut push it keeps. */
#define TS_EXCHANGE_PARTIAL "partial"

/* The two pipes: read what the other side writes, write to it. */
typedef struct {
	ts_changes__read_fn read;
	ts_changes__write_fn write;
	void *payload;
	const char *name;     /* a server's name, before its refusals ("tiersync gate"), or NULL */
	int level;            /* zlib's level of the changes this end sends (changes.h) */
} ts_exchange__io;

typedef struct {
	char name[256];
	git_oid id;
} ts_exchange__ref;

/* --- server side --- */

/* Shows `refs`, reads a fetch's want and haves (the want must be the id of
 * one of `refs`), answers, and sends the changes from `repo`. */
int ts_exchange__serve_fetch(ts_changes__stats *stats, git_repository *repo,
	const ts_exchange__ref *refs, size_t nrefs, const ts_exchange__io *io);

typedef struct {
	/* each ref the push asks to move, before anything is received: < 0
	 * refuses the push (its message goes back) */
	int (*check)(const char *ref, void *payload);
	/* every update, once the stream came whole into `into` and each
	 * update's commit is there: admit, move the objects in, set the refs.
	 * < 0 refuses (its message goes back). */
	int (*accept)(const ts_exchange__ref *updates, size_t n, void *payload);
	void *payload;
} ts_exchange__push_rules;

/*
 * Shows `refs`, reads a push's updates, takes the changes stream into
 * `into` (a quarantine) and lets `rules` decide; answers "ok" or
 * "refused". TS_ENET with stats->cut when the stream was cut: the whole
 * commits are in `into` (stats->last the last one), for the caller to keep.
 */
int ts_exchange__serve_push(ts_changes__stats *stats, ts_store *into,
	const ts_exchange__ref *refs, size_t nrefs, const ts_exchange__push_rules *rules,
	const ts_exchange__io *io);

/* Greets, shows no ref and refuses at once with the last error (a server
 * that cannot serve a push now); returns `code`. */
int ts_exchange__refuse(const ts_exchange__io *io, int code);

/* --- client side --- */

/*
 * Fetches `ref` as the server shows it into `into` (a quarantine, which
 * reads the local objects too), counting `haves` as held. *id: the commit
 * fetched. TS_ENOTFOUND when the server shows no such ref; TS_ENET with
 * stats->cut when cut (the whole commits are in `into`). 1, with nothing
 * exchanged, when the other side hangs up or says anything else before its
 * greeting: it does not speak the exchange.
 */
int ts_exchange__fetch(git_oid *id, ts_changes__stats *stats, ts_store *into, const char *ref,
	const git_oid *haves, size_t nhaves, const ts_exchange__io *io,
	ts_changes__progress_fn progress, void *payload);

/*
 * Pushes `tip` of `repo` as the server's `ref`: sends what the server does
 * not show as held (its refs, its partial commit and `haves` count as held)
 * and reads its answer. *updated: 0 when the ref was already there.
 * The server's refusal is TS_EDENIED with its words. 1 as for a fetch.
 */
int ts_exchange__push(ts_changes__stats *stats, int *updated, git_repository *repo, const git_oid *tip,
	const char *ref, const git_oid *haves, size_t nhaves, const ts_exchange__io *io,
	ts_changes__progress_fn progress, void *payload);

/* Pipes on file descriptors: the payload points to the int fd. A write to
 * a socket whose other end is gone fails (TS_ENET) rather than raising
 * SIGPIPE. */
int ts_exchange__fd_read(void *data, size_t size, size_t *got, void *payload);
int ts_exchange__fd_write(const void *data, size_t len, void *payload);

/* Reads one line (without its '\n') of at most size - 1 bytes. */
int ts_exchange__read_line(char *line, size_t size, const ts_exchange__io *io);

#endif
