/*
 * Multiboot1 and Multiboot2 info parsing (see mm/bootinfo.h): turns what the
 * boot loader left in memory into a struct boot_info.
 *
 * Everything read is treated as hostile, and the file is fuzzed on the host
 * (tests/unit/mm/bootinfo_fuzz.c). The rules that keep it safe:
 *  - physical memory is only read through pa->map(), one call per piece with
 *    the exact length about to be read, and a NULL answer is an error;
 *  - a pointer from pa->map() is not used after the next pa->map() call (so
 *    a mapper with a single temporary window works too);
 *  - every size, offset and count is checked against the bytes it points
 *    into before anything behind it is read, with overflow-free arithmetic;
 *  - fields are read byte by byte (little-endian), so nothing needs to be
 *    aligned;
 *  - anything malformed gets one pr_err() saying what and where, and a
 *    negative errno; more entries than fit are dropped with a pr_warn().
 * Freestanding: no libc.
 */
#include "kernel/errno.h"
#include "kernel/printk.h"
#include "mm/bootinfo.h"

/* No sane info block, memory map buffer or module list is this large. */
#define MB_INFO_MAX (1u << 20)

/* Multiboot1 info flags */
#define MB1_FLAG_MEM BIT(0)
#define MB1_FLAG_CMDLINE BIT(2)
#define MB1_FLAG_MODS BIT(3)
#define MB1_FLAG_MMAP BIT(6)
#define MB1_FLAG_LOADER_NAME BIT(9)

/* Multiboot1 info field offsets; the structure ends with the framebuffer. */
#define MB1_MEM_LOWER 4
#define MB1_MEM_UPPER 8
#define MB1_CMDLINE 16
#define MB1_MODS_COUNT 20
#define MB1_MODS_ADDR 24
#define MB1_MMAP_LENGTH 44
#define MB1_MMAP_ADDR 48
#define MB1_LOADER_NAME 64
#define MB1_INFO_SIZE 116
#define MB1_MOD_SIZE 16
#define MB1_MMAP_MIN_ENTRY 20 /* base, length and type; `size` not counted */

/* Multiboot2 tag types */
#define MB2_TAG_END 0
#define MB2_TAG_CMDLINE 1
#define MB2_TAG_LOADER_NAME 2
#define MB2_TAG_MODULE 3
#define MB2_TAG_MEMINFO 4
#define MB2_TAG_MMAP 6
#define MB2_TAG_ACPI_OLD 14
#define MB2_TAG_ACPI_NEW 15
#define MB2_TAG_EFI_MMAP 17

#define MB2_HEADER_SIZE 8 /* total_size, reserved; also a tag's header */
#define MB2_MMAP_ENTRY_MIN 24
#define EFI_DESC_MIN 40
#define RSDP_V1_SIZE 20
#define RSDP_V2_SIZE 36

/*
 * Every boot structure that can be reserved: info, mmap, mods array, command
 * line, loader name and one string per module.
 */
_Static_assert(BOOT_MAX_RESERVED >= 5 + BOOT_MAX_MODULES,
	       "bi->reserved cannot hold every boot structure");

static inline u32 get_u32(const u8 *p)
{
	return (u32)p[0] | (u32)p[1] << 8 | (u32)p[2] << 16 | (u32)p[3] << 24;
}

static inline u64 get_u64(const u8 *p)
{
	return (u64)get_u32(p) | (u64)get_u32(p + 4) << 32;
}

/* pa->map() for [phys, phys + len), refusing empty and wrapping ranges. */
static const u8 *phys_map(const struct phys_access *pa, u64 phys, u64 len)
{
	if (!len || len - 1 > UINT64_MAX - phys)
		return NULL;
	return pa->map(pa->ctx, phys, len);
}

