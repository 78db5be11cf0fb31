/* The generic exit handler (kernel/vmexit.c). */
#ifndef TIDE_VMEXIT_H
#define TIDE_VMEXIT_H

#include "kernel/vcpu.h"

void handle_exit(struct vcpu *v, const struct vcpu_exit *e);

/*
 * What to do when guest memory at gpa could not be had (stage2_fault's
 * errors): -EFAULT emulates the MMIO access of the current instruction,
 * -EAGAIN lets the guest wait for a frame (and stops it after a while),
 * anything else stops the guest.
 */
void guest_memory_error(struct vcpu *v, u64 gpa, int err);

#endif
