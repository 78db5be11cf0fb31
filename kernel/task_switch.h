/*
 * Hardware task switches of the guest (JMP/CALL to a TSS or a task gate,
 * IRET with EFLAGS.NT, an event through a task gate in the IDT), emulated
 * from the EXIT_TASK_SWITCH exit: with shadow paging the CPU must never load
 * a guest CR3 itself, and neither vendor lets it switch tasks for a guest.
 * 32-bit TSSs only. docs/guests.md has the details.
 */
#ifndef TIDE_TASK_SWITCH_H
#define TIDE_TASK_SWITCH_H

#include "kernel/vcpu.h"

/*
 * Completes the task switch the exit describes, as SDM vol. 3A 8.3 does:
 * checks, the old task's state saved in its TSS, busy bits, back-link and
 * NT, the new task's state loaded (CR3, LDTR, registers, segments), CR0.TS,
 * TR. A fault the CPU would raise is injected instead (before the commit
 * point in the old task, after it in the new one); what Tide does not
 * emulate (a 16-bit TSS, a virtual-8086 task, the T flag) stops the guest.
 */
void handle_task_switch(struct vcpu *v, const struct vcpu_exit *e);

#endif
