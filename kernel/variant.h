/*
 * variant.h - what distinguishes the kernel images built from one strategy.
 * Exactly one variant is linked: kernel/variant_none.c for the normal
 * boot, the others from tests/guest/ (they exist for the tests):
 *   variant_none.c      build/<strategy>/kernel.elf       (disk.img: the normal boot)
 *   variant_selftest.c  build/<strategy>/kernel-test.elf  (test.img: `make test`)
 *   variant_bench.c     build/<strategy>/kernel-bench.elf (bench.img: `make bench`)
 *   variant_debug.c     build/<strategy>/dbg/kernel-debug*.elf (debug*.img: `make bochs`)
 *   variant_overflow.c  build/offset/kernel-overflow.elf  (overflow.img: the stack
 *                       overflow that tests/robustness.py expects the double fault to catch)
 * kmain calls variant_run() after the experiments and adds
 * variant_oracle_addresses() to the final translations.
 *
 * Test and bench variants print one line per result on serial:
 * "PASS: guest/<strategy>: <name>" / "FAIL: guest/<strategy>: <name>: <why>",
 * or "BENCH: <strategy>,<metric>,<value>,<unit>", which tests/run_tests.py
 * and tests/bench.py read.
 */
#ifndef KERNEL_VARIANT_H
#define KERNEL_VARIANT_H

#include <stdint.h>
#include "bootinfo.h"

void variant_run(const struct boot_info *bi);

/* Addresses to add to the final translations (up to cap); returns how many. */
unsigned variant_oracle_addresses(uint64_t *out, unsigned cap);

#endif
