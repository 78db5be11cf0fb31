/*
 * asguest: the address-space guest. It turns on its own PAE paging (as
 * pgtorture does) and builds NSPACES address spaces, like processes, then
 * stresses what a shadow MMU must get right: CR3 switches, PTE changes with
 * INVLPG or a CR3 reload as the flush, unmapped pages, page tables shared by
 * several spaces, one frame aliased at thousands of addresses, and R/W ->
 * read-only changes. On bare hardware (or EPT/NPT) every check holds; a
 * shadow MMU with a stale translation shows another frame's data, misses a
 * fault or takes a spurious one.
 *
 * Layout (a pool of RAM at POOL_BASE, identity mapped, so table and frame
 * addresses are also pointers once paging is on):
 *   every space: its own PDPT; PDPT[0] -> pd_ident, shared: 0-1 GiB
 *   identity with 2 MiB pages; PDPT[1] -> its own pd_win:
 *     pd_win[0] -> its own pt_win: WIN_BASE, WIN_PAGES pages, each to its
 *                  own frame (space s page j: frame s*WIN_PAGES + j);
 *     pd_win[1] -> shared_pt (spaces < SHARED_SPACES only): SHARED_BASE;
 *     pd_win[2..9] -> alias_pt[0..7] (spaces 0 and 1): ALIAS_BASE, 4096
 *                  PTEs all to alias_frame.
 * Data frame f holds: word 0 a version the guest tracks (bumped by writes
 * through the windows), word 1 TAG | f (so a wrong translation is named),
 * words 2.. a hash of (f, word). The model (map[][], ver[]) says what each
 * window page must show; "final" verifies every frame through the identity
 * map, so a write that went through a stale translation is caught too.
 *
 * Output: "asguest: <phase>: ok" or "asguest: <phase>: FAILED (<first
 * error>; N errors)", then "asguest: N phases, M failed". Exit 0 iff M == 0;
 * 3 if the pool is not RAM. CR0.WP is set, so ring-0 writes honour R/W.
 */
#include "guest/lib/cmdline.h"
#include "guest/lib/cpu.h"
#include "guest/lib/div64.h"
#include "guest/lib/exit.h"
#include "guest/lib/guest.h"
#include "guest/lib/multiboot.h"
#include "guest/lib/printf.h"
#include "guest/lib/string.h"
#include "guest/lib/trap.h"

const char guest_name[] = "asguest";

#define PTE_P (1u << 0)
#define PTE_RW (1u << 1)
#define PTE_U (1u << 2)
#define PTE_A (1u << 5)
#define PTE_D (1u << 6)
#define PTE_PS (1u << 7)

#define PF_P (1u << 0)
#define PF_W (1u << 1)

#define CR0_WP (1u << 16)
#define CR0_PG (1u << 31)
#define CR4_PAE (1u << 5)

#define NSPACES 32
#define WIN_PAGES 16
#define SHARED_SPACES 8
#define SHARED_PAGES 16
#define NALIAS 4096
#define ALIAS_PTS (NALIAS / 512)
#define ALIAS_SPACES 2

#define WIN_BASE 0x40000000u /* pd_win[0] */
#define SHARED_BASE 0x40200000u /* pd_win[1] */
#define ALIAS_BASE 0x40400000u /* pd_win[2..9] */

/* Data frames: the windows', spares for remapping, the shared PT's. */
#define F_WIN 0
#define F_SPARE (NSPACES * WIN_PAGES)
#define N_SPARE 64
#define F_SHARED (F_SPARE + N_SPARE)
#define NFRAMES (F_SHARED + 2 * SHARED_PAGES)

#define TAG 0xa5000000u
#define TAG_MASK 0xffff0000u
#define NOFRAME (-1)

#define POOL_BASE (4 * MiB)
#define POOL_SIZE (4 * MiB)

static u32 pool_next;

/* Tables (physical = virtual: identity mapped). */
static u64 *pdpt[NSPACES];
static u64 *pd_ident;
static u64 *pd_win[NSPACES];
static u64 *pt_win[NSPACES];
static u64 *shared_pt;
static u64 *alias_pt[ALIAS_PTS];
static u32 frames_base; /* NFRAMES contiguous frames */
static u32 alias_frame;

