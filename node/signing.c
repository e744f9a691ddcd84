/*
 * Signed history: the node's Ed25519 key, the allowed_signers file stock
 * git checks signatures against, and the signature part of `verify`.
 *
 *   NODE/id_ed25519, .pub   the node's key pair (OpenSSH format), unless
 *                           the config's node.key names another key file
 *   NODE/allowed_signers    "<node id> namespaces="git" ssh-ed25519 BASE64",
 *                           the node's own key first, then every row of
 *                           sync_signers in node id order, then the keys
 *                           of the nodes above that no row records, as
 *                           first seen on a pull (config signer.<id>.key)
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
 * commits, else the key sync_signers records for that node id, else the
 * key first seen for a node above. A commit of a node with no key
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
#include "statements.h"

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

/* One key a node's commits may be signed with: in force (until NULL), or
 * for what it signed by `until` only (revoked, or retired when the node was
 * enrolled anew). A node may have several: one in force, others retired. */
typedef struct {
	char *id, *key, *until;
	int retired;
} signer_key;

typedef struct {
	signer_key *v;
	size_t n;
} signer_keys;

/* The keys commits may be signed with (see "admission" below). */
struct ts_node__offer_keys {
	signer_keys keys;
	sqlite3 *db;           /* reads the JSON of retired_keys */
	const char *own;       /* this node's id */
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
		signer_line(&text, keys->keys.v[i].id, keys->keys.v[i].key);
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


static void signer_key_dispose(signer_key *e)
{
	free(e->id);
	free(e->key);
	free(e->until);
}

static void signer_keys_dispose(signer_keys *k)
{
	size_t i;
	for (i = 0; i < k->n; i++)
		signer_key_dispose(&k->v[i]);
	free(k->v);
}

static int signer_keys_add(signer_keys *k, const char *id, const char *key, const char *until, int retired)
{
	signer_key *grown, e = { NULL, NULL, NULL, retired };

	if (ts_sshsig__public_parse(&e.key, key) < 0)
		e.key = strdup("(malformed key)");   /* recorded, but nothing matches it */
	e.id = strdup(id);
	e.until = until ? strdup(until) : NULL;
	if (!e.key || !e.id || (until && !e.until) || !(grown = realloc(k->v, (k->n + 1) * sizeof(*grown)))) {
		signer_key_dispose(&e);
		return ts_error_set(TS_ERROR, "out of memory");
	}
	k->v = grown;
	k->v[k->n++] = e;
	return 0;
}

static int signer_keys_has(const signer_keys *k, const char *id)
{
	size_t i;
	for (i = 0; i < k->n; i++)
		if (!strcmp(k->v[i].id, id))
			return 1;
	return 0;
}

/* The entry of node `id` for `key` (canonical), or NULL. */
static const signer_key *signer_key_match(const signer_keys *k, const char *id, const char *key)
{
	size_t i;
	for (i = 0; i < k->n; i++)
		if (!strcmp(k->v[i].id, id) && !strcmp(k->v[i].key, key))
			return &k->v[i];
	return NULL;
}

/* Every key of node `id` taken out. */
static void signer_keys_remove(signer_keys *k, const char *id)
{
	size_t i = 0;
	while (i < k->n)
		if (!strcmp(k->v[i].id, id)) {
			signer_key_dispose(&k->v[i]);
			k->v[i] = k->v[--k->n];
		} else {
			i++;
		}
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
		const char *problem = NULL;
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
		} else if (!committer || !committer->email || !signer_keys_has(&keys->keys, committer->email)) {
			snprintf(why, sizeof(why), "no key is enrolled for %.64s", committer && committer->email ?
				committer->email : "its committer");
			problem = why;
		} else if (!signer_key_match(&keys->keys, committer->email, signer)) {
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
 * The keys an offer's commits may be signed with. This node's own records
 * come first, so that no offer changes this node's key, nor another's but
 * as the rules below allow.
 *
 * From below (`from` set), the offer's records add only the nodes strictly
 * below the offering node, which it enrolled itself.
 *
 * From above, a record the offer brings (a node enrolled, or enrolled
 * anew) counts only when the commit that wrote it is trusted: made by a
 * node strictly above the node the record is for, and signed with the key
 * this node holds for that node. The offered commits that change
 * sync_signers are taken oldest first, each with the keys the earlier ones
 * enrolled, in rounds until one round trusts nothing more (a street may
 * enroll a handheld in a commit older than its own enrolment in the
 * district's history). A commit trusted in round r is made by a node
 * whose key an earlier round took from a node above it, so there are no
 * more rounds than tiers, whatever the offer holds. Another deployment's upper node, with the same
 * node ids and keys of its own, so enrolls nothing here, and its commits
 * are refused as signed by keys not enrolled.
 */

typedef struct {
	ts_node__offer_keys *k;
	git_repository *repo;
	int error;
} tree_signers;

/* The keys a record's retired_keys (JSON) lists, each until its time;
 * none for this node's own key, which stays in force. */
static int add_retired(ts_node__offer_keys *k, const char *id, const char *retired)
{
	sqlite3_stmt *st = NULL;
	const char *key, *until;
	int rc, error = 0;

	if (!retired)
		return 0;
	if (sqlite3_prepare_v2(k->db, "SELECT json_extract(value, '$.key'), json_extract(value, '$.until') "
			"FROM json_each(CASE WHEN json_valid(?1) THEN ?1 ELSE '[]' END)", -1, &st, NULL) != SQLITE_OK)
		return ts_sqlite__error(k->db, "reading the retired keys of %s", id);
	sqlite3_bind_text(st, 1, retired, -1, SQLITE_STATIC);
	while (!error && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		key = (const char *)sqlite3_column_text(st, 0);
		until = (const char *)sqlite3_column_text(st, 1);
		if (key && until && sqlite3_column_type(st, 0) == SQLITE_TEXT && sqlite3_column_type(st, 1) == SQLITE_TEXT)
			error = signer_keys_add(&k->keys, id, key, until, 1);
	}
	if (!error && rc != SQLITE_DONE)
		error = ts_sqlite__error(k->db, "reading the retired keys of %s", id);
	sqlite3_finalize(st);
	return error;
}

/* A node's record: its key (until its revocation, if any) and its retired
 * keys. The first record of a node stands; of this node's own record only
 * the retired keys count, its own key being in force. */
static int add_signer(ts_node__offer_keys *k, const char *id, const char *key, const char *revoked_at,
	const char *retired)
{
	int error;

	if (k->own && !strcmp(id, k->own))
		return add_retired(k, id, retired);
	if (signer_keys_has(&k->keys, id))
		return 0;
	if ((error = signer_keys_add(&k->keys, id, key, revoked_at, 0)) < 0)
		return error;
	return add_retired(k, id, retired);
}

/* A node's keys replaced by a newer record (not this node's: see add_signer). */
static int set_signer(ts_node__offer_keys *k, const char *id, const char *key, const char *revoked_at,
	const char *retired)
{
	if (!k->own || strcmp(id, k->own))
		signer_keys_remove(&k->keys, id);
	return add_signer(k, id, key, revoked_at, retired);
}

static int text_of(const ts_row *row, const char *column, const char **out)
{
	const ts_value *v = ts_row__get(row, column);
	*out = v && v->type == SQLITE_TEXT ? v->p : NULL;
	return v != NULL;
}

/* One sync_signers record of a tree: its row (to free), with its node id
 * and key set, or NULL when damaged or keyless (a damaged record names no
 * key; admission refuses it on its own). */
typedef struct {
	const char *id, *key, *revoked, *retired;
} signer_record;

static ts_row *record_read(signer_record *r, git_repository *repo, const git_tree_entry *e)
{
	git_blob *blob = NULL;
	ts_row *row = NULL;

	memset(r, 0, sizeof(*r));
	if (git_blob_lookup(&blob, repo, git_tree_entry_id(e)) == 0 &&
	    ts_rowcodec__decode(&row, git_blob_rawcontent(blob), (size_t)git_blob_rawsize(blob)) == 0) {
		text_of(row, "node_id", &r->id);
		text_of(row, "public_key", &r->key);
		text_of(row, "revoked_at", &r->revoked);
		text_of(row, "retired_keys", &r->retired);
	}
	git_blob_free(blob);   /* the row holds copies */
	if (row && (!r->id || !r->key)) {
		ts_row__free(row);
		row = NULL;
	}
	return row;
}

static int tree_signer(const char *root, const git_tree_entry *e, void *payload)
{
	tree_signers *t = payload;
	signer_record r;
	ts_row *row;

	(void)root;
	if (git_tree_entry_type(e) != GIT_OBJECT_BLOB || !(row = record_read(&r, t->repo, e)))
		return 0;
	if (ts_jurisdiction_covers(t->k->from, r.id) && strcmp(r.id, t->k->from))
		t->error = add_signer(t->k, r.id, r.key, r.revoked, r.retired);
	ts_row__free(row);
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
		error = add_signer(k, id, e->value, NULL, NULL);
	}
	git_config_iterator_free(it);
	return error;
}

static int own_signers(ts_node__offer_keys *k, ts_node *node)
{
	sqlite3_stmt *st = NULL;
	ts_buf own = TS_BUF_INIT;
	int rc, error;

	k->db = node->db;
	k->own = node->id;
	if ((error = ts_sshsig__key_public(&own, node->key, 0)) < 0 ||
	    (error = signer_keys_add(&k->keys, node->id, own.ptr, NULL, 0)) < 0)
		goto done;
	if (ts_statements__prepare(node->db, "SELECT node_id, public_key, revoked_at, retired_keys FROM sync_signers "
			"ORDER BY node_id", &st) == SQLITE_OK) {   /* else a schema before sync_signers */
		while ((rc = sqlite3_step(st)) == SQLITE_ROW)
			if (sqlite3_column_text(st, 0) && sqlite3_column_text(st, 1) &&
			    (error = add_signer(k, (const char *)sqlite3_column_text(st, 0),
					(const char *)sqlite3_column_text(st, 1), (const char *)sqlite3_column_text(st, 2),
					(const char *)sqlite3_column_text(st, 3))) < 0)
				goto done;
		if (rc != SQLITE_DONE) {
			error = ts_sqlite__error(node->db, "reading sync_signers");
			goto done;
		}
	}
	error = pinned_signers(k, node);
done:
	ts_statements__done(st);
	ts_buf__dispose(&own);
	return error;
}

/* The sync_signers tree of commit c, or NULL when it has none. */
static git_tree *signers_tree(git_repository *repo, const git_commit *c)
{
	git_tree *root = NULL, *sub = NULL;
	git_tree_entry *e = NULL;

	if (git_commit_tree(&root, c) == 0 && git_tree_entry_bypath(&e, root, "sync_signers") == 0 &&
	    git_tree_entry_type(e) == GIT_OBJECT_TREE)
		(void)git_tree_lookup(&sub, repo, git_tree_entry_id(e));
	git_tree_entry_free(e);
	git_tree_free(root);
	return sub;
}

static int offered_signers(ts_node__offer_keys *k, git_repository *repo, const git_oid *theirs)
{
	tree_signers t = { k, repo, 0 };
	git_commit *c = NULL;
	git_tree *sub = NULL;
	int error = 0;

	if (git_commit_lookup(&c, repo, theirs) < 0)
		return ts_store__git_error(TS_ECORRUPT, "reading the offered commit");
	if ((sub = signers_tree(repo, c)) && git_tree_walk(sub, GIT_TREEWALK_PRE, tree_signer, &t) < 0)
		error = t.error < 0 ? t.error : ts_store__git_error(TS_ECORRUPT, "reading the offered keys");
	git_tree_free(sub);
	git_commit_free(c);
	return error;
}

/* The enrolments an offer from above brings (see "admission" above). */
typedef struct {
	ts_node__offer_keys *k;
	git_repository *repo;
	const char *own;        /* this node's id: its key is never taken from above */
	git_oid *commits;       /* the offered commits that change sync_signers, oldest first */
	size_t n;
	char **ids;             /* the nodes enrolled by the offer, and by which commit */
	size_t *by_commit, nids;
	/* the commit being read */
	size_t at;
	const char *by;
	git_tree *before;       /* its first parent's sync_signers, or NULL */
	int error;
} enrolments;


/* Whether an enrolment of node `id` by commit `at` is newer than the one
 * taken so far (none: newer), and if so, that it is now the one taken. */
static int enrolment_newer(enrolments *en, const char *id, size_t at, int *newer)
{
	char **ids;
	size_t *by, i;

	for (i = 0; i < en->nids; i++)
		if (!strcmp(en->ids[i], id)) {
			*newer = at > en->by_commit[i];
			if (*newer)
				en->by_commit[i] = at;
			return 0;
		}
	*newer = 1;
	if (!(ids = realloc(en->ids, (en->nids + 1) * sizeof(*ids))))
		return ts_error_set(TS_ERROR, "out of memory");
	en->ids = ids;
	if (!(by = realloc(en->by_commit, (en->nids + 1) * sizeof(*by))))
		return ts_error_set(TS_ERROR, "out of memory");
	en->by_commit = by;
	if (!(ids[en->nids] = strdup(id)))
		return ts_error_set(TS_ERROR, "out of memory");
	by[en->nids++] = at;
	return 0;
}

/* One record of a trusted commit: taken when it changed there and is for a
 * node strictly below the commit's maker, other than this node. */
static int enrolment_record(const char *root, const git_tree_entry *e, void *payload)
{
	enrolments *en = payload;
	git_tree_entry *was = NULL;
	ts_row *row = NULL;
	ts_buf path = TS_BUF_INIT;
	signer_record r;
	int newer = 0;

	if (git_tree_entry_type(e) != GIT_OBJECT_BLOB)
		return 0;
	ts_buf__printf(&path, "%s%s", root, git_tree_entry_name(e));
	if (ts_buf__oom(&path)) {
		en->error = ts_error_set(TS_ERROR, "out of memory");
		return -1;
	}
	if (en->before && git_tree_entry_bypath(&was, en->before, path.ptr) == 0 &&
	    git_oid_equal(git_tree_entry_id(was), git_tree_entry_id(e)))
		goto done;   /* unchanged by this commit */
	if (!(row = record_read(&r, en->repo, e)))
		goto done;
	if (ts_jurisdiction_covers(en->by, r.id) && strcmp(en->by, r.id) &&
	    (en->error = enrolment_newer(en, r.id, en->at, &newer)) == 0 && newer)
		en->error = set_signer(en->k, r.id, r.key, r.revoked, r.retired);
done:
	ts_row__free(row);
	git_tree_entry_free(was);
	ts_buf__dispose(&path);
	return en->error < 0 ? -1 : 0;
}

/* Commit `at` of the list, trusted: its records taken. */
static int enrolment_take(enrolments *en, size_t at)
{
	git_commit *c = NULL, *parent = NULL;
	git_tree *after = NULL;
	int error = 0;

	if (git_commit_lookup(&c, en->repo, &en->commits[at]) < 0)
		return ts_store__git_error(TS_ECORRUPT, "reading an offered commit");
	en->at = at;
	en->by = git_commit_committer(c)->email;
	en->before = git_commit_parentcount(c) > 0 && git_commit_parent(&parent, c, 0) == 0 ?
		signers_tree(en->repo, parent) : NULL;
	en->error = 0;
	if ((after = signers_tree(en->repo, c)) && git_tree_walk(after, GIT_TREEWALK_PRE, enrolment_record, en) < 0)
		error = en->error < 0 ? en->error : ts_store__git_error(TS_ECORRUPT, "reading the offered keys");
	git_tree_free(after);
	git_tree_free(en->before);
	en->before = NULL;
	git_commit_free(parent);
	git_commit_free(c);
	return error;
}

/* The offered commits (not reachable from `ours`) whose sync_signers
 * differs from their first parent's, oldest first. */
static int enrolment_commits(enrolments *en, const git_oid *ours, const git_oid *theirs)
{
	git_revwalk *walk = NULL;
	git_oid id;
	int rc, error = 0;

	if (git_revwalk_new(&walk, en->repo) < 0 ||
	    git_revwalk_sorting(walk, GIT_SORT_TOPOLOGICAL | GIT_SORT_REVERSE) < 0 ||
	    git_revwalk_push(walk, theirs) < 0 || (ours && git_revwalk_hide(walk, ours) < 0))
		return ts_store__git_error(TS_ECORRUPT, "walking the offered history");
	while (!error && (rc = git_revwalk_next(&id, walk)) == 0) {
		git_commit *c = NULL, *parent = NULL;
		git_tree *now = NULL, *was = NULL;
		git_oid *grown;

		if (git_commit_lookup(&c, en->repo, &id) < 0) {
			error = ts_store__git_error(TS_ECORRUPT, "reading an offered commit");
			break;
		}
		now = signers_tree(en->repo, c);
		if (git_commit_parentcount(c) > 0 && git_commit_parent(&parent, c, 0) == 0)
			was = signers_tree(en->repo, parent);
		if (now && (!was || !git_oid_equal(git_tree_id(now), git_tree_id(was)))) {
			if (!(grown = realloc(en->commits, (en->n + 1) * sizeof(*grown))))
				error = ts_error_set(TS_ERROR, "out of memory");
			else
				git_oid_cpy(&(en->commits = grown)[en->n++], &id);
		}
		git_tree_free(was);
		git_tree_free(now);
		git_commit_free(parent);
		git_commit_free(c);
	}
	if (!error && rc != GIT_ITEROVER)
		error = ts_store__git_error(TS_ECORRUPT, "walking the offered history");
	git_revwalk_free(walk);
	return error;
}

static int offered_enrolments(ts_node__offer_keys *k, ts_node *node, git_repository *repo,
	const git_oid *ours, const git_oid *theirs)
{
	enrolments en;
	char *trusted = NULL;
	size_t i;
	int more = 1, error;

	memset(&en, 0, sizeof(en));
	en.k = k;
	en.repo = repo;
	en.own = node->id;
	if ((error = enrolment_commits(&en, ours, theirs)) < 0 || !en.n)
		goto done;
	if (!(trusted = calloc(en.n, 1))) {
		error = ts_error_set(TS_ERROR, "out of memory");
		goto done;
	}
	while (more && !error) {
		more = 0;
		for (i = 0; i < en.n && !error; i++) {
			if (trusted[i])
				continue;
			error = ts_node__offer_commit_check(repo, &en.commits[i], k);
			if (error == TS_EDENIED || error == TS_ECORRUPT) {
				error = 0;   /* not trusted (yet): its own check refuses it */
				continue;
			}
			if (!error && !(error = enrolment_take(&en, i)))
				trusted[i] = more = 1;
		}
	}
done:
	for (i = 0; i < en.nids; i++)
		free(en.ids[i]);
	free(en.ids);
	free(en.by_commit);
	free(en.commits);
	free(trusted);
	return error;
}

int ts_node__offer_keys_load(ts_node__offer_keys **out, ts_node *node, git_repository *repo,
	const git_oid *ours, const git_oid *theirs, const char *from)
{
	ts_node__offer_keys *k;
	int error;

	*out = NULL;
	if (!(k = calloc(1, sizeof(*k))))
		return ts_error_set(TS_ERROR, "out of memory");
	k->from = from;
	k->pin = from ? NULL : node;
	error = own_signers(k, node);
	if (!error)
		error = from ? offered_signers(k, repo, theirs) : offered_enrolments(k, node, repo, ours, theirs);
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
	    add_signer(k, id, key, NULL, NULL) < 0)
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
	const signer_key *used;
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
	if (k->pin && !signer_keys_has(&k->keys, committer->email) &&
	    ts_jurisdiction_covers(committer->email, k->pin->id) && strcmp(committer->email, k->pin->id) &&
	    (error = pin_key(k, committer->email, signer)) < 0)
		goto done;
	if (!signer_keys_has(&k->keys, committer->email)) {
		error = ts_error_set(TS_EDENIED, "commit %s: no key is enrolled for %s", hex, committer->email);
		goto done;
	}
	if (!(used = signer_key_match(&k->keys, committer->email, signer))) {
		error = ts_error_set(TS_EDENIED, "commit %s is signed by a key not enrolled for %s", hex, committer->email);
		goto done;
	}
	ts_time_format(made, (int64_t)committer->when.time);
	if (used->until && strcmp(made, used->until) > 0)
		error = ts_error_set(TS_EDENIED, "commit %s was made at %s, after the key of %s was %s at %s",
			hex, made, committer->email, used->retired ? "replaced" : "revoked", used->until);
done:
	free(signer);
	git_commit_free(commit);
	git_odb_object_free(obj);
	git_odb_free(odb);
	return error;
}

