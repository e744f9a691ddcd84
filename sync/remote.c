/*
 * The transport: push and fetch over a local path or SSH, and the trust of
 * SSH host keys. libgit2 speaks the pack protocol; for SSH it runs over a
 * smart subtransport of ours on a libssh2 session we drive ourselves, so
 * that the connection, the handshake and every read and write are bounded
 * by timeouts, and the host key is checked against the node's own file.
 *
 * URLs
 *   /path, file:///path                 a repository on this machine
 *                                       (libgit2's local transport)
 *   ssh://[user@]host[:port]/path       a repository on an SSH host, where
 *                                       sshd runs git-upload-pack or
 *                                       git-receive-pack '<path>'; %XX in the
 *                                       path is decoded, /~/x means ~/x
 *
 * Host keys
 *   known_hosts is an OpenSSH file: "NAME KEYTYPE BASE64KEY", NAME being
 *   "host" on port 22 and "[host]:port" elsewhere, as OpenSSH writes it.
 *   Right after the handshake, before any credential is offered, the
 *   server's raw key must be listed for that exact name. An unknown key is
 *   refused with its fingerprint ("SHA256:" + unpadded base64 of the SHA-256
 *   of the key, as ssh-keygen -l prints it); a key that differs from the one
 *   listed is refused loudly, since it may be an attack. Only
 *   ts_remote_trust() adds keys. Lines libssh2 cannot parse (@cert-authority,
 *   unknown key types) are skipped when checking and kept verbatim when the
 *   file is rewritten.
 *
 * Authentication
 *   The identity file (KEYFILE, with KEYFILE.pub when present), else the
 *   keys of ssh-agent ($SSH_AUTH_SOCK). The user is the URL's, else the
 *   current user. A refused key ends the attempt.
 *
 * Timeouts
 *   The TCP connect and the SSH handshake are bounded by the connect timeout
 *   (default 10 s); once connected, each read or write that makes no
 *   progress for the I/O timeout (default 60 s) fails the transfer, and a
 *   keepalive goes out every 15 s so that idle links stay open. What the
 *   other end writes to stderr before it closes (git's "fatal: ..." or the
 *   gate's refusal) becomes the error message.
 */
#include "remote.h"

#include <errno.h>
#include <fcntl.h>
#include <git2/sys/transport.h>
#include <libssh2.h>
#include <netdb.h>
#include <poll.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"

/* How often, at most, a transfer reports progress. */
#define PROGRESS_INTERVAL 0.1
/* Seconds between SSH keepalives on an open connection. */
#define KEEPALIVE_SECONDS 15

/* ------------------------------------------------------------------ URLs */

void ts_remote_url_dispose(ts_remote_url *url)
{
	if (!url)
		return;
	free(url->user);
	free(url->host);
	free(url->path);
	memset(url, 0, sizeof(*url));
}

static int parse_ssh(ts_remote_url *out, const char *url, const char *rest)
{
	const char *at, *slash, *hostend, *port = NULL;

	if (!(slash = strchr(rest, '/')) || !slash[1])
		return ts_error_set(TS_EINVALID, "invalid URL '%s': name the repository's path, "
			"ssh://[user@]host[:port]/path", url);
	at = memchr(rest, '@', (size_t)(slash - rest));
	if (at) {
		if (at == rest)
			return ts_error_set(TS_EINVALID, "invalid URL '%s': empty user name", url);
		if (memchr(rest, ':', (size_t)(at - rest)))
			return ts_error_set(TS_EINVALID, "invalid URL: a password in the URL is not supported; "
				"log in with a key (--identity KEYFILE or ssh-agent)");
		if (!(out->user = strndup(rest, (size_t)(at - rest))))
			return ts_error_set(TS_ERROR, "out of memory");
		rest = at + 1;
	}
	if (*rest == '[') {                       /* [v6 address]:port */
		if (!(hostend = memchr(rest, ']', (size_t)(slash - rest))))
			return ts_error_set(TS_EINVALID, "invalid URL '%s': unclosed '['", url);
		out->host = strndup(rest + 1, (size_t)(hostend - rest - 1));
		hostend++;
		if (hostend < slash && *hostend != ':')
			return ts_error_set(TS_EINVALID, "invalid URL '%s': junk after ']'", url);
	} else {
		hostend = memchr(rest, ':', (size_t)(slash - rest));
		if (!hostend)
			hostend = slash;
		out->host = strndup(rest, (size_t)(hostend - rest));
	}
	if (!out->host)
		return ts_error_set(TS_ERROR, "out of memory");
	if (!*out->host)
		return ts_error_set(TS_EINVALID, "invalid URL '%s': no host", url);
	out->port = 22;
	if (hostend < slash && *hostend == ':')
		port = hostend + 1;
	if (port && port < slash) {
		long n = 0;
		const char *p;
		for (p = port; p < slash; p++) {
			if (*p < '0' || *p > '9' || (n = n * 10 + (*p - '0')) > 65535)
				return ts_error_set(TS_EINVALID, "invalid URL '%s': bad port", url);
		}
		if (n == 0)
			return ts_error_set(TS_EINVALID, "invalid URL '%s': bad port", url);
		out->port = (int)n;
	}
	if (!(out->path = strdup(slash)))
		return ts_error_set(TS_ERROR, "out of memory");
	out->ssh = 1;
	return 0;
}

int ts_remote_url_parse(ts_remote_url *out, const char *url)
{
	int error = 0;

	memset(out, 0, sizeof(*out));
	if (!url || !*url)
		return ts_error_set(TS_EINVALID, "empty remote URL");
	if (strchr(url, '\n') || strchr(url, '\r'))
		return ts_error_set(TS_EINVALID, "invalid URL: it holds a line break");
	if (!strncmp(url, "ssh://", 6))
		error = parse_ssh(out, url, url + 6);
	else if (!strncmp(url, "file://", 7)) {
		if (url[7] != '/')
			error = ts_error_set(TS_EINVALID, "invalid URL '%s': a file:// URL names an absolute "
				"path on this machine, file:///path", url);
		else if (!(out->path = strdup(url + 7)))
			error = ts_error_set(TS_ERROR, "out of memory");
	} else if (strstr(url, "://"))
		error = ts_error_set(TS_EINVALID, "unsupported URL '%s': use a path, file:// or ssh://", url);
	else if (!(out->path = strdup(url)))
		error = ts_error_set(TS_ERROR, "out of memory");
	if (error < 0)
		ts_remote_url_dispose(out);
	return error;
}

void ts_remote_url_known_name(char *out, size_t size, const ts_remote_url *url)
{
	if (url->port == 22)
		snprintf(out, size, "%s", url->host);
	else
		snprintf(out, size, "[%s]:%d", url->host, url->port);
}

