/*
 * Unit tests of the gate (node/gate.c) and of enrollment (node/enroll.c):
 * the command parser on the forms git and libgit2 send and on the tricks
 * it must refuse, the decision on a repository path, the pre-receive
 * rules, and the authorized_keys lines enrollment writes, replaces and
 * removes while leaving every other line alone (and, signing-only, never
 * touches at all).
 */
#include "harness.h"

#include <stdlib.h>
#include <sys/stat.h>

#include <git2.h>
#include <sqlite3.h>

#include "tiersync.h"

#define KEY_A "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKH6v1nTUbmL53cT4+7UnpKdbUZZuy1IWnCPW5GKmil5"
#define KEY_B "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEuZh1zxkP1jGCn5o0G4yBQ6GvbWqO7Zr5H0ZtnH6L3a"
/* their fingerprints, as stock ssh-keygen -l prints them */
#define FP_A "SHA256:X4KJYOGakzzy0+V26/hv4rPd32BpYFVtB0zg+3ltPyk"
#define FP_B "SHA256:nRFxcaWWwGOqSjhII+P9GrUkR1X0812jJBqQS9KetNE"

static ts_node *district(void)
{
	ts_init_options opts = { TS_INIT_OPTIONS_VERSION, TS_TIER_DISTRICT, "bj.dc", NULL, "张三", NULL };
	ts_node *node = NULL;
	return ts_node_init(&node, "dc", &opts) < 0 ? NULL : node;
}

/* The whole text of a file (static buffer), or "" when missing. */
static const char *slurp(const char *path)
{
	static char text[8192];
	FILE *f = fopen(path, "r");
	size_t n = 0;

	text[0] = '\0';
	if (f) {
		n = fread(text, 1, sizeof(text) - 1, f);
		fclose(f);
	}
	text[n] = '\0';
	return text;
}

