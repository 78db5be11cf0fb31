/*
 * Host unit tests for the buddy allocator (mm/buddy.c): layouts built by
 * buddy_add_range, every order, exhaustion, each kind of bad free (refused,
 * reported with the frame number, lists untouched), the zeroing hook, and a
 * randomized property test against a bitmap model with fixed seeds.
 */
#include <stdlib.h>
#include <string.h>

#include "kernel/errno.h"
#include "mm/buddy.h"
#include "tests/unit/unit.h"

#define ORDER_FRAMES(o) (1ULL << (o))

/* An allocator over a malloc'd metadata array, garbage-filled so init must set it. */
static struct frame *setup(struct buddy *b, u64 base, u64 nr)
{
	struct frame *frames = malloc(nr * sizeof(*frames));

	memset(frames, 0xab, nr * sizeof(*frames));
	memset(b, 0xcd, sizeof(*b));
	CHECK_EQ(buddy_init(b, frames, base, nr), 0);
	return frames;
}

/* The free layout: per frame, order + 1 if it heads a free block, else 0. */
static u8 *layout(const struct buddy *b)
{
	u8 *l = calloc(b->nr_frames, 1);
	u64 i;

	for (i = 0; i < b->nr_frames; i++)
		if (b->frames[i].flags == FRAME_FREE_HEAD)
			l[i] = b->frames[i].order + 1;
	return l;
}

static bool same_layout(const struct buddy *b, const u8 *l)
{
	u8 *now = layout(b);
	bool same = memcmp(now, l, b->nr_frames) == 0;

	free(now);
	return same;
}

static bool same_stats(const struct buddy_stats *a, const struct buddy_stats *b)
{
	return memcmp(a, b, sizeof(*a)) == 0;
}

/* Free block count of order o, as the stats say. */
static u64 nfree(const struct buddy *b, unsigned int o)
{
	struct buddy_stats st;

	buddy_get_stats(b, &st);
	return st.free_blocks[o];
}

/* Console holds "frame 0x<pfn> " (the space stops 0x12 matching 0x123). */
static bool console_names(u64 pfn)
{
	char s[64];

	snprintf(s, sizeof(s), "frame 0x%llx ", (unsigned long long)pfn);
	return unit_console_contains(s);
}

/*
 * A bad free must be refused, reported with the frame number, leave the
 * lists and counters alone (but errors + 1), and leave buddy_check happy.
 */
static void check_refused(struct buddy *b, u64 pfn, unsigned int order, const char *msg)
{
	struct buddy_stats before, after;
	u8 *l = layout(b);

	buddy_get_stats(b, &before);
	unit_console_clear();
	CHECK_EQ(buddy_free(b, pfn, order), -EINVAL);
	buddy_get_stats(b, &after);
	CHECK(console_names(pfn));
	CHECK(unit_console_contains(msg));
	CHECK_EQ(after.errors, before.errors + 1);
	before.errors = after.errors;
	CHECK(same_stats(&before, &after));
	CHECK(same_layout(b, l));
	CHECK_EQ(buddy_check(b), 0);
	free(l);
}

static void test_init_rejects(void)
{
	struct frame f[4];
	struct buddy b;

	CHECK_EQ(buddy_init(&b, f, 0, 0), -EINVAL);
	CHECK_EQ(buddy_init(&b, NULL, 0, 4), -EINVAL);
	/* too many frames for u32 indexes (checked before touching the array) */
	CHECK_EQ(buddy_init(&b, f, 0, 0x100000000ULL), -EINVAL);
	CHECK_EQ(buddy_init(&b, f, ~0ULL - 1, 4), -EINVAL);
	CHECK_EQ(buddy_init(&b, f, 100, 4), 0);
	CHECK(b.zero_frames == NULL);
	CHECK_EQ(buddy_check(&b), 0);
}

