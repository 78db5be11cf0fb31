/*
 * The physical memory map Tide works from: sorted, non-overlapping typed
 * ranges built from the firmware's map plus Tide's own reservations (the
 * first MiB, the kernel image, boot structures, modules). Where ranges
 * overlap, the more restrictive type wins (enum order below). Builds for the
 * host too.
 */
#ifndef TIDE_MEMMAP_H
#define TIDE_MEMMAP_H

#include "kernel/types.h"

/* Ordered by precedence: a later type overrides an earlier one on overlap. */
enum mem_type {
	MEM_USABLE = 1, /* free RAM: goes to the buddy allocator */
	MEM_CAPPED, /* usable RAM above mem=, left unused */
	MEM_ACPI_RECLAIM,
	MEM_ACPI_NVS,
	MEM_RESERVED, /* firmware reserved, or unknown type */
	MEM_BAD,
	MEM_LOW_MEMORY, /* the first MiB: BIOS data, real-mode structures */
	MEM_BOOT_INFO, /* loader structures */
	MEM_MODULE, /* Multiboot modules (guest images) */
	MEM_KERNEL, /* Tide's own image */
	MEM_HYPERVISOR, /* allocated at boot: page tables, frame metadata */
	MEM_TYPE_MAX,
};

struct mem_region {
	u64 base;
	u64 size;
	u32 type; /* enum mem_type */
};

#define MEMMAP_MAX 512

struct memmap {
	struct mem_region r[MEMMAP_MAX];
	unsigned int nr;
};

void memmap_init(struct memmap *m);

/*
 * Marks [base, base + size) as `type`, overriding lower-precedence types and
 * keeping the map sorted, disjoint and merged. Zero-size ranges are ignored;
 * ranges that wrap past 2^64 are clipped. Returns -ENOSPC if the map is full
 * (the map is then unchanged).
 */
int memmap_add(struct memmap *m, u64 base, u64 size, u32 type);

/*
 * Shrinks every MEM_USABLE range inward to 4 KiB boundaries (the partial
 * pages become MEM_RESERVED). Call once after all memmap_add()s.
 */
void memmap_align_usable(struct memmap *m);

/* Turns usable RAM at or above `limit` into MEM_CAPPED (mem=). */
void memmap_cap(struct memmap *m, u64 limit);

/* Total bytes of a type. */
u64 memmap_bytes(const struct memmap *m, u32 type);

/* End of the highest range of the given type, or 0. */
u64 memmap_end(const struct memmap *m, u32 type);

/* Short lower-case name of a type, for the boot-time map. */
const char *memmap_type_name(u32 type);

/* Prints the map, one line per range: "  [base-end) size type". */
void memmap_print(const struct memmap *m);

#endif
