/*
 * The AMD SVM back end of the vCPU interface (kernel/vcpu.h), following the
 * APM vol. 2, chapter 15. It owns the VMCBs, the host save area, the I/O and
 * MSR permission maps (everything intercepted), ASIDs, and the nested page
 * table format, and translates #VMEXIT codes into generic exits.
 *
 * ASIDs: each guest holds one until the space runs out (QEMU's TCG offers
 * 16), then a new generation starts: every guest gets a fresh ASID on its
 * next entry and the first entry of the generation flushes the whole TLB.
 * Without flush-by-ASID (TCG) a stage-2 flush is a full TLB flush.
 */
#include "arch/x86/cpu.h"
#include "arch/x86/paging.h"
#include "kernel/errno.h"
#include "kernel/guest.h"
#include "kernel/printk.h"
#include "kernel/string.h"
#include "kernel/trace.h"
#include "kernel/vcpu.h"
#include "mm/frame_alloc.h"
#include "mm/page_table.h"
#include "mm/shadow.h"
#include "svm/vmcb.h"

#define MSR_VM_HSAVE_PA 0xc0010117
#define SVM_FEATURE_NPT BIT(0)
#define SVM_FEATURE_NRIPS BIT(3)
#define SVM_FEATURE_FLUSH_BY_ASID BIT(6)
#define IOPM_ORDER 2 /* 12 KiB used of 16 */
#define MSRPM_ORDER 1 /* 8 KiB */
#define DEFAULT_PAT 0x0007040600070406UL

struct svm_guest {
	u32 asid;
	u64 generation;
	u8 pending_flush; /* SVM_TLB_FLUSH_* for the next entry */
};

struct svm_vcpu {
	struct vmcb *vmcb;
	u64 vmcb_pa;
};

static u32 nr_asids;
static u32 next_asid = 1;
static u64 asid_generation = 1;
static bool has_nrips, has_flush_by_asid;
static u64 host_vmcb_pa, iopm_pa, msrpm_pa;

void svm_enter(u64 guest_vmcb_pa, u64 *gprs, u64 host_vmcb_pa);

static struct pt_format npt_format = {
	.name = "NPT",
	.present = BIT(0),
	/* nested entries need U=1 at every level (APM 15.25.5) */
	.table = BIT(0) | BIT(1) | BIT(2),
	.read = BIT(0),
	.write = BIT(1),
	.user = BIT(2),
	.leaf_always = BIT(2),
	.large = BIT(7),
	.accessed = BIT(5),
	.dirty = BIT(6),
	.addr_mask = 0x000ffffffffff000UL,
	.max_leaf_level = 1,
};

static int svm_cpu_enable(void)
{
	struct cpuid_regs r = cpuid(0x8000000a);
	u64 hsave, host_vmcb, iopm, msrpm;

	if (!(r.edx & SVM_FEATURE_NPT) && !shadow_paging) {
		pr_err("svm: no nested paging (use paging=shadow)\n");
		return -ENODEV;
	}
	nr_asids = r.ebx;
	has_nrips = r.edx & SVM_FEATURE_NRIPS;
	has_flush_by_asid = r.edx & SVM_FEATURE_FLUSH_BY_ASID;
	if (nr_asids < 2) {
		pr_err("svm: only %u ASIDs\n", nr_asids);
		return -ENODEV;
	}
	if (boot_cpu.nx)
		npt_format.no_exec = BIT(63);

	hsave = frame_alloc_page(OWNER_HYPERVISOR);
	host_vmcb = frame_alloc_page(OWNER_HYPERVISOR);
	iopm = frame_alloc(IOPM_ORDER, 0, OWNER_HYPERVISOR);
	msrpm = frame_alloc(MSRPM_ORDER, 0, OWNER_HYPERVISOR);
	if (!hsave || !host_vmcb || !iopm || !msrpm)
		return -ENOMEM;
	/* intercept every port and every MSR: the core decides */
	memset(phys_to_virt(iopm), 0xff, PAGE_SIZE << IOPM_ORDER);
	memset(phys_to_virt(msrpm), 0xff, PAGE_SIZE << MSRPM_ORDER);
	host_vmcb_pa = host_vmcb;
	iopm_pa = iopm;
	msrpm_pa = msrpm;

	trace_flush_kind = has_flush_by_asid ? FLUSH_ASID : FLUSH_ALL;
	wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SVME);
	wrmsr(MSR_VM_HSAVE_PA, hsave);
	pr_info("svm: enabled, %u ASIDs, NRIP save %s, flush by ASID %s, %s\n", nr_asids,
		has_nrips ? "yes" : "no (decoding instructions instead)",
		has_flush_by_asid ? "yes" : "no (full flushes)",
		shadow_paging ? "shadow paging (NPT off)" : "nested paging");
	return 0;
}

