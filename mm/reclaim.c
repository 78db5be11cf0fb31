/*
 * Reclaim (docs/reclaim.md): keeps the frames all guests hold within
 * guest_mem=, by moving cold pages to swap.
 *
 * Watermarks: when a fault would leave fewer than `low` free pages in the
 * budget, reclaim runs until `high` are free. There is no background
 * thread: reclaim runs in the faulting guest's exit, synchronously.
 *
 * Victims: a clock per guest over its stage-2 leaves. Where the CPU sets the
 * accessed bits of stage-2 entries, a set bit is cleared and the page
 * skipped (second chance); a clear bit makes it a victim. Where it does not
 * (found out at run time), the clock unmaps pages instead and marks them
 * SAMPLED, as ESX's idle-page sampling does: a sampled page the guest
 * touches comes back at the cost of a fault; one still untouched when the
 * clock comes round again is cold. Guests holding more than their share
 * (budget / running guests) are scanned first.
 */
#include "kernel/errno.h"
#include "kernel/guest.h"
#include "kernel/printk.h"
#include "kernel/trace.h"
#include "mm/reclaim.h"
#include "mm/shadow.h"
#include "mm/stage2.h"
#include "mm/swap.h"

#define VICTIM_BATCH 64
#define SAMPLE_WINDOW (64 * PAGE_SIZE)

u64 guest_mem_budget;
u64 guest_pages_used;
static u64 low_watermark, high_watermark;

/* Does the hardware set stage-2 accessed bits? Unknown until a scan sees. */
enum { AD_UNKNOWN, AD_HARDWARE, AD_SAMPLING };
static int accessed_mode = AD_UNKNOWN;
static u64 scanned_without_accessed;

void reclaim_init(u64 guest_mem_bytes, bool sampling)
{
	guest_mem_budget = guest_mem_bytes / PAGE_SIZE;
	if (sampling) {
		accessed_mode = AD_SAMPLING;
		pr_info("reclaim: sampling idle pages by unmapping them (reclaim_sampling=on)\n");
	}
	if (!guest_mem_budget) {
		pr_info("reclaim: no guest_mem= budget: guests take frames as long as there are any\n");
		return;
	}
	low_watermark = MAX(guest_mem_budget / 64, 32UL);
	high_watermark = 2 * low_watermark;
	pr_info("reclaim: guest memory budget %lu MiB, watermarks %lu/%lu pages\n",
		guest_mem_budget * PAGE_SIZE / MiB, low_watermark, high_watermark);
}

static u64 budget_free(void)
{
	return guest_pages_used < guest_mem_budget ? guest_mem_budget - guest_pages_used : 0;
}

struct scan {
	struct guest *g;
	const struct pt_format *fmt;
	u64 victims[VICTIM_BATCH];
	unsigned int nr_victims, want;
	u64 sample_from, sample_to; /* a window of pages to sample (unmap) */
	bool split_done;
	u64 next_hand;
};

/*
 * Tests and clears the accessed bit of a present page: the stage-2 entry's,
 * or with shadow paging those of the shadow entries that map its frame.
 */
static bool page_accessed(struct scan *sc, u64 *e, unsigned int level)
{
	bool accessed;

	if (shadow_paging)
		return level == 0 &&
		       shadow_test_and_clear_accessed(sc->g, pt_entry_addr(sc->fmt, *e, 0));
	accessed = sc->fmt->accessed && (*e & sc->fmt->accessed);
	*e &= ~sc->fmt->accessed;
	return accessed;
}

static int scan_leaf(void *ctx, u64 gpa, u64 *e, unsigned int level)
{
	struct scan *sc = ctx;
	bool present = pt_present(sc->fmt, *e);
	bool accessed = present && accessed_mode != AD_SAMPLING && page_accessed(sc, e, level);

	sc->g->stats.reclaim_scans++;
	sc->next_hand = gpa + pt_level_size(level);
	if (!present && !(*e & SWAP_ENTRY_SAMPLED))
		return 0; /* already out */
	if (accessed) {
		accessed_mode = AD_HARDWARE;
		return 0; /* second chance: its accessed bit is clear now */
	}
	if (level > 0) {
		/* a cold 2 MiB mapping: split it, its pages are candidates then */
		sc->split_done = true;
		sc->next_hand = gpa;
		return 1;
	}
	if (present && accessed_mode != AD_HARDWARE) {
		/* no accessed bit seen (yet): sample this page */
		if (accessed_mode == AD_UNKNOWN && ++scanned_without_accessed >= 4096) {
			accessed_mode = AD_SAMPLING;
			pr_info("reclaim: the CPU sets no %s accessed bits; sampling idle pages by "
				"unmapping them\n", sc->fmt->name);
		}
		if (accessed_mode == AD_SAMPLING) {
			if (!sc->sample_to)
				sc->sample_from = gpa;
			sc->sample_to = gpa + PAGE_SIZE;
			return 0;
		}
	}
	sc->victims[sc->nr_victims++] = gpa;
	return sc->nr_victims == sc->want ? 1 : 0;
}

