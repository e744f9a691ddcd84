/*
 * The gate: what an upper node lets a lower node's key do over SSH.
 *
 * sshd runs `tiersync -C NODE gate --node ID --key FP` for every
 * connection made with the key enrolled for ID (node/enroll.c; FP is that
 * key's fingerprint, which must still be the one in force for ID), with the command the client
 * asked for in SSH_ORIGINAL_COMMAND. The only commands let through are the
 * two git services, in the form git and libgit2 send them:
 *
 *   git-upload-pack 'PATH'     (also "git upload-pack 'PATH'")   a fetch
 *   git-receive-pack 'PATH'    (also "git receive-pack 'PATH'")  a push
 *
 * PATH quoted as git's sq_quote does: inside single quotes, a ' or ! of
 * the path closes the quote, appears escaped and reopens it ('\'' and
 * '\!'). Nothing else is read: no other command, no unquoted path, no
 * argument after the path, no control character. PATH must resolve to this
 * node's history.git (or the node's directory, which names it), and ID's
 * key must be in force in sync_signers.
 *
 * The service is stock git, started without a shell on history.git, with
 * the environment of the gate minus every GIT_* variable the client might
 * have brought, plus a command-line config (GIT_CONFIG_COUNT):
 *
 *   transfer.hideRefs    every ref but refs/heads/main,
 *                        refs/submissions/ID and refs/urgent/ID: the node
 *                        sees, fetches and may name nothing else (git
 *                        refuses to update a hidden ref)
 *   core.hooksPath       NODE/gate-hooks/ID (a push), whose pre-receive
 *                        runs `tiersync -C NODE gate --pre-receive --node ID`
 *   receive.denyDeletes  a push cannot delete a ref
 *   receive.fsckObjects  git checks every object it receives
 *   receive.autogc       false: no `git gc --auto` after a push; the store
 *                        packs the history itself, under the node's lock
 *                        (ts_store__maintain), and a gc git left running
 *                        in the background would repack and prune behind it
 *
 * The pre-receive check refuses the whole push unless every update creates
 * or moves refs/submissions/ID or refs/urgent/ID (its urgent reports, sent
 * ahead of a backlog) to a commit, then asks ts_node_admit() about each new
 * submission and ts_node_admit_urgent() about each urgent commit, reading
 * the objects from git's quarantine. What it
 * prints git shows the pushing client as "remote: ...".
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "gate.h"
#include "node.h"

extern char **environ;

static const struct {
	const char *prefix;
	ts_gate_service service;
} services[] = {
	{ "git-upload-pack ", TS_GATE_UPLOAD_PACK },
	{ "git upload-pack ", TS_GATE_UPLOAD_PACK },
	{ "git-receive-pack ", TS_GATE_RECEIVE_PACK },
	{ "git receive-pack ", TS_GATE_RECEIVE_PACK },
	{ "tiersync-upload-changes ", TS_GATE_UPLOAD_CHANGES },
	{ "tiersync-receive-changes ", TS_GATE_RECEIVE_CHANGES },
};

int ts_gate_parse(ts_gate_request *out, const char *command)
{
	const char *p = NULL, *why;
	size_t i, n = 0;

	memset(out, 0, sizeof(*out));
	why = "no command: this key may only fetch or push with git";
	if (!command || !*command)
		goto refuse;
	for (i = 0; i < sizeof(services) / sizeof(services[0]); i++) {
		size_t len = strlen(services[i].prefix);
		if (!strncmp(command, services[i].prefix, len)) {
			out->service = services[i].service;
			p = command + len;
			break;
		}
	}
	why = "only git-upload-pack, git-receive-pack and tiersync's exchange are allowed to this key";
	if (!p)
		goto refuse;
	why = "the repository path must be single-quoted, as git sends it";
	if (*p != '\'')
		goto refuse;
	for (p++;;) {
		char c = *p++;
		why = "the repository path's quote is not closed";
		if (c == '\0')
			goto refuse;
		if (c == '\'') {
			if (*p == '\0')
				break;
			/* a ' or ! of the path, as git's sq_quote writes it */
			why = "nothing may follow the quoted repository path";
			if (p[0] != '\\' || (p[1] != '\'' && p[1] != '!') || p[2] != '\'')
				goto refuse;
			c = p[1];
			p += 3;
		} else if ((unsigned char)c < 0x20 || c == 0x7f) {
			why = "the repository path holds a control character";
			goto refuse;
		}
		why = "the repository path is too long";
		if (n + 1 >= sizeof(out->path))
			goto refuse;
		out->path[n++] = c;
	}
	why = "the repository path is empty";
	if (n == 0)
		goto refuse;
	out->path[n] = '\0';
	return 0;

