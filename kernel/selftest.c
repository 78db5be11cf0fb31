/*
 * The self-test runner. Groups register themselves with DEFINE_SELFTEST()
 * (a table in the .selftests section, so no central list to keep in sync);
 * selftest=all runs every group not marked destructive, selftest=a,b runs
 * the named ones in table order.
 */
#include <stdarg.h>

#include "kernel/cmdline.h"
#include "kernel/printk.h"
#include "kernel/selftest.h"
#include "kernel/selftest_table.h"
#include "kernel/string.h"

extern const struct selftest_group __selftests_start[], __selftests_end[];

static unsigned int passed, failed;

bool selftest_check(const char *group, bool ok, const char *fmt, ...)
{
	char name[96];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(name, sizeof(name), fmt, ap);
	va_end(ap);
	printk_level(LOG_EMERG, "selftest %s.%s: %s\n", group, name, ok ? "ok" : "FAIL");
	if (ok)
		passed++;
	else
		failed++;
	return ok;
}

static bool list_has(const char *list, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = list; *p;) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);

		if (len == n && !strncmp(p, name, n))
			return true;
		if (!end)
			break;
		p = end + 1;
	}
	return false;
}

bool selftest_enabled(const char *group)
{
	return list_has(options.selftest, group);
}

static bool group_known(const char *name, size_t len)
{
	if (len == 3 && !strncmp(name, "all", 3))
		return true;
	for (const struct selftest_group *g = __selftests_start; g < __selftests_end; g++)
		if (strlen(g->name) == len && !strncmp(g->name, name, len))
			return true;
	return false;
}

void selftest_run_all(void)
{
	const char *list = options.selftest;
	bool all = list_has(list, "all");

	if (!list[0])
		return;
	/* name what was asked for but does not exist, instead of skipping it */
	for (const char *p = list; *p;) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);

		if (!group_known(p, len)) {
			pr_err("selftest: unknown group '%.*s'\n", (int)len, p);
			failed++;
		}
		if (!end)
			break;
		p = end + 1;
	}
	for (const struct selftest_group *g = __selftests_start; g < __selftests_end; g++) {
		if ((all && !g->destructive) || list_has(list, g->name))
			g->run();
	}
	printk_level(LOG_EMERG, "selftest: %u passed, %u failed\n", passed, failed);
}

unsigned int selftest_failures(void)
{
	return failed;
}
