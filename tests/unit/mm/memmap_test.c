/*
 * Host unit tests for mm/memmap.c: overlay precedence, merging, clipping,
 * the full-map error path, memmap_cap() and memmap_align_usable(), and a
 * randomized comparison against a byte-by-byte model of the map.
 */
#include <stdlib.h>
#include <string.h>

#include "kernel/errno.h"
#include "mm/memmap.h"
#include "tests/unit/unit.h"

static struct memmap map, saved;

/* Sorted, disjoint, no empty ranges, valid types, touching neighbours merged. */
static bool map_ok(const struct memmap *m)
{
	unsigned int i;

	if (m->nr > MEMMAP_MAX)
		return false;
	for (i = 0; i < m->nr; i++) {
		const struct mem_region *r = &m->r[i];

		if (!r->size || r->type < MEM_USABLE || r->type >= MEM_TYPE_MAX)
			return false;
		if (r->size > UINT64_MAX - r->base)
			return false;
		if (i && m->r[i - 1].base + m->r[i - 1].size > r->base)
			return false;
		if (i && m->r[i - 1].base + m->r[i - 1].size == r->base &&
		    m->r[i - 1].type == r->type)
			return false;
	}
	return true;
}

/* Checks the map is exactly `want` (n entries). */
static void expect_map(const struct memmap *m, const struct mem_region *want,
		       unsigned int n, int line)
{
	unsigned int i;

	if (!map_ok(m)) {
		fprintf(stderr, "line %d: map breaks its invariants\n", line);
		unit_checks_failed_in_test++;
	}
	if (m->nr != n) {
		fprintf(stderr, "line %d: %u ranges, want %u\n", line, m->nr, n);
		unit_checks_failed_in_test++;
		return;
	}
	for (i = 0; i < n; i++) {
		if (m->r[i].base != want[i].base || m->r[i].size != want[i].size ||
		    m->r[i].type != want[i].type) {
			fprintf(stderr, "line %d: range %u is [0x%llx+0x%llx) %u, want [0x%llx+0x%llx) %u\n",
				line, i, (unsigned long long)m->r[i].base,
				(unsigned long long)m->r[i].size, m->r[i].type,
				(unsigned long long)want[i].base,
				(unsigned long long)want[i].size, want[i].type);
			unit_checks_failed_in_test++;
		}
	}
}

#define EXPECT(m, ...)                                                         \
	do {                                                                   \
		const struct mem_region _w[] = { __VA_ARGS__ };                \
		expect_map(m, _w, ARRAY_SIZE(_w), __LINE__);                   \
	} while (0)
#define R(b, s, t) { (b), (s), (t) }

static void test_empty(void)
{
	memmap_init(&map);
	CHECK_EQ(map.nr, 0);
	CHECK(map_ok(&map));
	CHECK_EQ(memmap_bytes(&map, MEM_USABLE), 0);
	CHECK_EQ(memmap_end(&map, MEM_USABLE), 0);
	memmap_align_usable(&map);
	memmap_cap(&map, 0);
	CHECK_EQ(map.nr, 0);
	memmap_print(&map);
	CHECK_EQ(strlen(unit_console()), 0);
}

static void test_zero_size_ignored(void)
{
	memmap_init(&map);
	CHECK_EQ(memmap_add(&map, 0x1000, 0, MEM_KERNEL), 0);
	CHECK_EQ(map.nr, 0);
	CHECK_EQ(memmap_add(&map, 0x1000, 0x1000, MEM_USABLE), 0);
	CHECK_EQ(memmap_add(&map, 0x1800, 0, MEM_KERNEL), 0);
	EXPECT(&map, R(0x1000, 0x1000, MEM_USABLE));
}

static void test_invalid_type(void)
{
	memmap_init(&map);
	CHECK_EQ(memmap_add(&map, 0, 0x1000, 0), -EINVAL);
	CHECK_EQ(memmap_add(&map, 0, 0x1000, MEM_TYPE_MAX), -EINVAL);
	CHECK_EQ(map.nr, 0);
}

