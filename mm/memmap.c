/*
 * The physical memory map (see mm/memmap.h): a sorted, disjoint list of
 * typed ranges in which neighbours that touch and share a type are always
 * merged. memmap_add() overlays a range, the more restrictive type (higher
 * enum value) winning where ranges overlap; memmap_align_usable() and
 * memmap_cap() post-process the finished map. Freestanding: no libc, so it
 * builds unchanged in the hypervisor and in the host unit tests.
 *
 * Ranges are half-open, [base, base + size). An end of 2^64 is not
 * representable in a u64, so memmap_add() clips every range at UINT64_MAX:
 * the last byte of the address space can never be described. Nothing
 * addressable lives there, and it keeps "end never overflows" true everywhere.
 */
#include "kernel/errno.h"
#include "kernel/printk.h"
#include "mm/memmap.h"

static inline u64 region_end(const struct mem_region *r)
{
	return r->base + r->size;
}

static inline bool valid_type(u32 type)
{
	return type >= MEM_USABLE && type < MEM_TYPE_MAX;
}

/*
 * memmap_add() builds its result here and copies it back only on success, so
 * a full map is left untouched. One static buffer is enough: boot is
 * single-threaded, memmap_add() does not recurse, and the host tests and the
 * fuzzer are single-threaded too. (12 KiB is too much for a boot stack.)
 */
static struct memmap scratch;

/*
 * Appends [base, end) to `out`, growing the last range instead when it ends
 * at `base` with the same type: pieces arrive in address order, so this is
 * all the merging the map ever needs.
 */
static int emit(struct memmap *out, u64 base, u64 end, u32 type)
{
	struct mem_region *last;

	if (base >= end)
		return 0;
	if (out->nr) {
		last = &out->r[out->nr - 1];
		if (last->type == type && region_end(last) == base) {
			last->size += end - base;
			return 0;
		}
	}
	if (out->nr == MEMMAP_MAX)
		return -ENOSPC;
	out->r[out->nr].base = base;
	out->r[out->nr].size = end - base;
	out->r[out->nr].type = type;
	out->nr++;
	return 0;
}

void memmap_init(struct memmap *m)
{
	m->nr = 0;
}

/*
 * One pass over the old map in address order. `pos` is the first byte of
 * the new range [base, end) not yet emitted: the gaps between old ranges
 * take the new type, overlaps the higher of the two types, and whatever of
 * an old range sticks out on either side keeps its own.
 */
int memmap_add(struct memmap *m, u64 base, u64 size, u32 type)
{
	u64 end, pos;
	unsigned int i;
	int err;

	if (!valid_type(type))
		return -EINVAL;
	end = size > UINT64_MAX - base ? UINT64_MAX : base + size;
	if (base >= end)
		return 0; /* zero size, or nothing left after clipping */

	scratch.nr = 0;
	pos = base;
	for (i = 0; i < m->nr; i++) {
		const struct mem_region *r = &m->r[i];
		u64 rb = r->base, re = region_end(r);

		if (re <= base) {
			err = emit(&scratch, rb, re, r->type);
		} else if (rb >= end) {
			err = emit(&scratch, pos, end, type);
			pos = end;
			if (!err)
				err = emit(&scratch, rb, re, r->type);
		} else {
			err = emit(&scratch, rb, base, r->type);
			if (!err)
				err = emit(&scratch, pos, rb, type);
			if (!err)
				err = emit(&scratch, MAX(rb, base), MIN(re, end),
					   MAX(r->type, type));
			pos = MIN(re, end);
			if (!err)
				err = emit(&scratch, end, re, r->type);
		}
		if (err)
			return err;
	}
	err = emit(&scratch, pos, end, type);
	if (err)
		return err;

	for (i = 0; i < scratch.nr; i++)
		m->r[i] = scratch.r[i];
	m->nr = scratch.nr;
	return 0;
}

/* Makes room at r[idx] (shifting the rest up) and stores the range there. */
static bool insert_at(struct memmap *m, unsigned int idx, u64 base, u64 end,
		      u32 type)
{
	unsigned int i;

	if (m->nr == MEMMAP_MAX)
		return false;
	for (i = m->nr; i > idx; i--)
		m->r[i] = m->r[i - 1];
	m->r[idx].base = base;
	m->r[idx].size = end - base;
	m->r[idx].type = type;
	m->nr++;
	return true;
}

/* Restores the "touching ranges of one type are merged" invariant. */
static void merge_all(struct memmap *m)
{
	unsigned int i, n = 0;

	for (i = 0; i < m->nr; i++) {
		if (n && m->r[n - 1].type == m->r[i].type &&
		    region_end(&m->r[n - 1]) == m->r[i].base) {
			m->r[n - 1].size += m->r[i].size;
			continue;
		}
		m->r[n++] = m->r[i];
	}
	m->nr = n;
}

