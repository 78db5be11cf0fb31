/*
 * The IDT and trap_handler(): fixups for TRY (trap.h), a loud exit for
 * everything else. Vectors 0-31 are the CPU exceptions; user.h adds its
 * ring-3 return gate. External interrupts stay masked (IF=0) in the guests.
 */
#include "guest/lib/cpu.h"
#include "guest/lib/desc.h"
#include "guest/lib/exit.h"
#include "guest/lib/guest.h"
#include "guest/lib/printf.h"
#include "guest/lib/trap.h"

struct trap_frame {
	u32 edi, esi, ebp, esp_pushad, ebx, edx, ecx, eax; /* PUSHAD */
	u32 vector, error_code;
	u32 eip, cs, eflags;
	u32 user_esp, user_ss; /* only when trapping from ring 3 */
};

struct extable_entry {
	u32 insn, fixup;
};

extern const struct extable_entry __extable_start[], __extable_end[];
extern const u32 trap_entries[32];

volatile struct trap_info trap_last = { TRAP_NONE, 0, 0 };
static u64 idt[256] __aligned(8);
static volatile int trap_depth;

static const char *const names[32] = {
	"#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM",
	"#DF", "#CSO", "#TS", "#NP", "#SS", "#GP", "#PF", "#15",
	"#MF", "#AC", "#MC", "#XM", "#VE", "#CP", "#22", "#23",
	"#24", "#25", "#26", "#27", "#HV", "#VC", "#SX", "#31",
};

const char *trap_name(int vector)
{
	if (vector == TRAP_NONE)
		return "none";
	if (vector >= 0 && vector < 32)
		return names[vector];
	return "#?";
}

void idt_set_gate(int vector, u32 handler, int dpl)
{
	/* 32-bit interrupt gate: IF cleared on entry */
	idt[vector] = (handler & 0xffff) | ((u64)SEL_KCODE << 16) |
		      ((u64)(0x8e | (dpl << 5)) << 40) |
		      ((u64)(handler >> 16) << 48);
}

void trap_init(void)
{
	struct __packed {
		u16 limit;
		u32 base;
	} idtr = { sizeof(idt) - 1, (u32)idt };

	for (int v = 0; v < 32; v++)
		idt_set_gate(v, trap_entries[v], 0);
	asm volatile("lidt %0" : : "m"(idtr));
}

void trap_handler(struct trap_frame *f);

void trap_handler(struct trap_frame *f)
{
	const struct extable_entry *e;

	if (trap_depth == 0) {
		for (e = __extable_start; e < __extable_end; e++) {
			if (e->insn == f->eip) {
				trap_last.vector = (int)f->vector;
				trap_last.error_code = f->error_code;
				trap_last.eip = f->eip;
				f->eip = e->fixup;
				return;
			}
		}
	}
	/* An exception while reporting one: the console is no use now. */
	if (trap_depth++)
		exit(EXIT_EXCEPTION);
	printf("%s: unexpected exception %s (vector %u, error code 0x%x) at eip 0x%08x"
	       " cs 0x%x eflags 0x%x\n",
	       guest_name, trap_name((int)f->vector), f->vector, f->error_code, f->eip,
	       f->cs, f->eflags);
	printf("%s:   eax 0x%08x ebx 0x%08x ecx 0x%08x edx 0x%08x\n", guest_name,
	       f->eax, f->ebx, f->ecx, f->edx);
	printf("%s:   esi 0x%08x edi 0x%08x ebp 0x%08x cr0 0x%08x cr4 0x%08x\n",
	       guest_name, f->esi, f->edi, f->ebp, read_cr0(), read_cr4());
	exit(EXIT_EXCEPTION);
}
