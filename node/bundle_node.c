/*
 * Bundles at a node: a submission or an update written to a file, and a
 * file taken in as a push and `merge --submissions`, or a pull, would take
 * the same commits (include/tiersync/bundle.h). The file format is
 * sync/bundle.c's; the quarantine the objects are checked in is
 * sync/quarantine.c's, the one a fetch uses.
 *
 *   create (lower node)   refs/urgent/<id> = the urgent commit on the prerequisite,
 *                           when main holds urgent reports it lacks (node/urgent_commit.c)
 *                         refs/submissions/<id> = main
 *                         prerequisite: refs/remotes/upstream/main, or --since
 *   create (for NODE)     refs/heads/main = main
 *                         prerequisite: refs/submissions/NODE, or --since
 *   import submission     -> refs/urgent/<id>, its shape checked, merged first as
 *                            "merge urgent reports of <id>"; then
 *                         -> refs/submissions/<id>, merged as "merge submission of <id>"
 *   import update         -> refs/remotes/upstream/main, merged as a pull merges
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bundle.h"
#include "error.h"
#include "node.h"
#include "quarantine.h"

#define SUBMISSIONS "refs/submissions/"
#define URGENT "refs/urgent/"
#define UPDATE_REF TS_STORE_MAIN
#define UPSTREAM_MAIN "refs/remotes/" TS_REMOTE_DEFAULT "/main"
/* the urgent commit made for the upper node, a push's and a bundle's alike */
#define URGENT_OUT "refs/urgent-out/" TS_REMOTE_DEFAULT

static void info_clear(ts_bundle_info *info)
{
	memset(info, 0, sizeof(*info));
}

/* `id` names a node strictly below this one. */
static int below(ts_node *node, const char *id, const char *what)
{
	if (!id || !ts_node_id_valid(id))
		return ts_error_set(TS_EINVALID, "'%s' is not a node id (dot-separated lowercase labels, e.g. %s.x)",
			id ? id : "", node->id);
	if (!strcmp(id, node->id) || !ts_jurisdiction_covers(node->id, id))
		return ts_error_set(TS_EDENIED, "%s %s: %s is not below %s", what, id, id, node->id);
	return 0;
}

/* The commit `rev` names, into *out. */
static int revision(git_oid *out, ts_node *node, const char *rev)
{
	git_object *obj = NULL;
	git_object *peeled = NULL;

	if (git_revparse_single(&obj, ts_store__repo(node->store), rev) < 0 ||
	    git_object_peel(&peeled, obj, GIT_OBJECT_COMMIT) < 0) {
		git_object_free(obj);
		return ts_error_set(TS_ENOTFOUND, "unknown revision '%s'", rev);
	}
	git_oid_cpy(out, git_object_id(peeled));
	git_object_free(peeled);
	git_object_free(obj);
	return 0;
}

/* The urgent commit a submission built on `prereq` carries, as
 * refs[*nrefs] (refs/urgent/<id>, named in `name`), when main holds urgent
 * reports `prereq` lacks; with no prerequisite, main carries them alone. */
static int urgent_ref(ts_bundle__ref *refs, size_t *nrefs, ts_buf *name, ts_bundle_info *out, ts_node *node,
	const git_oid *prereq)
{
	ts_urgent_push_stats urgent;
	int error;

	memset(&urgent, 0, sizeof(urgent));
	if (!prereq)
		return 0;
	if ((error = ts_urgent_commit__make(&urgent, node, prereq, URGENT_OUT)) < 0)
		return error;
	if (!urgent.commit[0])
		return 0;
	ts_buf__printf(name, URGENT "%s", node->id);
	if (ts_buf__oom(name))
		return TS_ERROR;
	refs[*nrefs].name = name->ptr;
	git_oid_fromstr(&refs[*nrefs].id, urgent.commit);
	(*nrefs)++;
	snprintf(out->urgent, sizeof(out->urgent), "%s", urgent.commit);
	out->urgent_reports = urgent.reports;
	return 0;
}

