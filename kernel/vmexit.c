/*
 * Every guest exit, whatever the vendor, is handled here: the back end has
 * already turned it into a struct vcpu_exit. Each handler either completes
 * the guest's instruction (and advances RIP), injects a fault into the
 * guest, or stops the guest with a message; none of them can affect another
 * guest.
 */
#include "arch/x86/cpu.h"
#include "kernel/abi.h"
#include "kernel/errno.h"
#include "kernel/guest.h"
#include "kernel/guest_cpu.h"
#include "kernel/guest_insn.h"
#include "kernel/sched.h"
#include "kernel/task_switch.h"
#include "kernel/trace.h"
#include "kernel/vmexit.h"
#include "kernel/vpc.h"
#include "mm/shadow.h"

#define VECTOR_UD 6
#define VECTOR_GP 13
#define DEBUG_EXIT_PORT 0xf4

static void skip(struct vcpu *v, const struct vcpu_exit *e)
{
	if (guest_skip_instruction(v, e))
		guest_crash(v->guest, "cannot decode the instruction at its RIP");
}

static void inject_gp(struct vcpu *v)
{
	vcpu_ops->inject(v, EVENT_EXCEPTION, VECTOR_GP, true, 0);
}

static void handle_io(struct vcpu *v, const struct vcpu_exit *e)
{
	struct guest *g = v->guest;
	u32 value = v->gpr[GPR_RAX];

	if (e->io.string) {
		guest_crash(g, "string or REP port I/O to port %#x is not emulated", e->io.port);
		return;
	}
	vpc_io(g, e->io.port, e->io.size, e->io.in, &value);
	if (e->io.in) {
		u64 mask = e->io.size == 4 ? 0xffffffffUL : (1UL << (e->io.size * 8)) - 1;

		/* 32-bit results clear the upper half, 8/16-bit ones merge */
		if (e->io.size == 4)
			v->gpr[GPR_RAX] = value;
		else
			v->gpr[GPR_RAX] = (v->gpr[GPR_RAX] & ~mask) | (value & mask);
	}
	skip(v, e);
	if (!e->io.in && e->io.port == DEBUG_EXIT_PORT) {
		vpc_flush_serial(g);
		guest_stop(g, (int)(value & ((e->io.size == 4) ? 0xffffffff : 0xff)));
	}
}

/* An access outside guest RAM: emulate the MOV through the device model. */
static void handle_mmio(struct vcpu *v, u64 gpa)
{
	struct x86_insn insn;
	u64 value = 0;

	if (guest_decode_current(v, &insn) || insn.mmio.kind == X86_MMIO_NONE) {
		guest_crash(v->guest, "unsupported instruction accessing %#lx outside its RAM",
			    gpa);
		return;
	}
	if (insn.mmio.kind == X86_MMIO_LOAD) {
		vpc_mmio(v->guest, gpa, insn.mmio.size, false, &value);
		x86_mmio_apply_load(&insn, v->gpr, value);
	} else {
		x86_mmio_store_value(&insn, v->gpr, &value);
		vpc_mmio(v->guest, gpa, insn.mmio.size, true, &value);
	}
	vcpu_set(v, VCPU_RIP, vcpu_get(v, VCPU_RIP) + insn.length);
}

/* How long a guest may wait for a frame (faults that found none, in a row). */
#define MEMORY_WAIT_LIMIT 64

void guest_memory_error(struct vcpu *v, u64 gpa, int err)
{
	struct guest *g = v->guest;

	if (err == -EFAULT) {
		handle_mmio(v, gpa);
	} else if (err == -EAGAIN) {
		/* no frame now: let the others run (one may exit), then retry */
		if (++g->memory_waits > MEMORY_WAIT_LIMIT)
			guest_crash(g, "out of memory at gpa %#lx", gpa);
		else
			sched_slice_expired();
	} else if (err == -EIO) {
		guest_crash(g, "its page at gpa %#lx could not be read back from swap", gpa);
	} else if (err) {
		guest_crash(g, "stage-2 fault at gpa %#lx failed (%d)", gpa, err);
	}
}

static void handle_stage2_fault(struct vcpu *v, const struct vcpu_exit *e)
{
	struct guest *g = v->guest;
	u64 gained = guest_frames_gained(g);
	int err = stage2_fault(g, e->fault.gpa, e->fault.access);

	/*
	 * Only a frame gained ends a wait: a sampled page coming back or a
	 * first write is no progress for a guest that needs a new frame.
	 */
	if (guest_frames_gained(g) != gained)
		g->memory_waits = 0;
	guest_memory_error(v, e->fault.gpa, err);
}

