/*
 * Hardware task switches, emulated (SDM vol. 3A, 8.3 "Task Switching"; AMD
 * APM vol. 2, chapter 12). Both vendors exit on a guest task switch (SVM:
 * the TASK_SWITCH intercept; VMX: always) before the CPU has changed
 * anything, after it has checked what it checks first (VMX: the gate, the
 * TSS selector and descriptor, SDM vol. 3C 26.4.2; AMD and Bochs: the
 * privilege and busy checks; QEMU's TCG does not intercept at all, see
 * docs/guests.md). Tide does the whole switch, checks included:
 *
 *   1. the new TSS descriptor: in the GDT, a 32-bit TSS, DPL (JMP, CALL),
 *      present, available (busy for IRET), limit >= 0x67;
 *   2. everything the switch writes is made resident and writable first,
 *      so that no fault can come after the first write: up to here a fault
 *      is raised in the old task, which is unchanged;
 *   3. commit: busy bit of the old TSS cleared (JMP, IRET), the old task's
 *      EIP, EFLAGS (NT cleared for IRET), general registers and selectors
 *      saved in its TSS, back-link written and NT set (CALL, gate), busy
 *      bit of the new TSS set (not for IRET);
 *   4. CR0.TS, TR, EIP, EFLAGS, the general registers, CR3 (paging on
 *      only), LDTR and the segment registers from the new TSS, each
 *      descriptor checked as table 8-1 says. A fault from here on is raised
 *      in the new task, with whatever got loaded (the SDM allows that).
 *
 * All memory goes through guest linear addresses, translated by the guest's
 * own paging as implicit supervisor accesses: a #PF is injected with CR2.
 */
#include "arch/x86/cpu.h"
#include "kernel/errno.h"
#include "kernel/guest.h"
#include "kernel/guest_insn.h"
#include "kernel/string.h"
#include "kernel/task_switch.h"
#include "kernel/vmexit.h"
#include "mm/guest_walk.h"
#include "mm/shadow.h"
#include "mm/stage2.h"

#define VECTOR_TS 10
#define VECTOR_NP 11
#define VECTOR_SS 12
#define VECTOR_GP 13
#define VECTOR_PF 14

#define EFLAGS_NT BIT(14)
#define EFLAGS_RF BIT(16)
#define EFLAGS_VM BIT(17)
/* bits that exist in EFLAGS (bit 1 always reads 1) */
#define EFLAGS_DEFINED 0x3f7fd5UL

#define TYPE_TSS32_AVAILABLE 0x9
#define TYPE_TSS32_BUSY 0xb
#define TYPE_TSS_BUSY_BIT 0x2
#define TYPE_LDT 0x2
#define TYPE_TASK_GATE 0x5
#define TYPE_CODE BIT(3)
#define TYPE_CONFORMING BIT(2) /* code */
#define TYPE_READABLE BIT(1) /* code */
#define TYPE_WRITABLE BIT(1) /* data */
#define TYPE_ACCESSED BIT(0)

#define TSS32_MIN_LIMIT 0x67
#define TSS_SAVED_END 0x5e /* the old TSS is written up to GS's selector */
#define TSS32_OLD_MIN_LIMIT 0x5f /* what the old TSS needs (as Bochs checks) */

/* The 32-bit TSS (SDM vol. 3A, figure 8-2). */
struct tss32 {
	u32 link, esp0, ss0, esp1, ss1, esp2, ss2, cr3, eip, eflags;
	u32 gpr[8]; /* EAX ECX EDX EBX ESP EBP ESI EDI */
	u32 seg[6]; /* ES CS SS DS FS GS, 16 bits each */
	u32 ldt;
	u16 trap, iomap_base;
} __packed;

_Static_assert(sizeof(struct tss32) == 104, "32-bit TSS");

#define TSS_EIP 0x20

