/*
 * Self-tests of exception handling and of the host address space.
 *
 * selftest=exceptions raises faults on purpose at instructions listed in the
 * fixup table and checks that each arrived with the right vector, and that
 * the page protections are what arch/x86/paging.c promises.
 *
 * The crash_* groups are destructive: each raises one fault with no fixup
 * and so ends the run through the panic path; the test suite checks the
 * panic report. They are never part of selftest=all.
 */
#include "arch/x86/cpu.h"
#include "arch/x86/desc.h"
#include "arch/x86/extable.h"
#include "arch/x86/paging.h"
#include "kernel/errno.h"
#include "kernel/panic.h"
#include "mm/page_table.h"
#include "kernel/printk.h"
#include "kernel/selftest.h"
#include "kernel/selftest_table.h"

#define GROUP "exceptions"

extern u8 __text_start[], __rodata_start[];

/* Runs `insn` with a fixup; returns the vector it raised, or -1. R11 is scratch. */
#define PROBE(insn, ...)                                                     \
	({                                                                   \
		extable_last_vector = -1;                                    \
		asm volatile("1: " insn "\n2:\n\t" EXTABLE_ENTRY("1b", "2b") \
			     : : __VA_ARGS__ : "r11", "memory");                  \
		extable_last_vector;                                         \
	})

static void exceptions_selftest(void)
{
	u64 value;
	u32 zero = 0;

	selftest_check(GROUP, PROBE("ud2", "r"(0)) == 6, "invalid_opcode");
	selftest_check(GROUP, PROBE("int3", "r"(0)) == 3, "breakpoint");
	selftest_check(GROUP, PROBE("divl %0", "r"(zero), "a"(1), "d"(0)) == 0, "divide_error");
	selftest_check(GROUP, PROBE("movq (%0), %%r11", "r"(0UL)) == 14,
		       "null_page_unmapped");
	selftest_check(GROUP, PROBE("movq (%0), %%r11", "r"(0x0000800000000000UL)) == 13,
		       "non_canonical_general_protection");
	/*
	 * Real CPUs and Bochs raise #GP for an MSR that does not exist; QEMU's
	 * TCG reads it as 0. Either way rdmsr_safe must come back, truthfully.
	 */
	extable_last_vector = -1;
	int err = rdmsr_safe(0xdeadbeef, &value);

	selftest_check(GROUP, (err == -EIO && extable_last_vector == 13) ||
				      (err == 0 && value == 0 && extable_last_vector == -1),
		       "rdmsr_safe_survives_bad_msr");
	/* the page protections of the image */
	selftest_check(GROUP, PROBE("movb $0, (%0)", "r"(__text_start)) == 14, "text_read_only");
	selftest_check(GROUP, PROBE("movb $0, (%0)", "r"(__rodata_start)) == 14, "rodata_read_only");
	u64 attrs = 0;

	selftest_check(GROUP, !boot_cpu.nx || ((rdmsr(MSR_EFER) & EFER_NXE) &&
					       !paging_lookup(DIRECT_MAP_BASE + MiB, NULL, &attrs) &&
					       !(attrs & PT_EXEC)),
		       "direct_map_not_executable");
	bool guards_unmapped = true;

	for (unsigned int i = 0; i < nr_stack_guards; i++)
		guards_unmapped &= !paging_is_mapped(stack_guards[i].guard);
	selftest_check(GROUP, guards_unmapped, "stack_guard_pages_unmapped");
}
DEFINE_SELFTEST(exceptions, GROUP, exceptions_selftest);

static void crash_page_fault(void)
{
	pr_emerg("selftest: dereferencing an unmapped address\n");
	*(volatile u64 *)0x1000 = 1;
}
DEFINE_CRASH_TEST(crash_pf, "crash_pf", crash_page_fault);

static void crash_general_protection(void)
{
	pr_emerg("selftest: reading a non-canonical address\n");
	(void)*(volatile u64 *)0x0000900000000000UL;
}
DEFINE_CRASH_TEST(crash_gp, "crash_gp", crash_general_protection);

static void crash_divide(void)
{
	volatile u32 zero = 0;

	pr_emerg("selftest: dividing by zero\n");
	asm volatile("divl %0" : : "r"(zero), "a"(1), "d"(0));
}
DEFINE_CRASH_TEST(crash_de, "crash_de", crash_divide);

/* Far deeper than any stack: only the guard page stops it. */
static int __attribute__((noinline)) recurse(volatile u8 *prev, u64 depth)
{
	volatile u8 frame[512];

	if (!depth)
		return 0;
	frame[0] = prev ? prev[0] + 1 : 0;
	return recurse(frame, depth - 1) + frame[1];
}

static void crash_stack_overflow(void)
{
	pr_emerg("selftest: overflowing the boot stack\n");
	recurse(NULL, ~0UL);
}
DEFINE_CRASH_TEST(crash_stack, "crash_stack", crash_stack_overflow);

static void crash_panic(void)
{
	panic("selftest: deliberate panic, value %d", 42);
}
DEFINE_CRASH_TEST(crash_panic, "crash_panic", crash_panic);
