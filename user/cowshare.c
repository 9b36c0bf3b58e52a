/*
 * cowshare.c - two processes left sharing frames in the two ways fork
 * knows, for the address-space blocks at the end of the boot (the outside
 * walk, tests/aspace_check.py, checks both spaces' entries):
 *   - its data page, written before fork and by nobody after: copy-on-write,
 *     one frame mapped read-only in both spaces;
 *   - a SYS_MAP_SHARED page both write after fork: one frame, writable in
 *     both.
 * Each side prints the two addresses, then pauses so that its space is
 * still there when the boot lists it.
 */
#include "pagelab.h"

#define PAGE 4096UL

static volatile long cow_word;  /* .data/.bss: the data page */

int main(void)
{
    cow_word = getpid();        /* the page gets a frame of its own, writable */
    volatile char *shared = mmap(0, PAGE, SYS_PROT_WRITE, SYS_MAP_SHARED);
    if (sys_failed((void *)shared)) {
        printf("cowshare: mmap shared: %s\n", sys_strerror((long)shared));
        return 1;
    }
    long child = fork();
    if (child < 0) {
        printf("cowshare: fork: %s\n", sys_strerror(child));
        return 1;
    }
    /* from here on neither side writes the data page: it stays shared */
    shared[child == 0] = child == 0 ? 'c' : 'p';
    printf("cowshare: pid %ld %s: cow page 0x%lx, shared page 0x%lx\n", getpid(),
           child == 0 ? "child" : "parent", (unsigned long)&cow_word & ~(PAGE - 1),
           (unsigned long)shared);
    pause();
    return 0;
}