static void test_empty(void)
{
	struct buddy b;
	struct buddy_stats st, zero;
	struct frame *frames = setup(&b, 0x1000, 64);
	unsigned int o;

	memset(&zero, 0, sizeof(zero));
	buddy_get_stats(&b, &st);
	CHECK(same_stats(&st, &zero));
	CHECK_EQ(buddy_check(&b), 0);
	for (o = 0; o <= BUDDY_MAX_ORDER; o++)
		CHECK_EQ(buddy_alloc(&b, o, 0, OWNER_HYPERVISOR), -ENOMEM);
	CHECK_EQ(buddy_alloc(&b, BUDDY_MAX_ORDER + 1, 0, OWNER_HYPERVISOR), -EINVAL);
	CHECK(buddy_frame(&b, 0x1000) == NULL);
	check_refused(&b, 0x1000, 0, "never allocated");
	check_refused(&b, 0x1010, 4, "never allocated");
	CHECK_EQ(buddy_add_range(&b, 0x1000, 0), 0);
	buddy_get_stats(&b, &st);
	CHECK_EQ(st.managed_frames, 0);
	free(frames);
}

static void test_aligned_range(void)
{
	struct buddy b;
	struct frame *frames = setup(&b, 0, 1024);
	struct buddy_stats st;

	CHECK_EQ(buddy_add_range(&b, 0, 1024), 0);
	buddy_get_stats(&b, &st);
	CHECK_EQ(st.managed_frames, 1024);
	CHECK_EQ(st.free_frames, 1024);
	CHECK_EQ(st.free_blocks[10], 1);
	CHECK_EQ(b.free_head[10], 0);
	CHECK_EQ(buddy_check(&b), 0);
	free(frames);
}

/* base 3, 100 frames: pfns 3..102 in blocks 3/0 4/2 8/3 16/4 32/5 64/5 96/2 100/1 102/0 */
static void test_unaligned_base(void)
{
	static const struct {
		u64 pfn;
		unsigned int order;
	} want[] = { { 3, 0 }, { 4, 2 }, { 8, 3 }, { 16, 4 }, { 32, 5 },
		     { 64, 5 }, { 96, 2 }, { 100, 1 }, { 102, 0 } };
	struct buddy b;
	struct frame *frames = setup(&b, 3, 100);
	u64 blocks = 0;
	unsigned int i, o;
	u8 *l;

	CHECK_EQ(buddy_add_range(&b, 3, 100), 0);
	CHECK_EQ(buddy_check(&b), 0);
	for (i = 0; i < ARRAY_SIZE(want); i++) {
		CHECK_EQ(frames[want[i].pfn - 3].flags, FRAME_FREE_HEAD);
		CHECK_EQ(frames[want[i].pfn - 3].order, want[i].order);
	}
	for (o = 0; o <= BUDDY_MAX_ORDER; o++)
		blocks += nfree(&b, o);
	CHECK_EQ(blocks, ARRAY_SIZE(want));
	CHECK_EQ(nfree(&b, 5), 2);

	/* Everything out in order-0 frames, then back: same layout, no merge
	 * across the range edges (frames 2 and 103 are not ours). */
	l = layout(&b);
	for (i = 0; i < 100; i++) {
		s64 pfn = buddy_alloc(&b, 0, 0, OWNER_HYPERVISOR);

		CHECK(pfn >= 3 && pfn < 103);
	}
	CHECK_EQ(buddy_alloc(&b, 0, 0, OWNER_HYPERVISOR), -ENOMEM);
	for (i = 0; i < 100; i++)
		CHECK_EQ(buddy_free(&b, 3 + (i * 37) % 100, 0), 0);
	CHECK(same_layout(&b, l));
	CHECK_EQ(buddy_check(&b), 0);
	free(l);
	free(frames);
}

/* Block 2 of [0,3) has its buddy 3 outside: no merge, and no read of frames[3]. */
static void test_buddy_outside_range(void)
{
	struct buddy b;
	struct frame *frames = setup(&b, 0, 3);

	CHECK_EQ(buddy_add_range(&b, 0, 3), 0);
	CHECK_EQ(nfree(&b, 1), 1);
	CHECK_EQ(nfree(&b, 0), 1);
	CHECK_EQ(buddy_alloc(&b, 0, 0, 0), 2);
	CHECK_EQ(buddy_free(&b, 2, 0), 0);
	CHECK_EQ(nfree(&b, 0), 1);
	CHECK_EQ(nfree(&b, 2), 0);
	CHECK_EQ(buddy_check(&b), 0);
	free(frames);

	/* base 5: frame 5's buddy 4 is below the range */
	frames = setup(&b, 5, 3);
	CHECK_EQ(buddy_add_range(&b, 5, 3), 0);
	CHECK_EQ(nfree(&b, 0), 1);
	CHECK_EQ(nfree(&b, 1), 1);
	CHECK_EQ(buddy_alloc(&b, 0, 0, 0), 5);
	CHECK_EQ(buddy_free(&b, 5, 0), 0);
	CHECK_EQ(nfree(&b, 0), 1);
	CHECK_EQ(buddy_check(&b), 0);
	free(frames);
}

