/*
 * The Intel VMX back end of the vCPU interface (kernel/vcpu.h), following
 * the SDM vol. 3C. It owns VMXON, one VMCS per vCPU, VPIDs, the EPT entry
 * format, the preemption timer, and the translation of VM exits into
 * generic exits.
 *
 * Every control is set within the allowed-0/allowed-1 settings of the
 * (TRUE_) capability MSRs; a control Tide needs but the CPU lacks is a clear
 * error at enable time, not a failed VM entry later.
 *
 * With TDP (the default when the CPU has EPT) guests run with EPT, VPID and
 * unrestricted guest, so they start like on a PC in 32-bit protected mode
 * with paging off and manage their own paging.
 *
 * With shadow paging (shadow_paging, paging=shadow or no EPT) EPT and
 * unrestricted guest are off: the CPU runs the guest on Tide's shadow tables
 * (mm/shadow.c) with the paging registers shadow_hardware_regs() gives, loaded
 * at every entry. Every MOV to CR3, CR0 and CR4 (CR0/CR4 fully owned, read
 * shadows holding the guest's view), every MOV from CR3 and every #PF exits.
 * VPID tags the guest's TLB entries when the CPU has it; without it every
 * entry and exit flushes them (VPID 0).
 */
#include "arch/x86/cpu.h"
#include "arch/x86/desc.h"
#include "arch/x86/lapic.h"
#include "arch/x86/paging.h"
#include "kernel/errno.h"
#include "kernel/guest.h"
#include "kernel/panic.h"
#include "kernel/printk.h"
#include "kernel/string.h"
#include "kernel/trace.h"
#include "kernel/vcpu.h"
#include "mm/frame_alloc.h"
#include "mm/page_table.h"
#include "mm/shadow.h"
#include "vmx/vmcs.h"

#define FEATURE_CONTROL_LOCKED BIT(0)
#define FEATURE_CONTROL_VMX_OUTSIDE_SMX BIT(2)
#define MSR_FS_BASE 0xc0000100
#define MSR_GS_BASE 0xc0000101
#define EPT_MEMTYPE_WB 6UL
#define DEFAULT_PAT 0x0007040600070406UL
#define VECTOR_DF 8
#define VECTOR_PF 14

struct vmx_vcpu {
	u64 vmcs_pa;
	bool launched;
	u64 cr0_fixed_mask; /* guest CR0 bits owned by Tide (shadowed), TDP only */
	u64 cr2; /* the guest's CR2: not in the VMCS, switched around entries */
	bool flush_pending; /* shadow paging: INVVPID before the next entry */
};

struct vmx_caps {
	u32 pin, cpu, cpu2, exit, entry;
	u64 ept_vpid;
	u64 cr0_fixed0, cr0_fixed1, cr4_fixed0, cr4_fixed1;
	unsigned int preemption_shift; /* timer ticks = TSC >> shift */
	bool preemption_timer;
	bool vpid; /* guests get their own VPID (always with TDP) */
	u64 invvpid_type; /* shadow paging with VPID: single- or all-context */
};

static struct vmx_caps caps;
static u32 vmcs_revision;

int vmx_enter(u64 *gprs, int launched);
void vmx_exit(void);

static struct pt_format ept_format = {
	.name = "EPT",
	.present = 0x7,
	.table = 0x7, /* read, write, execute: permissions are set at the leaf */
	.read = BIT(0),
	.write = BIT(1),
	.exec = BIT(2),
	.large = BIT(7),
	.cached = EPT_MEMTYPE_WB << 3,
	.addr_mask = 0x000ffffffffff000UL,
	.max_leaf_level = 1,
};

/*
 * A control value with every bit Tide wants, within what the CPU allows:
 * allowed-0 settings (low half of the MSR) are forced on, allowed-1 (high
 * half) bound what may be on. Missing wanted bits are an error.
 */
static int adjust_controls(const char *what, u32 msr, u32 want, u32 optional, u32 *out)
{
	u64 cap = rdmsr(msr);
	u32 must = cap, may = cap >> 32;

	if (want & ~may) {
		pr_err("vmx: %s controls %#x not supported (allowed %#x)\n", what, want & ~may, may);
		return -ENODEV;
	}
	*out = (want | (optional & may) | must) & may;
	return 0;
}

/* The allowed-1 settings (high half) of a capability MSR. */
static u32 allowed1(u32 msr)
{
	return rdmsr(msr) >> 32;
}

/* EPT for TDP: the walks, memory type and flushes Tide relies on. */
static int check_ept(void)
{
	if (!(caps.ept_vpid & EPT_CAP_WALK_4) || !(caps.ept_vpid & EPT_CAP_WB) ||
	    !(caps.ept_vpid & EPT_CAP_INVEPT) ||
	    !(caps.ept_vpid & (EPT_CAP_INVEPT_SINGLE | EPT_CAP_INVEPT_ALL))) {
		pr_err("vmx: EPT lacks 4-level walks, write-back tables or INVEPT (caps %#lx)\n",
		       caps.ept_vpid);
		return -ENODEV;
	}
	/* accessed/dirty flags in EPT entries, for reclaim's clock */
	if (caps.ept_vpid & EPT_CAP_AD) {
		ept_format.accessed = BIT(8);
		ept_format.dirty = BIT(9);
	}
	if (caps.ept_vpid & EPT_CAP_2M)
		ept_format.max_leaf_level = 1;
	else
		ept_format.max_leaf_level = 0;
	return 0;
}

/*
 * Shadow paging: VPID if the CPU has it and INVVPID can flush one VPID or
 * all of them (flush_guest_tlb); else guests run as VPID 0, whose TLB
 * entries every VM entry and exit drop (SDM vol. 3C, 28.3.3.3).
 */
static void choose_vpid_shadow(void)
{
	caps.vpid = (caps.cpu2 & CPU2_ENABLE_VPID) && (caps.ept_vpid & VPID_CAP_INVVPID) &&
		    (caps.ept_vpid & (VPID_CAP_INVVPID_SINGLE | VPID_CAP_INVVPID_ALL));
	if (!caps.vpid)
		caps.cpu2 &= ~CPU2_ENABLE_VPID;
	caps.invvpid_type = (caps.ept_vpid & VPID_CAP_INVVPID_SINGLE) ? INVVPID_SINGLE_CONTEXT :
									  INVVPID_ALL_CONTEXT;
	/*
	 * The stage-2 table is only software's map of guest-physical memory
	 * then: no CPU walks it or sets accessed/dirty flags in it, and any
	 * leaf size will do.
	 */
	ept_format.accessed = 0;
	ept_format.dirty = 0;
	ept_format.max_leaf_level = 1;
}