static void handle_msr(struct vcpu *v, const struct vcpu_exit *e)
{
	u32 msr = v->gpr[GPR_RCX];
	u64 value;

	if (e->reason == EXIT_MSR_READ) {
		if (guest_msr_read(v, msr, &value))
			return inject_gp(v);
		v->gpr[GPR_RAX] = (u32)value;
		v->gpr[GPR_RDX] = value >> 32;
	} else {
		value = (u32)v->gpr[GPR_RAX] | (v->gpr[GPR_RDX] << 32);
		if (guest_msr_write(v, msr, value))
			return inject_gp(v);
	}
	skip(v, e);
}

/* Writes CR0 or CR4 (checked already); shadow paging follows paging-bit changes. */
static void write_cr0_cr4(struct vcpu *v, unsigned int cr, u64 value)
{
	u64 old = vcpu_get(v, cr == 0 ? VCPU_CR0 : VCPU_CR4);
	const u64 paging_bits = cr == 0 ? X86_CR0_PG | X86_CR0_WP | X86_CR0_PE :
					  X86_CR4_PAE | X86_CR4_PSE | X86_CR4_SMEP | X86_CR4_SMAP;

	vcpu_set(v, cr == 0 ? VCPU_CR0 : VCPU_CR4, value);
	if (!shadow_paging || !((old ^ value) & paging_bits))
		return;
	if (cr == 0 && ((old ^ value) & X86_CR0_PG)) {
		/* the CPU sets EFER.LMA when paging goes on with LME (SDM 9.8.5) */
		u64 efer = vcpu_get(v, VCPU_EFER) & ~EFER_LMA;

		if ((value & X86_CR0_PG) && (efer & EFER_LME))
			efer |= EFER_LMA;
		vcpu_set(v, VCPU_EFER, efer);
	}
	shadow_paging_changed(v);
}

/* The register a MOV to/from CR names, decoding when the exit did not say. */
static int cr_access_gpr(struct vcpu *v, const struct vcpu_exit *e, struct x86_insn *insn)
{
	if (e->cr.gpr != CR_GPR_UNKNOWN)
		return e->cr.gpr;
	/* 0F 22 /r: MOV CRn, r; 0F 20 /r: MOV r, CRn; the register is ModRM.rm (+ REX.B) */
	if (guest_decode_current(v, insn) || insn->map != X86_MAP_0F)
		return -1;
	if (insn->opcode != 0x22 && insn->opcode != 0x20)
		return -1;
	return X86_MODRM_RM(insn->modrm) | ((insn->rex & X86_REX_B) ? 8 : 0);
}

/* MOV to CR0, CR3, CR4 or CR8 (and CLTS, LMSW): check it as the CPU would, then apply it. */
static void handle_cr_write(struct vcpu *v, const struct vcpu_exit *e)
{
	struct x86_insn insn = { 0 };
	int gpr = cr_access_gpr(v, e, &insn);
	unsigned int cr = e->cr.cr;
	u64 value;

	if (gpr < 0 && insn.length && insn.map == X86_MAP_0F && insn.opcode == 0x06) {
		/* CLTS: an exit only because Tide owns all of CR0 */
		vcpu_set(v, VCPU_CR0, vcpu_get(v, VCPU_CR0) & ~X86_CR0_TS);
		vcpu_set(v, VCPU_RIP, vcpu_get(v, VCPU_RIP) + insn.length);
		return;
	}
	if (gpr < 0 && insn.length && insn.map == X86_MAP_0F && insn.opcode == 0x01 &&
	    X86_MODRM_REG(insn.modrm) == 6 && X86_MODRM_MOD(insn.modrm) == 3) {
		/* LMSW r16: CR0 bits 3:0; PE can be set, never cleared */
		u64 cr0 = vcpu_get(v, VCPU_CR0);
		u64 src = v->gpr[X86_MODRM_RM(insn.modrm) | ((insn.rex & X86_REX_B) ? 8 : 0)];

		value = (cr0 & ~0xeUL) | (src & 0xf) | (cr0 & X86_CR0_PE);
		if (!guest_cr_write_valid(v, 0, value))
			return inject_gp(v);
		write_cr0_cr4(v, 0, value);
		vcpu_set(v, VCPU_RIP, vcpu_get(v, VCPU_RIP) + insn.length);
		return;
	}
	if (gpr < 0) {
		guest_crash(v->guest, "cannot decode its control register write (CR%u)%s", cr,
			    insn.map == X86_MAP_0F && insn.opcode == 0x01 ?
				    ": LMSW from memory is not emulated" : "");
		return;
	}
	value = v->gpr[gpr];
	if (guest_code_mode(v) != X86_MODE_64)
		value &= 0xffffffff;
	if (cr == 8) {
		/* the task priority, bits 7:4 of the virtual xAPIC's TPR */
		if (value & ~0xfUL)
			return inject_gp(v);
		v->guest->dev.apic_tpr = value << 4;
	} else if (cr == 3) {
		if (shadow_load_cr3(v, value))
			return inject_gp(v);
	} else {
		if (!guest_cr_write_valid(v, cr, value))
			return inject_gp(v);
		if (shadow_paging && cr == 0 && !(value & X86_CR0_PE)) {
			/* real mode would need unrestricted guest / paging off in the CPU */
			guest_crash(v->guest, "turned protected mode off, which shadow paging "
					      "cannot run");
			return;
		}
		write_cr0_cr4(v, cr, value);
	}
	skip(v, e);
}

