/*
 * kmain.h - the kernel's C entry point, called by kernel/entry.asm with
 * RDI = the BootInfo stage2 filled. Declared once for kernel/main.c, which
 * defines it, and for the code that takes its address as "an address in
 * the kernel's code" (the experiments and the test kernels' variants).
 */
#ifndef KERNEL_KMAIN_H
#define KERNEL_KMAIN_H

#include "bootinfo.h"

/* boot_info_identity: BootInfo's identity-mapped (= physical) address, as
 * stage2 passes it; kmain reaches it through the upper half from there on. */
void kmain(const struct boot_info *boot_info_identity);

#endif
