/*
 * Host unit tests for mm/bootinfo.c. A 1 MiB buffer stands for low physical
 * memory; Multiboot1 and Multiboot2 info blocks are built in it and parsed
 * through a phys_access that maps only what lies inside the buffer.
 *
 * `bootinfo_test --write-corpus DIR` instead writes the fuzzer's seed
 * inputs (a valid MB1 and MB2 image, laid out by the same builders) to DIR;
 * see tests/unit/mm/bootinfo_fuzz.c for the input format.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/errno.h"
#include "mm/bootinfo.h"
#include "tests/unit/unit.h"

#define MEM_SIZE (1u << 20)

static u8 mem[MEM_SIZE];
static u32 mem_end = MEM_SIZE; /* what buf_map() lets be read */
static struct boot_info bi;

static const void *buf_map(void *ctx, u64 phys, u64 len)
{
	(void)ctx;
	if (phys >= mem_end || len > mem_end - phys)
		return NULL;
	return mem + phys;
}

static const struct phys_access pa = { buf_map, NULL };

/* Where the builders put things; the corpus writer packs them tighter. */
static u32 info_at = 0x10000, mmap_at = 0x11000, mods_at = 0x18000,
	   str_at = 0x19000;
static u32 str_next, mmap_len;

static void put32(u64 phys, u32 v)
{
	memcpy(mem + phys, &v, 4);
}

static void put64(u64 phys, u64 v)
{
	memcpy(mem + phys, &v, 8);
}

static u32 get32(u64 phys)
{
	u32 v;

	memcpy(&v, mem + phys, 4);
	return v;
}

/* Copies a string (with its NUL) to the string area; returns its address. */
static u32 put_str(const char *s)
{
	u32 at = str_next;

	memcpy(mem + at, s, strlen(s) + 1);
	str_next += strlen(s) + 1;
	return at;
}

static bool has_region(u64 base, u64 size, u32 type)
{
	unsigned int i;

	for (i = 0; i < bi.nr_regions; i++)
		if (bi.regions[i].base == base && bi.regions[i].size == size &&
		    bi.regions[i].type == type)
			return true;
	return false;
}

static bool has_reserved(u64 base, u64 size)
{
	unsigned int i;

	for (i = 0; i < bi.nr_reserved; i++)
		if (bi.reserved[i].base == base && bi.reserved[i].size == size)
			return true;
	return false;
}

static int parse1(void)
{
	return bootinfo_parse(&bi, MULTIBOOT1_BOOTLOADER_MAGIC, info_at, &pa);
}

static int parse2(void)
{
	return bootinfo_parse(&bi, MULTIBOOT2_BOOTLOADER_MAGIC, info_at, &pa);
}

/* ---- Multiboot1 builders ---- */

static void mb1_begin(u32 flags)
{
	memset(mem, 0, sizeof(mem));
	str_next = str_at;
	mmap_len = 0;
	put32(info_at, flags);
}

static void mb1_flags(u32 set)
{
	put32(info_at, get32(info_at) | set);
}

/* Appends an entry whose `size` field is `size` (20 for a normal one). */
static void mb1_entry_sized(u64 base, u64 len, u32 type, u32 size)
{
	u32 at = mmap_at + mmap_len;

	put32(at, size);
	put64(at + 4, base);
	put64(at + 12, len);
	put32(at + 20, type);
	mmap_len += size + 4;
	mb1_flags(BIT(6));
	put32(info_at + 44, mmap_len);
	put32(info_at + 48, mmap_at);
}

static void mb1_entry(u64 base, u64 len, u32 type)
{
	mb1_entry_sized(base, len, type, 20);
}

static void mb1_meminfo(u32 lower, u32 upper)
{
	mb1_flags(BIT(0));
	put32(info_at + 4, lower);
	put32(info_at + 8, upper);
}

static void mb1_cmdline(const char *s)
{
	mb1_flags(BIT(2));
	put32(info_at + 16, put_str(s));
}

static void mb1_loader_name(const char *s)
{
	mb1_flags(BIT(9));
	put32(info_at + 64, put_str(s));
}

static void mb1_module(u32 start, u32 end, const char *s)
{
	u32 n = (get32(info_at) & BIT(3)) ? get32(info_at + 20) : 0;
	u32 at = mods_at + n * 16;

	put32(at, start);
	put32(at + 4, end);
	put32(at + 8, s ? put_str(s) : 0);
	put32(at + 12, 0);
	mb1_flags(BIT(3));
	put32(info_at + 20, n + 1);
	put32(info_at + 24, mods_at);
}

/* A typical BIOS map, with every E820 type once. */
static void mb1_typical(void)
{
	mb1_begin(0);
	mb1_meminfo(639, 0x7fe00);
	mb1_entry(0, 0x9fc00, 1);
	mb1_entry(0x9fc00, 0x400, 2);
	mb1_entry(0xf0000, 0x10000, 2);
	mb1_entry(0x100000, 0x7fee0000, 1);
	mb1_entry(0x7ffe0000, 0x10000, 3);
	mb1_entry(0x7fff0000, 0x8000, 4);
	mb1_entry(0x7fff8000, 0x8000, 5);
	mb1_entry(0xfffc0000, 0x40000, 0x1234);
	mb1_cmdline("console=com1 mem=1G");
	mb1_loader_name("GRUB 0.97");
	mb1_module(0x200000, 0x280000, "guest.bin root=/dev/vda");
	mb1_module(0x300000, 0x300000, "empty");
}

