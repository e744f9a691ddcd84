/*
 * The unit-test runner: runs the cases listed in the generated test_list.h,
 * each in a fresh temporary directory, and ends with "N passed, N failed".
 */
#include "harness.h"

#include <stdarg.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "tiersync.h"
#include "test_list.h"

static int failed_now;
static char test_dir[4096];

static double now_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

void ts_test__fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	failed_now = 1;
	fprintf(stderr, "    %s:%d: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int ts_test__failed(void) { return failed_now; }
const char *ts_test_dir(void) { return test_dir; }

const char *ts_test__lasterror(void)
{
	const char *msg = ts_error_last();
	return msg ? msg : "(no message)";
}

static int selected(const char *name, const char *filter)
{
	size_t n;
	if (!filter)
		return 1;
	n = strlen(filter);
	if (strncmp(name, filter, n))
		return 0;
	return name[n] == '\0' || (name[n] == ':' && !strchr(filter, ':'));
}

static void remove_tree(const char *dir)
{
	char cmd[4200];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "warning: could not remove %s\n", dir);
}

int main(int argc, char **argv)
{
	const struct ts_test *t;
	const char *filter = NULL;
	char cwd[4096];
	double took;
	int passed = 0, failed = 0;

	if (argc == 3 && !strcmp(argv[1], "-s"))
		filter = argv[2];
	else if (argc != 1) {
		fprintf(stderr, "usage: %s [-s module[::case]]\n", argv[0]);
		return 2;
	}
	if (!getcwd(cwd, sizeof(cwd)))
		return 1;

	for (t = ts_tests; t->name; t++) {
		const char *tmp = getenv("TMPDIR");
		if (!selected(t->name, filter))
			continue;
		snprintf(test_dir, sizeof(test_dir), "%s/ts-unit-XXXXXX", tmp ? tmp : "/tmp");
		if (!mkdtemp(test_dir) || chdir(test_dir) < 0) {
			perror("mkdtemp");
			return 1;
		}
		failed_now = 0;
		took = now_seconds();
		t->fn();
		took = now_seconds() - took;
		if (chdir(cwd) < 0)
			return 1;
		if (failed_now) {
			printf("FAIL %s (kept %s)\n", t->name, test_dir);
			failed++;
		} else if (took >= 1.0) {
			/* the slow ones say so, for whoever keeps make test short */
			printf("ok   %s (%.1f s)\n", t->name, took);
			remove_tree(test_dir);
			passed++;
		} else {
			printf("ok   %s\n", t->name);
			remove_tree(test_dir);
			passed++;
		}
		fflush(stdout);
	}
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}

int ts_test_sh(const char *cmd)
{
	return system(cmd) == 0 ? 0 : -1;
}

const char *ts_test_first_line(const char *cmd)
{
	static char line[256];
	FILE *p = popen(cmd, "r");

	line[0] = '\0';
	if (p) {
		if (!fgets(line, sizeof(line), p))
			line[0] = '\0';
		pclose(p);
	}
	line[strcspn(line, "\n")] = '\0';
	return line;
}