static int read_capabilities(void)
{
	u64 basic = rdmsr(MSR_IA32_VMX_BASIC);
	bool true_ctls = basic & VMX_BASIC_TRUE_CTLS;
	u32 pin_msr = true_ctls ? MSR_IA32_VMX_TRUE_PINBASED_CTLS : MSR_IA32_VMX_PINBASED_CTLS;
	u32 cpu_msr = true_ctls ? MSR_IA32_VMX_TRUE_PROCBASED_CTLS : MSR_IA32_VMX_PROCBASED_CTLS;
	u32 exit_msr = true_ctls ? MSR_IA32_VMX_TRUE_EXIT_CTLS : MSR_IA32_VMX_EXIT_CTLS;
	u32 entry_msr = true_ctls ? MSR_IA32_VMX_TRUE_ENTRY_CTLS : MSR_IA32_VMX_ENTRY_CTLS;
	/*
	 * CR8 exits: without a TPR shadow a 64-bit guest's MOV to CR8 would
	 * set the real TPR and could mask the host's timer (its preemption).
	 */
	u32 cpu_want = CPU_HLT_EXITING | CPU_UNCONDITIONAL_IO_EXITING | CPU_CR8_LOAD_EXITING |
		       CPU_CR8_STORE_EXITING, cpu_optional = 0;
	u32 cpu2_want, cpu2_optional = CPU2_ENABLE_RDTSCP | CPU2_ENABLE_INVPCID;
	int err = 0;

	vmcs_revision = basic & 0x7fffffff;
	if (shadow_paging) {
		/*
		 * The CPU runs on Tide's tables: every MOV to or from CR3 exits.
		 * INVLPG does not: write protection keeps the shadows coherent
		 * with the guest's tables, so its INVLPG is right as it is.
		 */
		cpu_want |= CPU_CR3_LOAD_EXITING | CPU_CR3_STORE_EXITING;
		cpu_optional |= CPU_ACTIVATE_SECONDARY;
		cpu2_want = 0;
		/* no INVPCID: the guest is not offered PCIDs, so it must #UD */
		cpu2_optional = CPU2_ENABLE_RDTSCP | CPU2_ENABLE_VPID;
		/* the CPU's EFER (LME/LMA, NXE) is not the guest's: loaded at every entry */
		if (!(allowed1(entry_msr) & ENTRY_LOAD_EFER)) {
			pr_err("vmx: shadow paging needs the \"load IA32_EFER\" VM-entry control, "
			       "which this CPU lacks\n");
			return -ENODEV;
		}
	} else {
		cpu_want |= CPU_ACTIVATE_SECONDARY;
		cpu2_want = CPU2_ENABLE_EPT | CPU2_ENABLE_VPID | CPU2_UNRESTRICTED_GUEST;
	}
	err |= adjust_controls("pin-based", pin_msr,
			       PIN_EXTERNAL_INTERRUPT_EXITING | PIN_NMI_EXITING,
			       PIN_PREEMPTION_TIMER, &caps.pin);
	err |= adjust_controls("processor-based", cpu_msr, cpu_want, cpu_optional, &caps.cpu);
	/* IA32_VMX_PROCBASED_CTLS2 only exists with secondary controls */
	caps.cpu2 = 0;
	if (!err && (caps.cpu & CPU_ACTIVATE_SECONDARY))
		err |= adjust_controls("secondary", MSR_IA32_VMX_PROCBASED_CTLS2, cpu2_want,
				       cpu2_optional, &caps.cpu2);
	err |= adjust_controls("exit", exit_msr,
			       EXIT_HOST_ADDR_SPACE_SIZE | EXIT_SAVE_EFER | EXIT_LOAD_EFER |
				       EXIT_SAVE_PAT | EXIT_LOAD_PAT,
			       EXIT_SAVE_PREEMPTION_TIMER, &caps.exit);
	err |= adjust_controls("entry", entry_msr, ENTRY_LOAD_EFER | ENTRY_LOAD_PAT, 0, &caps.entry);
	if (err)
		return -ENODEV;

	/* IA32_VMX_EPT_VPID_CAP only exists when EPT or VPID may be enabled */
	caps.ept_vpid = 0;
	if ((caps.cpu & CPU_ACTIVATE_SECONDARY) &&
	    (allowed1(MSR_IA32_VMX_PROCBASED_CTLS2) & (CPU2_ENABLE_EPT | CPU2_ENABLE_VPID)))
		caps.ept_vpid = rdmsr(MSR_IA32_VMX_EPT_VPID_CAP);
	if (shadow_paging) {
		choose_vpid_shadow();
	} else {
		err = check_ept();
		if (err)
			return err;
		caps.vpid = true;
	}
	caps.cr0_fixed0 = rdmsr(MSR_IA32_VMX_CR0_FIXED0);
	caps.cr0_fixed1 = rdmsr(MSR_IA32_VMX_CR0_FIXED1);
	caps.cr4_fixed0 = rdmsr(MSR_IA32_VMX_CR4_FIXED0);
	caps.cr4_fixed1 = rdmsr(MSR_IA32_VMX_CR4_FIXED1);
	caps.preemption_shift = rdmsr(MSR_IA32_VMX_MISC) & 0x1f;
	/* the timer only bounds a slice if it keeps counting across exits */
	caps.preemption_timer = (caps.pin & PIN_PREEMPTION_TIMER) &&
				(caps.exit & EXIT_SAVE_PREEMPTION_TIMER);
	if (!caps.preemption_timer)
		caps.pin &= ~PIN_PREEMPTION_TIMER;
	return 0;
}

