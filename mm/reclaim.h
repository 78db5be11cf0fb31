/*
 * Overcommit: the budget of frames guests may hold (guest_mem=), the
 * watermarks that start and stop reclaim, and the clock that picks victims
 * (docs/reclaim.md).
 */
#ifndef TIDE_RECLAIM_H
#define TIDE_RECLAIM_H

#include "kernel/types.h"

struct guest;

extern u64 guest_mem_budget; /* pages; 0: no cap */
extern u64 guest_pages_used; /* data frames all guests hold now */

/*
 * guest_mem= (bytes); with `sampling`, idle pages are found by unmapping
 * them even where the CPU sets accessed bits (reclaim_sampling=on).
 */
void reclaim_init(u64 guest_mem_bytes, bool sampling);

/*
 * Makes room for `pages` more guest frames for g (a fault about to map
 * them): reclaims from the guests when the budget would fall below the low
 * watermark. 0 when there is room, -ENOMEM when reclaim found nothing.
 */
int reclaim_reserve(struct guest *g, u64 pages);

/* True if `pages` more fit in the budget without reclaiming. */
bool reclaim_has_room(u64 pages);

/* Reclaims up to `pages` pages, preferring guests over their share; returns how many. */
u64 reclaim_pages(u64 pages);

#endif