refuse:
	memset(out, 0, sizeof(*out));
	return ts_error_set(TS_EDENIED, "%s", why);
}

/* git on PATH, else /usr/bin/git, into `out`. */
static int find_git(ts_buf *out)
{
	const char *path = getenv("PATH"), *p, *end;

	for (p = path ? path : ""; *p; p = *end ? end + 1 : end) {
		end = strchr(p, ':');
		if (!end)
			end = p + strlen(p);
		if (end == p || *p != '/')
			continue;
		ts_buf__clear(out);
		ts_buf__put(out, p, (size_t)(end - p));
		ts_buf__puts(out, "/git");
		if (!ts_buf__oom(out) && access(out->ptr, X_OK) == 0)
			return 0;
	}
	ts_buf__clear(out);
	ts_buf__puts(out, "/usr/bin/git");
	if (ts_buf__oom(out))
		return ts_error_set(TS_ERROR, "out of memory");
	if (access(out->ptr, X_OK) < 0)
		return ts_error_set(TS_ERROR, "no git on this host (PATH, /usr/bin/git)");
	return 0;
}

/* Writes `text` to `path` (mode `mode`) unless it holds exactly that. */
static int write_if_changed(const char *path, const char *text, mode_t mode)
{
	ts_buf tmp = TS_BUF_INIT;
	char old[4096];
	size_t len = strlen(text);
	struct stat st;
	ssize_t got;
	int fd, error = 0;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) >= 0) {
		got = read(fd, old, sizeof(old));
		close(fd);
		if (got == (ssize_t)len && !memcmp(old, text, len) && stat(path, &st) == 0 &&
		    (st.st_mode & 07777) == mode)
			return 0;
	}
	ts_buf__printf(&tmp, "%s.XXXXXX", path);
	if (ts_buf__oom(&tmp))
		return ts_error_set(TS_ERROR, "out of memory");
	if ((fd = mkstemp(tmp.ptr)) < 0) {
		error = ts_error_set(TS_ERROR, "cannot write %s: %s", path, strerror(errno));
		goto done;
	}
	if (write(fd, text, len) != (ssize_t)len || fchmod(fd, mode) < 0 || fsync(fd) < 0) {
		error = ts_error_set(TS_ERROR, "cannot write %s: %s", path, strerror(errno));
		close(fd);
		unlink(tmp.ptr);
		goto done;
	}
	close(fd);
	if (rename(tmp.ptr, path) < 0) {
		error = ts_error_set(TS_ERROR, "cannot write %s: %s", path, strerror(errno));
		unlink(tmp.ptr);
	}
done:
	ts_buf__dispose(&tmp);
	return error;
}