static void test_mb1_typical(void)
{
	mb1_typical();
	CHECK_EQ(parse1(), 0);
	CHECK_EQ(bi.protocol, 1);
	CHECK_EQ(bi.nr_regions, 8);
	CHECK(has_region(0, 0x9fc00, MEM_USABLE));
	CHECK(has_region(0x9fc00, 0x400, MEM_RESERVED));
	CHECK(has_region(0x100000, 0x7fee0000, MEM_USABLE));
	CHECK(has_region(0x7ffe0000, 0x10000, MEM_ACPI_RECLAIM));
	CHECK(has_region(0x7fff0000, 0x8000, MEM_ACPI_NVS));
	CHECK(has_region(0x7fff8000, 0x8000, MEM_BAD));
	CHECK(has_region(0xfffc0000, 0x40000, MEM_RESERVED));
	CHECK(!bi.map_from_meminfo && !bi.map_from_efi && !bi.map_truncated);
	CHECK(strcmp(bi.cmdline, "console=com1 mem=1G") == 0);
	CHECK(strcmp(bi.loader_name, "GRUB 0.97") == 0);
	CHECK_EQ(bi.nr_modules, 2);
	CHECK_EQ(bi.modules[0].start, 0x200000);
	CHECK_EQ(bi.modules[0].end, 0x280000);
	CHECK(strcmp(bi.modules[0].cmdline, "guest.bin root=/dev/vda") == 0);
	CHECK_EQ(bi.modules[1].start, 0x300000);
	CHECK_EQ(bi.modules[1].end, 0x300000);
	CHECK(strcmp(bi.modules[1].cmdline, "empty") == 0);
	/* info, mmap, mods array, and all four strings */
	CHECK_EQ(bi.nr_reserved, 7);
	CHECK(has_reserved(info_at, 116));
	CHECK(has_reserved(mmap_at, 8 * 24));
	CHECK(has_reserved(mods_at, 2 * 16));
	CHECK(has_reserved(get32(info_at + 16), strlen(bi.cmdline) + 1));
	CHECK(has_reserved(get32(info_at + 64), strlen(bi.loader_name) + 1));
	CHECK(has_reserved(get32(mods_at + 8), strlen(bi.modules[0].cmdline) + 1));
	CHECK_EQ(bi.acpi_rsdp, 0);
}

/* The size field can be larger than 20: the next entry is size + 4 on. */
static void test_mb1_larger_entries(void)
{
	mb1_begin(0);
	mb1_entry_sized(0, 0x9f000, 1, 28);
	mb1_entry_sized(0x100000, 0x100000, 1, 20);
	CHECK_EQ(parse1(), 0);
	CHECK_EQ(bi.nr_regions, 2);
	CHECK(has_region(0x100000, 0x100000, MEM_USABLE));
}

static void test_mb1_many_entries(void)
{
	unsigned int i;

	mb1_begin(0);
	for (i = 0; i < 150; i++)
		mb1_entry((u64)i * 0x200000, 0x100000, 1 + i % 2);
	CHECK_EQ(parse1(), 0);
	CHECK_EQ(bi.nr_regions, 150);
	CHECK(!bi.map_truncated);
	CHECK(has_region(149ull * 0x200000, 0x100000, MEM_RESERVED));
}

static void test_mb1_truncated(void)
{
	unsigned int i;

	mb1_begin(0);
	for (i = 0; i < BOOT_MAX_REGIONS + 44; i++)
		mb1_entry((u64)i * 0x200000, 0x100000, 1);
	CHECK_EQ(parse1(), 0);
	CHECK_EQ(bi.nr_regions, BOOT_MAX_REGIONS);
	CHECK(bi.map_truncated);
	CHECK(has_region((u64)(BOOT_MAX_REGIONS - 1) * 0x200000, 0x100000,
			 MEM_USABLE));
	CHECK(unit_console_contains("44 entries beyond the first 256 ignored"));
}

/* Entries that continue each other with the same type are merged. */
static void test_mb1_adjacent_entries_merged(void)
{
	mb1_begin(0);
	mb1_entry(0x100000, 0x100000, 1);
	mb1_entry(0x200000, 0x100000, 1);
	mb1_entry(0x300000, 0x100000, 2);
	CHECK_EQ(parse1(), 0);
	CHECK_EQ(bi.nr_regions, 2);
	CHECK(has_region(0x100000, 0x200000, MEM_USABLE));
}

static void test_mb1_meminfo_fallback(void)
{
	mb1_begin(0);
	mb1_meminfo(639, 130048);
	CHECK_EQ(parse1(), 0);
	CHECK(bi.map_from_meminfo);
	CHECK_EQ(bi.nr_regions, 2);
	CHECK(has_region(0, 639 * 1024, MEM_USABLE));
	CHECK(has_region(0x100000, 130048ull * 1024, MEM_USABLE));
	/* and a lying mem_lower is clamped */
	mb1_begin(0);
	mb1_meminfo(100000, 1024);
	CHECK_EQ(parse1(), 0);
	CHECK(has_region(0, 640 * 1024, MEM_USABLE));
	CHECK(unit_console_contains("clamped"));
}

static void test_mb1_empty_mmap_falls_back(void)
{
	mb1_begin(0);
	mb1_meminfo(639, 1024);
	mb1_flags(BIT(6)); /* mmap_length 0 */
	CHECK_EQ(parse1(), 0);
	CHECK(bi.map_from_meminfo);
	CHECK(unit_console_contains("memory map is empty"));
}

static void test_mb1_no_map(void)
{
	mb1_begin(0);
	mb1_cmdline("x");
	CHECK_EQ(parse1(), -EINVAL);
	CHECK(unit_console_contains("multiboot1: no memory map"));
	/* an mmap of only zero-length entries is no map either */
	mb1_begin(0);
	mb1_entry(0x1000, 0, 1);
	CHECK_EQ(parse1(), -EINVAL);
	CHECK(unit_console_contains("multiboot1: no memory map"));
}

