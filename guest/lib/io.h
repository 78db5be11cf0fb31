/*
 * Port I/O and MMIO accessors. MMIO goes through one plain MOV on purpose:
 * under Tide an access outside RAM is emulated by decoding the instruction,
 * and a compiler-chosen CMP or OR with a memory operand would test more of
 * the decoder than the memory layout.
 */
#ifndef GUEST_IO_H
#define GUEST_IO_H

#include "guest/lib/types.h"

static inline void outb(u16 port, u8 val)
{
	asm volatile("outb %0, %1" : : "a"(val), "Nd"(port));
}

static inline void outw(u16 port, u16 val)
{
	asm volatile("outw %0, %1" : : "a"(val), "Nd"(port));
}

static inline void outl(u16 port, u32 val)
{
	asm volatile("outl %0, %1" : : "a"(val), "Nd"(port));
}

static inline u8 inb(u16 port)
{
	u8 val;

	asm volatile("inb %1, %0" : "=a"(val) : "Nd"(port));
	return val;
}

static inline u16 inw(u16 port)
{
	u16 val;

	asm volatile("inw %1, %0" : "=a"(val) : "Nd"(port));
	return val;
}

static inline u32 inl(u16 port)
{
	u32 val;

	asm volatile("inl %1, %0" : "=a"(val) : "Nd"(port));
	return val;
}

static inline u32 mmio_read32(u32 addr)
{
	u32 val;

	asm volatile("movl (%1), %0" : "=r"(val) : "r"(addr) : "memory");
	return val;
}

static inline void mmio_write32(u32 addr, u32 val)
{
	asm volatile("movl %0, (%1)" : : "r"(val), "r"(addr) : "memory");
}

#endif
