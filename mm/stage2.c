/*
 * Guest-physical memory on demand (see mm/stage2.h). The stage-2 tables use
 * the vendor's entry format through the generic walker; frames come from
 * the buddy allocator tagged with the guest as owner.
 */
#include "arch/x86/cpu.h"
#include "arch/x86/paging.h"
#include "kernel/cmdline.h"
#include "kernel/errno.h"
#include "kernel/trace.h"
#include "kernel/guest.h"
#include "kernel/printk.h"
#include "kernel/string.h"
#include "mm/frame_alloc.h"
#include "mm/reclaim.h"
#include "mm/shadow.h"
#include "mm/stage2.h"
#include "mm/swap.h"

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

	return !e || !*e;
}

u32 frame_owner_data(u64 frame)
{
	return buddy_frame(&frame_allocator, frame >> PAGE_SHIFT)->owner_data;
}

void set_frame_owner_data(u64 frame, u32 v)
{
	buddy_frame(&frame_allocator, frame >> PAGE_SHIFT)->owner_data = v;
}

static void account(struct guest *g, s64 pages)
{
	g->stats.resident_pages += pages;
	guest_pages_used += pages;
	g->stats.peak_resident = MAX(g->stats.peak_resident, g->stats.resident_pages);
}

/*
 * poison_freed=on: every frame taken from a guest is filled with this
 * before it is freed. A guest that could still reach it through a stale
 * translation would read the poison; tests check it never does.
 */
#define POISON 0xdeadbeefdeadbeefUL

static void poison(u64 frame, unsigned int level)
{
	u64 *p = phys_to_virt(frame);

	for (u64 i = 0; i < pt_level_size(level) / 8; i++)
		p[i] = POISON;
}

/* A guest frame leaves the guest: its clean swap copy goes too. */
static void drop_frame(struct guest *g, u64 frame, unsigned int level)
{
	if (options.poison_freed)
		poison(frame, level);
	if (level == 0 && frame_owner_data(frame) != NO_SLOT)
		swap_slot_free(frame_owner_data(frame));
	frame_free(frame, level * 9);
	account(g, -(s64)(pt_level_size(level) / PAGE_SIZE));
}

static u64 access_index(u32 access)
{
	return (access & STAGE2_WRITE) ? 1 : (access & STAGE2_EXEC) ? 2 : 0;
}

/*
 * A frame for the guest, within the budget: reclaim first if needed, and
 * once more if the allocator itself is out of frames.
 */
static u64 guest_frame(struct guest *g, unsigned int order)
{
	u16 owner = GUEST_OWNER_BASE + g->id;
	u64 frame;

	if (reclaim_reserve(g, 1UL << order))
		return 0;
	frame = frame_alloc(order, BUDDY_ZERO, owner);
	if (!frame && reclaim_pages(1UL << order))
		frame = frame_alloc(order, BUDDY_ZERO, owner);
	return frame;
}

static int map_frame(struct guest *g, u64 gpa, u64 frame, unsigned int level, u64 attrs)
{
	if (pt_map(&g->stage2.pt, gpa, frame, pt_level_size(level), attrs, level)) {
		frame_free(frame, level * 9);
		return -ENOMEM;
	}
	account(g, pt_level_size(level) / PAGE_SIZE);
	return 0;
}