/* The model. */
static int map[NSPACES][WIN_PAGES]; /* frame of each window page, NOFRAME */
static int shared_map[SHARED_PAGES];
static u32 ver[NFRAMES];

static int cur_space = -1;
static u32 phase_errors, phases, phases_failed;
static char phase_first[160];

#define FAIL(...)                                                                  \
	do {                                                                       \
		if (!phase_errors++)                                               \
			snprintf(phase_first, sizeof(phase_first), __VA_ARGS__);   \
	} while (0)

static inline u32 read_cr2(void)
{
	u32 v;

	asm volatile("mov %%cr2, %0" : "=r"(v));
	return v;
}

static void invlpg(u32 addr)
{
	asm volatile("invlpg (%0)" : : "r"(addr) : "memory");
}

static void flush_cr3(void)
{
	write_cr3(read_cr3());
}

static void *page_alloc(void)
{
	void *p = (void *)pool_next;

	memset(p, 0, 4096);
	pool_next += 4096;
	return p;
}

static u32 frame_pa(int f)
{
	return frames_base + (u32)f * 4096;
}

static u32 hash(u32 f, u32 w)
{
	u32 x = f * 0x9e3779b1u ^ (w + 1) * 0x85ebca77u;

	x ^= x >> 15;
	x *= 0x2c1b3c6du;
	return x ^ (x >> 13);
}

/* A PTE: high half (always 0 here) first, then the low half with P. */
static void set_entry(u64 *e, u32 low)
{
	volatile u32 *p = (volatile u32 *)e;

	p[1] = 0;
	p[0] = low;
}

static u32 entry_low(u64 *e)
{
	return *(volatile u32 *)e;
}

static int rd(u32 va, u32 *v)
{
	u32 x = 0;
	int vec = TRY("movl (%1), %0", : "+r"(x) : "r"(va) : "memory");

	*v = x;
	return vec;
}

static int wr(u32 va, u32 v)
{
	return TRY("movl %0, (%1)", : : "r"(v), "r"(va) : "memory");
}

static volatile u32 *phys(u32 pa)
{
	return (volatile u32 *)pa;
}

static void switch_to(int s)
{
	write_cr3((u32)pdpt[s]);
	cur_space = s;
}

/* Maps window page j of space s to frame f (NOFRAME: not present). */
static void set_map(int s, int j, int f)
{
	set_entry(&pt_win[s][j], f == NOFRAME ? 0 : frame_pa(f) | PTE_P | PTE_RW);
	map[s][j] = f;
}

static void set_shared(int j, int f)
{
	set_entry(&shared_pt[j], f == NOFRAME ? 0 : frame_pa(f) | PTE_P | PTE_RW);
	shared_map[j] = f;
}

/* An access that must fault with this error code, CR2 = va. */
static void expect_pf(u32 va, int vec, u32 err, const char *what)
{
	if (vec == TRAP_NONE) {
		FAIL("space %d %s at 0x%x did not fault", cur_space, what, va);
		return;
	}
	if (vec != VEC_PF || trap_last.error_code != err || read_cr2() != va)
		FAIL("space %d %s at 0x%x: %s err=0x%x cr2=0x%x, expected #PF err=0x%x",
		     cur_space, what, va, trap_name(vec), trap_last.error_code, read_cr2(), err);
}

static void expect_ok(u32 va, int vec, const char *what)
{
	if (vec != TRAP_NONE)
		FAIL("space %d %s at 0x%x: %s err=0x%x", cur_space, what, va, trap_name(vec),
		     trap_last.error_code);
}

/*
 * Page at va must show frame f (NOFRAME: must fault on a read): its tag,
 * its version and one hashed word picked by salt.
 */
