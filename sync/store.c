/*
 * The history store on libgit2: row blobs, fan-out trees, commits, refs.
 *
 * A tree is rebuilt only on the paths of the changed rows, from raw tree
 * bytes (rawtree.c keeps the ones read and written last), so a commit
 * costs what it changes, not what the table holds. New objects wait in an
 * object batch (batch.c) and reach the disk as one pack per commit.
 *
 * Durability is not this file's job: objects are written without fsync
 * (cheap), and the node keeps, in its database transaction, what it needs
 * to write them again identically (see node/node.c, "journal").
 */
#include "store.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <sys/file.h>
#include <time.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <git2/sys/odb_backend.h>
#include <git2/sys/repository.h>
#include <unistd.h>
#include <openssl/evp.h>

#include "batch.h"
#include "pack.h"
#include "rawtree.h"
#include "sshsig.h"
#include "tiersync.h"

struct ts_store {
	git_repository *repo;
	git_odb *odb;
	ts_batch *batch;    /* owned by odb: where new objects wait */
	ts_rawtree_cache *trees;   /* the trees read and written last */
	git_oid readable;   /* known readable (ts_store__readable()); zero: none */
	git_oid made, made_tree;   /* the last commit ts_store__commit() made, and its tree */
	int lock_fd;        /* held while writing, else -1 */
	int swap_refs;      /* main may move by exchange (ref_swap()) */
	int may_defer;      /* ts_store__defer_commits() */
	int deferred;       /* ts_store__defer(): main waits to move */
	git_oid deferred_head;
	const ts_sshsig_key *signer;          /* signs new commits, or NULL */
	void (*on_head)(void *payload);       /* hears of moves of main */
	void *on_head_payload;
};

void ts_store__set_signer(ts_store *store, const ts_sshsig_key *key)
{
	store->signer = key;
}

void ts_store__on_head(ts_store *store, void (*fn)(void *payload), void *payload)
{
	store->on_head = fn;
	store->on_head_payload = payload;
}

static void head_moved(ts_store *store, const char *ref)
{
	if (store->on_head && !strcmp(ref, TS_STORE_MAIN))
		store->on_head(store->on_head_payload);
}

int ts_store__git_error(int code, const char *what)
{
	const git_error *e = git_error_last();
	return ts_error_set(code, "%s: %s", what, e && e->message ? e->message : "unknown libgit2 error");
}

static void pack_dir(char *out, size_t size, git_repository *repo)
{
	snprintf(out, size, "%sobjects/pack", git_repository_path(repo));
}

/* 1 when the repository's configuration asks for reflogs. */
static int logs_refs(git_repository *repo)
{
	git_config *config = NULL;
	git_config_entry *e = NULL;
	int set;

	if (git_repository_config_snapshot(&config, repo) < 0)
		return 1;
	set = git_config_get_entry(&e, config, "core.logAllRefUpdates") == 0;
	git_config_entry_free(e);
	git_config_free(config);
	return set;
}

int ts_store__open(ts_store **out, const char *gitdir, int create)
{
	char dir[4096];
	ts_store *store;
	int error;

	*out = NULL;
	if (!(store = calloc(1, sizeof(*store))))
		return ts_error_set(TS_ERROR, "out of memory");
	store->lock_fd = -1;
	if (!(store->trees = ts_rawtree__cache_new())) {
		free(store);
		return ts_error_set(TS_ERROR, "out of memory");
	}
	if (create)
		error = git_repository_init(&store->repo, gitdir, 1);
	else
		error = git_repository_open_bare(&store->repo, gitdir);
	if (error < 0) {
		error = ts_store__git_error(error == GIT_ENOTFOUND ? TS_ENOTFOUND : TS_ECORRUPT, gitdir);
		goto fail;
	}
	if (create && (error = git_repository_set_head(store->repo, TS_STORE_MAIN)) < 0) {
		error = ts_store__git_error(TS_ERROR, "setting HEAD");
		goto fail;
	}
	if ((error = git_repository_odb(&store->odb, store->repo)) < 0) {
		error = ts_store__git_error(TS_ERROR, "opening the object database");
		goto fail;
	}
	pack_dir(dir, sizeof(dir), store->repo);
	if ((error = ts_batch__attach(&store->batch, store->odb, dir)) < 0)
		goto fail;
	store->swap_refs = git_repository_is_bare(store->repo) && !logs_refs(store->repo);
	*out = store;
	return 0;
fail:
	ts_store__free(store);
	return error;
}

void ts_store__free(ts_store *store)
{
	if (!store)
		return;
	ts_store__unlock(store);
	git_odb_free(store->odb);
	git_repository_free(store->repo);
	ts_rawtree__cache_free(store->trees);
	free(store);
}

git_repository *ts_store__repo(ts_store *store)
{
	return store->repo;
}

int ts_store__update_reserve(ts_store_update **v, size_t n, size_t *alloc)
{
	ts_store_update *grown;
	size_t na;

	if (n < *alloc)
		return 0;
	na = *alloc ? *alloc * 2 : 64;
	if (!(grown = realloc(*v, na * sizeof(*grown))))
		return ts_error_set(TS_ERROR, "out of memory");
	*v = grown;
	*alloc = na;
	return 0;
}

static int update_cmp(const void *a, const void *b)
{
	return strcmp(((const ts_store_update *)a)->path, ((const ts_store_update *)b)->path);
}

/* One entry of a tree being rebuilt. */
typedef struct {
	const char *name;
	size_t len;
	int is_tree;
	int removed;
	git_oid id;
} tree_entry;

/* git's tree order: names compare as bytes, a tree's as if it ended in '/'. */
static int tree_entry_cmp(const void *pa, const void *pb)
{
	const tree_entry *a = pa, *b = pb;
	size_t len = a->len < b->len ? a->len : b->len;
	int cmp = memcmp(a->name, b->name, len);
	unsigned char ca, cb;

	if (cmp)
		return cmp;
	ca = a->len > len ? (unsigned char)a->name[len] : (a->is_tree ? '/' : 0);
	cb = b->len > len ? (unsigned char)b->name[len] : (b->is_tree ? '/' : 0);
	return ca < cb ? -1 : ca > cb;
}

