/*
 * What tests that move history between nodes share.
 */
#ifndef TS_TESTS_NODES_H
#define TS_TESTS_NODES_H

#include "node.h"

/* Copies `from`'s main into `to` as `ref`, as a push or a fetch would. */
int ts_test_transfer(ts_node *from, ts_node *to, const char *ref);

/*
 * Enrolls `lower` at `upper`, as `tiersync -C UPPER enroll --node ID --key
 * LOWER.pub` would: the public half of the key `lower` signs with becomes
 * its row of sync_signers at `upper` (one commit there, carrying whatever
 * `upper` had staged), under `upper`'s identity. The authorized_keys line
 * goes to the test's own directory (TEST_DIR/authorized_keys), never to
 * ~/.ssh: ts_node_enroll() always writes one.
 */
int ts_test_enroll(ts_node *upper, ts_node *lower);

/*
 * Gives `node` the upper nodes a deployment has above it: a node with its
 * parent id (one tier up, in TEST_DIR/above-<parent id>) enrolls it, and
 * `node` merges that node's main, as a pull does, so that its own key (and
 * the keys above it) are in its sync_signers and travel down with its
 * history to the nodes below. For a test whose top node is not a city:
 * without it, no node knows the top node's key. Up to the city, which
 * enrolls itself.
 */
int ts_test_enrolled_above(ts_node *node);

#endif
