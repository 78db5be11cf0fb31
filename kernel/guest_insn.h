/* The guest's current instruction: address translation, fetch, decode. */
#ifndef TIDE_GUEST_INSN_H
#define TIDE_GUEST_INSN_H

#include "kernel/vcpu.h"
#include "kernel/x86_decode.h"

/* Guest linear -> guest physical through the guest's page tables. */
int guest_linear_to_phys(struct vcpu *v, u64 linear, u64 *gpa);

/* The size of the guest's code segment: 16, 32 or 64-bit. */
enum x86_mode guest_code_mode(struct vcpu *v);

/* Fetches and decodes the instruction at the guest's CS:RIP. */
int guest_decode_current(struct vcpu *v, struct x86_insn *insn);

/* Advances RIP past the exiting instruction (hardware hint or decoding). */
int guest_skip_instruction(struct vcpu *v, const struct vcpu_exit *e);

#endif
