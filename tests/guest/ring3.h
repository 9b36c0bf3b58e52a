/*
 * ring3.h - the ring-3 tests of the test kernels and the system-call
 * figure of the bench kernel (tests/guest/ring3.c), both in the kernel's
 * own address space: user pages in RING3_TEST_BASE's PML4 slot (and the
 * last user page, USER_END - 4 KiB), the routines of ring3_user.asm.
 */
#ifndef TESTS_GUEST_RING3_H
#define TESTS_GUEST_RING3_H

#include "bootinfo.h"

/* The selftest's part: maps the user pages, empties every other PML4
 * slot of the lower half, runs each check (one PASS/FAIL line each, named
 * "ring3: ..." and "lower half: ..."), puts the lower half back and
 * unmaps and frees everything it mapped. */
void ring3_run(const struct boot_info *bi);

/* The bench's part: the median instructions (TSC under -icount) of one
 * SYS_GETPID round trip from ring 3, SYSCALL to SYSRETQ; 0 if the user
 * pages cannot be set up or RDTSC is closed to ring 3 (CR4.TSD). */
uint64_t ring3_syscall_null(const struct boot_info *bi);

#endif