static void test_holes_kept(void)
{
	memmap_init(&map);
	CHECK_EQ(memmap_add(&map, 0x100000, 0x100000, MEM_USABLE), 0);
	CHECK_EQ(memmap_add(&map, 0, 0x9f000, MEM_USABLE), 0);
	CHECK_EQ(memmap_add(&map, 0x300000, 0x1000, MEM_RESERVED), 0);
	EXPECT(&map, R(0, 0x9f000, MEM_USABLE),
	       R(0x100000, 0x100000, MEM_USABLE),
	       R(0x300000, 0x1000, MEM_RESERVED));
	CHECK_EQ(memmap_bytes(&map, MEM_USABLE), 0x9f000 + 0x100000);
	CHECK_EQ(memmap_end(&map, MEM_USABLE), 0x200000);
	CHECK_EQ(memmap_end(&map, MEM_RESERVED), 0x301000);
	CHECK_EQ(memmap_end(&map, MEM_KERNEL), 0);
}

static void test_adjacent_merge(void)
{
	memmap_init(&map);
	CHECK_EQ(memmap_add(&map, 0x2000, 0x1000, MEM_USABLE), 0);
	CHECK_EQ(memmap_add(&map, 0x1000, 0x1000, MEM_USABLE), 0);
	CHECK_EQ(memmap_add(&map, 0x3000, 0x1000, MEM_USABLE), 0);
	EXPECT(&map, R(0x1000, 0x3000, MEM_USABLE));
	/* a different type touching it stays separate */
	CHECK_EQ(memmap_add(&map, 0x4000, 0x1000, MEM_RESERVED), 0);
	EXPECT(&map, R(0x1000, 0x3000, MEM_USABLE),
	       R(0x4000, 0x1000, MEM_RESERVED));
	/* filling a hole between two same-typed ranges joins all three */
	CHECK_EQ(memmap_add(&map, 0x6000, 0x1000, MEM_RESERVED), 0);
	CHECK_EQ(memmap_add(&map, 0x5000, 0x1000, MEM_RESERVED), 0);
	EXPECT(&map, R(0x1000, 0x3000, MEM_USABLE),
	       R(0x4000, 0x3000, MEM_RESERVED));
}

/* Every ordered pair of types, partial overlap and containment both ways. */
static void test_overlap_precedence_all_pairs(void)
{
	u32 a, b, hi;

	for (a = MEM_USABLE; a < MEM_TYPE_MAX; a++) {
		for (b = MEM_USABLE; b < MEM_TYPE_MAX; b++) {
			hi = MAX(a, b);

			/* A [1,3) then B [2,4) (in pages) */
			memmap_init(&map);
			CHECK_EQ(memmap_add(&map, 0x1000, 0x2000, a), 0);
			CHECK_EQ(memmap_add(&map, 0x2000, 0x2000, b), 0);
			if (a == b) {
				EXPECT(&map, R(0x1000, 0x3000, a));
			} else if (hi == a) {
				EXPECT(&map, R(0x1000, 0x2000, a),
				       R(0x3000, 0x1000, b));
			} else {
				EXPECT(&map, R(0x1000, 0x1000, a),
				       R(0x2000, 0x2000, b));
			}

			/* B [2,4) inside A [1,5) */
			memmap_init(&map);
			CHECK_EQ(memmap_add(&map, 0x1000, 0x4000, a), 0);
			CHECK_EQ(memmap_add(&map, 0x2000, 0x2000, b), 0);
			if (hi == a)
				EXPECT(&map, R(0x1000, 0x4000, a));
			else
				EXPECT(&map, R(0x1000, 0x1000, a),
				       R(0x2000, 0x2000, b),
				       R(0x4000, 0x1000, a));

			/* B [1,5) over A [2,4) */
			memmap_init(&map);
			CHECK_EQ(memmap_add(&map, 0x2000, 0x2000, a), 0);
			CHECK_EQ(memmap_add(&map, 0x1000, 0x4000, b), 0);
			if (hi == b)
				EXPECT(&map, R(0x1000, 0x4000, b));
			else
				EXPECT(&map, R(0x1000, 0x1000, b),
				       R(0x2000, 0x2000, a),
				       R(0x4000, 0x1000, b));
		}
	}
}