/* NODE/gate-hooks/ID with its pre-receive, into `dir`. */
static int write_hook(ts_buf *dir, const char *node_dir, const char *node_id, const char *program)
{
	ts_buf script = TS_BUF_INIT, hook = TS_BUF_INIT;
	int error = 0;

	if (!program || program[0] != '/')
		return ts_error_set(TS_EINVALID, "the gate needs the absolute path of its program");
	ts_buf__printf(dir, "%s/gate-hooks", node_dir);
	if (!ts_buf__oom(dir) && mkdir(dir->ptr, 0755) < 0 && errno != EEXIST) {
		error = ts_error_set(TS_ERROR, "cannot create %s: %s", dir->ptr, strerror(errno));
		goto done;
	}
	ts_buf__printf(dir, "/%s", node_id);
	if (!ts_buf__oom(dir) && mkdir(dir->ptr, 0755) < 0 && errno != EEXIST) {
		error = ts_error_set(TS_ERROR, "cannot create %s: %s", dir->ptr, strerror(errno));
		goto done;
	}
	ts_buf__puts(&script, "#!/bin/sh\n# written by the gate: the check of a push by this node\nexec ");
	ts_gate__shell_word(&script, program);
	ts_buf__puts(&script, " -C ");
	ts_gate__shell_word(&script, node_dir);
	ts_buf__printf(&script, " gate --pre-receive --node %s\n", node_id);
	ts_buf__printf(&hook, "%s/pre-receive", dir->ptr ? dir->ptr : "");
	if (ts_buf__oom(dir) || ts_buf__oom(&script) || ts_buf__oom(&hook)) {
		error = ts_error_set(TS_ERROR, "out of memory");
		goto done;
	}
	error = write_if_changed(hook.ptr, script.ptr, 0755);
done:
	ts_buf__dispose(&script);
	ts_buf__dispose(&hook);
	return error;
}

/* Appends a NULL-terminated copy of `s` to a growing string vector. */
/* The name-value pairs of git's command-line config a gate passes: one
 * more than it passes is a programming error, caught here, not a write
 * past the array. */
#define GATE_CONFIG_MAX 16

static void config_add(const char **config, size_t *n, const char *name, const char *value)
{
	if (*n + 2 > GATE_CONFIG_MAX)
		abort();
	config[(*n)++] = name;
	config[(*n)++] = value;
}

static int vec_push(char ***vec, size_t *n, const char *s)
{
	char **grown = realloc(*vec, sizeof(**vec) * (*n + 2));
	if (!grown)
		return ts_error_set(TS_ERROR, "out of memory");
	*vec = grown;
	grown[*n + 1] = NULL;
	if (!s) {
		grown[*n] = NULL;
		return 0;
	}
	if (!(grown[*n] = strdup(s)))
		return ts_error_set(TS_ERROR, "out of memory");
	(*n)++;
	return 0;
}

void ts_gate_exec_free(ts_gate_exec *exec)
{
	char **p;

	if (!exec)
		return;
	for (p = exec->argv; p && *p; p++)
		free(*p);
	for (p = exec->envp; p && *p; p++)
		free(*p);
	free(exec->argv);
	free(exec->envp);
	free(exec);
}

int ts_gate__request_check(ts_gate_request *req, char *node_dir, char *history, ts_node *node,
	const char *node_id, const char *fingerprint, const char *command)
{
	char asked[PATH_MAX];
	ts_buf repo = TS_BUF_INIT;
	int error;

	if ((error = ts_gate_parse(req, command)) < 0 || (error = ts_node_signer_check(node, node_id, fingerprint)) < 0)
		return error;
	if (!realpath(node->path, node_dir))
		return ts_error_set(TS_ERROR, "cannot resolve %s: %s", node->path, strerror(errno));
	ts_buf__printf(&repo, "%s/history.git", node_dir);
	if (ts_buf__oom(&repo) || !realpath(repo.ptr, history))
		error = ts_error_set(TS_ERROR, "cannot resolve this node's history: %s", strerror(errno));
	else if (!realpath(req->path, asked) || (strcmp(asked, history) && strcmp(asked, node_dir)))
		error = ts_error_set(TS_EDENIED, "%s may reach only the history of %s", node_id, node->id);
	ts_buf__dispose(&repo);
	return error;
}

