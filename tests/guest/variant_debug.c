/*
 * variant_debug.c - the kernel of the debug images (variant.h), booted by
 * `make bochs` and tests/bochs_check.py. Every object of such an image is
 * built with -DPAGELAB_DEBUG, so the milestones of common/debug.h stop
 * Bochs; after the experiments this variant adds the milestones no normal
 * boot has:
 *   - an unmap that frees tables: one 4 KiB page alone in its PML4 slot
 *     (TOUR_BASE, include/layout.h), so unmapping it frees its PT, PD and PDPT;
 *   - a 2 MiB and a 1 GiB page that stay (read-only, never touched), so
 *     the final translations have a leaf of every size to check Bochs's
 *     `page` against;
 *   - with -DPAGELAB_DEMO_STALE_TLB=1 (debug-stale-tlb.img, `make bochs
 *     DEMO=stale-tlb`), a page-table entry rewritten without INVLPG, to
 *     see the stale translation in Bochs's `tlb` next to the new walk in
 *     `page`, then the fix.
 */
#include <stdint.h>
#include "variant.h"
#include "console.h"
#include "layout.h"
#include "pmm.h"
#include "pt.h"
#include "strategy.h"
#include "tlb.h"
#include "../common/debug.h"

#ifndef PAGELAB_DEMO_STALE_TLB
#define PAGELAB_DEMO_STALE_TLB 0
#endif

/* include/layout.h's slots, as the 64-bit numbers printf's %llx expects
 * (layout.h carries no suffixes: NASM and the linker scripts read it too) */
#define TOUR_VA     ((unsigned long long)TOUR_BASE)
#define HUGE_BASE   ((unsigned long long)TOUR_HUGE_BASE)
/* Slot 144. Bochs's data TLB is direct-mapped, indexed by address bits
 * from 12 up (the `tlb` command prints the entry at that index): 0x555
 * collides with none of the pages the kernel touches between the stale
 * read and the check (code, stack, data, VGA, page-table frames). */
#define DEMO_VA     0x0000480000555000ULL
#define VGA_FRAME   VGA_TEXT_ADDR
#define ORACLE_MAX  8

static uint64_t oracle[ORACLE_MAX];
static unsigned oracle_count;

static void oracle_add(uint64_t va)
{
    if (oracle_count < ORACLE_MAX)
        oracle[oracle_count++] = va;
}

static uint64_t tables_freed(void)
{
    struct pt_stats s;
    pt_stats_get(&s);
    return s.op[PT_OP_UNMAP].tables_freed;
}

/* Map one page where nothing else is, look, unmap it: every table made
 * for it is freed again (rule 4 in tlb_policy.c: unhook, invalidate, free). */
static void tour_unmap_frees_tables(void)
{
    kprintf("debug: map 0x%llx -> 0x%x alone in PML4 slot %llu, then unmap it\n",
            TOUR_VA, VGA_FRAME, PT_INDEX(TOUR_VA, 4));
    enum pt_status st = pt_map(vaddr(TOUR_VA), paddr(VGA_FRAME), PAGE_SIZE, PT_PROT_WRITE, 0);
    if (st != PT_OK) {
        kprintf("  pt_map: %s\n", pt_status_name(st));
        return;
    }
    uint64_t pml4e = cpu_read_cr3().pa + PT_INDEX(TOUR_VA, 4) * sizeof(pte_t);
    PAGELAB_BREAK("before an unmap that frees tables",
                  "`page 0x%llx` walks PML4[%llu] -> PDPT -> PD -> PT -> 0x%x, three tables"
                  " made for this one page; `xp /gx 0x%lx` is that PML4 entry",
                  TOUR_VA, PT_INDEX(TOUR_VA, 4), VGA_FRAME, pml4e);
    uint64_t before = tables_freed();
    st = pt_unmap(vaddr(TOUR_VA), 0, 0);
    kprintf("  pt_unmap: %s, %lu tables freed\n", pt_status_name(st),
            tables_freed() - before);
    PAGELAB_BREAK("after the unmap",
                  "%lu tables freed: `page 0x%llx` says \"physical address not available\","
                  " `xp /gx 0x%lx` is 0 again and `info tab` no longer lists the page",
                  tables_freed() - before, TOUR_VA, pml4e);
    oracle_add(TOUR_VA);
}

/* A 2 MiB and a 1 GiB leaf, read-only over RAM the kernel does not use
 * through them, so that the final translations show every page size. */
