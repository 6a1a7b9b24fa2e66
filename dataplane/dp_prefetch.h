/* SPDX-License-Identifier: MIT */
/*
 * A prefetch hint the compiler keeps. GCC 12 at -O2 and above deleted every
 * __builtin_prefetch of the burst loop (dp_burst.c: a loop whose only
 * effect is prefetching; the binary had none of them), so the hints are
 * emitted as volatile asm. x86-64: prefetcht0 (into all cache levels);
 * elsewhere __builtin_prefetch. Never faults (a hint: any address).
 */
#ifndef DP_PREFETCH_H
#define DP_PREFETCH_H

static inline void dp_prefetch(const void *p)
{
#if defined(__x86_64__)
	__asm__ volatile("prefetcht0 %0" : : "m"(*(const char *)p));
#else
	__builtin_prefetch(p, 0, 3);
#endif
}

#endif
