/*
 * Free-page hints (docs/abi.md, numbers 1 and 2): a guest says a range of
 * its RAM is free, and Tide drops it instead of keeping or swapping it.
 */
#ifndef TIDE_HINT_H
#define TIDE_HINT_H

#include "kernel/types.h"

struct guest;

extern bool hints_enabled; /* hints= (global) */
extern unsigned int hint_min_order; /* hint_order= */

/*
 * Drops the 4 KiB << order bytes at gpa from g: mappings go through the one
 * invalidation routine, frames and swap slots are released, and the next
 * access reads zeros. The caller has checked alignment and bounds.
 */
int guest_hint_free(struct guest *g, u64 gpa, u64 order);

#endif
