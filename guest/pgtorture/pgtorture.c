/*
 * pgtorture: the access-rights torture test. The guest turns on its own
 * paging (PAE, or 32-bit with paging=32) and checks the CPU's
 * page-protection semantics against a model written from the Intel SDM
 * vol. 3A ch. 4 (4.6 access rights, 4.7 page-fault error code, 4.8 accessed
 * and dirty flags) and the AMD APM vol. 2 ch. 5.
 *
 * PAE layout (all in .bss, so below 4 MiB):
 *   PDPT[0] -> pd_ident: 0-1 GiB identity, 2 MiB pages, P RW U (U=0 while
 *              CR4.SMEP is on, so that ring 0 may still execute its code);
 *              user_call() runs the guest's own code and stack at CPL 3.
 *   PDPT[1] -> pd_win: the test window at 1 GiB.
 *     WIN_4K  0x40000000: pd_win[0] (PDE under test) -> pt_win[0] (PTE under
 *             test) -> test_page, a 4 KiB page of .bss.
 *     WIN_2M  0x40200000: pd_win[1], a 2 MiB PDE.PS page under test ->
 *             physical 4 MiB.
 *
 * 32-bit layout (CR4.PAE=0; 4-byte entries, 1024 per table):
 *   pd32[0]   -> pt32_ident: 0-4 MiB identity (the image), 4 KiB pages, so
 *                that it stays right with CR4.PSE=0; U as in PAE.
 *     WIN_4K  0x40000000: pd32[256] (PDE under test) -> pt32_win[0] (PTE
 *             under test) -> test_page.
 *     WIN_4M  0x40400000: pd32[257], a 4 MiB PDE.PS page under test (CR4.PSE
 *             = 1) -> physical 4 MiB; PSE-36 bits 20:13 are 0, bit 21 is
 *             reserved and is the spare bit under test ("R" in the output).
 *   With CR4.PSE=0 only 4 KiB configurations run, with bit 7 set in the PDE
 *   under test: it must be ignored (the PDE still points to pt32_win).
 *   There is no NX: EFER.NXE is toggled all the same and must change
 *   nothing; an instruction fetch sets the I/D error-code bit only with
 *   CR4.SMEP=1.
 *
 * Byte 0 of every target is RET (0xC3); a write stores 0xC3 again, an
 * execute CALLs it.
 *
 * Each combination: the entries under test are written with A = D = 0, the
 * window is INVLPGed, one access is done under TRY and the outcome (vector,
 * #PF error code, the entries' A and D) is compared with the model. On a
 * fault the A flags of the present entries the walk reached are not judged
 * (the SDM leaves open whether a faulting walk sets them; QEMU sets them in
 * the non-leaf levels); an entry the walk cannot have reached, or a
 * not-present one, must be unchanged, and D must stay clear.
 *
 * PAE dimensions: page configurations (P, R/W, U/S, XD at the PDE and the
 * PTE of a 4 KiB page, or at a 2 MiB page; XD with NXE=0 is a reserved bit),
 * EFER.NXE (if CPUID has NX), CR0.WP, CR4.SMEP (if CPUID.7.EBX[7]; ring 0
 * only: the identity map is U=0 then), CPL 0 or 3, read / write / execute.
 * 32-bit dimensions: P, R/W, U/S at the PDE and the PTE of a 4 KiB page, or
 * P, R/W, U/S, bit 21 at a 4 MiB page; CR4.PSE 1 (if CPUID.1.EDX[3]) and
 * 0, then the same NXE, WP, SMEP, CPL and access dimensions.
 *
 * Options: paging=pae (default), paging=32, or paging=all (PAE, then 32-bit,
 * in one boot; each mode prints its own header and result line).
 * strict=1: a reserved-bit #PF must report P (the SDM's rule); by default
 * one without P (QEMU TCG's habit, for XD and for bit 21 of a 32-bit 4 MiB
 * PDE alike) is counted in a note line and passes.
 *
 * Output per mode: "pgtorture: PAE paging, NX yes, SMEP yes" or
 * "pgtorture: 32-bit paging, PSE yes, SMEP yes, NX yes", one MISMATCH line per
 * failed combination (the first 20), then "pgtorture: N combinations, M
 * mismatches". Exit 0 if every M == 0, else 1; 3 on a bad option or if the
 * large-page test frame (4-6 MiB, 4-8 MiB for 32-bit) is not RAM.
 */
