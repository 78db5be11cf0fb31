/*
 * Reading the guest's current instruction: translate its linear address
 * through the guest's own paging (off, 32-bit, PAE or 4-level), fetch the
 * bytes from guest RAM and decode them. Used to advance RIP when the
 * hardware does not report the next RIP (SVM without NRIP-save, as on QEMU
 * TCG), and to emulate MMIO accesses.
 */
#include "arch/x86/cpu.h"
#include "kernel/errno.h"
#include "kernel/guest.h"
#include "kernel/guest_insn.h"
#include "kernel/string.h"

#define X86_CR4_PSE BIT(4)
#define PTE_PRESENT BIT(0)
#define PTE_LARGE BIT(7)

static int read_entry(struct guest *g, u64 gpa, u64 *entry, unsigned int size)
{
	*entry = 0;
	return guest_copy_from(g, entry, gpa, size);
}

int guest_linear_to_phys(struct vcpu *v, u64 linear, u64 *gpa)
{
	struct guest *g = v->guest;
	u64 cr0 = vcpu_get(v, VCPU_CR0), cr4 = vcpu_get(v, VCPU_CR4);
	u64 efer = vcpu_get(v, VCPU_EFER), cr3 = vcpu_get(v, VCPU_CR3);
	u64 e;

	if (!(cr0 & X86_CR0_PG)) {
		*gpa = linear & 0xffffffffUL;
		return 0;
	}
	if (!(cr4 & X86_CR4_PAE)) {
		/* 32-bit paging: 10 + 10 + 12 bits, 4 MiB pages with PSE */
		if (read_entry(g, (cr3 & 0xfffff000) + ((linear >> 22) & 0x3ff) * 4, &e, 4) ||
		    !(e & PTE_PRESENT))
			return -EFAULT;
		if ((e & PTE_LARGE) && (cr4 & X86_CR4_PSE)) {
			*gpa = (e & 0xffc00000) + (linear & 0x3fffff);
			return 0;
		}
		if (read_entry(g, (e & 0xfffff000) + ((linear >> 12) & 0x3ff) * 4, &e, 4) ||
		    !(e & PTE_PRESENT))
			return -EFAULT;
		*gpa = (e & 0xfffff000) + (linear & 0xfff);
		return 0;
	}
	/* PAE (3 levels from the PDPTE) or 4-level paging */
	const u64 addr = 0x000ffffffffff000UL;
	int level = (efer & EFER_LMA) ? 3 : 2;
	u64 table = (efer & EFER_LMA) ? (cr3 & addr) : (cr3 & 0xffffffe0);

	for (; level >= 0; level--) {
		unsigned int shift = 12 + 9 * level;
		unsigned int index = (linear >> shift) & (level == 2 && !(efer & EFER_LMA) ? 3 : 511);

		if (read_entry(g, table + index * 8, &e, 8) || !(e & PTE_PRESENT))
			return -EFAULT;
		if (level > 0 && level < 3 && (e & PTE_LARGE)) {
			u64 size = 1UL << shift;

			*gpa = (e & addr & ~(size - 1)) + (linear & (size - 1));
			return 0;
		}
		table = e & addr;
	}
	*gpa = table + (linear & 0xfff);
	return 0;
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
