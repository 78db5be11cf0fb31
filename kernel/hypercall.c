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
#include "mm/buddy.h"
#include "mm/hint.h"
#include "kernel/trace.h"

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
		[STATS_EXITS] = g->stats.exits,
	};
	u64 bytes = MIN(len, sizeof(fields)) & ~7UL;

	for (unsigned int r = 0; r < NR_EXIT_REASONS; r++)
		fields[STATS_EXITS_BY_REASON + r] = g->stats.exits_by_reason[r];

	/* the whole buffer the guest named must be its RAM, not just what we fill */
	if (buf + len < buf || buf + len > g->stage2.ram_size)
		return -EFAULT;
	if (guest_copy_to(g, buf, fields, bytes))
		return -EFAULT;
	return bytes;
}

/* Checks one hint: aligned, inside RAM, an order Tide accepts. */
static int hint_check(struct guest *g, u64 gpa, u64 order)
{
	u64 size;

	if (order < hint_min_order || order > BUDDY_MAX_ORDER)
		return -EINVAL;
	size = PAGE_SIZE << order;
	if (!IS_ALIGNED(gpa, size))
		return -EINVAL;
	if (gpa >= g->stage2.ram_size || size > g->stage2.ram_size - gpa)
		return -EFAULT;
	return 0;
}

/* Why this guest may not hint at all, or 0. */
static int hints_allowed(struct guest *g)
{
	if (!hints_enabled || !g->hints)
		return -EOPNOTSUPP;
	if (g->pinned)
		return -EPERM; /* its memory must stay where it is (device DMA) */
	return 0;
}

static s64 hc_free_page_hint(struct vcpu *v, u64 gpa, u64 order, u64 a2 __unused,
			     u64 a3 __unused)
{
	struct guest *g = v->guest;
	int err = hints_allowed(g);

	if (!err)
		err = hint_check(g, gpa, order);
	if (!err)
		err = guest_hint_free(g, gpa, order);
	TRACE(TE_HINT, TRACE_STR(g->name), gpa, order, (u64)(s64)err);
	return err;
}

#define HINT_BATCH_MAX 512

static s64 hc_free_page_hint_batch(struct vcpu *v, u64 list, u64 count, u64 a2 __unused,
				   u64 a3 __unused)
{
	static struct {
		u64 gpa, order;
	} entries[HINT_BATCH_MAX];
	struct guest *g = v->guest;
	int err = hints_allowed(g);

	if (err)
		return err;
	if (count > HINT_BATCH_MAX)
		return -EINVAL;
	if (guest_copy_from(g, entries, list, count * sizeof(entries[0])))
		return -EFAULT;
	/* all or nothing: validate every entry before applying any */
	for (u64 i = 0; i < count; i++) {
		err = hint_check(g, entries[i].gpa, entries[i].order);
		if (err) {
			TRACE(TE_HINT, TRACE_STR(g->name), entries[i].gpa, entries[i].order,
			      (u64)(s64)err);
			return err;
		}
	}
	for (u64 i = 0; i < count; i++) {
		err = guest_hint_free(g, entries[i].gpa, entries[i].order);
		TRACE(TE_HINT, TRACE_STR(g->name), entries[i].gpa, entries[i].order, (u64)(s64)err);
		if (err)
			return err;
	}
	return count;
}

/* TRACE(set, clear): turns trace events on and off; returns the new mask. */
static s64 hc_trace(struct vcpu *v __unused, u64 set, u64 clear, u64 a2 __unused,
		    u64 a3 __unused)
{
	return trace_update(set, clear);
}

static const hypercall_fn hypercalls[] = {
	[HC_TRACE] = hc_trace,
	[HC_FREE_PAGE_HINT] = hc_free_page_hint,
	[HC_FREE_PAGE_HINT_BATCH] = hc_free_page_hint_batch,
	[HC_STATS] = hc_stats,
};

void tide_cpuid(struct guest *g, u32 leaf, u32 *eax, u32 *ebx, u32 *ecx, u32 *edx)
{
	*eax = *ebx = *ecx = *edx = 0;
	if (leaf == TIDE_CPUID_BASE) {
		*eax = TIDE_CPUID_FEATURES;
		memcpy(ebx, "Tide", 4);
		memcpy(ecx, "Tide", 4);
		memcpy(edx, "Tide", 4);
	} else if (leaf == TIDE_CPUID_FEATURES) {
		*eax = TIDE_FEATURE_STATS | TIDE_FEATURE_TRACE;
		if (!hints_allowed(g))
			*eax |= TIDE_FEATURE_FREE_PAGE_HINT | TIDE_FEATURE_HINT_BATCH;
		*ebx = hint_min_order;
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
