/*
 * Enrollment: the keys with which lower nodes reach this node's gate.
 *
 * A lower node's Ed25519 key is kept in two places that must agree:
 *
 *   sync_signers    one row per node (synced: the keys travel with the
 *                   history, and every node checks signatures with them)
 *   authorized_keys one line per node, in the form
 *
 *     command="PROGRAM -C NODE gate --node ID --key FP",restrict ssh-ed25519 BASE64 tiersync:ID
 *
 *                   FP is the key's fingerprint as ssh-keygen -l prints it
 *                   ("SHA256:..."), and the gate lets the connection in
 *                   only while it is the fingerprint of the key in force in
 *                   ID's row: a line left over from an earlier key (a node
 *                   enrolled again signing-only) meets a closed gate.
 *                   PROGRAM and NODE are absolute; either is single-quoted
 *                   for the login shell when it holds anything but
 *                   letters, digits and "/._+-,:@". The comment
 *                   "tiersync:ID" and the forced command name the node; a
 *                   line is ours for ID only when it has exactly this
 *                   shape, so lines written by hand are never touched.
 *
 * The gate needs both (the line lets the key in, the row keeps the gate
 * open), so either order of writing fails safe. Enrolling writes the row
 * first and the line last; revoking removes the line first.
 *
 * A signing-only enrollment, for a lower node that reaches this node only
 * through a path remote or bundles, writes and revokes the row alone and
 * never opens authorized_keys: without the line its key cannot log in, and
 * with the row revoked a line left over meets a closed gate.
 *
 * authorized_keys is rewritten whole: the new text goes to a temporary file
 * beside it, with the old file's mode, and is renamed over it, while an
 * advisory lock on its directory keeps two enrollments from interleaving.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "error.h"
#include "gate.h"
#include "node.h"
#include "tiers.h"

#define KEY_TYPE "ssh-ed25519"

/* ------------------------------------------------------------- the key */

int ts_enroll_key_parse(char **out, const char *line)
{
	const char *p;
	char *one = NULL;
	size_t len;
	int error;

	*out = NULL;
	if (!line)
		return ts_error_set(TS_EINVALID, "no public key given");
	len = strlen(line);
	if (len && line[len - 1] == '\n')
		len--;
	for (p = line; p < line + len; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return ts_error_set(TS_EINVALID, "a public key is one line of printable text "
				"(\"ssh-ed25519 AAAA... comment\", as ssh-keygen writes it in KEY.pub)");
	if (strncmp(line, KEY_TYPE " ", sizeof(KEY_TYPE)))
		return ts_error_set(TS_EINVALID, "the key must be an Ed25519 key (a line starting \"ssh-ed25519 \"; "
			"make one with ssh-keygen -t ed25519): the node's key is also its signing key");
	if (!(one = strndup(line, len)))
		return ts_error_set(TS_ERROR, "out of memory");
	if ((error = ts_sshsig__public_parse(out, one)) == TS_EINVALID)
		error = ts_error_set(TS_EINVALID, "the Ed25519 public key is damaged: its base64 text does not "
			"hold an ssh-ed25519 key");
	free(one);
	return error;
}

/* ------------------------------------------------------ authorized_keys */

/* 1 when the login shell takes `s` as one word without quotes. */
static int shell_plain(const char *s)
{
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
		      strchr("/._+-,:@", *s)))
			return 0;
	return 1;
}

void ts_gate__shell_word(ts_buf *b, const char *s)
{
	if (*s && shell_plain(s)) {
		ts_buf__puts(b, s);
		return;
	}
	ts_buf__putc(b, '\'');
	for (; *s; s++) {
		if (*s == '\'')
			ts_buf__puts(b, "'\\''");
		else
			ts_buf__putc(b, *s);
	}
	ts_buf__putc(b, '\'');
}

/* A path that can stand in the forced command: absolute, and nothing that
 * authorized_keys' quoting or a line would trip on. */
