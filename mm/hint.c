/*
 * Free-page hints: the guest knows which of its pages are free, Tide does
 * not. A hinted range is simply invalidated: its frames go back to the
 * allocator at once and its swap slots are released, so the memory is
 * neither kept resident nor ever written to swap. Hinting a page twice, one
 * never touched, or one swapped out is fine and cheap: the walk only visits
 * entries that exist.
 */
#include "kernel/guest.h"
#include "mm/hint.h"
#include "mm/stage2.h"

bool hints_enabled = true;
unsigned int hint_min_order;

int guest_hint_free(struct guest *g, u64 gpa, u64 order)
{
	u64 size = PAGE_SIZE << order;
	u64 before = g->stats.resident_pages;
	int err = stage2_invalidate(g, gpa, size);

	g->stats.pages_hinted += size / PAGE_SIZE;
	g->stats.hint_frames_freed += before - g->stats.resident_pages;
	return err;
}
