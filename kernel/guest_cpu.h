/* Guest CPUID and MSRs (kernel/guest_cpuid.c). */
#ifndef TIDE_GUEST_CPU_H
#define TIDE_GUEST_CPU_H

#include "kernel/vcpu.h"

/* Executes CPUID for the guest: leaf in RAX/RCX, results into RAX-RDX. */
void guest_cpuid(struct vcpu *v);

/* Whether a MOV to CR0/CR4 of `value` is legal (else the guest gets #GP). */
bool guest_cr_write_valid(struct vcpu *v, unsigned int cr, u64 value);

/* 0, or -1 when the guest must get #GP. */
int guest_msr_read(struct vcpu *v, u32 msr, u64 *value);
int guest_msr_write(struct vcpu *v, u32 msr, u64 value);

#endif