int ts_gate_prepare(ts_gate_exec **out, ts_node *node, const char *node_id, const char *fingerprint,
	const char *command, const char *program)
{
	ts_gate_exec *e = NULL;
	ts_gate_request req;
	ts_buf git = TS_BUF_INIT, repo = TS_BUF_INIT, hooks = TS_BUF_INIT, kv = TS_BUF_INIT, urgent = TS_BUF_INIT;
	char node_dir[PATH_MAX], history[PATH_MAX];
	const char *config[GATE_CONFIG_MAX];
	size_t nargv = 0, nenv = 0, nconfig = 0, i;
	char **env;
	int error;

	if ((error = ts_store__publish(node->store)) < 0)
		return error;
	*out = NULL;
	if ((error = ts_gate__request_check(&req, node_dir, history, node, node_id, fingerprint, command)) < 0)
		goto done;
	if (req.service != TS_GATE_UPLOAD_PACK && req.service != TS_GATE_RECEIVE_PACK) {
		error = ts_error_set(TS_EINVALID, "tiersync's exchange is served in this process, not by git");
		goto done;
	}
	if ((error = find_git(&git)) < 0)
		goto done;
	if (req.service == TS_GATE_RECEIVE_PACK && (error = write_hook(&hooks, node_dir, node_id, program)) < 0)
		goto done;

	/* what the node may see and do, as git's command-line config */
	ts_buf__printf(&kv, "!refs/submissions/%s", node_id);
	ts_buf__printf(&urgent, "!refs/urgent/%s", node_id);
	if (ts_buf__oom(&kv) || ts_buf__oom(&urgent)) {
		error = ts_error_set(TS_ERROR, "out of memory");
		goto done;
	}
	config_add(config, &nconfig, "transfer.hideRefs", "refs/");
	config_add(config, &nconfig, "transfer.hideRefs", "!refs/heads/main");
	config_add(config, &nconfig, "transfer.hideRefs", kv.ptr);
	if (req.service == TS_GATE_RECEIVE_PACK) {
		config_add(config, &nconfig, "core.hooksPath", hooks.ptr);
		config_add(config, &nconfig, "receive.denyDeletes", "true");
		config_add(config, &nconfig, "receive.fsckObjects", "true");
		config_add(config, &nconfig, "receive.autogc", "false");
	}
	config_add(config, &nconfig, "transfer.hideRefs", urgent.ptr);

	if (!(e = calloc(1, sizeof(*e)))) {
		error = ts_error_set(TS_ERROR, "out of memory");
		goto done;
	}
	if ((error = vec_push(&e->argv, &nargv, git.ptr)) < 0 ||
	    (error = vec_push(&e->argv, &nargv, req.service == TS_GATE_RECEIVE_PACK ? "receive-pack" : "upload-pack")) < 0 ||
	    (error = vec_push(&e->argv, &nargv, history)) < 0 ||
	    (error = vec_push(&e->envp, &nenv, NULL)) < 0)
		goto done;
	for (env = environ; env && *env; env++)
		if (strncmp(*env, "GIT_", 4) && (error = vec_push(&e->envp, &nenv, *env)) < 0)
			goto done;
	ts_buf__clear(&repo);
	ts_buf__printf(&repo, "GIT_CONFIG_COUNT=%zu", nconfig / 2);
	if (ts_buf__oom(&repo) || (error = vec_push(&e->envp, &nenv, repo.ptr)) < 0) {
		error = error < 0 ? error : ts_error_set(TS_ERROR, "out of memory");
		goto done;
	}
	for (i = 0; i < nconfig; i += 2) {
		ts_buf__clear(&repo);
		ts_buf__printf(&repo, "GIT_CONFIG_KEY_%zu=%s", i / 2, config[i]);
		if (ts_buf__oom(&repo) || (error = vec_push(&e->envp, &nenv, repo.ptr)) < 0)
			goto oom;
		ts_buf__clear(&repo);
		ts_buf__printf(&repo, "GIT_CONFIG_VALUE_%zu=%s", i / 2, config[i + 1]);
		if (ts_buf__oom(&repo) || (error = vec_push(&e->envp, &nenv, repo.ptr)) < 0)
			goto oom;
	}
	*out = e;
	e = NULL;
	goto done;

oom:
	error = error < 0 ? error : ts_error_set(TS_ERROR, "out of memory");
done:
	ts_gate_exec_free(e);
	ts_buf__dispose(&git);
	ts_buf__dispose(&repo);
	ts_buf__dispose(&hooks);
	ts_buf__dispose(&kv);
	ts_buf__dispose(&urgent);
	return error;
}