struct task_switch {
	struct vcpu *v;
	enum task_switch_source source;
	u16 sel; /* the new TSS */
	u32 ext; /* the EXT bit of this switch's error codes */
	struct vcpu_segment gdtr, tr;
	u64 desc; /* the new TSS's descriptor */
	u32 base, limit; /* of the new TSS */
	struct tss32 tss; /* its contents */
	u32 old_eip; /* what the old task resumes at */
	/* the exit's description, which check_gate_event() may correct */
	u64 next_rip;
	bool after_insn, has_error, set_rf;
	u8 vector;
	u32 error_code;
	bool has_insn; /* insn holds the switching instruction */
	struct x86_insn insn;
};

/* A step goes on (0) or ends the switch (STOP: fault injected, guest waits or stopped). */
#define STOP (-1)

static int fault(struct task_switch *ts, u8 vector, u32 error_code)
{
	vcpu_ops->inject(ts->v, EVENT_EXCEPTION, vector, true, error_code);
	return STOP;
}

/* #TS, #NP, #SS, #GP naming a selector: its index and TI, and the EXT bit. */
static int fault_sel(struct task_switch *ts, u8 vector, u16 sel)
{
	return fault(ts, vector, (sel & 0xfffc) | ts->ext);
}

static int unsupported(struct task_switch *ts, const char *what)
{
	guest_crash(ts->v->guest, "task switch to TSS %#x: %s is not emulated", ts->sel, what);
	return STOP;
}

/*
 * Reads (write false) or writes len bytes at guest linear address la, as an
 * implicit supervisor access: the guest's paging applies (accessed and dirty
 * bits set), a #PF is injected. buf NULL only makes the pages resident (and
 * writable in stage 2 for a write), so that the write cannot fail later.
 */
static int linear_access(struct task_switch *ts, u32 la, void *buf, u32 len, bool write)
{
	struct vcpu *v = ts->v;
	u8 *p = buf;

	while (len) {
		u32 chunk = MIN(len, PAGE_SIZE - (la & (PAGE_SIZE - 1)));
		struct guest_translation t;
		void *host;
		int err;

		err = guest_translate(v, la, write ? PFEC_WRITE : 0,
				      GUEST_WALK_CHECK | GUEST_WALK_SET_AD, &t);
		if (err == -EFAULT) {
			vcpu_set(v, VCPU_CR2, la);
			return fault(ts, VECTOR_PF, t.error_code);
		}
		if (!err)
			err = stage2_host_access(v->guest, t.gpa, write, &host);
		if (!err && p)
			err = write ? guest_copy_to(v->guest, t.gpa, p, chunk) :
				      guest_copy_from(v->guest, p, t.gpa, chunk);
		if (err == -EAGAIN) {
			guest_memory_error(v, 0, err); /* waits for a frame, then retries */
			return STOP;
		}
		if (err) {
			guest_crash(v->guest, "task switch: guest memory at linear %#x cannot be "
					      "reached (%d)", la, err);
			return STOP;
		}
		la += chunk;
		len -= chunk;
		if (p)
			p += chunk;
	}
	return 0;
}

static u32 desc_base(u64 d)
{
	return ((d >> 16) & 0xffffff) | ((d >> 32) & 0xff000000);
}

static u32 desc_limit(u64 d)
{
	u32 limit = (d & 0xffff) | ((d >> 32) & 0xf0000);

	return (d & BIT(55)) ? (limit << 12) | 0xfff : limit;
}

static u16 desc_attr(u64 d)
{
	return ((d >> 40) & 0xff) | ((d >> 44) & 0xf00);
}

static unsigned int attr_dpl(u16 attr)
{
	return (attr >> SEG_ATTR_DPL_SHIFT) & 3;
}

/*
 * The descriptor sel names, from the GDT or (TI set) the current LDT, and
 * the linear address it is at. Returns 0, 1 when sel lies beyond its table
 * (the caller raises its fault), or STOP.
 */
