/*
 * bench_cli.c: (j) process start: what a script pays to run the `tiersync`
 * CLI once per action, against the `sqlite3` shell on the same database.
 *
 * The parent times whole processes, from posix_spawn() to the return of
 * waitpid(), stdout to /dev/null (stderr to a file, kept for a failure),
 * after one untimed run of each to warm the page cache:
 *   cli_status_ms         `tiersync -C NODE status`, best of CLI_ROUNDS
 *   sqlite3_count_ms      `sqlite3 NODE/tiersync.db 'SELECT count(*) FROM cases'`,
 *                         best of CLI_ROUNDS, alternating with the status
 *   cli_status_vs_sqlite3_ratio  cli_status_ms / sqlite3_count_ms     goal <= 3
 *   cli_case_commit_ms    `tiersync case new ...` then `tiersync commit -m ...`,
 *                         two processes, best of CLI_ROUNDS (reported)
 * with their medians beside them (`_median_ms`). Best of several, since a
 * neighbour on this shared machine only ever adds time.
 *
 * The CLI is $TIERSYNC, else `tiersync` beside this program (make builds
 * both into build/rel); the shell is the `sqlite3` on PATH. Without either
 * the group prints `cli_bench: skipped (...)`. The pairs add CLI_ROUNDS + 1
 * cases and commits to the node, so a full run times them last.
 */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#include "bench.h"

#define CLI_ROUNDS 15

/* The tiersync binary to time, malloc'ed, or NULL when there is none. */
static char *cli_path(void)
{
	const char *env = getenv("TIERSYNC");
	char self[4096], *slash;
	ssize_t n;

	if (env && *env)
		return access(env, X_OK) == 0 ? strdup(env) : NULL;
	if ((n = readlink("/proc/self/exe", self, sizeof(self) - 1)) <= 0)
		return NULL;
	self[n] = '\0';
	if (!(slash = strrchr(self, '/')))
		return NULL;
	*slash = '\0';
	slash = path_in(self, "tiersync");
	if (access(slash, X_OK) == 0)
		return slash;
	free(slash);
	return NULL;
}

/* 1 if `name` runs from PATH. */
static int on_path(const char *name)
{
	char *const argv[] = { (char *)name, (char *)"-version", NULL };
	return run_cmd(argv, NULL, NULL, NULL) == 0;
}

/*
 * One process, timed; dies naming it (and where its stderr went) if it
 * fails. posix_spawn(), not run_cmd()'s fork(): the bench is a large
 * process, and copying its page tables would add the same milliseconds to
 * both sides of the ratio.
 */
static double timed(char *const argv[], const char *err)
{
	posix_spawn_file_actions_t fa;
	double t0, ms;
	pid_t pid;
	int status, rc;

	if (posix_spawn_file_actions_init(&fa) != 0 ||
	    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0) != 0 ||
	    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0) != 0 ||
	    posix_spawn_file_actions_addopen(&fa, 2, err, O_WRONLY | O_CREAT | O_APPEND, 0644) != 0)
		die("posix_spawn_file_actions: out of memory");
	fflush(NULL);
	t0 = now_ms();
	if ((rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ)) != 0)
		die("starting %s: %s", argv[0], strerror(rc));
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			die("waitpid: %s", strerror(errno));
	ms = now_ms() - t0;
	posix_spawn_file_actions_destroy(&fa);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		die("%s %s failed (status %d); its errors are in %s", argv[0], argv[1], status, err);
	return ms;
}

static double best(samples *s)
{
	return quantile(s, 0.0);
}

int bench_cli_run(cli_figures *out, const char *dir)
{
	char *cli = cli_path(), *db = path_in(dir, "tiersync.db"), *err;
	char address[64], message[64];
	char *status[] = { cli, (char *)"-C", (char *)dir, (char *)"status", NULL };
	char *count[] = { (char *)"sqlite3", db, (char *)"SELECT count(*) FROM cases", NULL };
	char *new_case[] = { cli, (char *)"-C", (char *)dir, (char *)"case", (char *)"new", (char *)"--category",
		(char *)categories[3].code, (char *)"--source", (char *)"patrol", (char *)"--address", address, NULL };
	char *commit[] = { cli, (char *)"-C", (char *)dir, (char *)"commit", (char *)"-m", message, NULL };
	int i, ran = 0;

	memset(out, 0, sizeof(*out));
	/* the processes' errors: in the scratch directory, or (`bench cli DIR`) beside the node */
	if (scratch)
		err = path_in(scratch, "cli.err");
	else if ((err = malloc(strlen(dir) + 16)))
		sprintf(err, "%s-cli.err", dir);
	else
		die("out of memory");
	if (!cli)
		printf("cli_bench: skipped (no tiersync binary: set TIERSYNC)\n");
	else if (!on_path("sqlite3"))
		printf("cli_bench: skipped (no sqlite3 shell on PATH)\n");
	else
		ran = 1;
	if (!ran)
		goto done;
	fprintf(stderr, "bench: (j) %d rounds of `tiersync status` against `sqlite3 ... count(*)`, then of "
		"`case new` + `commit`, on %s\n", CLI_ROUNDS, dir);
	timed(status, err);
	timed(count, err);
	for (i = 0; i < CLI_ROUNDS; i++) {
		add(&out->status, timed(status, err));
		add(&out->sqlite3, timed(count, err));
	}
	for (i = 0; i <= CLI_ROUNDS; i++) {
		double t0;
		snprintf(address, sizeof(address), "景山前街 %d号", i + 1);
		snprintf(message, sizeof(message), "bench: case %d", i + 1);
		t0 = now_ms();
		timed(new_case, err);
		timed(commit, err);
		if (i > 0)   /* the first one warms the page cache */
			add(&out->pair, now_ms() - t0);
	}
done:
	free(cli);
	free(db);
	free(err);
	return ran;
}

void bench_cli_print(cli_figures *f)
{
	printf("# (j) process start: one `tiersync` process per action, against the sqlite3 shell\n");
	figure("cli_status_ms", best(&f->status));
	figure("cli_status_median_ms", quantile(&f->status, 0.5));
	figure("sqlite3_count_ms", best(&f->sqlite3));
	figure("sqlite3_count_median_ms", quantile(&f->sqlite3, 0.5));
	figure("cli_status_vs_sqlite3_ratio", best(&f->status) / best(&f->sqlite3));
	figure("cli_case_commit_ms", best(&f->pair));
	figure("cli_case_commit_median_ms", quantile(&f->pair, 0.5));
	free(f->status.v);
	free(f->sqlite3.v);
	free(f->pair.v);
	memset(f, 0, sizeof(*f));
}