static void test_add_range_refuses(void)
{
	struct buddy b;
	struct frame *frames = setup(&b, 100, 50);
	struct buddy_stats before, after;

	CHECK_EQ(buddy_add_range(&b, 110, 10), 0);
	buddy_get_stats(&b, &before);
	CHECK_EQ(buddy_add_range(&b, 99, 2), -EINVAL); /* starts below */
	CHECK_EQ(buddy_add_range(&b, 140, 11), -EINVAL); /* ends past */
	CHECK_EQ(buddy_add_range(&b, 150, 1), -EINVAL); /* just past */
	CHECK_EQ(buddy_add_range(&b, 120, ~0ULL), -EINVAL); /* wraps */
	CHECK_EQ(buddy_add_range(&b, 105, 6), -EINVAL); /* overlaps the start */
	CHECK_EQ(buddy_add_range(&b, 119, 5), -EINVAL); /* overlaps the end */
	CHECK_EQ(buddy_add_range(&b, 112, 1), -EINVAL); /* inside */
	CHECK(unit_console_contains("buddy: cannot add"));
	buddy_get_stats(&b, &after);
	CHECK(same_stats(&before, &after));
	CHECK_EQ(frames[105 - 100].flags, FRAME_RESERVED); /* nothing half added */
	CHECK_EQ(frames[120 - 100].flags, FRAME_RESERVED);
	CHECK_EQ(buddy_check(&b), 0);
	/* Allocate one so that "already added" also covers allocated frames. */
	CHECK(buddy_alloc(&b, 0, 0, 0) >= 0);
	CHECK_EQ(buddy_add_range(&b, 110, 10), -EINVAL);
	CHECK_EQ(buddy_add_range(&b, 100, 50), -EINVAL);
	CHECK_EQ(buddy_check(&b), 0);
	free(frames);
}

/* Adjacent adds merge like frees do, so the layout stays canonical. */
static void test_adjacent_adds_merge(void)
{
	struct buddy b;
	struct frame *frames = setup(&b, 0, 16);

	CHECK_EQ(buddy_add_range(&b, 1, 1), 0);
	CHECK_EQ(buddy_add_range(&b, 0, 1), 0);
	CHECK_EQ(nfree(&b, 1), 1);
	CHECK_EQ(nfree(&b, 0), 0);
	CHECK_EQ(buddy_add_range(&b, 2, 2), 0);
	CHECK_EQ(buddy_add_range(&b, 8, 8), 0);
	CHECK_EQ(buddy_add_range(&b, 4, 4), 0);
	CHECK_EQ(nfree(&b, 4), 1);
	CHECK_EQ(nfree(&b, 2) + nfree(&b, 1) + nfree(&b, 3), 0);
	CHECK_EQ(buddy_check(&b), 0);
	free(frames);
}

/* Ranges with holes: allocations come only from the added frames. */
static void test_holes(void)
{
	struct buddy b;
	struct frame *frames = setup(&b, 0, 64);
	bool seen[64] = { false };
	s64 pfn;
	int n = 0;

	CHECK_EQ(buddy_add_range(&b, 0, 8), 0);
	CHECK_EQ(buddy_add_range(&b, 12, 4), 0);
	CHECK_EQ(buddy_add_range(&b, 33, 30), 0);
	CHECK_EQ(buddy_check(&b), 0);
	/* bounded, so a broken free list fails the test instead of hanging it */
	while (n <= 64 && (pfn = buddy_alloc(&b, 0, 0, 0)) >= 0) {
		CHECK((pfn < 8) || (pfn >= 12 && pfn < 16) || (pfn >= 33 && pfn < 63));
		CHECK(pfn < 64 && !seen[pfn]);
		if (pfn >= 64)
			break;
		seen[pfn] = true;
		n++;
	}
	CHECK_EQ(pfn, -ENOMEM);
	CHECK_EQ(n, 42);
	/* The holes are reserved frames, so freeing one is refused. */
	check_refused(&b, 10, 0, "never allocated (reserved)");
	check_refused(&b, 63, 0, "never allocated (reserved)");
	free(frames);
}

