/*
 * x86 instruction decoder for exit handling (see x86_decode.h).
 *
 * This file owns: instruction length in 16-, 32- and 64-bit code (legacy
 * prefixes, REX, the one-byte, 0F, 0F 38 and 0F 3A maps, VEX, EVEX and XOP,
 * ModRM/SIB/displacement, immediates), the validity checks that change what
 * a guest would see (invalid-in-64 opcodes, LOCK, the 15-byte limit), and
 * the MMIO view of MOV-like instructions with the register rules to finish
 * them. Per-opcode facts live in the two tables below; the code only walks
 * the encoding.
 *
 * It is deliberately lenient inside the SSE/AVX maps: every 0F 38 and 0F 3A
 * opcode is taken as ModRM (+ ib), since only the length matters there.
 * Where Intel and AMD differ, AMD wins (Tide runs guests under SVM): a 66
 * prefix on a near branch in 64-bit mode makes it 16-bit (rel16).
 */
#include "kernel/errno.h"
#include "kernel/string.h"
#include "kernel/x86_decode.h"

/* Per-opcode flags (u16). */
#define M 0x0001 /* a ModRM byte follows the opcode */
#define X 0x0002 /* undefined opcode: #UD */
#define X64 0x0004 /* invalid in 64-bit mode */
#define D64 0x0008 /* operand size defaults to 64 bits in 64-bit mode */
#define LK 0x0010 /* LOCK allowed (with a memory destination) */
#define MEM 0x0020 /* ModRM must name memory (mod != 11) */
#define GRP 0x0040 /* ModRM.reg changes validity or immediate: fix_group() */
#define RR 0x0080 /* ModRM.mod is ignored, always registers (MOV CR/DR) */

/* The immediate kind, in the top bits of the same u16. */
#define IMM_SHIFT 12
#define IMM_MASK (0xf << IMM_SHIFT)
enum imm_kind {
	IMM_NONE,
	IMM_B, /* ib */
	IMM_W, /* iw */
	IMM_D, /* id, whatever the operand size (XOP map 0A) */
	IMM_Z, /* iw or id by operand size; id with REX.W, sign-extended */
	IMM_V, /* iw, id or iq by operand size (B8-BF) */
	IMM_ENTER, /* iw, ib */
	IMM_BB, /* ib, ib (EXTRQ/INSERTQ) */
	IMM_FAR, /* ptr16:16 or ptr16:32 */
	IMM_MOFFS, /* an offset of the address size (A0-A3) */
};
#define Ib (IMM_B << IMM_SHIFT)
#define Iw (IMM_W << IMM_SHIFT)
#define Id (IMM_D << IMM_SHIFT)
#define Iz (IMM_Z << IMM_SHIFT)
#define Iv (IMM_V << IMM_SHIFT)
#define Iwb (IMM_ENTER << IMM_SHIFT)
#define Ibb (IMM_BB << IMM_SHIFT)
#define Ap (IMM_FAR << IMM_SHIFT)
#define Ov (IMM_MOFFS << IMM_SHIFT)

/* ALU rows 00-3F: op r/m,r and op r,r/m (byte, full), op AL,ib, op eAX,iz. */
#define ALU_LK M | LK, M | LK, M, M, Ib, Iz
#define ALU M, M, M, M, Ib, Iz
#define D64x8 D64, D64, D64, D64, D64, D64, D64, D64
#define JCC8 Ib | D64, Ib | D64, Ib | D64, Ib | D64, \
	     Ib | D64, Ib | D64, Ib | D64, Ib | D64

/*
 * The one-byte map, a row of 16 per line (the [row] index makes a row that
 * is too long an error). Prefixes (26 2E 36 3E 64-67 F0 F2 F3, and 40-4F in
 * 64-bit mode) and the 0F escape never get here: their entries are 0.
 */
