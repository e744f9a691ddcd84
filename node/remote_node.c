/*
 * A node's remotes: where they are written down and how the node's refs map
 * onto theirs. The transport itself is sync/remote.c.
 *
 *   NODE/config        [remote "NAME"] url = ..., identity = KEYFILE
 *   NODE/known_hosts   the SSH host keys this node trusts (OpenSSH format)
 *
 *   push   local refs/urgent-out/<NAME> -> remote refs/urgent/<node id>  (forced; first,
 *          when urgent reports are to go: see "The urgent commit" below)
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
#include "quarantine.h"
#include "remote.h"
#include "rowcodec.h"
#include "treediff.h"

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
	/* the urgent commit made for it (see "The urgent commit" below) */
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
 * The urgent commit: urgent reports sent ahead of a backlog.
 *
 *   parent   refs/remotes/<remote>/main: the upper node's main as last
 *            fetched, a commit the upper node holds in its main
 *   tree     the parent's tree, plus each urgent_reports row of this
 *            node's main that the parent lacks (its blob as committed),
 *            plus the cases row each of them names when the parent lacks
 *            it (so that the foreign key holds there)
 *   ref      refs/urgent-out/<remote> here, refs/urgent/<node id> there
 *
 * Merged above against that parent, it brings the reports and nothing
 * else; main, pushed next, brings the same rows again with the same
 * bytes, which merge without a conflict.
 */
#define URGENT_TABLE "urgent_reports"
#define URGENT_OUT "refs/urgent-out/"

typedef struct {
	git_repository *repo;
	ts_store_update *updates;
	size_t n, alloc;
	git_oid *ids;              /* the blob each update links */
	size_t ids_alloc;
	size_t reports;
	ts_buf reporters;          /* distinct reporters, joined by ", " */
	ts_buf message;
} urgent_rows;

static void urgent_rows_dispose(urgent_rows *u)
{
	size_t i;

	for (i = 0; i < u->n; i++)
		free((char *)u->updates[i].path);
	free(u->updates);
	free(u->ids);
	ts_buf__dispose(&u->reporters);
	ts_buf__dispose(&u->message);
}

static int urgent_add(urgent_rows *u, const char *path, const git_oid *blob)
{
	size_t i;

	for (i = 0; i < u->n; i++)
		if (!strcmp(u->updates[i].path, path))
			return 0;
	if (u->n == u->ids_alloc) {
		size_t alloc = u->ids_alloc ? u->ids_alloc * 2 : 8;
		git_oid *ids = realloc(u->ids, alloc * sizeof(*ids));
		if (!ids)
			return ts_error_set(TS_ERROR, "out of memory");
		u->ids = ids;
		u->ids_alloc = alloc;
	}
	if (ts_store__update_reserve(&u->updates, u->n, &u->alloc) < 0)
		return TS_ERROR;
	git_oid_cpy(&u->ids[u->n], blob);
	if (!(u->updates[u->n].path = strdup(path)))
		return ts_error_set(TS_ERROR, "out of memory");
	u->updates[u->n].len = TS_STORE_LINK;
	u->n++;
	return 0;
}

static const char *row_text(const ts_row *row, const char *column)
{
	const ts_value *v = ts_row__get(row, column);
	return v && v->type == SQLITE_TEXT ? v->p : NULL;
}

/* 1 when `name` is one of the ", "-separated names of `list`. */
static int name_listed(const char *list, const char *name)
{
	size_t n = strlen(name);
	const char *p;

	for (p = list; (p = strstr(p, name)) != NULL; p += n)
		if ((p == list || (p >= list + 2 && !strncmp(p - 2, ", ", 2))) && (!p[n] || !strncmp(p + n, ", ", 2)))
			return 1;
	return 0;
}

/* Each urgent report row of main that the parent lacks. */
static int urgent_entry(const char *path, const git_tree_entry *before, const git_tree_entry *after, void *payload)
{
	urgent_rows *u = payload;
	git_blob *blob = NULL;
	ts_row *row = NULL;
	const char *who, *subject, *id;
	int error;

	if (before || !after || git_tree_entry_type(after) != GIT_OBJECT_BLOB)
		return 0;   /* held above already; what changed since travels with main */
	if ((error = urgent_add(u, path, git_tree_entry_id(after))) < 0)
		return error;
	if (git_blob_lookup(&blob, u->repo, git_tree_entry_id(after)) < 0)
		return ts_store__git_error(TS_ECORRUPT, "reading an urgent report");
	error = ts_rowcodec__decode(&row, git_blob_rawcontent(blob), (size_t)git_blob_rawsize(blob));
	git_blob_free(blob);
	if (error < 0)
		return error;
	u->reports++;
	id = row_text(row, "id");
	subject = row_text(row, "subject");
	who = row_text(row, "reporter");
	ts_buf__printf(&u->message, "%s: %s\n", id ? id : "?", subject ? subject : "");
	if (who && !name_listed(ts_buf__cstr(&u->reporters), who))
		ts_buf__printf(&u->reporters, "%s%s", u->reporters.size ? ", " : "", who);
	ts_row__free(row);
	return ts_buf__oom(&u->message) || ts_buf__oom(&u->reporters) ? TS_ERROR : 0;
}

