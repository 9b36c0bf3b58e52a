/*
 * iso_kread.c - isolation demo: a user read of a kernel address. The
 * kernel's pages are supervisor-only (U/S = 0 in their leaf, SDM Vol. 3A
 * 4.6.1), so the read faults with a protection violation in user mode and
 * the kernel kills this process with one named line.
 */
#include "pagelab.h"

#define KERNEL_TEXT 0xFFFFFFFF80200000UL   /* KERNEL_VIRT_OFFSET + KERNEL_PHYS_BASE */

int main(void)
{
    printf("iso_kread: reading the kernel's code at %p from user mode\n", (void *)KERNEL_TEXT);
    volatile unsigned char *k = (volatile unsigned char *)KERNEL_TEXT;
    printf("iso_kread: read 0x%x: isolation BROKEN\n", *k);
    return 0;
}
