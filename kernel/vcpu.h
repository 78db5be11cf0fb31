/*
 * The arch-neutral vCPU interface. The core (kernel/) creates, runs and
 * inspects vCPUs only through struct vcpu_ops; vmx/ and svm/ implement it and
 * translate their exits into the generic struct vcpu_exit, so every exit is
 * handled once, in kernel/vmexit.c, whatever the vendor.
 */
#ifndef TIDE_VCPU_H
#define TIDE_VCPU_H

#include "kernel/types.h"

struct guest;
struct pt_format;

/* General registers, in the hardware's numbering (ModRM, REX). */
enum vcpu_gpr {
	GPR_RAX, GPR_RCX, GPR_RDX, GPR_RBX, GPR_RSP, GPR_RBP, GPR_RSI, GPR_RDI,
	GPR_R8, GPR_R9, GPR_R10, GPR_R11, GPR_R12, GPR_R13, GPR_R14, GPR_R15,
	NR_GPRS,
};

/* Registers the back end keeps in its control block (VMCB/VMCS). */
enum vcpu_reg {
	VCPU_RIP, VCPU_RFLAGS, VCPU_CR0, VCPU_CR2, VCPU_CR3, VCPU_CR4, VCPU_EFER,
	VCPU_CS_BASE, VCPU_CS_ATTR, VCPU_SS_ATTR, VCPU_CPL, VCPU_PAT,
	VCPU_FS_BASE, VCPU_GS_BASE, VCPU_KERNEL_GS_BASE,
	VCPU_STAR, VCPU_LSTAR, VCPU_CSTAR, VCPU_SFMASK,
	VCPU_SYSENTER_CS, VCPU_SYSENTER_ESP, VCPU_SYSENTER_EIP,
	VCPU_INTERRUPT_SHADOW,
	VCPU_TSC_OFFSET,
	NR_VCPU_REGS,
};

enum vcpu_exit_reason {
	EXIT_NONE,
	EXIT_IO, /* IN/OUT (string forms are refused) */
	EXIT_STAGE2_FAULT, /* EPT violation / nested page fault */
	EXIT_CPUID,
	EXIT_MSR_READ,
	EXIT_MSR_WRITE,
	EXIT_HLT,
	EXIT_HYPERCALL, /* VMCALL / VMMCALL */
	EXIT_VIRT_INSN, /* the guest tried a VMX/SVM instruction */
	EXIT_CR_WRITE, /* MOV to CR0/CR4 (and CR3, CLTS, LMSW with shadow paging) */
	EXIT_INTERRUPT, /* a host interrupt (timer) arrived: preemption */
	EXIT_PREEMPTED, /* the slice timer of the back end expired */
	EXIT_SHUTDOWN, /* triple fault or shutdown */
	EXIT_EXCEPTION, /* an intercepted guest exception */
	EXIT_ENTRY_FAILED, /* the CPU refused the guest state */
	EXIT_UNHANDLED, /* anything else: stops the guest */
	/* later additions, numbered after the first ones (the STATS ABI) */
	EXIT_CR_READ, /* MOV from CR0/CR3/CR4 (shadow paging) */
	EXIT_PAGE_FAULT, /* a #PF of the guest (shadow paging) */
	EXIT_TASK_SWITCH, /* a hardware task switch (kernel/task_switch.c emulates it) */
	NR_EXIT_REASONS,
};

/*
 * Segment registers: ES..GS in the hardware's numbering (the sreg field of
 * MOV Sreg and of the TSS), then the system registers.
 */
enum vcpu_seg {
	SEG_ES, SEG_CS, SEG_SS, SEG_DS, SEG_FS, SEG_GS,
	SEG_LDTR, SEG_TR, SEG_GDTR, SEG_IDTR,
	NR_VCPU_SEGS,
};

/*
 * A segment register with its hidden part, the same for both vendors. attr
 * holds the descriptor's attribute bits packed as SVM's VMCB does (and as
 * VCPU_CS_ATTR reads): bits 0-7 are descriptor bits 40-47 (type, S, DPL,
 * P), bits 8-11 descriptor bits 52-55 (AVL, L, D/B, G). A register loaded
 * with a null selector (VMX: unusable) has P clear. limit is in bytes (G
 * applied). GDTR and IDTR have only base and limit.
 */
struct vcpu_segment {
	u64 base;
	u32 limit;
	u16 selector;
	u16 attr;
};

