/*
 * The buddy allocator of pfa.h with Linux-style free page reporting.
 *
 * Page numbers index one array of struct pfa_page covering [0, top of
 * usable RAM): page number = physical address >> 12, so the buddy of the
 * block at page i of order o is at i ^ (1 << o) and every block is aligned
 * to its size in guest-physical terms too, as the hint ABI requires. The
 * array sits in the lowest usable RAM that can hold it; its pages, the first
 * MiB, the image and the modules are RESERVED and never free.
 *
 * Only the first page of a free or allocated block (its head) says so in
 * its state; every other usable page is USED. A free head is either on the
 * free list of its order (FREE) or waiting in the report queue (QUEUED): a
 * queued block is on no list, so it can be neither allocated nor merged
 * until the flush puts it back. Its buddy, freed meanwhile, then stays
 * unmerged at the same order, which is at least the report order, so it is
 * queued too; after the flush both are reported and merge into a reported
 * block, and no flush ever queues anything new.
 *
 * "reported" belongs to free heads: the whole block has been hinted (or
 * never touched since boot). Splitting passes it to both halves; merging
 * keeps it only if both halves had it, so a block with any page written
 * since its last hint is reported again, as a whole, when it is freed.
 */
#include "guest/lib/errno.h"
#include "guest/lib/exit.h"
#include "guest/lib/guest.h"
#include "guest/lib/multiboot.h"
#include "guest/lib/pfa.h"
#include "guest/lib/printf.h"
#include "guest/lib/string.h"
#include "guest/lib/tide.h"
#include "guest/lib/trap.h"

#define NIL 0xffffffffu
#define PAGE_SHIFT 12
#define RAM_LIMIT (1ull << 32) /* paging is off: what we can address */

enum page_state {
	PS_RESERVED, /* not RAM, or not ours to hand out (0: the memset default) */
	PS_USED, /* usable, and not the head of a free or allocated block */
	PS_FREE, /* head of a block on free_head[order] */
	PS_QUEUED, /* head of a free block in the report queue */
	PS_ALLOCATED, /* head of a block pfa_alloc() returned */
};

struct pfa_page {
	u32 next, prev; /* free list neighbours (page numbers), NIL at the ends */
	u8 state; /* enum page_state */
	u8 order; /* of the block this page heads */
	u8 reported; /* free head: the whole block is hinted or untouched */
	u8 unused;
};

/* One entry of FREE_PAGE_HINT_BATCH's list, in the ABI's layout. */
struct hint_entry {
	u64 gpa, order;
};

static struct pfa_page *pages;
static u32 npages; /* pages[] covers page numbers [0, npages) */
static u32 meta_bytes, managed, free_count;
static u32 low_addr; /* lowest usable address */
static u32 free_head[PFA_MAX_ORDER + 1];

static struct hint_entry queue[PFA_QUEUE_MAX] __aligned(16);
static bool queue_ok[PFA_QUEUE_MAX]; /* Tide accepted the entry */
static u32 queued;

static enum pfa_hint_mode offered; /* what CPUID 0x40000001 advertises */
static bool hints_wanted = true, hints_refused;
static unsigned int report_order = PFA_REPORT_ORDER_DEFAULT;
static struct pfa_stats stats;

/* Ranges left out of the allocator: module images, then the metadata. */
struct range {
	u64 start, end;
};
static struct range excluded[MB_MODULES_MAX + 1];
static int nexcluded;

/* ---- free lists ---- */

static void list_add(u32 i, unsigned int order, bool reported)
{
	struct pfa_page *p = &pages[i];

	p->state = PS_FREE;
	p->order = (u8)order;
	p->reported = reported;
	p->prev = NIL;
	p->next = free_head[order];
	if (p->next != NIL)
		pages[p->next].prev = i;
	free_head[order] = i;
}

static void list_del(u32 i)
{
	struct pfa_page *p = &pages[i];

	if (p->prev != NIL)
		pages[p->prev].next = p->next;
	else
		free_head[p->order] = p->next;
	if (p->next != NIL)
		pages[p->next].prev = p->prev;
	p->state = PS_USED;
}