static void test_mb1_entry_size_too_small(void)
{
	mb1_begin(0);
	mb1_entry(0, 0x9f000, 1);
	mb1_entry_sized(0x100000, 0x100000, 1, 16);
	CHECK_EQ(parse1(), -EINVAL);
	CHECK(unit_console_contains(
		"multiboot1: memory map entry at offset 0x18 has size 16, less than 20"));
	mb1_begin(0);
	mb1_entry_sized(0, 0x9f000, 1, 0);
	CHECK_EQ(parse1(), -EINVAL);
	CHECK(unit_console_contains("has size 0, less than 20"));
}

static void test_mb1_entry_crosses_end(void)
{
	/* the length ends inside the second entry */
	mb1_begin(0);
	mb1_entry(0, 0x9f000, 1);
	mb1_entry(0x100000, 0x100000, 1);
	put32(info_at + 44, 24 + 10);
	CHECK_EQ(parse1(), -EINVAL);
	CHECK(unit_console_contains("multiboot1: memory map entry at offset 0x18 (size 20) crosses the end"));
	/* 2 stray bytes: not even room for a size field */
	put32(info_at + 44, 24 + 2);
	CHECK_EQ(parse1(), -EINVAL);
	CHECK(unit_console_contains("entry at offset 0x18 crosses the end"));
	/* a huge size field */
	mb1_begin(0);
	mb1_entry_sized(0, 0x9f000, 1, 0xffffffff);
	put32(info_at + 44, 24);
	CHECK_EQ(parse1(), -EINVAL);
	CHECK(unit_console_contains("crosses the end"));
}

static void test_mb1_mmap_outside_memory(void)
{
	mb1_begin(0);
	mb1_entry(0, 0x9f000, 1);
	put32(info_at + 48, MEM_SIZE - 8);
	CHECK_EQ(parse1(), -EFAULT);
	CHECK(unit_console_contains("multiboot1: memory map at 0xffff8 (0x18 bytes) is not readable"));
	put32(info_at + 48, 0xfffffff0);
	CHECK_EQ(parse1(), -EFAULT);
	/* a length so big it is refused before anything is mapped */
	put32(info_at + 48, mmap_at);
	put32(info_at + 44, 0x80000000);
	CHECK_EQ(parse1(), -EINVAL);
	CHECK(unit_console_contains("mmap_length 0x80000000 is larger than 1 MiB"));
}

static void test_mb1_info_outside_memory(void)
{
	memset(mem, 0, sizeof(mem));
	CHECK_EQ(bootinfo_parse(&bi, MULTIBOOT1_BOOTLOADER_MAGIC, MEM_SIZE, &pa),
		 -EFAULT);
	CHECK(unit_console_contains("multiboot1: info structure at 0x100000 is not readable"));
	/* flags readable, the fields they announce are not */
	put32(MEM_SIZE - 4, BIT(6));
	CHECK_EQ(bootinfo_parse(&bi, MULTIBOOT1_BOOTLOADER_MAGIC, MEM_SIZE - 4, &pa),
		 -EFAULT);
	CHECK_EQ(bootinfo_parse(&bi, MULTIBOOT1_BOOTLOADER_MAGIC, UINT64_MAX - 1, &pa),
		 -EFAULT);
}

static void test_mb1_mod_end_before_start(void)
{
	mb1_typical();
	mb1_module(0x500000, 0x4fffff, "bad");
	CHECK_EQ(parse1(), -EINVAL);
	CHECK(unit_console_contains("multiboot1: module 2 ends at 0x4fffff, before its start 0x500000"));
	/* what came before the problem was kept */
	CHECK_EQ(bi.nr_modules, 2);
}

static void test_mb1_mods_outside_memory(void)
{
	mb1_typical();
	put32(info_at + 24, MEM_SIZE - 16);
	CHECK_EQ(parse1(), -EFAULT);
	CHECK(unit_console_contains("multiboot1: module 1 entry at 0x100000 is not readable"));
}

static void test_mb1_too_many_modules(void)
{
	unsigned int i;

	mb1_typical();
	for (i = 2; i < BOOT_MAX_MODULES + 4; i++)
		mb1_module(0x400000 + i * 0x1000, 0x400000 + i * 0x1000 + 0x800,
			   i % 2 ? "odd" : NULL);
	CHECK_EQ(parse1(), 0);
	CHECK_EQ(bi.nr_modules, BOOT_MAX_MODULES);
	CHECK(strcmp(bi.modules[3].cmdline, "odd") == 0);
	CHECK(strcmp(bi.modules[2].cmdline, "") == 0);
	CHECK(has_reserved(mods_at, BOOT_MAX_MODULES * 16));
	CHECK(unit_console_contains("multiboot1: 20 modules, only the first 16 are used"));
}

/* A command line running into the end of memory without its NUL. */
static void test_mb1_string_without_nul(void)
{
	mb1_typical();
	memset(mem + MEM_SIZE - 10, 'x', 10);
	put32(info_at + 16, MEM_SIZE - 10);
	CHECK_EQ(parse1(), -EFAULT);
	CHECK(unit_console_contains("multiboot1: command line at 0xffff6 is not readable at 0x100000, before its terminating NUL"));
	/* same for a module string */
	mb1_typical();
	put32(mods_at + 16 + 8, MEM_SIZE - 10);
	memset(mem + MEM_SIZE - 10, 'y', 10);
	CHECK_EQ(parse1(), -EFAULT);
	CHECK(unit_console_contains("multiboot1: module string at 0xffff6 is not readable"));
}

/* A string longer than the buffer is truncated, not read further. */
static void test_mb1_long_strings_truncated(void)
{
	mb1_typical();
	memset(mem + 0x40000, 'c', 5000);
	put32(info_at + 16, 0x40000);
	memset(mem + 0x50000, 'n', 200);
	put32(info_at + 64, 0x50000);
	CHECK_EQ(parse1(), 0);
	CHECK_EQ(strlen(bi.cmdline), BOOT_CMDLINE_MAX - 1);
	CHECK_EQ(strlen(bi.loader_name), BOOT_LOADER_NAME_MAX - 1);
	CHECK(unit_console_contains("multiboot1: command line at 0x40000 is longer than 1023 bytes, truncated"));
	CHECK(unit_console_contains("boot loader name at 0x50000 is longer than 63 bytes"));
}

