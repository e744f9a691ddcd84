/*
 * What tests that move history between nodes share.
 */
#ifndef TS_TESTS_NODES_H
#define TS_TESTS_NODES_H

#include "node.h"

/* Copies `from`'s main into `to` as `ref`, as a push or a fetch would. */
int ts_test_transfer(ts_node *from, ts_node *to, const char *ref);

#endif
