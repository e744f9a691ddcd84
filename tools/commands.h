/*
 * The subcommands, one per tools/cmd_<name>.c.
 */
#ifndef TS_TOOLS_COMMANDS_H
#define TS_TOOLS_COMMANDS_H

#include "cli.h"

int cmd_init(ts_cli *cli, int argc, char **argv);
int cmd_case(ts_cli *cli, int argc, char **argv);
int cmd_status(ts_cli *cli, int argc, char **argv);
int cmd_commit(ts_cli *cli, int argc, char **argv);
int cmd_log(ts_cli *cli, int argc, char **argv);
int cmd_diff(ts_cli *cli, int argc, char **argv);
int cmd_blame(ts_cli *cli, int argc, char **argv);
int cmd_verify(ts_cli *cli, int argc, char **argv);
int cmd_sql(ts_cli *cli, int argc, char **argv);

int cmd_remote(ts_cli *cli, int argc, char **argv);
int cmd_push(ts_cli *cli, int argc, char **argv);
int cmd_fetch(ts_cli *cli, int argc, char **argv);
int cmd_pull(ts_cli *cli, int argc, char **argv);
int cmd_sync(ts_cli *cli, int argc, char **argv);
int cmd_merge(ts_cli *cli, int argc, char **argv);
int cmd_conflicts(ts_cli *cli, int argc, char **argv);
int cmd_resolve(ts_cli *cli, int argc, char **argv);

/* The progress line of a transfer on a terminal, updated in place on
 * stderr (tools/cmd_push.c); `label` is a string such as "push upstream". */
void ts_cli_transfer_progress(const ts_transfer_stats *stats, void *label);
/* Parses --timeout SECONDS into milliseconds; ts_cli_usage() when bad. */
int ts_cli_timeout(ts_cli *cli, const char *seconds, int *ms_out);

#endif
