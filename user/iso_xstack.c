/*
 * iso_xstack.c - isolation demo: executing its own stack. The stack is
 * mapped with XD set (no-execute, SDM Vol. 3A 4.6.2), so the fetch faults
 * (instruction fetch, protection, user mode) and the process is killed.
 */
#include "pagelab.h"

int main(void)
{
    volatile unsigned char code[16] = { 0xC3 };      /* RET */
    printf("iso_xstack: calling my stack at %p\n", (void *)code);
    ((void (*)(void))(unsigned long)code)();
    printf("iso_xstack: the stack ran: NX BROKEN\n");
    return 0;
}
