/*
 * Unit tests of the gate (node/gate.c) and of enrollment (node/enroll.c):
 * the command parser on the forms git and libgit2 send and on the tricks
 * it must refuse, the decision on a repository path, the pre-receive
 * rules, and the authorized_keys lines enrollment writes, replaces and
 * removes while leaving every other line alone.
 */
#include "harness.h"

#include <stdlib.h>
#include <sys/stat.h>

#include <sqlite3.h>

#include "tiersync.h"

#define KEY_A "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKH6v1nTUbmL53cT4+7UnpKdbUZZuy1IWnCPW5GKmil5"
#define KEY_B "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEuZh1zxkP1jGCn5o0G4yBQ6GvbWqO7Zr5H0ZtnH6L3a"

static ts_node *district(void)
{
	ts_init_options opts = { TS_TIER_DISTRICT, "bj.dc", NULL, "张三", NULL };
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
	ts_enroll_options opts = { "ssh/authorized_keys", "/opt/tiersync/bin/tiersync", NULL };
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
	snprintf(expect, sizeof(expect), "command=\"/opt/tiersync/bin/tiersync -C %s gate --node bj.dc.a\",restrict "
		KEY_A " tiersync:bj.dc.a\n", dir);
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

	test_ok(ts_node_signer_check(node, "bj.dc.a"));
	test_ok(ts_node_revoke(commit, node, "bj.dc.a", &opts));
	text = slurp("ssh/authorized_keys");
	test_assert(!strncmp(text, other, strlen(other)));
	test_assert(!strstr(text, "restrict " KEY_A " tiersync:bj.dc.a\n"));
	test_assert(strstr(text, "restrict " KEY_A " tiersync:bj.dc.ab\n"));
	test_equal_i(ts_node_signer_check(node, "bj.dc.a"), TS_EDENIED);
	test_ok(ts_node_signer_check(node, "bj.dc.ab"));
	test_ok(ts_node_revoke(commit, node, "bj.dc.a", &opts));   /* again: nothing more */
	test_equal_i(ts_node_revoke(commit, node, "bj.dc.never", &opts), TS_ENOTFOUND);
	/* revoking with no authorized_keys there creates none */
	opts.authorized_keys = "elsewhere/authorized_keys";
	test_ok(ts_node_revoke(commit, node, "bj.dc.ab", &opts));
	test_assert(stat("elsewhere", &st) < 0);
	test_equal_i(ts_node_signer_check(node, "bj.dc.ab"), TS_EDENIED);
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
	ts_enroll_options opts = { "authorized_keys", "/usr/bin/tiersync", NULL };
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
	test_equal_i(ts_node_signer_check(node, "bj.xc.a"), TS_EDENIED);
	test_equal_i(ts_node_signer_check(node, "bj.dc.a"), TS_EDENIED);
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
	ts_enroll_options opts = { "authorized_keys", "/usr/bin/tiersync", NULL };
	ts_init_options other_opts = { TS_TIER_DISTRICT, "bj.xc", NULL, "李四", NULL };
	ts_gate_exec *exec = NULL;
	ts_node *node = district(), *other = NULL;
	char commit[41], cmd[1400], history[1200];

	test_assert(node);
	test_ok(ts_node_init(&other, "xc", &other_opts));
	test_ok(ts_node_enroll(commit, node, "bj.dc.a", KEY_A, &opts));
	snprintf(history, sizeof(history), "%s/dc/history.git", ts_test_dir());

	snprintf(cmd, sizeof(cmd), "git-upload-pack '%s'", history);
	setenv("GIT_DIR", "/elsewhere", 1);
	test_ok(ts_gate_prepare(&exec, node, "bj.dc.a", cmd, "/usr/bin/tiersync"));
	unsetenv("GIT_DIR");
	test_equal_s(exec->argv[1], "upload-pack");
	test_equal_s(exec->argv[2], history);
	test_assert(exec->argv[3] == NULL);
	test_assert(!env_has(exec->envp, "GIT_DIR=/elsewhere"));
	test_assert(env_has(exec->envp, "GIT_CONFIG_VALUE_2=!refs/submissions/bj.dc.a"));
	ts_gate_exec_free(exec);
	exec = NULL;

	snprintf(cmd, sizeof(cmd), "git receive-pack '%s/dc'", ts_test_dir());
	test_ok(ts_gate_prepare(&exec, node, "bj.dc.a", cmd, "/usr/bin/tiersync"));
	test_equal_s(exec->argv[1], "receive-pack");
	test_equal_s(exec->argv[2], history);
	test_assert(env_has(exec->envp, "GIT_CONFIG_KEY_3=core.hooksPath"));
	test_assert(env_has(exec->envp, "GIT_CONFIG_KEY_4=receive.denyDeletes"));
	test_assert(strstr(slurp("dc/gate-hooks/bj.dc.a/pre-receive"),
		"exec /usr/bin/tiersync -C "));
	test_assert(strstr(slurp("dc/gate-hooks/bj.dc.a/pre-receive"), " gate --pre-receive --node bj.dc.a\n"));
	ts_gate_exec_free(exec);
	exec = NULL;

	test_equal_i(ts_gate_prepare(&exec, node, "bj.dc.a", "git-receive-pack '../other.git'", "/usr/bin/tiersync"),
		TS_EDENIED);
	snprintf(cmd, sizeof(cmd), "git-receive-pack '%s/xc/history.git'", ts_test_dir());
	test_equal_i(ts_gate_prepare(&exec, node, "bj.dc.a", cmd, "/usr/bin/tiersync"), TS_EDENIED);
	snprintf(cmd, sizeof(cmd), "git-upload-pack '%s/dc/history.git/..'", ts_test_dir());
	test_ok(ts_gate_prepare(&exec, node, "bj.dc.a", cmd, "/usr/bin/tiersync"));   /* the node dir itself */
	ts_gate_exec_free(exec);
	exec = NULL;
	snprintf(cmd, sizeof(cmd), "git-upload-pack '%s/dc/history.git/objects'", ts_test_dir());
	test_equal_i(ts_gate_prepare(&exec, node, "bj.dc.a", cmd, "/usr/bin/tiersync"), TS_EDENIED);
	test_equal_i(ts_gate_prepare(&exec, node, "bj.dc.a", "sh -c id", "/usr/bin/tiersync"), TS_EDENIED);
	snprintf(cmd, sizeof(cmd), "git-upload-pack '%s'", history);
	test_equal_i(ts_gate_prepare(&exec, node, "bj.dc.b", cmd, "/usr/bin/tiersync"), TS_EDENIED);
	test_ok(ts_node_revoke(commit, node, "bj.dc.a", &opts));
	test_equal_i(ts_gate_prepare(&exec, node, "bj.dc.a", cmd, "/usr/bin/tiersync"), TS_EDENIED);
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
