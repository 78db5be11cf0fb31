/*
 * Walks of the guest's own page tables (see mm/guest_walk.h), following the
 * SDM vol. 3A, chapter 4: 4.5-4.7 for the formats and rights, 4.8 for the
 * accessed and dirty flags.
 */
#include "arch/x86/cpu.h"
#include "kernel/errno.h"
#include "kernel/guest.h"
#include "kernel/vcpu.h"
#include "mm/guest_walk.h"
#include "mm/shadow.h"
#include "mm/stage2.h"

#define PTE_P BIT(0)
#define PTE_W BIT(1)
#define PTE_U BIT(2)
#define PTE_A BIT(5)
#define PTE_D BIT(6)
#define PTE_PS BIT(7)
#define PTE_G BIT(8)
#define PTE_NX BIT(63)
#define RFLAGS_AC BIT(18)

static const struct pt_format guest_32_format = {
	.name = "x86-32", .present = PTE_P, .write = PTE_W, .user = PTE_U,
	.accessed = PTE_A, .dirty = PTE_D, .large = PTE_PS, .global = PTE_G,
	.addr_mask = 0xfffff000UL, .max_leaf_level = 0,
	.levels = 2, .entry_size = 4, .index_bits = 10,
};

static const struct pt_format guest_32_pse_format = {
	.name = "x86-32 PSE", .present = PTE_P, .write = PTE_W, .user = PTE_U,
	.accessed = PTE_A, .dirty = PTE_D, .large = PTE_PS, .global = PTE_G,
	.addr_mask = 0xfffff000UL, .max_leaf_level = 1,
	.levels = 2, .entry_size = 4, .index_bits = 10,
};

static const struct pt_format guest_pae_format = {
	.name = "PAE", .present = PTE_P, .write = PTE_W, .user = PTE_U,
	.accessed = PTE_A, .dirty = PTE_D, .large = PTE_PS, .global = PTE_G,
	.no_exec = PTE_NX, .addr_mask = 0x000ffffffffff000UL, .max_leaf_level = 1,
	.levels = 3, .entry_size = 8, .index_bits = 9,
};

/* 1 GiB pages: max_leaf_level is raised to 2 when the CPU has them */
static struct pt_format guest_64_format = {
	.name = "4-level", .present = PTE_P, .write = PTE_W, .user = PTE_U,
	.accessed = PTE_A, .dirty = PTE_D, .large = PTE_PS, .global = PTE_G,
	.no_exec = PTE_NX, .addr_mask = 0x000ffffffffff000UL, .max_leaf_level = 1,
	.levels = 4, .entry_size = 8, .index_bits = 9,
};

enum guest_paging_mode guest_paging_mode(struct vcpu *v)
{
	u64 cr0 = vcpu_get(v, VCPU_CR0), cr4 = vcpu_get(v, VCPU_CR4);

	if (!(cr0 & X86_CR0_PG))
		return GUEST_PAGING_OFF;
	if (vcpu_get(v, VCPU_EFER) & EFER_LMA)
		return GUEST_PAGING_64;
	if (cr4 & X86_CR4_PAE)
		return GUEST_PAGING_PAE;
	return (cr4 & X86_CR4_PSE) ? GUEST_PAGING_32_PSE : GUEST_PAGING_32;
}

/* Physical-address bits above MAXPHYADDR, reserved in every PAE/4-level entry. */
static u64 high_reserved_bits(void)
{
	return 0x000ffffffffff000UL & ~((1UL << boot_cpu.phys_addr_bits) - 1);
}

bool guest_pdpte_valid(u64 pdpte)
{
	/* bits 2:1, 8:5 and 63:MAXPHYADDR are reserved (SDM 4.4.1) */
	u64 reserved = 0x1e6UL | high_reserved_bits() | 0xfff0000000000000UL;

	return !(pdpte & PTE_P) || !(pdpte & reserved);
}