/* ------------------------------------------------------------- host keys */

/* One kind of host key: libssh2's names for it and how OpenSSH spells it. */
typedef struct {
	int hostkey_type;    /* LIBSSH2_HOSTKEY_TYPE_* */
	int known_mask;      /* LIBSSH2_KNOWNHOST_KEY_* */
	const char *name;
} key_kind;

static const key_kind key_kinds[] = {
	{ LIBSSH2_HOSTKEY_TYPE_ED25519, LIBSSH2_KNOWNHOST_KEY_ED25519, "ssh-ed25519" },
	{ LIBSSH2_HOSTKEY_TYPE_ECDSA_256, LIBSSH2_KNOWNHOST_KEY_ECDSA_256, "ecdsa-sha2-nistp256" },
	{ LIBSSH2_HOSTKEY_TYPE_ECDSA_384, LIBSSH2_KNOWNHOST_KEY_ECDSA_384, "ecdsa-sha2-nistp384" },
	{ LIBSSH2_HOSTKEY_TYPE_ECDSA_521, LIBSSH2_KNOWNHOST_KEY_ECDSA_521, "ecdsa-sha2-nistp521" },
	{ LIBSSH2_HOSTKEY_TYPE_RSA, LIBSSH2_KNOWNHOST_KEY_SSHRSA, "ssh-rsa" },
	{ LIBSSH2_HOSTKEY_TYPE_DSS, LIBSSH2_KNOWNHOST_KEY_SSHDSS, "ssh-dss" },
};
#define NKINDS (sizeof(key_kinds) / sizeof(key_kinds[0]))

static const key_kind *kind_of_hostkey(int type)
{
	size_t i;
	for (i = 0; i < NKINDS; i++)
		if (key_kinds[i].hostkey_type == type)
			return &key_kinds[i];
	return NULL;
}

/* "SHA256:" + unpadded base64 of the digest, as ssh-keygen -l prints it. */
static void fingerprint(char out[64], const unsigned char sha256[32])
{
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char *o = out + sprintf(out, "SHA256:");
	size_t i;

	for (i = 0; i < 32; i += 3) {
		unsigned v = (unsigned)sha256[i] << 16;
		if (i + 1 < 32) v |= (unsigned)sha256[i + 1] << 8;
		if (i + 2 < 32) v |= sha256[i + 2];
		*o++ = b64[(v >> 18) & 63];
		*o++ = b64[(v >> 12) & 63];
		if (i + 1 < 32) *o++ = b64[(v >> 6) & 63];
		if (i + 2 < 32) *o++ = b64[v & 63];
	}
	*o = '\0';
}

/* A known_hosts file loaded for checking; `session` only hosts libssh2's
 * allocator (it is never connected). */
typedef struct {
	LIBSSH2_SESSION *session;
	LIBSSH2_KNOWNHOSTS *hosts;
} known_hosts;

static void known_hosts_free(known_hosts *kh)
{
	if (kh->hosts)
		libssh2_knownhost_free(kh->hosts);
	if (kh->session)
		libssh2_session_free(kh->session);
	kh->hosts = NULL;
	kh->session = NULL;
}

static int known_hosts_new(known_hosts *kh)
{
	memset(kh, 0, sizeof(*kh));
	if (!(kh->session = libssh2_session_init()) || !(kh->hosts = libssh2_knownhost_init(kh->session))) {
		known_hosts_free(kh);
		return ts_error_set(TS_ERROR, "out of memory (libssh2)");
	}
	return 0;
}

static void chomp(char *line, ssize_t *len)
{
	while (*len > 0 && (line[*len - 1] == '\n' || line[*len - 1] == '\r'))
		line[--*len] = '\0';
}

/* Loads `path` line by line (a missing file is empty); lines libssh2 cannot
 * parse are skipped rather than failing the whole file. */
static int known_hosts_load(known_hosts *kh, const char *path)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	FILE *f;
	int error;

	if ((error = known_hosts_new(kh)) < 0)
		return error;
	if (!(f = fopen(path, "r"))) {
		if (errno == ENOENT)
			return 0;
		error = ts_error_set(TS_ERROR, "reading %s: %s", path, strerror(errno));
		known_hosts_free(kh);
		return error;
	}
	while ((len = getline(&line, &cap, f)) >= 0) {
		chomp(line, &len);
		if (len > 0 && line[0] != '#')
			libssh2_knownhost_readline(kh->hosts, line, (size_t)len, LIBSSH2_KNOWNHOST_FILE_OPENSSH);
	}
	free(line);
	fclose(f);
	return 0;
}

typedef enum {
	HOST_KNOWN,       /* the key is listed for the host */
	HOST_UNKNOWN,     /* nothing is listed for the host */
	HOST_CHANGED,     /* another key of the same type is listed */
	HOST_OTHER_TYPE   /* only keys of other types are listed */
} host_state;

static int known_hosts_check(host_state *out, known_hosts *kh, const char *name,
	const char *key, size_t len, const key_kind *kind)
{
	int base = LIBSSH2_KNOWNHOST_TYPE_PLAIN | LIBSSH2_KNOWNHOST_KEYENC_RAW;
	int rc = libssh2_knownhost_checkp(kh->hosts, name, -1, key, len, base | kind->known_mask, NULL);

	if (rc == LIBSSH2_KNOWNHOST_CHECK_NOTFOUND) {
		/* any key type: is the host known by a key of another kind? */
		rc = libssh2_knownhost_checkp(kh->hosts, name, -1, key, len, base, NULL);
		*out = rc == LIBSSH2_KNOWNHOST_CHECK_MISMATCH ? HOST_OTHER_TYPE : HOST_UNKNOWN;
		return rc == LIBSSH2_KNOWNHOST_CHECK_FAILURE ? ts_error_set(TS_ERROR, "checking known hosts") : 0;
	}
	if (rc == LIBSSH2_KNOWNHOST_CHECK_FAILURE)
		return ts_error_set(TS_ERROR, "checking known hosts");
	*out = rc == LIBSSH2_KNOWNHOST_CHECK_MATCH ? HOST_KNOWN : HOST_CHANGED;
	return 0;
}

/* Why a host key that is not known is refused, in one line (without the
 * "remote NAME: " that callers put first). */
