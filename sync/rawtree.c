/*
 * Raw trees and their cache (rawtree.h). The cache is direct-mapped: a
 * tree's slot is chosen by its id's first byte, so a lookup is one
 * comparison and a new tree takes the place of the one there.
 */
#include "rawtree.h"

#include <stdlib.h>
#include <string.h>

#include "tiersync.h"

#define SLOTS 128   /* a power of two */

typedef struct {
	git_oid id;
	unsigned char *raw;   /* NULL: empty slot */
	size_t len;
} slot;

struct ts_rawtree_cache {
	slot slots[SLOTS];
};

int ts_rawtree__next(ts_rawtree_entry *out, const unsigned char *raw, size_t len, size_t *pos)
{
	const unsigned char *p = raw + *pos, *end = raw + len, *sp, *nul;

	if (p == end)
		return 0;
	if (!(sp = memchr(p, ' ', (size_t)(end - p))) || !(nul = memchr(sp, '\0', (size_t)(end - sp))) ||
	    (size_t)(end - nul - 1) < GIT_OID_RAWSZ || nul == sp + 1 || sp == p)
		return ts_error_set(TS_ECORRUPT, "a tree entry is cut short or malformed");
	out->is_tree = sp - p == 5 && !memcmp(p, "40000", 5);
	for (out->mode = 0; p < sp; p++) {
		if (*p < '0' || *p > '7' || out->mode > 0777777)
			return ts_error_set(TS_ECORRUPT, "a tree entry's mode is no octal number");
		out->mode = out->mode * 8 + (unsigned)(*p - '0');
	}
	out->name = (const char *)sp + 1;
	out->len = (size_t)(nul - sp - 1);
	out->id = nul + 1;
	*pos = (size_t)(nul + 1 + GIT_OID_RAWSZ - raw);
	return 1;
}

ts_rawtree_cache *ts_rawtree__cache_new(void)
{
	return calloc(1, sizeof(ts_rawtree_cache));
}

void ts_rawtree__cache_free(ts_rawtree_cache *c)
{
	size_t i;
	if (!c)
		return;
	for (i = 0; i < SLOTS; i++)
		free(c->slots[i].raw);
	free(c);
}

static slot *slot_of(ts_rawtree_cache *c, const git_oid *id)
{
	return &c->slots[id->id[0] & (SLOTS - 1)];
}

/* Copies `raw` into id's slot, in place of the tree there: the slot, or
 * NULL without memory. */
static slot *put(ts_rawtree_cache *c, const git_oid *id, const void *raw, size_t len)
{
	slot *s = slot_of(c, id);
	unsigned char *copy = malloc(len ? len : 1);

	if (!copy)
		return NULL;
	memcpy(copy, raw, len);
	free(s->raw);
	s->raw = copy;
	s->len = len;
	git_oid_cpy(&s->id, id);
	return s;
}

void ts_rawtree__keep(ts_rawtree_cache *c, const git_oid *id, const void *raw, size_t len)
{
	put(c, id, raw, len);
}

int ts_rawtree__get(const unsigned char **raw, size_t *len, ts_rawtree_cache *c, git_odb *odb,
	const git_oid *id)
{
	slot *s = slot_of(c, id);
	git_odb_object *obj = NULL;

	if (!(s->raw && git_oid_equal(&s->id, id))) {
		if (git_odb_read(&obj, odb, id) < 0 || git_odb_object_type(obj) != GIT_OBJECT_TREE) {
			char hex[GIT_OID_HEXSZ + 1];
			git_odb_object_free(obj);
			return ts_error_set(TS_ECORRUPT, "tree %s is missing or no tree",
				git_oid_tostr(hex, sizeof(hex), id));
		}
		s = put(c, id, git_odb_object_data(obj), git_odb_object_size(obj));
		git_odb_object_free(obj);
		if (!s)
			return ts_error_set(TS_ERROR, "out of memory");
	}
	*raw = s->raw;
	*len = s->len;
	return 0;
}

int ts_rawtree__entry_at(git_oid *out, unsigned *mode, ts_rawtree_cache *c, git_odb *odb,
	const git_oid *root, const char *path)
{
	git_oid at;

	git_oid_cpy(&at, root);
	for (;;) {
		const char *slash = strchr(path, '/');
		size_t want = slash ? (size_t)(slash - path) : strlen(path), len, pos = 0;
		const unsigned char *raw;
		ts_rawtree_entry e;
		int error, found = 0;

		if ((error = ts_rawtree__get(&raw, &len, c, odb, &at)) < 0)
			return error;
		while ((error = ts_rawtree__next(&e, raw, len, &pos)) > 0)
			if (e.len == want && !memcmp(e.name, path, want)) {
				found = 1;
				break;
			}
		if (error < 0)
			return error;
		if (!found || (slash && !e.is_tree))
			return ts_error_set(TS_ENOTFOUND, "no entry %.*s", (int)want, path);
		git_oid_fromraw(&at, e.id);
		if (!slash) {
			git_oid_cpy(out, &at);
			if (mode)
				*mode = e.mode;
			return 0;
		}
		path = slash + 1;
	}
}
