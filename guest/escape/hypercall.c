/*
 * Hypercalls with bad arguments: unknown numbers, the reserved hint
 * numbers while Tide does not offer hints, STATS pointed outside RAM or
 * running off its end (Tide must refuse rather than write into memory
 * that is not ours), and any hypercall from ring 3 (-EPERM, nothing done).
 */
#include "escape.h"
#include "guest/lib/errno.h"
#include "guest/lib/printf.h"
#include "guest/lib/string.h"
#include "guest/lib/tide.h"
#include "guest/lib/trap.h"
#include "guest/lib/user.h"

#define STATS_LEN (TIDE_STAT_COUNT * 8)
#define MARK 0xa5

static u64 stats[TIDE_STAT_COUNT];
static s32 user_ret[2];
static int user_vec[2];

static void check_unknown(void)
{
	/* 1-4 are the hints, STATS and TRACE: 5 is the first unused number */
	static const u32 numbers[] = { 0, 5, 999, 0x80000003u, 0xffffffffu };

	for (u32 i = 0; i < ARRAY_SIZE(numbers); i++) {
		char name[32];
		s32 r = hypercall(numbers[i], 0, 0, 0, 0);

		snprintf(name, sizeof(name), numbers[i] < 0x10000 ? "hypercall %u" :
			 "hypercall 0x%x", numbers[i]);
		report(name, r == -ENOSYS, "returned %d, want -ENOSYS", r);
	}
}

static void check_reserved(void)
{
	static const struct {
		u32 nr, feature;
	} hints[] = {
		{ TIDE_HC_FREE_HINT, TIDE_FEAT_FREE_HINT },
		{ TIDE_HC_BATCH_HINT, TIDE_FEAT_BATCH_HINT },
	};

	for (u32 i = 0; i < ARRAY_SIZE(hints); i++) {
		char name[40];
		s32 r;

		snprintf(name, sizeof(name), "hypercall %u (reserved)", hints[i].nr);
		if (tide.features & hints[i].feature) {
			/* its arguments are not ours to guess: it could free our RAM */
			skip(name, "offered (features 0x%x)", tide.features);
			continue;
		}
		r = hypercall(hints[i].nr, 0, 0, 0, 0);
		report(name, r == -ENOSYS, "returned %d, want -ENOSYS", r);
	}
}

/* STATS(gpa, len) must fail; -ENOSYS stands in for -EFAULT without STATS. */
static void stats_must_fail(const char *name, u64 gpa, u32 len)
{
	s32 want = (tide.features & TIDE_FEAT_STATS) ? -EFAULT : -ENOSYS;
	s32 r = hypercall(TIDE_HC_STATS, (u32)gpa, len, 0, 0);

	report(name, r == want, "STATS(0x%llx, 0x%x) returned %d, want %d", gpa, len, r, want);
}

static void check_stats(void)
{
	static const u32 far[] = { 0xc0000000u, 0xfee00000u, 0xfffffff8u };
	char name[64];

	if (!ram_end) {
		skip("STATS outside RAM", "the loader gave no memory size");
		return;
	}
	if (nothing_there(ram_end))
		stats_must_fail("STATS buffer at the end of RAM", ram_end, STATS_LEN);
	for (u32 i = 0; i < ARRAY_SIZE(far); i++) {
		if (!nothing_there(far[i]))
			continue;
		snprintf(name, sizeof(name), "STATS buffer at 0x%x", far[i]);
		stats_must_fail(name, far[i], STATS_LEN);
	}
	stats_must_fail("STATS huge length at the end of RAM", ram_end - 8, 0xffffffffu);
	stats_must_fail("STATS length running past the end of RAM", ram_end - 8, STATS_LEN);
}

/* Runs at CPL 3: no printf here. */
static void from_ring3(void)
{
	user_ret[0] = hypercall_try(TIDE_HC_STATS, (u32)stats, STATS_LEN, 0, 0, &user_vec[0]);
	user_ret[1] = hypercall_try(999, 0, 0, 0, 0, &user_vec[1]);
}

static void check_ring3(void)
{
	bool untouched = true;
	char why[96];

	memset(stats, MARK, sizeof(stats));
	user_call(from_ring3);
	for (u32 i = 0; i < sizeof(stats); i++)
		if (((u8 *)stats)[i] != MARK)
			untouched = false;
	if (user_vec[0] != TRAP_NONE || user_vec[1] != TRAP_NONE)
		snprintf(why, sizeof(why), "raised %s and %s, want -EPERM",
			 trap_name(user_vec[0]), trap_name(user_vec[1]));
	else
		snprintf(why, sizeof(why), "STATS returned %d, buffer %s; 999 returned %d",
			 user_ret[0], untouched ? "untouched" : "WRITTEN", user_ret[1]);
	report("hypercalls from ring 3",
	       user_ret[0] == -EPERM && user_ret[1] == -EPERM && untouched &&
		       user_vec[0] == TRAP_NONE && user_vec[1] == TRAP_NONE,
	       "%s", why);
}

void check_hypercalls(void)
{
	if (!under_tide) {
		if (all_checks)
			check_ring3(); /* caught #UD: exercises user.h and TRY */
		return;
	}
	check_unknown();
	check_reserved();
	check_stats();
	check_ring3();
}
