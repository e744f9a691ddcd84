/*
 * An object batch: new objects wait in memory, then go to disk as one pack.
 *
 * libgit2 writes each new object as a loose file by default; a one-row
 * commit writes about fourteen of them (two blobs, the trees on two
 * fan-out paths, the root, the commit), and creating files is what costs.
 * The batch is an object-database backend placed before the others: every
 * write lands here, every read looks here first, and ts_batch__flush()
 * writes the objects as one pack (git pack format v2) with its version 2
 * index, exactly as git would lay them out.
 *
 * A row's blob is mostly what every row of its table has: the column
 * names in their order and the columns still NULL. Such a blob goes into
 * the pack as a delta (OFS_DELTA) against the first blob of the same
 * shape, the same column names line by line, that the pack holds whole:
 * a line copies what it shares with the base's line of the same number
 * (from its start) and inserts the rest. Bases are whole, so a reader
 * resolves one step, from a base its delta cache keeps. What needs no
 * search costs a pass over both blobs; a delta that saves less than a
 * quarter is not used.
 */
#include "batch.h"

#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>
#include <libdeflate.h>
#include <zlib.h>
#include <git2/sys/odb_backend.h>

#include "buf.h"
#include "pack.h"
#include "tiersync.h"

typedef struct {
	git_oid id;
	git_object_t type;
	size_t len;
	unsigned char *data;
} object;

struct ts_batch {
	git_odb_backend parent;
	object *objs;        /* open-addressing table, `cap` slots (a power of two) */
	size_t n, cap;
	size_t bytes;        /* of the objects waiting */
	git_odb *odb;        /* the database it is attached to */
	char *pack_dir;      /* where its packs go */
	int reuse;           /* ts_batch__reuse(): skip objects the database has */
	char **packs;        /* ts_batch__packs() */
	size_t npacks;
	struct libdeflate_compressor *deflate[2];   /* made at the first flush that
	                      * needs each, kept: a new one's tables cost more than a
	                      * commit's objects; the second is the helper thread's */
};

/* ---- the table of waiting objects ---- */

static size_t slot_of(const ts_batch *b, const git_oid *id)
{
	size_t h;
	memcpy(&h, id->id, sizeof(h));
	return h & (b->cap - 1);
}

static object *find(const ts_batch *b, const git_oid *id)
{
	size_t i;
	if (!b->cap)
		return NULL;
	for (i = slot_of(b, id); b->objs[i].data; i = (i + 1) & (b->cap - 1))
		if (git_oid_equal(&b->objs[i].id, id))
			return &b->objs[i];
	return NULL;
}

static int grow(ts_batch *b)
{
	size_t oldcap = b->cap, ncap = b->cap ? b->cap * 2 : 1024, i, j;
	object *old = b->objs, *nobjs = calloc(ncap, sizeof(object));

	if (!nobjs)
		return -1;
	b->objs = nobjs;
	b->cap = ncap;
	for (i = 0; i < oldcap; i++) {
		if (!old[i].data)
			continue;
		for (j = slot_of(b, &old[i].id); nobjs[j].data; j = (j + 1) & (ncap - 1))
			;
		nobjs[j] = old[i];
	}
	free(old);
	return 0;
}

static int batch_write(git_odb_backend *backend, const git_oid *id, const void *data, size_t len, git_object_t type)
{
	ts_batch *b = (ts_batch *)backend;
	object *o;
	size_t i;

	if (find(b, id))
		return 0;
	if ((b->n + 1) * 2 > b->cap && grow(b) < 0)
		return GIT_ERROR;
	for (i = slot_of(b, id); b->objs[i].data; i = (i + 1) & (b->cap - 1))
		;
	o = &b->objs[i];
	/* never NULL, even for an empty object: data marks a used slot */
	if (!(o->data = malloc(len ? len : 1)))
		return GIT_ERROR;
	memcpy(o->data, data, len);
	git_oid_cpy(&o->id, id);
	o->type = type;
	o->len = len;
	b->n++;
	b->bytes += len;
	return 0;
}

static int batch_read(void **out, size_t *len, git_object_t *type, git_odb_backend *backend, const git_oid *id)
{
	object *o = find((ts_batch *)backend, id);
	if (!o)
		return GIT_ENOTFOUND;
	if (!(*out = git_odb_backend_data_alloc(backend, o->len ? o->len : 1)))
		return GIT_ERROR;
	memcpy(*out, o->data, o->len);
	*len = o->len;
	*type = o->type;
	return 0;
}