/*
 * Merges the free block at *i (no longer a head: state USED) with its free
 * buddies for as long as they are free at the same order. The result is
 * on no list; the caller lists or queues it.
 */
static void merge(u32 *i, unsigned int *order, bool *reported)
{
	while (*order < PFA_MAX_ORDER) {
		u32 b = *i ^ (1u << *order);

		if (b >= npages || pages[b].state != PS_FREE || pages[b].order != *order)
			break;
		list_del(b);
		*reported = *reported && pages[b].reported;
		*i &= ~(1u << *order);
		(*order)++;
	}
}

/* ---- reporting ---- */

enum pfa_hint_mode pfa_hint_mode(void)
{
	return hints_wanted && !hints_refused ? offered : PFA_HINTS_NONE;
}

const char *pfa_hint_mode_name(void)
{
	static const char *const names[] = {
		[PFA_HINTS_NONE] = "none",
		[PFA_HINTS_SINGLE] = "single",
		[PFA_HINTS_BATCH] = "batch",
	};

	return names[pfa_hint_mode()];
}

unsigned int pfa_report_order(void)
{
	return report_order > tide.min_hint_order ? report_order : tide.min_hint_order;
}

static bool reporting(void)
{
	return pfa_hint_mode() != PFA_HINTS_NONE && pfa_report_order() <= PFA_MAX_ORDER;
}

/*
 * One hint hypercall, counted. An answer that cannot change (-ENOSYS: not
 * implemented, -EOPNOTSUPP: switched off, -EPERM: pinned guest, or an
 * exception: nobody listening) stops all further hints; anything else
 * (-EINVAL, -EFAULT: our bug) is counted and the blocks stay unreported.
 */
static s32 hint_call(u32 nr, u32 a, u32 b)
{
	int vector;
	s32 r = hypercall_try(nr, a, b, 0, 0, &vector);

	stats.hypercalls++;
	if (vector != TRAP_NONE) {
		printf("%s: pfa: hint hypercall %u raised %s: hints stopped\n", guest_name, nr,
		       trap_name(vector));
		hints_refused = true;
		r = -ENOSYS;
	} else if (r == -ENOSYS || r == -EOPNOTSUPP || r == -EPERM) {
		printf("%s: pfa: hint hypercall %u returned %d: hints stopped\n", guest_name, nr, r);
		hints_refused = true;
	} else if (r < 0 && !stats.errors) {
		printf("%s: pfa: hint hypercall %u returned %d\n", guest_name, nr, r);
	}
	if (r < 0) {
		stats.errors++;
		stats.last_error = r;
	}
	return r;
}

void pfa_report_flush(void)
{
	u32 n = queued;

	if (!n)
		return;
	for (u32 k = 0; k < n; k++)
		queue_ok[k] = false;
	if (pfa_hint_mode() == PFA_HINTS_BATCH) {
		s32 r = hint_call(TIDE_HC_BATCH_HINT, (u32)queue, n);

		/* All or nothing by the ABI; r < n would be Tide's bug: trust r. */
		for (u32 k = 0; r > 0 && k < (u32)r && k < n; k++)
			queue_ok[k] = true;
	} else {
		for (u32 k = 0; k < n && pfa_hint_mode() == PFA_HINTS_SINGLE; k++)
			queue_ok[k] = hint_call(TIDE_HC_FREE_HINT, (u32)queue[k].gpa,
						(u32)queue[k].order) >= 0;
	}

	/* Back onto the free lists, merging: nothing gets queued here (see top). */
	queued = 0;
	for (u32 k = 0; k < n; k++) {
		u32 i = (u32)(queue[k].gpa >> PAGE_SHIFT);
		unsigned int order = (unsigned int)queue[k].order;
		bool ok = queue_ok[k];

		if (ok) {
			stats.blocks_reported++;
			stats.pages_reported += 1u << order;
		}
		pages[i].state = PS_USED;
		merge(&i, &order, &ok);
		list_add(i, order, ok);
	}
}

