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
#include "meta.h"
#include "ownership.h"
#include "rowcodec.h"
#include "treediff.h"
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

/*
 * What was last admitted, in ts_meta (never synced) so that a merge run
 * apart from its fetch or from the gate's push (another process, or a node
 * opened again) knows it too: "THEIRS HEAD BASE FROM", hex commit ids, the
 * base tree's id ("-": none; a head of zeros: no head) and the offering
 * node ("-": from above). Rules, keys and limits are read as of the head,
 * so the same four mean the same check.
 */
#define ADMITTED "admitted"
#define RECORD_SIZE (3 * (GIT_OID_HEXSZ + 1) + 80)

static void admitted_record(char *out, const git_oid *theirs, const git_oid *head, const git_oid *base,
	const char *from)
{
	char t[GIT_OID_HEXSZ + 1], h[GIT_OID_HEXSZ + 1], b[GIT_OID_HEXSZ + 1];

	git_oid_tostr(t, sizeof(t), theirs);
	git_oid_tostr(h, sizeof(h), head);
	if (base)
		git_oid_tostr(b, sizeof(b), base);
	else
		strcpy(b, "-");
	snprintf(out, RECORD_SIZE, "%s %s %s %s", t, h, b, from ? from : "-");
}

int ts_node__admit(ts_node *node, git_repository *repo, const char *from, const git_oid *theirs)
{
	ts_admit_options opts;
	ts_node__offer_keys *keys = NULL;
	git_oid head, base;
	char record[RECORD_SIZE], *last;
	int error, has_head, found = 0;

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
	else if (git_oid_equal(&head, theirs) ||
	         git_graph_descendant_of(repo ? repo : ts_store__repo(node->store), &head, theirs) == 1)
		return 0;   /* nothing new */
	/* checked against the base the merge uses, so that what is checked is
	 * what the merge takes from the offer; a fetch, before its objects are
	 * in the store, against the best common ancestor */
	if (has_head && (error = repo ? ancestor_tree(&base, &found, repo, &head, theirs) :
			ts_integrate__base(&base, &found, node->store, &head, theirs)) < 0)
		return error;
	opts.base_tree = found ? &base : NULL;
	opts.no_base = !found;
	/* a pull merges what its fetch admitted a moment ago, merge
	 * --submissions what the gate admitted as it was pushed: against the
	 * same head and base it is the same check, not made again; against
	 * another base (criss-cross history, or main moved between) only its
	 * tree is checked again */
	admitted_record(record, theirs, &head, found ? &base : NULL, from);
	if ((last = ts_meta__get(node->db, ADMITTED)) && !strcmp(last, record)) {
		free(last);
		return 0;
	}
	opts.commits_checked = last && !strncmp(last, record, 2 * GIT_OID_HEXSZ + 1) &&
		!strcmp(strrchr(last, ' ') + 1, from ? from : "-");
	free(last);
	if (!repo)
		repo = ts_store__repo(node->store);
	if ((error = ts_node__offer_keys_load(&keys, node, repo, has_head ? &head : NULL, theirs, from)) < 0)
		return error;
	opts.commit_check = ts_node__offer_commit_check;
	opts.payload = keys;
	error = ts_admit(repo, has_head ? &head : NULL, theirs, &opts);
	ts_node__offer_keys_free(keys);
	/* only a record of work done: a failure to keep it costs a check later */
	if (!error)
		(void)ts_meta__set(node->db, ADMITTED, record);
	return error;
}

/* What both admissions of a lower node's offer check first: the offer's
 * commit id into *theirs, `from` a node below this one, and the offer's
 * objects (a push in quarantine) readable here. */
static int offer_from_below(git_oid *theirs, ts_node *node, const char *from, const char *commit_hex,
	const char *objects_dir)
{
	if (!node || !from || !ts_node_id_valid(from) || !commit_hex || strlen(commit_hex) != 40 ||
	    git_oid_fromstr(theirs, commit_hex) < 0)
		return ts_error_set(TS_EINVALID, "admission needs a node id and a commit id");
	if (!ts_jurisdiction_covers(node->id, from) || !strcmp(node->id, from))
		return ts_error_set(TS_EDENIED, "%s is not a node below %s", from, node->id);
	return objects_dir ? add_offer_objects(node, objects_dir) : 0;
}

int ts_node_admit(ts_node *node, const char *from, const char *commit_hex, const char *objects_dir)
{
	git_oid theirs;
	int error;

	if ((error = offer_from_below(&theirs, node, from, commit_hex, objects_dir)) < 0)
		return error;
	return ts_node__admit(node, NULL, from, &theirs);
}

/*
 * The shape of an urgent commit (refs/urgent/<id>, node/urgent_commit.c): one
 * commit on top of a commit this node's main holds, adding urgent report
 * rows and the case rows they name, and nothing else. Anything else sent
 * there is refused whole, before the usual admission.
 */
#define URGENT_DIR "urgent_reports/"
#define CASES_DIR "cases/"

typedef struct {
	git_repository *repo;
	char tip[13];
	size_t reports;
	char **named, **cases;     /* case row paths the reports name; case rows added */
	size_t nnamed, ncases;
	char *why;                 /* the first refusal's message */
} urgent_check;

static int urgent_refuse(urgent_check *u, const char *fmt, const char *path)
{
	ts_buf b = TS_BUF_INIT;

	ts_buf__printf(&b, "refused urgent commit %s: ", u->tip);
	ts_buf__printf(&b, fmt, path);
	free(u->why);
	u->why = ts_buf__detach(&b);
	return TS_EDENIED;
}

