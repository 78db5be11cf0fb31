/*
 * 64-by-32-bit division without libgcc (a 32-bit freestanding build has no
 * __udivdi3): two DIVL steps, the first on the high half, the second on the
 * remainder and the low half, which cannot overflow.
 */
#ifndef GUEST_DIV64_H
#define GUEST_DIV64_H

#include "guest/lib/types.h"

static inline u64 div_u64_rem(u64 n, u32 d, u32 *rem)
{
	u32 hi = (u32)(n >> 32), lo = (u32)n;
	u32 qhi = hi / d, r = hi % d, qlo;

	asm("divl %[d]" : "=a"(qlo), "=d"(r) : "a"(lo), "d"(r), [d] "rm"(d));
	if (rem)
		*rem = r;
	return ((u64)qhi << 32) | qlo;
}

static inline u64 div_u64(u64 n, u32 d)
{
	return div_u64_rem(n, d, NULL);
}

#endif
