/*
 * crash: a guest that ends badly on purpose, to check that Tide stops only
 * that guest and says why. One option picks how: hang (CLI; HLT: nothing can
 * wake it), triple (an empty IDT, then INT3: a triple fault), pf_triple
 * (paging on with the IDT unmapped, then a #PF: #PF while delivering #PF is a
 * #DF, #PF while delivering #DF a triple fault; with shadow paging Tide
 * combines the faults itself) or io (a REP OUTSB, which Tide does not
 * emulate). On bare QEMU a triple fault resets the
 * machine and a hang hangs: run it under Tide only.
 */
#include "guest/lib/cmdline.h"
#include "guest/lib/cpu.h"
#include "guest/lib/exit.h"
#include "guest/lib/guest.h"
#include "guest/lib/printf.h"

const char guest_name[] = "crash";

#define PDE_4M 0x83u /* present, writable, 4 MiB page */
#define CR4_PSE (1u << 4)
#define CR0_PG (1u << 31)

/* 32-bit paging with the first 4 MiB identity-mapped, the IDT moved to 1 GiB (unmapped). */
static void pagefault_triple(void)
{
	static u32 pd[1024] __attribute__((aligned(4096)));
	static const struct {
		u16 limit;
		u32 base;
	} __attribute__((packed)) far_idt = { 0x7ff, 0x40000000 };

	pd[0] = PDE_4M;
	printf("crash: paging on, IDT unmapped, touching an unmapped page\n");
	write_cr3((u32)pd);
	write_cr4(read_cr4() | CR4_PSE);
	write_cr0(read_cr0() | CR0_PG);
	asm volatile("lidt %0; movl 0x80000000, %%eax" : : "m"(far_idt) : "eax", "memory");
}

int guest_main(u32 magic __unused, u32 mbi __unused)
{
	static const char *const known[] = { "hang", "triple", "pf_triple", "io", NULL };

	cmdline_check(known);
	if (cmdline_has("hang")) {
		printf("crash: halting with interrupts disabled\n");
		asm volatile("cli; hlt");
	} else if (cmdline_has("triple")) {
		static const struct {
			u16 limit;
			u32 base;
		} __attribute__((packed)) empty = { 0, 0 };

		printf("crash: loading an empty IDT and raising #BP\n");
		asm volatile("lidt %0; int3" : : "m"(empty));
	} else if (cmdline_has("pf_triple")) {
		pagefault_triple();
	} else if (cmdline_has("io")) {
		static const char msg[] = "xyz";

		printf("crash: string output to COM1\n");
		asm volatile("rep outsb" : : "S"(msg), "c"(3), "d"(0x3f8) : "memory");
	}
	printf("crash: still running: give hang, triple, pf_triple or io\n");
	exit(EXIT_USAGE);
}
