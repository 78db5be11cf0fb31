/*
 * lmpaging: the long-mode paging guest. It starts like every test guest
 * (Multiboot, 32-bit protected mode, paging off), builds 4-level tables,
 * turns on PAE, EFER.LME (and NXE) and CR0.PG (with WP), checks that
 * EFER.LMA reads back as 1, and then checks 4-level paging as the SDM
 * (vol. 3A, ch. 4) describes it: the reference for Tide's shadow MMU with a
 * long-mode guest, on bare QEMU and under Tide with nested or shadow paging.
 *
 * How the two modes share the work (see lm64.asm): this file is the
 * ordinary 32-bit build of the library and keeps running in compatibility
 * mode once long mode is on (CS = the library's 32-bit code segment), which
 * is enough for printf, exit and the page tables below 4 GiB. Every access
 * a check measures is made in 64-bit mode: lm() far-calls lm_op through a
 * 64-bit code segment (its own GDT, a copy of the library's plus that
 * descriptor at SEL_CODE64) to load, store or call at a 64-bit address, do
 * INVLPG or load CR3; the page-table writes of the checks are 64-bit stores
 * made the same way. The IDT is 64-bit (16-byte gates to lm64.asm): a fault
 * inside lm_op is recorded (vector, error code, CR2, RIP) and ends the
 * operation; any other exception is printed and exits 2.
 *
 * Layout: a pool of RAM at 4-8 MiB (identity mapped, so table and frame
 * addresses are pointers). PML4[0] identity-maps 0-1 GiB: 2 MiB pages, the
 * first 2 MiB (the image) with 4 KiB pages. Two test regions, "lo" at
 * 0x0000008000000000 (PML4[1], above 4 GiB) and "hi" at 0xffff800000000000
 * (PML4[256], the high half), each with its own PDPT, PD and PT:
 *   base + 0       4 KiB pages: page j (< NDATA) -> data frame j, page
 *                  CODE_PAGE -> the code frame (MOV EAX, imm32; RET);
 *   base + 2 MiB   a 2 MiB page onto 4-6 MiB (the pool's tables and frames);
 *   base + 1 GiB   a 1 GiB page onto 0-1 GiB, if CPUID 0x80000001 EDX[26].
 * So a data frame is seen through all three page sizes and the identity
 * map. A second PML4 (for the CR3 switch) maps the same addresses to other
 * frames: its PT reverses the data frames, its 2 MiB page is 6-8 MiB and
 * its 1 GiB page is not present. Every 8-byte word of a data frame (and of
 * its 6-8 MiB twin) holds WORD(its physical address), so a read names the
 * frame it reached.
 *
 * Checks, per region (one line each: "lmpaging: <region>/<check>: ok",
 * "... skipped (<why>)" or "... FAILED (<first error>; N errors)"):
 *   rw-4k, rw-2m, rw-1g      reads and writes through each page size;
 *   alias                    one frame written and read through 4 KiB,
 *                            2 MiB, 1 GiB pages and the identity map;
 *   np-<level>               P=0 at the PML4E, PDPTE, PDE or PTE of every
 *                            page size whose walk reaches it: read, write,
 *                            fetch #PF with error 0, 2, 0x10 and CR2;
 *   nx-<level>               NX there (EFER.NXE=1): fetch #PF 0x11 (CR2 and
 *                            RIP = the target), reads still work;
 *   ro-<level>               R/W=0 there: with CR0.WP=1 a supervisor write
 *                            #PF 0x3 and nothing written, with WP=0 the
 *                            write lands;
 *   rsvd-<level>             bit MAXPHYADDR set there: #PF P|RSVD (0x9,
 *                            0xb for a write);
 *   rsvd-pml4e-ps, rsvd-pdpte-ps (without 1 GiB pages), rsvd-large (bits
 *                            13 and 20/29 of a 2 MiB/1 GiB page),
 *                            rsvd-nx-nxe0 (NX with EFER.NXE=0): #PF 0x9;
 *   ad-4k, ad-2m, ad-1g      after clearing A and D on the walk: a read sets
 *                            A at every level and leaves the leaf's D clear,
 *                            a write sets the leaf's D;
 *   cr3-switch               two PML4s, same addresses, different frames;
 *   invlpg, cr3-reload       a PTE, a PDE (-> another PT), a 2 MiB and a
 *                            1 GiB leaf changed, flushed by INVLPG or by a
 *                            CR3 reload: the new mapping is seen.
 * Before them "long-mode": LMA reads 1 and lm_op really runs 64-bit code.
 * Then "lmpaging: N checks, M failed"; exit 0 iff M == 0, 1 otherwise, 3
 * without long mode or RAM at 4-8 MiB. Ring 3 is not tested.
 *
 * Option strict=1: a reserved-bit #PF must report P (the SDM's rule); by
 * default one without P (QEMU TCG's habit, as in pgtorture) is counted in a
 * note line and passes.
 */
#include "guest/lib/cmdline.h"
#include "guest/lib/cpu.h"
#include "guest/lib/desc.h"
#include "guest/lib/exit.h"
#include "guest/lib/guest.h"
#include "guest/lib/multiboot.h"
#include "guest/lib/phys.h"
#include "guest/lib/printf.h"
#include "guest/lib/string.h"
#include "guest/lib/trap.h"

const char guest_name[] = "lmpaging";

#define PTE_P (1ull << 0)
#define PTE_RW (1ull << 1)
#define PTE_A (1ull << 5)
#define PTE_D (1ull << 6)
#define PTE_PS (1ull << 7)
#define PTE_NX (1ull << 63)
#define PTE_ADDR 0x000ffffffffff000ull

