/*
 * cyclic.c - a loop over one page more than the frames it has
 * (user_frames=, from vmstat), CYCLES times: the worst case of FIFO and
 * LRU (and of Clock, which a loop reduces to FIFO), where every reference
 * faults; OPT faults once per frame per turn.
 */
#include "refs.h"

#define CYCLES 4
#define MOST 64

int main(void)
{
    struct sys_vmstat v;
    vmstat(&v);
    unsigned pages = (unsigned)v.user_frames + 1;
    if (v.user_frames == 0 || pages > MOST) {
        printf("refs: cyclic: needs a user_frames= limit below %u\n", MOST);
        return 1;
    }
    static unsigned string[CYCLES * MOST];
    unsigned n = 0;
    for (unsigned c = 0; c < CYCLES; c++)
        for (unsigned p = 0; p < pages; p++)
            string[n++] = p;
    return refs_run("cyclic", string, n, pages, 0);
}
