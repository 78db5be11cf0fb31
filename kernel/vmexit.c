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
#include "kernel/trace.h"
#include "kernel/vmexit.h"
#include "kernel/vpc.h"

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
static void handle_mmio(struct vcpu *v, const struct vcpu_exit *e)
{
	struct x86_insn insn;
	u64 value = 0;

	if (guest_decode_current(v, &insn) || insn.mmio.kind == X86_MMIO_NONE) {
		guest_crash(v->guest, "unsupported instruction accessing %#lx outside its RAM",
			    e->fault.gpa);
		return;
	}
	if (insn.mmio.kind == X86_MMIO_LOAD) {
		vpc_mmio(v->guest, e->fault.gpa, insn.mmio.size, false, &value);
		x86_mmio_apply_load(&insn, v->gpr, value);
	} else {
		x86_mmio_store_value(&insn, v->gpr, &value);
		vpc_mmio(v->guest, e->fault.gpa, insn.mmio.size, true, &value);
	}
	vcpu_set(v, VCPU_RIP, vcpu_get(v, VCPU_RIP) + insn.length);
}

/* How long a guest may wait for a frame (faults that found none, in a row). */
#define MEMORY_WAIT_LIMIT 64

static void handle_stage2_fault(struct vcpu *v, const struct vcpu_exit *e)
{
	struct guest *g = v->guest;
	int err = stage2_fault(g, e->fault.gpa, e->fault.access);

	if (err != -EAGAIN)
		g->memory_waits = 0;
	if (err == -EFAULT) {
		handle_mmio(v, e);
	} else if (err == -EAGAIN) {
		/* no frame now: let the others run (one may exit), then retry */
		if (++g->memory_waits > MEMORY_WAIT_LIMIT)
			guest_crash(g, "out of memory at gpa %#lx", e->fault.gpa);
		else
			sched_slice_expired();
	} else if (err == -EIO) {
		guest_crash(g, "its page at gpa %#lx could not be read back from swap",
			    e->fault.gpa);
	} else if (err) {
		guest_crash(g, "stage-2 fault at gpa %#lx failed (%d)", e->fault.gpa, err);
	}
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

/* MOV to CR0 or CR4: check it as the CPU would, then apply it. */
static void handle_cr_write(struct vcpu *v, const struct vcpu_exit *e)
{
	unsigned int gpr = e->cr.gpr;
	u64 value;

	if (gpr == CR_GPR_UNKNOWN) {
		struct x86_insn insn;

		/* 0F 22 /r: MOV CRn, r64; the register is ModRM.rm (+ REX.B) */
		if (guest_decode_current(v, &insn) || insn.map != X86_MAP_0F ||
		    insn.opcode != 0x22) {
			guest_crash(v->guest, "cannot decode its control register write");
			return;
		}
		gpr = X86_MODRM_RM(insn.modrm) | ((insn.rex & X86_REX_B) ? 8 : 0);
	}
	value = v->gpr[gpr];
	if (guest_code_mode(v) != X86_MODE_64)
		value &= 0xffffffff;
	if (!guest_cr_write_valid(v, e->cr.cr, value))
		return inject_gp(v);
	vcpu_set(v, e->cr.cr == 0 ? VCPU_CR0 : VCPU_CR4, value);
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
