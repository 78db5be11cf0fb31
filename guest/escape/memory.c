/*
 * Memory-level escapes: guest-physical addresses that are not our RAM must
 * lead nowhere. Under Tide reads there give all ones and writes vanish
 * (write, read back: still all ones): just past the end of RAM (same and
 * next 2 MiB page, so a huge stage-2 mapping that overhangs RAM shows),
 * far below 4 GiB (PCI hole, IOAPIC, HPET) and above 4 GiB up to
 * MAXPHYADDR (through PAE paging, phys.h). Addresses the memory map
 * describes are left alone.
 */
#include "escape.h"
#include "guest/lib/phys.h"
#include "guest/lib/printf.h"

#define PROBE_VALUE 0x5aa5c33cu

/*
 * Reads addr, writes PROBE_VALUE, reads again: both reads must be all
 * ones. Returns false and describes the first difference in why.
 */
static bool probe(u64 addr, bool write, char *why, size_t len)
{
	u32 before = 0, after = 0xffffffffu;

	if (phys_read32(addr, &before) < 0) {
		snprintf(why, len, "0x%llx is beyond MAXPHYADDR", addr);
		return true;
	}
	if (write) {
		phys_write32(addr, PROBE_VALUE);
		phys_read32(addr, &after);
	}
	if (before != 0xffffffffu) {
		snprintf(why, len, "0x%llx read 0x%08x", addr, before);
		return false;
	}
	if (after != 0xffffffffu) {
		snprintf(why, len, "0x%llx read 0x%08x after a write of 0x%08x", addr, after,
			 PROBE_VALUE);
		return false;
	}
	return true;
}

/* One report line for a list of addresses; those with something there are skipped. */
static void probe_all(const char *name, const u64 *addrs, int n, bool write)
{
	char why[96] = "";
	int done = 0;

	for (int i = 0; i < n; i++) {
		if (!nothing_there(addrs[i]))
			continue;
		done++;
		if (!probe(addrs[i], write, why, sizeof(why))) {
			report(name, false, "%s", why);
			return;
		}
	}
	if (done)
		report(name, true, "%d addresses, all ones", done);
	else
		skip(name, "no address qualified");
}

void check_memory(void)
{
	u64 end = ram_end, next2m = (ram_end + (2u * MiB)) & ~(u64)(2u * MiB - 1);
	u64 past[] = { end, end + 4, end + PAGE_SIZE, next2m - 4, next2m, end + 64u * MiB };
	u64 far[] = { 0xc0000000u, 0xe0000000u, 0xfec00000u, 0xfed00000u, 0xfee01000u };
	unsigned int bits = phys_addr_bits();
	u64 top = 1ull << bits;
	u64 high[] = { 1ull << 32, (1ull << 32) + 2u * MiB, top >> 1, top - PAGE_SIZE, top - 4 };

	if (!all_checks)
		return;
	if (!ram_end) {
		skip("memory past RAM", "the loader gave no memory size");
		return;
	}
	probe_all("reads past the end of RAM", past, ARRAY_SIZE(past), false);
	probe_all("writes past the end of RAM", past, ARRAY_SIZE(past), true);
	probe_all("GPAs far beyond RAM below 4 GiB", far, ARRAY_SIZE(far), true);
	probe_all("GPAs above 4 GiB", high, ARRAY_SIZE(high), true);
}
