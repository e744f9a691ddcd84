/*
 * tiersync/history.h — reading a node's history back as rows and columns: log, diff and blame.
 * Part of the public API; include "tiersync.h" for all of it.
 */
#ifndef TIERSYNC_HISTORY_H
#define TIERSYNC_HISTORY_H

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
