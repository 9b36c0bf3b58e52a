/*
 * access.h - the in-guest permission test (tests/guest/access.c), run by
 * the selftest variant (variant_selftest.c) in every strategy's test kernel.
 */
#ifndef GUEST_ACCESS_H
#define GUEST_ACCESS_H

#include "bootinfo.h"

/*
 * Every combination of W, U and NX at each of the four levels of one
 * 4 KiB page, under every available setting of CR0.WP, CR4.SMEP,
 * CR4.SMAP and RFLAGS.AC, read, written and fetched from ring 0: the fault
 * the CPU raises (or not) against a prediction from the SDM's rules and
 * against pt_tr_prot. Prints "PASS:/FAIL: guest/<strategy>: access: ..."
 * lines with exact counts. Leaves CR0, CR4, RFLAGS.AC, the page tables and
 * the frame allocator as it found them (and says so in one more line).
 */
void access_run(const struct boot_info *bi);

#endif
