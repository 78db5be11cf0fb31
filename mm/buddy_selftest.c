/*
 * In-hypervisor self-test of the buddy allocator (selftest=buddy). It runs
 * on the real allocator with the real zero_frames hook, so it checks what
 * the host unit tests cannot: that the hook really clears frame memory. Every
 * block it takes is given back in reverse order, and the error counter it
 * bumps on purpose is restored, so it leaves the allocator as it found it.
 */
#include "arch/x86/paging.h"
#include "kernel/errno.h"
#include "kernel/printk.h"
#include "kernel/selftest.h"
#include "mm/buddy.h"

#define GROUP "buddy"

/* Same free memory and layout counters (errors are compared separately). */
static bool same_free_state(const struct buddy_stats *a, const struct buddy_stats *b)
{
	unsigned int o;

	if (a->managed_frames != b->managed_frames || a->free_frames != b->free_frames)
		return false;
	for (o = 0; o <= BUDDY_MAX_ORDER; o++)
		if (a->free_blocks[o] != b->free_blocks[o])
			return false;
	return true;
}

/* True if the free of (pfn, order) is refused and changes nothing but errors. */
static bool free_refused(struct buddy *b, u64 pfn, unsigned int order)
{
	struct buddy_stats before, after;
	int ret;

	buddy_get_stats(b, &before);
	ret = buddy_free(b, pfn, order);
	buddy_get_stats(b, &after);
	return ret == -EINVAL && same_free_state(&before, &after) &&
	       after.errors == before.errors + 1;
}

static void test_each_order(struct buddy *b)
{
	s64 got[BUDDY_NR_ORDERS];
	bool each_ok = true, aligned = true, meta_ok = true, disjoint = true;
	struct buddy_stats st;
	unsigned int o, k;
	int i;

	for (o = 0; o <= BUDDY_MAX_ORDER; o++) {
		bool avail = false;
		struct frame *f;

		/* A block of order o exists iff some free block is at least that big. */
		buddy_get_stats(b, &st);
		for (k = o; k <= BUDDY_MAX_ORDER; k++)
			avail |= st.free_blocks[k] != 0;
		got[o] = buddy_alloc(b, o, 0, OWNER_HYPERVISOR);
		if (got[o] < 0) {
			each_ok &= !avail && got[o] == -ENOMEM;
			continue;
		}
		each_ok &= avail;
		aligned &= IS_ALIGNED((u64)got[o], BIT(o));
		f = buddy_frame(b, (u64)got[o]);
		meta_ok &= f && f->order == o && f->owner == OWNER_HYPERVISOR && f->refcount == 1;
		for (k = 0; k < o; k++)
			if (got[k] >= 0 && got[k] < got[o] + (s64)BIT(o) && got[o] < got[k] + (s64)BIT(k))
				disjoint = false;
	}
	for (i = BUDDY_MAX_ORDER; i >= 0; i--)
		if (got[i] >= 0 && buddy_free(b, (u64)got[i], (unsigned int)i))
			each_ok = false;
	selftest_check(GROUP, each_ok, "alloc_each_order");
	selftest_check(GROUP, aligned, "natural_alignment");
	selftest_check(GROUP, meta_ok, "head_metadata");
	selftest_check(GROUP, disjoint, "blocks_disjoint");
}

static void test_zeroing(struct buddy *b)
{
	const unsigned int order = 1;
	const u64 words = (PAGE_SIZE << order) / sizeof(u64);
	bool ok = true;
	s64 pfn;
	u64 *p, i;

	if (!b->zero_frames) {
		pr_err("buddy: selftest: no zero_frames hook\n");
		selftest_check(GROUP, false, "zeroing");
		return;
	}
	/*
	 * Dirty a block and give it back: with nothing else running, the next
	 * allocation of the same order takes the same block again (it merged
	 * back to the head of its list), so the hook really has work to do.
	 * The check below holds whichever block comes back.
	 */
	pfn = buddy_alloc(b, order, 0, OWNER_HYPERVISOR);
	if (pfn < 0) {
		selftest_check(GROUP, false, "zeroing");
		return;
	}
	p = phys_to_virt((u64)pfn << PAGE_SHIFT);
	for (i = 0; i < words; i++)
		p[i] = 0xa5a5a5a5a5a5a5a5ULL;
	buddy_free(b, (u64)pfn, order);

	pfn = buddy_alloc(b, order, BUDDY_ZERO, OWNER_HYPERVISOR);
	if (pfn < 0) {
		selftest_check(GROUP, false, "zeroing");
		return;
	}
	p = phys_to_virt((u64)pfn << PAGE_SHIFT);
	for (i = 0; i < words; i++)
		ok &= p[i] == 0;
	buddy_free(b, (u64)pfn, order);
	selftest_check(GROUP, ok, "zeroing");
}

static void test_double_free(struct buddy *b)
{
	bool ok = false;
	s64 pfn = buddy_alloc(b, 0, 0, OWNER_HYPERVISOR);

	if (pfn >= 0 && buddy_free(b, (u64)pfn, 0) == 0)
		ok = free_refused(b, (u64)pfn, 0);
	selftest_check(GROUP, ok, "double_free_detected");
}

static void test_wrong_order(struct buddy *b)
{
	bool ok = false;
	s64 pfn = buddy_alloc(b, 2, 0, OWNER_HYPERVISOR);

	if (pfn >= 0) {
		ok = free_refused(b, (u64)pfn, 1);
		ok &= free_refused(b, (u64)pfn, 3);
		ok &= buddy_free(b, (u64)pfn, 2) == 0;
	}
	selftest_check(GROUP, ok, "wrong_order_detected");
}

static void test_foreign_free(struct buddy *b)
{
	bool ok = false;
	s64 pfn = buddy_alloc(b, 1, 0, OWNER_HYPERVISOR);
	unsigned int o;
	u64 i;

	if (pfn >= 0) {
		/* the tail frame of an allocated block */
		ok = free_refused(b, (u64)pfn + 1, 0);
		/* just past the managed range */
		ok &= free_refused(b, b->base_pfn + b->nr_frames, 0);
		/* the head of a free block that was never handed out */
		for (o = 0; o <= BUDDY_MAX_ORDER; o++) {
			if (b->free_head[o] != FRAME_NONE) {
				ok &= free_refused(b, b->base_pfn + b->free_head[o], o);
				break;
			}
		}
		/* a reserved frame, if the range has one */
		for (i = 0; i < b->nr_frames; i++) {
			if (b->frames[i].flags & FRAME_RESERVED) {
				ok &= free_refused(b, b->base_pfn + i, 0);
				break;
			}
		}
		ok &= buddy_free(b, (u64)pfn, 1) == 0;
	}
	selftest_check(GROUP, ok, "foreign_free_detected");
}

void buddy_selftest(struct buddy *b)
{
	struct buddy_stats start, end;
	u64 errors = b->stats.errors;
	int check_before = buddy_check(b);

	buddy_get_stats(b, &start);
	test_each_order(b);
	test_zeroing(b);
	pr_info("buddy: selftest: provoking bad frees, the errors below are expected\n");
	test_double_free(b);
	test_wrong_order(b);
	test_foreign_free(b);
	pr_info("buddy: selftest: end of expected errors\n");
	buddy_get_stats(b, &end);
	selftest_check(GROUP, same_free_state(&start, &end), "merge_back");
	selftest_check(GROUP, check_before == 0 && buddy_check(b) == 0, "lists_consistent");
	/* The refused frees above were ours, not real errors: forget them. */
	b->stats.errors = errors;
}