#define SEG_ATTR_TYPE 0x00f
#define SEG_ATTR_S BIT(4) /* code or data (clear: system) */
#define SEG_ATTR_DPL_SHIFT 5
#define SEG_ATTR_P BIT(7)
#define SEG_ATTR_L BIT(9)
#define SEG_ATTR_DB BIT(10)
#define SEG_ATTR_G BIT(11)

/* What started a task switch (VMX's exit-qualification numbering). */
enum task_switch_source {
	TASK_SWITCH_CALL, /* CALL to a TSS or a task gate */
	TASK_SWITCH_IRET, /* IRET with EFLAGS.NT = 1: back to the back-link */
	TASK_SWITCH_JMP, /* JMP to a TSS or a task gate */
	TASK_SWITCH_GATE, /* an event delivered through a task gate in the IDT */
};

#define CR_GPR_UNKNOWN 0xff

#define STAGE2_READ BIT(0)
#define STAGE2_WRITE BIT(1)
#define STAGE2_EXEC BIT(2)

struct vcpu_exit {
	enum vcpu_exit_reason reason;
	/*
	 * RIP after the exiting instruction when the hardware says it (NRIP,
	 * VM-exit instruction length, IOIO's EXITINFO2), else 0 and the core
	 * decodes the instruction itself.
	 */
	u64 next_rip;
	union {
		struct {
			u16 port;
			u8 size; /* 1, 2 or 4 */
			bool in;
			bool string; /* INS/OUTS or REP: not emulated */
		} io;
		struct {
			u64 gpa;
			u32 access; /* STAGE2_* of the faulting access */
			bool present; /* a mapping existed but forbade it */
		} fault;
		struct {
			u8 vector;
			bool has_error;
			u32 error_code;
		} exception;
		struct {
			u8 cr; /* 0, 3 or 4 */
			u8 gpr; /* source/destination register, or CR_GPR_UNKNOWN: decode */
		} cr;
		struct {
			u64 linear; /* the faulting linear address (CR2) */
			u32 error_code; /* as the CPU pushed it for the shadow tables */
			/*
			 * The fault came while the CPU delivered an event (to
			 * be delivered again): the access is not the
			 * instruction at RIP.
			 */
			bool delivering;
		} page_fault;
		struct {
			u16 selector; /* of the new TSS */
			u8 source; /* enum task_switch_source */
			/*
			 * The old task resumes after the instruction that
			 * switched (CALL, IRET, JMP, or INT n, INT3, INTO
			 * through a gate): its EIP is next_rip, or RIP plus the
			 * decoded length. Otherwise (an exception, an
			 * interrupt) it is RIP.
			 */
			bool after_insn;
			u8 vector; /* the event delivered through a gate */
			/* a gate's exception error code, for the new task's stack */
			bool has_error;
			u32 error_code;
			bool set_rf; /* RF goes into the EFLAGS saved in the old TSS (SVM) */
			/*
			 * The CPU switched tasks itself, ignoring the
			 * intercept (QEMU's TCG): noticed afterwards, selector
			 * is TR, hw_qualification the CR3 it loaded.
			 */
			bool by_cpu;
		} task_switch;
	};
	u64 hw_reason; /* vendor exit code, for messages */
	u64 hw_qualification;
};

/* An event to inject at the next entry. */
enum vcpu_event_type { EVENT_EXTERNAL, EVENT_NMI, EVENT_EXCEPTION, EVENT_SOFTWARE };

/*
 * With shadow paging the CPU runs on Tide's tables, so the paging registers
 * it holds are not the guest's: these are what the guest has written and
 * reads back. get_reg/set_reg of VCPU_CR0/CR3/CR4/EFER use them, and the
 * back end loads shadow_hardware_regs() into the CPU at every entry.
 */
struct paging_regs {
	u64 cr0, cr3, cr4, efer;
};

struct shadow_vcpu;

struct vcpu {
	struct guest *guest;
	unsigned int id;
	u64 gpr[NR_GPRS]; /* RSP and RAX are synced with the control block */
	void *arch; /* the back end's state */
	u64 exits; /* total exits, for statistics */
	struct paging_regs paging; /* the guest's view (shadow paging only) */
	struct shadow_vcpu *shadow; /* mm/shadow.c's state (shadow paging only) */
};

/*
 * paging=auto|tdp|shadow, resolved at boot: true when guests run on shadow
 * page tables (mm/shadow.c) instead of EPT/NPT.
 */
extern bool shadow_paging;

