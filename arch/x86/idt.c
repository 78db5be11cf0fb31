/*
 * The IDT: gates for the 32 CPU exceptions and the 224 interrupt vectors
 * (arch/x86/exception_entry.asm). Tide runs with interrupts disabled except
 * for short windows in which it takes the LAPIC timer (arch/x86/lapic.c).
 */
#include "arch/x86/desc.h"

struct idt_gate {
	u16 offset_low;
	u16 selector;
	u8 ist;
	u8 type_attr;
	u16 offset_mid;
	u32 offset_high;
	u32 reserved;
} __packed;

static struct idt_gate idt[256] __aligned(16);
extern const u64 exception_entries[256];

static void set_gate(unsigned int vector, u64 handler, unsigned int ist)
{
	struct idt_gate *g = &idt[vector];

	g->offset_low = handler & 0xffff;
	g->selector = GDT_KERNEL_CS;
	g->ist = ist;
	g->type_attr = 0x8e; /* present, ring 0, 64-bit interrupt gate */
	g->offset_mid = (handler >> 16) & 0xffff;
	g->offset_high = handler >> 32;
	g->reserved = 0;
}

void idt_init(void)
{
	struct {
		u16 limit;
		u64 base;
	} __packed idtr = { sizeof(idt) - 1, (u64)idt };

	for (unsigned int v = 0; v < 256; v++)
		set_gate(v, exception_entries[v], 0);
	set_gate(2, exception_entries[2], IST_NMI);
	set_gate(8, exception_entries[8], IST_DOUBLE_FAULT);
	set_gate(18, exception_entries[18], IST_MACHINE_CHECK);
	asm volatile("lidt %0" : : "m"(idtr));
}
