/* Ending a run: power off the machine, or halt, as poweroff= says. */
#ifndef TIDE_X86_POWEROFF_H
#define TIDE_X86_POWEROFF_H

#include "kernel/types.h"

enum poweroff_mode {
	POWEROFF_HALT, /* stop the CPU, leave the machine on */
	POWEROFF_QEMU, /* isa-debug-exit at port 0xf4 */
	POWEROFF_BOCHS, /* "Shutdown" to port 0x8900 */
	POWEROFF_ACPI, /* S5 through the FADT's PM1 control blocks */
};

extern enum poweroff_mode poweroff_mode;

/* Physical address of the RSDP, if the boot loader gave one (else 0). */
extern u64 acpi_rsdp_hint;

/*
 * Prints `tide: power off (<reason>)` and turns the machine off. `success`
 * becomes the exit status where the method has one (QEMU: 0 or 1, which
 * QEMU reports as exit code 1 or 3). Falls back to halting if the method
 * fails. Never returns.
 */
__noreturn void machine_poweroff(bool success, const char *reason);

/* Finds the ACPI S5 sleep type and PM1 control ports (arch/x86/acpi.c). */
struct acpi_s5 {
	u16 pm1a_cnt, pm1b_cnt;
	u16 slp_typa, slp_typb;
	u16 smi_cmd;
	u8 acpi_enable;
};
int acpi_find_s5(struct acpi_s5 *s5);

#endif