static void check_page(u32 va, int f, u32 salt)
{
	u32 v, w = 2 + salt % 1022;
	int vec = rd(va + 4, &v);

	if (f == NOFRAME) {
		expect_pf(va + 4, vec, 0, "read of unmapped page");
		return;
	}
	if (vec != TRAP_NONE) {
		expect_ok(va + 4, vec, "read");
		return;
	}
	if (v != (TAG | (u32)f)) {
		if ((v & TAG_MASK) == TAG)
			FAIL("space %d va 0x%x sees frame %u, expected frame %d", cur_space, va,
			     v & ~TAG_MASK, f);
		else
			FAIL("space %d va 0x%x: tag 0x%x, expected frame %d", cur_space, va, v, f);
		return;
	}
	if (rd(va, &v) != TRAP_NONE || v != ver[f]) {
		FAIL("space %d va 0x%x frame %d: version 0x%x, expected 0x%x", cur_space, va, f,
		     v, ver[f]);
		return;
	}
	if (rd(va + 4 * w, &v) != TRAP_NONE || v != hash(f, w))
		FAIL("space %d va 0x%x frame %d word %u: 0x%x, expected 0x%x", cur_space, va, f,
		     w, v, hash(f, w));
}

/* The current space's window as space s's table says (s != current: pt-swap). */
static void check_window_as(int s, u32 salt)
{
	for (int j = 0; j < WIN_PAGES; j++)
		check_page(WIN_BASE + j * 4096, map[s][j], salt + j * 37);
}

static void check_window(u32 salt)
{
	check_window_as(cur_space, salt);
}

static void check_shared(u32 salt)
{
	for (int j = 0; j < SHARED_PAGES; j++)
		check_page(SHARED_BASE + j * 4096, shared_map[j], salt + j * 41);
}

/* Writes the next version of frame f through va; checks it lands in f. */
static void bump(u32 va, int f)
{
	int vec = wr(va, ver[f] + 1);

	if (vec != TRAP_NONE) {
		expect_ok(va, vec, "write");
		return;
	}
	ver[f]++;
	if (*phys(frame_pa(f)) != ver[f])
		FAIL("space %d write at 0x%x did not reach frame %d", cur_space, va, f);
}

/* ---- phases ---- */

/* Every space in turn, 8 rounds in different orders: check, then write. */
static void phase_switch(void)
{
	for (u32 r = 0; r < 8; r++) {
		for (int k = 0; k < NSPACES; k++) {
			int s = (k * 13 + r * 7) % NSPACES;
			int j1 = r % WIN_PAGES, j2 = (r + s) % WIN_PAGES;

			switch_to(s);
			check_window(r * 101 + s);
			bump(WIN_BASE + j1 * 4096, map[s][j1]);
			if (j2 != j1)
				bump(WIN_BASE + j2 * 4096, map[s][j2]);
		}
	}
}

/*
 * In the current space, per page: to a spare frame, unmapped (faults), back,
 * each change flushed with INVLPG; odd spaces then rotate their window.
 */
static void phase_remap(void)
{
	for (int s = 0; s < NSPACES; s++) {
		switch_to(s);
		for (int j = 0; j < WIN_PAGES; j++) {
			u32 va = WIN_BASE + j * 4096, v;
			int f = map[s][j], sp = F_SPARE + (s * WIN_PAGES + j) % N_SPARE;

			check_page(va, f, s + j); /* in the TLB now */
			set_map(s, j, sp);
			invlpg(va);
			check_page(va, sp, s * 3 + j);
			bump(va, sp);
			set_map(s, j, NOFRAME);
			invlpg(va);
			expect_pf(va, rd(va, &v), 0, "read of unmapped page");
			expect_pf(va + 8, wr(va + 8, 0xdeadbeef), PF_W, "write to unmapped page");
			set_map(s, j, f);
			invlpg(va);
			check_page(va, f, s * 5 + j);
		}
		if (s & 1) {
			int first = map[s][0];

			for (int j = 0; j < WIN_PAGES; j++) {
				set_map(s, j, j + 1 < WIN_PAGES ? map[s][j + 1] : first);
				invlpg(WIN_BASE + j * 4096);
			}
			check_window(s * 7);
		}
	}
}