#include "guest/lib/cmdline.h"
#include "guest/lib/cpu.h"
#include "guest/lib/exit.h"
#include "guest/lib/guest.h"
#include "guest/lib/msr.h"
#include "guest/lib/multiboot.h"
#include "guest/lib/printf.h"
#include "guest/lib/string.h"
#include "guest/lib/trap.h"
#include "guest/lib/user.h"

const char guest_name[] = "pgtorture";

#define PTE_P (1ull << 0)
#define PTE_RW (1ull << 1)
#define PTE_US (1ull << 2)
#define PTE_A (1ull << 5)
#define PTE_D (1ull << 6)
#define PTE_PS (1ull << 7)
#define PDE32_4M_RSVD (1ull << 21) /* 32-bit 4 MiB PDE: reserved (20:13 PSE-36) */
#define PTE_XD (1ull << 63)

#define PF_P (1u << 0)
#define PF_W (1u << 1)
#define PF_U (1u << 2)
#define PF_RSVD (1u << 3)
#define PF_I (1u << 4)

#define CR0_WP (1u << 16)
#define CR0_PG (1u << 31)
#define CR4_PSE (1u << 4)
#define CR4_PAE (1u << 5)
#define CR4_SMEP (1u << 20)
#define EFER_NXE (1u << 11)

#define WIN_4K 0x40000000u
#define WIN_2M 0x40200000u /* PAE */
#define WIN_4M 0x40400000u /* 32-bit */
#define LARGE_FRAME (4 * MiB)

#define MAX_REPORTS 20

/*
 * Bits of a page configuration (the entry under test), before encoding.
 * B_XD is the spare bit under test: XD (bit 63) in PAE, bit 21 (reserved)
 * in a 32-bit 4 MiB PDE; 32-bit 4 KiB entries have none.
 */
#define B_P 1
#define B_RW 2
#define B_U 4
#define B_XD 8

enum access { ACC_READ, ACC_WRITE, ACC_EXEC };
static const char *const access_names[] = { "read", "write", "exec" };

/* paging= */
#define RUN_PAE 1
#define RUN_32 2

static u64 pdpt[4] __aligned(32);
static u64 pd_ident[512] __aligned(4096);
static u64 pd_win[512] __aligned(4096);
static u64 pt_win[512] __aligned(4096);
static u32 pd32[1024] __aligned(4096);
static u32 pt32_ident[1024] __aligned(4096);
static u32 pt32_win[1024] __aligned(4096);
static u8 test_page[4096] __aligned(4096);

/* The access the ring-3 function does, and what happened. */
static volatile u32 u_addr;
static volatile int u_access;
static volatile int u_vector;
static volatile u32 u_error;

struct mode {
	bool pae; /* else 32-bit paging */
	bool pse; /* 32-bit: CR4.PSE */
	bool nxe, wp, smep, user;
	int access;
};

struct config {
	bool large;
	bool ps_ignored; /* 32-bit, CR4.PSE=0: a 4 KiB PDE with bit 7 set */
	int pde, pte; /* B_* bits; pte unused for a large page */
};

static u32 combos, mismatches;
static u32 rsvd_without_p; /* reserved-bit #PFs that lacked P (tolerated) */
static bool strict; /* strict=1: a reserved-bit #PF must have P, as the SDM says */

static u64 encode(int bits, bool pae, bool large)
{
	u64 xd = !(bits & B_XD) ? 0 : pae ? PTE_XD : large ? PDE32_4M_RSVD : 0;

	return ((bits & B_P) ? PTE_P : 0) | ((bits & B_RW) ? PTE_RW : 0) |
	       ((bits & B_U) ? PTE_US : 0) | xd;
}

