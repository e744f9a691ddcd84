/*
 * Where a node stands with the nodes it syncs with (include/tiersync/
 * status.h). What a remote holds is known from this node's own transfers
 * only: the last push that went through ("sync.NAME.pushed" in
 * NODE/sync-state: the commit and when) and the remote's main as last
 * fetched (refs/remotes/NAME/main, and when: "sync.NAME.fetched").
 * Counting is a walk of the history between those commits and main.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "node.h"
#include "store.h"

/* The commits reachable from `from` and from none of `hide` (those given). */
static int count_commits(int64_t *out, git_repository *repo, const git_oid *from, const git_oid *hide, size_t nhide)
{
	git_revwalk *walk = NULL;
	git_oid id;
	size_t i;
	int rc, error = 0;

	*out = 0;
	if (git_revwalk_new(&walk, repo) < 0 || git_revwalk_push(walk, from) < 0) {
		error = ts_store__git_error(TS_ECORRUPT, "walking the history");
		goto done;
	}
	for (i = 0; i < nhide; i++)
		if (git_revwalk_hide(walk, &hide[i]) < 0) {
			error = ts_store__git_error(TS_ECORRUPT, "walking the history");
			goto done;
		}
	while ((rc = git_revwalk_next(&id, walk)) == 0)
		(*out)++;
	if (rc != GIT_ITEROVER)
		error = ts_store__git_error(TS_ECORRUPT, "walking the history");
done:
	git_revwalk_free(walk);
	return error;
}

/* "HEX TIME" as ts_node__sync_record() keeps it: the commit into `id`,
 * the time into *at (pointing into `value`). 0 when it is one. */
static int recorded(git_oid *id, const char **at, char *value)
{
	char *space = value ? strchr(value, ' ') : NULL;

	if (!space)
		return -1;
	*space = '\0';
	*at = space + 1;
	return git_oid_fromstr(id, value);
}

typedef struct {
	ts_node *node;
	git_config *state;     /* NODE/sync-state, or NULL when none */
	int (*cb)(const ts_remote_status *remote, void *payload);
	void *payload;
} status_walk;

/* "sync.REMOTE.WHAT" of the node's sync state, or NULL (free() it). */
static char *state_get(status_walk *w, const char *remote, const char *what)
{
	git_buf buf = GIT_BUF_INIT;
	ts_buf key = TS_BUF_INIT;
	char *value = NULL;

	ts_buf__printf(&key, "sync.%s.%s", remote, what);
	if (w->state && !ts_buf__oom(&key) && git_config_get_string_buf(&buf, w->state, key.ptr) == 0)
		value = strdup(buf.ptr);
	git_buf_dispose(&buf);
	ts_buf__dispose(&key);
	return value;
}

static int remote_status(const ts_remote_info *info, void *payload)
{
	status_walk *w = payload;
	git_repository *repo = ts_store__repo(w->node->store);
	ts_remote_status s;
	ts_buf key = TS_BUF_INIT;
	char *pushed = NULL, *fetched_meta = NULL, pushed_hex[41] = "", fetched_hex[41] = "";
	const char *at = NULL;
	git_oid head, known[2], id, seen;
	size_t nknown = 0;
	int error;

	memset(&s, 0, sizeof(s));
	s.name = info->name;
	s.url = info->url;
	if ((error = ts_store__ref_get(&head, w->node->store, TS_STORE_MAIN)) < 0)
		return error;
	pushed = state_get(w, info->name, "pushed");
	if (recorded(&id, &at, pushed) == 0 && ts_store__has(w->node->store, &id)) {
		git_oid_tostr(pushed_hex, sizeof(pushed_hex), &id);
		s.pushed = pushed_hex;
		s.pushed_at = at;
		known[nknown++] = id;
	}
	ts_buf__printf(&key, "refs/remotes/%s/main", info->name);
	if (!ts_buf__oom(&key) && ts_store__ref_get(&id, w->node->store, key.ptr) == 0) {
		git_oid_tostr(fetched_hex, sizeof(fetched_hex), &id);
		s.fetched = fetched_hex;
		known[nknown++] = id;
		if ((fetched_meta = state_get(w, info->name, "fetched")) &&
		    recorded(&seen, &at, fetched_meta) == 0 && git_oid_equal(&seen, &id))
			s.fetched_at = at;
		if ((error = count_commits(&s.to_take, repo, &id, &head, 1)) < 0)
			goto done;
	}
	if ((error = count_commits(&s.to_push, repo, &head, known, nknown)) < 0)
		goto done;
	error = w->cb(&s, w->payload);
done:
	free(pushed);
	free(fetched_meta);
	ts_buf__dispose(&key);
	return error;
}

int ts_node_remote_status(ts_node *node,
	int (*cb)(const ts_remote_status *remote, void *payload), void *payload)
{
	status_walk w = { node, NULL, cb, payload };
	ts_buf path = TS_BUF_INIT;
	int error;

	if ((error = ts_store__publish(node->store)) < 0)
		return error;
	if (!cb)
		return ts_error_set(TS_EINVALID, "the status of the remotes needs a callback");
	ts_buf__printf(&path, "%s/" TS_NODE_SYNC_STATE, node->path);
	if (ts_buf__oom(&path))
		return TS_ERROR;
	if (access(path.ptr, F_OK) == 0 && git_config_open_ondisk(&w.state, path.ptr) < 0)
		w.state = NULL;   /* unreadable: as if no transfer were recorded */
	error = ts_node_remote_list(node, remote_status, &w);
	git_config_free(w.state);
	ts_buf__dispose(&path);
	return error;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int ts_node_submissions_waiting(ts_node *node,
	int (*cb)(const ts_submission_waiting *s, void *payload), void *payload)
{
	static const char *const kinds[] = { "refs/urgent/", "refs/submissions/" };
	git_repository *repo = ts_store__repo(node->store);
	git_strarray all = { NULL, 0 };
	const char **names = NULL;
	git_oid head, id;
	size_t k, i, n;
	int error = 0;

	if ((error = ts_store__publish(node->store)) < 0)
		return error;
	if (!cb)
		return ts_error_set(TS_EINVALID, "the waiting submissions need a callback");
	if ((error = ts_store__ref_get(&head, node->store, TS_STORE_MAIN)) < 0)
		return error;
	if (git_reference_list(&all, repo) < 0)
		return ts_store__git_error(TS_ERROR, "listing the submissions");
	if (all.count && !(names = malloc(all.count * sizeof(*names)))) {
		git_strarray_dispose(&all);
		return ts_error_set(TS_ERROR, "out of memory");
	}
	for (k = 0; k < 2 && error == 0; k++) {
		size_t plen = strlen(kinds[k]);
		for (i = n = 0; i < all.count; i++)
			if (!strncmp(all.strings[i], kinds[k], plen))
				names[n++] = all.strings[i];
		qsort(names, n, sizeof(*names), by_name);
		for (i = 0; i < n && error == 0; i++) {
			ts_submission_waiting s;
			char hex[41];
			if (ts_store__ref_get(&id, node->store, names[i]) < 0)
				continue;   /* not a commit we can read: merge says so */
			if ((error = count_commits(&s.commits, repo, &id, &head, 1)) < 0 || s.commits == 0)
				continue;
			git_oid_tostr(hex, sizeof(hex), &id);
			s.node_id = names[i] + plen;
			s.urgent = k == 0;
			s.commit = hex;
			error = cb(&s, payload);
		}
	}
	free(names);
	git_strarray_dispose(&all);
	return error;
}
