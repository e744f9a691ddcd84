/*
 * SSH signatures with Ed25519 keys: OpenSSH's sshsig format, its private
 * key files, and the gpgsig header of signed git commits. The formats are
 * described in sshsig.h. Ed25519, SHA-2 and base64 come from libcrypto.
 *
 * Everything read here may be hostile (a signature in a commit another
 * node sent, a key file): every length is checked against what is left
 * before it is used, and nothing is accepted with bytes to spare.
 */
#include "sshsig.h"
#include "fd.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "tiersync.h"

#define KEY_TYPE "ssh-ed25519"
#define SIG_MAGIC "SSHSIG"
#define SIG_VERSION 1
#define KEY_MAGIC "openssh-key-v1"   /* followed by its NUL in the file */
#define SIG_LABEL "SSH SIGNATURE"
#define KEY_LABEL "OPENSSH PRIVATE KEY"
#define WRAP 70
#define PUBLIC_SIZE 32
#define SEED_SIZE 32
#define SIGNATURE_SIZE 64
/* A real signature is ~300 bytes armored, a key file ~400: anything far
 * larger is refused before it is decoded. */
#define MAX_ARMORED_SIGNATURE 8192
#define MAX_KEY_FILE 65536
#define HEADER "gpgsig"

struct ts_sshsig_key {
	EVP_PKEY *pkey;
	unsigned char pub[PUBLIC_SIZE];
	char *comment;    /* or NULL */
};

/* --- writing: SSH wire encoding ------------------------------------------ */

static void put_u32(ts_buf *b, uint32_t v)
{
	unsigned char c[4] = { (unsigned char)(v >> 24), (unsigned char)(v >> 16),
		(unsigned char)(v >> 8), (unsigned char)v };
	ts_buf__put(b, c, 4);
}

static void put_string(ts_buf *b, const void *data, size_t len)
{
	put_u32(b, (uint32_t)len);
	ts_buf__put(b, data, len);
}

static void put_cstring(ts_buf *b, const char *s)
{
	put_string(b, s, strlen(s));
}

static void put_public_blob(ts_buf *b, const unsigned char pub[PUBLIC_SIZE])
{
	put_cstring(b, KEY_TYPE);
	put_string(b, pub, PUBLIC_SIZE);
}

/* --- reading: SSH wire decoding, bounds-checked ---------------------------- */

typedef struct {
	const unsigned char *p;
	size_t left;
} reader;

static int get_u32(reader *r, uint32_t *v)
{
	if (r->left < 4)
		return -1;
	*v = (uint32_t)r->p[0] << 24 | (uint32_t)r->p[1] << 16 | (uint32_t)r->p[2] << 8 | r->p[3];
	r->p += 4;
	r->left -= 4;
	return 0;
}

static int get_string(reader *r, const unsigned char **data, size_t *len)
{
	uint32_t n;
	if (get_u32(r, &n) < 0 || n > r->left)
		return -1;
	*data = r->p;
	*len = n;
	r->p += n;
	r->left -= n;
	return 0;
}

static int get_bytes(reader *r, const void *want, size_t len)
{
	if (r->left < len || memcmp(r->p, want, len))
		return -1;
	r->p += len;
	r->left -= len;
	return 0;
}

static int equals(const unsigned char *data, size_t len, const char *s)
{
	return len == strlen(s) && !memcmp(data, s, len);
}

/* The 32 key bytes of an Ed25519 public key blob, which must hold nothing else. */
static int parse_public_blob(unsigned char pub[PUBLIC_SIZE], const unsigned char *blob, size_t len,
	const unsigned char **type, size_t *type_len)
{
	reader r = { blob, len };
	const unsigned char *t, *k;
	size_t tn, kn;

	if (get_string(&r, &t, &tn) < 0)
		return -1;
	if (type) {
		*type = t;
		*type_len = tn;
	}
	if (!equals(t, tn, KEY_TYPE) || get_string(&r, &k, &kn) < 0 || kn != PUBLIC_SIZE || r.left)
		return -1;
	memcpy(pub, k, PUBLIC_SIZE);
	return 0;
}

/* --- base64 and armor ------------------------------------------------------ */

static void base64_put(ts_buf *out, const unsigned char *data, size_t len)
{
	size_t n = 4 * ((len + 2) / 3);
	if (ts_buf__grow(out, n + 1) < 0)
		return;
	EVP_EncodeBlock((unsigned char *)out->ptr + out->size, data, (int)len);
	out->size += n;
	out->ptr[out->size] = '\0';
}

