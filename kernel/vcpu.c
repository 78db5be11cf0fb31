/* Choosing and enabling the vCPU back end from CPUID (see kernel/vcpu.h). */
#include "arch/x86/cpu.h"
#include "kernel/errno.h"
#include "kernel/printk.h"
#include "kernel/vcpu.h"

const struct vcpu_ops *vcpu_ops;

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
	err = ops->cpu_enable();
	if (err) {
		pr_err("tide: cannot enable %s (%d): guests cannot run\n", ops->name, err);
		return err;
	}
	vcpu_ops = ops;
	return 0;
}