static int read_desc(struct task_switch *ts, u16 sel, u64 *desc, u32 *la)
{
	struct vcpu_segment table;
	u32 offset = sel & ~7u;

	if (sel & 4) {
		vcpu_ops->get_segment(ts->v, SEG_LDTR, &table);
		if (!(table.attr & SEG_ATTR_P))
			return 1;
	} else {
		table = ts->gdtr;
	}
	if (offset + 7 > table.limit)
		return 1;
	*la = table.base + offset;
	return linear_access(ts, *la, desc, sizeof(*desc), false);
}

/* Writes byte 5 of a descriptor (its type: busy and accessed bits). */
static int write_desc_type(struct task_switch *ts, u32 la, u64 desc)
{
	u8 type_byte = desc >> 40;

	return linear_access(ts, la + 5, &type_byte, 1, true);
}

/* 32-bit addressing: the linear address of a ModRM memory operand. */
static int operand_address(struct task_switch *ts, const struct x86_insn *insn, u32 *la)
{
	const u64 *gpr = ts->v->gpr;
	u8 mod = X86_MODRM_MOD(insn->modrm), rm = X86_MODRM_RM(insn->modrm);
	enum vcpu_seg seg = SEG_DS;
	struct vcpu_segment s;
	u32 ea = (u32)insn->disp;

	if (insn->addr_size != 4 || mod == 3)
		return -1;
	if (rm == 4) {
		u8 base = insn->sib & 7, index = (insn->sib >> 3) & 7;

		if (index != 4)
			ea += (u32)gpr[index] << (insn->sib >> 6);
		if (base != 5 || mod != 0) {
			ea += (u32)gpr[base];
			if (base == GPR_RSP || base == GPR_RBP)
				seg = SEG_SS;
		}
	} else if (rm != 5 || mod != 0) {
		ea += (u32)gpr[rm];
		if (rm == GPR_RBP)
			seg = SEG_SS;
	}
	if (insn->seg != X86_SEG_NONE)
		seg = (enum vcpu_seg)(insn->seg - X86_SEG_ES);
	vcpu_ops->get_segment(ts->v, seg, &s);
	*la = s.base + ea;
	return 0;
}

/*
 * The selector a far JMP or CALL names: ptr16:32 (EA, 9A) or m16:32 (FF /5,
 * FF /3, 32-bit addressing). 0, 1 when it cannot be told, or STOP.
 */
static int far_selector(struct task_switch *ts, u16 *sel)
{
	const struct x86_insn *insn = &ts->insn;
	u32 la;

	if (!ts->has_insn || insn->map != X86_MAP_ONE)
		return 1;
	if (insn->opcode == 0xea || insn->opcode == 0x9a) {
		*sel = insn->imm2;
		return 0;
	}
	if (insn->opcode != 0xff || (X86_MODRM_REG(insn->modrm) != 3 &&
				     X86_MODRM_REG(insn->modrm) != 5))
		return 1;
	if (operand_address(ts, insn, &la))
		return 1;
	return linear_access(ts, la + insn->op_size, sel, sizeof(*sel), false);
}

/*
 * JMP and CALL may use a TSS or a task gate whose DPL is at least CPL and
 * the RPL of the selector (for a gate, the gate's DPL counts, not the
 * TSS's). The CPU checks this before it exits; Tide checks it again when the
 * instruction shows the selector.
 */
