/*
 * spaces_plain.c - the address-space hooks of strategy.h for the four
 * strategies that reach a table by its frame alone (identity,
 * table-offset, offset: pointer arithmetic; temporary: its slot for the
 * level maps any frame, of any hierarchy). For them an inactive hierarchy
 * is no different from the active one, and a space has no entries of its
 * own. The recursive strategy has its own (strategy_recursive.c).
 */
#include "strategy.h"

bool strategy_root_entry_shared(unsigned index)
{
    (void)index;
    return true;
}

void strategy_space_init(pte_t *pml4, paddr_t root)
{
    (void)pml4;
    (void)root;
}

void strategy_space_activated(paddr_t root) { (void)root; }

void strategy_space_selected(paddr_t root) { (void)root; }
