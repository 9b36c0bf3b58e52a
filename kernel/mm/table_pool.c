/* table_pool.c - the pool shared by the identity and table-offset strategies,
 * linked into those two only (see table_pool.h). */
#include "table_pool.h"
#include "console.h"
#include "layout.h"
#include "phys_window.h"
#include "tlb.h"

static uint64_t pool_start, pool_end; /* physical */
static uint64_t offset;               /* virtual = physical + offset */

enum pt_status table_pool_init(const struct boot_info *bi, enum pt_strategy_id want,
                               uint64_t virt_offset)
{
    if (bi->strategy != want || bi->table_pool_pages == 0)
        return PT_ERR_BOOT_INFO;
    pool_start = bi->table_pool_phys;
    pool_end = pool_start + bi->table_pool_pages * PAGE_SIZE;
    offset = virt_offset;
    return phys_window_drop(bi);
}

/* Every table comes from the pool: the only frames mapped at `offset`. */
bool strategy_table_reachable(paddr_t frame)
{
    return frame.pa >= pool_start && frame.pa < pool_end;
}

void table_pool_check(unsigned level, paddr_t frame)
{
    if (!strategy_table_reachable(frame))
        kpanic("table_pool: level %u table 0x%lx outside the table pool", level, frame.pa);
}

pte_t *strategy_entry_get(unsigned level, vaddr_t va, paddr_t frame)
{
    return strategy_table_get(level, va, frame) + PT_INDEX(va.va, level);
}

/* ---- the strategy.h functions both pool strategies share ---- */

/* The pool's virtual range: mapping over it would cut the access path. */
struct pt_region strategy_reserved(void)
{
    struct pt_region r = { vaddr(offset + pool_start), pool_end - pool_start };
    return r;
}

/* Pool frames are mapped before they are tables: zero, then link. */
enum strategy_link_order strategy_link_order(void) { return STRATEGY_ZERO_THEN_LINK; }

enum pmm_zone strategy_table_zone(void) { return PMM_ZONE_TABLE_POOL; }

/* The pool stays mapped for good: there is no per-table view to drop. */
void strategy_table_retire(unsigned level, vaddr_t va, paddr_t frame)
{
    (void)level;
    (void)va;
    (void)frame;
}

unsigned table_pool_addresses(struct strategy_address *out, unsigned cap,
                              const char *pml4_what, const char *last_what)
{
    if (cap < 2)
        return 0;
    out[0] = (struct strategy_address){ pml4_what, vaddr(offset + cpu_read_cr3().pa) };
    out[1] = (struct strategy_address){ last_what, vaddr(offset + pool_end - PAGE_SIZE) };
    return 2;
}
