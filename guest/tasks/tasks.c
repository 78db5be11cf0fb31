/*
 * tasks: the hardware task-switch guest. It builds its own GDT with 32-bit
 * TSSs (and one 16-bit TSS, used only with tss16=1), an LDT and task gates,
 * moves TR to its own main TSS and switches tasks every way the CPU can
 * (SDM vol. 3A, 8.3): CALL to a TSS and through a task gate and back with
 * IRET (EFLAGS.NT, back-link), JMP there and back, faults, a fault with an
 * error code, INT n and INT3 through task gates in the IDT, a task with its
 * own CR3 (32-bit paging, then PAE), and the faults the CPU raises for a bad TSS or a bad
 * segment in the new task (#TS, #NP, #GP with their error codes). Each
 * check looks at what both sides saw: registers saved in and loaded from
 * the TSSs, the EIP saved (after the instruction, or at a fault), EFLAGS.NT,
 * the busy bits, the back-link, CR0.TS, TR, LDTR, segment bases from the
 * GDT and the LDT, CR3.
 *
 * Under a hypervisor that intercepts task switches (Tide, with shadow page
 * tables or EPT/NPT) every switch here is emulated; on bare hardware (QEMU)
 * it is the reference.
 *
 * Output: "tasks: <check>: ok" or "tasks: <check>: FAILED (<first error>;
 * N errors)", then "tasks: N checks, M failed". Exit 0 iff M == 0.
 */
#include "guest/lib/cmdline.h"
#include "guest/lib/cpu.h"
#include "guest/lib/desc.h"
#include "guest/lib/exit.h"
#include "guest/lib/guest.h"
#include "guest/lib/printf.h"
#include "guest/lib/string.h"
#include "guest/lib/trap.h"

const char guest_name[] = "tasks";

/* GDT selectors (keep in step with tasks_asm.asm) */
#define SEL_KCODE 0x08
#define SEL_KDATA 0x10
#define SEL_LIB_TSS 0x28 /* the library's TSS: busy, unused once TR moves */
#define SEL_MAIN 0x30
#define SEL_A 0x38 /* called, returns with IRET; has an LDT */
#define SEL_B 0x40 /* jumped to, jumps back */
#define SEL_C 0x48 /* task gate of #DE, INT 0x40, #BP */
#define SEL_D 0x50 /* its own CR3 */
#define SEL_E 0x58 /* task gate of #GP (error code) */
#define SEL_GATE_A 0x60 /* task gate in the GDT to A */
#define SEL_LDT 0x68 /* A's LDT */
#define SEL_DATA_GDT 0x70 /* data segment based at gdt_area */
#define SEL_BAD_LIMIT 0x78 /* 32-bit TSS with limit 0x66 */
#define SEL_NOT_PRESENT 0x80 /* 32-bit TSS, P=0 */
#define SEL_F 0x88 /* its DS is beyond the GDT: #TS once in F */
#define SEL_G 0x90 /* task gate of #TS */
#define SEL_TSS16 0x98 /* 16-bit TSS */
#define GDT_ENTRIES 20
#define SEL_DATA_LDT 0x04 /* LDT entry 0 */
#define SEL_BEYOND_GDT 0x1238 /* beyond the GDT limit: #GP(0x1238) */
#define SEL_BAD_DS 0x1ff8

#define VEC_BP 3
#define VEC_TS 10
#define VEC_NP 11
#define VEC_INT 0x40

#define EFLAGS_FIXED 0x2u
#define EFLAGS_NT (1u << 14)
#define EFLAGS_RF (1u << 16)
#define CR0_TS (1u << 3)
#define CR0_PG (1u << 31)
#define CR4_PSE (1u << 4)
#define CR4_PAE (1u << 5)

#define PTE_P (1u << 0)
#define PTE_RW (1u << 1)
#define PTE_PS (1u << 7)
#define WINDOW 0x40000000u /* mapped to frame_x in pd0, frame_y in pd1 */
#define TAG_X 0x7a65780u
#define TAG_Y 0x7a65790u
#define TAG_D 0xd0d0d0d0u
#define TAG_LDT 0x1d71d700u
#define TAG_GDT 0x6d76d700u
#define BOGUS_CR3 0x00abc000u /* never loaded: paging is off */
#define TASK16_IP 0x7000u

