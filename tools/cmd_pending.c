#include "commands.h"
int cmd_log(ts_cli *cli, int argc, char **argv) { (void)cli; (void)argc; (void)argv; return 1; }
int cmd_diff(ts_cli *cli, int argc, char **argv) { (void)cli; (void)argc; (void)argv; return 1; }
int cmd_blame(ts_cli *cli, int argc, char **argv) { (void)cli; (void)argc; (void)argv; return 1; }
