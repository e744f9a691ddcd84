/*
 * What tests that move history between nodes share (nodes.h).
 */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "nodes.h"
#include "sshsig.h"

int ts_test_transfer(ts_node *from, ts_node *to, const char *ref)
{
	git_remote *remote = NULL;
	char spec[256], url[4096];
	char *specs[1] = { spec };
	git_strarray refspecs = { specs, 1 };
	int error;

	snprintf(url, sizeof(url), "%s/history.git", from->path);
	snprintf(spec, sizeof(spec), "+refs/heads/main:%s", ref);
	if ((error = git_remote_create_anonymous(&remote, ts_store__repo(to->store), url)) < 0)
		return error;
	error = git_remote_fetch(remote, &refspecs, NULL, NULL);
	git_remote_free(remote);
	return error;
}

int ts_test_enroll(ts_node *upper, ts_node *lower)
{
	ts_enroll_options opts = { TS_ENROLL_OPTIONS_VERSION, NULL, "/usr/local/bin/tiersync", NULL, 0 };
	ts_buf pub = TS_BUF_INIT, file = TS_BUF_INIT;
	char commit[41];
	int error;

	/* a node without an identity enrolls under its own id */
	opts.author = ts_node_identity(upper) ? NULL : ts_node_id(upper);
	ts_buf__printf(&file, "%s/authorized_keys", ts_test_dir());
	if (ts_buf__oom(&file)) {
		error = ts_error_set(TS_ERROR, "out of memory");
		goto done;
	}
	opts.authorized_keys = file.ptr;
	if ((error = ts_sshsig__key_public(&pub, lower->key, 0)) < 0)
		goto done;
	error = ts_node_enroll(commit, upper, ts_node_id(lower), pub.ptr, &opts);
done:
	ts_buf__dispose(&pub);
	ts_buf__dispose(&file);
	return error;
}

int ts_test_enrolled_above(ts_node *node)
{
	ts_init_options o = { TS_INIT_OPTIONS_VERSION, TS_TIER_CITY, NULL, NULL, "管理员", NULL };
	ts_node_merge_stats stats;
	ts_node *upper = NULL;
	char parent[256], path[4096], id[41];
	const char *dot = strrchr(ts_node_id(node), '.');
	int error;

	if (ts_node_tier(node) == TS_TIER_CITY || !dot || (size_t)(dot - ts_node_id(node)) >= sizeof(parent))
		return 0;
	snprintf(parent, sizeof(parent), "%.*s", (int)(dot - ts_node_id(node)), ts_node_id(node));
	snprintf(path, sizeof(path), "%s/above-%s", ts_test_dir(), parent);
	o.tier = (ts_tier)(ts_node_tier(node) - 1);
	o.id = parent;
	if ((error = ts_node_init(&upper, path, &o)) < 0 ||
	    (error = ts_test_enrolled_above(upper)) < 0 ||
	    (error = ts_test_enroll(upper, node)) < 0 ||
	    (error = ts_test_transfer(upper, node, "refs/remotes/upstream/main")) < 0)
		goto done;
	error = ts_node_merge(id, &stats, node, "refs/remotes/upstream/main",
		ts_node_identity(node) ? ts_node_identity(node) : ts_node_id(node), "pull from the upper node\n");
done:
	ts_node_free(upper);
	return error;
}

ts_node *ts_test_node(const char *dir, ts_tier tier, const char *id, const char *identity)
{
	ts_init_options opts = { TS_INIT_OPTIONS_VERSION, tier, id, NULL, identity, NULL };
	ts_node *node = NULL;
	return ts_node_init(&node, dir, &opts) < 0 ? NULL : node;
}

static int exec_sql(sqlite3 *db, void *payload)
{
	return sqlite3_exec(db, (const char *)payload, NULL, NULL, NULL) == SQLITE_OK ? 0 :
		ts_error_set(TS_ERROR, "%s", sqlite3_errmsg(db));
}

int ts_test_arrive(ts_node *node, const char *sql)
{
	return ts_node__write_as(node, "bj", "同步", "arrived by sync", exec_sql, (void *)sql);
}

void ts_test_seen_add(ts_test_seen *s, const char *fmt, ...)
{
	size_t n = strlen(s->text);
	va_list ap;

	if (n && n < sizeof(s->text) - 1)
		s->text[n++] = ' ';
	va_start(ap, fmt);
	vsnprintf(s->text + n, sizeof(s->text) - n, fmt, ap);
	va_end(ap);
}

int ts_test_seen_next(ts_test_seen *s)
{
	return ++s->calls == s->stop_at ? 7 : 0;
}

git_repository *ts_test_history(const char *node_path)
{
	git_repository *repo = NULL;
	char path[4096];

	git_libgit2_init();
	snprintf(path, sizeof(path), "%s/history.git", node_path);
	if (git_repository_open_bare(&repo, path) < 0)
		return NULL;
	return repo;
}

long long ts_test_query_int(ts_node *node, const char *sql)
{
	sqlite3_stmt *st = NULL;
	long long value = LLONG_MIN;

	if (sqlite3_prepare_v2(ts_node_db(node), sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
		value = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return value;
}

const char *ts_test_query_text(ts_node *node, const char *sql)
{
	static char out[4096];
	sqlite3_stmt *st = NULL;

	snprintf(out, sizeof(out), "(no row)");
	if (sqlite3_prepare_v2(ts_node_db(node), sql, -1, &st, NULL) != SQLITE_OK)
		snprintf(out, sizeof(out), "(error: %s)", sqlite3_errmsg(ts_node_db(node)));
	else if (sqlite3_step(st) == SQLITE_ROW) {
		const char *t = (const char *)sqlite3_column_text(st, 0);
		snprintf(out, sizeof(out), "%s", t ? t : "");
	}
	sqlite3_finalize(st);
	return out;
}