static void test_split_and_merge(void)
{
	struct buddy b;
	struct frame *frames = setup(&b, 0, 16);
	unsigned int o;
	s64 p;

	CHECK_EQ(buddy_add_range(&b, 0, 16), 0);
	p = buddy_alloc(&b, 0, 0, 0);
	CHECK_EQ(p, 0);
	for (o = 0; o < 4; o++)
		CHECK_EQ(nfree(&b, o), 1);
	CHECK_EQ(nfree(&b, 4), 0);
	CHECK_EQ(buddy_check(&b), 0);
	CHECK_EQ(buddy_free(&b, 0, 0), 0);
	for (o = 0; o < 4; o++)
		CHECK_EQ(nfree(&b, o), 0);
	CHECK_EQ(nfree(&b, 4), 1);
	CHECK_EQ(buddy_check(&b), 0);
	free(frames);
}

static void test_exhaustion(void)
{
	struct buddy b;
	struct frame *frames = setup(&b, 0, 16);
	unsigned int i;

	CHECK_EQ(buddy_add_range(&b, 0, 16), 0);
	for (i = 0; i < 4; i++)
		CHECK_EQ(buddy_alloc(&b, 2, 0, 0), (s64)(i * 4));
	CHECK_EQ(buddy_alloc(&b, 0, 0, 0), -ENOMEM);
	CHECK_EQ(buddy_alloc(&b, 4, 0, 0), -ENOMEM);
	CHECK_EQ(buddy_free(&b, 8, 2), 0);
	CHECK_EQ(buddy_alloc(&b, 3, 0, 0), -ENOMEM); /* 4 free frames, not 8 */
	CHECK_EQ(buddy_alloc(&b, 2, 0, 0), 8);
	for (i = 0; i < 4; i++)
		CHECK_EQ(buddy_free(&b, i * 4, 2), 0);
	CHECK_EQ(nfree(&b, 4), 1);
	CHECK_EQ(buddy_check(&b), 0);
	free(frames);
}

/* Orders 0..18 from a range with an unaligned base that holds a 1 GiB block. */
static void test_every_order(void)
{
	const u64 base = 0x40000 - 5, nr = 0x80000 + 10;
	struct buddy b;
	struct frame *frames = setup(&b, base, nr);
	struct buddy_stats start, st;
	s64 got[BUDDY_NR_ORDERS];
	unsigned int o, k;
	u8 *l;

	CHECK_EQ(buddy_add_range(&b, base, nr), 0);
	/* [0x40000, 0x80000) and [0x80000, 0xc0000): orders 0..17 split the first */
	CHECK_EQ(nfree(&b, 18), 2);
	CHECK_EQ(buddy_check(&b), 0);
	buddy_get_stats(&b, &start);
	l = layout(&b);
	for (o = 0; o <= BUDDY_MAX_ORDER; o++) {
		struct frame *f;

		got[o] = buddy_alloc(&b, o, 0, (u16)(100 + o));
		CHECK(got[o] >= (s64)base && got[o] + (s64)ORDER_FRAMES(o) <= (s64)(base + nr));
		CHECK_EQ(got[o] & (ORDER_FRAMES(o) - 1), 0);
		f = buddy_frame(&b, (u64)got[o]);
		CHECK(f != NULL);
		if (f) {
			CHECK_EQ(f->order, o);
			CHECK_EQ(f->owner, 100 + o);
			CHECK_EQ(f->refcount, 1);
		}
		if (o)
			CHECK(buddy_frame(&b, (u64)got[o] + 1) == NULL);
		for (k = 0; k < o; k++)
			CHECK(got[k] + (s64)ORDER_FRAMES(k) <= got[o] ||
			      got[o] + (s64)ORDER_FRAMES(o) <= got[k]);
	}
	CHECK_EQ(buddy_alloc(&b, 18, 0, 0), -ENOMEM); /* both 1 GiB blocks gone */
	buddy_get_stats(&b, &st);
	CHECK_EQ(st.free_frames, start.free_frames - (ORDER_FRAMES(19) - 1));
	CHECK_EQ(buddy_check(&b), 0);
	for (o = 0; o <= BUDDY_MAX_ORDER; o++)
		CHECK_EQ(buddy_free(&b, (u64)got[o], o), 0);
	buddy_get_stats(&b, &st);
	CHECK(same_stats(&st, &start));
	CHECK(same_layout(&b, l));
	CHECK_EQ(buddy_check(&b), 0);
	free(l);
	free(frames);
}

