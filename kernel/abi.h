/*
 * The Tide hypercall ABI as guests see it (docs/abi.md is the reference):
 * CPUID leaves 0x40000000-0x40000001 and the hypercall numbers.
 */
#ifndef TIDE_ABI_H
#define TIDE_ABI_H

#include "kernel/types.h"
#include "kernel/vcpu.h"

struct guest;
struct vcpu;

#define TIDE_CPUID_BASE 0x40000000u
#define TIDE_CPUID_FEATURES 0x40000001u
#define TIDE_ABI_VERSION 1

/* CPUID 0x40000001 EAX */
#define TIDE_FEATURE_FREE_PAGE_HINT BIT(0)
#define TIDE_FEATURE_HINT_BATCH BIT(1)
#define TIDE_FEATURE_STATS BIT(2)
#define TIDE_FEATURE_TRACE BIT(3)

enum tide_hypercall {
	HC_FREE_PAGE_HINT = 1,
	HC_FREE_PAGE_HINT_BATCH = 2,
	HC_STATS = 3,
	HC_TRACE = 4,
};

/* The fields of STATS, in this order, each a little-endian u64. */
enum tide_stats_field {
	STATS_ABI_VERSION,
	STATS_RESIDENT_PAGES,
	STATS_STAGE2_FAULTS,
	STATS_ZERO_FILLS,
	STATS_HUGE_MAPPINGS,
	STATS_SWAPPED_NOW,
	STATS_SWAP_INS,
	STATS_SWAP_OUTS,
	STATS_PAGES_HINTED,
	STATS_ZERO_PAGES,
	STATS_RECLAIM_SCANS,
	STATS_EXITS,
	STATS_EXITS_BY_REASON, /* one field per exit reason, kernel/vcpu.h order */
	NR_STATS_FIELDS = STATS_EXITS_BY_REASON + NR_EXIT_REASONS,
};

void tide_cpuid(struct guest *g, u32 leaf, u32 *eax, u32 *ebx, u32 *ecx, u32 *edx);

/* Handles a VMCALL/VMMCALL: number and arguments in the GPRs, result in RAX. */
void hypercall(struct vcpu *v);

#endif