static void invlpg(u32 addr)
{
	asm volatile("invlpg (%0)" : : "r"(addr) : "memory");
}

static void set_efer_nxe(bool on)
{
	u64 efer;

	if (rdmsr_try(MSR_EFER, &efer) != TRAP_NONE)
		return;
	efer = on ? (efer | EFER_NXE) : (efer & ~(u64)EFER_NXE);
	wrmsr_try(MSR_EFER, efer);
	write_cr3(read_cr3());
}

/* Identity map with U/S = user; reload CR3 so no stale translation stays. */
static void set_ident_user(bool pae, bool user)
{
	if (pae) {
		for (int i = 0; i < 512; i++)
			pd_ident[i] = ((u64)i << 21) | PTE_P | PTE_RW | PTE_PS |
				      (user ? PTE_US : 0);
	} else {
		for (int i = 0; i < 1024; i++)
			pt32_ident[i] = ((u32)i << 12) | PTE_P | PTE_RW | (user ? PTE_US : 0);
		pd32[0] = (u32)pt32_ident | PTE_P | PTE_RW | (user ? PTE_US : 0);
	}
	write_cr3(read_cr3());
}

/*
 * Execute the RET at a window address. A fetch fault is reported at the
 * target, after the CALL pushed its return address: every target's fixup
 * drops it. noinline: exactly one copy, so one extable entry per target.
 */
static __attribute__((noinline)) int exec_at(u32 target)
{
	trap_last.vector = TRAP_NONE;
	barrier();
	asm volatile("call *%[t]\n\t"
		     "jmp 2f\n"
		     "1:\n\t"
		     "addl $4, %%esp\n"
		     "2:\n\t"
		     ".pushsection .guest_extable, \"a\"\n\t.balign 4\n\t"
		     ".long %c[a], 1b\n\t"
		     ".long %c[b], 1b\n\t"
		     ".long %c[c], 1b\n\t"
		     ".popsection"
		     :
		     : [t] "r"(target), [a] "i"(WIN_4K), [b] "i"(WIN_2M), [c] "i"(WIN_4M)
		     : "memory", "cc");
	barrier();
	return trap_last.vector;
}

static int do_access(u32 addr, int access)
{
	u8 v = 0xc3;

	switch (access) {
	case ACC_READ:
		return TRY("movb (%1), %0", : "+q"(v) : "r"(addr) : "memory");
	case ACC_WRITE:
		return TRY("movb %0, (%1)", : : "q"(v), "r"(addr) : "memory");
	default:
		return exec_at(addr);
	}
}

/* Runs at CPL 3: no printf, no privileged instructions. */
static void user_access(void)
{
	u_vector = do_access(u_addr, u_access);
	u_error = trap_last.error_code;
}

/*
 * The model: what the access must do. Returns the vector (TRAP_NONE or #PF)
 * and sets *err, and *pte_reached (the walk got to the PTE of a 4 KiB page).
 * The I/D bit (SDM 4.7): a fetch with CR4.SMEP=1, or with EFER.NXE=1 under
 * PAE; 32-bit paging has no XD bit, so NXE changes nothing there. B_XD is
 * reserved with NXE=0 (PAE) and always (32-bit: bit 21 of a 4 MiB PDE).
 */
