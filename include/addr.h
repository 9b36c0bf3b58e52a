/*
 * addr.h - physical and virtual addresses as distinct types.
 *
 * A physical address and a virtual address are both 64-bit numbers; giving
 * each its own one-field struct makes the compiler refuse to pass one where
 * the other is expected. The only bridges are named conversion functions
 * (the kernel's strategy, the loader's flat 32-bit view).
 */
#ifndef PAGELAB_ADDR_H
#define PAGELAB_ADDR_H

#include <stdint.h>
#include "layout.h"   /* PAGE_SIZE */

/* Rounding to a power-of-two boundary a (a page, 2 MiB, 1 GiB): the one
 * spelling of the mask idiom. ALIGN_UP wraps to 0 past the top of the
 * 64-bit space; callers that can get there check before. */
#define ALIGN_DOWN(x, a)    ((uint64_t)(x) & ~((uint64_t)(a) - 1))
#define ALIGN_UP(x, a)      ALIGN_DOWN((uint64_t)(x) + (uint64_t)(a) - 1, (a))
#define PAGE_ROUND_DOWN(x)  ALIGN_DOWN((x), PAGE_SIZE)
#define PAGE_ROUND_UP(x)    ALIGN_UP((x), PAGE_SIZE)
/* The byte offset inside its page: 0 exactly when x is page-aligned. */
#define PAGE_OFFSET(x)      ((uint64_t)(x) & ((uint64_t)PAGE_SIZE - 1))

typedef struct { uint64_t pa; } paddr_t;
typedef struct { uint64_t va; } vaddr_t;

static inline paddr_t paddr(uint64_t pa) { paddr_t p = { pa }; return p; }
static inline vaddr_t vaddr(uint64_t va) { vaddr_t v = { va }; return v; }

#endif
