/*
 * GDT (flat 4 GiB code and data for rings 0 and 3, one TSS) and the TSS,
 * whose ESP0 is the stack the CPU switches to when ring 3 traps to ring 0.
 * The TSS has no I/O bitmap: ring-3 IN/OUT raise #GP.
 */
#include "guest/lib/desc.h"
#include "guest/lib/types.h"

static struct tss32 tss;
static u8 ring0_stack[4096] __aligned(16);

static u64 gdt[6] __aligned(8) = {
	0,
	0x00cf9a000000ffffull, /* 0x08 ring-0 code */
	0x00cf92000000ffffull, /* 0x10 ring-0 data */
	0x00cffa000000ffffull, /* 0x18 ring-3 code */
	0x00cff2000000ffffull, /* 0x20 ring-3 data */
	0, /* 0x28 TSS, filled in at run time */
};

static u64 tss_descriptor(u32 base, u32 limit)
{
	return (limit & 0xffff) | ((u64)(base & 0xffffff) << 16) |
	       (0x89ull << 40) /* present, 32-bit available TSS */ |
	       ((u64)((limit >> 16) & 0xf) << 48) | ((u64)(base >> 24) << 56);
}

void desc_init(void)
{
	struct __packed {
		u16 limit;
		u32 base;
	} gdtr = { sizeof(gdt) - 1, (u32)gdt };

	tss.esp0 = (u32)(ring0_stack + sizeof(ring0_stack));
	tss.ss0 = SEL_KDATA;
	tss.iomap_base = sizeof(tss);
	gdt[SEL_TSS / 8] = tss_descriptor((u32)&tss, sizeof(tss) - 1);

	asm volatile("lgdt %0\n\t"
		     "ljmp %1, $1f\n"
		     "1:\n\t"
		     "mov %2, %%ds\n\t"
		     "mov %2, %%es\n\t"
		     "mov %2, %%fs\n\t"
		     "mov %2, %%gs\n\t"
		     "mov %2, %%ss\n\t"
		     "ltr %w3"
		     :
		     : "m"(gdtr), "i"(SEL_KCODE), "r"(SEL_KDATA), "r"(SEL_TSS)
		     : "memory");
}
