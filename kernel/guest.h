/*
 * A guest: one Multiboot kernel from a module, its guest-physical memory,
 * its virtual PC and its one vCPU. Created by kernel/guest.c from the module
 * string, run by kernel/sched.c, torn down when it stops.
 */
#ifndef TIDE_GUEST_H
#define TIDE_GUEST_H

#include "kernel/types.h"
#include "kernel/vcpu.h"
#include "mm/stage2.h"

#define GUEST_NAME_MAX 24
#define GUEST_CMDLINE_MAX 512
#define MAX_GUESTS 16
#define GUEST_OWNER_BASE 0x100 /* frame owner ids: GUEST_OWNER_BASE + guest id */

enum guest_state {
	GUEST_RUNNABLE,
	GUEST_HALTED, /* HLT with interrupts enabled: waits for an event */
	GUEST_STOPPED, /* exited or crashed; resources freed */
};

/* Per-guest counters (also what STATS returns, see docs/abi.md). */
struct guest_stats {
	u64 resident_pages; /* 4 KiB pages mapped now */
	u64 peak_resident; /* the most resident_pages ever was */
	u64 stage2_faults;
	u64 zero_fills;
	u64 huge_mappings; /* 2 MiB mappings made */
	u64 swapped_now;
	u64 swap_ins;
	u64 swap_outs;
	u64 pages_hinted;
	u64 zero_pages; /* reclaimed pages that were all zeros */
	u64 reclaim_scans; /* pages the clock looked at */
	u64 sample_refaults; /* sampled pages the guest touched again */
	u64 swap_in_ticks, swap_out_ticks; /* TSC ticks spent in them */
	u64 hint_frames_freed; /* resident 4 KiB pages that hints gave back */
	u64 hypercalls;
	u64 exits;
	u64 exits_by_reason[NR_EXIT_REASONS];
	/* shadow paging (mm/shadow.c) */
	u64 shadow_faults; /* #PF exits */
	u64 shadow_fills; /* shadow entries filled from the guest's tables */
	u64 guest_page_faults; /* #PF injected into the guest */
	u64 pt_writes_emulated; /* writes to write-protected guest page tables */
	u64 pt_unprotects; /* guest page tables left unshadowed (flooded, odd writes) */
	u64 cr3_loads, root_hits; /* CR3 loads; those that found a cached root */
	u64 shadow_pages_now, shadow_pages_peak, shadow_evictions;
};

/* The virtual PC's device state. */
struct guest_devices {
	char serial_line[160]; /* COM1 output, flushed line by line */
	unsigned int serial_len;
	u8 serial_regs[8]; /* scratch registers, LCR, MCR, ... */
	u8 pic_mask[2];
	u8 pic_init_step[2];
	u16 fw_cfg_key;
	u32 fw_cfg_offset;
	u32 apic_tpr, apic_svr, apic_ldr, apic_dfr, apic_lvt[7];
	u32 apic_icr_high;
	u32 apic_timer_initial, apic_timer_divide;
	u64 apic_base;
};

struct guest {
	unsigned int id;
	char name[GUEST_NAME_MAX];
	char cmdline[GUEST_CMDLINE_MAX]; /* what the guest sees as its command line */
	enum guest_state state;
	int exit_status; /* valid once stopped */
	bool crashed;
	bool hints; /* hints=on|off for this guest */
	bool pinned; /* pinned=on: memory stays put, hints refused */

	struct stage2 stage2;
	struct vcpu vcpu;
	void *arch; /* the back end's guest-wide state (ASID, EPTP) */
	struct guest_devices dev;

	/* The kernel image and optional initrd, as Multiboot modules of Tide. */
	u64 image_phys, image_size;
	u64 initrd_phys, initrd_size;
	char initrd_name[128]; /* its module string's image name, as the guest sees it */

	/* MSRs virtualized in software (the rest live in the VMCB/VMCS) */
	u64 msr_tsc_offset;
	u64 msr_apic_base;

	struct guest_stats stats;
	u64 clock_hand; /* where reclaim's clock resumes in this guest */
	unsigned int memory_waits;
	u64 sampled_faults; /* stage2_faults at the last sample */ /* faults in a row that found no frame */
	u64 slice_start_tsc;
	u64 run_tsc; /* time spent in the guest, TSC ticks */
};

extern struct guest *guests[MAX_GUESTS];
extern unsigned int nr_guests;

/*
 * Creates guests from Tide's modules; a bad module is refused with a
 * message. Returns the number refused.
 */
unsigned int guests_create_from_modules(void);

/* A guest ends normally (isa-debug-exit): prints its status, frees it. */
void guest_stop(struct guest *g, int status);

/* A guest ends badly (triple fault, hang, refused state): says why, frees it. */
__printf(2, 3) void guest_crash(struct guest *g, const char *fmt, ...);

#endif