static tree_entry *entry_find(tree_entry *e, size_t n, const char *name, size_t len)
{
	size_t i;
	for (i = 0; i < n; i++)
		if (e[i].len == len && !memcmp(e[i].name, name, len))
			return &e[i];
	return NULL;
}

/* The entries of raw tree `raw`, into `e` unless it is NULL: their number, or an error. */
static int entries_of(tree_entry *e, const ts_buf *raw)
{
	ts_rawtree_entry te;
	size_t pos = 0;
	int n = 0, error;

	while ((error = ts_rawtree__next(&te, (const unsigned char *)raw->ptr, raw->size, &pos)) > 0) {
		if (e) {
			e[n].name = te.name;
			e[n].len = te.len;
			e[n].is_tree = te.is_tree;
			git_oid_fromraw(&e[n].id, te.id);
		}
		n++;
	}
	return error < 0 ? error : n;
}

/*
 * Rebuilds the tree `base` (NULL: empty) with `updates`, whose paths all
 * continue, from byte `off`, inside this tree. Writes the new tree's id, or
 * sets *empty when nothing is left in it. Objects go to the batch directly:
 * a tree is a function of its entries, so its bytes, and id, are the ones
 * git would write.
 */
static int rebuild_tree(git_oid *out, int *empty, ts_store *store, const git_oid *base,
	const ts_store_update *updates, size_t n, size_t off)
{
	tree_entry *e = NULL;
	size_t ne = 0, i, j;
	ts_buf raw = TS_BUF_INIT, base_raw = TS_BUF_INIT;
	int count = 0, error = 0;

	*empty = 0;
	if (base) {
		const unsigned char *r;
		size_t len;
		if ((error = ts_rawtree__get(&r, &len, store->trees, store->odb, base)) < 0)
			return error;
		/* a copy: the trees below may take its place in the cache */
		ts_buf__put(&base_raw, r, len);
		if (ts_buf__oom(&base_raw))
			return TS_ERROR;
		if ((count = entries_of(NULL, &base_raw)) < 0) {
			error = count;
			goto done;
		}
	}
	if (!(e = calloc((size_t)count + n + 1, sizeof(*e)))) {
		error = ts_error_set(TS_ERROR, "out of memory");
		goto done;
	}
	if (count)
		ne = (size_t)entries_of(e, &base_raw);
	for (i = 0; i < n; i = j) {
		const char *name = updates[i].path + off, *slash = strchr(name, '/');
		size_t len = slash ? (size_t)(slash - name) : strlen(name);
		tree_entry *x = entry_find(e, ne, name, len);
		git_oid id;
		int gone = 0;

		/* the updates under this name are the next run of sorted paths */
		for (j = i + 1; j < n && !strncmp(updates[j].path + off, name, len) &&
		     (updates[j].path[off + len] == '/' || updates[j].path[off + len] == '\0'); j++)
			;
		if (len == 0) {
			error = ts_error_set(TS_EINVALID, "bad tree path %s", updates[i].path);
			goto done;
		}
		if (slash) {
			const git_oid *sub = x && x->is_tree && !x->removed ? &x->id : NULL;
			if ((error = rebuild_tree(&id, &gone, store, sub, updates + i, j - i, off + len + 1)) < 0)
				goto done;
		} else if (updates[j - 1].data && (updates[j - 1].len == TS_STORE_LINK ||
		           updates[j - 1].len == TS_STORE_LINK_TREE)) {
			git_oid_cpy(&id, (const git_oid *)updates[j - 1].data);
		} else if (updates[j - 1].data) {
			/* the last update of a path wins */
			if ((error = ts_batch__put(store->batch, &id, GIT_OBJECT_BLOB, updates[j - 1].data, updates[j - 1].len)) < 0)
				goto done;
		} else
			gone = 1;
		if (gone) {
			if (x)
				x->removed = 1;
			continue;
		}
		if (!x) {
			x = &e[ne++];
			x->name = name;
			x->len = len;
		}
		x->removed = 0;
		x->is_tree = slash != NULL || updates[j - 1].len == TS_STORE_LINK_TREE;
		git_oid_cpy(&x->id, &id);
	}
	qsort(e, ne, sizeof(*e), tree_entry_cmp);
	for (i = 0; i < ne; i++) {
		if (e[i].removed)
			continue;
		ts_buf__puts(&raw, e[i].is_tree ? "40000 " : "100644 ");
		ts_buf__put(&raw, e[i].name, e[i].len);
		ts_buf__putc(&raw, '\0');
		ts_buf__put(&raw, e[i].id.id, GIT_OID_RAWSZ);
	}
	if (ts_buf__oom(&raw)) {
		error = TS_ERROR;
		goto done;
	}
	if (raw.size == 0)
		*empty = 1;
	else if ((error = ts_batch__put(store->batch, out, GIT_OBJECT_TREE, raw.ptr, raw.size)) == 0)
		ts_rawtree__keep(store->trees, out, raw.ptr, raw.size);
done:
	ts_buf__dispose(&raw);
	ts_buf__dispose(&base_raw);
	free(e);
	return error;
}

int ts_store__tree_update(git_oid *out, ts_store *store, const git_oid *base,
	ts_store_update *updates, size_t n)
{
	int empty = 0, error;

	if (n == 0 && base) {
		git_oid_cpy(out, base);
		return 0;
	}
	if (n)
		qsort(updates, n, sizeof(*updates), update_cmp);
	if ((error = rebuild_tree(out, &empty, store, base, updates, n, 0)) < 0)
		return error;
	if (empty)   /* the empty tree, as git writes it */
		return ts_batch__put(store->batch, out, GIT_OBJECT_TREE, "", 0);
	return 0;
}

static int has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);
	return n >= k && !strcmp(s + n - k, suffix);
}

int ts_store__flush(ts_store *store)
{
	return ts_batch__flush(store->batch);
}

