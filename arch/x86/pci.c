/*
 * PCI configuration space, mechanism #1: write the function's address to
 * port 0xCF8, then read or write the dword at 0xCFC. Tide runs on one CPU
 * with interrupts off, so the two steps need no lock.
 */
#include "arch/x86/io.h"
#include "arch/x86/pci.h"
#include "kernel/errno.h"

#define PCI_CONFIG_ADDRESS 0xcf8
#define PCI_CONFIG_DATA 0xcfc

#define PCI_BAR_IO BIT(0)
#define PCI_BAR_TYPE_MASK (3u << 1)
#define PCI_BAR_TYPE_64 (2u << 1)
#define PCI_BAR_ADDR_MASK (~0xfull)

static void select(const struct pci_dev *d, u8 off)
{
	/* enable bit, bus, device, function, dword-aligned register */
	outl(PCI_CONFIG_ADDRESS, BIT(31) | (u32)d->bus << 16 | (u32)d->dev << 11 |
					 (u32)d->fn << 8 | (off & 0xfc));
}

u32 pci_read32(const struct pci_dev *d, u8 off)
{
	select(d, off);
	return inl(PCI_CONFIG_DATA);
}

u16 pci_read16(const struct pci_dev *d, u8 off)
{
	return pci_read32(d, off) >> ((off & 2) * 8);
}

u8 pci_read8(const struct pci_dev *d, u8 off)
{
	return pci_read32(d, off) >> ((off & 3) * 8);
}

void pci_write32(const struct pci_dev *d, u8 off, u32 val)
{
	select(d, off);
	outl(PCI_CONFIG_DATA, val);
}

/* A 16-bit write goes to its own half of the dword: no read-modify-write
 * of the neighbour (the status register next to command clears on write). */
void pci_write16(const struct pci_dev *d, u8 off, u16 val)
{
	select(d, off);
	outw(PCI_CONFIG_DATA + (off & 2), val);
}

int pci_find_class(u8 class, u8 subclass, u8 prog_if, struct pci_dev *out)
{
	u32 want = (u32)class << 24 | (u32)subclass << 16 | (u32)prog_if << 8;

	for (unsigned int bus = 0; bus < 256; bus++) {
		for (unsigned int dev = 0; dev < 32; dev++) {
			struct pci_dev d = { .bus = bus, .dev = dev };
			unsigned int nfn = 1;

			if (pci_read16(&d, PCI_VENDOR_ID) == 0xffff)
				continue; /* nothing in this slot */
			/* functions 1-7 exist only on multi-function devices */
			if (pci_read8(&d, PCI_HEADER_TYPE) & 0x80)
				nfn = 8;
			for (d.fn = 0; d.fn < nfn; d.fn++) {
				u32 cls = pci_read32(&d, PCI_CLASS_REVISION);

				d.vendor = pci_read16(&d, PCI_VENDOR_ID);
				if (d.vendor == 0xffff || (cls & 0xffffff00) != want)
					continue;
				d.device = pci_read16(&d, PCI_DEVICE_ID);
				d.class = class;
				d.subclass = subclass;
				d.prog_if = prog_if;
				*out = d;
				return 0;
			}
		}
	}
	return -ENODEV;
}

int pci_read_bar(const struct pci_dev *d, unsigned int bar, u64 *base, u64 *size)
{
	u8 off = PCI_BAR0 + 4 * bar;
	u32 lo, hi = 0, mask_lo, mask_hi = ~0u;
	u16 cmd = pci_read16(d, PCI_COMMAND);
	bool is64;

	if (bar > 5)
		return -EINVAL;
	lo = pci_read32(d, off);
	is64 = (lo & PCI_BAR_TYPE_MASK) == PCI_BAR_TYPE_64;
	if ((lo & PCI_BAR_IO) || (is64 && bar == 5))
		return -EINVAL;
	if (is64)
		hi = pci_read32(d, off + 4);
	/*
	 * Size it the standard way: write all ones, read back which address
	 * bits stick. Decoding is off meanwhile, so the BAR never claims a
	 * bogus range.
	 */
	pci_write16(d, PCI_COMMAND, cmd & ~PCI_COMMAND_MEMORY);
	pci_write32(d, off, ~0u);
	mask_lo = pci_read32(d, off);
	pci_write32(d, off, lo);
	if (is64) {
		pci_write32(d, off + 4, ~0u);
		mask_hi = pci_read32(d, off + 4);
		pci_write32(d, off + 4, hi);
	}
	pci_write16(d, PCI_COMMAND, cmd);

	*base = ((u64)hi << 32 | lo) & PCI_BAR_ADDR_MASK;
	*size = ~(((u64)mask_hi << 32 | mask_lo) & PCI_BAR_ADDR_MASK) + 1;
	if (!is64)
		*size &= 0xffffffffull;
	return *base && *size ? 0 : -EINVAL;
}

void pci_enable_mem_master(const struct pci_dev *d)
{
	u16 cmd = pci_read16(d, PCI_COMMAND);

	pci_write16(d, PCI_COMMAND,
		    cmd | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | PCI_COMMAND_INTX_DISABLE);
}

void pci_disable_msi(const struct pci_dev *d)
{
	/* the capability list; the bound stops a malformed (looping) one */
	u8 pos = pci_read8(d, PCI_CAP_PTR) & 0xfc;

	if (!(pci_read16(d, PCI_STATUS) & PCI_STATUS_CAP_LIST))
		return;
	for (unsigned int n = 0; pos >= 0x40 && n < 48; n++) {
		u8 id = pci_read8(d, pos);
		u16 ctrl = pci_read16(d, pos + 2);

		if (id == PCI_CAP_ID_MSI)
			pci_write16(d, pos + 2, ctrl & ~BIT(0)); /* MSI enable */
		else if (id == PCI_CAP_ID_MSIX)
			pci_write16(d, pos + 2, ctrl & ~BIT(15)); /* MSI-X enable */
		pos = pci_read8(d, pos + 1) & 0xfc;
	}
}