static const struct pt_format *svm_stage2_format(void)
{
	return &npt_format;
}

static int svm_guest_init(struct guest *g)
{
	static struct svm_guest pool[MAX_GUESTS];
	struct svm_guest *sg = &pool[g->id];

	memset(sg, 0, sizeof(*sg));
	g->arch = sg;
	return 0;
}

static void svm_guest_destroy(struct guest *g)
{
	g->arch = NULL;
}

static void svm_flush_guest_tlb(struct guest *g)
{
	struct svm_guest *sg = g->arch;

	/*
	 * One CPU, and the guest is not running while Tide handles it: the
	 * flush at its next entry is before any use of the old entries.
	 */
	sg->pending_flush = has_flush_by_asid ? SVM_TLB_FLUSH_ASID : SVM_TLB_FLUSH_ALL;
}

static void set_segment(struct vmcb_segment *s, u16 sel, u16 attrib, u32 limit, u64 base)
{
	s->selector = sel;
	s->attrib = attrib;
	s->limit = limit;
	s->base = base;
}

static void svm_vcpu_reset_protected(struct vcpu *v, u64 rip)
{
	struct svm_vcpu *sv = v->arch;
	struct vmcb_save *s = &sv->vmcb->save;

	/* flat 4 GiB segments: code 0x9b, data 0x93, with G=1 D=1 */
	set_segment(&s->cs, 0x08, 0xc9b, 0xffffffff, 0);
	set_segment(&s->ds, 0x10, 0xc93, 0xffffffff, 0);
	s->es = s->ss = s->fs = s->gs = s->ds;
	set_segment(&s->gdtr, 0, 0, 0, 0);
	set_segment(&s->idtr, 0, 0, 0x3ff, 0);
	set_segment(&s->ldtr, 0, 0x82, 0xffff, 0);
	set_segment(&s->tr, 0, 0x8b, 0xffff, 0);
	s->cpl = 0;
	s->cr0 = X86_CR0_PE | X86_CR0_ET;
	s->cr3 = 0;
	s->cr4 = 0;
	s->efer = EFER_SVME; /* VMRUN requires it; RDMSR hides it */
	s->rflags = 0x2;
	s->rip = rip;
	s->dr6 = 0xffff0ff0;
	s->dr7 = 0x400;
	s->g_pat = DEFAULT_PAT;
	memset(v->gpr, 0, sizeof(v->gpr));
}