static void test_bad_magic(void)
{
	mb1_typical();
	CHECK_EQ(bootinfo_parse(&bi, 0x12345678, info_at, &pa), -EINVAL);
	CHECK(unit_console_contains("unknown boot loader magic 0x12345678"));
	CHECK_EQ(bi.nr_regions, 0);
}

static const void *map_nothing(void *ctx, u64 phys, u64 len)
{
	(void)ctx;
	(void)phys;
	(void)len;
	return NULL;
}

static void test_unreadable_memory(void)
{
	static const struct phys_access none = { map_nothing, NULL };
	static const struct phys_access no_fn = { NULL, NULL };

	CHECK_EQ(bootinfo_parse(&bi, MULTIBOOT1_BOOTLOADER_MAGIC, 0x1000, &none), -EFAULT);
	CHECK_EQ(bootinfo_parse(&bi, MULTIBOOT2_BOOTLOADER_MAGIC, 0x1000, &none), -EFAULT);
	CHECK(unit_console_contains("multiboot2: info block at 0x1000 is not readable"));
	CHECK_EQ(bootinfo_parse(&bi, MULTIBOOT2_BOOTLOADER_MAGIC, 0x1000, &no_fn), -EINVAL);
	CHECK_EQ(bootinfo_parse(&bi, MULTIBOOT2_BOOTLOADER_MAGIC, 0x1000, NULL), -EINVAL);
}

/* ---- Multiboot2 builders ---- */

static u32 mb2_len; /* bytes written so far, from info_at */

static void mb2_begin(void)
{
	memset(mem, 0, sizeof(mem));
	mb2_len = 8;
}

/* Appends a tag; returns its offset in the info block. */
static u32 mb2_tag(u32 type, const void *payload, u32 len)
{
	u32 off = mb2_len;

	put32(info_at + off, type);
	put32(info_at + off + 4, 8 + len);
	if (len)
		memcpy(mem + info_at + off + 8, payload, len);
	mb2_len += ALIGN_UP(8 + len, 8);
	put32(info_at, mb2_len);
	return off;
}

static void mb2_end(void)
{
	mb2_tag(0, NULL, 0);
}

static u32 mb2_string_tag(u32 type, const char *s)
{
	return mb2_tag(type, s, strlen(s) + 1);
}

static u32 mb2_module(u32 start, u32 end, const char *s)
{
	static u8 p[8192];

	memcpy(p, &start, 4);
	memcpy(p + 4, &end, 4);
	memcpy(p + 8, s, strlen(s) + 1);
	return mb2_tag(3, p, 8 + strlen(s) + 1);
}

static void mb2_meminfo(u32 lower, u32 upper)
{
	u32 p[2] = { lower, upper };

	mb2_tag(4, p, 8);
}

struct e820 {
	u64 base, len;
	u32 type;
};

/* A tag 6 with `n` entries of `entry_size` bytes each. */
static u32 mb2_mmap(const struct e820 *e, unsigned int n, u32 entry_size)
{
	static u8 p[64 * 1024];
	unsigned int i;
	u32 version = 0;

	memset(p, 0, sizeof(p));
	memcpy(p, &entry_size, 4);
	memcpy(p + 4, &version, 4);
	for (i = 0; i < n; i++) {
		u8 *q = p + 8 + i * entry_size;

		memcpy(q, &e[i].base, 8);
		memcpy(q + 8, &e[i].len, 8);
		memcpy(q + 16, &e[i].type, 4);
	}
	return mb2_tag(6, p, 8 + n * entry_size);
}

struct efi_desc {
	u32 type;
	u64 start, pages;
};

static u32 mb2_efi_mmap(const struct efi_desc *d, unsigned int n, u32 desc_size)
{
	static u8 p[64 * 1024];
	unsigned int i;
	u32 version = 1;

	memset(p, 0, sizeof(p));
	memcpy(p, &desc_size, 4);
	memcpy(p + 4, &version, 4);
	for (i = 0; i < n; i++) {
		u8 *q = p + 8 + i * desc_size;
		u64 attr = 0xf;

		memcpy(q, &d[i].type, 4);
		memcpy(q + 8, &d[i].start, 8);
		memcpy(q + 16, &d[i].start, 8); /* VirtualStart */
		memcpy(q + 24, &d[i].pages, 8);
		memcpy(q + 32, &attr, 8);
	}
	return mb2_tag(17, p, 8 + n * desc_size);
}

static const struct e820 typical_e820[] = {
	{ 0, 0x9fc00, 1 },
	{ 0x9fc00, 0x400, 2 },
	{ 0x100000, 0x7fee0000, 1 },
	{ 0x7ffe0000, 0x10000, 3 },
	{ 0x7fff0000, 0x10000, 4 },
	{ 0x100000000ull, 0x80000000ull, 1 },
	{ 0xfee00000, 0x1000, 7 },
	{ 0x180000000ull, 0x1000, 5 },
};

static u32 rsdp_tag_off;

static void mb2_typical(void)
{
	u8 rsdp[36] = "RSD PTR ";

	mb2_begin();
	mb2_string_tag(1, "console=com1");
	mb2_string_tag(2, "GRUB 2.06");
	mb2_module(0x200000, 0x280000, "guest.bin quiet");
	mb2_module(0x300000, 0x301000, "");
	mb2_meminfo(639, 0x7fe00);
	mb2_mmap(typical_e820, ARRAY_SIZE(typical_e820), 24);
	rsdp_tag_off = mb2_tag(15, rsdp, sizeof(rsdp));
	mb2_tag(8, "framebuffer, ignored", 21);
	mb2_end();
}

