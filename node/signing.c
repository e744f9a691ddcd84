/*
 * Signed history: the node's Ed25519 key, the allowed_signers file stock
 * git checks signatures against, and the signature part of `verify`.
 *
 *   NODE/id_ed25519, .pub   the node's key pair (OpenSSH format), unless
 *                           the config's node.key names another key file
 *   NODE/allowed_signers    "<node id> namespaces="git" ssh-ed25519 BASE64",
 *                           the node's own key first, then every row of
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
 * commits, else the key sync_signers records for that node id. A node id
 * with no row at all is not reported: its key is not known here yet (a
 * node below that was never enrolled); admission refuses such commits
 * before they are merged.
 */
#include "node.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "history.h"
#include "remote.h"

#define SIGNERS_FILE "allowed_signers"
#define KEY_CONFIG "node.key"

static char *path_in(const char *dir, const char *name)
{
	ts_buf b = TS_BUF_INIT;
	ts_buf_printf(&b, "%s/%s", dir, name);
	return ts_buf_oom(&b) ? NULL : ts_buf_detach(&b);
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
		if ((error = ts_sshsig_key_load(out, opts->key)) < 0)
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
		goto done;
	}
	if (!(path = path_in(dir, TS_NODE_KEY_FILE))) {
		error = ts_error_set(TS_ERROR, "out of memory");
		goto done;
	}
	if ((error = ts_sshsig_key_generate(out, opts->id)) < 0)
		goto done;
	error = ts_sshsig_key_save(*out, path);