static int svm_vcpu_create(struct vcpu *v)
{
	static struct svm_vcpu pool[MAX_GUESTS];
	struct svm_vcpu *sv = &pool[v->guest->id];
	struct vmcb_control *c;
	u64 pa = frame_alloc_page(GUEST_OWNER_BASE + v->guest->id);

	if (!pa)
		return -ENOMEM;
	sv->vmcb_pa = pa;
	sv->vmcb = phys_to_virt(pa);
	v->arch = sv;
	c = &sv->vmcb->control;
	/* CR4 writes are checked by the core (reserved bits such as VMXE) */
	c->intercept_cr = SVM_INTERCEPT_CR4_WRITE;
	c->intercept_misc1 = SVM_INTERCEPT_INTR | SVM_INTERCEPT_NMI | SVM_INTERCEPT_SMI |
			     SVM_INTERCEPT_INIT | SVM_INTERCEPT_CPUID | SVM_INTERCEPT_INVD |
			     SVM_INTERCEPT_HLT | SVM_INTERCEPT_INVLPGA | SVM_INTERCEPT_IOIO |
			     SVM_INTERCEPT_MSR | SVM_INTERCEPT_TASK_SWITCH |
			     SVM_INTERCEPT_SHUTDOWN;
	c->intercept_misc2 = SVM_INTERCEPT_VMRUN | SVM_INTERCEPT_VMMCALL | SVM_INTERCEPT_VMLOAD |
			     SVM_INTERCEPT_VMSAVE | SVM_INTERCEPT_STGI | SVM_INTERCEPT_CLGI |
			     SVM_INTERCEPT_SKINIT;
	c->iopm_base_pa = iopm_pa;
	c->msrpm_base_pa = msrpm_pa;
	c->int_control = SVM_V_INTR_MASKING;
	if (shadow_paging) {
		/*
		 * NPT off: the CPU walks Tide's shadow tables, so the guest's
		 * page faults and every CR0/CR3/CR4 access are Tide's (the
		 * values the CPU holds are not the guest's). INVLPG runs
		 * natively: the shadows are never stale (mm/shadow.c).
		 */
		c->intercept_cr = SVM_INTERCEPT_CR_READ(0) | SVM_INTERCEPT_CR_READ(3) |
				  SVM_INTERCEPT_CR_READ(4) | SVM_INTERCEPT_CR_WRITE(0) |
				  SVM_INTERCEPT_CR_WRITE(3) | SVM_INTERCEPT_CR_WRITE(4);
		c->intercept_exceptions = BIT(14);
	} else {
		c->np_enable = 1;
		c->n_cr3 = v->guest->stage2.pt.root;
	}
	svm_vcpu_reset_protected(v, 0);
	return 0;
}

static void svm_vcpu_destroy(struct vcpu *v)
{
	struct svm_vcpu *sv = v->arch;

	if (sv) {
		frame_free_page(sv->vmcb_pa);
		v->arch = NULL;
	}
}

/* A fresh ASID when this guest's is from an older generation. */
static void prepare_asid(struct guest *g, struct vmcb_control *c)
{
	struct svm_guest *sg = g->arch;

	if (sg->generation != asid_generation) {
		if (next_asid >= nr_asids) {
			asid_generation++;
			next_asid = 1;
			sg->pending_flush = SVM_TLB_FLUSH_ALL;
		}
		sg->asid = next_asid++;
		sg->generation = asid_generation;
	}
	c->asid = sg->asid;
	c->tlb_control = sg->pending_flush;
	sg->pending_flush = SVM_TLB_FLUSH_NOTHING;
}

/*
 * A task switch (the TASK_SWITCH intercept, APM vol. 2, chapter 15):
 * EXITINFO1 holds the new TSS selector, EXITINFO2 the source (IRET, JMP,
 * else CALL or a gate), a gate's error code and the RF to save. It has
 * fault semantics and no next RIP: RIP is at the instruction that switched
 * (or where the event struck). An event delivered through a task gate shows
 * in EXITINTINFO (and is delivered again unless the core cancels it; Bochs
 * 2.7 leaves the previous event there for INT n: kernel/task_switch.c
 * checks it against the IDT).
 */
