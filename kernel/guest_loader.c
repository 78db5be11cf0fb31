/*
 * Loading a Multiboot v1 kernel into a guest as a PC boot loader would:
 * check the image (ELF32 or ELF64 with a Multiboot header in its first
 * 8 KiB), copy its PT_LOAD segments to their physical addresses in guest
 * RAM, place the initrd module after the image, and build the Multiboot info
 * block (memory map like QEMU's, command line, modules) in low guest memory.
 * Every check names the module and what is wrong.
 */
#include "kernel/errno.h"
#include "kernel/guest.h"
#include "kernel/guest_loader.h"
#include "kernel/printk.h"
#include "kernel/string.h"
#include "arch/x86/paging.h"

#define MB1_HEADER_MAGIC 0x1BADB002u
#define MB1_SEARCH_BYTES 8192
#define MB1_AOUT_KLUDGE BIT(16)
#define MB1_BOOTLOADER_MAGIC 0x2BADB002u

/* Where the info block and its strings go: low memory, like QEMU */
#define MBI_BASE 0x8000UL
#define MBI_MMAP (MBI_BASE + 0x100)
#define MBI_MODS (MBI_BASE + 0x200)
#define MBI_LOADER_NAME (MBI_BASE + 0x280)
#define MBI_CMDLINE (MBI_BASE + 0x300)
#define MBI_MOD_STRING (MBI_BASE + 0x600)
#define MBI_END (MBI_BASE + 0x800)

#define PT_LOAD 1

struct elf_ident {
	u8 magic[4];
	u8 class; /* 1: 32-bit, 2: 64-bit */
	u8 data; /* 1: little endian */
	u8 version;
	u8 pad[9];
} __packed;

struct elf32_header {
	struct elf_ident ident;
	u16 type, machine;
	u32 version, entry, phoff, shoff, flags;
	u16 ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
} __packed;

struct elf64_header {
	struct elf_ident ident;
	u16 type, machine;
	u32 version;
	u64 entry, phoff, shoff;
	u32 flags;
	u16 ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
} __packed;

struct elf32_phdr {
	u32 type, offset, vaddr, paddr, filesz, memsz, flags, align;
} __packed;

struct elf64_phdr {
	u32 type, flags;
	u64 offset, vaddr, paddr, filesz, memsz, align;
} __packed;

struct segment {
	u64 offset, paddr, filesz, memsz;
};

static bool find_multiboot_header(const u8 *image, u64 size, u32 *flags)
{
	u64 limit = MIN(size, (u64)MB1_SEARCH_BYTES);

	for (u64 off = 0; off + 12 <= limit; off += 4) {
		u32 h[3];

		memcpy(h, image + off, sizeof(h));
		if (h[0] == MB1_HEADER_MAGIC && (u32)(h[0] + h[1] + h[2]) == 0) {
			*flags = h[1];
			return true;
		}
	}
	return false;
}

/* Reads program header i into a class-neutral form. */
static int read_phdr(const u8 *image, u64 size, bool is64, u64 phoff, u16 phentsize,
		     unsigned int i, u32 *type, struct segment *s)
{
	u64 off = phoff + (u64)i * phentsize;

	if (is64) {
		struct elf64_phdr p;

		if (phentsize < sizeof(p) || off + sizeof(p) > size)
			return -EINVAL;
		memcpy(&p, image + off, sizeof(p));
		*type = p.type;
		*s = (struct segment){ p.offset, p.paddr, p.filesz, p.memsz };
	} else {
		struct elf32_phdr p;

		if (phentsize < sizeof(p) || off + sizeof(p) > size)
			return -EINVAL;
		memcpy(&p, image + off, sizeof(p));
		*type = p.type;
		*s = (struct segment){ p.offset, p.paddr, p.filesz, p.memsz };
	}
	return 0;
}

static int load_elf(struct guest *g, const u8 *image, u64 size, u64 *entry, u64 *image_end)
{
	struct elf64_header h64;
	struct elf32_header h32;
	u64 phoff;
	u16 phnum, phentsize;
	bool is64;
	unsigned int loaded = 0;

	if (size < sizeof(struct elf_ident) || memcmp(image, "\x7f" "ELF", 4)) {
		pr_err("tide: guest %s: image is not an ELF file\n", g->name);
		return -EINVAL;
	}
	is64 = image[4] == 2;
	if ((image[4] != 1 && image[4] != 2) || image[5] != 1) {
		pr_err("tide: guest %s: not a little-endian 32- or 64-bit ELF image\n", g->name);
		return -EINVAL;
	}
	if (is64) {
		if (size < sizeof(h64))
			goto truncated;
		memcpy(&h64, image, sizeof(h64));
		phoff = h64.phoff, phnum = h64.phnum, phentsize = h64.phentsize;
		*entry = h64.entry;
	} else {
		if (size < sizeof(h32))
			goto truncated;
		memcpy(&h32, image, sizeof(h32));
		phoff = h32.phoff, phnum = h32.phnum, phentsize = h32.phentsize;
		*entry = h32.entry;
	}
	if (*entry >= 4 * GiB) {
		pr_err("tide: guest %s: entry point %#lx is not reachable in 32-bit mode\n",
		       g->name, *entry);
		return -EINVAL;
	}
	*image_end = 0;
	for (unsigned int i = 0; i < phnum; i++) {
		struct segment s;
		u32 type;

		if (read_phdr(image, size, is64, phoff, phentsize, i, &type, &s))
			goto truncated;
		if (type != PT_LOAD || !s.memsz)
			continue;
		if (s.filesz > s.memsz || s.offset + s.filesz < s.offset || s.offset + s.filesz > size)
			goto truncated;
		if (s.paddr + s.memsz < s.paddr || s.paddr + s.memsz > g->stage2.ram_size) {
			pr_err("tide: guest %s: segment [%#lx-%#lx) lies outside its %lu MiB of RAM\n",
			       g->name, s.paddr, s.paddr + s.memsz, g->stage2.ram_size / MiB);
			return -EINVAL;
		}
		if (s.paddr < MBI_END && s.paddr + s.memsz > MBI_BASE) {
			pr_err("tide: guest %s: segment [%#lx-%#lx) overlaps the Multiboot info at %#lx\n",
			       g->name, s.paddr, s.paddr + s.memsz, MBI_BASE);
			return -EINVAL;
		}
		/* the rest of memsz is .bss: guest RAM starts zeroed */
		if (guest_copy_to(g, s.paddr, image + s.offset, s.filesz))
			return -EFAULT;
		*image_end = MAX(*image_end, s.paddr + s.memsz);
		loaded++;
	}
	if (!loaded) {
		pr_err("tide: guest %s: no loadable segment\n", g->name);
		return -EINVAL;
	}
	return 0;
truncated:
	pr_err("tide: guest %s: ELF image is truncated or malformed\n", g->name);
	return -EINVAL;
}

