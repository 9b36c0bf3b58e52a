/*
 * protect.h - the CPU protections the kernel turns on, and the unmapped
 * pages it relies on (kernel/mm/protect.c).
 */
#ifndef KERNEL_PROTECT_H
#define KERNEL_PROTECT_H

#include "bootinfo.h"

/*
 * Once, from kmain, after the paging core is up (needs pt_translate and
 * pt_unmap): makes sure CR0.WP and (with NX) EFER.NXE are on, turns SMEP
 * and SMAP on when stage2 found them (CPUID 07h), checks that page 0 and
 * the kernel stack's guard page are unmapped, and unmaps the guard page of
 * the double-fault stack. Prints one "protections: ..." line. A mapped
 * page 0 or stack guard is a broken loader invariant: kpanic.
 */
void protect_init(const struct boot_info *bi);

#endif