static int check_privilege(struct task_switch *ts)
{
	unsigned int cpl = vcpu_get(ts->v, VCPU_CPL), dpl;
	u64 gate;
	u32 la;
	u16 sel;
	int r = far_selector(ts, &sel);

	if (r)
		return r > 0 ? 0 : STOP;
	if ((sel & ~3) == (ts->sel & ~3)) {
		dpl = attr_dpl(desc_attr(ts->desc));
		return (dpl < cpl || dpl < (sel & 3u)) ? fault_sel(ts, VECTOR_GP, ts->sel) : 0;
	}
	r = read_desc(ts, sel, &gate, &la);
	if (r)
		return r > 0 ? 0 : STOP;
	if ((desc_attr(gate) & (SEG_ATTR_S | SEG_ATTR_TYPE)) != TYPE_TASK_GATE ||
	    (u16)(gate >> 16) != ts->sel)
		return 0; /* not what the CPU switched through: it checked itself */
	dpl = attr_dpl(desc_attr(gate));
	if (dpl < cpl || dpl < (sel & 3u))
		return fault_sel(ts, VECTOR_GP, sel);
	if (!(desc_attr(gate) & SEG_ATTR_P))
		return fault_sel(ts, VECTOR_NP, sel);
	return 0;
}

/* Whether IDT entry `vector` is a task gate to the new TSS: 1, 0 or STOP. */
static int idt_gate_here(struct task_switch *ts, u8 vector)
{
	struct vcpu_segment idtr;
	u64 gate;

	vcpu_ops->get_segment(ts->v, SEG_IDTR, &idtr);
	if (vector * 8u + 7 > idtr.limit)
		return 0;
	if (linear_access(ts, idtr.base + vector * 8u, &gate, sizeof(gate), false))
		return STOP;
	return (desc_attr(gate) & (SEG_ATTR_S | SEG_ATTR_TYPE)) == TYPE_TASK_GATE &&
	       (u16)(gate >> 16) == ts->sel;
}

/*
 * An event through a task gate: the one the back end reports found a task
 * gate to this TSS in the IDT. If not, the report is stale (Bochs 2.7's SVM
 * leaves the previous event in EXITINTINFO for INT n) and the instruction
 * at RIP tells: INT n, INT3 or INTO whose gate leads here.
 */
static int check_gate_event(struct task_switch *ts)
{
	int r = idt_gate_here(ts, ts->vector), vector;

	if (r)
		return r > 0 ? 0 : STOP;
	ts->has_insn = !guest_decode_current(ts->v, &ts->insn);
	if (!ts->has_insn || ts->insn.map != X86_MAP_ONE)
		return 0;
	switch (ts->insn.opcode) {
	case 0xcd: vector = (u8)ts->insn.imm; break;
	case 0xcc: vector = 3; break;
	case 0xce: vector = 4; break;
	default: return 0;
	}
	r = idt_gate_here(ts, vector);
	if (r > 0) {
		ts->vector = vector;
		ts->after_insn = true;
		ts->has_error = false;
		ts->ext = 0;
		vcpu_ops->cancel_event(ts->v); /* the stale event is not the guest's */
	}
	return r < 0 ? STOP : 0;
}

/* Where the old task resumes: after the switching instruction, or at RIP. */
static int find_old_eip(struct task_switch *ts)
{
	struct vcpu *v = ts->v;
	u64 rip = vcpu_get(v, VCPU_RIP);
	bool need = ts->after_insn && !ts->next_rip;

	/* JMP and CALL are decoded anyway, for check_privilege */
	if (!ts->has_insn &&
	    (need || ts->source == TASK_SWITCH_JMP || ts->source == TASK_SWITCH_CALL))
		ts->has_insn = !guest_decode_current(v, &ts->insn);
	if (!ts->has_insn && need) {
		guest_crash(v->guest, "task switch: cannot decode the instruction at its RIP");
		return STOP;
	}
	if (!ts->after_insn)
		ts->old_eip = rip;
	else
		ts->old_eip = ts->next_rip ? ts->next_rip : rip + ts->insn.length;
	return 0;
}