/* Whether a present entry at `level` has a reserved bit set. */
static bool entry_reserved(struct guest_translation *t, u64 e, int level, bool nxe)
{
	u64 reserved;

	if (t->mode == GUEST_PAGING_32 || t->mode == GUEST_PAGING_32_PSE) {
		/* a 4 MiB page: bit 21 is reserved (bits 20:13 are PSE-36 address bits) */
		return level == 1 && t->mode == GUEST_PAGING_32_PSE && (e & PTE_PS) && (e & BIT(21));
	}
	reserved = high_reserved_bits();
	if (!nxe)
		reserved |= PTE_NX;
	if (t->mode == GUEST_PAGING_PAE && level == 2)
		return false; /* checked when loaded, at MOV CR3 (the CPU caches PDPTEs) */
	if (level == 3 || (level == 2 && t->fmt->max_leaf_level < 2))
		reserved |= PTE_PS;
	if (level > 0 && level <= (int)t->fmt->max_leaf_level && (e & PTE_PS))
		/* a large page's address bits below its size, but the PAT bit 12 */
		reserved |= ((1UL << pt_fmt_shift(t->fmt, level)) - 1) & ~0x1fffUL;
	return e & reserved;
}

struct walk_ctx {
	struct guest *g;
	int err;
	u64 pdpt; /* PAE with shadow paging: the PDPT's address ... */
	u64 *pdpte; /* ... and the PDPTEs loaded at MOV CR3, used instead */
};

static void *map_guest_entry(void *ctx, u64 gpa)
{
	struct walk_ctx *w = ctx;
	void *p;

	/* the CPU does not read PDPTEs from memory after loading them (SDM 4.4.1) */
	if (w->pdpte && gpa - w->pdpt < 4 * sizeof(u64))
		return &w->pdpte[(gpa - w->pdpt) / sizeof(u64)];

	w->err = stage2_host_access(w->g, gpa, true, &p);
	return w->err ? NULL : p;
}

/* SDM 4.7: whether the I/D flag of the error code is reported */
static bool reports_fetch(struct guest_translation *t, bool nxe, u64 cr4)
{
	bool nx_paging = nxe && t->mode != GUEST_PAGING_32 && t->mode != GUEST_PAGING_32_PSE;

	return nx_paging || (cr4 & X86_CR4_SMEP);
}

static bool access_allowed(struct vcpu *v, struct guest_translation *t, u32 access, u64 cr4)
{
	bool write = access & PFEC_WRITE, user = access & PFEC_USER;

	if (access & PFEC_FETCH) {
		if (!t->exec)
			return false;
		return user ? t->user : !(t->user && (cr4 & X86_CR4_SMEP));
	}
	if (user)
		return t->user && (!write || t->writable);
	/* supervisor data access */
	if (t->user && (cr4 & X86_CR4_SMAP) && !(vcpu_get(v, VCPU_RFLAGS) & RFLAGS_AC))
		return false;
	return !write || t->writable || !(vcpu_get(v, VCPU_CR0) & X86_CR0_WP);
}

static void set_bits(struct guest_translation *t, int level, u64 bits)
{
	void *p = t->walk.entry_ptr[level];

	if ((t->walk.entry[level] & bits) == bits)
		return;
	t->walk.entry[level] |= bits;
	if (t->fmt->entry_size == 4)
		__atomic_or_fetch((u32 *)p, (u32)bits, __ATOMIC_SEQ_CST);
	else
		__atomic_or_fetch((u64 *)p, bits, __ATOMIC_SEQ_CST);
}

int guest_translate(struct vcpu *v, u64 linear, u32 access, unsigned int flags,
		    struct guest_translation *t)
{
	struct walk_ctx ctx = { .g = v->guest };
	struct page_table pt = { .map_entry = map_guest_entry, .map_ctx = &ctx };
	u64 cr3, cr4;
	u32 fetch_bit;
	bool nxe;
	int err, top;