struct tss16 {
	u16 link, sp0, ss0, sp1, ss1, sp2, ss2, ip, flags;
	u16 ax, cx, dx, bx, sp, bp, si, di;
	u16 es, cs, ss, ds, ldt;
} __packed;

_Static_assert(sizeof(struct tss32) == 104, "32-bit TSS size");
_Static_assert(sizeof(struct tss16) == 44, "16-bit TSS size");

/* The TSS register order, then EFLAGS: what tasks_asm.asm reads and writes. */
struct gpregs {
	u32 eax, ecx, edx, ebx, esp, ebp, esi, edi, eflags;
};

/* What a task saw when it ran. */
struct seen {
	u32 runs, eflags, cr0, cr3, tr, ldtr, link, busy_main, busy_self;
	u32 fs0, gs0, main_eip, error, esp, window;
	struct gpregs resumed; /* its registers where it resumed (A, B) */
};

#define TSS_ALIGN __aligned(128) /* the part read in a switch is in one page */
#define STACK_SIZE 4096

static struct tss32 tss_main TSS_ALIGN, tss_a TSS_ALIGN, tss_b TSS_ALIGN, tss_c TSS_ALIGN,
	tss_d TSS_ALIGN, tss_e TSS_ALIGN, tss_f TSS_ALIGN, tss_g TSS_ALIGN, tss_bad TSS_ALIGN;
static struct tss16 tss16 TSS_ALIGN;
static u8 stacks[8][STACK_SIZE] __aligned(16);
static u64 gdt[GDT_ENTRIES] __aligned(8);
static u64 ldt[1] __aligned(8);
static u32 ldt_area[4], gdt_area[4];
static u32 pd0[1024] __aligned(4096), pd1[1024] __aligned(4096);
static u32 pt0[1024] __aligned(4096), pt1[1024] __aligned(4096);
static u32 frame_x[1024] __aligned(4096), frame_y[1024] __aligned(4096);
static u64 pdpt0[4] __aligned(32), pdpt1[4] __aligned(32);
static u64 pd_ident[512] __aligned(4096);
static u64 pd_win0[512] __aligned(4096), pd_win1[512] __aligned(4096);
static u64 pt_win0[512] __aligned(4096), pt_win1[512] __aligned(4096);

/* shared with tasks_asm.asm */
struct gpregs regs_in, regs_out, resume_regs;
struct __packed {
	u32 offset;
	u16 selector;
} far_ptr;
u32 task_e_error, task_e_esp, task_g_error;

static volatile struct seen seen_a, seen_b, seen_c, seen_d, seen_e, seen_g;
static volatile u32 c_fix_eip, e_fix_eip; /* where the gate task resumes main */

extern char ts_call_direct_next[], ts_call_mem_next[], ts_call_gate_next[];
extern char ts_jmp_direct_next[], ts_jmp_mem_next[], ts_call_f_next[], ts_call_tss16_next[];
extern char ts_div0_insn[], ts_div0_next[], ts_load_ds_insn[], ts_load_ds_next[];
extern char ts_int40_next[], ts_int3_next[];
extern char task_a_entry[], task_a_next[], task_b_entry[], task_b_next[];
extern char task_c_entry[], task_d_entry[], task_e_entry[], task_f_recover[], task_g_entry[];
extern char task16_code[], task16_code_end[];
void ts_call_direct(void), ts_call_mem(void), ts_call_gate(void), ts_jmp_direct(void);
void ts_jmp_mem(void), ts_div0(void), ts_load_ds(void), ts_int40(void), ts_int3(void);
void ts_call_f(void), ts_call_tss16(void), ts_iret_bad_link(void);
void task_a_record(void), task_b_record(void), task_c_record(void), task_d_record(void);
void task_e_record(void), task_g_record(void);

/* --- checks and their report --- */

static unsigned int checks, failed, errors;
static char first_error[200];

static void expect_eq(const char *what, u32 got, u32 want)
{
	if (got == want)
		return;
	if (!errors++)
		snprintf(first_error, sizeof(first_error), "%s is 0x%x, not 0x%x", what, got, want);
}

