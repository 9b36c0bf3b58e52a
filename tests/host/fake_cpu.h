/*
 * fake_cpu.h - the simulated machine the paging host tests run on.
 *
 * fake_cpu.c implements kernel/mm/tlb.h (counting INVLPG and full flushes,
 * CR3 from a variable, and cpu_ptr: a software walk of the page tables
 * from CR3 through a 16-entry TLB that only invlpg and full flushes empty)
 * and the console's kprintf/kpanic (stdout, or a capture buffer; abort).
 * It boots the real paging code — pmm.c, the paging core (pt_walk.c,
 * pt_range.c, tlb_policy.c, pt_visit.c), pt_dump.c, phys_window.c and one strategy,
 * chosen when the test is built (FAKE_STRATEGY, tests/host/paging.mk) —
 * over an arena that plays physical memory, after doing what stage2 does
 * for that strategy:
 *   offset: the arena is the window (phys_window_base = its address);
 *   identity, table-offset: a TABLE_POOL_PAGES pool at 8 MiB, mapped at
 *     0 / TABLE_OFFSET_BASE + frame by tables taken from the pool (the
 *     PML4 too), and a window at PML4[256] that strategy_init drops;
 *   temporary: the slot table under TEMP_SLOTS_BASE, mapped 1:1 itself,
 *     and the window.
 * The strategies reach their tables through cpu_ptr, so none needs a
 * test-only branch. recursive is not simulated: every access to its tables
 * is a walk through PML4[510] into itself, which only the MMU makes.
 */
#ifndef TESTS_HOST_FAKE_CPU_H
#define TESTS_HOST_FAKE_CPU_H

#include <stdint.h>

#include "addr.h"
#include "bootinfo.h"
#include "pte.h"

#define FAKE_ARENA_SIZE (64ULL << 20) /* 64 MiB of "physical memory" */
/* The arena (the offset strategy's window, its reserved range) starts at a
 * 2 MiB boundary, so a level-2 entry can start exactly at the reserved
 * base, as the loader's window does in the kernel. */
#define FAKE_ARENA_ALIGN (2ULL << 20)

struct fake_cpu {
    uint64_t invlpgs;     /* INVLPGs outside the strategy's own range */
    uint64_t own_invlpgs; /* INVLPGs inside it (temporary's slots) */
    uint64_t flushes;     /* tlb_flush_all calls */
    uint64_t last_invlpg; /* address of the last INVLPG counted in invlpgs */
    uint64_t walks;       /* cpu_ptr calls the TLB did not answer */
    uint64_t cr3;         /* physical address of the PML4 */
    uint64_t cr3_writes;  /* cpu_write_cr3 and tlb_flush_nonglobal calls */
};

extern struct fake_cpu fake_cpu;
extern struct boot_info fake_bi;

/* Boots a fresh machine: the arena's usable memory 1 MiB..64 MiB (a
 * "kernel" at 2-3 MiB excluded), the strategy's loader tables (above; for
 * offset a zeroed PML4 from the frame allocator), pmm_init, strategy_init,
 * pt_init, counters and TLB reset. cpu_features: 1 << CPU_NX / CPU_PAGE1GB
 * ... */
void fake_boot(uint32_t cpu_features);

/* Pointer to physical address pa inside the arena. */
void *fake_phys(uint64_t pa);

/* Pointer to the level-`level` entry on va's path, or NULL if an entry
 * above it is not present (or is a leaf). For tests that edit by hand. */
pte_t *fake_entry(unsigned level, uint64_t va);
/* The same in the hierarchy whose PML4 is at physical address root (an
 * address space that need not be in CR3). */
pte_t *fake_entry_in(uint64_t root, unsigned level, uint64_t va);

/* kprintf goes to a buffer between these two calls; end returns it
 * (valid until the next start). */
void fake_capture_start(void);
const char *fake_capture_end(void);

#endif