/* The case rows the reports name that `parent` lacks, from `head`. */
static int urgent_cases(urgent_rows *u, git_tree *parent, git_tree *head)
{
	size_t i, n = u->n;
	int error = 0;

	for (i = 0; i < n && !error; i++) {
		git_blob *blob = NULL;
		git_tree_entry *e = NULL;
		ts_row *row = NULL;
		ts_buf path = TS_BUF_INIT;
		const ts_value *c;

		if (git_blob_lookup(&blob, u->repo, &u->ids[i]) < 0)
			return ts_store__git_error(TS_ECORRUPT, "reading an urgent report");
		error = ts_rowcodec__decode(&row, git_blob_rawcontent(blob), (size_t)git_blob_rawsize(blob));
		git_blob_free(blob);
		if (error < 0)
			return error;
		if ((c = ts_row__get(row, "case_id")) && c->type != SQLITE_NULL &&
		    (error = ts_rowcodec__key_path_values(&path, "cases", 1, c)) == 0) {
			if (parent && git_tree_entry_bypath(&e, parent, path.ptr) == 0)
				git_tree_entry_free(e);     /* held above already */
			else if (git_tree_entry_bypath(&e, head, path.ptr) == 0) {
				error = urgent_add(u, path.ptr, git_tree_entry_id(e));
				git_tree_entry_free(e);
			} else
				error = ts_error_set(TS_ECORRUPT, "urgent report names case %s, which main lacks",
					c->type == SQLITE_TEXT ? c->p : "?");
		}
		ts_row__free(row);
		ts_buf__dispose(&path);
	}
	return error;
}

static int subtree(git_tree **out, git_repository *repo, git_tree *tree, const char *name)
{
	const git_tree_entry *e;

	*out = NULL;
	if (!tree || !(e = git_tree_entry_byname(tree, name)) || git_tree_entry_type(e) != GIT_OBJECT_TREE)
		return 0;
	if (git_tree_lookup(out, repo, git_tree_entry_id(e)) < 0)
		return ts_store__git_error(TS_ECORRUPT, "reading the urgent reports' tree");
	return 0;
}

/* Makes (or finds still valid) the urgent commit for `remote` into
 * URGENT_OUT<remote>; fills urgent->reports, commit, parent, no_base. */