static void host_refusal(char *out, size_t size, const char *remote, const char *name,
	host_state state, const key_kind *kind, const char *print, const char *known_hosts_path)
{
	if (state == HOST_CHANGED)
		snprintf(out, size, "WARNING: THE HOST KEY OF %s HAS CHANGED, it is now %s %s; "
			"someone may be intercepting the connection (a possible attack), so it is refused. "
			"Only if the upper node's administrator confirms that fingerprint, run "
			"'tiersync remote trust %s --replace'", name, kind->name, print, remote);
	else if (state == HOST_OTHER_TYPE)
		snprintf(out, size, "the host %s offers a %s key (%s) but %s lists it with keys of "
			"another type, so it is refused; only if the upper node's administrator confirms "
			"that fingerprint, run 'tiersync remote trust %s --replace'", name, kind->name,
			print, known_hosts_path, remote);
	else
		snprintf(out, size, "the host key of %s is not known (%s %s); if that fingerprint is "
			"the upper node's, run 'tiersync remote trust %s' to trust it", name, kind->name,
			print, remote);
}

/* ------------------------------------------------------------ connecting */

static double now_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Waits for a non-blocking connect until `deadline`; 0 when connected,
 * else the errno (ETIMEDOUT when the deadline passed). */
static int connect_wait(int fd, double deadline)
{
	struct pollfd p = { fd, POLLOUT, 0 };
	socklen_t len = sizeof(int);
	int n, soerr = 0;

	for (;;) {
		double left = deadline - now_seconds();
		if (left <= 0)
			return ETIMEDOUT;
		n = poll(&p, 1, (int)(left * 1000) + 1);
		if (n > 0)
			break;
		if (n == 0)
			return ETIMEDOUT;
		if (errno != EINTR)
			return errno;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0)
		return errno;
	return soerr;
}

/* A blocking TCP connection to the URL's host and port, bounded by
 * `timeout_ms` across all of the host's addresses. */
static int tcp_connect(int *out, const char *remote, const ts_remote_url *url, int timeout_ms)
{
	struct addrinfo hints, *found = NULL, *ai;
	double deadline = now_seconds() + timeout_ms / 1000.0;
	char port[16];
	int fd = -1, why = 0, rc, flags;

	*out = -1;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	snprintf(port, sizeof(port), "%d", url->port);
	if ((rc = getaddrinfo(url->host, port, &hints, &found)) != 0)
		return ts_error_set(TS_ENET, "remote %s: cannot resolve host %s: %s", remote, url->host,
			gai_strerror(rc));
	for (ai = found; ai; ai = ai->ai_next) {
		if ((fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol)) < 0) {
			why = errno;
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		why = errno == EINPROGRESS ? connect_wait(fd, deadline) : errno;
		if (why == 0)
			break;
		close(fd);
		fd = -1;
		if (why == ETIMEDOUT)
			break;
	}
	freeaddrinfo(found);
	if (fd < 0) {
		if (why == ETIMEDOUT)
			return ts_error_set(TS_ENET, "remote %s: cannot connect to %s port %d: no answer within %d s",
				remote, url->host, url->port, (timeout_ms + 999) / 1000);
		return ts_error_set(TS_ENET, "remote %s: cannot connect to %s port %d: %s", remote,
			url->host, url->port, strerror(why));
	}
	if ((flags = fcntl(fd, F_GETFL)) < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) < 0) {
		close(fd);
		return ts_error_set(TS_ENET, "remote %s: socket: %s", remote, strerror(errno));
	}
	*out = fd;
	return 0;
}

static const char *current_user(void)
{
	struct passwd *pw = getpwuid(geteuid());
	const char *env = getenv("USER");
	return pw && pw->pw_name ? pw->pw_name : env && *env ? env : NULL;
}

/* `text` as one line: line breaks become "; ", the ends are trimmed. */
static void one_line(char *out, size_t size, const char *text, size_t len)
{
	size_t n = 0, i;
	int pending = 0;

	for (i = 0; i < len && text[i] && n + 3 < size; i++) {
		if (text[i] == '\n' || text[i] == '\r') {
			pending = n > 0;
			continue;
		}
		if (pending) {
			out[n++] = ';';
			out[n++] = ' ';
			pending = 0;
		}
		out[n++] = text[i];
	}
	while (n > 0 && out[n - 1] == ' ')
		n--;
	out[n] = '\0';
}

/* ---------------------------------------------------------- SSH sessions */

/* One SSH connection: the socket and the libssh2 session on it. */
typedef struct {
	int fd;
	LIBSSH2_SESSION *session;
	int established;          /* the handshake completed */
	const char *remote;       /* for messages */
	const ts_remote_url *url;
	int io_timeout_ms;
} ssh_conn;

static void ssh_conn_close(ssh_conn *c)
{
	if (c->session) {
		if (c->established)
			libssh2_session_disconnect(c->session, "tiersync: done");
		libssh2_session_free(c->session);
	}
	if (c->fd >= 0)
		close(c->fd);
	c->session = NULL;
	c->fd = -1;
	c->established = 0;
}

/* Turns the session's last libssh2 error into a one-line ts error. */
static int ssh_fail(ssh_conn *c, int code, const char *doing, int timeout_ms)
{
	char *msg = NULL;
	int rc = libssh2_session_last_error(c->session, &msg, NULL, 0);

	if (rc == LIBSSH2_ERROR_TIMEOUT)
		return ts_error_set(TS_ENET, "remote %s: %s %s port %d: no answer within %d s", c->remote,
			doing, c->url->host, c->url->port, (timeout_ms + 999) / 1000);
	return ts_error_set(code, "remote %s: %s %s port %d failed: %s", c->remote, doing, c->url->host,
		c->url->port, msg && *msg ? msg : "the connection closed");
}

/* Connects and completes the SSH handshake, both bounded by connect_ms. */
static int ssh_conn_open(ssh_conn *c, const char *remote, const ts_remote_url *url, int connect_ms, int io_ms)
{
	int error;

	memset(c, 0, sizeof(*c));
	c->fd = -1;
	c->remote = remote;
	c->url = url;
	c->io_timeout_ms = io_ms;
	if ((error = tcp_connect(&c->fd, remote, url, connect_ms)) < 0)
		return error;
	if (!(c->session = libssh2_session_init())) {
		ssh_conn_close(c);
		return ts_error_set(TS_ERROR, "out of memory (libssh2)");
	}
	libssh2_session_set_blocking(c->session, 1);
	libssh2_session_set_timeout(c->session, connect_ms);
	if (libssh2_session_handshake(c->session, c->fd) != 0) {
		error = ssh_fail(c, TS_ENET, "SSH handshake with", connect_ms);
		ssh_conn_close(c);
		return error;
	}
	c->established = 1;
	libssh2_session_set_timeout(c->session, io_ms);
	libssh2_keepalive_config(c->session, 0, KEEPALIVE_SECONDS);
	return 0;
}

/* The server's host key as the handshake gave it. */
typedef struct {
	const char *key;          /* raw, owned by the session */
	size_t len;
	const key_kind *kind;
	char print[64];
} host_key;

