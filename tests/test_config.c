/*
 * Unit tests of the node's settings (node/config.c): get, set and unset
 * of the keys a person may change, the read-only keys refused with their
 * reason, a typo refused naming the known keys, and what lands in the
 * file (read back by a second libgit2 handle, as stock git would).
 */
#include "harness.h"

#include <stdlib.h>

#include <git2.h>

#include "nodes.h"
#include "tiersync.h"

static ts_node *street(void)
{
	return ts_test_node("js", TS_TIER_STREET, "bj.dc.jingshan", "李街");
}

/* The value of `key` in the file NODE/config, read apart from the node. */
static char *file_value(const char *key)
{
	git_config *cfg = NULL;
	git_buf buf = GIT_BUF_INIT;
	char *out = NULL;

	if (git_config_open_ondisk(&cfg, "js/config") == 0 && git_config_get_string_buf(&buf, cfg, key) == 0)
		out = strdup(buf.ptr);
	git_buf_dispose(&buf);
	git_config_free(cfg);
	return out;
}

void test_config__get_and_set_user_name(void)
{
	ts_node *node = street();
	char *value = NULL, *in_file;

	test_assert(node);
	test_ok(ts_node_config_get(&value, node, "user.name"));
	test_equal_s(value, "李街");
	free(value);
	test_ok(ts_node_config_set(node, "User.Name", "王伟"));
	test_equal_s(ts_node_identity(node), "王伟");
	in_file = file_value("user.name");
	test_equal_s(in_file, "王伟");
	free(in_file);
	test_ok(ts_node_config_get(&value, node, "user.name"));
	test_equal_s(value, "王伟");
	free(value);
	ts_node_free(node);
}

void test_config__unset_then_get_is_not_found(void)
{
	ts_node *node = street();
	char *value = (char *)"x";

	test_assert(node);
	test_ok(ts_node_config_unset(node, "user.name"));
	test_assert(ts_node_identity(node) == NULL);
	test_equal_i(ts_node_config_get(&value, node, "user.name"), TS_ENOTFOUND);
	test_assert(value == NULL);
	test_equal_i(ts_node_config_unset(node, "user.name"), TS_ENOTFOUND);
	test_assert(file_value("user.name") == NULL);
	ts_node_free(node);
}

void test_config__read_only_keys_refused_with_reason(void)
{
	ts_node *node = street();
	char *id;

	test_assert(node);
	test_equal_i(ts_node_config_set(node, "node.id", "bj.dc.other"), TS_EDENIED);
	test_error_says("bound to its key and to its enrollment");
	test_equal_i(ts_node_config_set(node, "NODE.tier", "city"), TS_EDENIED);
	test_equal_i(ts_node_config_unset(node, "node.id"), TS_EDENIED);
	test_equal_i(ts_node_config_set(node, "node.key", "/tmp/k"), TS_EDENIED);
	test_error_says("enrolled");
	test_equal_i(ts_node_config_set(node, "signer.bj.dc.key", "ssh-ed25519 AAAA"), TS_EDENIED);
	id = file_value("node.id");
	test_equal_s(id, "bj.dc.jingshan");
	free(id);
	test_equal_s(ts_node_id(node), "bj.dc.jingshan");
	ts_node_free(node);
}

void test_config__typo_refused_naming_known_keys(void)
{
	ts_node *node = street();

	test_assert(node);
	test_equal_i(ts_node_config_set(node, "user.nmae", "王伟"), TS_EINVALID);
	test_error_says("user.name, remote.<name>.url and remote.<name>.identity");
	test_equal_i(ts_node_config_set(node, "remote.up.urll", "/x"), TS_EINVALID);
	test_equal_i(ts_node_config_set(node, "nodot", "x"), TS_EINVALID);
	test_equal_i(ts_node_config_set(node, "remote.bad name.url", "/x"), TS_EINVALID);
	test_assert(file_value("user.nmae") == NULL);
	ts_node_free(node);
}

void test_config__bad_values_refused(void)
{
	ts_node *node = street();

	test_assert(node);
	test_equal_i(ts_node_config_set(node, "user.name", "王 <w@x>"), TS_EINVALID);
	test_equal_i(ts_node_config_set(node, "user.name", "a\nb"), TS_EINVALID);
	test_equal_i(ts_node_config_set(node, "user.name", ""), TS_EINVALID);
	test_equal_i(ts_node_config_set(node, "remote.up.url", "http://example.invalid/x"), TS_EINVALID);
	test_equal_i(ts_node_config_set(node, "remote.up.identity", "js/id_ed25519"), TS_ENOTFOUND);
	test_error_says("no remote up");
	test_equal_s(ts_node_identity(node), "李街");
	ts_node_free(node);
}

void test_config__remote_url_and_identity(void)
{
	ts_node *node = street();
	char *url, *identity;

	test_assert(node);
	test_ok(ts_node_config_set(node, "remote.up.url", "ssh://example.invalid/srv/dc"));
	test_equal_i(ts_node_config_set(node, "remote.up.identity", "missing-key"), TS_ENOTFOUND);
	test_ok(ts_node_config_set(node, "remote.up.identity", "js/id_ed25519"));
	url = file_value("remote.up.url");
	identity = file_value("remote.up.identity");
	test_equal_s(url, "ssh://example.invalid/srv/dc");
	test_assert(identity && identity[0] == '/' && strstr(identity, "/js/id_ed25519"));
	free(url);
	free(identity);
	test_equal_i(ts_node_config_unset(node, "remote.up.url"), TS_EDENIED);
	test_ok(ts_node_config_unset(node, "remote.up.identity"));
	test_assert(file_value("remote.up.identity") == NULL);
	ts_node_free(node);
}

typedef struct {
	int n, settable, id_read_only;
} listed;

static int count(const ts_config_entry *e, void *payload)
{
	listed *l = payload;
	l->n++;
	l->settable += e->settable;
	if (!strcmp(e->key, "node.id") && !e->settable)
		l->id_read_only = 1;
	return 0;
}

void test_config__list(void)
{
	ts_node *node = street();
	listed l = { 0, 0, 0 };

	test_assert(node);
	test_ok(ts_node_config_set(node, "remote.up.url", "ssh://example.invalid/srv/dc"));
	test_ok(ts_node_config_list(node, count, &l));
	/* node.id, node.tier, user.name, remote.up.url */
	test_equal_i(l.n, 4);
	test_equal_i(l.settable, 2);
	test_assert(l.id_read_only);
	ts_node_free(node);
}
