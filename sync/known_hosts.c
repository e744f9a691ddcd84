/*
 * Known hosts: the node's OpenSSH known_hosts file, the check of a
 * server's host key against it, fingerprints, and the writing of the file
 * when a key is trusted. No connection is opened here; ssh.c hands over
 * the key its handshake gave.
 *
 * Host keys
 *   known_hosts is an OpenSSH file: "NAME KEYTYPE BASE64KEY", NAME being
 *   "host" on port 22 and "[host]:port" elsewhere, as OpenSSH writes it.
 *   Right after the handshake, before any credential is offered, the
 *   server's raw key must be listed for that exact name. An unknown key is
 *   refused with its fingerprint ("SHA256:" + unpadded base64 of the SHA-256
 *   of the key, as ssh-keygen -l prints it); a key that differs from the one
 *   listed is refused loudly, since it may be an attack. Only
 *   ts_remote__trust() adds keys. Lines libssh2 cannot parse (@cert-authority,
 *   unknown key types) are skipped when checking and kept verbatim when the
 *   file is rewritten.
 */
#include "known_hosts.h"

#include <errno.h>
#include <fcntl.h>
#include <libssh2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "fd.h"

/* ------------------------------------------------------------- host keys */

static const ts_host_key_kind key_kinds[] = {
	{ LIBSSH2_HOSTKEY_TYPE_ED25519, LIBSSH2_KNOWNHOST_KEY_ED25519, "ssh-ed25519" },
	{ LIBSSH2_HOSTKEY_TYPE_ECDSA_256, LIBSSH2_KNOWNHOST_KEY_ECDSA_256, "ecdsa-sha2-nistp256" },
	{ LIBSSH2_HOSTKEY_TYPE_ECDSA_384, LIBSSH2_KNOWNHOST_KEY_ECDSA_384, "ecdsa-sha2-nistp384" },
	{ LIBSSH2_HOSTKEY_TYPE_ECDSA_521, LIBSSH2_KNOWNHOST_KEY_ECDSA_521, "ecdsa-sha2-nistp521" },
	{ LIBSSH2_HOSTKEY_TYPE_RSA, LIBSSH2_KNOWNHOST_KEY_SSHRSA, "ssh-rsa" },
	{ LIBSSH2_HOSTKEY_TYPE_DSS, LIBSSH2_KNOWNHOST_KEY_SSHDSS, "ssh-dss" },
};
#define NKINDS (sizeof(key_kinds) / sizeof(key_kinds[0]))

const ts_host_key_kind *ts_known_hosts__kind(int type)
{
	size_t i;
	for (i = 0; i < NKINDS; i++)
		if (key_kinds[i].hostkey_type == type)
			return &key_kinds[i];
	return NULL;
}

void ts_known_hosts__fingerprint(char out[64], const unsigned char sha256[32])
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
	const char *key, size_t len, const ts_host_key_kind *kind)
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
static void host_refusal(char *out, size_t size, const char *name, host_state state,
	const ts_host_key_kind *kind, const char *print, const char *known_hosts_path)
{
	if (state == HOST_CHANGED)
		snprintf(out, size, "WARNING: THE HOST KEY OF %s HAS CHANGED, it is now %s %s; "
			"someone may be intercepting the connection (a possible attack), so it is refused; "
			"the known key may be replaced only once the upper node's administrator confirms "
			"that fingerprint", name, kind->name, print);
	else if (state == HOST_OTHER_TYPE)
		snprintf(out, size, "the host %s offers a %s key (%s) but %s lists it with keys of "
			"another type, so it is refused; the known keys may be replaced only once the upper "
			"node's administrator confirms that fingerprint", name, kind->name, print,
			known_hosts_path);
	else
		snprintf(out, size, "the host key of %s is not known (%s %s); it may be trusted only "
			"once that fingerprint is confirmed as the upper node's", name, kind->name, print);
}