static void test_double_free(void)
{
	struct buddy b;
	struct frame *frames = setup(&b, 0x1230, 16);
	struct buddy_stats st;

	CHECK_EQ(buddy_add_range(&b, 0x1230, 16), 0);
	CHECK_EQ(buddy_alloc(&b, 3, 0, 0), 0x1230);
	CHECK_EQ(buddy_alloc(&b, 3, 0, 0), 0x1238);
	CHECK_EQ(buddy_free(&b, 0x1238, 3), 0);
	/* still its own free block */
	check_refused(&b, 0x1238, 3, "buddy: double free of frame 0x1238 (order 3)");
	/* after merging: 0x1230 is now the head of a free order 4 block... */
	CHECK_EQ(buddy_free(&b, 0x1230, 3), 0);
	CHECK_EQ(nfree(&b, 4), 1);
	check_refused(&b, 0x1230, 3, "buddy: double free of frame 0x1230 (order 3)");
	/* ...and 0x1238 a plain frame inside it */
	check_refused(&b, 0x1238, 3, "buddy: double free of frame 0x1238 (order 3)");
	check_refused(&b, 0x123b, 0, "buddy: double free of frame 0x123b (order 0)");
	buddy_get_stats(&b, &st);
	CHECK_EQ(st.errors, 4);
	free(frames);
}

static void test_wrong_order(void)
{
	struct buddy b;
	struct frame *frames = setup(&b, 0, 64);

	CHECK_EQ(buddy_add_range(&b, 0, 64), 0);
	CHECK_EQ(buddy_alloc(&b, 3, 0, 0), 0);
	check_refused(&b, 0, 2, "buddy: free of frame 0x0 with order 2, allocated with order 3");
	check_refused(&b, 0, 4, "buddy: free of frame 0x0 with order 4, allocated with order 3");
	check_refused(&b, 0, BUDDY_MAX_ORDER + 1, "with bad order 19");
	CHECK_EQ(buddy_free(&b, 0, 3), 0);
	CHECK_EQ(nfree(&b, 6), 1);
	free(frames);
}

static void test_foreign_free(void)
{
	struct buddy b;
	struct frame *frames = setup(&b, 0x2000, 32);

	CHECK_EQ(buddy_add_range(&b, 0x2000, 16), 0);
	CHECK_EQ(buddy_alloc(&b, 2, 0, 0), 0x2000);
	/* tail frames of an allocated block */
	check_refused(&b, 0x2001, 0, "that was never allocated (inside the order 2 block at 0x2000)");
	check_refused(&b, 0x2002, 1, "never allocated");
	/* a free frame that was never handed out (head and inside) */
	check_refused(&b, 0x2008, 3, "double free of frame 0x2008");
	check_refused(&b, 0x200d, 0, "double free of frame 0x200d");
	/* reserved and outside */
	check_refused(&b, 0x2010, 0, "never allocated (reserved)");
	check_refused(&b, 0x1fff, 0, "never allocated (outside");
	check_refused(&b, 0x2020, 0, "never allocated (outside");
	check_refused(&b, 0, 0, "never allocated (outside");
	check_refused(&b, ~0ULL, 0, "never allocated (outside");
	CHECK(buddy_frame(&b, 0x2001) == NULL);
	CHECK(buddy_frame(&b, 0x2008) == NULL);
	CHECK(buddy_frame(&b, 0x2010) == NULL);
	CHECK(buddy_frame(&b, 0x1fff) == NULL);
	CHECK(buddy_frame(&b, 0x2000) != NULL);
	CHECK_EQ(buddy_free(&b, 0x2000, 2), 0);
	CHECK_EQ(nfree(&b, 4), 1);
	CHECK_EQ(buddy_check(&b), 0);
	free(frames);
}

static u64 zero_pfn;
static unsigned int zero_order, zero_calls;

static void zero_hook(u64 pfn, unsigned int order)
{
	zero_pfn = pfn;
	zero_order = order;
	zero_calls++;
}

