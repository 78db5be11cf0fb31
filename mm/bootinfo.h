/*
 * What the boot loader told us, in one loader-neutral structure: the
 * firmware memory map, Tide's command line, the modules and where the boot
 * structures themselves lie. Parsed from Multiboot1 or Multiboot2 info by
 * bootinfo_parse(), which trusts nothing: every size, offset and count is
 * checked against the data it points into. Builds for the host too (unit
 * tests and the libFuzzer target).
 */
#ifndef TIDE_BOOTINFO_H
#define TIDE_BOOTINFO_H

#include "kernel/types.h"
#include "mm/memmap.h"

#define MULTIBOOT1_BOOTLOADER_MAGIC 0x2BADB002u
#define MULTIBOOT2_BOOTLOADER_MAGIC 0x36d76289u

#define BOOT_MAX_REGIONS 256
#define BOOT_MAX_MODULES 16
#define BOOT_MAX_RESERVED 24
#define BOOT_CMDLINE_MAX 1024
#define BOOT_LOADER_NAME_MAX 64

struct boot_module {
	u64 start; /* physical, first byte */
	u64 end; /* physical, one past the last byte */
	char cmdline[BOOT_CMDLINE_MAX];
};

/* A physical range the boot structures occupy (info block, strings, ...). */
struct boot_range {
	u64 base;
	u64 size;
};

struct boot_info {
	int protocol; /* 1 or 2 */
	char loader_name[BOOT_LOADER_NAME_MAX];
	char cmdline[BOOT_CMDLINE_MAX];

	/* the firmware map, as given (not sorted, may overlap) */
	struct mem_region regions[BOOT_MAX_REGIONS];
	unsigned int nr_regions;
	bool map_from_efi; /* regions came from the EFI memory map tag */
	bool map_from_meminfo; /* only mem_lower/mem_upper were given */
	bool map_truncated; /* more entries than BOOT_MAX_REGIONS */

	struct boot_module modules[BOOT_MAX_MODULES];
	unsigned int nr_modules;

	/* boot structures to keep out of the allocator */
	struct boot_range reserved[BOOT_MAX_RESERVED];
	unsigned int nr_reserved;

	u64 acpi_rsdp; /* physical address of a copy of the RSDP, or 0 */
};

/*
 * Read access to physical memory: returns a pointer through which `len`
 * bytes at physical address `phys` can be read, or NULL if that range is not
 * accessible. The hypervisor passes its direct map; tests pass a buffer.
 */
struct phys_access {
	const void *(*map)(void *ctx, u64 phys, u64 len);
	void *ctx;
};

/*
 * Parses the info block at `info_phys` given the loader's magic (EAX at
 * entry). Returns 0, or a negative errno after printing a message that says
 * what was wrong (-EINVAL: bad magic or malformed info, -EFAULT: something
 * points to memory that cannot be read). On error `bi` holds what was parsed
 * before the problem, which may be nothing.
 */
int bootinfo_parse(struct boot_info *bi, u32 magic, u64 info_phys,
		   const struct phys_access *pa);

#endif
