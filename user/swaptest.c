/*
 * swaptest.c - nothing lost, nothing mixed: page replacement checked from
 * ring 3 (tests/swap_checks.py boots it with user_frames= and each
 * policy). The limit Q comes from vmstat (user_frames); the heap gets 4Q
 * pages, four times what may be resident.
 *   1. every page written in order, all 512 words of it, with a pattern of
 *      the process, the page and the word;
 *   2. every page read back in order and compared, word by word;
 *   3. fork: parent and child each write a pattern of their own over
 *      every page (the child's writes copy the pages fork left shared),
 *      then read all of theirs back; both compete for the same Q frames
 *      (scope=global).
 * One line per step with the wrong words (0 when nothing was lost or
 * mixed) and vmstat's counts, which the host side compares with what the
 * policy must give (exact for steps 1 and 2 under FIFO and Clock).
 */
#include "pagelab.h"

#define PAGE 4096UL
#define WORDS (PAGE / 8)

static unsigned long pattern(unsigned long who, unsigned long page, unsigned long word)
{
    return (who << 48) ^ (page << 16) ^ word ^ 0x5A5A000000000000UL;
}

static void write_all(volatile unsigned long *heap, unsigned long pages, unsigned long who)
{
    for (unsigned long p = 0; p < pages; p++)
        for (unsigned long w = 0; w < WORDS; w++)
            heap[p * WORDS + w] = pattern(who, p, w);
}

static unsigned long check_all(volatile unsigned long *heap, unsigned long pages,
                               unsigned long who)
{
    unsigned long wrong = 0;
    for (unsigned long p = 0; p < pages; p++)
        for (unsigned long w = 0; w < WORDS; w++)
            wrong += heap[p * WORDS + w] != pattern(who, p, w);
    return wrong;
}

static void report(const char *step, unsigned long pages, unsigned long wrong)
{
    struct sys_vmstat v;
    vmstat(&v);
    printf("swaptest: pid %ld: %s: %lu pages, %lu words wrong; swap-ins %lu evictions %lu"
           " writebacks %lu clean %lu resident %lu\n", getpid(), step, pages, wrong,
           (unsigned long)v.swap_ins, (unsigned long)v.evictions, (unsigned long)v.writebacks,
           (unsigned long)v.clean_drops, (unsigned long)v.resident);
}

int main(void)
{
    struct sys_vmstat v;
    vmstat(&v);
    if (v.user_frames == 0) {
        printf("swaptest: no user_frames= limit: nothing would be evicted\n");
        return 1;
    }
    unsigned long pages = 4 * v.user_frames;
    volatile unsigned long *heap = sbrk((long)(pages * PAGE));
    if (sys_failed((void *)heap)) {
        printf("swaptest: sbrk of %lu pages: %s\n", pages, sys_strerror((long)heap));
        return 1;
    }
    write_all(heap, pages, 1);
    report("written", pages, 0);
    report("read back", pages, check_all(heap, pages, 1));
    long child = fork();
    if (child < 0) {
        printf("swaptest: fork: %s\n", sys_strerror(child));
        return 1;
    }
    unsigned long who = child == 0 ? 3 : 2;
    write_all(heap, pages, who);
    report(child == 0 ? "child wrote and read back" : "parent wrote and read back", pages,
           check_all(heap, pages, who));
    if (child == 0)
        return 0;
    int status = -1;
    wait(child, &status);
    /* the parent's pages again, after the child's exit freed its frames */
    report("parent read back after the child's exit", pages, check_all(heap, pages, 2));
    printf("swaptest: done, child status %d\n", status);
    return 0;
}
