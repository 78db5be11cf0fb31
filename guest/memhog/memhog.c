/*
 * memhog: touches N MiB of guest RAM page by page, verifies it, and does it
 * again for each pass, timing the touches with RDTSC. Every u32 of a 4 KiB
 * page holds pattern(physical address of the page, version), version being
 * the pass, so a page that is lost (zero-filled again), swapped back to the
 * wrong place or aliased with another shows up as a wrong value. From the
 * second pass on, the touch first checks that the page still holds the
 * previous pass's pattern.
 *
 * The soak (rounds=R, for overcommit: pages swapped out and back in) then
 * does R rounds over random pages of the range: each picked page is
 * verified, then rewritten with its next version. A u16 per page counts
 * its rewrites (the array is in .bss, so never in the touched range, which
 * starts at or above the image end), and sweep=1 verifies every page at its
 * current version at the end. The page picks come from a xorshift32 PRNG and
 * every pattern mixes in a seed, both from seed=S (default: a hash of the
 * command line and the RAM size), so a run is reproducible and another
 * guest's pages read as wrong. For one page, pattern() differs for every
 * version and every seed (see there).
 *
 * Options: mib=N (16), passes=P (2), start=ADDR (2 MiB, above the image),
 * rounds=R (0), per_round=N (a quarter of the pages), seed=S, sweep=0|1.
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
#define SOAK_MAX_PAGES (1024 * MiB / PAGE_SIZE) /* 1 GiB: 512 KiB of counters */

struct bad {
	u32 count; /* pages with at least one wrong word */
	u32 addr, expected, found; /* the first wrong word */
	u32 version; /* the version its page should have had */
};


static u32 seed_mix; /* hash of seed=, XORed into every pattern */
static u32 rng; /* xorshift32 state, never 0 */
/* Soak rewrites of each page: its version is (passes - 1) + rewrites[i]. */
static u16 rewrites[SOAK_MAX_PAGES];

/* A bijection of u32 (odd multipliers and xorshifts), with 0 -> 0. */
static u32 mix32(u32 h)
{
	h ^= h >> 16;
	h *= 0x7feb352du;
	h ^= h >> 15;
	h *= 0x846ca68bu;
	h ^= h >> 16;
	return h;
}

/*
 * Never 0 (a fresh zero page) nor all ones (no memory there). For a fixed
 * page the input of mix32 differs for every version (odd multiplier) and
 * every seed (mix32 is a bijection), so an older version of the page or the
 * same page of a guest with another seed never matches (but for the rare
 * value the remap below makes twice).
 */
static u32 pattern(u32 page, u32 version)
{
	u32 h = mix32(page ^ (version * 0x9e3779b9u) ^ seed_mix);

	if (h == 0 || h == 0xffffffffu)
		h ^= 0x5a5a5a5au;
	return h;
}

/* FNV-1a of the command line and the RAM size: the default seed. */
static u32 default_seed(void)
{
	u32 h = 0x811c9dc5u;
	u64 ram = mb_map_total() ? mb_map_total() : mb_ram_end();

	for (const char *c = mb_cmdline(); *c; c++)
		h = (h ^ (u8)*c) * 0x01000193u;
	for (int i = 0; i < 8; i++)
		h = (h ^ (u8)(ram >> (8 * i))) * 0x01000193u;
	return h;
}

static u32 xorshift32(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 17;
	rng ^= rng << 5;
	return rng;
}

/* Uniform enough in [0, n): the high half of a 32x32-bit product. */
static u32 random_below(u32 n)
{
	return (u32)(((u64)xorshift32() * n) >> 32);
}

static bool check_page(u32 page, u32 version, struct bad *bad)
{
	const volatile u32 *p = (const volatile u32 *)page;
	u32 want = pattern(page, version);

	for (u32 i = 0; i < WORDS_PER_PAGE; i++) {
		u32 v = p[i];

		if (v != want) {
			if (!bad->count++) {
				bad->addr = page + i * 4;
				bad->expected = want;
				bad->found = v;
				bad->version = version;
			}
			return false;
		}
	}
	return true;
}

static void fill_page(u32 page, u32 version)
{
	volatile u32 *p = (volatile u32 *)page;
	u32 v = pattern(page, version);

	for (u32 i = 0; i < WORDS_PER_PAGE; i++)
		p[i] = v;
}

/* Says what the wrong value is, when it is something we know. */
static void explain_bad(const struct bad *bad)
{
	u32 page = bad->addr & ~(PAGE_SIZE - 1);

	if (bad->found == 0) {
		printf("memhog: the word reads 0: a page lost and zero-filled again?\n");
		return;
	}
	for (u32 v = 0; v < bad->version; v++) {
		if (pattern(page, v) == bad->found) {
			printf("memhog: it is version %u of this page, %u expected: a stale copy\n",
			       v, bad->version);
			return;
		}
	}
}