static int batch_read_header(size_t *len, git_object_t *type, git_odb_backend *backend, const git_oid *id)
{
	object *o = find((ts_batch *)backend, id);
	if (!o)
		return GIT_ENOTFOUND;
	*len = o->len;
	*type = o->type;
	return 0;
}

static int batch_exists(git_odb_backend *backend, const git_oid *id)
{
	return find((ts_batch *)backend, id) != NULL;
}

void ts_batch__discard(ts_batch *b)
{
	size_t i;
	for (i = 0; i < b->cap; i++)
		free(b->objs[i].data);
	free(b->objs);
	b->objs = NULL;
	b->n = b->cap = 0;
	b->bytes = 0;
}

void ts_batch__forget_packs(ts_batch *b)
{
	size_t i;
	for (i = 0; i < b->npacks; i++)
		free(b->packs[i]);
	free(b->packs);
	b->packs = NULL;
	b->npacks = 0;
}

static void note_pack(ts_batch *b, const char *name)
{
	char **grown = realloc(b->packs, (b->npacks + 1) * sizeof(*grown));
	char *copy = strdup(name);

	if (!grown || !copy) {
		free(copy);
		if (grown)
			b->packs = grown;
		ts_batch__forget_packs(b);
		return;
	}
	b->packs = grown;
	b->packs[b->npacks++] = copy;
}

size_t ts_batch__packs(const ts_batch *b, char *const **names)
{
	*names = b->packs;
	return b->npacks;
}

static void batch_free(git_odb_backend *backend)
{
	ts_batch__forget_packs((ts_batch *)backend);
	ts_batch__discard((ts_batch *)backend);
	libdeflate_free_compressor(((ts_batch *)backend)->deflate[0]);
	libdeflate_free_compressor(((ts_batch *)backend)->deflate[1]);
	free(((ts_batch *)backend)->pack_dir);
	free(backend);
}

int ts_batch__attach(ts_batch **out, git_odb *odb, const char *pack_dir)
{
	ts_batch *b;

	*out = NULL;
	if (!(b = calloc(1, sizeof(*b))) || !(b->pack_dir = strdup(pack_dir))) {
		free(b);
		return ts_error_set(TS_ERROR, "out of memory");
	}
	git_odb_init_backend(&b->parent, GIT_ODB_BACKEND_VERSION);
	b->odb = odb;
	b->parent.read = batch_read;
	b->parent.read_header = batch_read_header;
	b->parent.write = batch_write;
	b->parent.exists = batch_exists;
	b->parent.free = batch_free;
	if (git_odb_add_backend(odb, &b->parent, 1000) < 0) {
		free(b->pack_dir);
		free(b);
		return ts_error_set(TS_ERROR, "adding the object batch: %s", git_error_last()->message);
	}
	*out = b;
	return 0;
}

int ts_batch__put(ts_batch *b, git_oid *out, git_object_t type, const void *data, size_t len)
{
	if (git_odb_hash(out, data, len, type) < 0)
		return ts_error_set(TS_ERROR, "hashing an object");
	if (b->reuse && git_odb_exists_ext(b->odb, out, GIT_ODB_LOOKUP_NO_REFRESH))
		return 0;
	if (batch_write(&b->parent, out, data, len, type) < 0)
		return ts_error_set(TS_ERROR, "out of memory");
	return b->bytes >= TS_BATCH_BYTES ? ts_batch__flush(b) : 0;
}

void ts_batch__reuse(ts_batch *b, int on)
{
	b->reuse = on;
}

size_t ts_batch__count(const ts_batch *b)
{
	return b->n;
}

#define PACK_LEVEL 6   /* git's own default level */

#define OBJ_OFS_DELTA 6

/* Appends one pack entry: its type and size header (for a delta, the
 * distance back to its base, `distance` bytes before it), then `z`, the
 * zlib stream of `size` bytes. */
static int write_entry(ts_pack__writer *w, int type, size_t size, uint64_t distance,
	const void *z, size_t zlen, uint32_t *crc)
{
	unsigned char head[32];
	size_t n = 0;
	int error;

	head[n++] = (unsigned char)((type << 4) | (size & 0x0f) | (size > 0x0f ? 0x80 : 0));
	size >>= 4;
	while (size) {
		head[n++] = (unsigned char)((size & 0x7f) | (size > 0x7f ? 0x80 : 0));
		size >>= 7;
	}
	if (type == OBJ_OFS_DELTA) {
		/* the distance back to the base, big-endian, each byte but the
		 * last standing for one more than its bits (git's encoding) */
		unsigned char ofs[16];
		size_t at = sizeof(ofs) - 1;
		ofs[at] = (unsigned char)(distance & 0x7f);
		while (distance >>= 7)
			ofs[--at] = (unsigned char)(0x80 | (--distance & 0x7f));
		memcpy(head + n, ofs + at, sizeof(ofs) - at);
		n += sizeof(ofs) - at;
	}
	*crc = (uint32_t)crc32(0, NULL, 0);
	if ((error = ts_pack__writer_put(w, head, n, crc)) < 0)
		return error;
	return ts_pack__writer_put(w, z, zlen, crc);
}