static void test_zero_hook(void)
{
	struct buddy b;
	struct frame *frames = setup(&b, 0, 64);
	s64 p;

	CHECK_EQ(buddy_add_range(&b, 0, 64), 0);
	/* BUDDY_ZERO with no hook: fine, nothing to call */
	p = buddy_alloc(&b, 1, BUDDY_ZERO, 0);
	CHECK(p >= 0);
	CHECK_EQ(buddy_free(&b, (u64)p, 1), 0);

	b.zero_frames = zero_hook;
	zero_calls = 0;
	p = buddy_alloc(&b, 2, 0, 0);
	CHECK_EQ(zero_calls, 0);
	p = buddy_alloc(&b, 3, BUDDY_ZERO, 0);
	CHECK_EQ(zero_calls, 1);
	CHECK_EQ(zero_pfn, p);
	CHECK_EQ(zero_order, 3);
	p = buddy_alloc(&b, 0, BUDDY_ZERO, 0);
	CHECK_EQ(zero_calls, 2);
	CHECK_EQ(zero_pfn, p);
	CHECK_EQ(zero_order, 0);
	CHECK_EQ(buddy_alloc(&b, 6, BUDDY_ZERO, 0), -ENOMEM);
	CHECK_EQ(zero_calls, 2);
	free(frames);
}

/* buddy_check must notice corruption, not just pass on good state. */
static void test_check_catches_corruption(void)
{
	struct buddy b;
	struct frame *frames = setup(&b, 0, 64);

	CHECK_EQ(buddy_add_range(&b, 0, 64), 0);
	CHECK_EQ(buddy_alloc(&b, 0, 0, 0), 0); /* free blocks at 1,2,4,8,16,32 */
	CHECK_EQ(buddy_check(&b), 0);

	frames[2].prev = 7;
	unit_console_clear();
	CHECK_EQ(buddy_check(&b), -EINVAL);
	CHECK(unit_console_contains("buddy: check failed"));
	frames[2].prev = FRAME_NONE;
	CHECK_EQ(buddy_check(&b), 0);

	b.stats.free_frames++;
	CHECK_EQ(buddy_check(&b), -EINVAL);
	b.stats.free_frames--;

	b.stats.free_blocks[3]++;
	CHECK_EQ(buddy_check(&b), -EINVAL);
	b.stats.free_blocks[3]--;

	frames[9].flags = FRAME_USED_HEAD; /* a block inside the free block at 8 */
	CHECK_EQ(buddy_check(&b), -EINVAL);
	frames[9].flags = 0;

	frames[1].flags = 0; /* the order-0 free block vanishes */
	CHECK_EQ(buddy_check(&b), -EINVAL);
	frames[1].flags = FRAME_FREE_HEAD;

	b.free_head[5] = 40; /* list entry that is not a free head */
	CHECK_EQ(buddy_check(&b), -EINVAL);
	b.free_head[5] = 32;
	CHECK_EQ(buddy_check(&b), 0);
	free(frames);

	/* Two free buddies of order 0, well listed and counted, but not merged. */
	frames = setup(&b, 0, 2);
	CHECK_EQ(buddy_add_range(&b, 0, 2), 0);
	CHECK_EQ(buddy_alloc(&b, 0, 0, 0), 0);
	CHECK_EQ(buddy_alloc(&b, 0, 0, 0), 1);
	frames[0] = (struct frame){ .next = 1, .prev = FRAME_NONE, .flags = FRAME_FREE_HEAD };
	frames[1] = (struct frame){ .next = FRAME_NONE, .prev = 0, .flags = FRAME_FREE_HEAD };
	b.free_head[0] = 0;
	b.stats.free_blocks[0] = 2;
	b.stats.free_frames = 2;
	unit_console_clear();
	CHECK_EQ(buddy_check(&b), -EINVAL);
	CHECK(unit_console_contains("not merged"));
	free(frames);
}

/* ---- randomized property test against a bitmap model ---- */

static u64 rng_state;

static u64 rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

struct live {
	u64 pfn;
	unsigned int order;
};

struct model {
	u64 base, nr;
	u8 *added; /* per frame index: given to the allocator */
	u8 *used; /* per frame index: inside an allocated block */
	struct live *live;
	unsigned int nlive;
	u64 added_frames, used_frames;
};

/* Is there a naturally aligned block of this order that is wholly free? */
static bool model_has_block(const struct model *m, unsigned int order)
{
	u64 size = ORDER_FRAMES(order), start, i;

	for (start = ALIGN_UP(m->base, size); start + size <= m->base + m->nr; start += size) {
		for (i = 0; i < size; i++)
			if (!m->added[start - m->base + i] || m->used[start - m->base + i])
				break;
		if (i == size)
			return true;
	}
	return false;
}

