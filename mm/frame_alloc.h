/*
 * The hypervisor's physical memory: the one buddy allocator instance that
 * owns every usable frame, and its set-up from the boot loader's map.
 */
#ifndef TIDE_FRAME_ALLOC_H
#define TIDE_FRAME_ALLOC_H

#include "kernel/types.h"
#include "mm/bootinfo.h"
#include "mm/buddy.h"

extern struct buddy frame_allocator;
extern struct memmap phys_map;

/*
 * Builds the physical memory map from the boot info and Tide's own
 * reservations, applies mem=, switches to the final page tables, and hands
 * every usable frame to the buddy allocator. Prints the map. Returns 0 or a
 * negative errno after a message (Tide cannot run without memory).
 */
int mm_init(const struct boot_info *bi, u64 mem_limit);

bool frame_alloc_ready(void);

/* Physical address of a new block of 1 << order frames, or 0. */
u64 frame_alloc(unsigned int order, unsigned int flags, u16 owner);
int frame_free(u64 phys, unsigned int order);

/* One zeroed 4 KiB frame, or 0. */
static inline u64 frame_alloc_page(u16 owner)
{
	return frame_alloc(0, BUDDY_ZERO, owner);
}

static inline int frame_free_page(u64 phys)
{
	return frame_free(phys, 0);
}

#endif
