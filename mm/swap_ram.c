/*
 * swap=ram:<size>: a swap device made of physical memory reserved at boot,
 * in 2 MiB blocks taken from the frame allocator before any guest runs, so
 * guests can never use it. A stand-in for a disk that is always there and
 * fast: it makes reclaim testable everywhere.
 */
#include "arch/x86/paging.h"
#include "kernel/errno.h"
#include "kernel/printk.h"
#include "kernel/string.h"
#include "mm/frame_alloc.h"
#include "mm/swap_device.h"

#define BLOCK_ORDER 9
#define SLOTS_PER_BLOCK (1UL << BLOCK_ORDER)
#define MAX_BLOCKS 4096 /* 8 GiB */

static u64 blocks[MAX_BLOCKS];

static u64 slot_phys(u64 slot)
{
	return blocks[slot / SLOTS_PER_BLOCK] + (slot % SLOTS_PER_BLOCK) * PAGE_SIZE;
}

static int ram_read(struct swap_device *dev, u64 slot, u64 page)
{
	if (slot >= dev->nr_slots)
		return -EINVAL;
	memcpy(phys_to_virt(page), phys_to_virt(slot_phys(slot)), PAGE_SIZE);
	return 0;
}

static int ram_write(struct swap_device *dev, u64 slot, u64 page)
{
	if (slot >= dev->nr_slots)
		return -EINVAL;
	memcpy(phys_to_virt(slot_phys(slot)), phys_to_virt(page), PAGE_SIZE);
	return 0;
}

static int ram_sync(struct swap_device *dev __unused)
{
	return 0;
}

static struct swap_device ram_device = {
	.name = "ram",
	.read_page = ram_read,
	.write_page = ram_write,
	.sync = ram_sync,
};

struct swap_device *swap_ram_create(u64 bytes)
{
	u64 want = MIN(ALIGN_UP(bytes, PAGE_SIZE << BLOCK_ORDER) >> (PAGE_SHIFT + BLOCK_ORDER),
		       (u64)MAX_BLOCKS);
	u64 n;

	for (n = 0; n < want; n++) {
		blocks[n] = frame_alloc(BLOCK_ORDER, 0, OWNER_HYPERVISOR);
		if (!blocks[n])
			break;
	}
	if (!n) {
		pr_err("swap: no memory for a RAM swap region\n");
		return NULL;
	}
	if (n < want)
		pr_warn("swap: only %lu MiB of the %lu MiB asked for are free for RAM swap\n",
			n * 2, want * 2);
	ram_device.nr_slots = MIN(n * SLOTS_PER_BLOCK, bytes / PAGE_SIZE);
	return &ram_device;
}