static int urgent_commit(ts_urgent_push_stats *urgent, ts_node *node, const char *remote, const char *ref)
{
	git_repository *repo = ts_store__repo(node->store);
	git_commit *head_c = NULL, *parent_c = NULL, *old = NULL;
	git_tree *head_t = NULL, *parent_t = NULL, *head_u = NULL, *parent_u = NULL;
	ts_treediff__callbacks cbs = { NULL, urgent_entry, NULL, 0 };
	urgent_rows u;
	ts_buf fetched = TS_BUF_INIT, msg = TS_BUF_INIT;
	ts_store_who a, c;
	git_oid head, parent, tree, made;
	size_t i;
	int error, locked = 0;

	memset(&u, 0, sizeof(u));
	u.repo = repo;
	cbs.payload = &u;
	ts_buf__printf(&fetched, "refs/remotes/%s/main", remote);
	if (ts_buf__oom(&fetched))
		return TS_ERROR;
	if ((error = ts_store__ref_get(&head, node->store, TS_STORE_MAIN)) < 0)
		goto done;
	if ((error = ts_store__ref_get(&parent, node->store, fetched.ptr)) == TS_ENOTFOUND) {
		urgent->no_base = 1;
		error = 0;
		goto done;
	}
	if (error < 0)
		goto done;
	git_oid_tostr(urgent->parent, sizeof(urgent->parent), &parent);
	if (git_commit_lookup(&head_c, repo, &head) < 0 || git_commit_tree(&head_t, head_c) < 0 ||
	    git_commit_lookup(&parent_c, repo, &parent) < 0 || git_commit_tree(&parent_t, parent_c) < 0) {
		error = ts_store__git_error(TS_ECORRUPT, "reading the commits the urgent commit is made of");
		goto done;
	}
	if ((error = subtree(&head_u, repo, head_t, URGENT_TABLE)) < 0 ||
	    (error = subtree(&parent_u, repo, parent_t, URGENT_TABLE)) < 0 || !head_u)
		goto done;
	if ((error = ts_treediff__walk(repo, parent_u, head_u, URGENT_TABLE "/", &cbs)) < 0 || !u.reports)
		goto done;
	if ((error = urgent_cases(&u, parent_t, head_t)) < 0)
		goto done;
	for (i = 0; i < u.n; i++)
		u.updates[i].data = (const char *)&u.ids[i];
	if ((error = ts_store__lock(node->store)) < 0)
		goto done;
	locked = 1;
	if ((error = ts_store__tree_update(&tree, node->store, git_commit_tree_id(parent_c), u.updates, u.n)) < 0)
		goto done;
	urgent->reports = u.reports;
	/* the same reports on the same parent: the commit made before still serves */
	if (ts_store__ref_get(&made, node->store, ref) == 0 && git_commit_lookup(&old, repo, &made) == 0 &&
	    git_oid_equal(git_commit_tree_id(old), &tree) && git_commit_parentcount(old) == 1 &&
	    git_oid_equal(git_commit_parent_id(old, 0), &parent)) {
		ts_store__discard(node->store);
		git_oid_tostr(urgent->commit, sizeof(urgent->commit), &made);
		goto done;
	}
	ts_buf__printf(&msg, "urgent reports of %s: %zu\n\n%s", node->scope, u.reports, ts_buf__cstr(&u.message));
	if (ts_buf__oom(&msg)) {
		error = TS_ERROR;
		goto done;
	}
	ts_node__who(&a, node->id, u.reporters.size ? u.reporters.ptr : node->id, ts_node__now());
	ts_node__who(&c, node->id, node->id, ts_node__now());
	if ((error = ts_store__commit(&made, NULL, node->store, &tree, &parent, 1, &a, &c, msg.ptr)) < 0 ||
	    (error = ts_store__flush(node->store)) < 0 ||
	    (error = ts_store__ref_set(node->store, ref, &made, "urgent reports")) < 0)
		goto done;
	git_oid_tostr(urgent->commit, sizeof(urgent->commit), &made);
done:
	if (error < 0 && locked)
		ts_store__discard(node->store);
	if (locked)
		ts_store__unlock(node->store);
	git_commit_free(old);
	git_commit_free(head_c);
	git_commit_free(parent_c);
	git_tree_free(head_t);
	git_tree_free(parent_t);
	git_tree_free(head_u);
	git_tree_free(parent_u);
	urgent_rows_dispose(&u);
	ts_buf__dispose(&fetched);
	ts_buf__dispose(&msg);
	return error;
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
		ts_buf__printf(&spec, "+%s:refs/urgent/%s", out_ref.ptr, node->id);
		if (ts_buf__oom(&spec)) {
			error = TS_ERROR;
			goto done;
		}
		if ((error = ts_remote__push(&sent, ts_store__repo(node->store), spec.ptr, &t.opts)) < 0)
			goto done;
		urgent->updated = sent.updated;
		urgent->objects = sent.objects;
		urgent->bytes = sent.bytes;
	}
	if (flags & TS_PUSH_URGENT_ONLY)
		goto done;
	ts_buf__clear(&spec);
	ts_buf__printf(&spec, "+" TS_STORE_MAIN ":refs/submissions/%s", node->id);
	if (ts_buf__oom(&spec)) {
		error = TS_ERROR;
		goto done;
	}
	if ((error = ts_remote__push(stats, ts_store__repo(node->store), spec.ptr, &t.opts)) < 0)
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

int ts_node_fetch(char id_out[41], ts_transfer_stats *stats, ts_node *node, const char *remote,
	const ts_transfer_options *opts)
{
	git_repository *repo = ts_store__repo(node->store);
	git_reference *ref = NULL;
	git_odb *odb = NULL;
	remote_target t;
	ts_quarantine q = TS_QUARANTINE_INIT;
	ts_buf dst = TS_BUF_INIT;
	int error, locked = 0;
	git_oid id;

	id_out[0] = '\0';
	if (stats)
		memset(stats, 0, sizeof(*stats));
	if (!remote)
		remote = TS_REMOTE_DEFAULT;
	if ((error = target_open(&t, node, remote, opts)) < 0)
		return error;
	ts_buf__printf(&dst, "refs/remotes/%s/main", remote);
	if (ts_buf__oom(&dst)) {
		error = TS_ERROR;
		goto done;
	}
	if ((error = ts_quarantine__open(&q, repo, dst.ptr)) < 0 ||
	    (error = ts_remote__fetch(&id, stats, q.repo, TS_STORE_MAIN, dst.ptr, &t.opts)) < 0)
		goto done;
	/* checked in the quarantine: a refused fetch leaves nothing behind */
	if ((error = ts_node__admit(node, q.repo, NULL, &id)) < 0)
		goto done;
	if ((error = ts_store__lock(node->store)) < 0)
		goto done;
	locked = 1;
	/* the objects durable before the ref that names them */
	if ((error = ts_quarantine__move(&q, git_repository_path(repo))) < 0 ||
	    (error = ts_store__sync(node->store)) < 0)
		goto done;
	if (git_repository_odb(&odb, repo) < 0 || git_odb_refresh(odb) < 0 ||
	    git_reference_create(&ref, repo, dst.ptr, &id, 1, "fetch") < 0) {
		error = ts_store__git_error(TS_ERROR, "recording the fetched commit");
		goto done;
	}
	git_oid_tostr(id_out, 41, &id);
	ts_node__sync_record(node, remote, "fetched", id_out);
done:
	if (locked)
		ts_store__unlock(node->store);
	git_reference_free(ref);
	git_odb_free(odb);
	ts_quarantine__close(&q);
	ts_buf__dispose(&dst);
	target_dispose(&t);
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
