/*
 * The minimal PC each guest sees (kernel/vpc.c): COM1, the isa-debug-exit
 * port, the 8259 PICs, fw_cfg and an xAPIC page, as QEMU presents them to a
 * Multiboot kernel. Everything else reads as all ones and drops writes.
 */
#ifndef TIDE_VPC_H
#define TIDE_VPC_H

#include "kernel/types.h"

struct guest;

#define XAPIC_BASE 0xfee00000UL

void vpc_reset(struct guest *g);

/* A port access; `value` holds what is written, or receives what is read. */
void vpc_io(struct guest *g, u16 port, u8 size, bool in, u32 *value);

/*
 * An access to guest-physical gpa that is not RAM. Returns true if a device
 * claimed it; otherwise reads are all ones and writes are dropped, and the
 * first access to each page is logged.
 */
void vpc_mmio(struct guest *g, u64 gpa, u8 size, bool write, u64 *value);

/* Flushes a partial line of COM1 output (guest stopping). */
void vpc_flush_serial(struct guest *g);

#endif
