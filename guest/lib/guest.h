/*
 * What a test guest provides to the library and what it gets: the guest
 * defines guest_name (the prefix of the library's own messages) and
 * guest_main(); entry.asm calls guest_lib_init() then guest_main() with the
 * loader's EAX and EBX, and exit()s with its return value.
 */
#ifndef GUEST_GUEST_H
#define GUEST_GUEST_H

#include "guest/lib/types.h"

extern const char guest_name[];
int guest_main(u32 magic, u32 mbi);

/* Console, GDT/TSS, IDT, a copy of the Multiboot info, options. */
void guest_lib_init(u32 magic, u32 mbi);

/* First and last address of the loaded image (guest.ld). */
extern char __image_start[], _end[];

#endif
