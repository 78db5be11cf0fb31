/*
 * The end of a run. Under the test harness Tide powers the emulator off
 * itself, so a run ends the moment Tide is done and the exit status carries
 * success or failure; on hardware, ACPI S5 or a plain halt.
 */
#include "arch/x86/cpu.h"
#include "arch/x86/io.h"
#include "arch/x86/poweroff.h"
#include "kernel/printk.h"

#define QEMU_DEBUG_EXIT_PORT 0xf4
#define BOCHS_SHUTDOWN_PORT 0x8900
#define ACPI_SLP_EN BIT(13)
#define ACPI_SCI_EN BIT(0)

enum poweroff_mode poweroff_mode = POWEROFF_HALT;
u64 acpi_rsdp_hint;

static void acpi_poweroff(void)
{
	struct acpi_s5 s5;

	if (acpi_find_s5(&s5)) {
		pr_err("tide: ACPI power off not possible, halting instead\n");
		return;
	}
	/* firmware still in legacy mode: ask it to hand over to ACPI */
	if (s5.smi_cmd && s5.acpi_enable && !(inw(s5.pm1a_cnt) & ACPI_SCI_EN)) {
		outb(s5.smi_cmd, s5.acpi_enable);
		for (int i = 0; i < 1000000 && !(inw(s5.pm1a_cnt) & ACPI_SCI_EN); i++)
			cpu_relax();
	}
	outw(s5.pm1a_cnt, (s5.slp_typa << 10) | ACPI_SLP_EN);
	if (s5.pm1b_cnt)
		outw(s5.pm1b_cnt, (s5.slp_typb << 10) | ACPI_SLP_EN);
	for (int i = 0; i < 10000000; i++)
		cpu_relax();
	pr_err("tide: ACPI power off did not take effect, halting instead\n");
}

void machine_poweroff(bool success, const char *reason)
{
	static const char shutdown[] = "Shutdown";

	pr_emerg("tide: power off (%s)\n", reason);
	switch (poweroff_mode) {
	case POWEROFF_QEMU:
		outl(QEMU_DEBUG_EXIT_PORT, success ? 0 : 1);
		break;
	case POWEROFF_BOCHS:
		for (const char *p = shutdown; *p; p++)
			outb(BOCHS_SHUTDOWN_PORT, *p);
		break;
	case POWEROFF_ACPI:
		acpi_poweroff();
		break;
	case POWEROFF_HALT:
		break;
	}
	pr_emerg("tide: halted\n");
	halt_forever();
}
