/*
 * Shadow page tables (paging=shadow, or a CPU without EPT/NPT): the CPU
 * walks tables Tide builds that translate guest-virtual addresses straight
 * to host-physical ones. They start empty and are filled from #PF exits by
 * walking the guest's own tables (mm/guest_walk.c) and the guest-physical
 * map (mm/stage2.c, a software table in this mode). Guest page-table pages
 * are write-protected, so the shadows stay coherent with them: a write to
 * one is emulated and the shadow entries it affects are zapped. A reverse
 * map from each guest frame to the shadow entries that map it lets the one
 * invalidation routine (stage2_invalidate_with) zap them all before the
 * frame is reused. docs/shadow.md explains the design.
 */
#ifndef TIDE_SHADOW_H
#define TIDE_SHADOW_H

#include "kernel/types.h"
#include "kernel/vcpu.h"

struct guest;

extern unsigned int shadow_page_limit; /* shadow_pages=: per guest */
extern unsigned int shadow_root_cache; /* shadow_roots=: per vCPU */

/* The vCPU's shadow state, with the root for paging off; and its end. */
int shadow_vcpu_init(struct vcpu *v);
void shadow_vcpu_destroy(struct vcpu *v);

/*
 * The paging registers the CPU must run the guest with, from the guest's
 * view in v->paging: CR0.PG and WP always set (paging off runs on an
 * identity shadow; WP=0 is emulated), CR3 the shadow root, CR4.PAE set for
 * legacy guests (the shadow is PAE), EFER.NXE set when the CPU has NX and
 * EFER.LME/LMA set exactly when the guest is in long mode.
 */
void shadow_hardware_regs(struct vcpu *v, struct paging_regs *hw);

/*
 * Exit handlers. Each returns 0 when the guest may go on, or stops it.
 * shadow_page_fault handles a #PF exit: fills the shadow, injects the #PF
 * into the guest, emulates a page-table write or an MMIO access
 * (`delivering`: the CPU met it delivering an event, not running RIP's
 * instruction).
 */
void shadow_page_fault(struct vcpu *v, u64 linear, u32 error_code, bool delivering);

/*
 * A PAE guest's PDPTEs as loaded at its last MOV CR3 (or paging change),
 * which the CPU uses instead of the PDPT in memory; NULL before any.
 */
u64 *shadow_pae_pdptes(struct vcpu *v);

/* The guest changed CR3 (value as written), or a paging bit of CR0, CR4 or EFER. */
int shadow_load_cr3(struct vcpu *v, u64 cr3);
void shadow_paging_changed(struct vcpu *v);

/*
 * Called by mm/stage2.c for each guest frame it takes away (in the zap
 * phase, before the flush): removes every shadow entry mapping it, and the
 * shadow pages built from the page-table contents it held.
 */
void shadow_zap_frame(struct guest *g, u64 gpa, u64 frame);

/* Tide wrote guest memory at gpa itself (hypercall results, loader). */
void shadow_guest_wrote(struct guest *g, u64 gpa, u64 len);

/*
 * The reclaim clock's accessed bit in shadow mode: whether any shadow entry
 * mapping the frame has its accessed bit set; clears them.
 */
bool shadow_test_and_clear_accessed(struct guest *g, u64 frame);

#endif
