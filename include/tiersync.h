/*
 * tiersync — offline-first sync of a SQLite database through git history.
 *
 * A node is a directory holding a working SQLite database (tiersync.db), a
 * bare git repository of its history (history.git) and a git-config file
 * (config). Writes go through the node, which records them durably as
 * staged changesets; a commit turns them into one git commit whose tree is
 * the full state of the synced tables, one blob per row.
 *
 * Conventions: functions return 0 on success and a negative TS_E* code on
 * failure, with a message readable through ts_error_last(). Out-parameters
 * come first and are set to NULL on failure. Every handle that is opened or
 * created has a NULL-safe _free.
 */
#ifndef TIERSYNC_H
#define TIERSYNC_H

#include "tiersync/errors.h"
#include "tiersync/node.h"
#include "tiersync/remote.h"
#include "tiersync/status.h"
#include "tiersync/merge.h"
#include "tiersync/history.h"
#include "tiersync/gate.h"
#include "tiersync/cases.h"
#include "tiersync/parties.h"
#include "tiersync/patrols.h"
#include "tiersync/exposures.h"
#include "tiersync/baselines.h"
#include "tiersync/export.h"
#include "tiersync/urgent.h"
#include "tiersync/bundle.h"

#endif
