/*
 * Trace events, their ring buffer, and the latency histograms
 * (docs/trace.md). Records keep typed fields (numbers, or pointers to names
 * that live as long as the run) and are formatted only when printed, so a
 * buffered trace costs a few stores per event.
 */
#include "arch/x86/cpu.h"
#include "arch/x86/paging.h"
#include "kernel/printk.h"
#include "kernel/string.h"
#include "kernel/trace.h"
#include "mm/frame_alloc.h"

#define MAX_FIELDS 5

enum field_kind { F_HEX, F_DEC, F_SDEC, F_STR, F_ENUM };

struct field {
	const char *name;
	enum field_kind kind;
	const char *const *values; /* F_ENUM */
};

struct event_desc {
	const char *name;
	struct field fields[MAX_FIELDS];
};

static const char *const access_names[] = { "r", "w", "x", NULL };
static const char *const result_names[] = { "zero-fill", "huge", "swap-in", "zero-page", "sample",
					    "dirty", "mmio", "stale", "nomem", "ioerr", NULL };
static const char *const flush_names[] = { "asid", "all", "invept", NULL };
static const char *const zap_names[] = { "frame", "unshadow", "evict", NULL };
static const char *const kind_names[] = { "write", "zero", "clean", NULL };
static const char *const reason_names[] = { "none", "io", "stage2", "cpuid", "rdmsr", "wrmsr",
					    "hlt", "hypercall", "virt", "cr", "interrupt",
					    "preempt", "shutdown", "exception", "entry_failed",
					    "unhandled", "cr_read", "page_fault", "task_switch",
					    NULL };

#define GUEST { "guest", F_STR, NULL }
#define GPA { "gpa", F_HEX, NULL }

static const struct event_desc events[NR_TRACE_EVENTS] = {
	[TE_FRAME_ALLOC] = { "frame_alloc", { { "pfn", F_HEX, NULL }, { "order", F_DEC, NULL },
					     { "owner", F_DEC, NULL } } },
	[TE_FRAME_FREE] = { "frame_free", { { "pfn", F_HEX, NULL }, { "order", F_DEC, NULL },
					   { "owner", F_DEC, NULL } } },
	[TE_STAGE2_FAULT] = { "stage2_fault", { GUEST, GPA, { "access", F_ENUM, access_names },
					       { "result", F_ENUM, result_names } } },
	[TE_STAGE2_SPLIT] = { "stage2_split", { GUEST, GPA } },
	[TE_INVALIDATE] = { "invalidate", { GUEST, GPA, { "size", F_HEX, NULL },
					   { "pages", F_DEC, NULL },
					   { "flush", F_ENUM, flush_names } } },
	[TE_RECLAIM_SCAN] = { "reclaim_scan", { GUEST, { "scanned", F_DEC, NULL },
					       { "victims", F_DEC, NULL } } },
	[TE_SWAP_OUT] = { "swap_out", { GUEST, GPA, { "slot", F_HEX, NULL },
				       { "kind", F_ENUM, kind_names } } },
	[TE_SWAP_IN] = { "swap_in", { GUEST, GPA, { "slot", F_HEX, NULL } } },
	[TE_HINT] = { "hint", { GUEST, GPA, { "order", F_DEC, NULL }, { "result", F_SDEC, NULL } } },
	[TE_VMEXIT] = { "vmexit", { GUEST, { "vcpu", F_DEC, NULL },
				   { "reason", F_ENUM, reason_names } } },
	[TE_SCHED_SWITCH] = { "sched_switch", { { "prev", F_STR, NULL }, { "next", F_STR, NULL } } },
	[TE_GUEST_START] = { "guest_start", { GUEST, { "mem", F_DEC, NULL } } },
	[TE_GUEST_STOP] = { "guest_stop", { GUEST, { "status", F_SDEC, NULL },
					   { "crashed", F_DEC, NULL } } },
	[TE_SHADOW_FAULT] = { "shadow_fault", { GUEST, { "linear", F_HEX, NULL },
					       { "error", F_HEX, NULL },
					       { "injected", F_HEX, NULL } } },
	[TE_SHADOW_ZAP] = { "shadow_zap", { GUEST, GPA, { "n", F_DEC, NULL },
					   { "why", F_ENUM, zap_names } } },
	[TE_SHADOW_PT_WRITE] = { "shadow_pt_write", { GUEST, GPA, { "size", F_DEC, NULL },
						     { "value", F_HEX, NULL } } },
	[TE_SHADOW_ROOT] = { "shadow_root", { GUEST, { "cr3", F_HEX, NULL },
					     { "role", F_HEX, NULL }, { "hit", F_DEC, NULL } } },
};

struct record {
	u64 tsc;
	u8 event;
	u8 nargs;
	u64 args[MAX_FIELDS];
};

u32 trace_mask;
u8 trace_flush_kind;
static struct record *ring;
static unsigned int ring_size, ring_used;
static bool dump_at_end;
static u64 lost;

