/*
 * Buddy allocator for physical frames (contract in mm/buddy.h).
 *
 * This file owns the free lists and every struct frame of the range given to
 * buddy_init(): nothing else writes them. A frame is in one of four states,
 * told apart by its flags alone:
 *
 *   FRAME_RESERVED    never added: a hole, or memory kept by someone else
 *   FRAME_FREE_HEAD   first frame of a free block, on free list `order`
 *   FRAME_USED_HEAD   first frame of an allocated block of `order`
 *   0                 any other frame of a free or allocated block
 *
 * Blocks are naturally aligned in absolute frame numbers, so the block of
 * order o that contains pfn can only start at pfn & ~(2^o - 1), and the buddy
 * of the block at pfn is pfn ^ 2^o. That makes both merging and bad-free
 * detection O(order) without any per-frame back pointer.
 *
 * Two free buddies of the same order are always merged, so the free layout is
 * a function of the set of free frames alone: freeing everything brings back
 * exactly the layout buddy_add_range() built.
 *
 * buddy_init() clears the zero_frames hook; the caller sets it afterwards.
 */
#include "kernel/errno.h"
#include "kernel/printk.h"
#include "mm/buddy.h"

#define ORDER_FRAMES(o) (1ULL << (o))

typedef unsigned long long ull; /* for printk's %llx */

static bool in_range(const struct buddy *b, u64 pfn)
{
	return pfn >= b->base_pfn && pfn - b->base_pfn < b->nr_frames;
}

static struct frame *pfn_frame(struct buddy *b, u64 pfn)
{
	return &b->frames[pfn - b->base_pfn];
}

/* Makes the frame at pfn the head of a free block and puts it on its list. */
static void list_push(struct buddy *b, u64 pfn, unsigned int order)
{
	u32 idx = (u32)(pfn - b->base_pfn);
	struct frame *f = &b->frames[idx];
	u32 first = b->free_head[order];

	f->flags = FRAME_FREE_HEAD;
	f->order = (u8)order;
	f->owner = OWNER_NONE;
	f->refcount = 0;
	f->prev = FRAME_NONE;
	f->next = first;
	if (first != FRAME_NONE)
		b->frames[first].prev = idx;
	b->free_head[order] = idx;
	b->stats.free_blocks[order]++;
}

/*
 * Takes a free block off its list; its head becomes a plain frame. Plain
 * frames are kept all zero (links FRAME_NONE), so the metadata is a function
 * of the allocator state alone.
 */
static void list_del(struct buddy *b, u32 idx)
{
	struct frame *f = &b->frames[idx];

	if (f->prev != FRAME_NONE)
		b->frames[f->prev].next = f->next;
	else
		b->free_head[f->order] = f->next;
	if (f->next != FRAME_NONE)
		b->frames[f->next].prev = f->prev;
	b->stats.free_blocks[f->order]--;
	f->next = FRAME_NONE;
	f->prev = FRAME_NONE;
	f->order = 0;
	f->flags = 0;
}

/*
 * Frees the block at pfn, whose frames must all be plain (flags 0), merging
 * it with its buddy for as long as the buddy is a whole free block of the same
 * order. A buddy outside the managed range is never looked at.
 */
static void free_block(struct buddy *b, u64 pfn, unsigned int order)
{
	b->stats.free_frames += ORDER_FRAMES(order);
	while (order < BUDDY_MAX_ORDER) {
		u64 buddy = pfn ^ ORDER_FRAMES(order);
		struct frame *bf;

		if (!in_range(b, buddy))
			break;
		bf = pfn_frame(b, buddy);
		if (bf->flags != FRAME_FREE_HEAD || bf->order != order)
			break;
		list_del(b, (u32)(buddy - b->base_pfn));
		pfn &= ~ORDER_FRAMES(order); /* the merged block starts at the lower one */
		order++;
	}
	list_push(b, pfn, order);
}

/*
 * Finds the free or allocated block that contains pfn (in range): its head is
 * pfn rounded down to some order o and has an order of at least o. Blocks are
 * disjoint, so the first match is the only one. Returns false if pfn is in no
 * block, which only happens for reserved frames.
 */