int ts_known_hosts__check(const char *path, const char *remote, const char *name, const ts_server_key *key)
{
	known_hosts kh = { NULL, NULL };
	host_state state;
	char why[900];
	int error;

	if ((error = known_hosts_load(&kh, path)) < 0)
		return error;
	error = known_hosts_check(&state, &kh, name, key->key, key->len, key->kind);
	known_hosts_free(&kh);
	if (error < 0 || state == HOST_KNOWN)
		return error;
	host_refusal(why, sizeof(why), name, state, key->kind, key->print, path);
	return ts_error_set(state == HOST_UNKNOWN ? TS_EHOSTKEY : TS_EHOSTKEY_CHANGED, "remote %s: %s", remote, why);
}
/* ------------------------------------------------------------- trusting */

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
	if ((last != '\n' && ts_fd__write_all(fd, "\n", 1) < 0) || ts_fd__write_all(fd, line, strlen(line)) < 0 || fsync(fd) < 0)
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
			ts_buf__put(&out, line, (size_t)bare);
			ts_buf__putc(&out, '\n');
		}
		free(line);
		fclose(f);
	} else if (errno != ENOENT)
		return ts_error_set(TS_ERROR, "reading %s: %s", path, strerror(errno));
	ts_buf__puts(&out, newline);
	ts_buf__printf(&tmp, "%s.tmp-%ld", path, (long)getpid());
	if (ts_buf__oom(&out) || ts_buf__oom(&tmp)) {
		error = TS_ERROR;
		goto done;
	}
	if ((fd = open(tmp.ptr, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0 ||
	    ts_fd__write_all(fd, out.ptr, out.size) < 0 || fsync(fd) < 0 || close(fd) < 0 ||
	    (fd = -1, rename(tmp.ptr, path) < 0)) {
		error = ts_error_set(TS_ERROR, "writing %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		unlink(tmp.ptr);
	}
done:
	ts_buf__dispose(&out);
	ts_buf__dispose(&tmp);
	return error;
}

/* The host key line OpenSSH would write for `name`. */
static int key_line(ts_buf *out, known_hosts *kh, const char *name, const char *key, size_t len, const ts_host_key_kind *kind)
{
	struct libssh2_knownhost *entry = NULL;
	char line[4096];
	size_t n = 0;

	if (libssh2_knownhost_addc(kh->hosts, name, NULL, key, len, NULL, 0,
			LIBSSH2_KNOWNHOST_TYPE_PLAIN | LIBSSH2_KNOWNHOST_KEYENC_RAW | kind->known_mask, &entry) != 0 ||
	    libssh2_knownhost_writeline(kh->hosts, entry, line, sizeof(line), &n, LIBSSH2_KNOWNHOST_FILE_OPENSSH) != 0)
		return ts_error_set(TS_ERROR, "formatting the known_hosts line for %s", name);
	ts_buf__put(out, line, n);
	return ts_buf__oom(out) ? TS_ERROR : 0;
}

int ts_known_hosts__record(ts_host_key_status *status, const char *path, const char *remote,
	const char *name, const ts_server_key *key, int replace)
{
	known_hosts kh = { NULL, NULL };
	ts_buf line = TS_BUF_INIT;
	host_state state;
	int error;

	if ((error = known_hosts_load(&kh, path)) < 0 ||
	    (error = known_hosts_check(&state, &kh, name, key->key, key->len, key->kind)) < 0)
		goto done;
	if (state == HOST_KNOWN) {
		*status = TS_HOST_KEY_KNOWN;
		goto done;
	}
	if (state != HOST_UNKNOWN && !replace) {
		char why[900];
		host_refusal(why, sizeof(why), name, state, key->kind, key->print, path);
		error = ts_error_set(TS_EHOSTKEY_CHANGED, "remote %s: %s", remote, why);
		goto done;
	}
	if ((error = key_line(&line, &kh, name, key->key, key->len, key->kind)) < 0)
		goto done;
	if (state == HOST_UNKNOWN) {
		error = append_line(path, line.ptr);
		*status = TS_HOST_KEY_ADDED;
	} else {
		error = replace_lines(path, name, key->key, key->len, line.ptr);
		*status = TS_HOST_KEY_REPLACED;
	}
done:
	known_hosts_free(&kh);
	ts_buf__dispose(&line);
	return error;
}
