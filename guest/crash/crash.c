/*
 * crash: a guest that ends badly on purpose, to check that Tide stops only
 * that guest and says why. One option picks how: hang (CLI; HLT: nothing can
 * wake it), triple (an empty IDT, then INT3: a triple fault) or io (a REP
 * OUTSB, which Tide does not emulate). On bare QEMU a triple fault resets the
 * machine and a hang hangs: run it under Tide only.
 */
#include "guest/lib/cmdline.h"
#include "guest/lib/exit.h"
#include "guest/lib/guest.h"
#include "guest/lib/printf.h"

const char guest_name[] = "crash";

int guest_main(u32 magic __unused, u32 mbi __unused)
{
	static const char *const known[] = { "hang", "triple", "io", NULL };

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
	} else if (cmdline_has("io")) {
		static const char msg[] = "xyz";

		printf("crash: string output to COM1\n");
		asm volatile("rep outsb" : : "S"(msg), "c"(3), "d"(0x3f8) : "memory");
	}
	printf("crash: still running: give hang, triple or io\n");
	exit(EXIT_USAGE);
}