static bool find_block(const struct buddy *b, u64 pfn, u64 *head)
{
	unsigned int o;

	for (o = 0; o <= BUDDY_MAX_ORDER; o++) {
		u64 h = pfn & ~(ORDER_FRAMES(o) - 1);
		const struct frame *f;

		if (h < b->base_pfn)
			break; /* and every larger order rounds further down */
		f = &b->frames[h - b->base_pfn];
		if ((f->flags & (FRAME_FREE_HEAD | FRAME_USED_HEAD)) && f->order >= o) {
			*head = h;
			return true;
		}
	}
	return false;
}

int buddy_init(struct buddy *b, struct frame *frames, u64 base_pfn, u64 nr_frames)
{
	u64 i;
	unsigned int o;

	/* Indexes are u32 and FRAME_NONE must never be a valid one. */
	if (!frames || !nr_frames || nr_frames > FRAME_NONE ||
	    base_pfn + nr_frames < base_pfn)
		return -EINVAL;
	b->frames = frames;
	b->base_pfn = base_pfn;
	b->nr_frames = nr_frames;
	b->zero_frames = NULL;
	b->stats.managed_frames = 0;
	b->stats.free_frames = 0;
	b->stats.errors = 0;
	for (o = 0; o <= BUDDY_MAX_ORDER; o++) {
		b->free_head[o] = FRAME_NONE;
		b->stats.free_blocks[o] = 0;
	}
	for (i = 0; i < nr_frames; i++) {
		frames[i].next = FRAME_NONE;
		frames[i].prev = FRAME_NONE;
		frames[i].order = 0;
		frames[i].flags = FRAME_RESERVED;
		frames[i].owner = OWNER_NONE;
		frames[i].refcount = 0;
	}
	return 0;
}

int buddy_add_range(struct buddy *b, u64 pfn, u64 count)
{
	u64 i, end;

	if (!count)
		return 0;
	if (pfn < b->base_pfn || pfn - b->base_pfn >= b->nr_frames ||
	    count > b->nr_frames - (pfn - b->base_pfn)) {
		pr_err("buddy: cannot add frames 0x%llx+0x%llx: outside 0x%llx+0x%llx\n",
		       (ull)pfn, (ull)count, (ull)b->base_pfn, (ull)b->nr_frames);
		return -EINVAL;
	}
	/* Check everything first so that a refused range adds nothing. */
	for (i = 0; i < count; i++) {
		if (!(pfn_frame(b, pfn + i)->flags & FRAME_RESERVED)) {
			pr_err("buddy: cannot add frames 0x%llx+0x%llx: frame 0x%llx already added\n",
			       (ull)pfn, (ull)count, (ull)(pfn + i));
			return -EINVAL;
		}
	}
	b->stats.managed_frames += count;
	end = pfn + count;
	while (pfn < end) {
		unsigned int order = 0;

		/* The largest naturally aligned block that starts here and fits. */
		while (order < BUDDY_MAX_ORDER && IS_ALIGNED(pfn, ORDER_FRAMES(order + 1)) &&
		       ORDER_FRAMES(order + 1) <= end - pfn)
			order++;
		for (i = 0; i < ORDER_FRAMES(order); i++)
			pfn_frame(b, pfn + i)->flags = 0;
		/* Merging here too keeps the layout canonical across adjacent adds. */
		free_block(b, pfn, order);
		pfn += ORDER_FRAMES(order);
	}
	return 0;
}

