/*
 * CPU-level escapes: the MSRs that control the host's own virtualization,
 * turning on VMX or SVM from inside, every VMX and SVM instruction (each
 * must raise #UD or #GP: Tide offers no nested virtualization), and CPUID
 * not advertising VMX or SVM.
 *
 * Under SVM the guest really runs with EFER.SVME=1 (VMRUN demands it), so
 * VMLOAD, VMSAVE, CLGI, STGI and INVLPGA execute for real unless Tide
 * intercepts them; under VMX every VMX instruction exits to Tide. SKINIT is
 * left out on purpose: on real hardware an unintercepted one would wreck
 * the host rather than show up as a failed check.
 */
#include "escape.h"
#include "guest/lib/cpu.h"
#include "guest/lib/msr.h"
#include "guest/lib/printf.h"
#include "guest/lib/trap.h"

#define CR4_VMXE (1u << 13)
#define CPUID1_ECX_VMX (1u << 5)
#define CPUID1_ECX_HYPERVISOR (1u << 31)
#define CPUID81_ECX_SVM (1u << 2)

/* Operand pages for the instructions below; zeroes are never valid. */
static u8 scratch[2][PAGE_SIZE] __aligned(PAGE_SIZE);

static bool refused(int vec)
{
	return vec == VEC_UD || vec == VEC_GP;
}

static void check_msr(u32 msr, const char *what)
{
	char name[48];
	u64 val = 0;
	int rd, wr;

	/* Write back what a read gave: a leak should not also break the host. */
	rd = rdmsr_try(msr, &val);
	wr = wrmsr_try(msr, rd == TRAP_NONE ? val : 0);
	snprintf(name, sizeof(name), "MSR 0x%x %s", msr, what);
	if (rd == VEC_GP && wr == VEC_GP)
		report(name, true, NULL);
	else if (rd == TRAP_NONE)
		report(name, false, "RDMSR read 0x%llx, WRMSR raised %s", val, trap_name(wr));
	else
		report(name, false, "RDMSR raised %s, WRMSR raised %s", trap_name(rd),
		       trap_name(wr));
}

static void check_efer_svme(void)
{
	u64 efer = 0, after = 0;
	int rd, wr;

	rd = rdmsr_try(MSR_EFER, &efer);
	if (rd != TRAP_NONE) {
		report("EFER.SVME", false, "RDMSR EFER raised %s", trap_name(rd));
		return;
	}
	if (efer & EFER_SVME) {
		report("EFER.SVME", false, "already set: EFER 0x%llx", efer);
		return;
	}
	wr = wrmsr_try(MSR_EFER, efer | EFER_SVME);
	rdmsr_try(MSR_EFER, &after);
	if (after & EFER_SVME)
		wrmsr_try(MSR_EFER, efer);
	if (wr == VEC_GP || (wr == TRAP_NONE && !(after & EFER_SVME)))
		report("EFER.SVME", true, NULL);
	else
		report("EFER.SVME", false, "WRMSR %s, EFER now 0x%llx", trap_name(wr), after);
}

/*
 * QEMU 7.2 TCG does not raise #GP for a reserved CR4 bit: it takes its SVM
 * "invalid guest state" exit path instead. Outside a nested guest that
 * spins on the MOV forever; in a guest of Tide's it is a VMRUN failure
 * (exit code -1) unless Tide intercepts CR4 writes and injects the #GP
 * itself. Real CPUs raise #GP. So this is no bare-QEMU self-test, and it
 * runs last (main.c), after everything else has been reported.
 */
void check_cr4_vmxe(void)
{
	u32 cr4 = read_cr4(), after;
	int vec;

	/* if this kills us, the log should say what we were doing */
	printf("escape: note: last check, MOV to CR4 with VMXE set\n");
	vec = TRY("mov %0, %%cr4", : : "r"(cr4 | CR4_VMXE) : "memory");

	after = read_cr4();
	if (after & CR4_VMXE)
		write_cr4(cr4);
	if (vec == VEC_GP && !(after & CR4_VMXE))
		report("CR4.VMXE", true, NULL);
	else
		report("CR4.VMXE", false, "MOV to CR4 raised %s, CR4 now 0x%x", trap_name(vec),
		       after);
}