static void test_mb2_typical(void)
{
	mb2_typical();
	CHECK_EQ(parse2(), 0);
	CHECK_EQ(bi.protocol, 2);
	CHECK(strcmp(bi.cmdline, "console=com1") == 0);
	CHECK(strcmp(bi.loader_name, "GRUB 2.06") == 0);
	CHECK_EQ(bi.nr_modules, 2);
	CHECK_EQ(bi.modules[0].start, 0x200000);
	CHECK_EQ(bi.modules[0].end, 0x280000);
	CHECK(strcmp(bi.modules[0].cmdline, "guest.bin quiet") == 0);
	CHECK(strcmp(bi.modules[1].cmdline, "") == 0);
	CHECK_EQ(bi.nr_regions, ARRAY_SIZE(typical_e820));
	CHECK(has_region(0, 0x9fc00, MEM_USABLE));
	CHECK(has_region(0x9fc00, 0x400, MEM_RESERVED));
	CHECK(has_region(0x7ffe0000, 0x10000, MEM_ACPI_RECLAIM));
	CHECK(has_region(0x7fff0000, 0x10000, MEM_ACPI_NVS));
	CHECK(has_region(0x100000000ull, 0x80000000ull, MEM_USABLE));
	CHECK(has_region(0xfee00000, 0x1000, MEM_RESERVED));
	CHECK(has_region(0x180000000ull, 0x1000, MEM_BAD));
	CHECK(!bi.map_from_efi && !bi.map_from_meminfo && !bi.map_truncated);
	CHECK_EQ(bi.acpi_rsdp, info_at + rsdp_tag_off + 8);
	CHECK_EQ(bi.nr_reserved, 1);
	CHECK(has_reserved(info_at, mb2_len));
}

/* The old RSDP is used only when there is no new one. */
static void test_mb2_acpi_rsdp(void)
{
	u8 rsdp1[20] = "RSD PTR ", rsdp2[36] = "RSD PTR ";
	u32 old_off, new_off;

	mb2_begin();
	mb2_meminfo(639, 1024);
	old_off = mb2_tag(14, rsdp1, sizeof(rsdp1));
	mb2_end();
	CHECK_EQ(parse2(), 0);
	CHECK_EQ(bi.acpi_rsdp, info_at + old_off + 8);

	mb2_begin();
	mb2_meminfo(639, 1024);
	new_off = mb2_tag(15, rsdp2, sizeof(rsdp2));
	old_off = mb2_tag(14, rsdp1, sizeof(rsdp1));
	mb2_end();
	CHECK_EQ(parse2(), 0);
	CHECK_EQ(bi.acpi_rsdp, info_at + new_off + 8);

	/* too short for an RSDP */
	mb2_begin();
	mb2_meminfo(639, 1024);
	mb2_tag(15, rsdp1, sizeof(rsdp1));
	mb2_end();
	CHECK_EQ(parse2(), -EINVAL);
	CHECK(unit_console_contains("multiboot2: tag 15 (ACPI new RSDP) at offset 0x18 has size 28, less than the 44 its fields need"));
}

static void test_mb2_many_entries(void)
{
	static struct e820 e[150];
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(e); i++)
		e[i] = (struct e820){ (u64)i * 0x200000, 0x100000, 1 + i % 5 };
	mb2_begin();
	mb2_mmap(e, ARRAY_SIZE(e), 24);
	mb2_end();
	CHECK_EQ(parse2(), 0);
	CHECK_EQ(bi.nr_regions, 150);
	CHECK(has_region(149ull * 0x200000, 0x100000, MEM_BAD));
	CHECK(!bi.map_truncated);
}

static void test_mb2_truncated(void)
{
	static struct e820 e[BOOT_MAX_REGIONS + 10];
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(e); i++)
		e[i] = (struct e820){ (u64)i * 0x200000, 0x100000, 1 };
	mb2_begin();
	mb2_mmap(e, ARRAY_SIZE(e), 32); /* larger entries are stepped over */
	mb2_end();
	CHECK_EQ(parse2(), 0);
	CHECK_EQ(bi.nr_regions, BOOT_MAX_REGIONS);
	CHECK(bi.map_truncated);
	CHECK(has_region(255ull * 0x200000, 0x100000, MEM_USABLE));
	CHECK(unit_console_contains("multiboot2: memory map truncated: 10 entries beyond the first 256 ignored"));
}

static const struct efi_desc typical_efi[] = {
	{ 3, 0, 1 }, /* boot services code */
	{ 7, 0x1000, 0x9e }, /* conventional: merges with the above */
	{ 6, 0x9f000, 1 }, /* runtime services data: reserved */
	{ 1, 0x100000, 0x100 }, /* loader code */
	{ 2, 0x200000, 0x100 }, /* loader data */
	{ 4, 0x300000, 0x7fc00 }, /* boot services data */
	{ 9, 0x7ff00000, 0x10 }, /* ACPI reclaim */
	{ 10, 0x7ff10000, 0x10 }, /* ACPI NVS */
	{ 8, 0x7ff20000, 0x10 }, /* unusable */
	{ 11, 0xfec00000, 1 }, /* MMIO */
	{ 0, 0x7ff30000, 0x10 }, /* reserved */
	{ 7, 0x100000000ull, 0x80000 },
};