s64 buddy_alloc(struct buddy *b, unsigned int order, unsigned int flags, u16 owner)
{
	unsigned int o;
	struct frame *f;
	u32 idx;
	u64 pfn;

	if (order > BUDDY_MAX_ORDER)
		return -EINVAL;
	for (o = order; o <= BUDDY_MAX_ORDER; o++)
		if (b->free_head[o] != FRAME_NONE)
			break;
	if (o > BUDDY_MAX_ORDER)
		return -ENOMEM;
	idx = b->free_head[o];
	list_del(b, idx);
	pfn = b->base_pfn + idx;
	/* Keep the lower half, give back the upper halves (aligned by construction). */
	while (o > order) {
		o--;
		list_push(b, pfn + ORDER_FRAMES(o), o);
	}
	b->stats.free_frames -= ORDER_FRAMES(order);
	f = &b->frames[idx];
	f->owner_data = f->owner_data2 = FRAME_NONE;
	f->flags = FRAME_USED_HEAD;
	f->order = (u8)order;
	f->owner = owner;
	f->refcount = 1;
	if ((flags & BUDDY_ZERO) && b->zero_frames)
		b->zero_frames(pfn, order);
	return (s64)pfn;
}

int buddy_free(struct buddy *b, u64 pfn, unsigned int order)
{
	struct frame *f;
	u64 head;

	/* Every refusal below happens before any list or counter but errors moves. */
	if (order > BUDDY_MAX_ORDER) {
		pr_err("buddy: free of frame 0x%llx with bad order %u\n", (ull)pfn, order);
		goto refuse;
	}
	if (!in_range(b, pfn)) {
		pr_err("buddy: free of frame 0x%llx that was never allocated (outside the managed range)\n",
		       (ull)pfn);
		goto refuse;
	}
	f = pfn_frame(b, pfn);
	if (f->flags == FRAME_USED_HEAD) {
		if (f->order != order) {
			pr_err("buddy: free of frame 0x%llx with order %u, allocated with order %u\n",
			       (ull)pfn, order, f->order);
			goto refuse;
		}
		f->order = 0;
		f->flags = 0;
		f->owner = OWNER_NONE;
		f->refcount = 0;
		free_block(b, pfn, order);
		return 0;
	}
	if (f->flags & FRAME_RESERVED) {
		pr_err("buddy: free of frame 0x%llx that was never allocated (reserved)\n",
		       (ull)pfn);
		goto refuse;
	}
	/* A plain frame or a free head: which block is it in? */
	if (!find_block(b, pfn, &head)) {
		pr_err("buddy: free of frame 0x%llx that was never allocated (in no block)\n",
		       (ull)pfn);
	} else if (pfn_frame(b, head)->flags == FRAME_FREE_HEAD) {
		pr_err("buddy: double free of frame 0x%llx (order %u)\n", (ull)pfn, order);
	} else {
		pr_err("buddy: free of frame 0x%llx that was never allocated (inside the order %u block at 0x%llx)\n",
		       (ull)pfn, pfn_frame(b, head)->order, (ull)head);
	}
refuse:
	b->stats.errors++;
	return -EINVAL;
}

int buddy_split(struct buddy *b, u64 pfn)
{
	struct frame *f = buddy_frame(b, pfn);
	unsigned int order;

	if (!f) {
		pr_err("buddy: split of frame 0x%llx, which is not an allocated block\n", (ull)pfn);
		return -EINVAL;
	}
	order = f->order;
	for (u64 i = 0; i < ORDER_FRAMES(order); i++) {
		struct frame *t = pfn_frame(b, pfn + i);

		t->flags = FRAME_USED_HEAD;
		t->order = 0;
		t->owner = f->owner;
		t->refcount = 1;
		t->owner_data = t->owner_data2 = FRAME_NONE;
	}
	return 0;
}

struct frame *buddy_frame(struct buddy *b, u64 pfn)
{
	struct frame *f;

	if (!in_range(b, pfn))
		return NULL;
	f = pfn_frame(b, pfn);
	return f->flags == FRAME_USED_HEAD ? f : NULL;
}

void buddy_get_stats(const struct buddy *b, struct buddy_stats *out)
{
	*out = b->stats;
}

#define check_fail(...)                                         \
	do {                                                    \
		pr_err("buddy: check failed: " __VA_ARGS__);    \
		return -EINVAL;                                 \
	} while (0)