/* ---- deltas against a blob of the same shape ---- */

#define DELTA_MIN      64          /* blobs smaller than this go whole */
#define DELTA_MAX      65536       /* and larger ones (files, not rows) too */
#define DELTA_MIN_COPY 4           /* a copy op costs up to 4 bytes */
#define SHAPES         256         /* shapes with a base in one pack */

/* The shape of a blob: a hash of each line's first word (a row's column
 * name) and the number of lines. */
static uint64_t shape_of(const unsigned char *p, size_t len)
{
	uint64_t h = 1469598103934665603ULL;
	size_t i = 0;

	while (i < len) {
		while (i < len && p[i] != ' ' && p[i] != '\n')
			h = (h ^ p[i++]) * 1099511628211ULL;
		h = (h ^ '\n') * 1099511628211ULL;
		while (i < len && p[i++] != '\n')
			;
	}
	return h;
}

/* The delta's ops as they are built: at most one copy or one insert
 * waits, to be extended by the next line's. */
typedef struct {
	ts_buf *d;
	const unsigned char *target;
	size_t copy_off, copy_len;     /* in the base */
	size_t ins_from, ins_len;      /* in the target */
} delta_ops;

static void put_varint(ts_buf *d, size_t v)
{
	unsigned char b[10];
	size_t n = 0;
	do {
		b[n] = (unsigned char)(v & 0x7f);
		v >>= 7;
		if (v)
			b[n] |= 0x80;
		n++;
	} while (v);
	ts_buf__put(d, b, n);
}

static void ops_flush(delta_ops *o)
{
	while (o->copy_len) {
		unsigned char op[8];
		size_t k = o->copy_len > 0xffff ? 0xffff : o->copy_len, n = 1;
		int i;
		op[0] = 0x80;
		for (i = 0; i < 4; i++)
			if ((o->copy_off >> (8 * i)) & 0xff) {
				op[0] |= (unsigned char)(1 << i);
				op[n++] = (unsigned char)(o->copy_off >> (8 * i));
			}
		for (i = 0; i < 2; i++)
			if ((k >> (8 * i)) & 0xff) {
				op[0] |= (unsigned char)(0x10 << i);
				op[n++] = (unsigned char)(k >> (8 * i));
			}
		ts_buf__put(o->d, op, n);
		o->copy_off += k;
		o->copy_len -= k;
	}
	while (o->ins_len) {
		size_t k = o->ins_len > 127 ? 127 : o->ins_len;
		ts_buf__putc(o->d, (char)k);
		ts_buf__put(o->d, o->target + o->ins_from, k);
		o->ins_from += k;
		o->ins_len -= k;
	}
}

static void ops_insert(delta_ops *o, size_t from, size_t len)
{
	if (!len)
		return;
	if (o->copy_len || (o->ins_len && o->ins_from + o->ins_len != from))
		ops_flush(o);
	if (!o->ins_len)
		o->ins_from = from;
	o->ins_len += len;
}

static void ops_copy(delta_ops *o, size_t from, size_t off, size_t len)
{
	if (!len)
		return;
	if (o->copy_len && o->copy_off + o->copy_len == off) {
		o->copy_len += len;
		return;
	}
	if (len < DELTA_MIN_COPY) {
		ops_insert(o, from, len);
		return;
	}
	ops_flush(o);
	o->copy_off = off;
	o->copy_len = len;
}

static size_t line_end(const unsigned char *p, size_t at, size_t len)
{
	const unsigned char *nl = at < len ? memchr(p + at, '\n', len - at) : NULL;
	return nl ? (size_t)(nl - p) + 1 : len;
}

