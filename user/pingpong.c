/*
 * pingpong.c - the cost of a switch between two processes: two copies
 * yield to each other PINGPONG_YIELDS times. In one copy's window every
 * yield it makes and every yield the other makes is one switch, so the
 * window holds 2 x PINGPONG_YIELDS one-way switches. Under QEMU's -icount
 * shift=0 the TSC counts instructions (RDTSC works in ring 3: CR4.TSD is
 * clear); `make bench` reads the line (tests/bench.py).
 */
#include "pagelab.h"

#define PINGPONG_YIELDS 1000

static inline unsigned long long tsc(void)
{
    unsigned lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi) : : "memory");
    return ((unsigned long long)hi << 32) | lo;
}

int main(void)
{
    yield();                       /* both started: the loop begins in step */
    unsigned long long t0 = tsc();
    for (int i = 0; i < PINGPONG_YIELDS; i++)
        yield();
    unsigned long long t1 = tsc();
    printf("pingpong %ld: %d yields, %llu TSC ticks, %llu per one-way switch\n", getpid(),
           PINGPONG_YIELDS, t1 - t0, (t1 - t0) / (2 * PINGPONG_YIELDS));
    return 0;
}
