/*
 * Fixed-width types and small helpers for the test guests. The guests are
 * 32-bit freestanding programs: long is 32 bits, only u64 is 64 bits, and
 * there is no libgcc, so 64-bit division goes through div64.h.
 */
#ifndef GUEST_TYPES_H
#define GUEST_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
typedef int32_t s32;
typedef int64_t s64;

#define PAGE_SIZE 4096u
#define KiB 1024u
#define MiB (1024u * 1024u)

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define __packed __attribute__((packed))
#define __aligned(x) __attribute__((aligned(x)))
#define __unused __attribute__((unused))
#define __noreturn __attribute__((noreturn))
#define __printf(f, a) __attribute__((format(printf, f, a)))

/* Keeps the compiler from moving memory accesses across this point. */
#define barrier() asm volatile("" : : : "memory")

#endif
