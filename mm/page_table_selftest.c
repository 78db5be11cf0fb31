/*
 * Self-test of the generic page-table walker (selftest=page_table), run on
 * a scratch table in an EPT-like format (separate R/W/X bits, memory type in
 * the leaf) so that the format-as-data path is exercised, not only the
 * host's. Table pages come from the real frame allocator and must all be
 * back when the test ends.
 */
#include "kernel/errno.h"
#include "kernel/selftest.h"
#include "kernel/selftest_table.h"
#include "mm/frame_alloc.h"
#include "mm/page_table.h"

#define GROUP "page_table"

static const struct pt_format test_format = {
	.name = "test-ept",
	.present = 0x7,
	.table = 0x7,
	.read = BIT(0),
	.write = BIT(1),
	.exec = BIT(2),
	.large = BIT(7),
	.cached = 6UL << 3,
	.addr_mask = 0x000ffffffffff000UL,
	.max_leaf_level = 2,
};

static u64 table_alloc(void *ctx __unused)
{
	return frame_alloc_page(OWNER_HYPERVISOR);
}

static void table_free(void *ctx __unused, u64 phys)
{
	frame_free_page(phys);
}

static const struct pt_alloc test_alloc = { table_alloc, table_free, NULL };

static bool maps_to(struct page_table *pt, u64 va, u64 pa, unsigned int level, u64 attrs)
{
	u64 got_pa, got_attrs;
	unsigned int got_level;

	return !pt_lookup(pt, va, &got_pa, &got_level, &got_attrs) && got_pa == pa &&
	       got_level == level && got_attrs == attrs;
}

static void page_table_selftest(void)
{
	const u64 rw = PT_READ | PT_WRITE, rx = PT_READ | PT_EXEC;
	u64 free_before = frame_allocator.stats.free_frames;
	struct page_table pt;

	if (!selftest_check(GROUP, pt_create(&pt, &test_format, &test_alloc) == 0, "create"))
		return;

	/* page sizes chosen from alignment and length */
	pt_map(&pt, 0x1000, 0x5000, PAGE_SIZE, rw, 2);
	pt_map(&pt, 2 * MiB, 0x40000000, 2 * MiB, rx, 2);
	pt_map(&pt, GiB, 0x80000000, GiB, PT_READ, 2);
	pt_map(&pt, 4 * GiB + 0x3000, 0x3000, 3 * MiB, rw, 2);
	selftest_check(GROUP, maps_to(&pt, 0x1234, 0x5234, 0, rw) &&
				      maps_to(&pt, 3 * MiB, 0x40100000, 1, rx) &&
				      maps_to(&pt, GiB + 0x12345678, 0x92345678, 2, PT_READ),
		       "map_picks_page_size");
	selftest_check(GROUP, maps_to(&pt, 4 * GiB + 3 * MiB, 3 * MiB, 0, rw) &&
				      pt_lookup(&pt, 0x2000, NULL, NULL, NULL) == -ENOENT,
		       "unaligned_range_uses_small_pages");
	u64 *e = pt_entry(&pt, 2 * MiB, 1, false);

	selftest_check(GROUP, e && (*e & 0x38) == (6 << 3) && (*e & BIT(7)), "format_bits");

	/* splitting keeps every translation and attribute */
	bool same = pt_split(&pt, 2 * MiB, 1) == 0;

	for (u64 off = 0; same && off < 2 * MiB; off += PAGE_SIZE)
		same = maps_to(&pt, 2 * MiB + off, 0x40000000 + off, 0, rx);
	selftest_check(GROUP, same, "split_keeps_contents");

	/* unmapping one page of a 1 GiB mapping splits it down to 4 KiB */
	pt_unmap(&pt, GiB + 5 * MiB + PAGE_SIZE, PAGE_SIZE);
	selftest_check(GROUP, pt_lookup(&pt, GiB + 5 * MiB + PAGE_SIZE, NULL, NULL, NULL) == -ENOENT &&
				      maps_to(&pt, GiB + 5 * MiB, 0x80500000, 0, PT_READ) &&
				      maps_to(&pt, GiB + 5 * MiB + 2 * PAGE_SIZE, 0x80502000, 0, PT_READ) &&
				      maps_to(&pt, GiB + 7 * MiB, 0x80700000, 1, PT_READ) &&
				      maps_to(&pt, GiB + 300 * MiB, 0x92c00000, 1, PT_READ),
		       "unmap_splits_large_pages");

	/* remapping a range covered by small pages with a large page frees them */
	pt_map(&pt, GiB, 0x80000000, GiB, PT_READ, 2);
	selftest_check(GROUP, maps_to(&pt, GiB + 5 * MiB + PAGE_SIZE, 0x80501000, 2, PT_READ),
		       "large_map_replaces_tables");

	pt_destroy(&pt);
	selftest_check(GROUP, frame_allocator.stats.free_frames == free_before,
		       "destroy_returns_every_table");
}
DEFINE_SELFTEST(page_table, GROUP, page_table_selftest);
