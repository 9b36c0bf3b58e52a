/*
 * strategy_offset.c - the default strategy: every physical frame is
 * reachable at boot_info->phys_window_base + phys, through the loader's
 * window (1 GiB or 2 MiB pages, PML4 slot PHYS_WINDOW_PML4_INDEX).
 *
 * A table frame is a pointer away, and new tables come from the general
 * zone: any frame will do. The window is kept (it is the access path) and
 * reserved: the core refuses to change it. The host tests link this file
 * with the window base set to a simulated memory arena.
 */
#include "console.h"
#include "layout.h"
#include "../common/debug.h"
#include "pmm.h"
#include "strategy.h"
#include "tlb.h"

static uint64_t window_base; /* virtual address of physical 0 */
static uint64_t window_size;

enum pt_status strategy_init(const struct boot_info *bi)
{
    if (bi->strategy != STRATEGY_OFFSET || bi->phys_window_size == 0)
        return PT_ERR_BOOT_INFO;
    window_base = bi->phys_window_base;
    window_size = bi->phys_window_size;
    return PT_OK;
}

const char *strategy_name(void) { return "offset"; }

struct pt_region strategy_reserved(void)
{
    struct pt_region r = { vaddr(window_base), window_size };
    return r;
}

enum strategy_link_order strategy_link_order(void) { return STRATEGY_ZERO_THEN_LINK; }

/* The window covers every frame of the memory map. */
bool strategy_table_reachable(paddr_t frame)
{
    return frame.pa < window_size && window_size - frame.pa >= PAGE_SIZE;
}

/* No bounds check on the hot path: every table was admitted by
 * strategy_table_reachable; in debug builds a frame beyond the window
 * panics here. */
pte_t *strategy_table_get(unsigned level, vaddr_t va, paddr_t frame)
{
    (void)va;
    if (PAGELAB_DEBUG_ON && !strategy_table_reachable(frame))
        kpanic("strategy_table_get: level %u table 0x%lx beyond the window", level, frame.pa);
    return (pte_t *)(uintptr_t)(window_base + frame.pa);
}

const char strategy_tour_stop[] = "first page-table frame reached: offset, through the window";

void strategy_tour_look(unsigned level, vaddr_t va, paddr_t frame, const pte_t *table)
{
    (void)va;
    kprintf("the level-%u table at physical 0x%lx is read at window base + 0x%lx"
            " = %p\n  look: `x /4gx %p` (virtual) shows what `xp /4gx 0x%lx`"
            " (physical) shows; `page %p` walks PML4[256] to 0x%lx",
            level, frame.pa, frame.pa, (const void *)table, (const void *)table, frame.pa,
            (const void *)table, frame.pa);
}

pte_t *strategy_entry_get(unsigned level, vaddr_t va, paddr_t frame)
{
    return strategy_table_get(level, va, frame) + PT_INDEX(va.va, level);
}

enum pmm_zone strategy_table_zone(void) { return PMM_ZONE_GENERAL; }

/* The window maps every frame for good: there is no per-table view to
 * drop, and a freed table is reachable like any other frame. */
void strategy_table_retire(unsigned level, vaddr_t va, paddr_t frame)
{
    (void)level;
    (void)va;
    (void)frame;
}

unsigned strategy_addresses(struct strategy_address *out, unsigned cap)
{
    if (cap < 1)
        return 0;
    out[0] = (struct strategy_address){ "the PML4 through the window", vaddr(window_base + cpu_read_cr3().pa) };
    return 1;
}

/* The window shows every frame: kmap needs no mapping of its own. */
void *strategy_frame_view(paddr_t frame)
{
    return (void *)(uintptr_t)(window_base + frame.pa);
}
