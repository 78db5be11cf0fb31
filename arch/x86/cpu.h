/*
 * CPU helpers: CPUID, MSRs, control registers, TSC, and what we learned
 * about this CPU at boot (struct cpu_info, filled by cpu_detect()).
 */
#ifndef TIDE_X86_CPU_H
#define TIDE_X86_CPU_H

#include "kernel/types.h"

#define X86_CR0_PE BIT(0)
#define X86_CR0_MP BIT(1)
#define X86_CR0_EM BIT(2)
#define X86_CR0_TS BIT(3)
#define X86_CR0_ET BIT(4)
#define X86_CR0_NE BIT(5)
#define X86_CR0_WP BIT(16)
#define X86_CR0_PG BIT(31)

#define X86_CR4_PSE BIT(4)
#define X86_CR4_PAE BIT(5)
#define X86_CR4_PGE BIT(7)
#define X86_CR4_OSFXSR BIT(9)
#define X86_CR4_OSXMMEXCPT BIT(10)
#define X86_CR4_VMXE BIT(13)
#define X86_CR4_PCIDE BIT(17)
#define X86_CR4_SMEP BIT(20)
#define X86_CR4_SMAP BIT(21)

#define X86_RFLAGS_IF BIT(9)

#define MSR_IA32_FEATURE_CONTROL 0x3a
#define MSR_IA32_PAT 0x277
#define MSR_EFER 0xc0000080
#define EFER_SCE BIT(0)
#define EFER_LME BIT(8)
#define EFER_LMA BIT(10)
#define EFER_NXE BIT(11)
#define EFER_SVME BIT(12)
#define MSR_VM_CR 0xc0010114
#define VM_CR_SVMDIS BIT(4)

struct cpuid_regs {
	u32 eax, ebx, ecx, edx;
};

static inline struct cpuid_regs cpuid_count(u32 leaf, u32 subleaf)
{
	struct cpuid_regs r;

	asm volatile("cpuid"
		     : "=a"(r.eax), "=b"(r.ebx), "=c"(r.ecx), "=d"(r.edx)
		     : "a"(leaf), "c"(subleaf));
	return r;
}

static inline struct cpuid_regs cpuid(u32 leaf)
{
	return cpuid_count(leaf, 0);
}

static inline u64 rdmsr(u32 msr)
{
	u32 lo, hi;

	asm volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((u64)hi << 32) | lo;
}

static inline void wrmsr(u32 msr, u64 val)
{
	asm volatile("wrmsr" : : "c"(msr), "a"((u32)val), "d"((u32)(val >> 32)) : "memory");
}

/* MSR access that survives a #GP (an MSR the CPU lacks): returns 0 or -EIO. */
int rdmsr_safe(u32 msr, u64 *val);
int wrmsr_safe(u32 msr, u64 val);

static inline u64 rdtsc(void)
{
	u32 lo, hi;

	asm volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((u64)hi << 32) | lo;
}

#define DEFINE_CR_ACCESSORS(n)                                            \
	static inline u64 read_cr##n(void)                                \
	{                                                                 \
		u64 v;                                                    \
		asm volatile("mov %%cr" #n ", %0" : "=r"(v));             \
		return v;                                                 \
	}                                                                 \
	static inline void write_cr##n(u64 v)                             \
	{                                                                 \
		asm volatile("mov %0, %%cr" #n : : "r"(v) : "memory");    \
	}
DEFINE_CR_ACCESSORS(0)
DEFINE_CR_ACCESSORS(2)
DEFINE_CR_ACCESSORS(3)
DEFINE_CR_ACCESSORS(4)
#undef DEFINE_CR_ACCESSORS

static inline u64 read_rflags(void)
{
	u64 v;

	asm volatile("pushfq; popq %0" : "=r"(v));
	return v;
}

static inline void cpu_relax(void)
{
	asm volatile("pause");
}

static inline void __noreturn halt_forever(void)
{
	for (;;)
		asm volatile("cli; hlt");
}

static inline void invlpg(u64 va)
{
	asm volatile("invlpg (%0)" : : "r"(va) : "memory");
}

enum cpu_vendor { VENDOR_OTHER, VENDOR_INTEL, VENDOR_AMD };
enum virt_ext { VIRT_NONE, VIRT_VMX, VIRT_SVM };

struct cpu_info {
	enum cpu_vendor vendor;
	char vendor_string[13];
	char brand[49];
	u32 family, model, stepping;
	u32 max_leaf, max_ext_leaf;
	u32 phys_addr_bits;
	bool nx, gbpages, pge;
	enum virt_ext virt; /* the extension the CPU reports */
	bool virt_usable; /* and firmware has not disabled it */
	bool tdp; /* EPT (Intel) or NPT (AMD) */
	bool hypervisor; /* CPUID.1:ECX[31], we run under another one */
};

extern struct cpu_info boot_cpu;

void cpu_detect(void);
const char *cpu_virt_name(void); /* "VMX", "SVM" or "none" */
const char *cpu_tdp_name(void); /* "EPT", "NPT" or "none" */

#endif
