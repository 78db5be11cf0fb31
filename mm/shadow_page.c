/*
 * Shadow pages (see mm/shadow_page.h): the pool each vCPU's shadow pages
 * come from, bounded by shadow_pages= and evicted least recently used; the
 * hash that finds the shadow pages built from a guest page-table page, whose
 * leaves are then kept read-only; and the reverse map, a list per host frame
 * of the shadow leaves mapping it, threaded through a link page beside each
 * leaf table (O(1) to add and remove, however many aliases a frame has).
 */
#include "arch/x86/cpu.h"
#include "kernel/guest.h"
#include "kernel/panic.h"
#include "kernel/string.h"
#include "kernel/trace.h"
#include "mm/frame_alloc.h"
#include "mm/shadow_page.h"
#include "mm/stage2.h"

/* --- the reverse map: frame -> shadow leaves, a list threaded through link pages --- */

static u32 *rmap_head(u64 frame)
{
	struct frame *f = buddy_frame(&frame_allocator, frame >> PAGE_SHIFT);

	if (!f)
		panic("shadow: frame %#lx mapped by a shadow entry is not a 4 KiB block", frame);
	return &f->owner_data2;
}

static u32 *links_of(struct shadow_vcpu *sv, u32 id)
{
	u32 *links = phys_to_virt(sv->pool[id >> 9].links);

	return &links[(id & 511) * 2]; /* [0] prev, [1] next */
}

void shadow_rmap_add(struct shadow_vcpu *sv, struct shadow_page *sp, unsigned int i, u64 frame)
{
	u32 id = sp->index << 9 | i, *head = rmap_head(frame), *l = links_of(sv, id);

	l[0] = LINK_NONE;
	l[1] = *head;
	if (*head != LINK_NONE)
		links_of(sv, *head)[0] = id;
	*head = id;
}

static void rmap_remove(struct shadow_vcpu *sv, struct shadow_page *sp, unsigned int i)
{
	u32 id = sp->index << 9 | i, *l = links_of(sv, id);

	if (l[0] == LINK_NONE)
		*rmap_head(table_of(sp)[i] & SPTE_ADDR) = l[1];
	else
		links_of(sv, l[0])[1] = l[1];
	if (l[1] != LINK_NONE)
		links_of(sv, l[1])[0] = l[0];
}

static u64 *spte_of(struct shadow_vcpu *sv, u32 id)
{
	return &table_of(&sv->pool[id >> 9])[id & 511];
}

/* --- shadow pages: LRU, hash by guest table, allocation, freeing --- */

static void lru_unlink(struct shadow_page *sp)
{
	sp->lru_prev->lru_next = sp->lru_next;
	sp->lru_next->lru_prev = sp->lru_prev;
}

void shadow_page_touch(struct shadow_vcpu *sv, struct shadow_page *sp)
{
	lru_unlink(sp);
	sp->lru_next = sv->lru.lru_next;
	sp->lru_prev = &sv->lru;
	sv->lru.lru_next->lru_prev = sp;
	sv->lru.lru_next = sp;
}

bool shadow_gfn_shadowed(struct shadow_vcpu *sv, u64 gfn)
{
	for (struct shadow_page *sp = *hash_bucket(sv, gfn); sp; sp = sp->hash_next)
		if (sp->gfn == gfn)
			return true;
	return false;
}

static void hash_remove(struct shadow_vcpu *sv, struct shadow_page *sp)
{
	struct shadow_page **pp = hash_bucket(sv, sp->gfn);

	while (*pp != sp)
		pp = &(*pp)->hash_next;
	*pp = sp->hash_next;
}


/* Clears one shadow entry: a leaf leaves its frame's reverse map, a table is freed. */
void shadow_clear_entry(struct shadow_vcpu *sv, struct shadow_page *sp, unsigned int i)
{
	u64 *e = &table_of(sp)[i];

	if (!(*e & SPTE_P))
		return;
	if (sp->level == 0)
		rmap_remove(sv, sp, i);
	else
		shadow_page_free(sv, sp_of_table(sv, *e & SPTE_ADDR)); /* clears *e through ->parent */
	*e = 0;
}

void shadow_clear_all_entries(struct shadow_vcpu *sv, struct shadow_page *sp)
{
	for (unsigned int i = 0; i < PT_ENTRIES; i++)
		shadow_clear_entry(sv, sp, i);
}

static void root_forget(struct shadow_vcpu *sv, struct shadow_page *sp)
{
	for (unsigned int i = 0; i < sv->nr_roots; i++) {
		if (sv->roots[i].sp != sp)
			continue;
		memmove(&sv->roots[i], &sv->roots[i + 1],
			(sv->nr_roots - i - 1) * sizeof(sv->roots[0]));
		sv->nr_roots--;
		return;
	}
}

void shadow_page_free(struct shadow_vcpu *sv, struct shadow_page *sp)
{
	struct guest *g = sv->guest;

	shadow_clear_all_entries(sv, sp);
	if (sp->parent)
		*sp->parent = 0;
	else
		root_forget(sv, sp);
	if (sp->gfn != SP_DIRECT)
		hash_remove(sv, sp);
	lru_unlink(sp);
	frame_free_page(sp->table);
	if (sp->links)
		frame_free_page(sp->links);
	g->stats.shadow_pages_now--;
	sp->hash_next = sv->free;
	sv->free = sp;
	flush(sv);
}