static int vmx_cpu_enable(void)
{
	u64 fc, vmxon_pa;
	u8 fail;
	int err;

	if (rdmsr_safe(MSR_IA32_FEATURE_CONTROL, &fc))
		fc = 0;
	if (!(fc & FEATURE_CONTROL_LOCKED)) {
		/* nobody locked it: enable VMX outside SMX and lock, as firmware would */
		fc |= FEATURE_CONTROL_VMX_OUTSIDE_SMX | FEATURE_CONTROL_LOCKED;
		if (wrmsr_safe(MSR_IA32_FEATURE_CONTROL, fc)) {
			pr_err("vmx: cannot write IA32_FEATURE_CONTROL\n");
			return -ENODEV;
		}
	} else if (!(fc & FEATURE_CONTROL_VMX_OUTSIDE_SMX)) {
		pr_err("vmx: disabled by the firmware (IA32_FEATURE_CONTROL=%#lx)\n", fc);
		return -ENODEV;
	}
	err = read_capabilities();
	if (err)
		return err;

	/* CR0 and CR4 must satisfy the fixed bits in VMX operation */
	write_cr0((read_cr0() | caps.cr0_fixed0) & caps.cr0_fixed1);
	write_cr4((read_cr4() | caps.cr4_fixed0 | X86_CR4_VMXE) & caps.cr4_fixed1);

	if (!shadow_paging)
		trace_flush_kind = FLUSH_INVEPT;
	else if (caps.vpid && caps.invvpid_type == INVVPID_SINGLE_CONTEXT)
		trace_flush_kind = FLUSH_ASID; /* by VPID */
	else
		trace_flush_kind = FLUSH_ALL;
	vmxon_pa = frame_alloc_page(OWNER_HYPERVISOR);
	if (!vmxon_pa)
		return -ENOMEM;
	*(u32 *)phys_to_virt(vmxon_pa) = vmcs_revision;
	asm volatile("vmxon %1; setna %0" : "=q"(fail) : "m"(vmxon_pa) : "cc", "memory");
	if (fail) {
		pr_err("vmx: VMXON failed\n");
		return -EIO;
	}
	if (shadow_paging)
		pr_info("vmx: enabled, VMCS revision %#x, shadow paging (EPT off), %s, %s\n",
			vmcs_revision,
			!caps.vpid ? "no VPID (TLB flushed at every entry and exit)" :
			caps.invvpid_type == INVVPID_SINGLE_CONTEXT ? "VPID" :
								       "VPID (all-context flushes)",
			caps.preemption_timer ? "preemption timer" : "LAPIC timer for slices");
	else
		pr_info("vmx: enabled, VMCS revision %#x, EPT%s, VPID, unrestricted guest, %s\n",
			vmcs_revision, ept_format.max_leaf_level ? " with 2 MiB pages" : "",
			caps.preemption_timer ? "preemption timer" : "LAPIC timer for slices");
	return 0;
}

static const struct pt_format *vmx_stage2_format(void)
{
	return &ept_format;
}

static int vmx_guest_init(struct guest *g)
{
	g->arch = NULL; /* the EPT pointer and VPID derive from the guest */
	return 0;
}

static void vmx_guest_destroy(struct guest *g __unused)
{
}

static u64 eptp_of(struct guest *g)
{
	/* write-back, 4-level walk (length - 1 = 3 in bits 5:3), A/D flags if we use them */
	return g->stage2.pt.root | EPT_MEMTYPE_WB | (3 << 3) | (ept_format.accessed ? BIT(6) : 0);
}

static void invept(u64 type, u64 eptp)
{
	struct {
		u64 eptp, reserved;
	} desc = { eptp, 0 };

	asm volatile("invept %0, %1" : : "m"(desc), "r"(type) : "cc", "memory");
}

static u16 vpid_of(struct guest *g)
{
	return g->id + 1; /* 0 is the host's */
}

static void invvpid(u64 type, u16 vpid)
{
	struct {
		u64 vpid, linear;
	} desc = { vpid, 0 };
	u8 fail;

	asm volatile("invvpid %1, %2; setna %0" : "=q"(fail) : "m"(desc), "r"(type) : "cc", "memory");
	/* stale translations could reach frames given to another guest */
	if (fail)
		panic("vmx: INVVPID type %lu for VPID %u failed", type, vpid);
}

static void vmx_flush_guest_tlb(struct guest *g)
{
	if (shadow_paging) {
		/*
		 * The linear and combined mappings of the guest's VPID, built
		 * from its shadow tables. Without VPID the guest runs as VPID
		 * 0, whose mappings every entry drops: nothing to do.
		 */
		struct vmx_vcpu *vv = g->vcpu.arch;

		if (!caps.vpid)
			return;
		/*
		 * One CPU, and g is not running while Tide handles it: one
		 * INVVPID before its next entry serves every zap of this exit,
		 * as SVM's TLB_CONTROL does. With its vCPU gone, at once: the
		 * VPID goes to the next guest in this slot.
		 */
		if (vv)
			vv->flush_pending = true;
		else
			invvpid(caps.invvpid_type, vpid_of(g));
		return;
	}
	/*
	 * Single-context INVEPT drops the guest-physical and combined
	 * mappings of this EPTP under every VPID; one CPU, so on return no
	 * translation through the old entries is left anywhere.
	 */
	if (caps.ept_vpid & EPT_CAP_INVEPT_SINGLE)
		invept(1, eptp_of(g));
	else
		invept(2, 0);
}

static void vmcs_load(struct vmx_vcpu *vv)
{
	asm volatile("vmptrld %0" : : "m"(vv->vmcs_pa) : "cc", "memory");
}

static void setup_host_state(void)
{
	struct {
		u16 limit;
		u64 base;
	} __packed gdtr, idtr;
	u64 tr_base;
	const u64 *gdt;

	asm volatile("sgdt %0; sidt %1" : "=m"(gdtr), "=m"(idtr));
	gdt = (const u64 *)gdtr.base;
	tr_base = ((gdt[GDT_TSS / 8] >> 16) & 0xffffff) | ((gdt[GDT_TSS / 8] >> 56) << 24) |
		  (gdt[GDT_TSS / 8 + 1] << 32);
	vmcs_write(HOST_CR0, read_cr0());
	vmcs_write(HOST_CR3, read_cr3());
	vmcs_write(HOST_CR4, read_cr4());
	vmcs_write(HOST_CS_SELECTOR, GDT_KERNEL_CS);
	vmcs_write(HOST_SS_SELECTOR, GDT_KERNEL_DS);
	vmcs_write(HOST_DS_SELECTOR, GDT_KERNEL_DS);
	vmcs_write(HOST_ES_SELECTOR, GDT_KERNEL_DS);
	vmcs_write(HOST_FS_SELECTOR, 0);
	vmcs_write(HOST_GS_SELECTOR, 0);
	vmcs_write(HOST_TR_SELECTOR, GDT_TSS);
	vmcs_write(HOST_FS_BASE, rdmsr(MSR_FS_BASE));
	vmcs_write(HOST_GS_BASE, rdmsr(MSR_GS_BASE));
	vmcs_write(HOST_TR_BASE, tr_base);
	vmcs_write(HOST_GDTR_BASE, gdtr.base);
	vmcs_write(HOST_IDTR_BASE, idtr.base);
	vmcs_write(HOST_SYSENTER_CS, 0);
	vmcs_write(HOST_SYSENTER_ESP, 0);
	vmcs_write(HOST_SYSENTER_EIP, 0);
	vmcs_write(HOST_IA32_EFER, rdmsr(MSR_EFER));
	vmcs_write(HOST_IA32_PAT, rdmsr(MSR_IA32_PAT));
	vmcs_write(HOST_RIP, (u64)vmx_exit);
}

static void set_guest_segment(enum vmcs_field selector, u16 sel, u32 ar)
{
	/* selector, base, limit and access rights fields are laid out in step */
	vmcs_write(selector, sel);
	vmcs_write(GUEST_ES_BASE + (selector - GUEST_ES_SELECTOR), 0);
	vmcs_write(GUEST_ES_LIMIT + (selector - GUEST_ES_SELECTOR), 0xffffffff);
	vmcs_write(GUEST_ES_AR + (selector - GUEST_ES_SELECTOR), ar);
}

