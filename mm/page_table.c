/*
 * The generic 4-level page-table walker (see mm/page_table.h). It owns the
 * structure of the tables: walking, creating and freeing table pages,
 * choosing page sizes, splitting large pages. It never flushes a TLB: that
 * is the caller's job, because only the caller knows which address space
 * (host, EPT context, NPT ASID) the tables belong to.
 */
#include "kernel/errno.h"
#include "kernel/string.h"
#include "mm/page_table.h"

static u64 *table_of(u64 phys)
{
	return phys_to_virt(phys);
}

u64 pt_make_leaf(const struct pt_format *fmt, u64 pa, unsigned int level, u64 attrs)
{
	u64 e = pa | fmt->leaf_always;

	if (attrs & PT_READ)
		e |= fmt->read;
	if (attrs & PT_WRITE)
		e |= fmt->write;
	e |= (attrs & PT_EXEC) ? fmt->exec : fmt->no_exec;
	if (attrs & PT_USER)
		e |= fmt->user;
	if (attrs & PT_GLOBAL)
		e |= fmt->global;
	e |= (attrs & PT_UNCACHED) ? fmt->uncached : fmt->cached;
	if (level > 0)
		e |= fmt->large;
	return e;
}

u64 pt_entry_attrs(const struct pt_format *fmt, u64 e)
{
	u64 attrs = 0;

	if (fmt->read && (e & fmt->read) == fmt->read)
		attrs |= PT_READ;
	if (fmt->write && (e & fmt->write))
		attrs |= PT_WRITE;
	if (fmt->exec ? (e & fmt->exec) != 0 : !(e & fmt->no_exec))
		attrs |= PT_EXEC;
	if (fmt->user && (e & fmt->user))
		attrs |= PT_USER;
	if (fmt->global && (e & fmt->global))
		attrs |= PT_GLOBAL;
	if (fmt->uncached && (e & fmt->uncached) == fmt->uncached)
		attrs |= PT_UNCACHED;
	return attrs;
}

static u64 alloc_table(struct page_table *pt)
{
	return pt->alloc->alloc(pt->alloc->ctx);
}

int pt_create(struct page_table *pt, const struct pt_format *fmt,
	      const struct pt_alloc *alloc)
{
	pt->fmt = fmt;
	pt->alloc = alloc;
	pt->root = alloc->alloc(alloc->ctx);
	return pt->root ? 0 : -ENOMEM;
}

/* Frees the table at `phys` (a table of `level`) and all tables below it. */
static void free_tables(struct page_table *pt, u64 phys, unsigned int level)
{
	u64 *t = table_of(phys);

	if (level > 0)
		for (int i = 0; i < PT_ENTRIES; i++)
			if (pt_present(pt->fmt, t[i]) && !pt_is_leaf(pt->fmt, t[i], level))
				free_tables(pt, pt_entry_addr(pt->fmt, t[i], level), level - 1);
	pt->alloc->free(pt->alloc->ctx, phys);
}

int pt_split(struct page_table *pt, u64 va, unsigned int level)
{
	const struct pt_format *fmt = pt->fmt;
	u64 *e = pt_entry(pt, va, level, false);

	if (!e || level == 0 || !pt_present(fmt, *e) || !(*e & fmt->large))
		return -EINVAL;

	u64 table = alloc_table(pt);
	if (!table)
		return -ENOMEM;

	/* The small leaves keep every attribute of the large one. */
	u64 base = pt_entry_addr(fmt, *e, level);
	u64 attrs = pt_entry_attrs(fmt, *e);
	u64 step = pt_level_size(level - 1);
	u64 *t = table_of(table);

	for (int i = 0; i < PT_ENTRIES; i++)
		t[i] = pt_make_leaf(fmt, base + i * step, level - 1, attrs);
	*e = table | fmt->table;
	return 0;
}

u64 *pt_entry(struct page_table *pt, u64 va, unsigned int level, bool create)
{
	const struct pt_format *fmt = pt->fmt;
	u64 *t = table_of(pt->root);

	for (unsigned int l = PT_LEVELS - 1; l > level; l--) {
		u64 *e = &t[pt_index(va, l)];

		if (!pt_present(fmt, *e)) {
			if (!create)
				return NULL;
			u64 table = alloc_table(pt);
			if (!table)
				return NULL;
			*e = table | fmt->table;
		} else if (pt_is_leaf(fmt, *e, l)) {
			if (!create || pt_split(pt, va, l))
				return NULL;
		}
		t = table_of(pt_entry_addr(fmt, *e, l));
	}
	return &t[pt_index(va, level)];
}

/* The largest level whose page fits at va/pa and within size. */
static unsigned int best_level(const struct pt_format *fmt, u64 va, u64 pa,
			       u64 size, unsigned int max_level)
{
	unsigned int level = MIN(max_level, fmt->max_leaf_level);

	for (; level > 0; level--) {
		u64 s = pt_level_size(level);

		if (IS_ALIGNED(va, s) && IS_ALIGNED(pa, s) && size >= s)
			break;
	}
	return level;
}

