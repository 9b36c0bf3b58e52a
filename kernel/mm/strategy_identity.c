/*
 * strategy_identity.c - page-table frames are identity-mapped: the table
 * at physical F is at virtual F.
 *
 * Only the loader's table pool (TABLE_POOL_PAGES frames, mapped 1:1, every
 * non-window loader table inside it) is identity-mapped, so new tables come
 * from the pool zone and a pointer is the frame number itself. The window
 * is torn down at init: after that nothing else reaches a table. The pool
 * itself is kernel/mm/table_pool.c, shared with table-offset. The
 * pool's identity range is reserved: mapping over it would cut the access
 * path.
 */
#include "console.h"
#include "layout.h"
#include "pmm.h"
#include "strategy.h"
#include "table_pool.h"

enum pt_status strategy_init(const struct boot_info *bi)
{
    return table_pool_init(bi, STRATEGY_IDENTITY, 0);
}

const char *strategy_name(void) { return "identity"; }

pte_t *strategy_table_get(unsigned level, vaddr_t va, paddr_t frame)
{
    (void)va;
    return table_pool_at(level, frame, 0);
}

const char strategy_tour_stop[] = "first page-table frame reached: identity, at its own address";

void strategy_tour_look(unsigned level, vaddr_t va, paddr_t frame, const pte_t *table)
{
    (void)va;
    (void)table;
    kprintf("the level-%u table at physical 0x%lx is read at virtual 0x%lx: the"
            " table pool is mapped 1:1\n  look: `x /4gx 0x%lx` shows what"
            " `xp /4gx 0x%lx` shows; `page 0x%lx` walks PML4[0] to 0x%lx",
            level, frame.pa, frame.pa, frame.pa, frame.pa, frame.pa, frame.pa);
}

unsigned strategy_addresses(struct strategy_address *out, unsigned cap)
{
    return table_pool_addresses(out, cap, "the PML4 at its own address",
                                "last frame of the table pool");
}

/* No view of every frame: kmap.c maps the ones it needs. */
void *strategy_frame_view(paddr_t frame)
{
    (void)frame;
    return 0;
}