int buddy_check(const struct buddy *b)
{
	u64 heads[BUDDY_NR_ORDERS] = { 0 }; /* free heads found by the frame walk */
	u64 free_frames = 0, managed = 0, i, j;
	unsigned int o;

	/* 1. Every list: in range, right prev links, only free heads of its order. */
	for (o = 0; o <= BUDDY_MAX_ORDER; o++) {
		u32 prev = FRAME_NONE, idx = b->free_head[o];
		u64 n = 0;

		while (idx != FRAME_NONE) {
			const struct frame *f;
			u64 pfn = b->base_pfn + idx;

			if (idx >= b->nr_frames)
				check_fail("list %u: index 0x%x outside the range\n", o, idx);
			if (++n > b->nr_frames)
				check_fail("list %u: loops\n", o);
			f = &b->frames[idx];
			if (f->flags != FRAME_FREE_HEAD || f->order != o)
				check_fail("list %u: frame 0x%llx is not a free head of that order (flags 0x%x order %u)\n",
					   o, (ull)pfn, f->flags, f->order);
			if (f->prev != prev)
				check_fail("list %u: frame 0x%llx has prev 0x%x, expected 0x%x\n",
					   o, (ull)pfn, f->prev, prev);
			if (!IS_ALIGNED(pfn, ORDER_FRAMES(o)) || ORDER_FRAMES(o) > b->nr_frames - idx)
				check_fail("list %u: block at 0x%llx misaligned or past the range\n",
					   o, (ull)pfn);
			free_frames += ORDER_FRAMES(o);
			prev = idx;
			idx = f->next;
		}
		if (n != b->stats.free_blocks[o])
			check_fail("list %u: %llu blocks, counter says %llu\n",
				   o, (ull)n, (ull)b->stats.free_blocks[o]);
	}

	/* 2. Every frame: reserved, or in exactly one aligned block. */
	for (i = 0; i < b->nr_frames;) {
		const struct frame *f = &b->frames[i];
		u64 pfn = b->base_pfn + i, size;

		if (f->flags == FRAME_RESERVED) {
			i++;
			continue;
		}
		if (f->flags != FRAME_FREE_HEAD && f->flags != FRAME_USED_HEAD)
			check_fail("frame 0x%llx (flags 0x%x) is in no block\n", (ull)pfn, f->flags);
		if (f->order > BUDDY_MAX_ORDER)
			check_fail("block at 0x%llx has order %u\n", (ull)pfn, f->order);
		size = ORDER_FRAMES(f->order);
		if (!IS_ALIGNED(pfn, size) || size > b->nr_frames - i)
			check_fail("order %u block at 0x%llx misaligned or past the range\n",
				   f->order, (ull)pfn);
		for (j = 1; j < size; j++)
			if (b->frames[i + j].flags)
				check_fail("frame 0x%llx overlaps the order %u block at 0x%llx\n",
					   (ull)(pfn + j), f->order, (ull)pfn);
		if (f->flags == FRAME_FREE_HEAD) {
			u64 buddy = pfn ^ size;

			heads[f->order]++;
			/* Unmerged free buddies would break the canonical layout. */
			if (f->order < BUDDY_MAX_ORDER && in_range(b, buddy) &&
			    b->frames[buddy - b->base_pfn].flags == FRAME_FREE_HEAD &&
			    b->frames[buddy - b->base_pfn].order == f->order)
				check_fail("free buddies 0x%llx and 0x%llx (order %u) not merged\n",
					   (ull)pfn, (ull)buddy, f->order);
		}
		managed += size;
		i += size;
	}

	/* Lists only hold free heads; equal counts mean every free head is listed. */
	for (o = 0; o <= BUDDY_MAX_ORDER; o++)
		if (heads[o] != b->stats.free_blocks[o])
			check_fail("%llu free heads of order %u, %llu on the list\n",
				   (ull)heads[o], o, (ull)b->stats.free_blocks[o]);
	if (free_frames != b->stats.free_frames)
		check_fail("%llu free frames, counter says %llu\n",
			   (ull)free_frames, (ull)b->stats.free_frames);
	if (managed != b->stats.managed_frames)
		check_fail("%llu managed frames, counter says %llu\n",
			   (ull)managed, (ull)b->stats.managed_frames);
	return 0;
}
