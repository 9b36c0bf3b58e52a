/*
 * spaces.h - the in-guest address-space test (tests/guest/spaces.c), run by
 * the selftest variant in every strategy's test kernel.
 */
#ifndef GUEST_SPACES_H
#define GUEST_SPACES_H

#include "bootinfo.h"

/*
 * Builds two address spaces while the kernel's is active, with the same
 * virtual addresses mapped to different frames, loads each into CR3 and
 * reads and writes through the real MMU; maps a kernel page after they
 * exist and reads it in both; tears them down and counts every frame
 * back. Prints "PASS:/FAIL: guest/<strategy>: spaces: ..." lines.
 */
void spaces_run(const struct boot_info *bi);

/*
 * Builds two more spaces, "test-a" and "test-b", laid out as a process's
 * would be (user code r-x and data at USER_BASE, a page of their own, one
 * frame both map, the user stack under USER_STACK_TOP above an unmapped
 * guard page), and leaves them alive: registered with space_report.h, so
 * the boot ends with their address-space blocks. Call once, after every
 * test that counts tables (they stay allocated).
 */
void spaces_keep(const struct boot_info *bi);

#endif
