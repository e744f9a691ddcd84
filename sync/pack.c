/*
 * Pack files: the index of a pack, a new file put in place, and packs
 * combined by copying their entries.
 *
 * A pack (git's pack format v2) is "PACK", a version, an object count,
 * then one entry per object: a header of type and size, for a delta the
 * base (OFS_DELTA: a distance back in the same pack; REF_DELTA: the base's
 * id), then the zlib stream; the SHA-1 of all that ends the file. Its
 * index (version 2) lists the ids sorted, with each entry's CRC-32 and
 * offset. Combining packs needs no more than that: an entry's bytes stay
 * valid wherever they land, except the distance of an OFS_DELTA, which is
 * written anew. So the checkpoint (ts_store__maintain) costs a copy of the
 * small packs, not a delta search and compression of every object in them.
 */
#include "pack.h"
#include "fd.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <openssl/evp.h>

#include "tiersync.h"

#define OBJ_OFS_DELTA 6
#define OBJ_REF_DELTA 7
#define LEFT_OUT UINT64_MAX     /* an object another part holds too */
#define COPY_CHUNK (64 * 1024)
#define HEAD_MAX 64             /* an entry's header, a REF_DELTA's base included */

static int entry_cmp(const void *a, const void *b)
{
	return git_oid_cmp(&((const ts_pack__entry *)a)->id, &((const ts_pack__entry *)b)->id);
}

static int offset_cmp(const void *a, const void *b)
{
	uint64_t x = ((const ts_pack__entry *)a)->offset, y = ((const ts_pack__entry *)b)->offset;
	return x < y ? -1 : x > y;
}

static void put_be32(ts_buf *buf, uint32_t v)
{
	uint32_t be = htonl(v);
	ts_buf__put(buf, &be, 4);
}

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

int ts_pack__index(ts_buf *idx, ts_pack__entry *e, size_t n, const unsigned char pack_sum[20])
{
	uint32_t fan[256] = { 0 }, nlarge = 0;
	unsigned char sum[20];
	size_t i, start = idx->size;

	qsort(e, n, sizeof(*e), entry_cmp);
	for (i = 0; i < n; i++)
		fan[e[i].id.id[0]]++;
	for (i = 1; i < 256; i++)
		fan[i] += fan[i - 1];
	ts_buf__put(idx, "\377tOc", 4);
	put_be32(idx, 2);
	for (i = 0; i < 256; i++)
		put_be32(idx, fan[i]);
	for (i = 0; i < n; i++)
		ts_buf__put(idx, e[i].id.id, GIT_OID_RAWSZ);
	for (i = 0; i < n; i++)
		put_be32(idx, e[i].crc);
	for (i = 0; i < n; i++)
		put_be32(idx, e[i].offset < 0x80000000u ? (uint32_t)e[i].offset : 0x80000000u | nlarge++);
	for (i = 0; i < n; i++)
		if (e[i].offset >= 0x80000000u) {
			put_be32(idx, (uint32_t)(e[i].offset >> 32));
			put_be32(idx, (uint32_t)e[i].offset);
		}
	ts_buf__put(idx, pack_sum, 20);
	if (ts_buf__oom(idx))
		return TS_ERROR;
	if (!EVP_Digest(idx->ptr + start, idx->size - start, sum, NULL, EVP_sha1(), NULL))
		return ts_error_set(TS_ERROR, "computing a pack index checksum");
	ts_buf__put(idx, sum, sizeof(sum));
	return ts_buf__oom(idx) ? TS_ERROR : 0;
}

int ts_pack__fsync(const char *path, int dir)
{
	int fd = open(path, (dir ? O_RDONLY | O_DIRECTORY : O_RDONLY) | O_CLOEXEC), rc;

	if (fd < 0)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

static int sync_dir(const char *dir)
{
	return ts_pack__fsync(dir, 1) < 0 ? ts_error_set(TS_ERROR, "syncing %s: %s", dir, strerror(errno)) : 0;
}

int ts_pack__write_file(const char *dir, const char *name, const ts_buf *data, int durable)
{
	char tmp[4200], path[4200];
	int fd;

	snprintf(tmp, sizeof(tmp), "%s/tmp_%s", dir, name);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0444)) < 0)
		return ts_error_set(TS_ERROR, "creating %s: %s", tmp, strerror(errno));
	if (ts_fd__write_all(fd, data->ptr, data->size) < 0 || (durable && fsync(fd) < 0)) {
		ts_error_set(TS_ERROR, "writing %s: %s", tmp, strerror(errno));
		close(fd);
		unlink(tmp);
		return TS_ERROR;
	}
	close(fd);
	if (rename(tmp, path) < 0) {
		ts_error_set(TS_ERROR, "renaming %s: %s", tmp, strerror(errno));
		unlink(tmp);
		return TS_ERROR;
	}
	return durable ? sync_dir(dir) : 0;
}

