/*
 * main.c - stage2's sequence: console, A20, CPU checks, memory map, kernel
 * load, boot modules, page tables, long mode. Each step has a header saying what it
 * needs, what it fills in BootInfo and what it refuses; it either succeeds
 * or stops the boot with a named error (panic.h). main.c only runs them in
 * order: no step calls back into it. See NOTES.md "Boot sequence".
 */
#include <stdint.h>
#include "a20.h"
#include "alloc.h"
#include "cpu.h"
#include "disk.h"
#include "load.h"
#include "longmode.h"
#include "memmap.h"
#include "modules.h"
#include "paging.h"
#include "panic.h"
#include "../common/console.h"
#include "../common/debug.h"
#include "../common/io.h"
#include "../include/addr.h"
#include "../include/layout.h"
#include "../include/pte.h"
#include "../include/x86.h"
#include "../include/layout_check.h"  /* the layout holds, or no stage2 */

#define LOADER_IMAGE_START PAGE_ROUND_DOWN(STAGE1_ADDR)
#define LOADER_IMAGE_END   (BOUNCE_ADDR + BOUNCE_SIZE)

extern uint64_t stage2_tsc;
void stage2_main(uint32_t drive);
static struct boot_info boot_info __attribute__((aligned(PAGE_SIZE)));
static struct lm_handoff handoff;

static void boot_info_init(struct boot_info *bi, uint8_t drive)
{
    bi->magic = BOOT_INFO_MAGIC;
    bi->version = BOOT_INFO_VERSION;
    bi->size = sizeof(*bi);
    bi->boot_drive = drive;
    const volatile uint64_t *stamp;
    __asm__("" : "=r"(stamp) : "0"(STAGE1_TSC_ADDR)); /* a low address gcc must not judge */
    bi->tsc_stage1 = *stamp;
    bi->tsc_stage2 = stage2_tsc;
}

static void record_loader_memory(struct boot_info *bi)
{
    alloc_init(bi);
    alloc_record(LOADER_IMAGE_START, (LOADER_IMAGE_END - LOADER_IMAGE_START) / PAGE_SIZE,
                 LOADER_RANGE_IMAGE);
    alloc_record((uintptr_t)bi, PAGE_ROUND_UP(sizeof(*bi)) / PAGE_SIZE,
                 LOADER_RANGE_BOOT_INFO);
}

static void jump_to_kernel(struct boot_info *bi)
{
    handoff.cr3 = (uint32_t)bi->pml4_phys;
    handoff.cr4 = CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT;   /* SSE: see longmode.asm */
    handoff.efer = EFER_LME | (BOOT_CPU_HAS(bi, CPU_NX) ? EFER_NXE : 0);
    handoff.entry = bi->kernel_entry;
    handoff.stack = bi->stack_top;
    handoff.boot_info = (uintptr_t)bi;
    progress("entering long mode: entry 0x%llx, BootInfo 0x%x",
             (unsigned long long)bi->kernel_entry, (unsigned)(uintptr_t)bi);
    uint32_t pml4 = handoff.cr3;
    PAGELAB_BREAK("stage2: page tables built, CR3 not loaded yet",
                  "`creg`: CR0.PG=0 and CR3=0 - paging is off, `info tab` says so\n"
                  "  look: the PML4 the kernel starts on, at physical 0x%x: `xp /gx 0x%x` is"
                  " entry 0 (low memory), `xp /gx 0x%x` entry 256 (the window),"
                  " `xp /gx 0x%x` entry 511 (kernel, stack)",
                  pml4, pml4, pml4 + PHYS_WINDOW_PML4_INDEX * 8, pml4 + (PT_ENTRIES - 1) * 8);
    bi->tsc_kernel_jump = rdtsc();
    enter_long_mode(&handoff);
}

void stage2_main(uint32_t drive)
{
    struct boot_info *bi = &boot_info;
    console_init(CONSOLE_CLEAR, (volatile void *)VGA_TEXT_ADDR);
    progress("started from drive 0x%x", drive);
    boot_info_init(bi, (uint8_t)drive);
    a20_enable();
    cpu_detect(bi);
    memmap_detect(bi);
    record_loader_memory(bi);
    disk_init((uint8_t)drive);
    kernel_load(bi);
    modules_load(bi);
    paging_build(bi);
    jump_to_kernel(bi);
}