static const u16 onebyte[256] = {
	/* ADD, PUSH/POP ES, OR, PUSH CS, 0F */
	[0x00] = ALU_LK, X64, X64, ALU_LK, X64, 0,
	/* ADC, PUSH/POP SS, SBB, PUSH/POP DS */
	[0x10] = ALU_LK, X64, X64, ALU_LK, X64, X64,
	/* AND, ES:, DAA, SUB, CS:, DAS */
	[0x20] = ALU_LK, 0, X64, ALU_LK, 0, X64,
	/* XOR, SS:, AAA, CMP, DS:, AAS */
	[0x30] = ALU_LK, 0, X64, ALU, 0, X64,
	/* INC/DEC r (REX in 64-bit mode) */
	[0x40] = 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	/* PUSH r, POP r */
	[0x50] = D64x8, D64x8,
	/* PUSHA POPA BOUND ARPL/MOVSXD FS: GS: 66 67, PUSH IMUL PUSH IMUL INS OUTS */
	[0x60] = X64, X64, M | MEM | X64, M, 0, 0, 0, 0,
		 Iz | D64, M | Iz, Ib | D64, M | Ib, 0, 0, 0, 0,
	/* Jcc rel8 */
	[0x70] = JCC8, JCC8,
	/* group 1, TEST, XCHG, MOV, MOV from sreg, LEA, MOV to sreg, POP r/m or XOP */
	[0x80] = M | Ib | LK, M | Iz | LK, M | Ib | LK | X64, M | Ib | LK,
		 M, M, M | LK, M | LK,
		 M, M, M, M, M, M | MEM, M, M | GRP | D64,
	/* XCHG/NOP, CBW CWD, CALLF, FWAIT, PUSHF POPF, SAHF LAHF */
	[0x90] = 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, Ap | X64, 0, D64, D64, 0, 0,
	/* MOV moffs, MOVS CMPS, TEST AL/eAX, STOS LODS SCAS */
	[0xa0] = Ov, Ov, Ov, Ov, 0, 0, 0, 0, Ib, Iz, 0, 0, 0, 0, 0, 0,
	/* MOV r8, ib; MOV r, iv */
	[0xb0] = Ib, Ib, Ib, Ib, Ib, Ib, Ib, Ib, Iv, Iv, Iv, Iv, Iv, Iv, Iv, Iv,
	/* shifts ib, RET iw, RET, LES LDS or VEX, MOV r/m, imm (group 11),
	 * ENTER LEAVE RETF iw RETF INT3 INT ib INTO IRET */
	[0xc0] = M | Ib, M | Ib, Iw | D64, D64, M | MEM | X64, M | MEM | X64,
		 M | Ib | GRP, M | Iz | GRP,
		 Iwb | D64, D64, Iw, 0, 0, Ib, X64, 0,
	/* shifts by 1 and CL, AAM AAD SALC XLAT, x87 */
	[0xd0] = M, M, M, M, Ib | X64, Ib | X64, X64, 0, M, M, M, M, M, M, M, M,
	/* LOOPNE LOOPE LOOP JCXZ, IN OUT ib, CALL JMP rel, JMPF, JMP rel8, IN OUT dx */
	[0xe0] = Ib | D64, Ib | D64, Ib | D64, Ib | D64, Ib, Ib, Ib, Ib,
		 Iz | D64, Iz | D64, Ap | X64, Ib | D64, 0, 0, 0, 0,
	/* LOCK INT1 REPNE REP HLT CMC, group 3, CLC STC CLI STI CLD STD, groups 4 5 */
	[0xf0] = 0, 0, 0, 0, 0, 0, M | GRP | LK, M | GRP | LK,
		 0, 0, 0, 0, 0, 0, M | GRP | LK, M | GRP | LK,
};

#define M8 M, M, M, M, M, M, M, M
#define JCCz Iz | D64, Iz | D64, Iz | D64, Iz | D64