/* Nothing is known readable any more (ts_store__readable()). */
static void forget_readable(ts_store *store)
{
	memset(&store->readable, 0, sizeof(store->readable));
}

void ts_store__discard(ts_store *store)
{
	/* deferred commits' objects are among those waiting: a failed
	 * commit's own stay beside them, unreferenced (content-addressed,
	 * they harm nothing) */
	if (!store->deferred) {
		ts_batch__discard(store->batch);
		forget_readable(store);
	}
}

void ts_store__defer(ts_store *store, const git_oid *head)
{
	store->deferred = 1;
	git_oid_cpy(&store->deferred_head, head);
}

int ts_store__defer_commits(ts_store *store, int on)
{
	store->may_defer = on;
	return on ? 0 : ts_store__publish(store);
}

int ts_store__defers_commits(const ts_store *store)
{
	return store->may_defer;
}

int ts_store__publish(ts_store *store)
{
	git_oid now;
	int held, error;

	if (!store || !store->deferred)
		return 0;
	held = store->lock_fd >= 0;
	if (!held && (error = ts_store__lock(store)) < 0)
		return error;
	if ((error = ts_store__flush(store)) == 0) {
		/* it moves forward only: another writer may have moved it past
		 * the deferred head since (a head holding it, where it stays) */
		if (git_reference_name_to_id(&now, store->repo, TS_STORE_MAIN) == 0 &&
		    !git_oid_equal(&now, &store->deferred_head) &&
		    git_graph_descendant_of(store->repo, &store->deferred_head, &now) != 1)
			store->deferred = 0;
		else
			error = ts_store__ref_set(store, TS_STORE_MAIN, &store->deferred_head, "commit");
	}
	if (!held)
		ts_store__unlock(store);
	return error;
}

void ts_store__reuse_objects(ts_store *store, int on)
{
	ts_batch__reuse(store->batch, on);
}

static int make_signature(git_signature **out, const ts_store_who *who)
{
	if (git_signature_new(out, who->name, who->node, (git_time_t)who->time, who->offset) < 0)
		return ts_store__git_error(TS_EINVALID, "making a signature");
	return 0;
}

/* A signature line as git writes it: "<header><name> <<email>> <time> <+hhmm>". */
static void put_signature(ts_buf *b, const char *header, const git_signature *sig)
{
	int offset = sig->when.offset < 0 ? -sig->when.offset : sig->when.offset;
	char sign = sig->when.offset < 0 || sig->when.sign == '-' ? '-' : '+';

	ts_buf__printf(b, "%s%s <%s> %u %c%02d%02d\n", header, sig->name, sig->email,
		(unsigned)sig->when.time, sign, offset / 60, offset % 60);
}

/*
 * The commit's bytes are made here, as git_commit_create_buffer() makes
 * them, from the ids alone: it would read the tree and every parent only
 * to check that they are there, and they are (the tree was just built on
 * the parent).
 */
int ts_store__commit(git_oid *out, ts_buf *raw, ts_store *store, const git_oid *tree,
	const git_oid *parents, size_t nparents, const ts_store_who *author,
	const ts_store_who *committer, const char *message)
{
	git_signature *a = NULL, *c = NULL;
	ts_buf buf = TS_BUF_INIT, signed_raw = TS_BUF_INIT;
	char hex[GIT_OID_HEXSZ + 1];
	const char *bytes;
	size_t i, len;
	int error;

	if (nparents > 8)
		return ts_error_set(TS_EINVALID, "too many parents");
	if ((error = make_signature(&a, author)) < 0 || (error = make_signature(&c, committer)) < 0)
		goto done;
	ts_buf__printf(&buf, "tree %s\n", git_oid_tostr(hex, sizeof(hex), tree));
	for (i = 0; i < nparents; i++)
		ts_buf__printf(&buf, "parent %s\n", git_oid_tostr(hex, sizeof(hex), &parents[i]));
	put_signature(&buf, "author ", a);
	put_signature(&buf, "committer ", c);
	ts_buf__puts(&buf, "encoding UTF-8\n\n");
	ts_buf__puts(&buf, message);
	if (ts_buf__oom(&buf)) {
		error = TS_ERROR;
		goto done;
	}
	bytes = buf.ptr;
	len = buf.size;
	if (store->signer) {
		if ((error = ts_sshsig__commit_sign(&signed_raw, store->signer, buf.ptr, buf.size)) < 0)
			goto done;
		bytes = signed_raw.ptr;
		len = signed_raw.size;
	}
	if ((error = ts_store__write_raw_commit(out, store, bytes, len)) < 0)
		goto done;
	git_oid_cpy(&store->made, out);
	git_oid_cpy(&store->made_tree, tree);
	if (raw) {
		ts_buf__put(raw, bytes, len);
		if (ts_buf__oom(raw))
			error = TS_ERROR;
	}
done:
	git_signature_free(a);
	git_signature_free(c);
	ts_buf__dispose(&buf);
	ts_buf__dispose(&signed_raw);
	return error < 0 ? error : 0;
}

struct ts_store_blob_writer {
	git_odb *odb;
	git_odb_stream *ws;
};

void ts_store__blob_free(ts_store_blob_writer *w)
{
	if (!w)
		return;
	git_odb_stream_free(w->ws);
	git_odb_free(w->odb);
	free(w);
}

int ts_store__blob_open(ts_store_blob_writer **out, ts_store *store, uint64_t size)
{
	char objects[4096];
	git_odb_backend *loose = NULL;
	ts_store_blob_writer *w;

	*out = NULL;
	if (!(w = calloc(1, sizeof(*w))))
		return ts_error_set(TS_ERROR, "out of memory");
	snprintf(objects, sizeof(objects), "%sobjects", git_repository_path(store->repo));
	if (git_odb_new(&w->odb) < 0 || git_odb_backend_loose(&loose, objects, Z_BEST_SPEED, 1, 0, 0) < 0)
		goto fail;
	if (git_odb_add_backend(w->odb, loose, 1) < 0) {
		loose->free(loose);
		goto fail;
	}
	if (git_odb_open_wstream(&w->ws, w->odb, (git_object_size_t)size, GIT_OBJECT_BLOB) < 0)
		goto fail;
	*out = w;
	return 0;
fail:
	ts_store__blob_free(w);
	return ts_store__git_error(TS_ERROR, "storing a file");
}