static void end_check(const char *name)
{
	checks++;
	if (errors) {
		failed++;
		printf("tasks: %s: FAILED (%s; %u errors)\n", name, first_error, errors);
	} else {
		printf("tasks: %s: ok\n", name);
	}
	errors = 0;
}

/* --- descriptors and CPU state --- */

static u64 seg_desc(u32 base, u32 limit, u32 access, u32 flags)
{
	return (limit & 0xffff) | ((u64)(base & 0xffffff) << 16) | ((u64)access << 40) |
	       ((u64)((limit >> 16) & 0xf) << 48) | ((u64)flags << 52) | ((u64)(base >> 24) << 56);
}

static u64 task_gate(u16 tss_sel, u32 dpl)
{
	return ((u64)tss_sel << 16) | ((u64)(0x85 | dpl << 5) << 40);
}

static bool busy(u16 sel)
{
	return (gdt[sel / 8] >> 41) & 1; /* type 1011b: busy TSS */
}

static u32 read_eflags(void)
{
	u32 v;

	asm volatile("pushfl; popl %0" : "=r"(v));
	return v;
}

static u32 read_tr(void)
{
	u16 v;

	asm volatile("str %0" : "=r"(v));
	return v;
}

static u32 read_ldtr(void)
{
	u16 v;

	asm volatile("sldt %0" : "=r"(v));
	return v;
}

static void clts(void)
{
	asm volatile("clts");
}

static u64 *idt_entry(int vector)
{
	struct __packed {
		u16 limit;
		u32 base;
	} idtr;

	asm volatile("sidt %0" : "=m"(idtr));
	return (u64 *)idtr.base + vector;
}

static void init_tss(struct tss32 *t, char *eip, int stack, u32 cr3)
{
	memset(t, 0, sizeof(*t));
	t->eip = (u32)eip;
	t->eflags = EFLAGS_FIXED;
	t->esp = (u32)(stacks[stack] + STACK_SIZE);
	t->cs = SEL_KCODE;
	t->ss = t->ds = t->es = t->fs = t->gs = SEL_KDATA;
	t->ss0 = SEL_KDATA;
	t->esp0 = t->esp;
	t->cr3 = cr3;
	t->iomap_base = sizeof(*t); /* no I/O bitmap */
}

static u64 tss_desc(const void *tss, u32 limit)
{
	return seg_desc((u32)tss, limit, 0x89 /* P, 32-bit available TSS */, 0);
}

static void setup(void)
{
	struct __packed {
		u16 limit;
		u32 base;
	} gdtr;
	u32 cr3 = read_cr3();

	/* the library's descriptors stay where they are: 0x08-0x28 */
	asm volatile("sgdt %0" : "=m"(gdtr));
	memcpy(gdt, (void *)gdtr.base, 6 * 8);

	init_tss(&tss_main, NULL, 0, cr3);
	init_tss(&tss_a, task_a_entry, 1, BOGUS_CR3);
	tss_a.ldt = SEL_LDT;
	tss_a.fs = SEL_DATA_LDT;
	tss_a.gs = SEL_DATA_GDT;
	init_tss(&tss_b, task_b_entry, 2, cr3);
	tss_b.link = 0xbeef; /* a JMP must leave it alone */
	init_tss(&tss_c, task_c_entry, 3, cr3);
	init_tss(&tss_d, task_d_entry, 4, cr3); /* its page tables: check_cr3 */
	init_tss(&tss_e, task_e_entry, 5, cr3);
	init_tss(&tss_f, NULL, 6, cr3);
	tss_f.ds = SEL_BAD_DS;
	init_tss(&tss_g, task_g_entry, 7, cr3);
	init_tss(&tss_bad, NULL, 0, cr3);

	gdt[SEL_MAIN / 8] = tss_desc(&tss_main, sizeof(struct tss32) - 1);
	gdt[SEL_A / 8] = tss_desc(&tss_a, sizeof(struct tss32) - 1);
	gdt[SEL_B / 8] = tss_desc(&tss_b, sizeof(struct tss32) - 1);
	gdt[SEL_C / 8] = tss_desc(&tss_c, sizeof(struct tss32) - 1);
	gdt[SEL_D / 8] = tss_desc(&tss_d, sizeof(struct tss32) - 1);
	gdt[SEL_E / 8] = tss_desc(&tss_e, sizeof(struct tss32) - 1);
	gdt[SEL_GATE_A / 8] = task_gate(SEL_A, 0);
	gdt[SEL_LDT / 8] = seg_desc((u32)ldt, sizeof(ldt) - 1, 0x82 /* P, LDT */, 0);
	gdt[SEL_DATA_GDT / 8] = seg_desc((u32)gdt_area, 0xfff, 0x92, 0x4 /* D/B */);
	gdt[SEL_BAD_LIMIT / 8] = tss_desc(&tss_bad, 0x66);
	gdt[SEL_NOT_PRESENT / 8] = tss_desc(&tss_bad, sizeof(struct tss32) - 1) & ~(1ull << 47);
	gdt[SEL_F / 8] = tss_desc(&tss_f, sizeof(struct tss32) - 1);
	gdt[SEL_G / 8] = tss_desc(&tss_g, sizeof(struct tss32) - 1);
	gdt[SEL_TSS16 / 8] = seg_desc((u32)&tss16, sizeof(tss16) - 1, 0x81 /* 16-bit TSS */, 0);
	ldt[0] = seg_desc((u32)ldt_area, 0xfff, 0x92, 0x4);
	ldt_area[0] = TAG_LDT;
	gdt_area[0] = TAG_GDT;

	gdtr.limit = sizeof(gdt) - 1;
	gdtr.base = (u32)gdt;
	asm volatile("lgdt %0\n\t"
		     "ltr %w1"
		     :
		     : "m"(gdtr), "r"(SEL_MAIN)
		     : "memory");
}

