/*
 * fake_cpu.h - the simulated machine the paging host tests run on.
 *
 * fake_cpu.c implements kernel/mm/tlb.h (counting INVLPG and full flushes,
 * CR3 from a variable) and the console's kprintf/kpanic (stdout, or a
 * capture buffer; abort), and boots the real paging code — pmm.c, the
 * paging core (pt_walk.c, pt_range.c, tlb_policy.c, pt_visit.c), pt_dump.c
 * and strategy_offset.c — over an arena that plays physical
 * memory: phys_window_base = the arena's address, so the offset strategy
 * needs no test-only branch.
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
    uint64_t invlpgs;
    uint64_t flushes;     /* tlb_flush_all calls */
    uint64_t last_invlpg; /* address of the last INVLPG */
    uint64_t cr3;         /* physical address of the PML4 */
};

extern struct fake_cpu fake_cpu;
extern struct boot_info fake_bi;

/* Boots a fresh machine: the arena's usable memory 1 MiB..64 MiB (a
 * "kernel" at 2-3 MiB excluded), pmm_init, strategy_init, a zeroed PML4
 * from the frame allocator in CR3, pt_init, counters reset. cpu_features:
 * 1 << CPU_NX / CPU_PAGE1GB ... */
void fake_boot(uint32_t cpu_features);

/* Pointer to physical address pa inside the arena. */
void *fake_phys(uint64_t pa);

/* Pointer to the level-`level` entry on va's path, or NULL if an entry
 * above it is not present (or is a leaf). For tests that edit by hand. */
pte_t *fake_entry(unsigned level, uint64_t va);

/* kprintf goes to a buffer between these two calls; end returns it
 * (valid until the next start). */
void fake_capture_start(void);
const char *fake_capture_end(void);

#endif
