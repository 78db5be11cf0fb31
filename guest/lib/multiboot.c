/*
 * Copies the Multiboot1 info block's memory sizes, memory map (up to
 * MB_MAP_MAX entries) and command line into our .bss, and answers
 * questions about them.
 */
#include "guest/lib/multiboot.h"
#include "guest/lib/string.h"

#define MBI_MEM (1u << 0)
#define MBI_CMDLINE (1u << 2)
#define MBI_MODS (1u << 3)
#define MBI_MMAP (1u << 6)

struct mb_info {
	u32 flags;
	u32 mem_lower, mem_upper;
	u32 boot_device;
	u32 cmdline;
	u32 mods_count, mods_addr;
	u32 syms[4];
	u32 mmap_length, mmap_addr;
} __packed;

struct mb_mmap_raw {
	u32 size; /* of the rest of the entry */
	u64 addr, len;
	u32 type;
} __packed;

static bool has_mem;
static u32 mem_lower, mem_upper;
static struct mb_map_entry map[MB_MAP_MAX];
static int map_count;
static char cmdline[512];
static struct mb_module modules[MB_MODULES_MAX];
static int module_count;

struct mb_module_raw {
	u32 start, end, string, reserved;
} __packed;

/* Copies a NUL-terminated string of the loader's into buf. */
static void copy_string(char *buf, u32 size, u32 from)
{
	const char *s = (const char *)from;
	u32 n = 0;

	while (from && s[n] && n < size - 1) {
		buf[n] = s[n];
		n++;
	}
	buf[n] = '\0';
}

void mb_init(u32 mbi)
{
	const struct mb_info *info = (const void *)mbi;

	if (!mbi)
		return;
	if (info->flags & MBI_MEM) {
		has_mem = true;
		mem_lower = info->mem_lower;
		mem_upper = info->mem_upper;
	}
	if ((info->flags & MBI_CMDLINE) && info->cmdline) {
		const char *s = (const char *)info->cmdline;
		size_t n = 0;

		while (s[n] && n < sizeof(cmdline) - 1) {
			cmdline[n] = s[n];
			n++;
		}
		cmdline[n] = '\0';
	}
	if (info->flags & MBI_MODS) {
		const struct mb_module_raw *m = (const void *)info->mods_addr;

		for (u32 i = 0; i < info->mods_count && module_count < MB_MODULES_MAX; i++) {
			modules[module_count].start = m[i].start;
			modules[module_count].end = m[i].end;
			copy_string(modules[module_count].string,
				    sizeof(modules[module_count].string), m[i].string);
			module_count++;
		}
	}
	if (info->flags & MBI_MMAP) {
		u32 p = info->mmap_addr, end = p + info->mmap_length;

		while (p + sizeof(struct mb_mmap_raw) <= end && map_count < MB_MAP_MAX) {
			const struct mb_mmap_raw *e = (const void *)p;

			map[map_count].addr = e->addr;
			map[map_count].len = e->len;
			map[map_count].type = e->type;
			map_count++;
			p += e->size + sizeof(e->size);
		}
	}
}

bool mb_has_mem(void)
{
	return has_mem;
}

u32 mb_mem_lower_kib(void)
{
	return mem_lower;
}

u32 mb_mem_upper_kib(void)
{
	return mem_upper;
}

u64 mb_ram_end(void)
{
	return has_mem ? MiB + (u64)mem_upper * KiB : 0;
}

int mb_map_count(void)
{
	return map_count;
}

const struct mb_map_entry *mb_map_entry(int i)
{
	return i >= 0 && i < map_count ? &map[i] : NULL;
}

u64 mb_map_total(void)
{
	u64 total = 0;

	for (int i = 0; i < map_count; i++)
		if (map[i].type == MB_MEM_AVAILABLE)
			total += map[i].len;
	return total;
}

u32 mb_map_type(u64 addr)
{
	for (int i = 0; i < map_count; i++)
		if (addr >= map[i].addr && addr - map[i].addr < map[i].len)
			return map[i].type;
	return 0;
}

bool mb_range_is_ram(u64 start, u64 len)
{
	u64 end = start + len;

	if (end < start)
		return false;
	if (!map_count)
		return has_mem && start >= MiB && end <= mb_ram_end();
	for (int i = 0; i < map_count; i++)
		if (map[i].type == MB_MEM_AVAILABLE && start >= map[i].addr &&
		    end <= map[i].addr + map[i].len)
			return true;
	return false;
}

const char *mb_cmdline(void)
{
	return cmdline;
}

int mb_module_count(void)
{
	return module_count;
}

const struct mb_module *mb_module(int i)
{
	return i >= 0 && i < module_count ? &modules[i] : NULL;
}
