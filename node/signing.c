/*
 * Signed history: the node's Ed25519 key, the allowed_signers file stock
 * git checks signatures against, and the signature part of `verify`.
 *
 *   NODE/id_ed25519, .pub   the node's key pair (OpenSSH format), unless
 *                           the config's node.key names another key file
 *   NODE/allowed_signers    "<node id> namespaces="git" ssh-ed25519 BASE64",
 *                           the node's own key first, then the keys of the
 *                           nodes above first seen on a pull (config
 *                           signer.<id>.key), then every row of
 *                           sync_signers in node id order
 *
 * The node signs every commit it makes (sync/store.c signs what it writes;
 * sync/sshsig.c has the formats). The keys of the other nodes travel with
 * the history, in the synced table sync_signers: the city writes its own
 * row in its first commit, and an upper node enrolls each node below it.
 *
 * A revoked key (revoked_at set) stays in allowed_signers: the commits it
 * signed before the revocation stay verifiable with stock git. Refusing
 * what it signs afterwards is the job of admission, which reads revoked_at.
 *
 * `verify` checks every commit reachable from the head: that it is signed,
 * that the signature matches its bytes, and that the key is its committer
 * node's (committer "<node id> <node id>"): the node's own key for its own
 * commits, else the key first seen for a node above, else the key
 * sync_signers records for that node id. A commit of a node with no key
 * at all is reported too ("no key is enrolled for ...").
 */
#include "files.h"
#include "node.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "history.h"
#include "remote.h"

#define SIGNERS_FILE "allowed_signers"
#define KEY_CONFIG "node.key"

static char *path_in(const char *dir, const char *name)
{
	ts_buf b = TS_BUF_INIT;
	ts_buf__printf(&b, "%s/%s", dir, name);
	return ts_buf__oom(&b) ? NULL : ts_buf__detach(&b);
}

static char *config_string(git_config *cfg, const char *name)
{
	git_buf buf = GIT_BUF_INIT;
	char *s = NULL;
	if (git_config_get_string_buf(&buf, cfg, name) == 0)
		s = strdup(buf.ptr);
	git_buf_dispose(&buf);
	return s;
}

/* The node's key file: node.key, or NODE/id_ed25519. *named says which. */
static char *key_path(ts_node *node, int *named)
{
	char *p = config_string(node->config, KEY_CONFIG);
	*named = p != NULL;
	return p ? p : path_in(node->path, TS_NODE_KEY_FILE);
}

int ts_node__key_init(ts_sshsig_key **out, const char *dir, const ts_init_options *opts)
{
	char *path = NULL, *cfgpath = NULL;
	git_config *cfg = NULL;
	int error;

	*out = NULL;
	if (opts->key) {
		if ((error = ts_sshsig__key_load(out, opts->key)) < 0)
			goto done;
		if (!(path = realpath(opts->key, NULL))) {
			error = ts_error_set(TS_ERROR, "%s: %s", opts->key, strerror(errno));
			goto done;
		}
		if (!(cfgpath = path_in(dir, "config"))) {
			error = ts_error_set(TS_ERROR, "out of memory");
			goto done;
		}
		if (git_config_open_ondisk(&cfg, cfgpath) < 0 || git_config_set_string(cfg, KEY_CONFIG, path) < 0)
			error = ts_store__git_error(TS_ERROR, cfgpath);
		else
			error = ts_files__durable(dir, "config");
		goto done;
	}
	if (!(path = path_in(dir, TS_NODE_KEY_FILE))) {
		error = ts_error_set(TS_ERROR, "out of memory");
		goto done;
	}
	if ((error = ts_sshsig__key_generate(out, opts->id)) < 0)
		goto done;
	error = ts_sshsig__key_save(*out, path);
done:
	if (error < 0) {
		ts_sshsig__key_free(*out);
		*out = NULL;
	}
	git_config_free(cfg);
	free(path);
	free(cfgpath);
	return error;
}

