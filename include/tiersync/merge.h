/*
 * tiersync/merge.h — merging another node's work, submissions from below, the review queue of conflicts and their resolution.
 * Part of the public API; include "tiersync.h" for all of it.
 */
#ifndef TIERSYNC_MERGE_H
#define TIERSYNC_MERGE_H

#include <stddef.h>
#include <stdint.h>
#include "tiersync/node.h"

#ifdef __cplusplus
extern "C" {
#endif

#ifdef __cplusplus
}
#endif

#endif
