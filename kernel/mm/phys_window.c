/*
 * phys_window.c - phys_window_drop (contract in phys_window.h): the
 * strategies that reach page tables some other way than through the
 * loader's window (identity, table-offset, temporary, recursive) call it
 * from strategy_init.
 */
#include "phys_window.h"
#include "layout.h"
#include "pmm.h"

enum pt_status phys_window_drop(const struct boot_info *bi)
{
    /* A window above 512 GiB spans several PML4 slots (stage2/paging.c). */
    uint64_t slot = PT_LEVEL_SPAN(PT_LEVELS);
    uint64_t slots = (bi->phys_window_size + slot - 1) / slot;
    pt_root_clear(PHYS_WINDOW_PML4_INDEX, (unsigned)slots);
    pt_flush_all(); /* rule 3; and rule 4: before the frames go back */
    if (pmm_release_loader_ranges(bi, LOADER_RANGE_WINDOW_TABLES) != PMM_OK)
        return PT_ERR_BOOT_INFO;
    return PT_OK;
}
