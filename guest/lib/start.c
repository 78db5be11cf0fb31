/*
 * guest_lib_init(): what runs before guest_main. The GDT and IDT come
 * first so that even a fault while printing is reported, then the console
 * and the copy of the Multiboot info.
 */
#include "guest/lib/cmdline.h"
#include "guest/lib/desc.h"
#include "guest/lib/exit.h"
#include "guest/lib/guest.h"
#include "guest/lib/multiboot.h"
#include "guest/lib/printf.h"
#include "guest/lib/serial.h"
#include "guest/lib/trap.h"

void guest_lib_init(u32 magic, u32 mbi)
{
	desc_init();
	trap_init();
	serial_init();
	if (magic != MB_LOADER_MAGIC) {
		printf("%s: not started by a Multiboot loader (EAX 0x%08x)\n", guest_name, magic);
		exit(EXIT_USAGE);
	}
	mb_init(mbi);
	cmdline_init(mb_cmdline());
}
