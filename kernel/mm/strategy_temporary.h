/*
 * strategy_temporary.h - what only the temporary strategy
 * (kernel/mm/strategy_temporary.c) offers beyond kernel/mm/strategy.h:
 * where each level's slot is. Only a file linked with the temporary
 * strategy may include it.
 */
#ifndef KERNEL_STRATEGY_TEMPORARY_H
#define KERNEL_STRATEGY_TEMPORARY_H

#include "addr.h"

/* The virtual address of the slot used for level-`level` tables
 * (TEMP_SLOTS_BASE + level pages). Pure arithmetic. */
vaddr_t temporary_slot_addr(unsigned level);

#endif
