/*
 * Host local APIC timer and the legacy PICs (see arch/x86/lapic.h). The
 * timer is calibrated once against PIT channel 2, which needs no interrupt:
 * we count LAPIC ticks while the PIT counts down 10 ms.
 */
#include "arch/x86/cpu.h"
#include "arch/x86/io.h"
#include "arch/x86/lapic.h"
#include "arch/x86/paging.h"
#include "kernel/errno.h"
#include "kernel/printk.h"

#define MSR_APIC_BASE 0x1b
#define LAPIC_EOI 0xb0
#define LAPIC_SVR 0xf0
#define LAPIC_LVT_TIMER 0x320
#define LAPIC_TIMER_INITIAL 0x380
#define LAPIC_TIMER_CURRENT 0x390
#define LAPIC_TIMER_DIVIDE 0x3e0
#define LAPIC_SVR_ENABLE BIT(8)
#define LAPIC_LVT_MASKED BIT(16)
#define DIVIDE_BY_16 0x3

#define PIT_HZ 1193182
#define CALIBRATE_MS 10

volatile bool lapic_timer_fired;
u64 tsc_ticks_per_ms;
static volatile u32 *lapic;
static u64 ticks_per_ms;

static u32 lapic_read(u32 reg)
{
	return lapic[reg / 4];
}

static void lapic_write(u32 reg, u32 v)
{
	lapic[reg / 4] = v;
}

void pic_disable(void)
{
	/* ICW1-4: vectors 0x20-0x2f, cascade on IRQ2, 8086 mode; then mask all */
	outb(0x20, 0x11);
	outb(0xa0, 0x11);
	outb(0x21, 0x20);
	outb(0xa1, 0x28);
	outb(0x21, 0x04);
	outb(0xa1, 0x02);
	outb(0x21, 0x01);
	outb(0xa1, 0x01);
	outb(0x21, 0xff);
	outb(0xa1, 0xff);
}

static u64 calibrate(void)
{
	u16 count = PIT_HZ * CALIBRATE_MS / 1000;
	u32 start, end;
	u64 tsc_start;

	/* PIT channel 2, mode 0, gated by port 0x61 bit 0, speaker off */
	outb(0x61, (inb(0x61) & ~0x02) | 0x01);
	outb(0x43, 0xb0);
	outb(0x42, count & 0xff);
	outb(0x42, count >> 8);
	lapic_write(LAPIC_TIMER_DIVIDE, DIVIDE_BY_16);
	lapic_write(LAPIC_LVT_TIMER, LAPIC_LVT_MASKED | LAPIC_TIMER_VECTOR);
	lapic_write(LAPIC_TIMER_INITIAL, 0xffffffff);
	start = lapic_read(LAPIC_TIMER_CURRENT);
	tsc_start = rdtsc();
	for (u64 spins = 0; !(inb(0x61) & 0x20); spins++)
		if (spins > 100000000)
			return 0; /* no PIT: no calibration */
	end = lapic_read(LAPIC_TIMER_CURRENT);
	tsc_ticks_per_ms = (rdtsc() - tsc_start) / CALIBRATE_MS;
	lapic_write(LAPIC_TIMER_INITIAL, 0);
	return (start - end) / CALIBRATE_MS;
}

int lapic_init(void)
{
	u64 base = rdmsr(MSR_APIC_BASE) & 0xfffff000;

	if (paging_map_direct(base, PAGE_SIZE, true))
		return -ENOMEM;
	lapic = phys_to_virt(base);
	lapic_write(LAPIC_SVR, LAPIC_SVR_ENABLE | LAPIC_SPURIOUS_VECTOR);
	ticks_per_ms = calibrate();
	if (!ticks_per_ms) {
		pr_err("lapic: timer calibration failed\n");
		return -ENODEV;
	}
	pr_info("lapic: timer at %lu ticks/ms (divide by 16), TSC at %lu ticks/ms\n",
		ticks_per_ms, tsc_ticks_per_ms);
	return 0;
}

void lapic_timer_oneshot(u64 us)
{
	u64 ticks = ticks_per_ms * us / 1000;

	lapic_timer_fired = false;
	if (!lapic)
		return;
	lapic_write(LAPIC_LVT_TIMER, LAPIC_TIMER_VECTOR);
	lapic_write(LAPIC_TIMER_INITIAL, us ? (u32)MAX(MIN(ticks, 0xffffffffUL), 1UL) : 0);
}

void irq_service_pending(void)
{
	asm volatile("sti; nop; cli" ::: "memory");
}

void irq_dispatch(unsigned int vector)
{
	if (vector == LAPIC_SPURIOUS_VECTOR)
		return; /* spurious: no EOI */
	if (vector == LAPIC_TIMER_VECTOR)
		lapic_timer_fired = true;
	else
		pr_warn("tide: unexpected interrupt vector %#x\n", vector);
	if (lapic)
		lapic_write(LAPIC_EOI, 0);
}
