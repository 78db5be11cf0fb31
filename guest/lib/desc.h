/*
 * The guests' own GDT and TSS. A Multiboot loader leaves GDTR undefined, and
 * the first IRET out of an exception handler reloads CS from it, so every
 * guest installs these before anything can fault. Ring-3 segments and the
 * TSS (ring-0 stack) are there for user.h.
 */
#ifndef GUEST_DESC_H
#define GUEST_DESC_H

#define SEL_KCODE 0x08
#define SEL_KDATA 0x10
#define SEL_UCODE 0x1b /* 0x18 | RPL 3 */
#define SEL_UDATA 0x23 /* 0x20 | RPL 3 */
#define SEL_TSS 0x28

#ifndef __ASSEMBLER__
#include "guest/lib/types.h"

/* A 32-bit TSS (SDM vol. 3A, figure 8-2). */
struct tss32 {
	u32 link, esp0, ss0, esp1, ss1, esp2, ss2, cr3, eip, eflags;
	u32 eax, ecx, edx, ebx, esp, ebp, esi, edi;
	u32 es, cs, ss, ds, fs, gs, ldt;
	u16 trap, iomap_base;
} __packed;

void desc_init(void);
#endif

#endif
