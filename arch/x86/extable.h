/*
 * Exception fixups: an instruction that may fault on purpose (RDMSR of an
 * MSR that may not exist, a self-test probe) is listed in __ex_table with
 * the address to resume at. The exception handler looks the faulting RIP up
 * there before it panics, and records the vector for the caller.
 */
#ifndef TIDE_X86_EXTABLE_H
#define TIDE_X86_EXTABLE_H

#include "kernel/types.h"

struct extable_entry {
	u64 insn;
	u64 fixup;
};

/* Vector of the last fault that was fixed up, or -1 after reset. */
extern volatile int extable_last_vector;

/*
 * EXTABLE_ENTRY(from, to): asm text for an entry; `from` and `to` are local
 * labels like "1b" and "2f".
 */
#define EXTABLE_ENTRY(from, to)                                               \
	".pushsection __ex_table, \"a\"\n\t.balign 8\n\t.quad " from ", " to  \
	"\n\t.popsection\n\t"

#endif
