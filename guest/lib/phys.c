/*
 * phys.h's accessors. The PAE tables identity-map the low 4 GiB with 2 MiB
 * pages (so the code keeps running when paging goes on) and the last 2 MiB
 * of linear space, the window, onto the target; we are not using what is
 * really there (BIOS ROM on a PC) while paging is on.
 */
#include "guest/lib/cpu.h"
#include "guest/lib/io.h"
#include "guest/lib/phys.h"

#define CR0_PG (1u << 31)
#define CR4_PAE (1u << 5)
#define PTE_P (1ull << 0)
#define PTE_RW (1ull << 1)
#define PTE_PWT (1ull << 3)
#define PTE_PCD (1ull << 4)
#define PTE_PS (1ull << 7)
#define HUGE (2u * MiB)
#define WINDOW 0xffe00000u

static u64 pdpt[4] __aligned(32);
static u64 pd[4][512] __aligned(4096);
static bool tables_ready;

unsigned int phys_addr_bits(void)
{
	if (cpuid(0x80000000, 0).eax >= 0x80000008)
		return cpuid(0x80000008, 0).eax & 0xff;
	return 36;
}

static void build_tables(void)
{
	for (u32 i = 0; i < 4; i++) {
		pdpt[i] = (u32)pd[i] | PTE_P; /* PAE PDPTEs have no RW bit */
		for (u32 j = 0; j < 512; j++)
			pd[i][j] = ((u64)i << 30) + (u64)j * HUGE + (PTE_P | PTE_RW | PTE_PS);
	}
	tables_ready = true;
}

static void rw32(u32 addr, bool write, u32 *val)
{
	if (write)
		mmio_write32(addr, *val);
	else
		*val = mmio_read32(addr);
}

/* pa must be 4-byte aligned: an access may not leave the window. */
static int access(u64 pa, bool write, u32 *val)
{
	u32 cr0, cr3, cr4;

	if (pa >> phys_addr_bits())
		return -1;
	if (pa < (1ull << 32)) {
		rw32((u32)pa, write, val);
		return 0;
	}
	if (!tables_ready)
		build_tables();
	cr0 = read_cr0();
	cr3 = read_cr3();
	cr4 = read_cr4();
	pd[3][511] = (pa & ~(u64)(HUGE - 1)) | PTE_P | PTE_RW | PTE_PS | PTE_PCD | PTE_PWT;
	write_cr3((u32)pdpt);
	write_cr4(cr4 | CR4_PAE);
	write_cr0(cr0 | CR0_PG);
	rw32(WINDOW + (u32)(pa & (HUGE - 1)), write, val);
	write_cr0(cr0);
	write_cr4(cr4);
	write_cr3(cr3);
	return 0;
}

int phys_read32(u64 pa, u32 *val)
{
	return access(pa, false, val);
}

int phys_write32(u64 pa, u32 val)
{
	return access(pa, true, &val);
}
