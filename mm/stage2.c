/*
 * Guest-physical memory on demand (see mm/stage2.h). The stage-2 tables use
 * the vendor's entry format through the generic walker; frames come from
 * the buddy allocator tagged with the guest as owner.
 */
#include "kernel/errno.h"
#include "kernel/guest.h"
#include "kernel/printk.h"
#include "kernel/string.h"
#include "mm/frame_alloc.h"
#include "mm/stage2.h"

#define HUGE_SIZE (2 * MiB)
#define HUGE_ORDER 9
#define STAGE2_ATTRS (PT_READ | PT_WRITE | PT_EXEC | PT_USER)

int stage2_huge = 1;

static u64 table_alloc(void *ctx)
{
	struct guest *g = ctx;
	u64 phys = frame_alloc_page(GUEST_OWNER_BASE + g->id);

	if (phys)
		g->stage2.table_pages++;
	return phys;
}

static void table_free(void *ctx, u64 phys)
{
	struct guest *g = ctx;

	g->stage2.table_pages--;
	frame_free_page(phys);
}

static const struct pt_alloc stage2_table_alloc_ops = { table_alloc, table_free, NULL };

int stage2_init(struct guest *g, u64 ram_size)
{
	struct stage2 *s = &g->stage2;

	s->ram_size = ram_size;
	s->table_pages = 0;
	/* the allocator context is the guest; the ops are shared */
	s->alloc = stage2_table_alloc_ops;
	s->alloc.ctx = g;
	return pt_create(&s->pt, vcpu_ops->stage2_format(), &s->alloc);
}

/* True if nothing is mapped in the 2 MiB region at base. */
static bool huge_region_empty(struct guest *g, u64 base)
{
	u64 *e = pt_entry(&g->stage2.pt, base, 1, false);

	return !e || !pt_present(g->stage2.pt.fmt, *e);
}

int stage2_fault(struct guest *g, u64 gpa, u32 access __unused)
{
	struct stage2 *s = &g->stage2;
	u16 owner = GUEST_OWNER_BASE + g->id;
	u64 base = ALIGN_DOWN(gpa, HUGE_SIZE);
	u64 frame;

	if (gpa >= s->ram_size)
		return -EFAULT;
	g->stats.stage2_faults++;
	if (!pt_lookup(&s->pt, gpa, NULL, NULL, NULL)) {
		/* mapped already: a stale translation, e.g. after a flush race */
		vcpu_ops->stage2_flush(g);
		return 0;
	}
	if (stage2_huge && base + HUGE_SIZE <= s->ram_size && huge_region_empty(g, base)) {
		frame = frame_alloc(HUGE_ORDER, BUDDY_ZERO, owner);
		if (frame) {
			if (pt_map(&s->pt, base, frame, HUGE_SIZE, STAGE2_ATTRS, 1)) {
				frame_free(frame, HUGE_ORDER);
				return -ENOMEM;
			}
			g->stats.resident_pages += HUGE_SIZE / PAGE_SIZE;
			g->stats.peak_resident = MAX(g->stats.peak_resident, g->stats.resident_pages);
			g->stats.huge_mappings++;
			g->stats.zero_fills++;
			return 0;
		}
	}
	frame = frame_alloc_page(owner);
	if (!frame)
		return -ENOMEM;
	if (pt_map(&s->pt, ALIGN_DOWN(gpa, PAGE_SIZE), frame, PAGE_SIZE, STAGE2_ATTRS, 0)) {
		frame_free_page(frame);
		return -ENOMEM;
	}
	g->stats.resident_pages++;
	g->stats.peak_resident = MAX(g->stats.peak_resident, g->stats.resident_pages);
	g->stats.zero_fills++;
	return 0;
}

/*
 * Invalidation collects the frames it unmaps and frees them only after the
 * TLB flush, in batches so that the list stays small.
 */
#define ZAP_BATCH 64

struct zap {
	struct guest *g;
	u64 start, end;
	unsigned int n;
	u64 frames[ZAP_BATCH];
	u8 orders[ZAP_BATCH];
};