/* The 0F map. The 0F 38 and 0F 3A escapes are handled before it. */
static const u16 twobyte[256] = {
	/* group 6, group 7, LAR LSL, SYSCALL CLTS SYSRET INVD WBINVD, UD2,
	 * PREFETCH (AMD), FEMMS, 3DNow! (ModRM, then the opcode suffix as ib) */
	[0x00] = M, M, M, M, X, 0, 0, 0, 0, 0, X, 0, X, M, 0, M | Ib,
	/* SSE moves; hint NOPs, PREFETCHh, MPX, ENDBR */
	[0x10] = M8, M8,
	/* MOV from/to CR, DR (always registers; LOCK MOV CR0 is AMD's CR8), SSE */
	[0x20] = M | RR | LK, M | RR, M | RR | LK, M | RR, X, X, X, X, M8,
	/* WRMSR RDTSC RDMSR RDPMC SYSENTER SYSEXIT, GETSEC, 38/3A escapes */
	[0x30] = 0, 0, 0, 0, 0, 0, X, 0, X, X, X, X, X, X, X, X,
	/* CMOVcc */
	[0x40] = M8, M8,
	/* SSE, MMX */
	[0x50] = M8, M8,
	[0x60] = M8, M8,
	/* PSHUF*, shift groups 12-14 ib, PCMPEQ*, EMMS, VMREAD or EXTRQ/INSERTQ,
	 * VMWRITE, HADD, MOVD/MOVQ */
	[0x70] = M | Ib, M | Ib, M | Ib, M | Ib, M, M, M, 0,
		 M | GRP, M, X, X, M, M, M, M,
	/* Jcc rel16/32 */
	[0x80] = JCCz, JCCz, JCCz, JCCz,
	/* SETcc */
	[0x90] = M8, M8,
	/* PUSH/POP FS, CPUID, BT, SHLD ib, SHLD CL, PUSH/POP GS, RSM, BTS,
	 * SHRD ib, SHRD CL, group 15 (fences, XSAVE...), IMUL */
	[0xa0] = D64, D64, 0, M, M | Ib, M, X, X,
		 D64, D64, 0, M | LK, M | Ib, M, M, M,
	/* CMPXCHG, LSS, BTR, LFS LGS, MOVZX, POPCNT, UD1, group 8, BTC, BSF BSR,
	 * MOVSX */
	[0xb0] = M | LK, M | LK, M | MEM, M | LK, M | MEM, M | MEM, M, M,
		 M, M, M | Ib | GRP | LK, M | LK, M, M, M, M,
	/* XADD, CMPPS ib, MOVNTI, PINSRW PEXTRW SHUFPS ib, group 9, BSWAP */
	[0xc0] = M | LK, M | LK, M | Ib, M | MEM, M | Ib, M | Ib, M | Ib,
		 M | GRP | LK, 0, 0, 0, 0, 0, 0, 0, 0,
	/* MMX/SSE; FF is UD0 */
	[0xd0] = M8, M8,
	[0xe0] = M8, M8,
	[0xf0] = M8, M8,
};

static u16 imm_kind(u16 flags)
{
	return (flags & IMM_MASK) >> IMM_SHIFT;
}

/* Where decoding is, within what the caller fetched. */
struct cursor {
	const u8 *bytes;
	size_t avail;
	size_t pos;
};

/*
 * The 15-byte limit comes first: a longer instruction is invalid however
 * much the caller fetched.
 */
static int room(const struct cursor *c, unsigned int n)
{
	if (c->pos + n > X86_MAX_INSN_LEN)
		return -EINVAL;
	if (c->pos + n > c->avail)
		return -E2BIG;
	return 0;
}

/* n (1..8) little-endian bytes; *val is 0 on error. */
static int take(struct cursor *c, unsigned int n, u64 *val)
{
	int err = room(c, n);

	*val = 0;
	if (err)
		return err;
	for (unsigned int i = n; i-- > 0;)
		*val = *val << 8 | c->bytes[c->pos + i];
	c->pos += n;
	return 0;
}

static int take_byte(struct cursor *c, u8 *b)
{
	u64 v;
	int err = take(c, 1, &v);

	*b = (u8)v;
	return err;
}

static u64 size_mask(unsigned int size)
{
	return size >= 8 ? ~0ULL : (1ULL << (size * 8)) - 1;
}

static s64 sign_extend(u64 v, unsigned int size)
{
	unsigned int shift = 64 - size * 8;

	return (s64)(v << shift) >> shift;
}

static int take_signed(struct cursor *c, unsigned int n, s64 *val)
{
	u64 v;
	int err = take(c, n, &v);

	*val = sign_extend(v, n);
	return err;
}

/*
 * C4/C5 (VEX), 62 (EVEX) and 8F (XOP) also encode LES, LDS, BOUND and POP.
 * Outside 64-bit mode VEX and EVEX own the encodings whose next byte would
 * be a register ModRM (mod 11), which LES/LDS/BOUND cannot take. XOP owns
 * map-select values 8 and up, which POP's ModRM.reg = 0 cannot have.
 */
