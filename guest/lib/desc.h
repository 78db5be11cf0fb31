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
void desc_init(void);
#endif

#endif
