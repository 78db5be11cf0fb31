/*
 * panic(): for broken invariants of the hypervisor itself only. Prints the
 * message with a register dump and a backtrace, then powers off as
 * poweroff= says (with a failure status) or halts.
 */
#ifndef TIDE_PANIC_H
#define TIDE_PANIC_H

#include "kernel/types.h"

__printf(1, 2) __noreturn void panic(const char *fmt, ...);

#define BUG_ON(cond)                                                          \
	do {                                                                  \
		if (unlikely(cond))                                           \
			panic("BUG_ON(%s) at %s:%d", #cond, __FILE__, __LINE__); \
	} while (0)

#endif
