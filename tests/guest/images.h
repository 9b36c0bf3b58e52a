/*
 * images.h - the in-guest test of user images (tests/guest/images.c:
 * kernel/proc/image.c's load and fork copy on every boot module), run by
 * the selftest variant in every strategy's test kernel.
 */
#ifndef GUEST_IMAGES_H
#define GUEST_IMAGES_H

#include "bootinfo.h"

/* Prints "PASS:/FAIL: guest/<strategy>: images: ..." lines. */
void images_run(const struct boot_info *bi);

#endif
