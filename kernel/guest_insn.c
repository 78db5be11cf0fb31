/*
 * Reading the guest's current instruction: translate its linear address
 * through the guest's own paging (mm/guest_walk.c), fetch the
 * bytes from guest RAM and decode them. Used to advance RIP when the
 * hardware does not report the next RIP (SVM without NRIP-save, as on QEMU
 * TCG), and to emulate MMIO accesses.
 */
#include "arch/x86/cpu.h"
#include "kernel/errno.h"
#include "kernel/guest.h"
#include "kernel/guest_insn.h"
#include "kernel/string.h"
#include "mm/guest_walk.h"

int guest_linear_to_phys(struct vcpu *v, u64 linear, u64 *gpa)
{
	struct guest_translation t;
	int err = guest_translate(v, linear, 0, 0, &t);

	*gpa = t.gpa;
	return err ? -EFAULT : 0;
}

enum x86_mode guest_code_mode(struct vcpu *v)
{
	u64 attr = vcpu_get(v, VCPU_CS_ATTR);

	if (!(vcpu_get(v, VCPU_CR0) & X86_CR0_PE) || (vcpu_get(v, VCPU_RFLAGS) & BIT(17)))
		return X86_MODE_16; /* real mode or virtual-8086 mode */
	if ((vcpu_get(v, VCPU_EFER) & EFER_LMA) && (attr & BIT(9))) /* CS.L */
		return X86_MODE_64;
	return (attr & BIT(10)) ? X86_MODE_32 : X86_MODE_16; /* CS.D */
}

int guest_decode_current(struct vcpu *v, struct x86_insn *insn)
{
	enum x86_mode mode = guest_code_mode(v);
	/* in 64-bit mode the CS base is treated as 0 */
	u64 linear = (mode == X86_MODE_64 ? 0 : vcpu_get(v, VCPU_CS_BASE)) + vcpu_get(v, VCPU_RIP);
	u8 bytes[X86_MAX_INSN_LEN];
	size_t have = 0;

	/* fetch page by page: the instruction may straddle two pages */
	while (have < sizeof(bytes)) {
		u64 gpa;
		size_t chunk;

		if (guest_linear_to_phys(v, linear + have, &gpa))
			break;
		chunk = MIN(sizeof(bytes) - have, PAGE_SIZE - (gpa & (PAGE_SIZE - 1)));
		if (guest_copy_from(v->guest, bytes + have, gpa, chunk))
			break;
		have += chunk;
	}
	if (!have)
		return -EFAULT;
	return x86_decode(bytes, have, mode, insn);
}

int guest_skip_instruction(struct vcpu *v, const struct vcpu_exit *e)
{
	struct x86_insn insn;
	int err;

	if (e->next_rip) {
		vcpu_set(v, VCPU_RIP, e->next_rip);
		return 0;
	}
	err = guest_decode_current(v, &insn);
	if (err)
		return err;
	vcpu_set(v, VCPU_RIP, vcpu_get(v, VCPU_RIP) + insn.length);
	return 0;
}