/* ---- writing a pack ---- */

struct ts_pack__writer {
	char *dir;
	char tmp[4200];       /* the file until it gets its name; "" after */
	FILE *f;
	EVP_MD_CTX *sha;      /* of every byte so far */
	uint64_t size;
};

int ts_pack__writer_open(ts_pack__writer **out, const char *dir, size_t count)
{
	ts_pack__writer *w;
	unsigned char head[12];
	int fd;

	*out = NULL;
	if (count > UINT32_MAX)
		return ts_error_set(TS_EINVALID, "a pack holds at most %u objects", UINT32_MAX);
	if (!(w = calloc(1, sizeof(*w))) || !(w->dir = strdup(dir)) || !(w->sha = EVP_MD_CTX_new()) ||
	    !EVP_DigestInit_ex(w->sha, EVP_sha1(), NULL)) {
		ts_pack__writer_free(w);
		return ts_error_set(TS_ERROR, "out of memory");
	}
	snprintf(w->tmp, sizeof(w->tmp), "%s/tmp_pack_XXXXXX", dir);
	if ((fd = mkstemp(w->tmp)) < 0 || !(w->f = fdopen(fd, "wb"))) {
		ts_error_set(TS_ERROR, "creating %s: %s", w->tmp, strerror(errno));
		if (fd >= 0) {
			close(fd);
			unlink(w->tmp);
		}
		w->tmp[0] = '\0';
		ts_pack__writer_free(w);
		return TS_ERROR;
	}
	memcpy(head, "PACK\0\0\0\2", 8);
	head[8] = (unsigned char)(count >> 24);
	head[9] = (unsigned char)(count >> 16);
	head[10] = (unsigned char)(count >> 8);
	head[11] = (unsigned char)count;
	*out = w;
	return ts_pack__writer_put(w, head, sizeof(head), NULL);
}

uint64_t ts_pack__writer_size(const ts_pack__writer *w)
{
	return w->size;
}

int ts_pack__writer_put(ts_pack__writer *w, const void *data, size_t len, uint32_t *crc)
{
	if (crc)
		*crc = (uint32_t)crc32(*crc, data, (uInt)len);
	if (fwrite(data, 1, len, w->f) != len || !EVP_DigestUpdate(w->sha, data, len))
		return ts_error_set(TS_ERROR, "writing %s: %s", w->tmp, strerror(errno));
	w->size += len;
	return 0;
}

int ts_pack__writer_finish(ts_pack__writer *w, char name[64], ts_pack__entry *entries, size_t n, int durable)
{
	unsigned char sum[EVP_MAX_MD_SIZE];
	char path[4200], hex[GIT_OID_HEXSZ + 1];
	ts_buf idx = TS_BUF_INIT;
	FILE *f = w->f;
	size_t i;
	int error;

	name[0] = '\0';
	w->f = NULL;
	if (!EVP_DigestFinal_ex(w->sha, sum, NULL) || fwrite(sum, 1, 20, f) != 20 || fflush(f) != 0 ||
	    (durable && fsync(fileno(f)) < 0)) {
		fclose(f);
		return ts_error_set(TS_ERROR, "writing %s: %s", w->tmp, strerror(errno));
	}
	if (fclose(f) != 0)
		return ts_error_set(TS_ERROR, "writing %s: %s", w->tmp, strerror(errno));
	for (i = 0; i < 20; i++)
		snprintf(hex + 2 * i, 3, "%02x", sum[i]);
	snprintf(path, sizeof(path), "%s/pack-%s.pack", w->dir, hex);
	if (chmod(w->tmp, 0444) < 0 || rename(w->tmp, path) < 0)
		return ts_error_set(TS_ERROR, "renaming %s: %s", w->tmp, strerror(errno));
	/* the pack has its name; a failure from here takes it away again */
	memcpy(w->tmp, path, sizeof(w->tmp));
	snprintf(path, sizeof(path), "pack-%s.idx", hex);
	if ((error = ts_pack__index(&idx, entries, n, sum)) < 0 ||
	    (error = ts_pack__write_file(w->dir, path, &idx, durable)) < 0) {
		ts_buf__dispose(&idx);
		return error;
	}
	ts_buf__dispose(&idx);
	w->tmp[0] = '\0';
	snprintf(name, 64, "pack-%s", hex);
	return 0;
}

