/* Ending a guest: isa-debug-exit on QEMU, the same port under Tide. */
#ifndef GUEST_EXIT_H
#define GUEST_EXIT_H

#include "guest/lib/types.h"

/* Status conventions of the test guests. */
#define EXIT_OK 0
#define EXIT_FAIL 1 /* a check failed */
#define EXIT_EXCEPTION 2 /* an exception nobody expected */
#define EXIT_USAGE 3 /* bad options or not enough memory */

void exit(int status) __noreturn;

#endif