static void translate_task_switch(const struct vmcb_control *c, struct vcpu_exit *e)
{
	u64 info2 = c->exit_info2;
	u64 event = c->exit_int_info;
	u64 type = event & (7 << 8);
	u8 vector = event & 0xff;

	e->reason = EXIT_TASK_SWITCH;
	e->next_rip = 0; /* the core decodes when the switch came from an instruction */
	e->task_switch.selector = c->exit_info1;
	e->task_switch.set_rf = info2 & SVM_TASK_SWITCH_RF;
	if (info2 & SVM_TASK_SWITCH_IRET) {
		e->task_switch.source = TASK_SWITCH_IRET;
		e->task_switch.after_insn = true;
	} else if (info2 & SVM_TASK_SWITCH_JMP) {
		e->task_switch.source = TASK_SWITCH_JMP;
		e->task_switch.after_insn = true;
	} else if (event & SVM_EVENT_VALID) {
		e->task_switch.source = TASK_SWITCH_GATE;
		e->task_switch.vector = vector;
		/* INT n, and INT3/INTO (exceptions 3 and 4 here): after the instruction */
		e->task_switch.after_insn = type == SVM_EVENT_TYPE_SOFT ||
					    (type == SVM_EVENT_TYPE_EXCEPTION &&
					     (vector == 3 || vector == 4));
		e->task_switch.has_error = info2 & SVM_TASK_SWITCH_ERROR_VALID;
		e->task_switch.error_code = (u32)info2;
	} else {
		e->task_switch.source = TASK_SWITCH_CALL;
		e->task_switch.after_insn = true;
	}
}

static void translate_exit(struct svm_vcpu *sv, struct vcpu_exit *e)
{
	struct vmcb_control *c = &sv->vmcb->control;
	u64 code = c->exit_code;
	u64 info1 = c->exit_info1;

	memset(e, 0, sizeof(*e));
	e->hw_reason = code;
	e->hw_qualification = info1;
	if (has_nrips)
		e->next_rip = c->next_rip;

	if ((u32)code == SVM_EXIT_INVALID) {
		e->reason = EXIT_ENTRY_FAILED;
		return;
	}
	switch (code) {
	case SVM_EXIT_CPUID:
		e->reason = EXIT_CPUID;
		break;
	case SVM_EXIT_HLT:
		e->reason = EXIT_HLT;
		break;
	case SVM_EXIT_VMMCALL:
		e->reason = EXIT_HYPERCALL;
		break;
	case SVM_EXIT_IOIO:
		e->reason = EXIT_IO;
		e->io.in = info1 & BIT(0);
		e->io.string = info1 & (BIT(2) | BIT(3));
		e->io.size = (info1 & BIT(4)) ? 1 : (info1 & BIT(5)) ? 2 : 4;
		e->io.port = info1 >> 16;
		e->next_rip = c->exit_info2; /* IOIO always reports it */
		break;
	case SVM_EXIT_MSR:
		e->reason = info1 ? EXIT_MSR_WRITE : EXIT_MSR_READ;
		break;
	case SVM_EXIT_NPF:
		e->reason = EXIT_STAGE2_FAULT;
		e->fault.gpa = c->exit_info2;
		e->fault.present = info1 & BIT(0);
		e->fault.access = (info1 & BIT(1)) ? STAGE2_WRITE :
				  (info1 & BIT(4)) ? STAGE2_EXEC : STAGE2_READ;
		break;
	case SVM_EXIT_SHUTDOWN:
		e->reason = EXIT_SHUTDOWN;
		break;
	case SVM_EXIT_READ_CR0:
	case SVM_EXIT_READ_CR0 + 3:
	case SVM_EXIT_READ_CR0 + 4:
	case SVM_EXIT_WRITE_CR0:
	case SVM_EXIT_WRITE_CR0 + 3:
	case SVM_EXIT_WRITE_CR4:
		e->reason = code >= SVM_EXIT_WRITE_CR0 ? EXIT_CR_WRITE : EXIT_CR_READ;
		e->cr.cr = code & 0xf;
		/* with decode assists EXITINFO1 bit 63 says the GPR is valid (MOV, not CLTS/LMSW) */
		e->cr.gpr = (info1 & BIT(63)) ? (info1 & 0xf) : CR_GPR_UNKNOWN;
		break;
	case SVM_EXIT_TASK_SWITCH:
		translate_task_switch(c, e);
		break;
	case SVM_EXIT_EXCEPTION_BASE + 14:
		e->reason = EXIT_PAGE_FAULT;
		e->page_fault.linear = c->exit_info2;
		e->page_fault.error_code = info1;
		break;
	case SVM_EXIT_INTR:
	case SVM_EXIT_NMI:
	case SVM_EXIT_SMI:
	case SVM_EXIT_INIT:
		e->reason = EXIT_INTERRUPT;
		break;
	case SVM_EXIT_VMRUN:
	case SVM_EXIT_VMLOAD:
	case SVM_EXIT_VMSAVE:
	case SVM_EXIT_STGI:
	case SVM_EXIT_CLGI:
	case SVM_EXIT_SKINIT:
	case SVM_EXIT_INVLPGA:
		e->reason = EXIT_VIRT_INSN;
		break;
	default:
		if (code >= SVM_EXIT_EXCEPTION_BASE && code < SVM_EXIT_EXCEPTION_BASE + 32) {
			e->reason = EXIT_EXCEPTION;
			e->exception.vector = code - SVM_EXIT_EXCEPTION_BASE;
			e->exception.error_code = info1;
		} else {
			e->reason = EXIT_UNHANDLED;
		}
		break;
	}
}

