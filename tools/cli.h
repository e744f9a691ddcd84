/*
 * What the subcommands of the `tiersync` CLI share: the command table,
 * option parsing, opening the node, reporting errors, JSON output.
 *
 * Exit codes: 0 success, 1 a refused or failed operation (one line on
 * stderr), 2 bad usage.
 */
#ifndef TS_TOOLS_CLI_H
#define TS_TOOLS_CLI_H

#include <getopt.h>
#include <stdio.h>

#include "tiersync.h"

typedef struct {
	const char *dir;     /* -C DIR, or "." */
	ts_node *node;       /* opened for commands that need one */
	const struct ts_cli_command *cmd;
	int no_author;       /* ts_cli_author() found none: no --author, no identity */
} ts_cli;

typedef struct ts_cli_command {
	const char *name;
	int (*fn)(ts_cli *cli, int argc, char **argv);
	int needs_node;
	const char *usage;    /* "tiersync NAME ..." lines */
	const char *summary;  /* one line */
	const char *help;     /* the options, or NULL */
} ts_cli_command;

extern const ts_cli_command ts_cli_commands[];

/*
 * Prints ts_error_last() as "tiersync: ..." on one line and returns 1.
 * The library's messages say what went wrong; the CLI adds, at the end of
 * the line, which flag or command answers it: here, when the command had
 * no author to give (cli->no_author) and the refusal is TS_EINVALID,
 * "--author NAME".
 */
int ts_cli_fail(ts_cli *cli);

/* ts_cli_fail() for a refusal the library decides about what a flag gives
 * (it may depend on the node or the record): when the refusal's code is
 * `code`, "; HINT" (printf-style `fmt`, naming the flag) ends the line. */
int ts_cli_fail_hint(ts_cli *cli, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* ts_cli_fail() for a transfer with `remote` (NULL: upstream): adds what
 * to run when the host key or this node's key was refused. */
int ts_cli_fail_remote(ts_cli *cli, const char *remote);
/* Prints "tiersync CMD: <message> (see 'tiersync CMD --help')"; returns 2. */
int ts_cli_usage(ts_cli *cli, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prints the full help of a command to `out`. */
void ts_cli_help(const ts_cli_command *cmd, FILE *out);

/*
 * getopt_long over argv (argv[0] is the subcommand). Handles --help itself
 * (*help set, returns -1). Returns the option, -1 at the end, '?' on a bad
 * option (after printing usage; the caller returns 2).
 */
int ts_cli_getopt(ts_cli *cli, int argc, char **argv, const struct option *opts, int *help);

/* A verb of a command with verbs (case, patrol, zone...), and the getopt
 * letters of the options it takes. */
typedef struct {
	const char *verb, *options;
} ts_cli_verb;

/* The entry of `name` among the `n` verbs, or NULL. */
const ts_cli_verb *ts_cli_verb_find(const ts_cli_verb *verbs, size_t n, const char *name);

/* ts_cli_getopt() over a verb's options: an option the verb does not take
 * is bad usage ("CMD VERB does not take --NAME"), returned as '?'. */
int ts_cli_verb_getopt(ts_cli *cli, const ts_cli_verb *verb, int argc, char **argv,
	const struct option *opts, int *help);

/* The author for a command: --author, else the node's identity; NULL
 * (and cli->no_author set) when there is neither. */
const char *ts_cli_author(ts_cli *cli, const char *given);
/* The author of the merges a command makes: the node itself (its id)
 * where ts_cli_author() finds no one. */
const char *ts_cli_merge_author(ts_cli *cli, const char *given);

/* Reports a staged write of the record `id`: {"id": ID, "staged": true}
 * with --json; else "HUMAN ID (staged)", or the id alone when `human` is
 * NULL (for a new record, so that scripts can take it). */
void ts_cli_staged(int json, const char *id, const char *human);

/* Writes ,"key":value to stdout: a member after the first of an object,
 * the value a JSON string, or null when NULL. */
void ts_cli_json_member(const char *key, const char *value);

/* Writes the NUL-terminated `s` as a JSON string (with quotes), by the
 * CLI's one JSON writer: ts_json_write_text() of json.h. */
void ts_json_str(FILE *out, const char *s);
/* The same, or null when `s` is NULL. */
void ts_json_str_or_null(FILE *out, const char *s);

#endif