	t->mode = guest_paging_mode(v);
	t->writable = t->user = t->exec = true;
	t->error_code = 0;
	if (t->mode == GUEST_PAGING_OFF) {
		t->fmt = NULL;
		t->gpa = linear & 0xffffffffUL;
		return 0;
	}
	cr3 = vcpu_get(v, VCPU_CR3);
	cr4 = vcpu_get(v, VCPU_CR4);
	nxe = vcpu_get(v, VCPU_EFER) & EFER_NXE;
	switch (t->mode) {
	case GUEST_PAGING_32: t->fmt = &guest_32_format; pt.root = cr3 & 0xfffff000UL; break;
	case GUEST_PAGING_32_PSE: t->fmt = &guest_32_pse_format; pt.root = cr3 & 0xfffff000UL; break;
	case GUEST_PAGING_PAE:
		t->fmt = &guest_pae_format;
		pt.root = cr3 & PAE_CR3_MASK;
		ctx.pdpt = pt.root;
		ctx.pdpte = shadow_paging ? shadow_pae_pdptes(v) : NULL;
		break;
	default:
		guest_64_format.max_leaf_level = boot_cpu.gbpages ? 2 : 1;
		t->fmt = &guest_64_format;
		pt.root = cr3 & 0x000ffffffffff000UL;
		break;
	}
	if (t->mode != GUEST_PAGING_64)
		linear &= 0xffffffffUL;
	pt.fmt = t->fmt;
	fetch_bit = (access & PFEC_FETCH) && reports_fetch(t, nxe, cr4) ? PFEC_FETCH : 0;
	t->error_code = (access & (PFEC_WRITE | PFEC_USER)) | fetch_bit;

	t->walk.level = pt_fmt_levels(t->fmt); /* no entry read yet */
	err = pt_walk(&pt, linear, &t->walk);
	if (err == -EFAULT && ctx.err != -EFAULT)
		return ctx.err; /* a table page that cannot be had now */

	/*
	 * Reserved bits in any present entry read fault first: also when the
	 * walk stopped at a non-present entry, or at a table outside guest RAM
	 * that an address bit above MAXPHYADDR pointed to.
	 */
	top = pt_fmt_levels(t->fmt) - 1;
	for (int l = top; (flags & GUEST_WALK_CHECK) && l >= t->walk.level + (err == -ENOENT); l--) {
		if (entry_reserved(t, t->walk.entry[l], l, nxe)) {
			t->error_code |= PFEC_PRESENT | PFEC_RSVD;
			return -EFAULT;
		}
	}
	if (err == -EFAULT)
		return -ENXIO; /* a table outside guest RAM */
	if (err)
		return (flags & GUEST_WALK_CHECK) ? -EFAULT : -ENOENT;

	/* rights over every level */
	for (int l = top; l >= t->walk.level; l--) {
		u64 e = t->walk.entry[l];

		if (t->mode == GUEST_PAGING_PAE && l == 2)
			continue; /* PDPTEs carry no rights */
		t->writable &= !!(e & PTE_W);
		t->user &= !!(e & PTE_U);
		if (nxe && t->fmt->no_exec && (e & PTE_NX))
			t->exec = false;
	}
	t->gpa = t->walk.pa;
	if (t->mode == GUEST_PAGING_32_PSE && t->walk.level == 1)
		t->gpa |= ((t->walk.entry[1] >> 13) & 0xffUL) << 32; /* PSE-36 */

	if ((flags & GUEST_WALK_CHECK) && !access_allowed(v, t, access, cr4)) {
		t->error_code |= PFEC_PRESENT;
		return -EFAULT;
	}
	if (flags & GUEST_WALK_SET_AD) {
		for (int l = top; l >= t->walk.level; l--)
			if (!(t->mode == GUEST_PAGING_PAE && l == 2))
				set_bits(t, l, PTE_A);
		if (access & PFEC_WRITE)
			set_bits(t, t->walk.level, PTE_D);
	}
	return 0;
}