static int is_base64(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		c == '+' || c == '/';
}

static int base64_value(int c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' : c >= 'a' && c <= 'z' ? c - 'a' + 26 :
		c >= '0' && c <= '9' ? c - '0' + 52 : c == '+' ? 62 : 63;
}

/* Decodes canonical base64 (padded, no whitespace, the bits the padding
 * leaves over zero: one text for one blob) into `out`. */
static int base64_decode(ts_buf *out, const char *s, size_t n)
{
	size_t pad = 0, i;
	int got;

	if (n == 0 || n % 4)
		return -1;
	if (s[n - 1] == '=')
		pad = s[n - 2] == '=' ? 2 : 1;
	for (i = 0; i < n - pad; i++)
		if (!is_base64((unsigned char)s[i]))
			return -1;
	if (pad && (base64_value((unsigned char)s[n - pad - 1]) & (pad == 2 ? 0x0f : 0x03)))
		return -1;
	if (n > INT32_MAX || ts_buf__grow(out, n / 4 * 3 + 1) < 0)
		return -1;
	got = EVP_DecodeBlock((unsigned char *)out->ptr + out->size, (const unsigned char *)s, (int)n);
	if (got < 0 || (size_t)got != n / 4 * 3)
		return -1;
	out->size += (size_t)got - pad;
	out->ptr[out->size] = '\0';
	return 0;
}

static void armor(ts_buf *out, const char *label, const unsigned char *blob, size_t len)
{
	ts_buf b64 = TS_BUF_INIT;
	size_t i;

	base64_put(&b64, blob, len);
	ts_buf__printf(out, "-----BEGIN %s-----\n", label);
	for (i = 0; i < b64.size; i += WRAP) {
		ts_buf__put(out, b64.ptr + i, b64.size - i < WRAP ? b64.size - i : WRAP);
		ts_buf__putc(out, '\n');
	}
	ts_buf__printf(out, "-----END %s-----\n", label);
	if (ts_buf__oom(&b64))
		out->oom = 1;
	ts_buf__dispose(&b64);
}

/* Reads one line [*p, end): sets *line, *n (without "\n" or "\r\n"); 0 at end. */
static int next_line(const char **p, const char *end, const char **line, size_t *n)
{
	const char *nl;
	if (*p >= end)
		return 0;
	*line = *p;
	nl = memchr(*p, '\n', (size_t)(end - *p));
	*n = (size_t)((nl ? nl : end) - *p);
	*p = nl ? nl + 1 : end;
	if (*n && (*line)[*n - 1] == '\r')
		(*n)--;
	return 1;
}

/*
 * The blob inside armor: a BEGIN line, base64 lines, an END line. With
 * `lenient`, blank lines may come before and after (a key file); without,
 * nothing may (a signature).
 */
static int dearmor(ts_buf *blob, const char *label, const char *text, size_t len, int lenient,
	const char **why)
{
	char begin[64], finish[64];
	const char *p = text, *end = text + len, *line;
	ts_buf b64 = TS_BUF_INIT;
	size_t n;
	int error = -1, ended = 0;

	snprintf(begin, sizeof(begin), "-----BEGIN %s-----", label);
	snprintf(finish, sizeof(finish), "-----END %s-----", label);
	*why = "no armor line";
	do {
		if (!next_line(&p, end, &line, &n))
			goto done;
	} while (lenient && n == 0);
	if (n != strlen(begin) || memcmp(line, begin, n))
		goto done;
	*why = "malformed base64";
	while (next_line(&p, end, &line, &n)) {
		size_t i;
		if (n == strlen(finish) && !memcmp(line, finish, n)) {
			ended = 1;
			break;
		}
		for (i = 0; i < n; i++)
			if (!is_base64((unsigned char)line[i]) && line[i] != '=')
				goto done;
		ts_buf__put(&b64, line, n);
	}
	if (!ended) {
		*why = "no end line";
		goto done;
	}
	while (p < end) {
		if (!lenient || (*p != '\n' && *p != '\r' && *p != ' ' && *p != '\t')) {
			*why = "bytes after the end line";
			goto done;
		}
		p++;
	}
	if (ts_buf__oom(&b64) || base64_decode(blob, ts_buf__cstr(&b64), b64.size) < 0) {
		*why = "malformed base64";
		goto done;
	}
	error = 0;
done:
	ts_buf__dispose(&b64);
	return error;
}

