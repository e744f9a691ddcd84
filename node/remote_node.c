/*
 * A node's remotes: where they are written down and how the node's refs map
 * onto theirs. The transport itself is sync/remote.c.
 *
 *   NODE/config        [remote "NAME"] url = ..., identity = KEYFILE
 *   NODE/known_hosts   the SSH host keys this node trusts (OpenSSH format)
 *
 *   push   local refs/urgent-out/<NAME> -> remote refs/urgent/<node id>  (forced; first,
 *          when urgent reports are to go: see node/urgent_commit.c)
 *          local refs/heads/main   ->  remote refs/submissions/<node id>  (forced)
 *   fetch  remote refs/heads/main  ->  local refs/remotes/<NAME>/main     (forced)
 *
 * A URL may name the upper node's directory rather than its history.git:
 * locally when that directory holds a history.git, over SSH when the path
 * does not end in ".git". A relative local path is taken from the node's
 * directory; `remote add` stores paths absolute.
 *
 * Locks: a fetch downloads into a quarantine and holds this node's store
 * lock only to move the result in (see below). A push to a node on this
 * machine holds that node's lock while it writes there: a commit or an open
 * cleaning debris would otherwise take the incoming pack for a killed
 * writer's.
 */
#include "error.h"
#include "files.h"
#include "node.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "exchange.h"
#include "quarantine.h"
#include "remote.h"

#define HISTORY_DIR "history.git"

int ts_node_remote_name_valid(const char *name)
{
	size_t len, i;

	if (!name || !(len = strlen(name)) || len > 64)
		return 0;
	if (!((name[0] >= 'a' && name[0] <= 'z') || (name[0] >= 'A' && name[0] <= 'Z') ||
	      (name[0] >= '0' && name[0] <= '9')))
		return 0;
	for (i = 0; i < len; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_' || c == '.'))
			return 0;
		if (c == '.' && (i + 1 == len || name[i + 1] == '.'))
			return 0;
	}
	/* refs/remotes/NAME/main must be a valid ref name */
	return !(len >= 5 && !strcmp(name + len - 5, ".lock"));
}

static int check_name(const char *name)
{
	if (ts_node_remote_name_valid(name))
		return 0;
	return ts_error_set(TS_EINVALID, "invalid remote name '%s': use letters, digits, '-', '_' and "
		"inner dots, e.g. upstream", name ? name : "");
}

/* remote.NAME.KEY as a new string in *out; TS_ENOTFOUND when unset. */
static int config_get(char **out, git_config *cfg, const char *name, const char *key)
{
	git_buf buf = GIT_BUF_INIT;
	ts_buf var = TS_BUF_INIT;
	int error = 0;

	*out = NULL;
	ts_buf__printf(&var, "remote.%s.%s", name, key);
	if (ts_buf__oom(&var))
		return TS_ERROR;
	if (git_config_get_string_buf(&buf, cfg, var.ptr) < 0)
		error = TS_ENOTFOUND;
	else if (!(*out = strdup(buf.ptr)))
		error = ts_error_set(TS_ERROR, "out of memory");
	git_buf_dispose(&buf);
	ts_buf__dispose(&var);
	return error;
}

static int config_set(git_config *cfg, const char *name, const char *key, const char *value)
{
	ts_buf var = TS_BUF_INIT;
	int error = 0;

	ts_buf__printf(&var, "remote.%s.%s", name, key);
	if (ts_buf__oom(&var))
		return TS_ERROR;
	if (git_config_set_string(cfg, var.ptr, value) < 0)
		error = ts_store__git_error(TS_ERROR, "writing the node's config");
	ts_buf__dispose(&var);
	return error;
}

/* One remote as the config has it. */
typedef struct {
	char *url;
	char *identity;   /* or NULL */
} remote_config;

static void remote_config_dispose(remote_config *rc)
{
	free(rc->url);
	free(rc->identity);
	rc->url = rc->identity = NULL;
}

static int remote_get(remote_config *out, ts_node *node, const char *name)
{
	int error;

	memset(out, 0, sizeof(*out));
	if ((error = check_name(name)) < 0)
		return error;
	if ((error = config_get(&out->url, node->config, name, "url")) == TS_ENOTFOUND)
		return ts_error_set(TS_ENOTFOUND, "no remote named '%s' in this node's config", name);
	if (error < 0)
		return error;
	if ((error = config_get(&out->identity, node->config, name, "identity")) < 0 && error != TS_ENOTFOUND) {
		remote_config_dispose(out);
		return error;
	}
	return 0;
}

