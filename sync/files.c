/*
 * Files kept in the history (see files.h): content-addressed blobs under
 * _tiersync/files/, written and read in chunks.
 *
 * Writing. The repository's object database routes every write through
 * the object batch (batch.c), which keeps objects in memory until a
 * commit's pack is written; libgit2 would also turn a write stream into
 * one buffer there. A file therefore goes through an object database of
 * its own holding only libgit2's loose backend, whose write stream
 * deflates chunk by chunk into a temporary file, and libgit2 computes the
 * blob id on the way. The loose object is synced with its directories
 * before put returns.
 *
 * Reading. libgit2 1.5 streams reads only from loose objects, and does so
 * by mapping the whole file (which counts as resident memory); packs have
 * no read stream at all. A file is therefore read here: a loose object is
 * inflated from its file chunk by chunk; a packed one is found through the
 * pack indexes (version 2) and its entry inflated the same way. A packed
 * file stored as a delta (which stock git may make when it repacks) has
 * to be read whole through libgit2.
 */
#include "files.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <openssl/evp.h>

#include "buf.h"
#include "error.h"
#include "meta.h"
#include "pack.h"
#include "statements.h"

#define CHUNK (64 * 1024)

int ts_files__setup(sqlite3 *db)
{
	static const char sql[] =
		"CREATE TABLE IF NOT EXISTS ts_files_staged ("
		"  sha256 TEXT PRIMARY KEY, blob TEXT NOT NULL, size INTEGER NOT NULL) WITHOUT ROWID;"
		"CREATE TABLE IF NOT EXISTS ts_journal_files ("
		"  seq INTEGER NOT NULL, sha256 TEXT NOT NULL, blob TEXT NOT NULL,"
		"  PRIMARY KEY (seq, sha256)) WITHOUT ROWID;";
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return ts_sqlite__error(db, "creating the file tables");
	return 0;
}

void ts_files__path(char out[TS_FILES_PATH_SIZE], const char *sha256)
{
	snprintf(out, TS_FILES_PATH_SIZE, TS_FILES_DIR "/%.2s/%s", sha256, sha256);
}

int ts_files__name_valid(const char *s)
{
	int i;
	if (!s)
		return 0;
	for (i = 0; i < 64; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return s[64] == '\0';
}

/* A new SHA-256 context (libcrypto) in *out; free it with EVP_MD_CTX_free(). */
static int sha256_start(EVP_MD_CTX **out)
{
	if (!(*out = EVP_MD_CTX_new()))
		return ts_error_set(TS_ERROR, "out of memory");
	if (!EVP_DigestInit_ex(*out, EVP_sha256(), NULL)) {
		EVP_MD_CTX_free(*out);
		*out = NULL;
		return ts_error_set(TS_ERROR, "starting a SHA-256");
	}
	return 0;
}

/* Ends the hash in `sha`: its digest as 64 lowercase hex digits + NUL. */
static int sha256_finish_hex(EVP_MD_CTX *sha, char out[65])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char d[32];
	int i;

	out[0] = '\0';
	if (!EVP_DigestFinal_ex(sha, d, NULL))
		return ts_error_set(TS_ERROR, "ending a SHA-256");
	for (i = 0; i < 32; i++) {
		out[2 * i] = hex[d[i] >> 4];
		out[2 * i + 1] = hex[d[i] & 15];
	}
	out[64] = '\0';
	return 0;
}

int ts_files__is_dir(const char *path)
{
	return !strcmp(path, TS_FILES_DIR "/");
}

static int is_hex(const char *s, size_t n)
{
	size_t i;
	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return s[n] == '\0';
}

/*
 * Writing.
 */

static void objects_dir(char *out, size_t size, ts_store *store)
{
	snprintf(out, size, "%sobjects", git_repository_path(ts_store__repo(store)));
}

int ts_files__durable(const char *dir, const char *name)
{
	char path[4300];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	/* the file's bytes, then the name a rename gave them */
	if (ts_pack__fsync(path, 0) < 0 || ts_pack__fsync(dir, 1) < 0)
		return ts_error_set(TS_ERROR, "making %s durable: %s", path, strerror(errno));
	return 0;
}

/* Makes the stored object of `id` durable: its loose file and the
 * directories naming it, or (packed already) everything written. */
static int make_durable(ts_store *store, const git_oid *id)
{
	char objects[4096], dir[4200], file[4300], hex[GIT_OID_HEXSZ + 1];

	objects_dir(objects, sizeof(objects), store);
	git_oid_tostr(hex, sizeof(hex), id);
	snprintf(dir, sizeof(dir), "%s/%.2s", objects, hex);
	snprintf(file, sizeof(file), "%s/%s", dir, hex + 2);
	if (access(file, F_OK) < 0)
		return ts_store__sync(store);
	if (ts_pack__fsync(file, 0) < 0 || ts_pack__fsync(dir, 1) < 0 || ts_pack__fsync(objects, 1) < 0)
		return ts_error_set(TS_ERROR, "syncing %s: %s", file, strerror(errno));
	return 0;
}

