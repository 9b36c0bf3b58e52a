/*
 * strategy_recursive.c - PML4 entry RECURSIVE_INDEX points at the PML4
 * itself, so walking through it k times turns the hierarchy into data:
 * every table on a path appears at an address computed from the path
 * (recursive_table_addr, strategy_recursive.h), and no frame needs a
 * mapping of its own.
 *
 * The price: a table is reachable only once it is linked (the core links,
 * zeroes, then flushes: STRATEGY_LINK_THEN_ZERO and rule 5 in
 * tlb_policy.c), only the active hierarchy can be reached, and 512 GiB of virtual space go to
 * the window. A retired table leaves a 4 KiB translation of its window
 * address in the TLB: it is invalidated before the frame is freed (the
 * x86_64 crate's RecursivePageTable never does). RECURSIVE_INDEX is 510,
 * not 511: at 511 the window's last page is 0xFFFFFFFFFFFFF000 and end
 * pointers overflow (x86_64 #424).
 */
#include "console.h"
#include "strategy_recursive.h"
#include "layout.h"
#include "phys_window.h"
#include "pmm.h"
#include "strategy.h"
#include "tlb.h"

/* Index bits 47:12 of a virtual address. */
#define VA_INDEX_BITS 0x0000FFFFFFFFF000ULL

/*
 * The level-L table on va's path (strategy_recursive.h): go round the
 * recursive entry L times, then follow va's top indices; each loop stops
 * the walk one level higher, so the table is read as the final 4 KiB page. Level 1 (PT):
 * r, i4, i3, i2; level 3 (PDPT): r, r, r, i4; level 4: r, r, r, r.
 */
vaddr_t recursive_table_addr(unsigned level, vaddr_t va)
{
    /* Prefix: RECURSIVE_INDEX in the top `level` index fields (constant per
     * level, folded by the compiler once the walk is unrolled). */
    uint64_t prefix = 0;
    for (unsigned k = 0; k < level; k++)
        prefix |= (uint64_t)RECURSIVE_INDEX << PT_LEVEL_SHIFT(PT_LEVELS - k);
    uint64_t a = ((va.va & VA_INDEX_BITS) >> (9 * level)) & VA_INDEX_BITS;
    return vaddr(va_canonicalize(prefix | a));
}

/* The level-L entry on va's path in one step: the table address above
 * plus PT_INDEX(va, L) * 8, which is (va >> 9L) & 0xFF8, so both come
 * from the same shift: prefix | ((va >> 9L) & mask). */
static pte_t *entry_at(unsigned level, vaddr_t va)
{
    uint64_t prefix = recursive_table_addr(level, vaddr(0)).va;
    uint64_t mask = (VA_INDEX_BITS >> (9 * level)) & (VA_INDEX_BITS | 0xFF8);
    /* + rather than |: the bits do not overlap, and a sum folds into the
     * load's addressing mode */
    return (pte_t *)(uintptr_t)(prefix + ((va.va >> (9 * level)) & mask));
}

static pte_t *table_at(unsigned level, vaddr_t va)
{
    return (pte_t *)(uintptr_t)recursive_table_addr(level, va).va;
}

enum pt_status strategy_init(const struct boot_info *bi)
{
    if (bi->strategy != STRATEGY_RECURSIVE)
        return PT_ERR_BOOT_INFO;
    pte_t self = table_at(PT_LEVELS, vaddr(0))[RECURSIVE_INDEX];
    if (!(self & PTE_P) || (self & PTE_ADDR_MASK) != cpu_read_cr3().pa)
        return PT_ERR_BOOT_INFO;
    return phys_window_drop(bi);
}

const char *strategy_name(void) { return "recursive"; }

struct pt_region strategy_reserved(void)
{
    struct pt_region r = { recursive_table_addr(1, vaddr(0)), PT_LEVEL_SPAN(PT_LEVELS) };
    return r;
}

enum strategy_link_order strategy_link_order(void) { return STRATEGY_LINK_THEN_ZERO; }

/* Any frame linked into the hierarchy appears in the recursive window. */
bool strategy_table_reachable(paddr_t frame)
{
    (void)frame;
    return true;
}

/* The address comes from va alone. frame is not checked here: checking
 * means reading the parent entry a second time through the recursive
 * window, which doubled the cost of every walk; the in-guest suite and the
 * QEMU/Bochs oracles check that the recursive addresses reach the tables
 * the entries name. */
pte_t *strategy_table_get(unsigned level, vaddr_t va, paddr_t frame)
{
    (void)frame;
    return table_at(level, va);
}

const char strategy_tour_stop[] = "first page-table frame reached: recursive, by its address";

void strategy_tour_look(unsigned level, vaddr_t va, paddr_t frame, const pte_t *table)
{
    kprintf("the level-%u table on the path of 0x%lx is at %p: PML4[%u] taken"
            " %u times, then the path's top indices\n  look: `page %p` loops"
            " through PML4[%u] and ends on 0x%lx; `x /4gx %p` shows what"
            " `xp /4gx 0x%lx` shows",
            level, va.va, (const void *)table, RECURSIVE_INDEX, level, (const void *)table,
            RECURSIVE_INDEX, frame.pa, (const void *)table, frame.pa);
}

pte_t *strategy_entry_get(unsigned level, vaddr_t va, paddr_t frame)
{
    (void)frame;
    return entry_at(level, va);
}

enum pmm_zone strategy_table_zone(void) { return PMM_ZONE_GENERAL; }

/* Rule 4: the window address of the table was a 4 KiB translation through
 * the parent entry just cleared; the core's invlpg covered another page. */
void strategy_table_retire(unsigned level, vaddr_t va, paddr_t frame)
{
    (void)frame;
    pt_invlpg(recursive_table_addr(level, va));
}

/* The PML4 and the tables on the path of the kernel's own code, each at
 * its recursive address. */
unsigned strategy_addresses(struct strategy_address *out, unsigned cap)
{
    static const char *const names[PT_LEVELS + 1] = {
        "", "recursive: kernel code's PT", "recursive: kernel code's PD",
        "recursive: kernel code's PDPT", "recursive: the PML4",
    };
    vaddr_t code = vaddr((uint64_t)(uintptr_t)strategy_addresses);
    unsigned n = 0;
    for (unsigned l = PT_LEVELS; l >= 1 && n < cap; l--)
        out[n++] = (struct strategy_address){ names[l], recursive_table_addr(l, code) };
    return n;
}
