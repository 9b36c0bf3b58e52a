/*
 * swaperr.c - a disk error on swap, seen from ring 3: tests/diskerr_checks.py
 * boots it under QEMU with one write, or one read, of swap slot 0 refused
 * by the disk (QEMU's blkdebug), and once with none. Q = user_frames=.
 *   1. the parent writes Q heap pages, one word each: every frame of the
 *      limit is one of its pages; then it forks;
 *   2. the child grows its heap by one page and writes it: the frame comes
 *      from the oldest page, the parent's page 0, which the child shares
 *      (copy-on-write), so it is written to swap, slot 0 (the first slot
 *      any page gets). A refused write kills the child here; page 0 stays
 *      in its frame, the parent's;
 *   3. the child reads page 0: its frame comes from page 1 (slot 1), and
 *      page 0 is read back from slot 0. A refused read kills the child
 *      here; page 0 stays on slot 0 for the parent;
 *   4. the parent waits for the child, reads every page back and says how
 *      many words are wrong and what its own pages went through since
 *      before the fork (vmstat: the faults that brought a heap page in,
 *      swap-ins, its pages evicted).
 */
#include "pagelab.h"

#define PAGE 4096UL

static unsigned long word_of(unsigned long page)
{
    return 0x5345000000000000UL ^ (page << 12) ^ 0x77;
}

int main(void)
{
    struct sys_vmstat v;
    vmstat(&v);
    unsigned long q = v.user_frames;
    if (q < 2) {
        printf("swaperr: needs user_frames= of 2 or more\n");
        return 1;
    }
    volatile unsigned long *heap = sbrk((long)(q * PAGE));
    if (sys_failed((void *)heap)) {
        printf("swaperr: sbrk of %lu pages: %s\n", q, sys_strerror((long)heap));
        return 1;
    }
    for (unsigned long p = 0; p < q; p++)
        heap[p * PAGE / 8] = word_of(p);
    struct sys_vmstat before, after;
    vmstat(&before);
    long child = fork();
    if (child < 0) {
        printf("swaperr: fork: %s\n", sys_strerror(child));
        return 1;
    }
    if (child == 0) {
        volatile unsigned long *mine = sbrk((long)PAGE);
        if (sys_failed((void *)mine))
            exit(2);
        *mine = 1;                          /* evicts page 0: slot 0 written */
        printf("swaperr: pid %ld: wrote its own page\n", getpid());
        unsigned long got = heap[0];        /* evicts page 1, reads slot 0 */
        printf("swaperr: pid %ld: page 0 read back: %s\n", getpid(),
               got == word_of(0) ? "its word" : "WRONG");
        exit(got == word_of(0) ? 0 : 3);
    }
    int status = 0;
    long r = wait(child, &status);
    unsigned long wrong = 0;
    for (unsigned long p = 0; p < q; p++)
        wrong += heap[p * PAGE / 8] != word_of(p);
    vmstat(&after);
    printf("swaperr: pid %ld: child pid %ld ended with status %d; %lu pages read back, %lu"
           " words wrong\n", getpid(), child, r == child ? status : 99, q, wrong);
    printf("swaperr: pid %ld: domain faults %lu swap-ins %lu evictions %lu\n", getpid(),
           (unsigned long)(after.domain_faults - before.domain_faults),
           (unsigned long)(after.swap_ins - before.swap_ins),
           (unsigned long)(after.evictions - before.evictions));
    return wrong != 0;
}
