/*
 * 32-bit accesses to any physical address, also above 4 GiB: below 4 GiB
 * (paging off) they are a plain MOV; above, PAE paging is switched on for
 * the one access with a 2 MiB uncached window onto the target.
 */
#ifndef GUEST_PHYS_H
#define GUEST_PHYS_H

#include "guest/lib/types.h"

/* MAXPHYADDR from CPUID 0x80000008 (36 when the leaf is missing). */
unsigned int phys_addr_bits(void);

/* 0 on success, -1 if pa is beyond MAXPHYADDR (nothing accessed). */
int phys_read32(u64 pa, u32 *val);
int phys_write32(u64 pa, u32 val);

#endif