static int is_dir(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && !memcmp(s + n - m, suffix, m);
}

/* The URL handed to the transport, in *out (free() it). */
static int resolve_url(char **out, ts_node *node, const char *url)
{
	ts_remote_url u;
	ts_buf b = TS_BUF_INIT, probe = TS_BUF_INIT;
	int error;

	*out = NULL;
	if ((error = ts_remote__url_parse(&u, url)) < 0)
		return error;
	if (u.ssh) {
		ts_buf__puts(&b, url);
		while (b.size > 1 && b.ptr[b.size - 1] == '/')
			b.ptr[--b.size] = '\0';
		if (!ends_with(b.ptr, ".git"))
			ts_buf__puts(&b, "/" HISTORY_DIR);
	} else {
		if (u.path[0] == '/')
			ts_buf__puts(&b, u.path);
		else
			ts_buf__printf(&b, "%s/%s", node->path, u.path);
		ts_buf__printf(&probe, "%s/" HISTORY_DIR, ts_buf__cstr(&b));
		if (!ts_buf__oom(&probe) && is_dir(probe.ptr)) {
			ts_buf__clear(&b);
			ts_buf__puts(&b, probe.ptr);
		}
	}
	ts_remote__url_dispose(&u);
	ts_buf__dispose(&probe);
	if (ts_buf__oom(&b))
		return TS_ERROR;
	*out = ts_buf__detach(&b);
	return 0;
}

static char *node_file(ts_node *node, const char *name)
{
	ts_buf b = TS_BUF_INIT;
	ts_buf__printf(&b, "%s/%s", node->path, name);
	return ts_buf__oom(&b) ? NULL : ts_buf__detach(&b);
}

int ts_node_remote_add(ts_node *node, const char *name, const char *url, const char *identity)
{
	remote_config old;
	ts_remote_url u = { 0, NULL, NULL, 0, NULL };
	char *stored_url = NULL, *stored_identity = NULL;
	ts_buf probe = TS_BUF_INIT;
	int error;

	if ((error = check_name(name)) < 0)
		return error;
	if (remote_get(&old, node, name) == 0) {
		error = ts_error_set(TS_EEXISTS, "remote '%s' already exists (%s); remove it first", name, old.url);
		remote_config_dispose(&old);
		return error;
	}
	if ((error = ts_remote__url_parse(&u, url)) < 0)
		goto done;
	if (!u.ssh) {
		if (!(stored_url = realpath(u.path, NULL))) {
			error = ts_error_set(TS_ENOTFOUND, "remote %s: no node or repository at %s (%s)", name,
				u.path, strerror(errno));
			goto done;
		}
		ts_buf__printf(&probe, "%s/" HISTORY_DIR, stored_url);
		if (!is_dir(ts_buf__cstr(&probe))) {
			ts_buf__clear(&probe);
			ts_buf__printf(&probe, "%s/HEAD", stored_url);
			if (access(ts_buf__cstr(&probe), F_OK) < 0) {
				error = ts_error_set(TS_ENOTFOUND, "remote %s: %s is neither a tiersync node nor "
					"a git repository", name, stored_url);
				goto done;
			}
		}
		if (identity) {
			error = ts_error_set(TS_EINVALID, "remote %s: an identity is for ssh:// remotes; %s is "
				"a path on this machine", name, url);
			goto done;
		}
	} else if (!(stored_url = strdup(url))) {
		error = ts_error_set(TS_ERROR, "out of memory");
		goto done;
	}
	if (identity) {
		if (!(stored_identity = realpath(identity, NULL)) || access(stored_identity, R_OK) < 0) {
			error = ts_error_set(TS_ENOTFOUND, "cannot read the identity file %s: %s", identity,
				strerror(errno));
			goto done;
		}
	}
	if ((error = config_set(node->config, name, "url", stored_url)) < 0 ||
	    (stored_identity && (error = config_set(node->config, name, "identity", stored_identity)) < 0))
		goto done;
	error = ts_files__durable(node->path, "config");
done:
	ts_remote__url_dispose(&u);
	ts_buf__dispose(&probe);
	free(stored_url);
	free(stored_identity);
	return error;
}