/* One new range over several old ones and the holes between them. */
static void test_overlap_spanning_several(void)
{
	memmap_init(&map);
	CHECK_EQ(memmap_add(&map, 0x1000, 0x1000, MEM_USABLE), 0);
	CHECK_EQ(memmap_add(&map, 0x3000, 0x1000, MEM_KERNEL), 0);
	CHECK_EQ(memmap_add(&map, 0x5000, 0x1000, MEM_ACPI_NVS), 0);
	CHECK_EQ(memmap_add(&map, 0x1800, 0x5000, MEM_RESERVED), 0);
	EXPECT(&map, R(0x1000, 0x800, MEM_USABLE),
	       R(0x1800, 0x1800, MEM_RESERVED),
	       R(0x3000, 0x1000, MEM_KERNEL),
	       R(0x4000, 0x2800, MEM_RESERVED));
}

static void test_unaligned(void)
{
	memmap_init(&map);
	CHECK_EQ(memmap_add(&map, 0x1001, 0x2ffe, MEM_USABLE), 0);
	CHECK_EQ(memmap_add(&map, 0x2003, 0x5, MEM_BAD), 0);
	EXPECT(&map, R(0x1001, 0x1002, MEM_USABLE), R(0x2003, 5, MEM_BAD),
	       R(0x2008, 0x1ff7, MEM_USABLE));
	CHECK_EQ(memmap_bytes(&map, MEM_USABLE), 0x2ffe - 5);
}

static void test_wrap_around_clipped(void)
{
	memmap_init(&map);
	/* ends past 2^64: clipped at UINT64_MAX (the last byte is lost) */
	CHECK_EQ(memmap_add(&map, UINT64_MAX - 0xfff, 0x2000, MEM_RESERVED), 0);
	EXPECT(&map, R(UINT64_MAX - 0xfff, 0xfff, MEM_RESERVED));
	/* ends exactly at 2^64: same */
	memmap_init(&map);
	CHECK_EQ(memmap_add(&map, 0xfffffffffffff000ull, 0x1000, MEM_USABLE), 0);
	EXPECT(&map, R(0xfffffffffffff000ull, 0xfff, MEM_USABLE));
	/* the whole address space */
	memmap_init(&map);
	CHECK_EQ(memmap_add(&map, 0, UINT64_MAX, MEM_USABLE), 0);
	CHECK_EQ(memmap_add(&map, 0x1000, UINT64_MAX, MEM_KERNEL), 0);
	EXPECT(&map, R(0, 0x1000, MEM_USABLE),
	       R(0x1000, UINT64_MAX - 0x1000, MEM_KERNEL));
	CHECK_EQ(memmap_end(&map, MEM_KERNEL), UINT64_MAX);
	/* starting at the last byte: nothing left after clipping */
	memmap_init(&map);
	CHECK_EQ(memmap_add(&map, UINT64_MAX, 0x10, MEM_USABLE), 0);
	CHECK_EQ(map.nr, 0);
}

static void test_many_entries(void)
{
	unsigned int i;

	memmap_init(&map);
	/* added in reverse so every add inserts at the front */
	for (i = 150; i-- > 0;)
		CHECK_EQ(memmap_add(&map, (u64)i * 0x10000, 0x8000,
				    MEM_USABLE + i % 3), 0);
	CHECK_EQ(map.nr, 150);
	CHECK(map_ok(&map));
	for (i = 0; i < map.nr; i++) {
		CHECK_EQ(map.r[i].base, (u64)i * 0x10000);
		CHECK_EQ(map.r[i].type, MEM_USABLE + i % 3);
	}
}

static void fill_map(void)
{
	unsigned int i;

	memmap_init(&map);
	for (i = 0; i < MEMMAP_MAX; i++)
		CHECK_EQ(memmap_add(&map, (u64)i * 0x2000, 0x1000,
				    i % 2 ? MEM_USABLE : MEM_RESERVED), 0);
	CHECK_EQ(map.nr, MEMMAP_MAX);
	saved = map;
}

