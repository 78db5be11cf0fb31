/*
 * What the Multiboot1 loader told us, copied at start-up (guest_lib_init)
 * so that a guest may overwrite any memory afterwards: the basic memory
 * sizes, the memory map, the command line and the modules.
 */
#ifndef GUEST_MULTIBOOT_H
#define GUEST_MULTIBOOT_H

#include "guest/lib/types.h"

#define MB_LOADER_MAGIC 0x2BADB002
#define MB_MAP_MAX 32
#define MB_MEM_AVAILABLE 1

struct mb_map_entry {
	u64 addr, len;
	u32 type;
};

void mb_init(u32 mbi);

bool mb_has_mem(void); /* mem_lower/mem_upper valid */
u32 mb_mem_lower_kib(void);
u32 mb_mem_upper_kib(void);
/* 1 MiB + mem_upper: the end of RAM contiguous from 1 MiB (0 if unknown). */
u64 mb_ram_end(void);

int mb_map_count(void); /* 0 without a memory map */
const struct mb_map_entry *mb_map_entry(int i);
u64 mb_map_total(void); /* bytes of available (type 1) RAM */
/* Type of the map entry covering addr, 0 if none does. */
u32 mb_map_type(u64 addr);
/*
 * [start, start + len) lies in one available map entry; without a map, in
 * [1 MiB, mb_ram_end()).
 */
bool mb_range_is_ram(u64 start, u64 len);

/* The whole command line ("" without one). */
const char *mb_cmdline(void);

#define MB_MODULES_MAX 4

struct mb_module {
	u32 start, end; /* physical; the contents are not copied */
	char string[128];
};

int mb_module_count(void);
const struct mb_module *mb_module(int i);

#endif
