/*
 * hintcheck: the semantics of the free-page hints, checked from inside a
 * guest against Tide's own counters (STATS). One line per check,
 * `hintcheck: <name>: ok` or `FAILED (...)`; exit 0 only if all passed.
 *
 * mode=normal (default) runs the full set; mode=off expects every hint to
 * be refused with -EOPNOTSUPP (hints=off), mode=pinned with -EPERM, and
 * mode=swap (run it with a small guest_mem=) hints pages that were swapped
 * out and checks that they leave swap; mode=hammer makes thousands of random
 * hints, valid and invalid, single and batched, and checks that only the
 * documented results come back (a neighbour guest checks its memory).
 */
#include "guest/lib/cmdline.h"
#include "guest/lib/errno.h"
#include "guest/lib/exit.h"
#include "guest/lib/guest.h"
#include "guest/lib/multiboot.h"
#include "guest/lib/printf.h"
#include "guest/lib/string.h"
#include "guest/lib/tide.h"

const char guest_name[] = "hintcheck";

#define MIB (1024u * 1024u)
#define AREA (8 * MIB) /* the pages under test: [8 MiB, 16 MiB) */
#define PAGE 4096u

static u64 stats[TIDE_STAT_COUNT];
static int failures;
static struct {
	u64 gpa, order;
} list[520] __attribute__((aligned(16)));

static u64 stat(int field)
{
	hypercall(TIDE_HC_STATS, (u32)(unsigned long)stats, sizeof(stats), 0, 0);
	return stats[field];
}

static void check(const char *name, bool ok, const char *fmt, long long a, long long b)
{
	if (ok) {
		printf("hintcheck: %s: ok\n", name);
	} else {
		printf("hintcheck: %s: FAILED (", name);
		printf(fmt, a, b);
		printf(")\n");
		failures++;
	}
}

static void fill(u32 from, u32 len, u32 seed)
{
	for (u32 p = from; p < from + len; p += PAGE)
		for (u32 i = 0; i < PAGE / 4; i++)
			((volatile u32 *)p)[i] = p ^ seed ^ i;
}

static bool holds(u32 from, u32 len, u32 seed)
{
	for (u32 p = from; p < from + len; p += PAGE)
		for (u32 i = 0; i < PAGE / 4; i += 97)
			if (((volatile u32 *)p)[i] != (p ^ seed ^ i))
				return false;
	return true;
}

static bool reads_zero(u32 from, u32 len)
{
	for (u32 p = from; p < from + len; p += PAGE)
		for (u32 i = 0; i < PAGE / 4; i += 61)
			if (((volatile u32 *)p)[i])
				return false;
	return true;
}

static s32 hint(u32 gpa, u32 order)
{
	return hypercall(TIDE_HC_FREE_HINT, gpa, order, 0, 0);
}

static s32 batch(u32 count)
{
	return hypercall(TIDE_HC_BATCH_HINT, (u32)(unsigned long)list, count, 0, 0);
}

static void refused_mode(s32 want, const char *name)
{
	s32 r1 = hint(AREA, 9), r2;

	list[0].gpa = AREA;
	list[0].order = 0;
	r2 = batch(1);
	check(name, r1 == want && r2 == want, "got %lld and %lld", r1, r2);
}