static int command_path_ok(const char *what, const char *path)
{
	const char *p;

	if (!path || path[0] != '/')
		return ts_error_set(TS_EINVALID, "the gate's %s must be an absolute path", what);
	for (p = path; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f || *p == '"' || *p == '\\')
			return ts_error_set(TS_EINVALID, "the gate's %s (%s) holds a quote, a backslash or a "
				"control character, which authorized_keys cannot carry", what, path);
	return 0;
}

/* The line of authorized_keys for node `id`, with its newline. */
static int key_line(ts_buf *out, const char *program, const char *node_dir, const char *id,
	const char *public_key)
{
	char fingerprint[TS_SSHSIG_FINGERPRINT_SIZE];
	int error;

	if ((error = command_path_ok("program", program)) < 0 ||
	    (error = command_path_ok("node directory", node_dir)) < 0)
		return error;
	ts_buf__puts(out, "command=\"");
	ts_gate__shell_word(out, program);
	ts_buf__puts(out, " -C ");
	ts_gate__shell_word(out, node_dir);
	if ((error = ts_sshsig__public_fingerprint(fingerprint, public_key)) < 0)
		return error;
	ts_buf__printf(out, " gate --node %s --key %s\",restrict %s tiersync:%s\n", id, fingerprint, public_key, id);
	return ts_buf__oom(out) ? ts_error_set(TS_ERROR, "out of memory") : 0;
}

/* 1 when `s` is the fingerprint part of a key: 43 characters of base64. */
static int fingerprint_text(const char *s)
{
	int i;
	for (i = 0; i < TS_SSHSIG_FINGERPRINT_SIZE - 8; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '+' || s[i] == '/'))
			return 0;
	return 1;
}

/* 1 when the line (without its newline) has the shape key_line() writes
 * for node `id`:
 * command="... gate --node ID --key SHA256:FP",restrict ssh-ed25519 KEY tiersync:ID */
static int line_is_ours(const char *line, size_t len, const char *id)
{
	char before[300], tail[300];
	static const char after[] = "\",restrict " KEY_TYPE " ";
	const size_t fn = TS_SSHSIG_FINGERPRINT_SIZE - 8;   /* the base64 after "SHA256:" */
	size_t bn, tn, an = sizeof(after) - 1, qi, i;
	const char *q;

	bn = (size_t)snprintf(before, sizeof(before), " gate --node %s --key SHA256:", id);
	tn = (size_t)snprintf(tail, sizeof(tail), " tiersync:%s", id);
	if (bn >= sizeof(before) || tn >= sizeof(tail))
		return 0;
	if (len < 9 || memcmp(line, "command=\"", 9))
		return 0;
	/* the forced command ends at its first quote: ours holds none inside */
	if (!(q = memchr(line + 9, '"', len - 9)))
		return 0;
	qi = (size_t)(q - line);
	if (qi < 9 + bn + fn || memcmp(line + qi - fn - bn, before, bn) || !fingerprint_text(line + qi - fn) ||
	    qi + an + tn > len || memcmp(line + qi, after, an) || memcmp(line + len - tn, tail, tn))
		return 0;
	for (i = qi + an; i < len - tn; i++)
		if (line[i] == ' ')
			return 0;
	return 1;
}

/* The authorized_keys file to use: opts', else ~/.ssh/authorized_keys. */
static int keys_file(ts_buf *out, const ts_enroll_options *opts)
{
	const char *home;

	if (opts && opts->authorized_keys && *opts->authorized_keys) {
		ts_buf__puts(out, opts->authorized_keys);
	} else {
		if (!(home = getenv("HOME")) || !*home)
			return ts_error_set(TS_EINVALID, "no HOME to find ~/.ssh/authorized_keys in; name the file");
		ts_buf__printf(out, "%s/.ssh/authorized_keys", home);
	}
	return ts_buf__oom(out) ? ts_error_set(TS_ERROR, "out of memory") : 0;
}