/*
 * Shadow paging: Tide owns every bit of CR0 and CR4. The guest reads its
 * own values from the read shadows, and every MOV to CR0/CR4 that changes
 * one (and CLTS, LMSW) exits; the CPU runs with shadow_hardware_regs().
 */
static void reset_shadow_paging(u64 cr0)
{
	vmcs_write(CR0_GUEST_HOST_MASK, ~0UL);
	vmcs_write(CR0_READ_SHADOW, cr0);
	vmcs_write(CR4_GUEST_HOST_MASK, ~0UL);
	vmcs_write(CR4_READ_SHADOW, 0);
	/*
	 * Placeholders that pass the entry checks without unrestricted
	 * guest (PE, PG, NE; VMXE): every entry loads the real ones.
	 */
	vmcs_write(GUEST_CR0, (cr0 | caps.cr0_fixed0) & caps.cr0_fixed1);
	vmcs_write(GUEST_CR4, caps.cr4_fixed0);
	vmcs_write(GUEST_CR3, 0);
}

static void vmx_vcpu_reset_protected(struct vcpu *v, u64 rip)
{
	struct vmx_vcpu *vv = v->arch;
	/* unrestricted guest lifts the PE and PG fixed bits */
	u64 cr0_fixed = caps.cr0_fixed0 & ~(X86_CR0_PE | X86_CR0_PG);
	u64 cr0 = X86_CR0_PE | X86_CR0_ET;

	vmcs_load(vv);
	/*
	 * Flat 32-bit segments, all DPL 0 with RPL 0 selectors, accessed
	 * types (code 11, data 3), and a busy 32-bit TSS (type 11) in TR with
	 * LDTR unusable: valid protected-mode state also for the checks made
	 * without unrestricted guest (SDM vol. 3C, 26.3.1.2).
	 */
	set_guest_segment(GUEST_CS_SELECTOR, 0x08, 0xc09b);
	set_guest_segment(GUEST_DS_SELECTOR, 0x10, 0xc093);
	set_guest_segment(GUEST_ES_SELECTOR, 0x10, 0xc093);
	set_guest_segment(GUEST_SS_SELECTOR, 0x10, 0xc093);
	set_guest_segment(GUEST_FS_SELECTOR, 0x10, 0xc093);
	set_guest_segment(GUEST_GS_SELECTOR, 0x10, 0xc093);
	vmcs_write(GUEST_LDTR_SELECTOR, 0);
	vmcs_write(GUEST_LDTR_BASE, 0);
	vmcs_write(GUEST_LDTR_LIMIT, 0xffff);
	vmcs_write(GUEST_LDTR_AR, 0x10000); /* unusable */
	vmcs_write(GUEST_TR_SELECTOR, 0);
	vmcs_write(GUEST_TR_BASE, 0);
	vmcs_write(GUEST_TR_LIMIT, 0xffff);
	vmcs_write(GUEST_TR_AR, 0x8b); /* busy 32-bit TSS */
	vmcs_write(GUEST_GDTR_BASE, 0);
	vmcs_write(GUEST_GDTR_LIMIT, 0);
	vmcs_write(GUEST_IDTR_BASE, 0);
	vmcs_write(GUEST_IDTR_LIMIT, 0x3ff);

	if (shadow_paging) {
		reset_shadow_paging(cr0);
	} else {
		vv->cr0_fixed_mask = cr0_fixed;
		vmcs_write(CR0_GUEST_HOST_MASK, cr0_fixed);
		vmcs_write(CR0_READ_SHADOW, cr0);
		vmcs_write(GUEST_CR0, cr0 | cr0_fixed);
		vmcs_write(CR4_GUEST_HOST_MASK, caps.cr4_fixed0);
		vmcs_write(CR4_READ_SHADOW, 0);
		vmcs_write(GUEST_CR4, caps.cr4_fixed0);
		vmcs_write(GUEST_CR3, 0);
	}
	vv->cr2 = 0;
	vmcs_write(GUEST_DR7, 0x400);
	vmcs_write(GUEST_RSP, 0);
	vmcs_write(GUEST_RIP, rip);
	vmcs_write(GUEST_RFLAGS, 0x2);
	vmcs_write(GUEST_IA32_EFER, 0);
	vmcs_write(GUEST_IA32_PAT, DEFAULT_PAT);
	vmcs_write(GUEST_SYSENTER_CS, 0);
	vmcs_write(GUEST_SYSENTER_ESP, 0);
	vmcs_write(GUEST_SYSENTER_EIP, 0);
	vmcs_write(GUEST_INTERRUPTIBILITY, 0);
	vmcs_write(GUEST_ACTIVITY_STATE, 0);
	vmcs_write(VM_ENTRY_CONTROLS, caps.entry & ~ENTRY_IA32E_MODE_GUEST);
	vmcs_write(VM_ENTRY_INTR_INFO, 0);
	memset(v->gpr, 0, sizeof(v->gpr));
}

static int vmx_vcpu_create(struct vcpu *v)
{
	static struct vmx_vcpu pool[MAX_GUESTS];
	struct vmx_vcpu *vv = &pool[v->guest->id];
	u64 pa = frame_alloc_page(GUEST_OWNER_BASE + v->guest->id);
	u8 fail;

	if (!pa)
		return -ENOMEM;
	memset(vv, 0, sizeof(*vv));
	vv->vmcs_pa = pa;
	*(u32 *)phys_to_virt(pa) = vmcs_revision;
	asm volatile("vmclear %1; setna %0" : "=q"(fail) : "m"(vv->vmcs_pa) : "cc", "memory");
	if (fail) {
		frame_free_page(pa);
		return -EIO;
	}
	v->arch = vv;
	vmcs_load(vv);
	vmcs_write(PIN_BASED_VM_EXEC_CONTROL, caps.pin & ~PIN_PREEMPTION_TIMER);
	vmcs_write(CPU_BASED_VM_EXEC_CONTROL, caps.cpu);
	if (caps.cpu & CPU_ACTIVATE_SECONDARY)
		vmcs_write(SECONDARY_VM_EXEC_CONTROL, caps.cpu2);
	vmcs_write(VM_EXIT_CONTROLS, caps.exit & ~EXIT_SAVE_PREEMPTION_TIMER);
	vmcs_write(VM_ENTRY_CONTROLS, caps.entry);
	/*
	 * Shadow paging: every #PF exits (bit 14, and an error-code mask and
	 * match of 0 that every error code matches); Tide fills the shadow
	 * or reflects the fault.
	 */
	vmcs_write(EXCEPTION_BITMAP, shadow_paging ? BIT(VECTOR_PF) : 0);
	vmcs_write(PAGE_FAULT_ERROR_CODE_MASK, 0);
	vmcs_write(PAGE_FAULT_ERROR_CODE_MATCH, 0);
	vmcs_write(CR3_TARGET_COUNT, 0);
	vmcs_write(VM_EXIT_MSR_STORE_COUNT, 0);
	vmcs_write(VM_EXIT_MSR_LOAD_COUNT, 0);
	vmcs_write(VM_ENTRY_MSR_LOAD_COUNT, 0);
	vmcs_write(VM_ENTRY_INTR_INFO, 0);
	if (caps.vpid)
		vmcs_write(VIRTUAL_PROCESSOR_ID, vpid_of(v->guest));
	if (!shadow_paging)
		vmcs_write(EPT_POINTER, eptp_of(v->guest));
	vmcs_write(VMCS_LINK_POINTER, ~0UL);
	vmcs_write(TSC_OFFSET, 0);
	vmcs_write(VMX_PREEMPTION_TIMER_VALUE, ~0u);
	setup_host_state();
	vmx_vcpu_reset_protected(v, 0);
	return 0;
}

