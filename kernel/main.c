/*
 * main.c - kmain: the kernel's boot flow, in order.
 *   console -> BootInfo check -> GDT/TSS/IDT -> SYSCALL MSRs, timer ->
 *   boot report -> frame allocator -> strategy (tears down what it must
 *   not have) -> paging core -> boot modules mapped at MODULES_BASE -> the
 *   configuration file parsed (its run list) -> kmap's zero frame ->
 *   frame records (nothing mapped yet) -> protections (WP, NXE,
 *   SMEP, SMAP, guard pages) -> user-pointer checks -> experiments ->
 *   variant (test kernels: the in-guest suite) -> W^X check -> final
 *   translations -> halt with the tables live.
 * From its first line on, the kernel reaches low memory (BootInfo, the VGA
 * buffer) through the upper half (kernel/lowmem.h), never through the
 * lower half's identity map; interrupts stay off throughout (the timer
 * ticks only while ring 3 runs, kernel/cpu/timer.h).
 */
#include <stdint.h>
#include "config.h"
#include "console.h"
#include "experiments.h"
#include "frame_meta.h"
#include "kmap.h"
#include "lowmem.h"
#include "modules.h"
#include "proc.h"
#include "pmm.h"
#include "protect.h"
#include "pt.h"
#include "replace.h"
#include "report.h"
#include "swap.h"
#include "ring.h"
#include "timer.h"
#include "uaccess.h"
#include "variant.h"
#include "strategy.h"
#include "trap.h"
#include "wx_check.h"
#include "../common/debug.h"
#include "../common/io.h"
#include "kmain.h"
#include "layout_check.h"   /* the layout holds, or no kernel */


static void paging_setup(const struct boot_info *bi)
{
    enum pmm_status ps = pmm_init(bi, (uint64_t *)(uintptr_t)bi->pmm_bitmap_virt,
                                  bi->pmm_bitmap_bytes);
    if (ps != PMM_OK)
        kpanic("paging_setup: frame allocator: %s", pmm_status_name(ps));
    enum pt_status st = strategy_init(bi);
    if (st != PT_OK)
        kpanic("paging_setup: strategy %s: %s", strategy_name(), pt_status_name(st));
    st = pt_init(bi);
    if (st != PT_OK)
        kpanic("paging_setup: pt_init: %s", pt_status_name(st));
    struct pmm_counters c;
    pmm_get_counters(PMM_ZONE_GENERAL, &c);
    kprintf("frame allocator: %llu frames free of %llu; strategy %s\n",
            (unsigned long long)c.free, (unsigned long long)c.total, strategy_name());
}

void kmain(const struct boot_info *boot_info_identity)
{
    report_clock_start();
    const struct boot_info *bi = lowmem_ptr((uint64_t)(uintptr_t)boot_info_identity);
    console_init(CONSOLE_CONTINUE, lowmem_ptr(VGA_TEXT_ADDR));
    kprintf("pagelab kernel: started, strategy %s\n", PAGELAB_STRATEGY_NAME);
    report_check_boot_info(bi);
    trap_init();
    ring_init();
    timer_init();
    report_boot(bi);
    paging_setup(bi);
    modules_init(bi);
    config_init(bi);
    kmap_init();
    frame_meta_init(bi->max_phys);  /* maps nothing: record pages come with frame_new */
    swap_init();
    protect_init(bi);
    uaccess_init(bi);
    proc_init();
    rp_init();          /* after proc_init's vm_init, which resets it */
    experiments_run(bi);
    variant_run(bi);
    proc_boot();
    wx_check(bi);
    report_elapsed(bi);
    final_translations(bi);
    kprintf("pagelab: halted\n");
    PAGELAB_BREAK("halted",
                  "the final tables are live: `page <address>` for any final-translation line"
                  " agrees with it; `info tab` lists every mapping; `c` halts for good");
    halt_with(DEBUG_EXIT_HALTED);
}