/* The main task's registers before a switch; ECX is the divisor of ts_div0. */
static void set_pattern(u32 base)
{
	regs_in = (struct gpregs){
		.eax = base, .ecx = base + 0x11, .edx = base + 0x22, .ebx = base + 0x33,
		.ebp = base + 0x55, .esi = base + 0x66, .edi = base + 0x77,
		.eflags = EFLAGS_FIXED | 0x8c1, /* CF ZF SF OF */
	};
	memset(&regs_out, 0, sizeof(regs_out));
	clts();
}

/* The main task came back with its registers, and its TSS holds them. */
static void expect_main_restored(u32 saved_eip)
{
	expect_eq("main eax", regs_out.eax, regs_in.eax);
	expect_eq("main ecx", regs_out.ecx, regs_in.ecx);
	expect_eq("main edx", regs_out.edx, regs_in.edx);
	expect_eq("main ebx", regs_out.ebx, regs_in.ebx);
	expect_eq("main ebp", regs_out.ebp, regs_in.ebp);
	expect_eq("main esi", regs_out.esi, regs_in.esi);
	expect_eq("main edi", regs_out.edi, regs_in.edi);
	expect_eq("main eflags", regs_out.eflags, regs_in.eflags);
	expect_eq("main esp saved", tss_main.esp, regs_out.esp);
	expect_eq("main eax saved", tss_main.eax, regs_in.eax);
	expect_eq("main edi saved", tss_main.edi, regs_in.edi);
	/* RF may be set in the image of a fault's task (SDM 17.3.1.1) */
	expect_eq("main eflags saved", tss_main.eflags & ~EFLAGS_RF, regs_in.eflags);
	expect_eq("main eip saved", tss_main.eip, saved_eip);
	expect_eq("main cs saved", tss_main.cs, SEL_KCODE);
	expect_eq("main ss saved", tss_main.ss, SEL_KDATA);
	expect_eq("main ds saved", tss_main.ds, SEL_KDATA);
	expect_eq("TR", read_tr(), SEL_MAIN);
	expect_eq("main busy", busy(SEL_MAIN), 1);
	expect_eq("CR0.TS", !!(read_cr0() & CR0_TS), 1);
}

static void record_common(volatile struct seen *s, const struct tss32 *self, u16 sel)
{
	s->runs++;
	s->eflags = read_eflags();
	s->cr0 = read_cr0();
	s->cr3 = read_cr3();
	s->tr = read_tr();
	s->ldtr = read_ldtr();
	s->link = self->link;
	s->busy_main = busy(SEL_MAIN);
	s->busy_self = busy(sel);
	s->main_eip = tss_main.eip;
	s->resumed = resume_regs;
}

