/*
 * What CPUID and the MSRs look like inside a guest. CPUID is the host's with
 * VMX, SVM and what Tide does not emulate (x2APIC, MONITOR, TSC deadline)
 * hidden, the hypervisor bit set, and Tide's leaves at 0x40000000. The MSRs
 * a guest may use are virtualized per guest; any other one raises #GP.
 */
#include "arch/x86/cpu.h"
#include "kernel/abi.h"
#include "kernel/guest.h"
#include "kernel/guest_cpu.h"
#include "kernel/printk.h"
#include "kernel/vpc.h"
#include "mm/shadow.h"

#define MSR_TSC 0x10
#define MSR_APIC_BASE 0x1b
#define MSR_SYSENTER_CS 0x174
#define MSR_SYSENTER_ESP 0x175
#define MSR_SYSENTER_EIP 0x176
#define MSR_PAT 0x277
#define MSR_STAR 0xc0000081
#define MSR_LSTAR 0xc0000082
#define MSR_CSTAR 0xc0000083
#define MSR_SFMASK 0xc0000084
#define MSR_FS_BASE 0xc0000100
#define MSR_GS_BASE 0xc0000101
#define MSR_KERNEL_GS_BASE 0xc0000102
#define APIC_BASE_BSP BIT(8)
#define APIC_BASE_ENABLE BIT(11)
#define EFER_ALLOWED (EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE)

void guest_cpuid(struct vcpu *v)
{
	u32 leaf = v->gpr[GPR_RAX], subleaf = v->gpr[GPR_RCX];
	struct cpuid_regs r = { 0 };

	if (leaf >= TIDE_CPUID_BASE && leaf <= TIDE_CPUID_BASE + 0xff) {
		tide_cpuid(v->guest, leaf, &r.eax, &r.ebx, &r.ecx, &r.edx);
	} else {
		r = cpuid_count(leaf, subleaf);
		if (leaf == 1) {
			r.ecx &= ~(BIT(5) | BIT(3) | BIT(21) | BIT(24)); /* VMX, MONITOR, x2APIC, TSC deadline */
			r.ecx |= BIT(31); /* hypervisor present */
			r.ebx &= 0x00ffffff; /* APIC ID 0 */
			if (shadow_paging)
				r.ecx &= ~BIT(17); /* PCID: shadow roots are not tagged by it */
		} else if (leaf == 7 && subleaf == 0 && shadow_paging) {
			r.ebx &= ~BIT(10); /* INVPCID */
			r.ecx &= ~BIT(3); /* PKU: protection keys are not shadowed */
		} else if (leaf == 0x80000001) {
			r.ecx &= ~BIT(2); /* SVM */
		} else if (leaf == 0x8000000a) {
			r = (struct cpuid_regs){ 0 };
		}
	}
	v->gpr[GPR_RAX] = r.eax;
	v->gpr[GPR_RBX] = r.ebx;
	v->gpr[GPR_RCX] = r.ecx;
	v->gpr[GPR_RDX] = r.edx;
}

/* MSRs held in the back end's control block */
static const struct {
	u32 msr;
	enum vcpu_reg reg;
} msr_regs[] = {
	{ MSR_EFER, VCPU_EFER },
	{ MSR_PAT, VCPU_PAT },
	{ MSR_FS_BASE, VCPU_FS_BASE },
	{ MSR_GS_BASE, VCPU_GS_BASE },
	{ MSR_KERNEL_GS_BASE, VCPU_KERNEL_GS_BASE },
	{ MSR_STAR, VCPU_STAR },
	{ MSR_LSTAR, VCPU_LSTAR },
	{ MSR_CSTAR, VCPU_CSTAR },
	{ MSR_SFMASK, VCPU_SFMASK },
	{ MSR_SYSENTER_CS, VCPU_SYSENTER_CS },
	{ MSR_SYSENTER_ESP, VCPU_SYSENTER_ESP },
	{ MSR_SYSENTER_EIP, VCPU_SYSENTER_EIP },
};

static int msr_reg(u32 msr)
{
	for (unsigned int i = 0; i < ARRAY_SIZE(msr_regs); i++)
		if (msr_regs[i].msr == msr)
			return msr_regs[i].reg;
	return -1;
}

static void log_refused_msr(struct guest *g, u32 msr, bool write)
{
	static struct {
		const struct guest *g;
		u32 msr;
	} logged[32];
	static unsigned int nr;

	for (unsigned int i = 0; i < nr; i++)
		if (logged[i].g == g && logged[i].msr == msr)
			return;
	if (nr < ARRAY_SIZE(logged)) {
		logged[nr].g = g;
		logged[nr++].msr = msr;
		pr_info("tide: guest %s: %s of MSR %#x refused with #GP\n", g->name,
			write ? "write" : "read", msr);
	}
}