/* Step 1: the new TSS's descriptor (SDM table 8-1, 1-5), and its contents. */
static int check_new_tss(struct task_switch *ts)
{
	bool iret = ts->source == TASK_SWITCH_IRET;
	u8 bad_sel = iret ? VECTOR_TS : VECTOR_GP;
	u16 attr, type;
	u32 la;
	int r;

	if (ts->sel & 4)
		return fault_sel(ts, bad_sel, ts->sel);
	r = read_desc(ts, ts->sel, &ts->desc, &la);
	if (r)
		return r > 0 ? fault_sel(ts, bad_sel, ts->sel) : STOP;
	attr = desc_attr(ts->desc);
	type = attr & (SEG_ATTR_S | SEG_ATTR_TYPE) & ~TYPE_TSS_BUSY_BIT;
	if (type == 1) /* a 16-bit TSS, available or busy */
		return unsupported(ts, "a 16-bit TSS");
	if (type != TYPE_TSS32_AVAILABLE)
		return fault_sel(ts, bad_sel, ts->sel);
	if (ts->source != TASK_SWITCH_IRET && ts->source != TASK_SWITCH_GATE &&
	    check_privilege(ts))
		return STOP;
	if (!(attr & SEG_ATTR_P))
		return fault_sel(ts, VECTOR_NP, ts->sel);
	/* IRET returns to a busy task; the others start an available one */
	if (!!(attr & TYPE_TSS_BUSY_BIT) != iret)
		return fault_sel(ts, bad_sel, ts->sel);
	ts->base = desc_base(ts->desc);
	ts->limit = desc_limit(ts->desc);
	if (ts->limit < TSS32_MIN_LIMIT)
		return fault_sel(ts, VECTOR_TS, ts->sel);
	if (linear_access(ts, ts->base, &ts->tss, sizeof(ts->tss), false))
		return STOP;
	if (ts->tss.eflags & EFLAGS_VM)
		return unsupported(ts, "a virtual-8086 task");
	if (ts->tss.trap & 1)
		return unsupported(ts, "the debug trap flag (T)");
	return 0;
}

/* The old TSS, from TR: a 32-bit TSS that holds what is saved in it. */
static int check_old_tss(struct task_switch *ts)
{
	u16 type = ts->tr.attr & SEG_ATTR_TYPE;

	if ((type & ~TYPE_TSS_BUSY_BIT) == 1) {
		guest_crash(ts->v->guest, "task switch from a 16-bit TSS (%#x) is not emulated",
			    ts->tr.selector);
		return STOP;
	}
	if (ts->tr.limit < TSS32_OLD_MIN_LIMIT)
		return fault_sel(ts, VECTOR_TS, ts->tr.selector);
	return 0;
}

/* Step 2: every byte the commit writes is resident and writable (no fault after it). */
static int prepare_writes(struct task_switch *ts)
{
	bool nested = ts->source == TASK_SWITCH_CALL || ts->source == TASK_SWITCH_GATE;

	if (linear_access(ts, ts->tr.base + TSS_EIP, NULL, TSS_SAVED_END - TSS_EIP, true))
		return STOP;
	if (ts->source != TASK_SWITCH_CALL && ts->source != TASK_SWITCH_GATE &&
	    linear_access(ts, ts->gdtr.base + (ts->tr.selector & ~7u) + 5, NULL, 1, true))
		return STOP;
	if (nested && linear_access(ts, ts->base, NULL, 2, true))
		return STOP;
	if (ts->source != TASK_SWITCH_IRET &&
	    linear_access(ts, ts->gdtr.base + (ts->sel & ~7u) + 5, NULL, 1, true))
		return STOP;
	return 0;
}

