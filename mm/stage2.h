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
 * -EFAULT if gpa is not RAM (the caller emulates or ignores it), -EAGAIN if
 * no frame could be had even after reclaim (the guest should wait), -EIO if
 * its page could not be read back from swap (a message says why).
 */
int stage2_fault(struct guest *g, u64 gpa, u32 access);

/*
 * The one invalidation routine. For every leaf of g's stage-2 tables in
 * [gpa, gpa + size) (present, or a software entry), ops->zap decides its
 * fate: return true and set *new to the non-present entry to leave in its
 * place, or false to keep it. Then g's TLB entries are flushed, and only
 * then ops->release is called for each zapped leaf, with its old entry: the
 * frame it mapped can no longer be reached by any CPU through g. Large
 * leaves that stick out of the range are split first. Work goes in batches,
 * each flushed before its releases.
 */
struct stage2_zap_ops {
	bool (*zap)(void *ctx, u64 gpa, u64 old, unsigned int level, u64 *new);
	void (*release)(void *ctx, u64 gpa, u64 old, unsigned int level, u64 *entry);
	void *ctx;
};
int stage2_invalidate_with(struct guest *g, u64 gpa, u64 size, const struct stage2_zap_ops *ops);

/*
 * stage2_invalidate_with() that removes everything in the range: frames go
 * back to the allocator, swap slots are released. Teardown and hints use it.
 */
int stage2_invalidate(struct guest *g, u64 gpa, u64 size);

/* Evicts the given 4 KiB pages of g to swap (or as zero pages); returns how many went. */
u64 stage2_swap_out(struct guest *g, const u64 *gpas, unsigned int n);

/* Splits the 2 MiB mapping (and frame) covering gpa, if there is one. */
int stage2_split(struct guest *g, u64 gpa);

/* The owner word of a guest frame: its clean copy's swap slot, or NO_SLOT. */
u32 frame_owner_data(u64 frame);
void set_frame_owner_data(u64 frame, u32 v);

/* Frees all of g's memory and tables (through stage2_invalidate). */
void stage2_destroy(struct guest *g);

/*
 * Host pointer to the byte at gpa, mapping the page on demand (writable, as
 * for a guest write, when `write`); the bytes up to the end of that 4 KiB
 * page are valid. Returns 0 or stage2_fault()'s error (-EFAULT: not RAM).
 */
int stage2_host_access(struct guest *g, u64 gpa, bool write, void **ptr);

/* stage2_host_access() for writing, NULL on any error. */
void *stage2_host_ptr(struct guest *g, u64 gpa);

/* Copies between Tide and guest RAM; -EFAULT if any byte is not RAM. */
int guest_copy_to(struct guest *g, u64 gpa, const void *src, u64 len);
int guest_copy_from(struct guest *g, void *dst, u64 gpa, u64 len);

#endif
