/*
 * SSH signatures (OpenSSH's "sshsig", as `ssh-keygen -Y sign` makes them and
 * `git -c gpg.format=ssh` stores them in a commit's gpgsig header) with
 * Ed25519 keys, on OpenSSL's libcrypto.
 *
 * The signature blob (all integers big-endian uint32; a "string" is a
 * uint32 length followed by that many bytes):
 *
 *     byte[6]  "SSHSIG"
 *     uint32   version (1)
 *     string   public key: string "ssh-ed25519", string key (32 bytes)
 *     string   namespace ("git" for commits)
 *     string   reserved (empty)
 *     string   hash algorithm ("sha512"; "sha256" is accepted too)
 *     string   signature: string "ssh-ed25519", string signature (64 bytes)
 *
 * What the key signs (Ed25519, over these bytes as they are):
 *
 *     byte[6]  "SSHSIG"
 *     string   namespace
 *     string   reserved (empty)
 *     string   hash algorithm
 *     string   H(message) with that hash algorithm
 *
 * Armored, the blob is base64 wrapped at 70 columns between the lines
 * "-----BEGIN SSH SIGNATURE-----" and "-----END SSH SIGNATURE-----", each
 * line ending in "\n".
 *
 * A private key is OpenSSH's "openssh-key-v1" file, unencrypted:
 *
 *     byte[15] "openssh-key-v1\0"
 *     string   cipher name ("none")
 *     string   KDF name ("none")
 *     string   KDF options (empty)
 *     uint32   number of keys (1)
 *     string   public key (as in the signature blob)
 *     string   private section:
 *                uint32 check, uint32 check (equal random numbers)
 *                string "ssh-ed25519", string public key (32 bytes),
 *                string private key (64 bytes: the seed, then the public key),
 *                string comment,
 *                padding bytes 1, 2, 3, ... up to a multiple of 8
 *
 * armored as base64 wrapped at 70 columns between "-----BEGIN OPENSSH
 * PRIVATE KEY-----" and "-----END OPENSSH PRIVATE KEY-----". Its public key
 * file (KEY.pub) is one line "ssh-ed25519 BASE64 comment", BASE64 being
 * the public key blob.
 *
 * In a commit, the armored signature is the value of a "gpgsig" header
 * placed at the end of the header (before the blank line), its lines after
 * the first each starting with one space; the signed message is the commit
 * without that header.
 *
 * Nothing here prints; failures set the last error (ts_error_last()).
 */
#ifndef TS_SYNC_SSHSIG_H
#define TS_SYNC_SSHSIG_H

#include <stddef.h>

#include "buf.h"

typedef struct ts_sshsig_key ts_sshsig_key;

/* The namespace git signs commits in. */
#define TS_SSHSIG_GIT_NAMESPACE "git"

/* A new Ed25519 key pair; `comment` (or NULL) goes with its public key. */
int ts_sshsig__key_generate(ts_sshsig_key **out, const char *comment);

/*
 * Reads an OpenSSH private key file. Only unencrypted Ed25519 keys are
 * taken; an encrypted key, another key type or a damaged file is refused
 * with a message naming the file (TS_EINVALID, or TS_ENOTFOUND when the
 * file cannot be read).
 */
int ts_sshsig__key_load(ts_sshsig_key **out, const char *path);

/* The same from the file's bytes; `name` names it in messages. */
int ts_sshsig__key_parse(ts_sshsig_key **out, const char *name, const char *text, size_t len);

/*
 * Writes the private key to `path` (mode 0600) and its public key line to
 * `path`.pub, each through a temporary file renamed into place.
 */
int ts_sshsig__key_save(const ts_sshsig_key *key, const char *path);

/*
 * Appends the public key line to `out`: "ssh-ed25519 BASE64", followed by
 * " comment" when `with_comment` and the key has one.
 */
int ts_sshsig__key_public(ts_buf *out, const ts_sshsig_key *key, int with_comment);

/* NULL-safe; wipes the private key. */
void ts_sshsig__key_free(ts_sshsig_key *key);

/*
 * Parses a public key line "ssh-ed25519 BASE64 [comment]" (as in a .pub
 * file or an allowed_signers entry's key part) and sets *out to its
 * canonical form "ssh-ed25519 BASE64", without comment (caller frees).
 * TS_EINVALID when it is not a well-formed Ed25519 public key.
 */
int ts_sshsig__public_parse(char **out, const char *line);

/* "SHA256:" and 43 characters of unpadded base64, and a NUL. */
#define TS_SSHSIG_FINGERPRINT_SIZE 51

/*
 * Writes the fingerprint of public key line `line` (as
 * ts_sshsig__public_parse() reads it) as `ssh-keygen -l` prints it:
 * "SHA256:" and the unpadded base64 of the SHA-256 of the key blob.
 */
int ts_sshsig__public_fingerprint(char out[TS_SSHSIG_FINGERPRINT_SIZE], const char *line);

/*
 * Signs `data` in `namespace` with `key`; appends the armored signature
 * (ending in "\n") to `armored`.
 */
int ts_sshsig__sign(ts_buf *armored, const ts_sshsig_key *key, const char *namespace,
	const void *data, size_t len);

/*
 * Checks an armored signature of `data` in `namespace`. Returns 0 when it
 * is well-formed and matches, setting *signer_out (when not NULL) to the
 * signer's public key "ssh-ed25519 BASE64" (caller frees); TS_ECORRUPT with
 * the reason otherwise (*signer_out NULL). Whether that key is trusted is
 * the caller's question.
 */
int ts_sshsig__verify(char **signer_out, const char *armored, size_t armored_len,
	const char *namespace, const void *data, size_t len);

/*
 * Signs a raw commit object (the bytes git hashes, without the object
 * header) as `git commit -S` with gpg.format=ssh does: appends to
 * `signed_raw` the commit with a gpgsig header at the end of its header.
 * TS_EINVALID when `raw` already carries a gpgsig header.
 */
int ts_sshsig__commit_sign(ts_buf *signed_raw, const ts_sshsig_key *key, const char *raw, size_t len);

/*
 * Splits a raw commit into its payload (the commit without the gpgsig
 * header) and signature, and checks the signature over the payload in the
 * "git" namespace. 0 when it matches, *signer_out (when not NULL) set to
 * the signer's key as ts_sshsig__verify() gives it; TS_ENOTFOUND "unsigned"
 * when the commit has no gpgsig header; TS_ECORRUPT when it is malformed
 * or does not match.
 */
int ts_sshsig__commit_check(char **signer_out, const char *raw, size_t len);

#endif
