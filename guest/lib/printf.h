/*
 * printf to the serial console, snprintf to a buffer (always terminated,
 * returns the length the whole output would have): %d %i %u %x %X %s %c %p %%, length l and ll
 * (hh and h are accepted and ignored), flags '-' and '0', a field width,
 * a precision for %s only (%.5s, %.*s).
 */
#ifndef GUEST_PRINTF_H
#define GUEST_PRINTF_H

#include "guest/lib/types.h"

int printf(const char *fmt, ...) __printf(1, 2);
int vprintf(const char *fmt, __builtin_va_list ap);
int snprintf(char *buf, size_t size, const char *fmt, ...) __printf(3, 4);
void puts(const char *s); /* no newline added */

#endif
