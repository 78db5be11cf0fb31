/*
 * What happens when the CPU raises an exception in Tide: a listed fixup
 * (arch/x86/extable.h) resumes the code; anything else is a bug in Tide, so
 * we print everything that helps find it (vector, error code, RIP, CR2, the
 * general registers, a frame-pointer backtrace) and stop the machine. panic()
 * reaches the same dump through a UD2, so there is one dump path.
 */
#include "arch/x86/cpu.h"
#include "arch/x86/desc.h"
#include "arch/x86/extable.h"
#include "arch/x86/lapic.h"
#include "arch/x86/paging.h"
#include "arch/x86/poweroff.h"
#include "arch/x86/regs.h"
#include "arch/x86/symbols.h"
#include "kernel/errno.h"
#include "kernel/panic.h"
#include "kernel/printk.h"

volatile int extable_last_vector = -1;
extern const struct extable_entry __ex_table_start[], __ex_table_end[];

static const char *const exception_names[32] = {
	"#DE divide error", "#DB debug", "NMI", "#BP breakpoint",
	"#OF overflow", "#BR bound range", "#UD invalid opcode", "#NM device not available",
	"#DF double fault", "coprocessor segment overrun", "#TS invalid TSS", "#NP segment not present",
	"#SS stack fault", "#GP general protection", "#PF page fault", "reserved 15",
	"#MF x87 floating point", "#AC alignment check", "#MC machine check", "#XM SIMD floating point",
	"#VE virtualization", "#CP control protection", "reserved 22", "reserved 23",
	"reserved 24", "reserved 25", "reserved 26", "reserved 27",
	"#HV hypervisor injection", "#VC VMM communication", "#SX security", "reserved 31",
};

static char panic_message[256];
static volatile int panic_depth;

int rdmsr_safe(u32 msr, u64 *val)
{
	u32 lo = 0, hi = 0;
	int err = 0;

	asm volatile("1: rdmsr\n\t"
		     "jmp 3f\n"
		     "2: movl %[eio], %[err]\n"
		     "3:\n\t" EXTABLE_ENTRY("1b", "2b")
		     : [err] "+r"(err), "+a"(lo), "+d"(hi)
		     : "c"(msr), [eio] "i"(-EIO));
	*val = ((u64)hi << 32) | lo;
	return err;
}

int wrmsr_safe(u32 msr, u64 val)
{
	int err = 0;

	asm volatile("1: wrmsr\n\t"
		     "jmp 3f\n"
		     "2: movl %[eio], %[err]\n"
		     "3:\n\t" EXTABLE_ENTRY("1b", "2b")
		     : [err] "+r"(err)
		     : "c"(msr), "a"((u32)val), "d"((u32)(val >> 32)), [eio] "i"(-EIO)
		     : "memory");
	return err;
}

static bool apply_fixup(struct regs *r)
{
	/* #BP is a trap: RIP already points past the one-byte INT3 */
	u64 rip = r->vector == 3 ? r->rip - 1 : r->rip;

	for (const struct extable_entry *e = __ex_table_start; e < __ex_table_end; e++) {
		if (e->insn == rip) {
			extable_last_vector = (int)r->vector;
			r->rip = e->fixup;
			return true;
		}
	}
	return false;
}

static bool address_is_readable(u64 addr)
{
	return paging_is_mapped(addr) && paging_is_mapped(addr + 15);
}

void print_backtrace(u64 rbp)
{
	pr_emerg("backtrace:\n");
	for (int depth = 0; depth < 32 && rbp; depth++) {
		if (!IS_ALIGNED(rbp, 8) || !address_is_readable(rbp)) {
			pr_emerg("  (frame pointer %#lx is not readable)\n", rbp);
			break;
		}
		u64 *frame = (u64 *)rbp;
		u64 ret = frame[1], offset;
		/*
		 * A return address follows its call, which may be the last
		 * instruction of the function (a call of a noreturn one):
		 * look up the byte before it, print the offset of ret itself.
		 */
		const char *name = symbol_lookup(ret - 1, &offset);

		if (name)
			pr_emerg("  [%2d] %#018lx %s+%#lx\n", depth, ret, name, offset + 1);
		else
			pr_emerg("  [%2d] %#018lx\n", depth, ret);
		rbp = frame[0];
	}
}

static void dump_registers(const struct regs *r)
{
	u64 offset;
	const char *name = symbol_lookup(r->rip, &offset);

	/* the function of RIP last: tests match the registers from the start */
	if (name)
		pr_emerg("rip=%#018lx rsp=%#018lx rflags=%#010lx cs=%#lx ss=%#lx <%s+%#lx>\n",
			 r->rip, r->rsp, r->rflags, r->cs, r->ss, name, offset);
	else
		pr_emerg("rip=%#018lx rsp=%#018lx rflags=%#010lx cs=%#lx ss=%#lx\n",
			 r->rip, r->rsp, r->rflags, r->cs, r->ss);
	pr_emerg("rax=%#018lx rbx=%#018lx rcx=%#018lx rdx=%#018lx\n",
		 r->rax, r->rbx, r->rcx, r->rdx);
	pr_emerg("rsi=%#018lx rdi=%#018lx rbp=%#018lx\n", r->rsi, r->rdi, r->rbp);
	pr_emerg("r8 =%#018lx r9 =%#018lx r10=%#018lx r11=%#018lx\n",
		 r->r8, r->r9, r->r10, r->r11);
	pr_emerg("r12=%#018lx r13=%#018lx r14=%#018lx r15=%#018lx\n",
		 r->r12, r->r13, r->r14, r->r15);
	pr_emerg("cr0=%#018lx cr2=%#018lx cr3=%#018lx cr4=%#018lx\n",
		 read_cr0(), read_cr2(), read_cr3(), read_cr4());
}

void exception_handler(struct regs *r)
{
	if (r->vector >= 32) {
		irq_dispatch(r->vector);
		return;
	}
	if (apply_fixup(r))
		return;

	if (panic_depth++ > 0) {
		/* faulted while reporting a fault: say the least and stop */
		pr_emerg("tide: PANIC: nested exception %lu at rip=%#lx\n", r->vector, r->rip);
		machine_poweroff(false, "nested panic");
	}
	console_loglevel = LOG_DEBUG;

	bool is_panic = r->vector == 6 && panic_message[0];
	u64 cr2 = read_cr2();

	if (is_panic) {
		pr_emerg("tide: PANIC: %s\n", panic_message);
	} else {
		pr_emerg("tide: PANIC: unexpected exception %s (vector %lu) error=%#lx rip=%#lx cr2=%#lx\n",
			 exception_names[r->vector & 31], r->vector, r->error_code, r->rip, cr2);
		const struct stack_guard *g = stack_guard_of(cr2);

		if ((r->vector == 14 || r->vector == 8) && g)
			pr_emerg("tide: kernel stack overflow: hit the guard page of the %s stack at %#lx\n",
				 g->name, g->guard);
	}
	dump_registers(r);
	print_backtrace(r->rbp);
	machine_poweroff(false, is_panic ? "panic" : "exception");
}

void panic(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(panic_message, sizeof(panic_message), fmt, ap);
	va_end(ap);
	if (!panic_message[0])
		panic_message[0] = '?';
	/* the #UD handler prints the message with the registers of this point */
	asm volatile("ud2");
	__builtin_unreachable();
}
