/*
 * rwrefs.c - a seeded pseudo-random string of reads and writes: 96
 * references over 8 pages, from the same generator as randrefs.c (seed
 * SEED); a reference to a page written before is a read when bit 8 of the
 * generator's state is set. Reads leave a page clean: one read back from
 * swap and not written since has a valid copy there and D clear, so its
 * eviction needs no write. That is what NRU's classes (clean before
 * modified) and the write-back counts of every policy turn on, which an
 * all-write string cannot show.
 */
#include "refs.h"

#define SEED 11u
#define REFS 96
#define PAGES 8

int main(void)
{
    static unsigned string[REFS];
    static unsigned char reads[REFS], written[PAGES];
    unsigned long x = SEED;
    for (unsigned i = 0; i < REFS; i++) {
        x = (x * 1103515245UL + 12345UL) & 0x7FFFFFFFUL;
        string[i] = (unsigned)((x >> 16) % PAGES);
        reads[i] = written[string[i]] && ((x >> 8) & 1);
        written[string[i]] = 1;
    }
    return refs_run_rw("rwrefs", string, reads, REFS, PAGES, 0);
}