/* --- keys -------------------------------------------------------------------- */

static int crypto_error(const char *what)
{
	return ts_error_set(TS_ERROR, "%s failed (libcrypto)", what);
}

static int key_from_seed(ts_sshsig_key **out, const unsigned char *seed, const char *comment,
	size_t comment_len)
{
	ts_sshsig_key *key;
	size_t publen = PUBLIC_SIZE;

	*out = NULL;
	if (!(key = calloc(1, sizeof(*key))))
		return ts_error_set(TS_ERROR, "out of memory");
	if (!(key->pkey = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, SEED_SIZE)) ||
	    EVP_PKEY_get_raw_public_key(key->pkey, key->pub, &publen) != 1 || publen != PUBLIC_SIZE) {
		ts_sshsig__key_free(key);
		return crypto_error("making an Ed25519 key");
	}
	if (comment && comment_len) {
		size_t i;
		/* a comment that would break the one-line public key is dropped */
		for (i = 0; i < comment_len; i++)
			if ((unsigned char)comment[i] < 0x20 || comment[i] == 0x7f)
				break;
		if (i == comment_len && !(key->comment = strndup(comment, comment_len))) {
			ts_sshsig__key_free(key);
			return ts_error_set(TS_ERROR, "out of memory");
		}
	}
	*out = key;
	return 0;
}

int ts_sshsig__key_generate(ts_sshsig_key **out, const char *comment)
{
	unsigned char seed[SEED_SIZE];
	int error;

	*out = NULL;
	if (RAND_bytes(seed, sizeof(seed)) != 1)
		return crypto_error("drawing random bytes for a key");
	error = key_from_seed(out, seed, comment, comment ? strlen(comment) : 0);
	OPENSSL_cleanse(seed, sizeof(seed));
	return error;
}

void ts_sshsig__key_free(ts_sshsig_key *key)
{
	if (!key)
		return;
	EVP_PKEY_free(key->pkey);
	free(key->comment);
	free(key);
}