int ts_node_remote_remove(ts_node *node, const char *name)
{
	git_config_iterator *it = NULL;
	git_config_entry *entry;
	git_reference_iterator *refs = NULL;
	git_reference *ref;
	remote_config rc;
	ts_buf prefix = TS_BUF_INIT, glob = TS_BUF_INIT;
	char **names = NULL;
	size_t n = 0, i;
	int error;

	if ((error = ts_store__publish(node->store)) < 0)
		return error;
	if ((error = remote_get(&rc, node, name)) < 0)
		return error;
	remote_config_dispose(&rc);
	ts_buf__printf(&prefix, "remote.%s.", name);
	ts_buf__printf(&glob, "refs/remotes/%s/*", name);
	if (ts_buf__oom(&prefix) || ts_buf__oom(&glob)) {
		error = TS_ERROR;
		goto done;
	}
	/* collect first: deleting while iterating would change what is iterated */
	if (git_config_iterator_new(&it, node->config) < 0) {
		error = ts_store__git_error(TS_ERROR, "reading the node's config");
		goto done;
	}
	while (git_config_next(&entry, it) == 0) {
		char **grown;
		if (strncmp(entry->name, prefix.ptr, prefix.size))
			continue;
		if (!(grown = realloc(names, (n + 1) * sizeof(*names))) || !(grown[n] = strdup(entry->name))) {
			names = grown ? grown : names;
			error = ts_error_set(TS_ERROR, "out of memory");
			goto done;
		}
		names = grown;
		n++;
	}
	for (i = 0; i < n; i++)
		if (git_config_delete_multivar(node->config, names[i], ".*") < 0) {
			error = ts_store__git_error(TS_ERROR, "writing the node's config");
			goto done;
		}
	if ((error = ts_files__durable(node->path, "config")) < 0)
		goto done;
	if (git_reference_iterator_glob_new(&refs, ts_store__repo(node->store), glob.ptr) < 0) {
		error = ts_store__git_error(TS_ERROR, "listing the remote's refs");
		goto done;
	}
	while (git_reference_next(&ref, refs) == 0) {
		int rc2 = git_reference_delete(ref);
		git_reference_free(ref);
		if (rc2 < 0) {
			error = ts_store__git_error(TS_ERROR, "deleting the remote's refs");
			goto done;
		}
	}
	/* the urgent commit made for it (node/urgent_commit.c) */
	ts_buf__clear(&glob);
	ts_buf__printf(&glob, "refs/urgent-out/%s", name);
	if (ts_buf__oom(&glob)) {
		error = TS_ERROR;
		goto done;
	}
	if (git_reference_lookup(&ref, ts_store__repo(node->store), glob.ptr) == 0) {
		int rc2 = git_reference_delete(ref);
		git_reference_free(ref);
		if (rc2 < 0)
			error = ts_store__git_error(TS_ERROR, "deleting the remote's refs");
	}
done:
	git_reference_iterator_free(refs);
	git_config_iterator_free(it);
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	ts_buf__dispose(&prefix);
	ts_buf__dispose(&glob);
	return error;
}

int ts_node_remote_list(ts_node *node,
	int (*cb)(const ts_remote_info *remote, void *payload), void *payload)
{
	git_config_iterator *it = NULL;
	git_config_entry *entry;
	char *name = NULL, *identity = NULL;
	ts_remote_info info;
	int error = 0, stop = 0;

	if (git_config_iterator_glob_new(&it, node->config, "^remote\\..+\\.url$") < 0)
		return ts_store__git_error(TS_ERROR, "reading the node's config");
	while (!stop && git_config_next(&entry, it) == 0) {
		size_t len = strlen(entry->name);
		if (!(name = strndup(entry->name + 7, len - 7 - 4))) {
			error = ts_error_set(TS_ERROR, "out of memory");
			break;
		}
		if ((error = config_get(&identity, node->config, name, "identity")) < 0 && error != TS_ENOTFOUND)
			break;
		info.name = name;
		info.url = entry->value;
		info.identity = identity;
		error = 0;
		stop = cb(&info, payload);
		free(name);
		free(identity);
		name = identity = NULL;
	}
	free(name);
	free(identity);
	git_config_iterator_free(it);
	return error < 0 ? error : stop;
}

/* What the transport is told about a remote of this node. */
typedef struct {
	remote_config config;
	char *url;            /* resolved */
	char *known_hosts;
	ts_remote_options opts;
} remote_target;