int ts_files__put(ts_file *out, ts_store *store, const char *path)
{
	ts_store_blob_writer *w = NULL;
	unsigned char *buf = NULL;
	EVP_MD_CTX *sha = NULL;
	struct stat st;
	uint64_t total = 0;
	ssize_t got;
	int fd = -1, error = 0;

	memset(out, 0, sizeof(*out));
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return ts_error_set(errno == ENOENT ? TS_ENOTFOUND : TS_ERROR, "cannot open %s: %s",
			path, strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		error = ts_error_set(TS_EINVALID, "%s is not a regular file", path);
		goto done;
	}
	if (!(buf = malloc(CHUNK))) {
		error = ts_error_set(TS_ERROR, "out of memory");
		goto done;
	}
	if ((error = ts_store__blob_open(&w, store, (uint64_t)st.st_size)) < 0 ||
	    (error = sha256_start(&sha)) < 0)
		goto done;
	while ((got = read(fd, buf, CHUNK)) > 0) {
		if (total + (uint64_t)got > (uint64_t)st.st_size) {
			error = ts_error_set(TS_ERROR, "%s grew while it was being stored; try again", path);
			goto done;
		}
		if (!EVP_DigestUpdate(sha, buf, (size_t)got)) {
			error = ts_error_set(TS_ERROR, "hashing %s", path);
			goto done;
		}
		if ((error = ts_store__blob_write(w, buf, (size_t)got)) < 0)
			goto done;
		total += (uint64_t)got;
	}
	if (got < 0) {
		error = ts_error_set(TS_ERROR, "reading %s: %s", path, strerror(errno));
		goto done;
	}
	if (total != (uint64_t)st.st_size) {
		error = ts_error_set(TS_ERROR, "%s shrank while it was being stored; try again", path);
		goto done;
	}
	error = ts_store__blob_finish(&out->blob, w);
	w = NULL;
	if (error < 0 || (error = sha256_finish_hex(sha, out->sha256)) < 0)
		goto done;
	out->size = total;
	error = make_durable(store, &out->blob);
done:
	ts_store__blob_free(w);
	EVP_MD_CTX_free(sha);
	free(buf);
	if (fd >= 0)
		close(fd);
	if (error < 0)
		memset(out, 0, sizeof(*out));
	return error;
}

int ts_files__stage(sqlite3 *db, const ts_file *file)
{
	sqlite3_stmt *st = NULL;
	char hex[GIT_OID_HEXSZ + 1];
	int error = 0;

	if (!ts_files__name_valid(file->sha256))
		return ts_error_set(TS_EINVALID, "'%s' is not a SHA-256", file->sha256);
	git_oid_tostr(hex, sizeof(hex), &file->blob);
	if (sqlite3_prepare_v2(db, "INSERT OR IGNORE INTO ts_files_staged (sha256, blob, size) "
			"VALUES (?1, ?2, ?3)", -1, &st, NULL) != SQLITE_OK) {
		error = ts_sqlite__error(db, "staging a file");
		goto done;
	}
	sqlite3_bind_text(st, 1, file->sha256, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, hex, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)file->size);
	if (sqlite3_step(st) != SQLITE_DONE)
		error = ts_sqlite__error(db, "staging a file");
done:
	sqlite3_finalize(st);
	return error;
}

/*
 * Finding.
 */

/* The blob at a file's path in `tree`: 1 found, 0 not there. */
static int tree_file(git_oid *out, git_repository *repo, const git_oid *tree_id, const char *sha256)
{
	char path[TS_FILES_PATH_SIZE];
	git_tree *tree = NULL;
	git_tree_entry *e = NULL;
	int found = 0;

	ts_files__path(path, sha256);
	if (git_tree_lookup(&tree, repo, tree_id) < 0)
		return ts_store__git_error(TS_ECORRUPT, "reading the head tree");
	if (git_tree_entry_bypath(&e, tree, path) == 0 && git_tree_entry_type(e) == GIT_OBJECT_BLOB) {
		git_oid_cpy(out, git_tree_entry_id(e));
		found = 1;
	}
	git_tree_entry_free(e);
	git_tree_free(tree);
	return found;
}

static int staged_file(ts_file *out, sqlite3 *db, const char *sha256)
{
	sqlite3_stmt *st = NULL;
	int found = 0;

	if (sqlite3_prepare_v2(db, "SELECT blob, size FROM ts_files_staged WHERE sha256 = ?1",
			-1, &st, NULL) != SQLITE_OK)
		return ts_sqlite__error(db, "reading the staged files");
	sqlite3_bind_text(st, 1, sha256, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		if (git_oid_fromstr(&out->blob, (const char *)sqlite3_column_text(st, 0)) < 0)
			found = ts_error_set(TS_ECORRUPT, "the staged file %s has a malformed blob id", sha256);
		else {
			out->size = (uint64_t)sqlite3_column_int64(st, 1);
			found = 1;
		}
	}
	sqlite3_finalize(st);
	return found;
}

