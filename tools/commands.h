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

#endif