/* Unmapping with a CR3 reload as the flush: all PTEs, then the PDE. */
static void phase_unmap_cr3(void)
{
	for (int s = 0; s < NSPACES; s++) {
		int saved[WIN_PAGES];
		u32 pde, v;

		switch_to(s);
		check_window(s * 11);
		for (int j = 0; j < WIN_PAGES; j++) {
			saved[j] = map[s][j];
			set_map(s, j, NOFRAME);
		}
		flush_cr3();
		check_window(s * 11 + 1);
		for (int j = 0; j < WIN_PAGES; j++)
			set_map(s, j, saved[j]);
		flush_cr3();
		check_window(s * 11 + 2);

		pde = entry_low(&pd_win[s][0]);
		set_entry(&pd_win[s][0], 0);
		flush_cr3();
		for (int j = 0; j < WIN_PAGES; j++) {
			u32 va = WIN_BASE + j * 4096;

			expect_pf(va, rd(va, &v), 0, "read under unmapped PDE");
		}
		set_entry(&pd_win[s][0], pde);
		flush_cr3();
		check_window(s * 11 + 3);
	}
}

/* A PDE switched to another space's page table and back. */
static void phase_pt_swap(void)
{
	for (int s = 0; s < NSPACES; s++) {
		int o = (s + 1) % NSPACES;
		u32 pde;

		switch_to(s);
		check_window(s * 13);
		pde = entry_low(&pd_win[s][0]);
		set_entry(&pd_win[s][0], (u32)pt_win[o] | PTE_P | PTE_RW);
		if (s & 1) {
			flush_cr3();
		} else {
			for (int j = 0; j < WIN_PAGES; j++)
				invlpg(WIN_BASE + j * 4096);
		}
		check_window_as(o, s * 13 + 1);
		set_entry(&pd_win[s][0], pde);
		if (s & 1) {
			flush_cr3();
		} else {
			for (int j = 0; j < WIN_PAGES; j++)
				invlpg(WIN_BASE + j * 4096);
		}
		check_window(s * 13 + 2);
	}
}

/*
 * One page table in SHARED_SPACES spaces: changed (INVLPG) while one space
 * is current, the others must see the change after their CR3 switch.
 */
static void phase_shared_pt(void)
{
	for (int j = 0; j < SHARED_PAGES; j++)
		set_shared(j, F_SHARED + j);
	for (int s = 0; s < SHARED_SPACES; s++)
		set_entry(&pd_win[s][1], (u32)shared_pt | PTE_P | PTE_RW);
	for (int s = 0; s < SHARED_SPACES; s++) {
		switch_to(s);
		check_shared(s);
		check_window(s);
	}
	for (int r = 0; r < SHARED_SPACES; r++) {
		int a = 2 * r, b = 2 * r + 1, fa = shared_map[a];
		u32 va = SHARED_BASE + a * 4096, vb = SHARED_BASE + b * 4096;

		switch_to(r);
		set_shared(a, fa < F_SHARED + SHARED_PAGES ? fa + SHARED_PAGES : fa - SHARED_PAGES);
		invlpg(va);
		check_page(va, shared_map[a], r);
		bump(va, shared_map[a]);
		set_shared(b, NOFRAME);
		invlpg(vb);
		check_page(vb, NOFRAME, r);
		for (int k = 1; k <= SHARED_SPACES; k++) {
			switch_to((r + k) % SHARED_SPACES);
			check_shared(r * 17 + k);
		}
	}
	/* all back, flushed by the switches */
	switch_to(0);
	for (int j = 1; j < SHARED_PAGES; j += 2)
		set_shared(j, F_SHARED + j);
	for (int s = SHARED_SPACES - 1; s >= 0; s--) {
		switch_to(s);
		check_shared(s * 3);
	}
}

/*
 * One frame at NALIAS addresses (ALIAS_PTS page tables): a write through
 * alias 2k is read back through an odd alias and the identity map; then
 * the even PTEs must be A and D, the odd ones A only; space 1 (same alias
 * tables) sees the same data.
 */