/*
 * With shadow paging every #PF of the guest is intercepted, so one can be
 * in EXITINTINFO only if Tide injected it at this VMRUN. Bochs 2.7 leaves
 * an earlier injected #PF there when the delivery of something else (an
 * INT n) is cut short; it is dropped, and the guest, whose RIP is still at
 * that instruction, runs it again.
 */
static bool stale_injected_pf(u64 exit_int_info, u64 injected)
{
	const u64 pf = SVM_EVENT_VALID | SVM_EVENT_TYPE_EXCEPTION | 14;
	const u64 mask = SVM_EVENT_VALID | (7 << 8) | 0xff;

	return shadow_paging && (exit_int_info & mask) == pf && (injected & mask) != pf;
}

/*
 * With shadow paging the CPU's CR3 changes at Tide's hand only, so another
 * one after an exit means that the CPU switched tasks on its own, ignoring
 * the TASK_SWITCH intercept (QEMU's TCG does not implement it), and ran the
 * guest on a CR3 taken from its TSS: the core stops the guest.
 */
static void cpu_switched_tasks(struct vmcb *vmcb, struct vcpu_exit *e)
{
	memset(e, 0, sizeof(*e));
	e->reason = EXIT_TASK_SWITCH;
	e->task_switch.by_cpu = true;
	e->task_switch.selector = vmcb->save.tr.selector;
	e->hw_reason = vmcb->control.exit_code;
	e->hw_qualification = vmcb->save.cr3;
}

static void svm_vcpu_run(struct vcpu *v, struct vcpu_exit *e)
{
	struct svm_vcpu *sv = v->arch;
	struct vmcb *vmcb = sv->vmcb;
	u64 injected, shadow_cr3 = 0;

	if (shadow_paging) {
		struct paging_regs hw;

		shadow_hardware_regs(v, &hw);
		shadow_cr3 = hw.cr3;
		vmcb->save.cr0 = hw.cr0;
		vmcb->save.cr3 = hw.cr3;
		vmcb->save.cr4 = hw.cr4;
		vmcb->save.efer = hw.efer | EFER_SVME;
		/*
		 * VMRUN loads CR2 from the VMCB (APM 15.5.1), but Bochs 2.7
		 * keeps the CPU's own: load it too, so that a #PF Tide injects
		 * shows its address there as well. Tide itself takes no #PF.
		 */
		write_cr2(vmcb->save.cr2);
	}
	prepare_asid(v->guest, &vmcb->control);
	vmcb->save.rax = v->gpr[GPR_RAX];
	vmcb->save.rsp = v->gpr[GPR_RSP];
	vmcb->control.clean_bits = 0; /* Tide edits the VMCB freely */

	injected = vmcb->control.event_inject;
	svm_enter(sv->vmcb_pa, v->gpr, host_vmcb_pa);

	v->gpr[GPR_RAX] = vmcb->save.rax;
	v->gpr[GPR_RSP] = vmcb->save.rsp;
	vmcb->control.event_inject = 0;
	/* an event cut short by this exit is delivered again on the next entry */
	if ((vmcb->control.exit_int_info & SVM_EVENT_VALID) &&
	    !stale_injected_pf(vmcb->control.exit_int_info, injected))
		vmcb->control.event_inject = vmcb->control.exit_int_info;
	translate_exit(sv, e);
	if (e->reason == EXIT_PAGE_FAULT)
		e->page_fault.delivering = vmcb->control.event_inject & SVM_EVENT_VALID;
	if (shadow_paging && vmcb->save.cr3 != shadow_cr3)
		cpu_switched_tasks(vmcb, e);
}