/*
 * Rewrites authorized_keys at `path` without node `id`'s lines and, when
 * `line` is not NULL, with `line` appended. *removed counts the lines that
 * went. A missing file is created (0600; its directory 0700 if missing).
 * With nothing to append and no line of `id` in it, the file is left as it
 * is, byte for byte.
 */
static int keys_rewrite(size_t *removed, const char *path, const char *id, const char *line)
{
	ts_buf text = TS_BUF_INIT, kept = TS_BUF_INIT, tmp = TS_BUF_INIT, dir = TS_BUF_INIT;
	char resolved[PATH_MAX], buf[8192];
	const char *target = path, *p, *end, *slash;
	mode_t mode = 0600;
	struct stat st;
	int dir_fd = -1, fd = -1, error = 0, exists;
	FILE *in = NULL;
	size_t n;

	*removed = 0;
	/* nothing to remove from a file that is not there */
	if (!line && lstat(path, &st) < 0 && errno == ENOENT)
		return 0;
	/* a symlinked file is rewritten where it really is */
	if ((exists = lstat(path, &st) == 0) && S_ISLNK(st.st_mode)) {
		if (!realpath(path, resolved)) {
			error = ts_error_set(TS_ERROR, "cannot follow %s: %s", path, strerror(errno));
			goto done;
		}
		target = resolved;
	}
	if (exists && stat(target, &st) == 0) {
		if (!S_ISREG(st.st_mode)) {
			error = ts_error_set(TS_EINVALID, "%s is not a regular file", path);
			goto done;
		}
		mode = st.st_mode & 07777;
	}
	slash = strrchr(target, '/');
	if (slash)
		ts_buf__put(&dir, target, slash == target ? 1 : (size_t)(slash - target));
	else
		ts_buf__puts(&dir, ".");
	if (ts_buf__oom(&dir)) {
		error = ts_error_set(TS_ERROR, "out of memory");
		goto done;
	}
	if (mkdir(dir.ptr, 0700) < 0 && errno != EEXIST) {
		error = ts_error_set(TS_ERROR, "cannot create %s: %s", dir.ptr, strerror(errno));
		goto done;
	}
	if ((dir_fd = open(dir.ptr, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 || flock(dir_fd, LOCK_EX) < 0) {
		error = ts_error_set(TS_ERROR, "cannot lock %s: %s", dir.ptr, strerror(errno));
		goto done;
	}

	if ((in = fopen(target, "r"))) {
		while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
			ts_buf__put(&text, buf, n);
		if (ferror(in)) {
			error = ts_error_set(TS_ERROR, "cannot read %s: %s", path, strerror(errno));
			goto done;
		}
	} else if (errno != ENOENT) {
		error = ts_error_set(TS_ERROR, "cannot read %s: %s", path, strerror(errno));
		goto done;
	}
	if (ts_buf__oom(&text)) {
		error = ts_error_set(TS_ERROR, "out of memory");
		goto done;
	}

	for (p = text.ptr ? text.ptr : ""; *p; p = end) {
		const char *nl = strchr(p, '\n');
		end = nl ? nl + 1 : p + strlen(p);
		if (line_is_ours(p, (size_t)((nl ? nl : end) - p), id)) {
			(*removed)++;
			continue;
		}
		ts_buf__put(&kept, p, (size_t)(end - p));
		if (!nl)
			ts_buf__putc(&kept, '\n');
	}
	/* nothing of `id` to remove and nothing to add: the file stays as it is */
	if (!line && !*removed)
		goto done;
	if (line)
		ts_buf__puts(&kept, line);
	ts_buf__printf(&tmp, "%s.tiersync-XXXXXX", target);
	if (ts_buf__oom(&kept) || ts_buf__oom(&tmp)) {
		error = ts_error_set(TS_ERROR, "out of memory");
		goto done;
	}
	if ((fd = mkstemp(tmp.ptr)) < 0) {
		ts_buf__clear(&tmp);
		error = ts_error_set(TS_ERROR, "cannot write beside %s: %s", path, strerror(errno));
		goto done;
	}
	if ((kept.size && write(fd, kept.ptr, kept.size) != (ssize_t)kept.size) ||
	    fchmod(fd, mode) < 0 || fsync(fd) < 0) {
		error = ts_error_set(TS_ERROR, "cannot write %s: %s", tmp.ptr, strerror(errno));
		goto done;
	}
	if (close(fd) < 0) {
		fd = -1;
		error = ts_error_set(TS_ERROR, "cannot write %s: %s", tmp.ptr, strerror(errno));
		goto done;
	}
	fd = -1;
	if (rename(tmp.ptr, target) < 0) {
		error = ts_error_set(TS_ERROR, "cannot replace %s: %s", path, strerror(errno));
		goto done;
	}
	ts_buf__clear(&tmp);
	fsync(dir_fd);

done:
	if (fd >= 0)
		close(fd);
	if (tmp.size)
		unlink(tmp.ptr);
	if (in)
		fclose(in);
	if (dir_fd >= 0)
		close(dir_fd);   /* and the lock with it */
	ts_buf__dispose(&text);
	ts_buf__dispose(&kept);
	ts_buf__dispose(&tmp);
	ts_buf__dispose(&dir);
	return error;
}

/* -------------------------------------------------------- sync_signers */

/* *out 1 for a signing-only enrollment (the row alone), else 0;
 * TS_EINVALID when it also names an authorized_keys file it would never touch,
 * or the options are of another version. */
static int signing_only(int *out, const ts_enroll_options *opts)
{
	int error;

	*out = opts && opts->signing_only;
	if (opts && (error = ts_error__version(opts->version, TS_ENROLL_OPTIONS_VERSION, "enroll options")) < 0)
		return error;
	if (*out && opts->authorized_keys)
		return ts_error_set(TS_EINVALID, "a signing-only enrollment touches no authorized_keys "
			"file, yet %s was named", opts->authorized_keys);
	return 0;
}

/* The node may enroll `id`: a well-formed id strictly below its own. */
static int below_this_node(ts_node *node, const char *id)
{
	if (!id || !ts_node_id_valid(id))
		return ts_error_set(TS_EINVALID, "'%s' is not a node id (dot-separated lowercase labels, "
			"e.g. %s.x)", id ? id : "", node->id);
	if (!strcmp(id, node->id) || !ts_jurisdiction_covers(node->id, id))
		return ts_error_set(TS_EDENIED, "%s may enroll only the nodes below it (%s.*), not %s",
			node->id, node->id, id);
	return 0;
}

typedef struct {
	const char *id;
	const char *public_key;
	const char *by;
	char at[32];
	int changed;
} signer_op;

static int do_enroll(sqlite3 *db, void *payload)
{
	signer_op *op = payload;
	sqlite3_stmt *st = NULL;
	int rc;

	if (sqlite3_prepare_v2(db,
		"INSERT INTO sync_signers (node_id, public_key, enrolled_by, enrolled_at, revoked_at) "
		"VALUES (?1, ?2, ?3, ?4, NULL) ON CONFLICT (node_id) DO UPDATE SET "
		/* enrolled anew: the key it replaces counts for what it signed until now */
		"retired_keys = CASE WHEN public_key = excluded.public_key THEN retired_keys "
		"ELSE json_insert(coalesce(retired_keys, '[]'), '$[#]', json_object('key', public_key, "
		"'until', coalesce(min(revoked_at, excluded.enrolled_at), excluded.enrolled_at))) END, "
		"public_key = excluded.public_key, enrolled_by = excluded.enrolled_by, "
		"enrolled_at = excluded.enrolled_at, revoked_at = NULL", -1, &st, NULL) != SQLITE_OK)
		return ts_sqlite__error(db, "enrolling %s", op->id);
	sqlite3_bind_text(st, 1, op->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, op->public_key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, op->by, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, op->at, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return ts_sqlite__error(db, "enrolling %s", op->id);
	return 0;
}

static int do_revoke(sqlite3 *db, void *payload)
{
	signer_op *op = payload;
	sqlite3_stmt *st = NULL;
	int rc;

	if (sqlite3_prepare_v2(db, "UPDATE sync_signers SET revoked_at = ?2 WHERE node_id = ?1 AND revoked_at IS NULL",
		-1, &st, NULL) != SQLITE_OK)
		return ts_sqlite__error(db, "revoking %s", op->id);
	sqlite3_bind_text(st, 1, op->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, op->at, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	op->changed = sqlite3_changes(db);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return ts_sqlite__error(db, "revoking %s", op->id);
	return 0;
}

/* The key row of `id`: *found 0 when none; *revoked 1 when revoked. */
/* Whether node `id` has a row in sync_signers, whether it is revoked, and
 * (with key not NULL) a copy of its key. */
static int signer_state(int *found, int *revoked, char **key, ts_node *node, const char *id)
{
	sqlite3_stmt *st = NULL;
	int rc, error = 0;

	*found = *revoked = 0;
	if (sqlite3_prepare_v2(node->db, "SELECT revoked_at IS NOT NULL, public_key FROM sync_signers WHERE node_id = ?1",
		-1, &st, NULL) != SQLITE_OK)
		return ts_sqlite__error(node->db, "reading sync_signers");
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		*found = 1;
		*revoked = sqlite3_column_int(st, 0);
		if (key && sqlite3_column_text(st, 1) && !(*key = strdup((const char *)sqlite3_column_text(st, 1))))
			error = ts_error_set(TS_ERROR, "out of memory");
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		error = ts_sqlite__error(node->db, "reading sync_signers");
	sqlite3_finalize(st);
	return error;
}

int ts_node_enroll(char id_out[41], ts_node *node, const char *node_id, const char *public_key,
	const ts_enroll_options *opts)
{
	ts_buf file = TS_BUF_INIT, line = TS_BUF_INIT, summary = TS_BUF_INIT;
	char node_dir[PATH_MAX];
	char *key = NULL;
	signer_op op;
	size_t removed;
	int error, row_only;

	id_out[0] = '\0';
	if ((error = signing_only(&row_only, opts)) < 0 ||
	    (error = below_this_node(node, node_id)) < 0 ||
	    (error = ts_enroll_key_parse(&key, public_key)) < 0)
		goto done;
	/* everything that can be refused is checked before anything is written */
	if (!row_only) {
		if (!realpath(node->path, node_dir)) {
			error = ts_error_set(TS_ERROR, "cannot resolve %s: %s", node->path, strerror(errno));
			goto done;
		}
		if ((error = keys_file(&file, opts)) < 0 ||
		    (error = key_line(&line, opts ? opts->program : NULL, node_dir, node_id, key)) < 0)
			goto done;
	}

	memset(&op, 0, sizeof(op));
	op.id = node_id;
	op.public_key = key;
	op.by = node->id;
	ts_time_now(op.at);
	ts_buf__printf(&summary, "enroll %s", node_id);
	if (ts_buf__oom(&summary)) {
		error = ts_error_set(TS_ERROR, "out of memory");
		goto done;
	}
	if ((error = ts_node_write(node, opts ? opts->author : NULL, summary.ptr, do_enroll, &op)) < 0)
		goto done;
	/* the same key enrolled again within the second changes no row */
	error = ts_node_commit(id_out, node, summary.ptr, opts ? opts->author : NULL);
	if (error == TS_ENOTFOUND)
		error = ts_node_head(id_out, node);
	if (error < 0)
		goto done;
	if (!row_only)
		error = keys_rewrite(&removed, file.ptr, node_id, line.ptr);

done:
	free(key);
	ts_buf__dispose(&file);
	ts_buf__dispose(&line);
	ts_buf__dispose(&summary);
	return error;
}

int ts_node_revoke(char id_out[41], ts_node *node, const char *node_id, const ts_enroll_options *opts)
{
	ts_buf file = TS_BUF_INIT, summary = TS_BUF_INIT;
	signer_op op;
	size_t removed;
	int error, found, revoked, row_only;

	id_out[0] = '\0';
	if ((error = signing_only(&row_only, opts)) < 0 ||
	    (error = below_this_node(node, node_id)) < 0 ||
	    (error = signer_state(&found, &revoked, NULL, node, node_id)) < 0 ||
	    (!row_only && (error = keys_file(&file, opts)) < 0))
		goto done;
	if (!found) {
		error = ts_error_set(TS_ENOTFOUND, "%s was never enrolled here", node_id);
		goto done;
	}
	/* the key stops working first; the record follows (a file without its line stays as it is) */
	if (!row_only && (error = keys_rewrite(&removed, file.ptr, node_id, NULL)) < 0)
		goto done;
	if (revoked) {
		error = ts_node_head(id_out, node);
		goto done;
	}
	memset(&op, 0, sizeof(op));
	op.id = node_id;
	ts_time_now(op.at);
	ts_buf__printf(&summary, "revoke %s", node_id);
	if (ts_buf__oom(&summary)) {
		error = ts_error_set(TS_ERROR, "out of memory");
		goto done;
	}
	if ((error = ts_node_write(node, opts ? opts->author : NULL, summary.ptr, do_revoke, &op)) < 0 ||
	    (error = ts_node_commit(id_out, node, summary.ptr, opts ? opts->author : NULL)) < 0)
		goto done;

done:
	ts_buf__dispose(&file);
	ts_buf__dispose(&summary);
	return error;
}

int ts_node_enrolled(ts_node *node, int (*cb)(const ts_enrolled_info *info, void *payload), void *payload)
{
	sqlite3_stmt *st = NULL;
	ts_enrolled_info info;
	int rc, error = 0;

	if (sqlite3_prepare_v2(node->db, "SELECT node_id, public_key, enrolled_by, enrolled_at, revoked_at, "
		"json(retired_keys), coalesce(json_array_length(retired_keys), 0) FROM sync_signers ORDER BY node_id",
		-1, &st, NULL) != SQLITE_OK)
		return ts_sqlite__error(node->db, "reading sync_signers");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		info.node_id = (const char *)sqlite3_column_text(st, 0);
		info.public_key = (const char *)sqlite3_column_text(st, 1);
		info.enrolled_by = (const char *)sqlite3_column_text(st, 2);
		info.enrolled_at = (const char *)sqlite3_column_text(st, 3);
		info.revoked_at = (const char *)sqlite3_column_text(st, 4);
		info.retired_keys = (const char *)sqlite3_column_text(st, 5);
		info.retired = sqlite3_column_int(st, 6);
		if ((error = cb(&info, payload)) != 0)
			goto done;
	}
	if (rc != SQLITE_DONE)
		error = ts_sqlite__error(node->db, "reading sync_signers");
done:
	sqlite3_finalize(st);
	return error;
}

int ts_node_signer_check(ts_node *node, const char *node_id, const char *fingerprint)
{
	char *key = NULL, enrolled[TS_SSHSIG_FINGERPRINT_SIZE];
	int error, found, revoked;

	if ((error = below_this_node(node, node_id)) < 0)
		return error == TS_EINVALID ? ts_error_set(TS_EDENIED, "%s", ts_error_last()) : error;
	if ((error = signer_state(&found, &revoked, fingerprint ? &key : NULL, node, node_id)) < 0)
		return error;
	if (!found)
		error = ts_error_set(TS_EDENIED, "%s is not enrolled at %s", node_id, node->id);
	else if (revoked)
		error = ts_error_set(TS_EDENIED, "the key of %s was revoked at %s", node_id, node->id);
	else if (fingerprint && (!key || ts_sshsig__public_fingerprint(enrolled, key) < 0 || strcmp(enrolled, fingerprint)))
		error = ts_error_set(TS_EDENIED, "the key %s is not the one enrolled for %s at %s: enroll it again",
			fingerprint, node_id, node->id);
	free(key);
	return error;
}
