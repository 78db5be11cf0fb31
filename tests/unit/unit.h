/*
 * A minimal harness for host-side unit tests. Each test program defines
 * test functions, runs them with RUN_TEST() and returns unit_finish(), which
 * prints "<program>: N passed, N failed" and exits non-zero on any failure.
 * Console output of the code under test (printk_level) is captured in a
 * buffer so tests can check what was reported.
 */
#ifndef TIDE_UNIT_H
#define TIDE_UNIT_H

#include <stdbool.h>
#include <stdio.h>

extern int unit_checks_failed_in_test;
extern int unit_passed, unit_failed;

#define CHECK(cond)                                                        \
	do {                                                               \
		if (!(cond)) {                                             \
			fprintf(stderr, "%s:%d: check failed: %s\n",      \
				__FILE__, __LINE__, #cond);                \
			unit_checks_failed_in_test++;                      \
		}                                                          \
	} while (0)

#define CHECK_EQ(a, b)                                                     \
	do {                                                               \
		long long _a = (long long)(a), _b = (long long)(b);       \
		if (_a != _b) {                                            \
			fprintf(stderr, "%s:%d: check failed: %s == %s "  \
				"(%lld != %lld)\n", __FILE__, __LINE__,   \
				#a, #b, _a, _b);                           \
			unit_checks_failed_in_test++;                      \
		}                                                          \
	} while (0)

#define RUN_TEST(fn) unit_run(#fn, fn)

void unit_run(const char *name, void (*fn)(void));
int unit_finish(const char *program);

/* The console as the code under test wrote it since the last clear. */
const char *unit_console(void);
void unit_console_clear(void);
bool unit_console_contains(const char *needle);

#endif
