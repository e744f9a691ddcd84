/*
 * The history store on libgit2: row blobs, fan-out trees, commits, refs.
 *
 * Trees are changed with git_tree_create_updated(), which rewrites only the
 * trees on the paths of the changed rows, so a commit costs what it
 * changes, not what the table holds. Small commits write loose objects;
 * bulk writes (an import, a full rebuild) go through an in-memory pack that
 * is written as one packfile.
 *
 * Durability is not this file's job: objects are written without fsync
 * (cheap), and the node keeps, in its database transaction, what it needs
 * to write them again identically (see node/node.c, "journal").
 */
#include "store.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <git2/sys/mempack.h>
#include <git2/sys/odb_backend.h>

#include "tiersync.h"

struct ts_store {
	git_repository *repo;
	git_odb *odb;
	/* Bulk mode: a second handle on the same repository whose object
	 * database writes into memory. */
	git_repository *bulk_repo;
	git_odb_backend *mempack;
};

int ts_store__git_error(int code, const char *what)
{
	const git_error *e = git_error_last();
	return ts_error_set(code, "%s: %s", what, e && e->message ? e->message : "unknown libgit2 error");
}

int ts_store_open(ts_store **out, const char *gitdir, int create)
{
	ts_store *store;
	int error;

	*out = NULL;
	if (!(store = calloc(1, sizeof(*store))))
		return ts_error_set(TS_ERROR, "out of memory");
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
	*out = store;
	return 0;
fail:
	ts_store_free(store);
	return error;
}

void ts_store_free(ts_store *store)
{
	if (!store)
		return;
	git_repository_free(store->bulk_repo);
	git_odb_free(store->odb);
	git_repository_free(store->repo);
	free(store);
}

git_repository *ts_store_repo(ts_store *store)
{
	return store->bulk_repo ? store->bulk_repo : store->repo;
}

static int update_cmp(const void *a, const void *b)
{
	return strcmp(((const ts_store_update *)a)->path, ((const ts_store_update *)b)->path);
}

int ts_store_tree_update(git_oid *out, ts_store *store, const git_oid *base,
	ts_store_update *updates, size_t n)
{
	git_repository *repo = ts_store_repo(store);
	git_tree_update *ops = NULL;
	git_tree *base_tree = NULL;
	git_odb *odb = NULL;
	size_t i;
	int error;

	if ((error = git_repository_odb(&odb, repo)) < 0)
		return ts_store__git_error(TS_ERROR, "opening the object database");
	if (base && (error = git_tree_lookup(&base_tree, repo, base)) < 0) {
		error = ts_store__git_error(TS_ECORRUPT, "reading the base tree");
		goto done;
	}
	if (n == 0 && base) {
		git_oid_cpy(out, base);
		goto done;
	}
	if (!(ops = calloc(n, sizeof(*ops)))) {
		error = ts_error_set(TS_ERROR, "out of memory");
		goto done;
	}
	qsort(updates, n, sizeof(*updates), update_cmp);
	for (i = 0; i < n; i++) {
		ops[i].path = updates[i].path;
		if (!updates[i].data) {
			ops[i].action = GIT_TREE_UPDATE_REMOVE;
			continue;
		}
		ops[i].action = GIT_TREE_UPDATE_UPSERT;
		ops[i].filemode = GIT_FILEMODE_BLOB;
		if ((error = git_odb_write(&ops[i].id, odb, updates[i].data, updates[i].len, GIT_OBJECT_BLOB)) < 0) {
			error = ts_store__git_error(TS_ERROR, "writing a row blob");
			goto done;
		}
	}
	if ((error = git_tree_create_updated(out, repo, base_tree, n, ops)) < 0)
		error = ts_store__git_error(TS_ERROR, "writing trees");
done:
	free(ops);
	git_tree_free(base_tree);
	git_odb_free(odb);
	return error < 0 ? error : 0;
}

int ts_store_bulk_begin(ts_store *store)
{
	git_odb_backend *mempack = NULL;
	git_odb *odb = NULL;
	int error;

	if (store->bulk_repo)
		return ts_error_set(TS_ERROR, "bulk mode already on");
	if ((error = git_repository_open_bare(&store->bulk_repo, git_repository_path(store->repo))) < 0 ||
	    (error = git_repository_odb(&odb, store->bulk_repo)) < 0 ||
	    (error = git_mempack_new(&mempack)) < 0)
		goto done;
	if ((error = git_odb_add_backend(odb, mempack, 999)) < 0) {
		mempack->free(mempack);   /* not taken by the odb */
		goto done;
	}
	store->mempack = mempack;
done:
	git_odb_free(odb);
	if (error < 0) {
		error = ts_store__git_error(TS_ERROR, "starting a bulk write");
		git_repository_free(store->bulk_repo);
		store->bulk_repo = NULL;
	}
	return error < 0 ? error : 0;
}