static void queue_block(u32 i, unsigned int order)
{
	pages[i].state = PS_QUEUED;
	pages[i].order = (u8)order;
	queue[queued].gpa = (u64)i << PAGE_SHIFT;
	queue[queued].order = order;
	if (++queued == PFA_QUEUE_MAX)
		pfa_report_flush();
}

void pfa_set_report_order(unsigned int order)
{
	report_order = order;
}

void pfa_set_hints(bool on)
{
	pfa_report_flush(); /* what was queued under the old setting */
	hints_wanted = on;
}

/* ---- allocation ---- */

u32 pfa_alloc(unsigned int order)
{
	unsigned int o;
	u32 i;
	bool reported;

	if (order > PFA_MAX_ORDER)
		return 0;
	for (;;) {
		for (o = order; o <= PFA_MAX_ORDER; o++)
			if (free_head[o] != NIL)
				goto found;
		if (!queued)
			return 0;
		pfa_report_flush(); /* the queued blocks are the last free ones */
	}
found:
	i = free_head[o];
	reported = pages[i].reported;
	list_del(i);
	while (o > order) { /* keep the lower half, list the upper */
		o--;
		list_add(i + (1u << o), o, reported);
	}
	pages[i].state = PS_ALLOCATED;
	pages[i].order = (u8)order;
	free_count -= 1u << order;
	return i << PAGE_SHIFT;
}

void pfa_free(u32 addr, unsigned int order)
{
	u32 i = addr >> PAGE_SHIFT;
	bool reported = false; /* the caller may have written it */

	if (order > PFA_MAX_ORDER || (addr & ((PAGE_SIZE << order) - 1)) || i >= npages ||
	    pages[i].state != PS_ALLOCATED || pages[i].order != order) {
		printf("%s: pfa: bad free of 0x%08x order %u\n", guest_name, addr, order);
		exit(EXIT_FAIL);
	}
	pages[i].state = PS_USED;
	free_count += 1u << order;
	merge(&i, &order, &reported);
	if (reporting() && order >= pfa_report_order())
		queue_block(i, order);
	else
		list_add(i, order, reported);
}

bool pfa_page_reported(u32 addr)
{
	u32 i = addr >> PAGE_SHIFT;

	if (i >= npages)
		return false;
	for (unsigned int o = 0; o <= PFA_MAX_ORDER; o++) {
		u32 h = i & ~((1u << o) - 1);

		if (pages[h].state == PS_FREE && i - h < (1u << pages[h].order))
			return pages[h].reported;
		if (pages[h].state == PS_QUEUED && i - h < (1u << pages[h].order))
			return false;
	}
	return false;
}

/* ---- set-up ---- */

/*
 * Calls fn for each piece of [start, end) outside excluded[from..]: the
 * ranges before from are known not to overlap it.
 */
static void each_piece(u64 start, u64 end, int from, void (*fn)(u64, u64))
{
	for (int k = from; k < nexcluded; k++) {
		const struct range *x = &excluded[k];

		if (x->end <= start || x->start >= end)
			continue;
		if (x->start > start)
			each_piece(start, x->start, k + 1, fn);
		if (x->end < end)
			each_piece(x->end, end, k + 1, fn);
		return;
	}
	if (start < end)
		fn(start, end);
}

/* Calls fn for each page-aligned piece of usable RAM. */
static void each_usable(void (*fn)(u64, u64))
{
	u64 lo = ((u64)(u32)_end + PAGE_SIZE - 1) & ~(u64)(PAGE_SIZE - 1);

	if (lo < MiB)
		lo = MiB;
	if (!mb_map_count()) {
		u64 end = mb_ram_end() < RAM_LIMIT ? mb_ram_end() : RAM_LIMIT;

		each_piece(lo, end & ~(u64)(PAGE_SIZE - 1), 0, fn);
		return;
	}
	for (int k = 0; k < mb_map_count(); k++) {
		const struct mb_map_entry *e = mb_map_entry(k);
		u64 start = (e->addr + PAGE_SIZE - 1) & ~(u64)(PAGE_SIZE - 1);
		u64 end = (e->addr + e->len) & ~(u64)(PAGE_SIZE - 1);

		if (e->type != MB_MEM_AVAILABLE)
			continue;
		if (start < lo)
			start = lo;
		if (end > RAM_LIMIT)
			end = RAM_LIMIT;
		if (start < end)
			each_piece(start, end, 0, fn);
	}
}