/* The guest wants its page back from a software entry. */
static int fault_in(struct guest *g, u64 gpa, u32 access, u64 *e)
{
	const struct pt_format *fmt = g->stage2.pt.fmt;
	u64 old = *e, frame;
	int err;

	if (old & SWAP_ENTRY_SAMPLED) {
		/*
		 * Touched while sampled: it is in use, map it again as it was.
		 * A clean copy stays read-only, so that its first write still
		 * invalidates the slot.
		 */
		frame = old & SWAP_ENTRY_ADDR;
		*e = pt_make_leaf(fmt, frame, 0,
				  frame_owner_data(frame) == NO_SLOT ? STAGE2_ATTRS :
								      STAGE2_ATTRS & ~PT_WRITE);
		g->stats.sample_refaults++;
		TRACE(TE_STAGE2_FAULT, TRACE_STR(g->name), gpa, access_index(access), FAULT_SAMPLE);
		return 0;
	}
	u64 start = rdtsc();

	frame = guest_frame(g, 0);
	if (!frame)
		return -EAGAIN;
	if (old & SWAP_ENTRY_ZERO) {
		*e = 0;
		g->stats.swapped_now--;
		g->stats.zero_fills++;
		TRACE(TE_STAGE2_FAULT, TRACE_STR(g->name), gpa, access_index(access), FAULT_ZERO_PAGE);
		return map_frame(g, gpa, frame, 0, STAGE2_ATTRS);
	}
	err = swap_read(swap_entry_slot(old), frame);
	if (err) {
		frame_free(frame, 0);
		pr_err("tide: guest %s: swap-in of gpa %#lx from slot %#lx failed: %s\n", g->name,
		       gpa, swap_entry_slot(old),
		       err == -EBADMSG ? "checksum mismatch" : "I/O error");
		TRACE(TE_STAGE2_FAULT, TRACE_STR(g->name), gpa, access_index(access), FAULT_IOERR);
		return -EIO;
	}
	*e = 0;
	g->stats.swapped_now--;
	g->stats.swap_ins++;
	g->stats.swap_in_ticks += rdtsc() - start;
	hist_add(HIST_SWAP_IN, rdtsc() - start);
	TRACE(TE_SWAP_IN, TRACE_STR(g->name), gpa, swap_entry_slot(old));
	TRACE(TE_STAGE2_FAULT, TRACE_STR(g->name), gpa, access_index(access), FAULT_SWAP_IN);
	if (access & STAGE2_WRITE) {
		swap_slot_free(swap_entry_slot(old));
		return map_frame(g, gpa, frame, 0, STAGE2_ATTRS);
	}
	/* keep the slot as a clean copy until the first write: a free swap-out */
	set_frame_owner_data(frame, swap_entry_slot(old));
	return map_frame(g, gpa, frame, 0, STAGE2_ATTRS & ~PT_WRITE);
}

int stage2_fault(struct guest *g, u64 gpa, u32 access)
{
	struct stage2 *s = &g->stage2;
	u64 base = ALIGN_DOWN(gpa, HUGE_SIZE), pa, attrs, frame, *e;
	unsigned int level;

	if (gpa >= s->ram_size)
		return -EFAULT;
	g->stats.stage2_faults++;
	if (!pt_lookup(&s->pt, gpa, &pa, &level, &attrs)) {
		if ((access & STAGE2_WRITE) && !(attrs & PT_WRITE)) {
			/* first write to a clean swapped-in page: its slot copy is stale now */
			u64 frame = ALIGN_DOWN(pa, PAGE_SIZE);

			if (frame_owner_data(frame) != NO_SLOT)
				swap_slot_free(frame_owner_data(frame));
			set_frame_owner_data(frame, NO_SLOT);
			e = pt_entry(&s->pt, gpa, 0, false);
			*e |= s->pt.fmt->write;
			TRACE(TE_STAGE2_FAULT, TRACE_STR(g->name), gpa, access_index(access), FAULT_DIRTY);
			return 0;
		}
		/* mapped already: a stale translation, e.g. after a flush race */
		vcpu_ops->flush_guest_tlb(g);
		TRACE(TE_STAGE2_FAULT, TRACE_STR(g->name), gpa, access_index(access), FAULT_STALE);
		return 0;
	}
	e = pt_entry(&s->pt, gpa, 0, false);
	if (e && *e)
		return fault_in(g, ALIGN_DOWN(gpa, PAGE_SIZE), access, e);

	/* a 2 MiB frame only when it fits without reclaim: under pressure, 4 KiB */
	/* shadow entries are 4 KiB: 2 MiB frames would gain nothing there */
	if (stage2_huge && !shadow_paging && base + HUGE_SIZE <= s->ram_size &&
	    huge_region_empty(g, base) && reclaim_has_room(HUGE_SIZE / PAGE_SIZE)) {
		frame = frame_alloc(HUGE_ORDER, BUDDY_ZERO, GUEST_OWNER_BASE + g->id);
		if (frame) {
			g->stats.huge_mappings++;
			g->stats.zero_fills++;
			TRACE(TE_STAGE2_FAULT, TRACE_STR(g->name), gpa, access_index(access), FAULT_HUGE);
			return map_frame(g, base, frame, 1, STAGE2_ATTRS);
		}
	}
	frame = guest_frame(g, 0);
	if (!frame) {
		TRACE(TE_STAGE2_FAULT, TRACE_STR(g->name), gpa, access_index(access), FAULT_NOMEM);
		return -EAGAIN;
	}
	g->stats.zero_fills++;
	TRACE(TE_STAGE2_FAULT, TRACE_STR(g->name), gpa, access_index(access), FAULT_ZERO_FILL);
	return map_frame(g, ALIGN_DOWN(gpa, PAGE_SIZE), frame, 0, STAGE2_ATTRS);
}