int ts_files__find(ts_file *out, sqlite3 *db, ts_store *store, const char *sha256)
{
	git_oid head, tree;
	git_odb *odb = NULL;
	git_object_t type;
	size_t size;
	int found;

	memset(out, 0, sizeof(*out));
	if (!ts_files__name_valid(sha256))
		return ts_error_set(TS_EINVALID, "'%s' is not a SHA-256 (64 lowercase hex digits)", sha256);
	memcpy(out->sha256, sha256, 65);
	if ((found = staged_file(out, db, sha256)) != 0)
		return found < 0 ? found : 0;
	if (ts_history__head(&head, db) < 0 || ts_store__commit_tree(&tree, store, &head) < 0)
		return ts_error_set(TS_ECORRUPT, "the head commit cannot be read");
	if ((found = tree_file(&out->blob, ts_store__repo(store), &tree, sha256)) < 0)
		return found;
	if (!found)
		return ts_error_set(TS_ENOTFOUND, "history holds no file %s", sha256);
	if (git_repository_odb(&odb, ts_store__repo(store)) < 0 ||
	    git_odb_read_header(&size, &type, odb, &out->blob) < 0 || type != GIT_OBJECT_BLOB) {
		git_odb_free(odb);
		return ts_error_set(TS_ECORRUPT, "the stored file %s (blob %s) is missing or damaged",
			sha256, git_oid_tostr_s(&out->blob));
	}
	git_odb_free(odb);
	out->size = size;
	return 0;
}

/*
 * Reading.
 */

typedef struct {
	const ts_file *file;
	EVP_MD_CTX *sha;         /* SHA-256 of the bytes delivered */
	uint64_t seen;
	int (*sink)(const void *data, size_t len, void *payload);
	void *payload;
} reader;

static int damaged(const reader *r, const char *why)
{
	return ts_error_set(TS_ECORRUPT, "the stored file %s (blob %s) is damaged: %s",
		r->file->sha256, git_oid_tostr_s(&r->file->blob), why);
}

static int deliver(reader *r, const void *data, size_t len)
{
	int error;
	if (!len)
		return 0;
	r->seen += len;
	if (!EVP_DigestUpdate(r->sha, data, len))
		return ts_error_set(TS_ERROR, "hashing the stored file %s", r->file->sha256);
	if (r->sink && (error = r->sink(data, len, r->payload)) != 0)
		return error > 0 ? ts_error_set(TS_ERROR, "stopped while reading %s", r->file->sha256) : error;
	return 0;
}

/*
 * Inflates the zlib stream starting at `at` in `fd` and delivers it. A
 * loose object's stream starts with "blob <size>\0", which is parsed into
 * *size; a pack entry's size is given in *size.
 */
static int inflate_from(reader *r, int fd, off_t at, int loose, uint64_t *size)
{
	unsigned char *in = malloc(CHUNK), *out = malloc(CHUNK);
	char header[40];
	size_t hlen = 0;
	int header_done = !loose, rc = Z_OK, error = 0;
	z_stream z;

	memset(&z, 0, sizeof(z));
	if (!in || !out || inflateInit(&z) != Z_OK) {
		free(in);
		free(out);
		return ts_error_set(TS_ERROR, "out of memory");
	}
	while (rc != Z_STREAM_END) {
		unsigned char *p = out;
		size_t n;

		if (z.avail_in == 0) {
			ssize_t got = pread(fd, in, CHUNK, at);
			if (got < 0) {
				error = ts_error_set(TS_ERROR, "reading the stored file %s: %s", r->file->sha256,
					strerror(errno));
				goto done;
			}
			if (got == 0) {
				error = damaged(r, "it ends early");
				goto done;
			}
			at += got;
			z.next_in = in;
			z.avail_in = (uInt)got;
		}
		z.next_out = out;
		z.avail_out = CHUNK;
		rc = inflate(&z, Z_NO_FLUSH);
		if (rc != Z_OK && rc != Z_STREAM_END && !(rc == Z_BUF_ERROR && z.avail_in == 0)) {
			error = damaged(r, z.msg ? z.msg : "its compressed data does not inflate");
			goto done;
		}
		n = CHUNK - z.avail_out;
		while (!header_done && n > 0) {
			char c = (char)*p++;
			n--;
			if (hlen == sizeof(header) - 1) {
				error = damaged(r, "its object header is malformed");
				goto done;
			}
			header[hlen++] = c;
			if (c == '\0') {
				char *end;
				unsigned long long v;
				if (strncmp(header, "blob ", 5)) {
					error = damaged(r, "it is not a blob");
					goto done;
				}
				v = strtoull(header + 5, &end, 10);
				if (end == header + 5 || *end) {
					error = damaged(r, "its object header is malformed");
					goto done;
				}
				*size = v;
				header_done = 1;
			}
		}
		if (r->seen + n > *size) {
			error = damaged(r, "it holds more bytes than its header says");
			goto done;
		}
		if ((error = deliver(r, p, n)) < 0)
			goto done;
	}
	if (!header_done || r->seen != *size)
		error = damaged(r, "it holds fewer bytes than its header says");
done:
	inflateEnd(&z);
	free(in);
	free(out);
	return error;
}

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/*
 * Looks `id` up in one version 2 pack index: 1 and its offset in the pack
 * when listed, 0 when not, < 0 when the index cannot be read.
 */
