/*
 * tiersync gate: the forced command of an enrolled lower node's key on an
 * upper host (sshd runs it; see node/gate.c), and the pre-receive check of
 * its pushes. Refusals are one line on stderr, which reaches the lower node.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"

static int refuse(void)
{
	const char *msg = ts_error_last();
	fprintf(stderr, "tiersync gate: %s\n", msg ? msg : "refused");
	return 1;
}

int cmd_gate(ts_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "node", required_argument, NULL, 'n' },
		{ "key", required_argument, NULL, 'k' },
		{ "pre-receive", no_argument, NULL, 'p' },
		{ 0, 0, 0, 0 }
	};
	ts_gate_exec *exec = NULL;
	const char *id = NULL, *key = NULL;
	char program[PATH_MAX];
	int c, help = 0, pre_receive = 0;
	ssize_t n;

	while ((c = ts_cli_getopt(cli, argc, argv, opts, &help)) != -1) {
		switch (c) {
		case 'n': id = optarg; break;
		case 'k': key = optarg; break;
		case 'p': pre_receive = 1; break;
		default: return 2;
		}
	}
	if (help) {
		ts_cli_help(cli->cmd, stdout);
		return 0;
	}
	if (optind < argc)
		return ts_cli_usage(cli, "unexpected argument %s", argv[optind]);
	if (!id || !ts_node_id_valid(id))
		return ts_cli_usage(cli, "--node ID names the lower node this key belongs to");

	if (pre_receive) {
		if (ts_gate_pre_receive(cli->node, id, stdin, getenv("GIT_QUARANTINE_PATH")) < 0)
			return refuse();
		return 0;
	}
	if (!key)
		return ts_cli_usage(cli, "--key FINGERPRINT names the key the lower node came in with "
			"(enroll writes it into the forced command)");
	if ((n = readlink("/proc/self/exe", program, sizeof(program) - 1)) < 0) {
		ts_error_set(TS_ERROR, "cannot find this program's path: %s", strerror(errno));
		return refuse();
	}
	program[n] = '\0';
	if (ts_gate_is_exchange(getenv("SSH_ORIGINAL_COMMAND"))) {
		/* tiersync's own exchange, served here; a refusal also went to the client */
		if (ts_gate_serve(cli->node, id, key, getenv("SSH_ORIGINAL_COMMAND"), STDIN_FILENO, STDOUT_FILENO) < 0)
			return refuse();
		return 0;
	}
	if (ts_gate_prepare(&exec, cli->node, id, key, getenv("SSH_ORIGINAL_COMMAND"), program) < 0)
		return refuse();
	ts_node_free(cli->node);
	cli->node = NULL;
	fflush(NULL);
	execve(exec->argv[0], exec->argv, exec->envp);
	ts_error_set(TS_ERROR, "cannot run %s: %s", exec->argv[0], strerror(errno));
	ts_gate_exec_free(exec);
	return refuse();
}
