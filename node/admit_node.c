/*
 * Admission at a node: what a lower node offers (a submission being
 * merged, a push the gate is receiving) and what a pull brings from above
 * are checked by the engine's admission (sync/admit.h) against this node's
 * tables, ownership rules and limits before anything of it is written.
 */
#include <stdlib.h>
#include <string.h>

#include "admit.h"
#include "capture.h"
#include "history.h"
#include "integrate.h"
#include "ownership.h"
#include "rowcodec.h"
#include "node.h"
#include "tiers.h"

/* Lets the node's repository read an offer's objects from `objects_dir`
 * too (git's quarantine of a push being received). */
static int add_offer_objects(ts_node *node, const char *objects_dir)
{
	git_odb *odb = NULL;
	int error = 0;

	if (git_repository_odb(&odb, ts_store__repo(node->store)) < 0 || git_odb_add_disk_alternate(odb, objects_dir) < 0)
		error = ts_store__git_error(TS_ERROR, "reading the offered objects");
	git_odb_free(odb);
	return error;
}

/* The tree of the best common ancestor of `head` and `theirs` in `repo`
 * (what a fetch's admission is checked against); *found 0 when none. */
static int ancestor_tree(git_oid *out, int *found, git_repository *repo, const git_oid *head,
	const git_oid *theirs)
{
	git_commit *c = NULL;
	git_oid base;

	*found = 0;
	if (git_merge_base(&base, repo, head, theirs) < 0)
		return 0;
	if (git_commit_lookup(&c, repo, &base) < 0)
		return ts_store__git_error(TS_ECORRUPT, "reading the common ancestor");
	git_oid_cpy(out, git_commit_tree_id(c));
	git_commit_free(c);
	*found = 1;
	return 0;
}

int ts_node__admit(ts_node *node, git_repository *repo, const char *from, const git_oid *theirs)
{
	ts_admit_options opts;
	ts_node__offer_keys *keys = NULL;
	git_oid head, base;
	int error, has_head, found = 0, same;

	memset(&opts, 0, sizeof(opts));
	memset(&base, 0, sizeof(base));
	opts.db = node->db;
	opts.writer = from;
	error = ts_history__head(&head, node->db);
	if (error < 0 && error != TS_ENOTFOUND)
		return error;
	has_head = error == 0;
	if (!has_head)
		memset(&head, 0, sizeof(head));
	/* checked against the base the merge uses, so that what is checked is
	 * what the merge takes from the offer; a fetch, before its objects are
	 * in the store, against the best common ancestor */
	if (has_head && (error = repo ? ancestor_tree(&base, &found, repo, &head, theirs) :
			ts_integrate__base(&base, &found, node->store, &head, theirs)) < 0)
		return error;
	opts.base_tree = found ? &base : NULL;
	opts.no_base = !found;
	/* a pull merges what its fetch admitted a moment ago: against the same
	 * head and base it is the same check, not made again; against another
	 * base (criss-cross history) only its tree is checked again */
	same = !from && git_oid_equal(theirs, &node->admitted) && git_oid_equal(&head, &node->admitted_head);
	if (same && found == node->admitted_found && (!found || git_oid_equal(&base, &node->admitted_base)))
		return 0;
	opts.commits_checked = same;
	if (!repo)
		repo = ts_store__repo(node->store);
	if ((error = ts_node__offer_keys_load(&keys, node, repo, theirs, from)) < 0)
		return error;
	opts.commit_check = ts_node__offer_commit_check;
	opts.payload = keys;
	error = ts_admit(repo, has_head ? &head : NULL, theirs, &opts);
	ts_node__offer_keys_free(keys);
	if (!error && !from) {
		git_oid_cpy(&node->admitted, theirs);
		git_oid_cpy(&node->admitted_head, &head);
		git_oid_cpy(&node->admitted_base, &base);
		node->admitted_found = found;
	}
	return error;
}

int ts_node_admit(ts_node *node, const char *from, const char *commit_hex, const char *objects_dir)
{
	git_oid theirs;
	int error;

	if (!node || !from || !ts_node_id_valid(from) || !commit_hex || strlen(commit_hex) != 40 ||
	    git_oid_fromstr(&theirs, commit_hex) < 0)
		return ts_error_set(TS_EINVALID, "admission needs a node id and a commit id");
	if (!ts_jurisdiction_covers(node->id, from) || !strcmp(node->id, from))
		return ts_error_set(TS_EDENIED, "%s is not a node below %s", from, node->id);
	if (objects_dir && (error = add_offer_objects(node, objects_dir)) < 0)
		return error;
	return ts_node__admit(node, NULL, from, &theirs);
}
