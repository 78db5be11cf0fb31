/*
 * The exception catcher. Every CPU exception enters trap_handler(); if the
 * faulting EIP is listed in the fixup table (like Linux's __ex_table), the
 * vector and error code are recorded in trap_last and execution resumes at
 * the fixup address. Anything else is a bug or an escape we did not plan
 * for: the handler prints one clear line and exits with status 2.
 *
 * TRY(insn, operands) runs one instruction that may fault and evaluates to
 * the vector it raised, or TRAP_NONE. `operands` are the extended-asm
 * operand lists, so registers are written %%eax and at least one ':' list is
 * needed, e.g.
 *
 *	vec = TRY("rdmsr", : "+a"(lo), "+d"(hi) : "c"(msr));
 *	vec = TRY("vmrun", : : "a"(vmcb) : "memory");
 *
 * Outputs keep their old value when the instruction faulted, so use "+".
 */
#ifndef GUEST_TRAP_H
#define GUEST_TRAP_H

#include "guest/lib/types.h"

#define TRAP_NONE (-1)

#define VEC_DE 0
#define VEC_UD 6
#define VEC_DF 8
#define VEC_GP 13
#define VEC_PF 14

struct trap_info {
	int vector; /* TRAP_NONE: the instruction completed */
	u32 error_code;
	u32 eip;
};

extern volatile struct trap_info trap_last;

/* One table entry: "from" faulted, resume at "to" (asm labels). */
#define EXTABLE_ENTRY(from, to)                                              \
	".pushsection .guest_extable, \"a\"\n\t.balign 4\n\t.long " from ", " \
	to "\n\t.popsection\n\t"

#define TRY(insn, ...)                                                        \
	({                                                                    \
		trap_last.vector = TRAP_NONE;                                 \
		barrier();                                                    \
		asm volatile("880:\n\t" insn "\n881:\n\t"                     \
			     EXTABLE_ENTRY("880b", "881b") __VA_ARGS__);       \
		barrier();                                                    \
		trap_last.vector;                                             \
	})

void trap_init(void);

/* Points IDT entry `vector` at `handler`; dpl 3 lets ring 3 use INT n. */
void idt_set_gate(int vector, u32 handler, int dpl);

/* "#GP", "#UD" ... for a vector; "none" for TRAP_NONE. */
const char *trap_name(int vector);

#endif