static void print_record(const struct record *r)
{
	const struct event_desc *d = &events[r->event];
	char line[256];
	int n = snprintf(line, sizeof(line), "trace: %lu cpu0 %s:", r->tsc, d->name);

	for (unsigned int i = 0; i < r->nargs && i < MAX_FIELDS && d->fields[i].name; i++) {
		const struct field *f = &d->fields[i];
		u64 v = r->args[i];
		size_t left = sizeof(line) - MIN((size_t)n, sizeof(line));

		switch (f->kind) {
		case F_HEX:
			n += snprintf(line + n, left, " %s=%#lx", f->name, v);
			break;
		case F_DEC:
			n += snprintf(line + n, left, " %s=%lu", f->name, v);
			break;
		case F_SDEC:
			n += snprintf(line + n, left, " %s=%ld", f->name, (s64)v);
			break;
		case F_STR:
			n += snprintf(line + n, left, " %s=%s", f->name,
				      v ? (const char *)v : "-");
			break;
		case F_ENUM: {
			const char *name = "?";

			for (u64 k = 0; f->values[k]; k++)
				if (k == v)
					name = f->values[k];
			n += snprintf(line + n, left, " %s=%s", f->name, name);
			break;
		}
		}
	}
	printk_level(LOG_EMERG, "%s\n", line);
}

void trace_record(enum trace_event ev, const u64 *args, unsigned int n)
{
	struct record r = { .tsc = rdtsc(), .event = ev, .nargs = MIN(n, (unsigned int)MAX_FIELDS) };

	memcpy(r.args, args, r.nargs * sizeof(u64));
	if (!dump_at_end) {
		print_record(&r);
		return;
	}
	if (ring_used == ring_size) {
		lost++; /* counted, and reported with the dump */
		return;
	}
	ring[ring_used++] = r;
}

static bool matches(const char *pattern, size_t len, const char *name)
{
	if (len && pattern[len - 1] == '*')
		return !strncmp(pattern, name, len - 1);
	return strlen(name) == len && !strncmp(pattern, name, len);
}

void trace_init(const char *list, unsigned int buf_entries, bool at_end)
{
	u32 mask = 0;

	for (const char *p = list; *p;) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		u32 hit = 0;

		for (unsigned int e = 0; e < NR_TRACE_EVENTS; e++)
			if ((len == 3 && !strncmp(p, "all", 3)) || matches(p, len, events[e].name))
				hit |= BIT(e);
		if (!hit && len)
			pr_err("trace: no event matches '%.*s'\n", (int)len, p);
		mask |= hit;
		if (!end)
			break;
		p = end + 1;
	}
	dump_at_end = at_end;
	if (at_end && mask) {
		u64 bytes = (u64)buf_entries * sizeof(struct record);
		unsigned int order = 0;
		u64 phys;

		while ((PAGE_SIZE << order) < bytes)
			order++;
		phys = frame_alloc(order, 0, OWNER_HYPERVISOR);
		if (!phys) {
			pr_err("trace: no memory for a %u-entry buffer; streaming instead\n",
			       buf_entries);
			dump_at_end = false;
		} else {
			ring = phys_to_virt(phys);
			ring_size = buf_entries;
		}
	}
	trace_mask = mask;
	if (mask) {
		pr_info("trace: on:");
		for (unsigned int e = 0; e < NR_TRACE_EVENTS; e++)
			if (mask & BIT(e))
				printk_level(LOG_INFO, " %s", events[e].name);
		printk_level(LOG_INFO, " (%s)\n", dump_at_end ? "dumped at the end" : "streamed");
	}
}

u32 trace_update(u32 set, u32 clear)
{
	u32 all = BIT(NR_TRACE_EVENTS) - 1;

	trace_mask = (trace_mask | (set & all)) & ~clear;
	return trace_mask;
}

void trace_finish(void)
{
	if (lost)
		pr_emerg("trace: lost %lu events (buffer of %u full)\n", lost, ring_size);
	for (unsigned int i = 0; i < ring_used; i++)
		print_record(&ring[i]);
	ring_used = 0;
	hist_print_all();
}

/* ---- histograms ---------------------------------------------------- */

#define HIST_BUCKETS 64
#define BAR_WIDTH 50

static const char *const hist_names[NR_HISTS] = {
	"stage2_fault", "swap_in", "swap_out", "invalidate", "hypercall",
};
static u64 hist[NR_HISTS][HIST_BUCKETS];
static u64 hist_count[NR_HISTS];

void hist_add(enum hist_id h, u64 ticks)
{
	unsigned int b = ticks ? 64 - __builtin_clzl(ticks) : 0;

	hist[h][b]++;
	hist_count[h]++;
}

void hist_print_all(void)
{
	for (unsigned int h = 0; h < NR_HISTS; h++) {
		int lo = -1, hi = 0;
		u64 top = 0;

		if (!hist_count[h])
			continue;
		for (int b = 0; b < HIST_BUCKETS; b++) {
			if (hist[h][b]) {
				if (lo < 0)
					lo = b;
				hi = b;
				top = MAX(top, hist[h][b]);
			}
		}
		pr_info("hist %s (TSC ticks, %lu samples):\n", hist_names[h], hist_count[h]);
		pr_info("%*s |%s count\n", 12, "value",
			"--------------------------------------------------");
		for (int b = lo; b <= hi; b++) {
			char bar[BAR_WIDTH + 1];
			unsigned int n = (unsigned int)(hist[h][b] * BAR_WIDTH / top);

			memset(bar, '@', n);
			memset(bar + n, ' ', BAR_WIDTH - n);
			bar[BAR_WIDTH] = 0;
			/* bucket b holds values in [2^(b-1), 2^b) */
			pr_info("%12lu |%s %lu\n", b ? 1UL << (b - 1) : 0, bar, hist[h][b]);
		}
	}
}