int ts_bundle_create(ts_bundle_info *out, ts_node *node, const char *path, const ts_bundle_options *opts)
{
	ts_bundle_info ignored;
	ts_buf ref = TS_BUF_INIT, known = TS_BUF_INIT, urgent = TS_BUF_INIT;
	const char *for_node = opts ? opts->for_node : NULL, *since = opts ? opts->since : NULL;
	ts_bundle__ref refs[2];
	git_oid tip, prereq;
	size_t nprereq = 0, nrefs = 0;
	int error;

	if ((error = ts_store__publish(node->store)) < 0)
		return error;
	if (!out)
		out = &ignored;
	info_clear(out);
	if (opts && (error = ts_error__version(opts->version, TS_BUNDLE_OPTIONS_VERSION, "bundle options")) < 0)
		return error;
	if (!path || !*path)
		return ts_error_set(TS_EINVALID, "a bundle needs a file to be written to");
	if (for_node) {
		if ((error = below(node, for_node, "an update for")) < 0)
			return error;
		ts_buf__puts(&ref, UPDATE_REF);
		ts_buf__printf(&known, SUBMISSIONS "%s", for_node);
	} else {
		if (node->tier == TS_TIER_CITY)
			return ts_error_set(TS_EINVALID, "%s is a city: no node above it takes a submission; a "
				"bundle from it is an update for a node below", node->id);
		ts_buf__printf(&ref, SUBMISSIONS "%s", node->id);
		ts_buf__puts(&known, UPSTREAM_MAIN);
	}
	if (ts_buf__oom(&ref) || ts_buf__oom(&known)) {
		error = TS_ERROR;
		goto done;
	}
	if ((error = ts_store__ref_get(&tip, node->store, TS_STORE_MAIN)) < 0) {
		if (error == TS_ENOTFOUND)
			error = ts_error_set(TS_ENOTFOUND, "%s has no history yet", node->id);
		goto done;
	}
	if (since) {
		if ((error = revision(&prereq, node, since)) < 0)
			goto done;
		nprereq = 1;
	} else if ((error = ts_store__ref_get(&prereq, node->store, known.ptr)) == 0) {
		nprereq = ts_store__has(node->store, &prereq) ? 1 : 0;
	} else if (error != TS_ENOTFOUND)
		goto done;
	error = 0;
	/* urgent reports first, as a push sends them */
	if (!for_node && (error = urgent_ref(refs, &nrefs, &urgent, out, node, nprereq ? &prereq : NULL)) < 0)
		goto done;
	refs[nrefs].name = ref.ptr;
	git_oid_cpy(&refs[nrefs++].id, &tip);
	if ((error = ts_bundle__write(&out->objects, &out->bytes, path, ts_store__repo(node->store), refs, nrefs,
			&prereq, nprereq, opts ? opts->compact : 0)) < 0)
		goto done;
	snprintf(out->ref, sizeof(out->ref), "%s", ref.ptr);
	snprintf(out->from, sizeof(out->from), "%s", node->id);
	git_oid_tostr(out->commit, sizeof(out->commit), &tip);
	out->prerequisites = nprereq;
done:
	ts_buf__dispose(&ref);
	ts_buf__dispose(&known);
	ts_buf__dispose(&urgent);
	return error;
}

/* Every commit from `tip` back to the prerequisites is in `repo` with its
 * root tree, and the tip's tree whole: what the merge will read. */
static int complete(git_repository *repo, const ts_bundle__header *h, const git_oid *tip, const char *path)
{
	git_revwalk *walk = NULL;
	git_commit *c = NULL;
	git_tree *t = NULL;
	git_odb *odb = NULL;
	git_oid id;
	size_t i;
	int error = 0, rc;

	if (git_revwalk_new(&walk, repo) < 0 || git_repository_odb(&odb, repo) < 0) {
		error = ts_store__git_error(TS_ERROR, "reading the bundle");
		goto done;
	}
	if (git_revwalk_push(walk, tip) < 0)
		goto missing;
	for (i = 0; i < h->nprerequisites; i++)
		if (git_revwalk_hide(walk, &h->prerequisites[i]) < 0)
			goto missing;
	while ((rc = git_revwalk_next(&id, walk)) == 0) {
		if (git_commit_lookup(&c, repo, &id) < 0 || !git_odb_exists(odb, git_commit_tree_id(c)))
			goto missing;
		git_commit_free(c);
		c = NULL;
	}
	if (rc != GIT_ITEROVER)
		goto missing;
	{
		git_index *idx = NULL;
		/* the tip's tree, every entry of it, read into an index: fails on
		 * any tree or blob the bundle and this node both lack */
		if (git_commit_lookup(&c, repo, tip) < 0 || git_commit_tree(&t, c) < 0 ||
		    git_index_new(&idx) < 0 || git_index_read_tree(idx, t) < 0) {
			git_index_free(idx);
			goto missing;
		}
		for (i = 0; i < git_index_entrycount(idx); i++)
			if (!git_odb_exists(odb, &git_index_get_byindex(idx, i)->id)) {
				git_index_free(idx);
				goto missing;
			}
		git_index_free(idx);
	}
	goto done;
missing:
	error = ts_error_set(TS_ECORRUPT, "%s is not whole: objects its commits need are neither in it nor here",
		path);
done:
	git_commit_free(c);
	git_tree_free(t);
	git_odb_free(odb);
	git_revwalk_free(walk);
	return error;
}

