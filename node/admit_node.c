/*
 * Admission at a node: what a lower node offers (a submission being
 * merged, a push the gate is receiving) and what a pull brings from above
 * are checked by the engine's admission (sync/admit.h) against this node's
 * tables, ownership rules and limits before anything of it is written.
 */
#include <string.h>

#include "admit.h"
#include "history.h"
#include "node.h"
#include "tiers.h"

static int offer_repo(git_repository **out, ts_node *node, const char *objects_dir)
{
	git_odb *odb = NULL;
	int error = 0;

	*out = NULL;
	if (!objects_dir)
		return 0;
	if (git_repository_open_bare(out, git_repository_path(ts_store_repo(node->store))) < 0 ||
	    git_repository_odb(&odb, *out) < 0 || git_odb_add_disk_alternate(odb, objects_dir) < 0) {
		error = ts_store__git_error(TS_ERROR, "reading the offered objects");
		git_repository_free(*out);
		*out = NULL;
	}
	git_odb_free(odb);
	return error;
}

int ts_node__admit(ts_node *node, git_repository *repo, const char *from, const git_oid *theirs)
{
	ts_admit_options opts;
	git_oid head;
	int error, has_head;

	memset(&opts, 0, sizeof(opts));
	opts.db = node->db;
	opts.writer = from;
	error = ts_history_head(&head, node->db);
	if (error < 0 && error != TS_ENOTFOUND)
		return error;
	has_head = error == 0;
	return ts_admit(repo ? repo : ts_store_repo(node->store), has_head ? &head : NULL, theirs, &opts);
}

int ts_node_admit(ts_node *node, const char *from, const char *commit_hex, const char *objects_dir)
{
	git_repository *repo = NULL;
	git_oid theirs;
	int error;

	if (!node || !from || !ts_node_id_valid(from) || !commit_hex || strlen(commit_hex) != 40 ||
	    git_oid_fromstr(&theirs, commit_hex) < 0)
		return ts_error_set(TS_EINVALID, "admission needs a node id and a commit id");
	if (!ts_jurisdiction_covers(node->id, from) || !strcmp(node->id, from))
		return ts_error_set(TS_EDENIED, "%s is not a node below %s", from, node->id);
	if ((error = offer_repo(&repo, node, objects_dir)) < 0)
		return error;
	error = ts_node__admit(node, repo, from, &theirs);
	git_repository_free(repo);
	return error;
}
