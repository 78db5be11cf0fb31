/*
 * Sets up physical memory at boot and owns the hypervisor's buddy allocator.
 *
 * Order matters: the map is built first (firmware map + our reservations +
 * mem=), then the final page tables (their pages come from the map), then
 * the frame metadata array (placed in usable RAM, now direct-mapped), and
 * only then is every remaining usable frame handed to the allocator.
 */
#include "arch/x86/paging.h"
#include "kernel/errno.h"
#include "kernel/printk.h"
#include "kernel/string.h"
#include "kernel/trace.h"
#include "kernel/selftest_table.h"
#include "mm/frame_alloc.h"

struct buddy frame_allocator;
struct memmap phys_map;
static bool allocator_ready;

extern u8 __kernel_start[], __kernel_end[];

bool frame_alloc_ready(void)
{
	return allocator_ready;
}

u64 frame_alloc(unsigned int order, unsigned int flags, u16 owner)
{
	s64 pfn = buddy_alloc(&frame_allocator, order, flags, owner);

	if (pfn < 0)
		return 0;
	TRACE(TE_FRAME_ALLOC, pfn, order, owner);
	return (u64)pfn << PAGE_SHIFT;
}

static u64 owner_of(u64 pfn)
{
	struct frame *f = buddy_frame(&frame_allocator, pfn);

	return f ? f->owner : 0;
}

int frame_free(u64 phys, unsigned int order)
{
	TRACE(TE_FRAME_FREE, phys >> PAGE_SHIFT, order, owner_of(phys >> PAGE_SHIFT));
	return buddy_free(&frame_allocator, phys >> PAGE_SHIFT, order);
}

static void zero_frames(u64 pfn, unsigned int order)
{
	memset(phys_to_virt(pfn << PAGE_SHIFT), 0, PAGE_SIZE << order);
}

static void add_region(u64 base, u64 size, u32 type)
{
	if (memmap_add(&phys_map, base, size, type))
		pr_warn("mm: memory map full, dropped [%#lx+%#lx) %s\n", base, size,
			memmap_type_name(type));
}

/* The frame number range that holds usable RAM. */
static void usable_span(u64 *first, u64 *last)
{
	*first = ~0UL;
	*last = 0;
	for (unsigned int i = 0; i < phys_map.nr; i++) {
		const struct mem_region *r = &phys_map.r[i];

		if (r->type != MEM_USABLE)
			continue;
		*first = MIN(*first, r->base >> PAGE_SHIFT);
		*last = MAX(*last, (r->base + r->size) >> PAGE_SHIFT);
	}
}

/* Takes `bytes` from the top of the highest usable range that holds them. */
static u64 carve_usable(u64 bytes)
{
	bytes = ALIGN_UP(bytes, PAGE_SIZE);
	for (int i = (int)phys_map.nr - 1; i >= 0; i--) {
		const struct mem_region *r = &phys_map.r[i];

		if (r->type == MEM_USABLE && r->size >= bytes) {
			u64 base = r->base + r->size - bytes;

			add_region(base, bytes, MEM_HYPERVISOR);
			return base;
		}
	}
	return 0;
}

static int setup_buddy(void)
{
	u64 first, last, meta, nr;
	int err;

	usable_span(&first, &last);
	if (first >= last) {
		pr_err("mm: no usable RAM left for the frame allocator\n");
		return -ENOMEM;
	}
	/* the metadata shrinks the usable span at most at its top: recompute */
	meta = carve_usable(buddy_metadata_bytes(last - first));
	if (!meta) {
		pr_err("mm: no room for the frame metadata (%lu KiB)\n",
		       buddy_metadata_bytes(last - first) / KiB);
		return -ENOMEM;
	}
	usable_span(&first, &last);
	nr = last - first;
	err = buddy_init(&frame_allocator, phys_to_virt(meta), first, nr);
	if (err) {
		pr_err("mm: cannot manage %lu frames: %d\n", nr, err);
		return err;
	}
	frame_allocator.zero_frames = zero_frames;
	for (unsigned int i = 0; i < phys_map.nr; i++) {
		const struct mem_region *r = &phys_map.r[i];

		if (r->type != MEM_USABLE)
			continue;
		err = buddy_add_range(&frame_allocator, r->base >> PAGE_SHIFT,
				      r->size >> PAGE_SHIFT);
		if (err)
			return err;
	}
	return 0;
}

/* Below this much usable RAM, Tide cannot even hold its own tables. */
#define MIN_USABLE (2 * MiB)

static u64 usable_below(u64 limit)
{
	u64 total = 0;

	for (unsigned int i = 0; i < phys_map.nr; i++) {
		const struct mem_region *r = &phys_map.r[i];

		if (r->type == MEM_USABLE && r->base < limit)
			total += MIN(r->base + r->size, limit) - r->base;
	}
	return total;
}

int mm_init(const struct boot_info *bi, u64 mem_limit)
{
	u64 kernel_start = (u64)__kernel_start, kernel_end = (u64)__kernel_end;
	int err;

	memmap_init(&phys_map);
	for (unsigned int i = 0; i < bi->nr_regions; i++)
		add_region(bi->regions[i].base, bi->regions[i].size, bi->regions[i].type);
	if (!memmap_bytes(&phys_map, MEM_USABLE)) {
		pr_err("mm: the boot loader's memory map has no usable RAM\n");
		return -ENOMEM;
	}
	add_region(0, MiB, MEM_LOW_MEMORY);
	add_region(kernel_start, kernel_end - kernel_start, MEM_KERNEL);
	for (unsigned int i = 0; i < bi->nr_reserved; i++)
		add_region(bi->reserved[i].base, bi->reserved[i].size, MEM_BOOT_INFO);
	for (unsigned int i = 0; i < bi->nr_modules; i++)
		add_region(bi->modules[i].start, bi->modules[i].end - bi->modules[i].start,
			   MEM_MODULE);
	memmap_align_usable(&phys_map);

	if (mem_limit && mem_limit < kernel_end) {
		pr_err("mm: mem=%#lx is below the end of Tide's image (%#lx); ignoring mem=\n",
		       mem_limit, kernel_end);
	} else if (mem_limit && usable_below(mem_limit) < MIN_USABLE) {
		pr_err("mm: mem=%#lx leaves only %lu KiB of usable RAM; ignoring mem=\n",
		       mem_limit, usable_below(mem_limit) / KiB);
	} else if (mem_limit) {
		memmap_cap(&phys_map, mem_limit);
	}

	err = paging_init(&phys_map);
	if (!err)
		err = setup_buddy();
	if (err)
		return err;
	allocator_ready = true;

	pr_info("memory map:\n");
	memmap_print(&phys_map);
	pr_info("memory: %lu KiB usable, %lu frames free, %lu KiB for Tide's metadata and tables\n",
		memmap_bytes(&phys_map, MEM_USABLE) / KiB, frame_allocator.stats.free_frames,
		memmap_bytes(&phys_map, MEM_HYPERVISOR) / KiB);
	return 0;
}

static void run_buddy_selftest(void)
{
	buddy_selftest(&frame_allocator);
}
DEFINE_SELFTEST(buddy, "buddy", run_buddy_selftest);
