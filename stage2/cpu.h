/*
 * cpu.h - step 2 of stage2_main: what the CPU can do (CPUID).
 *
 * Needs: nothing. Fills BootInfo's cpu_features (enum cpu_feature_bit),
 * phys_addr_bits and linear_addr_bits (36/48 without leaf 80000008h).
 * Refuses a CPU without CPUID ("this CPU has no CPUID instruction"), without
 * long mode ("this CPU cannot run 64-bit code (CPUID 80000001h: no long
 * mode)") or without PAE ("this CPU has no PAE ...").
 */
#ifndef STAGE2_CPU_H
#define STAGE2_CPU_H

#include "../include/bootinfo.h"

void cpu_detect(struct boot_info *bi);

/* Whether cpu_detect found feature f: BOOT_CPU_HAS (include/bootinfo.h). */

#endif
