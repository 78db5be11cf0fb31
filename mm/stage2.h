/*
 * Guest-physical memory: a guest's RAM is [0, ram_size) of its
 * guest-physical address space, backed on demand. The stage-2 tables (EPT or
 * NPT, one generic walker with the vendor's entry format) start empty; each
 * stage-2 fault in RAM maps a fresh zeroed frame, 2 MiB at once where the
 * whole aligned 2 MiB is RAM and stage2_huge=on.
 *
 * stage2_invalidate() is the one place that removes translations: it zaps
 * the entries and flushes the guest's TLB before it returns, and every path
 * that takes a frame away from a guest (teardown now; reclaim and hints
 * later) goes through it before the frame is freed.
 */
#ifndef TIDE_STAGE2_H
#define TIDE_STAGE2_H

#include "kernel/types.h"
#include "mm/page_table.h"

struct guest;

struct stage2 {
	struct page_table pt;
	struct pt_alloc alloc; /* table pages, charged to the guest */
	u64 ram_size; /* bytes of guest RAM, from 0 */
	u64 table_pages; /* table pages owned by pt */
};

extern int stage2_huge; /* stage2_huge=on|off */

int stage2_init(struct guest *g, u64 ram_size);

/*
 * Handles a stage-2 fault at gpa. Returns 0 if it is now mapped (RAM),
 * -EFAULT if gpa is not RAM (the caller emulates or ignores it), -ENOMEM if
 * no frame could be had.
 */
int stage2_fault(struct guest *g, u64 gpa, u32 access);

/*
 * Removes every translation of [gpa, gpa + size) from g's stage-2 tables
 * and flushes g's TLB entries; frees the frames that backed the range. On
 * return no CPU can reach those frames through g.
 */
int stage2_invalidate(struct guest *g, u64 gpa, u64 size);

/* Frees all of g's memory and tables (through stage2_invalidate). */
void stage2_destroy(struct guest *g);

/*
 * Host pointer to the byte at gpa, mapping the page on demand; the bytes up
 * to the end of that 4 KiB page are valid. NULL if gpa is not RAM.
 */
void *stage2_host_ptr(struct guest *g, u64 gpa);

/* Copies between Tide and guest RAM; -EFAULT if any byte is not RAM. */
int guest_copy_to(struct guest *g, u64 gpa, const void *src, u64 len);
int guest_copy_from(struct guest *g, void *dst, u64 gpa, u64 len);

#endif
