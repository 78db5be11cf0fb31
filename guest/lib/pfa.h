/*
 * A page-frame allocator for the test guests: a binary buddy allocator
 * (orders 0..PFA_MAX_ORDER, 4 KiB << order bytes, aligned to their size)
 * over the available RAM of the Multiboot memory map below 4 GiB, leaving
 * out the first MiB, the guest's image, the modules and its own metadata.
 * The metadata (one struct per page, like Linux's struct page) lives
 * outside the pages it describes, so a free page is never written by the
 * allocator: once hinted, it stays untouched until it is handed out again.
 *
 * Free page reporting, as in Linux: a freed block that ends up (after
 * merging with its buddies) of order >= the report order and not already
 * reported is taken off the free lists and queued. The queue is flushed with
 * one FREE_PAGE_HINT_BATCH hypercall when it holds PFA_QUEUE_MAX entries or
 * on pfa_report_flush() (one FREE_PAGE_HINT per entry when Tide offers only
 * that); then the blocks go back to the free lists, marked reported. Queued
 * blocks are therefore never handed out before their hint: pfa_alloc()
 * flushes the queue first when nothing else is free.
 *
 * Addresses are physical, which is what the guests use (paging off), so a
 * block returned as u32 is also the pointer to it.
 */
#ifndef GUEST_PFA_H
#define GUEST_PFA_H

#include "guest/lib/types.h"

#define PFA_MAX_ORDER 10 /* 4 MiB blocks */
#define PFA_QUEUE_MAX 512 /* the ABI's limit for one batch */
#define PFA_REPORT_ORDER_DEFAULT 9 /* 2 MiB, Linux's pageblock order */

enum pfa_hint_mode {
	PFA_HINTS_NONE, /* not under Tide, not offered, switched off or refused */
	PFA_HINTS_SINGLE, /* FREE_PAGE_HINT, one per block */
	PFA_HINTS_BATCH, /* FREE_PAGE_HINT_BATCH, up to PFA_QUEUE_MAX per call */
};

struct pfa_stats {
	u32 blocks_reported; /* blocks Tide accepted */
	u64 pages_reported; /* their 4 KiB pages */
	u32 hypercalls; /* hint hypercalls made, successful or not */
	u32 errors; /* hint hypercalls that failed (or faulted) */
	s32 last_error; /* -errno of the last failure, 0 if none */
};

/*
 * Builds the free lists from the memory map and picks the hint mode from
 * Tide's CPUID leaves (it calls tide_detect()). All memory starts out free
 * and counted as reported: the guest has never touched it, so the
 * hypervisor holds nothing for it. Returns 0, or -1 (with a message) when
 * there is no usable RAM or no room for the metadata.
 */
int pfa_init(void);

/* A block of 4 KiB << order bytes, aligned to its size; 0 when none is left. */
u32 pfa_alloc(unsigned int order);

/* Returns a block from pfa_alloc() with its order; a bad free exits 1. */
void pfa_free(u32 addr, unsigned int order);

/*
 * Blocks of this order or more are reported when freed (default 9; raised
 * to Tide's smallest accepted order when that is higher; beyond
 * PFA_MAX_ORDER nothing is reported).
 */
void pfa_set_report_order(unsigned int order);
unsigned int pfa_report_order(void); /* the effective one */

/* false: never hint (the baseline); true: hint if Tide offers it (default). */
void pfa_set_hints(bool on);
enum pfa_hint_mode pfa_hint_mode(void);
const char *pfa_hint_mode_name(void);

/* Hints whatever is queued now and puts those blocks back on the free lists. */
void pfa_report_flush(void);

/* addr lies in a free block that was reported (or never touched). */
bool pfa_page_reported(u32 addr);

u32 pfa_free_pages(void); /* free or queued pages */
u32 pfa_total_pages(void); /* pages managed */
u32 pfa_metadata_bytes(void);
/* Lowest and highest-plus-one address the allocator may hand out. */
u32 pfa_low(void);
u64 pfa_high(void);

const struct pfa_stats *pfa_stats(void);

#endif
