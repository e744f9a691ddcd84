/*
 * What node/enroll.c, node/gate.c and node/gate_exchange.c share.
 */
#ifndef TS_NODE_GATE_H
#define TS_NODE_GATE_H

#include "buf.h"
#include "node.h"

/* Appends `s` as one word for the login shell: as it is when it holds only
 * letters, digits and "/._+-,:@", else single-quoted (' written '\''). */
void ts_gate__shell_word(ts_buf *b, const char *s);

/* What every service of the gate checks (node/gate.c): the command parses,
 * the key is node_id's in force, and the path names this node's history
 * (or directory); the resolved directories go to node_dir and history
 * (PATH_MAX bytes each). */
int ts_gate__request_check(ts_gate_request *req, char *node_dir, char *history, ts_node *node,
	const char *node_id, const char *fingerprint, const char *command);

/* 0 when `node_id` may move `ref` through the gate (its own submission or
 * urgent ref, never deleting it); TS_EDENIED naming the rule otherwise. */
int ts_gate__ref_allowed(const char *node_id, const char *ref, int deleting);

#endif
