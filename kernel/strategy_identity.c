/*
 * strategy_identity.c - page-table frames are identity-mapped: the table
 * at physical F is at virtual F.
 *
 * Only the loader's table pool (TABLE_POOL_PAGES frames, mapped 1:1, every
 * non-window loader table inside it) is identity-mapped, so new tables come
 * from the pool zone and a pointer is the frame number itself. The window
 * is torn down at init: after that nothing else reaches a table. The
 * pool's identity range is reserved: mapping over it would cut the access
 * path.
 */
#include "console.h"
#include "../common/debug.h"
#include "layout.h"
#include "pmm.h"
#include "strategy.h"
#include "tlb.h"

static uint64_t pool_start, pool_end; /* physical = virtual */

enum pt_status strategy_init(const struct boot_info *bi)
{
    if (bi->strategy != STRATEGY_IDENTITY || bi->table_pool_pages == 0)
        return PT_ERR_BOOT_INFO;
    pool_start = bi->table_pool_phys;
    pool_end = pool_start + bi->table_pool_pages * PAGE_SIZE;
    return pt_drop_window(bi);
}

const char *strategy_name(void) { return "identity"; }

struct pt_region strategy_reserved(void)
{
    struct pt_region r = { vaddr(pool_start), pool_end - pool_start };
    return r;
}

enum strategy_link_order strategy_link_order(void) { return STRATEGY_ZERO_THEN_LINK; }

pte_t *strategy_table_get(unsigned level, vaddr_t va, paddr_t frame)
{
    (void)va;
    if (frame.pa < pool_start || frame.pa >= pool_end)
        kpanic("strategy_table_get: level %u table 0x%lx outside the identity-mapped pool",
               level, frame.pa);
    PAGELAB_BREAK_ONCE("first page-table frame reached: identity, at its own address",
                       "the level-%u table at physical 0x%lx is read at virtual 0x%lx: the"
                       " table pool is mapped 1:1\n  look: `x /4gx 0x%lx` shows what"
                       " `xp /4gx 0x%lx` shows; `page 0x%lx` walks PML4[0] to 0x%lx",
                       level, frame.pa, frame.pa, frame.pa, frame.pa, frame.pa, frame.pa);
    return (pte_t *)(uintptr_t)frame.pa;
}

void strategy_table_put(unsigned level, pte_t *table)
{
    (void)level;
    (void)table;
}

enum pmm_zone strategy_table_zone(void) { return PMM_ZONE_TABLE_POOL; }

/* The pool stays identity-mapped for good: no view to drop. */
void strategy_table_retire(unsigned level, vaddr_t va, paddr_t frame)
{
    (void)level;
    (void)va;
    (void)frame;
}

unsigned strategy_addresses(struct strategy_address *out, unsigned cap)
{
    if (cap < 2)
        return 0;
    out[0] = (struct strategy_address){ "the PML4 at its own address", vaddr(cpu_read_cr3().pa) };
    out[1] = (struct strategy_address){ "last frame of the table pool", vaddr(pool_end - PAGE_SIZE) };
    return 2;
}