static int model(const struct config *c, const struct mode *m, u32 *err, bool *pte_reached)
{
	u32 base = (m->user ? PF_U : 0) | (m->access == ACC_WRITE ? PF_W : 0);
	bool idbit = m->access == ACC_EXEC && ((m->pae && m->nxe) || m->smep);
	bool nx = m->pae && m->nxe;
	int levels[2], n = 0, eff;

	*pte_reached = false;
	if (idbit)
		base |= PF_I;
	levels[n++] = c->pde;
	if (!c->large)
		levels[n++] = c->pte;
	eff = B_RW | B_U;
	for (int i = 0; i < n; i++) {
		int b = levels[i];

		if (i == 1)
			*pte_reached = true;
		if (!(b & B_P)) {
			*err = base;
			return VEC_PF;
		}
		if ((b & B_XD) && !nx) { /* reserved bit 63, or 21 */
			*err = base | PF_P | PF_RSVD;
			return VEC_PF;
		}
		eff &= b | B_XD | B_P; /* RW and U: AND over the levels */
		eff |= b & B_XD; /* XD: OR */
	}
	*err = base | PF_P;
	if (m->user) {
		if (!(eff & B_U))
			return VEC_PF;
		if (m->access == ACC_WRITE && !(eff & B_RW))
			return VEC_PF;
	} else {
		if (m->access == ACC_WRITE && m->wp && !(eff & B_RW))
			return VEC_PF;
		if (m->access == ACC_EXEC && m->smep && (eff & B_U))
			return VEC_PF;
	}
	if (m->access == ACC_EXEC && nx && (eff & B_XD))
		return VEC_PF;
	*err = 0;
	return TRAP_NONE;
}

static int describe_bits(char *buf, size_t size, int bits, char spare)
{
	if (!(bits & (B_P | B_RW | B_U | B_XD)))
		return snprintf(buf, size, "0");
	return snprintf(buf, size, "%s%s%s%c", (bits & B_P) ? "P" : "-",
			(bits & B_RW) ? "W" : "-", (bits & B_U) ? "U" : "-",
			(bits & B_XD) ? spare : '-');
}

static void describe(char *buf, size_t size, const struct config *c, const struct mode *m)
{
	char pde[8], pte[8];
	int n;

	describe_bits(pde, sizeof(pde), c->pde, m->pae ? 'X' : 'R');
	describe_bits(pte, sizeof(pte), c->pte, m->pae ? 'X' : 'R');
	if (c->large)
		n = snprintf(buf, size, "%s pde=%s", m->pae ? "2M" : "4M", pde);
	else
		n = snprintf(buf, size, "4K pde=%s%s pte=%s", pde, c->ps_ignored ? "+PS" : "",
			     pte);
	if (!m->pae)
		n += snprintf(buf + n, size - n, " pse=%d", m->pse);
	snprintf(buf + n, size - n, " nxe=%d wp=%d smep=%d %s %s", m->nxe, m->wp, m->smep,
		 m->user ? "user" : "sup", access_names[m->access]);
}

static void describe_outcome(char *buf, size_t size, int vector, u32 err, u64 pde, u64 pte,
			     bool large, bool exact)
{
	int n;

	if (vector == TRAP_NONE)
		n = snprintf(buf, size, "ok");
	else if (vector == VEC_PF)
		n = snprintf(buf, size, "#PF err=0x%x", err);
	else
		n = snprintf(buf, size, "%s", trap_name(vector));
	n += snprintf(buf + n, size - n, ", pde %s%s", (pde & PTE_A) ? "A" : "-",
		      (pde & PTE_D) ? "D" : "-");
	if (!large)
		n += snprintf(buf + n, size - n, " pte %s%s", (pte & PTE_A) ? "A" : "-",
			      (pte & PTE_D) ? "D" : "-");
	if (!exact)
		snprintf(buf + n, size - n, " (A not judged)");
}

/* Writes the window's entries: the one under test, the other slot 0. */
static void set_window(bool pae, bool large, u64 pde, u64 pte)
{
	if (pae) {
		pd_win[0] = large ? 0 : pde;
		pd_win[1] = large ? pde : 0;
		pt_win[0] = pte;
	} else {
		pd32[WIN_4K >> 22] = large ? 0 : (u32)pde;
		pd32[WIN_4M >> 22] = large ? (u32)pde : 0;
		pt32_win[0] = (u32)pte;
	}
	invlpg(WIN_4K);
	invlpg(WIN_2M);
	invlpg(WIN_4M);
}

