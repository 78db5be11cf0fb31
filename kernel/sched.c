/*
 * The scheduler: one CPU, round robin over the runnable guests. A guest runs
 * until it halts, stops, or its slice ends (the back end's slice timer, or
 * the host LAPIC timer whose interrupt makes the guest exit). With a single
 * runnable guest no timer is armed at all.
 */
#include "arch/x86/cpu.h"
#include "arch/x86/lapic.h"
#include "kernel/guest.h"
#include "kernel/printk.h"
#include "kernel/sched.h"
#include "kernel/trace.h"
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

u64 sample_ms; /* sample_ms=: 0 = off */
static u64 next_sample;

/* One line per live guest every sample_ms (docs/trace.md). */
static void maybe_sample(void)
{
	u64 now = rdtsc();

	if (!sample_ms || !tsc_ticks_per_ms || now < next_sample)
		return;
	next_sample = now + sample_ms * tsc_ticks_per_ms;
	for (unsigned int i = 0; i < nr_guests; i++) {
		struct guest *g = guests[i];

		if (g->state == GUEST_STOPPED)
			continue;
		pr_emerg("sample: %lu guest=%s resident=%lu swapped=%lu hinted=%lu faults=%lu\n", now,
			 g->name, g->stats.resident_pages, g->stats.swapped_now,
			 g->stats.pages_hinted, g->stats.stage2_faults - g->sampled_faults);
		g->sampled_faults = g->stats.stage2_faults;
	}
}

static void run_slice(struct guest *g)
{
	static const char *previous;
	struct vcpu_exit e;
	bool timed = count_state(GUEST_RUNNABLE) > 1;

	if (previous != g->name)
		TRACE(TE_SCHED_SWITCH, TRACE_STR(previous), TRACE_STR(g->name));
	previous = g->name;

	slice_over = false;
	arm_slice(&g->vcpu, timed);
	while (g->state == GUEST_RUNNABLE && !slice_over) {
		vcpu_ops->vcpu_run(&g->vcpu, &e);
		handle_exit(&g->vcpu, &e);
		maybe_sample();
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
