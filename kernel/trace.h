/*
 * Static trace points (docs/trace.md). A trace point is one test of a bit
 * in a global mask when its event is off, and records typed fields into a
 * ring buffer when it is on. Built with -DTIDE_NO_TRACE, trace points
 * compile to nothing (make bench compares the two).
 */
#ifndef TIDE_TRACE_H
#define TIDE_TRACE_H

#include "kernel/types.h"

enum trace_event {
	TE_FRAME_ALLOC,
	TE_FRAME_FREE,
	TE_STAGE2_FAULT,
	TE_STAGE2_SPLIT,
	TE_INVALIDATE,
	TE_RECLAIM_SCAN,
	TE_SWAP_OUT,
	TE_SWAP_IN,
	TE_HINT,
	TE_VMEXIT,
	TE_SCHED_SWITCH,
	TE_GUEST_START,
	TE_GUEST_STOP,
	TE_SHADOW_FAULT,
	TE_SHADOW_ZAP,
	TE_SHADOW_PT_WRITE,
	TE_SHADOW_ROOT,
	NR_TRACE_EVENTS,
};

/* stage2_fault result= */
enum { FAULT_ZERO_FILL, FAULT_HUGE, FAULT_SWAP_IN, FAULT_ZERO_PAGE, FAULT_SAMPLE, FAULT_DIRTY,
       FAULT_MMIO, FAULT_STALE, FAULT_NOMEM, FAULT_IOERR };
/* shadow_zap why= */
enum { ZAP_FRAME, ZAP_UNSHADOW, ZAP_EVICT };
/* swap_out kind= */
enum { SWAP_KIND_WRITE, SWAP_KIND_ZERO, SWAP_KIND_CLEAN };

extern u32 trace_mask;

#ifdef TIDE_NO_TRACE
#define trace_on(ev) false
/* the arguments stay visible to the compiler (no unused warnings), no code */
#define TRACE(ev, ...)                                                        \
	do {                                                                  \
		if (0) {                                                      \
			const u64 _a[] = { __VA_ARGS__ };                      \
			(void)_a;                                             \
		}                                                             \
	} while (0)
#else
#define trace_on(ev) unlikely(trace_mask & BIT(ev))
#define TRACE(ev, ...)                                                        \
	do {                                                                  \
		if (trace_on(ev)) {                                           \
			const u64 _a[] = { __VA_ARGS__ };                      \
			trace_record(ev, _a, sizeof(_a) / sizeof(_a[0]));     \
		}                                                             \
	} while (0)
#endif

/* Records one event; args are the event's fields in docs/trace.md order. */
void trace_record(enum trace_event ev, const u64 *args, unsigned int n);

/* trace=, trace_buf=, trace_dump=: sets the mask; prints what is on. */
void trace_init(const char *events, unsigned int buf_entries, bool dump_at_end);

/* Turns events on and off at run time (TRACE hypercall); returns the new mask. */
u32 trace_update(u32 set, u32 clear);

/* At the end of the run: the buffered records (trace_dump=end), lost counts. */
void trace_finish(void);

/* invalidate flush=: how the back end flushes (set when it is enabled) */
enum { FLUSH_ASID, FLUSH_ALL, FLUSH_INVEPT };
extern u8 trace_flush_kind;

/* Names for the field values (guest names are passed as pointers). */
#define TRACE_STR(s) ((u64)(const char *)(s))

/* Latency histograms, log2 buckets of TSC ticks. */
enum hist_id { HIST_STAGE2_FAULT, HIST_SWAP_IN, HIST_SWAP_OUT, HIST_INVALIDATE, HIST_HYPERCALL,
	       NR_HISTS };

void hist_add(enum hist_id h, u64 ticks);
void hist_print_all(void);

#endif