done:
	if (error < 0) {
		ts_sshsig_key_free(*out);
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

	if ((error = ts_sshsig_key_public(&pub, key, 0)) < 0)
		goto done;
	ts_time_format(at, when);
	if (sqlite3_prepare_v2(db, "INSERT INTO sync_signers (node_id, public_key, enrolled_by, enrolled_at) "
			"VALUES (?1, ?2, ?1, ?3)", -1, &st, NULL) != SQLITE_OK) {
		error = ts_error_set(TS_ERROR, "enrolling the city's key: %s", sqlite3_errmsg(db));
		goto done;
	}
	sqlite3_bind_text(st, 1, node_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, pub.ptr, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, at, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		error = ts_error_set(TS_ERROR, "enrolling the city's key: %s", sqlite3_errmsg(db));
done:
	sqlite3_finalize(st);
	ts_buf_dispose(&pub);
	return error;
}

int ts_node__key_as_identity(ts_node *node)
{
	char *url = config_string(node->config, "remote." TS_REMOTE_DEFAULT ".url");
	char *identity = config_string(node->config, "remote." TS_REMOTE_DEFAULT ".identity");
	char *path = NULL, *absolute = NULL;
	ts_remote_url u = { 0, NULL, NULL, 0, NULL };
	int named, error = 0;

	if (!url || identity || ts_remote_url_parse(&u, url) < 0 || !u.ssh)
		goto done;
	if (!(path = key_path(node, &named)) || !(absolute = realpath(path, NULL))) {
		error = ts_error_set(TS_ERROR, "the node's key %s: %s", path ? path : "", strerror(errno));
		goto done;
	}
	if (git_config_set_string(node->config, "remote." TS_REMOTE_DEFAULT ".identity", absolute) < 0)
		error = ts_store__git_error(TS_ERROR, "writing the node's config");
done:
	ts_remote_url_dispose(&u);
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
	error = ts_sshsig_key_load(&node->key, path);
	if (error == TS_ENOTFOUND && !named) {
		/* a node made before its commits were signed gets its key now */
		if ((error = ts_sshsig_key_generate(&node->key, node->id)) == 0 &&
		    (error = ts_sshsig_key_save(node->key, path)) < 0) {
			ts_sshsig_key_free(node->key);
			node->key = NULL;
		}
	}
	free(path);
	if (error < 0)
		return error;
	ts_store_set_signer(node->store, node->key);
	ts_store_on_head(node->store, head_moved, node);
	return 0;
}

/* Appends one allowed-signers line; a row that is not a node id and an
 * Ed25519 key is left out (the file must stay one entry per line). */
static void signer_line(ts_buf *out, const char *node_id, const char *key)
{
	char *canon = NULL;
	if (!node_id || !ts_node_id_valid(node_id) || !key || ts_sshsig_public_parse(&canon, key) < 0)
		return;
	ts_buf_printf(out, "%s namespaces=\"git\" %s\n", node_id, canon);
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
		ts_buf_put(&b, chunk, n);
	fclose(f);
	if (ts_buf_oom(&b)) {
		ts_buf_dispose(&b);
		return NULL;
	}
	return b.ptr ? ts_buf_detach(&b) : strdup("");
}

int ts_node_signers_refresh(ts_node *node)
{
	ts_buf text = TS_BUF_INIT, own = TS_BUF_INIT, tmp = TS_BUF_INIT;
	sqlite3_stmt *st = NULL;
	char *path = NULL;
	FILE *f = NULL;
	int error = 0;

	if (!node->key)
		return ts_error_set(TS_ERROR, "the node has no signing key");
	if ((error = ts_sshsig_key_public(&own, node->key, 0)) < 0)
		goto done;
	signer_line(&text, node->id, own.ptr);
	/* a node whose schema predates sync_signers lists its own key only */
	if (sqlite3_prepare_v2(node->db, "SELECT node_id, public_key FROM sync_signers ORDER BY node_id",
			-1, &st, NULL) == SQLITE_OK) {
		int rc;
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			const char *id = (const char *)sqlite3_column_text(st, 0);
			const char *key = (const char *)sqlite3_column_text(st, 1);
			if (id && key && !strcmp(id, node->id) && !strcmp(key, own.ptr))
				continue;   /* the city's own row: listed already */
			signer_line(&text, id, key);
		}
		if (rc != SQLITE_DONE) {
			error = ts_error_set(TS_ERROR, "reading sync_signers: %s", sqlite3_errmsg(node->db));
			goto done;
		}
	}
	if (ts_buf_oom(&text) || !(path = path_in(node->path, SIGNERS_FILE))) {
		error = ts_error_set(TS_ERROR, "out of memory");
		goto done;
	}
	if (!node->signers)
		node->signers = read_small_file(path);
	if (node->signers && !strcmp(node->signers, ts_buf_cstr(&text)))
		goto done;   /* unchanged: the common case of a commit */
	ts_buf_printf(&tmp, "%s.tmp", path);
	if (ts_buf_oom(&tmp)) {
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
	node->signers = ts_buf_detach(&text);
done:
	if (f) {
		fclose(f);
		unlink(tmp.ptr);
	}
	sqlite3_finalize(st);
	free(path);
	ts_buf_dispose(&text);
	ts_buf_dispose(&own);
	ts_buf_dispose(&tmp);
	return error;
}

/* --- verify --------------------------------------------------------------- */

/* The keys commits may be signed with, by node id: loaded once per verify. */
typedef struct {
	char **ids, **keys;
	size_t n;
} signer_keys;

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

	if (ts_sshsig_public_parse(&canon, key) < 0)
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

/* The node's own key first, so that it wins for its own id. */
static int signer_keys_load(signer_keys *k, ts_node *node)
{
	ts_buf own = TS_BUF_INIT;
	sqlite3_stmt *st = NULL;
	int rc, error;

	if ((error = ts_sshsig_key_public(&own, node->key, 0)) < 0 ||
	    (error = signer_keys_add(k, node->id, own.ptr)) < 0)
		goto done;
	if (sqlite3_prepare_v2(node->db, "SELECT node_id, public_key FROM sync_signers WHERE node_id <> ?1",
			-1, &st, NULL) != SQLITE_OK)
		goto done;   /* a schema before sync_signers: the node's own key only */
	sqlite3_bind_text(st, 1, node->id, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if (sqlite3_column_text(st, 0) && sqlite3_column_text(st, 1) &&
		    (error = signer_keys_add(k, (const char *)sqlite3_column_text(st, 0),
				(const char *)sqlite3_column_text(st, 1))) < 0)
			goto done;
	if (rc != SQLITE_DONE)
		error = ts_error_set(TS_ERROR, "reading sync_signers: %s", sqlite3_errmsg(node->db));
done:
	sqlite3_finalize(st);
	ts_buf_dispose(&own);
	return error;
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
	git_repository *repo = ts_store_repo(node->store);
	signer_keys keys = { NULL, NULL, 0 };
	git_revwalk *walk = NULL;
	git_odb *odb = NULL;
	git_oid head, id;
	int problems = 0, stop = 0, rc, error;

	if ((error = ts_history_head(&head, node->db)) < 0 ||
	    (error = signer_keys_load(&keys, node)) < 0)
		goto done;
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
		rc = ts_sshsig_commit_check(&signer, git_odb_object_data(obj), git_odb_object_size(obj));
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
		} else if (committer && committer->email &&
		           (expected = signer_key_of(&keys, committer->email)) && strcmp(expected, signer)) {
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
	signer_keys_dispose(&keys);
	return error;
}
