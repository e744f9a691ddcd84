/*
 * The SSH transport: a libssh2 session of our own (connect, handshake,
 * host key check, login, git-upload-pack or git-receive-pack on the
 * remote) under libgit2's smart pack protocol, every step bounded by
 * timeouts. Used by remote.c, which parses the URL and runs the transfer.
 */
#ifndef TS_SYNC_SSH_H
#define TS_SYNC_SSH_H

#include <git2.h>
#include <git2/sys/transport.h>
#include <libssh2.h>

#include "known_hosts.h"

/*
 * One SSH remote to reach, filled by its caller (the transfer or the trust
 * in remote.c) from the remote's URL and options; the strings are the
 * caller's and must outlive the connection.
 */
typedef struct {
	const char *remote;        /* the remote's name, for messages */
	const char *host;          /* without brackets */
	int port;
	const char *path;          /* the repository's path, as the URL gives it */
	const char *known_name;    /* the host as known_hosts names it */
	const char *known_hosts;   /* the file its host key must be listed in */
	const char *user;          /* who logs in, or NULL (refused, saying why) */
	const char *identity;      /* private key file, or NULL to ask ssh-agent */
	int connect_timeout_ms;    /* the TCP connect and the handshake */
	int io_timeout_ms;         /* a read or write that makes no progress */
	/* set by the subtransport: */
	int code;                  /* the first failure found below libgit2, with... */
	char message[1024];        /* ...its whole one-line message */
	git_smart_subtransport_definition definition;
} ts_ssh_target;

/* One SSH connection: the socket and the libssh2 session on it. */
typedef struct {
	int fd;
	LIBSSH2_SESSION *session;
	int established;          /* the handshake completed */
	const char *remote;       /* for messages */
	const char *host;
	int port;
	const char *path;
	int io_timeout_ms;
} ts_ssh_conn;

/* The monotonic clock, in seconds: for the deadlines of a connection and
 * the rates of a transfer. */
double ts_ssh__now(void);

/*
 * Connects to `to`'s host and completes the SSH handshake, both bounded by
 * its connect timeout; checks no host key (for remote.c's trust, which
 * reads the key with ts_ssh__host_key()). Close with ts_ssh__close(), even
 * on failure.
 */
int ts_ssh__open(ts_ssh_conn *c, const ts_ssh_target *to);

/* Ends the session and closes the socket; safe on a closed connection. */
void ts_ssh__close(ts_ssh_conn *c);

/* The server's host key; out->key lives as long as the session (for remote.c's trust). */
int ts_ssh__host_key(ts_server_key *out, ts_ssh_conn *c, const char *name);

/*
 * libgit2's smart protocol over our SSH subtransport, for the transfer's
 * transport callback. `to` must live until the transfer ends; the first
 * failure found below libgit2 is kept in to->code and to->message.
 */
int ts_ssh__transport(git_transport **out, git_remote *owner, ts_ssh_target *to);

/*
 * A plain channel to `service` on the URL's path (connected, host key
 * checked, logged in as for a transfer), for the exchange (exchange.h):
 * ts_ssh__channel_read() and _write() take the channel as their payload.
 * `to` must outlive the channel. Close with ts_ssh__channel_close().
 */
typedef struct ts_ssh_channel ts_ssh_channel;
int ts_ssh__channel_open(ts_ssh_channel **out, ts_ssh_target *to, const char *service);
int ts_ssh__channel_read(void *data, size_t size, size_t *got, void *payload);
int ts_ssh__channel_write(const void *data, size_t len, void *payload);
/* What the remote command wrote to stderr, as one line ("" when nothing). */
void ts_ssh__channel_stderr(ts_ssh_channel *ch, char *out, size_t size);
void ts_ssh__channel_close(ts_ssh_channel *ch);

/* `text` as one line: line breaks become "; ", the ends are trimmed (also for remote.c's messages). */
void ts_ssh__one_line(char *out, size_t size, const char *text, size_t len);

#endif
