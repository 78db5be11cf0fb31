/*
 * The shadow MMU (see mm/shadow.h and docs/shadow.md): filling shadow
 * entries from #PF exits, the guest's writes to its page tables, the cache
 * of roots keyed by guest CR3 and paging role, the paging registers the CPU
 * runs with, and what reclaim and hints need. The shadow pages themselves
 * (pool, LRU bound, hash by guest table, reverse map) are mm/shadow_page.c's.
 *
 * The CPU walks PAE shadow tables for every guest not in long mode (paging
 * off, 32-bit and PAE paging) and 4-level ones in long mode. A shadow page
 * is "direct" when no guest table backs it (paging off, or under a guest
 * large page); otherwise it shadows one guest table page, or a part of one:
 * a 32-bit guest's table of 1024 entries needs two PAE tables (its page
 * table) or four (its page directory, two shadow entries per 4 MiB entry).
 * Shadow pages are not shared: each has one parent entry, which keeps
 * unlinking simple at the cost of duplicate shadows of shared guest tables.
 *
 * Coherence comes from write protection, never from unsync pages: every
 * shadow leaf that maps a guest page-table page is read-only, and the
 * guest's write to it is emulated here and zaps the shadow entries it
 * changes. So a shadow never holds a stale translation, and the TLB is
 * flushed whenever a shadow entry goes; the guest's INVLPG needs no exit.
 */
#include "arch/x86/cpu.h"
#include "kernel/cmdline.h"
#include "kernel/errno.h"
#include "kernel/guest.h"
#include "kernel/guest_insn.h"
#include "kernel/panic.h"
#include "kernel/printk.h"
#include "kernel/string.h"
#include "kernel/trace.h"
#include "kernel/vmexit.h"
#include "mm/frame_alloc.h"
#include "mm/guest_walk.h"
#include "mm/shadow.h"
#include "mm/shadow_page.h"
#include "mm/stage2.h"

unsigned int shadow_page_limit = 1024;
unsigned int shadow_root_cache = 4;

/* The paging role of a root: what, besides the guest's tables, its entries depend on. */
#define ROLE_WP BIT(4)
#define ROLE_NXE BIT(5)
#define ROLE_SMEP BIT(6)
#define ROLE_SMAP BIT(7)

static u32 current_role(struct vcpu *v)
{
	u64 cr0 = v->paging.cr0, cr4 = v->paging.cr4;
	enum guest_paging_mode mode = guest_paging_mode(v);
	u32 role = mode;

	if (mode == GUEST_PAGING_OFF)
		return role;
	role |= (cr0 & X86_CR0_WP) ? ROLE_WP : 0;
	role |= (v->paging.efer & EFER_NXE) ? ROLE_NXE : 0;
	role |= (cr4 & X86_CR4_SMEP) ? ROLE_SMEP : 0;
	role |= (cr4 & X86_CR4_SMAP) ? ROLE_SMAP : 0;
	return role;
}

static u64 root_key(enum guest_paging_mode mode, u64 cr3)
{
	switch (mode) {
	case GUEST_PAGING_OFF: return 0;
	case GUEST_PAGING_PAE: return cr3 & PAE_CR3_MASK;
	case GUEST_PAGING_64: return cr3 & SPTE_ADDR;
	default: return cr3 & 0xfffff000UL;
	}
}

/* --- filling: build the path to va and its leaf --- */

/*
 * The child shadow page at `level` under va: which guest table, if any,
 * its entries come from (see the header comment of this file).
 */
static struct shadow_page *new_child(struct shadow_vcpu *sv, unsigned int level, u64 va,
				     const struct guest_translation *t)
{
	u64 gfn = SP_DIRECT;
	unsigned int ratio = 1, base = 0, entry_size = 0;
	struct shadow_page *sp;

	/* guest level `level` has entries at least as large as ours */
	if (t->mode != GUEST_PAGING_OFF && t->walk.level <= (int)level) {
		unsigned int guest_shift = pt_fmt_shift(t->fmt, level);
		unsigned int shift = PAGE_SHIFT + 9 * level;
		u64 span = 512UL << shift;

		gfn = t->walk.entry_addr[level] & ~(PAGE_SIZE - 1);
		ratio = 1U << (guest_shift - shift);
		entry_size = t->fmt->entry_size;
		base = ((va & ~(span - 1)) >> guest_shift) & ((1U << t->fmt->index_bits) - 1);
	}
	sp = shadow_page_alloc(sv, level, gfn);
	if (!sp)
		return NULL;
	sp->ratio = ratio;
	sp->guest_base = base;
	sp->guest_entry_size = entry_size;
	if (gfn != SP_DIRECT)
		shadow_write_protect(sv, gfn);
	return sp;
}