static void vmx_vcpu_destroy(struct vcpu *v)
{
	struct vmx_vcpu *vv = v->arch;

	if (!vv)
		return;
	/* a flush still owed: its VPID goes to the next guest in this slot */
	if (vv->flush_pending)
		invvpid(caps.invvpid_type, vpid_of(v->guest));
	asm volatile("vmclear %0" : : "m"(vv->vmcs_pa) : "cc", "memory");
	frame_free_page(vv->vmcs_pa);
	v->arch = NULL;
}

/* An exception or NMI exit: VM-exit interruption information says which. */
static void translate_exception(struct vcpu_exit *e, u64 qual)
{
	u32 info = vmcs_read(VM_EXIT_INTR_INFO);
	u8 vector = info & INTR_INFO_VECTOR_MASK;

	if ((info & INTR_INFO_TYPE_MASK) == INTR_TYPE_NMI) {
		e->reason = EXIT_INTERRUPT;
		return;
	}
	if (shadow_paging && vector == VECTOR_PF &&
	    (info & INTR_INFO_TYPE_MASK) == INTR_TYPE_HW_EXCEPTION) {
		/* the exit qualification holds the linear address; CR2 is untouched */
		e->reason = EXIT_PAGE_FAULT;
		e->page_fault.linear = qual;
		e->page_fault.error_code = vmcs_read(VM_EXIT_INTR_ERROR_CODE);
		return;
	}
	e->reason = EXIT_EXCEPTION;
	e->exception.vector = vector;
	e->exception.has_error = info & INTR_INFO_ERROR_VALID;
	if (e->exception.has_error)
		e->exception.error_code = vmcs_read(VM_EXIT_INTR_ERROR_CODE);
}

/*
 * A control-register access (SDM vol. 3C, table 28-3). With TDP only MOV to
 * CR0/CR4 of an owned bit exits; with shadow paging also MOV to and from
 * CR3, and CLTS and LMSW, which the core decodes.
 */
static void translate_cr_access(struct vcpu_exit *e, u64 qual, u64 next)
{
	unsigned int cr = CR_QUAL_CR(qual);

	switch (CR_QUAL_TYPE(qual)) {
	case CR_ACCESS_MOV_TO:
	case CR_ACCESS_MOV_FROM:
		if (cr != 0 && cr != 3 && cr != 4 && cr != 8) {
			e->reason = EXIT_UNHANDLED;
			return;
		}
		e->reason = CR_QUAL_TYPE(qual) == CR_ACCESS_MOV_TO ? EXIT_CR_WRITE : EXIT_CR_READ;
		e->cr.cr = cr;
		e->cr.gpr = CR_QUAL_GPR(qual);
		break;
	default: /* CLTS, LMSW */
		e->reason = EXIT_CR_WRITE;
		e->cr.cr = 0;
		e->cr.gpr = CR_GPR_UNKNOWN;
		break;
	}
	e->next_rip = next;
}

/*
 * A task switch (always an exit): the qualification gives the new TSS and
 * the source, in the core's numbering. RIP is at the instruction (CALL,
 * IRET, JMP, INT n, INT3, INTO: then the instruction length is valid) or
 * where the event struck. An event that reached a task gate in the IDT is in
 * the IDT-vectoring information, and is delivered again unless the core
 * cancels it.
 */
static void translate_task_switch(struct vcpu_exit *e, u64 qual, u64 next)
{
	u32 idt = vmcs_read(IDT_VECTORING_INFO);
	u32 type = idt & INTR_INFO_TYPE_MASK;

	e->reason = EXIT_TASK_SWITCH;
	e->task_switch.selector = TS_QUAL_SELECTOR(qual);
	e->task_switch.source = TS_QUAL_SOURCE(qual);
	if (e->task_switch.source != TASK_SWITCH_GATE) {
		e->task_switch.after_insn = true;
	} else if (idt & INTR_INFO_VALID) {
		e->task_switch.vector = idt & INTR_INFO_VECTOR_MASK;
		e->task_switch.after_insn = type == INTR_TYPE_SW_INTERRUPT ||
					    type == INTR_TYPE_PRIV_SW_EXCEPTION ||
					    type == INTR_TYPE_SW_EXCEPTION;
		e->task_switch.has_error = idt & INTR_INFO_ERROR_VALID;
		if (e->task_switch.has_error)
			e->task_switch.error_code = vmcs_read(IDT_VECTORING_ERROR_CODE);
	}
	if (e->task_switch.after_insn)
		e->next_rip = next;
}

