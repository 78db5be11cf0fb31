/*
 * Device-level escapes: the local APIC page (it must be an APIC, and an IPI
 * to an APIC ID that is not ours must neither reach anything nor hang us)
 * and I/O ports Tide does not emulate (they must not reach host devices:
 * reads give all ones, or for the PC's standard ports a plausible value).
 */
#include "escape.h"
#include "guest/lib/io.h"

#define LAPIC_BASE 0xfee00000u
#define LAPIC_ID 0x20
#define LAPIC_VERSION 0x30
#define LAPIC_ICR_LO 0x300
#define LAPIC_ICR_HI 0x310
#define ICR_FIXED_ASSERT 0x4000 /* fixed delivery, physical, level assert */
#define ICR_PENDING (1u << 12)
#define IPI_VECTOR 0xf0 /* IF=0: even if it came back to us, harmless */
#define IPI_DEST 7

static u32 lapic_read(u32 reg)
{
	return mmio_read32(LAPIC_BASE + reg);
}

static void lapic_write(u32 reg, u32 v)
{
	mmio_write32(LAPIC_BASE + reg, v);
}

static void check_lapic(void)
{
	u32 ver = lapic_read(LAPIC_VERSION), id = lapic_read(LAPIC_ID) >> 24;
	u32 lvts = ((ver >> 16) & 0xff) + 1;
	int spins = 0;

	report("LAPIC version", (ver & 0xff) >= 0x10 && (ver & 0xff) <= 0x1f && lvts >= 3,
	       "version register 0x%08x", ver);

	lapic_write(LAPIC_ICR_HI, (u32)IPI_DEST << 24);
	lapic_write(LAPIC_ICR_LO, ICR_FIXED_ASSERT | IPI_VECTOR);
	while ((lapic_read(LAPIC_ICR_LO) & ICR_PENDING) && spins < 1000000)
		spins++;
	/* Getting here is the check: no crash, no hang. */
	report("LAPIC IPI to APIC ID 7", true, "our APIC ID %u, %s", id,
	       spins < 1000000 ? "delivery status idle" : "delivery status stuck pending");
}

static void check_ports(void)
{
	u32 cf8, cfc, wide;
	u8 p80, rtc, narrow;

	p80 = inb(0x80);
	outb(0x80, 0x55); /* POST code port: writes are harmless anywhere */
	report("port 0x80", true, "read 0x%02x", p80);

	outb(0x70, 0x0a); /* RTC status register A; NMIs stay enabled */
	rtc = inb(0x71);
	report("ports 0x70/0x71", true, "RTC register A 0x%02x", rtc);

	cf8 = inl(0xcf8);
	outl(0xcf8, 0x80000000u); /* bus 0, device 0, function 0, vendor/device */
	cfc = inl(0xcfc);
	outl(0xcf8, cf8);
	report("ports 0xcf8/0xcfc", true, "host bridge ID 0x%08x", cfc);

	/* Nothing decodes 0x1234 on a PC: all ones, emulated or not. */
	narrow = inb(0x1234);
	wide = inl(0x1234);
	outb(0x1234, 0xaa);
	report("port 0x1234", narrow == 0xff && wide == 0xffffffffu,
	       "read 0x%02x and 0x%08x", narrow, wide);
}

void check_devices(void)
{
	check_lapic();
	check_ports();
}
