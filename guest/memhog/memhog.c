/*
 * memhog: touches N MiB of guest RAM page by page, verifies it, and does it
 * again for each pass, timing the touches with RDTSC. Every u32 of a 4 KiB
 * page holds pattern(physical address of the page, pass), so a page that is
 * lost (zero-filled again), swapped back to the wrong place or aliased with
 * another shows up as a wrong value. From the second pass on, the touch
 * first checks that the page still holds the previous pass's pattern.
 *
 * Options: mib=N (16), passes=P (2), start=ADDR (2 MiB, above the image).
 * Under Tide it prints the STATS hypercall's counters at the end.
 * Exit: 0 ok, 1 a page held the wrong value, 3 bad options or not enough RAM.
 */
#include "guest/lib/cmdline.h"
#include "guest/lib/cpu.h"
#include "guest/lib/div64.h"
#include "guest/lib/exit.h"
#include "guest/lib/guest.h"
#include "guest/lib/io.h"
#include "guest/lib/multiboot.h"
#include "guest/lib/printf.h"
#include "guest/lib/tide.h"

const char guest_name[] = "memhog";

#define WORDS_PER_PAGE (PAGE_SIZE / 4)

struct bad {
	u32 count; /* pages with at least one wrong word */
	u32 addr, expected, found; /* the first wrong word */
};

static u64 stats[TIDE_STAT_COUNT];

/* Never 0 (a fresh zero page) nor all ones (no memory there). */
static u32 pattern(u32 page, u32 pass)
{
	u32 h = page ^ (pass * 0x9e3779b9u);

	h ^= h >> 16;
	h *= 0x7feb352du;
	h ^= h >> 15;
	h *= 0x846ca68bu;
	h ^= h >> 16;
	if (h == 0 || h == 0xffffffffu)
		h ^= 0x5a5a5a5au;
	return h;
}

static bool check_page(u32 page, u32 want, struct bad *bad)
{
	const volatile u32 *p = (const volatile u32 *)page;

	for (u32 i = 0; i < WORDS_PER_PAGE; i++) {
		u32 v = p[i];

		if (v != want) {
			if (!bad->count++) {
				bad->addr = page + i * 4;
				bad->expected = want;
				bad->found = v;
			}
			return false;
		}
	}
	return true;
}

static void fill_page(u32 page, u32 v)
{
	volatile u32 *p = (volatile u32 *)page;

	for (u32 i = 0; i < WORDS_PER_PAGE; i++)
		p[i] = v;
}

static void report_bad(const char *what, u32 pass, const struct bad *bad)
{
	printf("memhog: %s FAILED in pass %u at 0x%08x: expected 0x%08x, found 0x%08x"
	       " (%u bad pages)\n",
	       what, pass + 1, bad->addr, bad->expected, bad->found, bad->count);
	exit(EXIT_FAIL);
}

static u64 option(const char *key, u64 def, u64 min, u64 max, bool address)
{
	u64 v = def;
	int r = cmdline_u64(key, &v);

	if (r < 0 || v < min || v > max) {
		printf(address ? "memhog: error: %s must be an address from 0x%llx to 0x%llx\n" :
				 "memhog: error: %s must be a number from %llu to %llu\n",
		       key, min, max);
		exit(EXIT_USAGE);
	}
	return v;
}

/* Number of whole fields STATS wrote, or -errno. */
static int read_stats(void)
{
	s32 r = hypercall(TIDE_HC_STATS, (u32)stats, sizeof(stats), 0, 0);

	return r < 0 ? r : r / 8;
}

static void print_stats(void)
{
	static const char *const names[TIDE_STAT_COUNT] = {
		[TIDE_STAT_ABI_VERSION] = "abi", [TIDE_STAT_RESIDENT] = "resident",
		[TIDE_STAT_FAULTS] = "faults", [TIDE_STAT_ZERO_FILLS] = "zero_fills",
		[TIDE_STAT_HUGE] = "huge", [TIDE_STAT_SWAPPED] = "swapped",
		[TIDE_STAT_SWAP_INS] = "swap_ins", [TIDE_STAT_SWAP_OUTS] = "swap_outs",
		[TIDE_STAT_HINTED] = "hinted",
	};
	int n;

	if (!(tide.features & TIDE_FEAT_STATS)) {
		printf("memhog: stats not offered (Tide features 0x%x)\n", tide.features);
		return;
	}
	n = read_stats();
	if (n < 0) {
		printf("memhog: stats failed: error %d\n", n);
		return;
	}
	printf("memhog: stats");
	for (int i = TIDE_STAT_RESIDENT; i < n && i < TIDE_STAT_COUNT; i++)
		printf(" %s=%llu", names[i], stats[i]);
	printf("\n");
}