int ts_store__blob_write(ts_store_blob_writer *w, const void *data, size_t len)
{
	if (git_odb_stream_write(w->ws, (const char *)data, len) < 0)
		return ts_store__git_error(TS_ERROR, "storing a file");
	return 0;
}

int ts_store__blob_finish(git_oid *out, ts_store_blob_writer *w)
{
	int error = 0;

	if (git_odb_stream_finalize_write(out, w->ws) < 0)
		error = ts_store__git_error(TS_ERROR, "storing a file");
	ts_store__blob_free(w);
	return error;
}

int ts_store__put_blob(git_oid *out, ts_store *store, const void *data, size_t len)
{
	return ts_batch__put(store->batch, out, GIT_OBJECT_BLOB, data, len);
}

int ts_store__write_raw_commit(git_oid *out, ts_store *store, const char *raw, size_t len)
{
	int error = ts_batch__put(store->batch, out, GIT_OBJECT_COMMIT, raw, len);
	if (error == 0)   /* the next commit begins by asking whether the head, this one, is there */
		git_oid_cpy(&store->readable, out);
	return error;
}

int ts_store__ref_get(git_oid *out, ts_store *store, const char *ref)
{
	int error;

	if (store->deferred && !strcmp(ref, TS_STORE_MAIN)) {
		git_oid_cpy(out, &store->deferred_head);
		return 0;
	}
	error = git_reference_name_to_id(out, store->repo, ref);
	if (error == GIT_ENOTFOUND)
		return ts_error_set(TS_ENOTFOUND, "no ref %s", ref);
	if (error < 0)
		return ts_store__git_error(TS_ECORRUPT, ref);
	return 0;
}

/*
 * Moves main by exchange: the new "<id>\n" is written into a spare file of
 * the repository's (kept, so no file is made or freed), and
 * renameat2(RENAME_EXCHANGE) swaps it with the ref's file in one step, as
 * a rename through a lock file would replace it, for about a tenth of the
 * cost (making a lock file and freeing the old one are what a one-row
 * commit's ref cost). The spare then holds main's old id, read by nobody.
 * Neither is synced, as git's are not: after a power loss main may name
 * one of its earlier commits (the spare's bytes), which the next open
 * corrects from the database's head, as it does a ref that lost its
 * rename. So only main, whose truth is the database's, moves this way; only
 * with the store's lock held, which every writer of this repository's
 * refs takes; and only where main is a plain loose file with no reflog.
 * 1 when done, 0 when the caller is to move the ref the usual way.
 */
static int ref_swap(ts_store *store, const char *ref, const git_oid *commit)
{
	char path[4200], spare[4200], line[GIT_OID_HEXSZ + 1];
	struct stat st;
	int fd, done;

	if (!store->swap_refs || store->lock_fd < 0 || strcmp(ref, TS_STORE_MAIN) ||
	    git_reference_has_log(store->repo, ref) != 0)
		return 0;
	snprintf(path, sizeof(path), "%s%s", git_repository_path(store->repo), ref);
	if (lstat(path, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size != GIT_OID_HEXSZ + 1)
		return 0;
	snprintf(spare, sizeof(spare), "%stiersync-ref.spare", git_repository_path(store->repo));
	git_oid_fmt(line, commit);
	line[GIT_OID_HEXSZ] = '\n';
	if ((fd = open(spare, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644)) < 0)
		return 0;
	/* a file another name links to (a copy of the repository made with
	 * hard links, a backup's) is never written into: it goes, and this
	 * move takes the usual way; the next makes a spare of its own */
	if (fstat(fd, &st) < 0 || st.st_nlink != 1) {
		close(fd);
		unlink(spare);
		return 0;
	}
	/* the spare held an id before: no truncation (which costs as much as
	 * the lock file saved), and the length is checked after */
	done = pwrite(fd, line, sizeof(line), 0) == (ssize_t)sizeof(line) &&
		(st.st_size <= (off_t)sizeof(line) || ftruncate(fd, sizeof(line)) == 0);
	if (close(fd) < 0 || !done)
		return 0;
	return renameat2(AT_FDCWD, spare, AT_FDCWD, path, RENAME_EXCHANGE) == 0;
}

int ts_store__ref_set(ts_store *store, const char *ref, const git_oid *commit, const char *why)
{
	git_reference *r = NULL;
	int error;

	if ((error = ref_swap(store, ref, commit)) == 0) {
		if ((error = ts_store__ref_intent(store, ref)) < 0)
			return error;
		error = git_reference_create(&r, store->repo, ref, commit, 1, why);
		ts_store__ref_intent_done(store);
		git_reference_free(r);
		if (error < 0)
			return ts_store__git_error(TS_ERROR, ref);
	}
	if (!strcmp(ref, TS_STORE_MAIN))
		store->deferred = 0;
	head_moved(store, ref);
	return 0;
}

int ts_store__has(ts_store *store, const git_oid *id)
{
	git_odb *odb = NULL;
	int has;

	if (git_repository_odb(&odb, ts_store__repo(store)) < 0)
		return 0;
	has = git_odb_exists(odb, id);
	git_odb_free(odb);
	return has;
}

int ts_store__readable(ts_store *store, const git_oid *id)
{
	git_odb_object *obj = NULL;
	git_oid check;
	int ok;

	if (!git_oid_is_zero(id) && git_oid_equal(&store->readable, id))
		return 1;
	if (git_odb_read(&obj, store->odb, id) < 0)
		return 0;
	git_odb_hash(&check, git_odb_object_data(obj), git_odb_object_size(obj), git_odb_object_type(obj));
	if ((ok = git_oid_equal(&check, id)))
		git_oid_cpy(&store->readable, id);
	git_odb_object_free(obj);
	return ok;
}

int ts_store__entry_at(git_oid *out, ts_store *store, const git_oid *tree, const char *path)
{
	return ts_rawtree__entry_at(out, NULL, store->trees, store->odb, tree, path);
}

int ts_store__commit_tree(git_oid *out, ts_store *store, const git_oid *commit)
{
	git_commit *c = NULL;
	if (git_oid_equal(commit, &store->made) && !git_oid_is_zero(commit)) {
		git_oid_cpy(out, &store->made_tree);
		return 0;
	}
	if (git_commit_lookup(&c, ts_store__repo(store), commit) < 0)
		return ts_store__git_error(TS_ECORRUPT, "reading a commit");
	git_oid_cpy(out, git_commit_tree_id(c));
	git_commit_free(c);
	return 0;
}

typedef struct {
	char *name;       /* "pack-<id>", without the suffix */
	off_t size;
} pack_file;

static int pack_size_cmp(const void *a, const void *b)
{
	off_t x = ((const pack_file *)a)->size, y = ((const pack_file *)b)->size;
	return x < y ? -1 : x > y;
}

/* Deletes the packs `names` ("pack-<id>") of `dir`, combined into another,
 * and tells libgit2 to look again. */
static void remove_packs(ts_store *store, const char *dir, char *const *names, size_t n)
{
	char path[4096 + 512];
	size_t i;

	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s.pack", dir, names[i]);
		unlink(path);
		snprintf(path, sizeof(path), "%s/%s.idx", dir, names[i]);
		unlink(path);
	}
	git_odb_refresh(store->odb);
}

