/*
 * strategy.h - how the paging core reaches page-table frames.
 *
 * Exactly one kernel/mm/strategy_<name>.c is linked (make STRATEGY=<name>);
 * identity and table-offset also link kernel/mm/table_pool.c, their shared part.
 * The core (kernel/mm/pt_*.c) asks for "the level-L table on the path of va"
 * rather than "the pointer for frame F", so the recursive strategy, which
 * can only name a table by the address it translates, fits the same
 * interface as the pointer-arithmetic ones. Levels: 4 = PML4 ... 1 = PT.
 */
#ifndef KERNEL_STRATEGY_H
#define KERNEL_STRATEGY_H

#include <stdbool.h>

#include "addr.h"
#include "bootinfo.h"
#include "pmm.h"
#include "pt.h"
#include "pte.h"

/* How a freshly allocated (not yet zeroed) table becomes a linked one. */
enum strategy_link_order {
    /* The frame is reachable on its own: zero it, then link it, so the
     * hardware never sees garbage entries. */
    STRATEGY_ZERO_THEN_LINK = 1,
    /* The frame is reachable only once linked (recursive): link, zero,
     * then the core flushes what garbage may have let the CPU cache
     * (see the TLB rule, rule 5, in tlb_policy.c). */
    STRATEGY_LINK_THEN_ZERO,
};

/*
 * Once, after pmm_init and before pt_init: sets up the strategy's access
 * path and, in every strategy but offset, tears the loader's physical
 * window down (phys_window_drop, phys_window.h). PT_ERR_BOOT_INFO if the loader built for
 * another strategy or left out what this one needs.
 */
enum pt_status strategy_init(const struct boot_info *bi);

/* Short name as given to make STRATEGY=. */
const char *strategy_name(void);

/* The virtual range the strategy reserves for itself (the window, the
 * table-offset region, the slots, the recursive slot). The core refuses
 * to map, unmap or protect in it and the dumps summarise it. */
struct pt_region strategy_reserved(void);

enum strategy_link_order strategy_link_order(void);

/*
 * A pointer to the level-`level` table on va's path, whose frame is
 * `frame` (the address from the parent entry; CR3 for level 4). Valid
 * until the next get at the same level: the core holds at most one table
 * per level at a time. The identity,
 * table-offset and offset strategies compute it from frame; temporary maps
 * frame into its slot for `level` (kept until another frame is needed
 * there); recursive computes it from va alone. frame is trusted: it was
 * admitted (strategy_table_reachable) when its table entered the
 * hierarchy, so the hot path pays for no bounds check. Debug builds
 * (-DPAGELAB_DEBUG) check it again on every get and panic if it is out of
 * reach. Prints nothing (the Bochs tour's text: strategy_tour_look).
 */
pte_t *strategy_table_get(unsigned level, vaddr_t va, paddr_t frame);

/*
 * Whether a frame can serve as a table through this strategy: inside the
 * pool (identity, table-offset), inside the window (offset), any frame
 * (temporary, recursive). The core asks once per table, where tables
 * enter the hierarchy: pt_init for every table reachable from CR3, and
 * each new table a map takes from a frame source. Entries that link
 * tables are written by the core only, so the invariant then holds for
 * every later strategy_table_get. The tables of the strategy's own range
 * (pt_init does not descend into it) are the loader's side of the
 * contract: stage2/paging.c takes the pool's own tables from the pool,
 * and the core never edits that range.
 */
bool strategy_table_reachable(paddr_t frame);

/*
 * The level-`level` entry on va's path: strategy_table_get(level, va,
 * frame) + PT_INDEX(va.va, level), valid the same way. pt_translate reads one entry per
 * level and holds no table, so each strategy gives it the entry in as few
 * steps as it can: recursive in one shift and mask of va, the others a
 * table pointer plus the index.
 */
pte_t *strategy_entry_get(unsigned level, vaddr_t va, paddr_t frame);

/* The frame-allocator zone whose frames this strategy can reach as
 * tables: the pool in identity/table-offset, the general zone elsewhere.
 * The core takes new tables from it (when the caller gives no source) and
 * gives emptied tables back to it, after unhook + invalidate + retire. */
enum pmm_zone strategy_table_zone(void);

/*
 * The level-`level` table on va's path, frame `frame`, was unhooked and its
 * translations invalidated: drop every view the strategy still has of it
 * (temporary: clear its slot + invlpg; recursive: invlpg its address in
 * the recursive window). Called before the frame is freed to any source.
 */
void strategy_table_retire(unsigned level, vaddr_t va, paddr_t frame);

/* ---- address spaces (kernel/mm/pt_space.c) ----
 * How each strategy reaches a hierarchy that is not the active one: the
 * pointer strategies (identity, table-offset, offset) do not care, every
 * frame of theirs is reachable whatever CR3 holds; temporary maps any frame
 * into its slot for the level; recursive points a second slot of the
 * active PML4 (RECURSIVE_ALT_INDEX) at the selected PML4 when that is not
 * CR3's (strategy_space_selected), and flushes when that slot changes
 * (strategy_recursive.c). The core walks only those two trees: the shared
 * slots through the active PML4, the rest through the selected one. */

/* Whether PML4 entry `index` (upper half) is the kernel's and so copied
 * into every space (true), or each space's own (recursive: its self entry
 * and the second slot). */
bool strategy_root_entry_shared(unsigned index);

/* A new space's PML4, `pml4` (as strategy_table_get(4, ..., root) gave
 * it; the kernel's entries already copied): writes the entries that are
 * the space's own. */
void strategy_space_init(pte_t *pml4, paddr_t root);

/* CR3 now holds root (pt_space_activate): forget what the strategy knew of
 * the hierarchy that was active. */
void strategy_space_activated(paddr_t root);

/* The selected space's root is now root (pt_space_select, and after every
 * pt_space_activate): the root translate's walks start from. */
void strategy_space_selected(paddr_t root);

/* A pointer through which the kernel reaches any frame without mapping
 * it (offset: the window), or NULL when the strategy has none (the others:
 * kmap.c maps the frame into a slot of its own). */
void *strategy_frame_view(paddr_t frame);

/* ---- what the boot report and the Bochs tour show of the strategy ---- */

/* An address of the strategy's own machinery, for the final translations:
 * where the PML4 is reachable through the strategy, a slot, a table. */
struct strategy_address {
    const char *what;
    vaddr_t va;
};

/* Fills up to cap addresses worth showing (QEMU's gva2gpa and Bochs's
 * `page` then judge them like every other line); returns how many. */
unsigned strategy_addresses(struct strategy_address *out, unsigned cap);

/* The Bochs tour's stop 4 (NOTES.md, "The ten stops"), in debug builds
 * only: the walker (kernel/mm/pt.c, table_get) stops there once, at the
 * first table it gets, with PAGELAB_BREAK_ONCE_CALL (common/debug.h). The
 * stop's name: "first page-table frame reached: <name>, <how>". */
extern const char strategy_tour_stop[];

/* Prints the stop's look: text for the level-`level` table at `frame` on
 * va's path, which strategy_table_get returned as `table`: where the
 * strategy reads it and the Bochs commands that show it is the same
 * memory. Only the debug hook calls it; normal builds drop it. */
void strategy_tour_look(unsigned level, vaddr_t va, paddr_t frame, const pte_t *table);

/* Declarations only one strategy defines are in its own header:
 * strategy_recursive.h, strategy_temporary.h. */

#endif
