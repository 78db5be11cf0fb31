/*
 * What the boot CPU is and can do: vendor, family/model, paging features,
 * and whether VMX or SVM (with EPT or NPT) is there and usable.
 */
#include "arch/x86/cpu.h"
#include "kernel/printk.h"
#include "kernel/string.h"

#define MSR_IA32_VMX_PROCBASED_CTLS 0x482
#define MSR_IA32_VMX_PROCBASED_CTLS2 0x48b
#define FEATURE_CONTROL_LOCKED BIT(0)
#define FEATURE_CONTROL_VMX_OUTSIDE_SMX BIT(2)

struct cpu_info boot_cpu;

static void detect_vmx(void)
{
	u64 fc, ctls, ctls2;

	if (rdmsr_safe(MSR_IA32_FEATURE_CONTROL, &fc))
		fc = 0;
	/*
	 * Locked with VMX off means the firmware disabled it; unlocked, we
	 * may enable and lock it ourselves when VMX is first used.
	 */
	if ((fc & FEATURE_CONTROL_LOCKED) && !(fc & FEATURE_CONTROL_VMX_OUTSIDE_SMX)) {
		pr_warn("tide: VMX is disabled by the firmware (IA32_FEATURE_CONTROL=%#lx)\n", fc);
		return;
	}
	boot_cpu.virt_usable = true;
	/* EPT: secondary controls allowed, then EPT allowed among them */
	if (rdmsr_safe(MSR_IA32_VMX_PROCBASED_CTLS, &ctls) || !(ctls & BIT(63)))
		return;
	if (rdmsr_safe(MSR_IA32_VMX_PROCBASED_CTLS2, &ctls2))
		return;
	/* Tide's EPT mode also needs unrestricted guest (Multiboot entry with paging off) */
	boot_cpu.tdp = (ctls2 & BIT(32 + 1)) && (ctls2 & BIT(32 + 7));
}

static void detect_svm(void)
{
	u64 vm_cr;

	if (!rdmsr_safe(MSR_VM_CR, &vm_cr) && (vm_cr & VM_CR_SVMDIS)) {
		pr_warn("tide: SVM is disabled by the firmware (VM_CR.SVMDIS=1)\n");
		return;
	}
	boot_cpu.virt_usable = true;
	if (boot_cpu.max_ext_leaf >= 0x8000000a)
		boot_cpu.tdp = cpuid(0x8000000a).edx & BIT(0);
}

void cpu_detect(void)
{
	struct cpuid_regs r = cpuid(0);
	struct cpu_info *c = &boot_cpu;
	u32 family, model;

	c->max_leaf = r.eax;
	memcpy(c->vendor_string + 0, &r.ebx, 4);
	memcpy(c->vendor_string + 4, &r.edx, 4);
	memcpy(c->vendor_string + 8, &r.ecx, 4);
	c->vendor_string[12] = 0;
	if (!strcmp(c->vendor_string, "GenuineIntel"))
		c->vendor = VENDOR_INTEL;
	else if (!strcmp(c->vendor_string, "AuthenticAMD"))
		c->vendor = VENDOR_AMD;

	r = cpuid(1);
	family = (r.eax >> 8) & 0xf;
	model = (r.eax >> 4) & 0xf;
	if (family == 0xf)
		family += (r.eax >> 20) & 0xff;
	if (family == 0x6 || family >= 0xf)
		model |= ((r.eax >> 16) & 0xf) << 4;
	c->family = family;
	c->model = model;
	c->stepping = r.eax & 0xf;
	c->pge = r.edx & BIT(13);
	c->hypervisor = r.ecx & BIT(31);
	bool has_vmx = r.ecx & BIT(5);

	c->max_ext_leaf = cpuid(0x80000000).eax;
	bool has_svm = false;
	if (c->max_ext_leaf >= 0x80000001) {
		r = cpuid(0x80000001);
		c->nx = r.edx & BIT(20);
		c->gbpages = r.edx & BIT(26);
		has_svm = r.ecx & BIT(2);
	}
	if (c->max_ext_leaf >= 0x80000004) {
		for (u32 i = 0; i < 3; i++) {
			r = cpuid(0x80000002 + i);
			memcpy(c->brand + i * 16 + 0, &r.eax, 4);
			memcpy(c->brand + i * 16 + 4, &r.ebx, 4);
			memcpy(c->brand + i * 16 + 8, &r.ecx, 4);
			memcpy(c->brand + i * 16 + 12, &r.edx, 4);
		}
		c->brand[48] = 0;
	}
	c->phys_addr_bits = 36;
	if (c->max_ext_leaf >= 0x80000008)
		c->phys_addr_bits = cpuid(0x80000008).eax & 0xff;

	/* Each vendor's extension is only meaningful on that vendor's CPUs. */
	if (has_vmx && c->vendor == VENDOR_INTEL) {
		c->virt = VIRT_VMX;
		detect_vmx();
	} else if (has_svm && c->vendor == VENDOR_AMD) {
		c->virt = VIRT_SVM;
		detect_svm();
	}
}

const char *cpu_virt_name(void)
{
	if (!boot_cpu.virt_usable)
		return "none";
	return boot_cpu.virt == VIRT_VMX ? "VMX" : "SVM";
}

const char *cpu_tdp_name(void)
{
	if (!boot_cpu.virt_usable || !boot_cpu.tdp)
		return "none";
	return boot_cpu.virt == VIRT_VMX ? "EPT" : "NPT";
}