/*
 * Invalidation: leaves are zapped under a batch, the batch is flushed, and
 * only then are its leaves released (frames freed, pages written to swap).
 */
#define ZAP_BATCH 64

struct zap_record {
	u64 gpa, old;
	u64 *entry;
	unsigned int level;
};

struct zap {
	struct guest *g;
	u64 start, end;
	const struct stage2_zap_ops *ops;
	unsigned int n;
	u64 zapped;
	struct zap_record rec[ZAP_BATCH];
};

static void zap_flush_and_release(struct zap *z)
{
	if (!z->n)
		return;
	vcpu_ops->flush_guest_tlb(z->g);
	z->zapped += z->n;
	for (unsigned int i = 0; i < z->n; i++)
		z->ops->release(z->ops->ctx, z->rec[i].gpa, z->rec[i].old, z->rec[i].level,
				z->rec[i].entry);
	z->n = 0;
}

static int zap_leaf(void *ctx, u64 va, u64 *entry, unsigned int level)
{
	struct zap *z = ctx;
	u64 size = pt_level_size(level), new;

	if (va < z->start || va + size > z->end)
		return -EAGAIN; /* a large leaf sticking out: split it first */
	if (!z->ops->zap(z->ops->ctx, va, *entry, level, &new))
		return 0;
	/* shadow paging: the shadow entries that map the frame go first */
	if (shadow_paging && pt_present(z->g->stage2.pt.fmt, *entry))
		for (u64 off = 0; off < size; off += PAGE_SIZE)
			shadow_zap_frame(z->g, va + off,
					 pt_entry_addr(z->g->stage2.pt.fmt, *entry, level) + off);
	z->rec[z->n++] = (struct zap_record){ va, *entry, entry, level };
	*entry = new;
	if (z->n == ZAP_BATCH)
		zap_flush_and_release(z);
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
	TRACE(TE_STAGE2_SPLIT, TRACE_STR(g->name), ALIGN_DOWN(gpa, HUGE_SIZE));
	return err;
}