static void reserve(struct boot_info *bi, u64 base, u64 size)
{
	if (!size)
		return;
	if (bi->nr_reserved == BOOT_MAX_RESERVED) {
		/* cannot happen, see the _Static_assert above */
		pr_warn("bootinfo: too many boot structures, [0x%llx+0x%llx) not recorded\n",
			(unsigned long long)base, (unsigned long long)size);
		return;
	}
	bi->reserved[bi->nr_reserved].base = base;
	bi->reserved[bi->nr_reserved].size = size;
	bi->nr_reserved++;
}

/*
 * Appends a firmware region. One that continues the previous region with
 * the same type is merged into it: EFI maps in particular list many small
 * runs of what all becomes "usable", and merging keeps them from filling
 * bi->regions. Regions past BOOT_MAX_REGIONS are counted in *dropped.
 */
static void add_region(struct boot_info *bi, u64 base, u64 len, u32 type,
		       unsigned int *dropped)
{
	struct mem_region *last;

	if (!len)
		return;
	if (bi->nr_regions) {
		last = &bi->regions[bi->nr_regions - 1];
		if (last->type == type && last->size <= UINT64_MAX - last->base &&
		    last->base + last->size == base &&
		    len <= UINT64_MAX - last->size) {
			last->size += len;
			return;
		}
	}
	if (bi->nr_regions == BOOT_MAX_REGIONS) {
		bi->map_truncated = true;
		(*dropped)++;
		return;
	}
	bi->regions[bi->nr_regions].base = base;
	bi->regions[bi->nr_regions].size = len;
	bi->regions[bi->nr_regions].type = type;
	bi->nr_regions++;
}

static void warn_dropped(const char *proto, unsigned int dropped)
{
	if (dropped)
		pr_warn("%s: memory map truncated: %u entries beyond the first %u ignored\n",
			proto, dropped, BOOT_MAX_REGIONS);
}

/* E820-style types, as both Multiboot memory maps use them. */
static u32 firmware_type(u32 type)
{
	switch (type) {
	case 1:
		return MEM_USABLE;
	case 3:
		return MEM_ACPI_RECLAIM;
	case 4:
		return MEM_ACPI_NVS;
	case 5:
		return MEM_BAD;
	default:
		return MEM_RESERVED;
	}
}

/* EFI_MEMORY_TYPE; boot services memory is free once the loader has exited them. */
static u32 efi_type(u32 type)
{
	switch (type) {
	case 1: /* EfiLoaderCode */
	case 2: /* EfiLoaderData */
	case 3: /* EfiBootServicesCode */
	case 4: /* EfiBootServicesData */
	case 7: /* EfiConventionalMemory */
		return MEM_USABLE;
	case 8: /* EfiUnusableMemory */
		return MEM_BAD;
	case 9: /* EfiACPIReclaimMemory */
		return MEM_ACPI_RECLAIM;
	case 10: /* EfiACPIMemoryNVS */
		return MEM_ACPI_NVS;
	default:
		return MEM_RESERVED;
	}
}

/*
 * The fallback map when only mem_lower/mem_upper are known (KiB of RAM at 0
 * and at 1 MiB). There is never RAM between 640 KiB and 1 MiB, so a larger
 * mem_lower is a lie, and is clamped.
 */
static void meminfo_map(struct boot_info *bi, const char *proto, u32 lower,
			u32 upper)
{
	unsigned int dropped = 0;

	if (lower > 640) {
		pr_warn("%s: mem_lower %u KiB is more than 640 KiB, clamped\n",
			proto, lower);
		lower = 640;
	}
	add_region(bi, 0, (u64)lower * KiB, MEM_USABLE, &dropped);
	add_region(bi, 1 * MiB, (u64)upper * KiB, MEM_USABLE, &dropped);
	bi->map_from_meminfo = true;
}

/*
 * Copies the string at the start of `src` (at most `avail` bytes, which must
 * hold its NUL) into dst, truncating it with a warning if dst is too small.
 * Returns the string's length, or -1 if there is no NUL within `avail`.
 */
