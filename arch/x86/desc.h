/* Descriptor tables: GDT, TSS with its interrupt stacks, IDT. */
#ifndef TIDE_X86_DESC_H
#define TIDE_X86_DESC_H

#include "kernel/types.h"

#define GDT_KERNEL_CS 0x08
#define GDT_KERNEL_DS 0x10
#define GDT_TSS 0x18

/* IST slots in the TSS (1-based, as the IDT gate wants them) */
#define IST_DOUBLE_FAULT 1
#define IST_NMI 2
#define IST_MACHINE_CHECK 3

#define KERNEL_STACK_SIZE 16384 /* keep in sync with layout.inc */

void gdt_init(void);
void idt_init(void);

/* A stack with the unmapped guard page below it. */
struct stack_guard {
	u64 guard; /* address of the guard page */
	const char *name;
};

/* The guard pages of all of Tide's stacks, for paging and the panic path. */
extern const struct stack_guard stack_guards[];
extern const unsigned int nr_stack_guards;

/* The stack whose guard page holds addr, or NULL. */
const struct stack_guard *stack_guard_of(u64 addr);

#endif
