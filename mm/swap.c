/*
 * Swap slots and the swap device (see mm/swap.h). Slots are tracked in a
 * bitmap with a next-fit cursor; each used slot has a 32-bit checksum of
 * its contents, kept in memory and checked on every read, so a device that
 * returns the wrong data stops the guest instead of corrupting it.
 *
 * swap_inject= (for tests) makes chosen device operations fail: a list of
 * write@N, read@N and corrupt@N, each hitting the N-th such operation
 * (1-based; corrupt flips a bit of the N-th page read).
 */
#include "arch/x86/paging.h"
#include "kernel/cmdline.h"
#include "kernel/errno.h"
#include "kernel/printk.h"
#include "kernel/string.h"
#include "mm/frame_alloc.h"
#include "mm/swap.h"

struct swap_device *swap_dev;
static u64 *slot_bitmap;
static u32 *slot_checksum;
static u64 nr_used, cursor;
static u64 inject_write, inject_read, inject_corrupt;
static u64 nr_writes, nr_reads;

struct swap_device *swap_ram_create(u64 bytes);

/* Allocates zeroed memory for Tide's own tables, from the frame allocator. */
static void *alloc_table(u64 bytes)
{
	unsigned int order = 0;
	u64 phys;

	while ((PAGE_SIZE << order) < bytes)
		order++;
	phys = frame_alloc(order, BUDDY_ZERO, OWNER_HYPERVISOR);
	return phys ? phys_to_virt(phys) : NULL;
}

static void parse_inject(const char *s)
{
	while (*s) {
		const char *at = strchr(s, '@');
		const char *end = strchr(s, ',');
		u64 n;

		if (!end)
			end = s + strlen(s);
		if (!at || at > end || parse_u64(at + 1, end - at - 1, &n) || !n) {
			pr_err("swap: bad swap_inject= item '%.*s' (want write@N, read@N or corrupt@N)\n",
			       (int)(end - s), s);
		} else if (!strncmp(s, "write@", 6)) {
			inject_write = n;
		} else if (!strncmp(s, "read@", 5)) {
			inject_read = n;
		} else if (!strncmp(s, "corrupt@", 8)) {
			inject_corrupt = n;
		} else {
			pr_err("swap: bad swap_inject= item '%.*s'\n", (int)(end - s), s);
		}
		s = *end ? end + 1 : end;
	}
}

void swap_init(const char *spec, const char *inject)
{
	u64 size;

	if (!spec[0] || !strcmp(spec, "none")) {
		pr_info("swap: none: reclaim can only drop zero pages\n");
		return;
	}
	if (!strncmp(spec, "ram:", 4) && !parse_size(spec + 4, strlen(spec + 4), &size) &&
	    size >= PAGE_SIZE) {
		swap_dev = swap_ram_create(ALIGN_DOWN(size, PAGE_SIZE));
	} else if (!strcmp(spec, "nvme")) {
		swap_dev = nvme_swap_probe(1UL << 32);
	} else {
		pr_err("swap: bad swap=%s (want ram:<size>, nvme or none); running without swap\n",
		       spec);
		return;
	}
	if (!swap_dev) {
		pr_err("swap: no swap device; running without swap\n");
		return;
	}
	slot_bitmap = alloc_table(ALIGN_UP(swap_dev->nr_slots, 64) / 8);
	slot_checksum = alloc_table(swap_dev->nr_slots * sizeof(u32));
	if (!slot_bitmap || !slot_checksum) {
		pr_err("swap: no memory for the slot tables; running without swap\n");
		swap_dev = NULL;
		return;
	}
	parse_inject(inject);
	pr_info("swap: %s, %lu slots (%lu MiB)\n", swap_dev->name, swap_dev->nr_slots,
		swap_dev->nr_slots * PAGE_SIZE / MiB);
}

int swap_slot_alloc(u64 *slot)
{
	u64 n;

	if (!swap_dev || nr_used == swap_dev->nr_slots)
		return -ENOSPC;
	n = swap_dev->nr_slots;
	for (u64 i = 0; i < n; i++) {
		u64 s = (cursor + i) % n;

		if (!(slot_bitmap[s / 64] & BIT(s % 64))) {
			slot_bitmap[s / 64] |= BIT(s % 64);
			nr_used++;
			cursor = s + 1;
			*slot = s;
			return 0;
		}
	}
	return -ENOSPC;
}

void swap_slot_free(u64 slot)
{
	if (!swap_dev || slot >= swap_dev->nr_slots || !(slot_bitmap[slot / 64] & BIT(slot % 64))) {
		pr_err("swap: free of slot %#lx that is not in use\n", slot);
		return;
	}
	slot_bitmap[slot / 64] &= ~BIT(slot % 64);
	nr_used--;
}

u64 swap_slots_used(void)
{
	return nr_used;
}

/* FNV-1a over 64-bit words, folded to 32 bits: cheap, and any flip shows. */
static u32 page_checksum(u64 frame)
{
	const u64 *p = phys_to_virt(frame);
	u64 h = 0xcbf29ce484222325UL;

	for (unsigned int i = 0; i < PAGE_SIZE / 8; i++) {
		h ^= p[i];
		h *= 0x100000001b3UL;
	}
	return (u32)(h ^ (h >> 32));
}

bool frame_is_zero(u64 frame)
{
	const u64 *p = phys_to_virt(frame);

	for (unsigned int i = 0; i < PAGE_SIZE / 8; i++)
		if (p[i])
			return false;
	return true;
}

int swap_write(u64 slot, u64 frame)
{
	if (++nr_writes == inject_write) {
		pr_err("swap: injected write error on slot %#lx\n", slot);
		return -EIO;
	}
	slot_checksum[slot] = page_checksum(frame);
	return swap_dev->write_page(swap_dev, slot, frame);
}

int swap_read(u64 slot, u64 frame)
{
	int err;

	if (++nr_reads == inject_read) {
		pr_err("swap: injected read error on slot %#lx\n", slot);
		return -EIO;
	}
	err = swap_dev->read_page(swap_dev, slot, frame);
	if (err)
		return err;
	if (nr_reads == inject_corrupt) {
		pr_err("swap: injected corruption of slot %#lx\n", slot);
		((u8 *)phys_to_virt(frame))[123] ^= 0x10;
	}
	if (page_checksum(frame) != slot_checksum[slot])
		return -EBADMSG;
	return 0;
}