#define PF_P (1u << 0)
#define PF_W (1u << 1)
#define PF_RSVD (1u << 3)
#define PF_I (1u << 4)

#define CR0_WP (1u << 16)
#define CR0_PG (1u << 31)
#define CR4_PAE (1u << 5)
#define MSR_EFER 0xc0000080
#define EFER_LME (1u << 8)
#define EFER_LMA (1u << 10)
#define EFER_NXE (1u << 11)

#define SEL_CODE64 0x30 /* after the library's six descriptors */
#define GDT_ENTRIES 7

#define POOL_BASE (4 * MiB) /* tables and frames; the 2 MiB pages' target */
#define POOL2 (6 * MiB) /* the second PML4's 2 MiB page */
#define POOL_SIZE (4 * MiB)

#define SIZE_2M (2ull << 20)
#define SIZE_1G (1ull << 30)
#define NDATA 8
#define CODE_PAGE NDATA
#define CODE_OFF 0x100
#define CODE_MAGIC 0x600dc0deu
#define WORD(pa) ((0x6c6d7067ull << 32) | (u32)(pa)) /* "lmpg" | address */

/* lm64.asm: struct lm_req and its operations */
enum { OP_READ, OP_WRITE, OP_EXEC, OP_INVLPG, OP_LOAD_CR3, OP_PROBE, OP_CR8 };

struct lm_req {
	u32 op, pad;
	u64 va, val;
	s32 vector;
	u32 error_code;
	u64 cr2, rip;
};

_Static_assert(__builtin_offsetof(struct lm_req, va) == 8, "REQ_VA");
_Static_assert(__builtin_offsetof(struct lm_req, val) == 16, "REQ_VAL");
_Static_assert(__builtin_offsetof(struct lm_req, vector) == 24, "REQ_VECTOR");
_Static_assert(__builtin_offsetof(struct lm_req, error_code) == 28, "REQ_ERR");
_Static_assert(__builtin_offsetof(struct lm_req, cr2) == 32, "REQ_CR2");
_Static_assert(__builtin_offsetof(struct lm_req, rip) == 40, "REQ_RIP");

extern const u32 lm_exc_entries[32];
extern volatile u64 lm_unexpected_info[6];
void lm_unexpected(void) __noreturn;

enum kind { K4K, K2M, K1G, NKINDS };
static const char *const kind_names[] = { "4 KiB", "2 MiB", "1 GiB" };
static const char *const level_names[] = { "PTE", "PDE", "PDPTE", "PML4E" };

struct region {
	const char *name;
	u64 base;
	unsigned int slot; /* PML4 index */
	u64 *pdpt, *pd, *pt; /* in pml4_a */
	u64 *pdpt_b, *pd_b, *pt_b; /* in pml4_b */
};

static struct region regions[] = {
	{ .name = "lo", .base = 0x0000008000000000ull, .slot = 1 },
	{ .name = "hi", .base = 0xffff800000000000ull, .slot = 256 },
};

static u64 gdt[GDT_ENTRIES] __aligned(8);
static u64 idt[2 * 32] __aligned(16);

static u32 pool_next;
static u64 *pml4_a, *pml4_b, *pdpt_id, *pd_id, *pt_id;
static u32 data_pa[NDATA], code_pa;

/* The entries the regions are built with, restored before every check. */
static struct {
	u64 *e;
	u64 v;
} pristine[64];
static unsigned int npristine;

static bool has_nx, has_1g, strict, in_long_mode;
static unsigned int maxphyaddr;

static struct lm_req last; /* the last lm() */
static u32 checks, checks_failed, checks_skipped, rsvd_without_p;
static u32 errors;
static char first_error[200];
static const char *skip_reason;

#define FAIL(...)                                                              \
	do {                                                                   \
		if (!errors++)                                                 \
			snprintf(first_error, sizeof(first_error), __VA_ARGS__); \
	} while (0)

/* --- CPU --- */

static u64 rdmsr(u32 msr)
{
	u32 lo, hi;

	asm volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((u64)hi << 32) | lo;
}

static void wrmsr(u32 msr, u64 v)
{
	asm volatile("wrmsr" : : "c"(msr), "a"((u32)v), "d"((u32)(v >> 32)) : "memory");
}

/* One operation in 64-bit mode; returns the vector it raised or TRAP_NONE. */
static int lm(u32 op, u64 va, u64 val)
{
	struct lm_req *r = &last;

	r->op = op;
	r->va = va;
	r->val = val;
	asm volatile("lcall %[sel], $lm_op" : "+a"(r) : [sel] "i"(SEL_CODE64) : "memory", "cc");
	return last.vector;
}

static int rd(u64 va, u64 *v)
{
	int vec = lm(OP_READ, va, 0);

	*v = last.val;
	return vec;
}

static int wr(u64 va, u64 v)
{
	return lm(OP_WRITE, va, v);
}

static int ex(u64 va, u64 *ret)
{
	int vec = lm(OP_EXEC, va, 0);

	*ret = last.val;
	return vec;
}

static void invlpg(u64 va)
{
	if (lm(OP_INVLPG, va, 0) != TRAP_NONE)
		FAIL("INVLPG 0x%llx raised %s", va, trap_name(last.vector));
}

static void load_cr3(u64 *pml4)
{
	if (lm(OP_LOAD_CR3, (u32)pml4, 0) != TRAP_NONE)
		FAIL("MOV to CR3 0x%x raised %s", (u32)pml4, trap_name(last.vector));
}

static void flush_all(void)
{
	load_cr3((u64 *)read_cr3());
}

static void set_wp(bool on)
{
	u32 cr0 = read_cr0();

	write_cr0(on ? cr0 | CR0_WP : cr0 & ~CR0_WP);
}