static void normal_mode(void)
{
	u64 r0, r1;
	s32 r;

	check("advertised", (tide.features & 3) == 3, "features %#llx%lld", tide.features, 0);
	fill(AREA, AREA, 0x1234);
	r0 = stat(TIDE_STAT_RESIDENT);

	/* a whole 2 MiB block: its mapping goes at once */
	r = hint(AREA, 9);
	r1 = stat(TIDE_STAT_RESIDENT);
	check("order9_returns_0", r == 0, "returned %lld%lld", r, 0);
	check("order9_resident_drops_512", r0 - r1 == 512, "dropped %lld, not %lld", r0 - r1, 512);
	check("order9_reads_zero", reads_zero(AREA, 2 * MIB), "%lld%lld", 0, 0);
	check("neighbours_intact", holds(AREA + 2 * MIB, 6 * MIB, 0x1234), "%lld%lld", 0, 0);

	/* one 4 KiB page inside a 2 MiB mapping: split, only that page goes */
	r0 = stat(TIDE_STAT_RESIDENT);
	r = hint(AREA + 2 * MIB + 5 * PAGE, 0);
	r1 = stat(TIDE_STAT_RESIDENT);
	check("order0_in_2m_resident_drops_1", r == 0 && r0 - r1 == 1, "returned %lld, dropped %lld",
	      r, r0 - r1);
	check("order0_reads_zero", reads_zero(AREA + 2 * MIB + 5 * PAGE, PAGE), "%lld%lld", 0, 0);
	check("split_keeps_the_rest", holds(AREA + 2 * MIB, 5 * PAGE, 0x1234) &&
					      holds(AREA + 2 * MIB + 6 * PAGE, 2 * MIB - 6 * PAGE, 0x1234),
	      "%lld%lld", 0, 0);

	/* twice, and never touched: fine and cheap */
	check("hint_twice", hint(AREA, 9) == 0 && hint(AREA, 9) == 0, "%lld%lld", 0, 0);
	check("hint_untouched", hint(2 * AREA, 9) == 0, "%lld%lld", 0, 0);

	/* errors change nothing */
	r0 = stat(TIDE_STAT_RESIDENT);
	check("misaligned_einval", hint(AREA + 4 * MIB + PAGE, 9) == -EINVAL, "%lld%lld", 0, 0);
	check("order19_einval", hint(0, 19) == -EINVAL, "%lld%lld", 0, 0);
	check("outside_ram_efault", hint((u32)mb_ram_end(), 0) == -EFAULT, "%lld%lld", 0, 0);
	check("batch_too_long_einval", batch(513) == -EINVAL, "%lld%lld", 0, 0);
	check("batch_list_outside_efault",
	      hypercall(TIDE_HC_BATCH_HINT, (u32)mb_ram_end(), 4, 0, 0) == -EFAULT, "%lld%lld", 0, 0);
	for (int i = 0; i < 3; i++) {
		list[i].gpa = AREA + 4 * MIB + i * PAGE;
		list[i].order = 0;
	}
	list[3].gpa = AREA + 4 * MIB + PAGE; /* misaligned for order 9 */
	list[3].order = 9;
	r = batch(4);
	check("batch_bad_entry_applies_nothing", r == -EINVAL && holds(AREA + 4 * MIB, 3 * PAGE, 0x1234),
	      "returned %lld%lld", r, 0);
	r1 = stat(TIDE_STAT_RESIDENT);
	check("errors_change_nothing", r0 == r1, "resident %lld then %lld", r0, r1);

	/* a good batch: returns the count, all entries applied */
	for (int i = 0; i < 8; i++) {
		list[i].gpa = AREA + 4 * MIB + i * PAGE;
		list[i].order = 0;
	}
	r0 = stat(TIDE_STAT_RESIDENT);
	r = batch(8);
	r1 = stat(TIDE_STAT_RESIDENT);
	check("batch_returns_count", r == 8 && r0 - r1 == 8, "returned %lld, dropped %lld", r,
	      r0 - r1);
	check("batch_reads_zero", reads_zero(AREA + 4 * MIB, 8 * PAGE), "%lld%lld", 0, 0);
	check("counted_as_hinted", stat(TIDE_STAT_HINTED) >= 512 + 1 + 8, "hinted %lld%lld",
	      stat(TIDE_STAT_HINTED), 0);
}