struct mb1_info {
	u32 flags, mem_lower, mem_upper, boot_device, cmdline, mods_count, mods_addr;
	u32 syms[4];
	u32 mmap_length, mmap_addr;
	u32 drives_length, drives_addr, config_table, boot_loader_name;
} __packed;

struct mb1_mmap_entry {
	u32 size;
	u64 base, length;
	u32 type;
} __packed;

struct mb1_module {
	u32 start, end, string, reserved;
} __packed;

static int put_string(struct guest *g, u64 gpa, const char *s, u64 max)
{
	u64 len = MIN(strlen(s), max - 1);

	if (guest_copy_to(g, gpa, s, len))
		return -EFAULT;
	return guest_copy_to(g, gpa + len, "", 1);
}

static int build_multiboot_info(struct guest *g, u64 initrd_gpa)
{
	u64 ram = g->stage2.ram_size;
	struct mb1_info mbi = { 0 };
	const struct mb1_mmap_entry map[] = {
		{ 20, 0, 0x9fc00, 1 },
		{ 20, 0x9fc00, 0x400, 2 },
		{ 20, 0xf0000, 0x10000, 2 },
		{ 20, MiB, ram - MiB, 1 },
	};
	int err = 0;

	mbi.flags = BIT(0) | BIT(2) | BIT(6) | BIT(9); /* mem, cmdline, mmap, loader name */
	mbi.mem_lower = 639;
	mbi.mem_upper = (MIN(ram, 4 * GiB) - MiB) / KiB;
	mbi.cmdline = MBI_CMDLINE;
	mbi.mmap_addr = MBI_MMAP;
	mbi.mmap_length = sizeof(map);
	mbi.boot_loader_name = MBI_LOADER_NAME;
	if (g->initrd_size) {
		struct mb1_module mod = { initrd_gpa, initrd_gpa + g->initrd_size,
					  MBI_MOD_STRING, 0 };

		mbi.flags |= BIT(3);
		mbi.mods_count = 1;
		mbi.mods_addr = MBI_MODS;
		err |= guest_copy_to(g, MBI_MODS, &mod, sizeof(mod));
		err |= put_string(g, MBI_MOD_STRING, g->initrd_name, MBI_END - MBI_MOD_STRING);
	}
	err |= guest_copy_to(g, MBI_BASE, &mbi, sizeof(mbi));
	err |= guest_copy_to(g, MBI_MMAP, map, sizeof(map));
	err |= put_string(g, MBI_LOADER_NAME, "Tide", 16);
	err |= put_string(g, MBI_CMDLINE, g->cmdline, MBI_MOD_STRING - MBI_CMDLINE);
	return err ? -EFAULT : 0;
}

int guest_load(struct guest *g)
{
	const u8 *image = phys_to_virt(g->image_phys);
	u64 entry, image_end, initrd_gpa = 0;
	u32 mb_flags;
	int err;

	if (!find_multiboot_header(image, g->image_size, &mb_flags)) {
		pr_err("tide: guest %s: no Multiboot header in the first 8 KiB of the image\n",
		       g->name);
		return -EINVAL;
	}
	if (mb_flags & MB1_AOUT_KLUDGE)
		pr_info("tide: guest %s: ignoring the a.out kludge, loading by ELF headers\n",
			g->name);
	err = load_elf(g, image, g->image_size, &entry, &image_end);
	if (err)
		return err;
	if (g->initrd_size) {
		initrd_gpa = ALIGN_UP(MAX(image_end, MiB), PAGE_SIZE);
		if (initrd_gpa + g->initrd_size > g->stage2.ram_size) {
			pr_err("tide: guest %s: initrd %s (%lu KiB) does not fit in its RAM\n",
			       g->name, g->initrd_name, g->initrd_size / KiB);
			return -EINVAL;
		}
		if (guest_copy_to(g, initrd_gpa, phys_to_virt(g->initrd_phys), g->initrd_size))
			return -EFAULT;
	}
	err = build_multiboot_info(g, initrd_gpa);
	if (err)
		return err;
	vcpu_ops->vcpu_reset_protected(&g->vcpu, entry);
	g->vcpu.gpr[GPR_RAX] = MB1_BOOTLOADER_MAGIC;
	g->vcpu.gpr[GPR_RBX] = MBI_BASE;
	return 0;
}
