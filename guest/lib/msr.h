/* RDMSR and WRMSR that may fault: return the vector or TRAP_NONE. */
#ifndef GUEST_MSR_H
#define GUEST_MSR_H

#include "guest/lib/trap.h"

#define MSR_FEATURE_CONTROL 0x3a
#define MSR_VMX_BASIC 0x480
#define MSR_EFER 0xc0000080
#define MSR_VM_CR 0xc0010114
#define MSR_VM_HSAVE_PA 0xc0010117

#define EFER_SVME (1u << 12)

static inline int rdmsr_try(u32 msr, u64 *val)
{
	u32 lo = 0, hi = 0;
	int vec = TRY("rdmsr", : "+a"(lo), "+d"(hi) : "c"(msr));

	*val = ((u64)hi << 32) | lo;
	return vec;
}

static inline int wrmsr_try(u32 msr, u64 val)
{
	return TRY("wrmsr", : : "c"(msr), "a"((u32)val), "d"((u32)(val >> 32))
		   : "memory");
}

#endif