/* Pages out in swap are released by a hint: swapped_now drops. */
static void swap_mode(void)
{
	u64 s0, s1;

	fill(AREA, AREA, 0x5678);
	fill(2 * AREA, AREA, 0x9abc); /* push the first area out */
	s0 = stat(TIDE_STAT_SWAPPED);
	for (u32 gpa = AREA; gpa < 2 * AREA; gpa += 2 * MIB)
		hint(gpa, 9);
	s1 = stat(TIDE_STAT_SWAPPED);
	check("some_pages_were_swapped", s0 > 0, "swapped %lld%lld", s0, 0);
	check("hint_releases_swapped_pages", s1 < s0, "swapped %lld, then %lld", s0, s1);
	check("hinted_swapped_pages_read_zero", reads_zero(AREA, AREA), "%lld%lld", 0, 0);
	check("the_rest_intact", holds(2 * AREA, AREA, 0x9abc), "%lld%lld", 0, 0);
}

static u32 rng = 0x2545f491;

static u32 next_random(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 17;
	rng ^= rng << 5;
	return rng;
}

/* A random range: mostly inside [8 MiB, end of RAM + 1/4), any alignment. */
static void random_hint(u32 *gpa, u32 *order)
{
	u32 span = (u32)mb_ram_end() + (u32)mb_ram_end() / 4 - AREA;

	*order = next_random() % 21; /* 19 and 20 are invalid */
	*gpa = AREA + next_random() % span;
	if (next_random() % 4) /* usually aligned, so that many are valid */
		*gpa &= ~((PAGE << (*order > 12 ? 12 : *order)) - 1);
	if (*gpa < AREA)
		*gpa = AREA; /* never our own image, stack or tables */
}

static void hammer_mode(u32 calls)
{
	u32 ok = 0, einval = 0, efault = 0, other = 0;

	for (u32 n = 0; n < calls; n++) {
		s32 r;

		if (next_random() % 3) {
			u32 gpa, order;

			random_hint(&gpa, &order);
			r = hint(gpa, order);
		} else {
			u32 count = next_random() % 520, gpa, order;

			for (u32 i = 0; i < count; i++) {
				random_hint(&gpa, &order);
				list[i].gpa = gpa;
				list[i].order = order;
			}
			if (next_random() % 8 == 0)
				r = hypercall(TIDE_HC_BATCH_HINT, (u32)mb_ram_end() + next_random() % MIB,
					      count, 0, 0);
			else
				r = batch(count);
			if (r == (s32)count)
				r = 0;
		}
		if (r == 0)
			ok++;
		else if (r == -EINVAL)
			einval++;
		else if (r == -EFAULT)
			efault++;
		else
			other++;
	}
	printf("hintcheck: hammer: %u calls: %u applied, %u -EINVAL, %u -EFAULT, %u other\n",
	       calls, ok, einval, efault, other);
	check("hammer_only_documented_results", other == 0 && ok && einval && efault,
	      "%lld unexpected results%lld", other, 0);
}

int guest_main(u32 magic __unused, u32 mbi __unused)
{
	static const char *const known[] = { "mode", NULL };
	const char *args = cmdline_args();

	cmdline_check(known);
	if (!tide_detect()) {
		printf("hintcheck: not under Tide, nothing to check\n");
		exit(EXIT_OK);
	}
	if (mb_ram_end() < 24 * MIB) {
		printf("hintcheck: needs mem=24M or more\n");
		exit(EXIT_USAGE);
	}
	if (!strncmp(args, "mode=off", 8))
		refused_mode(-EOPNOTSUPP, "hints_off_eopnotsupp");
	else if (!strncmp(args, "mode=pinned", 11))
		refused_mode(-EPERM, "pinned_eperm");
	else if (!strncmp(args, "mode=swap", 9))
		swap_mode();
	else if (!strncmp(args, "mode=hammer", 11))
		hammer_mode(20000);
	else
		normal_mode();
	printf("hintcheck: %d failed\n", failures);
	exit(failures ? EXIT_FAIL : EXIT_OK);
}
