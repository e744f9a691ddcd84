/*
 * tiersync/gate.h — enrolling lower nodes' keys, and the gate on an upper host.
 * Part of the public API; include "tiersync.h" for all of it.
 */
#ifndef TIERSYNC_GATE_H
#define TIERSYNC_GATE_H

#include <stdio.h>
#include "tiersync/node.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * The gate (node/enroll.c, node/gate.c). An upper node on a stock OpenSSH
 * host lets each lower node in with that node's own Ed25519 key, enrolled
 * in two places: authorized_keys, with the forced command
 * `tiersync -C NODE gate --node ID --key FINGERPRINT`, and the synced table sync_signers (the
 * key is also the node's signing key). The gate lets that key run only
 * git-upload-pack and git-receive-pack on this node's history, and a push
 * may move only refs/submissions/ID, after ts_node_admit() took the offer,
 * and refs/urgent/ID (its urgent reports, include/tiersync/urgent.h),
 * after ts_node_admit_urgent() did.
 * README.md, "Setting up an upper host", says how to run it. A lower node
 * that reaches this node only through a path remote or bundles, never over
 * SSH, is enrolled signing-only: in sync_signers alone.
 */

/* How an enrollment reaches authorized_keys. */
#define TS_ENROLL_OPTIONS_VERSION 1

typedef struct {
	unsigned int version;  /* TS_ENROLL_OPTIONS_VERSION */
	const char *authorized_keys;  /* the file; NULL: $HOME/.ssh/authorized_keys */
	const char *program;          /* the absolute path of the tiersync binary the
	                                 forced command runs (enroll only) */
	const char *author;           /* who enrolls or revokes (NULL: the node's identity) */
	/*
	 * 1: signing-only. Only the sync_signers row (and its commit) is written;
	 * no authorized_keys file is read, created, locked or changed, so
	 * `authorized_keys` must be NULL and `program` is not used. A line an
	 * earlier enrollment wrote for the node stays as it is (the gate still
	 * takes its key while the row is in force): revoke without this flag to
	 * remove it.
	 */
	int signing_only;
} ts_enroll_options;

/* The default authorized_keys, the node's identity, with an SSH line. */
#define TS_ENROLL_OPTIONS_INIT { TS_ENROLL_OPTIONS_VERSION, NULL, NULL, NULL, 0 }

/*
 * Reads one OpenSSH public key line "ssh-ed25519 BASE64 [comment]" (a final
 * newline allowed, nothing else around it) and writes its canonical form
 * "ssh-ed25519 BASE64", without the comment, to *out (free() it). The key
 * must decode to a 51-byte ssh-ed25519 blob. TS_EINVALID otherwise.
 */
int ts_enroll_key_parse(char **out, const char *line);

/*
 * Enrolls the lower node `node_id` (strictly below this node, else
 * TS_EDENIED) with the key `public_key` (as ts_enroll_key_parse() reads
 * it): a row of sync_signers (enrolled by this node, now, in force), written
 * and committed under opts->author, then a line of authorized_keys with the
 * forced command, replacing the node's earlier line. Other lines are left as
 * they are; the file is replaced whole (temporary file and rename, its mode
 * kept), created 0600 in a 0700 directory when missing. Enrolling again
 * replaces the key and lifts a revocation. The commit (as ts_node_commit(),
 * so it carries any other staged write too) goes to `id_out`. With
 * opts->signing_only only the row is written (TS_EINVALID if
 * opts->authorized_keys is set too).
 */
int ts_node_enroll(char id_out[41], ts_node *node, const char *node_id, const char *public_key,
	const ts_enroll_options *opts);

/*
 * Revokes the enrollment of `node_id`: its lines leave authorized_keys
 * first, then its sync_signers row gets revoked_at (committed under
 * opts->author; opts->program is not used). A file without a line of the
 * node, or no file, is left as it is and the row is still revoked. With
 * opts->signing_only authorized_keys is not touched at all (TS_EINVALID if
 * opts->authorized_keys is set too): the row alone closes the gate.
 * TS_ENOTFOUND if it was never enrolled; revoking again changes nothing and
 * returns 0 with `id_out` the current HEAD.
 */
int ts_node_revoke(char id_out[41], ts_node *node, const char *node_id, const ts_enroll_options *opts);

/* One row of sync_signers; the strings live until the callback returns. */
typedef struct {
	const char *node_id;
	const char *public_key;    /* "ssh-ed25519 BASE64" */
	const char *enrolled_by;
	const char *enrolled_at;
	const char *revoked_at;    /* NULL while the key is in force */
	const char *retired_keys;  /* the keys it held before it was enrolled anew, a JSON array of
	                            * {"key": ..., "until": TIME}, oldest first; NULL if none */
	int retired;               /* how many */
} ts_enrolled_info;

/* Calls `cb` for each enrolled node (revoked ones too), in id order; a
 * non-zero return stops and is returned. */
int ts_node_enrolled(ts_node *node, int (*cb)(const ts_enrolled_info *info, void *payload), void *payload);

/* 0 when `node_id` lies strictly below this node and has a key in force in
 * sync_signers, and, with `fingerprint` not NULL, that key's fingerprint is
 * `fingerprint` ("SHA256:...", as ssh-keygen -l prints it); TS_EDENIED,
 * naming the reason, when not. */
int ts_node_signer_check(ts_node *node, const char *node_id, const char *fingerprint);

typedef enum {
	TS_GATE_UPLOAD_PACK = 1,   /* a fetch, git's protocol */
	TS_GATE_RECEIVE_PACK,      /* a push, git's protocol */
	TS_GATE_UPLOAD_CHANGES,    /* a fetch, the changes exchange (docs/FORMAT.md) */
	TS_GATE_RECEIVE_CHANGES    /* a push, the changes exchange */
} ts_gate_service;

/* What a lower node asked the gate for. */
typedef struct {
	ts_gate_service service;
	char path[4096];           /* the repository path, unquoted */
} ts_gate_request;

/*
 * Parses the command an SSH client asked for (SSH_ORIGINAL_COMMAND): only
 * "git-upload-pack 'PATH'", "git-receive-pack 'PATH'" and the same with
 * "git upload-pack" / "git receive-pack", or tiersync's own
 * "tiersync-upload-changes 'PATH'" and "tiersync-receive-changes 'PATH'",
 * one space, PATH quoted as git quotes it (a ' or ! inside written '\'' or '\!'), nothing before or
 * after. PATH must be non-empty and hold no control character. Pure: reads
 * nothing but its arguments. TS_EDENIED, naming what is wrong, otherwise.
 */
int ts_gate_parse(ts_gate_request *out, const char *command);

/* The stock git process the gate hands a connection to: pass to execve(). */
typedef struct {
	char **argv;               /* git, its service, the repository; NULL-terminated */
	char **envp;               /* NULL-terminated */
} ts_gate_exec;

/*
 * Decides on `command` (SSH_ORIGINAL_COMMAND) from the lower node
 * `node_id`, who came in with the key whose fingerprint is `fingerprint`
 * (the forced command's --key): it must parse (ts_gate_parse), name this
 * node's history.git or directory, and that key must be the node's key in
 * force (ts_node_signer_check).
 * Then fills *out with git's service on history.git. The environment is
 * this process's without GIT_* variables, plus, for a push, a config that
 * runs the pre-receive hook NODE/gate-hooks/ID/pre-receive (written here:
 * it runs `program -C NODE gate --pre-receive --node ID`) and refuses
 * deletes; refs other than main and the node's own submission and urgent
 * ref are hidden.
 * TS_EDENIED (with one line) when refused. Free *out with
 * ts_gate_exec_free().
 */
int ts_gate_prepare(ts_gate_exec **out, ts_node *node, const char *node_id, const char *fingerprint,
	const char *command, const char *program);

/* NULL-safe. */
void ts_gate_exec_free(ts_gate_exec *exec);

/* 1 when `command` asks for one of tiersync's own services, which
 * ts_gate_serve() runs in this process; 0 for git's (ts_gate_prepare()). */
int ts_gate_is_exchange(const char *command);

/*
 * Runs tiersync's own service that `command` asks for, checked as
 * ts_gate_prepare() checks it, reading from `in_fd` and writing to
 * `out_fd` (sshd's pipes): the changes exchange of docs/FORMAT.md. A fetch
 * is shown main, refs/submissions/ID and refs/urgent/ID. A push may move
 * only refs/submissions/ID (after ts_node_admit()'s checks) and
 * refs/urgent/ID (after ts_node_admit_urgent()'s); every commit arrives as
 * its changes and is rebuilt and checked against its id before admission.
 * A push cut short keeps the commits that came whole
 * (history.git/tiersync-kept-push-ID), and the next push of ID sends only
 * what follows them; a refused one leaves nothing. The refusal also goes
 * to the client, as one line.
 */
int ts_gate_serve(ts_node *node, const char *node_id, const char *fingerprint, const char *command,
	int in_fd, int out_fd);

/*
 * The pre-receive check of a push by `node_id`: reads git's update lines
 * "OLD NEW REF" from `updates`; every one must create or update exactly
 * refs/submissions/ID or refs/urgent/ID (no delete, no other ref, not
 * another node's), else the whole push is refused (TS_EDENIED, one line
 * naming the ref and the rule). Then each new commit goes through
 * ts_node_admit() (a submission) or ts_node_admit_urgent() (an urgent
 * commit) with `quarantine` (git's GIT_QUARANTINE_PATH, or NULL).
 */
int ts_gate_pre_receive(ts_node *node, const char *node_id, FILE *updates, const char *quarantine);

#ifdef __cplusplus
}
#endif

#endif