static void get_window(bool pae, bool large, u64 *pde, u64 *pte)
{
	if (pae) {
		*pde = large ? pd_win[1] : pd_win[0];
		*pte = pt_win[0];
	} else {
		*pde = large ? pd32[WIN_4M >> 22] : pd32[WIN_4K >> 22];
		*pte = pt32_win[0];
	}
}

static void run_one(const struct config *c, const struct mode *m)
{
	u32 addr = !c->large ? WIN_4K : m->pae ? WIN_2M : WIN_4M;
	u64 pde0, pte0 = 0, want_pde, want_pte, got_pde, got_pte, a_mask = 0;
	u32 want_err, got_err;
	int want_vec, got_vec;
	bool pte_reached, ok;

	if (c->large) {
		pde0 = LARGE_FRAME | PTE_PS | encode(c->pde, m->pae, true);
	} else {
		pde0 = (m->pae ? (u32)pt_win : (u32)pt32_win) | encode(c->pde, m->pae, false) |
		       (c->ps_ignored ? PTE_PS : 0);
		pte0 = (u32)test_page | encode(c->pte, m->pae, false);
	}
	set_window(m->pae, c->large, pde0, pte0);

	if (m->user) {
		u_addr = addr;
		u_access = m->access;
		user_call(user_access);
		got_vec = u_vector;
		got_err = u_error;
	} else {
		got_vec = do_access(addr, m->access);
		got_err = trap_last.error_code;
	}
	get_window(m->pae, c->large, &got_pde, &got_pte);
	if (got_vec != VEC_PF)
		got_err = 0;

	want_vec = model(c, m, &want_err, &pte_reached);
	want_pde = pde0;
	want_pte = pte0;
	if (want_vec == TRAP_NONE) {
		want_pde |= PTE_A;
		if (c->large) {
			if (m->access == ACC_WRITE)
				want_pde |= PTE_D;
		} else {
			want_pte |= PTE_A;
			if (m->access == ACC_WRITE)
				want_pte |= PTE_D;
		}
	} else {
		/* A of the reached present entries: not judged on a fault */
		if (c->pde & B_P)
			a_mask |= 1;
		if (pte_reached && (c->pte & B_P))
			a_mask |= 2;
	}

	combos++;
	/*
	 * SDM 4.7: "bit 3 of the error code can be set only if bit 0 is also
	 * set", and Bochs does so; QEMU 7.2 TCG (also as the outer CPU under
	 * Tide) reports RSVD without P. Tolerated and counted unless strict=1.
	 */
	if (!strict && got_vec == VEC_PF && (want_err & PF_RSVD) &&
	    got_err == (want_err & ~PF_P)) {
		rsvd_without_p++;
		got_err = want_err;
	}
	ok = got_vec == want_vec && got_err == want_err &&
	     (got_pde & ~((a_mask & 1) ? PTE_A : 0)) == want_pde &&
	     (got_pte & ~((a_mask & 2) ? PTE_A : 0)) == want_pte;
	if (ok)
		return;
	if (++mismatches <= MAX_REPORTS) {
		char what[96], want[64], got[64];

		describe(what, sizeof(what), c, m);
		describe_outcome(want, sizeof(want), want_vec, want_err, want_pde, want_pte,
				 c->large, a_mask == 0);
		describe_outcome(got, sizeof(got), got_vec, got_err, got_pde, got_pte, c->large,
				 true);
		printf("pgtorture: MISMATCH %s: expected %s got %s\n", what, want, got);
	}
}

/* Present entry number i: R/W, U/S, then the spare bit (if spare). */
static int present(int i, int spare)
{
	return B_P | (i & 1 ? B_RW : 0) | (i & 2 ? B_U : 0) | (i & 4 ? spare : 0);
}

/*
 * PAE: 4 KiB: 2 not-present PDEs + 8 present x (2 not-present + 8 present
 * PTEs); 2 MiB: 2 + 8. 32-bit: 4 KiB: 2 + 4 x (2 + 4); 4 MiB: 2 + 8, only
 * with CR4.PSE=1 (with PSE=0 the 4 KiB PDEs have bit 7 set instead).
 */