/* Step 3: the old task's state into its TSS, busy bits, back-link. */
static int commit(struct task_switch *ts)
{
	struct vcpu *v = ts->v;
	bool nested = ts->source == TASK_SWITCH_CALL || ts->source == TASK_SWITCH_GATE;
	u32 gdt = ts->gdtr.base;
	u32 old[2 + 8];
	u64 old_desc;
	u32 eflags = vcpu_get(v, VCPU_RFLAGS);

	if (ts->source == TASK_SWITCH_JMP || ts->source == TASK_SWITCH_IRET) {
		if (linear_access(ts, gdt + (ts->tr.selector & ~7u), &old_desc, 8, false) ||
		    write_desc_type(ts, gdt + (ts->tr.selector & ~7u),
				    old_desc & ~((u64)TYPE_TSS_BUSY_BIT << 40)))
			return STOP;
	}
	if (ts->source == TASK_SWITCH_IRET)
		eflags &= ~EFLAGS_NT;
	old[0] = ts->old_eip;
	old[1] = eflags | (ts->set_rf ? EFLAGS_RF : 0);
	for (int i = 0; i < 8; i++)
		old[2 + i] = v->gpr[i];
	if (linear_access(ts, ts->tr.base + TSS_EIP, old, sizeof(old), true))
		return STOP;
	for (int s = SEG_ES; s <= SEG_GS; s++) {
		struct vcpu_segment seg;

		vcpu_ops->get_segment(v, s, &seg);
		if (linear_access(ts, ts->tr.base + offsetof(struct tss32, seg) + 4 * s,
				  &seg.selector, 2, true))
			return STOP;
	}
	if (nested) {
		u16 link = ts->tr.selector;

		if (linear_access(ts, ts->base, &link, 2, true))
			return STOP;
		ts->tss.eflags |= EFLAGS_NT;
	}
	if (ts->source != TASK_SWITCH_IRET) {
		ts->desc |= (u64)TYPE_TSS_BUSY_BIT << 40;
		if (write_desc_type(ts, gdt + (ts->sel & ~7u), ts->desc))
			return STOP;
	}
	return 0;
}

/* CR3 from the new TSS, with paging on (SDM 8.3 step 12). */
static int load_cr3(struct task_switch *ts)
{
	struct vcpu *v = ts->v;
	u32 cr3 = ts->tss.cr3;

	if (!(vcpu_get(v, VCPU_CR0) & X86_CR0_PG))
		return 0; /* read, but not loaded */
	if (shadow_paging)
		return shadow_load_cr3(v, cr3) ? fault(ts, VECTOR_GP, 0) : 0;
	if (guest_paging_mode(v) == GUEST_PAGING_PAE) {
		u64 pdpte[4];

		if (guest_copy_from(v->guest, pdpte, cr3 & PAE_CR3_MASK, sizeof(pdpte)))
			return fault(ts, VECTOR_GP, 0);
		for (int i = 0; i < 4; i++)
			if (!guest_pdpte_valid(pdpte[i]))
				return fault(ts, VECTOR_GP, 0);
	}
	vcpu_set(v, VCPU_CR3, cr3);
	/* MOV to CR3 flushes the non-global translations; so does a task switch */
	vcpu_ops->flush_guest_tlb(v->guest);
	return 0;
}

static int load_ldtr(struct task_switch *ts)
{
	u16 sel = ts->tss.ldt;
	struct vcpu_segment ldtr = { .selector = sel };
	u64 d;
	u32 la;
	int r;

	vcpu_ops->set_segment(ts->v, SEG_LDTR, &ldtr); /* unusable until it loads */
	if (sel & 4)
		return fault_sel(ts, VECTOR_TS, sel);
	if (!(sel & ~3))
		return 0;
	r = read_desc(ts, sel, &d, &la);
	if (r)
		return r > 0 ? fault_sel(ts, VECTOR_TS, sel) : STOP;
	ldtr.attr = desc_attr(d);
	if ((ldtr.attr & (SEG_ATTR_S | SEG_ATTR_TYPE)) != TYPE_LDT || !(ldtr.attr & SEG_ATTR_P))
		return fault_sel(ts, VECTOR_TS, sel);
	ldtr.base = desc_base(d);
	ldtr.limit = desc_limit(d);
	vcpu_ops->set_segment(ts->v, SEG_LDTR, &ldtr);
	return 0;
}

/*
 * A segment register's new value from its selector in the new TSS, checked
 * as SDM table 8-1 says for CS, SS and the data segments (cpl: the new CPL,
 * CS's RPL). Sets the descriptor's accessed bit, as the CPU does.
 */