static int is_vex_escape(const struct cursor *c, enum x86_mode mode, u8 op,
			 bool *vex)
{
	int err;
	u8 next;

	*vex = false;
	if (op != 0xc4 && op != 0xc5 && op != 0x62 && op != 0x8f)
		return 0;
	err = room(c, 1);
	if (err)
		return err;
	next = c->bytes[c->pos];
	if (op == 0x8f)
		*vex = (next & 0x1f) >= 8;
	else
		*vex = mode == X86_MODE_64 || X86_MODRM_MOD(next) == 3;
	return 0;
}

/*
 * The maps VEX, EVEX and XOP can select (by X86_PFX_* of the escape), and
 * what their opcodes take. Map 0F uses twobyte[] for ModRM and ib.
 */
static const struct {
	u16 by;
	u16 flags;
} vex_maps[] = {
	[X86_MAP_0F] = { X86_PFX_VEX | X86_PFX_EVEX, 0 },
	[X86_MAP_0F38] = { X86_PFX_VEX | X86_PFX_EVEX, M },
	[X86_MAP_0F3A] = { X86_PFX_VEX | X86_PFX_EVEX, M | Ib },
	[X86_MAP_EVEX5] = { X86_PFX_EVEX, M },
	[X86_MAP_EVEX6] = { X86_PFX_EVEX, M },
	[X86_MAP_XOP8] = { X86_PFX_XOP, M | Ib },
	[X86_MAP_XOP9] = { X86_PFX_XOP, M },
	[X86_MAP_XOPA] = { X86_PFX_XOP, M | Id },
};

/* The bytes after a VEX/EVEX/XOP escape, the opcode, and its map's flags. */
static int decode_vex(struct cursor *c, struct x86_insn *insn, u8 esc,
		      u16 *flags)
{
	u16 kind = esc == 0x62 ? X86_PFX_EVEX : esc == 0x8f ? X86_PFX_XOP :
		   X86_PFX_VEX;
	unsigned int n = esc == 0xc5 ? 1 : esc == 0x62 ? 3 : 2;
	int err;

	/* These belong inside the payload (pp, W, R...): #UD in front of it. */
	if (insn->rex || (insn->prefixes & (X86_PFX_OPSIZE | X86_PFX_LOCK |
					    X86_PFX_REP | X86_PFX_REPNE)))
		return -EINVAL;
	insn->prefixes |= kind;
	for (unsigned int i = 0; i < n; i++) {
		err = take_byte(c, &insn->vex[i]);
		if (err)
			return err;
	}
	/* Two-byte C5 implies map 0F; EVEX has 3 map bits, VEX and XOP 5. */
	if (esc == 0xc5)
		insn->map = X86_MAP_0F;
	else
		insn->map = insn->vex[0] & (kind == X86_PFX_EVEX ? 0x07 : 0x1f);
	/* EVEX P0 bit 3 must be 0 and P1 bit 2 must be 1. */
	if (kind == X86_PFX_EVEX &&
	    ((insn->vex[0] & 0x08) || !(insn->vex[1] & 0x04)))
		return -EINVAL;
	if (insn->map >= ARRAY_SIZE(vex_maps) || !(vex_maps[insn->map].by & kind))
		return -EINVAL;
	err = take_byte(c, &insn->opcode);
	if (err)
		return err;
	*flags = vex_maps[insn->map].flags;
	if (insn->map == X86_MAP_0F) {
		/* All have ModRM but VZEROUPPER/VZEROALL (VEX 77); no 3DNow!. */
		*flags = twobyte[insn->opcode] & (M | X | IMM_MASK);
		if (insn->opcode == 0x0f ||
		    (!(*flags & M) && (kind != X86_PFX_VEX || insn->opcode != 0x77)))
			return -EINVAL;
	}
	return 0;
}