/* A submission comes only from a node this node enrolled itself (its row
 * of sync_signers travels to every node; enrolled_by says whose it is):
 * not from a node further down, which submits to its own upper node. */
static int enrolled_here(ts_node *node, const char *from)
{
	sqlite3_stmt *st = NULL;
	int error = 0;

	if (sqlite3_prepare_v2(node->db, "SELECT enrolled_by FROM sync_signers WHERE node_id = ?1", -1, &st,
			NULL) != SQLITE_OK)
		return ts_sqlite__error(node->db, "reading the enrolled nodes");
	sqlite3_bind_text(st, 1, from, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_ROW)
		error = ts_error_set(TS_EDENIED, "%s is not enrolled at %s", from, node->id);
	else if (strcmp((const char *)sqlite3_column_text(st, 0), node->id))
		error = ts_error_set(TS_EDENIED, "%s was enrolled by %s, not by %s: its submissions go there", from,
			(const char *)sqlite3_column_text(st, 0), node->id);
	sqlite3_finalize(st);
	return error;
}

/* The refs a bundle carries, as this node takes them: the submission of a
 * node below or an update from above (at *main), and with a submission
 * the urgent commit of the same node (at *urgent, or -1). */
static int refs_taken(int *main, int *urgent, const ts_bundle__header *h, const char *path)
{
	size_t i;

	*main = *urgent = -1;
	for (i = 0; i < h->nrefs; i++) {
		const char *name = h->refs[i].name;
		if (!strncmp(name, URGENT, strlen(URGENT)) && *urgent < 0)
			*urgent = (int)i;
		else if ((!strncmp(name, SUBMISSIONS, strlen(SUBMISSIONS)) || !strcmp(name, UPDATE_REF)) && *main < 0)
			*main = (int)i;
		else
			return ts_error_set(TS_EDENIED, "%s carries %s, a ref this node does not take (it takes %s<id> "
				"from below, with that node's %s<id>, and %s from above)", path, name, SUBMISSIONS,
				URGENT, UPDATE_REF);
	}
	if (*main < 0)
		return ts_error_set(TS_EDENIED, "%s carries only %s: urgent reports travel with the submission "
			"of the node that made them", path, h->refs[*urgent].name);
	if (*urgent >= 0 && (strncmp(h->refs[*main].name, SUBMISSIONS, strlen(SUBMISSIONS)) ||
			strcmp(h->refs[*urgent].name + strlen(URGENT), h->refs[*main].name + strlen(SUBMISSIONS))))
		return ts_error_set(TS_EDENIED, "%s carries %s with %s: a bundle carries only the urgent reports "
			"of the node whose submission it is", path, h->refs[*urgent].name, h->refs[*main].name);
	return 0;
}

/* The bundle's commit `tip` is in the quarantine, whole. */
static int commit_whole(git_repository *repo, const ts_bundle__header *h, const git_oid *tip, const char *path)
{
	git_commit *c = NULL;

	if (git_commit_lookup(&c, repo, tip) < 0)
		return ts_error_set(TS_ECORRUPT, "%s is not whole: it lacks the commit its ref names", path);
	git_commit_free(c);
	return complete(repo, h, tip, path);
}