static int check_segment(struct task_switch *ts, enum vcpu_seg s, u16 sel, unsigned int cpl,
			 struct vcpu_segment *seg)
{
	unsigned int rpl = sel & 3, dpl, type;
	bool code;
	u64 d;
	u32 la;
	int r;

	*seg = (struct vcpu_segment){ .selector = sel };
	if (!(sel & ~3))
		return (s == SEG_CS || s == SEG_SS) ? fault_sel(ts, VECTOR_TS, sel) : 0;
	r = read_desc(ts, sel, &d, &la);
	if (r)
		return r > 0 ? fault_sel(ts, VECTOR_TS, sel) : STOP;
	seg->attr = desc_attr(d);
	type = seg->attr & SEG_ATTR_TYPE;
	dpl = attr_dpl(seg->attr);
	code = type & TYPE_CODE;
	if (!(seg->attr & SEG_ATTR_S))
		return fault_sel(ts, VECTOR_TS, sel);
	if (s == SEG_CS) {
		if (!code || ((type & TYPE_CONFORMING) ? dpl > rpl : dpl != rpl))
			return fault_sel(ts, VECTOR_TS, sel);
	} else if (s == SEG_SS) {
		if (code || !(type & TYPE_WRITABLE) || dpl != cpl || rpl != cpl)
			return fault_sel(ts, VECTOR_TS, sel);
	} else {
		if (code && !(type & TYPE_READABLE))
			return fault_sel(ts, VECTOR_TS, sel);
		if ((!code || !(type & TYPE_CONFORMING)) && (dpl < cpl || dpl < rpl))
			return fault_sel(ts, VECTOR_TS, sel);
	}
	if (!(seg->attr & SEG_ATTR_P))
		return fault_sel(ts, s == SEG_SS ? VECTOR_SS : VECTOR_NP, sel);
	if (!(type & TYPE_ACCESSED)) {
		seg->attr |= TYPE_ACCESSED;
		if (write_desc_type(ts, la, d | ((u64)TYPE_ACCESSED << 40)))
			return STOP;
	}
	seg->base = desc_base(d);
	seg->limit = desc_limit(d);
	return 0;
}

static int load_segments(struct task_switch *ts)
{
	static const enum vcpu_seg data[] = { SEG_ES, SEG_DS, SEG_FS, SEG_GS };
	unsigned int cpl = ts->tss.seg[SEG_CS] & 3;
	struct vcpu_segment cs, ss, seg;

	/* the selectors first, unusable until their descriptor loads */
	for (unsigned int i = 0; i < ARRAY_SIZE(data); i++) {
		seg = (struct vcpu_segment){ .selector = ts->tss.seg[data[i]] };
		vcpu_ops->set_segment(ts->v, data[i], &seg);
	}
	/* CS and SS change together: a fault leaves the old pair */
	if (check_segment(ts, SEG_CS, ts->tss.seg[SEG_CS], cpl, &cs) ||
	    check_segment(ts, SEG_SS, ts->tss.seg[SEG_SS], cpl, &ss))
		return STOP;
	vcpu_ops->set_segment(ts->v, SEG_CS, &cs);
	vcpu_ops->set_segment(ts->v, SEG_SS, &ss); /* and the CPL */
	for (unsigned int i = 0; i < ARRAY_SIZE(data); i++) {
		if (check_segment(ts, data[i], ts->tss.seg[data[i]], cpl, &seg))
			return STOP;
		vcpu_ops->set_segment(ts->v, data[i], &seg);
	}
	if (ts->tss.eip > cs.limit)
		return fault(ts, VECTOR_GP, ts->ext);
	return 0;
}