/* ModRM, then SIB and displacement as the address size lays them out. */
static int decode_modrm(struct cursor *c, struct x86_insn *insn, u16 flags)
{
	u8 mod, rm;
	int err;

	err = take_byte(c, &insn->modrm);
	if (err)
		return err;
	insn->has_modrm = true;
	mod = X86_MODRM_MOD(insn->modrm);
	rm = X86_MODRM_RM(insn->modrm);
	if (mod == 3 || (flags & RR))
		return 0;

	if (insn->addr_size == 2) {
		/* [BX+SI] ... [BX]: no SIB; mod 00 r/m 110 is a bare disp16. */
		if (mod == 1)
			insn->disp_size = 1;
		else if (mod == 2 || rm == 6)
			insn->disp_size = 2;
	} else {
		/* r/m 100 means a SIB follows, even with REX.B (R12). */
		if (rm == 4) {
			err = take_byte(c, &insn->sib);
			if (err)
				return err;
			insn->has_sib = true;
		}
		if (mod == 1) {
			insn->disp_size = 1;
		} else if (mod == 2) {
			insn->disp_size = 4;
		} else if (rm == 5) {
			/* No base: disp32, which 64-bit mode makes RIP-relative. */
			insn->disp_size = 4;
			insn->rip_relative = insn->mode == X86_MODE_64;
		} else if (insn->has_sib && (insn->sib & 7) == 5) {
			insn->disp_size = 4;
		}
	}
	if (!insn->disp_size)
		return 0;
	return take_signed(c, insn->disp_size, &insn->disp);
}

#define OP(map, opcode) ((map) << 8 | (opcode))

/*
 * Opcodes whose ModRM.reg picks the instruction: reject the undefined ones
 * and add what the reg field implies (immediate, 64-bit default size).
 */
static int fix_group(struct x86_insn *insn, u16 *flags)
{
	u8 reg = X86_MODRM_REG(insn->modrm);
	u8 mod = X86_MODRM_MOD(insn->modrm);

	switch (OP(insn->map, insn->opcode)) {
	case OP(X86_MAP_ONE, 0xf6): /* TEST r/m, imm is /0 (and /1); NOT NEG MUL ... have none */
		if (reg <= 1)
			*flags |= Ib;
		return 0;
	case OP(X86_MAP_ONE, 0xf7):
		if (reg <= 1)
			*flags |= Iz;
		return 0;
	case OP(X86_MAP_ONE, 0xc6): /* MOV r/m, imm is /0; C6 F8 is XABORT ib, C7 F8 XBEGIN */
	case OP(X86_MAP_ONE, 0xc7):
		return reg == 0 || insn->modrm == 0xf8 ? 0 : -EINVAL;
	case OP(X86_MAP_ONE, 0xfe): /* INC, DEC */
		return reg <= 1 ? 0 : -EINVAL;
	case OP(X86_MAP_ONE, 0xff): /* INC DEC CALL CALLF JMP JMPF PUSH; far ones need memory */
		if (reg == 7 || ((reg == 3 || reg == 5) && mod == 3))
			return -EINVAL;
		if (reg == 2 || reg == 4 || reg == 6)
			*flags |= D64;
		return 0;
	case OP(X86_MAP_ONE, 0x8f): /* POP r/m; XOP was taken out before */
		return reg == 0 ? 0 : -EINVAL;
	case OP(X86_MAP_0F, 0xba): /* BT BTS BTR BTC r/m, ib */
		return reg >= 4 ? 0 : -EINVAL;
	case OP(X86_MAP_0F, 0x78): /* VMREAD; with 66 or F2, AMD's EXTRQ/INSERTQ xmm, ib, ib */
		if (insn->prefixes & (X86_PFX_OPSIZE | X86_PFX_REPNE))
			*flags = (*flags & ~IMM_MASK) | Ibb;
		return 0;
	}
	return 0;
}

/* LOCK needs a read-modify-write of memory (or is AMD's MOV CR8). */
static bool lock_allowed(const struct x86_insn *insn, u16 flags)
{
	u8 reg = X86_MODRM_REG(insn->modrm);
	u8 op = insn->opcode;

	if (!(flags & LK))
		return false;
	if (flags & RR)
		return true;
	if (X86_MODRM_MOD(insn->modrm) == 3)
		return false;
	if (insn->map == X86_MAP_ONE) {
		if (op >= 0x80 && op <= 0x83)
			return reg != 7; /* not CMP */
		if (op == 0xf6 || op == 0xf7)
			return reg == 2 || reg == 3; /* NOT, NEG */
		if (op == 0xfe || op == 0xff)
			return reg <= 1; /* INC, DEC */
	} else {
		if (op == 0xba)
			return reg >= 5; /* BTS BTR BTC, not BT */
		if (op == 0xc7)
			return reg == 1; /* CMPXCHG8B/16B */
	}
	return true;
}