static void translate_exit(struct vcpu_exit *e)
{
	u32 reason = vmcs_read(VM_EXIT_REASON);
	u64 qual = vmcs_read(EXIT_QUALIFICATION);
	u64 len = vmcs_read(VM_EXIT_INSTRUCTION_LEN);
	u64 next = vmcs_read(GUEST_RIP) + len;

	memset(e, 0, sizeof(*e));
	e->hw_reason = reason;
	e->hw_qualification = qual;
	if (reason & VMX_EXIT_ENTRY_FAILED) {
		e->reason = EXIT_ENTRY_FAILED;
		return;
	}
	switch (reason & 0xffff) {
	case VMX_EXIT_CPUID:
		e->reason = EXIT_CPUID;
		e->next_rip = next;
		break;
	case VMX_EXIT_HLT:
		e->reason = EXIT_HLT;
		e->next_rip = next;
		break;
	case VMX_EXIT_VMCALL:
		e->reason = EXIT_HYPERCALL;
		e->next_rip = next;
		break;
	case VMX_EXIT_IO:
		e->reason = EXIT_IO;
		e->io.size = (qual & 7) + 1;
		e->io.in = qual & BIT(3);
		e->io.string = qual & (BIT(4) | BIT(5));
		e->io.port = qual >> 16;
		e->next_rip = next;
		break;
	case VMX_EXIT_RDMSR:
	case VMX_EXIT_WRMSR:
		e->reason = (reason & 0xffff) == VMX_EXIT_RDMSR ? EXIT_MSR_READ : EXIT_MSR_WRITE;
		e->next_rip = next;
		break;
	case VMX_EXIT_EPT_VIOLATION:
		e->reason = EXIT_STAGE2_FAULT;
		e->fault.gpa = vmcs_read(GUEST_PHYSICAL_ADDRESS);
		e->fault.access = (qual & BIT(1)) ? STAGE2_WRITE :
				  (qual & BIT(2)) ? STAGE2_EXEC : STAGE2_READ;
		e->fault.present = qual & (BIT(3) | BIT(4) | BIT(5));
		break;
	case VMX_EXIT_EXTERNAL_INTERRUPT:
		e->reason = EXIT_INTERRUPT;
		break;
	case VMX_EXIT_EXCEPTION_NMI:
		translate_exception(e, qual);
		break;
	case VMX_EXIT_PREEMPTION_TIMER:
		e->reason = EXIT_PREEMPTED;
		break;
	case VMX_EXIT_TRIPLE_FAULT:
		e->reason = EXIT_SHUTDOWN;
		break;
	case VMX_EXIT_CR_ACCESS:
		translate_cr_access(e, qual, next);
		break;
	case VMX_EXIT_TASK_SWITCH:
		translate_task_switch(e, qual, next);
		break;
	case VMX_EXIT_VMCLEAR ... VMX_EXIT_VMXON:
	case VMX_EXIT_INVEPT:
	case VMX_EXIT_INVVPID:
		e->reason = EXIT_VIRT_INSN;
		break;
	default:
		e->reason = EXIT_UNHANDLED;
		break;
	}
}

static void load_soft_msrs(struct vcpu *v);

/*
 * Shadow paging, before every entry: the CPU runs on the paging registers
 * the shadow code gives (adjusted to the VMX fixed bits: PE, PG, NE; VMXE),
 * while the guest reads its own CR0/CR4 from the read shadows. With EPT off
 * the entry itself loads the PAE PDPTEs from CR3. The TLB needs nothing
 * here: mm/shadow.c flushes the guest's VPID (flush_guest_tlb) whenever it
 * switches roots or a shadow entry goes, which covers the guest's MOV to
 * CR3 that never reached the CPU.
 */
static void load_shadow_paging(struct vcpu *v)
{
	struct paging_regs hw;
	u32 entry = vmcs_read(VM_ENTRY_CONTROLS) & ~ENTRY_IA32E_MODE_GUEST;

	shadow_hardware_regs(v, &hw);
	vmcs_write(GUEST_CR0, (hw.cr0 | caps.cr0_fixed0) & caps.cr0_fixed1);
	vmcs_write(GUEST_CR3, hw.cr3);
	vmcs_write(GUEST_CR4, (hw.cr4 | caps.cr4_fixed0) & caps.cr4_fixed1);
	vmcs_write(GUEST_IA32_EFER, hw.efer);
	vmcs_write(VM_ENTRY_CONTROLS, entry | ((hw.efer & EFER_LMA) ? ENTRY_IA32E_MODE_GUEST : 0));
	vmcs_write(CR0_READ_SHADOW, v->paging.cr0);
	vmcs_write(CR4_READ_SHADOW, v->paging.cr4);
}

static void vmx_vcpu_run(struct vcpu *v, struct vcpu_exit *e)
{
	struct vmx_vcpu *vv = v->arch;
	u32 idt;

	vmcs_load(vv);
	load_soft_msrs(v);
	if (shadow_paging)
		load_shadow_paging(v);
	vmcs_write(GUEST_RSP, v->gpr[GPR_RSP]);
	if (vv->flush_pending) {
		invvpid(caps.invvpid_type, vpid_of(v->guest));
		vv->flush_pending = false;
	}
	/* the guest's CR2 (set by the core before it injects a #PF) */
	if (read_cr2() != vv->cr2)
		write_cr2(vv->cr2);
	if (vmx_enter(v->gpr, vv->launched)) {
		memset(e, 0, sizeof(*e));
		e->reason = EXIT_ENTRY_FAILED;
		e->hw_reason = ~0UL;
		e->hw_qualification = vmcs_read(VM_INSTRUCTION_ERROR);
		return;
	}
	vv->cr2 = read_cr2(); /* a #PF exit leaves it alone: the guest's own */
	vv->launched = true;
	v->gpr[GPR_RSP] = vmcs_read(GUEST_RSP);
	vmcs_write(VM_ENTRY_INTR_INFO, 0);
	/*
	 * An event cut short by this exit is delivered again on the next
	 * entry (bits 30:12 of the IDT-vectoring information are undefined,
	 * and reserved in the entry field). With shadow paging that includes
	 * a #PF exit met while delivering an event: once the shadow is
	 * filled the event goes in again; a #PF the core reflects instead
	 * meets it in vmx_inject.
	 */
	idt = vmcs_read(IDT_VECTORING_INFO);
	if (idt & INTR_INFO_VALID) {
		vmcs_write(VM_ENTRY_INTR_INFO, idt & (INTR_INFO_VALID | INTR_INFO_ERROR_VALID |
						      INTR_INFO_TYPE_MASK | INTR_INFO_VECTOR_MASK));
		if (idt & INTR_INFO_ERROR_VALID)
			vmcs_write(VM_ENTRY_EXCEPTION_ERROR_CODE, vmcs_read(IDT_VECTORING_ERROR_CODE));
		vmcs_write(VM_ENTRY_INSTRUCTION_LEN, vmcs_read(VM_EXIT_INSTRUCTION_LEN));
	}
	translate_exit(e);
	if (e->reason == EXIT_PAGE_FAULT)
		e->page_fault.delivering = idt & INTR_INFO_VALID;
}

static const enum vmcs_field reg_fields[NR_VCPU_REGS] = {
	[VCPU_RIP] = GUEST_RIP,
	[VCPU_RFLAGS] = GUEST_RFLAGS,
	[VCPU_CR3] = GUEST_CR3,
	[VCPU_EFER] = GUEST_IA32_EFER,
	[VCPU_CS_BASE] = GUEST_CS_BASE,
	[VCPU_CS_ATTR] = GUEST_CS_AR,
	[VCPU_SS_ATTR] = GUEST_SS_AR,
	[VCPU_PAT] = GUEST_IA32_PAT,
	[VCPU_FS_BASE] = GUEST_FS_BASE,
	[VCPU_GS_BASE] = GUEST_GS_BASE,
	[VCPU_SYSENTER_CS] = GUEST_SYSENTER_CS,
	[VCPU_SYSENTER_ESP] = GUEST_SYSENTER_ESP,
	[VCPU_SYSENTER_EIP] = GUEST_SYSENTER_EIP,
	[VCPU_INTERRUPT_SHADOW] = GUEST_INTERRUPTIBILITY,
	[VCPU_TSC_OFFSET] = TSC_OFFSET,
};

