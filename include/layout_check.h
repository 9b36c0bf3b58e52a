/*
 * layout_check.h - compile-time checks that the regions of include/layout.h
 * do not overlap and fit where they must. C only (layout.h itself also
 * reaches NASM and the linker scripts, which know no _Static_assert);
 * included by stage2/main.c and kernel/main.c, so both stages are built
 * only from a layout that holds.
 */
#ifndef PAGELAB_LAYOUT_CHECK_H
#define PAGELAB_LAYOUT_CHECK_H

#include "bootinfo.h"
#include "layout.h"
#include "pmm_meta.h"
#include "pte.h"

#define PML4_SLOT_OF(va) (((va) >> PT_LEVEL_SHIFT(4)) & 0x1FF)

/* ---- physical, below 1 MiB (stage1 and stage2) ---- */
_Static_assert(STAGE1_TSC_ADDR + 8 <= STAGE1_ADDR, "stage1's TSC stamp below the MBR");
_Static_assert(STAGE1_ADDR + SECTOR_SIZE <= STAGE2_ADDR, "stage2 above the MBR");
_Static_assert(STAGE2_LIMIT <= STAGE2_STACK_TOP, "stage2's image below its stack");
_Static_assert(STAGE2_STACK_TOP <= BOUNCE_ADDR, "the stack below the bounce buffer");
_Static_assert(BOUNCE_ADDR % BOUNCE_SIZE == 0, "the bounce buffer never crosses 64 KiB");
_Static_assert(BOUNCE_ADDR + BOUNCE_SIZE <= VGA_TEXT_ADDR, "the bounce buffer below VGA");
_Static_assert(VGA_TEXT_ADDR < LOW_MEMORY_END, "VGA in low memory");
_Static_assert(LOW_MEMORY_END <= KERNEL_PHYS_BASE, "the kernel above low memory");
_Static_assert(IDENTITY_MAP_SIZE <= PT_LEVEL_SPAN(2), "the identity map is one PT");
_Static_assert(LOADER_ALLOC_FLOOR >= IDENTITY_MAP_SIZE, "loader allocations above the identity map");
_Static_assert(LOW_VIEW_BASE + IDENTITY_MAP_SIZE <= KERNEL_VIRT_OFFSET + KERNEL_PHYS_BASE,
               "the upper-half view of low memory ends below the kernel image");
_Static_assert(LOW_VIEW_BASE % PT_LEVEL_SPAN(2) == 0, "the low view is one PT of its own");

/* ---- virtual: the lower half's scratch slots, one PML4 slot each ---- */
/* a slot of its own in the lower half: not slot 0 (the identity map's) */
#define LOWER_SLOT_OK(va) (PML4_SLOT_OF(va) > 0 && PML4_SLOT_OF(va) < PT_ENTRIES / 2)
_Static_assert(LOWER_SLOT_OK(EXPERIMENT_PAGE) && LOWER_SLOT_OK(SELFTEST_BASE) && LOWER_SLOT_OK(ACCESS_TEST_BASE) &&
               LOWER_SLOT_OK(ORACLE_BASE) && LOWER_SLOT_OK(BENCH_BASE) &&
               LOWER_SLOT_OK(BENCH_FAR_BASE) && LOWER_SLOT_OK(TOUR_BASE) &&
               LOWER_SLOT_OK(TOUR_HUGE_BASE) && LOWER_SLOT_OK(RING3_TEST_BASE), "test slots in the lower half, not slot 0");
/* distinct slots: in ascending order, each strictly above the one before */
_Static_assert(PML4_SLOT_OF(EXPERIMENT_PAGE) < PML4_SLOT_OF(SELFTEST_BASE) &&
               PML4_SLOT_OF(SELFTEST_BASE) < PML4_SLOT_OF(ACCESS_TEST_BASE) &&
               PML4_SLOT_OF(ACCESS_TEST_BASE) < PML4_SLOT_OF(ORACLE_BASE) &&
               PML4_SLOT_OF(ORACLE_BASE) < PML4_SLOT_OF(BENCH_BASE) &&
               PML4_SLOT_OF(BENCH_BASE) < PML4_SLOT_OF(BENCH_FAR_BASE) &&
               PML4_SLOT_OF(BENCH_FAR_BASE) < PML4_SLOT_OF(TOUR_BASE) &&
               PML4_SLOT_OF(TOUR_BASE) < PML4_SLOT_OF(TOUR_HUGE_BASE) &&
               PML4_SLOT_OF(TOUR_HUGE_BASE) < PML4_SLOT_OF(RING3_TEST_BASE), "one slot each");

/* ---- virtual: the upper half ---- */
_Static_assert(PML4_SLOT_OF(PHYS_WINDOW_BASE) == PHYS_WINDOW_PML4_INDEX, "the window's slot");
_Static_assert(PMM_MAX_PHYS <= PHYS_WINDOW_PML4_SLOTS * PT_LEVEL_SPAN(4),
               "the window's slots cover all the RAM the allocator can use");
_Static_assert(PHYS_WINDOW_PML4_INDEX + PHYS_WINDOW_PML4_SLOTS <= TABLE_OFFSET_PML4_INDEX,
               "the window ends below the table-offset region");