int stage2_invalidate_with(struct guest *g, u64 gpa, u64 size, const struct stage2_zap_ops *ops)
{
	struct zap z = { .g = g, .start = gpa, .end = gpa + size, .ops = ops };
	u64 start = rdtsc();
	int err = 0;

	if (!IS_ALIGNED(gpa | size, PAGE_SIZE) || z.end < gpa)
		return -EINVAL;
	/* only the two ends can cut through a large mapping */
	if (!IS_ALIGNED(gpa, HUGE_SIZE))
		err = split_huge(g, gpa);
	if (!err && size && !IS_ALIGNED(z.end, HUGE_SIZE))
		err = split_huge(g, z.end - PAGE_SIZE);
	if (!err)
		err = pt_for_each_leaf(&g->stage2.pt, gpa, size, PT_WALK_NONPRESENT, zap_leaf, &z);
	zap_flush_and_release(&z);
	if (z.zapped) {
		hist_add(HIST_INVALIDATE, rdtsc() - start);
		TRACE(TE_INVALIDATE, TRACE_STR(g->name), gpa, size, z.zapped, trace_flush_kind);
	}
	return err;
}

/* Everything goes: frames, clean copies' slots, swapped pages' slots. */
static bool zap_everything(void *ctx __unused, u64 gpa __unused, u64 old __unused,
			   unsigned int level __unused, u64 *new)
{
	*new = 0;
	return true;
}

static void release_everything(void *ctx, u64 gpa __unused, u64 old, unsigned int level,
			       u64 *entry __unused)
{
	struct guest *g = ctx;
	const struct pt_format *fmt = g->stage2.pt.fmt;

	if (pt_present(fmt, old) || (old & SWAP_ENTRY_SAMPLED)) {
		u64 frame = pt_present(fmt, old) ? pt_entry_addr(fmt, old, level) :
						   (old & SWAP_ENTRY_ADDR);

		drop_frame(g, frame, level);
	} else if (old & SWAP_ENTRY_SWAPPED) {
		swap_slot_free(swap_entry_slot(old));
		g->stats.swapped_now--;
	} else if (old & SWAP_ENTRY_ZERO) {
		g->stats.swapped_now--;
	}
}

int stage2_invalidate(struct guest *g, u64 gpa, u64 size)
{
	const struct stage2_zap_ops ops = { zap_everything, release_everything, g };

	return stage2_invalidate_with(g, gpa, size, &ops);
}

/* Swap-out: the zap decides each victim's software entry and slot. */
struct swap_out {
	struct guest *g;
	const u64 *gpas;
	unsigned int n, done;
};

static bool is_victim(const struct swap_out *so, u64 gpa)
{
	for (unsigned int i = 0; i < so->n; i++)
		if (so->gpas[i] == gpa)
			return true;
	return false;
}

static bool zap_victim(void *ctx, u64 gpa, u64 old, unsigned int level, u64 *new)
{
	struct swap_out *so = ctx;
	const struct pt_format *fmt = so->g->stage2.pt.fmt;
	u64 frame, slot;
	u32 clean;

	if (level || !is_victim(so, gpa))
		return false;
	if (!pt_present(fmt, old) && !(old & SWAP_ENTRY_SAMPLED))
		return false; /* already out */
	frame = pt_present(fmt, old) ? pt_entry_addr(fmt, old, 0) : (old & SWAP_ENTRY_ADDR);
	clean = frame_owner_data(frame);
	if (frame_is_zero(frame)) {
		*new = SWAP_ENTRY_ZERO;
	} else if (clean != NO_SLOT) {
		*new = swap_entry(clean); /* unchanged since read from this slot */
		set_frame_owner_data(frame, NO_SLOT);
	} else if (!swap_slot_alloc(&slot)) {
		*new = swap_entry(slot) | SWAP_ENTRY_WRITE_PENDING;
	} else {
		return false; /* swap full: this victim stays */
	}
	return true;
}

