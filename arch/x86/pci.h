/*
 * PCI configuration space through the legacy 0xCF8/0xCFC mechanism ("#1"),
 * which every PC chipset and emulator Tide runs on provides (QEMU i440fx and
 * q35, Bochs). It reaches the first 256 bytes of each function's space, which
 * holds everything a driver needs to find a device, place its BARs and turn
 * on memory decoding and bus mastering. ECAM (PCIe extended space) is not
 * used.
 */
#ifndef TIDE_X86_PCI_H
#define TIDE_X86_PCI_H

#include "kernel/types.h"

/* configuration space offsets (type 0 header) */
#define PCI_VENDOR_ID 0x00
#define PCI_DEVICE_ID 0x02
#define PCI_COMMAND 0x04
#define PCI_CLASS_REVISION 0x08 /* class 31:24, subclass 23:16, prog-if 15:8 */
#define PCI_HEADER_TYPE 0x0e
#define PCI_BAR0 0x10

#define PCI_COMMAND_MEMORY BIT(1) /* decode memory BARs */
#define PCI_COMMAND_MASTER BIT(2) /* may start DMA */
#define PCI_COMMAND_INTX_DISABLE BIT(10)
#define PCI_STATUS 0x06
#define PCI_STATUS_CAP_LIST BIT(4)
#define PCI_CAP_PTR 0x34
#define PCI_CAP_ID_MSI 0x05
#define PCI_CAP_ID_MSIX 0x11

struct pci_dev {
	u8 bus, dev, fn;
	u16 vendor, device;
	u8 class, subclass, prog_if;
};

u32 pci_read32(const struct pci_dev *d, u8 off);
u16 pci_read16(const struct pci_dev *d, u8 off);
u8 pci_read8(const struct pci_dev *d, u8 off);
void pci_write32(const struct pci_dev *d, u8 off, u32 val);
void pci_write16(const struct pci_dev *d, u8 off, u16 val);

/*
 * Scans every bus, device and function for the first one with this class,
 * subclass and programming interface (NVMe: 0x01, 0x08, 0x02). Fills *out
 * and returns 0, or -ENODEV.
 */
int pci_find_class(u8 class, u8 subclass, u8 prog_if, struct pci_dev *out);

/*
 * The memory BAR `bar` (0-5): its physical base and size, the 64-bit ones
 * spanning bar and bar + 1. -EINVAL for an I/O BAR or one the firmware left
 * unassigned (base 0).
 */
int pci_read_bar(const struct pci_dev *d, unsigned int bar, u64 *base, u64 *size);

/* Turns on memory decoding and bus mastering, and masks INTx (we poll). */
void pci_enable_mem_master(const struct pci_dev *d);

/*
 * Turns off MSI and MSI-X, which firmware may have left on: a polled
 * device must not send interrupt messages Tide has no handler for.
 */
void pci_disable_msi(const struct pci_dev *d);

#endif