void task_a_record(void)
{
	u32 fs0, gs0;

	asm volatile("movl %%fs:0, %0; movl %%gs:0, %1" : "=r"(fs0), "=r"(gs0));
	seen_a.fs0 = fs0;
	seen_a.gs0 = gs0;
	record_common(&seen_a, &tss_a, SEL_A);
}

void task_b_record(void)
{
	record_common(&seen_b, &tss_b, SEL_B);
}

void task_c_record(void)
{
	record_common(&seen_c, &tss_c, SEL_C);
	if (c_fix_eip)
		tss_main.eip = c_fix_eip;
}

void task_d_record(void)
{
	volatile u32 *win = (volatile u32 *)WINDOW;

	record_common(&seen_d, &tss_d, SEL_D);
	seen_d.window = *win;
	*win = TAG_D;
}

void task_e_record(void)
{
	record_common(&seen_e, &tss_e, SEL_E);
	seen_e.error = task_e_error;
	seen_e.esp = task_e_esp;
	tss_main.eip = e_fix_eip;
}

void task_g_record(void)
{
	record_common(&seen_g, &tss_g, SEL_G);
	seen_g.error = task_g_error;
	/* F never ran: send it to its IRET, with segments that load */
	tss_f.eip = (u32)task_f_recover;
	tss_f.esp = (u32)(stacks[6] + STACK_SIZE);
	tss_f.cs = SEL_KCODE;
	tss_f.ss = tss_f.ds = tss_f.es = tss_f.fs = tss_f.gs = SEL_KDATA;
}

static void expect_task_resumed(volatile struct seen *s, u32 pattern, int stack)
{
	expect_eq("task eax on resume", s->resumed.eax, pattern);
	expect_eq("task ecx on resume", s->resumed.ecx, pattern + 0x11);
	expect_eq("task edx on resume", s->resumed.edx, pattern + 0x22);
	expect_eq("task ebx on resume", s->resumed.ebx, pattern + 0x33);
	expect_eq("task esp on resume", s->resumed.esp, (u32)(stacks[stack] + STACK_SIZE));
	expect_eq("task ebp on resume", s->resumed.ebp, pattern + 0x55);
	expect_eq("task esi on resume", s->resumed.esi, pattern + 0x66);
	expect_eq("task edi on resume", s->resumed.edi, pattern + 0x77);
}

/* --- the checks --- */

/* A nested task: CALL, then IRET back through the back-link (NT). */
static void check_call(const char *name, void (*sw)(void), char *next, u32 cr3)
{
	u32 runs = seen_a.runs;

	set_pattern(0x10000000 + runs * 0x1000);
	sw();
	expect_main_restored((u32)next);
	expect_eq("A runs", seen_a.runs, runs + 1);
	expect_eq("A's NT", !!(seen_a.eflags & EFLAGS_NT), 1);
	expect_eq("A's back-link", seen_a.link, SEL_MAIN);
	expect_eq("A's TR", seen_a.tr, SEL_A);
	expect_eq("A's LDTR", seen_a.ldtr, SEL_LDT);
	expect_eq("A's busy bit in A", seen_a.busy_self, 1);
	expect_eq("main's busy bit in A", seen_a.busy_main, 1);
	expect_eq("A's CR0.TS", !!(seen_a.cr0 & CR0_TS), 1);
	expect_eq("A's CR3 (paging off: not loaded)", seen_a.cr3, cr3);
	expect_eq("A's FS:0 (LDT segment)", seen_a.fs0, TAG_LDT);
	expect_eq("A's GS:0 (GDT segment)", seen_a.gs0, TAG_GDT);
	expect_eq("A's saved EIP", tss_a.eip, (u32)task_a_next);
	expect_eq("A's saved NT (IRET clears it)", !!(tss_a.eflags & EFLAGS_NT), 0);
	expect_eq("A's saved eax", tss_a.eax, 0xa0a0a000);
	expect_eq("A's saved edi", tss_a.edi, 0xa0a0a077);
	expect_eq("A's saved fs", tss_a.fs, SEL_DATA_LDT);
	expect_eq("A's saved gs", tss_a.gs, SEL_DATA_GDT);
	expect_eq("A's saved esp", tss_a.esp, (u32)(stacks[1] + STACK_SIZE));
	expect_eq("A's busy bit after IRET", busy(SEL_A), 0);
	expect_eq("main's back-link", tss_main.link, 0);
	expect_eq("main's LDTR", read_ldtr(), 0);
	expect_eq("A's CR3 field (static)", tss_a.cr3, BOGUS_CR3);
	if (runs)
		expect_task_resumed(&seen_a, 0xa0a0a000, 1);
	end_check(name);
}

