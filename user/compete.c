/*
 * compete.c - two processes competing for frames: a small hot working set
 * (3 pages, round and round) against a scanner (12 pages, in order, again
 * and again), each its own reference string (user/refs.h), the two
 * taking turns one reference at a time (a yield after each). Under
 * scope=local with quota=Q each keeps Q frames, and its faults are what a
 * simulator gives it alone with Q frames whatever the interleaving
 * (tests/replace_checks.py checks exactly that); under scope=global the
 * scanner takes frames from the hot set, which faults more.
 */
#include "refs.h"

#define HOT_PAGES 3
#define SCAN_PAGES 12
#define REFS 96

int main(void)
{
    static unsigned string[REFS];
    long child = fork();
    if (child < 0) {
        printf("refs: compete: fork: %s\n", sys_strerror(child));
        return 1;
    }
    unsigned pages = child == 0 ? SCAN_PAGES : HOT_PAGES;
    for (unsigned i = 0; i < REFS; i++)
        string[i] = i % pages;
    int r = refs_run(child == 0 ? "compete-scan" : "compete-hot", string, REFS, pages, 1);
    if (child == 0)
        return r;
    int status = -1;
    wait(child, &status);
    return r || status;
}