static void target_dispose(remote_target *t)
{
	remote_config_dispose(&t->config);
	free(t->url);
	free(t->known_hosts);
}

static int target_open(remote_target *t, ts_node *node, const char *name, const ts_transfer_options *given)
{
	int error;

	memset(t, 0, sizeof(*t));
	if (given && (error = ts_error__version(given->version, TS_TRANSFER_OPTIONS_VERSION, "transfer options")) < 0)
		return error;
	if ((error = remote_get(&t->config, node, name)) < 0)
		return error;
	if ((error = resolve_url(&t->url, node, t->config.url)) < 0) {
		error = ts_error_set(error, "remote %s: %s", name, ts_error_last());
		target_dispose(t);
		return error;
	}
	if (!(t->known_hosts = node_file(node, "known_hosts"))) {
		target_dispose(t);
		return ts_error_set(TS_ERROR, "out of memory");
	}
	t->opts.name = name;
	t->opts.url = t->url;
	t->opts.identity = t->config.identity;
	t->opts.known_hosts = t->known_hosts;
	if (given) {
		t->opts.timeout_ms = given->timeout_ms;
		t->opts.progress = given->progress;
		t->opts.payload = given->payload;
	}
	return 0;
}

/* Holds the store lock of a tiersync node's history on this machine, when
 * `url` is one (NULL otherwise, or when it cannot be opened: the transport
 * then says what is wrong with it). */
static ts_store *lock_local_history(const char *url)
{
	ts_remote_url u;
	ts_store *store = NULL;

	if (ts_remote__url_parse(&u, url) < 0)
		return NULL;
	if (!u.ssh && is_dir(u.path) && ts_store__open(&store, u.path, 0) == 0 && ts_store__lock(store) < 0) {
		ts_store__free(store);
		store = NULL;
	}
	ts_remote__url_dispose(&u);
	return store;
}

/*
 * Pushes local `src` as the remote's `dst` through the exchange, or by
 * git's protocol when the remote speaks only that. Into `upper`, a history
 * on this machine whose lock is held, it names the ref moved there first
 * (ts_store__ref_intent()). The remote's main as last fetched counts as
 * held there.
 */
static int push_into(ts_store *upper, ts_node *node, const char *remote, const char *src, const char *dst,
	ts_transfer_stats *stats, const ts_remote_options *opts)
{
	ts_buf spec = TS_BUF_INIT, fetched = TS_BUF_INIT;
	git_oid tip, have;
	size_t nhaves = 0;
	int error;

	ts_buf__printf(&fetched, "refs/remotes/%s/main", remote);
	ts_buf__printf(&spec, "+%s:%s", src, dst);
	if (ts_buf__oom(&fetched) || ts_buf__oom(&spec)) {
		error = TS_ERROR;
		goto done;
	}
	if ((error = ts_store__ref_get(&tip, node->store, src)) < 0)
		goto done;
	if (ts_store__ref_get(&have, node->store, fetched.ptr) == 0)
		nhaves = 1;
	if (upper && (error = ts_store__ref_intent(upper, dst)) < 0)
		goto done;
	error = ts_remote__push_changes(stats, ts_store__repo(node->store), &tip, dst, &have, nhaves, upper, opts);
	if (error == 1)
		error = ts_remote__push(stats, ts_store__repo(node->store), spec.ptr, opts);
	if (upper)
		ts_store__ref_intent_done(upper);
done:
	ts_buf__dispose(&spec);
	ts_buf__dispose(&fetched);
	return error;
}

/*
 * The urgent commit for `remote` (node/urgent_commit.c) stands on its main
 * as last fetched, refs/remotes/<remote>/main; none when never fetched.
 */
#define URGENT_OUT "refs/urgent-out/"

static int urgent_commit(ts_urgent_push_stats *urgent, ts_node *node, const char *remote, const char *ref)
{
	ts_buf fetched = TS_BUF_INIT;
	git_oid parent;
	int error;

	ts_buf__printf(&fetched, "refs/remotes/%s/main", remote);
	if (ts_buf__oom(&fetched))
		return TS_ERROR;
	error = ts_store__ref_get(&parent, node->store, fetched.ptr);
	ts_buf__dispose(&fetched);
	if (error < 0 && error != TS_ENOTFOUND)
		return error;
	return ts_urgent_commit__make(urgent, node, error == TS_ENOTFOUND ? NULL : &parent, ref);
}