static void set_nxe(bool on)
{
	u64 efer = rdmsr(MSR_EFER);

	wrmsr(MSR_EFER, on ? efer | EFER_NXE : efer & ~(u64)EFER_NXE);
}

/* Called by lm64.asm, in compatibility mode, for an exception nobody expected. */
void lm_unexpected(void)
{
	static int depth;
	int vec = (int)lm_unexpected_info[0];

	if (depth++)
		exit(EXIT_EXCEPTION);
	printf("lmpaging: unexpected exception %s (vector %d, error code 0x%llx) at rip 0x%llx"
	       " cs 0x%llx rsp 0x%llx cr2 0x%llx\n",
	       trap_name(vec), vec, lm_unexpected_info[1], lm_unexpected_info[2],
	       lm_unexpected_info[3], lm_unexpected_info[4], lm_unexpected_info[5]);
	exit(EXIT_EXCEPTION);
}

/* --- tables --- */

static void *page_alloc(void)
{
	void *p = (void *)pool_next;

	memset(p, 0, 4096);
	pool_next += 4096;
	return p;
}

/* A 64-bit store once in long mode (what a 64-bit kernel does), plain before. */
static void set_entry(u64 *e, u64 v)
{
	if (!in_long_mode) {
		*(volatile u64 *)e = v;
		return;
	}
	if (wr((u32)e, v) != TRAP_NONE)
		FAIL("store to the entry at 0x%x raised %s", (u32)e, trap_name(last.vector));
}

static u64 get_entry(u64 *e)
{
	return *(volatile u64 *)e;
}

static void set_pristine(u64 *e, u64 v)
{
	set_entry(e, v);
	pristine[npristine].e = e;
	pristine[npristine++].v = v;
}

/* The entry at `level` (3 PML4E ... 0 PTE) on the walk of va from pml4. */
static u64 *entry_ptr(u64 *pml4, u64 va, int level)
{
	u64 *table = pml4;

	for (int l = 3; l > level; l--)
		table = (u64 *)(u32)(get_entry(&table[(va >> (12 + 9 * l)) & 511]) & PTE_ADDR);
	return &table[(va >> (12 + 9 * level)) & 511];
}

static void fill_words(u32 pa)
{
	volatile u64 *p = (volatile u64 *)pa;

	for (u32 w = 0; w < 512; w++)
		p[w] = WORD(pa + 8 * w);
}

static void build_region(struct region *r)
{
	u64 rw = PTE_P | PTE_RW;

	r->pdpt = page_alloc();
	r->pd = page_alloc();
	r->pt = page_alloc();
	set_pristine(&pml4_a[r->slot], (u32)r->pdpt | rw);
	set_pristine(&r->pdpt[0], (u32)r->pd | rw);
	if (has_1g)
		set_pristine(&r->pdpt[1], 0 | rw | PTE_PS);
	set_pristine(&r->pd[0], (u32)r->pt | rw);
	set_pristine(&r->pd[1], POOL_BASE | rw | PTE_PS);
	for (int j = 0; j < NDATA; j++)
		set_pristine(&r->pt[j], data_pa[j] | rw);
	set_pristine(&r->pt[CODE_PAGE], code_pa | rw);

	/* the second PML4: other frames at the same addresses */
	r->pdpt_b = page_alloc();
	r->pd_b = page_alloc();
	r->pt_b = page_alloc();
	pml4_b[r->slot] = (u32)r->pdpt_b | rw;
	r->pdpt_b[0] = (u32)r->pd_b | rw;
	r->pd_b[0] = (u32)r->pt_b | rw;
	r->pd_b[1] = POOL2 | rw | PTE_PS;
	for (int j = 0; j < NDATA; j++)
		r->pt_b[j] = data_pa[NDATA - 1 - j] | rw;
}

static void build_tables(void)
{
	static const u8 code[] = { 0xb8, CODE_MAGIC & 0xff, (CODE_MAGIC >> 8) & 0xff,
				   (CODE_MAGIC >> 16) & 0xff, CODE_MAGIC >> 24, 0xc3 };
	u64 rw = PTE_P | PTE_RW;

	pool_next = POOL_BASE;
	pml4_a = page_alloc();
	pml4_b = page_alloc();
	pdpt_id = page_alloc();
	pd_id = page_alloc();
	pt_id = page_alloc();
	pml4_a[0] = pml4_b[0] = (u32)pdpt_id | rw;
	pdpt_id[0] = (u32)pd_id | rw;
	pd_id[0] = (u32)pt_id | rw;
	for (u32 i = 0; i < 512; i++)
		pt_id[i] = (i << 12) | rw;
	for (u32 i = 1; i < 512; i++)
		pd_id[i] = ((u64)i << 21) | rw | PTE_PS;

	for (int j = 0; j < NDATA; j++) {
		data_pa[j] = (u32)page_alloc();
		fill_words(data_pa[j]);
		fill_words(POOL2 + data_pa[j] - POOL_BASE);
	}
	code_pa = (u32)page_alloc();
	memset((void *)code_pa, 0xcc, 4096); /* INT3 around the code */
	memcpy((void *)(code_pa + CODE_OFF), code, sizeof(code));
	/* the last page of the 2 MiB pages' target, for rw-2m */
	fill_words(POOL_BASE + SIZE_2M - 4096);

	for (unsigned int i = 0; i < ARRAY_SIZE(regions); i++)
		build_region(&regions[i]);
}

