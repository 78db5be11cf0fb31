/*
 * libFuzzer target for mm/bootinfo.c, and for mm/memmap.c fed with what it
 * parsed.
 *
 * The input is a small physical memory image, phys 0 .. size - 1. Its first
 * bytes double as the parameters: byte 0 bit 0 picks Multiboot1 (0) or
 * Multiboot2 (1), bit 1 passes a wrong magic instead; bytes 1..4 are the
 * info block's physical address (little-endian); bytes 5..12, if present,
 * the mem= limit given to memmap_cap(). Seeds: tests/unit/mm/bootinfo_corpus
 * (written by `bootinfo_test --write-corpus DIR`).
 *
 * Every map() call returns a fresh heap copy of exactly the bytes asked
 * for, freed at the next call, so AddressSanitizer catches both a read past
 * what was mapped and the use of a pointer from an earlier map().
 * Invariant violations end in __builtin_trap().
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -I. tests/unit/unit.c \
 *     mm/bootinfo.c mm/memmap.c tests/unit/mm/bootinfo_fuzz.c \
 *     -o build/unit/bootinfo_fuzz
 *   build/unit/bootinfo_fuzz -max_total_time=60 tests/unit/mm/bootinfo_corpus
 */
#include <stdlib.h>
#include <string.h>

#include "kernel/errno.h"
#include "mm/bootinfo.h"
#include "mm/memmap.h"
#include "tests/unit/unit.h"

#define ASSERT(cond)                                                           \
	do {                                                                   \
		if (!(cond))                                                   \
			__builtin_trap();                                      \
	} while (0)

struct image {
	const u8 *data;
	size_t size;
	void *window; /* the one live mapping */
};

static const void *fuzz_map(void *ctx, u64 phys, u64 len)
{
	struct image *img = ctx;

	free(img->window);
	img->window = NULL;
	ASSERT(len); /* bootinfo never asks for nothing */
	if (phys >= img->size || len > img->size - phys)
		return NULL;
	img->window = malloc(len);
	ASSERT(img->window);
	memcpy(img->window, img->data + phys, len);
	return img->window;
}

static u64 le(const u8 *p, unsigned int n)
{
	u64 v = 0;

	while (n--)
		v = v << 8 | p[n];
	return v;
}

static bool nul_terminated(const char *s, size_t size)
{
	return memchr(s, 0, size) != NULL;
}

static void check_bootinfo(const struct boot_info *bi, int ret)
{
	unsigned int i;

	ASSERT(ret == 0 || ret == -EINVAL || ret == -EFAULT);
	/* every failure says why */
	ASSERT(ret == 0 || unit_console()[0]);
	ASSERT(bi->nr_regions <= BOOT_MAX_REGIONS);
	ASSERT(bi->nr_modules <= BOOT_MAX_MODULES);
	ASSERT(bi->nr_reserved <= BOOT_MAX_RESERVED);
	ASSERT(nul_terminated(bi->cmdline, sizeof(bi->cmdline)));
	ASSERT(nul_terminated(bi->loader_name, sizeof(bi->loader_name)));
	ASSERT(!(bi->map_from_efi && bi->map_from_meminfo));
	ASSERT(!bi->map_truncated || bi->nr_regions == BOOT_MAX_REGIONS);
	if (ret == 0)
		ASSERT(bi->nr_regions > 0 && (bi->protocol == 1 || bi->protocol == 2));
	for (i = 0; i < bi->nr_regions; i++) {
		u32 t = bi->regions[i].type;

		ASSERT(bi->regions[i].size);
		ASSERT(t == MEM_USABLE || t == MEM_ACPI_RECLAIM ||
		       t == MEM_ACPI_NVS || t == MEM_RESERVED || t == MEM_BAD);
	}
	for (i = 0; i < bi->nr_modules; i++) {
		ASSERT(bi->modules[i].end >= bi->modules[i].start);
		ASSERT(nul_terminated(bi->modules[i].cmdline,
				      sizeof(bi->modules[i].cmdline)));
	}
	for (i = 0; i < bi->nr_reserved; i++)
		ASSERT(bi->reserved[i].size);
}

/* Sorted, disjoint, non-empty, valid types, touching same-type ranges merged. */
static void check_map(const struct memmap *m)
{
	unsigned int i;

	ASSERT(m->nr <= MEMMAP_MAX);
	for (i = 0; i < m->nr; i++) {
		const struct mem_region *r = &m->r[i];

		ASSERT(r->size);
		ASSERT(r->size <= UINT64_MAX - r->base);
		ASSERT(r->type >= MEM_USABLE && r->type < MEM_TYPE_MAX);
		if (i) {
			const struct mem_region *p = &m->r[i - 1];

			ASSERT(p->base + p->size <= r->base);
			ASSERT(p->base + p->size < r->base || p->type != r->type);
		}
	}
}