int ts_node_push_urgent(char id_out[41], ts_transfer_stats *stats, ts_urgent_push_stats *urgent,
	ts_node *node, const char *remote, const ts_transfer_options *opts, unsigned int flags)
{
	remote_target t;
	ts_store *upper = NULL;
	ts_urgent_push_stats ignored;
	ts_transfer_stats sent;
	ts_buf spec = TS_BUF_INIT, out_ref = TS_BUF_INIT;
	git_oid head;
	char hex[41];
	int error;

	if (id_out)
		id_out[0] = '\0';
	if ((error = ts_store__publish(node->store)) < 0)
		return error;
	if (stats && !(flags & TS_PUSH_URGENT_ONLY))
		memset(stats, 0, sizeof(*stats));
	if (!urgent)
		urgent = &ignored;
	memset(urgent, 0, sizeof(*urgent));
	if (!remote)
		remote = TS_REMOTE_DEFAULT;
	if ((error = target_open(&t, node, remote, opts)) < 0)
		return error;
	if ((error = ts_store__ref_get(&head, node->store, TS_STORE_MAIN)) < 0)
		goto done;
	ts_buf__printf(&out_ref, URGENT_OUT "%s", remote);
	if (ts_buf__oom(&out_ref)) {
		error = TS_ERROR;
		goto done;
	}
	if ((error = urgent_commit(urgent, node, remote, out_ref.ptr)) < 0)
		goto done;
	if (urgent->no_base && (flags & TS_PUSH_URGENT_ONLY)) {
		error = ts_error_set(TS_ENOTFOUND, "remote %s: its main was never fetched here, so no commit is "
			"known to be held there for the urgent reports to stand on", remote);
		goto done;
	}
	upper = lock_local_history(t.url);
	if (urgent->commit[0]) {
		ts_buf__printf(&spec, "refs/urgent/%s", node->id);
		if (ts_buf__oom(&spec)) {
			error = TS_ERROR;
			goto done;
		}
		if ((error = push_into(upper, node, remote, out_ref.ptr, spec.ptr, &sent, &t.opts)) < 0)
			goto done;
		urgent->updated = sent.updated;
		urgent->objects = sent.objects;
		urgent->bytes = sent.bytes;
	}
	if (flags & TS_PUSH_URGENT_ONLY)
		goto done;
	ts_buf__clear(&spec);
	ts_buf__printf(&spec, "refs/submissions/%s", node->id);
	if (ts_buf__oom(&spec)) {
		error = TS_ERROR;
		goto done;
	}
	if ((error = push_into(upper, node, remote, TS_STORE_MAIN, spec.ptr, stats, &t.opts)) < 0)
		goto done;
	if (id_out)
		git_oid_tostr(id_out, 41, &head);
	git_oid_tostr(hex, sizeof(hex), &head);
	ts_node__sync_record(node, remote, "pushed", hex);
done:
	ts_store__free(upper);    /* and its lock */
	ts_buf__dispose(&spec);
	ts_buf__dispose(&out_ref);
	target_dispose(&t);
	return error;
}

int ts_node_push(char id_out[41], ts_transfer_stats *stats, ts_node *node, const char *remote,
	const ts_transfer_options *opts)
{
	return ts_node_push_urgent(id_out, stats, NULL, node, remote, opts, 0);
}

/*
 * Fetching goes through a quarantine: a bare repository inside history.git
 * (tiersync-incoming-XXXXXX) that borrows the node's objects through
 * objects/info/alternates and holds its refs, so that only what is missing
 * travels. The download lands there, without the node's lock: local work
 * never waits for the network, and a cut link leaves nothing in the node's
 * objects. Then, holding the lock for a moment, its packs move in (each
 * .pack before its .idx), are made durable, and the ref moves. A quarantine
 * whose owner died (its owner.lock is free) is removed by the next fetch.
 */
