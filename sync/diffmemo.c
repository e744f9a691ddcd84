/*
 * Walks kept (see diffmemo.h): the changes of every kept walk in one
 * array, each walk a run of it, found by its ids and path through an
 * open-addressed table.
 */
#include "diffmemo.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
	char *path;
	git_oid old_id, new_id;
	unsigned char has_old, has_new;
} change;

typedef struct {
	char *path;
	git_oid old_id, new_id;
	int has_old;
	size_t first, n;
} walk;

struct ts_diffmemo {
	size_t max_bytes, bytes;
	change *c;
	size_t nc, ac;
	walk *w;
	size_t nw, aw;
	size_t *slot;          /* walk index + 1; 0 for an empty slot */
	size_t nslot;          /* a power of two, at least twice nw */
	walk open;             /* the walk being kept (open.path NULL: none) */
	int full;              /* past the bound: nothing more is kept */
};

ts_diffmemo *ts_diffmemo__new(size_t max_bytes)
{
	ts_diffmemo *m = calloc(1, sizeof(*m));
	if (m)
		m->max_bytes = max_bytes;
	return m;
}

static void drop_changes(ts_diffmemo *m, size_t from)
{
	while (m->nc > from) {
		change *c = &m->c[--m->nc];
		m->bytes -= sizeof(*c) + strlen(c->path) + 1;
		free(c->path);
	}
}

void ts_diffmemo__free(ts_diffmemo *m)
{
	size_t i;

	if (!m)
		return;
	drop_changes(m, 0);
	for (i = 0; i < m->nw; i++)
		free(m->w[i].path);
	free(m->open.path);
	free(m->c);
	free(m->w);
	free(m->slot);
	free(m);
}

static int same_key(const walk *w, const char *path, const git_oid *old_id, const git_oid *new_id)
{
	return git_oid_equal(&w->new_id, new_id) && w->has_old == (old_id != NULL) &&
		(!old_id || git_oid_equal(&w->old_id, old_id)) && !strcmp(w->path, path);
}

static size_t hash_of(const git_oid *new_id)
{
	uint64_t h;
	memcpy(&h, new_id->id, sizeof(h));   /* an object id is spread already */
	return (size_t)h;
}

/* The open walk becomes kept: 0, or -1 out of memory (it is dropped). */
static int keep_open(ts_diffmemo *m)
{
	size_t i, at;

	if (m->nw == m->aw) {
		size_t cap = m->aw ? 2 * m->aw : 16;
		walk *grown = realloc(m->w, cap * sizeof(*grown));
		if (!grown)
			return -1;
		m->w = grown;
		m->aw = cap;
	}
	if (2 * (m->nw + 1) > m->nslot) {
		size_t cap = m->nslot ? 2 * m->nslot : 64;
		size_t *slot = calloc(cap, sizeof(*slot));
		if (!slot)
			return -1;
		for (i = 0; i < m->nw; i++) {
			for (at = hash_of(&m->w[i].new_id) & (cap - 1); slot[at]; at = (at + 1) & (cap - 1))
				;
			slot[at] = i + 1;
		}
		free(m->slot);
		m->slot = slot;
		m->nslot = cap;
	}
	m->w[m->nw] = m->open;
	m->open.path = NULL;
	for (at = hash_of(&m->w[m->nw].new_id) & (m->nslot - 1); m->slot[at]; at = (at + 1) & (m->nslot - 1))
		;
	m->slot[at] = ++m->nw;
	return 0;
}

static void drop_open(ts_diffmemo *m)
{
	if (!m->open.path)
		return;
	drop_changes(m, m->open.first);
	m->bytes -= sizeof(walk) + strlen(m->open.path) + 1;
	free(m->open.path);
	m->open.path = NULL;
}

void ts_diffmemo__begin(ts_diffmemo *m, const char *path, const git_oid *old_id, const git_oid *new_id)
{
	if (!m || m->full)
		return;
	drop_open(m);
	if (!(m->open.path = strdup(path)))
		return;
	m->bytes += sizeof(walk) + strlen(path) + 1;
	m->open.has_old = old_id != NULL;
	if (old_id)
		git_oid_cpy(&m->open.old_id, old_id);
	git_oid_cpy(&m->open.new_id, new_id);
	m->open.first = m->nc;
	m->open.n = 0;
}

void ts_diffmemo__add(ts_diffmemo *m, const char *path, const git_oid *old_id, const git_oid *new_id)
{
	size_t need;
	change *c;

	if (!m || !m->open.path)
		return;
	need = sizeof(*c) + strlen(path) + 1;
	if (m->bytes + need > m->max_bytes) {
		m->full = 1;   /* later walks would not fit either, mostly */
		drop_open(m);
		return;
	}
	if (m->nc == m->ac) {
		size_t cap = m->ac ? 2 * m->ac : 256;
		change *grown = realloc(m->c, cap * sizeof(*grown));
		if (!grown) {
			drop_open(m);
			return;
		}
		m->c = grown;
		m->ac = cap;
	}
	c = &m->c[m->nc];
	memset(c, 0, sizeof(*c));
	if (!(c->path = strdup(path))) {
		drop_open(m);
		return;
	}
	if ((c->has_old = old_id != NULL))
		git_oid_cpy(&c->old_id, old_id);
	if ((c->has_new = new_id != NULL))
		git_oid_cpy(&c->new_id, new_id);
	m->nc++;
	m->open.n++;
	m->bytes += need;
}

void ts_diffmemo__end(ts_diffmemo *m, int complete)
{
	if (!m || !m->open.path)
		return;
	if (!complete || keep_open(m) < 0)
		drop_open(m);
}

int ts_diffmemo__find(size_t *first, size_t *n, const ts_diffmemo *m, const char *path,
	const git_oid *old_id, const git_oid *new_id)
{
	size_t at;

	*first = *n = 0;
	if (!m || !m->nslot)
		return 0;
	for (at = hash_of(new_id) & (m->nslot - 1); m->slot[at]; at = (at + 1) & (m->nslot - 1)) {
		const walk *w = &m->w[m->slot[at] - 1];
		if (same_key(w, path, old_id, new_id)) {
			*first = w->first;
			*n = w->n;
			return 1;
		}
	}
	return 0;
}

void ts_diffmemo__change(ts_diffmemo_change *out, const ts_diffmemo *m, size_t i)
{
	const change *c = &m->c[i];
	out->path = c->path;
	out->old_id = c->has_old ? &c->old_id : NULL;
	out->new_id = c->has_new ? &c->new_id : NULL;
}