static int ssh_host_key(host_key *out, ssh_conn *c, const char *name)
{
	const char *hash;
	int type = 0;

	memset(out, 0, sizeof(*out));
	if (!(out->key = libssh2_session_hostkey(c->session, &out->len, &type)) ||
	    !(hash = libssh2_hostkey_hash(c->session, LIBSSH2_HOSTKEY_HASH_SHA256)))
		return ts_error_set(TS_EAUTH, "remote %s: the host %s sent no host key", c->remote, name);
	fingerprint(out->print, (const unsigned char *)hash);
	if (!(out->kind = kind_of_hostkey(type)))
		return ts_error_set(TS_EAUTH, "remote %s: the host %s has a host key of an unsupported type (%s)",
			c->remote, name, out->print);
	return 0;
}

/* Refuses the connection unless known_hosts lists the server's key under
 * `name`. */
static int ssh_check_host(ssh_conn *c, const char *name, const char *known_hosts_path)
{
	known_hosts kh = { NULL, NULL };
	host_state state;
	host_key hk;
	char why[900];
	int error;

	if ((error = ssh_host_key(&hk, c, name)) < 0 ||
	    (error = known_hosts_load(&kh, known_hosts_path)) < 0)
		return error;
	error = known_hosts_check(&state, &kh, name, hk.key, hk.len, hk.kind);
	known_hosts_free(&kh);
	if (error < 0 || state == HOST_KNOWN)
		return error;
	host_refusal(why, sizeof(why), c->remote, name, state, hk.kind, hk.print, known_hosts_path);
	return ts_error_set(TS_EAUTH, "remote %s: %s", c->remote, why);
}

static int auth_with_agent(ssh_conn *c, const char *user, const char *where)
{
	LIBSSH2_AGENT *agent = NULL;
	struct libssh2_agent_publickey *id = NULL, *prev = NULL;
	const char *sock = getenv("SSH_AUTH_SOCK");
	int error = 0, offered = 0, rc;

	if (!sock || !*sock)
		return ts_error_set(TS_EAUTH, "remote %s: no key to offer: give the remote one with 'tiersync "
			"remote add %s URL --identity KEYFILE', or start an ssh-agent", c->remote, c->remote);
	if (!(agent = libssh2_agent_init(c->session)))
		return ts_error_set(TS_ERROR, "out of memory (libssh2)");
	if (libssh2_agent_connect(agent) != 0 || libssh2_agent_list_identities(agent) != 0) {
		error = ts_error_set(TS_EAUTH, "remote %s: cannot ask ssh-agent (%s) for keys", c->remote, sock);
		goto done;
	}
	error = TS_EAUTH;
	while ((rc = libssh2_agent_get_identity(agent, &id, prev)) == 0) {
		offered++;
		if (libssh2_agent_userauth(agent, user, id) == 0) {
			error = 0;
			break;
		}
		prev = id;
	}
	if (error < 0)
		error = ts_error_set(TS_EAUTH, offered ? "remote %s: the upper node refused every key ssh-agent "
			"offered for user %s at %s" : "remote %s: ssh-agent holds no key to offer for user %s at %s",
			c->remote, user, where);
done:
	libssh2_agent_disconnect(agent);
	libssh2_agent_free(agent);
	return error;
}

/* Logs in as `user` with the identity file, or with ssh-agent's keys. */
static int ssh_auth(ssh_conn *c, const char *user, const char *identity, const char *where)
{
	ts_buf pub = TS_BUF_INIT;
	const char *methods;
	int rc, error = 0;

	if (!user)
		return ts_error_set(TS_EAUTH, "remote %s: no user name: name one in the URL, "
			"ssh://USER@host/path", c->remote);
	methods = libssh2_userauth_list(c->session, user, (unsigned)strlen(user));
	if (!methods) {
		if (libssh2_userauth_authenticated(c->session))
			return 0;       /* the server asked for nothing */
		return ssh_fail(c, TS_ENET, "asking how to log in at", c->io_timeout_ms);
	}
	if (!strstr(methods, "publickey"))
		return ts_error_set(TS_EAUTH, "remote %s: the upper node at %s accepts no key authentication "
			"for user %s (only %s)", c->remote, where, user, methods);
	if (!identity)
		return auth_with_agent(c, user, where);
	if (access(identity, R_OK) < 0)
		return ts_error_set(TS_EAUTH, "remote %s: cannot read this node's key %s: %s", c->remote,
			identity, strerror(errno));
	ts_buf_printf(&pub, "%s.pub", identity);
	if (ts_buf_oom(&pub))
		return TS_ERROR;
	rc = libssh2_userauth_publickey_fromfile_ex(c->session, user, (unsigned)strlen(user),
		access(pub.ptr, R_OK) == 0 ? pub.ptr : NULL, identity, NULL);
	if (rc == LIBSSH2_ERROR_PUBLICKEY_UNVERIFIED || rc == LIBSSH2_ERROR_AUTHENTICATION_FAILED)
		error = ts_error_set(TS_EAUTH, "remote %s: the upper node refused this node's key (%s) for "
			"user %s at %s; its public key must be in that user's authorized_keys there",
			c->remote, identity, user, where);
	else if (rc == LIBSSH2_ERROR_FILE)
		error = ts_error_set(TS_EAUTH, "remote %s: cannot use this node's key %s (a passphrase-protected "
			"key needs ssh-agent)", c->remote, identity);
	else if (rc != 0)
		error = ssh_fail(c, TS_EAUTH, "logging in at", c->io_timeout_ms);
	ts_buf_dispose(&pub);
	return error;
}

/* Starts `service` (git-upload-pack, git-receive-pack) on the repository
 * at the URL's path: quoted for the remote shell, %XX decoded, and a
 * leading "/~" read as the home directory, as git does. */