int ts_store__maintain(ts_store *store, int bulk)
{
	char dir[4096], path[4096 + 512];
	pack_file *packs = NULL;
	size_t npacks = 0, merge, i;
	off_t sum;
	char **names = NULL, combined[64];
	struct dirent *de;
	DIR *d;
	int error = 0;

	pack_dir(dir, sizeof(dir), store->repo);
	if (!(d = opendir(dir)))
		return 0;
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name);
		struct stat st;
		pack_file *grown;
		if (strncmp(de->d_name, "pack-", 5) || !has_suffix(de->d_name, ".pack"))
			continue;
		snprintf(path, sizeof(path), "%s/%.*s.idx", dir, (int)len - 5, de->d_name);
		if (stat(path, &st) < 0)
			continue;   /* no index yet: not a pack anyone reads */
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (stat(path, &st) < 0 || st.st_size >= (bulk ? TS_STORE_COMBINED_MAX : TS_STORE_BULK_PACK))
			continue;
		if (!(grown = realloc(packs, (npacks + 1) * sizeof(*packs))) ||
		    !(grown[npacks].name = strndup(de->d_name, len - 5))) {
			packs = grown ? grown : packs;
			error = ts_error_set(TS_ERROR, "out of memory");
			goto done;
		}
		packs = grown;
		packs[npacks++].size = st.st_size;
	}
	if (npacks < TS_STORE_PACK_LIMIT)
		goto done;
	/*
	 * Geometric: take the smallest packs, and each next one while it is no
	 * bigger than twice what is taken so far. Big packs are left alone
	 * until enough small ones have gathered, so every byte is rewritten
	 * a logarithmic number of times, not at every checkpoint. And at least
	 * enough of the smallest to leave half the limit in all: a tiny pack (one a
	 * fetch of nothing new writes) would otherwise stop the progression at
	 * its first step, checkpoint after checkpoint. Never past
	 * TS_STORE_COMBINED_MAX in all.
	 */
	qsort(packs, npacks, sizeof(*packs), pack_size_cmp);
	for (merge = 1, sum = packs[0].size; merge < npacks; merge++) {
		if (sum + packs[merge].size > TS_STORE_COMBINED_MAX ||
		    (packs[merge].size > 2 * sum && merge >= npacks + 1 - TS_STORE_PACK_LIMIT / 2))
			break;
		sum += packs[merge].size;
	}
	if (merge < 2)
		goto done;
	if (!(names = malloc(merge * sizeof(*names)))) {
		error = ts_error_set(TS_ERROR, "out of memory");
		goto done;
	}
	for (i = 0; i < merge; i++)
		names[i] = packs[i].name;
	/* made durable there, before its parts go */
	if ((error = ts_pack__combine(combined, dir, names, merge, 1)) == 0)
		remove_packs(store, dir, names, merge);
done:
	closedir(d);
	free(names);
	for (i = 0; i < npacks; i++)
		free(packs[i].name);
	free(packs);
	return error;
}

/*
 * The refs whose lock files the holder of the store lock is about to take
 * are written in tiersync.lock itself, one a line, and emptied once the
 * write is over. A holder killed in between leaves them named there: the
 * next holder removes their lock files, which no one else took since (a
 * writer finds the lock file there and gives up). The one case it can get
 * wrong: a holder killed after its rename but before emptying, and a push
 * stock git is receiving (which does not take the store lock) taking the
 * same ref's lock right then; that push then fails, whole, and is made
 * again.
 */
#define INTENT_MAX 4096

static void release_dead_ref_locks(ts_store *store)
{
	char text[INTENT_MAX + 1], path[4096 + 512];
	char *line, *next;
	ssize_t n = pread(store->lock_fd, text, INTENT_MAX, 0);
	int valid;

	if (n <= 0)
		return;
	text[n] = '\0';
	for (line = text; *line; line = next) {
		if ((next = strchr(line, '\n')))
			*next++ = '\0';
		else
			next = line + strlen(line);
		if (strncmp(line, "refs/", 5) || git_reference_name_is_valid(&valid, line) < 0 || !valid)
			continue;
		snprintf(path, sizeof(path), "%s%s.lock", git_repository_path(store->repo), line);
		unlink(path);
	}
	if (ftruncate(store->lock_fd, 0) < 0)
		return;   /* named again by the next write, removed by the next holder */
}