int pt_map(struct page_table *pt, u64 va, u64 pa, u64 size, u64 attrs,
	   unsigned int max_level)
{
	const struct pt_format *fmt = pt->fmt;

	if (!IS_ALIGNED(va | pa | size, PAGE_SIZE))
		return -EINVAL;
	while (size) {
		unsigned int level = best_level(fmt, va, pa, size, max_level);
		u64 *e = pt_entry(pt, va, level, true);

		if (!e)
			return -ENOMEM;
		if (level > 0 && pt_present(fmt, *e) && !(*e & fmt->large))
			free_tables(pt, pt_entry_addr(fmt, *e, level), level - 1);
		*e = pt_make_leaf(fmt, pa, level, attrs);
		va += pt_level_size(level);
		pa += pt_level_size(level);
		size -= pt_level_size(level);
	}
	return 0;
}

int pt_unmap(struct page_table *pt, u64 va, u64 size)
{
	const struct pt_format *fmt = pt->fmt;

	if (!IS_ALIGNED(va | size, PAGE_SIZE))
		return -EINVAL;
	while (size) {
		/* find the level of whatever maps va, if anything */
		u64 *t = table_of(pt->root);
		unsigned int l = PT_LEVELS - 1;
		u64 *e;

		for (;;) {
			e = &t[pt_index(va, l)];
			if (!pt_present(fmt, *e) || pt_is_leaf(fmt, *e, l))
				break;
			t = table_of(pt_entry_addr(fmt, *e, l));
			l--;
		}
		u64 span = pt_level_size(l);
		u64 skip = span - (va & (span - 1)); /* to the end of this entry */

		if (pt_present(fmt, *e)) {
			if (IS_ALIGNED(va, span) && size >= span) {
				*e = 0;
			} else {
				int err = pt_split(pt, va, l);

				if (err)
					return err;
				continue; /* walk again into the new table */
			}
		}
		if (skip >= size)
			break;
		va += skip;
		size -= skip;
	}
	return 0;
}

int pt_walk(const struct page_table *pt, u64 va, struct pt_walk *w)
{
	const struct pt_format *fmt = pt->fmt;
	unsigned int bits = fmt->index_bits ? fmt->index_bits : 9;
	unsigned int size = fmt->entry_size ? fmt->entry_size : 8;
	int l = pt_fmt_levels(fmt) - 1;
	unsigned int shift = PAGE_SHIFT + bits * l;
	u64 table = pt->root;

	/* the hot path of every lookup: kept to a few instructions a level */
	for (;; l--, shift -= bits) {
		u64 addr = table + ((va >> shift) & ((1UL << bits) - 1)) * size;
		void *p = pt->map_entry ? pt->map_entry(pt->map_ctx, addr) : phys_to_virt(addr);
		u64 e;

		if (!p)
			return -EFAULT;
		e = size == 8 ? *(u64 *)p : *(u32 *)p;
		w->level = l;
		w->entry[l] = e;
		w->entry_ptr[l] = p;
		w->entry_addr[l] = addr;
		if (!(e & fmt->present))
			return -ENOENT;
		if (l == 0 || (l <= (int)fmt->max_leaf_level && (e & fmt->large))) {
			u64 page_mask = (1UL << shift) - 1;

			/* in a large leaf, bit 12 is the PAT bit, not an address bit */
			w->pa = (e & fmt->addr_mask & ~page_mask) + (va & page_mask);
			return 0;
		}
		table = e & fmt->addr_mask;
	}
}

int pt_lookup(const struct page_table *pt, u64 va, u64 *pa,
	      unsigned int *level, u64 *attrs)
{
	struct pt_walk w;
	int err = pt_walk(pt, va, &w);

	if (err)
		return err == -EFAULT ? err : -ENOENT;
	if (pa)
		*pa = w.pa;
	if (level)
		*level = w.level;
	if (attrs)
		*attrs = pt_entry_attrs(pt->fmt, w.entry[w.level]);
	return 0;
}

static int walk_leaves(struct page_table *pt, u64 table, unsigned int level, u64 base,
		       u64 start, u64 end, unsigned int flags, pt_leaf_fn fn, void *ctx)
{
	const struct pt_format *fmt = pt->fmt;
	u64 *t = table_of(table);
	u64 span = pt_level_size(level);

	for (unsigned int i = pt_index(start, level); i < PT_ENTRIES; i++) {
		u64 va = base + i * span;
		int err;

		if (va >= end)
			break;
		if (!pt_present(fmt, t[i])) {
			if (!t[i] || level || !(flags & PT_WALK_NONPRESENT))
				continue;
			err = fn(ctx, va, &t[i], level);
		} else if (pt_is_leaf(fmt, t[i], level)) {
			err = fn(ctx, va, &t[i], level);
		} else {
			err = walk_leaves(pt, pt_entry_addr(fmt, t[i], level), level - 1, va,
					  MAX(start, va), end, flags, fn, ctx);
		}
		if (err)
			return err;
	}
	return 0;
}

int pt_for_each_leaf(struct page_table *pt, u64 va, u64 size, unsigned int flags,
		     pt_leaf_fn fn, void *ctx)
{
	u64 end = va + size;

	if (end < va)
		end = ~0UL;
	return walk_leaves(pt, pt->root, PT_LEVELS - 1, 0, va, end, flags, fn, ctx);
}

void pt_destroy(struct page_table *pt)
{
	if (pt->root)
		free_tables(pt, pt->root, PT_LEVELS - 1);
	pt->root = 0;
}