/* QEMU's fw_cfg, which Tide's virtual PC also has: signature and RAM size. */
static void report_fw_cfg(void)
{
	char sig[5];
	u64 ram = 0;

	outw(0x510, 0x0000); /* signature */
	for (int i = 0; i < 4; i++)
		sig[i] = inb(0x511);
	sig[4] = 0;
	outw(0x510, 0x0003); /* RAM size, little endian */
	for (int i = 0; i < 8; i++)
		ram |= (u64)inb(0x511) << (8 * i);
	printf("memhog: fw_cfg signature '%s', RAM %llu MiB\n", sig, ram >> 20);
}

int guest_main(u32 magic __unused, u32 mbi __unused)
{
	static const char *const known[] = { "mib", "passes", "start", NULL };
	u32 image_end = ((u32)_end + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
	u64 mib, passes, start, size;
	u32 pages;

	printf("memhog: options '%s'\n", cmdline_args());
	cmdline_check(known); /* warns; a loader may add options of its own */
	mib = option("mib", 16, 1, 4095, false);
	passes = option("passes", 2, 1, 1000, false);
	start = option("start", 2 * MiB, image_end, 0xffffffffu, true);
	size = mib * MiB;
	pages = (u32)(size / PAGE_SIZE);
	if (start % PAGE_SIZE) {
		printf("memhog: error: start=0x%llx is not 4 KiB aligned\n", start);
		exit(EXIT_USAGE);
	}
	for (int m = 0; m < mb_module_count(); m++) {
		const struct mb_module *mod = mb_module(m);
		const u8 *b = (const u8 *)mod->start;

		printf("memhog: module %d: %u bytes at 0x%x '%s', starting %02x %02x %02x %02x\n", m,
		       mod->end - mod->start, mod->start, mod->string, b[0], b[1], b[2], b[3]);
	}
	report_fw_cfg();
	printf("memhog: RAM: mem_upper %u KiB (to 0x%llx), map of %d entries with %llu MiB"
	       " available\n",
	       mb_mem_upper_kib(), mb_ram_end(), mb_map_count(), mb_map_total() >> 20);
	if (start + size > (1ull << 32) || !mb_range_is_ram(start, size)) {
		printf("memhog: error: 0x%llx-0x%llx (%llu MiB) is not all RAM\n", start,
		       start + size - 1, mib);
		exit(EXIT_USAGE);
	}

	if (tide_detect())
		printf("memhog: under Tide (ABI %u, features 0x%x)\n", tide.abi_version,
		       tide.features);
	else
		printf("memhog: not under Tide\n");

	for (u32 pass = 0; pass < passes; pass++) {
		struct bad bad = { 0 };
		u64 t0, cycles;

		printf("memhog: pass %u of %llu at 0x%llx\n", pass + 1, passes, start);
		t0 = rdtsc();
		for (u32 i = 0; i < pages; i++) {
			u32 page = (u32)start + i * PAGE_SIZE;

			if (pass)
				check_page(page, pattern(page, pass - 1), &bad);
			fill_page(page, pattern(page, pass));
		}
		cycles = rdtsc() - t0;
		if (bad.count)
			report_bad("re-verify", pass - 1, &bad);
		printf("memhog: touched %llu MiB in %llu cycles (%llu cycles/page)\n", mib,
		       cycles, div_u64(cycles, pages));

		for (u32 i = 0; i < pages; i++) {
			u32 page = (u32)start + i * PAGE_SIZE;

			check_page(page, pattern(page, pass), &bad);
		}
		if (bad.count)
			report_bad("verify", pass, &bad);
		printf("memhog: verify ok\n");
	}

	if (tide.present)
		print_stats();
	printf("memhog: done\n");
	return EXIT_OK;
}