static int ssh_exec(LIBSSH2_CHANNEL **out, ssh_conn *c, const char *service)
{
	const char *p = c->url->path;
	ts_buf cmd = TS_BUF_INIT;
	int error = 0;

	*out = NULL;
	if (p[0] == '/' && p[1] == '~')
		p++;
	ts_buf_printf(&cmd, "%s '", service);
	for (; *p; p++) {
		char c1 = p[0];
		if (c1 == '%' && p[1] && p[2] && strchr("0123456789abcdefABCDEF", p[1]) &&
		    strchr("0123456789abcdefABCDEF", p[2])) {
			char hex[3] = { p[1], p[2], '\0' };
			c1 = (char)strtol(hex, NULL, 16);
			p += 2;
		}
		if (c1 == '\0' || c1 == '\n') {
			ts_buf_dispose(&cmd);
			return ts_error_set(TS_EINVALID, "remote %s: the URL's path holds a NUL or a line break",
				c->remote);
		}
		if (c1 == '\'')
			ts_buf_puts(&cmd, "'\\''");
		else
			ts_buf_putc(&cmd, c1);
	}
	ts_buf_putc(&cmd, '\'');
	if (ts_buf_oom(&cmd))
		return TS_ERROR;
	if (!(*out = libssh2_channel_open_session(c->session)))
		error = ssh_fail(c, TS_ENET, "opening a channel to", c->io_timeout_ms);
	else if (libssh2_channel_exec(*out, cmd.ptr) != 0) {
		error = ssh_fail(c, TS_ENET, "starting git at", c->io_timeout_ms);
		libssh2_channel_free(*out);
		*out = NULL;
	}
	ts_buf_dispose(&cmd);
	return error;
}

/* ------------------------------------------------------------- transfers */

/* The state of one push or fetch, shared with libgit2's callbacks and the
 * SSH subtransport. */
typedef struct {
	const ts_remote_options *opts;
	const char *name;           /* the remote, for messages */
	ts_remote_url url;
	char known_name[300];       /* the host as known_hosts names it */
	const char *user;
	int connect_timeout_ms, io_timeout_ms;
	int code;                   /* a failure found below libgit2, with... */
	char message[1024];         /* ...its whole one-line message */
	ts_buf remote_says;         /* what the remote printed (sideband) */
	char *refused;              /* a ref the remote refused, with why */
	ts_transfer_stats stats;
	double started, reported;
	int progress_shown;
	int up_to_date;             /* a push found the remote already there */
	git_smart_subtransport_definition ssh_definition;
} transfer;

/* Keeps the ts error just set as the transfer's cause (the first one
 * wins), and hands libgit2 the same text; returns -1 for libgit2. */
static int transfer_keep(transfer *t, int code)
{
	const char *msg = ts_error_last();
	if (!t->code) {
		t->code = code < 0 ? code : TS_ERROR;
		snprintf(t->message, sizeof(t->message), "%s", msg ? msg : "failed");
	}
	git_error_set_str(GIT_ERROR_SSH, t->message);
	return -1;
}

/* ---------------------------------------------------- SSH subtransport */

typedef struct ssh_sub ssh_sub;

/* One running git-upload-pack or git-receive-pack; owns its connection. */
typedef struct {
	git_smart_subtransport_stream parent;
	ssh_sub *owner;
	ssh_conn conn;
	LIBSSH2_CHANNEL *channel;
} ssh_stream;

struct ssh_sub {
	git_smart_subtransport parent;
	transfer *t;
	ssh_stream *current;
};

/* A read or write that failed: why, in the transfer's words. */
static int stream_fail(ssh_stream *s, const char *doing)
{
	transfer *t = s->owner->t;
	return transfer_keep(t, ssh_fail(&s->conn, TS_ENET, doing, t->io_timeout_ms));
}

static int stream_read(git_smart_subtransport_stream *stream, char *buffer, size_t size, size_t *bytes_read)
{
	ssh_stream *s = (ssh_stream *)stream;
	transfer *t = s->owner->t;
	char err[1024], line[700];
	ssize_t rc;
	int next;

	*bytes_read = 0;
	libssh2_keepalive_send(s->conn.session, &next);
	if ((rc = libssh2_channel_read(s->channel, buffer, size)) < 0)
		return stream_fail(s, "reading from");
	if (rc == 0) {
		/* the other end closed while git still expected more: what it
		 * wrote to stderr says why ("fatal: ...", the gate's refusal) */
		ssize_t n = libssh2_channel_read_stderr(s->channel, err, sizeof(err));
		if (n > 0) {
			one_line(line, sizeof(line), err, (size_t)n);
			return transfer_keep(t, ts_error_set(strstr(line, "does not appear to be a git repository") ?
				TS_ENOTFOUND : TS_ENET, "remote %s: %s says: %s", t->name, t->known_name, line));
		}
	}
	*bytes_read = (size_t)rc;
	return 0;
}

static int stream_write(git_smart_subtransport_stream *stream, const char *buffer, size_t len)
{
	ssh_stream *s = (ssh_stream *)stream;
	size_t done = 0;
	int next;

	libssh2_keepalive_send(s->conn.session, &next);
	while (done < len) {
		ssize_t rc = libssh2_channel_write(s->channel, buffer + done, len - done);
		if (rc < 0)
			return stream_fail(s, "writing to");
		done += (size_t)rc;
	}
	return 0;
}

static void stream_free(git_smart_subtransport_stream *stream)
{
	ssh_stream *s = (ssh_stream *)stream;

	if (!s)
		return;
	if (s->owner && s->owner->current == s)
		s->owner->current = NULL;
	if (s->channel) {
		libssh2_channel_close(s->channel);
		libssh2_channel_free(s->channel);
	}
	ssh_conn_close(&s->conn);
	free(s);
}

/* Connects, checks the host key, logs in and starts `service`. */
static int stream_open(git_smart_subtransport_stream **out, ssh_sub *sub, const char *service)
{
	transfer *t = sub->t;
	ssh_stream *s;
	int error;

	*out = NULL;
	if (sub->current) {
		git_error_set_str(GIT_ERROR_NET, "tiersync: an SSH stream is already open");
		return -1;
	}
	if (!(s = calloc(1, sizeof(*s))))
		return transfer_keep(t, ts_error_set(TS_ERROR, "out of memory"));
	s->parent.subtransport = &sub->parent;
	s->parent.read = stream_read;
	s->parent.write = stream_write;
	s->parent.free = stream_free;
	s->owner = sub;
	s->conn.fd = -1;
	if ((error = ssh_conn_open(&s->conn, t->name, &t->url, t->connect_timeout_ms, t->io_timeout_ms)) < 0 ||
	    (error = ssh_check_host(&s->conn, t->known_name, t->opts->known_hosts)) < 0 ||
	    (error = ssh_auth(&s->conn, t->user, t->opts->identity, t->known_name)) < 0 ||
	    (error = ssh_exec(&s->channel, &s->conn, service)) < 0) {
		stream_free(&s->parent);
		return transfer_keep(t, error);
	}
	sub->current = s;
	*out = &s->parent;
	return 0;
}