/* Back to the pristine tables (A and D may stay), WP and NXE on, all flushed. */
static void reset(void)
{
	for (unsigned int i = 0; i < npristine; i++)
		if ((get_entry(pristine[i].e) ^ pristine[i].v) & ~(PTE_A | PTE_D))
			set_entry(pristine[i].e, pristine[i].v);
	if (!(read_cr0() & CR0_WP))
		set_wp(true);
	if (has_nx && !(rdmsr(MSR_EFER) & EFER_NXE))
		set_nxe(true);
	load_cr3(pml4_a);
}

/* --- addresses --- */

static bool kind_ok(enum kind k)
{
	return k != K1G || has_1g;
}

static int leaf_level(enum kind k)
{
	return (int)k;
}

/* Where physical address pa (a data or code frame) is seen through kind k. */
static u64 kind_va(const struct region *r, enum kind k, u32 pa)
{
	u32 page = pa & ~0xfffu;

	switch (k) {
	case K4K:
		for (int j = 0; j < NDATA; j++)
			if (data_pa[j] == page)
				return r->base + (u64)j * 4096 + (pa & 0xfff);
		return r->base + (u64)CODE_PAGE * 4096 + (pa & 0xfff);
	case K2M:
		return r->base + SIZE_2M + (pa - POOL_BASE);
	default:
		return r->base + SIZE_1G + pa;
	}
}

static u64 code_va(const struct region *r, enum kind k)
{
	return kind_va(r, k, code_pa + CODE_OFF);
}

/* --- expectations --- */

static void expect_pf(u64 va, int vec, u32 err, const char *what)
{
	u32 got = last.error_code;

	if (vec == TRAP_NONE) {
		FAIL("%s at 0x%llx did not fault (expected #PF 0x%x)", what, va, err);
		return;
	}
	/* SDM 4.7: RSVD comes with P; QEMU TCG leaves P out (see pgtorture) */
	if (!strict && vec == VEC_PF && (err & PF_RSVD) && got == (err & ~PF_P)) {
		rsvd_without_p++;
		got = err;
	}
	if (vec != VEC_PF || got != err || last.cr2 != va)
		FAIL("%s at 0x%llx: %s error 0x%x cr2 0x%llx, expected #PF error 0x%x", what, va,
		     trap_name(vec), last.error_code, last.cr2, err);
}

static bool expect_ok(u64 va, int vec, const char *what)
{
	if (vec == TRAP_NONE)
		return true;
	FAIL("%s at 0x%llx: %s error 0x%x cr2 0x%llx", what, va, trap_name(vec), last.error_code,
	     last.cr2);
	return false;
}

/* A read at va must succeed and see WORD(pa). */
static void expect_word(u64 va, u32 pa, const char *what)
{
	u64 v;

	if (!expect_ok(va, rd(va, &v), what))
		return;
	if (v != WORD(pa)) {
		if ((v >> 32) == (WORD(0) >> 32))
			FAIL("%s at 0x%llx reached pa 0x%x, expected pa 0x%x", what, va, (u32)v, pa);
		else
			FAIL("%s at 0x%llx read 0x%llx, expected 0x%llx (pa 0x%x)", what, va, v,
			     WORD(pa), pa);
	}
}

/* A write at va must land at pa (read back through the identity map); restored after. */
static void expect_write(u64 va, u32 pa, u64 val, const char *what)
{
	volatile u64 *p = (volatile u64 *)pa;

	if (!expect_ok(va, wr(va, val), what))
		return;
	if (*p != val)
		FAIL("%s at 0x%llx: pa 0x%x holds 0x%llx, expected 0x%llx", what, va, pa, *p, val);
	*p = WORD(pa);
}

static void expect_exec(u64 va, const char *what)
{
	u64 ret;

	if (!expect_ok(va, ex(va, &ret), what))
		return;
	if ((u32)ret != CODE_MAGIC)
		FAIL("%s at 0x%llx returned 0x%llx, expected 0x%x", what, va, ret, CODE_MAGIC);
}

/* A fetch fault: CR2 and RIP are the target. */
static void expect_fetch_pf(u64 va, u32 err, const char *what)
{
	u64 ret;
	int vec = ex(va, &ret);

	expect_pf(va, vec, err, what);
	if (vec == VEC_PF && last.rip != va)
		FAIL("%s at 0x%llx: #PF with rip 0x%llx", what, va, last.rip);
}

static u32 fetch_err(void)
{
	return has_nx ? PF_I : 0; /* I/D is reported with EFER.NXE=1 */
}

/* --- checks --- */

/* rw-4k, rw-2m, rw-1g */
static void check_rw(struct region *r, int k)
{
	char what[48];

	if (!kind_ok(k)) {
		skip_reason = "no 1 GiB pages";
		return;
	}
	snprintf(what, sizeof(what), "%s/%s access", r->name, kind_names[k]);
	for (int j = 0; j < NDATA; j++) {
		u32 pa = data_pa[j] + ((j * 0x238u + 8) & 0xff8u);
		u64 va = kind_va(r, k, pa);

		expect_word(va, pa, what);
		expect_write(va, pa, 0x5752000000000000ull ^ va, what);
		expect_word(va, pa, what);
	}
	if (k == K2M) /* the page's first and last words */
		expect_word(r->base + SIZE_2M + SIZE_2M - 8, POOL_BASE + SIZE_2M - 8, what);
}

/* One frame through 4 KiB, 2 MiB, 1 GiB pages and the identity map. */
static void check_alias(struct region *r, int arg __unused)
{
	u32 pa = data_pa[3] + 0x40;
	u64 views[4];
	int n = 0;

	views[n++] = pa;
	for (int k = K4K; k < NKINDS; k++)
		if (kind_ok(k))
			views[n++] = kind_va(r, k, pa);
	for (int w = 0; w < n; w++) {
		u64 val = 0xa11a500000000000ull | ((u64)w << 32) | (u32)views[w], v;

		if (!expect_ok(views[w], wr(views[w], val), "alias write"))
			continue;
		for (int i = 0; i < n; i++) {
			if (!expect_ok(views[i], rd(views[i], &v), "alias read"))
				continue;
			if (v != val)
				FAIL("alias read at 0x%llx: 0x%llx, expected 0x%llx (written at 0x%llx)",
				     views[i], v, val, views[w]);
		}
	}
	*(volatile u64 *)pa = WORD(pa);
}

