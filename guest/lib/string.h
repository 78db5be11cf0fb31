/* The few string functions the guests use (GCC may also call mem*). */
#ifndef GUEST_STRING_H
#define GUEST_STRING_H

#include "guest/lib/types.h"

void *memset(void *dst, int c, size_t n);
void *memcpy(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strncmp(const char *a, const char *b, size_t n);

#endif
