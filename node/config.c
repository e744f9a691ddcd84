/*
 * The node's settings: NODE/config, a git-config file, read and changed
 * as `git config` does, through libgit2's git_config.
 *
 * Every key the node reads is known here, with whether a person may change
 * it:
 *
 *   user.name                the node's identity (default author)    set, unset
 *   remote.<name>.url        a remote's URL (remote.h)               set
 *   remote.<name>.identity   its SSH key file, stored absolute        set, unset
 *   node.id, node.tier       the node's place: bound to its key and to
 *                            its enrollment at the upper node         read only
 *   node.key                 the node's signing key file: the key the
 *                            upper node enrolled for this node        read only
 *   signer.<id>.key          the key of a node above as first seen    read only
 *
 * Any other key is refused, naming the ones that may be set, so that a typo
 * never writes a setting nothing reads. A remote's URL is stored as given
 * (a relative path is taken from the node's directory, as for every remote);
 * removing a remote is ts_node_remote_remove()'s, which takes its fetched
 * refs with it.
 */
#include "files.h"
#include "node.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "buf.h"
#include "error.h"
#include "remote.h"

typedef enum {
	KEY_USER_NAME,
	KEY_REMOTE_URL,
	KEY_REMOTE_IDENTITY,
	KEY_READ_ONLY
} key_kind;

#define SETTABLE "user.name, remote.<name>.url and remote.<name>.identity"

/* Writes the canonical form of `key` (section and variable lowercased, the
 * subsection as given) to `canon` and what it is to *kind (with *why, the
 * reason, for a key that is read only). TS_EINVALID for a malformed key or
 * one nothing reads, naming the keys that may be set. */
static int key_parse(ts_buf *canon, key_kind *kind, const char **why, const char *key)
{
	const char *first = key ? strchr(key, '.') : NULL, *last = key ? strrchr(key, '.') : NULL;
	size_t i;

	*why = NULL;
	if (!first || first == key || !last[1] || strchr(key, '\n') || strchr(key, '\r'))
		return ts_error_set(TS_EINVALID, "invalid key '%s': a key is SECTION.NAME or "
			"SECTION.SUBSECTION.NAME", key ? key : "");
	for (i = 0; key + i < first; i++)
		ts_buf__putc(canon, (char)(key[i] >= 'A' && key[i] <= 'Z' ? key[i] + 32 : key[i]));
	ts_buf__printf(canon, "%.*s", (int)(last - first + 1), first);
	for (i = 1; last[i]; i++)
		ts_buf__putc(canon, (char)(last[i] >= 'A' && last[i] <= 'Z' ? last[i] + 32 : last[i]));
	if (ts_buf__oom(canon))
		return ts_error_set(TS_ERROR, "out of memory");

	*kind = KEY_READ_ONLY;
	if (!strcmp(canon->ptr, "user.name"))
		*kind = KEY_USER_NAME;
	else if (!strcmp(canon->ptr, "node.id") || !strcmp(canon->ptr, "node.tier"))
		*why = "a node's id and tier are bound to its key and to its enrollment at the upper "
			"node; a node in another place is a new node";
	else if (!strcmp(canon->ptr, "node.key"))
		*why = "the signing key is the one the upper node enrolled for this node";
	else if (!strncmp(canon->ptr, "signer.", 7) && first != last && !strcmp(last, ".key"))
		*why = "the key of a node above is kept as first seen, and changes only by its "
			"enrollment in the history";
	else if (!strncmp(canon->ptr, "remote.", 7) && first != last) {
		char name[128];
		size_t n = (size_t)(last - first - 1);
		if (n >= sizeof(name))
			n = sizeof(name) - 1;
		memcpy(name, first + 1, n);
		name[n] = '\0';
		if (!strcasecmp(last + 1, "url"))
			*kind = KEY_REMOTE_URL;
		else if (!strcasecmp(last + 1, "identity"))
			*kind = KEY_REMOTE_IDENTITY;
		else
			return ts_error_set(TS_EINVALID, "unknown key '%s': the keys that may be set are "
				SETTABLE, key);
		if (!ts_node_remote_name_valid(name))
			return ts_error_set(TS_EINVALID, "invalid remote name '%s': use letters, digits, "
				"'-', '_' and inner dots", name);
	} else
		return ts_error_set(TS_EINVALID, "unknown key '%s': the keys that may be set are "
			SETTABLE, key);
	return 0;
}

int ts_node_config_get(char **out, ts_node *node, const char *key)
{
	git_buf value = GIT_BUF_INIT;
	int rc;

	*out = NULL;
	if (!key || !*key)
		return ts_error_set(TS_EINVALID, "name a key");
	if ((rc = git_config_get_string_buf(&value, node->config, key)) == GIT_ENOTFOUND)
		return ts_error_set(TS_ENOTFOUND, "%s is not set", key);
	if (rc < 0)
		return ts_store__git_error(TS_EINVALID, key);
	*out = strdup(value.ptr);
	git_buf_dispose(&value);
	return *out ? 0 : ts_error_set(TS_ERROR, "out of memory");
}