/* Moves what was admitted in, sets the refs as a push sets them, and
 * merges them as merge --submissions does: the urgent commit (`urgent`,
 * or NULL) first. `from` NULL: an update from above, into `dst`. */
static int take_and_merge(ts_bundle_import_result *out, ts_node *node, ts_quarantine *q, const char *dst,
	const git_oid *tip, const char *from, const git_oid *urgent, const char *author)
{
	ts_buf urgent_dst = TS_BUF_INIT, msg = TS_BUF_INIT;
	const char *dsts[2];
	git_oid tips[2];
	char ignored[GIT_OID_HEXSZ + 1];
	size_t n = 0;
	int error;

	if (urgent) {
		ts_buf__printf(&urgent_dst, URGENT "%s", from);
		if (ts_buf__oom(&urgent_dst)) {
			error = TS_ERROR;
			goto done;
		}
		dsts[n] = urgent_dst.ptr;
		git_oid_cpy(&tips[n++], urgent);
	}
	dsts[n] = dst;
	git_oid_cpy(&tips[n++], tip);
	if ((error = ts_node__take_in(node, q, dsts, tips, n, 0, "bundle")) < 0)
		goto done;
	ts_quarantine__close(q);
	if (urgent) {
		ts_buf__printf(&msg, "merge urgent reports of %s\n", from);
		if (ts_buf__oom(&msg)) {
			error = TS_ERROR;
			goto done;
		}
		if ((error = ts_node_merge(ignored, &out->urgent_merge, node, urgent_dst.ptr, author, msg.ptr)) < 0)
			goto done;
		out->urgent_merged = 1;
		ts_buf__clear(&msg);
	}
	if (from)
		ts_buf__printf(&msg, "merge submission of %s\n", from);
	else
		ts_buf__printf(&msg, "merge %s's main (bundle)\n", TS_REMOTE_DEFAULT);
	error = ts_buf__oom(&msg) ? TS_ERROR : ts_node_merge(out->head, &out->merge, node, dst, author, msg.ptr);
done:
	ts_buf__dispose(&urgent_dst);
	ts_buf__dispose(&msg);
	return error;
}