int ts_sshsig__key_parse(ts_sshsig_key **out, const char *name, const char *text, size_t len)
{
	ts_buf blob = TS_BUF_INIT;
	reader r, priv;
	const unsigned char *cipher, *kdf, *kdfopts, *pubblob, *section, *type, *pub, *seed, *comment;
	size_t cipher_n, kdf_n, kdfopts_n, pubblob_n, section_n, type_n, pub_n, seed_n, comment_n, i;
	unsigned char pubkey[PUBLIC_SIZE];
	uint32_t nkeys, check1, check2;
	const char *why = NULL;
	int error;

	*out = NULL;
	if (len > MAX_KEY_FILE)
		return ts_error_set(TS_EINVALID, "%s is too large to be an OpenSSH private key", name);
	if (dearmor(&blob, KEY_LABEL, text, len, 1, &why) < 0) {
		error = ts_error_set(TS_EINVALID, "%s is not an OpenSSH private key (%s); tiersync needs "
			"an unencrypted Ed25519 key, as 'ssh-keygen -t ed25519 -N \"\"' makes", name, why);
		goto done;
	}
	r.p = (const unsigned char *)blob.ptr;
	r.left = blob.size;
	if (get_bytes(&r, KEY_MAGIC, sizeof(KEY_MAGIC)) < 0 ||
	    get_string(&r, &cipher, &cipher_n) < 0 || get_string(&r, &kdf, &kdf_n) < 0 ||
	    get_string(&r, &kdfopts, &kdfopts_n) < 0 || get_u32(&r, &nkeys) < 0 ||
	    get_string(&r, &pubblob, &pubblob_n) < 0) {
		error = ts_error_set(TS_EINVALID, "%s: damaged OpenSSH private key", name);
		goto done;
	}
	if (nkeys != 1) {
		error = ts_error_set(TS_EINVALID, "%s holds %u keys; tiersync needs one Ed25519 key", name,
			(unsigned)nkeys);
		goto done;
	}
	type = NULL;
	if (parse_public_blob(pubkey, pubblob, pubblob_n, &type, &type_n) < 0) {
		if (type && !equals(type, type_n, KEY_TYPE))
			error = ts_error_set(TS_EINVALID, "%s is not an Ed25519 key (it is %.*s); tiersync "
				"needs an Ed25519 key", name, (int)(type_n > 40 ? 40 : type_n), (const char *)type);
		else
			error = ts_error_set(TS_EINVALID, "%s: damaged OpenSSH private key", name);
		goto done;
	}
	if (!equals(cipher, cipher_n, "none") || !equals(kdf, kdf_n, "none")) {
		error = ts_error_set(TS_EINVALID, "%s is encrypted: tiersync needs an unencrypted Ed25519 key",
			name);
		goto done;
	}
	if (kdfopts_n || get_string(&r, &section, &section_n) < 0 || r.left) {
		error = ts_error_set(TS_EINVALID, "%s: damaged OpenSSH private key", name);
		goto done;
	}
	priv.p = section;
	priv.left = section_n;
	if (get_u32(&priv, &check1) < 0 || get_u32(&priv, &check2) < 0 || check1 != check2 ||
	    get_string(&priv, &type, &type_n) < 0 || !equals(type, type_n, KEY_TYPE) ||
	    get_string(&priv, &pub, &pub_n) < 0 || pub_n != PUBLIC_SIZE || memcmp(pub, pubkey, PUBLIC_SIZE) ||
	    get_string(&priv, &seed, &seed_n) < 0 || seed_n != SEED_SIZE + PUBLIC_SIZE ||
	    memcmp(seed + SEED_SIZE, pubkey, PUBLIC_SIZE) ||
	    get_string(&priv, &comment, &comment_n) < 0 || priv.left >= 8) {
		error = ts_error_set(TS_EINVALID, "%s: damaged OpenSSH private key (its private part)", name);
		goto done;
	}
	for (i = 0; i < priv.left; i++)
		if (priv.p[i] != i + 1) {
			error = ts_error_set(TS_EINVALID, "%s: damaged OpenSSH private key (padding)", name);
			goto done;
		}
	if ((error = key_from_seed(out, seed, (const char *)comment, comment_n)) < 0)
		goto done;
	if (memcmp((*out)->pub, pubkey, PUBLIC_SIZE)) {
		ts_sshsig__key_free(*out);
		*out = NULL;
		error = ts_error_set(TS_EINVALID, "%s: its private key does not match its public key", name);
	}
done:
	if (blob.ptr)
		OPENSSL_cleanse(blob.ptr, blob.asize);
	ts_buf__dispose(&blob);
	return error;
}

int ts_sshsig__key_load(ts_sshsig_key **out, const char *path)
{
	ts_buf text = TS_BUF_INIT;
	char chunk[4096];
	size_t n;
	FILE *f;
	int error;

	*out = NULL;
	if (!(f = fopen(path, "rb")))
		return ts_error_set(errno == ENOENT ? TS_ENOTFOUND : TS_ERROR, "reading the key %s: %s",
			path, strerror(errno));
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0 && text.size <= MAX_KEY_FILE)
		ts_buf__put(&text, chunk, n);
	if (ferror(f))
		error = ts_error_set(TS_ERROR, "reading the key %s: %s", path, strerror(errno));
	else if (ts_buf__oom(&text))
		error = TS_ERROR;
	else
		error = ts_sshsig__key_parse(out, path, ts_buf__cstr(&text), text.size);
	fclose(f);
	if (text.ptr)
		OPENSSL_cleanse(text.ptr, text.asize);
	ts_buf__dispose(&text);
	return error;
}

int ts_sshsig__key_public(ts_buf *out, const ts_sshsig_key *key, int with_comment)
{
	ts_buf blob = TS_BUF_INIT;

	put_public_blob(&blob, key->pub);
	ts_buf__puts(out, KEY_TYPE " ");
	base64_put(out, (const unsigned char *)blob.ptr, blob.size);
	if (with_comment && key->comment && *key->comment)
		ts_buf__printf(out, " %s", key->comment);
	if (ts_buf__oom(&blob))
		out->oom = 1;
	ts_buf__dispose(&blob);
	return ts_buf__oom(out) ? TS_ERROR : 0;
}