struct vcpu_ops {
	const char *name; /* "VMX" or "SVM" */
	const char *stage2_name; /* "EPT" or "NPT" */
	/* Turns virtualization on for this CPU (VMXON / EFER.SVME). */
	int (*cpu_enable)(void);
	/* Format of this vendor's stage-2 tables, for mm/stage2.c. */
	const struct pt_format *(*stage2_format)(void);
	/* Guest-wide state (ASID / EPT pointer) lives with the guest. */
	int (*guest_init)(struct guest *g);
	void (*guest_destroy)(struct guest *g);
	/*
	 * Flushes every TLB entry of g, whether derived from its stage-2 or
	 * its shadow tables; done before g next runs.
	 */
	void (*flush_guest_tlb)(struct guest *g);
	int (*vcpu_create)(struct vcpu *v);
	void (*vcpu_destroy)(struct vcpu *v);
	/* Sets the Multiboot entry state: 32-bit flat protected mode, paging off. */
	void (*vcpu_reset_protected)(struct vcpu *v, u64 rip);
	/* Runs the guest until it exits; fills `exit`. */
	void (*vcpu_run)(struct vcpu *v, struct vcpu_exit *exit);
	u64 (*get_reg)(struct vcpu *v, enum vcpu_reg r);
	void (*set_reg)(struct vcpu *v, enum vcpu_reg r, u64 val);
	void (*inject)(struct vcpu *v, enum vcpu_event_type type, u8 vector,
		       bool has_error, u32 error_code);
	/*
	 * Drops the event the last exit cut short, which the back end would
	 * deliver again at the next entry: a task switch through a task gate
	 * in the IDT that Tide completed has delivered it.
	 */
	void (*cancel_event)(struct vcpu *v);
	/*
	 * Segment registers, GDTR and IDTR (struct vcpu_segment). Setting SS
	 * also sets the CPL to SS.DPL, as VMX always derives it.
	 */
	void (*get_segment)(struct vcpu *v, enum vcpu_seg s, struct vcpu_segment *seg);
	void (*set_segment)(struct vcpu *v, enum vcpu_seg s, const struct vcpu_segment *seg);
	/*
	 * Arms the back end's own slice timer (TSC ticks; 0 disarms), or NULL
	 * when it has none and the scheduler uses the host LAPIC timer.
	 */
	void (*set_slice)(struct vcpu *v, u64 tsc_ticks);
};

/*
 * An exception raised while another one was being delivered (the exit cut
 * its delivery short and the back end would deliver it again): what the CPU
 * delivers instead, by the SDM vol. 3A table 6-5 / APM 8.2.9 rules. Returns
 * the vector to deliver (8 for a double fault, whose error code is 0) or -1
 * for a triple fault (shutdown).
 */
static inline int exception_combine(u8 first, u8 second)
{
	/* #DE, #TS, #NP, #SS, #GP */
	bool first_contributory = first == 0 || (first >= 10 && first <= 13);
	bool second_contributory = second == 0 || (second >= 10 && second <= 13);

	if (first == 8 && (second_contributory || second == 14))
		return -1;
	if ((first == 14 && (second_contributory || second == 14)) ||
	    (first_contributory && second_contributory))
		return 8;
	return second;
}

/* The back end chosen at boot, or NULL when the CPU cannot run guests. */
extern const struct vcpu_ops *vcpu_ops;

extern const struct vcpu_ops svm_ops;
extern const struct vcpu_ops vmx_ops;

/* Picks the back end from CPUID and enables it; 0 or a negative errno. */
int vcpu_backend_init(void);

/* The guest's view of a paging register under shadow paging, else NULL. */
static inline u64 *vcpu_paging_reg(struct vcpu *v, enum vcpu_reg r)
{
	if (!shadow_paging)
		return NULL;
	switch (r) {
	case VCPU_CR0: return &v->paging.cr0;
	case VCPU_CR3: return &v->paging.cr3;
	case VCPU_CR4: return &v->paging.cr4;
	case VCPU_EFER: return &v->paging.efer;
	default: return NULL;
	}
}

static inline u64 vcpu_get(struct vcpu *v, enum vcpu_reg r)
{
	u64 *p = vcpu_paging_reg(v, r);

	return p ? *p : vcpu_ops->get_reg(v, r);
}

static inline void vcpu_set(struct vcpu *v, enum vcpu_reg r, u64 val)
{
	u64 *p = vcpu_paging_reg(v, r);

	if (p)
		*p = val;
	else
		vcpu_ops->set_reg(v, r, val);
}

#endif