static u64 map_bytes(const struct memmap *m)
{
	u64 sum = 0;
	unsigned int i;

	for (i = 0; i < m->nr; i++)
		sum += m->r[i].size;
	return sum;
}

static u32 type_at(const struct memmap *m, u64 addr)
{
	unsigned int i;

	for (i = 0; i < m->nr; i++)
		if (addr >= m->r[i].base && addr - m->r[i].base < m->r[i].size)
			return m->r[i].type;
	return 0;
}

/* What was added, for the model check of small maps. */
#define MODEL_MAX 48
static struct mem_region added[MODEL_MAX];
static unsigned int nr_added;
static bool model_valid;

static u32 model_type_at(u64 addr)
{
	unsigned int i;
	u32 t = 0;

	for (i = 0; i < nr_added; i++)
		if (addr >= added[i].base && addr - added[i].base < added[i].size)
			t = MAX(t, added[i].type);
	return t;
}

static void model_check(const struct memmap *m)
{
	unsigned int i;

	if (!model_valid)
		return;
	for (i = 0; i < nr_added; i++) {
		u64 b = added[i].base, e = b + added[i].size;

		ASSERT(type_at(m, b) == model_type_at(b));
		ASSERT(type_at(m, e - 1) == model_type_at(e - 1));
		ASSERT(type_at(m, e) == model_type_at(e));
		if (b)
			ASSERT(type_at(m, b - 1) == model_type_at(b - 1));
	}
	for (i = 0; i < m->nr; i++) {
		ASSERT(model_type_at(m->r[i].base) == m->r[i].type);
		ASSERT(model_type_at(m->r[i].base + m->r[i].size - 1) ==
		       m->r[i].type);
	}
}

static struct memmap map, before;

static void add(u64 base, u64 size, u32 type)
{
	bool maybe_full = map.nr >= MEMMAP_MAX - 1;
	int ret;

	if (maybe_full)
		before = map;
	ret = memmap_add(&map, base, size, type);
	ASSERT(ret == 0 || ret == -ENOSPC);
	if (ret) {
		ASSERT(maybe_full);
		ASSERT(memcmp(&map, &before, sizeof(map)) == 0);
		model_valid = false;
		return;
	}
	check_map(&map);
	if (nr_added == MODEL_MAX) {
		model_valid = false;
	} else if (size) {
		/* the model clips like memmap_add() does */
		u64 end = size > UINT64_MAX - base ? UINT64_MAX : base + size;

		if (end > base) {
			added[nr_added].base = base;
			added[nr_added].size = end - base;
			added[nr_added].type = type;
			nr_added++;
		}
	}
}

static struct boot_info bi;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct image img = { data, size, NULL };
	struct phys_access pa = { fuzz_map, &img };
	u32 magic;
	u64 info, limit, total;
	unsigned int i;
	int ret;

	if (size < 5)
		return 0;
	magic = data[0] & 1 ? MULTIBOOT2_BOOTLOADER_MAGIC :
			      MULTIBOOT1_BOOTLOADER_MAGIC;
	if (data[0] & 2)
		magic ^= 0x100;
	info = le(data + 1, 4);
	limit = size >= 13 ? le(data + 5, 8) : 0;

	unit_console_clear();
	ret = bootinfo_parse(&bi, magic, info, &pa);
	free(img.window);
	check_bootinfo(&bi, ret);

	/* what mm_init() does with it */
	memmap_init(&map);
	nr_added = 0;
	model_valid = true;
	for (i = 0; i < bi.nr_regions; i++)
		add(bi.regions[i].base, bi.regions[i].size, bi.regions[i].type);
	add(0, MiB, MEM_LOW_MEMORY);
	for (i = 0; i < bi.nr_reserved; i++)
		add(bi.reserved[i].base, bi.reserved[i].size, MEM_BOOT_INFO);
	for (i = 0; i < bi.nr_modules; i++)
		add(bi.modules[i].start, bi.modules[i].end - bi.modules[i].start,
		    MEM_MODULE);
	model_check(&map);

	unit_console_clear();
	total = map_bytes(&map);
	memmap_align_usable(&map);
	check_map(&map);
	for (i = 0; i < map.nr; i++)
		if (map.r[i].type == MEM_USABLE)
			ASSERT(IS_ALIGNED(map.r[i].base | map.r[i].size, PAGE_SIZE));
	if (!unit_console_contains("map full"))
		ASSERT(map_bytes(&map) == total);

	total = map_bytes(&map);
	memmap_cap(&map, limit);
	check_map(&map);
	ASSERT(memmap_end(&map, MEM_USABLE) <= limit);
	if (!unit_console_contains("map full"))
		ASSERT(map_bytes(&map) == total);

	memmap_print(&map);
	return 0;
}