static long copy_string(char *dst, u32 dst_size, const u8 *src, u64 avail,
			const char *what)
{
	u64 len, i;

	for (len = 0; len < avail && src[len]; len++)
		;
	if (len == avail)
		return -1;
	for (i = 0; i < len && i < dst_size - 1; i++)
		dst[i] = (char)src[i];
	dst[i] = 0;
	if (len > i)
		pr_warn("%s is %llu bytes long, truncated to %u\n", what,
			(unsigned long long)len, dst_size - 1);
	return (long)len;
}

/* ---- Multiboot1 ---- */

/*
 * Copies the NUL-terminated string at physical address `phys`. Its length is
 * not known up front, so each byte is mapped on its own: a string that runs
 * into unreadable memory before its NUL is caught right there (-EFAULT),
 * and one longer than dst is truncated (with a warning) without reading past
 * dst_size - 1 bytes. The bytes read are recorded as a boot structure.
 */
static int mb1_string(struct boot_info *bi, const struct phys_access *pa,
		      u64 phys, char *dst, u32 dst_size, const char *what)
{
	u32 n;
	const u8 *p;

	for (n = 0; n < dst_size - 1; n++) {
		p = phys_map(pa, phys + n, 1);
		if (!p) {
			dst[n] = 0;
			pr_err("multiboot1: %s at 0x%llx is not readable at 0x%llx, before its terminating NUL\n",
			       what, (unsigned long long)phys,
			       (unsigned long long)(phys + n));
			return -EFAULT;
		}
		dst[n] = (char)*p;
		if (!*p) {
			reserve(bi, phys, n + 1);
			return 0;
		}
	}
	dst[n] = 0;
	reserve(bi, phys, n);
	pr_warn("multiboot1: %s at 0x%llx is longer than %u bytes, truncated\n",
		what, (unsigned long long)phys, dst_size - 1);
	return 0;
}

/* How much of the info structure the flags make us read. */
static u32 mb1_info_len(u32 flags)
{
	if (flags & MB1_FLAG_LOADER_NAME)
		return MB1_LOADER_NAME + 4;
	if (flags & MB1_FLAG_MMAP)
		return MB1_MMAP_ADDR + 4;
	if (flags & MB1_FLAG_MODS)
		return MB1_MODS_ADDR + 4;
	if (flags & MB1_FLAG_CMDLINE)
		return MB1_CMDLINE + 4;
	if (flags & MB1_FLAG_MEM)
		return MB1_MEM_UPPER + 4;
	return 4;
}

struct mb1_fields {
	u32 flags, mem_lower, mem_upper, cmdline, mods_count, mods_addr;
	u32 mmap_length, mmap_addr, loader_name;
};

static int mb1_modules(struct boot_info *bi, const struct phys_access *pa,
		       u32 count, u32 addr)
{
	u32 i, n = MIN(count, (u32)BOOT_MAX_MODULES);
	u32 start, end, string;
	const u8 *e;
	int err;

	if (count > n)
		pr_warn("multiboot1: %u modules, only the first %u are used\n",
			count, n);
	if (n)
		reserve(bi, addr, (u64)n * MB1_MOD_SIZE);
	for (i = 0; i < n; i++) {
		u64 phys = (u64)addr + (u64)i * MB1_MOD_SIZE;
		struct boot_module *mod;

		e = phys_map(pa, phys, MB1_MOD_SIZE);
		if (!e) {
			pr_err("multiboot1: module %u entry at 0x%llx is not readable\n",
			       i, (unsigned long long)phys);
			return -EFAULT;
		}
		start = get_u32(e);
		end = get_u32(e + 4);
		string = get_u32(e + 8);
		if (end < start) {
			pr_err("multiboot1: module %u ends at 0x%x, before its start 0x%x\n",
			       i, end, start);
			return -EINVAL;
		}
		mod = &bi->modules[bi->nr_modules++];
		mod->start = start;
		mod->end = end;
		/* 0 is what loaders write for "no string" */
		if (string) {
			err = mb1_string(bi, pa, string, mod->cmdline,
					 sizeof(mod->cmdline), "module string");
			if (err)
				return err;
		}
	}
	return 0;
}

