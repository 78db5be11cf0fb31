/*
 * The scheduler: one CPU, round robin over the runnable guests. A guest runs
 * until it halts, stops, or its slice ends (the back end's slice timer, or
 * the host LAPIC timer whose interrupt makes the guest exit). With a single
 * runnable guest no timer is armed at all.
 */
#include "arch/x86/lapic.h"
#include "kernel/guest.h"
#include "kernel/printk.h"
#include "kernel/sched.h"
#include "kernel/vmexit.h"

u64 slice_us = 10000;
static bool slice_over;

void sched_slice_expired(void)
{
	slice_over = true;
}

void sched_tick(void)
{
	irq_service_pending();
	if (lapic_timer_fired) {
		lapic_timer_fired = false;
		slice_over = true;
	}
}

static unsigned int count_state(enum guest_state state)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < nr_guests; i++)
		n += guests[i]->state == state;
	return n;
}

static void arm_slice(struct vcpu *v, bool on)
{
	if (vcpu_ops->set_slice)
		vcpu_ops->set_slice(v, on ? slice_us : 0);
	else
		lapic_timer_oneshot(on ? slice_us : 0);
}

static void run_slice(struct guest *g)
{
	struct vcpu_exit e;
	bool timed = count_state(GUEST_RUNNABLE) > 1;

	slice_over = false;
	arm_slice(&g->vcpu, timed);
	while (g->state == GUEST_RUNNABLE && !slice_over) {
		vcpu_ops->vcpu_run(&g->vcpu, &e);
		handle_exit(&g->vcpu, &e);
	}
	if (timed && g->state != GUEST_STOPPED)
		arm_slice(&g->vcpu, false);
}

unsigned int sched_run(void)
{
	unsigned int next = 0, failed = 0;

	for (;;) {
		struct guest *g = NULL;

		for (unsigned int k = 0; k < nr_guests; k++) {
			struct guest *c = guests[(next + k) % nr_guests];

			if (c->state == GUEST_RUNNABLE) {
				g = c;
				next = (c->id + 1) % nr_guests;
				break;
			}
		}
		if (!g) {
			/*
			 * Everyone left is idle (halted with interrupts on)
			 * and nothing Tide emulates will wake them: the run is
			 * over. Idling is how a guest that is done but holds on
			 * to its memory ends (the hint experiment's guests do).
			 */
			for (unsigned int i = 0; i < nr_guests; i++) {
				if (guests[i]->state == GUEST_HALTED) {
					pr_info("tide: guest %s is idle and nothing can wake it\n",
						guests[i]->name);
					guest_stop(guests[i], 0);
				}
			}
			break;
		}
		run_slice(g);
	}
	for (unsigned int i = 0; i < nr_guests; i++)
		failed += guests[i]->crashed || guests[i]->exit_status != 0;
	return failed;
}