/* A task that is not nested: JMP there, JMP back. */
static void check_jmp(const char *name, void (*sw)(void), char *next)
{
	u32 runs = seen_b.runs;

	set_pattern(0x20000000 + runs * 0x1000);
	far_ptr.selector = SEL_B;
	sw();
	expect_main_restored((u32)next);
	expect_eq("B runs", seen_b.runs, runs + 1);
	expect_eq("B's NT", !!(seen_b.eflags & EFLAGS_NT), 0);
	expect_eq("B's back-link (JMP leaves it)", seen_b.link, 0xbeef);
	expect_eq("B's TR", seen_b.tr, SEL_B);
	expect_eq("B's busy bit in B", seen_b.busy_self, 1);
	expect_eq("main's busy bit in B (JMP clears it)", seen_b.busy_main, 0);
	expect_eq("B's CR0.TS", !!(seen_b.cr0 & CR0_TS), 1);
	expect_eq("B's saved EIP", tss_b.eip, (u32)task_b_next);
	expect_eq("B's saved eax", tss_b.eax, 0xb0b0b000);
	expect_eq("B's busy bit after JMP back", busy(SEL_B), 0);
	if (runs)
		expect_task_resumed(&seen_b, 0xb0b0b000, 2);
	end_check(name);
}

/* An event through a task gate in the IDT: a nested task, like CALL. */
static void check_gate(const char *name, int vector, void (*sw)(void), u32 main_eip, char *next,
		       volatile struct seen *s, u16 sel, volatile u32 *fix_eip)
{
	u64 *idt = idt_entry(vector);
	u64 old = *idt;
	u32 runs = s->runs;

	*idt = task_gate(sel, 0);
	*fix_eip = (u32)next;
	set_pattern(0x30000000 + vector * 0x10000 + runs * 0x100);
	if (vector == 0)
		regs_in.ecx = 0; /* the divisor */
	if (vector == VEC_GP)
		regs_in.eax = SEL_BEYOND_GDT;
	sw();
	*idt = old;
	*fix_eip = 0;
	expect_main_restored((u32)next);
	expect_eq("gate task runs", s->runs, runs + 1);
	expect_eq("main EIP the gate task saw", s->main_eip, main_eip);
	expect_eq("gate task's NT", !!(s->eflags & EFLAGS_NT), 1);
	expect_eq("gate task's back-link", s->link, SEL_MAIN);
	expect_eq("gate task's TR", s->tr, sel);
	expect_eq("gate task's busy bit", s->busy_self, 1);
	expect_eq("main's busy bit in the gate task", s->busy_main, 1);
	expect_eq("gate task's CR0.TS", !!(s->cr0 & CR0_TS), 1);
	expect_eq("gate task's busy bit after IRET", busy(sel), 0);
	if (vector == VEC_GP) {
		expect_eq("#GP error code on the task's stack", s->error, SEL_BEYOND_GDT);
		expect_eq("gate task's ESP after popping it", s->esp,
			  (u32)(stacks[5] + STACK_SIZE));
	}
	end_check(name);
}

/* 32-bit paging with 4 MiB pages; pd0 and pd1 map WINDOW to frame_x and frame_y. */
static void paging_32(void)
{
	for (u32 i = 0; i < 16; i++)
		pd0[i] = pd1[i] = (i << 22) | PTE_P | PTE_RW | PTE_PS;
	pd0[WINDOW >> 22] = (u32)pt0 | PTE_P | PTE_RW;
	pd1[WINDOW >> 22] = (u32)pt1 | PTE_P | PTE_RW;
	pt0[0] = (u32)frame_x | PTE_P | PTE_RW;
	pt1[0] = (u32)frame_y | PTE_P | PTE_RW;
	write_cr4(read_cr4() | CR4_PSE);
	write_cr3((u32)pd0);
	write_cr0(read_cr0() | CR0_PG);
	tss_main.cr3 = (u32)pd0; /* loaded again on the way back */
	tss_d.cr3 = (u32)pd1;
}

