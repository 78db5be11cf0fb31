/*
 * Tide's command line: Linux-style key=value options, described once in the
 * option table of kernel/cmdline.c. Unknown keys get a warning; malformed
 * values a clear error and the default.
 */
#ifndef TIDE_CMDLINE_H
#define TIDE_CMDLINE_H

#include "kernel/types.h"

struct tide_options {
	int loglevel; /* console_loglevel */
	u64 mem_limit; /* mem=: ignore RAM at or above this address; 0 = all */
	char selftest[128]; /* selftest=: comma-separated groups, or "all" */
	int poweroff; /* enum poweroff_mode */
	int slice_ms; /* slice=: a guest's time slice */
	int stage2_huge; /* stage2_huge=on|off: 2 MiB stage-2 mappings */
	u64 guest_mem; /* guest_mem=: cap on the frames all guests hold; 0 = none */
	char swap[32]; /* swap=ram:<size>|nvme|none */
	int reclaim_sampling; /* reclaim_sampling=on: ignore accessed bits, sample */
	int hints; /* hints=on|off: free-page hints for all guests */
	int hint_order; /* hint_order=: smallest order a hint may have */
	int poison_freed;
	char trace[128]; /* trace=: events to record */
	int trace_buf; /* trace_buf=: ring entries */
	int trace_dump; /* trace_dump=stream|end */
	int sample_ms; /* sample_ms=: per-guest samples; 0 = off */ /* poison_freed=on: fill frames taken from guests with a poison */
	char swap_inject[64]; /* swap_inject=write@N,read@N,corrupt@N (tests) */
	int paging; /* paging=auto|tdp|shadow: enum paging_option */
	int shadow_pages; /* shadow_pages=: shadow pages per guest */
	int shadow_roots; /* shadow_roots=: cached shadow roots per vCPU */
};

enum paging_option { PAGING_AUTO, PAGING_TDP, PAGING_SHADOW };

extern struct tide_options options;

/* Parses `cmdline` into `options`; prints a message for each bad option. */
void cmdline_parse(const char *cmdline);

/* Value parsers, shared with the guest module options. 0 or -EINVAL. */
int parse_size(const char *s, size_t len, u64 *out);
int parse_u64(const char *s, size_t len, u64 *out);

#endif
