/* Host-side harness for the unit tests: result counting and console capture. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/printk.h"
#include "tests/unit/unit.h"

int unit_checks_failed_in_test;
int unit_passed, unit_failed;
int console_loglevel = LOG_DEBUG;

static char console[1 << 16];
static size_t console_len;

void unit_run(const char *name, void (*fn)(void))
{
	unit_checks_failed_in_test = 0;
	unit_console_clear();
	fn();
	if (unit_checks_failed_in_test) {
		printf("FAIL %s\n", name);
		unit_failed++;
	} else {
		printf("ok   %s\n", name);
		unit_passed++;
	}
}

int unit_finish(const char *program)
{
	printf("%s: %d passed, %d failed\n", program, unit_passed, unit_failed);
	return unit_failed ? 1 : 0;
}

int vprintk_level(int level, const char *fmt, va_list ap)
{
	char line[1024];
	int n = vsnprintf(line, sizeof(line), fmt, ap);

	if (level > console_loglevel)
		return n;
	if (getenv("UNIT_VERBOSE"))
		fputs(line, stderr);
	size_t len = strlen(line);
	if (console_len + len >= sizeof(console))
		console_len = 0; /* wrap: tests clear long before this */
	memcpy(console + console_len, line, len + 1);
	console_len += len;
	return n;
}

int printk_level(int level, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vprintk_level(level, fmt, ap);
	va_end(ap);
	return n;
}

const char *unit_console(void)
{
	return console;
}

void unit_console_clear(void)
{
	console_len = 0;
	console[0] = 0;
}

bool unit_console_contains(const char *needle)
{
	return strstr(console, needle) != NULL;
}
