/* What kernel_main was handed by the boot loader, for later readers. */
#ifndef TIDE_BOOT_H
#define TIDE_BOOT_H

#include "mm/bootinfo.h"

extern u32 boot_loader_magic;
extern const struct boot_info *boot_information; /* the parsed info block */
extern u64 boot_info_phys;

/* Reads physical memory through the direct map, where it is mapped. */
extern const struct phys_access boot_phys_access;

#endif