static int sub_action(git_smart_subtransport_stream **out, git_smart_subtransport *subtransport,
	const char *url, git_smart_service_t action)
{
	ssh_sub *sub = (ssh_sub *)subtransport;

	(void)url;    /* the transfer parsed it already */
	switch (action) {
	case GIT_SERVICE_UPLOADPACK_LS:
		return stream_open(out, sub, "git-upload-pack");
	case GIT_SERVICE_RECEIVEPACK_LS:
		return stream_open(out, sub, "git-receive-pack");
	case GIT_SERVICE_UPLOADPACK:
	case GIT_SERVICE_RECEIVEPACK:
		/* the second step of a conversation goes on the first's stream */
		if (sub->current) {
			*out = &sub->current->parent;
			return 0;
		}
		break;
	}
	*out = NULL;
	git_error_set_str(GIT_ERROR_NET, "tiersync: no SSH stream open");
	return -1;
}

static int sub_close(git_smart_subtransport *subtransport)
{
	(void)subtransport;    /* libgit2 frees the stream itself */
	return 0;
}

static void sub_free(git_smart_subtransport *subtransport)
{
	free(subtransport);
}

static int sub_new(git_smart_subtransport **out, git_transport *owner, void *param)
{
	ssh_sub *sub;

	(void)owner;
	*out = NULL;
	if (!(sub = calloc(1, sizeof(*sub)))) {
		git_error_set_oom();
		return -1;
	}
	sub->t = param;
	sub->parent.action = sub_action;
	sub->parent.close = sub_close;
	sub->parent.free = sub_free;
	*out = &sub->parent;
	return 0;
}

/* libgit2's transport callback: its smart protocol over our subtransport. */
static int ssh_transport(git_transport **out, git_remote *owner, void *payload)
{
	transfer *t = payload;

	t->ssh_definition.callback = sub_new;
	t->ssh_definition.rpc = 0;        /* one stream carries the conversation */
	t->ssh_definition.param = t;
	return git_transport_smart(out, owner, &t->ssh_definition);
}

/* -------------------------------------------------- transfer callbacks */

static void report(transfer *t, int done)
{
	double now = now_seconds();

	if (!t->opts || !t->opts->progress)
		return;
	if (done) {
		if (!t->progress_shown)
			return;
	} else if (t->progress_shown && now - t->reported < PROGRESS_INTERVAL)
		return;
	t->stats.seconds = now - t->started;
	t->stats.done = done;
	t->reported = now;
	t->progress_shown = 1;
	t->opts->progress(&t->stats, t->opts->payload);
}

static int on_fetch_progress(const git_indexer_progress *p, void *payload)
{
	transfer *t = payload;
	t->stats.objects = p->received_objects;
	t->stats.total_objects = p->total_objects;
	t->stats.bytes = p->received_bytes;
	report(t, 0);
	return 0;
}

static int on_push_progress(unsigned int current, unsigned int total, size_t bytes, void *payload)
{
	transfer *t = payload;
	t->stats.objects = current;
	t->stats.total_objects = total;
	/* a push to a local path writes the pack itself, and libgit2's count of
	 * its bytes is meaningless there: say none rather than a wrong number */
	t->stats.bytes = t->url.ssh ? bytes : 0;
	report(t, 0);
	return 0;
}

static int on_sideband(const char *text, int len, void *payload)
{
	transfer *t = payload;
	if (len > 0 && t->remote_says.size < 4096)
		ts_buf_put(&t->remote_says, text, (size_t)len);
	return 0;
}

static int on_push_ref(const char *refname, const char *status, void *payload)
{
	transfer *t = payload;
	if (status && !t->refused) {
		ts_buf b = TS_BUF_INIT;
		ts_buf_printf(&b, "%s (%s)", refname, status);
		t->refused = ts_buf_detach(&b);
	}
	return 0;
}

static int on_push_negotiation(const git_push_update **updates, size_t n, void *payload)
{
	transfer *t = payload;
	size_t i;
	for (i = 0; i < n; i++)
		if (!git_oid_equal(&updates[i]->src, &updates[i]->dst))
			t->stats.updated = 1;
	/* nothing to change: stop here rather than send an empty pack (which
	 * a local push would leave in the remote as a file of its own) */
	t->up_to_date = !t->stats.updated;
	return t->up_to_date ? GIT_EUSER : 0;
}

static void set_callbacks(git_remote_callbacks *cb, transfer *t)
{
	cb->payload = t;
	cb->sideband_progress = on_sideband;
	cb->transfer_progress = on_fetch_progress;
	cb->push_transfer_progress = on_push_progress;
	cb->push_update_reference = on_push_ref;
	cb->push_negotiation = on_push_negotiation;
	if (t->url.ssh)
		cb->transport = ssh_transport;
}

static void transfer_end(transfer *t)
{
	ts_remote_url_dispose(&t->url);
	ts_buf_dispose(&t->remote_says);
	free(t->refused);
	t->refused = NULL;
}

/* Parses the URL and checks what can be checked before connecting. */
static int transfer_begin(transfer *t, const ts_remote_options *opts)
{
	struct stat st;
	int error;

	memset(t, 0, sizeof(*t));
	t->opts = opts;
	t->name = opts->name ? opts->name : opts->url;
	t->started = t->reported = now_seconds();
	t->connect_timeout_ms = opts->timeout_ms > 0 ? opts->timeout_ms : TS_REMOTE_TIMEOUT_MS;
	t->io_timeout_ms = opts->io_timeout_ms > 0 ? opts->io_timeout_ms : TS_REMOTE_IO_TIMEOUT_MS;
	if ((error = ts_remote_url_parse(&t->url, opts->url)) < 0)
		return ts_error_set(error, "remote %s: %s", t->name, ts_error_last());
	if (!t->url.ssh) {
		if (stat(t->url.path, &st) < 0 || !S_ISDIR(st.st_mode))
			return ts_error_set(TS_ENOTFOUND, "remote %s: no repository at %s (%s)", t->name,
				t->url.path, stat(t->url.path, &st) < 0 ? strerror(errno) : "not a directory");
		return 0;
	}
	if (!opts->known_hosts)
		return ts_error_set(TS_EINVALID, "remote %s: no known_hosts file to check the host key against", t->name);
	ts_remote_url_known_name(t->known_name, sizeof(t->known_name), &t->url);
	t->user = t->url.user ? t->url.user : current_user();
	return 0;
}

/* The URL handed to libgit2: a local repository by its plain path. */
static const char *git_url(const transfer *t)
{
	return t->url.ssh ? t->opts->url : t->url.path;
}

/* The last line the remote printed on the sideband, or "". */
static void remote_last_line(char *out, size_t size, transfer *t)
{
	const char *s = t->remote_says.ptr, *end, *start;

	out[0] = '\0';
	if (!s)
		return;
	for (end = s + t->remote_says.size; end > s && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' '); end--)
		;
	for (start = end; start > s && start[-1] != '\n' && start[-1] != '\r'; start--)
		;
	one_line(out, size, start, (size_t)(end - start));
}

