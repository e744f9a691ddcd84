/*
 * An object batch: new objects wait in memory, then go to disk as one pack.
 *
 * libgit2 writes each new object as a loose file by default; a one-row
 * commit writes about fourteen of them (two blobs, the trees on two
 * fan-out paths, the root, the commit), and creating files is what costs.
 * The batch is an object-database backend placed before the others: every
 * write lands here, every read looks here first, and ts_batch__flush()
 * writes the objects as one pack (git pack format v2, whole objects, no
 * deltas) with its version 2 index, exactly as git would lay them out.
 */
#include "batch.h"

#include <limits.h>
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

static void batch_free(git_odb_backend *backend)
{
	ts_batch__discard((ts_batch *)backend);
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

/* Appends one object as a pack entry: type and size header, then the
 * object as one zlib stream. libdeflate compresses a whole buffer at a
 * time, which is what a waiting object is, in about a third of zlib's time
 * on objects of a row's size; `out` is grown to the largest bound met. */
#define PACK_LEVEL 6   /* git's own default level */

static int pack_object(ts_pack__writer *w, struct libdeflate_compressor *c, ts_buf *out, const object *o,
	uint32_t *crc)
{
	unsigned char head[16];
	size_t size = o->len, n = 0, bound = libdeflate_zlib_compress_bound(c, o->len), made;
	int error;

	head[n++] = (unsigned char)((o->type << 4) | (size & 0x0f) | (size > 0x0f ? 0x80 : 0));
	size >>= 4;
	while (size) {
		head[n++] = (unsigned char)((size & 0x7f) | (size > 0x7f ? 0x80 : 0));
		size >>= 7;
	}
	*crc = (uint32_t)crc32(0, NULL, 0);
	if ((error = ts_pack__writer_put(w, head, n, crc)) < 0)
		return error;
	out->size = 0;
	if (ts_buf__grow(out, bound) < 0)
		return ts_error_set(TS_ERROR, "out of memory");
	if (!(made = libdeflate_zlib_compress(c, o->data, o->len, out->ptr, bound)))
		return ts_error_set(TS_ERROR, "compressing an object");
	return ts_pack__writer_put(w, out->ptr, made, crc);
}

static int object_cmp(const void *a, const void *b)
{
	return git_oid_cmp(&(*(const object *const *)a)->id, &(*(const object *const *)b)->id);
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
	struct libdeflate_compressor *c;
	ts_buf out = TS_BUF_INIT;
	char name[64];
	size_t i, k;
	int error = 0;

	if (b->n == 0)
		return 0;
	if (!(c = libdeflate_alloc_compressor(PACK_LEVEL)))
		return ts_error_set(TS_ERROR, "out of memory");
	if (!(e = malloc(b->n * sizeof(*e))) || !(obj = malloc(b->n * sizeof(*obj)))) {
		error = ts_error_set(TS_ERROR, "out of memory");
		goto done;
	}
	for (i = k = 0; i < b->cap; i++)
		if (b->objs[i].data)
			obj[k++] = &b->objs[i];
	qsort(obj, b->n, sizeof(*obj), object_cmp);

	if ((error = ts_pack__writer_open(&w, b->pack_dir, b->n)) < 0)
		goto done;
	for (i = 0; i < b->n; i++) {
		e[i].id = obj[i]->id;
		e[i].offset = ts_pack__writer_size(w);
		if ((error = pack_object(w, c, &out, obj[i], &e[i].crc)) < 0)
			goto done;
	}
	if ((error = ts_pack__writer_finish(w, name, e, b->n, 0)) < 0)
		goto done;
	ts_batch__discard(b);
	git_odb_refresh(b->odb);
done:
	ts_pack__writer_free(w);
	libdeflate_free_compressor(c);
	ts_buf__dispose(&out);
	free(e);
	free(obj);
	return error;
}
