/*
 * The one hypercall table and Tide's CPUID leaves (docs/abi.md). A
 * hypercall is VMCALL/VMMCALL with the number in RAX and arguments in RBX,
 * RCX, RDX, RSI; RAX returns a value >= 0 or a negative errno. Guests not in
 * 64-bit mode pass 32-bit values: the upper halves are ignored.
 */
#include "arch/x86/cpu.h"
#include "kernel/abi.h"
#include "kernel/errno.h"
#include "kernel/guest.h"
#include "kernel/guest_insn.h"
#include "kernel/string.h"

typedef s64 (*hypercall_fn)(struct vcpu *v, u64 a0, u64 a1, u64 a2, u64 a3);

static s64 hc_stats(struct vcpu *v, u64 buf, u64 len, u64 a2 __unused, u64 a3 __unused)
{
	struct guest *g = v->guest;
	u64 fields[NR_STATS_FIELDS] = {
		[STATS_ABI_VERSION] = TIDE_ABI_VERSION,
		[STATS_RESIDENT_PAGES] = g->stats.resident_pages,
		[STATS_STAGE2_FAULTS] = g->stats.stage2_faults,
		[STATS_ZERO_FILLS] = g->stats.zero_fills,
		[STATS_HUGE_MAPPINGS] = g->stats.huge_mappings,
		[STATS_SWAPPED_NOW] = g->stats.swapped_now,
		[STATS_SWAP_INS] = g->stats.swap_ins,
		[STATS_SWAP_OUTS] = g->stats.swap_outs,
		[STATS_PAGES_HINTED] = g->stats.pages_hinted,
		[STATS_ZERO_PAGES] = g->stats.zero_pages,
		[STATS_RECLAIM_SCANS] = g->stats.reclaim_scans,
	};
	u64 bytes = MIN(len, sizeof(fields)) & ~7UL;

	/* the whole buffer the guest named must be its RAM, not just what we fill */
	if (buf + len < buf || buf + len > g->stage2.ram_size)
		return -EFAULT;
	if (guest_copy_to(g, buf, fields, bytes))
		return -EFAULT;
	return bytes;
}

static const hypercall_fn hypercalls[] = {
	[HC_STATS] = hc_stats,
};

void tide_cpuid(struct guest *g __unused, u32 leaf, u32 *eax, u32 *ebx, u32 *ecx, u32 *edx)
{
	*eax = *ebx = *ecx = *edx = 0;
	if (leaf == TIDE_CPUID_BASE) {
		*eax = TIDE_CPUID_FEATURES;
		memcpy(ebx, "Tide", 4);
		memcpy(ecx, "Tide", 4);
		memcpy(edx, "Tide", 4);
	} else if (leaf == TIDE_CPUID_FEATURES) {
		*eax = TIDE_FEATURE_STATS;
		*ebx = 0; /* smallest hint order */
		*ecx = TIDE_ABI_VERSION;
	}
}

void hypercall(struct vcpu *v)
{
	u64 nr = v->gpr[GPR_RAX];
	u64 args[4] = { v->gpr[GPR_RBX], v->gpr[GPR_RCX], v->gpr[GPR_RDX], v->gpr[GPR_RSI] };
	s64 ret;

	if (guest_code_mode(v) != X86_MODE_64) {
		nr &= 0xffffffff;
		for (int i = 0; i < 4; i++)
			args[i] &= 0xffffffff;
	}
	v->guest->stats.hypercalls++;
	if (vcpu_get(v, VCPU_CPL) != 0)
		ret = -EPERM;
	else if (nr >= ARRAY_SIZE(hypercalls) || !hypercalls[nr])
		ret = -ENOSYS;
	else
		ret = hypercalls[nr](v, args[0], args[1], args[2], args[3]);
	v->gpr[GPR_RAX] = (u64)ret;
}