static int mb1_mmap(struct boot_info *bi, const struct phys_access *pa,
		    u32 length, u32 addr)
{
	unsigned int dropped = 0;
	const u8 *buf;
	u32 off, size;

	if (length > MB_INFO_MAX) {
		pr_err("multiboot1: mmap_length 0x%x is larger than 1 MiB\n",
		       length);
		return -EINVAL;
	}
	if (!length)
		return 0;
	buf = phys_map(pa, addr, length);
	if (!buf) {
		pr_err("multiboot1: memory map at 0x%x (0x%x bytes) is not readable\n",
		       addr, length);
		return -EFAULT;
	}
	reserve(bi, addr, length);
	/* `size` does not count itself: the next entry is size + 4 on */
	for (off = 0; off < length; off += size + 4) {
		if (length - off < 4) {
			pr_err("multiboot1: memory map entry at offset 0x%x crosses the end of the map (0x%x bytes)\n",
			       off, length);
			return -EINVAL;
		}
		size = get_u32(buf + off);
		if (size < MB1_MMAP_MIN_ENTRY) {
			pr_err("multiboot1: memory map entry at offset 0x%x has size %u, less than %u\n",
			       off, size, MB1_MMAP_MIN_ENTRY);
			return -EINVAL;
		}
		if (size > length - off - 4) {
			pr_err("multiboot1: memory map entry at offset 0x%x (size %u) crosses the end of the map (0x%x bytes)\n",
			       off, size, length);
			return -EINVAL;
		}
		add_region(bi, get_u64(buf + off + 4), get_u64(buf + off + 12),
			   firmware_type(get_u32(buf + off + 20)), &dropped);
	}
	warn_dropped("multiboot1", dropped);
	return 0;
}

static int mb1_parse(struct boot_info *bi, u64 info_phys,
		     const struct phys_access *pa)
{
	struct mb1_fields f = { 0 };
	const u8 *info;
	u32 len;
	int err;

	bi->protocol = 1;
	info = phys_map(pa, info_phys, 4);
	if (info) {
		f.flags = get_u32(info);
		len = mb1_info_len(f.flags);
		info = phys_map(pa, info_phys, len);
	}
	if (!info) {
		pr_err("multiboot1: info structure at 0x%llx is not readable\n",
		       (unsigned long long)info_phys);
		return -EFAULT;
	}
	/* read what the flags say is valid, before mapping anything else */
	if (f.flags & MB1_FLAG_MEM) {
		f.mem_lower = get_u32(info + MB1_MEM_LOWER);
		f.mem_upper = get_u32(info + MB1_MEM_UPPER);
	}
	if (f.flags & MB1_FLAG_CMDLINE)
		f.cmdline = get_u32(info + MB1_CMDLINE);
	if (f.flags & MB1_FLAG_MODS) {
		f.mods_count = get_u32(info + MB1_MODS_COUNT);
		f.mods_addr = get_u32(info + MB1_MODS_ADDR);
	}
	if (f.flags & MB1_FLAG_MMAP) {
		f.mmap_length = get_u32(info + MB1_MMAP_LENGTH);
		f.mmap_addr = get_u32(info + MB1_MMAP_ADDR);
	}
	if (f.flags & MB1_FLAG_LOADER_NAME)
		f.loader_name = get_u32(info + MB1_LOADER_NAME);
	/* the loader owns the whole structure, not just what we read */
	reserve(bi, info_phys, MB1_INFO_SIZE);

	if (f.cmdline) {
		err = mb1_string(bi, pa, f.cmdline, bi->cmdline,
				 sizeof(bi->cmdline), "command line");
		if (err)
			return err;
	}
	if (f.loader_name) {
		err = mb1_string(bi, pa, f.loader_name, bi->loader_name,
				 sizeof(bi->loader_name), "boot loader name");
		if (err)
			return err;
	}
	err = mb1_modules(bi, pa, f.mods_count, f.mods_addr);
	if (err)
		return err;
	if (f.flags & MB1_FLAG_MMAP) {
		err = mb1_mmap(bi, pa, f.mmap_length, f.mmap_addr);
		if (err)
			return err;
		if (!bi->nr_regions && (f.flags & MB1_FLAG_MEM))
			pr_warn("multiboot1: memory map is empty, using mem_lower/mem_upper\n");
	}
	if (!bi->nr_regions && (f.flags & MB1_FLAG_MEM))
		meminfo_map(bi, "multiboot1", f.mem_lower, f.mem_upper);
	if (!bi->nr_regions) {
		pr_err("multiboot1: no memory map: no non-empty mmap (flag 6) and no mem_lower/mem_upper (flag 0), flags 0x%x\n",
		       f.flags);
		return -EINVAL;
	}
	return 0;
}

