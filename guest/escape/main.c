/*
 * escape: a guest that tries to break out of Tide and must find itself
 * contained. It counts the checks that failed ("ESCAPED") and exits 1 if
 * there were any, 0 otherwise. On bare QEMU there is nothing to escape
 * from: it runs the portable checks as a self-test and exits 0 when they
 * hold.
 *
 * Options: all=1 runs the Tide-only checks on bare hardware too (except the
 * hypercalls from ring 0 and CR4.VMXE), to see what a machine without Tide
 * does; expect ESCAPED lines and exit status 1. cr4=0 leaves out the last
 * check, CR4.VMXE (see cpu.c: on QEMU TCG it needs Tide to intercept CR4
 * writes, or the guest dies).
 */
#include "escape.h"
#include "guest/lib/cmdline.h"
#include "guest/lib/exit.h"
#include "guest/lib/guest.h"
#include "guest/lib/multiboot.h"
#include "guest/lib/printf.h"
#include "guest/lib/tide.h"

const char guest_name[] = "escape";

bool under_tide;
bool all_checks;
u64 ram_end;
static int checks, escapes;

void report(const char *name, bool contained, const char *why, ...)
{
	__builtin_va_list ap;

	checks++;
	printf("escape: %s: %s", name, contained ? "contained" : "ESCAPED");
	if (!contained)
		escapes++;
	if (why) {
		printf(" (");
		__builtin_va_start(ap, why);
		vprintf(why, ap);
		__builtin_va_end(ap);
		printf(")");
	}
	printf("\n");
}

void skip(const char *name, const char *why, ...)
{
	__builtin_va_list ap;

	printf("escape: %s: not checked (", name);
	__builtin_va_start(ap, why);
	vprintf(why, ap);
	__builtin_va_end(ap);
	printf(")\n");
}

bool nothing_there(u64 addr)
{
	return ram_end && addr >= ram_end && !mb_map_type(addr);
}

int guest_main(u32 magic __unused, u32 mbi __unused)
{
	static const char *const known[] = { "all", "cr4", NULL };
	u64 all = 0, cr4 = 1;

	cmdline_check(known);
	cmdline_u64("all", &all);
	cmdline_u64("cr4", &cr4);
	under_tide = tide_detect();
	all_checks = under_tide || all;
	ram_end = mb_ram_end();
	if (under_tide) {
		printf("escape: under Tide (ABI %u, features 0x%x), RAM to 0x%llx\n",
		       tide.abi_version, tide.features, ram_end);
	} else {
		printf("escape: not under Tide, nothing to check\n");
		printf("escape: self-test: the checks that hold without a hypervisor%s\n",
		       all_checks ? ", and the others (all=1)" : "");
	}

	check_cpu();
	check_devices();
	check_hypercalls();
	check_memory(); /* it switches paging on and off */
	if (under_tide && cr4)
		check_cr4_vmxe(); /* last: it hangs bare QEMU TCG, even with all=1 */
	else if (under_tide)
		skip("CR4.VMXE", "cr4=0");

	printf("escape: %d escapes in %d checks\n", escapes, checks);
	return escapes ? EXIT_FAIL : EXIT_OK;
}
