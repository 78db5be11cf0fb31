/*
 * nullcall: the floor of the hypercall path. It makes N hypercalls with a
 * number Tide does not define (0: -ENOSYS, nothing to do) and reports the
 * average round trip in RDTSC ticks; under `-icount shift=0` those are
 * instructions. On bare hardware there is no Tide to call: it says so.
 *
 * Options: calls=N (10000).
 */
#include "guest/lib/cmdline.h"
#include "guest/lib/cpu.h"
#include "guest/lib/div64.h"
#include "guest/lib/exit.h"
#include "guest/lib/guest.h"
#include "guest/lib/printf.h"
#include "guest/lib/errno.h"
#include "guest/lib/tide.h"

const char guest_name[] = "nullcall";

int guest_main(u32 magic __unused, u32 mbi __unused)
{
	static const char *const known[] = { "calls", NULL };
	u64 calls = 10000, start, ticks;

	cmdline_check(known);
	if (cmdline_u64("calls", &calls) < 0 || !calls || calls > 100000000) {
		printf("nullcall: calls= must be from 1 to 100000000\n");
		exit(EXIT_USAGE);
	}
	if (!tide_detect()) {
		printf("nullcall: not under Tide, nothing to measure\n");
		exit(EXIT_OK);
	}
	start = rdtsc();
	for (u64 i = 0; i < calls; i++) {
		if (hypercall(0, 0, 0, 0, 0) != -ENOSYS) {
			printf("nullcall: hypercall 0 did not return -ENOSYS\n");
			exit(EXIT_FAIL);
		}
	}
	ticks = rdtsc() - start;
	printf("nullcall: %llu calls, %llu ticks per call\n", calls, div_u64(ticks, (u32)calls));
	exit(EXIT_OK);
}