void ts_pack__writer_free(ts_pack__writer *w)
{
	if (!w)
		return;
	if (w->f)
		fclose(w->f);
	if (w->tmp[0])
		unlink(w->tmp);
	EVP_MD_CTX_free(w->sha);
	free(w->dir);
	free(w);
}

/* ---- combining packs ---- */

/* One of the packs combined, its objects in the order of the file. */
typedef struct {
	const char *name;
	int fd;
	uint64_t size;           /* of the pack file, its checksum included */
	ts_pack__entry *obj;
	uint64_t *at;            /* where each lands in the new pack, or LEFT_OUT */
	size_t n;
} part;


static int read_all_at(int fd, void *into, size_t len, uint64_t at)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = pread(fd, (char *)into + done, len - done, (off_t)(at + done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		done += (size_t)n;
	}
	return 0;
}

static int bad_part(const part *p, const char *what)
{
	return ts_error_set(TS_ECORRUPT, "%s: %s", p->name, what);
}

/* Reads the index of `dir`/`p->name` whole, checks it against its pack,
 * and lists the objects in file order. */
static int part_open(part *p, const char *dir)
{
	char path[4200];
	unsigned char *idx = NULL, head[12], trailer[20];
	struct stat st;
	size_t size, n, nlarge, i;
	int fd = -1, error = 0;

	snprintf(path, sizeof(path), "%s/%s.idx", dir, p->name);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 || fstat(fd, &st) < 0)
		return ts_error_set(TS_ERROR, "opening %s: %s", path, strerror(errno));
	size = (size_t)st.st_size;
	if (size < 8 + 1024 + 40 || !(idx = malloc(size)) || read_all_at(fd, idx, size, 0) < 0) {
		error = idx || size < 8 + 1024 + 40 ? bad_part(p, "its index is cut short") :
			ts_error_set(TS_ERROR, "out of memory");
		goto done;
	}
	n = be32(idx + 8 + 255 * 4);
	if (memcmp(idx, "\377tOc\0\0\0\2", 8) || size < 8 + 1024 + n * 28 + 40 ||
	    (size - (8 + 1024 + n * 28 + 40)) % 8) {
		error = bad_part(p, "not a version 2 pack index");
		goto done;
	}
	nlarge = (size - (8 + 1024 + n * 28 + 40)) / 8;
	if (!(p->obj = malloc((n ? n : 1) * sizeof(*p->obj))) || !(p->at = malloc((n ? n : 1) * sizeof(*p->at)))) {
		error = ts_error_set(TS_ERROR, "out of memory");
		goto done;
	}
	for (i = 0; i < n; i++) {
		const unsigned char *off = idx + 8 + 1024 + n * 24 + i * 4;
		uint32_t o = be32(off);
		git_oid_fromraw(&p->obj[i].id, idx + 8 + 1024 + i * 20);
		p->obj[i].crc = be32(idx + 8 + 1024 + n * 20 + i * 4);
		if (o & 0x80000000u) {
			const unsigned char *large = idx + 8 + 1024 + n * 28 + (size_t)(o & 0x7fffffffu) * 8;
			if ((o & 0x7fffffffu) >= nlarge) {
				error = bad_part(p, "its index names an offset it does not hold");
				goto done;
			}
			p->obj[i].offset = (uint64_t)be32(large) << 32 | be32(large + 4);
		} else {
			p->obj[i].offset = o;
		}
		p->at[i] = 0;
	}
	p->n = n;
	qsort(p->obj, n, sizeof(*p->obj), offset_cmp);

	snprintf(path, sizeof(path), "%s/%s.pack", dir, p->name);
	if ((p->fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 || fstat(p->fd, &st) < 0) {
		error = ts_error_set(TS_ERROR, "opening %s: %s", path, strerror(errno));
		goto done;
	}
	p->size = (uint64_t)st.st_size;
	if (p->size < 12 + 20 || read_all_at(p->fd, head, 12, 0) < 0 || read_all_at(p->fd, trailer, 20, p->size - 20) < 0 ||
	    memcmp(head, "PACK", 4) || (be32(head + 4) != 2 && be32(head + 4) != 3) || be32(head + 8) != n ||
	    memcmp(trailer, idx + size - 40, 20)) {
		error = bad_part(p, "the pack does not match its index");
		goto done;
	}
	for (i = 0; i < n; i++)
		if (p->obj[i].offset < 12 || p->obj[i].offset >= p->size - 20 ||
		    (i && p->obj[i].offset == p->obj[i - 1].offset)) {
			error = bad_part(p, "its index gives an offset outside the pack");
			goto done;
		}
done:
	if (fd >= 0)
		close(fd);
	free(idx);
	return error;
}