static u64 top, meta_at;

static void find_top(u64 start, u64 end)
{
	if (!low_addr || start < low_addr)
		low_addr = (u32)start;
	if (end > top)
		top = end;
}

static void find_meta(u64 start, u64 end)
{
	if (!meta_at && end - start >= meta_bytes)
		meta_at = start;
}

static void mark_usable(u64 start, u64 end)
{
	for (u64 a = start; a < end; a += PAGE_SIZE)
		pages[a >> PAGE_SHIFT].state = PS_USED;
}

/* Lists each run of usable pages as the largest aligned blocks that fit. */
static void carve(void)
{
	u32 i = 0;

	while (i < npages) {
		u32 end = i;

		while (end < npages && pages[end].state == PS_USED)
			end++;
		while (i < end) {
			unsigned int o = PFA_MAX_ORDER;

			while ((i & ((1u << o) - 1)) || i + (1u << o) > end)
				o--;
			list_add(i, o, true); /* never touched: nothing to hint */
			managed += 1u << o;
			i += 1u << o;
		}
		i++; /* a reserved page, or npages */
	}
	free_count = managed;
}

int pfa_init(void)
{
	tide_detect();
	offered = PFA_HINTS_NONE;
	if (tide.present && tide.min_hint_order <= PFA_MAX_ORDER) {
		if (tide.features & TIDE_FEAT_BATCH_HINT)
			offered = PFA_HINTS_BATCH;
		else if (tide.features & TIDE_FEAT_FREE_HINT)
			offered = PFA_HINTS_SINGLE;
	}
	for (unsigned int o = 0; o <= PFA_MAX_ORDER; o++)
		free_head[o] = NIL;

	nexcluded = 0;
	for (int k = 0; k < mb_module_count(); k++) {
		const struct mb_module *m = mb_module(k);

		excluded[nexcluded].start = m->start & ~(PAGE_SIZE - 1);
		excluded[nexcluded].end = ((u64)m->end + PAGE_SIZE - 1) & ~(u64)(PAGE_SIZE - 1);
		nexcluded++;
	}

	each_usable(find_top);
	if (!top) {
		printf("%s: pfa: no usable RAM above the image\n", guest_name);
		return -1;
	}
	npages = (u32)(top >> PAGE_SHIFT);
	meta_bytes = (npages * sizeof(struct pfa_page) + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
	each_usable(find_meta);
	if (!meta_at) {
		printf("%s: pfa: no room for %u KiB of page metadata\n", guest_name,
		       meta_bytes / KiB);
		return -1;
	}
	pages = (struct pfa_page *)(u32)meta_at;
	memset(pages, 0, meta_bytes); /* all PS_RESERVED */
	excluded[nexcluded].start = meta_at;
	excluded[nexcluded].end = meta_at + meta_bytes;
	nexcluded++;

	low_addr = 0;
	each_usable(find_top); /* again, now without the metadata */
	each_usable(mark_usable);
	carve();
	return 0;
}

/* ---- numbers ---- */

u32 pfa_free_pages(void)
{
	return free_count;
}

u32 pfa_total_pages(void)
{
	return managed;
}

u32 pfa_metadata_bytes(void)
{
	return meta_bytes;
}

u32 pfa_low(void)
{
	return low_addr;
}

u64 pfa_high(void)
{
	return top;
}

const struct pfa_stats *pfa_stats(void)
{
	return &stats;
}