static void test_full_map_enospc_unchanged(void)
{
	fill_map();
	/* a new range past the end */
	CHECK_EQ(memmap_add(&map, 0x10000000, 0x1000, MEM_USABLE), -ENOSPC);
	CHECK(memcmp(&map, &saved, sizeof(map)) == 0);
	/* one splitting the first range */
	CHECK_EQ(memmap_add(&map, 0, 0x800, MEM_KERNEL), -ENOSPC);
	CHECK(memcmp(&map, &saved, sizeof(map)) == 0);
	/* splitting a range in the middle */
	CHECK_EQ(memmap_add(&map, 0x2400, 0x100, MEM_BAD), -ENOSPC);
	CHECK(memcmp(&map, &saved, sizeof(map)) == 0);
	/* a change that needs no new entry still works when full */
	CHECK_EQ(memmap_add(&map, 0x2000, 0x1000, MEM_BAD), 0);
	CHECK_EQ(map.nr, MEMMAP_MAX);
	CHECK_EQ(map.r[1].type, MEM_BAD);
	/* and one that merges frees entries */
	CHECK_EQ(memmap_add(&map, 0, 0x10000, MEM_KERNEL), 0);
	CHECK_EQ(map.nr, MEMMAP_MAX - 7);
	CHECK(map_ok(&map));
}

static void test_cap_splits_range(void)
{
	memmap_init(&map);
	CHECK_EQ(memmap_add(&map, 0, 0x9f000, MEM_USABLE), 0);
	CHECK_EQ(memmap_add(&map, 0x100000, 0x7ff00000, MEM_USABLE), 0);
	CHECK_EQ(memmap_add(&map, 0x80000000, 0x1000000, MEM_RESERVED), 0);
	CHECK_EQ(memmap_add(&map, 0x100000000ull, 0x40000000, MEM_USABLE), 0);
	memmap_cap(&map, 0x40000000);
	EXPECT(&map, R(0, 0x9f000, MEM_USABLE),
	       R(0x100000, 0x3ff00000, MEM_USABLE),
	       R(0x40000000, 0x40000000, MEM_CAPPED),
	       R(0x80000000, 0x1000000, MEM_RESERVED),
	       R(0x100000000ull, 0x40000000, MEM_CAPPED));
	CHECK_EQ(memmap_end(&map, MEM_USABLE), 0x40000000);
}

static void test_cap_edges(void)
{
	/* limit exactly at a range boundary: no split, capped ranges merge */
	memmap_init(&map);
	CHECK_EQ(memmap_add(&map, 0, 0x2000, MEM_USABLE), 0);
	CHECK_EQ(memmap_add(&map, 0x2000, 0x1000, MEM_CAPPED), 0);
	CHECK_EQ(memmap_add(&map, 0x3000, 0x1000, MEM_USABLE), 0);
	memmap_cap(&map, 0x2000);
	EXPECT(&map, R(0, 0x2000, MEM_USABLE), R(0x2000, 0x2000, MEM_CAPPED));
	/* limit 0 caps everything usable; other types untouched */
	memmap_init(&map);
	CHECK_EQ(memmap_add(&map, 0, 0x1000, MEM_USABLE), 0);
	CHECK_EQ(memmap_add(&map, 0x1000, 0x1000, MEM_ACPI_NVS), 0);
	memmap_cap(&map, 0);
	EXPECT(&map, R(0, 0x1000, MEM_CAPPED), R(0x1000, 0x1000, MEM_ACPI_NVS));
	/* limit above everything: nothing changes */
	memmap_init(&map);
	CHECK_EQ(memmap_add(&map, 0, 0x1000, MEM_USABLE), 0);
	memmap_cap(&map, UINT64_MAX);
	EXPECT(&map, R(0, 0x1000, MEM_USABLE));
}

static void test_cap_full_map(void)
{
	fill_map();
	/* r[1] is usable [0x2000, 0x3000): splitting it needs an entry */
	memmap_cap(&map, 0x2800);
	CHECK(map_ok(&map));
	CHECK_EQ(map.r[1].base, 0x2000);
	CHECK_EQ(map.r[1].size, 0x800);
	CHECK_EQ(map.r[1].type, MEM_USABLE);
	CHECK_EQ(memmap_bytes(&map, MEM_USABLE), 0x800);
	CHECK(unit_console_contains("map full"));
}

