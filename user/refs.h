/*
 * refs.h - what the replacement workloads share (user/belady.c,
 * user/cyclic.c): a reference string over heap pages, printed, then run
 * one write per reference (so a page's first reference takes a frame, as
 * in a replacement simulator, and never maps the shared zero frame; a
 * workload may make some later references reads, refs_run_rw), then the
 * counts from vmstat. tests/replace_checks.py reads the lines and replays
 * the string in tests/replacement_sim.py.
 *
 * The pace: the workload sleeps one tick (sleep(1)) before every
 * REFS_PER_TICK-th reference, the first included, so that every timer
 * tick (and the sample NRU and aging take at it: kernel/proc/replace.h)
 * falls before reference 0, REFS_PER_TICK, 2 * REFS_PER_TICK, ... and
 * nowhere else, as long as REFS_PER_TICK references take less than a
 * tick (under -icount shift=0 a tick is a million instructions; a
 * reference with its fault a few thousand, unless the host is slow to
 * complete a disk request the guest polls for). The simulator then
 * samples at the same places. Whether that held is counted, not assumed:
 * each sleep(1) waits for exactly one tick, so from the first reference
 * to the end of the last the run takes one tick fewer than its sleeps
 * exactly when no tick fell anywhere else (the "sleeps" line). FIFO,
 * Clock and OPT do not look at the clock.
 *
 *   refs: <name>: pid <p>, a tick every <k> references
 *   refs: <name>: string <n>: <page> <page>r ...  (a read has an r; the
 *   refs: <name>: more: <page> ...                 lines are at most 80
 *                                                  columns)
 *   refs: <name>: frames <q> references <n> faults <f> evictions <e>
 *       writebacks <w> swapins <s>
 *   refs: <name>: <s> sleeps, <t> ticks between the first and the last
 *       (<tick> to <tick>)
 */
#ifndef USER_REFS_H
#define USER_REFS_H

#include "pagelab.h"

#define REFS_PAGE 4096UL
#define REFS_PER_TICK 4

static inline void refs_print(const char *name, const unsigned *string,
                              const unsigned char *reads, unsigned n)
{
    printf("refs: %s: pid %ld, a tick every %u references\n", name, getpid(), REFS_PER_TICK);
    char line[96];
    int len = snprintf(line, sizeof(line), "refs: %s: string %u:", name, n);
    for (unsigned i = 0; i < n; i++) {
        char word[16];
        int w = snprintf(word, sizeof(word), " %u%s", string[i], reads && reads[i] ? "r" : "");
        if (len + w > 78) {
            printf("%s\n", line);
            len = snprintf(line, sizeof(line), "refs: %s: more:", name);
        }
        len += snprintf(line + len, sizeof(line) - (size_t)len, "%s", word);
    }
    printf("%s\n", line);
}

/* Runs string (pages 0 .. pages - 1 of a fresh heap), prints the counts;
 * 0, or 1 when the heap could not be had. reads (NULL: none): reference i
 * reads its page instead of writing it when reads[i] is set; the caller
 * makes only pages written before reads (a read of a page never written
 * maps the zero frame: not a page of the domain). yield_each: yield()
 * after every reference, so that two workloads alternate one reference at
 * a time (the round-robin scheduler makes the interleaving exact). */
static inline int refs_run_rw(const char *name, const unsigned *string,
                              const unsigned char *reads, unsigned n, unsigned pages,
                              int yield_each)
{
    volatile char *heap = sbrk((long)(pages * REFS_PAGE));
    if (sys_failed((void *)heap)) {
        printf("refs: %s: sbrk of %u pages: %s\n", name, pages, sys_strerror((long)heap));
        return 1;
    }
    refs_print(name, string, reads, n);
    /* OPT's knowledge of the future (only replace=opt reads it): the
     * string, and where the program is in it */
    static volatile unsigned pos;
    long r = refs((void *)heap, string, n, &pos);
    if (r) {
        printf("refs: %s: refs: %s\n", name, sys_strerror(r));
        return 1;
    }
    struct sys_vmstat v0, v1;
    vmstat(&v0);
    char sink = 0;
    unsigned sleeps = 0;
    uint64_t first = 0;
    for (unsigned i = 0; i < n; i++) {
        pos = i;
        if (i % REFS_PER_TICK == 0) {
            sleep(1);
            sleeps++;
        }
        if (i == 0) {
            struct sys_vmstat t;
            vmstat(&t);
            first = t.ticks;
        }
        if (reads && reads[i])
            sink ^= heap[string[i] * REFS_PAGE];
        else
            heap[string[i] * REFS_PAGE] = (char)i;
        if (yield_each)
            yield();
    }
    vmstat(&v1);
    (void)sink;
    printf("refs: %s: frames %lu references %u faults %lu evictions %lu writebacks %lu"
           " swapins %lu\n", name, (unsigned long)v1.user_frames, n,
           (unsigned long)(v1.domain_faults - v0.domain_faults),
           (unsigned long)(v1.evictions - v0.evictions),
           (unsigned long)(v1.writebacks - v0.writebacks),
           (unsigned long)(v1.swap_ins - v0.swap_ins));
    printf("refs: %s: %u sleeps, %lu ticks between the first and the last (%lu to %lu)\n",
           name, sleeps, (unsigned long)(v1.ticks - first), (unsigned long)first,
           (unsigned long)v1.ticks);
    return 0;
}

static inline int refs_run(const char *name, const unsigned *string, unsigned n,
                           unsigned pages, int yield_each)
{
    return refs_run_rw(name, string, NULL, n, pages, yield_each);
}

#endif