/* PAE paging with 2 MiB pages; pdpt0 and pdpt1 map WINDOW to frame_x and frame_y. */
static void paging_pae(void)
{
	for (u32 i = 0; i < 32; i++)
		pd_ident[i] = ((u64)i << 21) | PTE_P | PTE_RW | PTE_PS;
	pd_win0[0] = (u32)pt_win0 | PTE_P | PTE_RW;
	pd_win1[0] = (u32)pt_win1 | PTE_P | PTE_RW;
	pt_win0[0] = (u32)frame_x | PTE_P | PTE_RW;
	pt_win1[0] = (u32)frame_y | PTE_P | PTE_RW;
	pdpt0[0] = pdpt1[0] = (u32)pd_ident | PTE_P; /* R/W is reserved in a PDPTE */
	pdpt0[WINDOW >> 30] = (u32)pd_win0 | PTE_P;
	pdpt1[WINDOW >> 30] = (u32)pd_win1 | PTE_P;
	write_cr0(read_cr0() & ~CR0_PG);
	write_cr4(read_cr4() | CR4_PAE);
	write_cr3((u32)pdpt0);
	write_cr0(read_cr0() | CR0_PG);
	tss_main.cr3 = (u32)pdpt0;
	tss_d.cr3 = (u32)pdpt1;
}

/* A task with its own page tables: CR3 comes from its TSS (and main's back). */
static void check_cr3(const char *name, void (*paging)(void))
{
	volatile u32 *win = (volatile u32 *)WINDOW;
	u32 runs = seen_d.runs;

	frame_x[0] = TAG_X;
	frame_y[0] = TAG_Y;
	paging();
	expect_eq("window before", *win, TAG_X);
	set_pattern(0x40000000);
	far_ptr.selector = SEL_D;
	ts_call_mem();
	expect_main_restored((u32)ts_call_mem_next);
	expect_eq("D runs", seen_d.runs, runs + 1);
	expect_eq("D's CR3", seen_d.cr3, tss_d.cr3);
	expect_eq("D's window", seen_d.window, TAG_Y);
	expect_eq("D's NT", !!(seen_d.eflags & EFLAGS_NT), 1);
	expect_eq("main's CR3 after IRET", read_cr3(), tss_main.cr3);
	expect_eq("window after", *win, TAG_X);
	expect_eq("frame D wrote", frame_y[0], TAG_D);
	expect_eq("frame D did not write", frame_x[0], TAG_X);
	expect_eq("D's CR3 field (static)", tss_d.cr3,
		  paging == paging_32 ? (u32)pd1 : (u32)pdpt1);
	expect_eq("D's busy bit after IRET", busy(SEL_D), 0);
	expect_eq("CR0.TS", !!(read_cr0() & CR0_TS), 1);
	end_check(name);
}

static void expect_fault(const char *name, int vector, u32 error, int want_vector, u32 want_error)
{
	expect_eq("vector", (u32)vector, (u32)want_vector);
	expect_eq("error code", error, want_error);
	expect_eq("TR", read_tr(), SEL_MAIN);
	expect_eq("main busy", busy(SEL_MAIN), 1);
	end_check(name);
}

/* Faults the CPU raises before anything changes (in the old task). */
static void check_faults(void)
{
	int vec;

	vec = TRY("lcall $0x78, $0", : : : "memory");
	expect_fault("fault-limit", vec, trap_last.error_code, VEC_TS, SEL_BAD_LIMIT);
	vec = TRY("lcall $0x80, $0", : : : "memory");
	expect_fault("fault-not-present", vec, trap_last.error_code, VEC_NP, SEL_NOT_PRESENT);
	vec = TRY("lcall $0x30, $0", : : : "memory");
	expect_fault("fault-busy", vec, trap_last.error_code, VEC_GP, SEL_MAIN);

	tss_main.link = SEL_B; /* available, not busy */
	trap_last.vector = TRAP_NONE;
	ts_iret_bad_link();
	tss_main.link = 0;
	expect_eq("NT after", !!(read_eflags() & EFLAGS_NT), 0);
	expect_fault("fault-iret-link", trap_last.vector, trap_last.error_code, VEC_TS, SEL_B);
}