/* REX.W, or the W bit of VEX/XOP/EVEX (vex[1] stays 0 for two-byte C5). */
static bool wide(const struct x86_insn *insn)
{
	if (insn->prefixes & (X86_PFX_VEX | X86_PFX_XOP | X86_PFX_EVEX))
		return insn->vex[1] & 0x80;
	return insn->rex & X86_REX_W;
}

static void set_sizes(struct x86_insn *insn, u16 flags)
{
	bool opsize = insn->prefixes & X86_PFX_OPSIZE;
	bool addrsize = insn->prefixes & X86_PFX_ADDRSIZE;

	switch (insn->mode) {
	case X86_MODE_16:
		insn->addr_size = addrsize ? 4 : 2;
		insn->op_size = opsize ? 4 : 2;
		break;
	case X86_MODE_32:
		insn->addr_size = addrsize ? 2 : 4;
		insn->op_size = opsize ? 2 : 4;
		break;
	default:
		insn->addr_size = addrsize ? 4 : 8;
		if (wide(insn)) /* W beats 66 */
			insn->op_size = 8;
		else if (opsize)
			insn->op_size = 2;
		else
			insn->op_size = flags & D64 ? 8 : 4;
		break;
	}
}

static int decode_imm(struct cursor *c, struct x86_insn *insn, u16 flags)
{
	unsigned int n = 0, n2 = 0;
	u8 op = insn->op_size;
	int err;

	switch (imm_kind(flags)) {
	case IMM_B:
		n = 1;
		break;
	case IMM_W:
		n = 2;
		break;
	case IMM_D:
		n = 4;
		break;
	case IMM_Z:
		n = op == 2 ? 2 : 4;
		break;
	case IMM_V:
		n = op;
		break;
	case IMM_ENTER:
		n = 2;
		n2 = 1;
		break;
	case IMM_BB:
		n = 1;
		n2 = 1;
		break;
	case IMM_FAR:
		n = op == 2 ? 2 : 4;
		n2 = 2;
		break;
	case IMM_MOFFS: {
		/* An address, not a value: its size follows the address size. */
		u64 off;

		err = take(c, insn->addr_size, &off);
		insn->disp = (s64)off;
		insn->disp_size = insn->addr_size;
		return err;
	}
	}
	if (n) {
		err = take_signed(c, n, &insn->imm);
		if (err)
			return err;
		insn->imm_size = n;
	}
	if (n2) {
		err = take(c, n2, &insn->imm2);
		if (err)
			return err;
		insn->imm2_size = n2;
	}
	return 0;
}

/* The MMIO forms; size 0 means the operand size. */
static const struct mmio_form {
	u8 map;
	u8 opcode;
	u8 kind;
	u8 size;
	u8 ext;
} mmio_forms[] = {
	{ X86_MAP_ONE, 0x88, X86_MMIO_STORE_REG, 1, X86_EXT_NONE },
	{ X86_MAP_ONE, 0x89, X86_MMIO_STORE_REG, 0, X86_EXT_NONE },
	{ X86_MAP_ONE, 0x8a, X86_MMIO_LOAD, 1, X86_EXT_NONE },
	{ X86_MAP_ONE, 0x8b, X86_MMIO_LOAD, 0, X86_EXT_NONE },
	{ X86_MAP_ONE, 0xc6, X86_MMIO_STORE_IMM, 1, X86_EXT_NONE },
	{ X86_MAP_ONE, 0xc7, X86_MMIO_STORE_IMM, 0, X86_EXT_NONE },
	{ X86_MAP_ONE, 0xa0, X86_MMIO_LOAD, 1, X86_EXT_NONE },
	{ X86_MAP_ONE, 0xa1, X86_MMIO_LOAD, 0, X86_EXT_NONE },
	{ X86_MAP_ONE, 0xa2, X86_MMIO_STORE_REG, 1, X86_EXT_NONE },
	{ X86_MAP_ONE, 0xa3, X86_MMIO_STORE_REG, 0, X86_EXT_NONE },
	{ X86_MAP_ONE, 0x63, X86_MMIO_LOAD, 4, X86_EXT_SIGN },
	{ X86_MAP_0F, 0xb6, X86_MMIO_LOAD, 1, X86_EXT_ZERO },
	{ X86_MAP_0F, 0xb7, X86_MMIO_LOAD, 2, X86_EXT_ZERO },
	{ X86_MAP_0F, 0xbe, X86_MMIO_LOAD, 1, X86_EXT_SIGN },
	{ X86_MAP_0F, 0xbf, X86_MMIO_LOAD, 2, X86_EXT_SIGN },
};