int ts_store__ref_intent(ts_store *store, const char *ref)
{
	size_t len = strlen(ref);
	char line[INTENT_MAX];

	if (store->lock_fd < 0)
		return 0;
	if (len + 1 > sizeof(line))
		return ts_error_set(TS_EINVALID, "ref name too long: %.64s...", ref);
	memcpy(line, ref, len);
	line[len++] = '\n';
	if (pwrite(store->lock_fd, line, len, 0) != (ssize_t)len || ftruncate(store->lock_fd, (off_t)len) < 0)
		return ts_error_set(TS_ERROR, "writing %stiersync.lock: %s", git_repository_path(store->repo),
			strerror(errno));
	return 0;
}

void ts_store__ref_intent_done(ts_store *store)
{
	if (store->lock_fd >= 0 && ftruncate(store->lock_fd, 0) < 0)
		return;   /* the next holder removes a lock file only if it is there */
}

int ts_store__lock(ts_store *store)
{
	char path[4096];

	if (store->lock_fd >= 0)
		return 0;
	snprintf(path, sizeof(path), "%stiersync.lock", git_repository_path(store->repo));
	if ((store->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644)) < 0)
		return ts_error_set(TS_ERROR, "opening %s: %s", path, strerror(errno));
	if (flock(store->lock_fd, LOCK_EX) < 0) {
		close(store->lock_fd);
		store->lock_fd = -1;
		return ts_error_set(TS_ERROR, "locking %s: %s", path, strerror(errno));
	}
	release_dead_ref_locks(store);
	return 0;
}

int ts_store__trylock(ts_store *store)
{
	char path[4096];

	if (store->lock_fd >= 0)
		return 1;
	snprintf(path, sizeof(path), "%stiersync.lock", git_repository_path(store->repo));
	if ((store->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644)) < 0)
		return ts_error_set(TS_ERROR, "opening %s: %s", path, strerror(errno));
	if (flock(store->lock_fd, LOCK_EX | LOCK_NB) == 0) {
		release_dead_ref_locks(store);
		return 1;
	}
	close(store->lock_fd);
	store->lock_fd = -1;
	if (errno == EWOULDBLOCK)
		return 0;
	return ts_error_set(TS_ERROR, "locking %s: %s", path, strerror(errno));
}

void ts_store__unlock(ts_store *store)
{
	if (store->lock_fd < 0)
		return;
	close(store->lock_fd);   /* releases the flock */
	store->lock_fd = -1;
}

void ts_store__clean_debris(ts_store *store)
{
	char dir[4096], path[4096 + 512];
	struct dirent *de;
	struct stat st;
	int removed = 0;
	DIR *d;

	snprintf(path, sizeof(path), "%s" TS_STORE_MAIN ".lock", git_repository_path(store->repo));
	unlink(path);
	pack_dir(dir, sizeof(dir), store->repo);
	if (!(d = opendir(dir)))
		return;
	while ((de = readdir(d))) {
		int debris = !strncmp(de->d_name, "tmp_", 4) || !strncmp(de->d_name, "pack_git2_", 10);
		if (!debris && !strncmp(de->d_name, "pack-", 5) && has_suffix(de->d_name, ".pack")) {
			snprintf(path, sizeof(path), "%s/%.*s.idx", dir, (int)strlen(de->d_name) - 5, de->d_name);
			debris = stat(path, &st) < 0;
		}
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		/* stock git receiving a push writes here too, without our lock: its
		 * files in progress are young, a dead writer's are old */
		if (debris && stat(path, &st) == 0 && time(NULL) - st.st_mtime > TS_STORE_DEBRIS_AGE)
			removed += unlink(path) == 0;
	}
	closedir(d);
	if (removed)
		git_odb_refresh(store->odb);
}

/* Files are hashed in chunks this big: a pack may be far larger than
 * memory should hold, and a chunk this size comes from the heap, not a
 * mapping of its own. */
#define HASH_CHUNK (64 * 1024)

/* Reads `size` bytes at `at`; 0 if all came. */
static int read_at(int fd, unsigned char *into, size_t size, off_t at)
{
	while (size > 0) {
		ssize_t got = pread(fd, into, size, at);
		if (got <= 0)
			return -1;
		into += got;
		size -= (size_t)got;
		at += got;
	}
	return 0;
}

/*
 * Hashes a file but for its last 20 bytes, and reads those 20 bytes and,
 * when `before` is not NULL, the 20 before them. A file of at most
 * TS_STORE_KEEP_INDEX bytes is read whole into `keep` (when not NULL) and
 * left there; others are read in chunks, since a pack may be far larger
 * than memory should hold. 1 if it cannot be read or is shorter than
 * `min`; an error when memory runs out (which says nothing about the file).
 */
static int file_checksums(unsigned char sum[20], unsigned char last[20], unsigned char before[20],
	ts_buf *keep, const char *path, off_t min)
{
	unsigned char *buf = NULL;
	EVP_MD_CTX *sha = NULL;
	struct stat st;
	off_t at = 0, body;
	int fd, rc = 1;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return 1;
	if (fstat(fd, &st) < 0 || st.st_size < min || st.st_size < (before ? 40 : 20))
		goto done;
	body = st.st_size - 20;
	if (keep && st.st_size <= TS_STORE_KEEP_INDEX) {
		if (ts_buf__grow(keep, (size_t)st.st_size) < 0) {
			rc = ts_error_set(TS_ERROR, "out of memory");
			goto done;
		}
		if (read_at(fd, (unsigned char *)keep->ptr, (size_t)st.st_size, 0) < 0)
			goto done;
		if (!EVP_Digest(keep->ptr, (size_t)body, sum, NULL, EVP_sha1(), NULL)) {
			rc = ts_error_set(TS_ERROR, "hashing %s", path);
			goto done;
		}
		keep->size = (size_t)st.st_size;
		memcpy(last, keep->ptr + body, 20);
		if (before)
			memcpy(before, keep->ptr + body - 20, 20);
		rc = 0;
		goto done;
	}
	if (!(buf = malloc(HASH_CHUNK)) || !(sha = EVP_MD_CTX_new())) {
		rc = ts_error_set(TS_ERROR, "out of memory");
		goto done;
	}
	if (!EVP_DigestInit_ex(sha, EVP_sha1(), NULL)) {
		rc = ts_error_set(TS_ERROR, "hashing %s", path);
		goto done;
	}
	while (at < body) {
		size_t want = body - at < HASH_CHUNK ? (size_t)(body - at) : HASH_CHUNK;
		ssize_t got = pread(fd, buf, want, at);
		if (got <= 0)
			goto done;
		if (!EVP_DigestUpdate(sha, buf, (size_t)got)) {
			rc = ts_error_set(TS_ERROR, "hashing %s", path);
			goto done;
		}
		at += got;
	}
	if (!EVP_DigestFinal_ex(sha, sum, NULL)) {
		rc = ts_error_set(TS_ERROR, "hashing %s", path);
		goto done;
	}
	if (read_at(fd, last, 20, body) < 0 || (before && read_at(fd, before, 20, body - 20) < 0))
		goto done;
	rc = 0;
done:
	EVP_MD_CTX_free(sha);
	free(buf);
	close(fd);
	if (rc != 0 && keep)
		ts_buf__clear(keep);
	return rc;
}