static u64 *reg_field(struct vmcb *vmcb, enum vcpu_reg r)
{
	struct vmcb_save *s = &vmcb->save;

	switch (r) {
	case VCPU_RIP: return &s->rip;
	case VCPU_RFLAGS: return &s->rflags;
	case VCPU_CR0: return &s->cr0;
	case VCPU_CR2: return &s->cr2;
	case VCPU_CR3: return &s->cr3;
	case VCPU_CR4: return &s->cr4;
	case VCPU_EFER: return &s->efer;
	case VCPU_CS_BASE: return &s->cs.base;
	case VCPU_FS_BASE: return &s->fs.base;
	case VCPU_GS_BASE: return &s->gs.base;
	case VCPU_KERNEL_GS_BASE: return &s->kernel_gs_base;
	case VCPU_STAR: return &s->star;
	case VCPU_LSTAR: return &s->lstar;
	case VCPU_CSTAR: return &s->cstar;
	case VCPU_SFMASK: return &s->sfmask;
	case VCPU_SYSENTER_CS: return &s->sysenter_cs;
	case VCPU_SYSENTER_ESP: return &s->sysenter_esp;
	case VCPU_SYSENTER_EIP: return &s->sysenter_eip;
	case VCPU_PAT: return &s->g_pat;
	case VCPU_INTERRUPT_SHADOW: return &vmcb->control.int_shadow;
	case VCPU_TSC_OFFSET: return &vmcb->control.tsc_offset;
	default: return NULL;
	}
}

static u64 svm_get_reg(struct vcpu *v, enum vcpu_reg r)
{
	struct vmcb *vmcb = ((struct svm_vcpu *)v->arch)->vmcb;
	u64 *f;

	switch (r) {
	case VCPU_CS_ATTR: return vmcb->save.cs.attrib;
	case VCPU_SS_ATTR: return vmcb->save.ss.attrib;
	case VCPU_CPL: return vmcb->save.cpl;
	case VCPU_EFER: return vmcb->save.efer & ~EFER_SVME;
	default:
		f = reg_field(vmcb, r);
		return f ? *f : 0;
	}
}

static void svm_set_reg(struct vcpu *v, enum vcpu_reg r, u64 val)
{
	struct vmcb *vmcb = ((struct svm_vcpu *)v->arch)->vmcb;
	u64 *f;

	if (r == VCPU_EFER)
		val |= EFER_SVME;
	f = reg_field(vmcb, r);
	if (f)
		*f = val;
}

