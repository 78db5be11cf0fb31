/*
 * The GDT and the TSS. Tide runs in ring 0 only, so the TSS is there for its
 * interrupt stack table: a double fault (which is what a kernel stack
 * overflow becomes), an NMI and a machine check each get a stack of their
 * own, so their handlers still run when the stack that faulted is unusable.
 */
#include "arch/x86/desc.h"
#include "kernel/string.h"

struct tss {
	u32 reserved0;
	u64 rsp[3];
	u64 reserved1;
	u64 ist[7];
	u64 reserved2;
	u16 reserved3;
	u16 iomap_base;
} __packed;

struct interrupt_stack {
	u8 guard[PAGE_SIZE];
	u8 stack[PAGE_SIZE * 2];
} __aligned(PAGE_SIZE);

static struct interrupt_stack ist_stacks[3];
static struct tss tss;

extern u8 boot_stack_guard[];

const struct stack_guard stack_guards[] = {
	{ (u64)boot_stack_guard, "boot" },
	{ (u64)ist_stacks[0].guard, "double-fault" },
	{ (u64)ist_stacks[1].guard, "nmi" },
	{ (u64)ist_stacks[2].guard, "machine-check" },
};
const unsigned int nr_stack_guards = ARRAY_SIZE(stack_guards);

const struct stack_guard *stack_guard_of(u64 addr)
{
	for (unsigned int i = 0; i < nr_stack_guards; i++)
		if (addr >= stack_guards[i].guard && addr < stack_guards[i].guard + PAGE_SIZE)
			return &stack_guards[i];
	return NULL;
}

static u64 gdt[5] __aligned(16);

struct table_pointer {
	u16 limit;
	u64 base;
} __packed;

void gdt_init(void)
{
	u64 base = (u64)&tss;
	u64 limit = sizeof(tss) - 1;

	gdt[0] = 0;
	gdt[1] = 0x00af9a000000ffff; /* 64-bit code, ring 0 */
	gdt[2] = 0x00cf92000000ffff; /* data */
	/* 16-byte available 64-bit TSS descriptor (type 9) */
	gdt[3] = (limit & 0xffff) | ((base & 0xffffff) << 16) | (0x89UL << 40) |
		 (((limit >> 16) & 0xf) << 48) | (((base >> 24) & 0xff) << 56);
	gdt[4] = base >> 32;

	memset(&tss, 0, sizeof(tss));
	for (int i = 0; i < 3; i++)
		tss.ist[i] = (u64)ist_stacks[i].stack + sizeof(ist_stacks[i].stack);
	tss.iomap_base = sizeof(tss); /* no I/O bitmap */

	struct table_pointer gdtr = { sizeof(gdt) - 1, (u64)gdt };

	asm volatile("lgdt %0\n\t"
		     "pushq %1\n\t"
		     "leaq 1f(%%rip), %%rax\n\t"
		     "pushq %%rax\n\t"
		     "lretq\n"
		     "1:\n\t"
		     "movw %w2, %%ds\n\t"
		     "movw %w2, %%es\n\t"
		     "movw %w2, %%ss\n\t"
		     "ltr %w3"
		     :
		     : "m"(gdtr), "i"(GDT_KERNEL_CS), "r"(GDT_KERNEL_DS), "r"(GDT_TSS)
		     : "rax", "memory");
}