/* Whether remote `key`'s (remote.NAME.x) remote has a URL. */
static int remote_exists(ts_node *node, const char *canon)
{
	ts_buf url = TS_BUF_INIT;
	git_buf value = GIT_BUF_INIT;
	int found;

	ts_buf__printf(&url, "%.*surl", (int)(strrchr(canon, '.') + 1 - canon), canon);
	found = !ts_buf__oom(&url) && git_config_get_string_buf(&value, node->config, url.ptr) == 0;
	git_buf_dispose(&value);
	ts_buf__dispose(&url);
	return found;
}

static int check_value(char **stored, ts_node *node, key_kind kind, const char *canon, const char *value)
{
	ts_remote_url u;
	int error;

	*stored = NULL;
	if (!value || !*value)
		return ts_error_set(TS_EINVALID, "%s needs a value", canon);
	if (strchr(value, '\n') || strchr(value, '\r'))
		return ts_error_set(TS_EINVALID, "a value of %s is one line", canon);
	switch (kind) {
	case KEY_USER_NAME:
		if (strchr(value, '<') || strchr(value, '>'))
			return ts_error_set(TS_EINVALID, "an author's name may not contain '<' or '>'");
		break;
	case KEY_REMOTE_URL:
		if ((error = ts_remote__url_parse(&u, value)) < 0)
			return error;
		ts_remote__url_dispose(&u);
		break;
	case KEY_REMOTE_IDENTITY:
		if (!remote_exists(node, canon))
			return ts_error_set(TS_ENOTFOUND, "there is no remote %.*s: its url is not set",
				(int)(strrchr(canon, '.') - canon - 7), canon + 7);
		if (!(*stored = realpath(value, NULL)) || access(*stored, R_OK) < 0) {
			error = ts_error_set(TS_ENOTFOUND, "cannot read the identity file %s: %s", value,
				strerror(errno));
			free(*stored);
			*stored = NULL;
			return error;
		}
		return 0;
	case KEY_READ_ONLY:
		break;
	}
	return (*stored = strdup(value)) ? 0 : ts_error_set(TS_ERROR, "out of memory");
}

/* user.name is cached by the node (ts_node_identity). */
static int identity_changed(ts_node *node, const char *value)
{
	char *copy = NULL;

	if (value && !(copy = strdup(value)))
		return ts_error_set(TS_ERROR, "out of memory");
	free(node->identity);
	node->identity = copy;
	return 0;
}

int ts_node_config_set(ts_node *node, const char *key, const char *value)
{
	ts_buf canon = TS_BUF_INIT;
	const char *why;
	char *stored = NULL;
	key_kind kind;
	int error;

	if ((error = key_parse(&canon, &kind, &why, key)) < 0)
		goto done;
	if (kind == KEY_READ_ONLY) {
		error = ts_error_set(TS_EDENIED, "%s is not changed: %s", canon.ptr, why);
		goto done;
	}
	if ((error = check_value(&stored, node, kind, canon.ptr, value)) < 0)
		goto done;
	if (git_config_set_string(node->config, canon.ptr, stored) < 0) {
		error = ts_store__git_error(TS_ERROR, canon.ptr);
		goto done;
	}
	if ((error = ts_files__durable(node->path, "config")) < 0)
		goto done;
	if (kind == KEY_USER_NAME)
		error = identity_changed(node, stored);
done:
	free(stored);
	ts_buf__dispose(&canon);
	return error;
}

int ts_node_config_unset(ts_node *node, const char *key)
{
	ts_buf canon = TS_BUF_INIT;
	const char *why;
	key_kind kind;
	char *old = NULL;
	int error;

	if ((error = key_parse(&canon, &kind, &why, key)) < 0)
		goto done;
	if (kind == KEY_READ_ONLY) {
		error = ts_error_set(TS_EDENIED, "%s is not changed: %s", canon.ptr, why);
		goto done;
	}
	if (kind == KEY_REMOTE_URL) {
		error = ts_error_set(TS_EDENIED, "a remote's url is not unset alone: the remote is "
			"removed whole, with what was fetched from it");
		goto done;
	}
	if ((error = ts_node_config_get(&old, node, canon.ptr)) < 0)
		goto done;
	if (git_config_delete_entry(node->config, canon.ptr) < 0) {
		error = ts_store__git_error(TS_ERROR, canon.ptr);
		goto done;
	}
	if ((error = ts_files__durable(node->path, "config")) < 0)
		goto done;
	if (kind == KEY_USER_NAME)
		error = identity_changed(node, NULL);
done:
	free(old);
	ts_buf__dispose(&canon);
	return error;
}

int ts_node_config_list(ts_node *node, int (*cb)(const ts_config_entry *entry, void *payload), void *payload)
{
	git_config_iterator *it = NULL;
	git_config_entry *e;
	ts_config_entry entry;
	ts_buf canon = TS_BUF_INIT;
	key_kind kind;
	const char *why;
	int rc, error = 0;

	if (git_config_iterator_new(&it, node->config) < 0)
		return ts_store__git_error(TS_ERROR, "reading the node's config");
	while (!error && (rc = git_config_next(&e, it)) == 0) {
		ts_buf__clear(&canon);
		entry.key = e->name;
		entry.value = e->value ? e->value : "";
		entry.settable = key_parse(&canon, &kind, &why, e->name) == 0 && kind != KEY_READ_ONLY;
		error = cb(&entry, payload);
	}
	if (!error && rc != GIT_ITEROVER)
		error = ts_store__git_error(TS_ERROR, "reading the node's config");
	git_config_iterator_free(it);
	ts_buf__dispose(&canon);
	return error;
}