static void svm_inject(struct vcpu *v, enum vcpu_event_type type, u8 vector,
		       bool has_error, u32 error_code)
{
	struct vmcb *vmcb = ((struct svm_vcpu *)v->arch)->vmcb;
	static const u64 types[] = {
		[EVENT_EXTERNAL] = SVM_EVENT_TYPE_INTR,
		[EVENT_NMI] = SVM_EVENT_TYPE_NMI,
		[EVENT_EXCEPTION] = SVM_EVENT_TYPE_EXCEPTION,
		[EVENT_SOFTWARE] = SVM_EVENT_TYPE_SOFT,
	};
	u64 ev, pending = vmcb->control.event_inject;

	/* an exception whose delivery the exit cut short meets the new one */
	if (type == EVENT_EXCEPTION && (pending & SVM_EVENT_VALID) &&
	    (pending & (7 << 8)) == SVM_EVENT_TYPE_EXCEPTION) {
		int combined = exception_combine(pending & 0xff, vector);

		if (combined < 0) {
			guest_crash(v->guest, "triple fault (exception %u while delivering %u)",
				    vector, (unsigned int)(pending & 0xff));
			return;
		}
		if (combined == 8) {
			vector = 8;
			has_error = true;
			error_code = 0;
		}
	}
	ev = vector | types[type] | SVM_EVENT_VALID;
	if (has_error)
		ev |= SVM_EVENT_ERROR_VALID | ((u64)error_code << 32);
	vmcb->control.event_inject = ev;
}

/* The event the last exit cut short is not delivered again (svm_vcpu_run). */
static void svm_cancel_event(struct vcpu *v)
{
	((struct svm_vcpu *)v->arch)->vmcb->control.event_inject = 0;
}

static struct vmcb_segment *segment_field(struct vmcb *vmcb, enum vcpu_seg s)
{
	struct vmcb_save *save = &vmcb->save;

	switch (s) {
	case SEG_ES: return &save->es;
	case SEG_CS: return &save->cs;
	case SEG_SS: return &save->ss;
	case SEG_DS: return &save->ds;
	case SEG_FS: return &save->fs;
	case SEG_GS: return &save->gs;
	case SEG_LDTR: return &save->ldtr;
	case SEG_TR: return &save->tr;
	case SEG_GDTR: return &save->gdtr;
	case SEG_IDTR: return &save->idtr;
	default: return NULL;
	}
}

/* The VMCB's attrib is the interface's packed layout already. */
static void svm_get_segment(struct vcpu *v, enum vcpu_seg s, struct vcpu_segment *seg)
{
	struct vmcb_segment *f = segment_field(((struct svm_vcpu *)v->arch)->vmcb, s);

	*seg = (struct vcpu_segment){ 0 };
	if (!f)
		return;
	seg->base = f->base;
	seg->limit = f->limit;
	if (s != SEG_GDTR && s != SEG_IDTR) {
		seg->selector = f->selector;
		seg->attr = f->attrib;
	}
}

static void svm_set_segment(struct vcpu *v, enum vcpu_seg s, const struct vcpu_segment *seg)
{
	struct vmcb *vmcb = ((struct svm_vcpu *)v->arch)->vmcb;
	struct vmcb_segment *f = segment_field(vmcb, s);

	if (!f)
		return;
	f->base = seg->base;
	f->limit = seg->limit;
	if (s != SEG_GDTR && s != SEG_IDTR) {
		f->selector = seg->selector;
		f->attrib = seg->attr & 0xfff;
	}
	/* VMRUN takes the CPL from the VMCB: it follows SS.DPL, as on VMX */
	if (s == SEG_SS)
		vmcb->save.cpl = (seg->attr >> SEG_ATTR_DPL_SHIFT) & 3;
}

const struct vcpu_ops svm_ops = {
	.name = "SVM",
	.stage2_name = "NPT",
	.cpu_enable = svm_cpu_enable,
	.stage2_format = svm_stage2_format,
	.guest_init = svm_guest_init,
	.guest_destroy = svm_guest_destroy,
	.flush_guest_tlb = svm_flush_guest_tlb,
	.vcpu_create = svm_vcpu_create,
	.vcpu_destroy = svm_vcpu_destroy,
	.vcpu_reset_protected = svm_vcpu_reset_protected,
	.vcpu_run = svm_vcpu_run,
	.get_reg = svm_get_reg,
	.set_reg = svm_set_reg,
	.inject = svm_inject,
	.cancel_event = svm_cancel_event,
	.get_segment = svm_get_segment,
	.set_segment = svm_set_segment,
	.set_slice = NULL, /* no slice timer in SVM: the scheduler uses the LAPIC timer */
};
