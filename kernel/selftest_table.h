/* Registration of self-test groups (see kernel/selftest.c). */
#ifndef TIDE_SELFTEST_TABLE_H
#define TIDE_SELFTEST_TABLE_H

#include "kernel/types.h"

struct selftest_group {
	const char *name;
	void (*run)(void);
	bool destructive; /* ends the run (crash tests): never part of "all" */
};

#define DEFINE_SELFTEST_GROUP(id, gname, fn, destr)                           \
	static const struct selftest_group selftest_##id                      \
		__attribute__((used, section(".selftests"), aligned(8))) = {  \
			.name = gname, .run = fn, .destructive = destr }

#define DEFINE_SELFTEST(id, gname, fn) DEFINE_SELFTEST_GROUP(id, gname, fn, false)
#define DEFINE_CRASH_TEST(id, gname, fn) DEFINE_SELFTEST_GROUP(id, gname, fn, true)

unsigned int selftest_failures(void);

#endif