/*
 * The allocator hands out whole frames, so a partial page at either end of a
 * usable range cannot be used; marking it reserved (rather than dropping it)
 * keeps the printed map complete. Should the map be full, a partial page that
 * cannot get an entry of its own is dropped from the map instead: a hole is
 * just as unusable, and shrinking a range needs no new entry.
 */
void memmap_align_usable(struct memmap *m)
{
	unsigned int i;
	u64 dropped = 0;

	for (i = 0; i < m->nr; i++) {
		struct mem_region *r = &m->r[i];
		u64 base = r->base, end = region_end(r), abase, aend;

		if (r->type != MEM_USABLE)
			continue;
		/* round base up, saturating: no page starts above the last one */
		if (base > ALIGN_DOWN(UINT64_MAX, PAGE_SIZE))
			abase = UINT64_MAX;
		else
			abase = ALIGN_UP(base, PAGE_SIZE);
		aend = ALIGN_DOWN(end, PAGE_SIZE);
		if (abase >= aend) {
			r->type = MEM_RESERVED; /* not one whole page */
			continue;
		}
		r->base = abase;
		r->size = aend - abase;
		if (base < abase) {
			if (insert_at(m, i, base, abase, MEM_RESERVED))
				i++;
			else
				dropped += abase - base;
		}
		if (aend < end) {
			if (insert_at(m, i + 1, aend, end, MEM_RESERVED))
				i++;
			else
				dropped += end - aend;
		}
	}
	merge_all(m);
	if (dropped)
		pr_warn("memmap: map full, %llu bytes of partial pages left out\n",
			(unsigned long long)dropped);
}

/*
 * Capped RAM is never used, so if the map is full when a range straddling
 * the limit must be split, its part above the limit is dropped from the map
 * rather than recorded as capped: only the boot-time accounting suffers.
 */
void memmap_cap(struct memmap *m, u64 limit)
{
	unsigned int i;

	for (i = 0; i < m->nr; i++) {
		struct mem_region *r = &m->r[i];
		u64 end = region_end(r);

		if (r->type != MEM_USABLE || end <= limit)
			continue;
		if (r->base >= limit) {
			r->type = MEM_CAPPED;
			continue;
		}
		r->size = limit - r->base;
		if (insert_at(m, i + 1, limit, end, MEM_CAPPED))
			i++;
		else
			pr_warn("memmap: map full, [0x%016llx-0x%016llx) dropped instead of capped\n",
				(unsigned long long)limit, (unsigned long long)end);
	}
	merge_all(m);
}

u64 memmap_bytes(const struct memmap *m, u32 type)
{
	unsigned int i;
	u64 sum = 0;

	for (i = 0; i < m->nr; i++)
		if (m->r[i].type == type)
			sum += m->r[i].size;
	return sum;
}

u64 memmap_end(const struct memmap *m, u32 type)
{
	unsigned int i = m->nr;

	while (i--)
		if (m->r[i].type == type)
			return region_end(&m->r[i]);
	return 0;
}

const char *memmap_type_name(u32 type)
{
	static const char *const names[MEM_TYPE_MAX] = {
		[MEM_USABLE] = "usable",
		[MEM_CAPPED] = "capped",
		[MEM_ACPI_RECLAIM] = "acpi-reclaim",
		[MEM_ACPI_NVS] = "acpi-nvs",
		[MEM_RESERVED] = "reserved",
		[MEM_BAD] = "bad",
		[MEM_LOW_MEMORY] = "low-memory",
		[MEM_BOOT_INFO] = "boot-info",
		[MEM_MODULE] = "module",
		[MEM_KERNEL] = "kernel",
		[MEM_HYPERVISOR] = "hypervisor",
	};

	if (!valid_type(type) || !names[type])
		return "unknown";
	return names[type];
}

/*
 * Picks a unit so the number stays short but precise enough to read: bytes
 * below 1 KiB (partial pages), KiB below 16 MiB (so 1 MiB reads "1024 KiB"),
 * MiB below 16 GiB, GiB above. Rounded down.
 */
static void human_size(u64 size, unsigned long long *val, const char **unit)
{
	if (size < KiB) {
		*val = size;
		*unit = "B";
	} else if (size < 16 * MiB) {
		*val = size / KiB;
		*unit = "KiB";
	} else if (size < 16 * GiB) {
		*val = size / MiB;
		*unit = "MiB";
	} else {
		*val = size / GiB;
		*unit = "GiB";
	}
}

void memmap_print(const struct memmap *m)
{
	unsigned int i;

	for (i = 0; i < m->nr; i++) {
		const struct mem_region *r = &m->r[i];
		unsigned long long val;
		const char *unit;

		human_size(r->size, &val, &unit);
		pr_info("  [0x%016llx-0x%016llx) %7llu %-3s %s\n",
			(unsigned long long)r->base,
			(unsigned long long)region_end(r), val, unit,
			memmap_type_name(r->type));
	}
}
