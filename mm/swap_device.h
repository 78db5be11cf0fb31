/*
 * A swap device: where reclaimed guest pages go. Two implementations sit
 * behind this one small interface: a region of RAM reserved at boot
 * (mm/swap_ram.c, swap=ram:<size>) and the first NVMe namespace
 * (drivers/nvme.c, swap=nvme). Slots are 4 KiB, numbered from 0.
 */
#ifndef TIDE_SWAP_DEVICE_H
#define TIDE_SWAP_DEVICE_H

#include "kernel/types.h"

struct swap_device {
	const char *name; /* "ram" or "nvme", for messages */
	u64 nr_slots;
	/*
	 * Read or write one 4 KiB slot from/to the page at physical address
	 * `page_phys` (DMA-able: Tide has no IOMMU, so physical = bus address).
	 * Synchronous: returns 0 once the data is where it should be, or -EIO.
	 */
	int (*read_page)(struct swap_device *dev, u64 slot, u64 page_phys);
	int (*write_page)(struct swap_device *dev, u64 slot, u64 page_phys);
	/* Makes every completed write durable (a flush); 0 or -EIO. */
	int (*sync)(struct swap_device *dev);
	void *priv;
};

/*
 * Finds the first NVMe controller on PCI, sets up its admin and I/O queues
 * (polled, no interrupts) and returns its first namespace as a swap device
 * of at most max_slots slots, or NULL after a message saying why not.
 */
struct swap_device *nvme_swap_probe(u64 max_slots);

#endif