/* Writes `data` to `path` through a temporary file renamed into place. */
static int write_file(const char *path, const void *data, size_t len, mode_t mode)
{
	ts_buf tmp = TS_BUF_INIT;
	const char *p = data;
	int fd = -1, error = 0;

	ts_buf__printf(&tmp, "%s.tmp-XXXXXX", path);
	if (ts_buf__oom(&tmp))
		return TS_ERROR;
	if ((fd = mkstemp(tmp.ptr)) < 0) {
		error = ts_error_set(TS_ERROR, "writing %s: %s", path, strerror(errno));
		goto done;
	}
	if (fchmod(fd, mode) < 0)
		goto fail;
	if (ts_fd__write_all(fd, p, len) < 0)
		goto fail;
	if (fsync(fd) < 0 || close(fd) < 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (rename(tmp.ptr, path) < 0)
		goto fail;
	goto done;
fail:
	error = ts_error_set(TS_ERROR, "writing %s: %s", path, strerror(errno));
	if (fd >= 0)
		close(fd);
	unlink(tmp.ptr);
done:
	ts_buf__dispose(&tmp);
	return error;
}

int ts_sshsig__key_save(const ts_sshsig_key *key, const char *path)
{
	ts_buf blob = TS_BUF_INIT, section = TS_BUF_INIT, text = TS_BUF_INIT, pub = TS_BUF_INIT;
	unsigned char seed[SEED_SIZE + PUBLIC_SIZE];
	size_t seedlen = SEED_SIZE;
	uint32_t check;
	unsigned char pad;
	int error = 0;

	if (EVP_PKEY_get_raw_private_key(key->pkey, seed, &seedlen) != 1 || seedlen != SEED_SIZE ||
	    RAND_bytes((unsigned char *)&check, sizeof(check)) != 1) {
		error = crypto_error("reading the private key");
		goto done;
	}
	memcpy(seed + SEED_SIZE, key->pub, PUBLIC_SIZE);
	put_u32(&section, check);
	put_u32(&section, check);
	put_public_blob(&section, key->pub);
	put_string(&section, seed, sizeof(seed));
	put_cstring(&section, key->comment ? key->comment : "");
	for (pad = 1; section.size % 8; pad++)
		ts_buf__put(&section, &pad, 1);

	ts_buf__put(&blob, KEY_MAGIC, sizeof(KEY_MAGIC));
	put_cstring(&blob, "none");
	put_cstring(&blob, "none");
	put_string(&blob, "", 0);
	put_u32(&blob, 1);
	put_u32(&blob, 4 + (uint32_t)strlen(KEY_TYPE) + 4 + PUBLIC_SIZE);
	put_public_blob(&blob, key->pub);
	put_string(&blob, section.ptr, section.size);
	armor(&text, KEY_LABEL, (const unsigned char *)blob.ptr, blob.size);
	ts_sshsig__key_public(&pub, key, 1);
	ts_buf__putc(&pub, '\n');
	if (ts_buf__oom(&section) || ts_buf__oom(&blob) || ts_buf__oom(&text) || ts_buf__oom(&pub)) {
		error = TS_ERROR;
		goto done;
	}
	if ((error = write_file(path, text.ptr, text.size, 0600)) < 0)
		goto done;
	{
		ts_buf pubpath = TS_BUF_INIT;
		ts_buf__printf(&pubpath, "%s.pub", path);
		error = ts_buf__oom(&pubpath) ? TS_ERROR : write_file(pubpath.ptr, pub.ptr, pub.size, 0644);
		ts_buf__dispose(&pubpath);
	}
done:
	OPENSSL_cleanse(seed, sizeof(seed));
	if (section.ptr)
		OPENSSL_cleanse(section.ptr, section.asize);
	if (blob.ptr)
		OPENSSL_cleanse(blob.ptr, blob.asize);
	if (text.ptr)
		OPENSSL_cleanse(text.ptr, text.asize);
	ts_buf__dispose(&section);
	ts_buf__dispose(&blob);
	ts_buf__dispose(&text);
	ts_buf__dispose(&pub);
	return error;
}

/* The key blob of a public key line. */
static int public_blob(ts_buf *blob, const char *line)
{
	unsigned char pub[PUBLIC_SIZE];
	const char *b64, *end;

	if (!line || strncmp(line, KEY_TYPE " ", strlen(KEY_TYPE) + 1))
		return ts_error_set(TS_EINVALID, "not an Ed25519 public key (\"ssh-ed25519 BASE64\")");
	b64 = line + strlen(KEY_TYPE) + 1;
	for (end = b64; *end && *end != ' ' && *end != '\t' && *end != '\n' && *end != '\r'; end++)
		;
	if ((size_t)(end - b64) > 1024 || base64_decode(blob, b64, (size_t)(end - b64)) < 0 ||
	    parse_public_blob(pub, (const unsigned char *)blob->ptr, blob->size, NULL, NULL) < 0)
		return ts_error_set(TS_EINVALID, "malformed Ed25519 public key");
	return 0;
}

int ts_sshsig__public_fingerprint(char out[TS_SSHSIG_FINGERPRINT_SIZE], const char *line)
{
	ts_buf blob = TS_BUF_INIT, b64 = TS_BUF_INIT;
	unsigned char md[32];
	unsigned int mdlen = 0;
	int error;

	out[0] = '\0';
	if ((error = public_blob(&blob, line)) == 0) {
		if (!EVP_Digest(blob.ptr, blob.size, md, &mdlen, EVP_sha256(), NULL) || mdlen != sizeof(md))
			error = ts_error_set(TS_ERROR, "hashing a public key");
		else {
			base64_put(&b64, md, sizeof(md));
			if (ts_buf__oom(&b64) || b64.size != 44)
				error = ts_error_set(TS_ERROR, "out of memory");
			else
				snprintf(out, TS_SSHSIG_FINGERPRINT_SIZE, "SHA256:%.43s", b64.ptr);
		}
	}
	ts_buf__dispose(&blob);
	ts_buf__dispose(&b64);
	return error;
}

int ts_sshsig__public_parse(char **out, const char *line)
{
	ts_buf blob = TS_BUF_INIT, canon = TS_BUF_INIT;
	int error;

	*out = NULL;
	if ((error = public_blob(&blob, line)) < 0)
		goto done;
	ts_buf__puts(&canon, KEY_TYPE " ");
	base64_put(&canon, (const unsigned char *)blob.ptr, blob.size);
	if (ts_buf__oom(&canon)) {
		error = TS_ERROR;
		goto done;
	}
	*out = ts_buf__detach(&canon);
done:
	ts_buf__dispose(&blob);
	ts_buf__dispose(&canon);
	return error;
}

/* --- signatures ----------------------------------------------------------- */

static const EVP_MD *hash_named(const unsigned char *name, size_t len)
{
	if (equals(name, len, "sha512"))
		return EVP_sha512();
	if (equals(name, len, "sha256"))
		return EVP_sha256();
	return NULL;
}

/* The bytes the key signs: magic, namespace, reserved, hash name, H(data). */
static int signed_data(ts_buf *out, const char *namespace, const char *hash_name, const EVP_MD *md,
	const void *data, size_t len)
{
	unsigned char h[EVP_MAX_MD_SIZE];
	unsigned int hlen = 0;

	if (EVP_Digest(data, len, h, &hlen, md, NULL) != 1)
		return crypto_error("hashing the message");
	ts_buf__put(out, SIG_MAGIC, strlen(SIG_MAGIC));
	put_cstring(out, namespace);
	put_string(out, "", 0);
	put_cstring(out, hash_name);
	put_string(out, h, hlen);
	return ts_buf__oom(out) ? TS_ERROR : 0;
}

int ts_sshsig__sign(ts_buf *armored, const ts_sshsig_key *key, const char *namespace,
	const void *data, size_t len)
{
	ts_buf tbs = TS_BUF_INIT, blob = TS_BUF_INIT, sigblob = TS_BUF_INIT;
	unsigned char sig[SIGNATURE_SIZE];
	size_t siglen = sizeof(sig);
	EVP_MD_CTX *ctx = NULL;
	int error;

	if ((error = signed_data(&tbs, namespace, "sha512", EVP_sha512(), data, len)) < 0)
		goto done;
	if (!(ctx = EVP_MD_CTX_new()) || EVP_DigestSignInit(ctx, NULL, NULL, NULL, key->pkey) != 1 ||
	    EVP_DigestSign(ctx, sig, &siglen, (const unsigned char *)tbs.ptr, tbs.size) != 1 ||
	    siglen != SIGNATURE_SIZE) {
		error = crypto_error("signing");
		goto done;
	}
	put_cstring(&sigblob, KEY_TYPE);
	put_string(&sigblob, sig, siglen);

	ts_buf__put(&blob, SIG_MAGIC, strlen(SIG_MAGIC));
	put_u32(&blob, SIG_VERSION);
	put_u32(&blob, 4 + (uint32_t)strlen(KEY_TYPE) + 4 + PUBLIC_SIZE);
	put_public_blob(&blob, key->pub);
	put_cstring(&blob, namespace);
	put_string(&blob, "", 0);
	put_cstring(&blob, "sha512");
	put_string(&blob, sigblob.ptr, sigblob.size);
	if (ts_buf__oom(&sigblob) || ts_buf__oom(&blob)) {
		error = TS_ERROR;
		goto done;
	}
	armor(armored, SIG_LABEL, (const unsigned char *)blob.ptr, blob.size);
	error = ts_buf__oom(armored) ? TS_ERROR : 0;
done:
	EVP_MD_CTX_free(ctx);
	ts_buf__dispose(&tbs);
	ts_buf__dispose(&blob);
	ts_buf__dispose(&sigblob);
	return error;
}

static int bad_signature(const char *why)
{
	return ts_error_set(TS_ECORRUPT, "bad SSH signature: %s", why);
}

int ts_sshsig__verify(char **signer_out, const char *armored, size_t armored_len,
	const char *namespace, const void *data, size_t len)
{
	ts_buf blob = TS_BUF_INIT, tbs = TS_BUF_INIT, signer = TS_BUF_INIT;
	const unsigned char *pubblob, *ns, *reserved, *hash_name, *sigblob, *type, *sig;
	size_t pubblob_n, ns_n, reserved_n, hash_n, sigblob_n, type_n, sig_n;
	unsigned char pub[PUBLIC_SIZE];
	char hash_text[8];
	const EVP_MD *md;
	EVP_PKEY *pkey = NULL;
	EVP_MD_CTX *ctx = NULL;
	const char *why = NULL;
	uint32_t version;
	reader r, s;
	int error = 0;

	if (signer_out)
		*signer_out = NULL;
	if (armored_len > MAX_ARMORED_SIGNATURE) {
		error = bad_signature("too large");
		goto done;
	}
	if (dearmor(&blob, SIG_LABEL, armored, armored_len, 0, &why) < 0) {
		error = bad_signature(why);
		goto done;
	}
	r.p = (const unsigned char *)blob.ptr;
	r.left = blob.size;
	if (get_bytes(&r, SIG_MAGIC, strlen(SIG_MAGIC)) < 0) {
		error = bad_signature("not an SSHSIG blob");
		goto done;
	}
	if (get_u32(&r, &version) < 0 || version != SIG_VERSION) {
		error = bad_signature("unknown version");
		goto done;
	}
	if (get_string(&r, &pubblob, &pubblob_n) < 0 || get_string(&r, &ns, &ns_n) < 0 ||
	    get_string(&r, &reserved, &reserved_n) < 0 || get_string(&r, &hash_name, &hash_n) < 0 ||
	    get_string(&r, &sigblob, &sigblob_n) < 0) {
		error = bad_signature("truncated");
		goto done;
	}
	if (r.left) {
		error = bad_signature("trailing bytes");
		goto done;
	}
	if (parse_public_blob(pub, pubblob, pubblob_n, NULL, NULL) < 0) {
		error = bad_signature("not an Ed25519 public key");
		goto done;
	}
	if (!equals(ns, ns_n, namespace)) {
		error = bad_signature("wrong namespace");
		goto done;
	}
	if (!(md = hash_named(hash_name, hash_n))) {
		error = bad_signature("unknown hash algorithm");
		goto done;
	}
	s.p = sigblob;
	s.left = sigblob_n;
	if (get_string(&s, &type, &type_n) < 0 || !equals(type, type_n, KEY_TYPE) ||
	    get_string(&s, &sig, &sig_n) < 0 || sig_n != SIGNATURE_SIZE || s.left) {
		error = bad_signature("not an Ed25519 signature");
		goto done;
	}
	memcpy(hash_text, hash_name, hash_n);
	hash_text[hash_n] = '\0';
	if ((error = signed_data(&tbs, namespace, hash_text, md, data, len)) < 0)
		goto done;
	if (!(pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub, PUBLIC_SIZE)) ||
	    !(ctx = EVP_MD_CTX_new()) || EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, pkey) != 1) {
		error = crypto_error("checking a signature");
		goto done;
	}
	if (EVP_DigestVerify(ctx, sig, sig_n, (const unsigned char *)tbs.ptr, tbs.size) != 1) {
		error = bad_signature("the signature does not match the signed bytes");
		goto done;
	}
	if (signer_out) {
		ts_buf__puts(&signer, KEY_TYPE " ");
		base64_put(&signer, pubblob, pubblob_n);
		if (ts_buf__oom(&signer)) {
			error = TS_ERROR;
			goto done;
		}
		*signer_out = ts_buf__detach(&signer);
	}
