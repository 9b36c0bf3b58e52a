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

#endif