/* Frees the least recently used shadow page that may go (with what hangs below it). */
static bool evict_one(struct shadow_vcpu *sv)
{
	for (struct shadow_page *sp = sv->lru.lru_prev; sp != &sv->lru; sp = sp->lru_prev) {
		if (sp->pinned || (sv->nr_roots && sp == sv->roots[0].sp))
			continue;
		sv->guest->stats.shadow_evictions++;
		TRACE(TE_SHADOW_ZAP, TRACE_STR(sv->guest->name), sp->gfn, sp->level, ZAP_EVICT);
		shadow_page_free(sv, sp);
		return true;
	}
	return false;
}

static u64 shadow_frame(struct shadow_vcpu *sv)
{
	u64 frame = frame_alloc(0, BUDDY_ZERO, GUEST_OWNER_BASE + sv->guest->id);

	/* PAE roots sit in a 32-bit CR3; every table is kept below 4 GiB */
	if (frame >= 4 * GiB) {
		frame_free_page(frame);
		return 0;
	}
	return frame;
}

struct shadow_page *shadow_page_alloc(struct shadow_vcpu *sv, unsigned int level, u64 gfn)
{
	struct guest *g = sv->guest;
	struct shadow_page *sp;

	while (!sv->free)
		if (!evict_one(sv))
			return NULL;
	sp = sv->free;
	sv->free = sp->hash_next;
	memset(sp, 0, sizeof(*sp));
	sp->index = sp - sv->pool;
	sp->table = shadow_frame(sv);
	if (sp->table && level == 0) {
		sp->links = shadow_frame(sv);
		if (!sp->links) {
			frame_free_page(sp->table);
			sp->table = 0;
		}
	}
	if (!sp->table) {
		sp->hash_next = sv->free;
		sv->free = sp;
		return NULL;
	}
	set_frame_owner_data(sp->table, sp->index);
	sp->level = level;
	sp->gfn = gfn;
	sp->ratio = 1;
	sp->hash_next = NULL;
	sp->lru_next = sp->lru_prev = sp;
	shadow_page_touch(sv, sp);
	if (gfn != SP_DIRECT) {
		struct shadow_page **b = hash_bucket(sv, gfn);

		sp->hash_next = *b;
		*b = sp;
	}
	g->stats.shadow_pages_now++;
	g->stats.shadow_pages_peak = MAX(g->stats.shadow_pages_peak, g->stats.shadow_pages_now);
	return sp;
}

/* gfn now backs a shadow page: every shadow leaf that maps it becomes read-only. */
void shadow_write_protect(struct shadow_vcpu *sv, u64 gfn)
{
	u64 frame;
	bool changed = false;

	if (pt_lookup(&sv->guest->stage2.pt, gfn, &frame, NULL, NULL))
		return; /* not resident: no shadow leaf maps it */
	for (u32 id = *rmap_head(frame); id != LINK_NONE; id = links_of(sv, id)[1]) {
		u64 *e = spte_of(sv, id);

		changed |= *e & SPTE_W;
		*e &= ~SPTE_W;
	}
	if (changed)
		flush(sv);
}

/*
 * Stops shadowing the guest table at gfn: its shadow pages go (a root only
 * loses its entries, it stays in use), so writes to it need no emulation
 * until the guest next walks through it.
 */
void shadow_unshadow_gfn(struct shadow_vcpu *sv, u64 gfn)
{
	struct shadow_page *sp;

again:
	for (sp = *hash_bucket(sv, gfn); sp; sp = sp->hash_next) {
		if (sp->gfn != gfn)
			continue;
		TRACE(TE_SHADOW_ZAP, TRACE_STR(sv->guest->name), gfn, sp->level, ZAP_UNSHADOW);
		if (!sp->parent) {
			shadow_clear_all_entries(sv, sp);
			continue;
		}
		shadow_page_free(sv, sp);
		goto again;
	}
}

/* Clears every shadow leaf that maps frame; returns how many there were. */
u64 shadow_rmap_zap(struct shadow_vcpu *sv, u64 frame)
{
	u32 *head = rmap_head(frame);
	u64 n = 0;

	while (*head != LINK_NONE) {
		u32 id = *head;

		shadow_clear_entry(sv, &sv->pool[id >> 9], id & 511);
		n++;
	}
	return n;
}

bool shadow_test_and_clear_accessed(struct guest *g, u64 frame)
{
	struct shadow_vcpu *sv = g->vcpu.shadow;
	bool accessed = false;

	if (!sv)
		return false;
	for (u32 id = *rmap_head(frame); id != LINK_NONE; id = links_of(sv, id)[1]) {
		u64 *e = spte_of(sv, id);

		accessed |= *e & SPTE_A;
		*e &= ~SPTE_A;
	}
	/* so that the next use sets the bit again rather than hitting the TLB */
	if (accessed)
		flush(sv);
	return accessed;
}