_Static_assert(PML4_SLOT_OF(TABLE_OFFSET_BASE) == TABLE_OFFSET_PML4_INDEX, "table-offset's slot");
_Static_assert(PML4_SLOT_OF(MODULES_BASE) == MODULES_PML4_INDEX &&
               PML4_SLOT_OF(KSTACK_BASE) == KSTACK_PML4_INDEX &&
               PHYS_WINDOW_PML4_INDEX + PHYS_WINDOW_PML4_SLOTS <= MODULES_PML4_INDEX &&
               MODULES_PML4_INDEX < KSTACK_PML4_INDEX && KSTACK_PML4_INDEX < TABLE_OFFSET_PML4_INDEX,
               "modules and kernel stacks: a slot each, between the window and table-offset");
_Static_assert(MODULES_BASE + BOOT_INFO_MAX_MODULES * BOOT_MODULE_MAX_SIZE <= CONFIG_VIRT &&
               CONFIG_VIRT % PAGE_SIZE == 0 && BOOT_CONFIG_MAX_SIZE <= PAGE_SIZE &&
               PML4_SLOT_OF(CONFIG_VIRT + PAGE_SIZE - 1) == MODULES_PML4_INDEX,
               "the config page after every module at its cap, in the modules' slot");
_Static_assert(CONFIG_RUN_MAX >= 1, "room for one program at least");
_Static_assert(PML4_SLOT_OF(SPACES_TEST_BASE) == KSTACK_PML4_INDEX + 1 &&
               PML4_SLOT_OF(SPACES_TEST_BASE) < TABLE_OFFSET_PML4_INDEX,
               "the address-space test's kernel page: a slot of its own");
_Static_assert(PML4_SLOT_OF(KMAP_BASE) == PML4_SLOT_OF(SPACES_TEST_BASE) + 1 &&
               PML4_SLOT_OF(KMAP_BASE) < TABLE_OFFSET_PML4_INDEX && KMAP_SLOTS <= PT_ENTRIES,
               "the kmap slots: one page table in a slot of their own");
_Static_assert(PML4_SLOT_OF(FRAME_META_BASE) == PML4_SLOT_OF(KMAP_BASE) + 1 &&
               PML4_SLOT_OF(FRAME_META_BASE) < TABLE_OFFSET_PML4_INDEX &&
               PMM_MAX_FRAMES * FRAME_META_SIZE <= PT_LEVEL_SPAN(4),
               "the frame records: one slot of their own, room for every frame");
_Static_assert((KSTACK_PAGES + 1) * PAGE_SIZE <= KSTACK_SLOT_SIZE, "a kernel stack and its guard fit");
_Static_assert((uint64_t)PROC_MAX * KSTACK_SLOT_SIZE <= PT_LEVEL_SPAN(2),
               "every kernel stack in one page table of slot KSTACK_PML4_INDEX");
_Static_assert(TABLE_OFFSET_PML4_INDEX < RECURSIVE_ALT_INDEX && RECURSIVE_ALT_INDEX + 1 == RECURSIVE_INDEX,
               "the second recursive slot just below the first (one reserved range of two slots)");
/* ---- virtual: a process's lower half ---- */
_Static_assert(USER_BASE == PT_LEVEL_SPAN(4), "user space starts at PML4 slot 1");
_Static_assert(USER_END == PT_LEVEL_SPAN(4) * (PT_ENTRIES / 2), "the user half is PML4 slots 0-255");
_Static_assert(USER_MMAP_BASE > USER_BASE && USER_MMAP_BASE < USER_STACK_TOP - PT_LEVEL_SPAN(4),
               "mmap's area between the image and the stack, a slot away from the stack");
_Static_assert(USER_STACK_TOP % PAGE_SIZE == 0 && USER_STACK_TOP < USER_END &&
               USER_STACK_TOP - USER_STACK_LIMIT - PAGE_SIZE > USER_BASE,
               "the user stack and its guard inside the user half, above the image");
_Static_assert(TABLE_OFFSET_PML4_INDEX < RECURSIVE_INDEX && RECURSIVE_INDEX < PT_ENTRIES - 1,
               "the recursive slot between table-offset and the kernel's slot 511");
_Static_assert(KERNEL_VIRT_OFFSET + KERNEL_PHYS_BASE + KERNEL_MAX_SIZE <= TEMP_SLOTS_BASE,
               "the kernel image below the temporary slots");
_Static_assert(TEMP_SLOTS_BASE % PT_LEVEL_SPAN(2) == 0 &&
               TEMP_SLOTS_BASE + TEMP_SLOT_COUNT * PAGE_SIZE <= PMM_BITMAP_BASE,
               "the temporary slots: one PT, below the frame bitmap");
/* pmm_meta_bytes(PMM_MAX_FRAMES) as a constant expression: one word per 64
 * frames at the bottom level, one per 64 words above (PMM_LEVELS of them) */
_Static_assert(PMM_LEVELS == 5, "PMM_META_WORDS_MAX below sums five levels");
#define PMM_META_WORDS_MAX ((PMM_MAX_FRAMES >> 6) + (PMM_MAX_FRAMES >> 12) + \
                            (PMM_MAX_FRAMES >> 18) + (PMM_MAX_FRAMES >> 24) + \
                            (PMM_MAX_FRAMES >> 30) + PMM_LEVELS)
_Static_assert(PMM_BITMAP_BASE + PMM_META_WORDS_MAX * 8 + PAGE_SIZE <=
               KERNEL_STACK_TOP - KERNEL_STACK_PAGES * PAGE_SIZE,
               "the largest frame bitmap, then a guard page, below the kernel stack");

#endif
