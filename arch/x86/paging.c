/*
 * Builds and owns the host's page tables (layout in arch/x86/paging.h and
 * docs/memory.md). The tables are written by the generic walker in
 * mm/page_table.c; this file supplies the x86-64 entry format and decides
 * what is mapped where.
 */
#include "arch/x86/cpu.h"
#include "arch/x86/desc.h"
#include "arch/x86/paging.h"
#include "kernel/errno.h"
#include "kernel/printk.h"
#include "kernel/string.h"
#include "mm/frame_alloc.h"
#include "mm/page_table.h"

#define X86_PTE_P BIT(0)
#define X86_PTE_W BIT(1)
#define X86_PTE_U BIT(2)
#define X86_PTE_PWT BIT(3)
#define X86_PTE_PCD BIT(4)
#define X86_PTE_PS BIT(7)
#define X86_PTE_G BIT(8)
#define X86_PTE_NX BIT(63)

static struct pt_format host_format = {
	.name = "x86-64",
	.present = X86_PTE_P,
	.table = X86_PTE_P | X86_PTE_W, /* permissions are decided at the leaf */
	.read = X86_PTE_P,
	.write = X86_PTE_W,
	.user = X86_PTE_U,
	.large = X86_PTE_PS,
	.uncached = X86_PTE_PCD | X86_PTE_PWT,
	.addr_mask = 0x000ffffffffff000UL,
	.max_leaf_level = 1,
};

extern u8 __text_start[], __text_end[], __rodata_start[], __rodata_end[];
extern u8 __data_start[], __bss_end[];

/* Until the frame allocator runs, table pages come from a carved range. */
static u64 early_next, early_end;

static u64 host_table_alloc(void *ctx __unused)
{
	u64 phys;

	if (frame_alloc_ready()) {
		phys = frame_alloc_page(OWNER_HYPERVISOR);
		if (!phys)
			return 0;
	} else {
		if (early_next >= early_end)
			return 0;
		phys = early_next;
		early_next += PAGE_SIZE;
	}
	memset(phys_to_virt(phys), 0, PAGE_SIZE);
	return phys;
}

static void host_table_free(void *ctx __unused, u64 phys)
{
	/* The host tables only ever grow; a freed table is a bug. */
	pr_err("paging: host table page %#lx freed, leaking it\n", phys);
}

static const struct pt_alloc host_table_allocator = {
	.alloc = host_table_alloc,
	.free = host_table_free,
};

static struct page_table host_pt;
static bool final_tables;

void *phys_to_virt(u64 phys)
{
	return (void *)(DIRECT_MAP_BASE + phys);
}

u64 virt_to_phys(const void *virt)
{
	u64 va = (u64)virt;

	if (va >= DIRECT_MAP_BASE && va < DIRECT_MAP_BASE + DIRECT_MAP_SIZE)
		return va - DIRECT_MAP_BASE;
	return va; /* the image is identity-mapped */
}

static int map_image_range(u8 *start, u8 *end, u64 attrs)
{
	for (u64 va = (u64)start; va < (u64)end; va += PAGE_SIZE) {
		int err;

		if (stack_guard_of(va))
			continue; /* guard pages stay unmapped */
		err = pt_map(&host_pt, va, va, PAGE_SIZE, attrs | PT_GLOBAL, 0);
		if (err)
			return err;
	}
	return 0;
}

static bool is_direct_mapped_type(u32 type)
{
	/* RAM and what firmware keeps in RAM; not MMIO-ish "reserved" */
	return type != MEM_RESERVED && type != MEM_BAD;
}

/* Pages needed for the direct map of [0, end) plus the image, generously. */
static u64 table_pages_needed(u64 end)
{
	u64 gib = (end + GiB - 1) / GiB;

	return 16 + gib + gib / 512;
}