static void classify_mmio(struct x86_insn *insn)
{
	const struct mmio_form *f = NULL;
	struct x86_mmio *m = &insn->mmio;

	if (insn->prefixes & (X86_PFX_VEX | X86_PFX_XOP | X86_PFX_EVEX))
		return;
	for (size_t i = 0; i < ARRAY_SIZE(mmio_forms); i++) {
		if (mmio_forms[i].map == insn->map &&
		    mmio_forms[i].opcode == insn->opcode)
			f = &mmio_forms[i];
	}
	if (!f || (insn->has_modrm && X86_MODRM_MOD(insn->modrm) == 3))
		return;

	m->kind = f->kind;
	m->size = f->size ? f->size : insn->op_size;
	m->ext = f->ext;
	if (insn->map == X86_MAP_ONE && insn->opcode == 0x63) {
		if (insn->mode != X86_MODE_64)
			goto none; /* ARPL */
		if (!(insn->rex & X86_REX_W)) {
			/* MOVSXD without REX.W is a plain 16/32-bit load. */
			m->size = insn->op_size;
			m->ext = X86_EXT_NONE;
		}
	}
	/* A0-A3 use AL/eAX; C6/C7 have no register operand. */
	if (insn->has_modrm && m->kind != X86_MMIO_STORE_IMM)
		m->reg = X86_MODRM_REG(insn->modrm) |
			 (insn->rex & X86_REX_R ? 8 : 0);
	/* Byte registers 4-7 are AH..BH unless any REX prefix is present. */
	m->high_byte = m->kind != X86_MMIO_STORE_IMM && m->size == 1 &&
		       m->ext == X86_EXT_NONE && !insn->rex && m->reg >= 4;
	if (m->kind == X86_MMIO_LOAD)
		m->dest_size = m->ext == X86_EXT_NONE ? m->size : insn->op_size;
	return;
none:
	memset(m, 0, sizeof(*m));
}

/* Legacy prefixes: the flag each sets; the last segment override wins. */
static const struct legacy_prefix {
	u8 byte;
	u16 flag;
	u8 seg;
} legacy_prefixes[] = {
	{ 0x66, X86_PFX_OPSIZE, 0 },
	{ 0x67, X86_PFX_ADDRSIZE, 0 },
	{ 0xf0, X86_PFX_LOCK, 0 },
	{ 0xf2, X86_PFX_REPNE, 0 }, /* the last of F2/F3 wins */
	{ 0xf3, X86_PFX_REP, 0 },
	{ 0x26, X86_PFX_SEG, X86_SEG_ES },
	{ 0x2e, X86_PFX_SEG, X86_SEG_CS },
	{ 0x36, X86_PFX_SEG, X86_SEG_SS },
	{ 0x3e, X86_PFX_SEG, X86_SEG_DS },
	{ 0x64, X86_PFX_SEG, X86_SEG_FS },
	{ 0x65, X86_PFX_SEG, X86_SEG_GS },
};

static const struct legacy_prefix *find_prefix(u8 b)
{
	for (size_t i = 0; i < ARRAY_SIZE(legacy_prefixes); i++) {
		if (legacy_prefixes[i].byte == b)
			return &legacy_prefixes[i];
	}
	return NULL;
}

int x86_decode(const u8 *bytes, size_t avail, enum x86_mode mode,
	       struct x86_insn *out)
{
	struct cursor c = { .bytes = bytes, .avail = avail };
	struct x86_insn *insn = out;
	bool vex;
	u16 flags;
	u8 b;
	int err;

	if (!bytes || !out || (mode != X86_MODE_16 && mode != X86_MODE_32 &&
			       mode != X86_MODE_64))
		return -EINVAL;
	memset(insn, 0, sizeof(*insn));
	insn->mode = mode;