static void release_victim(void *ctx, u64 gpa, u64 old, unsigned int level __unused, u64 *entry)
{
	struct swap_out *so = ctx;
	struct guest *g = so->g;
	const struct pt_format *fmt = g->stage2.pt.fmt;
	u64 frame = pt_present(fmt, old) ? pt_entry_addr(fmt, old, 0) : (old & SWAP_ENTRY_ADDR);
	int kind = (*entry & SWAP_ENTRY_ZERO) ? SWAP_KIND_ZERO :
		   (*entry & SWAP_ENTRY_WRITE_PENDING) ? SWAP_KIND_WRITE : SWAP_KIND_CLEAN;

	if (*entry & SWAP_ENTRY_WRITE_PENDING) {
		u64 slot = swap_entry_slot(*entry);

		*entry &= ~SWAP_ENTRY_WRITE_PENDING;
		if (swap_write(slot, frame)) {
			/* nothing lost: the page stays where it was, mapped again */
			pr_err("tide: guest %s: swap-out of gpa %#lx failed; page kept\n", g->name,
			       gpa);
			swap_slot_free(slot);
			*entry = old; /* present or sampled, as before */
			return;
		}
	}
	TRACE(TE_SWAP_OUT, TRACE_STR(g->name), gpa, swap_entry_slot(*entry), kind);
	if (*entry & SWAP_ENTRY_ZERO)
		g->stats.zero_pages++;
	g->stats.swap_outs++;
	g->stats.swapped_now++;
	drop_frame(g, frame, 0);
	so->done++;
}

u64 stage2_swap_out(struct guest *g, const u64 *gpas, unsigned int n)
{
	struct swap_out so = { g, gpas, n, 0 };
	const struct stage2_zap_ops ops = { zap_victim, release_victim, &so };
	u64 lo = ~0UL, hi = 0, start = rdtsc();

	for (unsigned int i = 0; i < n; i++) {
		lo = MIN(lo, gpas[i]);
		hi = MAX(hi, gpas[i] + PAGE_SIZE);
	}
	if (n)
		stage2_invalidate_with(g, lo, hi - lo, &ops);
	g->stats.swap_out_ticks += rdtsc() - start;
	if (so.done)
		hist_add(HIST_SWAP_OUT, (rdtsc() - start) / so.done);
	return so.done;
}

void stage2_destroy(struct guest *g)
{
	struct stage2 *s = &g->stage2;

	if (!s->pt.root)
		return;
	stage2_invalidate(g, 0, ALIGN_UP(s->ram_size, HUGE_SIZE));
	pt_destroy(&s->pt);
}

int stage2_host_access(struct guest *g, u64 gpa, bool write, void **ptr)
{
	u64 pa, attrs;
	int err;

	if (gpa >= g->stage2.ram_size)
		return -EFAULT;
	err = pt_lookup(&g->stage2.pt, gpa, &pa, NULL, &attrs);
	/*
	 * A write needs the page writable in stage 2 too: a clean swapped-in
	 * page must lose its slot copy first, as if the guest wrote it.
	 */
	if (err || (write && !(attrs & PT_WRITE))) {
		err = stage2_fault(g, gpa, write ? STAGE2_WRITE : STAGE2_READ);
		if (!err)
			err = pt_lookup(&g->stage2.pt, gpa, &pa, NULL, NULL);
		if (err)
			return err;
	}
	*ptr = phys_to_virt(pa);
	return 0;
}

void *stage2_host_ptr(struct guest *g, u64 gpa)
{
	void *p;

	return stage2_host_access(g, gpa, true, &p) ? NULL : p;
}

static int guest_copy(struct guest *g, u64 gpa, void *buf, u64 len, bool to_guest)
{
	if (gpa + len < gpa || gpa + len > g->stage2.ram_size)
		return -EFAULT;
	while (len) {
		u64 chunk = MIN(len, PAGE_SIZE - (gpa & (PAGE_SIZE - 1)));
		void *p;

		if (stage2_host_access(g, gpa, to_guest, &p))
			return -EFAULT;
		if (to_guest) {
			shadow_guest_wrote(g, gpa, chunk);
			memcpy(p, buf, chunk);
		} else {
			memcpy(buf, p, chunk);
		}
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

int stage2_split(struct guest *g, u64 gpa)
{
	return split_huge(g, gpa);
}
