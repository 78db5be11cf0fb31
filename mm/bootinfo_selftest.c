/*
 * Self-test of the boot-info parser on what the boot loader really gave us
 * (selftest=bootinfo): the info block is copied into a scratch buffer that
 * stands for physical memory, damaged in the ways a buggy loader or a
 * corrupted image would damage it, and parsed again. Each damaged copy must
 * be refused with a message, never read out of bounds or accepted.
 */
#include "kernel/boot.h"
#include "kernel/errno.h"
#include "kernel/printk.h"
#include "kernel/selftest.h"
#include "kernel/selftest_table.h"
#include "kernel/string.h"
#include "mm/bootinfo.h"

#define GROUP "bootinfo"
#define SCRATCH_BASE 0x100000UL /* where the copy pretends to lie */
#define SCRATCH_SIZE (16 * KiB)

static u8 scratch[SCRATCH_SIZE] __aligned(8);
static struct boot_info parsed;

static const void *scratch_map(void *ctx __unused, u64 phys, u64 len)
{
	if (phys < SCRATCH_BASE || len > SCRATCH_SIZE || phys - SCRATCH_BASE > SCRATCH_SIZE - len)
		return NULL;
	return scratch + (phys - SCRATCH_BASE);
}

static const struct phys_access scratch_access = { scratch_map, NULL };

static int parse_scratch(u32 magic, u64 offset)
{
	return bootinfo_parse(&parsed, magic, SCRATCH_BASE + offset, &scratch_access);
}

static u32 get32(u64 off)
{
	u32 v;

	memcpy(&v, scratch + off, 4);
	return v;
}

static void put32(u64 off, u32 v)
{
	memcpy(scratch + off, &v, 4);
}

/* Offset of the first Multiboot2 tag of `type` in the scratch copy, or 0. */
static u64 find_tag(u32 type)
{
	u32 total = get32(0);

	for (u64 off = 8; off + 8 <= total; off = ALIGN_UP(off + get32(off + 4), 8)) {
		if (get32(off) == type)
			return off;
		if (get32(off) == 0 || get32(off + 4) < 8)
			break;
	}
	return 0;
}

static bool copy_multiboot2(u64 info, const struct phys_access *real)
{
	const u32 *hdr = real->map(real->ctx, info, 8);

	if (!hdr || hdr[0] > SCRATCH_SIZE || hdr[0] < 16)
		return false;
	const void *all = real->map(real->ctx, info, hdr[0]);

	if (!all)
		return false;
	memset(scratch, 0, sizeof(scratch));
	memcpy(scratch, all, hdr[0]);
	return true;
}

static void test_multiboot2(u64 info, const struct phys_access *real)
{
	const u32 magic = MULTIBOOT2_BOOTLOADER_MAGIC;

	if (!selftest_check(GROUP, copy_multiboot2(info, real) && parse_scratch(magic, 0) == 0,
			    "mb2_copy_parses"))
		return;
	u32 total = get32(0);

	pr_info("bootinfo: selftest: damaging copies of the info block, errors below are expected\n");
	put32(0, 12);
	selftest_check(GROUP, parse_scratch(magic, 0) == -EINVAL, "mb2_total_size_too_small");
	put32(0, total / 2);
	selftest_check(GROUP, parse_scratch(magic, 0) < 0, "mb2_truncated_block");
	put32(0, 0x7fffffff);
	selftest_check(GROUP, parse_scratch(magic, 0) < 0, "mb2_total_size_huge");

	copy_multiboot2(info, real);
	put32(8 + 4, 4);
	selftest_check(GROUP, parse_scratch(magic, 0) == -EINVAL, "mb2_tag_smaller_than_header");

	copy_multiboot2(info, real);
	u64 mmap = find_tag(6);

	if (mmap) {
		put32(mmap + 8, 0); /* entry_size */
		selftest_check(GROUP, parse_scratch(magic, 0) == -EINVAL, "mb2_mmap_entry_size_zero");
		copy_multiboot2(info, real);
		put32(mmap + 4, get32(mmap + 4) + 0x10000); /* size runs past the end */
		selftest_check(GROUP, parse_scratch(magic, 0) == -EINVAL, "mb2_mmap_past_end");
	}
	copy_multiboot2(info, real);
	selftest_check(GROUP, parse_scratch(magic, 4) < 0, "mb2_misaligned_block");
	pr_info("bootinfo: selftest: end of expected errors\n");
}

/* Multiboot1: info structure at 0, memory map right after it. */
#define MB1_INFO_SIZE 120
#define MB1_FLAG_MEM BIT(0)
#define MB1_FLAG_MMAP BIT(6)

static bool copy_multiboot1(u64 info, const struct phys_access *real)
{
	const u32 *mbi = real->map(real->ctx, info, MB1_INFO_SIZE);

	if (!mbi || !(mbi[0] & MB1_FLAG_MMAP) || mbi[11] > SCRATCH_SIZE - MB1_INFO_SIZE)
		return false;
	const void *map = real->map(real->ctx, mbi[12], mbi[11]);

	if (!map)
		return false;
	memset(scratch, 0, sizeof(scratch));
	memcpy(scratch, mbi, MB1_INFO_SIZE);
	memcpy(scratch + MB1_INFO_SIZE, map, mbi[11]);
	/* keep the memory information only: no strings or modules to follow */
	put32(0, get32(0) & (MB1_FLAG_MEM | MB1_FLAG_MMAP));
	put32(48, SCRATCH_BASE + MB1_INFO_SIZE);
	return true;
}

static void test_multiboot1(u64 info, const struct phys_access *real)
{
	const u32 magic = MULTIBOOT1_BOOTLOADER_MAGIC;

	if (!selftest_check(GROUP, copy_multiboot1(info, real) && parse_scratch(magic, 0) == 0 &&
					   parsed.nr_regions > 0,
			    "mb1_copy_parses"))
		return;
	pr_info("bootinfo: selftest: damaging copies of the info block, errors below are expected\n");
	put32(MB1_INFO_SIZE, 4); /* first entry's size field */
	selftest_check(GROUP, parse_scratch(magic, 0) == -EINVAL, "mb1_mmap_entry_size_too_small");

	copy_multiboot1(info, real);
	put32(44, get32(44) + 0x8000); /* mmap_length past readable memory */
	selftest_check(GROUP, parse_scratch(magic, 0) < 0, "mb1_mmap_length_past_end");

	copy_multiboot1(info, real);
	put32(48, 0x10); /* mmap_addr outside the copy */
	selftest_check(GROUP, parse_scratch(magic, 0) == -EFAULT, "mb1_mmap_unreadable");

	copy_multiboot1(info, real);
	put32(0, 0); /* no memory information at all */
	selftest_check(GROUP, parse_scratch(magic, 0) == -EINVAL, "mb1_no_memory_map");
	pr_info("bootinfo: selftest: end of expected errors\n");
}

static void bootinfo_selftest(void)
{
	selftest_check(GROUP, parse_scratch(0x12345678, 0) == -EINVAL, "bad_magic");
	if (boot_loader_magic == MULTIBOOT2_BOOTLOADER_MAGIC)
		test_multiboot2(boot_info_phys, &boot_phys_access);
	else
		test_multiboot1(boot_info_phys, &boot_phys_access);
}
DEFINE_SELFTEST(bootinfo, GROUP, bootinfo_selftest);
