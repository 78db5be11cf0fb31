/*
 * The guest's own paging, as the CPU would apply it: paging off, 32-bit
 * (with and without PSE), PAE and 4-level. The entry formats are data
 * (struct pt_format) and the walk is the generic pt_walk() of
 * mm/page_table.c, the one stage 2 uses; this file adds the rules only the
 * guest's tables have: permissions over all levels (R/W, U/S, NX with
 * EFER.NXE, CR0.WP, SMEP, SMAP), reserved bits, #PF error codes and the
 * accessed and dirty bits the CPU sets in the guest's entries.
 */
#ifndef TIDE_GUEST_WALK_H
#define TIDE_GUEST_WALK_H

#include "kernel/types.h"
#include "mm/page_table.h"

struct vcpu;

/* #PF error code bits, also used to describe an access */
#define PFEC_PRESENT BIT(0)
#define PFEC_WRITE BIT(1)
#define PFEC_USER BIT(2)
#define PFEC_RSVD BIT(3)
#define PFEC_FETCH BIT(4)

enum guest_paging_mode {
	GUEST_PAGING_OFF,
	GUEST_PAGING_32,
	GUEST_PAGING_32_PSE,
	GUEST_PAGING_PAE,
	GUEST_PAGING_64,
};

struct guest_translation {
	enum guest_paging_mode mode;
	const struct pt_format *fmt; /* NULL with paging off */
	struct pt_walk walk; /* the guest's entries, level by level */
	u64 gpa;
	bool writable, user, exec; /* the page's rights, combined over the levels */
	u32 error_code; /* of the #PF the CPU would raise, when translation fails */
};

/* flags of guest_translate */
#define GUEST_WALK_CHECK BIT(0) /* check `access` against the rights */
#define GUEST_WALK_SET_AD BIT(1) /* on success set A (and D on a write) */

enum guest_paging_mode guest_paging_mode(struct vcpu *v);

/*
 * Translates a linear address of the guest for `access` (PFEC_WRITE,
 * PFEC_USER, PFEC_FETCH). Returns 0, or -EFAULT when the CPU would raise #PF
 * (t->error_code says which), -EAGAIN when a page-table page of the guest
 * cannot be brought in now (no memory: retry), -EIO when a page table
 * cannot be read back from swap, -ENXIO when one is not in guest RAM.
 */
int guest_translate(struct vcpu *v, u64 linear, u32 access, unsigned int flags,
		    struct guest_translation *t);

/* Guest-physical address of a PAE PDPT from CR3, and the PDPTE reserved-bit check. */
#define PAE_CR3_MASK 0xffffffe0UL
bool guest_pdpte_valid(u64 pdpte);

#endif
