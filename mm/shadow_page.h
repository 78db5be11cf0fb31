/*
 * The shadow MMU's own data (mm/shadow.c, mm/shadow_page.c): shadow pages,
 * roots and the per-vCPU state, and the operations on shadow pages that
 * mm/shadow_page.c owns: the pool with its LRU bound, the hash from a guest
 * table page to its shadow pages (write protection), and the reverse map
 * from a frame to the shadow leaves that map it. Only mm/shadow*.c include it.
 */
#ifndef TIDE_SHADOW_PAGE_H
#define TIDE_SHADOW_PAGE_H

#include "kernel/types.h"
#include "kernel/vcpu.h"
#include "mm/page_table.h"

struct guest;

#define SPTE_P BIT(0)
#define SPTE_W BIT(1)
#define SPTE_U BIT(2)
#define SPTE_A BIT(5)
#define SPTE_D BIT(6)
#define SPTE_NX BIT(63)
#define SPTE_ADDR 0x000ffffffffff000UL
#define SPTE_TABLE (SPTE_P | SPTE_W | SPTE_U | SPTE_A)

#define SP_DIRECT (~0UL) /* shadow_page.gfn of a page no guest table backs */
#define SP_HASH_SIZE 256
#define LINK_NONE FRAME_NONE
#define MAX_ROOTS 16
#define FLOOD_WRITES 3 /* emulated writes to a table unused meanwhile: stop shadowing it */


struct shadow_page {
	u64 table; /* host-physical address of the shadow table */
	u64 gfn; /* guest-physical page of the guest table it shadows, or SP_DIRECT */
	u64 *parent; /* the shadow entry that points to it; NULL for a root */
	u64 links; /* level 0: a page of {prev, next} reverse-map links per entry */
	u32 index; /* in the pool */
	u8 level; /* of its entries: 0 maps 4 KiB */
	u8 ratio; /* shadow entries per guest entry */
	u8 guest_entry_size;
	u8 flood; /* emulated writes since it was last used */
	u16 guest_base; /* index of the guest entry its entry 0 comes from */
	bool pinned; /* on the path being filled: not to be evicted */
	struct shadow_page *hash_next, *lru_prev, *lru_next;
};

struct shadow_root {
	struct shadow_page *sp;
	u64 key; /* the CR3 bits that select the guest's tables */
	u32 role;
	u64 pdpte[4]; /* PAE: the PDPTEs loaded with CR3 */
};

struct shadow_vcpu {
	struct guest *guest;
	struct shadow_page *pool, *free;
	u64 pool_phys;
	unsigned int pool_order;
	struct shadow_page *hash[SP_HASH_SIZE];
	struct shadow_page lru; /* list head; most recently used first */
	struct shadow_root roots[MAX_ROOTS]; /* [0] is the one in use */
	unsigned int nr_roots;
	u64 unprotect_rip;
	unsigned int unprotect_repeats;
};

static inline u64 *table_of(struct shadow_page *sp)
{
	return phys_to_virt(sp->table);
}

static inline struct shadow_page *sp_of_table(struct shadow_vcpu *sv, u64 table)
{
	return &sv->pool[frame_owner_data(table)];
}

static inline void flush(struct shadow_vcpu *sv)
{
	vcpu_ops->flush_guest_tlb(sv->guest);
}

/* The hash chain of the shadow pages of gfn (others share it: check sp->gfn). */
static inline struct shadow_page **hash_bucket(struct shadow_vcpu *sv, u64 gfn)
{
	return &sv->hash[(gfn >> PAGE_SHIFT) % SP_HASH_SIZE];
}

/* mm/shadow_page.c */
struct shadow_page *shadow_page_alloc(struct shadow_vcpu *sv, unsigned int level, u64 gfn);
/* Frees sp with everything below it, unlinking it from its parent or the root cache. */
void shadow_page_free(struct shadow_vcpu *sv, struct shadow_page *sp);
void shadow_page_touch(struct shadow_vcpu *sv, struct shadow_page *sp);
/* Clears one entry (a leaf leaves the reverse map, a table is freed), or all of sp's. */
void shadow_clear_entry(struct shadow_vcpu *sv, struct shadow_page *sp, unsigned int i);
void shadow_clear_all_entries(struct shadow_vcpu *sv, struct shadow_page *sp);
void shadow_rmap_add(struct shadow_vcpu *sv, struct shadow_page *sp, unsigned int i, u64 frame);
u64 shadow_rmap_zap(struct shadow_vcpu *sv, u64 frame);
/* Whether a shadow page is built from the guest page at gfn (it is write-protected). */
bool shadow_gfn_shadowed(struct shadow_vcpu *sv, u64 gfn);
/* gfn starts backing a shadow page: every leaf mapping it becomes read-only. */
void shadow_write_protect(struct shadow_vcpu *sv, u64 gfn);
/* Stops shadowing gfn: its shadow pages go (a root only loses its entries). */
void shadow_unshadow_gfn(struct shadow_vcpu *sv, u64 gfn);

#endif