done:
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(pkey);
	ts_buf__dispose(&blob);
	ts_buf__dispose(&tbs);
	ts_buf__dispose(&signer);
	return error;
}

/* --- commits ------------------------------------------------------------ */

int ts_sshsig__commit_sign(ts_buf *signed_raw, const ts_sshsig_key *key, const char *raw, size_t len)
{
	ts_buf sig = TS_BUF_INIT;
	const char *eoh = memmem(raw, len, "\n\n", 2), *line, *p;
	size_t header_end = eoh ? (size_t)(eoh - raw) + 1 : len, n;
	int error, first = 1;

	if (!eoh)
		return ts_error_set(TS_EINVALID, "not a commit: no blank line after its header");
	/* git signs the commit as it is and puts the signature last in the header */
	for (p = raw; p < raw + header_end; ) {
		if (!next_line(&p, raw + header_end, &line, &n))
			break;
		if (n > strlen(HEADER) && !memcmp(line, HEADER " ", strlen(HEADER) + 1))
			return ts_error_set(TS_EINVALID, "the commit is signed already");
	}
	if ((error = ts_sshsig__sign(&sig, key, TS_SSHSIG_GIT_NAMESPACE, raw, len)) < 0)
		goto done;
	ts_buf__put(signed_raw, raw, header_end);
	for (p = sig.ptr; p < sig.ptr + sig.size; p += n) {
		const char *nl = memchr(p, '\n', (size_t)(sig.ptr + sig.size - p));
		n = (size_t)((nl ? nl + 1 : sig.ptr + sig.size) - p);
		if (first)
			ts_buf__puts(signed_raw, HEADER);
		first = 0;
		ts_buf__putc(signed_raw, ' ');
		ts_buf__put(signed_raw, p, n);
	}
	ts_buf__put(signed_raw, raw + header_end, len - header_end);
	error = ts_buf__oom(signed_raw) ? TS_ERROR : 0;
done:
	ts_buf__dispose(&sig);
	return error;
}

