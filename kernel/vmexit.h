/* The generic exit handler (kernel/vmexit.c). */
#ifndef TIDE_VMEXIT_H
#define TIDE_VMEXIT_H

#include "kernel/guest.h"
#include "kernel/vcpu.h"

void handle_exit(struct vcpu *v, const struct vcpu_exit *e);

/*
 * What to do when guest memory at gpa could not be had (stage2_fault's
 * errors): -EFAULT emulates the MMIO access of the current instruction,
 * -EAGAIN lets the guest wait for a frame (and stops it after a while),
 * anything else stops the guest; 0 does nothing. The caller resets
 * g->memory_waits when the guest gained a frame.
 */
void guest_memory_error(struct vcpu *v, u64 gpa, int err);

/* Frames a guest has been given so far (zero fills and swap-ins). */
static inline u64 guest_frames_gained(const struct guest *g)
{
	return g->stats.zero_fills + g->stats.swap_ins;
}

#endif