int ts_store_bulk_end(ts_store *store)
{
	git_buf pack = GIT_BUF_INIT;
	git_odb_writepack *writer = NULL;
	git_indexer_progress stats = {0};
	int error;

	if (!store->bulk_repo)
		return ts_error_set(TS_ERROR, "bulk mode is off");
	if ((error = git_mempack_dump(&pack, store->bulk_repo, store->mempack)) < 0) {
		error = ts_store__git_error(TS_ERROR, "packing objects");
		goto done;
	}
	if ((error = git_odb_write_pack(&writer, store->odb, NULL, NULL)) < 0 ||
	    (error = writer->append(writer, pack.ptr, pack.size, &stats)) < 0 ||
	    (error = writer->commit(writer, &stats)) < 0) {
		error = ts_store__git_error(TS_ERROR, "writing a pack");
		goto done;
	}
	/* the main handle must see the new pack */
	git_odb_refresh(store->odb);
done:
	if (writer)
		writer->free(writer);
	git_buf_dispose(&pack);
	git_repository_free(store->bulk_repo);
	store->bulk_repo = NULL;
	store->mempack = NULL;
	return error < 0 ? error : 0;
}

static int make_signature(git_signature **out, const ts_store_who *who)
{
	if (git_signature_new(out, who->name, who->node, (git_time_t)who->time, who->offset) < 0)
		return ts_store__git_error(TS_EINVALID, "making a signature");
	return 0;
}

int ts_store_commit(git_oid *out, ts_buf *raw, ts_store *store, const git_oid *tree,
	const git_oid *parents, size_t nparents, const ts_store_who *author,
	const ts_store_who *committer, const char *message)
{
	git_repository *repo = ts_store_repo(store);
	git_signature *a = NULL, *c = NULL;
	git_commit *parent_objs[8] = {0};
	git_tree *tree_obj = NULL;
	git_buf buf = GIT_BUF_INIT;
	size_t i;
	int error;

	if (nparents > 8)
		return ts_error_set(TS_EINVALID, "too many parents");
	if ((error = make_signature(&a, author)) < 0 || (error = make_signature(&c, committer)) < 0)
		goto done;
	if ((error = git_tree_lookup(&tree_obj, repo, tree)) < 0) {
		error = ts_store__git_error(TS_ECORRUPT, "reading the commit's tree");
		goto done;
	}
	for (i = 0; i < nparents; i++)
		if ((error = git_commit_lookup(&parent_objs[i], repo, &parents[i])) < 0) {
			error = ts_store__git_error(TS_ECORRUPT, "reading a parent commit");
			goto done;
		}
	if ((error = git_commit_create_buffer(&buf, repo, a, c, "UTF-8", message, tree_obj,
			nparents, (const git_commit **)parent_objs)) < 0) {
		error = ts_store__git_error(TS_ERROR, "making a commit");
		goto done;
	}
	if ((error = ts_store_write_raw_commit(out, store, buf.ptr, buf.size)) < 0)
		goto done;
	if (raw) {
		ts_buf_put(raw, buf.ptr, buf.size);
		if (ts_buf_oom(raw))
			error = TS_ERROR;
	}
done:
	for (i = 0; i < nparents && i < 8; i++)
		git_commit_free(parent_objs[i]);
	git_tree_free(tree_obj);
	git_signature_free(a);
	git_signature_free(c);
	git_buf_dispose(&buf);
	return error < 0 ? error : 0;
}

int ts_store_write_raw_commit(git_oid *out, ts_store *store, const char *raw, size_t len)
{
	git_odb *odb = NULL;
	int error;

	if ((error = git_repository_odb(&odb, ts_store_repo(store))) < 0)
		return ts_store__git_error(TS_ERROR, "opening the object database");
	if ((error = git_odb_write(out, odb, raw, len, GIT_OBJECT_COMMIT)) < 0)
		error = ts_store__git_error(TS_ERROR, "writing a commit");
	git_odb_free(odb);
	return error < 0 ? error : 0;
}

int ts_store_ref_get(git_oid *out, ts_store *store, const char *ref)
{
	int error = git_reference_name_to_id(out, store->repo, ref);
	if (error == GIT_ENOTFOUND)
		return ts_error_set(TS_ENOTFOUND, "no ref %s", ref);
	if (error < 0)
		return ts_store__git_error(TS_ECORRUPT, ref);
	return 0;
}

int ts_store_ref_set(ts_store *store, const char *ref, const git_oid *commit, const char *why)
{
	git_reference *r = NULL;
	int error = git_reference_create(&r, store->repo, ref, commit, 1, why);
	git_reference_free(r);
	if (error < 0)
		return ts_store__git_error(TS_ERROR, ref);
	return 0;
}

int ts_store_has(ts_store *store, const git_oid *id)
{
	git_odb *odb = NULL;
	int has;

	if (git_repository_odb(&odb, ts_store_repo(store)) < 0)
		return 0;
	has = git_odb_exists(odb, id);
	git_odb_free(odb);
	return has;
}

int ts_store_commit_tree(git_oid *out, ts_store *store, const git_oid *commit)
{
	git_commit *c = NULL;
	if (git_commit_lookup(&c, ts_store_repo(store), commit) < 0)
		return ts_store__git_error(TS_ECORRUPT, "reading a commit");
	git_oid_cpy(out, git_commit_tree_id(c));
	git_commit_free(c);
	return 0;
}

int ts_store_sync(ts_store *store)
{
	int fd = open(git_repository_path(store->repo), O_RDONLY | O_DIRECTORY);
	int rc;

	if (fd < 0)
		return ts_error_set(TS_ERROR, "opening %s", git_repository_path(store->repo));
	rc = syncfs(fd);
	close(fd);
	if (rc < 0)
		return ts_error_set(TS_ERROR, "syncing %s", git_repository_path(store->repo));
	return 0;
}
