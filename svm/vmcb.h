/*
 * The AMD SVM virtual machine control block (APM vol. 2, appendix B): the
 * control area at offset 0 and the state save area at 0x400, as one struct
 * with the fields Tide uses at their architectural offsets.
 */
#ifndef TIDE_SVM_VMCB_H
#define TIDE_SVM_VMCB_H

#include "kernel/types.h"

struct vmcb_segment {
	u16 selector;
	u16 attrib; /* descriptor bits 40-47 and 52-55, packed */
	u32 limit;
	u64 base;
};

struct vmcb_control {
	u32 intercept_cr; /* 0x000: reads in bits 0-15, writes in 16-31 */
	u32 intercept_dr; /* 0x004 */
	u32 intercept_exceptions; /* 0x008 */
	u32 intercept_misc1; /* 0x00c */
	u32 intercept_misc2; /* 0x010 */
	u32 intercept_misc3; /* 0x014 */
	u8 reserved1[0x03c - 0x018];
	u16 pause_filter_threshold; /* 0x03c */
	u16 pause_filter_count; /* 0x03e */
	u64 iopm_base_pa; /* 0x040 */
	u64 msrpm_base_pa; /* 0x048 */
	u64 tsc_offset; /* 0x050 */
	u32 asid; /* 0x058 */
	u8 tlb_control; /* 0x05c */
	u8 reserved2[3];
	u64 int_control; /* 0x060: V_TPR, V_IRQ, V_INTR_MASKING, ... */
	u64 int_shadow; /* 0x068 */
	u64 exit_code; /* 0x070 */
	u64 exit_info1; /* 0x078 */
	u64 exit_info2; /* 0x080 */
	u64 exit_int_info; /* 0x088 */
	u64 np_enable; /* 0x090 */
	u8 reserved3[0x0a8 - 0x098];
	u64 event_inject; /* 0x0a8 */
	u64 n_cr3; /* 0x0b0 */
	u64 lbr_control; /* 0x0b8 */
	u32 clean_bits; /* 0x0c0 */
	u32 reserved4;
	u64 next_rip; /* 0x0c8 */
	u8 insn_bytes_fetched; /* 0x0d0 */
	u8 insn_bytes[15];
	u8 reserved5[0x400 - 0x0e0];
};

struct vmcb_save {
	struct vmcb_segment es, cs, ss, ds, fs, gs; /* 0x400 */
	struct vmcb_segment gdtr, ldtr, idtr, tr; /* 0x460 */
	u8 reserved1[0x4cb - 0x4a0];
	u8 cpl; /* 0x4cb */
	u32 reserved2;
	u64 efer; /* 0x4d0 */
	u8 reserved3[0x548 - 0x4d8];
	u64 cr4; /* 0x548 */
	u64 cr3;
	u64 cr0;
	u64 dr7;
	u64 dr6;
	u64 rflags; /* 0x570 */
	u64 rip; /* 0x578 */
	u8 reserved4[0x5d8 - 0x580];
	u64 rsp; /* 0x5d8 */
	u8 reserved5[0x5f8 - 0x5e0];
	u64 rax; /* 0x5f8 */
	u64 star; /* 0x600 */
	u64 lstar;
	u64 cstar;
	u64 sfmask;
	u64 kernel_gs_base; /* 0x620 */
	u64 sysenter_cs;
	u64 sysenter_esp;
	u64 sysenter_eip;
	u64 cr2; /* 0x640 */
	u8 reserved6[0x668 - 0x648];
	u64 g_pat; /* 0x668 */
	u64 dbgctl;
	u64 br_from;
	u64 br_to;
	u64 last_excp_from;
	u64 last_excp_to;
};

struct vmcb {
	struct vmcb_control control;
	struct vmcb_save save;
	u8 reserved[4096 - 0x400 - sizeof(struct vmcb_save)];
};

_Static_assert(sizeof(struct vmcb_control) == 0x400, "VMCB control area size");
_Static_assert(__builtin_offsetof(struct vmcb, save.efer) == 0x4d0, "VMCB EFER offset");
_Static_assert(__builtin_offsetof(struct vmcb, save.rip) == 0x578, "VMCB RIP offset");
_Static_assert(__builtin_offsetof(struct vmcb, save.rax) == 0x5f8, "VMCB RAX offset");
_Static_assert(__builtin_offsetof(struct vmcb, save.g_pat) == 0x668, "VMCB G_PAT offset");
_Static_assert(sizeof(struct vmcb) == 4096, "VMCB size");

