/*
 * The host's local APIC, used for one thing: a one-shot timer that ends a
 * guest's time slice when the back end has no timer of its own (SVM). Also
 * masks the legacy 8259 PICs, whose default vectors collide with exceptions.
 */
#ifndef TIDE_X86_LAPIC_H
#define TIDE_X86_LAPIC_H

#include "kernel/types.h"

#define LAPIC_TIMER_VECTOR 0xf0
#define LAPIC_SPURIOUS_VECTOR 0xff

/* Remaps and masks the PICs. Called early at boot. */
void pic_disable(void);

/* Maps and enables the LAPIC, calibrates its timer. 0 or -ENODEV. */
int lapic_init(void);

/* Fires LAPIC_TIMER_VECTOR once after `us` microseconds; 0 cancels. */
void lapic_timer_oneshot(u64 us);

/* Takes a pending interrupt now (briefly enabling interrupts). */
void irq_service_pending(void);

/* TSC ticks per millisecond, measured at lapic_init() (0 before). */
extern u64 tsc_ticks_per_ms;

/* Set by the timer interrupt; cleared by whoever consumes it. */
extern volatile bool lapic_timer_fired;

/* Called by the exception entry code for vectors 32-255. */
void irq_dispatch(unsigned int vector);

#endif