/* An exception delivered through the gate pushes its error code on the new stack. */
static int push_error_code(struct task_switch *ts, u32 error_code)
{
	struct vcpu_segment ss;
	u64 *rsp = &ts->v->gpr[GPR_RSP];
	u32 sp;

	vcpu_ops->get_segment(ts->v, SEG_SS, &ss);
	sp = (ss.attr & SEG_ATTR_DB) ? (u32)*rsp - 4 : (u16)(*rsp - 4);
	if (linear_access(ts, ss.base + sp, &error_code, 4, true))
		return STOP;
	*rsp = (ss.attr & SEG_ATTR_DB) ? sp : ((*rsp & ~0xffffUL) | sp);
	return 0;
}

/*
 * Step 4: the new task's state. The registers come first, so that a fault
 * from CR3 or a descriptor finds the new task's EIP, EFLAGS and stack.
 */
static int load_new_task(struct task_switch *ts)
{
	struct vcpu *v = ts->v;
	struct vcpu_segment tr = {
		.selector = ts->sel,
		.base = ts->base,
		.limit = ts->limit,
		.attr = desc_attr(ts->desc) | TYPE_TSS_BUSY_BIT,
	};

	vcpu_set(v, VCPU_CR0, vcpu_get(v, VCPU_CR0) | X86_CR0_TS);
	vcpu_ops->set_segment(v, SEG_TR, &tr);
	vcpu_set(v, VCPU_RIP, ts->tss.eip);
	vcpu_set(v, VCPU_RFLAGS, (ts->tss.eflags & EFLAGS_DEFINED) | BIT(1));
	vcpu_set(v, VCPU_INTERRUPT_SHADOW, 0);
	for (int i = 0; i < 8; i++)
		v->gpr[i] = ts->tss.gpr[i];
	if (load_cr3(ts) || load_ldtr(ts) || load_segments(ts))
		return STOP;
	return 0;
}

void handle_task_switch(struct vcpu *v, const struct vcpu_exit *e)
{
	struct task_switch ts = {
		.v = v,
		.source = e->task_switch.source,
		.sel = e->task_switch.selector,
		/* a switch for an event from outside the program: EXT in the error codes */
		.ext = e->task_switch.source == TASK_SWITCH_GATE && !e->task_switch.after_insn,
		.next_rip = e->next_rip,
		.after_insn = e->task_switch.after_insn,
		.has_error = e->task_switch.has_error,
		.set_rf = e->task_switch.set_rf,
		.vector = e->task_switch.vector,
		.error_code = e->task_switch.error_code,
	};

	if (e->task_switch.by_cpu) {
		guest_crash(v->guest, "the CPU switched to task %#x itself, ignoring the "
			    "task-switch intercept (QEMU's TCG does), and ran it on CR3 %#lx from "
			    "its TSS: shadow paging cannot go on", ts.sel, e->hw_qualification);
		return;
	}
	if (!(vcpu_get(v, VCPU_CR0) & X86_CR0_PE) || (vcpu_get(v, VCPU_EFER) & EFER_LMA)) {
		guest_crash(v->guest, "task switch outside legacy protected mode");
		return;
	}
	vcpu_ops->get_segment(v, SEG_GDTR, &ts.gdtr);
	vcpu_ops->get_segment(v, SEG_TR, &ts.tr);
	if ((ts.source == TASK_SWITCH_GATE && check_gate_event(&ts)) || find_old_eip(&ts) ||
	    check_new_tss(&ts) || check_old_tss(&ts) || prepare_writes(&ts))
		return; /* the old task is as it was */
	if (commit(&ts)) {
		/* prepare_writes made every page resident: only a bug gets here */
		if (v->guest->state != GUEST_STOPPED)
			guest_crash(v->guest, "task switch to %#x failed after its commit point",
				    ts.sel);
		return;
	}
	if (load_new_task(&ts))
		return; /* a fault in the new task, combined with the event, if any */
	if (ts.has_error && push_error_code(&ts, ts.error_code))
		return;
	if (ts.source == TASK_SWITCH_GATE)
		vcpu_ops->cancel_event(v);
}