/* The leaf's bits for the guest's rights (t) and this access. */
static u64 leaf_bits(struct vcpu *v, const struct guest_translation *t, u32 access)
{
	bool w, u = t->user, nx = !t->exec;

	if (t->mode == GUEST_PAGING_OFF)
		return SPTE_P | SPTE_W | SPTE_D | SPTE_U;
	/* writable only once the guest's dirty bit is set, so that it gets set */
	w = t->writable && (t->walk.entry[t->walk.level] & BIT(6));
	if ((access & (PFEC_WRITE | PFEC_USER)) == PFEC_WRITE && !t->writable) {
		/*
		 * A supervisor write the guest allows with CR0.WP=0. The CPU
		 * runs with WP=1, so the page is writable for the supervisor
		 * only; SMEP, which a supervisor page no longer trips, becomes
		 * NX (as KVM does).
		 */
		w = true;
		if (u && (v->paging.cr4 & X86_CR4_SMEP))
			nx = true;
		u = false;
	}
	return SPTE_P | (w ? SPTE_W | SPTE_D : 0) | (u ? SPTE_U : 0) |
	       (nx && boot_cpu.nx ? SPTE_NX : 0);
}

static void unpin(struct shadow_page **path, unsigned int n)
{
	while (n--)
		path[n]->pinned = false;
}

/* Fills the shadow path and leaf for va: -ENOMEM if no shadow page could be had. */
static int fill(struct shadow_vcpu *sv, u64 va, const struct guest_translation *t,
		u64 frame, u64 bits)
{
	struct shadow_page *sp = sv->roots[0].sp, *path[PT_LEVELS];
	unsigned int n = 0, i;
	bool pae_root = sp->level == 2;
	u64 *e;

	for (unsigned int l = sp->level; l > 0; l--) {
		sp->pinned = true;
		sp->flood = 0;
		path[n++] = sp;
		shadow_page_touch(sv, sp);
		e = &table_of(sp)[pt_index(va, l)];
		if (!(*e & SPTE_P)) {
			struct shadow_page *child = new_child(sv, l - 1, va, t);

			if (!child) {
				unpin(path, n);
				return -ENOMEM;
			}
			child->parent = e;
			/* PAE PDPTEs have no rights bits: they are reserved there */
			*e = child->table | ((pae_root && l == 2) ? SPTE_P : SPTE_TABLE);
		}
		sp = sp_of_table(sv, *e & SPTE_ADDR);
	}
	sp->flood = 0;
	shadow_page_touch(sv, sp);
	unpin(path, n);
	/* last, as the path may have just started shadowing this very page */
	if (shadow_gfn_shadowed(sv, t->gpa & ~(PAGE_SIZE - 1)))
		bits &= ~(SPTE_W | SPTE_D);
	i = pt_index(va, 0);
	shadow_clear_entry(sv, sp, i);
	table_of(sp)[i] = frame | bits;
	shadow_rmap_add(sv, sp, i, frame);
	sv->guest->stats.shadow_fills++;
	return 0;
}

/* --- the guest's writes to its page tables --- */

/* Zaps the shadow entries built from guest bytes [gpa, gpa + len) of one page. */
static bool zap_written(struct shadow_vcpu *sv, u64 gpa, u64 len, bool count_flood)
{
	u64 gfn = gpa & ~(PAGE_SIZE - 1), off = gpa & (PAGE_SIZE - 1);
	bool flooded = false;

	for (struct shadow_page *sp = *hash_bucket(sv, gfn); sp; sp = sp->hash_next) {
		unsigned int first, last;

		if (sp->gfn != gfn)
			continue;
		first = off / sp->guest_entry_size;
		last = (off + len - 1) / sp->guest_entry_size;
		for (unsigned int gi = first; gi <= last; gi++) {
			if (gi < sp->guest_base || gi >= sp->guest_base + PT_ENTRIES / (unsigned int)sp->ratio)
				continue;
			for (unsigned int k = 0; k < sp->ratio; k++)
				shadow_clear_entry(sv, sp, (gi - sp->guest_base) * sp->ratio + k);
		}
		if (count_flood && ++sp->flood >= FLOOD_WRITES)
			flooded = true;
	}
	flush(sv);
	return flooded;
}