int ts_node__key_enroll_self(sqlite3 *db, const ts_sshsig_key *key, const char *node_id, int64_t when)
{
	ts_buf pub = TS_BUF_INIT;
	sqlite3_stmt *st = NULL;
	char at[32];
	int error;

	if ((error = ts_sshsig__key_public(&pub, key, 0)) < 0)
		goto done;
	ts_time_format(at, when);
	if (sqlite3_prepare_v2(db, "INSERT INTO sync_signers (node_id, public_key, enrolled_by, enrolled_at) "
			"VALUES (?1, ?2, ?1, ?3)", -1, &st, NULL) != SQLITE_OK) {
		error = ts_sqlite__error(db, "enrolling the city's key");
		goto done;
	}
	sqlite3_bind_text(st, 1, node_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, pub.ptr, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, at, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		error = ts_sqlite__error(db, "enrolling the city's key");
done:
	sqlite3_finalize(st);
	ts_buf__dispose(&pub);
	return error;
}

int ts_node__key_as_identity(ts_node *node)
{
	char *url = config_string(node->config, "remote." TS_REMOTE_DEFAULT ".url");
	char *identity = config_string(node->config, "remote." TS_REMOTE_DEFAULT ".identity");
	char *path = NULL, *absolute = NULL;
	ts_remote_url u = { 0, NULL, NULL, 0, NULL };
	int named, error = 0;

	if (!url || identity || ts_remote__url_parse(&u, url) < 0 || !u.ssh)
		goto done;
	if (!(path = key_path(node, &named)) || !(absolute = realpath(path, NULL))) {
		error = ts_error_set(TS_ERROR, "the node's key %s: %s", path ? path : "", strerror(errno));
		goto done;
	}
	if (git_config_set_string(node->config, "remote." TS_REMOTE_DEFAULT ".identity", absolute) < 0)
		error = ts_store__git_error(TS_ERROR, "writing the node's config");
	else
		error = ts_files__durable(node->path, "config");
done:
	ts_remote__url_dispose(&u);
	free(url);
	free(identity);
	free(path);
	free(absolute);
	return error;
}

static void head_moved(void *payload)
{
	/* allowed_signers is derived from the head: a failure here leaves it
	 * stale until the next move or open, and takes nothing back */
	ts_node_signers_refresh(payload);
}

int ts_node__key_load(ts_node *node)
{
	char *path;
	int named, error;

	if (!(path = key_path(node, &named)))
		return ts_error_set(TS_ERROR, "out of memory");
	error = ts_sshsig__key_load(&node->key, path);
	if (error == TS_ENOTFOUND && !named) {
		/* a node made before its commits were signed gets its key now */
		if ((error = ts_sshsig__key_generate(&node->key, node->id)) == 0 &&
		    (error = ts_sshsig__key_save(node->key, path)) < 0) {
			ts_sshsig__key_free(node->key);
			node->key = NULL;
		}
	}
	free(path);
	if (error < 0)
		return error;
	ts_store__set_signer(node->store, node->key);
	ts_store__on_head(node->store, head_moved, node);
	return 0;
}

/* Appends one allowed-signers line; a row that is not a node id and an
 * Ed25519 key is left out (the file must stay one entry per line). */
static void signer_line(ts_buf *out, const char *node_id, const char *key)
{
	char *canon = NULL;
	if (!node_id || !ts_node_id_valid(node_id) || !key || ts_sshsig__public_parse(&canon, key) < 0)
		return;
	ts_buf__printf(out, "%s namespaces=\"git\" %s\n", node_id, canon);
	free(canon);
}

static char *read_small_file(const char *path)
{
	ts_buf b = TS_BUF_INIT;
	char chunk[4096];
	size_t n;
	FILE *f = fopen(path, "rb");

	if (!f)
		return NULL;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		ts_buf__put(&b, chunk, n);
	fclose(f);
	if (ts_buf__oom(&b)) {
		ts_buf__dispose(&b);
		return NULL;
	}
	return b.ptr ? ts_buf__detach(&b) : strdup("");
}

/* The keys commits may be signed with, by node id: loaded once per verify. */
typedef struct {
	char **ids, **keys;
	size_t n;
} signer_keys;

/* The keys commits may be signed with (see "admission" below). */
struct ts_node__offer_keys {
	signer_keys keys;
	signer_keys revoked;   /* node id -> revoked_at, for the keys that have one */
	const char *from;
	ts_node *pin;          /* an offer from above: the node that keeps the keys
	                        * first seen for the nodes above it */
};

static int own_signers(ts_node__offer_keys *k, ts_node *node);

int ts_node_signers_refresh(ts_node *node)
{
	ts_buf text = TS_BUF_INIT, tmp = TS_BUF_INIT;
	ts_node__offer_keys *keys = NULL;
	size_t i;
	char *path = NULL;
	FILE *f = NULL;
	int error = 0;

	if (!node->key)
		return ts_error_set(TS_ERROR, "the node has no signing key");
	/* the keys verify trusts: its own, those first seen above, then sync_signers */
	if (!(keys = calloc(1, sizeof(*keys)))) {
		error = ts_error_set(TS_ERROR, "out of memory");
		goto done;
	}
	if ((error = own_signers(keys, node)) < 0)
		goto done;
	for (i = 0; i < keys->keys.n; i++)
		signer_line(&text, keys->keys.ids[i], keys->keys.keys[i]);
	if (ts_buf__oom(&text) || !(path = path_in(node->path, SIGNERS_FILE))) {
		error = ts_error_set(TS_ERROR, "out of memory");
		goto done;
	}
	if (!node->signers)
		node->signers = read_small_file(path);
	if (node->signers && !strcmp(node->signers, ts_buf__cstr(&text)))
		goto done;   /* unchanged: the common case of a commit */
	ts_buf__printf(&tmp, "%s.tmp", path);
	if (ts_buf__oom(&tmp)) {
		error = TS_ERROR;
		goto done;
	}
	if (!(f = fopen(tmp.ptr, "w")) || fwrite(text.ptr, 1, text.size, f) != text.size) {
		error = ts_error_set(TS_ERROR, "writing %s: %s", tmp.ptr, strerror(errno));
		goto done;
	}
	if (fclose(f) != 0) {
		f = NULL;
		error = ts_error_set(TS_ERROR, "writing %s: %s", tmp.ptr, strerror(errno));
		goto done;
	}
	f = NULL;
	if (rename(tmp.ptr, path) < 0) {
		error = ts_error_set(TS_ERROR, "writing %s: %s", path, strerror(errno));
		goto done;
	}
	free(node->signers);
	node->signers = ts_buf__detach(&text);
done:
	if (f) {
		fclose(f);
		unlink(tmp.ptr);
	}
	ts_node__offer_keys_free(keys);
	free(path);
	ts_buf__dispose(&text);
	ts_buf__dispose(&tmp);
	return error;
}

/* --- verify --------------------------------------------------------------- */


static void signer_keys_dispose(signer_keys *k)
{
	size_t i;
	for (i = 0; i < k->n; i++) {
		free(k->ids[i]);
		free(k->keys[i]);
	}
	free(k->ids);
	free(k->keys);
}

static int signer_keys_add(signer_keys *k, const char *id, const char *key)
{
	char **ids, **keys, *canon = NULL;

	if (ts_sshsig__public_parse(&canon, key) < 0)
		canon = strdup("(malformed key)");   /* recorded, but nothing matches it */
	if (!canon)
		return ts_error_set(TS_ERROR, "out of memory");
	if (!(ids = realloc(k->ids, (k->n + 1) * sizeof(*ids)))) {
		free(canon);
		return ts_error_set(TS_ERROR, "out of memory");
	}
	k->ids = ids;
	if (!(keys = realloc(k->keys, (k->n + 1) * sizeof(*keys)))) {
		free(canon);
		return ts_error_set(TS_ERROR, "out of memory");
	}
	k->keys = keys;
	if (!(k->ids[k->n] = strdup(id))) {
		free(canon);
		return ts_error_set(TS_ERROR, "out of memory");
	}
	k->keys[k->n++] = canon;
	return 0;
}

static const char *signer_key_of(const signer_keys *k, const char *id)
{
	size_t i;
	for (i = 0; i < k->n; i++)
		if (!strcmp(k->ids[i], id))
			return k->keys[i];
	return NULL;
}


int ts_node__verify_signatures(ts_node *node,
	int (*cb)(const ts_verify_problem *p, void *payload), void *payload)
{
	git_repository *repo = ts_store__repo(node->store);
	ts_node__offer_keys *keys = NULL;
	git_revwalk *walk = NULL;
	git_odb *odb = NULL;
	git_oid head, id;
	int problems = 0, stop = 0, rc, error;

	if ((error = ts_history__head(&head, node->db)) < 0 ||
	    !(keys = calloc(1, sizeof(*keys))) || (error = own_signers(keys, node)) < 0) {
		if (!keys)
			error = ts_error_set(TS_ERROR, "out of memory");
		goto done;
	}
	if (git_repository_odb(&odb, repo) < 0 || git_revwalk_new(&walk, repo) < 0 ||
	    git_revwalk_push(walk, &head) < 0) {
		error = ts_store__git_error(TS_ECORRUPT, "walking the history");
		goto done;
	}
	while (!stop && (rc = git_revwalk_next(&id, walk)) == 0) {
		git_odb_object *obj = NULL;
		git_commit *commit = NULL;
		const git_signature *committer;
		char hex[GIT_OID_HEXSZ + 1], why[256];
		char *signer = NULL;
		const char *expected, *problem = NULL;
		ts_verify_problem p;

		git_oid_tostr(hex, sizeof(hex), &id);
		if (git_odb_read(&obj, odb, &id) < 0 || git_commit_lookup(&commit, repo, &id) < 0) {
			git_odb_object_free(obj);
			error = ts_store__git_error(TS_ECORRUPT, "reading a commit");
			goto done;
		}
		rc = ts_sshsig__commit_check(&signer, git_odb_object_data(obj), git_odb_object_size(obj));
		committer = git_commit_committer(commit);
		if (rc == TS_ENOTFOUND) {
			problem = "unsigned commit";
		} else if (rc < 0) {
			const char *e = ts_error_last();
			if (e && strstr(e, "does not match"))
				problem = "signature does not match";
			else {
				snprintf(why, sizeof(why), "malformed signature (%s)", e ? e : "unreadable");
				problem = why;
			}
		} else if (!committer || !committer->email || !(expected = signer_key_of(&keys->keys, committer->email))) {
			snprintf(why, sizeof(why), "no key is enrolled for %.64s", committer && committer->email ?
				committer->email : "its committer");
			problem = why;
		} else if (strcmp(expected, signer)) {
			snprintf(why, sizeof(why), "signed by a key not enrolled for %.64s", committer->email);
			problem = why;
		}
		if (problem) {
			memset(&p, 0, sizeof(p));
			p.table = "history";
			p.key = hex;
			p.problem = problem;
			problems++;
			stop = cb && cb(&p, payload) != 0;
		}
		free(signer);
		git_commit_free(commit);
		git_odb_object_free(obj);
	}
	if (!stop && rc != GIT_ITEROVER) {
		error = ts_store__git_error(TS_ECORRUPT, "walking the history");
		goto done;
	}
	error = problems ? TS_ECORRUPT : 0;
done:
	git_revwalk_free(walk);
	git_odb_free(odb);
	ts_node__offer_keys_free(keys);
	return error;
}

/* --- admission ------------------------------------------------------------ */

/*
 * The keys an offer's commits may be signed with. For an offer from below
 * (`from` set): this node's own records first, so that the offering node
 * cannot change its own key or another's; the offer's own records add only
 * the nodes strictly below the offering node, which it enrolled itself.
 * For an offer from above: the upper node's records first (it may have
 * enrolled a key anew), then this node's.
 */

typedef struct {
	ts_node__offer_keys *k;
	git_repository *repo;
	int upper_first;
	int error;
} tree_signers;

static int add_signer(ts_node__offer_keys *k, const char *id, const char *key, const char *revoked_at)
{
	int error;
	if (signer_key_of(&k->keys, id))
		return 0;   /* the first record of a node stands */
	if ((error = signer_keys_add(&k->keys, id, key)) < 0)
		return error;
	if (revoked_at && (error = signer_keys_add(&k->revoked, id, revoked_at)) < 0)
		return error;
	return 0;
}

static int text_of(const ts_row *row, const char *column, const char **out)
{
	const ts_value *v = ts_row__get(row, column);
	*out = v && v->type == SQLITE_TEXT ? v->p : NULL;
	return v != NULL;
}

static int tree_signer(const char *root, const git_tree_entry *e, void *payload)
{
	tree_signers *t = payload;
	git_blob *blob = NULL;
	ts_row *row = NULL;
	const char *id = NULL, *key = NULL, *revoked = NULL;

	(void)root;
	if (git_tree_entry_type(e) != GIT_OBJECT_BLOB)
		return 0;
	if (git_blob_lookup(&blob, t->repo, git_tree_entry_id(e)) < 0 ||
	    ts_rowcodec__decode(&row, git_blob_rawcontent(blob), (size_t)git_blob_rawsize(blob)) < 0) {
		git_blob_free(blob);
		return 0;   /* a damaged record names no key; admission refuses it on its own */
	}
	text_of(row, "node_id", &id);
	text_of(row, "public_key", &key);
	text_of(row, "revoked_at", &revoked);
	if (id && key && (!t->k->from || (ts_jurisdiction_covers(t->k->from, id) && strcmp(id, t->k->from))))
		t->error = add_signer(t->k, id, key, revoked);
	ts_row__free(row);
	git_blob_free(blob);
	return t->error < 0 ? -1 : 0;
}

/*
 * The keys of the nodes above, as first seen. A node enrolled by no one
 * (the top of its deployment) records its key nowhere the nodes below can
 * read it before their first pull, so a node keeps, in its config, the key
 * that signed the first commit it took from each node above it:
 *
 *     [signer "bj.dc"]
 *             key = ssh-ed25519 AAAA...
 *
 * as ssh keeps a host key on first contact; a later commit of that node
 * signed with another key is refused, unless the records above enroll it.
 */
#define PIN_SECTION "signer."
#define PIN_KEY ".key"

/* Every signer.<id>.key of the config (no regex: a plain walk). */
static int pinned_signers(ts_node__offer_keys *k, ts_node *node)
{
	git_config_iterator *it = NULL;
	git_config_entry *e;
	char id[256];
	int rc, error = 0;

	if (git_config_iterator_new(&it, node->config) < 0)
		return ts_store__git_error(TS_ERROR, "reading the node's config");
	while (!error && (rc = git_config_next(&e, it)) == 0) {
		size_t n = strlen(e->name), pre = strlen(PIN_SECTION), post = strlen(PIN_KEY);
		if (n <= pre + post || n - pre - post >= sizeof(id) || strncasecmp(e->name, PIN_SECTION, pre) ||
		    strcasecmp(e->name + n - post, PIN_KEY))
			continue;
		memcpy(id, e->name + pre, n - pre - post);
		id[n - pre - post] = '\0';
		error = add_signer(k, id, e->value, NULL);
	}
	git_config_iterator_free(it);
	return error;
}

static int own_signers(ts_node__offer_keys *k, ts_node *node)
{
	sqlite3_stmt *st = NULL;
	ts_buf own = TS_BUF_INIT;
	int rc, error;

	if ((error = ts_sshsig__key_public(&own, node->key, 0)) < 0 ||
	    (error = add_signer(k, node->id, own.ptr, NULL)) < 0)
		goto done;
	if ((error = pinned_signers(k, node)) < 0)
		goto done;
	if (sqlite3_prepare_v2(node->db, "SELECT node_id, public_key, revoked_at FROM sync_signers ORDER BY node_id",
			-1, &st, NULL) != SQLITE_OK)
		goto done;   /* a schema before sync_signers */
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if (sqlite3_column_text(st, 0) && sqlite3_column_text(st, 1) &&
		    (error = add_signer(k, (const char *)sqlite3_column_text(st, 0),
				(const char *)sqlite3_column_text(st, 1), (const char *)sqlite3_column_text(st, 2))) < 0)
			goto done;
	if (rc != SQLITE_DONE)
		error = ts_sqlite__error(node->db, "reading sync_signers");
done:
	sqlite3_finalize(st);
	ts_buf__dispose(&own);
	return error;
}

static int offered_signers(ts_node__offer_keys *k, git_repository *repo, const git_oid *theirs)
{
	tree_signers t = { k, repo, 0, 0 };
	git_commit *c = NULL;
	git_tree *root = NULL, *sub = NULL;
	git_tree_entry *e = NULL;
	int error = 0;

	if (git_commit_lookup(&c, repo, theirs) < 0 || git_commit_tree(&root, c) < 0) {
		error = ts_store__git_error(TS_ECORRUPT, "reading the offered commit");
		goto done;
	}
	if (git_tree_entry_bypath(&e, root, "sync_signers") < 0 || git_tree_entry_type(e) != GIT_OBJECT_TREE ||
	    git_tree_lookup(&sub, repo, git_tree_entry_id(e)) < 0)
		goto done;   /* no records offered */
	if (git_tree_walk(sub, GIT_TREEWALK_PRE, tree_signer, &t) < 0 && !t.error)
		error = ts_store__git_error(TS_ECORRUPT, "reading the offered keys");
	else
		error = t.error;
done:
	git_tree_free(sub);
	git_tree_entry_free(e);
	git_tree_free(root);
	git_commit_free(c);
	return error;
}

int ts_node__offer_keys_load(ts_node__offer_keys **out, ts_node *node, git_repository *repo,
	const git_oid *theirs, const char *from)
{
	ts_node__offer_keys *k;
	int error;

	*out = NULL;
	if (!(k = calloc(1, sizeof(*k))))
		return ts_error_set(TS_ERROR, "out of memory");
	k->from = from;
	k->pin = from ? NULL : node;
	if (from)
		error = own_signers(k, node);
	else
		error = offered_signers(k, repo, theirs);
	if (!error)
		error = from ? offered_signers(k, repo, theirs) : own_signers(k, node);
	if (error < 0) {
		ts_node__offer_keys_free(k);
		return error;
	}
	*out = k;
	return 0;
}

void ts_node__offer_keys_free(ts_node__offer_keys *k)
{
	if (!k)
		return;
	signer_keys_dispose(&k->keys);
	signer_keys_dispose(&k->revoked);
	free(k);
}

/* Keeps `key` as the one first seen for node `id` above this node: in the
 * node's config, so allowed_signers lists it, and for the rest of the offer. */
static int pin_key(ts_node__offer_keys *k, const char *id, const char *key)
{
	ts_buf name = TS_BUF_INIT;
	int error = 0;

	ts_buf__printf(&name, PIN_SECTION "%s" PIN_KEY, id);
	if (ts_buf__oom(&name) || git_config_set_string(k->pin->config, name.ptr, key) < 0 ||
	    add_signer(k, id, key, NULL) < 0)
		error = ts_store__git_error(TS_ERROR, "recording the upper node's key");
	else
		error = ts_files__durable(k->pin->path, "config");
	ts_buf__dispose(&name);
	return error;
}

int ts_node__offer_commit_check(git_repository *repo, const git_oid *id, void *payload)
{
	ts_node__offer_keys *k = payload;
	git_odb *odb = NULL;
	git_odb_object *obj = NULL;
	git_commit *commit = NULL;
	const git_signature *committer;
	const char *expected, *revoked;
	char hex[13], made[32];
	char *signer = NULL;
	int rc, error = 0;

	git_oid_tostr(hex, sizeof(hex), id);
	if (git_repository_odb(&odb, repo) < 0 || git_odb_read(&obj, odb, id) < 0 ||
	    git_commit_lookup(&commit, repo, id) < 0) {
		error = ts_store__git_error(TS_ECORRUPT, "reading an offered commit");
		goto done;
	}
	committer = git_commit_committer(commit);
	if (!committer || !committer->email || !ts_node_id_valid(committer->email)) {
		error = ts_error_set(TS_EDENIED, "commit %s: its committer names no node", hex);
		goto done;
	}
	if (k->from && !ts_jurisdiction_covers(k->from, committer->email)) {
		error = ts_error_set(TS_EDENIED, "commit %s was made by %s, which is neither %s nor a node below it",
			hex, committer->email, k->from);
		goto done;
	}
	rc = ts_sshsig__commit_check(&signer, git_odb_object_data(obj), git_odb_object_size(obj));
	if (rc == TS_ENOTFOUND) {
		error = ts_error_set(TS_EDENIED, "commit %s is unsigned", hex);
		goto done;
	}
	if (rc < 0) {
		const char *e = ts_error_last();
		error = ts_error_set(TS_EDENIED, "commit %s: %s", hex,
			e && strstr(e, "does not match") ? "its signature does not match its bytes" : "its signature is malformed");
		goto done;
	}
	/* from above, the first key seen for a node above this one is kept,
	 * as ssh keeps a host's key (oldest commits come first) */
	if (k->pin && !signer_key_of(&k->keys, committer->email) &&
	    ts_jurisdiction_covers(committer->email, k->pin->id) && strcmp(committer->email, k->pin->id) &&
	    (error = pin_key(k, committer->email, signer)) < 0)
		goto done;
	if (!(expected = signer_key_of(&k->keys, committer->email))) {
		error = ts_error_set(TS_EDENIED, "commit %s: no key is enrolled for %s", hex, committer->email);
		goto done;
	}
	if (strcmp(expected, signer)) {
		error = ts_error_set(TS_EDENIED, "commit %s is signed by a key not enrolled for %s", hex, committer->email);
		goto done;
	}
	ts_time_format(made, (int64_t)committer->when.time);
	if ((revoked = signer_key_of(&k->revoked, committer->email)) && strcmp(made, revoked) > 0)
		error = ts_error_set(TS_EDENIED, "commit %s was made at %s, after the key of %s was revoked at %s",
			hex, made, committer->email, revoked);
done:
	free(signer);
	git_commit_free(commit);
	git_odb_object_free(obj);
	git_odb_free(odb);
	return error;
}

