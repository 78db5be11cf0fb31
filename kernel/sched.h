/* Running the guests (kernel/sched.c). */
#ifndef TIDE_SCHED_H
#define TIDE_SCHED_H

#include "kernel/types.h"

extern u64 slice_us; /* slice=, in microseconds */
extern u64 sample_ms; /* sample_ms=: print per-guest samples this often */

/* Runs every guest until all have stopped; returns how many failed. */
unsigned int sched_run(void);

/* A host interrupt made the guest exit: take it, and end the slice if due. */
void sched_tick(void);

/* The back end's own slice timer expired. */
void sched_slice_expired(void);

#endif
