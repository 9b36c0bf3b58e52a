/*
 * variant_overflow.c - a test kernel that overflows its stack on purpose
 * (build/offset/kernel-overflow.elf in build/offset/overflow.img, booted by
 * tests/robustness.py; see variant.h). After the experiments it recurses
 * until the stack runs into the unmapped guard page below it. The page
 * fault cannot push its frame onto that stack either, so the CPU raises a
 * double fault instead (Intel SDM Vol. 3A 6.15, interrupt 8, "contributory
 * and page-fault exceptions"), and the double fault runs on its own IST
 * stack (kernel/trap.c): "exception 8 (double fault)" on the console, CR2
 * in the guard page, a halt - not a triple fault and a reset.
 */
#include <stdint.h>
#include "variant.h"
#include "console.h"

#define FRAME_BYTES 512

/* One frame of FRAME_BYTES per call; the result is used after the call,
 * so the compiler can turn nothing into a loop or a tail call. */
static __attribute__((noinline)) uint64_t dive(uint64_t depth)
{
    volatile uint8_t frame[FRAME_BYTES];
    frame[depth % FRAME_BYTES] = (uint8_t)depth;
    if (depth == UINT64_MAX)                /* never: keeps -Winfinite-recursion quiet */
        return 0;
    return dive(depth + 1) + frame[depth % FRAME_BYTES];
}

void variant_run(const struct boot_info *bi)
{
    kprintf("overflow: recursing until the stack (0x%llx-0x%llx) runs into its guard page "
            "0x%llx\n", (unsigned long long)bi->stack_bottom, (unsigned long long)bi->stack_top,
            (unsigned long long)(bi->stack_bottom - 0x1000));
    dive(0);
    kprintf("overflow: the recursion returned (BUG)\n");
}

unsigned variant_oracle_addresses(uint64_t *out, unsigned cap)
{
    (void)out;
    (void)cap;
    return 0;
}
