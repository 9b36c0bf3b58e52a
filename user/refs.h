/*
 * refs.h - what the replacement workloads share (user/belady.c,
 * user/cyclic.c): a reference string over heap pages, printed, then run
 * one write per reference (so a page's first reference takes a frame, as
 * in a replacement simulator, and never maps the shared zero frame), then
 * the counts from vmstat. tests/replace_checks.py reads both lines and
 * replays the string in tests/replacement_sim.py.
 *
 *   refs: <name>: string <n>: <page> <page> ...   (continued in lines of
 *   refs: <name>: more: <page> ...                 at most 80 columns)
 *   refs: <name>: frames <q> references <n> faults <f> evictions <e>
 *       writebacks <w> swapins <s>
 */
#ifndef USER_REFS_H
#define USER_REFS_H

#include "pagelab.h"

#define REFS_PAGE 4096UL

static void refs_print(const char *name, const unsigned *string, unsigned n)
{
    char line[96];
    int len = snprintf(line, sizeof(line), "refs: %s: string %u:", name, n);
    for (unsigned i = 0; i < n; i++) {
        char word[16];
        int w = snprintf(word, sizeof(word), " %u", string[i]);
        if (len + w > 78) {
            printf("%s\n", line);
            len = snprintf(line, sizeof(line), "refs: %s: more:", name);
        }
        len += snprintf(line + len, sizeof(line) - (size_t)len, "%s", word);
    }
    printf("%s\n", line);
}

/* Runs string (pages 0 .. pages - 1 of a fresh heap), prints the counts;
 * 0, or 1 when the heap could not be had. yield_each: yield() after every
 * reference, so that two workloads alternate one reference at a time (the
 * round-robin scheduler makes the interleaving exact). */
static int refs_run(const char *name, const unsigned *string, unsigned n, unsigned pages,
                    int yield_each)
{
    volatile char *heap = sbrk((long)(pages * REFS_PAGE));
    if (sys_failed((void *)heap)) {
        printf("refs: %s: sbrk of %u pages: %s\n", name, pages, sys_strerror((long)heap));
        return 1;
    }
    refs_print(name, string, n);
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
    for (unsigned i = 0; i < n; i++) {
        pos = i;
        heap[string[i] * REFS_PAGE] = (char)i;
        if (yield_each)
            yield();
    }
    vmstat(&v1);
    printf("refs: %s: frames %lu references %u faults %lu evictions %lu writebacks %lu"
           " swapins %lu\n", name, (unsigned long)v1.user_frames, n,
           (unsigned long)(v1.domain_faults - v0.domain_faults),
           (unsigned long)(v1.evictions - v0.evictions),
           (unsigned long)(v1.writebacks - v0.writebacks),
           (unsigned long)(v1.swap_ins - v0.swap_ins));
    return 0;
}

#endif
