/*
 * Running a function at CPL 3 (to check what a guest's user space may do,
 * e.g. that a hypercall from ring 3 is refused). Paging is off and the
 * ring-3 segments are flat, so the function sees all memory as usual, but
 * privileged instructions and port I/O raise #GP: it must not printf. It
 * runs on its own 4 KiB stack; TRY works there as in ring 0.
 */
#ifndef GUEST_USER_H
#define GUEST_USER_H

void user_call(void (*fn)(void));

#endif