static void phase_alias(void)
{
	volatile u32 *frame = phys(alias_frame);
	u32 v;

	switch_to(0);
	for (u32 k = 0; k < NALIAS / 2; k++) {
		u32 w = k % 1024, val = 0x51000000u ^ (k * 0x01000193u);
		u32 writer = ALIAS_BASE + 2 * k * 4096 + 4 * w;
		u32 rk = (k * 1237 + 5) % (NALIAS / 2);
		u32 reader = ALIAS_BASE + (2 * rk + 1) * 4096 + 4 * w;
		int vec = wr(writer, val);

		if (vec != TRAP_NONE) {
			expect_ok(writer, vec, "alias write");
			continue;
		}
		if (frame[w] != val)
			FAIL("alias write at 0x%x: frame has 0x%x, expected 0x%x", writer, frame[w],
			     val);
		vec = rd(reader, &v);
		if (vec != TRAP_NONE)
			expect_ok(reader, vec, "alias read");
		else if (v != val)
			FAIL("alias read at 0x%x: 0x%x, expected 0x%x (written at 0x%x)", reader, v,
			     val, writer);
	}
	for (u32 i = 0; i < NALIAS; i++) {
		u32 low = entry_low(&alias_pt[i / 512][i % 512]);
		u32 want = (i & 1) ? PTE_A : PTE_A | PTE_D;

		if ((low & (PTE_A | PTE_D)) != want) {
			FAIL("alias %u PTE 0x%x: A/D %s%s, expected %s%s", i, low,
			     (low & PTE_A) ? "A" : "-", (low & PTE_D) ? "D" : "-",
			     (want & PTE_A) ? "A" : "-", (want & PTE_D) ? "D" : "-");
			break;
		}
	}
	switch_to(1);
	for (u32 i = 0; i < 1024; i++) {
		u32 va = ALIAS_BASE + ((i * 2713 + 11) % NALIAS) * 4096 + 4 * i;

		if (rd(va, &v) != TRAP_NONE || v != frame[i]) {
			FAIL("space 1 alias read at 0x%x: 0x%x, expected 0x%x", va, v, frame[i]);
			break;
		}
	}
}

/*
 * R/W -> read-only after a write (a writable, dirty TLB entry): the next
 * write must fault, reads still work, R/W again lets writes through.
 * Flushed with INVLPG per page, or with a CR3 reload (PTEs, then the PDE).
 */
static void ro_write_faults(u32 va, int f)
{
	u32 v;
	int vec = wr(va, 0xdeadbeef);

	expect_pf(va, vec, PF_P | PF_W, "write to read-only page");
	if (vec == TRAP_NONE)
		*phys(frame_pa(f)) = ver[f];
	if (rd(va, &v) != TRAP_NONE || v != ver[f])
		FAIL("space %d read-only va 0x%x: 0x%x, expected 0x%x", cur_space, va, v, ver[f]);
}

static void phase_readonly_invlpg(void)
{
	for (int s = 0; s < NSPACES; s++) {
		switch_to(s);
		for (int j = 0; j < WIN_PAGES; j++) {
			u32 va = WIN_BASE + j * 4096, pte = entry_low(&pt_win[s][j]);
			int f = map[s][j];

			bump(va, f);
			set_entry(&pt_win[s][j], pte & ~PTE_RW);
			invlpg(va);
			ro_write_faults(va, f);
			set_entry(&pt_win[s][j], pte | PTE_RW);
			invlpg(va);
			bump(va, f);
			check_page(va, f, s + j);
		}
	}
}

static void phase_readonly_cr3(void)
{
	for (int s = 0; s < NSPACES; s++) {
		u32 pde = entry_low(&pd_win[s][0]);

		switch_to(s);
		for (int j = 0; j < WIN_PAGES; j++)
			bump(WIN_BASE + j * 4096, map[s][j]);
		for (int j = 0; j < WIN_PAGES; j++)
			set_entry(&pt_win[s][j], entry_low(&pt_win[s][j]) & ~PTE_RW);
		flush_cr3();
		for (int j = 0; j < WIN_PAGES; j++)
			ro_write_faults(WIN_BASE + j * 4096, map[s][j]);
		for (int j = 0; j < WIN_PAGES; j++)
			set_entry(&pt_win[s][j], entry_low(&pt_win[s][j]) | PTE_RW);
		flush_cr3();
		for (int j = 0; j < WIN_PAGES; j++)
			bump(WIN_BASE + j * 4096, map[s][j]);

		set_entry(&pd_win[s][0], pde & ~PTE_RW);
		flush_cr3();
		for (int j = 0; j < WIN_PAGES; j++)
			ro_write_faults(WIN_BASE + j * 4096, map[s][j]);
		set_entry(&pd_win[s][0], pde | PTE_RW);
		flush_cr3();
		for (int j = 0; j < WIN_PAGES; j++)
			bump(WIN_BASE + j * 4096, map[s][j]);
		check_window(s * 19);
	}
}