static void part_close(part *p)
{
	if (p->fd >= 0)
		close(p->fd);
	free(p->obj);
	free(p->at);
}


/* The object of `p` whose entry starts at `offset`, before entry `before`. */
static size_t find_offset(const part *p, size_t before, uint64_t offset)
{
	size_t lo = 0, hi = before;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (p->obj[mid].offset < offset)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < before && p->obj[lo].offset == offset ? lo : (size_t)-1;
}

/*
 * Copies entry `i` of `p` to the end of `out`: its header as it was (an
 * OFS_DELTA's distance written anew, or its base named by id when that
 * copy was left out), then its compressed bytes as they are. `crc` gets
 * the CRC-32 of the entry written.
 */
static int copy_entry(ts_pack__writer *out, uint32_t *crc, const part *p, size_t i)
{
	uint64_t start = p->obj[i].offset, end = i + 1 < p->n ? p->obj[i + 1].offset : p->size - 20, at;
	unsigned char head[HEAD_MAX], fresh[HEAD_MAX], chunk[COPY_CHUNK];
	size_t have = end - start < sizeof(head) ? (size_t)(end - start) : sizeof(head), h = 0, hlen, k;
	uint32_t src_crc;
	int type, error;
	unsigned char c;

	if (read_all_at(p->fd, head, have, start) < 0)
		return bad_part(p, "an entry is cut short");
	c = head[h++];
	type = (c >> 4) & 7;
	while (c & 0x80) {
		if (h >= have)
			return bad_part(p, "an entry's header runs past the entry");
		c = head[h++];
	}
	memcpy(fresh, head, h);
	hlen = h;
	if (type == OBJ_OFS_DELTA) {
		uint64_t dist, rel;
		size_t base;
		unsigned char enc[16];
		int e = (int)sizeof(enc);
		if (h >= have)
			return bad_part(p, "an entry's header runs past the entry");
		c = head[h++];
		dist = c & 127;
		while (c & 0x80) {
			if (h >= have || dist >= (UINT64_MAX >> 8))
				return bad_part(p, "a delta's base is out of reach");
			c = head[h++];
			dist = ((dist + 1) << 7) + (c & 127);
		}
		if (!dist || dist > start || (base = find_offset(p, i, start - dist)) == (size_t)-1)
			return bad_part(p, "a delta's base is not an entry of its pack");
		if (p->at[base] == LEFT_OUT) {
			fresh[0] = (unsigned char)((fresh[0] & 0x8f) | (OBJ_REF_DELTA << 4));
			memcpy(fresh + hlen, p->obj[base].id.id, GIT_OID_RAWSZ);
			hlen += GIT_OID_RAWSZ;
		} else {
			rel = ts_pack__writer_size(out) - p->at[base];
			enc[--e] = (unsigned char)(rel & 127);
			while (rel >>= 7)
				enc[--e] = (unsigned char)(128 | (--rel & 127));
			memcpy(fresh + hlen, enc + e, sizeof(enc) - (size_t)e);
			hlen += sizeof(enc) - (size_t)e;
		}
	} else if (type == OBJ_REF_DELTA) {
		if (h + GIT_OID_RAWSZ > have)
			return bad_part(p, "an entry's header runs past the entry");
		memcpy(fresh + hlen, head + h, GIT_OID_RAWSZ);
		h += GIT_OID_RAWSZ;
		hlen += GIT_OID_RAWSZ;
	} else if (type < 1 || type > 4) {
		return bad_part(p, "an entry of an unknown type");
	}

	/* the header, then the compressed bytes: those read with it, then the rest */
	src_crc = (uint32_t)crc32(0, head, (uInt)have);
	*crc = (uint32_t)crc32(0, NULL, 0);
	if ((error = ts_pack__writer_put(out, fresh, hlen, crc)) < 0 || (error = ts_pack__writer_put(out, head + h, have - h, crc)) < 0)
		return error;
	for (at = start + have; at < end; at += k) {
		k = end - at < sizeof(chunk) ? (size_t)(end - at) : sizeof(chunk);
		if (read_all_at(p->fd, chunk, k, at) < 0)
			return bad_part(p, "an entry is cut short");
		src_crc = (uint32_t)crc32(src_crc, chunk, (uInt)k);
		if ((error = ts_pack__writer_put(out, chunk, k, crc)) < 0)
			return error;
	}
	if (src_crc != p->obj[i].crc) {
		char hex[GIT_OID_HEXSZ + 1];
		git_oid_tostr(hex, sizeof(hex), &p->obj[i].id);
		return ts_error_set(TS_ECORRUPT, "%s: object %s does not match its index (a damaged pack)", p->name, hex);
	}
	return 0;
}

