/*
 * hinthog: Alexander Duyck's memhog scenario for free page hints. Each
 * round allocates N MiB through the page-frame allocator (pfa.h) in 2 MiB
 * blocks (smaller ones once those run out), writes a per-page pattern into
 * every page, verifies it, frees everything and flushes the report queue:
 * with hints on, every freed block of the report order or more has then
 * been hinted to Tide, which may drop the memory behind it. The phases are
 * timed with RDTSC, so runs with hints=1 and hints=0 (the baseline) compare
 * the cost of reporting and of faulting the memory back in next round.
 *
 * Options: mib=N (90% of the RAM pfa manages), rounds=R (1), hints=0|1 (1),
 * report_order=K (9), touch=0|1 (1: write and verify every word of every
 * page; 0: only the first word of each page), verify_zero=0|1 (0: after the
 * last round, check that one word of every hinted page reads 0; under Tide
 * with hints on), idle=0|1 (0; 1: halt with interrupts enabled at the end,
 * which Tide treats as parked, to keep the guest alive for the next run).
 * Under Tide it prints the STATS counters after the rounds.
 * Exit: 0 ok, 1 a page held the wrong value, 3 bad options or no memory.
 */
#include "guest/lib/cmdline.h"
#include "guest/lib/cpu.h"
#include "guest/lib/exit.h"
#include "guest/lib/guest.h"
#include "guest/lib/io.h"
#include "guest/lib/pfa.h"
#include "guest/lib/printf.h"
#include "guest/lib/tide.h"

const char guest_name[] = "hinthog";

#define WORDS_PER_PAGE (PAGE_SIZE / 4)
#define HOG_ORDER 9 /* 2 MiB blocks */
#define MAX_BLOCKS 16384 /* enough for 4 GiB in 2 MiB blocks, and a tail */

struct block {
	u32 addr, order;
};

static struct block blocks[MAX_BLOCKS];
static u32 nblocks;
static bool touch_all;

/* Never 0 (what a hinted page reads) for any page and round. */
static u32 pattern(u32 page, u32 round)
{
	u32 h = page ^ (round * 0x9e3779b9u);

	h ^= h >> 16;
	h *= 0x7feb352du;
	h ^= h >> 15;
	h *= 0x846ca68bu;
	h ^= h >> 16;
	return h ? h : 0x5a5a5a5au;
}

static void fill_block(const struct block *b, u32 round)
{
	u32 words = touch_all ? WORDS_PER_PAGE : 1;

	for (u32 page = b->addr; page < b->addr + (PAGE_SIZE << b->order); page += PAGE_SIZE) {
		volatile u32 *p = (volatile u32 *)page;
		u32 v = pattern(page, round);

		for (u32 i = 0; i < words; i++)
			p[i] = v;
	}
}

static void verify_block(const struct block *b, u32 round)
{
	u32 words = touch_all ? WORDS_PER_PAGE : 1;

	for (u32 page = b->addr; page < b->addr + (PAGE_SIZE << b->order); page += PAGE_SIZE) {
		const volatile u32 *p = (const volatile u32 *)page;
		u32 want = pattern(page, round);

		for (u32 i = 0; i < words; i++) {
			if (p[i] != want) {
				printf("hinthog: verify FAILED in round %u at 0x%08x: expected 0x%08x,"
				       " found 0x%08x\n",
				       round, page + i * 4, want, p[i]);
				exit(EXIT_FAIL);
			}
		}
	}
}

/* Allocates and fills `pages` pages: 2 MiB blocks first, then smaller ones. */
static void alloc_and_touch(u32 pages, u32 round)
{
	unsigned int order = HOG_ORDER;

	nblocks = 0;
	while (pages) {
		u32 addr;

		while ((1u << order) > pages)
			order--;
		addr = pfa_alloc(order);
		if (!addr) {
			if (!order) {
				printf("hinthog: error: out of memory with %u pages to go\n", pages);
				exit(EXIT_USAGE);
			}
			order--; /* no block this big left: stay smaller from now on */
			continue;
		}
		if (nblocks == MAX_BLOCKS) {
			printf("hinthog: error: more than %u blocks\n", MAX_BLOCKS);
			exit(EXIT_USAGE);
		}
		blocks[nblocks].addr = addr;
		blocks[nblocks].order = order;
		fill_block(&blocks[nblocks], round);
		nblocks++;
		pages -= 1u << order;
	}
}

