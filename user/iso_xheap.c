/*
 * iso_xheap.c - isolation demo: executing its heap. sbrk's pages are
 * writable and no-execute, so writing a RET there works and calling it
 * faults (instruction fetch) and the process is killed.
 */
#include "pagelab.h"

int main(void)
{
    void *r = sbrk(4096);
    if (sys_failed(r)) {
        printf("iso_xheap: sbrk: %s\n", sys_strerror((long)r));
        return 1;
    }
    volatile unsigned char *heap = (volatile unsigned char *)r;
    heap[0] = 0xC3;                                  /* RET: the write is allowed */
    printf("iso_xheap: wrote a RET to my heap at %p; calling it\n", (void *)heap);
    ((void (*)(void))(unsigned long)heap)();
    printf("iso_xheap: the heap ran: NX BROKEN\n");
    return 0;
}
