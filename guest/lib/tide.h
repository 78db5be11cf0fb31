/*
 * The Tide hypercall ABI as a guest sees it: the CPUID signature and
 * feature leaves, and hypercalls (VMCALL on Intel, VMMCALL on AMD; number
 * in EAX, arguments in EBX, ECX, EDX, ESI; EAX returns >= 0 or -errno).
 */
#ifndef GUEST_TIDE_H
#define GUEST_TIDE_H

#include "guest/lib/types.h"

#define TIDE_CPUID_SIGNATURE 0x40000000
#define TIDE_CPUID_FEATURES 0x40000001

#define TIDE_FEAT_FREE_HINT (1u << 0)
#define TIDE_FEAT_BATCH_HINT (1u << 1)
#define TIDE_FEAT_STATS (1u << 2)
#define TIDE_FEAT_TRACE (1u << 3)

#define TIDE_HC_FREE_HINT 1 /* (gpa, order) -> 0 */
#define TIDE_HC_BATCH_HINT 2 /* (list_gpa, count) -> entries applied */
#define TIDE_HC_STATS 3 /* (buf_gpa, len) -> bytes written */
#define TIDE_HC_TRACE 4 /* (set, clear) -> trace event mask */

/* STATS fields: little-endian u64s in this order. */
enum tide_stat {
	TIDE_STAT_ABI_VERSION,
	TIDE_STAT_RESIDENT, /* 4 KiB pages */
	TIDE_STAT_FAULTS, /* stage-2 faults */
	TIDE_STAT_ZERO_FILLS,
	TIDE_STAT_HUGE, /* 2 MiB mappings */
	TIDE_STAT_SWAPPED, /* pages swapped out now */
	TIDE_STAT_SWAP_INS,
	TIDE_STAT_SWAP_OUTS,
	TIDE_STAT_HINTED,
	TIDE_STAT_COUNT
};

struct tide_info {
	bool present; /* "TideTideTide" at CPUID 0x40000000 */
	bool amd; /* hypercalls use VMMCALL */
	u32 max_leaf; /* highest Tide CPUID leaf */
	u32 features, min_hint_order, abi_version; /* CPUID 0x40000001 */
};

extern struct tide_info tide;

/* Checks the signature, fills `tide`; true under Tide. Call it first. */
bool tide_detect(void);

/*
 * A hypercall. hypercall() treats an exception (#UD: no Tide listening) as
 * unexpected; hypercall_try() reports its vector (TRAP_NONE if none) in
 * *vector and returns EAX as it was left.
 */
s32 hypercall(u32 nr, u32 a, u32 b, u32 c, u32 d);
s32 hypercall_try(u32 nr, u32 a, u32 b, u32 c, u32 d, int *vector);

/* Prints "<who>: stats resident=... faults=... ..." from STATS (or why not). */
void tide_print_stats(const char *who);

#endif