static void tour_huge_pages(void)
{
    static const struct { uint64_t va, pa, size; } huge[] = {
        { HUGE_BASE, KERNEL_PHYS_BASE, PAGE_SIZE_2M },
        { HUGE_BASE + PAGE_SIZE_1G, 0, PAGE_SIZE_1G },
    };
    for (unsigned i = 0; i < sizeof(huge) / sizeof(huge[0]); i++) {
        enum pt_status st = pt_map(vaddr(huge[i].va), paddr(huge[i].pa), huge[i].size,
                                   PT_PROT_READ, 0);
        kprintf("debug: map 0x%llx -> 0x%llx as one %s page: %s\n",
                (unsigned long long)huge[i].va, (unsigned long long)huge[i].pa,
                huge[i].size == PAGE_SIZE_1G ? "1 GiB" : "2 MiB", pt_status_name(st));
        oracle_add(huge[i].va + 0x12345);
    }
}

/* The level-1 table on va's path, as a pointer from the strategy, and its
 * frame (from the level-2 entry pt_visit reports). */
struct pt_find {
    uint64_t va;
    paddr_t frame;
};

static void find_pt(const struct pt_visit_entry *e, void *ctx)
{
    struct pt_find *f = ctx;
    if (e->kind == PT_VISIT_TABLE && e->level == 2 && f->va >= e->va.va &&
        f->va - e->va.va < e->span)
        f->frame = e->phys;
}

static const char *frame_text(const volatile char *p)
{
    return p[0] == 'A' ? "frame A" : p[0] == 'B' ? "frame B" : "neither (BUG)";
}

/*
 * The deliberate mistake: DEMO_VA maps frame A and has been read (so the
 * TLB holds it); its PTE is then pointed at frame B directly, without the
 * INVLPG that rule 2 of tlb_policy.c requires. The next read still goes to A.
 */
static void demo_stale_tlb(void)
{
    uint64_t va_b = DEMO_VA + PAGE_SIZE;     /* B's own mapping, to fill it */
    paddr_t a, b;
    if (pmm_alloc(PMM_ZONE_GENERAL, &a) != PMM_OK || pmm_alloc(PMM_ZONE_GENERAL, &b) != PMM_OK ||
        pt_map(vaddr(DEMO_VA), a, PAGE_SIZE, PT_PROT_WRITE, 0) != PT_OK ||
        pt_map(vaddr(va_b), b, PAGE_SIZE, PT_PROT_WRITE, 0) != PT_OK) {
        kprintf("demo: stale TLB: no frames or mapping failed\n");
        return;
    }
    volatile char *p = (volatile char *)(uintptr_t)DEMO_VA;
    *p = 'A';
    *(volatile char *)(uintptr_t)va_b = 'B';
    struct pt_find f = { DEMO_VA, paddr(0) };
    pt_visit(2, find_pt, &f);
    kprintf("demo: stale TLB: 0x%llx -> frame A 0x%lx, read: %s (now in the TLB)\n",
            DEMO_VA, a.pa, frame_text(p));
    pte_t *pt = strategy_table_get(1, vaddr(DEMO_VA), f.frame);
    pte_t *e = &pt[PT_INDEX(DEMO_VA, 1)];
    *e = (*e & ~PTE_ADDR_MASK) | b.pa;       /* no invlpg: the bug on purpose */
    kprintf("demo: PTE now says frame B 0x%lx, no invlpg; read: %s (stale)\n", b.pa,
            frame_text(p));
    PAGELAB_BREAK("stale TLB: PTE changed without invlpg",
                  "`tlb 0x%llx`: the DTLB entry still has ppf = 0x%lx (frame A); `page"
                  " 0x%llx` walks the tables to 0x%lx (frame B); the read above got A",
                  DEMO_VA, a.pa, DEMO_VA, b.pa);
    tlb_invlpg(vaddr(DEMO_VA));
    PAGELAB_BREAK("stale TLB: after invlpg",
                  "`tlb 0x%llx`: the entry is gone (lpf = 0xffffffffffffffff); the next"
                  " read walks the tables again", DEMO_VA);
    kprintf("demo: after invlpg 0x%llx; read: %s (fresh)\n", DEMO_VA, frame_text(p));
    pt_unmap(vaddr(DEMO_VA), 0, 0);
    pt_unmap(vaddr(va_b), 0, 0);
    pmm_free(PMM_ZONE_GENERAL, a);
    pmm_free(PMM_ZONE_GENERAL, b);
    oracle_add(DEMO_VA);
}

void variant_run(const struct boot_info *bi)
{
    (void)bi;
    tour_unmap_frees_tables();
    tour_huge_pages();
    if (PAGELAB_DEMO_STALE_TLB)
        demo_stale_tlb();
}

unsigned variant_oracle_addresses(uint64_t *out, unsigned cap)
{
    unsigned n = oracle_count < cap ? oracle_count : cap;
    for (unsigned i = 0; i < n; i++)
        out[i] = oracle[i];
    return n;
}
