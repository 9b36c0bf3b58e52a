/*
 * swapio.h - the in-guest checks of the swap area (kernel/mm/swap.h) and
 * the ATA driver under it (kernel/dev/ata.h), run by the test variant.
 */
#ifndef GUEST_SWAPIO_H
#define GUEST_SWAPIO_H

#include "bootinfo.h"

void swapio_run(const struct boot_info *bi);

#endif
