/*
 * randrefs.c - a seeded pseudo-random reference string: 64 references over
 * 8 pages, from the C library's classic linear congruential generator
 * (x = x * 1103515245 + 12345 mod 2^31, the page from bits 16 and up), seed
 * SEED. With 4 frames FIFO and Clock part ways on it (the simulator says
 * 35 and 40 faults), so comparing the kernel with tests/replacement_sim.py
 * here tells the two policies apart, which a loop or Belady's string
 * cannot.
 */
#include "refs.h"

#define SEED 7u
#define REFS 64
#define PAGES 8

int main(void)
{
    static unsigned string[REFS];
    unsigned long x = SEED;
    for (unsigned i = 0; i < REFS; i++) {
        x = (x * 1103515245UL + 12345UL) & 0x7FFFFFFFUL;
        string[i] = (unsigned)((x >> 16) % PAGES);
    }
    return refs_run("randrefs", string, REFS, PAGES, 0);
}