void ts_node__sync_record(ts_node *node, const char *remote, const char *what, const char *commit)
{
	char now[32];
	ts_buf key = TS_BUF_INIT, value = TS_BUF_INIT, path = TS_BUF_INIT;
	git_config *cfg = NULL;

	ts_time_format(now, ts_node__now());
	ts_buf__printf(&key, "sync.%s.%s", remote, what);
	ts_buf__printf(&value, "%s %s", commit, now);
	ts_buf__printf(&path, "%s/" TS_NODE_SYNC_STATE, node->path);
	if (!ts_buf__oom(&key) && !ts_buf__oom(&value) && !ts_buf__oom(&path) &&
	    git_config_open_ondisk(&cfg, path.ptr) == 0)
		git_config_set_string(cfg, key.ptr, value.ptr);
	git_config_free(cfg);
	ts_buf__dispose(&key);
	ts_buf__dispose(&value);
	ts_buf__dispose(&path);
}

/* The fetch by git's protocol, for a remote that does not speak the
 * exchange: into a quarantine of its own, admitted there. */
static int fetch_by_git(git_oid *id, ts_transfer_stats *stats, ts_quarantine *q, ts_node *node,
	const char *dst, const remote_target *t)
{
	int error;

	if ((error = ts_quarantine__open(q, ts_store__repo(node->store), dst)) < 0 ||
	    (error = ts_remote__fetch(id, stats, q->repo, TS_STORE_MAIN, dst, &t->opts)) < 0)
		return error;
	return ts_node__admit(node, q->repo, NULL, id);
}

/*
 * What a fetch names as held: main and its ancestors, newest first (both
 * parents of a merge: a street's own commits are the first parents of its
 * history, its district's come in through the second), the first 16 of
 * them, then each twice as far down the list as the one before (among the
 * newest HAVES_WALK). A node whose main the remote never saw (commits of
 * its own since, or a remote it fetches from for the first time) then still
 * names a commit the remote holds near where the two parted, and is sent
 * what follows it, not the whole history again.
 */
#define HAVES_NEAR 16
#define HAVES_WALK 10000   /* the most commits looked through (a few ms) */

static size_t main_and_ancestors(git_oid *out, size_t max, ts_node *node)
{
	git_revwalk *walk = NULL;
	git_oid main, id;
	size_t n = 0, seen = 0, next = 0, gap = 1;

	if (max == 0 || ts_store__ref_get(&main, node->store, TS_STORE_MAIN) < 0)
		return 0;
	if (git_revwalk_new(&walk, ts_store__repo(node->store)) < 0 ||
	    git_revwalk_sorting(walk, GIT_SORT_TIME) < 0 || git_revwalk_push(walk, &main) < 0) {
		git_revwalk_free(walk);
		git_error_clear();
		git_oid_cpy(&out[0], &main);
		return 1;
	}
	while (n < max && seen < HAVES_WALK && git_revwalk_next(&id, walk) == 0) {
		if (seen < HAVES_NEAR || seen == next) {
			git_oid_cpy(&out[n++], &id);
			if (seen + 1 >= HAVES_NEAR) {
				gap *= 2;
				next = seen + gap;
			}
		}
		seen++;
	}
	git_error_clear();
	git_revwalk_free(walk);
	return n;
}

/*
 * The fetch through the exchange, into the quarantine kept for this remote
 * (tiersync-kept-fetch-NAME): a cut fetch leaves the commits that came
 * whole there, and the next one asks only for what follows them. 1 when
 * the remote speaks only git's protocol (the quarantine is closed then).
 */
static int fetch_by_changes(git_oid *id, ts_transfer_stats *stats, ts_quarantine *q, ts_node *node,
	const char *remote, const char *dst, const remote_target *t)
{
	ts_store *into = NULL;
	ts_buf name = TS_BUF_INIT;
	git_oid haves[TS_EXCHANGE_MAX_HAVES];
	size_t n = 0;
	int error, cut = 0;

	ts_buf__printf(&name, "fetch-%s", remote);
	if (ts_buf__oom(&name))
		return TS_ERROR;
	error = ts_quarantine__open_kept(q, ts_store__repo(node->store), name.ptr);
	ts_buf__dispose(&name);
	if (error < 0)
		return error;
	if (ts_store__ref_get(&haves[n], node->store, dst) == 0)
		n++;
	if (ts_quarantine__kept_tip(&haves[n], q) == 0)
		n++;
	n += main_and_ancestors(haves + n, TS_EXCHANGE_MAX_HAVES - n, node);
	if ((error = ts_store__open(&into, q->dir, 0)) < 0)
		return error;
	error = ts_remote__fetch_changes(id, stats, &cut, into, TS_STORE_MAIN, haves, n, &t->opts);
	ts_store__free(into);
	if (error == 1) {
		ts_quarantine__close(q);
		return 1;
	}
	if (error < 0)
		return ts_quarantine__end_cut(q, error, cut ? id : NULL, stats->commits,
			"the next fetch goes on from there");
	return ts_node__admit(node, q->repo, NULL, id);
}

