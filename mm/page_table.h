/*
 * One page-table walker for every 4-level x86 format: the host's own tables
 * now, EPT and NPT for guests. The walk is the same for all of them; what
 * differs is how an entry is encoded, and that is described by data, a
 * struct pt_format, not by a copy of the walk.
 *
 * Levels are numbered from the leaf: level 0 maps 4 KiB, level 1 2 MiB,
 * level 2 1 GiB, level 3 is the root (PML4). Attributes are given in the
 * format-neutral PT_* bits below and translated through the format.
 */
#ifndef TIDE_PAGE_TABLE_H
#define TIDE_PAGE_TABLE_H

#include "kernel/types.h"

#define PT_LEVELS 4
#define PT_ENTRIES 512

/* format-neutral attributes */
#define PT_READ BIT(0)
#define PT_WRITE BIT(1)
#define PT_EXEC BIT(2)
#define PT_USER BIT(3)
#define PT_GLOBAL BIT(4)
#define PT_UNCACHED BIT(5)

struct pt_format {
	const char *name;
	u64 present; /* an entry is present if any of these bits is set */
	u64 table; /* bits of an entry that points to a next-level table */
	u64 read, write, exec, no_exec, user, global;
	u64 large; /* leaf at level 1 or 2 */
	u64 accessed, dirty; /* set by the hardware in leaves, 0 if it does not */
	u64 cached, uncached; /* memory-type bits for the two kinds we use */
	u64 leaf_always; /* bits every leaf carries */
	u64 addr_mask; /* physical address bits of an entry */
	unsigned int max_leaf_level; /* 1: up to 2 MiB pages, 2: up to 1 GiB */
	/*
	 * Geometry, for the read-only walk (pt_walk) that also serves the
	 * guest's own formats; 0 means the 4-level default (4 levels, 8-byte
	 * entries, 9 index bits). 32-bit paging: 2 levels, 4-byte entries,
	 * 10 bits; PAE: 3 levels.
	 */
	unsigned int levels, entry_size, index_bits;
};

/*
 * Table pages come from, and go back to, a caller-chosen allocator; both
 * work on physical addresses. alloc returns a zeroed 4 KiB page or 0.
 */
struct pt_alloc {
	u64 (*alloc)(void *ctx);
	void (*free)(void *ctx, u64 phys);
	void *ctx;
};

struct page_table {
	const struct pt_format *fmt;
	u64 root; /* physical address of the top-level table */
	const struct pt_alloc *alloc;
	/*
	 * For pt_walk: a pointer to the entry at address `addr` in the space
	 * the tables live in, or NULL if there is none. NULL means host
	 * physical memory (the direct map); a guest's own tables live in its
	 * guest-physical memory.
	 */
	void *(*map_entry)(void *ctx, u64 addr);
	void *map_ctx;
};

static inline u64 pt_level_size(unsigned int level)
{
	return 1UL << (PAGE_SHIFT + 9 * level);
}

static inline unsigned int pt_index(u64 va, unsigned int level)
{
	return (va >> (PAGE_SHIFT + 9 * level)) & (PT_ENTRIES - 1);
}

/* Allocates an empty root table. */
int pt_create(struct page_table *pt, const struct pt_format *fmt,
	      const struct pt_alloc *alloc);

/*
 * Maps [va, va + size) to [pa, pa + size) with `attrs`, using the largest
 * pages that alignment, max_level and the format allow. va, pa and size must
 * be 4 KiB aligned. Existing mappings in the range are replaced (a table
 * under a range now covered by a large page is freed). Returns -ENOMEM if a
 * table page could not be allocated (what was mapped so far stays mapped).
 */
int pt_map(struct page_table *pt, u64 va, u64 pa, u64 size, u64 attrs,
	   unsigned int max_level);

/*
 * Removes mappings in [va, va + size); large pages that only partly overlap
 * are split first. Tables left empty are kept. The caller flushes TLBs.
 */
