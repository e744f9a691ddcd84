/*
 * Known hosts: the OpenSSH known_hosts file a node keeps of the SSH host
 * keys it trusts, the check of a server's key against it, host key
 * fingerprints, and the writing of a key when one is trusted.
 *
 * It opens no connection: the SSH transport (ssh.c) hands it the raw key
 * its handshake gave. Used by ssh.c (the check before any credential is
 * offered) and remote.c (ts_remote__trust()).
 */
#ifndef TS_SYNC_KNOWN_HOSTS_H
#define TS_SYNC_KNOWN_HOSTS_H

#include <stddef.h>

#include "tiersync.h"

/* One kind of host key: libssh2's names for it and how OpenSSH spells it. */
typedef struct {
	int hostkey_type;    /* LIBSSH2_HOSTKEY_TYPE_* */
	int known_mask;      /* LIBSSH2_KNOWNHOST_KEY_* */
	const char *name;
} ts_host_key_kind;

/* A server's host key as its SSH handshake gave it. */
typedef struct {
	const char *key;          /* raw, owned by the SSH session */
	size_t len;
	const ts_host_key_kind *kind;
	char print[64];           /* its fingerprint */
} ts_server_key;

/* The kind of a LIBSSH2_HOSTKEY_TYPE_* key, or NULL when it is not supported (for ssh.c). */
const ts_host_key_kind *ts_known_hosts__kind(int hostkey_type);

/* "SHA256:" + unpadded base64 of the digest, as ssh-keygen -l prints it (for ssh.c). */
void ts_known_hosts__fingerprint(char out[64], const unsigned char sha256[32]);

/*
 * 0 when the known_hosts file at `path` lists `key` under `name` ("host",
 * or "[host]:port"); else TS_EAUTH with a one-line "remote REMOTE: ..."
 * saying why the key is refused (for ssh.c, before it logs in).
 */
int ts_known_hosts__check(const char *path, const char *remote, const char *name, const ts_server_key *key);

/*
 * The file half of trusting a key (for remote.c's ts_remote__trust()):
 * records `key` under `name` in the file at `path` (created if missing) and
 * sets *status. A key already listed writes nothing; a different key known
 * for the host is refused (TS_EAUTH) unless `replace`, which drops the
 * host's old lines.
 */
int ts_known_hosts__record(ts_host_key_status *status, const char *path, const char *remote,
	const char *name, const ts_server_key *key, int replace);

#endif
