/*
 * pagesize.h - the page-size trade-off measured on the paging core
 * (tests/guest/pagesize.c), run by the selftest variant in every
 * strategy's test kernel; tests/pagesize_check.py checks its lines and
 * tests/pagesize.py turns them into build/experiments/pagesize.csv.
 */
#ifndef GUEST_PAGESIZE_H
#define GUEST_PAGESIZE_H

#include "bootinfo.h"

/*
 * For each process size of include/layout.h (PAGESIZE_SIZE_*) and each
 * page size (4 KiB, 2 MiB, 1 GiB; the last only if the CPU has 1 GiB
 * pages, else one line says it is skipped and why): a fresh address
 * space, the size mapped at USER_BASE with pages of that size, its tables
 * counted per level, then torn down. One line per cell,
 *   "pagesize: s <bytes> p <bytes> pages <n> tables <L4>+<L3>+<L2>+<L1>
 *    frag <bytes>"
 * (one line on serial), and one "PASS:/FAIL: guest/<strategy>: pagesize:
 * ..." line: every cell's tables are exactly the frames its mapping took,
 * each leaf came back once, of its page size, and every frame is back.
 */
void pagesize_run(const struct boot_info *bi);

#endif