static void round_run(u32 round, u32 mib)
{
	struct pfa_stats before = *pfa_stats();
	const struct pfa_stats *after;
	u64 t0, t_touch, t_free;

	t0 = rdtsc();
	alloc_and_touch(mib * (MiB / PAGE_SIZE), round);
	t_touch = rdtsc() - t0;

	for (u32 k = 0; k < nblocks; k++)
		verify_block(&blocks[k], round);

	t0 = rdtsc();
	for (u32 k = 0; k < nblocks; k++)
		pfa_free(blocks[k].addr, blocks[k].order);
	pfa_report_flush();
	t_free = rdtsc() - t0;

	after = pfa_stats();
	printf("hinthog: round %u: alloc+touch %u MiB in %llu cycles, free in %llu cycles,"
	       " reported %u blocks (%llu pages) in %u hypercalls",
	       round, mib, t_touch, t_free, after->blocks_reported - before.blocks_reported,
	       after->pages_reported - before.pages_reported,
	       after->hypercalls - before.hypercalls);
	if (after->errors != before.errors)
		printf(", %u failed (last error %d)", after->errors - before.errors,
		       after->last_error);
	printf("\n");
}

/*
 * One word of each page of the last round that pfa says was hinted must
 * read 0: Tide dropped it. Pages not hinted still hold their pattern.
 */
static void verify_zero(void)
{
	u32 checked = 0;

	for (u32 k = 0; k < nblocks; k++) {
		const struct block *b = &blocks[k];

		for (u32 page = b->addr; page < b->addr + (PAGE_SIZE << b->order);
		     page += PAGE_SIZE) {
			u32 v;

			if (!pfa_page_reported(page))
				continue;
			v = *(const volatile u32 *)page;
			if (v) {
				printf("hinthog: hinted page at 0x%08x reads 0x%08x, not 0\n", page, v);
				exit(EXIT_FAIL);
			}
			checked++;
		}
	}
	if (checked)
		printf("hinthog: hinted pages read zero (%u pages checked)\n", checked);
	else
		printf("hinthog: verify_zero: no page was hinted, nothing to check\n");
}

/*
 * HLT with interrupts enabled: Tide parks the guest. All IRQs are masked
 * first, so that on bare QEMU the BIOS's timer (vector 8 with the PICs as
 * the BIOS left them) cannot arrive as a "#DF".
 */
static void __noreturn idle(void)
{
	printf("hinthog: idle\n");
	outb(0x21, 0xff);
	outb(0xa1, 0xff);
	for (;;)
		asm volatile("sti; hlt");
}

static u64 option(const char *key, u64 def, u64 min, u64 max)
{
	u64 v = def;
	int r = cmdline_u64(key, &v);

	if (r < 0 || v < min || v > max) {
		printf("hinthog: error: %s must be a number from %llu to %llu\n", key, min, max);
		exit(EXIT_USAGE);
	}
	return v;
}

int guest_main(u32 magic __unused, u32 mbi __unused)
{
	static const char *const known[] = {
		"mib", "rounds", "hints", "report_order", "touch", "verify_zero", "idle", NULL,
	};
	u64 mib, rounds, hints, report_order, idle_at_end, check_zero;
	u32 free_mib;

	printf("hinthog: options '%s'\n", cmdline_args());
	cmdline_check(known); /* warns; a loader may add options of its own */
	if (pfa_init() < 0)
		exit(EXIT_USAGE);
	if (tide.present)
		printf("hinthog: under Tide (ABI %u, features 0x%x, smallest hint order %u)\n",
		       tide.abi_version, tide.features, tide.min_hint_order);
	else
		printf("hinthog: not under Tide\n");
	free_mib = pfa_free_pages() / (MiB / PAGE_SIZE);
	printf("hinthog: pfa: %u MiB free in 0x%08x-0x%08llx, %u KiB of page metadata\n",
	       free_mib, pfa_low(), pfa_high() - 1, pfa_metadata_bytes() / KiB);

	mib = option("mib", (u64)free_mib * 9 / 10, 1, free_mib ? free_mib : 1);
	rounds = option("rounds", 1, 1, 1000000);
	hints = option("hints", 1, 0, 1);
	report_order = option("report_order", PFA_REPORT_ORDER_DEFAULT, 0, PFA_MAX_ORDER);
	touch_all = option("touch", 1, 0, 1);
	check_zero = option("verify_zero", 0, 0, 1);
	idle_at_end = option("idle", 0, 0, 1);
	if (mib > free_mib) {
		printf("hinthog: error: mib=%llu but only %u MiB are free\n", mib, free_mib);
		exit(EXIT_USAGE);
	}
	pfa_set_hints(hints);
	pfa_set_report_order((unsigned int)report_order);
	printf("hinthog: %llu MiB x %llu rounds, hints %s, report order %u\n", mib, rounds,
	       pfa_hint_mode_name(), pfa_report_order());

	for (u32 r = 1; r <= rounds; r++)
		round_run(r, (u32)mib);

	if (tide.present)
		tide_print_stats("hinthog");
	if (check_zero)
		verify_zero();
	printf("hinthog: done\n");
	if (idle_at_end)
		idle();
	return EXIT_OK;
}
