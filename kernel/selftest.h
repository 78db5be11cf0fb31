/*
 * In-hypervisor self-tests (selftest=<group>[,<group>...] or selftest=all).
 * Each check prints one machine-readable line, `selftest <group>.<name>: ok`
 * or `selftest <group>.<name>: FAIL (<why>)`, and the run ends with
 * `selftest: <n> passed, <m> failed`.
 */
#ifndef TIDE_SELFTEST_H
#define TIDE_SELFTEST_H

#include "kernel/types.h"

/* Records one check; prints its line. Returns ok, so callers can chain. */
__printf(3, 4) bool selftest_check(const char *group, bool ok, const char *fmt, ...);

/* True when `group` was selected on the command line. */
bool selftest_enabled(const char *group);

/* Runs every selected group and prints the summary line. */
void selftest_run_all(void);

#endif