typedef struct {
	const git_oid *id;
	size_t part, i;
} holder;

static int holder_cmp(const void *a, const void *b)
{
	const holder *x = a, *y = b;
	int c = git_oid_cmp(x->id, y->id);
	if (c)
		return c;
	if (x->part != y->part)
		return x->part < y->part ? -1 : 1;
	return x->i < y->i ? -1 : x->i > y->i;
}

/* Marks every copy of an object but the first (in the order written) as
 * left out; the number kept in `*kept`. */
static int leave_out_copies(size_t *kept, part *parts, size_t nparts)
{
	holder *h;
	size_t total = 0, k = 0, i, j;

	for (i = 0; i < nparts; i++)
		total += parts[i].n;
	if (!(h = malloc((total ? total : 1) * sizeof(*h))))
		return ts_error_set(TS_ERROR, "out of memory");
	for (i = 0; i < nparts; i++)
		for (j = 0; j < parts[i].n; j++)
			h[k++] = (holder){ &parts[i].obj[j].id, i, j };
	qsort(h, total, sizeof(*h), holder_cmp);
	*kept = 0;
	for (k = 0; k < total; k++)
		if (k && git_oid_equal(h[k].id, h[k - 1].id))
			parts[h[k].part].at[h[k].i] = LEFT_OUT;
		else
			++*kept;
	free(h);
	return 0;
}

int ts_pack__combine(char out_name[64], const char *dir, char *const *names, size_t n, int durable)
{
	part *parts = calloc(n ? n : 1, sizeof(*parts));
	ts_pack__entry *written = NULL;
	ts_pack__writer *out = NULL;
	size_t kept = 0, w = 0, i, j;
	int error = 0;

	out_name[0] = '\0';
	if (!parts)
		return ts_error_set(TS_ERROR, "out of memory");
	for (i = 0; i < n; i++) {
		parts[i].name = names[i];
		parts[i].fd = -1;
	}
	for (i = 0; i < n && !error; i++)
		error = part_open(&parts[i], dir);
	if (error || (error = leave_out_copies(&kept, parts, n)) < 0)
		goto done;
	if (!(written = malloc((kept ? kept : 1) * sizeof(*written)))) {
		error = ts_error_set(TS_ERROR, "out of memory");
		goto done;
	}
	if ((error = ts_pack__writer_open(&out, dir, kept)) < 0)
		goto done;
	for (i = 0; i < n; i++)
		for (j = 0; j < parts[i].n; j++) {
			uint32_t crc;
			if (parts[i].at[j] == LEFT_OUT)
				continue;
			parts[i].at[j] = ts_pack__writer_size(out);
			if ((error = copy_entry(out, &crc, &parts[i], j)) < 0)
				goto done;
			written[w].id = parts[i].obj[j].id;
			written[w].offset = parts[i].at[j];
			written[w++].crc = crc;
		}
	error = ts_pack__writer_finish(out, out_name, written, w, durable);
done:
	ts_pack__writer_free(out);
	for (i = 0; i < n; i++)
		part_close(&parts[i]);
	free(parts);
	free(written);
	return error;
}
