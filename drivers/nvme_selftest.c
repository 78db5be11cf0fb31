/*
 * Self-test of the NVMe swap device (selftest=nvme) on the first NVMe
 * controller, when there is one: distinct patterns written to the first,
 * middle and last slots read back intact into other pages, an overwrite
 * replaces a slot, a never-written slot reads without error, slots past the
 * end are refused with -EINVAL, sync works, and every page comes back.
 * It writes to the device: never point it at a disk whose data matters.
 */
#include "arch/x86/cpu.h"
#include "arch/x86/paging.h"
#include "arch/x86/pci.h"
#include "kernel/errno.h"
#include "kernel/printk.h"
#include "kernel/selftest.h"
#include "kernel/selftest_table.h"
#include "kernel/string.h"
#include "mm/frame_alloc.h"
#include "mm/swap_device.h"

#define GROUP "nvme"
#define NR_SRC 3

static u64 seed;

/* The contents of `slot` in round `round`: differs per slot, round and boot. */
static void fill(u64 page, u64 slot, unsigned int round)
{
	u64 *p = phys_to_virt(page);

	for (unsigned int i = 0; i < PAGE_SIZE / 8; i++)
		p[i] = (seed + slot * 0x9e3779b97f4a7c15ull + round) ^ ((u64)i << 32 | i);
}

/* Reads `slot` into `dst` (first filled with junk) and compares it with `src`. */
static bool reads_back(struct swap_device *dev, u64 slot, u64 dst, u64 src)
{
	memset(phys_to_virt(dst), 0xa5, PAGE_SIZE);
	return dev->read_page(dev, slot, dst) == 0 &&
	       !memcmp(phys_to_virt(dst), phys_to_virt(src), PAGE_SIZE);
}

static void nvme_selftest(void)
{
	static const char *const where[NR_SRC] = { "first", "middle", "last" };
	struct pci_dev pdev;
	struct swap_device *dev;
	u64 src[NR_SRC] = { 0 }, dst, slot[NR_SRC], free_before, nr;
	bool ok = true;

	if (pci_find_class(0x01, 0x08, 0x02, &pdev)) {
		pr_info("selftest: nvme: no NVMe device; not run\n");
		return;
	}
	dev = nvme_swap_probe(~0ull);
	if (!selftest_check(GROUP, dev != NULL, "probe"))
		return;
	nr = dev->nr_slots;
	if (!selftest_check(GROUP, nr >= 8, "has_8_slots"))
		return;
	slot[0] = 0;
	slot[1] = nr / 2;
	slot[2] = nr - 1;
	seed = rdtsc();

	free_before = frame_allocator.stats.free_frames;
	dst = frame_alloc_page(OWNER_HYPERVISOR);
	for (unsigned int i = 0; i < NR_SRC; i++)
		src[i] = frame_alloc_page(OWNER_HYPERVISOR);
	for (unsigned int i = 0; i < NR_SRC; i++)
		ok &= src[i] != 0;
	if (!selftest_check(GROUP, ok && dst, "alloc_pages"))
		goto out;

	/* all writes first: a write that lands on the wrong slot shows up */
	for (unsigned int i = 0; i < NR_SRC; i++) {
		fill(src[i], slot[i], 0);
		selftest_check(GROUP, dev->write_page(dev, slot[i], src[i]) == 0,
			       "write_%s_slot", where[i]);
	}
	for (unsigned int i = 0; i < NR_SRC; i++)
		selftest_check(GROUP, reads_back(dev, slot[i], dst, src[i]), "read_back_%s_slot",
			       where[i]);

	fill(src[0], slot[0], 1);
	selftest_check(GROUP, dev->write_page(dev, slot[0], src[0]) == 0 &&
				      reads_back(dev, slot[0], dst, src[0]) &&
				      reads_back(dev, slot[2], dst, src[2]),
		       "overwrite_replaces_only_its_slot");

	selftest_check(GROUP, dev->read_page(dev, 1, dst) == 0, "read_unwritten_slot");

	selftest_check(GROUP, dev->read_page(dev, nr, dst) == -EINVAL &&
				      dev->write_page(dev, nr, src[0]) == -EINVAL &&
				      dev->read_page(dev, ~0ull, dst) == -EINVAL &&
				      dev->write_page(dev, ~0ull, src[0]) == -EINVAL,
		       "slot_past_end_is_einval");

	selftest_check(GROUP, dev->sync(dev) == 0, "sync");

out:
	if (dst)
		frame_free_page(dst);
	for (unsigned int i = 0; i < NR_SRC; i++)
		if (src[i])
			frame_free_page(src[i]);
	selftest_check(GROUP, frame_allocator.stats.free_frames == free_before,
		       "pages_returned");
}

DEFINE_SELFTEST(nvme, GROUP, nvme_selftest);