int pt_unmap(struct page_table *pt, u64 va, u64 size);

/*
 * Finds the leaf mapping va. Returns 0 and fills pa (of va itself), the
 * leaf's level and its attributes, or -ENOENT.
 */
int pt_lookup(const struct page_table *pt, u64 va, u64 *pa,
	      unsigned int *level, u64 *attrs);

/*
 * Returns a pointer to the entry for va at `level`, creating tables on the
 * way when `create` is set (and splitting large pages above `level`), or
 * NULL (not present and !create, or out of memory).
 */
u64 *pt_entry(struct page_table *pt, u64 va, unsigned int level, bool create);

/*
 * The read-only walk of one address, for every format including the
 * guest's: the entries met from the root down to the leaf or to the first
 * non-present one. Entries are numbered by level like the tables.
 */
struct pt_walk {
	int level; /* of the leaf, or of the non-present entry */
	u64 entry[PT_LEVELS];
	void *entry_ptr[PT_LEVELS]; /* where each entry is, for A/D updates */
	u64 entry_addr[PT_LEVELS]; /* its address in the tables' space */
	u64 pa; /* the translation of va, when present */
};
/* 0 if va is mapped, -ENOENT if not, -EFAULT if a table cannot be reached. */
int pt_walk(const struct page_table *pt, u64 va, struct pt_walk *w);

static inline unsigned int pt_fmt_levels(const struct pt_format *fmt)
{
	return fmt->levels ? fmt->levels : PT_LEVELS;
}

static inline unsigned int pt_fmt_shift(const struct pt_format *fmt, unsigned int level)
{
	return PAGE_SHIFT + (fmt->index_bits ? fmt->index_bits : 9) * level;
}

/* Splits the large leaf at (va, level) into a table of next-level leaves. */
int pt_split(struct page_table *pt, u64 va, unsigned int level);

/*
 * Calls fn for every present leaf that overlaps [va, va + size), in address
 * order, skipping empty subtrees. fn gets the leaf's first virtual address,
 * its entry and its level, and may change or clear the entry; a non-zero
 * return stops the walk and is returned. With PT_WALK_NONPRESENT, fn also
 * sees non-zero entries that are not present at level 0 (software entries
 * such as swap entries).
 */
#define PT_WALK_NONPRESENT BIT(0)
typedef int (*pt_leaf_fn)(void *ctx, u64 va, u64 *entry, unsigned int level);
int pt_for_each_leaf(struct page_table *pt, u64 va, u64 size, unsigned int flags,
		     pt_leaf_fn fn, void *ctx);

/* Frees every table page (not the mapped memory) and the root. */
void pt_destroy(struct page_table *pt);

/* Entry encoding helpers, exposed for the code that edits entries itself. */
u64 pt_make_leaf(const struct pt_format *fmt, u64 pa, unsigned int level, u64 attrs);
u64 pt_entry_attrs(const struct pt_format *fmt, u64 entry);

static inline bool pt_present(const struct pt_format *fmt, u64 entry)
{
	return entry & fmt->present;
}

/* A large-page bit above max_leaf_level is not one (for guests: reserved). */
static inline bool pt_is_leaf(const struct pt_format *fmt, u64 entry, unsigned int level)
{
	return level == 0 || (level <= fmt->max_leaf_level && (entry & fmt->large));
}

static inline u64 pt_entry_addr(const struct pt_format *fmt, u64 entry, unsigned int level)
{
	u64 mask = fmt->addr_mask;

	/* In a large leaf, bit 12 is the PAT bit, not an address bit. */
	if (pt_is_leaf(fmt, entry, level) && level > 0)
		mask &= ~((1UL << pt_fmt_shift(fmt, level)) - 1);
	return entry & mask;
}

/* Access to table pages through a physical address: the direct map. */
void *phys_to_virt(u64 phys);

#endif