static void test_mb2_efi_map_alone(void)
{
	mb2_begin();
	mb2_string_tag(1, "efi");
	mb2_efi_mmap(typical_efi, ARRAY_SIZE(typical_efi), 48);
	mb2_end();
	CHECK_EQ(parse2(), 0);
	CHECK(bi.map_from_efi);
	CHECK(!bi.map_from_meminfo);
	CHECK_EQ(bi.nr_regions, 9);
	CHECK(has_region(0, 0x9f000, MEM_USABLE));
	CHECK(has_region(0x9f000, 0x1000, MEM_RESERVED));
	CHECK(has_region(0x100000, 0x7fe00000, MEM_USABLE));
	CHECK(has_region(0x7ff00000, 0x10000, MEM_ACPI_RECLAIM));
	CHECK(has_region(0x7ff10000, 0x10000, MEM_ACPI_NVS));
	CHECK(has_region(0x7ff20000, 0x10000, MEM_BAD));
	CHECK(has_region(0xfec00000, 0x1000, MEM_RESERVED));
	CHECK(has_region(0x7ff30000, 0x10000, MEM_RESERVED));
	CHECK(has_region(0x100000000ull, 0x80000000ull, MEM_USABLE));
}

/* Tag 6 wins over the EFI map, which wins over basic meminfo. */
static void test_mb2_map_preference(void)
{
	mb2_begin();
	mb2_meminfo(639, 1024);
	mb2_efi_mmap(typical_efi, ARRAY_SIZE(typical_efi), 40);
	mb2_mmap(typical_e820, 2, 24);
	mb2_end();
	CHECK_EQ(parse2(), 0);
	CHECK(!bi.map_from_efi && !bi.map_from_meminfo);
	CHECK_EQ(bi.nr_regions, 2);

	mb2_begin();
	mb2_meminfo(639, 1024);
	mb2_efi_mmap(typical_efi, 2, 40);
	mb2_end();
	CHECK_EQ(parse2(), 0);
	CHECK(bi.map_from_efi && !bi.map_from_meminfo);
	CHECK_EQ(bi.nr_regions, 1);
}

static void test_mb2_meminfo_fallback(void)
{
	mb2_begin();
	mb2_meminfo(639, 2048);
	mb2_end();
	CHECK_EQ(parse2(), 0);
	CHECK(bi.map_from_meminfo && !bi.map_from_efi);
	CHECK_EQ(bi.nr_regions, 2);
	CHECK(has_region(0, 639 * 1024, MEM_USABLE));
	CHECK(has_region(0x100000, 2 * MiB, MEM_USABLE));
	/* an empty tag 6 is no map either */
	mb2_begin();
	mb2_mmap(NULL, 0, 24);
	mb2_meminfo(639, 2048);
	mb2_end();
	CHECK_EQ(parse2(), 0);
	CHECK(bi.map_from_meminfo);
	CHECK(unit_console_contains("memory map tag is empty"));
}

static void test_mb2_no_map(void)
{
	mb2_begin();
	mb2_string_tag(1, "nothing else");
	mb2_end();
	CHECK_EQ(parse2(), -EINVAL);
	CHECK(unit_console_contains("multiboot2: no memory map"));
	CHECK(strcmp(bi.cmdline, "nothing else") == 0);
}

static void test_mb2_total_size_bad(void)
{
	mb2_begin();
	mb2_end();
	put32(info_at, 8);
	CHECK_EQ(parse2(), -EINVAL);
	CHECK(unit_console_contains("multiboot2: total_size 8 is too small"));
	put32(info_at, 0);
	CHECK_EQ(parse2(), -EINVAL);
	put32(info_at, 2 * MEM_SIZE);
	CHECK_EQ(parse2(), -EINVAL);
	CHECK(unit_console_contains("multiboot2: total_size 2097152 is larger than 1 MiB"));
	put32(info_at, 0xffffffff);
	CHECK_EQ(parse2(), -EINVAL);
	/* plausible, but runs past the end of memory */
	put32(info_at, MEM_SIZE - info_at + 8);
	CHECK_EQ(parse2(), -EFAULT);
	CHECK(unit_console_contains("is not readable"));
}

static void test_mb2_info_misplaced(void)
{
	mb2_typical();
	CHECK_EQ(bootinfo_parse(&bi, MULTIBOOT2_BOOTLOADER_MAGIC, info_at + 4, &pa),
		 -EINVAL);
	CHECK(unit_console_contains("not 8-byte aligned"));
	CHECK_EQ(bootinfo_parse(&bi, MULTIBOOT2_BOOTLOADER_MAGIC, MEM_SIZE - 8, &pa),
		 -EINVAL);
	CHECK_EQ(bootinfo_parse(&bi, MULTIBOOT2_BOOTLOADER_MAGIC, 0xfffffffffffffff8ull,
				&pa), -EFAULT);
}

static void test_mb2_tag_past_end(void)
{
	u32 off;

	mb2_begin();
	mb2_meminfo(639, 1024);
	off = mb2_string_tag(1, "console=com1");
	mb2_end();
	put32(info_at + off + 4, 0x100);
	CHECK_EQ(parse2(), -EINVAL);
	CHECK(unit_console_contains("multiboot2: tag 1 at offset 0x18 has size 256, running past the end of the info block (total_size 56)"));
	/* an end tag longer than what is left */
	mb2_begin();
	mb2_meminfo(639, 1024);
	mb2_end();
	put32(info_at + 0x18 + 4, 16);
	CHECK_EQ(parse2(), -EINVAL);
	CHECK(unit_console_contains("multiboot2: tag 0 at offset 0x18 has size 16, running past the end"));
}

static void test_mb2_no_end_tag(void)
{
	mb2_begin();
	mb2_meminfo(639, 1024);
	mb2_string_tag(1, "abc");
	CHECK_EQ(parse2(), -EINVAL);
	CHECK(unit_console_contains("multiboot2: no end tag within total_size 40"));
}