#define CR4_SMAP (1u << 21)

/*
 * SMAP, if the CPU has it: window page 0 of space 0 made a user page (U in
 * its PDE and PTE); with CR4.SMAP, supervisor reads and writes of it fault
 * (P, and W for the write) unless EFLAGS.AC is set (STAC), as on the CPU.
 */
static void phase_smap(void)
{
	u32 pde = entry_low(&pd_win[0][0]), pte = entry_low(&pt_win[0][0]), v;
	int f = map[0][0];

	if (!(cpuid(7, 0).ebx & (1u << 20)))
		return; /* no SMAP: nothing to check */
	switch_to(0);
	set_entry(&pd_win[0][0], pde | PTE_U);
	set_entry(&pt_win[0][0], pte | PTE_U);
	flush_cr3();
	write_cr4(read_cr4() | CR4_SMAP);
	expect_pf(WIN_BASE, rd(WIN_BASE, &v), PTE_P, "SMAP read of a user page");
	expect_pf(WIN_BASE, wr(WIN_BASE, 0), PTE_P | PTE_RW, "SMAP write of a user page");
	asm volatile(".byte 0x0f, 0x01, 0xcb" ::: "memory"); /* stac */
	expect_ok(WIN_BASE, rd(WIN_BASE, &v), "read of a user page with EFLAGS.AC");
	asm volatile(".byte 0x0f, 0x01, 0xca" ::: "memory"); /* clac */
	write_cr4(read_cr4() & ~CR4_SMAP);
	expect_ok(WIN_BASE, rd(WIN_BASE, &v), "read of a user page, SMAP off");
	set_entry(&pd_win[0][0], pde);
	set_entry(&pt_win[0][0], pte);
	flush_cr3();
	check_page(WIN_BASE, f, 0);
}

/* Every space once more, then every frame's contents through the identity map. */
static void phase_final(void)
{
	for (int s = NSPACES - 1; s >= 0; s--) {
		switch_to(s);
		check_window(s * 23 + 5);
		if (s < SHARED_SPACES)
			check_shared(s * 29);
	}
	for (int f = 0; f < NFRAMES; f++) {
		volatile u32 *p = phys(frame_pa(f));

		if (p[0] != ver[f] || p[1] != (TAG | (u32)f)) {
			FAIL("frame %d: version 0x%x tag 0x%x, expected 0x%x 0x%x", f, p[0], p[1],
			     ver[f], TAG | (u32)f);
			continue;
		}
		for (u32 w = 2; w < 1024; w++) {
			if (p[w] != hash(f, w)) {
				FAIL("frame %d word %u: 0x%x, expected 0x%x (a stray write)", f, w,
				     p[w], hash(f, w));
				break;
			}
		}
	}
}

static void run_phase(const char *name, void (*fn)(void))
{
	phase_errors = 0;
	phase_first[0] = 0;
	fn();
	phases++;
	if (!phase_errors) {
		printf("asguest: %s: ok\n", name);
		return;
	}
	phases_failed++;
	printf("asguest: %s: FAILED (%s; %u error%s)\n", name, phase_first, phase_errors,
	       phase_errors == 1 ? "" : "s");
}

