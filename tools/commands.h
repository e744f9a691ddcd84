/*
 * The subcommands, one per tools/cmd_<name>.c.
 */
#ifndef TS_TOOLS_COMMANDS_H
#define TS_TOOLS_COMMANDS_H

#include "cli.h"

int cmd_init(ts_cli *cli, int argc, char **argv);
int cmd_case(ts_cli *cli, int argc, char **argv);
int cmd_evidence(ts_cli *cli, int argc, char **argv);
int cmd_status(ts_cli *cli, int argc, char **argv);
int cmd_commit(ts_cli *cli, int argc, char **argv);
int cmd_restore(ts_cli *cli, int argc, char **argv);
int cmd_log(ts_cli *cli, int argc, char **argv);
int cmd_diff(ts_cli *cli, int argc, char **argv);
int cmd_blame(ts_cli *cli, int argc, char **argv);
int cmd_verify(ts_cli *cli, int argc, char **argv);
int cmd_sql(ts_cli *cli, int argc, char **argv);
int cmd_report(ts_cli *cli, int argc, char **argv);
int cmd_export(ts_cli *cli, int argc, char **argv);
int cmd_config(ts_cli *cli, int argc, char **argv);

int cmd_remote(ts_cli *cli, int argc, char **argv);
int cmd_push(ts_cli *cli, int argc, char **argv);
int cmd_fetch(ts_cli *cli, int argc, char **argv);
int cmd_pull(ts_cli *cli, int argc, char **argv);
int cmd_sync(ts_cli *cli, int argc, char **argv);
int cmd_merge(ts_cli *cli, int argc, char **argv);
int cmd_bundle(ts_cli *cli, int argc, char **argv);
int cmd_daemon(ts_cli *cli, int argc, char **argv);
int cmd_conflicts(ts_cli *cli, int argc, char **argv);
int cmd_resolve(ts_cli *cli, int argc, char **argv);

int cmd_area(ts_cli *cli, int argc, char **argv);
int cmd_supervise(ts_cli *cli, int argc, char **argv);
int cmd_event(ts_cli *cli, int argc, char **argv);
int cmd_ads(ts_cli *cli, int argc, char **argv);
int cmd_party(ts_cli *cli, int argc, char **argv);
int cmd_patrol(ts_cli *cli, int argc, char **argv);
int cmd_zone(ts_cli *cli, int argc, char **argv);
int cmd_exposure(ts_cli *cli, int argc, char **argv);
int cmd_baseline(ts_cli *cli, int argc, char **argv);
int cmd_urgent(ts_cli *cli, int argc, char **argv);

int cmd_enroll(ts_cli *cli, int argc, char **argv);
int cmd_gate(ts_cli *cli, int argc, char **argv);

/* The progress line of a transfer on a terminal, updated in place on
 * stderr (tools/cmd_push.c); `label` is a string such as "push upstream". */
void ts_cli_transfer_progress(const ts_transfer_stats *stats, void *label);
/* Ignores SIGPIPE and, on a terminal, shows progress labelled "VERB REMOTE". */
void ts_cli_transfer_setup(ts_transfer_options *o, const char *verb, const char *remote);
/* The arguments push and fetch share: [REMOTE] [--timeout S] [--json].
 * Returns 0, or the exit status of a usage error. */
int ts_cli_transfer_args(ts_cli *cli, int argc, char **argv, const char *verb, const char **remote,
	int *json, ts_transfer_options *o);
/* The progress line of a merge and its apply on a terminal, updated in
 * place on stderr and ended with each phase (tools/cmd_merge.c); `label`
 * is a string such as "pull upstream". */
void ts_cli_merge_progress(const ts_progress *progress, void *label);
/* On a terminal, shows the progress of the node's merges labelled `label`
 * (copied); elsewhere nothing changes. */
void ts_cli_merge_progress_setup(ts_node *node, const char *label);
/* The URL a person typed, for the library: a relative path on this
 * machine (not a URL, not host:path) made absolute against the current
 * directory, anything else as it is. malloc'd (the caller frees it); NULL
 * when the current directory cannot be read or out of memory
 * (tools/cmd_remote.c). */
char *ts_cli_url_absolute(const char *url);
/*
 * What `tiersync pull` does (tools/cmd_pull.c): fetches `remote`'s main
 * into refs/remotes/REMOTE/main and merges it into the node's main as
 * `author` (staged work is committed first, as ts_node_merge() says).
 * With `only_new`, the merge is left out when the fetched main holds no
 * commit the node's main lacks (so that staged work stays staged): *stats
 * then says up to date. Writes the node's head to `head`. Returns 0 or
 * the TS_E* code of the fetch or the merge (ts_error_last() says why).
 */
int ts_cli_pull(char head[41], ts_node_merge_stats *stats, ts_node *node, const char *remote, const char *author,
	const ts_transfer_options *transfer, int only_new);
/* Parses --timeout SECONDS into milliseconds; ts_cli_usage() when bad. */
int ts_cli_timeout(ts_cli *cli, const char *seconds, int *ms_out);

#endif