static int strings_add(char ***list, size_t *n, const char *s)
{
	char **grown = realloc(*list, (*n + 1) * sizeof(**list));
	if (!grown)
		return ts_error_set(TS_ERROR, "out of memory");
	*list = grown;
	if (!(grown[*n] = strdup(s)))
		return ts_error_set(TS_ERROR, "out of memory");
	(*n)++;
	return 0;
}

static int urgent_check_entry(const char *path, const git_tree_entry *before, const git_tree_entry *after,
	void *payload)
{
	urgent_check *u = payload;
	int urgent = !strncmp(path, URGENT_DIR, strlen(URGENT_DIR));
	git_blob *blob = NULL;
	ts_row *row = NULL;
	const ts_value *c;
	ts_buf named = TS_BUF_INIT;
	int error;

	if (!urgent && strncmp(path, CASES_DIR, strlen(CASES_DIR)))
		return urgent_refuse(u, "%s is neither an urgent report nor a case one names; an urgent commit "
			"holds nothing else", path);
	if (before || !after)
		return urgent_refuse(u, "%s is changed or removed; an urgent commit only adds urgent reports "
			"and the cases they name", path);
	if (git_tree_entry_type(after) != GIT_OBJECT_BLOB)
		return urgent_refuse(u, "%s is not a row", path);
	if (!urgent)
		return strings_add(&u->cases, &u->ncases, path);
	if (git_blob_lookup(&blob, u->repo, git_tree_entry_id(after)) < 0)
		return ts_store__git_error(TS_ECORRUPT, "reading an offered urgent report");
	error = ts_rowcodec__decode(&row, git_blob_rawcontent(blob), (size_t)git_blob_rawsize(blob));
	git_blob_free(blob);
	if (error < 0)
		return urgent_refuse(u, "%s is not a well-formed row", path);
	u->reports++;
	if ((c = ts_row__get(row, "case_id")) && c->type != SQLITE_NULL) {
		if ((error = ts_rowcodec__key_path_values(&named, "cases", 1, c)) == 0)
			error = strings_add(&u->named, &u->nnamed, named.ptr);
		ts_buf__dispose(&named);
	}
	ts_row__free(row);
	return error;
}

static int urgent_shape(ts_node *node, git_repository *repo, const git_oid *theirs)
{
	ts_treediff__callbacks cbs = { NULL, urgent_check_entry, NULL, 0 };
	git_commit *c = NULL, *parent = NULL;
	git_tree *before = NULL, *after = NULL;
	urgent_check u;
	git_oid head;
	size_t i, k;
	int error = 0;

	memset(&u, 0, sizeof(u));
	u.repo = repo;
	cbs.payload = &u;
	git_oid_tostr(u.tip, sizeof(u.tip), theirs);
	if (git_commit_lookup(&c, repo, theirs) < 0) {
		error = ts_store__git_error(TS_ECORRUPT, "reading the offered urgent commit");
		goto done;
	}
	if (git_commit_parentcount(c) != 1) {
		error = urgent_refuse(&u, "%s", "it must be one commit on a commit this node holds");
		goto done;
	}
	if ((error = ts_history__head(&head, node->db)) < 0 ||
	    (!git_oid_equal(&head, git_commit_parent_id(c, 0)) &&
	     git_graph_descendant_of(repo, &head, git_commit_parent_id(c, 0)) != 1)) {
		error = urgent_refuse(&u, "%s", "it does not stand on a commit of this node's main");
		goto done;
	}
	if (git_commit_parent(&parent, c, 0) < 0 || git_commit_tree(&before, parent) < 0 ||
	    git_commit_tree(&after, c) < 0) {
		error = ts_store__git_error(TS_ECORRUPT, "reading the offered urgent commit");
		goto done;
	}
	if ((error = ts_treediff__walk(repo, before, after, NULL, &cbs)) < 0)
		goto done;
	if (!u.reports) {
		error = urgent_refuse(&u, "%s", "it holds no urgent report");
		goto done;
	}
	for (i = 0; i < u.ncases; i++) {
		for (k = 0; k < u.nnamed && strcmp(u.cases[i], u.named[k]); k++)
			;
		if (k == u.nnamed) {
			error = urgent_refuse(&u, "%s is a case no urgent report in it names; an urgent commit "
				"holds nothing else", u.cases[i]);
			goto done;
		}
	}
done:
	if (error < 0 && u.why)
		error = ts_error_set(error, "%s", u.why);
	for (i = 0; i < u.ncases; i++)
		free(u.cases[i]);
	for (i = 0; i < u.nnamed; i++)
		free(u.named[i]);
	free(u.cases);
	free(u.named);
	free(u.why);
	git_tree_free(before);
	git_tree_free(after);
	git_commit_free(parent);
	git_commit_free(c);
	return error;
}

int ts_node__admit_urgent(ts_node *node, git_repository *repo, const char *from, const git_oid *theirs)
{
	int error;

	if ((error = urgent_shape(node, repo ? repo : ts_store__repo(node->store), theirs)) < 0)
		return error;
	return ts_node__admit(node, repo, from, theirs);
}

int ts_node_admit_urgent(ts_node *node, const char *from, const char *commit_hex, const char *objects_dir)
{
	git_oid theirs;
	int error;

	if ((error = offer_from_below(&theirs, node, from, commit_hex, objects_dir)) < 0)
		return error;
	return ts_node__admit_urgent(node, NULL, from, &theirs);
}