/* 1 if a pack and its index are whole (both checksums hold and agree),
 * 0 if not, an error if that could not be found out. The index's bytes
 * are left in `idx` when it is small enough to keep. */
static int pack_whole(const char *pack_path, const char *idx_path, ts_buf *idx)
{
	unsigned char psum[20], plast[20], isum[20], ilast[20], ipack[20];
	int rc;

	/* a pack of no objects (a push of nothing new) is its 12-byte header
	 * and its checksum: whole, though short */
	if ((rc = file_checksums(psum, plast, NULL, NULL, pack_path, 32)) != 0 ||
	    (rc = file_checksums(isum, ilast, ipack, idx, idx_path, 8 + 1024 + 40)) != 0)
		return rc < 0 ? rc : 0;
	return !memcmp(psum, plast, 20) && !memcmp(ipack, plast, 20) && !memcmp(isum, ilast, 20);
}

/*
 * The indexes of the packs found whole, in memory. An index (version 2) is
 * "\377tOc", the version, 256 fan-out counts (big-endian: objects whose
 * first byte is at most i), then the sorted object ids.
 */
struct ts_store_whole {
	ts_buf *idx;
	size_t n;
};

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* 1 if the index `b` (whole, so its counts were written by its writer)
 * lists `id`. */
static int index_lists(const ts_buf *b, const git_oid *id)
{
	const unsigned char *p = (const unsigned char *)b->ptr, *ids = p + 8 + 1024;
	uint32_t lo, hi, n;

	if (b->size < 8 + 1024 + 40 || memcmp(p, "\377tOc", 4) || be32(p + 4) != 2)
		return 0;
	n = be32(p + 8 + 255 * 4);
	if ((size_t)n * GIT_OID_RAWSZ > b->size - (8 + 1024 + 40))
		return 0;
	lo = id->id[0] ? be32(p + 8 + (id->id[0] - 1) * 4) : 0;
	hi = be32(p + 8 + id->id[0] * 4);
	if (hi > n || lo > hi)
		return 0;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		int c = memcmp(ids + (size_t)mid * GIT_OID_RAWSZ, id->id, GIT_OID_RAWSZ);
		if (c == 0)
			return 1;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

int ts_store__whole_has(const ts_store_whole *whole, const git_oid *id)
{
	size_t i;
	for (i = 0; whole && i < whole->n; i++)
		if (index_lists(&whole->idx[i], id))
			return 1;
	return 0;
}

void ts_store__whole_free(ts_store_whole *whole)
{
	size_t i;
	if (!whole)
		return;
	for (i = 0; i < whole->n; i++)
		ts_buf__dispose(&whole->idx[i]);
	free(whole->idx);
	free(whole);
}

/* Keeps the index read into `idx` (left empty). */
static int whole_add(ts_store_whole *whole, ts_buf *idx)
{
	ts_buf *grown;
	if (!idx->size)
		return 0;   /* too large to keep: its objects are read through libgit2 */
	if (!(grown = realloc(whole->idx, (whole->n + 1) * sizeof(*grown))))
		return ts_error_set(TS_ERROR, "out of memory");
	whole->idx = grown;
	whole->idx[whole->n++] = *idx;
	memset(idx, 0, sizeof(*idx));
	return 0;
}

/*
 * Opens the repository again: libgit2 then sees packs rewritten under the
 * same name, and unmaps every pack the old handles read. It shares a pack
 * among the handles that name it and unmaps it only when none holds it,
 * so the old handles go first.
 */
static int reopen(ts_store *store)
{
	git_repository *repo = NULL;
	git_odb *odb = NULL, *spare = NULL;
	ts_batch *batch = NULL, *spare_batch = NULL;
	char dir[4096];
	int error;

	if (ts_batch__count(store->batch))
		return ts_error_set(TS_ERROR, "reopening the history with objects waiting");
	forget_readable(store);   /* packs may have gone (ts_store__drop_torn_packs()) */
	if (git_repository_open_bare(&repo, git_repository_path(store->repo)) < 0)
		return ts_store__git_error(TS_ECORRUPT, "reopening the history");
	pack_dir(dir, sizeof(dir), repo);
	/* an object database that cannot fail to be there, should the new
	 * one fail: reads then fail with a clear error, and nothing dangles */
	if (git_odb_new(&spare) < 0 || (error = ts_batch__attach(&spare_batch, spare, dir)) < 0) {
		error = ts_store__git_error(TS_ERROR, "reopening the history");
		git_odb_free(spare);
		git_repository_free(repo);
		return error;
	}
	git_odb_free(store->odb);
	git_repository_free(store->repo);
	store->repo = repo;
	if (git_repository_odb(&odb, repo) < 0)
		error = ts_store__git_error(TS_ECORRUPT, "reopening the history");
	else if ((error = ts_batch__attach(&batch, odb, dir)) < 0)
		git_odb_free(odb);
	if (error < 0) {
		git_repository_set_odb(repo, spare);
		store->odb = spare;
		store->batch = spare_batch;
		return error;
	}
	git_odb_free(spare);
	store->odb = odb;
	store->batch = batch;
	return 0;
}

int ts_store__unmap(ts_store *store)
{
	int error = ts_store__publish(store);
	return error < 0 ? error : reopen(store);
}

int ts_store__drop_torn_packs(ts_store *store, int64_t since_ns, int *dropped, ts_store_whole **out)
{
	char dir[4096], pack[4096 + 512], idx[4096 + 512];
	ts_store_whole *whole = NULL;
	ts_buf kept = TS_BUF_INIT;
	struct dirent *de;
	struct stat st;
	DIR *d;
	int ok, error = 0;

	*dropped = 0;
	forget_readable(store);
	if (out && !(*out = whole = calloc(1, sizeof(*whole))))
		return ts_error_set(TS_ERROR, "out of memory");
	pack_dir(dir, sizeof(dir), store->repo);
	if (!(d = opendir(dir)))
		return 0;
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, "pack-", 5) || !has_suffix(de->d_name, ".idx"))
			continue;
		snprintf(idx, sizeof(idx), "%s/%s", dir, de->d_name);
		snprintf(pack, sizeof(pack), "%s/%.*s.pack", dir, (int)strlen(de->d_name) - 4, de->d_name);
		if (stat(idx, &st) < 0 || (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec <= since_ns)
			continue;
		ts_buf__clear(&kept);
		if ((ok = pack_whole(pack, idx, whole ? &kept : NULL)) < 0) {
			error = ok;
			break;
		}
		if (!ok) {
			unlink(idx);
			unlink(pack);
			(*dropped)++;
		} else if (whole && (error = whole_add(whole, &kept)) < 0)
			break;
	}
	closedir(d);
	ts_buf__dispose(&kept);
	if (error < 0) {
		if (out) {
			ts_store__whole_free(whole);
			*out = NULL;
		}
		return error;
	}
	/* libgit2 keeps the packs it has seen open, even once deleted, and a
	 * rewritten pack has the same name: only a fresh handle sees it */
	return *dropped ? reopen(store) : 0;
}