void shadow_guest_wrote(struct guest *g, u64 gpa, u64 len)
{
	struct shadow_vcpu *sv = g->vcpu.shadow;

	if (!sv || !len)
		return;
	for (u64 page = gpa & ~(PAGE_SIZE - 1); page < gpa + len; page += PAGE_SIZE) {
		u64 from = MAX(page, gpa), to = MIN(page + PAGE_SIZE, gpa + len);

		if (shadow_gfn_shadowed(sv, page))
			zap_written(sv, from, to - from, false);
	}
}

/*
 * The guest writes to one of its page tables, which the shadow keeps
 * read-only: emulate a plain store (MOV) and zap what it changes; anything
 * else (or a flood of writes) stops the shadowing of that table instead,
 * and the guest runs the instruction again.
 */
static void page_table_write(struct shadow_vcpu *sv, struct vcpu *v,
			     const struct guest_translation *t, bool delivering)
{
	struct guest *g = v->guest;
	u64 gpa = t->gpa, gfn = gpa & ~(PAGE_SIZE - 1), value = 0;
	u64 rip = vcpu_get(v, VCPU_RIP);
	struct x86_insn insn;
	void *p;
	int err;

	/* the CPU pushing an event's frame is no instruction to emulate */
	if (!delivering && !guest_decode_current(v, &insn) &&
	    (insn.mmio.kind == X86_MMIO_STORE_REG || insn.mmio.kind == X86_MMIO_STORE_IMM) &&
	    (gpa & (PAGE_SIZE - 1)) + insn.mmio.size <= PAGE_SIZE) {
		err = stage2_host_access(g, gpa, true, &p);
		if (err) {
			guest_memory_error(v, gpa, err);
			return;
		}
		x86_mmio_store_value(&insn, v->gpr, &value);
		memcpy(p, &value, insn.mmio.size);
		g->stats.pt_writes_emulated++;
		TRACE(TE_SHADOW_PT_WRITE, TRACE_STR(g->name), gpa, insn.mmio.size, value);
		if (zap_written(sv, gpa, insn.mmio.size, true)) {
			g->stats.pt_unprotects++;
			shadow_unshadow_gfn(sv, gfn);
		}
		vcpu_set(v, VCPU_RIP, rip + insn.length);
		sv->unprotect_repeats = 0;
		return;
	}
	/* the instruction runs again: make sure that is progress, not a loop */
	if (rip == sv->unprotect_rip && ++sv->unprotect_repeats > 2) {
		guest_crash(g, "cannot emulate the write at %#lx to its own page table (gpa %#lx)",
			    rip, gpa);
		return;
	}
	if (rip != sv->unprotect_rip)
		sv->unprotect_repeats = 0;
	sv->unprotect_rip = rip;
	g->stats.pt_unprotects++;
	shadow_unshadow_gfn(sv, gfn);
}

/* --- exits --- */

static void inject_page_fault(struct vcpu *v, u64 linear, u32 error_code)
{
	v->guest->stats.guest_page_faults++;
	vcpu_set(v, VCPU_CR2, linear);
	vcpu_ops->inject(v, EVENT_EXCEPTION, 14, true, error_code);
}

void shadow_page_fault(struct vcpu *v, u64 linear, u32 error_code, bool delivering)
{
	struct shadow_vcpu *sv = v->shadow;
	struct guest *g = v->guest;
	u32 access = error_code & (PFEC_WRITE | PFEC_USER | PFEC_FETCH);
	struct guest_translation t;
	u64 frame, attrs, gained;
	void *p;
	int err;

	g->stats.shadow_faults++;
	if (error_code & PFEC_RSVD) {
		guest_crash(g, "reserved bit in a shadow entry for %#lx (error code %#x)", linear,
			    error_code);
		return;
	}
	err = guest_translate(v, linear, access, GUEST_WALK_CHECK | GUEST_WALK_SET_AD, &t);
	TRACE(TE_SHADOW_FAULT, TRACE_STR(g->name), linear, error_code,
	      err == -EFAULT ? t.error_code : ~0U);
	if (err == -EFAULT) {
		inject_page_fault(v, linear, t.error_code);
		return;
	}
	if (err == -EAGAIN) {
		guest_memory_error(v, 0, err);
		return;
	}
	if (err) {
		guest_crash(g, "its page tables for %#lx %s", linear,
			    err == -EIO ? "could not be read back from swap" :
					  "are outside its RAM");
		return;
	}
	if ((access & PFEC_WRITE) && shadow_gfn_shadowed(sv, t.gpa & ~(PAGE_SIZE - 1))) {
		page_table_write(sv, v, &t, delivering);
		return;
	}
	gained = guest_frames_gained(g);
	err = stage2_host_access(g, t.gpa, access & PFEC_WRITE, &p);
	if (guest_frames_gained(g) != gained)
		g->memory_waits = 0; /* a frame gained (see handle_stage2_fault) */
	if (err) {
		guest_memory_error(v, t.gpa, err); /* -EFAULT: MMIO, emulated */
		return;
	}
	if (pt_lookup(&g->stage2.pt, t.gpa, &frame, NULL, &attrs))
		panic("shadow: gpa %#lx vanished from stage 2", t.gpa);
	frame &= ~(PAGE_SIZE - 1);
	u64 bits = leaf_bits(v, &t, access);

	if (!(attrs & PT_WRITE))
		bits &= ~(SPTE_W | SPTE_D); /* a clean swapped-in page: its first write faults */
	if (fill(sv, linear, &t, frame, bits)) {
		/* no shadow page to be had: the guest waits, like for a frame */
		guest_memory_error(v, t.gpa, -EAGAIN);
		return;
	}
}

