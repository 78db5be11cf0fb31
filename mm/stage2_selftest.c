/*
 * Self-test of guest-physical memory (selftest=stage2) on a scratch guest
 * with the real back end's stage-2 format: a fault maps a whole 2 MiB frame,
 * invalidating one 4 KiB page of it splits the mapping and the frame without
 * losing the other 511 pages' contents, the invalidated page comes back
 * zeroed, and teardown returns every frame and table page.
 */
#include "kernel/errno.h"
#include "kernel/guest.h"
#include "kernel/printk.h"
#include "kernel/selftest.h"
#include "kernel/selftest_table.h"
#include "kernel/string.h"
#include "mm/frame_alloc.h"
#include "mm/stage2.h"

#define GROUP "stage2"
#define HUGE (2 * MiB)

static struct guest scratch;

static u32 pattern(u64 gpa)
{
	return (u32)(gpa >> PAGE_SHIFT) * 2654435761u + 1;
}

static bool page_holds(struct guest *g, u64 gpa, u32 want)
{
	const u32 *p = stage2_host_ptr(g, gpa);

	if (!p)
		return false;
	for (unsigned int i = 0; i < PAGE_SIZE / 4; i++)
		if (p[i] != want)
			return false;
	return true;
}

static unsigned int mapping_level(struct guest *g, u64 gpa)
{
	unsigned int level = 99;

	pt_lookup(&g->stage2.pt, gpa, NULL, &level, NULL);
	return level;
}

static void stage2_selftest(void)
{
	struct guest *g = &scratch;
	u64 free_before, victim = HUGE + 5 * PAGE_SIZE;
	int saved_huge = stage2_huge;
	bool same = true;

	if (!vcpu_ops && vcpu_backend_init()) {
		pr_info("selftest: stage2 needs VMX or SVM; not run\n");
		return;
	}
	free_before = frame_allocator.stats.free_frames;
	memset(g, 0, sizeof(*g));
	strlcpy(g->name, "selftest", sizeof(g->name));
	stage2_huge = 1;
	if (!selftest_check(GROUP, !vcpu_ops->guest_init(g) && !stage2_init(g, 8 * MiB), "init"))
		return;

	selftest_check(GROUP, stage2_fault(g, HUGE + 0x1234, STAGE2_WRITE) == 0 &&
				      mapping_level(g, HUGE) == 1 &&
				      g->stats.resident_pages == 512,
		       "fault_maps_2m");
	for (u64 gpa = HUGE; gpa < 2 * HUGE; gpa += PAGE_SIZE) {
		u32 *p = stage2_host_ptr(g, gpa);

		for (unsigned int i = 0; p && i < PAGE_SIZE / 4; i++)
			p[i] = pattern(gpa);
	}

	selftest_check(GROUP, stage2_invalidate(g, victim, PAGE_SIZE) == 0 &&
				      mapping_level(g, HUGE) == 0 &&
				      pt_lookup(&g->stage2.pt, victim, NULL, NULL, NULL) != 0 &&
				      g->stats.resident_pages == 511,
		       "invalidate_splits_2m");
	for (u64 gpa = HUGE; gpa < 2 * HUGE; gpa += PAGE_SIZE)
		if (gpa != victim)
			same &= page_holds(g, gpa, pattern(gpa));
	selftest_check(GROUP, same, "split_keeps_contents");
	selftest_check(GROUP, page_holds(g, victim, 0) && g->stats.resident_pages == 512,
		       "refault_reads_zeros");

	stage2_huge = 0;
	selftest_check(GROUP, stage2_fault(g, 3 * HUGE, STAGE2_READ) == 0 &&
				      mapping_level(g, 3 * HUGE) == 0,
		       "huge_off_maps_4k");
	stage2_huge = saved_huge;
	selftest_check(GROUP, stage2_fault(g, 8 * MiB, STAGE2_READ) == -EFAULT, "outside_ram_refused");

	stage2_invalidate(g, 0, 8 * MiB);
	selftest_check(GROUP, g->stats.resident_pages == 0, "invalidate_all");
	stage2_destroy(g);
	vcpu_ops->guest_destroy(g);
	selftest_check(GROUP, frame_allocator.stats.free_frames == free_before,
		       "teardown_returns_every_frame");
}
DEFINE_SELFTEST(stage2, GROUP, stage2_selftest);