/* Sampling: unmap a window of present pages, keeping their frames. */
static bool zap_sample(void *ctx, u64 gpa __unused, u64 old, unsigned int level, u64 *new)
{
	const struct pt_format *fmt = ctx;

	if (level || !pt_present(fmt, old))
		return false;
	*new = pt_entry_addr(fmt, old, 0) | SWAP_ENTRY_SAMPLED;
	return true;
}

static void release_sample(void *ctx __unused, u64 gpa __unused, u64 old __unused,
			   unsigned int level __unused, u64 *entry __unused)
{
}

/* One pass of g's clock; returns pages reclaimed. */
static u64 scan_guest(struct guest *g, u64 want)
{
	struct scan sc = { .g = g, .fmt = g->stage2.pt.fmt };
	u64 ram = ALIGN_UP(g->stage2.ram_size, 2 * MiB), done = 0;
	u64 scanned_before = g->stats.reclaim_scans;

	for (int round = 0; round < 4 && done < want; round++) {
		u64 from = g->clock_hand < ram ? g->clock_hand : 0;

		sc.nr_victims = 0;
		sc.want = MIN(want - done, (u64)VICTIM_BATCH);
		sc.sample_from = sc.sample_to = 0;
		sc.split_done = false;
		sc.next_hand = ram;
		pt_for_each_leaf(&g->stage2.pt, from, ram - from, PT_WALK_NONPRESENT, scan_leaf, &sc);
		g->clock_hand = sc.next_hand >= ram ? 0 : sc.next_hand;
		if (sc.split_done) {
			if (stage2_split(g, g->clock_hand))
				break;
			round--; /* a split is not a pass */
			continue;
		}
		if (sc.sample_to) {
			const struct stage2_zap_ops ops = { zap_sample, release_sample,
							    (void *)sc.fmt };
			u64 to = MIN(sc.sample_to, sc.sample_from + SAMPLE_WINDOW);

			stage2_invalidate_with(g, sc.sample_from, to - sc.sample_from, &ops);
		}
		done += stage2_swap_out(g, sc.victims, sc.nr_victims);
		TRACE(TE_RECLAIM_SCAN, TRACE_STR(g->name), g->stats.reclaim_scans - scanned_before,
		      sc.nr_victims);
		scanned_before = g->stats.reclaim_scans;
	}
	return done;
}

u64 reclaim_pages(u64 pages)
{
	u64 done = 0;
	unsigned int live = 0;

	for (unsigned int i = 0; i < nr_guests; i++)
		live += guests[i]->state != GUEST_STOPPED;
	if (!live)
		return 0;
	u64 share = guest_mem_budget ? guest_mem_budget / live : 0;

	/* those over their share first, then everyone */
	for (int pass = 0; pass < 2 && done < pages; pass++) {
		for (unsigned int i = 0; i < nr_guests && done < pages; i++) {
			struct guest *g = guests[i];

			if (g->state == GUEST_STOPPED)
				continue;
			if (pass == 0 && g->stats.resident_pages <= share)
				continue;
			done += scan_guest(g, pages - done);
		}
	}
	return done;
}

int reclaim_reserve(struct guest *g __unused, u64 pages)
{
	if (!guest_mem_budget || budget_free() >= pages + low_watermark)
		return 0;
	reclaim_pages(pages + high_watermark - budget_free());
	return budget_free() >= pages ? 0 : -ENOMEM;
}

bool reclaim_has_room(u64 pages)
{
	return !guest_mem_budget || budget_free() >= pages + low_watermark;
}
