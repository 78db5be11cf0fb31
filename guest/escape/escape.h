/*
 * The escape guest's checks, grouped by what they poke at, and the
 * reporting they share. Each check prints one line,
 * "escape: <name>: contained" or "escape: <name>: ESCAPED (<why>)".
 * The checks that hold on any PC without a hypervisor too (VMX and SVM
 * instructions, LAPIC, I/O ports) also run on bare QEMU, as a self-test.
 */
#ifndef ESCAPE_H
#define ESCAPE_H

#include "guest/lib/types.h"

extern bool under_tide;
extern bool all_checks; /* under Tide, or all=1 */
extern u64 ram_end; /* 1 MiB + mem_upper; 0 when the loader gave none */

void report(const char *name, bool contained, const char *why, ...) __printf(3, 4);
void skip(const char *name, const char *why, ...) __printf(2, 3);

/* An address past RAM no map entry describes: where nothing may be. */
bool nothing_there(u64 addr);

void check_memory(void); /* RAM end, far and high GPAs */
void check_devices(void); /* LAPIC, I/O ports */
void check_cpu(void); /* MSRs, virtualization instructions, CPUID */
void check_cr4_vmxe(void); /* Tide only: may hang bare QEMU TCG */
void check_hypercalls(void);

#endif