/* Makes the root for the guest's current CR3 and role the one in use. */
static int switch_root(struct shadow_vcpu *sv, struct vcpu *v, const u64 *pdpte)
{
	struct guest *g = v->guest;
	enum guest_paging_mode mode = guest_paging_mode(v);
	u64 key = root_key(mode, v->paging.cr3);
	u32 role = current_role(v);
	struct shadow_root r = { .key = key, .role = role };
	struct shadow_page *sp;
	unsigned int i;

	if (pdpte)
		memcpy(r.pdpte, pdpte, sizeof(r.pdpte));
	flush(sv); /* the TLB is tagged by ASID/VPID, not by CR3 */
	for (i = 0; i < sv->nr_roots; i++)
		if (sv->roots[i].key == key && sv->roots[i].role == role)
			break;
	if (i < sv->nr_roots) {
		struct shadow_root hit = sv->roots[i];

		g->stats.root_hits++;
		memmove(&sv->roots[1], &sv->roots[0], i * sizeof(sv->roots[0]));
		sv->roots[0] = hit;
		/* PAE: the PDPTEs are loaded anew; children of changed ones go */
		for (unsigned int j = 0; pdpte && j < 4; j++) {
			if (hit.pdpte[j] != pdpte[j]) {
				shadow_clear_entry(sv, hit.sp, j);
				sv->roots[0].pdpte[j] = pdpte[j];
			}
		}
		TRACE(TE_SHADOW_ROOT, TRACE_STR(g->name), v->paging.cr3, role, 1);
		return 0;
	}
	while (sv->nr_roots >= MIN(shadow_root_cache, MAX_ROOTS))
		shadow_page_free(sv, sv->roots[sv->nr_roots - 1].sp);
	sp = shadow_page_alloc(sv, mode == GUEST_PAGING_64 ? 3 : 2,
		      mode == GUEST_PAGING_64 ? key : SP_DIRECT);
	if (!sp)
		return -ENOMEM;
	if (mode == GUEST_PAGING_64) {
		sp->guest_entry_size = 8;
		shadow_write_protect(sv, key);
	}
	r.sp = sp;
	memmove(&sv->roots[1], &sv->roots[0], sv->nr_roots * sizeof(sv->roots[0]));
	sv->roots[0] = r;
	sv->nr_roots++;
	TRACE(TE_SHADOW_ROOT, TRACE_STR(g->name), v->paging.cr3, role, 0);
	return 0;
}

/* Reads the four PDPTEs at cr3; -EINVAL if unreadable or one has a reserved bit. */
static int read_pdptes(struct vcpu *v, u64 cr3, u64 *pdpte)
{
	if (guest_copy_from(v->guest, pdpte, cr3 & PAE_CR3_MASK, 4 * sizeof(u64)))
		return -EINVAL;
	for (int i = 0; i < 4; i++)
		if (!guest_pdpte_valid(pdpte[i]))
			return -EINVAL;
	return 0;
}

u64 *shadow_pae_pdptes(struct vcpu *v)
{
	struct shadow_vcpu *sv = v->shadow;

	return sv && sv->nr_roots ? sv->roots[0].pdpte : NULL;
}