/* ---- Multiboot2 ---- */

/* Where the walk over the tags found what is parsed after it. */
struct mb2_found {
	u32 mmap, efi_mmap; /* tag offsets, 0 if absent */
	bool meminfo;
	u32 mem_lower, mem_upper;
	bool rsdp_new;
};

static const char *mb2_tag_name(u32 type)
{
	switch (type) {
	case MB2_TAG_CMDLINE:
		return "command line";
	case MB2_TAG_LOADER_NAME:
		return "boot loader name";
	case MB2_TAG_MODULE:
		return "module";
	case MB2_TAG_MEMINFO:
		return "basic meminfo";
	case MB2_TAG_MMAP:
		return "memory map";
	case MB2_TAG_ACPI_OLD:
		return "ACPI old RSDP";
	case MB2_TAG_ACPI_NEW:
		return "ACPI new RSDP";
	case MB2_TAG_EFI_MMAP:
		return "EFI memory map";
	default:
		return "unknown";
	}
}

/* The fixed part of each tag we parse, header included. */
static u32 mb2_tag_min_size(u32 type)
{
	switch (type) {
	case MB2_TAG_CMDLINE:
	case MB2_TAG_LOADER_NAME:
		return 8 + 1; /* a string, at least its NUL */
	case MB2_TAG_MODULE:
		return 16 + 1; /* mod_start, mod_end, string */
	case MB2_TAG_MEMINFO:
	case MB2_TAG_MMAP: /* entry_size, entry_version */
	case MB2_TAG_EFI_MMAP: /* descriptor_size, descriptor_version */
		return 16;
	case MB2_TAG_ACPI_OLD:
		return 8 + RSDP_V1_SIZE;
	case MB2_TAG_ACPI_NEW:
		return 8 + RSDP_V2_SIZE;
	default:
		return 8;
	}
}

/* An array of fixed-size entries filling the rest of a map tag exactly. */
static int mb2_check_entries(u32 type, u32 off, u32 size, u32 entry_size,
			     u32 min_entry, bool multiple_of_8)
{
	const char *field = type == MB2_TAG_MMAP ? "entry_size" :
						   "descriptor_size";

	if (entry_size < min_entry || (multiple_of_8 && entry_size % 8)) {
		pr_err("multiboot2: tag %u (%s) at offset 0x%x has %s %u, must be at least %u%s\n",
		       type, mb2_tag_name(type), off, field, entry_size,
		       min_entry, multiple_of_8 ? " and a multiple of 8" : "");
		return -EINVAL;
	}
	if ((size - 16) % entry_size) {
		pr_err("multiboot2: tag %u (%s) at offset 0x%x has size %u, not a whole number of %u-byte entries\n",
		       type, mb2_tag_name(type), off, size, entry_size);
		return -EINVAL;
	}
	return 0;
}

