/*
 * strategy_table_offset.c - page-table frames (only they) are mapped at
 * TABLE_OFFSET_BASE + phys.
 *
 * The loader maps the table pool there (and every non-window loader table
 * is in the pool, as are the tables of that mapping), so new tables come
 * from the pool zone and are reachable before they are linked. Unlike
 * identity, the tables' virtual range does not collide with low memory;
 * unlike offset, the rest of RAM is not mapped at all. The window is torn
 * down at init; the pool's range at TABLE_OFFSET_BASE is reserved. The
 * pool itself is kernel/mm/table_pool.c, shared with identity.
 */
#include "console.h"
#include "layout.h"
#include "pmm.h"
#include "strategy.h"
#include "table_pool.h"

enum pt_status strategy_init(const struct boot_info *bi)
{
    return table_pool_init(bi, STRATEGY_TABLE_OFFSET, TABLE_OFFSET_BASE);
}

const char *strategy_name(void) { return "table-offset"; }

pte_t *strategy_table_get(unsigned level, vaddr_t va, paddr_t frame)
{
    (void)va;
    return table_pool_at(level, frame, TABLE_OFFSET_BASE);
}

const char strategy_tour_stop[] = "first page-table frame reached: table-offset, at the pool's offset";

/* The virtual address, not `table`: on the host the two differ (cpu_ptr). */
void strategy_tour_look(unsigned level, vaddr_t va, paddr_t frame, const pte_t *table)
{
    (void)va;
    (void)table;
    void *at = (void *)(uintptr_t)(TABLE_OFFSET_BASE + frame.pa);
    kprintf("the level-%u table at physical 0x%lx is read at 0x%llx + 0x%lx = %p"
            "\n  look: `x /4gx %p` shows what `xp /4gx 0x%lx` shows; `page %p`"
            " walks PML4[%u] to 0x%lx",
            level, frame.pa, (unsigned long long)TABLE_OFFSET_BASE, frame.pa, at, at, frame.pa,
            at, TABLE_OFFSET_PML4_INDEX, frame.pa);
}

unsigned strategy_addresses(struct strategy_address *out, unsigned cap)
{
    return table_pool_addresses(out, cap, "the PML4 at table offset",
                                "last pool frame at table offset");
}

/* No view of every frame: kmap.c maps the ones it needs. */
void *strategy_frame_view(paddr_t frame)
{
    (void)frame;
    return 0;
}
