/*
 * lowmem.h - the kernel's view of low memory (physical 0 to
 * IDENTITY_MAP_SIZE): at LOW_VIEW_BASE + phys in the upper half, which
 * stage2 maps (include/layout.h says why). The kernel reaches BootInfo and
 * the VGA text buffer there, never through the identity map of the lower
 * half, which a process will own.
 */
#ifndef KERNEL_LOWMEM_H
#define KERNEL_LOWMEM_H

#include <stdint.h>
#include "layout.h"

/* The upper-half address of low physical address pa (< IDENTITY_MAP_SIZE,
 * not in page 0: not checked). */
static inline void *lowmem_ptr(uint64_t pa)
{
    return (void *)(uintptr_t)(LOW_VIEW_BASE + pa);
}

/* The physical address of an upper-half low-memory pointer. */
static inline uint64_t lowmem_phys(const void *p)
{
    return (uint64_t)(uintptr_t)p - LOW_VIEW_BASE;
}

#endif