/* Writes into `d` a git delta that makes `t` from `b`, line by line. */
static void delta_make(ts_buf *d, const object *b, const object *t)
{
	delta_ops o = { d, t->data, 0, 0, 0, 0 };
	size_t pt = 0, pb = 0;

	ts_buf__clear(d);
	put_varint(d, b->len);
	put_varint(d, t->len);
	while (pt < t->len) {
		size_t et = line_end(t->data, pt, t->len), eb = line_end(b->data, pb, b->len), k = 0;
		while (pt + k < et && pb + k < eb && t->data[pt + k] == b->data[pb + k])
			k++;
		ops_copy(&o, pt, pb, k);
		ops_insert(&o, pt + k, et - pt - k);
		pt = et;
		pb = eb;
	}
	ops_flush(&o);
}

typedef struct {
	uint64_t shape;
	const object *base;
	size_t index;         /* of the base among the pack's objects */
} shape_base;

/* The base of `o`'s shape, or NULL; a blob of a new shape becomes the
 * base of its shape (while there is room) and goes whole. */
static const shape_base *base_for(shape_base *bases, const object *o, size_t index)
{
	uint64_t shape;
	size_t i, probes;

	if (o->type != GIT_OBJECT_BLOB || o->len < DELTA_MIN || o->len > DELTA_MAX)
		return NULL;
	shape = shape_of(o->data, o->len);
	for (i = shape & (SHAPES - 1), probes = 0; probes < SHAPES; i = (i + 1) & (SHAPES - 1), probes++) {
		if (!bases[i].base) {
			bases[i] = (shape_base){ shape, o, index };
			return NULL;
		}
		if (bases[i].shape == shape)
			return &bases[i];
	}
	return NULL;
}

/* Commits, trees, then blobs, each in id order, as git lays a pack out:
 * a walk of trees reads one stretch of the pack, not pages among blobs. */
static int type_rank(git_object_t type)
{
	return type == GIT_OBJECT_COMMIT ? 0 : type == GIT_OBJECT_TAG ? 1 : type == GIT_OBJECT_TREE ? 2 : 3;
}

static int object_cmp(const void *a, const void *b)
{
	const object *x = *(const object *const *)a, *y = *(const object *const *)b;
	int rx = type_rank(x->type), ry = type_rank(y->type);
	return rx != ry ? rx - ry : git_oid_cmp(&x->id, &y->id);
}

/*
 * Compressing is most of writing a large pack, and each object's zlib
 * stream (of the object, or of its delta) depends on nothing written
 * before it: a stretch of objects is compressed by two threads, each
 * half into its own buffer, then written in order (the headers, with the
 * distances to the bases, are known only then). A stretch holds about
 * STRETCH_BYTES of objects, so what waits compressed stays small; one
 * smaller than HELP_MIN is not worth a thread.
 */
#define STRETCH_BYTES (1024 * 1024)
#define HELP_MIN (64 * 1024)

/* What an object becomes in the pack. */
typedef struct {
	long base;            /* its base's index, or -1: whole */
	size_t size;          /* the bytes compressed: the delta's or the object's */
	size_t at, len;       /* its zlib stream in its half's buffer */
} packed;

typedef struct {
	const object **obj;
	const long *base_of;  /* each object's shape's base, or -1 */
	packed *p;
	size_t from, to;
	struct libdeflate_compressor *c;
	ts_buf z, delta;
	int failed;
} half;

static void *compress_half(void *arg)
{
	half *h = arg;
	size_t i;

	h->z.size = 0;
	for (i = h->from; i < h->to && !h->failed; i++) {
		const object *o = h->obj[i];
		const void *data = o->data;
		size_t len = o->len, bound, made;
		long base = h->base_of[i];

		if (base >= 0) {
			delta_make(&h->delta, h->obj[base], o);
			if (ts_buf__oom(&h->delta))
				h->failed = 1;
			else if (h->delta.size * 4 >= o->len * 3)
				base = -1;   /* saves too little */
			else {
				data = h->delta.ptr;
				len = h->delta.size;
			}
		}
		bound = libdeflate_zlib_compress_bound(h->c, len);
		if (h->failed || ts_buf__grow(&h->z, bound) < 0 ||
		    !(made = libdeflate_zlib_compress(h->c, data, len, h->z.ptr + h->z.size, bound))) {
			h->failed = 1;
			break;
		}
		h->p[i] = (packed){ base, len, h->z.size, made };
		h->z.size += made;
	}
	return NULL;
}

/* Compresses objects [from, to): the second half in a thread of its own
 * when there is enough of it and one can be had. */