static int hex40(const char *s)
{
	int i;
	for (i = 0; i < 40; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

int ts_gate__ref_allowed(const char *node_id, const char *ref, int deleting)
{
	ts_buf own = TS_BUF_INIT, own_urgent = TS_BUF_INIT;
	int error = 0;

	ts_buf__printf(&own, "refs/submissions/%s", node_id);
	ts_buf__printf(&own_urgent, "refs/urgent/%s", node_id);
	if (ts_buf__oom(&own) || ts_buf__oom(&own_urgent))
		error = ts_error_set(TS_ERROR, "out of memory");
	else if (strcmp(ref, own.ptr) && strcmp(ref, own_urgent.ptr))
		error = ts_error_set(TS_EDENIED, "refused %s: %s may push only %s or %s", ref, node_id,
			own.ptr, own_urgent.ptr);
	else if (deleting)
		error = ts_error_set(TS_EDENIED, "refused %s: %s is never deleted through the gate", ref,
			strcmp(ref, own.ptr) ? "an urgent ref" : "a submission");
	ts_buf__dispose(&own);
	ts_buf__dispose(&own_urgent);
	return error;
}

/* One update line as git gives it to pre-receive. */
typedef struct {
	char old_id[41], new_id[41];
	char *ref;
} update;

int ts_gate_pre_receive(ts_node *node, const char *node_id, FILE *updates, const char *quarantine)
{
	static const char zero[] = "0000000000000000000000000000000000000000";
	ts_buf own = TS_BUF_INIT, own_urgent = TS_BUF_INIT;
	update *list = NULL;
	char *line = NULL;
	size_t cap = 0, n = 0, i;
	ssize_t len;
	int error = 0;

	ts_buf__printf(&own, "refs/submissions/%s", node_id ? node_id : "");
	ts_buf__printf(&own_urgent, "refs/urgent/%s", node_id ? node_id : "");
	if (!node_id || !ts_node_id_valid(node_id) || ts_buf__oom(&own) || ts_buf__oom(&own_urgent)) {
		error = ts_error_set(TS_EINVALID, "the pre-receive check needs the pushing node's id");
		goto done;
	}
	/* every line is read and judged before anything is admitted: one
	 * refused update refuses the whole push */
	while ((len = getline(&line, &cap, updates)) > 0) {
		update u;
		if (line[len - 1] == '\n')
			line[--len] = '\0';
		if (len < 83 || line[40] != ' ' || line[81] != ' ' || !hex40(line) || !hex40(line + 41) ||
		    strchr(line + 82, ' ')) {
			error = ts_error_set(TS_EDENIED, "refused: git passed a malformed update line");
			goto done;
		}
		memcpy(u.old_id, line, 40);
		u.old_id[40] = '\0';
		memcpy(u.new_id, line + 41, 40);
		u.new_id[40] = '\0';
		u.ref = line + 82;
		if ((error = ts_gate__ref_allowed(node_id, u.ref, !strcmp(u.new_id, zero))) < 0)
			goto done;
		{
			update *grown = realloc(list, sizeof(*list) * (n + 1));
			if (!grown || !(u.ref = strdup(u.ref))) {
				if (grown)
					list = grown;
				error = ts_error_set(TS_ERROR, "out of memory");
				goto done;
			}
			list = grown;
			list[n++] = u;
		}
	}
	if (ferror(updates)) {
		error = ts_error_set(TS_ERROR, "cannot read the updates of the push: %s", strerror(errno));
		goto done;
	}
	for (i = 0; i < n; i++)
		if ((error = strcmp(list[i].ref, own.ptr) ?
				ts_node_admit_urgent(node, node_id, list[i].new_id, quarantine) :
				ts_node_admit(node, node_id, list[i].new_id, quarantine)) < 0) {
			char why[900];
			snprintf(why, sizeof(why), "%s", ts_error_last() ? ts_error_last() : "not admitted");
			error = ts_error_set(error, "refused %s: %s", list[i].ref, why);
			goto done;
		}

done:
	for (i = 0; i < n; i++)
		free(list[i].ref);
	free(list);
	free(line);
	ts_buf__dispose(&own);
	ts_buf__dispose(&own_urgent);
	return error;
}