static void test_mb2_zero_size_tag(void)
{
	u32 off;

	mb2_begin();
	mb2_meminfo(639, 1024);
	off = mb2_string_tag(1, "abc");
	mb2_end();
	put32(info_at + off + 4, 0);
	CHECK_EQ(parse2(), -EINVAL);
	CHECK(unit_console_contains("multiboot2: tag 1 at offset 0x18 has size 0, less than its header"));
	put32(info_at + off + 4, 4);
	CHECK_EQ(parse2(), -EINVAL);
	CHECK(unit_console_contains("has size 4, less than its header"));
	/* a tag too small for its own fields */
	mb2_begin();
	mb2_tag(4, "\1\0\0\0", 4);
	mb2_end();
	CHECK_EQ(parse2(), -EINVAL);
	CHECK(unit_console_contains("multiboot2: tag 4 (basic meminfo) at offset 0x8 has size 12, less than the 16 its fields need"));
}

static void test_mb2_mmap_entry_size_bad(void)
{
	static const u32 bad[] = { 0, 4, 20, 28 };
	unsigned int i;
	char msg[128];

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		mb2_begin();
		mb2_mmap(typical_e820, 1, 24);
		put32(info_at + 8 + 8, bad[i]);
		mb2_end();
		unit_console_clear();
		CHECK_EQ(parse2(), -EINVAL);
		snprintf(msg, sizeof(msg),
			 "multiboot2: tag 6 (memory map) at offset 0x8 has entry_size %u, must be at least 24 and a multiple of 8",
			 bad[i]);
		CHECK(unit_console_contains(msg));
	}
	/* a partial entry at the end */
	mb2_begin();
	mb2_mmap(typical_e820, 2, 24);
	put32(info_at + 8 + 4, 16 + 24 + 12);
	mb2_end();
	CHECK_EQ(parse2(), -EINVAL);
	CHECK(unit_console_contains("has size 52, not a whole number of 24-byte entries"));
	/* the EFI map likewise */
	mb2_begin();
	mb2_efi_mmap(typical_efi, 2, 48);
	put32(info_at + 8 + 8, 32);
	mb2_end();
	CHECK_EQ(parse2(), -EINVAL);
	CHECK(unit_console_contains("tag 17 (EFI memory map) at offset 0x8 has descriptor_size 32, must be at least 40"));
}

static void test_mb2_mod_end_before_start(void)
{
	mb2_begin();
	mb2_meminfo(639, 1024);
	mb2_module(0x200000, 0x1fffff, "bad");
	mb2_end();
	CHECK_EQ(parse2(), -EINVAL);
	CHECK(unit_console_contains("multiboot2: module tag at offset 0x18 ends at 0x1fffff, before its start 0x200000"));
}

static void test_mb2_too_many_modules(void)
{
	unsigned int i;

	mb2_begin();
	mb2_meminfo(639, 1024);
	for (i = 0; i < BOOT_MAX_MODULES + 2; i++)
		mb2_module(0x200000 + i * 0x1000, 0x200800 + i * 0x1000, "m");
	mb2_end();
	CHECK_EQ(parse2(), 0);
	CHECK_EQ(bi.nr_modules, BOOT_MAX_MODULES);
	CHECK_EQ(bi.modules[15].start, 0x200000 + 15 * 0x1000);
	CHECK(unit_console_contains("more than 16 modules"));
}

static void test_mb2_strings_without_nul(void)
{
	u32 off;

	mb2_begin();
	mb2_meminfo(639, 1024);
	off = mb2_string_tag(1, "console=com1");
	mb2_end();
	mem[info_at + off + 8 + strlen("console=com1")] = 'X';
	CHECK_EQ(parse2(), -EINVAL);
	CHECK(unit_console_contains("multiboot2: tag 1 (command line) at offset 0x18: string is not NUL-terminated within the tag"));

	mb2_begin();
	mb2_meminfo(639, 1024);
	off = mb2_module(0x200000, 0x300000, "guest");
	mb2_end();
	mem[info_at + off + 16 + 5] = '!';
	CHECK_EQ(parse2(), -EINVAL);
	CHECK(unit_console_contains("tag 3 (module) at offset 0x18: string is not NUL-terminated"));
	CHECK_EQ(bi.nr_modules, 0);

	mb2_begin();
	mb2_meminfo(639, 1024);
	off = mb2_string_tag(2, "GRUB");
	mb2_end();
	mem[info_at + off + 8 + 4] = '?';
	CHECK_EQ(parse2(), -EINVAL);
	CHECK(unit_console_contains("tag 2 (boot loader name)"));
}

static void test_mb2_long_strings_truncated(void)
{
	static char s[3000];

	memset(s, 'a', sizeof(s) - 1);
	mb2_begin();
	mb2_meminfo(639, 1024);
	mb2_string_tag(1, s);
	mb2_string_tag(2, s);
	mb2_module(0x200000, 0x300000, s);
	mb2_end();
	CHECK_EQ(parse2(), 0);
	CHECK_EQ(strlen(bi.cmdline), BOOT_CMDLINE_MAX - 1);
	CHECK_EQ(strlen(bi.loader_name), BOOT_LOADER_NAME_MAX - 1);
	CHECK_EQ(strlen(bi.modules[0].cmdline), BOOT_CMDLINE_MAX - 1);
	CHECK(unit_console_contains("multiboot2: command line is 2999 bytes long, truncated to 1023"));
}

/* Only the first map tag of a kind is used; unknown tags are skipped. */
static void test_mb2_unknown_and_duplicate_tags(void)
{
	mb2_begin();
	mb2_tag(21, "\0\0\0\0\0\0\0\0", 8);
	mb2_tag(0x12345, NULL, 0);
	mb2_mmap(typical_e820, 1, 24);
	mb2_mmap(typical_e820 + 2, 1, 24);
	mb2_end();
	CHECK_EQ(parse2(), 0);
	CHECK_EQ(bi.nr_regions, 1);
	CHECK(has_region(0, 0x9fc00, MEM_USABLE));
}