static void insn(const char *name, int vec)
{
	if (refused(vec))
		report(name, true, "%s", trap_name(vec));
	else
		report(name, false, "raised %s, not #UD or #GP", trap_name(vec));
}

static void check_vmx_insns(void)
{
	u32 page = (u32)scratch[0], desc = (u32)scratch[1], v = 0;

	insn("VMXON", TRY("vmxon (%0)", : : "r"(page) : "memory"));
	insn("VMCLEAR", TRY("vmclear (%0)", : : "r"(page) : "memory"));
	insn("VMPTRLD", TRY("vmptrld (%0)", : : "r"(page) : "memory"));
	insn("VMPTRST", TRY("vmptrst (%0)", : : "r"(page) : "memory"));
	insn("VMREAD", TRY("vmread %1, %0", : "+r"(v) : "r"(0x6c00u) : "memory"));
	insn("VMWRITE", TRY("vmwrite %0, %1", : : "r"(v), "r"(0x6c00u) : "memory"));
	insn("VMLAUNCH", TRY("vmlaunch", : : : "memory", "cc"));
	insn("VMRESUME", TRY("vmresume", : : : "memory", "cc"));
	insn("VMXOFF", TRY("vmxoff", : : : "memory", "cc"));
	insn("INVEPT", TRY("invept (%0), %1", : : "r"(desc), "r"(1u) : "memory"));
	insn("INVVPID", TRY("invvpid (%0), %1", : : "r"(desc), "r"(1u) : "memory"));
	insn("VMFUNC", TRY("vmfunc", : : "a"(0), "c"(0) : "memory"));
}

static void check_svm_insns(void)
{
	u32 page = (u32)scratch[0];

	insn("VMRUN", TRY("vmrun", : : "a"(page) : "memory"));
	insn("VMLOAD", TRY("vmload", : : "a"(page) : "memory"));
	insn("VMSAVE", TRY("vmsave", : : "a"(page) : "memory"));
	insn("INVLPGA", TRY("invlpga", : : "a"(0), "c"(0) : "memory"));
	insn("CLGI", TRY("clgi", : : : "memory"));
	if (all_checks) /* bare: legal with SVME=0 on CPUs with SKINIT */
		insn("STGI", TRY("stgi", : : : "memory"));
}

static void check_cpuid(void)
{
	struct cpuid_regs r = cpuid(1, 0);

	report("CPUID VMX", !(r.ecx & CPUID1_ECX_VMX), r.ecx & CPUID1_ECX_VMX ?
	       "CPUID.1:ECX.VMX set" : NULL);
	if (!(r.ecx & CPUID1_ECX_HYPERVISOR))
		printf("escape: note: CPUID.1:ECX bit 31 (hypervisor) is clear\n");
	if (cpuid(0x80000000, 0).eax >= 0x80000001) {
		r = cpuid(0x80000001, 0);
		report("CPUID SVM", !(r.ecx & CPUID81_ECX_SVM), r.ecx & CPUID81_ECX_SVM ?
		       "CPUID.80000001h:ECX.SVM set" : NULL);
	}
}

void check_cpu(void)
{
	if (all_checks) {
		check_cpuid();
		check_msr(MSR_VM_CR, "VM_CR");
		check_msr(MSR_FEATURE_CONTROL, "FEATURE_CONTROL");
		check_msr(MSR_VM_HSAVE_PA, "VM_HSAVE_PA");
		check_msr(MSR_VMX_BASIC, "VMX_BASIC");
		check_efer_svme();
	}
	check_vmx_insns();
	check_svm_insns();
}