static void spit(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

static int parse_refused(const char *command)
{
	ts_gate_request req;
	return ts_gate_parse(&req, command) == TS_EDENIED && req.service == 0 && req.path[0] == '\0';
}

void test_gate__parse_accepts_what_git_sends(void)
{
	ts_gate_request req;

	test_ok(ts_gate_parse(&req, "git-upload-pack '/srv/dc/history.git'"));
	test_equal_i(req.service, TS_GATE_UPLOAD_PACK);
	test_equal_s(req.path, "/srv/dc/history.git");
	test_ok(ts_gate_parse(&req, "git upload-pack '/srv/dc'"));
	test_equal_i(req.service, TS_GATE_UPLOAD_PACK);
	test_equal_s(req.path, "/srv/dc");
	test_ok(ts_gate_parse(&req, "git-receive-pack '/srv/dc/history.git'"));
	test_equal_i(req.service, TS_GATE_RECEIVE_PACK);
	test_ok(ts_gate_parse(&req, "git receive-pack 'relative/dc'"));
	test_equal_i(req.service, TS_GATE_RECEIVE_PACK);
	test_equal_s(req.path, "relative/dc");
	/* git's sq_quote: a quote and a ! inside the path */
	test_ok(ts_gate_parse(&req, "git-upload-pack '/srv/o'\\''neil $HOME/a'\\!'b'"));
	test_equal_s(req.path, "/srv/o'neil $HOME/a!b");
	test_ok(ts_gate_parse(&req, "git-upload-pack '/srv/dist rict'"));
	test_equal_s(req.path, "/srv/dist rict");
}

void test_gate__parse_refuses_everything_else(void)
{
	char longer[5000];

	test_assert(parse_refused(NULL));
	test_assert(parse_refused(""));
	test_assert(parse_refused("sh -c id"));
	test_assert(parse_refused("id"));
	test_assert(parse_refused("git-upload-pack"));
	test_assert(parse_refused("git-upload-pack "));
	test_assert(parse_refused("git-upload-pack ''"));
	test_assert(parse_refused("git-upload-pack /x"));
	test_assert(parse_refused("git-upload-pack  '/x'"));
	test_assert(parse_refused(" git-upload-pack '/x'"));
	test_assert(parse_refused("git-upload-pack '/x' extra"));
	test_assert(parse_refused("git-upload-pack '/x' "));
	test_assert(parse_refused("git-upload-pack '/x';rm -rf /'"));
	test_assert(parse_refused("git-upload-pack '/x'; id"));
	test_assert(parse_refused("git-upload-pack '/x'$(id)"));
	test_assert(parse_refused("git-upload-pack $(id)"));
	test_assert(parse_refused("git-upload-pack `id`"));
	test_assert(parse_refused("git-upload-pack '/x'`id`"));
	test_assert(parse_refused("git-upload-pack '/x"));
	test_assert(parse_refused("git-upload-pack '/x'\\''"));
	test_assert(parse_refused("git-upload-pack '/x'\\'"));
	test_assert(parse_refused("git-upload-pack '/x'\\\"'y'"));
	test_assert(parse_refused("git-upload-pack '/x'\n"));
	test_assert(parse_refused("git-upload-pack '/x\nid'"));
	test_assert(parse_refused("git-upload-pack '/x\rid'"));
	test_assert(parse_refused("git-upload-pack '/x\tid'"));
	test_assert(parse_refused("git-upload-pack \"/x\""));
	test_assert(parse_refused("git-upload-archive '/x'"));
	test_assert(parse_refused("git-receive-pack2 '/x'"));
	test_assert(parse_refused("git  receive-pack '/x'"));
	test_assert(parse_refused("GIT-UPLOAD-PACK '/x'"));
	test_assert(parse_refused("git -c core.hooksPath=/tmp receive-pack '/x'"));
	test_assert(parse_refused("git-upload-pack --strict '/x'"));
	memset(longer, 'a', sizeof(longer));
	memcpy(longer, "git-upload-pack '/", 18);
	longer[sizeof(longer) - 2] = '\'';
	longer[sizeof(longer) - 1] = '\0';
	test_assert(parse_refused(longer));
}

void test_gate__key_parse(void)
{
	char *key = NULL;

	test_ok(ts_enroll_key_parse(&key, KEY_A " street a@host\n"));
	test_equal_s(key, KEY_A);
	free(key);
	test_ok(ts_enroll_key_parse(&key, KEY_B));
	test_equal_s(key, KEY_B);
	free(key);
	test_equal_i(ts_enroll_key_parse(&key, ""), TS_EINVALID);
	test_assert(key == NULL);
	test_equal_i(ts_enroll_key_parse(&key, "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC7 x"), TS_EINVALID);
	test_equal_i(ts_enroll_key_parse(&key, "command=\"id\" " KEY_A), TS_EINVALID);
	test_equal_i(ts_enroll_key_parse(&key, KEY_A "\n" KEY_B "\n"), TS_EINVALID);
	test_equal_i(ts_enroll_key_parse(&key, KEY_A " a\tb"), TS_EINVALID);
	/* damaged base64: cut short, a stray character, the blob's type wrong */
	test_equal_i(ts_enroll_key_parse(&key, "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKH6v1nTUbmL53cT4"), TS_EINVALID);
	test_equal_i(ts_enroll_key_parse(&key,
		"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKH6v1nTUbmL53cT4+7UnpKdbUZZuy1IWnCPW5GKmil*"), TS_EINVALID);
	test_equal_i(ts_enroll_key_parse(&key,
		"ssh-ed25519 AAAAC3NzaC1lZDI1NTE4AAAAIKH6v1nTUbmL53cT4+7UnpKdbUZZuy1IWnCPW5GKmil5"), TS_EINVALID);
	test_assert(key == NULL);
}

void test_gate__enroll_writes_replaces_and_revokes_lines(void)
{
	ts_enroll_options opts = { TS_ENROLL_OPTIONS_VERSION, "ssh/authorized_keys", "/opt/tiersync/bin/tiersync", NULL, 0 };
	const char *other = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEuZh1zxkP1jGCn5o0G4yBQ6GvbWqO7Zr5H0ZtnH6L3a admin@host\n"
		"# tiersync:bj.dc.a written by hand: not ours\n"
		"command=\"/bin/true gate --node bj.dc.a\" " KEY_A " tiersync:bj.dc.a\n";
	char commit[41], expect[1024], dir[600];
	const char *text;
	struct stat st;
	ts_node *node = district();

	test_assert(node);
	/* missing file and directory: created 0600 in 0700 */
	test_ok(ts_node_enroll(commit, node, "bj.dc.a", KEY_A " a@host", &opts));
	test_assert(stat("ssh", &st) == 0 && (st.st_mode & 0777) == 0700);
	test_assert(stat("ssh/authorized_keys", &st) == 0 && (st.st_mode & 0777) == 0600);
	snprintf(dir, sizeof(dir), "%s/dc", ts_test_dir());
	snprintf(expect, sizeof(expect), "command=\"/opt/tiersync/bin/tiersync -C %s gate --node bj.dc.a --key "
		FP_A "\",restrict " KEY_A " tiersync:bj.dc.a\n", dir);
	test_equal_s(slurp("ssh/authorized_keys"), expect);

	/* lines of others (even look-alikes) stay; ours is replaced, last */
	spit("ssh/authorized_keys", other);
	chmod("ssh/authorized_keys", 0640);
	test_ok(ts_node_enroll(commit, node, "bj.dc.a", KEY_B, &opts));
	test_ok(ts_node_enroll(commit, node, "bj.dc.ab", KEY_A, &opts));
	text = slurp("ssh/authorized_keys");
	test_assert(!strncmp(text, other, strlen(other)));
	test_assert(strstr(text, "restrict " KEY_B " tiersync:bj.dc.a\n"));
	test_assert(strstr(text, "restrict " KEY_A " tiersync:bj.dc.ab\n"));
	test_assert(stat("ssh/authorized_keys", &st) == 0 && (st.st_mode & 0777) == 0640);
	test_ok(ts_node_enroll(commit, node, "bj.dc.a", KEY_A, &opts));
	text = slurp("ssh/authorized_keys");
	test_assert(!strstr(text, KEY_B " tiersync:bj.dc.a\n"));
	test_assert(strstr(text, "restrict " KEY_A " tiersync:bj.dc.a\n"));

	test_ok(ts_node_signer_check(node, "bj.dc.a", NULL));
	test_ok(ts_node_revoke(commit, node, "bj.dc.a", &opts));
	text = slurp("ssh/authorized_keys");
	test_assert(!strncmp(text, other, strlen(other)));
	test_assert(!strstr(text, "restrict " KEY_A " tiersync:bj.dc.a\n"));
	test_assert(strstr(text, "restrict " KEY_A " tiersync:bj.dc.ab\n"));
	test_equal_i(ts_node_signer_check(node, "bj.dc.a", NULL), TS_EDENIED);
	test_ok(ts_node_signer_check(node, "bj.dc.ab", NULL));
	test_ok(ts_node_revoke(commit, node, "bj.dc.a", &opts));   /* again: nothing more */
	test_equal_i(ts_node_revoke(commit, node, "bj.dc.never", &opts), TS_ENOTFOUND);
	/* revoking with no authorized_keys there creates none */
	opts.authorized_keys = "elsewhere/authorized_keys";
	test_ok(ts_node_revoke(commit, node, "bj.dc.ab", &opts));
	test_assert(stat("elsewhere", &st) < 0);
	test_equal_i(ts_node_signer_check(node, "bj.dc.ab", NULL), TS_EDENIED);
	ts_node_free(node);
}

static int count_rows(const ts_enrolled_info *info, void *payload)
{
	(void)info;
	(*(int *)payload)++;
	return 0;
}

void test_gate__enroll_only_below_this_node(void)
{
	ts_enroll_options opts = { TS_ENROLL_OPTIONS_VERSION, "authorized_keys", "/usr/bin/tiersync", NULL, 0 };
	char commit[41];
	ts_node *node = district();
	int rows = 0;

	test_assert(node);
	test_equal_i(ts_node_enroll(commit, node, "bj.dc", KEY_A, &opts), TS_EDENIED);
	test_equal_i(ts_node_enroll(commit, node, "bj", KEY_A, &opts), TS_EDENIED);
	test_equal_i(ts_node_enroll(commit, node, "bj.xc.a", KEY_A, &opts), TS_EDENIED);
	test_equal_i(ts_node_enroll(commit, node, "bj.dcx", KEY_A, &opts), TS_EDENIED);
	test_equal_i(ts_node_enroll(commit, node, "bj.dc.", KEY_A, &opts), TS_EINVALID);
	test_equal_i(ts_node_enroll(commit, node, "bj.dc.A", KEY_A, &opts), TS_EINVALID);
	test_equal_i(ts_node_enroll(commit, node, "bj.dc.a", "ssh-rsa AAAA", &opts), TS_EINVALID);
	opts.program = "tiersync";
	test_equal_i(ts_node_enroll(commit, node, "bj.dc.a", KEY_A, &opts), TS_EINVALID);
	opts.program = "/usr/bin/ti\"ersync";
	test_equal_i(ts_node_enroll(commit, node, "bj.dc.a", KEY_A, &opts), TS_EINVALID);
	/* nothing was written by any of them */
	test_ok(ts_node_enrolled(node, count_rows, &rows));
	test_equal_i(rows, 0);
	test_assert(!strcmp(slurp("authorized_keys"), ""));
	test_equal_i(ts_node_signer_check(node, "bj.xc.a", NULL), TS_EDENIED);
	test_equal_i(ts_node_signer_check(node, "bj.dc.a", NULL), TS_EDENIED);
	ts_node_free(node);
}

/* The text of a one-value query on the node's database, or "" (static buffer). */
static const char *db_text(ts_node *node, const char *sql)
{
	static char value[512];
	sqlite3_stmt *st = NULL;

	value[0] = '\0';
	if (sqlite3_prepare_v2(ts_node_db(node), sql, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
		snprintf(value, sizeof(value), "%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return value;
}

/* 1 when commit `id` of the district's history has the summary `summary`
 * and a signature. */
static int signed_commit(const char *id, const char *summary)
{
	git_repository *repo = NULL;
	git_commit *commit = NULL;
	git_buf sig = GIT_BUF_INIT, data = GIT_BUF_INIT;
	git_oid oid;
	int ok = 0;

	if (git_repository_open(&repo, "dc/history.git") == 0 && git_oid_fromstr(&oid, id) == 0 &&
	    git_commit_lookup(&commit, repo, &oid) == 0)
		ok = !strcmp(git_commit_summary(commit), summary) &&
		     git_commit_extract_signature(&sig, &data, repo, &oid, NULL) == 0 &&
		     strstr(sig.ptr, "-----BEGIN SSH SIGNATURE-----") != NULL;
	git_buf_dispose(&sig);
	git_buf_dispose(&data);
	git_commit_free(commit);
	git_repository_free(repo);
	return ok;
}

void test_gate__enroll_signing_only_writes_the_row_alone(void)
{
	ts_enroll_options opts = { TS_ENROLL_OPTIONS_VERSION, NULL, NULL, NULL, 1 };
	char commit[41], head[41], home[700], *old_home;
	struct stat st;
	ts_node *node = district();
	int rows = 0, rc;

	test_assert(node);
	/* HOME points into the test's directory: a default ~/.ssh would show up there */
	snprintf(home, sizeof(home), "%s/home", ts_test_dir());
	test_assert(mkdir(home, 0700) == 0);
	old_home = getenv("HOME") ? strdup(getenv("HOME")) : NULL;
	setenv("HOME", home, 1);
	rc = ts_node_enroll(commit, node, "bj.dc.a", KEY_A " a@host", &opts);
	if (old_home)
		setenv("HOME", old_home, 1);
	else
		unsetenv("HOME");
	free(old_home);
	test_ok(rc);

	test_assert(stat("home/.ssh", &st) < 0);
	test_assert(stat("authorized_keys", &st) < 0);
	test_ok(ts_node_enrolled(node, count_rows, &rows));
	test_equal_i(rows, 1);
	test_equal_s(db_text(node, "SELECT public_key || ' ' || enrolled_by || ' ' || (revoked_at IS NULL) "
		"FROM sync_signers WHERE node_id = 'bj.dc.a'"), KEY_A " bj.dc 1");
	test_ok(ts_node_signer_check(node, "bj.dc.a", NULL));
	test_ok(ts_node_head(head, node));
	test_equal_s(commit, head);
	test_assert(signed_commit(commit, "enroll bj.dc.a"));
	test_ok(ts_node_verify(node, NULL, NULL));
	ts_node_free(node);
}

void test_gate__revoke_signing_only_leaves_authorized_keys_alone(void)
{
	ts_enroll_options ssh = { TS_ENROLL_OPTIONS_VERSION, "ssh/authorized_keys", "/usr/bin/tiersync", NULL, 0 };
	ts_enroll_options row_only = { TS_ENROLL_OPTIONS_VERSION, NULL, NULL, NULL, 1 };
	char commit[41], before[8192];
	struct stat st_before, st_after;
	ts_node *node = district();
	FILE *f;

	test_assert(node);
	test_ok(ts_node_enroll(commit, node, "bj.dc.a", KEY_A, &ssh));
	/* a hand-written last line without its newline: any rewrite would add one */
	test_assert((f = fopen("ssh/authorized_keys", "a")) != NULL);
	fputs(KEY_B " admin@host", f);
	fclose(f);
	snprintf(before, sizeof(before), "%s", slurp("ssh/authorized_keys"));
	test_assert(strstr(before, " tiersync:bj.dc.a\n"));
	test_assert(stat("ssh/authorized_keys", &st_before) == 0);

	test_ok(ts_node_revoke(commit, node, "bj.dc.a", &row_only));
	test_equal_s(slurp("ssh/authorized_keys"), before);
	test_assert(stat("ssh/authorized_keys", &st_after) == 0);
	test_equal_i(st_after.st_ino, st_before.st_ino);
	test_equal_i(st_after.st_mtime, st_before.st_mtime);
	test_assert(strlen(db_text(node, "SELECT revoked_at FROM sync_signers WHERE node_id = 'bj.dc.a'")) > 0);
	test_assert(signed_commit(commit, "revoke bj.dc.a"));
	test_equal_i(ts_node_signer_check(node, "bj.dc.a", NULL), TS_EDENIED);

	/* without the flag the stale line goes, and only it */
	test_ok(ts_node_revoke(commit, node, "bj.dc.a", &ssh));
	test_assert(!strstr(slurp("ssh/authorized_keys"), "tiersync:bj.dc.a"));
	test_assert(strstr(slurp("ssh/authorized_keys"), KEY_B " admin@host\n"));

	/* a node enrolled signing-only, revoked without the flag: the file has no
	 * line of it and stays byte for byte, and the row is still revoked */
	test_ok(ts_node_enroll(commit, node, "bj.dc.b", KEY_B, &row_only));
	snprintf(before, sizeof(before), "%s", slurp("ssh/authorized_keys"));
	test_assert(stat("ssh/authorized_keys", &st_before) == 0);
	test_ok(ts_node_revoke(commit, node, "bj.dc.b", &ssh));
	test_equal_s(slurp("ssh/authorized_keys"), before);
	test_assert(stat("ssh/authorized_keys", &st_after) == 0);
	test_equal_i(st_after.st_ino, st_before.st_ino);
	test_assert(signed_commit(commit, "revoke bj.dc.b"));
	test_equal_i(ts_node_signer_check(node, "bj.dc.b", NULL), TS_EDENIED);
	test_ok(ts_node_verify(node, NULL, NULL));
	ts_node_free(node);
}

void test_gate__signing_only_refuses_an_authorized_keys_file(void)
{
	ts_enroll_options opts = { TS_ENROLL_OPTIONS_VERSION, "ssh/authorized_keys", "/usr/bin/tiersync", NULL, 1 };
	char commit[41], head[41], after[41];
	struct stat st;
	ts_node *node = district();
	int rows = 0;

	test_assert(node);
	test_ok(ts_node_head(head, node));
	test_equal_i(ts_node_enroll(commit, node, "bj.dc.a", KEY_A, &opts), TS_EINVALID);
	test_assert(strstr(ts_error_last(), "signing-only") && strstr(ts_error_last(), "ssh/authorized_keys"));
	test_assert(!strchr(ts_error_last(), '\n'));
	test_equal_i(ts_node_revoke(commit, node, "bj.dc.a", &opts), TS_EINVALID);
	/* nothing was written: no row, no commit, no file */
	test_ok(ts_node_enrolled(node, count_rows, &rows));
	test_equal_i(rows, 0);
	test_ok(ts_node_head(after, node));
	test_equal_s(after, head);
	test_assert(stat("ssh", &st) < 0);
	ts_node_free(node);
}

/* 1 when envp holds `entry`. */
static int env_has(char **envp, const char *entry)
{
	for (; envp && *envp; envp++)
		if (!strcmp(*envp, entry))
			return 1;
	return 0;
}

void test_gate__prepare_decides_on_the_path(void)
{
	ts_enroll_options opts = { TS_ENROLL_OPTIONS_VERSION, "authorized_keys", "/usr/bin/tiersync", NULL, 0 };
	ts_init_options other_opts = { TS_INIT_OPTIONS_VERSION, TS_TIER_DISTRICT, "bj.xc", NULL, "李四", NULL };
	ts_gate_exec *exec = NULL;
	ts_node *node = district(), *other = NULL;
	char commit[41], cmd[1400], history[1200];

	test_assert(node);
	test_ok(ts_node_init(&other, "xc", &other_opts));
	test_ok(ts_node_enroll(commit, node, "bj.dc.a", KEY_A, &opts));
	snprintf(history, sizeof(history), "%s/dc/history.git", ts_test_dir());

	snprintf(cmd, sizeof(cmd), "git-upload-pack '%s'", history);
	setenv("GIT_DIR", "/elsewhere", 1);
	test_ok(ts_gate_prepare(&exec, node, "bj.dc.a", FP_A, cmd, "/usr/bin/tiersync"));
	unsetenv("GIT_DIR");
	test_equal_s(exec->argv[1], "upload-pack");
	test_equal_s(exec->argv[2], history);
	test_assert(exec->argv[3] == NULL);
	test_assert(!env_has(exec->envp, "GIT_DIR=/elsewhere"));
	test_assert(env_has(exec->envp, "GIT_CONFIG_VALUE_2=!refs/submissions/bj.dc.a"));
	ts_gate_exec_free(exec);
	exec = NULL;

	snprintf(cmd, sizeof(cmd), "git receive-pack '%s/dc'", ts_test_dir());
	test_ok(ts_gate_prepare(&exec, node, "bj.dc.a", FP_A, cmd, "/usr/bin/tiersync"));
	test_equal_s(exec->argv[1], "receive-pack");
	test_equal_s(exec->argv[2], history);
	test_assert(env_has(exec->envp, "GIT_CONFIG_KEY_3=core.hooksPath"));
	test_assert(env_has(exec->envp, "GIT_CONFIG_KEY_4=receive.denyDeletes"));
	test_assert(env_has(exec->envp, "GIT_CONFIG_KEY_6=receive.autogc"));
	test_assert(env_has(exec->envp, "GIT_CONFIG_VALUE_6=false"));
	test_assert(strstr(slurp("dc/gate-hooks/bj.dc.a/pre-receive"),
		"exec /usr/bin/tiersync -C "));
	test_assert(strstr(slurp("dc/gate-hooks/bj.dc.a/pre-receive"), " gate --pre-receive --node bj.dc.a\n"));
	ts_gate_exec_free(exec);
	exec = NULL;

	test_equal_i(ts_gate_prepare(&exec, node, "bj.dc.a", FP_A, "git-receive-pack '../other.git'", "/usr/bin/tiersync"),
		TS_EDENIED);
	snprintf(cmd, sizeof(cmd), "git-receive-pack '%s/xc/history.git'", ts_test_dir());
	test_equal_i(ts_gate_prepare(&exec, node, "bj.dc.a", FP_A, cmd, "/usr/bin/tiersync"), TS_EDENIED);
	snprintf(cmd, sizeof(cmd), "git-upload-pack '%s/dc/history.git/..'", ts_test_dir());
	test_ok(ts_gate_prepare(&exec, node, "bj.dc.a", FP_A, cmd, "/usr/bin/tiersync"));   /* the node dir itself */
	ts_gate_exec_free(exec);
	exec = NULL;
	snprintf(cmd, sizeof(cmd), "git-upload-pack '%s/dc/history.git/objects'", ts_test_dir());
	test_equal_i(ts_gate_prepare(&exec, node, "bj.dc.a", FP_A, cmd, "/usr/bin/tiersync"), TS_EDENIED);
	test_equal_i(ts_gate_prepare(&exec, node, "bj.dc.a", FP_A, "sh -c id", "/usr/bin/tiersync"), TS_EDENIED);
	snprintf(cmd, sizeof(cmd), "git-upload-pack '%s'", history);
	test_equal_i(ts_gate_prepare(&exec, node, "bj.dc.b", FP_A, cmd, "/usr/bin/tiersync"), TS_EDENIED);
	test_ok(ts_node_revoke(commit, node, "bj.dc.a", &opts));
	test_equal_i(ts_gate_prepare(&exec, node, "bj.dc.a", FP_A, cmd, "/usr/bin/tiersync"), TS_EDENIED);
	test_assert(exec == NULL);
	ts_node_free(other);
	ts_node_free(node);
}

static int pre_receive(ts_node *node, const char *id, const char *lines)
{
	FILE *in = fmemopen((void *)lines, strlen(lines), "r");
	int rc = ts_gate_pre_receive(node, id, in, NULL);
	fclose(in);
	return rc;
}

void test_gate__pre_receive_rules(void)
{
	static const char old_id[] = "1111111111111111111111111111111111111111";
	static const char zero[] = "0000000000000000000000000000000000000000";
	char new_id[41], lines[1024];
	ts_node *node = district();

	test_assert(node);
	/* a commit the district holds: nothing new for admission to refuse */
	test_ok(ts_node_head(new_id, node));
	snprintf(lines, sizeof(lines), "%s %s refs/submissions/bj.dc.a\n", zero, new_id);
	test_ok(pre_receive(node, "bj.dc.a", lines));
	snprintf(lines, sizeof(lines), "%s %s refs/submissions/bj.dc.a\n", old_id, new_id);
	test_ok(pre_receive(node, "bj.dc.a", lines));
	test_ok(pre_receive(node, "bj.dc.a", ""));

	snprintf(lines, sizeof(lines), "%s %s refs/submissions/bj.dc.b\n", old_id, new_id);
	test_equal_i(pre_receive(node, "bj.dc.a", lines), TS_EDENIED);
	test_assert(strstr(ts_error_last(), "refs/submissions/bj.dc.b"));
	snprintf(lines, sizeof(lines), "%s %s refs/heads/main\n", old_id, new_id);
	test_equal_i(pre_receive(node, "bj.dc.a", lines), TS_EDENIED);
	snprintf(lines, sizeof(lines), "%s %s refs/submissions/bj.dc.a\n%s %s refs/tags/x\n", old_id, new_id,
		zero, new_id);
	test_equal_i(pre_receive(node, "bj.dc.a", lines), TS_EDENIED);
	test_assert(strstr(ts_error_last(), "refs/tags/x"));
	snprintf(lines, sizeof(lines), "%s %s refs/submissions/bj.dc.a\n", old_id, zero);
	test_equal_i(pre_receive(node, "bj.dc.a", lines), TS_EDENIED);
	test_assert(strstr(ts_error_last(), "deleted"));
	snprintf(lines, sizeof(lines), "%s %s refs/submissions/bj.dc.a/x\n", old_id, new_id);
	test_equal_i(pre_receive(node, "bj.dc.a", lines), TS_EDENIED);
	snprintf(lines, sizeof(lines), "%s %s refs/submissions/bj.dc.a extra\n", old_id, new_id);
	test_equal_i(pre_receive(node, "bj.dc.a", lines), TS_EDENIED);
	test_equal_i(pre_receive(node, "bj.dc.a", "garbage\n"), TS_EDENIED);
	ts_node_free(node);
}

/* The forced command names the key's fingerprint, and the gate opens only
 * while that key is the one in force: a line left over from an earlier key
 * (the node enrolled again, signing-only) meets a closed gate. */
void test_gate__a_left_over_key_line_meets_a_closed_gate(void)
{
	ts_enroll_options opts = { TS_ENROLL_OPTIONS_VERSION, "authorized_keys", "/usr/bin/tiersync", NULL, 0 };
	ts_enroll_options signing = { TS_ENROLL_OPTIONS_VERSION, NULL, NULL, NULL, 1 };
	ts_gate_exec *exec = NULL;
	ts_node *node = district();
	char commit[41], cmd[1400];

	test_assert(node);
	test_ok(ts_node_enroll(commit, node, "bj.dc.a", KEY_A, &opts));
	test_assert(strstr(slurp("authorized_keys"), " gate --node bj.dc.a --key " FP_A "\",restrict " KEY_A " tiersync:bj.dc.a\n"));
	snprintf(cmd, sizeof(cmd), "git-upload-pack '%s/dc/history.git'", ts_test_dir());
	test_ok(ts_gate_prepare(&exec, node, "bj.dc.a", FP_A, cmd, "/usr/bin/tiersync"));
	ts_gate_exec_free(exec);
	exec = NULL;
	test_equal_i(ts_node_signer_check(node, "bj.dc.a", FP_B), TS_EDENIED);

	test_ok(ts_node_enroll(commit, node, "bj.dc.a", KEY_B, &signing));
	test_assert(strstr(slurp("authorized_keys"), FP_A));   /* the old line stays */
	test_equal_i(ts_gate_prepare(&exec, node, "bj.dc.a", FP_A, cmd, "/usr/bin/tiersync"), TS_EDENIED);
	test_assert(strstr(ts_error_last(), "the key " FP_A " is not the one enrolled for bj.dc.a"));
	test_assert(exec == NULL);
	test_ok(ts_node_signer_check(node, "bj.dc.a", FP_B));

	/* enrolling again with a line writes the new key's fingerprint */
	test_ok(ts_node_enroll(commit, node, "bj.dc.a", KEY_B, &opts));
	test_assert(!strstr(slurp("authorized_keys"), FP_A));
	test_assert(strstr(slurp("authorized_keys"), " --key " FP_B "\","));
	ts_node_free(node);
}