/* EFI page counts that overflow a byte length saturate. */
static void test_mb2_efi_huge(void)
{
	static const struct efi_desc d[] = {
		{ 7, 0x100000, 0xffffffffffffffffull },
	};

	mb2_begin();
	mb2_efi_mmap(d, 1, 40);
	mb2_end();
	CHECK_EQ(parse2(), 0);
	CHECK(has_region(0x100000, UINT64_MAX, MEM_USABLE));
}

/* More seeds, to start the fuzzer on paths the typical ones miss. */
static void mb1_many_seed(void)
{
	unsigned int i;

	mb1_begin(0);
	for (i = 0; i < BOOT_MAX_REGIONS + 4; i++)
		mb1_entry((u64)i * 0x200000, 0x100000, 1 + i % 6);
}

static void mb2_efi_seed(void)
{
	u8 rsdp[20] = "RSD PTR ";

	mb2_begin();
	mb2_string_tag(1, "efi");
	mb2_tag(14, rsdp, sizeof(rsdp));
	mb2_efi_mmap(typical_efi, ARRAY_SIZE(typical_efi), 48);
	mb2_end();
}

static void mb2_modules_seed(void)
{
	unsigned int i;

	mb2_begin();
	mb2_meminfo(639, 1024);
	for (i = 0; i < BOOT_MAX_MODULES + 1; i++)
		mb2_module(0x200000 + i * 0x1000, 0x200800 + i * 0x1000, "m");
	mb2_end();
}

/*
 * Writes the fuzzer's seeds, packed low in memory: byte 0 is the protocol,
 * bytes 1..4 the info address (see bootinfo_fuzz.c). Each is parsed first,
 * so only valid images are written.
 */
static int write_corpus(const char *dir)
{
	static const struct {
		const char *name;
		void (*build)(void);
		u8 proto;
	} seeds[] = {
		{ "mb1_typical", mb1_typical, 0 },
		{ "mb1_many", mb1_many_seed, 0 },
		{ "mb2_typical", mb2_typical, 1 },
		{ "mb2_efi", mb2_efi_seed, 1 },
		{ "mb2_modules", mb2_modules_seed, 1 },
	};
	unsigned int i;
	char path[512];
	FILE *f;

	info_at = 0x40;
	mmap_at = 0x100;
	mods_at = 0x200;
	str_at = 0x240;
	for (i = 0; i < ARRAY_SIZE(seeds); i++) {
		u32 size;

		seeds[i].build();
		if (seeds[i].proto) {
			size = info_at + mb2_len;
		} else {
			size = MAX(info_at + 116, mmap_at + mmap_len);
			size = MAX(size, str_next);
			if (get32(info_at) & BIT(3))
				size = MAX(size, mods_at + 16 * get32(info_at + 20));
		}
		mem[0] = seeds[i].proto;
		put32(1, info_at);
		/* the image must parse as the fuzzer will see it */
		mem_end = size;
		CHECK_EQ(seeds[i].proto ? parse2() : parse1(), 0);
		mem_end = MEM_SIZE;
		snprintf(path, sizeof(path), "%s/%s", dir, seeds[i].name);
		f = fopen(path, "wb");
		if (!f || fwrite(mem, 1, size, f) != size || fclose(f)) {
			perror(path);
			return 1;
		}
		printf("wrote %s (%u bytes)\n", path, size);
	}
	return unit_checks_failed_in_test ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "--write-corpus") == 0)
		return write_corpus(argv[2]);

	RUN_TEST(test_mb1_typical);
	RUN_TEST(test_mb1_larger_entries);
	RUN_TEST(test_mb1_many_entries);
	RUN_TEST(test_mb1_truncated);
	RUN_TEST(test_mb1_adjacent_entries_merged);
	RUN_TEST(test_mb1_meminfo_fallback);
	RUN_TEST(test_mb1_empty_mmap_falls_back);
	RUN_TEST(test_mb1_no_map);
	RUN_TEST(test_mb1_entry_size_too_small);
	RUN_TEST(test_mb1_entry_crosses_end);
	RUN_TEST(test_mb1_mmap_outside_memory);
	RUN_TEST(test_mb1_info_outside_memory);
	RUN_TEST(test_mb1_mod_end_before_start);
	RUN_TEST(test_mb1_mods_outside_memory);
	RUN_TEST(test_mb1_too_many_modules);
	RUN_TEST(test_mb1_string_without_nul);
	RUN_TEST(test_mb1_long_strings_truncated);
	RUN_TEST(test_bad_magic);
	RUN_TEST(test_unreadable_memory);
	RUN_TEST(test_mb2_typical);
	RUN_TEST(test_mb2_acpi_rsdp);
	RUN_TEST(test_mb2_many_entries);
	RUN_TEST(test_mb2_truncated);
	RUN_TEST(test_mb2_efi_map_alone);
	RUN_TEST(test_mb2_map_preference);
	RUN_TEST(test_mb2_meminfo_fallback);
	RUN_TEST(test_mb2_no_map);
	RUN_TEST(test_mb2_total_size_bad);
	RUN_TEST(test_mb2_info_misplaced);
	RUN_TEST(test_mb2_tag_past_end);
	RUN_TEST(test_mb2_no_end_tag);
	RUN_TEST(test_mb2_zero_size_tag);
	RUN_TEST(test_mb2_mmap_entry_size_bad);
	RUN_TEST(test_mb2_mod_end_before_start);
	RUN_TEST(test_mb2_too_many_modules);
	RUN_TEST(test_mb2_strings_without_nul);
	RUN_TEST(test_mb2_long_strings_truncated);
	RUN_TEST(test_mb2_unknown_and_duplicate_tags);
	RUN_TEST(test_mb2_efi_huge);
	return unit_finish("bootinfo_test");
}