/* P=0 at `level` on the walk of each page size's data and code addresses. */
static void check_np(struct region *r, int level)
{
	char what[64];

	for (int k = K4K; k < NKINDS; k++) {
		u32 pa = data_pa[2] + 0x7f8;
		u64 va = kind_va(r, k, pa), xva = code_va(r, k);
		u64 *e;

		if (!kind_ok(k) || leaf_level(k) > level)
			continue;
		snprintf(what, sizeof(what), "%s: %s not present:", kind_names[k],
			 level_names[level]);
		e = entry_ptr(pml4_a, va, level);
		expect_word(va, pa, "read before");
		set_entry(e, get_entry(e) & ~PTE_P);
		invlpg(va);
		expect_pf(va, rd(va, &(u64){ 0 }), 0, what);
		expect_pf(va, wr(va, 0xbad), PF_W, what);
		if (*(volatile u64 *)pa != WORD(pa)) {
			FAIL("%s write at 0x%llx landed", what, va);
			*(volatile u64 *)pa = WORD(pa);
		}
		set_entry(e, get_entry(e) | PTE_P);
		invlpg(va);
		expect_word(va, pa, "read after");

		e = entry_ptr(pml4_a, xva, level);
		set_entry(e, get_entry(e) & ~PTE_P);
		invlpg(xva);
		expect_fetch_pf(xva, fetch_err(), what);
		set_entry(e, get_entry(e) | PTE_P);
		invlpg(xva);
		expect_exec(xva, "fetch after");
	}
}

/* NX at `level`: fetches fault, reads do not. */
static void check_nx(struct region *r, int level)
{
	char what[64];

	if (!has_nx) {
		skip_reason = "no NX";
		return;
	}
	for (int k = K4K; k < NKINDS; k++) {
		u64 xva = code_va(r, k), v;
		u64 *e;

		if (!kind_ok(k) || leaf_level(k) > level)
			continue;
		snprintf(what, sizeof(what), "%s: fetch with NX in the %s", kind_names[k],
			 level_names[level]);
		expect_exec(xva, "fetch before");
		e = entry_ptr(pml4_a, xva, level);
		set_entry(e, get_entry(e) | PTE_NX);
		invlpg(xva);
		expect_fetch_pf(xva, PF_P | PF_I, what);
		if (expect_ok(xva, rd(xva, &v), "read of an NX page") &&
		    v != *(volatile u64 *)(code_pa + CODE_OFF))
			FAIL("read of the NX page at 0x%llx: 0x%llx, expected 0x%llx", xva, v,
			     *(volatile u64 *)(code_pa + CODE_OFF));
		set_entry(e, get_entry(e) & ~PTE_NX);
		invlpg(xva);
		expect_exec(xva, "fetch after");
	}
}

/* R/W=0 at `level`: WP=1 faults supervisor writes, WP=0 lets them through. */
static void check_ro(struct region *r, int level)
{
	char what[64];

	for (int k = K4K; k < NKINDS; k++) {
		u32 pa = data_pa[3] + 0x18;
		u64 va = kind_va(r, k, pa);
		u64 *e;

		if (!kind_ok(k) || leaf_level(k) > level)
			continue;
		snprintf(what, sizeof(what), "%s: write with R/W=0 in the %s, WP=1",
			 kind_names[k], level_names[level]);
		expect_write(va, pa, 0x1111, "write before");
		e = entry_ptr(pml4_a, va, level);
		set_entry(e, get_entry(e) & ~PTE_RW);
		invlpg(va);
		expect_pf(va, wr(va, 0xbad), PF_P | PF_W, what);
		if (*(volatile u64 *)pa != WORD(pa)) {
			FAIL("%s: the write landed", what);
			*(volatile u64 *)pa = WORD(pa);
		}
		expect_word(va, pa, "read of a read-only page");
		set_wp(false);
		expect_write(va, pa, 0x2222, "write with R/W=0, WP=0");
		set_wp(true);
		expect_pf(va, wr(va, 0xbad), PF_P | PF_W, what);
		set_entry(e, get_entry(e) | PTE_RW);
		invlpg(va);
		expect_write(va, pa, 0x3333, "write after");
	}
}

/* A reserved bit at the entry of `level` on the walk of va: #PF P|RSVD. */
static void rsvd_one(u64 va, u32 pa, int level, u64 bit, const char *what)
{
	u64 *e = entry_ptr(pml4_a, va, level);
	u64 old = get_entry(e);

	expect_word(va, pa, "read before");
	set_entry(e, old | bit);
	invlpg(va);
	expect_pf(va, rd(va, &(u64){ 0 }), PF_P | PF_RSVD, what);
	expect_pf(va, wr(va, 0xbad), PF_P | PF_W | PF_RSVD, what);
	if (*(volatile u64 *)pa != WORD(pa)) {
		FAIL("%s: the write at 0x%llx landed", what, va);
		*(volatile u64 *)pa = WORD(pa);
	}
	set_entry(e, old);
	invlpg(va);
	expect_word(va, pa, "read after");
}