static void run_configs(const struct mode *m)
{
	int spare = m->pae ? B_XD : 0; /* of the 4 KiB entries */
	int absent[] = { 0, B_RW | B_U | spare };
	int n = spare ? 8 : 4;
	struct config c;

	c.large = false;
	c.ps_ignored = !m->pae && !m->pse;
	for (int i = 0; i < 2; i++) {
		c.pde = absent[i];
		c.pte = B_P | B_RW | B_U;
		run_one(&c, m);
	}
	for (int pde = 0; pde < n; pde++) {
		c.pde = present(pde, spare);
		for (int i = 0; i < 2; i++) {
			c.pte = absent[i];
			run_one(&c, m);
		}
		for (int pte = 0; pte < n; pte++) {
			c.pte = present(pte, spare);
			run_one(&c, m);
		}
	}
	if (!m->pae && !m->pse)
		return;
	c.large = true;
	c.ps_ignored = false;
	c.pte = 0;
	absent[1] = B_RW | B_U | B_XD;
	for (int i = 0; i < 2; i++) {
		c.pde = absent[i];
		run_one(&c, m);
	}
	for (int pde = 0; pde < 8; pde++) {
		c.pde = present(pde, B_XD);
		run_one(&c, m);
	}
}

/* The SMEP, NXE, WP, CPL and access dimensions; paging is on. */
static void run_modes(struct mode *m, bool has_nx, bool has_smep)
{
	for (int smep = 0; smep <= (has_smep ? 1 : 0); smep++) {
		if (smep) {
			set_ident_user(m->pae, false);
			write_cr4(read_cr4() | CR4_SMEP);
		}
		for (int nxe = 0; nxe <= (has_nx ? 1 : 0); nxe++) {
			set_efer_nxe(nxe);
			for (int wp = 0; wp <= 1; wp++) {
				write_cr0(wp ? read_cr0() | CR0_WP : read_cr0() & ~CR0_WP);
				for (int user = 0; user <= (smep ? 0 : 1); user++) {
					for (int acc = ACC_READ; acc <= ACC_EXEC; acc++) {
						m->nxe = nxe;
						m->wp = wp;
						m->smep = smep;
						m->user = user;
						m->access = acc;
						run_configs(m);
					}
				}
			}
		}
		if (smep) {
			write_cr4(read_cr4() & ~CR4_SMEP);
			set_ident_user(m->pae, true);
		}
	}
	set_efer_nxe(false);
}

static void run_pae(bool has_nx, bool has_smep)
{
	struct mode m = { .pae = true };

	pdpt[0] = (u32)pd_ident | PTE_P;
	pdpt[1] = (u32)pd_win | PTE_P;
	set_ident_user(true, true);
	write_cr3((u32)pdpt);
	write_cr4(read_cr4() | CR4_PAE);
	write_cr0(read_cr0() | CR0_PG);
	run_modes(&m, has_nx, has_smep);
	write_cr0(read_cr0() & ~(CR0_PG | CR0_WP));
	write_cr4(read_cr4() & ~CR4_PAE);
}

/* CR4.PSE = 1 (if the CPU has it), then 0; CR4.PSE changes with paging on. */
static void run_32(bool has_nx, bool has_smep, bool has_pse)
{
	struct mode m = { .pae = false };

	set_ident_user(false, true);
	write_cr3((u32)pd32);
	write_cr4(read_cr4() & ~(CR4_PAE | CR4_PSE));
	write_cr0(read_cr0() | CR0_PG);
	for (int pse = has_pse ? 1 : 0; pse >= 0; pse--) {
		write_cr4(pse ? read_cr4() | CR4_PSE : read_cr4() & ~CR4_PSE);
		m.pse = pse;
		run_modes(&m, has_nx, has_smep);
	}
	write_cr0(read_cr0() & ~(CR0_PG | CR0_WP));
	write_cr4(read_cr4() & ~CR4_PSE);
}

