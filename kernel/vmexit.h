/* The generic exit handler (kernel/vmexit.c). */
#ifndef TIDE_VMEXIT_H
#define TIDE_VMEXIT_H

#include "kernel/vcpu.h"

void handle_exit(struct vcpu *v, const struct vcpu_exit *e);

#endif