/* Bit MAXPHYADDR at `level`. */
static void check_rsvd(struct region *r, int level)
{
	char what[64];

	if (maxphyaddr >= 52) {
		skip_reason = "MAXPHYADDR is 52";
		return;
	}
	for (int k = K4K; k < NKINDS; k++) {
		u32 pa = data_pa[4] + 0x100;

		if (!kind_ok(k) || leaf_level(k) > level)
			continue;
		snprintf(what, sizeof(what), "%s: bit %u in the %s", kind_names[k], maxphyaddr,
			 level_names[level]);
		rsvd_one(kind_va(r, k, pa), pa, level, 1ull << maxphyaddr, what);
	}
}

/* PS in a PML4E (always reserved) or in a PDPTE without 1 GiB pages. */
static void check_rsvd_ps(struct region *r, int level)
{
	u32 pa = data_pa[4] + 0x108;

	if (level == 2 && has_1g) {
		skip_reason = "1 GiB pages exist: PDPTE.PS maps one";
		return;
	}
	rsvd_one(kind_va(r, K4K, pa), pa, level, PTE_PS,
		 level == 3 ? "PS in the PML4E" : "PS in the PDPTE");
}

/* Address bits below a large page's size (bit 12 is PAT). */
static void check_rsvd_large(struct region *r, int arg __unused)
{
	u32 pa = data_pa[4] + 0x110;

	rsvd_one(kind_va(r, K2M, pa), pa, 1, 1ull << 13, "bit 13 in a 2 MiB PDE");
	rsvd_one(kind_va(r, K2M, pa), pa, 1, 1ull << 20, "bit 20 in a 2 MiB PDE");
	if (has_1g) {
		rsvd_one(kind_va(r, K1G, pa), pa, 2, 1ull << 13, "bit 13 in a 1 GiB PDPTE");
		rsvd_one(kind_va(r, K1G, pa), pa, 2, 1ull << 29, "bit 29 in a 1 GiB PDPTE");
	}
}

/* NX with EFER.NXE=0 is a reserved bit, at every level. */
static void check_rsvd_nx(struct region *r, int arg __unused)
{
	char what[64];

	if (!has_nx) {
		skip_reason = "no NX";
		return;
	}
	set_nxe(false);
	if (rdmsr(MSR_EFER) & EFER_NXE)
		FAIL("EFER.NXE still set after clearing it");
	for (int k = K4K; k < NKINDS; k++) {
		for (int level = 3; level >= leaf_level(k) && kind_ok(k); level--) {
			u32 pa = data_pa[4] + 0x118;

			snprintf(what, sizeof(what), "%s: NX in the %s with NXE=0", kind_names[k],
				 level_names[level]);
			rsvd_one(kind_va(r, k, pa), pa, level, PTE_NX, what);
		}
	}
	set_nxe(true);
}

/* A on every level of the walk after a read (leaf D clear), leaf D after a write. */
static void check_ad(struct region *r, int k)
{
	u32 pa = data_pa[5] + 0x20;
	u64 va = kind_va(r, k, pa);
	int leaf = leaf_level(k);
	u64 *e[4];

	if (!kind_ok(k)) {
		skip_reason = "no 1 GiB pages";
		return;
	}
	for (int l = 3; l >= leaf; l--) {
		e[l] = entry_ptr(pml4_a, va, l);
		set_entry(e[l], get_entry(e[l]) & ~(PTE_A | PTE_D));
	}
	invlpg(va);
	expect_word(va, pa, "read");
	for (int l = 3; l >= leaf; l--) {
		u64 v = get_entry(e[l]);

		if (!(v & PTE_A))
			FAIL("%s: A not set in the %s (0x%llx) by a read at 0x%llx", kind_names[k],
			     level_names[l], v, va);
		if (l == leaf && (v & PTE_D))
			FAIL("%s: D set in the %s (0x%llx) by a read at 0x%llx", kind_names[k],
			     level_names[l], v, va);
	}
	expect_write(va, pa, 0xd1d1, "write");
	if (!(get_entry(e[leaf]) & PTE_D))
		FAIL("%s: D not set in the %s (0x%llx) by a write at 0x%llx", kind_names[k],
		     level_names[leaf], get_entry(e[leaf]), va);
	if (!(get_entry(e[leaf]) & PTE_A))
		FAIL("%s: A not set in the %s (0x%llx) after a write at 0x%llx", kind_names[k],
		     level_names[leaf], get_entry(e[leaf]), va);
}

/* Two PML4s, the same addresses, other frames; back and forth. */
static void check_cr3_switch(struct region *r, int arg __unused)
{
	u32 off = 0x30, pa2m = data_pa[1] + off;
	u64 va4k = kind_va(r, K4K, data_pa[0] + off), va2m = kind_va(r, K2M, pa2m);
	u64 va1g = kind_va(r, K1G, data_pa[1] + off);

	for (int round = 0; round < 3; round++) {
		load_cr3(pml4_a);
		expect_word(va4k, data_pa[0] + off, "PML4 A, 4 KiB");
		expect_word(va2m, pa2m, "PML4 A, 2 MiB");
		if (has_1g)
			expect_word(va1g, data_pa[1] + off, "PML4 A, 1 GiB");
		load_cr3(pml4_b);
		expect_word(va4k, data_pa[NDATA - 1] + off, "PML4 B, 4 KiB");
		expect_write(va4k, data_pa[NDATA - 1] + off, 0xb0b0 + round, "PML4 B, 4 KiB");
		expect_word(va2m, POOL2 + pa2m - POOL_BASE, "PML4 B, 2 MiB");
		if (has_1g)
			expect_pf(va1g, rd(va1g, &(u64){ 0 }), 0, "PML4 B, 1 GiB not present");
	}
	load_cr3(pml4_a);
	expect_write(va4k, data_pa[0] + off, 0xa0a0, "PML4 A, 4 KiB");
}