/* intercept_cr: writes in bits 16-31 */
#define SVM_INTERCEPT_CR_READ(n) BIT(n)
#define SVM_INTERCEPT_CR_WRITE(n) BIT(16 + (n))
#define SVM_INTERCEPT_CR4_WRITE SVM_INTERCEPT_CR_WRITE(4)

/* intercept_misc1 */
#define SVM_INTERCEPT_INTR BIT(0)
#define SVM_INTERCEPT_NMI BIT(1)
#define SVM_INTERCEPT_SMI BIT(2)
#define SVM_INTERCEPT_INIT BIT(3)
#define SVM_INTERCEPT_CPUID BIT(18)
#define SVM_INTERCEPT_INVD BIT(22)
#define SVM_INTERCEPT_HLT BIT(24)
#define SVM_INTERCEPT_INVLPGA BIT(26)
#define SVM_INTERCEPT_IOIO BIT(27)
#define SVM_INTERCEPT_MSR BIT(28)
#define SVM_INTERCEPT_TASK_SWITCH BIT(29)
#define SVM_INTERCEPT_SHUTDOWN BIT(31)
/* intercept_misc2 */
#define SVM_INTERCEPT_VMRUN BIT(0)
#define SVM_INTERCEPT_VMMCALL BIT(1)
#define SVM_INTERCEPT_VMLOAD BIT(2)
#define SVM_INTERCEPT_VMSAVE BIT(3)
#define SVM_INTERCEPT_STGI BIT(4)
#define SVM_INTERCEPT_CLGI BIT(5)
#define SVM_INTERCEPT_SKINIT BIT(6)
#define SVM_INTERCEPT_XSETBV BIT(13)

#define SVM_V_INTR_MASKING BIT(24)

#define SVM_TLB_FLUSH_NOTHING 0
#define SVM_TLB_FLUSH_ALL 1
#define SVM_TLB_FLUSH_ASID 3

/* exit codes */
#define SVM_EXIT_READ_CR0 0x00 /* + n for CRn */
#define SVM_EXIT_WRITE_CR0 0x10 /* + n for CRn */
#define SVM_EXIT_WRITE_CR4 0x14
#define SVM_EXIT_EXCEPTION_BASE 0x40
#define SVM_EXIT_INTR 0x60
#define SVM_EXIT_NMI 0x61
#define SVM_EXIT_SMI 0x62
#define SVM_EXIT_INIT 0x63
#define SVM_EXIT_CPUID 0x72
#define SVM_EXIT_INVD 0x76
#define SVM_EXIT_HLT 0x78
#define SVM_EXIT_INVLPGA 0x7a
#define SVM_EXIT_IOIO 0x7b
#define SVM_EXIT_MSR 0x7c
#define SVM_EXIT_TASK_SWITCH 0x7d
#define SVM_EXIT_SHUTDOWN 0x7f
#define SVM_EXIT_VMRUN 0x80
#define SVM_EXIT_VMMCALL 0x81
#define SVM_EXIT_VMLOAD 0x82
#define SVM_EXIT_VMSAVE 0x83
#define SVM_EXIT_STGI 0x84
#define SVM_EXIT_CLGI 0x85
#define SVM_EXIT_SKINIT 0x86
#define SVM_EXIT_XSETBV 0x8d
#define SVM_EXIT_NPF 0x400
#define SVM_EXIT_INVALID 0xffffffffu

/* EXITINFO2 of SVM_EXIT_TASK_SWITCH (bits 31:0: the error code) */
#define SVM_TASK_SWITCH_IRET BIT(36)
#define SVM_TASK_SWITCH_JMP BIT(38)
#define SVM_TASK_SWITCH_ERROR_VALID BIT(44)
#define SVM_TASK_SWITCH_RF BIT(48)

/* EVENTINJ */
#define SVM_EVENT_VALID BIT(31)
#define SVM_EVENT_ERROR_VALID BIT(11)
#define SVM_EVENT_TYPE_INTR (0 << 8)
#define SVM_EVENT_TYPE_NMI (2 << 8)
#define SVM_EVENT_TYPE_EXCEPTION (3 << 8)
#define SVM_EVENT_TYPE_SOFT (4 << 8)

#endif
