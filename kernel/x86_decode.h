/*
 * A small table-driven x86 instruction decoder, for exit handling under SVM
 * without NRIP-save or decode assists (QEMU TCG): it finds an instruction's
 * length (to advance RIP) and, for the MOV-like forms a guest uses on device
 * registers, what an MMIO access does (load or store, size, register or
 * immediate). It does not fetch guest memory, compute effective addresses
 * (the nested page fault gives the guest-physical address) or emulate
 * anything else.
 */
#ifndef TIDE_X86_DECODE_H
#define TIDE_X86_DECODE_H

#include "kernel/types.h"

/* The architectural limit: longer encodings raise #GP. */
#define X86_MAX_INSN_LEN 15

/* The code segment's default size; 64 is long mode (CS.L = 1). */
enum x86_mode {
	X86_MODE_16 = 16,
	X86_MODE_32 = 32,
	X86_MODE_64 = 64,
};

/* struct x86_insn.prefixes */
#define X86_PFX_OPSIZE 0x0001 /* 66 */
#define X86_PFX_ADDRSIZE 0x0002 /* 67 */
#define X86_PFX_LOCK 0x0004 /* F0 */
#define X86_PFX_REPNE 0x0008 /* F2 */
#define X86_PFX_REP 0x0010 /* F3 */
#define X86_PFX_SEG 0x0020 /* a segment override; which: x86_insn.seg */
#define X86_PFX_REX 0x0040 /* a REX prefix right before the opcode */
#define X86_PFX_VEX 0x0080 /* C4 or C5 */
#define X86_PFX_XOP 0x0100 /* AMD XOP (8F) */
#define X86_PFX_EVEX 0x0200 /* 62 */

/* The last segment override prefix; in 64-bit mode only FS and GS act. */
enum x86_seg {
	X86_SEG_NONE,
	X86_SEG_ES,
	X86_SEG_CS,
	X86_SEG_SS,
	X86_SEG_DS,
	X86_SEG_FS,
	X86_SEG_GS,
};

/* Opcode maps; for VEX/EVEX/XOP, the map their map-select field names. */
enum x86_map {
	X86_MAP_ONE = 0, /* one-byte opcodes */
	X86_MAP_0F = 1, /* also 0F 0F (3DNow!): opcode 0F, the suffix in imm */
	X86_MAP_0F38 = 2,
	X86_MAP_0F3A = 3,
	X86_MAP_EVEX5 = 5,
	X86_MAP_EVEX6 = 6,
	X86_MAP_XOP8 = 8,
	X86_MAP_XOP9 = 9,
	X86_MAP_XOPA = 10,
};

#define X86_REX_W 0x08
#define X86_REX_R 0x04
#define X86_REX_X 0x02
#define X86_REX_B 0x01

#define X86_MODRM_MOD(m) ((m) >> 6)
#define X86_MODRM_REG(m) (((m) >> 3) & 7)
#define X86_MODRM_RM(m) ((m) & 7)

enum x86_mmio_kind {
	X86_MMIO_NONE, /* not a form below, or no memory operand */
	X86_MMIO_LOAD, /* memory -> register */
	X86_MMIO_STORE_REG, /* register -> memory */
	X86_MMIO_STORE_IMM, /* immediate -> memory */
};

enum x86_ext {
	X86_EXT_NONE,
	X86_EXT_ZERO, /* MOVZX */
	X86_EXT_SIGN, /* MOVSX, MOVSXD */
};

/*
 * What a data-moving instruction does to its memory operand: MOV 88/89/
 * 8A/8B, C6/C7 /0, A0-A3 (moffs), MOVZX 0F B6/B7, MOVSX 0F BE/BF and
 * MOVSXD 63 (64-bit mode). reg is the hardware register number (RAX = 0 ..
 * R15 = 15); with high_byte it is 4-7 and names AH, CH, DH, BH (an 8-bit
 * register 4-7 without any REX prefix).
 */
struct x86_mmio {
	u8 kind; /* enum x86_mmio_kind */
	u8 size; /* bytes accessed in memory: 1, 2, 4 or 8 */
	u8 reg; /* STORE_REG source or LOAD destination */
	bool high_byte;
	u8 ext; /* enum x86_ext, loads only */
	u8 dest_size; /* loads: bytes written to the register: 1, 2, 4, 8 */
};

struct x86_insn {
	u8 length; /* bytes, 1..15 */
	u8 mode; /* enum x86_mode it was decoded in */
	u16 prefixes; /* X86_PFX_* */
	u8 seg; /* enum x86_seg */
	u8 rex; /* the REX byte (0x40-0x4f), 0 if none or cancelled */
	u8 vex[3]; /* VEX/XOP/EVEX bytes after C4/C5/8F/62: 1, 2 or 3 used */
	u8 map; /* enum x86_map */
	u8 opcode;
	bool has_modrm;
	u8 modrm;
	bool has_sib;
	u8 sib;
	bool rip_relative; /* 64-bit mode mod 00 r/m 101: RIP + disp32 */
	u8 disp_size; /* 0, 1, 2, 4, or the moffs size (2, 4, 8) */
	s64 disp; /* sign-extended; moffs (A0-A3) zero-extended */
	u8 imm_size; /* 0, 1, 2, 4 or 8 */
	s64 imm; /* sign-extended from imm_size bytes (branch rel too) */
	u8 imm2_size; /* ENTER's ib, a far pointer's selector, EXTRQ's 2nd ib */
	u64 imm2;
	u8 op_size; /* operand-size attribute: 2, 4 or 8 (byte forms: see mmio) */
	u8 addr_size; /* address size: 2, 4 or 8 */
	struct x86_mmio mmio;
};

/*
 * Decodes the instruction at bytes[0..avail). Returns 0; -EINVAL for an
 * invalid or unsupported encoding (or one longer than 15 bytes); -E2BIG
 * when avail bytes end before the instruction does (fetch more and retry).
 * Never reads past avail or past 15 bytes. *out is undefined on error.
 */
int x86_decode(const u8 *bytes, size_t avail, enum x86_mode mode,
	       struct x86_insn *out);

/*
 * Completes an MMIO load: writes value (read from the device, at least
 * mmio.size bytes valid) into gpr[16] (RAX..R15, hardware numbering) the way
 * the instruction would: 8/16-bit destinations merge, 32-bit ones clear the
 * upper half, MOVZX/MOVSX/MOVSXD extend. -EINVAL unless kind is LOAD.
 */
int x86_mmio_apply_load(const struct x86_insn *insn, u64 *gpr, u64 value);

/*
 * The value an MMIO store writes, truncated to mmio.size bytes: the source
 * register from gpr[16] (or AH..BH) or the immediate. -EINVAL unless kind is
 * STORE_REG or STORE_IMM.
 */
int x86_mmio_store_value(const struct x86_insn *insn, const u64 *gpr,
			 u64 *value);

#endif