static void flush_va(u64 va, bool by_cr3)
{
	if (by_cr3)
		flush_all();
	else
		invlpg(va);
}

/* Changed mappings, flushed by INVLPG (arg 0) or a CR3 reload (arg 1). */
static void check_flush(struct region *r, int by_cr3)
{
	u32 off = 0x48, pa0 = data_pa[0] + off, pa1 = data_pa[1] + off;
	u64 va4k = kind_va(r, K4K, pa0), va2m = kind_va(r, K2M, pa1);
	u64 va1g = kind_va(r, K1G, pa1);
	u64 *pte = entry_ptr(pml4_a, va4k, 0), *pde = entry_ptr(pml4_a, va4k, 1);
	u64 *pde2m = entry_ptr(pml4_a, va2m, 1), old;

	/* PTE -> another frame, and back */
	expect_word(va4k, pa0, "4 KiB before");
	old = get_entry(pte);
	set_entry(pte, (old & ~PTE_ADDR) | data_pa[6]);
	flush_va(va4k, by_cr3);
	expect_word(va4k, data_pa[6] + off, "4 KiB after a PTE change");
	set_entry(pte, old);
	flush_va(va4k, by_cr3);
	expect_word(va4k, pa0, "4 KiB after the PTE is back");

	/* PDE -> the second PML4's page table (data frames reversed) */
	old = get_entry(pde);
	set_entry(pde, (old & ~PTE_ADDR) | (u32)r->pt_b);
	flush_va(va4k, by_cr3);
	expect_word(va4k, data_pa[NDATA - 1] + off, "4 KiB after a PDE change");
	set_entry(pde, old);
	flush_va(va4k, by_cr3);
	expect_word(va4k, pa0, "4 KiB after the PDE is back");

	/* 2 MiB page -> 6-8 MiB */
	expect_word(va2m, pa1, "2 MiB before");
	old = get_entry(pde2m);
	set_entry(pde2m, (old & ~PTE_ADDR) | POOL2);
	flush_va(va2m, by_cr3);
	expect_word(va2m, POOL2 + pa1 - POOL_BASE, "2 MiB after a PDE change");
	set_entry(pde2m, old);
	flush_va(va2m, by_cr3);
	expect_word(va2m, pa1, "2 MiB after the PDE is back");

	/* 1 GiB page -> not present */
	if (has_1g) {
		u64 *pdpte = entry_ptr(pml4_a, va1g, 2);

		expect_word(va1g, pa1, "1 GiB before");
		old = get_entry(pdpte);
		set_entry(pdpte, old & ~PTE_P);
		flush_va(va1g, by_cr3);
		expect_pf(va1g, rd(va1g, &(u64){ 0 }), 0, "1 GiB after clearing P");
		set_entry(pdpte, old);
		flush_va(va1g, by_cr3);
		expect_word(va1g, pa1, "1 GiB after P is back");
	}
}

struct check {
	const char *name;
	void (*fn)(struct region *r, int arg);
	int arg;
};

static const struct check check_table[] = {
	{ "rw-4k", check_rw, K4K },
	{ "rw-2m", check_rw, K2M },
	{ "rw-1g", check_rw, K1G },
	{ "alias", check_alias, 0 },
	{ "np-pml4e", check_np, 3 },
	{ "np-pdpte", check_np, 2 },
	{ "np-pde", check_np, 1 },
	{ "np-pte", check_np, 0 },
	{ "nx-pml4e", check_nx, 3 },
	{ "nx-pdpte", check_nx, 2 },
	{ "nx-pde", check_nx, 1 },
	{ "nx-pte", check_nx, 0 },
	{ "ro-pml4e", check_ro, 3 },
	{ "ro-pdpte", check_ro, 2 },
	{ "ro-pde", check_ro, 1 },
	{ "ro-pte", check_ro, 0 },
	{ "rsvd-pml4e", check_rsvd, 3 },
	{ "rsvd-pdpte", check_rsvd, 2 },
	{ "rsvd-pde", check_rsvd, 1 },
	{ "rsvd-pte", check_rsvd, 0 },
	{ "rsvd-pml4e-ps", check_rsvd_ps, 3 },
	{ "rsvd-pdpte-ps", check_rsvd_ps, 2 },
	{ "rsvd-large", check_rsvd_large, 0 },
	{ "rsvd-nx-nxe0", check_rsvd_nx, 0 },
	{ "ad-4k", check_ad, K4K },
	{ "ad-2m", check_ad, K2M },
	{ "ad-1g", check_ad, K1G },
	{ "cr3-switch", check_cr3_switch, 0 },
	{ "invlpg", check_flush, 0 },
	{ "cr3-reload", check_flush, 1 },
};

static void report(const char *region, const char *name)
{
	const char *sep = region ? "/" : "";

	if (!region)
		region = "";
	if (skip_reason && !errors) {
		checks_skipped++;
		printf("lmpaging: %s%s%s: skipped (%s)\n", region, sep, name, skip_reason);
		return;
	}
	checks++;
	if (!errors) {
		printf("lmpaging: %s%s%s: ok\n", region, sep, name);
		return;
	}
	checks_failed++;
	printf("lmpaging: %s%s%s: FAILED (%s; %u error%s)\n", region, sep, name, first_error,
	       errors, errors == 1 ? "" : "s");
}

static void begin(void)
{
	errors = 0;
	first_error[0] = 0;
	skip_reason = NULL;
}

/* --- long mode --- */

