/*
 * selftest.h - the in-guest test suite, linked only into test kernels
 * (build/<strategy>/kernel-test.elf, booted by `make test`); normal kernels
 * link selftest_none.c.
 *
 * Each check prints one line on serial, "PASS: guest/<strategy>: <name>"
 * or "FAIL: guest/<strategy>: <name>: <why>", which tests/run_tests.py
 * counts. The suite leaves the address space as it found it, then lays out
 * the oracle mappings (4 KiB, 2 MiB, 1 GiB pages and holes) whose
 * addresses are added to the final translations, so QEMU's and Bochs's
 * page walkers can judge them.
 */
#ifndef KERNEL_SELFTEST_H
#define KERNEL_SELFTEST_H

#include <stdint.h>
#include "bootinfo.h"

/* Runs the suite; returns after the oracle mappings are in place. */
void selftest_run(const struct boot_info *bi);

/* Addresses to add to the final translations (up to cap); returns how many. */
unsigned selftest_oracle_addresses(uint64_t *out, unsigned cap);

#endif
