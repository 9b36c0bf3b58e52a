/*
 * spin.c - prints SPIN_LINES numbered lines, yielding between them: two of
 * it running at once show the scheduler interleaving them (and, later,
 * two address spaces using the same virtual addresses for different
 * frames: `counter` is at the same address in every copy). Then it
 * pauses, so its address space is alive when the boot ends and listed.
 */
#include "pagelab.h"

#define SPIN_LINES 5

static volatile int counter;   /* .bss: one per process */

int main(void)
{
    long pid = getpid();
    for (counter = 1; counter <= SPIN_LINES; counter++) {
        printf("spin %ld: line %d of %d (counter at %p)\n", pid, counter, SPIN_LINES,
               (void *)&counter);
        yield();
    }
    /* stay alive: the end of the boot lists this address space */
    printf("spin %ld: done; pausing, so the boot's end lists my address space\n", pid);
    pause();
    return 0;
}
