/*
 * swapent.h - the in-guest check of swap entries (tests/guest/swapent.c):
 * the paging core's pt_swap_out / pt_swap_in / pt_swap_clear and
 * pt_space_destroy_swapped judged by the real MMU, run by the selftest
 * variant in every strategy's test kernel.
 */
#ifndef GUEST_SWAPENT_H
#define GUEST_SWAPENT_H

#include "bootinfo.h"

/*
 * In a space of its own: a page written through the MMU is swapped out
 * while the space is active (exactly one INVLPG; the next read faults,
 * not present, at its address), swapped in to another frame holding the
 * same bytes (no invalidation) and read back; the same in the space
 * while inactive (no INVLPG, no flush); a swap entry cleared and one
 * left for destroy to report. Every frame and table back. Prints
 * "PASS:/FAIL: guest/<strategy>: swapent: ..." lines.
 */
void swapent_run(const struct boot_info *bi);

#endif
