/*
 * Buddy allocator for physical frames: orders 0 (4 KiB) to 18 (1 GiB).
 *
 * The allocator only keeps metadata: one struct frame per 4 KiB frame of the
 * range it manages. It never touches the frames themselves, except through
 * the optional zero_frames hook, so the same file builds for the host unit
 * tests. Every block is naturally aligned (its first frame number is a
 * multiple of its size in frames), which is what lets a 2 MiB block back a
 * 2 MiB stage-2 mapping and a 1 GiB block a 1 GiB one.
 */
#ifndef TIDE_BUDDY_H
#define TIDE_BUDDY_H

#include "kernel/types.h"

#define BUDDY_MAX_ORDER 18
#define BUDDY_NR_ORDERS (BUDDY_MAX_ORDER + 1)
#define FRAME_NONE 0xffffffffu /* end of a free list */

/* struct frame.flags */
#define FRAME_FREE_HEAD 0x01 /* first frame of a free block of `order` */
#define FRAME_USED_HEAD 0x02 /* first frame of a block handed out with `order` */
#define FRAME_RESERVED 0x04 /* never given to the allocator */

/* owner values; more are added by the users of the allocator */
#define OWNER_NONE 0
#define OWNER_HYPERVISOR 1

/* Metadata of one 4 KiB frame; 16 bytes. */
struct frame {
	union {
		struct {
			u32 next; /* free list links, as frame indexes */
			u32 prev;
		};
		struct {
			/*
			 * While allocated, two words for the owner, FRAME_NONE
			 * when handed out (mm/swap.c keeps a clean copy's
			 * swap slot in owner_data).
			 */
			u32 owner_data;
			u32 owner_data2;
		};
	};
	u8 order; /* valid on a block's head frame */
	u8 flags;
	u16 owner;
	u32 refcount;
};

/* alloc flags */
#define BUDDY_ZERO 0x1 /* zero the block before returning it */

struct buddy_stats {
	u64 managed_frames; /* frames ever added to the allocator */
	u64 free_frames; /* frames currently free */
	u64 free_blocks[BUDDY_NR_ORDERS]; /* free blocks per order */
	u64 errors; /* bad frees detected and refused */
};

struct buddy {
	struct frame *frames; /* nr_frames entries, index = pfn - base_pfn */
	u64 base_pfn;
	u64 nr_frames;
	u32 free_head[BUDDY_NR_ORDERS];
	struct buddy_stats stats;
	/* Optional: zero 1 << order frames starting at pfn (BUDDY_ZERO). */
	void (*zero_frames)(u64 pfn, unsigned int order);
};

/* Bytes of struct frame metadata needed for nr_frames frames. */
static inline u64 buddy_metadata_bytes(u64 nr_frames)
{
	return nr_frames * sizeof(struct frame);
}

/*
 * Sets up an empty allocator for frames [base_pfn, base_pfn + nr_frames).
 * `frames` must hold nr_frames entries; all start reserved. Returns -EINVAL
 * if nr_frames is 0 or does not fit the 32-bit frame indexes.
 */
int buddy_init(struct buddy *b, struct frame *frames, u64 base_pfn, u64 nr_frames);

/*
 * Hands the frames [pfn, pfn + count) to the allocator as free memory, in the
 * largest naturally aligned blocks that fit. Frames outside the managed range
 * or already added are refused with -EINVAL (and nothing is added).
 */
int buddy_add_range(struct buddy *b, u64 pfn, u64 count);

/*
 * Allocates a naturally aligned block of 1 << order frames. Returns its first
 * frame number (>= 0), -EINVAL for a bad order, -ENOMEM when no block is free.
 * The head frame records order, owner and refcount 1.
 */
s64 buddy_alloc(struct buddy *b, unsigned int order, unsigned int flags, u16 owner);

/*
 * Returns a block. Double frees, frees of frames that were never handed out,
 * and frees with the wrong order are refused with -EINVAL and reported on the
 * console with the frame number; the free lists are left untouched.
 */
int buddy_free(struct buddy *b, u64 pfn, unsigned int order);

/*
 * Turns the allocated block at pfn into 1 << order separately allocated
 * order-0 frames with the same owner (a 2 MiB guest mapping split into
 * 4 KiB ones must be able to give back single frames). -EINVAL if pfn is
 * not the head of an allocated block.
 */
int buddy_split(struct buddy *b, u64 pfn);

/* Head-frame metadata of an allocated block, or NULL if pfn is not one. */
struct frame *buddy_frame(struct buddy *b, u64 pfn);

void buddy_get_stats(const struct buddy *b, struct buddy_stats *out);

/*
 * Consistency check of the whole allocator (free lists well formed, blocks
 * aligned and disjoint, counters match). Returns 0 or -EINVAL and reports
 * the first problem. O(nr_frames): for tests and self-tests.
 */
int buddy_check(const struct buddy *b);

/* In-hypervisor self-test (selftest=buddy); leaves the allocator as it was. */
void buddy_selftest(struct buddy *b);

#endif