static void setup(void)
{
	pool_next = POOL_BASE;
	pd_ident = page_alloc();
	for (int i = 0; i < 512; i++)
		pd_ident[i] = ((u64)i << 21) | PTE_P | PTE_RW | PTE_PS;
	shared_pt = page_alloc();
	for (int i = 0; i < ALIAS_PTS; i++)
		alias_pt[i] = page_alloc();
	alias_frame = (u32)page_alloc();
	for (int i = 0; i < NALIAS; i++)
		alias_pt[i / 512][i % 512] = alias_frame | PTE_P | PTE_RW;
	for (int s = 0; s < NSPACES; s++) {
		pdpt[s] = page_alloc();
		pd_win[s] = page_alloc();
		pt_win[s] = page_alloc();
		pdpt[s][0] = (u32)pd_ident | PTE_P;
		pdpt[s][1] = (u32)pd_win[s] | PTE_P;
		pd_win[s][0] = (u32)pt_win[s] | PTE_P | PTE_RW;
		if (s < ALIAS_SPACES)
			for (int i = 0; i < ALIAS_PTS; i++)
				pd_win[s][2 + i] = (u32)alias_pt[i] | PTE_P | PTE_RW;
	}
	frames_base = pool_next;
	for (int f = 0; f < NFRAMES; f++) {
		volatile u32 *p = phys(frame_pa(f));

		ver[f] = (u32)f << 16;
		p[0] = ver[f];
		p[1] = TAG | (u32)f;
		for (u32 w = 2; w < 1024; w++)
			p[w] = hash(f, w);
	}
	pool_next += NFRAMES * 4096;
	for (int s = 0; s < NSPACES; s++)
		for (int j = 0; j < WIN_PAGES; j++)
			set_map(s, j, F_WIN + s * WIN_PAGES + j);
	for (int j = 0; j < SHARED_PAGES; j++)
		shared_map[j] = NOFRAME;
}

/*
 * switches=N spaces=K (make bench): after the phases, N CR3 switches
 * round-robin over K spaces, each followed by one read in the window; the
 * ticks per switch measure what an address-space switch costs (with shadow
 * paging: a cached shadow root or a rebuilt one).
 */
static void switch_loop(u32 n, u32 k)
{
	u64 t0 = rdtsc();
	u32 sum = 0;

	for (u32 i = 0; i < n; i++) {
		switch_to((int)(i % k));
		sum += *(volatile u32 *)(WIN_BASE + ((i / k) % WIN_PAGES) * 4096);
	}
	printf("asguest: switch loop: %u switches among %u spaces, %llu ticks per switch "
	       "(sum %x)\n", n, k, div_u64(rdtsc() - t0, n), sum);
}

int guest_main(u32 magic __unused, u32 mbi __unused)
{
	static const char *const known[] = { "switches", "spaces", NULL };
	u64 switches = 0, spaces = 4, t0;

	if (cmdline_check(known) || cmdline_u64("switches", &switches) < 0 ||
	    cmdline_u64("spaces", &spaces) < 0 || !spaces || spaces > NSPACES) {
		printf("asguest: usage: [switches=N] [spaces=1..%d]\n", NSPACES);
		return EXIT_USAGE;
	}
	if ((u32)_end > POOL_BASE || !mb_range_is_ram(POOL_BASE, POOL_SIZE)) {
		printf("asguest: error: need RAM at 4-8 MiB above the image\n");
		return EXIT_USAGE;
	}
	setup();
	printf("asguest: PAE paging, %d address spaces, %d-page window, %d aliases, "
	       "%u KiB of tables and frames\n",
	       NSPACES, WIN_PAGES, NALIAS, (pool_next - POOL_BASE) / 1024);

	switch_to(0);
	write_cr4(read_cr4() | CR4_PAE);
	write_cr0(read_cr0() | CR0_PG | CR0_WP);

	t0 = rdtsc();
	run_phase("switch", phase_switch);
	run_phase("remap-invlpg", phase_remap);
	run_phase("unmap-cr3", phase_unmap_cr3);
	run_phase("pt-swap", phase_pt_swap);
	run_phase("shared-pt", phase_shared_pt);
	run_phase("alias", phase_alias);
	run_phase("readonly-invlpg", phase_readonly_invlpg);
	run_phase("readonly-cr3", phase_readonly_cr3);
	run_phase("smap", phase_smap);
	run_phase("final", phase_final);
	printf("asguest: phases took %llu ticks\n", rdtsc() - t0);
	if (switches)
		switch_loop((u32)switches, (u32)spaces);

	write_cr0(read_cr0() & ~(CR0_PG | CR0_WP));
	write_cr4(read_cr4() & ~CR4_PAE);

	printf("asguest: %u phases, %u failed\n", phases, phases_failed);
	return phases_failed ? EXIT_FAIL : EXIT_OK;
}