/* MSRs the VMCS does not hold: kept per vCPU and switched around entries */
static u64 soft_msrs[MAX_GUESTS][5];

static u64 *soft_msr(struct vcpu *v, enum vcpu_reg r)
{
	switch (r) {
	case VCPU_KERNEL_GS_BASE: return &soft_msrs[v->guest->id][0];
	case VCPU_STAR: return &soft_msrs[v->guest->id][1];
	case VCPU_LSTAR: return &soft_msrs[v->guest->id][2];
	case VCPU_CSTAR: return &soft_msrs[v->guest->id][3];
	case VCPU_SFMASK: return &soft_msrs[v->guest->id][4];
	default: return NULL;
	}
}

/*
 * The SYSCALL MSRs and KERNEL_GS_BASE are not part of the VMCS. Tide itself
 * never uses them, so the hardware simply holds the values of the vCPU that
 * ran last, loaded when another vCPU takes the CPU.
 */
static int soft_msr_owner = -1;
static const u32 soft_msr_numbers[5] = { 0xc0000102, 0xc0000081, 0xc0000082, 0xc0000083,
					 0xc0000084 };

static void load_soft_msrs(struct vcpu *v)
{
	if (soft_msr_owner == (int)v->guest->id)
		return;
	for (int i = 0; i < 5; i++)
		wrmsr(soft_msr_numbers[i], soft_msrs[v->guest->id][i]);
	soft_msr_owner = v->guest->id;
}

static u64 vmx_get_reg(struct vcpu *v, enum vcpu_reg r)
{
	struct vmx_vcpu *vv = v->arch;
	u64 *soft = soft_msr(v, r);
	u64 *paging = vcpu_paging_reg(v, r);

	/* shadow paging: the VMCS holds the CPU's CR0/CR3/CR4/EFER, not the guest's */
	if (paging)
		return *paging;
	vmcs_load(vv);
	switch (r) {
	case VCPU_CR0:
		return (vmcs_read(GUEST_CR0) & ~vv->cr0_fixed_mask) |
		       (vmcs_read(CR0_READ_SHADOW) & vv->cr0_fixed_mask);
	case VCPU_CR4:
		return (vmcs_read(GUEST_CR4) & ~caps.cr4_fixed0) |
		       (vmcs_read(CR4_READ_SHADOW) & caps.cr4_fixed0);
	case VCPU_CS_ATTR:
	case VCPU_SS_ATTR: {
		/* the interface uses the packed SVM layout: type..P, then AVL L D G */
		u64 ar = vmcs_read(reg_fields[r]);

		return (ar & 0xff) | ((ar >> 4) & 0xf00);
	}
	case VCPU_CPL:
		return (vmcs_read(GUEST_SS_AR) >> 5) & 3;
	case VCPU_CR2:
		return vv->cr2; /* not switched by VMX: saved at every exit */
	default:
		if (soft)
			return *soft;
		return reg_fields[r] ? vmcs_read(reg_fields[r]) : 0;
	}
}

/*
 * With EPT and PAE paging, VM entry loads the PDPTEs from the VMCS, not from
 * CR3: a CR3 that Tide loads (a task switch) needs them read, as the CPU
 * reads them at MOV to CR3 (the core has checked them).
 */
static void load_pdptes(struct vcpu *v, u64 cr3)
{
	u64 pdpte[4] = { 0 };

	if (!(vmx_get_reg(v, VCPU_CR0) & X86_CR0_PG) || !(vmx_get_reg(v, VCPU_CR4) & X86_CR4_PAE) ||
	    (vmx_get_reg(v, VCPU_EFER) & EFER_LMA))
		return;
	if (guest_copy_from(v->guest, pdpte, cr3 & 0xffffffe0UL, sizeof(pdpte)))
		memset(pdpte, 0, sizeof(pdpte));
	for (int i = 0; i < 4; i++)
		vmcs_write(GUEST_PDPTE0 + 2 * i, pdpte[i]);
}

static void vmx_set_reg(struct vcpu *v, enum vcpu_reg r, u64 val)
{
	u64 *soft = soft_msr(v, r);
	u64 *paging = vcpu_paging_reg(v, r);

	if (paging) {
		*paging = val; /* the CPU gets shadow_hardware_regs() at entry */
		return;
	}
	vmcs_load(v->arch);
	if (r == VCPU_CR2) {
		((struct vmx_vcpu *)v->arch)->cr2 = val; /* loaded right before entry */
	} else if (r == VCPU_CR0) {
		/* the guest sees its value; the CPU runs with the fixed bits too */
		vmcs_write(CR0_READ_SHADOW, val);
		vmcs_write(GUEST_CR0, val | ((struct vmx_vcpu *)v->arch)->cr0_fixed_mask);
	} else if (r == VCPU_CR4) {
		vmcs_write(CR4_READ_SHADOW, val);
		vmcs_write(GUEST_CR4, val | caps.cr4_fixed0);
	} else if (soft) {
		*soft = val;
		if (soft_msr_owner == (int)v->guest->id)
			soft_msr_owner = -1; /* reload before the next entry */
	} else if (r == VCPU_EFER) {
		u32 entry = vmcs_read(VM_ENTRY_CONTROLS) & ~ENTRY_IA32E_MODE_GUEST;

		vmcs_write(GUEST_IA32_EFER, val);
		vmcs_write(VM_ENTRY_CONTROLS, entry | ((val & EFER_LMA) ? ENTRY_IA32E_MODE_GUEST : 0));
	} else if (r == VCPU_CR3) {
		vmcs_write(GUEST_CR3, val);
		load_pdptes(v, val);
	} else if (reg_fields[r]) {
		vmcs_write(reg_fields[r], val);
	}
}

/*
 * An exception injected while the entry already holds one to deliver again
 * (cut short by the exit, e.g. a #PF met pushing its frame) combines with it
 * as on the CPU (exception_combine); a triple fault stops the guest.
 */
static bool combine_exceptions(struct vcpu *v, u8 *vector, bool *has_error, u32 *error_code)
{
	u32 pending = vmcs_read(VM_ENTRY_INTR_INFO);
	int combined;

	if (!(pending & INTR_INFO_VALID) || (pending & INTR_INFO_TYPE_MASK) != INTR_TYPE_HW_EXCEPTION)
		return true;
	combined = exception_combine(pending & INTR_INFO_VECTOR_MASK, *vector);
	if (combined < 0) {
		vmcs_write(VM_ENTRY_INTR_INFO, 0);
		guest_crash(v->guest, "triple fault (exception %u while delivering %u)", *vector,
			    pending & INTR_INFO_VECTOR_MASK);
		return false;
	}
	if (combined == VECTOR_DF) {
		*vector = VECTOR_DF;
		*has_error = true;
		*error_code = 0;
	}
	return true;
}