static int carve_early_tables(struct memmap *map, u64 pages)
{
	/* the highest usable range below 4 GiB that holds them */
	for (int i = (int)map->nr - 1; i >= 0; i--) {
		struct mem_region *r = &map->r[i];
		u64 end = MIN(r->base + r->size, 4 * GiB);
		u64 base;

		if (r->type != MEM_USABLE || end <= r->base)
			continue;
		if (end - r->base < pages * PAGE_SIZE)
			continue;
		base = ALIGN_DOWN(end - pages * PAGE_SIZE, PAGE_SIZE);
		if (base < r->base)
			continue;
		early_next = base;
		early_end = base + pages * PAGE_SIZE;
		return 0;
	}
	return -ENOMEM;
}

int paging_init(struct memmap *map)
{
	u64 end = map->nr ? map->r[map->nr - 1].base + map->r[map->nr - 1].size : 0;
	u64 early_base;
	int err;

	if (boot_cpu.nx)
		host_format.no_exec = X86_PTE_NX;
	if (boot_cpu.pge)
		host_format.global = X86_PTE_G;
	if (boot_cpu.gbpages)
		host_format.max_leaf_level = 2;

	err = carve_early_tables(map, table_pages_needed(end));
	if (err) {
		pr_err("paging: no usable memory below 4 GiB for the page tables\n");
		return err;
	}
	early_base = early_next;

	err = pt_create(&host_pt, &host_format, &host_table_allocator);
	if (!err)
		err = map_image_range(__text_start, __text_end, PT_READ | PT_EXEC);
	if (!err)
		err = map_image_range(__rodata_start, __rodata_end, PT_READ);
	if (!err)
		err = map_image_range(__data_start, __bss_end, PT_READ | PT_WRITE);
	for (unsigned int i = 0; !err && i < map->nr; i++) {
		struct mem_region *r = &map->r[i];
		u64 base = ALIGN_DOWN(r->base, PAGE_SIZE);
		u64 top = ALIGN_UP(r->base + r->size, PAGE_SIZE);

		if (!is_direct_mapped_type(r->type) || base >= DIRECT_MAP_SIZE)
			continue;
		top = MIN(top, DIRECT_MAP_SIZE);
		err = pt_map(&host_pt, DIRECT_MAP_BASE + base, base, top - base,
			     PT_READ | PT_WRITE | PT_GLOBAL, PT_LEVELS - 1);
	}
	if (err) {
		pr_err("paging: out of early table pages\n");
		return err;
	}

	/* the table pages used so far belong to the hypervisor from now on */
	memmap_add(map, early_base, early_next - early_base, MEM_HYPERVISOR);
	early_end = early_next;

	u64 cr4 = read_cr4();

	if (boot_cpu.pge)
		cr4 |= X86_CR4_PGE;
	write_cr4(cr4);
	write_cr3(host_pt.root);
	final_tables = true;
	return 0;
}

int paging_map_direct(u64 phys, u64 size, bool uncached)
{
	u64 base = ALIGN_DOWN(phys, PAGE_SIZE);
	u64 top = ALIGN_UP(phys + size, PAGE_SIZE);
	u64 attrs = PT_READ | PT_WRITE | PT_GLOBAL | (uncached ? PT_UNCACHED : 0);
	int err;

	if (!final_tables)
		return 0; /* the boot tables map the first 4 GiB already */
	if (top > DIRECT_MAP_SIZE || top < base)
		return -EINVAL;
	/* 4 KiB pages: these ranges are small and may border RAM */
	for (u64 pa = base; pa < top; pa += PAGE_SIZE) {
		u64 cur;

		if (!pt_lookup(&host_pt, DIRECT_MAP_BASE + pa, &cur, NULL, NULL))
			continue;
		err = pt_map(&host_pt, DIRECT_MAP_BASE + pa, pa, PAGE_SIZE, attrs, 0);
		if (err)
			return err;
		invlpg(DIRECT_MAP_BASE + pa);
	}
	return 0;
}

bool paging_is_mapped(u64 va)
{
	if (!final_tables)
		return va < 4 * GiB || (va >= DIRECT_MAP_BASE && va < DIRECT_MAP_BASE + 4 * GiB);
	return pt_lookup(&host_pt, va, NULL, NULL, NULL) == 0;
}

int paging_lookup(u64 va, u64 *pa, u64 *attrs)
{
	return pt_lookup(&host_pt, va, pa, NULL, attrs);
}