static int mb2_tag(struct boot_info *bi, struct mb2_found *found,
		   const u8 *tag, u32 type, u32 size, u32 off, u64 tag_phys)
{
	struct boot_module *mod;
	u32 start, end;
	long len;
	int err;

	if (size < mb2_tag_min_size(type)) {
		pr_err("multiboot2: tag %u (%s) at offset 0x%x has size %u, less than the %u its fields need\n",
		       type, mb2_tag_name(type), off, size,
		       mb2_tag_min_size(type));
		return -EINVAL;
	}
	switch (type) {
	case MB2_TAG_CMDLINE:
	case MB2_TAG_LOADER_NAME:
		if (type == MB2_TAG_CMDLINE)
			len = copy_string(bi->cmdline, sizeof(bi->cmdline),
					  tag + 8, size - 8,
					  "multiboot2: command line");
		else
			len = copy_string(bi->loader_name,
					  sizeof(bi->loader_name), tag + 8,
					  size - 8, "multiboot2: boot loader name");
		if (len < 0)
			goto no_nul;
		break;
	case MB2_TAG_MODULE:
		start = get_u32(tag + 8);
		end = get_u32(tag + 12);
		if (end < start) {
			pr_err("multiboot2: module tag at offset 0x%x ends at 0x%x, before its start 0x%x\n",
			       off, end, start);
			return -EINVAL;
		}
		if (bi->nr_modules == BOOT_MAX_MODULES) {
			pr_warn("multiboot2: more than %u modules, module tag at offset 0x%x ignored\n",
				BOOT_MAX_MODULES, off);
			break;
		}
		mod = &bi->modules[bi->nr_modules];
		len = copy_string(mod->cmdline, sizeof(mod->cmdline), tag + 16,
				  size - 16, "multiboot2: module string");
		if (len < 0)
			goto no_nul;
		mod->start = start;
		mod->end = end;
		bi->nr_modules++;
		break;
	case MB2_TAG_MEMINFO:
		found->meminfo = true;
		found->mem_lower = get_u32(tag + 8);
		found->mem_upper = get_u32(tag + 12);
		break;
	case MB2_TAG_MMAP:
		err = mb2_check_entries(type, off, size, get_u32(tag + 8),
					MB2_MMAP_ENTRY_MIN, true);
		if (err)
			return err;
		if (!found->mmap)
			found->mmap = off;
		break;
	case MB2_TAG_EFI_MMAP:
		err = mb2_check_entries(type, off, size, get_u32(tag + 8),
					EFI_DESC_MIN, false);
		if (err)
			return err;
		if (!found->efi_mmap)
			found->efi_mmap = off;
		break;
	case MB2_TAG_ACPI_OLD:
		/* the tag holds a copy of the RSDP: point at the copy */
		if (!found->rsdp_new)
			bi->acpi_rsdp = tag_phys + 8;
		break;
	case MB2_TAG_ACPI_NEW:
		bi->acpi_rsdp = tag_phys + 8;
		found->rsdp_new = true;
		break;
	default:
		break; /* framebuffer, ELF sections, ...: not ours */
	}
	return 0;

no_nul:
	pr_err("multiboot2: tag %u (%s) at offset 0x%x: string is not NUL-terminated within the tag\n",
	       type, mb2_tag_name(type), off);
	return -EINVAL;
}

/* Entries of a tag 6 or 17 that mb2_tag() has already validated. */
static void mb2_map(struct boot_info *bi, const u8 *tag, u32 type)
{
	u32 size = get_u32(tag + 4), entry_size = get_u32(tag + 8), off;
	unsigned int dropped = 0;
	const u8 *e;

	for (off = 16; off < size; off += entry_size) {
		e = tag + off;
		if (type == MB2_TAG_MMAP) {
			add_region(bi, get_u64(e), get_u64(e + 8),
				   firmware_type(get_u32(e + 16)), &dropped);
		} else {
			u64 pages = get_u64(e + 24);
			/* saturate: memmap_add() clips at the top anyway */
			u64 len = pages > (UINT64_MAX >> PAGE_SHIFT) ?
					  UINT64_MAX : pages << PAGE_SHIFT;

			add_region(bi, get_u64(e + 8), len,
				   efi_type(get_u32(e)), &dropped);
		}
	}
	warn_dropped("multiboot2", dropped);
}