int ts_sshsig__commit_check(char **signer_out, const char *raw, size_t len)
{
	ts_buf payload = TS_BUF_INIT, sig = TS_BUF_INIT;
	const char *line = raw, *end = raw + len;
	int in_signature = 0, signed_ = 0, error;

	if (signer_out)
		*signer_out = NULL;
	/* as git splits it: the gpgsig header and its continuation lines are the
	 * signature, everything else (from the blank line on, all of it) the payload */
	while (line < end) {
		const char *nl = memchr(line, '\n', (size_t)(end - line));
		const char *next = nl ? nl + 1 : end;
		size_t n = (size_t)(next - line);

		if (in_signature && *line == ' ') {
			ts_buf__put(&sig, line + 1, n - 1);
		} else if (n > strlen(HEADER) && !memcmp(line, HEADER " ", strlen(HEADER) + 1)) {
			if (signed_) {
				error = ts_error_set(TS_ECORRUPT, "bad commit signature: two gpgsig headers");
				goto done;
			}
			signed_ = in_signature = 1;
			ts_buf__put(&sig, line + strlen(HEADER) + 1, n - strlen(HEADER) - 1);
		} else {
			in_signature = 0;
			if (*line == '\n') {
				ts_buf__put(&payload, line, (size_t)(end - line));
				break;
			}
			ts_buf__put(&payload, line, n);
		}
		line = next;
	}
	if (ts_buf__oom(&payload) || ts_buf__oom(&sig)) {
		error = TS_ERROR;
		goto done;
	}
	if (!signed_) {
		error = ts_error_set(TS_ENOTFOUND, "unsigned");
		goto done;
	}
	error = ts_sshsig__verify(signer_out, ts_buf__cstr(&sig), sig.size, TS_SSHSIG_GIT_NAMESPACE,
		ts_buf__cstr(&payload), payload.size);
done:
	ts_buf__dispose(&payload);
	ts_buf__dispose(&sig);
	return error;
}