static int model_find_live(const struct model *m, u64 pfn)
{
	unsigned int i;

	for (i = 0; i < m->nlive; i++)
		if (m->live[i].pfn == pfn)
			return (int)i;
	return -1;
}

#define PROP(cond)                                                                     \
	do {                                                                           \
		if (!(cond)) {                                                         \
			fprintf(stderr, "%s:%d: property failed: %s (seed %llu, step %d)\n", \
				__FILE__, __LINE__, #cond, (unsigned long long)seed, step); \
			unit_checks_failed_in_test++;                                  \
			goto out;                                                      \
		}                                                                      \
	} while (0)

static void model_free(struct model *m, unsigned int i)
{
	u64 k;

	for (k = 0; k < ORDER_FRAMES(m->live[i].order); k++)
		m->used[m->live[i].pfn - m->base + k] = 0;
	m->used_frames -= ORDER_FRAMES(m->live[i].order);
	m->live[i] = m->live[--m->nlive];
}

static void run_seed(u64 seed, int steps)
{
	struct model m = { 0 };
	struct buddy b;
	struct buddy_stats start, st;
	struct frame *frames;
	u64 pos;
	u8 *start_layout = NULL;
	int step = -1;

	rng_state = seed * 0x9e3779b97f4a7c15ULL + 1;
	m.base = rnd() % 100000; /* usually unaligned */
	m.nr = 3000 + rnd() % 6000;
	m.added = calloc(m.nr, 1);
	m.used = calloc(m.nr, 1);
	m.live = calloc(m.nr, sizeof(*m.live));
	frames = setup(&b, m.base, m.nr);
	b.zero_frames = zero_hook;

	/* Ranges with holes; occasionally an overlapping add that must be refused. */
	for (pos = rnd() % 8; pos < m.nr;) {
		u64 len = 1 + rnd() % 1500, k;

		if (len > m.nr - pos)
			len = m.nr - pos;
		PROP(buddy_add_range(&b, m.base + pos, len) == 0);
		for (k = 0; k < len; k++)
			m.added[pos + k] = 1;
		m.added_frames += len;
		if (rnd() % 4 == 0)
			PROP(buddy_add_range(&b, m.base + pos + len - 1, 2) == -EINVAL);
		pos += len + (rnd() % 3 ? rnd() % 40 : 0);
	}
	PROP(buddy_check(&b) == 0);
	buddy_get_stats(&b, &start);
	PROP(start.managed_frames == m.added_frames);
	PROP(start.free_frames == m.added_frames);
	start_layout = layout(&b);

	for (step = 0; step < steps; step++) {
		unsigned int r = rnd() % 100;

		if (r < 50) {
			unsigned int order = rnd() % 4 ? rnd() % 4 : rnd() % (BUDDY_MAX_ORDER + 1);
			unsigned int flags = rnd() % 2 ? BUDDY_ZERO : 0;
			u16 owner = (u16)rnd();
			unsigned int calls = zero_calls;
			struct frame *f;
			s64 p = buddy_alloc(&b, order, flags, owner);
			u64 k;

			if (p < 0) {
				PROP(p == -ENOMEM);
				PROP(!model_has_block(&m, order));
				PROP(zero_calls == calls);
				continue;
			}
			PROP((u64)p >= m.base && (u64)p + ORDER_FRAMES(order) <= m.base + m.nr);
			PROP(((u64)p & (ORDER_FRAMES(order) - 1)) == 0);
			for (k = 0; k < ORDER_FRAMES(order); k++) {
				PROP(m.added[p - m.base + k]);
				PROP(!m.used[p - m.base + k]);
				m.used[p - m.base + k] = 1;
			}
			m.used_frames += ORDER_FRAMES(order);
			m.live[m.nlive].pfn = (u64)p;
			m.live[m.nlive++].order = order;
			f = buddy_frame(&b, (u64)p);
			PROP(f && f->order == order && f->owner == owner && f->refcount == 1);
			if (flags)
				PROP(zero_calls == calls + 1 && zero_pfn == (u64)p && zero_order == order);
			else
				PROP(zero_calls == calls);
		} else if (r < 90) {
			unsigned int i;

			if (!m.nlive)
				continue;
			i = (unsigned int)(rnd() % m.nlive);
			PROP(buddy_free(&b, m.live[i].pfn, m.live[i].order) == 0);
			model_free(&m, i);
		} else {
			/* A free the model may or may not consider valid. */
			u64 pfn;
			unsigned int order = rnd() % (BUDDY_MAX_ORDER + 2);
			struct buddy_stats before, after;
			int li, ret;

			if (m.nlive && rnd() % 2) {
				li = (int)(rnd() % m.nlive);
				pfn = m.live[li].pfn + rnd() % 3;
				if (rnd() % 2)
					order = m.live[li].order;
			} else {
				pfn = m.base - 4 + rnd() % (m.nr + 8);
			}
			li = model_find_live(&m, pfn);
			buddy_get_stats(&b, &before);
			unit_console_clear();
			ret = buddy_free(&b, pfn, order);
			if (li >= 0 && m.live[li].order == order) {
				PROP(ret == 0);
				model_free(&m, (unsigned int)li);
				continue;
			}
			buddy_get_stats(&b, &after);
			PROP(ret == -EINVAL);
			PROP(console_names(pfn));
			PROP(after.errors == before.errors + 1);
			before.errors = after.errors;
			PROP(same_stats(&before, &after));
		}

		buddy_get_stats(&b, &st);
		PROP(st.managed_frames == m.added_frames);
		PROP(st.free_frames == m.added_frames - m.used_frames);
		if (step % 97 == 0)
			PROP(buddy_check(&b) == 0);
	}

	/* Give everything back in random order: the original layout returns. */
	while (m.nlive) {
		unsigned int i = (unsigned int)(rnd() % m.nlive);

		PROP(buddy_free(&b, m.live[i].pfn, m.live[i].order) == 0);
		model_free(&m, i);
	}
	PROP(buddy_check(&b) == 0);
	buddy_get_stats(&b, &st);
	start.errors = st.errors;
	PROP(same_stats(&st, &start));
	PROP(same_layout(&b, start_layout));
out:
	free(start_layout);
	free(frames);
	free(m.added);
	free(m.used);
	free(m.live);
}

static void test_random_property(void)
{
	static const u64 seeds[] = { 1, 2, 3, 42, 1234, 0xdeadbeef, 77777, 31337 };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(seeds); i++)
		run_seed(seeds[i], 6000);
}