static int mb2_parse(struct boot_info *bi, u64 info_phys,
		     const struct phys_access *pa)
{
	struct mb2_found found = { 0 };
	const u8 *info;
	u32 total, off, type, size;
	int err;

	bi->protocol = 2;
	if (!IS_ALIGNED(info_phys, 8)) {
		pr_err("multiboot2: info block at 0x%llx is not 8-byte aligned\n",
		       (unsigned long long)info_phys);
		return -EINVAL;
	}
	info = phys_map(pa, info_phys, MB2_HEADER_SIZE);
	if (!info) {
		pr_err("multiboot2: info block at 0x%llx is not readable\n",
		       (unsigned long long)info_phys);
		return -EFAULT;
	}
	total = get_u32(info);
	if (total < MB2_HEADER_SIZE + 8) {
		pr_err("multiboot2: total_size %u is too small for the header and an end tag (16)\n",
		       total);
		return -EINVAL;
	}
	if (total > MB_INFO_MAX) {
		pr_err("multiboot2: total_size %u is larger than 1 MiB\n",
		       total);
		return -EINVAL;
	}
	/* one mapping for the whole block: every tag lies inside it */
	info = phys_map(pa, info_phys, total);
	if (!info) {
		pr_err("multiboot2: info block at 0x%llx (total_size %u) is not readable\n",
		       (unsigned long long)info_phys, total);
		return -EFAULT;
	}
	reserve(bi, info_phys, total);

	for (off = MB2_HEADER_SIZE;; off += ALIGN_UP(size, 8)) {
		if (off > total - 8) {
			pr_err("multiboot2: no end tag within total_size %u (next tag would be at offset 0x%x)\n",
			       total, off);
			return -EINVAL;
		}
		type = get_u32(info + off);
		size = get_u32(info + off + 4);
		if (size < 8) {
			pr_err("multiboot2: tag %u at offset 0x%x has size %u, less than its header\n",
			       type, off, size);
			return -EINVAL;
		}
		if (size > total - off) {
			pr_err("multiboot2: tag %u at offset 0x%x has size %u, running past the end of the info block (total_size %u)\n",
			       type, off, size, total);
			return -EINVAL;
		}
		if (type == MB2_TAG_END)
			break;
		err = mb2_tag(bi, &found, info + off, type, size, off,
			      info_phys + off);
		if (err)
			return err;
	}

	if (found.mmap) {
		mb2_map(bi, info + found.mmap, MB2_TAG_MMAP);
		if (!bi->nr_regions)
			pr_warn("multiboot2: memory map tag is empty, looking for another map\n");
	}
	if (!bi->nr_regions && found.efi_mmap) {
		mb2_map(bi, info + found.efi_mmap, MB2_TAG_EFI_MMAP);
		bi->map_from_efi = bi->nr_regions != 0;
	}
	if (!bi->nr_regions && found.meminfo)
		meminfo_map(bi, "multiboot2", found.mem_lower,
			    found.mem_upper);
	if (!bi->nr_regions) {
		pr_err("multiboot2: no memory map: no non-empty memory map (tag 6), EFI memory map (tag 17) or basic meminfo (tag 4)\n");
		return -EINVAL;
	}
	return 0;
}

int bootinfo_parse(struct boot_info *bi, u32 magic, u64 info_phys,
		   const struct phys_access *pa)
{
	u8 *p = (u8 *)bi;
	size_t i;

	for (i = 0; i < sizeof(*bi); i++)
		p[i] = 0;
	if (!pa || !pa->map) {
		pr_err("bootinfo: no way to read physical memory\n");
		return -EINVAL;
	}
	switch (magic) {
	case MULTIBOOT1_BOOTLOADER_MAGIC:
		return mb1_parse(bi, info_phys, pa);
	case MULTIBOOT2_BOOTLOADER_MAGIC:
		return mb2_parse(bi, info_phys, pa);
	default:
		pr_err("bootinfo: unknown boot loader magic 0x%08x (Multiboot1 is 0x%08x, Multiboot2 0x%08x)\n",
		       magic, MULTIBOOT1_BOOTLOADER_MAGIC,
		       MULTIBOOT2_BOOTLOADER_MAGIC);
		return -EINVAL;
	}
}