static int idx_find(uint64_t *offset, const char *idx_path, const git_oid *id)
{
	unsigned char head[8 + 256 * 4], oid[GIT_OID_RAWSZ], word[8];
	uint32_t lo, hi, count, first = id->id[0];
	int fd, found = 0;

	if ((fd = open(idx_path, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	if (pread(fd, head, sizeof(head), 0) != (ssize_t)sizeof(head) || memcmp(head, "\377tOc\0\0\0\2", 8)) {
		found = -1;
		goto done;
	}
	count = be32(head + 8 + 255 * 4);
	lo = first ? be32(head + 8 + (first - 1) * 4) : 0;
	hi = be32(head + 8 + first * 4);
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		int cmp;
		if (pread(fd, oid, sizeof(oid), (off_t)sizeof(head) + (off_t)mid * GIT_OID_RAWSZ) != (ssize_t)sizeof(oid)) {
			found = -1;
			goto done;
		}
		cmp = memcmp(oid, id->id, GIT_OID_RAWSZ);
		if (cmp == 0) {
			off_t at = (off_t)sizeof(head) + (off_t)count * (GIT_OID_RAWSZ + 4) + (off_t)mid * 4;
			uint32_t small;
			if (pread(fd, word, 4, at) != 4) {
				found = -1;
				goto done;
			}
			small = be32(word);
			if (small & 0x80000000u) {
				at = (off_t)sizeof(head) + (off_t)count * (GIT_OID_RAWSZ + 8) +
					(off_t)(small & 0x7fffffffu) * 8;
				if (pread(fd, word, 8, at) != 8) {
					found = -1;
					goto done;
				}
				*offset = (uint64_t)be32(word) << 32 | be32(word + 4);
			} else
				*offset = small;
			found = 1;
			break;
		}
		if (cmp < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
done:
	close(fd);
	return found;
}

/* A blob read whole through libgit2: what a delta in a pack needs. */
static int read_whole(reader *r, ts_store *store)
{
	git_odb_object *obj = NULL;
	git_odb *odb = NULL;
	int error;

	if (git_repository_odb(&odb, ts_store__repo(store)) < 0 || git_odb_read(&obj, odb, &r->file->blob) < 0) {
		git_odb_free(odb);
		return damaged(r, "it cannot be read back");
	}
	error = deliver(r, git_odb_object_data(obj), git_odb_object_size(obj));
	git_odb_object_free(obj);
	git_odb_free(odb);
	return error;
}

/* Reads a file from the pack that holds it. 0 done, 1 in no pack. */
static int read_packed(reader *r, ts_store *store)
{
	char dir[4096], path[4400];
	struct dirent *de;
	uint64_t offset = 0, size = 0;
	DIR *d;
	int found = 0, fd, error = 0;

	snprintf(dir, sizeof(dir), "%sobjects/pack", git_repository_path(ts_store__repo(store)));
	if (!(d = opendir(dir)))
		return 1;
	while (!found && (de = readdir(d))) {
		size_t len = strlen(de->d_name);
		if (strncmp(de->d_name, "pack-", 5) || len < 9 || strcmp(de->d_name + len - 4, ".idx"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (idx_find(&offset, path, &r->file->blob) == 1) {
			snprintf(path, sizeof(path), "%s/%.*s.pack", dir, (int)len - 4, de->d_name);
			found = 1;
		}
	}
	closedir(d);
	if (!found)
		return 1;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return damaged(r, "its pack cannot be opened");
	{
		unsigned char h[16];
		ssize_t got = pread(fd, h, sizeof(h), (off_t)offset);
		int i = 0, shift = 4, type;
		if (got < 1) {
			error = damaged(r, "its pack entry cannot be read");
			goto done;
		}
		type = (h[0] >> 4) & 7;
		size = h[0] & 15;
		while (h[i] & 0x80) {
			if (++i >= got || shift > 57) {
				error = damaged(r, "its pack entry header is malformed");
				goto done;
			}
			size |= (uint64_t)(h[i] & 0x7f) << shift;
			shift += 7;
		}
		if (type == GIT_OBJECT_OFS_DELTA || type == GIT_OBJECT_REF_DELTA) {
			error = read_whole(r, store);
			goto done;
		}
		if (type != GIT_OBJECT_BLOB) {
			error = damaged(r, "its pack entry is not a blob");
			goto done;
		}
		error = inflate_from(r, fd, (off_t)offset + i + 1, 0, &size);
	}
done:
	close(fd);
	return error;
}

/* Reads a file, leaving its computed SHA-256 in `actual` (when whole). */
static int read_file(ts_store *store, const ts_file *file, char actual[65],
	int (*sink)(const void *data, size_t len, void *payload), void *payload)
{
	char path[4400], hex[GIT_OID_HEXSZ + 1];
	reader r;
	uint64_t size = 0;
	int fd, error;

	actual[0] = '\0';
	memset(&r, 0, sizeof(r));
	r.file = file;
	r.sink = sink;
	r.payload = payload;
	if ((error = sha256_start(&r.sha)) < 0)
		return error;
	git_oid_tostr(hex, sizeof(hex), &file->blob);
	snprintf(path, sizeof(path), "%sobjects/%.2s/%s", git_repository_path(ts_store__repo(store)), hex, hex + 2);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) >= 0) {
		error = inflate_from(&r, fd, 0, 1, &size);
		close(fd);
	} else if ((error = read_packed(&r, store)) == 1)
		error = ts_error_set(TS_ECORRUPT, "the stored file %s (blob %s) is missing",
			file->sha256, hex);
	if (error < 0 || (error = sha256_finish_hex(r.sha, actual)) < 0)
		goto done;
	if (strcmp(actual, file->sha256))
		error = ts_error_set(TS_ECORRUPT, "the stored file %s is damaged: its content has "
			"SHA-256 %s", file->sha256, actual);
done:
	EVP_MD_CTX_free(r.sha);
	return error;
}

int ts_files__read(ts_store *store, const ts_file *file,
	int (*sink)(const void *data, size_t len, void *payload), void *payload)
{
	char actual[65];
	return read_file(store, file, actual, sink, payload);
}

/*
 * Commits.
 */

static int load_files(ts_file **out, size_t *n, sqlite3_stmt *st, const char *what)
{
	ts_file *v = NULL, *grown;
	size_t alloc = 0;
	int rc, error = 0;

	*out = NULL;
	*n = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *sha = (const char *)sqlite3_column_text(st, 0);
		if (*n == alloc) {
			alloc = alloc ? alloc * 2 : 8;
			if (!(grown = realloc(v, alloc * sizeof(*v)))) {
				error = ts_error_set(TS_ERROR, "out of memory");
				goto done;
			}
			v = grown;
		}
		memset(&v[*n], 0, sizeof(*v));
		if (!sha || !ts_files__name_valid(sha) ||
		    git_oid_fromstr(&v[*n].blob, (const char *)sqlite3_column_text(st, 1)) < 0) {
			error = ts_error_set(TS_ECORRUPT, "%s hold a malformed entry", what);
			goto done;
		}
		memcpy(v[*n].sha256, sha, 65);
		v[*n].size = (uint64_t)sqlite3_column_int64(st, 2);
		(*n)++;
	}
	if (rc != SQLITE_DONE)
		error = ts_sqlite__error(sqlite3_db_handle(st), "reading %s", what);
done:
	if (error < 0) {
		free(v);
		v = NULL;
		*n = 0;
	}
	*out = v;
	return error;
}

int ts_files__staged_list(ts_file **out, size_t *n, sqlite3 *db)
{
	sqlite3_stmt *st = NULL;
	int error;

	*out = NULL;
	*n = 0;
	if (ts_statements__prepare(db, "SELECT sha256, blob, size FROM ts_files_staged ORDER BY sha256",
			&st) != SQLITE_OK)
		return ts_sqlite__error(db, "reading the staged files");
	error = load_files(out, n, st, "the staged files");
	ts_statements__done(st);
	return error;
}

int ts_files__unstage(sqlite3 *db)
{
	if (ts_statements__exec(db, "DELETE FROM ts_files_staged") != SQLITE_OK)
		return ts_sqlite__error(db, "clearing the staged files");
	return 0;
}

void ts_files__link(ts_store_update *u, char path[TS_FILES_PATH_SIZE], const ts_file *file)
{
	ts_files__path(path, file->sha256);
	u->path = path;
	u->data = (const char *)&file->blob;
	u->len = TS_STORE_LINK;
}

int ts_files__journal_add(sqlite3 *db, sqlite3_int64 seq, const ts_file *files, size_t n)
{
	sqlite3_stmt *st = NULL;
	char hex[GIT_OID_HEXSZ + 1];
	size_t i;
	int error = 0;

	if (n == 0)
		return 0;
	if (ts_statements__prepare(db, "INSERT OR REPLACE INTO ts_journal_files (seq, sha256, blob) VALUES (?1, ?2, ?3)",
			&st) != SQLITE_OK) {
		error = ts_sqlite__error(db, "writing the journal");
		goto done;
	}
	for (i = 0; i < n; i++) {
		git_oid_tostr(hex, sizeof(hex), &files[i].blob);
		sqlite3_bind_int64(st, 1, seq);
		sqlite3_bind_text(st, 2, files[i].sha256, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, hex, -1, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE) {
			error = ts_sqlite__error(db, "writing the journal");
			goto done;
		}
		sqlite3_reset(st);
	}
done:
	ts_statements__done(st);
	return error;
}

int ts_files__journal_load(ts_file **out, size_t *n, sqlite3 *db, sqlite3_int64 seq)
{
	sqlite3_stmt *st = NULL;
	int error;

	*out = NULL;
	*n = 0;
	if (sqlite3_prepare_v2(db, "SELECT sha256, blob, 0 FROM ts_journal_files WHERE seq = ?1 ORDER BY sha256",
			-1, &st, NULL) != SQLITE_OK)
		return ts_sqlite__error(db, "reading the journal");
	sqlite3_bind_int64(st, 1, seq);
	error = load_files(out, n, st, "the journal's files");
	sqlite3_finalize(st);
	return error;
}

int ts_files__journal_clear(sqlite3 *db)
{
	if (ts_statements__exec(db, "DELETE FROM ts_journal_files") != SQLITE_OK)
		return ts_sqlite__error(db, "clearing the journal");
	return 0;
}

/*
 * Merges.
 */

/* The files directory of a tree, or NULL (none). */
static int files_tree(git_tree **out, git_repository *repo, const git_oid *root_id)
{
	git_tree *root = NULL;
	git_tree_entry *e = NULL;
	int error = 0;

	*out = NULL;
	if (git_tree_lookup(&root, repo, root_id) < 0) {
		git_oid empty;
		if (git_odb_hash(&empty, "", 0, GIT_OBJECT_TREE) == 0 && git_oid_equal(&empty, root_id))
			return 0;   /* the empty tree, which no store need hold */
		return ts_store__git_error(TS_ECORRUPT, "reading a tree");
	}
	if (git_tree_entry_bypath(&e, root, TS_FILES_DIR) == 0) {
		if (git_tree_entry_type(e) != GIT_OBJECT_TREE)
			error = ts_error_set(TS_ECORRUPT, "%s is not a directory", TS_FILES_DIR);
		else if (git_tree_lookup(out, repo, git_tree_entry_id(e)) < 0)
			error = ts_store__git_error(TS_ECORRUPT, TS_FILES_DIR);
	}
	git_tree_entry_free(e);
	git_tree_free(root);
	return error;
}

/* 1 when `dir` and `name` (an entry of the fan-out directory `dir`) are
 * a well-formed file entry. */
static int well_formed(const char *dir, const git_tree_entry *e)
{
	const char *name = git_tree_entry_name(e);
	return git_tree_entry_filemode(e) == GIT_FILEMODE_BLOB && ts_files__name_valid(name) &&
		!strncmp(dir, name, 2);
}

static int well_formed_dir(const git_tree_entry *e)
{
	return git_tree_entry_type(e) == GIT_OBJECT_TREE && is_hex(git_tree_entry_name(e), 2);
}

/* Adds to `add` every file of `side` that `have` lacks. */
static int collect_missing(ts_file **add, size_t *n, size_t *alloc, git_repository *repo,
	git_tree *have, git_tree *side)
{
	size_t i, j;
	int error = 0;

	for (i = 0; i < git_tree_entrycount(side); i++) {
		const git_tree_entry *d = git_tree_entry_byindex(side, i);
		const git_tree_entry *hd = have ? git_tree_entry_byname(have, git_tree_entry_name(d)) : NULL;
		git_tree *sd = NULL, *hdt = NULL;

		if (!well_formed_dir(d))
			return ts_error_set(TS_ECORRUPT, "%s/%s is no fan-out directory of files",
				TS_FILES_DIR, git_tree_entry_name(d));
		if (hd && git_oid_equal(git_tree_entry_id(d), git_tree_entry_id(hd)))
			continue;
		if (git_tree_lookup(&sd, repo, git_tree_entry_id(d)) < 0 ||
		    (hd && git_tree_entry_type(hd) == GIT_OBJECT_TREE &&
		     git_tree_lookup(&hdt, repo, git_tree_entry_id(hd)) < 0)) {
			git_tree_free(sd);
			return ts_store__git_error(TS_ECORRUPT, TS_FILES_DIR);
		}
		for (j = 0; j < git_tree_entrycount(sd) && !error; j++) {
			const git_tree_entry *f = git_tree_entry_byindex(sd, j);
			const git_tree_entry *hf = hdt ? git_tree_entry_byname(hdt, git_tree_entry_name(f)) : NULL;
			if (!well_formed(git_tree_entry_name(d), f)) {
				error = ts_error_set(TS_ECORRUPT, "%s/%s/%s is no well-formed file entry",
					TS_FILES_DIR, git_tree_entry_name(d), git_tree_entry_name(f));
				break;
			}
			if (hf) {
				if (!git_oid_equal(git_tree_entry_id(f), git_tree_entry_id(hf)))
					error = ts_error_set(TS_ECORRUPT, "file %s has different content on the two sides",
						git_tree_entry_name(f));
				continue;
			}
			if (*n == *alloc) {
				size_t na = *alloc ? *alloc * 2 : 16;
				ts_file *grown = realloc(*add, na * sizeof(*grown));
				if (!grown) {
					error = ts_error_set(TS_ERROR, "out of memory");
					break;
				}
				*add = grown;
				*alloc = na;
			}
			memset(&(*add)[*n], 0, sizeof(ts_file));
			memcpy((*add)[*n].sha256, git_tree_entry_name(f), 65);
			git_oid_cpy(&(*add)[*n].blob, git_tree_entry_id(f));
			(*n)++;
		}
		git_tree_free(sd);
		git_tree_free(hdt);
		if (error < 0)
			return error;
	}
	return 0;
}

int ts_files__missing(ts_file **out, size_t *n, ts_store *store, const git_oid *have_tree,
	const git_oid *side_tree)
{
	git_repository *repo = ts_store__repo(store);
	git_tree *have = NULL, *side = NULL;
	size_t alloc = 0;
	int error;

	*out = NULL;
	*n = 0;
	if ((error = files_tree(&side, repo, side_tree)) < 0 || !side ||
	    (error = files_tree(&have, repo, have_tree)) < 0)
		goto done;
	if (!have || !git_oid_equal(git_tree_id(have), git_tree_id(side)))
		error = collect_missing(out, n, &alloc, repo, have, side);
done:
	if (error < 0) {
		free(*out);
		*out = NULL;
		*n = 0;
	}
	git_tree_free(have);
	git_tree_free(side);
	return error;
}

/*
 * Verify.
 */

typedef struct {
	int (*cb)(const ts_verify_problem *p, void *payload);
	void *payload;
	int problems;
	int stop;
} checker;

static void problem(checker *c, const char *table, const char *key, const char *column,
	const char *what, const char *expected, const char *actual)
{
	ts_verify_problem p = { table, key, column, what, expected, actual };
	c->problems++;
	if (c->cb && c->cb(&p, c->payload))
		c->stop = 1;
}

/* Reads one file back and reports what is wrong with it. */
static void check_file(checker *c, ts_store *store, const ts_file *f)
{
	char path[TS_FILES_PATH_SIZE], actual[65];
	int error = read_file(store, f, actual, NULL, NULL);

	if (error >= 0)
		return;
	ts_files__path(path, f->sha256);
	if (actual[0])
		problem(c, NULL, path, NULL, "file content does not match its name (SHA-256)",
			f->sha256, actual);
	else
		problem(c, NULL, path, NULL, "file missing or damaged", git_oid_tostr_s(&f->blob),
			ts_error_last());
}

static void check_tree_files(checker *c, ts_store *store, git_tree *files)
{
	git_repository *repo = ts_store__repo(store);
	ts_buf path = TS_BUF_INIT;
	size_t i, j;

	for (i = 0; files && i < git_tree_entrycount(files) && !c->stop; i++) {
		const git_tree_entry *d = git_tree_entry_byindex(files, i);
		git_tree *sub = NULL;

		ts_buf__clear(&path);
		ts_buf__printf(&path, "%s/%s", TS_FILES_DIR, git_tree_entry_name(d));
		if (!well_formed_dir(d)) {
			problem(c, NULL, ts_buf__cstr(&path), NULL, "history holds a path that is no file", NULL, NULL);
			continue;
		}
		if (git_tree_lookup(&sub, repo, git_tree_entry_id(d)) < 0) {
			problem(c, NULL, ts_buf__cstr(&path), NULL, "history object missing or damaged",
				git_oid_tostr_s(git_tree_entry_id(d)), NULL);
			continue;
		}
		for (j = 0; j < git_tree_entrycount(sub) && !c->stop; j++) {
			const git_tree_entry *e = git_tree_entry_byindex(sub, j);
			ts_file f;
			if (!well_formed(git_tree_entry_name(d), e)) {
				ts_buf__clear(&path);
				ts_buf__printf(&path, "%s/%s/%s", TS_FILES_DIR, git_tree_entry_name(d), git_tree_entry_name(e));
				problem(c, NULL, ts_buf__cstr(&path), NULL, "history holds a path that is no file",
					NULL, NULL);
				continue;
			}
			memset(&f, 0, sizeof(f));
			memcpy(f.sha256, git_tree_entry_name(e), 65);
			git_oid_cpy(&f.blob, git_tree_entry_id(e));
			check_file(c, store, &f);
		}
		git_tree_free(sub);
	}
	ts_buf__dispose(&path);
}

static void append_ident(ts_buf *sql, const char *name)
{
	const char *p;
	ts_buf__putc(sql, '"');
	for (p = name; *p; p++) {
		if (*p == '"')
			ts_buf__putc(sql, '"');
		ts_buf__putc(sql, *p);
	}
	ts_buf__putc(sql, '"');
}

/* Every value of one declared file column must name a file there is. */
static int check_column(checker *c, sqlite3 *db, git_repository *repo, const git_oid *tree,
	const char *table, const char *column)
{
	sqlite3_stmt *pk = NULL, *st = NULL;
	ts_buf sql = TS_BUF_INIT, key = TS_BUF_INIT;
	int npk = 0, error = 0;

	if (sqlite3_prepare_v2(db, "SELECT name FROM pragma_table_info(?1) WHERE pk > 0 ORDER BY pk",
			-1, &pk, NULL) != SQLITE_OK) {
		error = ts_sqlite__error(db, "reading %s", table);
		goto done;
	}
	sqlite3_bind_text(pk, 1, table, -1, SQLITE_STATIC);
	while (sqlite3_step(pk) == SQLITE_ROW)
		npk++;
	sqlite3_reset(pk);
	/* the key as people read it: the value of a one-column key, else "a=1, b='x'" */
	ts_buf__puts(&sql, "SELECT ");
	while (sqlite3_step(pk) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(pk, 0);
		if (npk == 1) {
			ts_buf__puts(&sql, "CAST(");
			append_ident(&sql, name);
			ts_buf__puts(&sql, " AS TEXT)");
			break;
		}
		if (sql.size > 7)
			ts_buf__puts(&sql, " || ', ' || ");
		ts_buf__puts(&sql, "'");
		for (; *name; name++) {
			if (*name == '\'')
				ts_buf__putc(&sql, '\'');
			ts_buf__putc(&sql, *name);
		}
		ts_buf__puts(&sql, "=' || quote(");
		append_ident(&sql, (const char *)sqlite3_column_text(pk, 0));
		ts_buf__puts(&sql, ")");
	}
	if (npk == 0)
		ts_buf__puts(&sql, "'rowid=' || rowid");
	ts_buf__puts(&sql, ", ");
	append_ident(&sql, column);
	ts_buf__puts(&sql, " FROM ");
	append_ident(&sql, table);
	ts_buf__puts(&sql, " WHERE ");
	append_ident(&sql, column);
	ts_buf__puts(&sql, " IS NOT NULL");
	if (ts_buf__oom(&sql)) {
		error = TS_ERROR;
		goto done;
	}
	if (sqlite3_prepare_v2(db, sql.ptr, -1, &st, NULL) != SQLITE_OK) {
		/* a declaration naming what the database lacks */
		problem(c, TS_FILES_COLUMNS_TABLE, table, column, "declares a file column the database lacks",
			NULL, NULL);
		goto done;
	}
	while (!c->stop && sqlite3_step(st) == SQLITE_ROW) {
		const char *sha = (const char *)sqlite3_column_text(st, 1);
		const char *k = (const char *)sqlite3_column_text(st, 0);
		ts_file f;
		git_oid id;
		int found = 0;

		ts_buf__clear(&key);
		ts_buf__puts(&key, k ? k : "");
		if (sha && ts_files__name_valid(sha)) {
			found = staged_file(&f, db, sha);
			if (found == 0)
				found = tree_file(&id, repo, tree, sha);
		}
		if (found < 0) {
			error = found;
			goto done;
		}
		if (!found)
			problem(c, table, ts_buf__cstr(&key), column, "refers to a file history does not hold",
				sha, NULL);
	}
done:
	sqlite3_finalize(pk);
	sqlite3_finalize(st);
	ts_buf__dispose(&sql);
	ts_buf__dispose(&key);
	return error;
}

static int check_references(checker *c, sqlite3 *db, git_repository *repo, const git_oid *tree)
{
	sqlite3_stmt *st = NULL;
	int error = 0;

	if (sqlite3_prepare_v2(db, "SELECT table_name, column_name FROM " TS_FILES_COLUMNS_TABLE
			" ORDER BY table_name, column_name", -1, &st, NULL) != SQLITE_OK)
		return 0;   /* nothing declared: no column holds files */
	while (!c->stop && sqlite3_step(st) == SQLITE_ROW)
		if ((error = check_column(c, db, repo, tree, (const char *)sqlite3_column_text(st, 0),
				(const char *)sqlite3_column_text(st, 1))) < 0)
			break;
	sqlite3_finalize(st);
	return error;
}

int ts_files__verify(int *problems, sqlite3 *db, ts_store *store, const git_oid *tree,
	int (*cb)(const ts_verify_problem *p, void *payload), void *payload)
{
	checker c = { cb, payload, 0, 0 };
	git_tree *files = NULL;
	ts_file *staged = NULL;
	size_t n = 0, i;
	int error;

	*problems = 0;
	if ((error = files_tree(&files, ts_store__repo(store), tree)) < 0) {
		problem(&c, NULL, TS_FILES_DIR, NULL, "history object missing or damaged", NULL, ts_error_last());
		error = 0;
	}
	check_tree_files(&c, store, files);
	if ((error = ts_files__staged_list(&staged, &n, db)) < 0)
		goto done;
	for (i = 0; i < n && !c.stop; i++)
		check_file(&c, store, &staged[i]);
	if (!c.stop)
		error = check_references(&c, db, ts_store__repo(store), tree);
done:
	*problems = c.problems;
	git_tree_free(files);
	free(staged);
	return error;
}