/* paging=pae|32|all: RUN_* bits, 0 if malformed; RUN_PAE when absent. */
static int paging_option(void)
{
	static const struct {
		const char *word;
		int run;
	} values[] = { { "paging=pae", RUN_PAE }, { "paging=32", RUN_32 },
		       { "paging=all", RUN_PAE | RUN_32 } };
	const char *s = cmdline_args();
	int run = RUN_PAE;

	while (*s) {
		size_t n = 0;

		while (*s == ' ' || *s == '\t')
			s++;
		while (s[n] && s[n] != ' ' && s[n] != '\t')
			n++;
		if (n >= 6 && !strncmp(s, "paging", 6) && (n == 6 || s[6] == '=')) {
			run = 0;
			for (size_t i = 0; i < ARRAY_SIZE(values); i++)
				if (strlen(values[i].word) == n && !strncmp(s, values[i].word, n))
					run = values[i].run;
			if (!run)
				return 0;
		}
		s += n;
	}
	return run;
}

/* Prints the result line of one mode and resets the counters; true if clean. */
static bool report(void)
{
	bool clean = !mismatches;

	if (rsvd_without_p)
		printf("pgtorture: note: %u reserved-bit #PFs without P in the error code "
		       "(QEMU TCG does this; the SDM sets P; strict=1 counts them)\n",
		       rsvd_without_p);
	if (mismatches > MAX_REPORTS)
		printf("pgtorture: ... and %u more mismatches\n", mismatches - MAX_REPORTS);
	printf("pgtorture: %u combinations, %u mismatches\n", combos, mismatches);
	combos = mismatches = rsvd_without_p = 0;
	return clean;
}

int guest_main(u32 magic __unused, u32 mbi __unused)
{
	static const char *const known[] = { "strict", "paging", NULL };
	bool has_nx, has_smep, has_pse, clean = true;
	int run;
	u64 v = 0;

	cmdline_check(known);
	if (cmdline_u64("strict", &v) < 0 || v > 1) {
		printf("pgtorture: error: strict must be 0 or 1\n");
		return EXIT_USAGE;
	}
	strict = v;
	run = paging_option();
	if (!run) {
		printf("pgtorture: error: paging must be pae, 32 or all\n");
		return EXIT_USAGE;
	}
	has_nx = cpuid(0x80000000, 0).eax >= 0x80000001 &&
		 (cpuid(0x80000001, 0).edx & (1u << 20));
	has_smep = cpuid(0, 0).eax >= 7 && (cpuid(7, 0).ebx & (1u << 7));
	has_pse = cpuid(1, 0).edx & (1u << 3);
	if ((u32)_end > LARGE_FRAME ||
	    !mb_range_is_ram(LARGE_FRAME, (run & RUN_32) ? 4 * MiB : 2 * MiB)) {
		printf("pgtorture: error: need RAM at 4-%u MiB above the image\n",
		       (run & RUN_32) ? 8 : 6);
		return EXIT_USAGE;
	}

	if (run & RUN_PAE) {
		printf("pgtorture: PAE paging, NX %s, SMEP %s\n", has_nx ? "yes" : "no",
		       has_smep ? "yes" : "no");
		test_page[0] = 0xc3;
		*(volatile u8 *)LARGE_FRAME = 0xc3;
		run_pae(has_nx, has_smep);
		clean &= report();
	}
	if (run & RUN_32) {
		printf("pgtorture: 32-bit paging, PSE %s, SMEP %s, NX %s\n",
		       has_pse ? "yes" : "no", has_smep ? "yes" : "no", has_nx ? "yes" : "no");
		test_page[0] = 0xc3;
		*(volatile u8 *)LARGE_FRAME = 0xc3;
		run_32(has_nx, has_smep, has_pse);
		clean &= report();
	}
	return clean ? EXIT_OK : EXIT_FAIL;
}
