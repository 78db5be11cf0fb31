/* Choosing and enabling the vCPU back end from CPUID (see kernel/vcpu.h). */
#include "arch/x86/cpu.h"
#include "kernel/cmdline.h"
#include "kernel/errno.h"
#include "kernel/printk.h"
#include "kernel/vcpu.h"

const struct vcpu_ops *vcpu_ops;
bool shadow_paging;

/* paging=: shadow paging when asked, or (auto) when the CPU has no EPT/NPT */
static int choose_paging(void)
{
	if (options.paging == PAGING_TDP && !boot_cpu.tdp) {
		pr_err("tide: paging=tdp, but the CPU has no %s\n",
		       boot_cpu.virt == VIRT_SVM ? "NPT" : "EPT with unrestricted guest");
		return -ENODEV;
	}
	shadow_paging = options.paging == PAGING_SHADOW ||
			(options.paging == PAGING_AUTO && !boot_cpu.tdp);
	return 0;
}

int vcpu_backend_init(void)
{
	const struct vcpu_ops *ops;
	int err;

	if (vcpu_ops)
		return 0; /* already enabled (a self-test may get there first) */
	if (!boot_cpu.virt_usable) {
		pr_err("tide: no usable VMX or SVM: guests cannot run\n");
		return -ENODEV;
	}
	ops = boot_cpu.virt == VIRT_SVM ? &svm_ops : &vmx_ops;
	err = choose_paging();
	if (!err)
		err = ops->cpu_enable();
	if (err) {
		pr_err("tide: cannot enable %s (%d): guests cannot run\n", ops->name, err);
		return err;
	}
	vcpu_ops = ops;
	pr_info("tide: guest memory: %s\n",
		shadow_paging ? "shadow page tables" : boot_cpu.virt == VIRT_SVM ? "NPT" : "EPT");
	return 0;
}