static void test_align_usable(void)
{
	memmap_init(&map);
	CHECK_EQ(memmap_add(&map, 0x0, 0x9fc00, MEM_USABLE), 0);
	CHECK_EQ(memmap_add(&map, 0x9fc00, 0x400, MEM_RESERVED), 0);
	CHECK_EQ(memmap_add(&map, 0x100010, 0x1ff0, MEM_USABLE), 0);
	CHECK_EQ(memmap_add(&map, 0x200800, 0x400, MEM_USABLE), 0);
	CHECK_EQ(memmap_add(&map, 0x300000, 0x2000, MEM_USABLE), 0);
	memmap_align_usable(&map);
	EXPECT(&map, R(0x0, 0x9f000, MEM_USABLE),
	       R(0x9f000, 0x1000, MEM_RESERVED),
	       R(0x100010, 0xff0, MEM_RESERVED),
	       R(0x101000, 0x1000, MEM_USABLE),
	       R(0x200800, 0x400, MEM_RESERVED),
	       R(0x300000, 0x2000, MEM_USABLE));
	CHECK_EQ(memmap_bytes(&map, MEM_USABLE), 0x9f000 + 0x1000 + 0x2000);
}

static void test_align_usable_top_of_memory(void)
{
	/* not one whole page below the clipped end: all of it reserved */
	memmap_init(&map);
	CHECK_EQ(memmap_add(&map, 0xffffffffffffe001ull, UINT64_MAX, MEM_USABLE), 0);
	memmap_align_usable(&map);
	EXPECT(&map, R(0xffffffffffffe001ull, 0x1ffe, MEM_RESERVED));
	/* one whole page, partial pages on both sides */
	memmap_init(&map);
	CHECK_EQ(memmap_add(&map, 0xffffffffffffd001ull, UINT64_MAX, MEM_USABLE), 0);
	memmap_align_usable(&map);
	EXPECT(&map, R(0xffffffffffffd001ull, 0xfff, MEM_RESERVED),
	       R(0xffffffffffffe000ull, 0x1000, MEM_USABLE),
	       R(0xfffffffffffff000ull, 0xfff, MEM_RESERVED));
	/* a base in the last page cannot be rounded up */
	memmap_init(&map);
	CHECK_EQ(memmap_add(&map, 0xfffffffffffff001ull, 0x10, MEM_USABLE), 0);
	memmap_align_usable(&map);
	EXPECT(&map, R(0xfffffffffffff001ull, 0x10, MEM_RESERVED));
}

static void test_align_usable_full_map(void)
{
	unsigned int i;

	memmap_init(&map);
	for (i = 0; i < MEMMAP_MAX; i++)
		CHECK_EQ(memmap_add(&map, (u64)i * 0x10000 + 0x10, 0x2000,
				    MEM_USABLE), 0);
	memmap_align_usable(&map);
	CHECK(map_ok(&map));
	CHECK_EQ(memmap_bytes(&map, MEM_USABLE), (u64)MEMMAP_MAX * 0x1000);
	for (i = 0; i < map.nr; i++)
		if (map.r[i].type == MEM_USABLE)
			CHECK(IS_ALIGNED(map.r[i].base | map.r[i].size, PAGE_SIZE));
	CHECK(unit_console_contains("partial pages left out"));
}

static void test_type_names(void)
{
	static const char *const want[] = {
		"usable", "capped", "acpi-reclaim", "acpi-nvs", "reserved",
		"bad", "low-memory", "boot-info", "module", "kernel",
		"hypervisor",
	};
	u32 t;

	CHECK_EQ(ARRAY_SIZE(want), MEM_TYPE_MAX - MEM_USABLE);
	for (t = MEM_USABLE; t < MEM_TYPE_MAX && t - MEM_USABLE < ARRAY_SIZE(want); t++)
		CHECK(strcmp(memmap_type_name(t), want[t - MEM_USABLE]) == 0);
	CHECK(strcmp(memmap_type_name(0), "unknown") == 0);
	CHECK(strcmp(memmap_type_name(MEM_TYPE_MAX), "unknown") == 0);
}

static void test_print(void)
{
	memmap_init(&map);
	CHECK_EQ(memmap_add(&map, 0, 0x9fc00, MEM_USABLE), 0);
	CHECK_EQ(memmap_add(&map, 0x9fc00, 0x400, MEM_RESERVED), 0);
	CHECK_EQ(memmap_add(&map, 0x100000, 0x100000, MEM_KERNEL), 0);
	CHECK_EQ(memmap_add(&map, 0x200000, 0x7fe00000, MEM_USABLE), 0);
	CHECK_EQ(memmap_add(&map, 0x100000000ull, 0x400000000ull, MEM_CAPPED), 0);
	memmap_print(&map);
	CHECK(unit_console_contains(
		"  [0x0000000000000000-0x000000000009fc00)     639 KiB usable\n"));
	CHECK(unit_console_contains(
		"  [0x000000000009fc00-0x00000000000a0000)       1 KiB reserved\n"));
	CHECK(unit_console_contains(
		"  [0x0000000000100000-0x0000000000200000)    1024 KiB kernel\n"));
	CHECK(unit_console_contains(
		"  [0x0000000000200000-0x0000000080000000)    2046 MiB usable\n"));
	CHECK(unit_console_contains(
		"  [0x0000000100000000-0x0000000500000000)      16 GiB capped\n"));
}

