/*
 * table_pool.h - the page-table pool the identity and table-offset
 * strategies reach tables through: TABLE_POOL_PAGES frames the loader
 * reserved (boot_info->table_pool_phys) and mapped at one fixed virtual
 * offset: 0 for identity, TABLE_OFFSET_BASE for table-offset. Every table
 * the kernel keeps comes from it (PMM_ZONE_TABLE_POOL), so every table is
 * reachable before it is linked. The Makefile links this file into those
 * two strategies only: it implements the parts of kernel/mm/strategy.h they
 * share (reserved range, link order, zone, retire), and each
 * strategy file keeps what differs: the offset, its name, and what it
 * tells the debugger.
 */
#ifndef KERNEL_TABLE_POOL_H
#define KERNEL_TABLE_POOL_H

#include "addr.h"
#include "bootinfo.h"
#include "pt.h"
#include "pte.h"
#include "strategy.h"
#include "tlb.h"

/* Remembers the pool and its virtual offset, then tears the loader's window
 * down. PT_ERR_BOOT_INFO if the loader built for `want` without a pool. */
enum pt_status table_pool_init(const struct boot_info *bi, enum pt_strategy_id want,
                               uint64_t virt_offset);

/* Debug builds: panics unless frame is a pool frame. */
void table_pool_check(unsigned level, paddr_t frame);

/* The table at `frame`, which strategy_table_reachable admitted, read at
 * virt_offset (each strategy's compile-time constant, so identity pays
 * nothing at all) through cpu_ptr (a cast in the kernel; the host tests
 * resolve it through their simulated tables). Debug builds check the frame
 * again. */
static inline pte_t *table_pool_at(unsigned level, paddr_t frame, uint64_t virt_offset)
{
#ifdef PAGELAB_DEBUG
    table_pool_check(level, frame);
#else
    (void)level;
#endif
    return cpu_ptr(vaddr(virt_offset + frame.pa));
}

/* The PML4 and the pool's last frame, at their virtual addresses. */
unsigned table_pool_addresses(struct strategy_address *out, unsigned cap,
                              const char *pml4_what, const char *last_what);

#endif
