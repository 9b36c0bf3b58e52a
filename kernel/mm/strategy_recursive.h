/*
 * strategy_recursive.h - what only the recursive strategy
 * (kernel/mm/strategy_recursive.c) offers beyond kernel/mm/strategy.h:
 * the address at which a table appears through the recursive PML4 entry.
 * Only a file linked with the recursive strategy may include it.
 */
#ifndef KERNEL_STRATEGY_RECURSIVE_H
#define KERNEL_STRATEGY_RECURSIVE_H

#include "addr.h"

/* The address through PML4[RECURSIVE_INDEX] at which the level-`level`
 * table on va's path appears (level 4: the PML4 itself). Pure arithmetic:
 * the table need not exist. */
vaddr_t recursive_table_addr(unsigned level, vaddr_t va);

#endif
