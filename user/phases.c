/*
 * phases.c - a working set that moves: three phases of 32 references,
 * each round and round a set of 4 pages (pages 0-3, then 4-7, then 0-3
 * again). With 4 frames or more a policy pays 4 faults per new phase and
 * nothing between; below that it pays in every phase.
 */
#include "refs.h"

#define PHASES 3
#define PER_PHASE 32
#define SET 4

int main(void)
{
    static const unsigned first_page[PHASES] = { 0, SET, 0 };
    static unsigned string[PHASES * PER_PHASE];
    unsigned n = 0;
    for (unsigned p = 0; p < PHASES; p++)
        for (unsigned i = 0; i < PER_PHASE; i++)
            string[n++] = first_page[p] + i % SET;
    return refs_run("phases", string, n, 2 * SET, 0);
}