static void vmx_inject(struct vcpu *v, enum vcpu_event_type type, u8 vector, bool has_error,
		       u32 error_code)
{
	static const u32 types[] = {
		[EVENT_EXTERNAL] = INTR_TYPE_EXTERNAL,
		[EVENT_NMI] = INTR_TYPE_NMI,
		[EVENT_EXCEPTION] = INTR_TYPE_HW_EXCEPTION,
		[EVENT_SOFTWARE] = INTR_TYPE_SW_EXCEPTION,
	};
	u32 info;

	vmcs_load(v->arch);
	if (type == EVENT_EXCEPTION && !combine_exceptions(v, &vector, &has_error, &error_code))
		return;
	info = vector | types[type] | INTR_INFO_VALID;
	if (has_error) {
		info |= INTR_INFO_ERROR_VALID;
		vmcs_write(VM_ENTRY_EXCEPTION_ERROR_CODE, error_code);
	}
	vmcs_write(VM_ENTRY_INTR_INFO, info);
}

/* The event the last exit cut short is not delivered again (vmx_vcpu_run). */
static void vmx_cancel_event(struct vcpu *v)
{
	vmcs_load(v->arch);
	vmcs_write(VM_ENTRY_INTR_INFO, 0);
}

/* Selector, base, limit and access rights fields are laid out in step from ES. */
static const enum vmcs_field segment_selector[NR_VCPU_SEGS] = {
	[SEG_ES] = GUEST_ES_SELECTOR, [SEG_CS] = GUEST_CS_SELECTOR,
	[SEG_SS] = GUEST_SS_SELECTOR, [SEG_DS] = GUEST_DS_SELECTOR,
	[SEG_FS] = GUEST_FS_SELECTOR, [SEG_GS] = GUEST_GS_SELECTOR,
	[SEG_LDTR] = GUEST_LDTR_SELECTOR, [SEG_TR] = GUEST_TR_SELECTOR,
};

/*
 * The interface packs the attributes as SVM does (descriptor bits 40-47,
 * then 52-55); VMX's access rights keep them apart (bits 0-7, 12-15) and
 * mark a null-loaded register unusable, where the interface clears P.
 */
static void vmx_get_segment(struct vcpu *v, enum vcpu_seg s, struct vcpu_segment *seg)
{
	u32 off, ar;

	vmcs_load(v->arch);
	*seg = (struct vcpu_segment){ 0 };
	if (s == SEG_GDTR || s == SEG_IDTR) {
		seg->base = vmcs_read(s == SEG_GDTR ? GUEST_GDTR_BASE : GUEST_IDTR_BASE);
		seg->limit = vmcs_read(s == SEG_GDTR ? GUEST_GDTR_LIMIT : GUEST_IDTR_LIMIT);
		return;
	}
	if (s >= NR_VCPU_SEGS || !segment_selector[s])
		return;
	off = segment_selector[s] - GUEST_ES_SELECTOR;
	ar = vmcs_read(GUEST_ES_AR + off);
	seg->selector = vmcs_read(segment_selector[s]);
	seg->base = vmcs_read(GUEST_ES_BASE + off);
	seg->limit = vmcs_read(GUEST_ES_LIMIT + off);
	seg->attr = (ar & AR_UNUSABLE) ? 0 : (ar & 0xff) | ((ar >> 4) & 0xf00);
}

/* Setting SS sets the CPL too: VMX takes it from SS.DPL. */
static void vmx_set_segment(struct vcpu *v, enum vcpu_seg s, const struct vcpu_segment *seg)
{
	u32 off;

	vmcs_load(v->arch);
	if (s == SEG_GDTR || s == SEG_IDTR) {
		vmcs_write(s == SEG_GDTR ? GUEST_GDTR_BASE : GUEST_IDTR_BASE, seg->base);
		vmcs_write(s == SEG_GDTR ? GUEST_GDTR_LIMIT : GUEST_IDTR_LIMIT, seg->limit);
		return;
	}
	if (s >= NR_VCPU_SEGS || !segment_selector[s])
		return;
	off = segment_selector[s] - GUEST_ES_SELECTOR;
	vmcs_write(segment_selector[s], seg->selector);
	vmcs_write(GUEST_ES_BASE + off, seg->base);
	vmcs_write(GUEST_ES_LIMIT + off, seg->limit);
	vmcs_write(GUEST_ES_AR + off, (seg->attr & SEG_ATTR_P) ?
		   (seg->attr & 0xff) | ((seg->attr & 0xf00) << 4) : AR_UNUSABLE);
}

static void vmx_set_slice(struct vcpu *v, u64 us)
{
	if (!caps.preemption_timer) {
		lapic_timer_oneshot(us);
		return;
	}
	vmcs_load(v->arch);
	/* "save timer value" is only valid together with the timer itself */
	if (!us) {
		vmcs_write(PIN_BASED_VM_EXEC_CONTROL, caps.pin & ~PIN_PREEMPTION_TIMER);
		vmcs_write(VM_EXIT_CONTROLS, caps.exit & ~EXIT_SAVE_PREEMPTION_TIMER);
		return;
	}
	vmcs_write(PIN_BASED_VM_EXEC_CONTROL, caps.pin);
	vmcs_write(VM_EXIT_CONTROLS, caps.exit);
	vmcs_write(VMX_PREEMPTION_TIMER_VALUE,
		   MIN((tsc_ticks_per_ms * us / 1000) >> caps.preemption_shift, 0xffffffffUL));
}

const struct vcpu_ops vmx_ops = {
	.name = "VMX",
	.stage2_name = "EPT",
	.cpu_enable = vmx_cpu_enable,
	.stage2_format = vmx_stage2_format,
	.guest_init = vmx_guest_init,
	.guest_destroy = vmx_guest_destroy,
	.flush_guest_tlb = vmx_flush_guest_tlb,
	.vcpu_create = vmx_vcpu_create,
	.vcpu_destroy = vmx_vcpu_destroy,
	.vcpu_reset_protected = vmx_vcpu_reset_protected,
	.vcpu_run = vmx_vcpu_run,
	.get_reg = vmx_get_reg,
	.set_reg = vmx_set_reg,
	.inject = vmx_inject,
	.cancel_event = vmx_cancel_event,
	.get_segment = vmx_get_segment,
	.set_segment = vmx_set_segment,
	.set_slice = vmx_set_slice,
};
