/*
 * A tiny unit-test harness. A test is any function
 *
 *     void test_<module>__<case>(void)
 *
 * in tests/test_*.c; the build finds them by name. Each runs in a fresh
 * temporary directory (the current directory while it runs). A failed
 * check records the file, line and expression and returns from the test.
 *
 *     build/rel/unit                 run all
 *     build/rel/unit -s rowcodec     run one module
 *     build/rel/unit -s rowcodec::nulls
 */
#ifndef TS_TESTS_HARNESS_H
#define TS_TESTS_HARNESS_H

#include <stdio.h>
#include <string.h>

struct ts_test {
	const char *name;
	void (*fn)(void);
};

void ts_test__fail(const char *file, int line, const char *fmt, ...);
int ts_test__failed(void);
/* The temporary directory of the running test (an absolute path). */
const char *ts_test_dir(void);

#define test_assert(expr) do { \
	if (!(expr)) { ts_test__fail(__FILE__, __LINE__, "%s", #expr); return; } \
} while (0)

/* Asserts that a libgit2/tiersync-style call returned >= 0. */
#define test_ok(expr) do { \
	int test_rc__ = (expr); \
	if (test_rc__ < 0) { ts_test__fail(__FILE__, __LINE__, "%s returned %d: %s", \
		#expr, test_rc__, ts_test__lasterror()); return; } \
} while (0)

#define test_equal_i(a, b) do { \
	long long test_a__ = (long long)(a), test_b__ = (long long)(b); \
	if (test_a__ != test_b__) { ts_test__fail(__FILE__, __LINE__, "%s == %s: %lld != %lld", \
		#a, #b, test_a__, test_b__); return; } \
} while (0)

#define test_equal_s(a, b) do { \
	const char *test_a__ = (a), *test_b__ = (b); \
	if (!test_a__ || !test_b__ || strcmp(test_a__, test_b__)) { \
		ts_test__fail(__FILE__, __LINE__, "%s == %s: \"%s\" != \"%s\"", #a, #b, \
			test_a__ ? test_a__ : "(null)", test_b__ ? test_b__ : "(null)"); return; } \
} while (0)

const char *ts_test__lasterror(void);

/* Runs a shell command in the test's directory: 0 when it exits 0, else -1. */
int ts_test_sh(const char *cmd);
/* The first line `cmd` prints, without its newline ("" if none), in a
 * static buffer: compare before the next call. */
const char *ts_test_first_line(const char *cmd);

/* The last error's message holds `needle` and names no flag ("--"): the
 * library says what went wrong; the flag that answers it is the CLI's. */
#define test_error_says(needle) do { \
	const char *test_m__ = ts_test__lasterror(), *test_n__ = (needle); \
	if (!strstr(test_m__, test_n__) || strstr(test_m__, "--")) { \
		ts_test__fail(__FILE__, __LINE__, "the last error, \"%s\", does not say \"%s\" without a flag", \
			test_m__, test_n__); return; } \
} while (0)

#endif
