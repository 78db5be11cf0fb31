/* The register frame the exception entry code builds on the stack. */
#ifndef TIDE_X86_REGS_H
#define TIDE_X86_REGS_H

#include "kernel/types.h"

struct regs {
	u64 r15, r14, r13, r12, r11, r10, r9, r8;
	u64 rbp, rdi, rsi, rdx, rcx, rbx, rax;
	u64 vector, error_code;
	/* pushed by the CPU */
	u64 rip, cs, rflags, rsp, ss;
};

#endif