/*
 * A fault after the switch is committed (a DS beyond the GDT in F's TSS):
 * #TS in F's context, delivered through a task gate to G, which sees F as
 * its back-link, repairs F's TSS and returns to it; F returns to main.
 */
static void check_fault_in_new_task(void)
{
	u64 *idt = idt_entry(VEC_TS);
	u64 old = *idt;
	u32 runs = seen_g.runs;

	*idt = task_gate(SEL_G, 0);
	set_pattern(0x50000000);
	ts_call_f();
	*idt = old;
	expect_main_restored((u32)ts_call_f_next);
	expect_eq("G runs", seen_g.runs, runs + 1);
	expect_eq("#TS error code", seen_g.error, SEL_BAD_DS);
	expect_eq("G's back-link", seen_g.link, SEL_F);
	expect_eq("main's busy bit in G", seen_g.busy_main, 1);
	expect_eq("F's back-link", tss_f.link, SEL_MAIN);
	expect_eq("F's busy bit after", busy(SEL_F), 0);
	expect_eq("G's busy bit after", busy(SEL_G), 0);
	end_check("fault-in-new-task");
}

/* A 16-bit TSS: the task is an IRET at a low address. */
static void check_tss16(void)
{
	memcpy((void *)TASK16_IP, task16_code, task16_code_end - task16_code);
	memset(&tss16, 0, sizeof(tss16));
	tss16.ip = TASK16_IP;
	tss16.flags = EFLAGS_FIXED;
	tss16.sp = TASK16_IP + 0xff0;
	tss16.cs = SEL_KCODE;
	tss16.ss = tss16.ds = tss16.es = SEL_KDATA;
	set_pattern(0x60000000);
	ts_call_tss16();
	expect_main_restored((u32)ts_call_tss16_next);
	expect_eq("16-bit TSS back-link", tss16.link, SEL_MAIN);
	expect_eq("16-bit TSS busy after", busy(SEL_TSS16), 0);
	end_check("tss16");
}

int guest_main(u32 magic __unused, u32 mbi __unused)
{
	static const char *const known[] = { "tss16", NULL };
	u64 tss16_opt = 0;
	u32 cr3;

	if (cmdline_check(known) || cmdline_u64("tss16", &tss16_opt) < 0 || tss16_opt > 1) {
		printf("tasks: usage: [tss16=0|1]\n");
		return EXIT_USAGE;
	}
	setup();
	cr3 = read_cr3();
	printf("tasks: 32-bit TSSs, TR 0x%x\n", read_tr());

	far_ptr.selector = SEL_A;
	check_call("call", ts_call_direct, ts_call_direct_next, cr3);
	check_call("call-again", ts_call_mem, ts_call_mem_next, cr3);
	check_call("call-task-gate", ts_call_gate, ts_call_gate_next, cr3);
	check_jmp("jmp", ts_jmp_direct, ts_jmp_direct_next);
	check_jmp("jmp-again", ts_jmp_mem, ts_jmp_mem_next);
	check_gate("gate-de", 0, ts_div0, (u32)ts_div0_insn, ts_div0_next, &seen_c, SEL_C,
		   &c_fix_eip);
	check_gate("gate-gp-error-code", VEC_GP, ts_load_ds, (u32)ts_load_ds_insn, ts_load_ds_next,
		   &seen_e, SEL_E, &e_fix_eip);
	check_gate("gate-int", VEC_INT, ts_int40, (u32)ts_int40_next, ts_int40_next, &seen_c,
		   SEL_C, &c_fix_eip);
	check_gate("gate-int3", VEC_BP, ts_int3, (u32)ts_int3_next, ts_int3_next, &seen_c, SEL_C,
		   &c_fix_eip);
	check_faults();
	check_fault_in_new_task();
	check_cr3("cr3", paging_32);
	check_cr3("cr3-pae", paging_pae);
	if (tss16_opt)
		check_tss16();

	printf("tasks: %u checks, %u failed\n", checks, failed);
	return failed ? EXIT_FAIL : EXIT_OK;
}
