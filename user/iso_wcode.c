/*
 * iso_wcode.c - isolation demo: a write to its own code. The text segment
 * is mapped without R/W (W^X), so the write faults (protection, write,
 * user mode) and the process is killed by name.
 */
#include "pagelab.h"

int main(void)
{
    volatile unsigned char *code = (volatile unsigned char *)(unsigned long)main;
    printf("iso_wcode: writing to my own code at %p\n", (void *)code);
    *code = 0xC3;
    printf("iso_wcode: the write went through: W^X BROKEN\n");
    return 0;
}