/* A split 2 MiB block gives back its frames one at a time and merges whole. */
static void test_split_block(void)
{
	struct buddy b;
	struct frame *frames = setup(&b, 0, 1024);
	u8 *before;
	s64 pfn;

	CHECK_EQ(buddy_add_range(&b, 0, 1024), 0);
	before = layout(&b);
	pfn = buddy_alloc(&b, 9, 0, 7);
	CHECK(pfn >= 0);
	CHECK_EQ(buddy_split(&b, pfn), 0);
	CHECK(buddy_frame(&b, pfn + 100) && buddy_frame(&b, pfn + 100)->owner == 7);
	/* the old order no longer fits */
	unit_console_clear();
	CHECK_EQ(buddy_free(&b, pfn, 9), -EINVAL);
	CHECK(unit_console_contains("allocated with order 0"));
	/* not a block head: refused */
	CHECK_EQ(buddy_split(&b, pfn + 600), -EINVAL);
	for (u64 i = 0; i < 512; i++)
		CHECK_EQ(buddy_free(&b, pfn + i, 0), 0);
	CHECK(same_layout(&b, before));
	CHECK_EQ(buddy_check(&b), 0);
	free(before);
	free(frames);
}

int main(void)
{
	RUN_TEST(test_init_rejects);
	RUN_TEST(test_empty);
	RUN_TEST(test_aligned_range);
	RUN_TEST(test_unaligned_base);
	RUN_TEST(test_buddy_outside_range);
	RUN_TEST(test_add_range_refuses);
	RUN_TEST(test_adjacent_adds_merge);
	RUN_TEST(test_holes);
	RUN_TEST(test_split_and_merge);
	RUN_TEST(test_exhaustion);
	RUN_TEST(test_every_order);
	RUN_TEST(test_double_free);
	RUN_TEST(test_wrong_order);
	RUN_TEST(test_foreign_free);
	RUN_TEST(test_zero_hook);
	RUN_TEST(test_check_catches_corruption);
	RUN_TEST(test_split_block);
	RUN_TEST(test_random_property);
	return unit_finish("buddy_test");
}