/* Converts a failed libgit2 call into one line naming the remote and the
 * cause: the subtransport's own finding when it made one. */
static int transfer_fail(transfer *t, int git_code, const char *doing)
{
	const git_error *e = git_error_last();
	const char *text = e && e->message ? e->message : "unknown error";
	char msg[700];
	int code = TS_ERROR;

	if (t->code)
		return ts_error_set(t->code, "%s", t->message);
	one_line(msg, sizeof(msg), text, strlen(text));
	if (git_code == GIT_EAUTH || git_code == GIT_ECERTIFICATE)
		code = TS_EAUTH;
	else if (e && (e->klass == GIT_ERROR_NET || e->klass == GIT_ERROR_SSH || e->klass == GIT_ERROR_OS))
		code = TS_ENET;
	return ts_error_set(code, "remote %s: %s %s: %s", t->name, doing,
		t->url.ssh ? t->known_name : t->url.path, msg);
}

int ts_remote_push(ts_transfer_stats *stats, git_repository *repo, const char *refspec,
	const ts_remote_options *opts)
{
	git_push_options po;
	git_remote *remote = NULL;
	char *specs[1];
	git_strarray arr;
	transfer t;
	int error, rc;

	if (stats)
		memset(stats, 0, sizeof(*stats));
	git_push_options_init(&po, GIT_PUSH_OPTIONS_VERSION);
	specs[0] = (char *)refspec;
	arr.strings = specs;
	arr.count = 1;
	if ((error = transfer_begin(&t, opts)) < 0)
		goto done;
	if ((rc = git_remote_create_anonymous(&remote, repo, git_url(&t))) < 0) {
		error = transfer_fail(&t, rc, "setting up the transfer with");
		goto done;
	}
	set_callbacks(&po.callbacks, &t);
	po.pb_parallelism = 1;
	if ((rc = git_remote_push(remote, &arr, &po)) < 0 && !t.up_to_date) {
		error = transfer_fail(&t, rc, "pushing to");
		goto done;
	}
	if (t.refused) {
		char said[300];
		remote_last_line(said, sizeof(said), &t);
		error = ts_error_set(TS_EDENIED, "remote %s refused %s%s%s", t.name, t.refused,
			*said ? ": " : "", said);
		goto done;
	}
done:
	report(&t, 1);
	if (stats)
		*stats = t.stats;
	git_remote_free(remote);
	transfer_end(&t);
	return error;
}

int ts_remote_fetch(git_oid *id, ts_transfer_stats *stats, git_repository *repo,
	const char *src_ref, const char *dst_ref, const ts_remote_options *opts)
{
	git_fetch_options fo;
	git_remote *remote = NULL;
	const git_remote_head **heads = NULL;
	git_oid before, after;
	ts_buf spec = TS_BUF_INIT;
	char *specs[1];
	git_strarray arr;
	size_t n = 0, i;
	transfer t;
	int error, rc, had_before, found = 0;

	memset(id, 0, sizeof(*id));
	if (stats)
		memset(stats, 0, sizeof(*stats));
	git_fetch_options_init(&fo, GIT_FETCH_OPTIONS_VERSION);
	had_before = git_reference_name_to_id(&before, repo, dst_ref) == 0;
	ts_buf_printf(&spec, "+%s:%s", src_ref, dst_ref);
	if ((error = transfer_begin(&t, opts)) < 0)
		goto done;
	if (ts_buf_oom(&spec)) {
		error = TS_ERROR;
		goto done;
	}
	specs[0] = spec.ptr;
	arr.strings = specs;
	arr.count = 1;
	set_callbacks(&fo.callbacks, &t);
	fo.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_NONE;
	fo.update_fetchhead = 0;
	fo.prune = GIT_FETCH_NO_PRUNE;
	if ((rc = git_remote_create_anonymous(&remote, repo, git_url(&t))) < 0) {
		error = transfer_fail(&t, rc, "setting up the transfer with");
		goto done;
	}
	if ((rc = git_remote_connect(remote, GIT_DIRECTION_FETCH, &fo.callbacks, NULL, NULL)) < 0 ||
	    (rc = git_remote_ls(&heads, &n, remote)) < 0) {
		error = transfer_fail(&t, rc, "fetching from");
		goto done;
	}
	for (i = 0; i < n && !found; i++)
		if (!strcmp(heads[i]->name, src_ref)) {
			git_oid_cpy(id, &heads[i]->oid);
			found = 1;
		}
	if (!found) {
		error = ts_error_set(TS_ENOTFOUND, "remote %s has no %s (no history to fetch)", t.name, src_ref);
		goto done;
	}
	if ((rc = git_remote_download(remote, &arr, &fo)) < 0 ||
	    (rc = git_remote_update_tips(remote, &fo.callbacks, 0, GIT_REMOTE_DOWNLOAD_TAGS_NONE, "fetch")) < 0) {
		error = transfer_fail(&t, rc, "fetching from");
		goto done;
	}
	if (git_reference_name_to_id(&after, repo, dst_ref) < 0 || !git_oid_equal(&after, id)) {
		error = ts_error_set(TS_ERROR, "remote %s: fetched %s, but %s does not point at it",
			t.name, git_oid_tostr_s(id), dst_ref);
		goto done;
	}
	t.stats.updated = !had_before || !git_oid_equal(&before, &after);
done:
	if (remote)
		git_remote_disconnect(remote);
	report(&t, 1);
	if (stats)
		*stats = t.stats;
	git_remote_free(remote);
	ts_buf_dispose(&spec);
	transfer_end(&t);
	if (error < 0)
		memset(id, 0, sizeof(*id));
	return error;
}

/* ----------------------------------------------------------------- trust */