/* MOV from CR0, CR3, CR4 (shadow paging) or CR8 (VMX): the guest's own values. */
static void handle_cr_read(struct vcpu *v, const struct vcpu_exit *e)
{
	static const enum vcpu_reg regs[] = { [0] = VCPU_CR0, [3] = VCPU_CR3, [4] = VCPU_CR4 };
	struct x86_insn insn;
	int gpr = cr_access_gpr(v, e, &insn);
	u64 value;

	if (gpr < 0 || (e->cr.cr != 8 && (e->cr.cr > 4 || (e->cr.cr != 0 && !regs[e->cr.cr])))) {
		guest_crash(v->guest, "cannot decode its control register read (CR%u)", e->cr.cr);
		return;
	}
	value = e->cr.cr == 8 ? v->guest->dev.apic_tpr >> 4 : vcpu_get(v, regs[e->cr.cr]);
	v->gpr[gpr] = guest_code_mode(v) == X86_MODE_64 ? value : (u32)value;
	skip(v, e);
}

static void handle_hlt(struct vcpu *v, const struct vcpu_exit *e)
{
	skip(v, e);
	if (!(vcpu_get(v, VCPU_RFLAGS) & X86_RFLAGS_IF)) {
		/* nothing Tide emulates can interrupt it: it would sleep forever */
		guest_crash(v->guest, "hung: HLT with interrupts disabled");
		return;
	}
	v->guest->state = GUEST_HALTED;
}

void handle_exit(struct vcpu *v, const struct vcpu_exit *e)
{
	struct guest *g = v->guest;

	g->stats.exits++;
	g->stats.exits_by_reason[e->reason]++;
	TRACE(TE_VMEXIT, TRACE_STR(g->name), v->id, e->reason);
	switch (e->reason) {
	case EXIT_CPUID:
		guest_cpuid(v);
		skip(v, e);
		break;
	case EXIT_HYPERCALL: {
		u64 start = rdtsc();

		hypercall(v);
		skip(v, e);
		hist_add(HIST_HYPERCALL, rdtsc() - start);
		break;
	}
	case EXIT_IO:
		handle_io(v, e);
		break;
	case EXIT_STAGE2_FAULT: {
		u64 start = rdtsc();

		handle_stage2_fault(v, e);
		hist_add(HIST_STAGE2_FAULT, rdtsc() - start);
		break;
	}
	case EXIT_MSR_READ:
	case EXIT_MSR_WRITE:
		handle_msr(v, e);
		break;
	case EXIT_HLT:
		handle_hlt(v, e);
		break;
	case EXIT_CR_WRITE:
		handle_cr_write(v, e);
		break;
	case EXIT_CR_READ:
		handle_cr_read(v, e);
		break;
	case EXIT_PAGE_FAULT: {
		u64 start = rdtsc();

		shadow_page_fault(v, e->page_fault.linear, e->page_fault.error_code,
				  e->page_fault.delivering);
		hist_add(HIST_STAGE2_FAULT, rdtsc() - start);
		break;
	}
	case EXIT_TASK_SWITCH:
		handle_task_switch(v, e);
		break;
	case EXIT_VIRT_INSN:
		vcpu_ops->inject(v, EVENT_EXCEPTION, VECTOR_UD, false, 0);
		break;
	case EXIT_INTERRUPT:
		sched_tick();
		break;
	case EXIT_PREEMPTED:
		sched_slice_expired();
		break;
	case EXIT_SHUTDOWN:
		guest_crash(g, "triple fault");
		break;
	case EXIT_ENTRY_FAILED:
		guest_crash(g, "the CPU refused its state (%s exit %#lx, qualification %#lx)",
			    vcpu_ops->name, e->hw_reason, e->hw_qualification);
		break;
	case EXIT_EXCEPTION:
		guest_crash(g, "unexpected intercepted exception %u", e->exception.vector);
		break;
	default:
		guest_crash(g, "unhandled %s exit %#lx", vcpu_ops->name, e->hw_reason);
		break;
	}
}
