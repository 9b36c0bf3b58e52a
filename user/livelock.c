/*
 * livelock.c - instructions that need two heap pages at once
 * (kernel/proc/livelock.h; tests/livelock_checks.py boots it under
 * several limits). F is the number of frames the process may hold
 * (vmstat: its quota under scope=local or pff, else user_frames=).
 * Two children, one after the other; the parent waits for each and says
 * how it ended (status -1: killed):
 *   1. one movsq (at livelock_movsq) from heap page A to heap page B,
 *      after A, B and then F more pages were written: under FIFO both A
 *      and B are on swap when it runs, and it needs both back at once.
 *      With F >= 2 it completes after two faults (A read back, then B);
 *      with F = 1 each fault evicts the other page, for ever, and the
 *      kernel kills the child.
 *   2. one rep movsb (at livelock_rep_movsb) of COPY_PAGES pages from one
 *      heap run to another: every iteration needs a source and a
 *      destination page, and every page boundary faults on both; with
 *      F >= 2 it makes progress (a new RCX, RSI and RDI at every fault)
 *      and completes, every byte copied.
 * Each child prints its counts around the instruction (vmstat of its own
 * faults and swap-ins) and whether the bytes arrived.
 */
#include "pagelab.h"

#define PAGE 4096UL
#define COPY_PAGES 16UL

static unsigned long frames_of(const struct sys_vmstat *v)
{
    return v->quota ? v->quota : v->user_frames;
}

static unsigned long word_of(unsigned long page, unsigned long word)
{
    return 0x4C4C000000000000UL ^ (page << 20) ^ word;
}

__attribute__((noinline)) static void one_movsq(const void *src, void *dst)
{
    __asm__ volatile(".globl livelock_movsq\nlivelock_movsq: movsq"
                     : "+S"(src), "+D"(dst) : : "memory");
}

__attribute__((noinline)) static void rep_movsb(const void *src, void *dst, unsigned long n)
{
    __asm__ volatile(".globl livelock_rep_movsb\nlivelock_rep_movsb: rep movsb"
                     : "+S"(src), "+D"(dst), "+c"(n) : : "memory");
}

static void counts(const char *what, const struct sys_vmstat *a, const struct sys_vmstat *b)
{
    printf("livelock: pid %ld: %s: faults %lu swap-ins %lu\n", getpid(), what,
           (unsigned long)(b->faults - a->faults), (unsigned long)(b->swap_ins - a->swap_ins));
}

static int movsq_child(unsigned long frames)
{
    unsigned long pages = 2 + frames;
    volatile unsigned long *heap = sbrk((long)(pages * PAGE));
    if (sys_failed((void *)heap) || (uintptr_t)heap % PAGE) {
        printf("livelock: sbrk of %lu pages: %s\n", pages, sys_strerror((long)heap));
        return 1;
    }
    /* A, B, then the F others: the last F written hold the frames */
    for (unsigned long p = 0; p < pages; p++)
        heap[p * PAGE / 8] = word_of(p, 0);
    struct sys_vmstat before, after;
    vmstat(&before);
    one_movsq((const void *)&heap[0], (void *)&heap[PAGE / 8]);
    vmstat(&after);
    counts("movsq", &before, &after);
    unsigned long got = heap[PAGE / 8];
    printf("livelock: pid %ld: movsq: page B holds 0x%lx: %s\n", getpid(), got,
           got == word_of(0, 0) ? "page A's word" : "WRONG");
    return got == word_of(0, 0) ? 0 : 1;
}

static int rep_child(void)
{
    volatile unsigned long *src = sbrk((long)(2 * COPY_PAGES * PAGE));
    if (sys_failed((void *)src) || (uintptr_t)src % PAGE) {
        printf("livelock: sbrk of %lu pages: %s\n", 2 * COPY_PAGES, sys_strerror((long)src));
        return 1;
    }
    volatile unsigned long *dst = src + COPY_PAGES * PAGE / 8;
    for (unsigned long p = 0; p < COPY_PAGES; p++)
        for (unsigned long w = 0; w < PAGE / 8; w++)
            src[p * PAGE / 8 + w] = word_of(p, w);
    struct sys_vmstat before, after;
    vmstat(&before);
    rep_movsb((const void *)src, (void *)dst, COPY_PAGES * PAGE);
    vmstat(&after);
    counts("rep movsb", &before, &after);
    unsigned long wrong = 0;
    for (unsigned long p = 0; p < COPY_PAGES; p++)
        for (unsigned long w = 0; w < PAGE / 8; w++)
            wrong += dst[p * PAGE / 8 + w] != word_of(p, w);
    printf("livelock: pid %ld: rep movsb: %lu pages, %lu words wrong\n", getpid(),
           COPY_PAGES, wrong);
    return wrong != 0;
}

enum test { MOVSQ, REP_MOVSB };

/* Runs one child to its end; what it ended with. */
static void run(enum test t, unsigned long frames)
{
    const char *what = t == MOVSQ ? "movsq" : "rep movsb";
    long pid = fork();
    if (pid == 0)
        exit(t == MOVSQ ? movsq_child(frames) : rep_child());
    if (pid < 0) {
        printf("livelock: fork: %s\n", sys_strerror(pid));
        return;
    }
    int status = 0;
    long r = wait(pid, &status);
    printf("livelock: %s: child pid %ld ended with status %d\n", what, pid,
           r == pid ? status : 99);
}

int main(void)
{
    struct sys_vmstat v;
    vmstat(&v);
    unsigned long frames = frames_of(&v);
    if (frames == 0) {
        printf("livelock: no user_frames= limit: nothing would be evicted\n");
        return 1;
    }
    printf("livelock: %lu frames\n", frames);
    run(MOVSQ, frames);
    run(REP_MOVSB, frames);
    printf("livelock: done\n");
    return 0;
}