static int write_all(int fd, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, data, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Appends one line to the file, creating it (and starting on a line of
 * its own if the file's last line lacks its newline). */
static int append_line(const char *path, const char *line)
{
	struct stat st;
	char last = '\n';
	int fd, error = 0;

	if ((fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0644)) < 0)
		return ts_error_set(TS_ERROR, "opening %s: %s", path, strerror(errno));
	if (fstat(fd, &st) == 0 && st.st_size > 0 && pread(fd, &last, 1, st.st_size - 1) != 1)
		last = '\n';
	if ((last != '\n' && write_all(fd, "\n", 1) < 0) || write_all(fd, line, strlen(line)) < 0 || fsync(fd) < 0)
		error = ts_error_set(TS_ERROR, "writing %s: %s", path, strerror(errno));
	if (close(fd) < 0 && !error)
		error = ts_error_set(TS_ERROR, "writing %s: %s", path, strerror(errno));
	return error;
}

/* 1 when a known_hosts line names `name` (whatever its key). */
static int line_names(const char *line, size_t len, const char *name, const char *key, size_t keylen)
{
	known_hosts one;
	int rc, names = 0;

	if (known_hosts_new(&one) < 0)
		return 0;
	if (libssh2_knownhost_readline(one.hosts, line, len, LIBSSH2_KNOWNHOST_FILE_OPENSSH) == 0) {
		rc = libssh2_knownhost_checkp(one.hosts, name, -1, key, keylen,
			LIBSSH2_KNOWNHOST_TYPE_PLAIN | LIBSSH2_KNOWNHOST_KEYENC_RAW, NULL);
		names = rc == LIBSSH2_KNOWNHOST_CHECK_MATCH || rc == LIBSSH2_KNOWNHOST_CHECK_MISMATCH;
	}
	known_hosts_free(&one);
	return names;
}

/* Rewrites the file without the lines for `name`, then with `newline`:
 * through a temporary file renamed over it. Other lines stay verbatim. */
static int replace_lines(const char *path, const char *name, const char *key, size_t keylen, const char *newline)
{
	ts_buf out = TS_BUF_INIT, tmp = TS_BUF_INIT;
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	FILE *f;
	int fd = -1, error = 0;

	if ((f = fopen(path, "r"))) {
		while ((len = getline(&line, &cap, f)) >= 0) {
			ssize_t bare = len;
			chomp(line, &bare);
			if (bare > 0 && line[0] != '#' && line_names(line, (size_t)bare, name, key, keylen))
				continue;
			ts_buf_put(&out, line, (size_t)bare);
			ts_buf_putc(&out, '\n');
		}
		free(line);
		fclose(f);
	} else if (errno != ENOENT)
		return ts_error_set(TS_ERROR, "reading %s: %s", path, strerror(errno));
	ts_buf_puts(&out, newline);
	ts_buf_printf(&tmp, "%s.tmp-%ld", path, (long)getpid());
	if (ts_buf_oom(&out) || ts_buf_oom(&tmp)) {
		error = TS_ERROR;
		goto done;
	}
	if ((fd = open(tmp.ptr, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0 ||
	    write_all(fd, out.ptr, out.size) < 0 || fsync(fd) < 0 || close(fd) < 0 ||
	    (fd = -1, rename(tmp.ptr, path) < 0)) {
		error = ts_error_set(TS_ERROR, "writing %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		unlink(tmp.ptr);
	}
done:
	ts_buf_dispose(&out);
	ts_buf_dispose(&tmp);
	return error;
}

/* The host key line OpenSSH would write for `name`. */
static int key_line(ts_buf *out, known_hosts *kh, const char *name, const char *key, size_t len, const key_kind *kind)
{
	struct libssh2_knownhost *entry = NULL;
	char line[4096];
	size_t n = 0;

	if (libssh2_knownhost_addc(kh->hosts, name, NULL, key, len, NULL, 0,
			LIBSSH2_KNOWNHOST_TYPE_PLAIN | LIBSSH2_KNOWNHOST_KEYENC_RAW | kind->known_mask, &entry) != 0 ||
	    libssh2_knownhost_writeline(kh->hosts, entry, line, sizeof(line), &n, LIBSSH2_KNOWNHOST_FILE_OPENSSH) != 0)
		return ts_error_set(TS_ERROR, "formatting the known_hosts line for %s", name);
	ts_buf_put(out, line, n);
	return ts_buf_oom(out) ? TS_ERROR : 0;
}

int ts_remote_trust(ts_host_key *out, const ts_remote_options *opts, const char *expect, int replace)
{
	const char *name = opts->name ? opts->name : opts->url;
	int timeout = opts->timeout_ms > 0 ? opts->timeout_ms : TS_REMOTE_TIMEOUT_MS;
	known_hosts kh = { NULL, NULL };
	ts_remote_url url;
	ts_buf line = TS_BUF_INIT;
	host_state state;
	host_key hk;
	ssh_conn c;
	int error;

	memset(out, 0, sizeof(*out));
	memset(&c, 0, sizeof(c));
	c.fd = -1;
	git_libgit2_init();    /* libssh2 is initialised with libgit2 */
	if ((error = ts_remote_url_parse(&url, opts->url)) < 0) {
		error = ts_error_set(error, "remote %s: %s", name, ts_error_last());
		goto done;
	}
	if (!url.ssh) {
		error = ts_error_set(TS_EINVALID, "remote %s is a path on this machine (%s): there is no "
			"host key to trust", name, opts->url);
		goto done;
	}
	if (!opts->known_hosts) {
		error = ts_error_set(TS_EINVALID, "remote %s: no known_hosts file to record the key in", name);
		goto done;
	}
	ts_remote_url_known_name(out->host, sizeof(out->host), &url);
	if ((error = ssh_conn_open(&c, name, &url, timeout, timeout)) < 0 ||
	    (error = ssh_host_key(&hk, &c, out->host)) < 0)
		goto done;
	snprintf(out->fingerprint, sizeof(out->fingerprint), "%s", hk.print);
	snprintf(out->type, sizeof(out->type), "%s", hk.kind->name);
	if (expect && strcmp(expect, hk.print)) {
		error = ts_error_set(TS_EAUTH, "remote %s: the host key of %s is %s %s, not the expected %s; "
			"not trusted", name, out->host, hk.kind->name, hk.print, expect);
		goto done;
	}
	if ((error = known_hosts_load(&kh, opts->known_hosts)) < 0 ||
	    (error = known_hosts_check(&state, &kh, out->host, hk.key, hk.len, hk.kind)) < 0)
		goto done;
	if (state == HOST_KNOWN) {
		out->status = TS_HOST_KEY_KNOWN;
		goto done;
	}
	if (state != HOST_UNKNOWN && !replace) {
		char why[900];
		host_refusal(why, sizeof(why), name, out->host, state, hk.kind, hk.print, opts->known_hosts);
		error = ts_error_set(TS_EAUTH, "remote %s: %s", name, why);
		goto done;
	}
	if ((error = key_line(&line, &kh, out->host, hk.key, hk.len, hk.kind)) < 0)
		goto done;
	if (state == HOST_UNKNOWN) {
		error = append_line(opts->known_hosts, line.ptr);
		out->status = TS_HOST_KEY_ADDED;
	} else {
		error = replace_lines(opts->known_hosts, out->host, hk.key, hk.len, line.ptr);
		out->status = TS_HOST_KEY_REPLACED;
	}
done:
	known_hosts_free(&kh);
	ssh_conn_close(&c);    /* after the last use of the key it owns */
	ts_buf_dispose(&line);
	ts_remote_url_dispose(&url);
	git_libgit2_shutdown();
	return error;
}