	/* Legacy prefixes in any order; REX counts only right before the opcode. */
	for (;;) {
		const struct legacy_prefix *p;

		err = take_byte(&c, &b);
		if (err)
			return err;
		p = find_prefix(b);
		if (p) {
			if (p->flag & (X86_PFX_REP | X86_PFX_REPNE))
				insn->prefixes &= ~(X86_PFX_REP | X86_PFX_REPNE);
			insn->prefixes |= p->flag;
			if (p->seg)
				insn->seg = p->seg;
			insn->rex = 0; /* a REX followed by a legacy prefix is ignored */
		} else if (mode == X86_MODE_64 && (b & 0xf0) == 0x40) {
			insn->rex = b;
		} else {
			break;
		}
	}

	if (insn->rex)
		insn->prefixes |= X86_PFX_REX;
	insn->opcode = b;
	err = is_vex_escape(&c, mode, b, &vex);
	if (err)
		return err;
	if (vex) {
		err = decode_vex(&c, insn, b, &flags);
	} else if (b == 0x0f) {
		insn->map = X86_MAP_0F;
		err = take_byte(&c, &insn->opcode);
		if (!err && insn->opcode == 0x38) {
			insn->map = X86_MAP_0F38;
			flags = M;
			err = take_byte(&c, &insn->opcode);
		} else if (!err && insn->opcode == 0x3a) {
			insn->map = X86_MAP_0F3A;
			flags = M | Ib;
			err = take_byte(&c, &insn->opcode);
		} else {
			flags = twobyte[insn->opcode];
		}
	} else {
		flags = onebyte[b];
	}
	if (err)
		return err;
	if ((flags & X) || (mode == X86_MODE_64 && (flags & X64)))
		return -EINVAL;

	/* The address size decides the ModRM layout, so it comes first. */
	set_sizes(insn, flags);
	if (flags & M) {
		err = decode_modrm(&c, insn, flags);
		if (err)
			return err;
		if ((flags & MEM) && X86_MODRM_MOD(insn->modrm) == 3)
			return -EINVAL;
		if (flags & GRP) {
			err = fix_group(insn, &flags);
			if (err)
				return err;
			set_sizes(insn, flags); /* FF /2 /4 /6 are D64 */
		}
	}
	if ((insn->prefixes & X86_PFX_LOCK) && !lock_allowed(insn, flags))
		return -EINVAL;

	err = decode_imm(&c, insn, flags);
	if (err)
		return err;
	insn->length = (u8)c.pos;
	classify_mmio(insn);
	return 0;
}

/* Writes v to a register of size bytes the way x86 does. */
static int write_reg(u64 *gpr, u8 reg, bool high_byte, u8 size, u64 v)
{
	if (high_byte) {
		u64 *r = &gpr[reg - 4];

		*r = (*r & ~0xff00ULL) | (v & 0xff) << 8;
		return 0;
	}
	switch (size) {
	case 1:
	case 2:
		gpr[reg] = (gpr[reg] & ~size_mask(size)) | (v & size_mask(size));
		return 0;
	case 4: /* 32-bit results clear bits 63:32 */
		gpr[reg] = v & 0xffffffffULL;
		return 0;
	case 8:
		gpr[reg] = v;
		return 0;
	}
	return -EINVAL;
}

int x86_mmio_apply_load(const struct x86_insn *insn, u64 *gpr, u64 value)
{
	const struct x86_mmio *m = &insn->mmio;
	u64 v = value & size_mask(m->size);

	if (m->kind != X86_MMIO_LOAD || m->reg > 15 ||
	    (m->high_byte && (m->reg < 4 || m->reg > 7)))
		return -EINVAL;
	if (m->ext == X86_EXT_SIGN)
		v = (u64)sign_extend(v, m->size);
	return write_reg(gpr, m->reg, m->high_byte, m->dest_size, v);
}

int x86_mmio_store_value(const struct x86_insn *insn, const u64 *gpr,
			 u64 *value)
{
	const struct x86_mmio *m = &insn->mmio;
	u64 v;

	if (m->kind == X86_MMIO_STORE_IMM) {
		v = (u64)insn->imm;
	} else if (m->kind == X86_MMIO_STORE_REG && m->reg <= 15) {
		if (m->high_byte && (m->reg < 4 || m->reg > 7))
			return -EINVAL;
		v = m->high_byte ? gpr[m->reg - 4] >> 8 : gpr[m->reg];
	} else {
		return -EINVAL;
	}
	*value = v & size_mask(m->size);
	return 0;
}