static void zap_flush_and_free(struct zap *z)
{
	vcpu_ops->stage2_flush(z->g);
	for (unsigned int i = 0; i < z->n; i++)
		frame_free(z->frames[i], z->orders[i]);
	z->n = 0;
}

static int zap_leaf(void *ctx, u64 va, u64 *entry, unsigned int level)
{
	struct zap *z = ctx;
	struct stage2 *s = &z->g->stage2;
	u64 size = pt_level_size(level);
	u64 pa = pt_entry_addr(s->pt.fmt, *entry, level);

	if (va < z->start || va + size > z->end)
		return -EAGAIN; /* a large leaf sticking out: split it first */
	*entry = 0;
	z->frames[z->n] = pa;
	z->orders[z->n] = level * 9;
	z->g->stats.resident_pages -= size / PAGE_SIZE;
	if (++z->n == ZAP_BATCH)
		zap_flush_and_free(z);
	return 0;
}

/* Splits a 2 MiB leaf (mapping and frame) that covers gpa. */
static int split_huge(struct guest *g, u64 gpa)
{
	struct stage2 *s = &g->stage2;
	u64 pa;
	unsigned int level;
	int err;

	if (pt_lookup(&s->pt, gpa, &pa, &level, NULL) || level == 0)
		return 0;
	pa = ALIGN_DOWN(pa, HUGE_SIZE);
	err = pt_split(&s->pt, gpa, level);
	if (!err)
		err = buddy_split(&frame_allocator, pa >> PAGE_SHIFT);
	return err;
}

int stage2_invalidate(struct guest *g, u64 gpa, u64 size)
{
	struct zap z = { .g = g, .start = gpa, .end = gpa + size };
	int err;

	if (!IS_ALIGNED(gpa | size, PAGE_SIZE) || z.end < gpa)
		return -EINVAL;
	/* only the two ends can cut through a large mapping */
	err = split_huge(g, gpa);
	if (!err && size)
		err = split_huge(g, z.end - PAGE_SIZE);
	if (!err)
		err = pt_for_each_leaf(&g->stage2.pt, gpa, size, zap_leaf, &z);
	zap_flush_and_free(&z);
	return err;
}

void stage2_destroy(struct guest *g)
{
	struct stage2 *s = &g->stage2;

	if (!s->pt.root)
		return;
	stage2_invalidate(g, 0, ALIGN_UP(s->ram_size, HUGE_SIZE));
	pt_destroy(&s->pt);
}

void *stage2_host_ptr(struct guest *g, u64 gpa)
{
	u64 pa;

	if (gpa >= g->stage2.ram_size)
		return NULL;
	if (pt_lookup(&g->stage2.pt, gpa, &pa, NULL, NULL)) {
		if (stage2_fault(g, gpa, STAGE2_WRITE) ||
		    pt_lookup(&g->stage2.pt, gpa, &pa, NULL, NULL))
			return NULL;
	}
	return phys_to_virt(pa);
}

static int guest_copy(struct guest *g, u64 gpa, void *buf, u64 len, bool to_guest)
{
	if (gpa + len < gpa || gpa + len > g->stage2.ram_size)
		return -EFAULT;
	while (len) {
		u64 chunk = MIN(len, PAGE_SIZE - (gpa & (PAGE_SIZE - 1)));
		u8 *p = stage2_host_ptr(g, gpa);

		if (!p)
			return -EFAULT;
		if (to_guest)
			memcpy(p, buf, chunk);
		else
			memcpy(buf, p, chunk);
		buf = (u8 *)buf + chunk;
		gpa += chunk;
		len -= chunk;
	}
	return 0;
}

int guest_copy_to(struct guest *g, u64 gpa, const void *src, u64 len)
{
	return guest_copy(g, gpa, (void *)src, len, true);
}

int guest_copy_from(struct guest *g, void *dst, u64 gpa, u64 len)
{
	return guest_copy(g, gpa, dst, len, false);
}
