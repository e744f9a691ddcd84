/*
 * The gate's own services: the changes exchange (sync/exchange.h) for a
 * lower node that came in over SSH with its enrolled key, served in the
 * gate's process (no git runs):
 *
 *   tiersync-upload-changes 'PATH'    a fetch: shown main and the node's own
 *                                     submission and urgent refs
 *   tiersync-receive-changes 'PATH'   a push of refs/submissions/ID or
 *                                     refs/urgent/ID
 *
 * A push lands in history.git/tiersync-kept-push-ID, a quarantine that
 * reads the node's objects: every commit is rebuilt from its changes and
 * checked against its id there, then admitted (ts_node__admit(),
 * ts_node__admit_urgent(): signatures, ownership, rows) before its
 * objects move in and the ref moves. A push cut short keeps the commits
 * that came whole there, shown to the next push of ID as its partial tip so
 * that only the rest travels; a refused push leaves nothing.
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "exchange.h"
#include "gate.h"
#include "node.h"

int ts_gate_is_exchange(const char *command)
{
	ts_gate_request req;
	return ts_gate_parse(&req, command) == 0 &&
		(req.service == TS_GATE_UPLOAD_CHANGES || req.service == TS_GATE_RECEIVE_CHANGES);
}

/* Adds `ref` to the refs shown, when the node has it. */
static void show(ts_exchange__ref *refs, size_t *n, ts_node *node, const char *ref)
{
	if (ts_store__ref_get(&refs[*n].id, node->store, ref) < 0)
		return;
	snprintf(refs[*n].name, sizeof(refs[*n].name), "%s", ref);
	(*n)++;
}

typedef struct {
	ts_node *node;
	const char *node_id;
	ts_quarantine *q;
} receiving;

static int check_ref(const char *ref, void *payload)
{
	receiving *r = payload;
	return ts_gate__ref_allowed(r->node_id, ref, 0);
}

static int accept_updates(const ts_exchange__ref *updates, size_t n, void *payload)
{
	receiving *r = payload;
	const char *refs[TS_EXCHANGE_MAX_REFS];
	git_oid tips[TS_EXCHANGE_MAX_REFS];
	char own[300];
	size_t i;
	int error;

	snprintf(own, sizeof(own), "refs/submissions/%s", r->node_id);
	/* every update admitted before anything moves in */
	for (i = 0; i < n; i++) {
		error = strcmp(updates[i].name, own) ?
			ts_node__admit_urgent(r->node, r->q->repo, r->node_id, &updates[i].id) :
			ts_node__admit(r->node, r->q->repo, r->node_id, &updates[i].id);
		if (error < 0) {
			char why[900];
			snprintf(why, sizeof(why), "%s", ts_error_last() ? ts_error_last() : "not admitted");
			return ts_error_set(error, "refused %s: %s", updates[i].name, why);
		}
		refs[i] = updates[i].name;
		git_oid_cpy(&tips[i], &updates[i].id);
	}
	return ts_node__take_in(r->node, r->q, refs, tips, n, 1, "push");
}

static int serve_push(ts_node *node, const char *node_id, const ts_exchange__ref *shown, size_t nshown,
	const ts_exchange__io *io)
{
	ts_exchange__ref refs[TS_EXCHANGE_MAX_REFS];
	ts_quarantine q = TS_QUARANTINE_INIT;
	receiving r = { node, node_id, &q };
	ts_exchange__push_rules rules = { check_ref, accept_updates, &r };
	ts_changes__stats st;
	ts_store *into = NULL;
	char name[128];
	size_t n = nshown;
	int error;

	memset(&st, 0, sizeof(st));
	memcpy(refs, shown, nshown * sizeof(*refs));
	snprintf(name, sizeof(name), "push-%s", node_id);
	if ((error = ts_quarantine__open_kept(&q, ts_store__repo(node->store), name)) < 0)
		return ts_exchange__refuse(io, error);
	if (ts_quarantine__kept_tip(&refs[n].id, &q) == 0) {
		snprintf(refs[n].name, sizeof(refs[n].name), "%s", TS_EXCHANGE_PARTIAL);
		n++;
	}
	if ((error = ts_store__open(&into, q.dir, 0)) == 0)
		error = ts_exchange__serve_push(&st, into, refs, n, &rules, io);
	ts_store__free(into);
	if (error < 0)
		error = ts_quarantine__end_cut(&q, error, &st.last, st.commits, "the next push goes on from there");
	ts_quarantine__close(&q);    /* a no-op on one kept */
	return error;
}

/* sshd's two pipes */
typedef struct {
	int in, out;
} pipes;

static int read_in(void *data, size_t size, size_t *got, void *payload)
{
	return ts_exchange__fd_read(data, size, got, &((pipes *)payload)->in);
}

static int write_out(const void *data, size_t len, void *payload)
{
	return ts_exchange__fd_write(data, len, &((pipes *)payload)->out);
}

int ts_gate_serve(ts_node *node, const char *node_id, const char *fingerprint, const char *command,
	int in_fd, int out_fd)
{
	pipes fds = { in_fd, out_fd };
	ts_exchange__io io = { read_in, write_out, &fds, "tiersync gate", TS_CHANGES_LEVEL };
	ts_exchange__ref refs[TS_EXCHANGE_MAX_REFS];
	ts_gate_request req;
	ts_changes__stats st;
	char node_dir[PATH_MAX], history[PATH_MAX], ref[300];
	size_t n = 0;
	int error;

	if ((error = ts_store__publish(node->store)) < 0)
		return error;
	if ((error = ts_gate__request_check(&req, node_dir, history, node, node_id, fingerprint, command)) < 0)
		return error;
	if (req.service != TS_GATE_UPLOAD_CHANGES && req.service != TS_GATE_RECEIVE_CHANGES)
		return ts_error_set(TS_EINVALID, "git's services are run by git, not served here");
	show(refs, &n, node, TS_STORE_MAIN);
	snprintf(ref, sizeof(ref), "refs/submissions/%s", node_id);
	show(refs, &n, node, ref);
	snprintf(ref, sizeof(ref), "refs/urgent/%s", node_id);
	show(refs, &n, node, ref);
	if (req.service == TS_GATE_UPLOAD_CHANGES)
		return ts_exchange__serve_fetch(&st, ts_store__repo(node->store), refs, n, &io);
	return serve_push(node, node_id, refs, n, &io);
}
