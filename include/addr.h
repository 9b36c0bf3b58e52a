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

typedef struct { uint64_t pa; } paddr_t;
typedef struct { uint64_t va; } vaddr_t;

static inline paddr_t paddr(uint64_t pa) { paddr_t p = { pa }; return p; }
static inline vaddr_t vaddr(uint64_t va) { vaddr_t v = { va }; return v; }

#endif