int ts_bundle_import(ts_bundle_import_result *out, ts_node *node, const char *path, const char *author,
	const ts_bundle_options *opts)
{
	ts_bundle_import_result ignored;
	ts_bundle__header h;
	ts_quarantine q = TS_QUARANTINE_INIT;
	git_repository *repo = ts_store__repo(node->store);
	ts_buf dst = TS_BUF_INIT;
	const char *name, *from = NULL;
	git_commit *c = NULL;
	git_oid tip, head, known, urgent;
	char hex[GIT_OID_HEXSZ + 1];
	size_t i;
	int error, main_at, urgent_at;

	if ((error = ts_store__publish(node->store)) < 0)
		return error;
	if (!out)
		out = &ignored;
	memset(out, 0, sizeof(*out));
	memset(&h, 0, sizeof(h));
	if (opts && (error = ts_error__version(opts->version, TS_BUNDLE_OPTIONS_VERSION, "bundle options")) < 0)
		return error;
	if (!path || !*path)
		return ts_error_set(TS_EINVALID, "no bundle file named");
	if ((error = ts_bundle__read_header(&h, path)) < 0)
		return error;
	out->bundle.bytes = h.size;
	out->bundle.prerequisites = h.nprerequisites;
	if ((error = refs_taken(&main_at, &urgent_at, &h, path)) < 0)
		goto done;
	name = h.refs[main_at].name;
	git_oid_cpy(&tip, &h.refs[main_at].id);
	snprintf(out->bundle.ref, sizeof(out->bundle.ref), "%s", name);
	git_oid_tostr(out->bundle.commit, sizeof(out->bundle.commit), &tip);
	if (urgent_at >= 0) {
		git_oid_cpy(&urgent, &h.refs[urgent_at].id);
		git_oid_tostr(out->bundle.urgent, sizeof(out->bundle.urgent), &urgent);
	}
	/* which ref, and from whom: the only two a node takes */
	if (!strncmp(name, SUBMISSIONS, strlen(SUBMISSIONS))) {
		from = name + strlen(SUBMISSIONS);
		if (!ts_node_id_valid(from) || !strcmp(from, node->id) || !ts_jurisdiction_covers(node->id, from)) {
			error = ts_error_set(TS_EDENIED, "%s is a submission of %s, which is not a node below %s",
				path, from, node->id);
			goto done;
		}
		if ((error = ts_node_signer_check(node, from, NULL)) < 0 || (error = enrolled_here(node, from)) < 0) {
			error = ts_error_set(TS_EDENIED, "%s is a submission of %s: %s", path, from, ts_error_last());
			goto done;
		}
		out->submission = 1;
		snprintf(out->bundle.from, sizeof(out->bundle.from), "%s", from);
		ts_buf__puts(&dst, name);
	} else {
		if (node->tier == TS_TIER_CITY) {
			error = ts_error_set(TS_EDENIED, "%s is an update from above, and %s is a city: no node is "
				"above it", path, node->id);
			goto done;
		}
		ts_buf__puts(&dst, UPSTREAM_MAIN);
	}
	if (ts_buf__oom(&dst)) {
		error = TS_ERROR;
		goto done;
	}
	/* what it builds on must be here */
	for (i = 0; i < h.nprerequisites; i++) {
		int have = ts_store__has(node->store, &h.prerequisites[i]) &&
			git_commit_lookup(&c, repo, &h.prerequisites[i]) == 0;
		git_commit_free(c);
		c = NULL;
		if (!have) {
			error = ts_error_set(TS_EDENIED, "%s builds on commit %s, which this node lacks (the bundle "
				"was made for a node that holds more, or another deployment)", path,
				git_oid_tostr(hex, sizeof(hex), &h.prerequisites[i]));
			goto done;
		}
	}
	/* the objects checked whole in a quarantine: nothing of a refused
	 * bundle is left in the node's objects */
	if ((error = ts_quarantine__open(&q, repo, NULL)) < 0 ||
	    (error = ts_bundle__unpack(&out->bundle.objects, q.repo, path, &h, opts ? opts->progress : NULL,
			opts ? opts->payload : NULL)) < 0)
		goto done;
	if ((error = commit_whole(q.repo, &h, &tip, path)) < 0 ||
	    (urgent_at >= 0 && (error = commit_whole(q.repo, &h, &urgent, path)) < 0))
		goto done;
	/* the urgent commit as the gate takes refs/urgent/<id>: its shape,
	 * then admission; refused, it refuses the whole bundle */
	if (urgent_at >= 0 && (error = ts_node__admit_urgent(node, q.repo, from, &urgent)) < 0) {
		error = ts_error_set(error, "%s refused: %s", path, ts_error_last());
		goto done;
	}
	if ((error = ts_store__ref_get(&head, node->store, TS_STORE_MAIN)) < 0)
		goto done;
	/* the main of the node above only grows: an update that does not hold
	 * what was last taken from above is another deployment's, or a
	 * history rewritten */
	if (!from && ts_store__ref_get(&known, node->store, dst.ptr) == 0 && !git_oid_equal(&known, &tip) &&
	    git_graph_descendant_of(q.repo, &tip, &known) != 1) {
		if (git_graph_descendant_of(q.repo, &known, &tip) == 1) {
			out->nothing_new = 1;    /* an older update */
			git_oid_tostr(out->head, sizeof(out->head), &head);
			goto done;
		}
		error = ts_error_set(TS_EDENIED, "%s does not hold commit %.12s, the main of the node above as "
			"last taken here: it is another deployment's, or that history was rewritten", path,
			git_oid_tostr(hex, sizeof(hex), &known));
		goto done;
	}
	if (git_oid_equal(&head, &tip) || git_graph_descendant_of(q.repo, &head, &tip) == 1) {
		out->nothing_new = 1;
		git_oid_tostr(out->head, sizeof(out->head), &head);
		goto done;
	}
	if ((error = ts_node__admit(node, q.repo, from, &tip)) < 0) {
		error = ts_error_set(error, "%s refused: %s", path, ts_error_last());
		goto done;
	}
	error = take_and_merge(out, node, &q, dst.ptr, &tip, from, urgent_at >= 0 ? &urgent : NULL, author);
done:
	git_commit_free(c);
	ts_quarantine__close(&q);
	ts_bundle__header_dispose(&h);
	ts_buf__dispose(&dst);
	return error;
}
