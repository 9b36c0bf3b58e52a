/*
 * space_report.h - the address spaces the end of a boot lists (README,
 * "Address-space blocks"): after the kernel's final translations, one
 * block per live non-kernel address space,
 *
 *     pagelab: address space <name> cr3 0x<16 hex digits>
 *     <translation lines, the final translations' format>
 *
 * then "pagelab: halted". pagelab does not know who owns address spaces:
 * the owner (the process layer; today the test kernels' tests/guest/
 * spaces.c) registers a lister, and final_translations (kernel/
 * experiments.c) asks it which spaces are alive and which addresses of
 * each to show.
 */
#ifndef KERNEL_SPACE_REPORT_H
#define KERNEL_SPACE_REPORT_H

#include <stdint.h>
#include "pt.h"

/* The most blocks, and the most lines in one block, printed. */
#define SPACE_REPORT_MAX_SPACES 8
#define SPACE_REPORT_MAX_LINES  32
/* Owners of address spaces that list theirs: the process layer, and the
 * test kernels' own spaces (tests/guest/spaces.c). */
#define SPACE_REPORT_MAX_LISTERS 2

/* One line of a block: what the address is ("user code", ...) and the
 * address. */
struct space_line {
    const char *what;
    uint64_t va;
};

/* One live address space: its name (no spaces: one word of the header),
 * the space, and its lines (count at most SPACE_REPORT_MAX_LINES). */
struct space_view {
    const char *name;
    const struct pt_space *space;
    const struct space_line *lines;
    unsigned count;
};

/* Fills out[0 .. cap) with the live spaces; returns how many. */
typedef unsigned (*space_lister_fn)(struct space_view *out, unsigned cap);

/* Adds fn to the listers (once; registering it again does nothing). More
 * than SPACE_REPORT_MAX_LISTERS is a broken invariant: kpanic. */
void space_report_register(space_lister_fn fn);

/* Every registered lister's spaces, in the order they registered, at
 * most cap. */
unsigned space_report_list(struct space_view *out, unsigned cap);

#endif