/*
 * Random overlays on a 64-byte address space, checked byte by byte against
 * a model that just remembers the highest type ever put on each byte.
 */
static void test_random_against_model(void)
{
	u32 model[64];
	unsigned int round, step, i, b;

	srand(12345);
	for (round = 0; round < 2000; round++) {
		memset(model, 0, sizeof(model));
		memmap_init(&map);
		for (step = 0; step < 1 + round % 12; step++) {
			u64 base = rand() % 64, size = rand() % (65 - base);
			u32 type = MEM_USABLE + rand() % (MEM_TYPE_MAX - 1);

			CHECK_EQ(memmap_add(&map, base, size, type), 0);
			for (b = base; b < base + size; b++)
				model[b] = MAX(model[b], type);
		}
		CHECK(map_ok(&map));
		for (b = 0; b < 64; b++) {
			u32 got = 0;

			for (i = 0; i < map.nr; i++)
				if (b >= map.r[i].base &&
				    b < map.r[i].base + map.r[i].size)
					got = map.r[i].type;
			if (got != model[b]) {
				CHECK_EQ(got, model[b]);
				return;
			}
		}
	}
}

/*
 * Many random adds until the map fills: every -ENOSPC must leave the map
 * exactly as it was, and align/cap must keep the invariants of a full map.
 */
static void test_random_until_full(void)
{
	unsigned int step, enospc = 0, i;
	int ret;

	srand(777);
	memmap_init(&map);
	for (step = 0; step < 4000; step++) {
		u64 base = (u64)(rand() % 8192) * 0x100 + rand() % 3;
		u64 size = (u64)(rand() % 8) * 0x80 + rand() % 2;
		u32 type = MEM_USABLE + rand() % (MEM_TYPE_MAX - 1);

		saved = map;
		ret = memmap_add(&map, base, size, type);
		if (ret == -ENOSPC) {
			enospc++;
			CHECK(memcmp(&map, &saved, sizeof(map)) == 0);
		} else {
			CHECK_EQ(ret, 0);
		}
		if (!map_ok(&map)) {
			CHECK(map_ok(&map));
			return;
		}
	}
	CHECK(enospc > 0);
	CHECK(map.nr > MEMMAP_MAX - 3);
	memmap_align_usable(&map);
	CHECK(map_ok(&map));
	for (i = 0; i < map.nr; i++)
		if (map.r[i].type == MEM_USABLE)
			CHECK(IS_ALIGNED(map.r[i].base | map.r[i].size, PAGE_SIZE));
	memmap_cap(&map, 0x40000);
	CHECK(map_ok(&map));
	CHECK(memmap_end(&map, MEM_USABLE) <= 0x40000);
}

int main(void)
{
	RUN_TEST(test_empty);
	RUN_TEST(test_zero_size_ignored);
	RUN_TEST(test_invalid_type);
	RUN_TEST(test_holes_kept);
	RUN_TEST(test_adjacent_merge);
	RUN_TEST(test_overlap_precedence_all_pairs);
	RUN_TEST(test_overlap_spanning_several);
	RUN_TEST(test_unaligned);
	RUN_TEST(test_wrap_around_clipped);
	RUN_TEST(test_many_entries);
	RUN_TEST(test_full_map_enospc_unchanged);
	RUN_TEST(test_cap_splits_range);
	RUN_TEST(test_cap_edges);
	RUN_TEST(test_cap_full_map);
	RUN_TEST(test_align_usable);
	RUN_TEST(test_align_usable_top_of_memory);
	RUN_TEST(test_align_usable_full_map);
	RUN_TEST(test_type_names);
	RUN_TEST(test_print);
	RUN_TEST(test_random_against_model);
	RUN_TEST(test_random_until_full);
	return unit_finish("memmap_test");
}
