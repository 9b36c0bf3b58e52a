/*
 * frames.h - the in-guest test of the per-frame records
 * (tests/guest/frames.c: kernel/mm/frame_meta.c on the real CPU), run by
 * the selftest variant in every strategy's test kernel.
 */
#ifndef GUEST_FRAMES_H
#define GUEST_FRAMES_H

#include "bootinfo.h"

/*
 * Hands out frames with frame_new across a record-page boundary while a
 * process's space is active, counts references up and down, and reads a
 * record through the MMU in the kernel's space and in spaces made before
 * and after its page. Record pages and their tables stay mapped for good,
 * so call it after every check that counts tables against the boot's.
 * Prints "PASS:/FAIL: guest/<strategy>: frames: ..." lines.
 */
void frames_run(const struct boot_info *bi);

#endif
