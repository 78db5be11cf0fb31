/*
 * Tide detection and the hypercall instruction. The vendor string decides
 * VMMCALL (AMD, Hygon) or VMCALL (everyone else): the other one is #UD on
 * the host CPU, and whether a hypervisor turns it into a hypercall anyway
 * is not part of the ABI.
 */
#include "guest/lib/cpu.h"
#include "guest/lib/exit.h"
#include "guest/lib/guest.h"
#include "guest/lib/printf.h"
#include "guest/lib/string.h"
#include "guest/lib/tide.h"
#include "guest/lib/trap.h"

struct tide_info tide;

static bool regs_say(const struct cpuid_regs *r, const char *what)
{
	u32 w[3] = { r->ebx, r->ecx, r->edx };

	return !memcmp(w, what, 12);
}

bool tide_detect(void)
{
	struct cpuid_regs r = cpuid(0, 0);
	u32 vendor[3] = { r.ebx, r.edx, r.ecx }; /* the vendor string's order */

	memset(&tide, 0, sizeof(tide));
	tide.amd = !memcmp(vendor, "AuthenticAMD", 12) || !memcmp(vendor, "HygonGenuine", 12);
	r = cpuid(TIDE_CPUID_SIGNATURE, 0);
	if (!regs_say(&r, "TideTideTide"))
		return false;
	tide.present = true;
	tide.max_leaf = r.eax;
	if (tide.max_leaf >= TIDE_CPUID_FEATURES) {
		r = cpuid(TIDE_CPUID_FEATURES, 0);
		tide.features = r.eax;
		tide.min_hint_order = r.ebx;
		tide.abi_version = r.ecx;
	}
	return true;
}

s32 hypercall_try(u32 nr, u32 a, u32 b, u32 c, u32 d, int *vector)
{
	u32 ret = nr;

	if (tide.amd)
		*vector = TRY("vmmcall", : "+a"(ret) : "b"(a), "c"(b), "d"(c), "S"(d)
			      : "memory");
	else
		*vector = TRY("vmcall", : "+a"(ret) : "b"(a), "c"(b), "d"(c), "S"(d)
			      : "memory");
	return (s32)ret;
}

s32 hypercall(u32 nr, u32 a, u32 b, u32 c, u32 d)
{
	int vector;
	s32 ret = hypercall_try(nr, a, b, c, d, &vector);

	if (vector != TRAP_NONE) {
		printf("%s: hypercall %u raised %s: no Tide here?\n", guest_name, nr,
		       trap_name(vector));
		exit(EXIT_EXCEPTION);
	}
	return ret;
}

void tide_print_stats(const char *who)
{
	static const char *const names[TIDE_STAT_COUNT] = {
		[TIDE_STAT_ABI_VERSION] = "abi", [TIDE_STAT_RESIDENT] = "resident",
		[TIDE_STAT_FAULTS] = "faults", [TIDE_STAT_ZERO_FILLS] = "zero_fills",
		[TIDE_STAT_HUGE] = "huge", [TIDE_STAT_SWAPPED] = "swapped",
		[TIDE_STAT_SWAP_INS] = "swap_ins", [TIDE_STAT_SWAP_OUTS] = "swap_outs",
		[TIDE_STAT_HINTED] = "hinted",
	};
	static u64 stats[TIDE_STAT_COUNT];
	s32 n;

	if (!(tide.features & TIDE_FEAT_STATS)) {
		printf("%s: stats not offered (Tide features 0x%x)\n", who, tide.features);
		return;
	}
	n = hypercall(TIDE_HC_STATS, (u32)stats, sizeof(stats), 0, 0);
	if (n < 0) {
		printf("%s: stats failed: error %d\n", who, n);
		return;
	}
	printf("%s: stats", who);
	for (int i = TIDE_STAT_RESIDENT; i < n / 8 && i < TIDE_STAT_COUNT; i++)
		printf(" %s=%llu", names[i], stats[i]);
	printf("\n");
}