static void enter_long_mode(void)
{
	struct __packed {
		u16 limit;
		u32 base;
	} gdtr, idtr;
	u32 n;
	u64 efer;

	/* the library's GDT (its selectors stay valid) plus a 64-bit code segment */
	asm volatile("sgdt %0" : "=m"(gdtr));
	n = gdtr.limit + 1u;
	memcpy(gdt, (void *)gdtr.base, n < SEL_CODE64 ? n : SEL_CODE64);
	gdt[SEL_CODE64 / 8] = 0x00af9a000000ffffull; /* P, DPL 0, code, L=1 D=0 */
	gdtr.limit = sizeof(gdt) - 1;
	gdtr.base = (u32)gdt;

	/* 64-bit interrupt gates; nothing may fault until paging is on */
	for (int v = 0; v < 32; v++) {
		u32 h = lm_exc_entries[v];

		idt[2 * v] = (h & 0xffff) | ((u64)SEL_CODE64 << 16) | (0x8eull << 40) |
			     ((u64)(h >> 16) << 48);
		idt[2 * v + 1] = 0; /* handler bits 63:32 */
	}
	idtr.limit = sizeof(idt) - 1;
	idtr.base = (u32)idt;

	asm volatile("lgdt %0" : : "m"(gdtr) : "memory");
	write_cr4(read_cr4() | CR4_PAE);
	write_cr3((u32)pml4_a);
	efer = rdmsr(MSR_EFER) | EFER_LME | (has_nx ? EFER_NXE : 0);
	wrmsr(MSR_EFER, efer);
	asm volatile("lidt %0" : : "m"(idtr) : "memory");
	write_cr0(read_cr0() | CR0_PG | CR0_WP);
	in_long_mode = true;
}

static void check_long_mode(void)
{
	u64 efer = rdmsr(MSR_EFER), x = 0x0123456789abcdefull;

	begin();
	if (!(efer & EFER_LMA))
		FAIL("EFER 0x%llx: LMA clear after CR0.PG with LME", efer);
	if (!(efer & EFER_LME) || (has_nx && !(efer & EFER_NXE)))
		FAIL("EFER 0x%llx: LME or NXE lost", efer);
	if (!(read_cr4() & CR4_PAE) || !(read_cr0() & CR0_PG) || !(read_cr0() & CR0_WP))
		FAIL("CR0 0x%x CR4 0x%x", read_cr0(), read_cr4());
	if (errors) {
		report(NULL, "long-mode");
		return;
	}
	if (lm(OP_PROBE, x, 0) != TRAP_NONE)
		FAIL("the 64-bit probe raised %s", trap_name(last.vector));
	else if (last.val != ((x << 32) | (x >> 32)) || last.error_code != SEL_CODE64)
		FAIL("the 64-bit probe returned 0x%llx with CS 0x%x: not 64-bit code", last.val,
		     last.error_code);
	report(NULL, "long-mode");
}

/* CR8, the task priority: what is written reads back (and is the guest's alone). */
static void check_cr8(void)
{
	begin();
	for (u64 tpr = 15;; tpr -= 5) {
		if (lm(OP_CR8, 0, tpr) != TRAP_NONE)
			FAIL("MOV to CR8 of %llu raised %s", tpr, trap_name(last.vector));
		else if (last.val != tpr)
			FAIL("CR8 reads 0x%llx after writing %llu", last.val, tpr);
		if (!tpr)
			break;
	}
	report(NULL, "cr8");
}

int guest_main(u32 magic __unused, u32 mbi __unused)
{
	static const char *const known[] = { "strict", NULL };
	u32 ext_max = cpuid(0x80000000, 0).eax, ext_edx = 0;
	u64 v = 0;

	cmdline_check(known);
	if (cmdline_u64("strict", &v) < 0 || v > 1) {
		printf("lmpaging: error: strict must be 0 or 1\n");
		return EXIT_USAGE;
	}
	strict = v;
	if (ext_max >= 0x80000001)
		ext_edx = cpuid(0x80000001, 0).edx;
	if (!(ext_edx & (1u << 29))) {
		printf("lmpaging: error: no long mode (CPUID 0x80000001 EDX[29])\n");
		return EXIT_USAGE;
	}
	has_nx = ext_edx & (1u << 20);
	has_1g = ext_edx & (1u << 26);
	maxphyaddr = phys_addr_bits();
	if ((u32)_end > POOL_BASE || !mb_range_is_ram(POOL_BASE, POOL_SIZE)) {
		printf("lmpaging: error: need RAM at 4-8 MiB above the image\n");
		return EXIT_USAGE;
	}
	build_tables();
	printf("lmpaging: 4-level paging, 1 GiB pages %s, NX %s, MAXPHYADDR %u, "
	       "regions at 0x%llx and 0x%llx\n",
	       has_1g ? "yes" : "no", has_nx ? "yes" : "no", maxphyaddr, regions[0].base,
	       regions[1].base);

	enter_long_mode();
	check_long_mode();
	if (!checks_failed)
		check_cr8();
	if (!checks_failed) {
		for (unsigned int i = 0; i < ARRAY_SIZE(regions); i++) {
			for (unsigned int c = 0; c < ARRAY_SIZE(check_table); c++) {
				begin();
				reset();
				check_table[c].fn(&regions[i], check_table[c].arg);
				report(regions[i].name, check_table[c].name);
			}
		}
		reset();
	}
	if (rsvd_without_p)
		printf("lmpaging: note: %u reserved-bit #PFs without P (QEMU TCG does this; the "
		       "SDM sets P; strict=1 counts them)\n",
		       rsvd_without_p);
	if (checks_skipped)
		printf("lmpaging: note: %u checks skipped\n", checks_skipped);
	printf("lmpaging: %u checks, %u failed\n", checks, checks_failed);
	return checks_failed ? EXIT_FAIL : EXIT_OK;
}
