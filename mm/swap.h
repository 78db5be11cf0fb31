/*
 * Swap: where reclaimed guest pages live (docs/reclaim.md). This file owns
 * the slots of the one swap device (swap=ram:<size> or swap=nvme), their
 * checksums, and the software stage-2 entries that stand for pages that are
 * not in a frame.
 *
 * A software entry has the hardware's present bits clear (bits 2:0 for EPT,
 * bit 0 for NPT), so the CPU faults on it, and says where the page is:
 *   SWAPPED: in swap slot (entry >> 12);
 *   ZERO:    all zeros when it was reclaimed, so nothing was written;
 *   SAMPLED: still in the frame at the entry's address, unmapped only to
 *            see whether the guest touches it (idle sampling).
 */
#ifndef TIDE_SWAP_H
#define TIDE_SWAP_H

#include "kernel/types.h"
#include "mm/swap_device.h"

#define SWAP_ENTRY_SWAPPED BIT(9)
#define SWAP_ENTRY_ZERO BIT(10)
#define SWAP_ENTRY_SAMPLED BIT(11)
#define SWAP_ENTRY_WRITE_PENDING BIT(8) /* inside an invalidation only */
#define SWAP_ENTRY_KINDS (SWAP_ENTRY_SWAPPED | SWAP_ENTRY_ZERO | SWAP_ENTRY_SAMPLED)
#define SWAP_ENTRY_ADDR 0x000ffffffffff000UL
#define NO_SLOT 0xffffffffu /* struct frame.owner_data: no clean copy */

static inline u64 swap_entry(u64 slot)
{
	return (slot << 12) | SWAP_ENTRY_SWAPPED;
}

static inline u64 swap_entry_slot(u64 e)
{
	return (e & SWAP_ENTRY_ADDR) >> 12;
}

extern struct swap_device *swap_dev; /* NULL: no swap (only zero pages are reclaimed) */

/* swap= and swap_inject= at boot: sets up the device, prints what it got. */
void swap_init(const char *spec, const char *inject);

/* A free slot, or -ENOSPC. */
int swap_slot_alloc(u64 *slot);
void swap_slot_free(u64 slot);
u64 swap_slots_used(void);

/* Writes the frame to the slot and records its checksum; 0 or -EIO. */
int swap_write(u64 slot, u64 frame);

/* Reads the slot into the frame; -EIO on an I/O error, -EBADMSG on a bad checksum. */
int swap_read(u64 slot, u64 frame);

/* True if the 4 KiB frame holds only zeros. */
bool frame_is_zero(u64 frame);

#endif