int guest_msr_read(struct vcpu *v, u32 msr, u64 *value)
{
	struct guest *g = v->guest;
	int reg = msr_reg(msr);

	if (reg >= 0) {
		*value = vcpu_get(v, reg);
		return 0;
	}
	switch (msr) {
	case MSR_TSC:
		*value = rdtsc() + vcpu_get(v, VCPU_TSC_OFFSET);
		return 0;
	case MSR_APIC_BASE:
		*value = g->msr_apic_base ? g->msr_apic_base :
					    XAPIC_BASE | APIC_BASE_BSP | APIC_BASE_ENABLE;
		return 0;
	}
	log_refused_msr(g, msr, false);
	return -1;
}

static bool canonical(u64 a)
{
	return (u64)((s64)(a << 16) >> 16) == a;
}

int guest_msr_write(struct vcpu *v, u32 msr, u64 value)
{
	struct guest *g = v->guest;
	int reg = msr_reg(msr);

	switch (msr) {
	case MSR_EFER:
		if (value & ~EFER_ALLOWED)
			goto refuse;
		if (shadow_paging) {
			u64 old = vcpu_get(v, VCPU_EFER);

			/* LME may not change with paging on; LMA is the CPU's to set */
			if (((old ^ value) & EFER_LME) && (vcpu_get(v, VCPU_CR0) & X86_CR0_PG))
				goto refuse;
			value = (value & ~EFER_LMA) | (old & EFER_LMA);
			vcpu_set(v, VCPU_EFER, value);
			if ((old ^ value) & EFER_NXE)
				shadow_paging_changed(v);
			return 0;
		}
		break;
	case MSR_FS_BASE:
	case MSR_GS_BASE:
	case MSR_KERNEL_GS_BASE:
	case MSR_LSTAR:
	case MSR_CSTAR:
		if (!canonical(value))
			goto refuse;
		break;
	case MSR_TSC:
		vcpu_set(v, VCPU_TSC_OFFSET, value - rdtsc());
		return 0;
	case MSR_APIC_BASE:
		/* the xAPIC stays where it is; only the enable bit may change */
		if ((value & ~(APIC_BASE_BSP | APIC_BASE_ENABLE)) != XAPIC_BASE)
			goto refuse;
		g->msr_apic_base = value | APIC_BASE_BSP;
		return 0;
	}
	if (reg >= 0) {
		vcpu_set(v, reg, value);
		return 0;
	}
refuse:
	log_refused_msr(g, msr, true);
	return -1;
}

/* CR4 bits a guest may set: what the host CPU has, never VMXE or SMXE. */
static u64 guest_cr4_allowed(void)
{
	struct cpuid_regs l1 = cpuid(1), l7 = { 0 };
	u64 allowed = 0x7ff; /* VME .. OSXMMEXCPT */

	if (boot_cpu.max_leaf >= 7)
		l7 = cpuid_count(7, 0);
	if (l7.ecx & BIT(2))
		allowed |= BIT(11); /* UMIP */
	if (l7.ebx & BIT(0))
		allowed |= BIT(16); /* FSGSBASE */
	if ((l1.ecx & BIT(17)) && !shadow_paging)
		allowed |= BIT(17); /* PCIDE */
	if (l1.ecx & BIT(26))
		allowed |= BIT(18); /* OSXSAVE */
	if (l7.ebx & BIT(7))
		allowed |= BIT(20); /* SMEP */
	if (l7.ebx & BIT(20))
		allowed |= BIT(21); /* SMAP */
	if ((l7.ecx & BIT(3)) && !shadow_paging)
		allowed |= BIT(22); /* PKE */
	return allowed;
}

bool guest_cr_write_valid(struct vcpu *v, unsigned int cr, u64 value)
{
	u64 efer = vcpu_get(v, VCPU_EFER);

	if (cr == 4) {
		/* long mode needs PAE */
		if (shadow_paging && (efer & EFER_LMA) && !(value & X86_CR4_PAE))
			return false;
		return !(value & ~guest_cr4_allowed());
	}
	if (cr == 0) {
		/* paging on in long mode needs PAE (only shadow paging sees this write) */
		if (shadow_paging && (value & X86_CR0_PG) && (efer & EFER_LME) &&
		    !(vcpu_get(v, VCPU_CR4) & X86_CR4_PAE))
			return false;
		if (value >> 32)
			return false;
		if ((value & X86_CR0_PG) && !(value & X86_CR0_PE))
			return false;
		if ((value & BIT(29)) && !(value & BIT(30))) /* NW without CD */
			return false;
		return true;
	}
	return false;
}