static int compress_stretch(ts_batch *b, half h[2], size_t from, size_t to, size_t bytes)
{
	size_t mid = to, i, sum = 0;
	pthread_t helper;
	int helped = 0;

	if (bytes >= HELP_MIN && to - from > 1 &&
	    (b->deflate[1] || (b->deflate[1] = libdeflate_alloc_compressor(PACK_LEVEL)))) {
		for (i = from; i < to && sum < bytes / 2; i++)
			sum += h[0].obj[i]->len;
		mid = i < to ? i : to - 1;
		h[1].c = b->deflate[1];
	}
	h[0].from = from;
	h[0].to = h[1].from = mid;
	h[1].to = to;
	h[0].failed = h[1].failed = 0;
	if (mid < to && pthread_create(&helper, NULL, compress_half, &h[1]) == 0)
		helped = 1;
	compress_half(&h[0]);
	if (helped)
		pthread_join(helper, NULL);
	else if (mid < to)
		compress_half(&h[1]);   /* no thread to be had: here, after the first */
	if (h[0].failed || h[1].failed)
		return ts_error_set(TS_ERROR, "compressing objects: out of memory");
	return 0;
}

/*
 * Writes the pack and its version 2 index, named after the pack's checksum
 * as git names them. The pack goes first: a reader finds packs by their
 * index, so it never sees an index without its pack.
 */
int ts_batch__flush(ts_batch *b)
{
	ts_pack__writer *w = NULL;
	ts_pack__entry *e = NULL;
	const object **obj = NULL;
	shape_base *bases = NULL;
	packed *p = NULL;
	long *base_of = NULL;
	half h[2];
	char name[64];
	size_t i, k, from;
	int error = 0;

	if (b->n == 0)
		return 0;
	if (!b->deflate[0] && !(b->deflate[0] = libdeflate_alloc_compressor(PACK_LEVEL)))
		return ts_error_set(TS_ERROR, "out of memory");
	memset(h, 0, sizeof(h));
	if (!(e = malloc(b->n * sizeof(*e))) || !(obj = malloc(b->n * sizeof(*obj))) ||
	    !(bases = calloc(SHAPES, sizeof(*bases))) || !(p = malloc(b->n * sizeof(*p))) ||
	    !(base_of = malloc(b->n * sizeof(*base_of)))) {
		error = ts_error_set(TS_ERROR, "out of memory");
		goto done;
	}
	for (i = k = 0; i < b->cap; i++)
		if (b->objs[i].data)
			obj[k++] = &b->objs[i];
	qsort(obj, b->n, sizeof(*obj), object_cmp);
	for (i = 0; i < b->n; i++) {
		const shape_base *base = base_for(bases, obj[i], i);
		base_of[i] = base ? (long)base->index : -1;
	}
	for (k = 0; k < 2; k++)
		h[k] = (half){ obj, base_of, p, 0, 0, b->deflate[k], TS_BUF_INIT, TS_BUF_INIT, 0 };

	if ((error = ts_pack__writer_open(&w, b->pack_dir, b->n)) < 0)
		goto done;
	for (from = 0; from < b->n; from = i) {
		size_t bytes = 0;
		for (i = from; i < b->n && bytes < STRETCH_BYTES; i++)
			bytes += obj[i]->len;
		if ((error = compress_stretch(b, h, from, i, bytes)) < 0)
			goto done;
		for (k = from; k < i; k++) {
			const half *in = k < h[0].to ? &h[0] : &h[1];
			e[k].id = obj[k]->id;
			e[k].offset = ts_pack__writer_size(w);
			if ((error = write_entry(w, p[k].base >= 0 ? OBJ_OFS_DELTA : (int)obj[k]->type, p[k].size,
					p[k].base >= 0 ? e[k].offset - e[p[k].base].offset : 0,
					in->z.ptr + p[k].at, p[k].len, &e[k].crc)) < 0)
				goto done;
		}
	}
	if ((error = ts_pack__writer_finish(w, name, e, b->n, 0)) < 0)
		goto done;
	note_pack(b, name);
	ts_batch__discard(b);
	/* Reads that miss look for new packs themselves (git_odb_read()
	 * refreshes then), and the next commit reads trees the cache holds:
	 * listing the pack folder after every commit is not worth it. A
	 * merge's existence checks do not refresh, so it looks now. */
	if (b->reuse)
		git_odb_refresh(b->odb);
done:
	ts_pack__writer_free(w);
	for (k = 0; k < 2; k++) {
		ts_buf__dispose(&h[k].z);
		ts_buf__dispose(&h[k].delta);
	}
	free(base_of);
	free(p);
	free(bases);
	free(e);
	free(obj);
	return error;
}
