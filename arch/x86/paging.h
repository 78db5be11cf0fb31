/*
 * The host's own address space (docs/memory.md):
 *   - Tide's image, identity-mapped at its load address (2 MiB) with 4 KiB
 *     pages: text read-only+executable, rodata read-only, data and bss
 *     read-write+no-execute, stack guard pages unmapped;
 *   - a direct map of physical memory at DIRECT_MAP_BASE, no-execute, with
 *     the largest pages the CPU offers;
 *   - nothing else: the rest of the low half is unmapped, so a NULL (or
 *     small) pointer dereference faults.
 */
#ifndef TIDE_X86_PAGING_H
#define TIDE_X86_PAGING_H

#include "kernel/types.h"
#include "mm/memmap.h"

#define DIRECT_MAP_BASE 0xffff800000000000UL
#define DIRECT_MAP_SIZE (64UL << 40) /* 64 TiB: PML4 slots 256-383 */

void *phys_to_virt(u64 phys);
u64 virt_to_phys(const void *virt);

/*
 * Builds the final host page tables from the memory map and switches to
 * them. Table pages are taken from usable RAM below 4 GiB and marked
 * MEM_HYPERVISOR in the map. Returns 0 or -ENOMEM.
 */
int paging_init(struct memmap *map);

/*
 * Adds [phys, phys + size) to the direct map (for firmware tables and device
 * registers that lie outside RAM), uncached when `uncached`. Table pages come
 * from the frame allocator once it is up.
 */
int paging_map_direct(u64 phys, u64 size, bool uncached);

/* The host mapping of va: physical address and PT_* attributes, or -ENOENT. */
int paging_lookup(u64 va, u64 *pa, u64 *attrs);

/* True if a read of the byte at virtual address va would not fault. */
bool paging_is_mapped(u64 va);

#endif