int shadow_load_cr3(struct vcpu *v, u64 cr3)
{
	struct shadow_vcpu *sv = v->shadow;
	enum guest_paging_mode mode = guest_paging_mode(v);
	u64 pdpte[4];
	int err;

	/* no PCID is offered, so bit 63 and bits above MAXPHYADDR are reserved */
	if (mode == GUEST_PAGING_64 && (cr3 & ~((1UL << boot_cpu.phys_addr_bits) - 1)))
		return -EINVAL;
	if (mode == GUEST_PAGING_PAE && read_pdptes(v, cr3, pdpte))
		return -EINVAL;
	v->guest->stats.cr3_loads++;
	v->paging.cr3 = cr3;
	err = switch_root(sv, v, mode == GUEST_PAGING_PAE ? pdpte : NULL);
	if (err)
		guest_crash(v->guest, "no memory for a shadow root");
	return 0;
}

void shadow_paging_changed(struct vcpu *v)
{
	struct shadow_vcpu *sv = v->shadow;
	u64 pdpte[4] = { 0 };
	bool pae = guest_paging_mode(v) == GUEST_PAGING_PAE;

	/* a PDPT with reserved bits loads as not present (the CPU would #GP) */
	if (pae && read_pdptes(v, v->paging.cr3, pdpte))
		memset(pdpte, 0, sizeof(pdpte));
	if (switch_root(sv, v, pae ? pdpte : NULL))
		guest_crash(v->guest, "no memory for a shadow root");
}

void shadow_hardware_regs(struct vcpu *v, struct paging_regs *hw)
{
	enum guest_paging_mode mode = guest_paging_mode(v);
	u64 efer = v->paging.efer & ~(EFER_LME | EFER_LMA);

	hw->cr0 = v->paging.cr0 | X86_CR0_PE | X86_CR0_PG | X86_CR0_WP;
	hw->cr3 = v->shadow->roots[0].sp->table;
	hw->cr4 = v->paging.cr4 & ~X86_CR4_PCIDE;
	if (mode == GUEST_PAGING_OFF)
		hw->cr4 &= ~(X86_CR4_SMEP | X86_CR4_SMAP); /* the identity shadow is all user */
	if (mode != GUEST_PAGING_64)
		hw->cr4 |= X86_CR4_PAE;
	else
		efer |= EFER_LME | EFER_LMA;
	if (boot_cpu.nx)
		efer |= EFER_NXE;
	hw->efer = efer;
}

/* --- reclaim and hints --- */

void shadow_zap_frame(struct guest *g, u64 gpa, u64 frame)
{
	struct shadow_vcpu *sv = g->vcpu.shadow;
	u64 n;

	if (!sv)
		return;
	n = shadow_rmap_zap(sv, frame);
	if (n)
		flush(sv);
	/* a page table's contents may change while it is away (hints: zeroed) */
	if (shadow_gfn_shadowed(sv, gpa))
		shadow_unshadow_gfn(sv, gpa);
	if (n)
		TRACE(TE_SHADOW_ZAP, TRACE_STR(g->name), gpa, n, ZAP_FRAME);
}


/* --- setup and teardown --- */

int shadow_vcpu_init(struct vcpu *v)
{
	struct guest *g = v->guest;
	u64 bytes = (u64)shadow_page_limit * sizeof(struct shadow_page);
	unsigned int order = 0;
	struct shadow_vcpu *sv;
	u64 phys;

	/* the pool and the vCPU's state share one block */
	bytes += sizeof(*sv);
	while ((PAGE_SIZE << order) < bytes)
		order++;
	phys = frame_alloc(order, BUDDY_ZERO, GUEST_OWNER_BASE + g->id);
	if (!phys)
		return -ENOMEM;
	sv = phys_to_virt(phys);
	sv->pool_phys = phys;
	sv->pool_order = order;
	sv->pool = (struct shadow_page *)(sv + 1);
	sv->guest = g;
	sv->lru.lru_next = sv->lru.lru_prev = &sv->lru;
	for (unsigned int i = shadow_page_limit; i-- > 0;) {
		sv->pool[i].hash_next = sv->free;
		sv->free = &sv->pool[i];
	}
	v->shadow = sv;
	/* the Multiboot entry state: protected mode, paging off */
	v->paging = (struct paging_regs){ .cr0 = X86_CR0_PE | X86_CR0_ET };
	if (switch_root(sv, v, NULL)) {
		shadow_vcpu_destroy(v);
		return -ENOMEM;
	}
	return 0;
}

void shadow_vcpu_destroy(struct vcpu *v)
{
	struct shadow_vcpu *sv = v->shadow;

	if (!sv)
		return;
	while (sv->nr_roots)
		shadow_page_free(sv, sv->roots[0].sp);
	frame_free(sv->pool_phys, sv->pool_order);
	v->shadow = NULL;
}