int ts_node_fetch(char id_out[41], ts_transfer_stats *stats, ts_node *node, const char *remote,
	const ts_transfer_options *opts)
{
	remote_target t;
	ts_quarantine q = TS_QUARANTINE_INIT;
	ts_transfer_stats st;
	ts_buf dst = TS_BUF_INIT;
	git_oid id, before;
	const char *dst_ref;
	int error, had;

	id_out[0] = '\0';
	if ((error = ts_store__publish(node->store)) < 0)
		return error;
	memset(&st, 0, sizeof(st));
	if (!remote)
		remote = TS_REMOTE_DEFAULT;
	if ((error = target_open(&t, node, remote, opts)) < 0)
		goto done;
	ts_buf__printf(&dst, "refs/remotes/%s/main", remote);
	if (ts_buf__oom(&dst)) {
		error = TS_ERROR;
		goto done;
	}
	dst_ref = dst.ptr;
	had = ts_store__ref_get(&before, node->store, dst_ref) == 0;
	if ((error = fetch_by_changes(&id, &st, &q, node, remote, dst.ptr, &t)) == 1)
		error = fetch_by_git(&id, &st, &q, node, dst.ptr, &t);
	/* checked in the quarantine: a refused fetch leaves nothing behind */
	if (error < 0 || (error = ts_node__take_in(node, &q, &dst_ref, &id, 1, 1, "fetch")) < 0)
		goto done;
	st.updated = !had || !git_oid_equal(&before, &id);
	git_oid_tostr(id_out, 41, &id);
	ts_node__sync_record(node, remote, "fetched", id_out);
done:
	ts_quarantine__close(&q);    /* a no-op on one kept */
	if (stats)
		*stats = st;
	ts_buf__dispose(&dst);
	target_dispose(&t);
	return error;
}

/* Moves the quarantine's objects in and sets each of the `n` refs to its
 * tip, with `why` in the reflog; without `forced`, a ref already at its tip
 * or after it stays. */
int ts_node__take_in(ts_node *node, ts_quarantine *q, const char *const *refs, const git_oid *tips,
	size_t n, int forced, const char *why)
{
	git_repository *repo = ts_store__repo(node->store);
	git_odb *odb = NULL;
	git_oid old;
	size_t i;
	int error;

	if ((error = ts_store__lock(node->store)) < 0)
		return error;
	/* the objects durable before the ref that names them */
	if ((error = ts_quarantine__move(q, git_repository_path(repo))) < 0 ||
	    (error = ts_store__sync(node->store)) < 0)
		goto done;
	if (git_repository_odb(&odb, repo) < 0 || git_odb_refresh(odb) < 0) {
		error = ts_store__git_error(TS_ERROR, "reading the objects that came");
		goto done;
	}
	for (i = 0; i < n && !error; i++) {
		if (!forced && ts_store__ref_get(&old, node->store, refs[i]) == 0 &&
		    (git_oid_equal(&old, &tips[i]) || git_graph_descendant_of(repo, &old, &tips[i]) == 1))
			continue;   /* an older offer: the ref stays where it is */
		error = ts_store__ref_set(node->store, refs[i], &tips[i], why);
	}
done:
	ts_store__unlock(node->store);
	git_odb_free(odb);
	return error;
}

int ts_node_remote_trust(ts_host_key *out, ts_node *node, const char *remote,
	const ts_trust_options *opts)
{
	remote_target t;
	int error;

	memset(out, 0, sizeof(*out));
	if (opts && (error = ts_error__version(opts->version, TS_TRUST_OPTIONS_VERSION, "trust options")) < 0)
		return error;
	if (!remote)
		remote = TS_REMOTE_DEFAULT;
	if ((error = target_open(&t, node, remote, NULL)) < 0)
		return error;
	t.opts.timeout_ms = opts ? opts->timeout_ms : 0;
	error = ts_remote__trust(out, &t.opts, opts ? opts->expect : NULL, opts ? opts->replace : 0);
	target_dispose(&t);
	return error;
}