int ts_store__ref_reset(ts_store *store, const char *ref, const git_oid *commit)
{
	char path[4200], lock[4220], hex[GIT_OID_HEXSZ + 2];
	FILE *f;

	/* written as git writes a loose ref: "<id>\n" through a lock file; a
	 * damaged old file is never read */
	snprintf(path, sizeof(path), "%s%s", git_repository_path(store->repo), ref);
	snprintf(lock, sizeof(lock), "%s.lock", path);
	git_oid_tostr(hex, sizeof(hex), commit);
	strcat(hex, "\n");
	if (!(f = fopen(lock, "w")) || fputs(hex, f) < 0 || fclose(f) != 0 || rename(lock, path) < 0) {
		if (f)
			unlink(lock);
		return ts_error_set(TS_ERROR, "writing %s: %s", path, strerror(errno));
	}
	return 0;
}

int64_t ts_store__now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* 1 for the name of one of git's loose object directories (two hex digits). */
static int is_loose_dir(const char *name)
{
	return strlen(name) == 2 && isxdigit((unsigned char)name[0]) && isxdigit((unsigned char)name[1]);
}

/* Syncs what `dir` holds, then `dir` itself: its files, or with `loose`,
 * the files of its loose object directories. A directory that is not there
 * holds nothing to sync. 0, or -1 with errno set. */
static int sync_files_in(const char *dir, int loose)
{
	char path[4096];
	struct dirent *e;
	DIR *d = opendir(dir);
	int error = 0;

	if (!d)
		return errno == ENOENT ? 0 : -1;
	while (error == 0 && (e = readdir(d)) != NULL) {
		struct stat st;
		if (e->d_name[0] == '.' || (loose && !is_loose_dir(e->d_name)) ||
		    (size_t)snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) >= sizeof(path) || lstat(path, &st) < 0)
			continue;
		if (loose && S_ISDIR(st.st_mode))
			error = sync_files_in(path, 0);
		else if (!loose && S_ISREG(st.st_mode))
			error = ts_pack__fsync(path, 0);
	}
	closedir(d);
	return error < 0 ? error : ts_pack__fsync(dir, 1);
}

/*
 * Every file under objects/ (packs, their indexes, loose objects) synced,
 * then the directories that name them. A file already on disk costs a
 * system call; syncfs(), which did this once, also waited for every other
 * write the file system had pending, a merge paying for whatever else ran.
 */
int ts_store__sync(ts_store *store)
{
	char objects[4096], pack[4200];

	snprintf(objects, sizeof(objects), "%sobjects", git_repository_path(store->repo));
	snprintf(pack, sizeof(pack), "%s/pack", objects);
	if (sync_files_in(pack, 0) < 0 || sync_files_in(objects, 1) < 0)
		return ts_error_set(TS_ERROR, "syncing %s: %s", objects, strerror(errno));
	ts_batch__forget_packs(store->batch);
	return 0;
}

size_t ts_store__flushed(ts_store *store, char *const **names)
{
	return ts_batch__packs(store->batch, names);
}

void ts_store__flushed_forget(ts_store *store)
{
	ts_batch__forget_packs(store->batch);
}

int ts_store__combine_unsynced(char out[64], ts_store *store, char *const *names, size_t n)
{
	char dir[4096], path[4096 + 512];
	char **live = NULL;
	size_t nlive = 0, i;
	int error = 0;

	out[0] = '\0';
	if (n < 2)
		return 0;
	pack_dir(dir, sizeof(dir), store->repo);
	if (!(live = malloc(n * sizeof(*live))))
		return ts_error_set(TS_ERROR, "out of memory");
	for (i = 0; i < n; i++) {
		struct stat st;
		/* a checkpoint's combining may have taken it already */
		snprintf(path, sizeof(path), "%s/%s.idx", dir, names[i]);
		if (stat(path, &st) == 0)
			live[nlive++] = names[i];
	}
	if (nlive >= 2 && (error = ts_pack__combine(out, dir, live, nlive, 0)) == 0)
		remove_packs(store, dir, live, nlive);
	free(live);
	return error;
}