/* what FAILED [in <unit> n] at ...; exits. */
static void __noreturn report_bad(const char *what, const char *unit, u32 n,
				  const struct bad *bad)
{
	printf("memhog: %s FAILED", what);
	if (unit)
		printf(" in %s %u", unit, n);
	printf(" at 0x%08x: expected 0x%08x, found 0x%08x (%u bad pages)\n", bad->addr,
	       bad->expected, bad->found, bad->count);
	explain_bad(bad);
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

/*
 * rounds x per_round random pages of [start, start + pages pages): verify
 * the page's current version, rewrite it with the next one.
 */
static void soak(u32 start, u32 pages, u32 base, u32 rounds, u32 per_round)
{
	for (u32 r = 0; r < rounds; r++) {
		struct bad bad = { 0 };
		u64 t0 = rdtsc(), cycles;

		for (u32 k = 0; k < per_round; k++) {
			u32 i = random_below(pages);
			u32 page = start + i * PAGE_SIZE;

			check_page(page, base + rewrites[i], &bad);
			rewrites[i]++; /* wraps after 65536 rewrites: fine */
			fill_page(page, base + rewrites[i]);
		}
		cycles = rdtsc() - t0;
		if (bad.count)
			report_bad("soak", "round", r + 1, &bad);
		printf("memhog: round %u of %u: %u pages verified and rewritten in %llu cycles\n",
		       r + 1, rounds, per_round, cycles);
	}
	printf("memhog: soak ok\n");
}

static void final_sweep(u32 start, u32 pages, u32 base)
{
	struct bad bad = { 0 };

	for (u32 i = 0; i < pages; i++)
		check_page(start + i * PAGE_SIZE, base + rewrites[i], &bad);
	if (bad.count)
		report_bad("final sweep", NULL, 0, &bad);
	printf("memhog: final sweep ok\n");
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
	static const char *const known[] = {
		"mib", "passes", "start", "rounds", "per_round", "seed", "sweep", NULL,
	};
	u32 image_end = ((u32)_end + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
	u64 mib, passes, start, size, rounds, per_round, seed, sweep;
	u32 pages;

	printf("memhog: options '%s'\n", cmdline_args());
	cmdline_check(known); /* warns; a loader may add options of its own */
	mib = option("mib", 16, 1, 4095, false);
	passes = option("passes", 2, 1, 1000, false);
	start = option("start", 2 * MiB, image_end, 0xffffffffu, true);
	size = mib * MiB;
	pages = (u32)(size / PAGE_SIZE);
	rounds = option("rounds", 0, 0, 1000000, false);
	per_round = option("per_round", pages / 4, 1, 1u << 24, false);
	seed = option("seed", default_seed(), 0, 0xffffffffu, false);
	sweep = option("sweep", 0, 0, 1, false);
	seed_mix = mix32((u32)seed);
	rng = mix32((u32)seed + 0x9e3779b9u) ?: 1;
	if ((rounds || sweep) && pages > SOAK_MAX_PAGES) {
		printf("memhog: error: rounds= and sweep= need mib=%u or less\n",
		       SOAK_MAX_PAGES / (MiB / PAGE_SIZE));
		exit(EXIT_USAGE);
	}
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
	if ((rounds || sweep) && !mb_range_is_ram((u32)rewrites, sizeof(rewrites))) {
		printf("memhog: error: the page versions at 0x%x-0x%x are not all RAM\n",
		       (u32)rewrites, (u32)rewrites + sizeof(rewrites) - 1);
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
				check_page(page, pass - 1, &bad);
			fill_page(page, pass);
		}
		cycles = rdtsc() - t0;
		if (bad.count)
			report_bad("re-verify", "pass", pass, &bad);
		printf("memhog: touched %llu MiB in %llu cycles (%llu cycles/page)\n", mib,
		       cycles, div_u64(cycles, pages));

		for (u32 i = 0; i < pages; i++) {
			u32 page = (u32)start + i * PAGE_SIZE;

			check_page(page, pass, &bad);
		}
		if (bad.count)
			report_bad("verify", "pass", pass + 1, &bad);
		printf("memhog: verify ok\n");
	}

	if (rounds) {
		printf("memhog: soak: %llu rounds of %llu random pages, seed 0x%08llx\n", rounds,
		       per_round, seed);
		soak((u32)start, pages, (u32)passes - 1, (u32)rounds, (u32)per_round);
	}
	if (sweep)
		final_sweep((u32)start, pages, (u32)passes - 1);

	if (tide.present)
		tide_print_stats("memhog");
	printf("memhog: done\n");
	return EXIT_OK;
}
