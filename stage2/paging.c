/*
 * paging.c - build the page tables the kernel starts on.
 *
 * Intel SDM Vol. 3A 4.5 (4-level paging). Levels: 4 = PML4 ... 1 = PT.
 * The mappings are one table (maps[]) applied by one loop:
 *   - low memory 0x1000..IDENTITY_MAP_SIZE 1:1 (page 0 stays unmapped to
 *     catch NULL), read/write, no-execute, except the page holding
 *     stage2's long-mode trampoline, which must execute after CR0.PG;
 *   - the same low memory again at LOW_VIEW_BASE + phys, read/write and
 *     no-execute throughout (the trampoline runs from its identity address
 *     only): the kernel's own view, outside the lower half that processes
 *     will own (include/layout.h);
 *   - each kernel segment at its virtual address, permissions from p_flags;
 *   - the kernel stack below KERNEL_STACK_TOP with an unmapped guard page;
 *   - the frame-allocator bitmap at PMM_BITMAP_BASE;
 *   - what the strategy in the kernel's note needs (BootInfo's strategy:
 *     table pool 1:1 or at TABLE_OFFSET_BASE, the temporary slot table,
 *     the recursive entry);
 *   - last, the physical-memory window (1 GiB pages when the CPU has them,
 *     else 2 MiB) over the RAM pagelab uses (ram_limit), so its tables are
 *     recorded as their own kind of frames.
 * NX appears in no entry when the CPU lacks it (bit 63 would be reserved,
 * SDM 4.5.4 and table 4-20).
 */
#include <stdint.h>
#include "paging.h"
#include "alloc.h"
#include "cpu.h"
#include "load.h"
#include "panic.h"
#include "e820.h"
#include "lib.h"
#include "../include/addr.h"
#include "../include/layout.h"
#include "../include/pte.h"
#include "../include/pmm_meta.h"

#define PML4_SPAN   PT_LEVEL_SPAN(4)

/* The window maps 0 .. max_phys (at least PHYS_WINDOW_MIN_SIZE), and
 * max_phys never exceeds PMM_MAX_PHYS (ram_limit), so it always fits the
 * slots reserved for it and needs no check at boot. */
_Static_assert(PMM_MAX_PHYS <= PHYS_WINDOW_PML4_SLOTS * PML4_SPAN, "window slots");
_Static_assert(PHYS_WINDOW_MIN_SIZE <= PMM_MAX_PHYS, "window minimum");

extern char __trampoline_start[], __trampoline_end[];

struct boot_map {
    const char *what;
    uint64_t va, pa, size;
    unsigned level;          /* leaf level: 1 (4 KiB), 2 (2 MiB), 3 (1 GiB) */
    pte_t flags;
};

#define MAX_BOOT_MAPS 32

static struct boot_info *info;
static pte_t *pml4;
static pte_t nx_mask;                     /* PTE_NX or 0 */
static enum loader_range_kind table_kind = LOADER_RANGE_PAGE_TABLES;
static uint64_t pool_next, pool_end;      /* identity/table-offset: tables come from the pool */
static struct boot_map maps[MAX_BOOT_MAPS];
static unsigned map_count;
static uint32_t tables_allocated;

static uint64_t table_alloc(void)
{
    tables_allocated++;
    if (table_kind == LOADER_RANGE_PAGE_TABLES && pool_end) {
        if (pool_next == pool_end)
            die("the page-table pool (%u pages) is exhausted", TABLE_POOL_PAGES);
        uint64_t pa = pool_next;
        pool_next += PAGE_SIZE;
        alloc_record(pa, 1, LOADER_RANGE_PAGE_TABLES);
        memset((void *)(uintptr_t)pa, 0, PAGE_SIZE);   /* the pool itself is not cleared */
        return pa;
    }
    return alloc_pages(1, table_kind, ALLOC_ZEROED);
}

static pte_t *table_ptr(pte_t entry)
{
    return (pte_t *)(uintptr_t)(entry & PTE_ADDR_MASK);
}

/* The table at `level` on va's path, creating missing ones. */
static pte_t *walk_create(uint64_t va, unsigned level)
{
    pte_t *t = pml4;
    for (unsigned l = PT_LEVELS; l > level; l--) {
        pte_t *e = &t[PT_INDEX(va, l)];
        if (!(*e & PTE_P))
            *e = table_alloc() | PTE_TABLE_LINK;
        else if (*e & PTE_PS)
            die("boot mappings overlap at 0x%llx (a huge page is in the way)",
                (unsigned long long)va);
        t = table_ptr(*e);
    }
    return t;
}

/* Entries of one mapping that share a table are written without walking
 * again from the PML4: a 512 GiB window of 2 MiB pages is 262,144 entries
 * but only 513 tables. */
static void apply_one(const struct boot_map *m)
{
    uint64_t step = PT_LEVEL_SPAN(m->level);
    uint64_t va = m->va, pa = m->pa, end = m->va + m->size;
    pte_t flags = (m->flags & ~(PTE_NX & ~nx_mask)) | (m->level > 1 ? PTE_PS : 0);
    while (va < end) {
        pte_t *t = walk_create(va, m->level);
        for (unsigned i = PT_INDEX(va, m->level); i < PT_ENTRIES && va < end;
             i++, va += step, pa += step) {
            if (t[i] & PTE_P)
                die("boot mappings overlap at 0x%llx (%s)", (unsigned long long)va, m->what);
            t[i] = pa | flags;
        }
    }
}

static void add_map(const char *what, uint64_t va, uint64_t pa, uint64_t size, unsigned level,
                    pte_t flags)
{
    if (map_count == MAX_BOOT_MAPS)
        die("too many boot mappings (MAX_BOOT_MAPS)");
    maps[map_count++] = (struct boot_map){ what, va, pa, size, level, flags };
}

static void apply_maps(void)
{
    for (unsigned i = 0; i < map_count; i++)
        apply_one(&maps[i]);
    map_count = 0;
}

static void plan_identity(void)
{
    uint64_t t0 = (uintptr_t)__trampoline_start, t1 = (uintptr_t)__trampoline_end;
    add_map("low memory", PAGE_SIZE, PAGE_SIZE, t0 - PAGE_SIZE, 1, PTE_KERNEL_DATA);
    add_map("stage2 trampoline", t0, t0, t1 - t0, 1, PTE_KERNEL_CODE);
    add_map("low memory", t1, t1, IDENTITY_MAP_SIZE - t1, 1, PTE_KERNEL_DATA);
    add_map("low memory (upper-half view)", LOW_VIEW_BASE + PAGE_SIZE, PAGE_SIZE,
            IDENTITY_MAP_SIZE - PAGE_SIZE, 1, PTE_KERNEL_DATA);
}

static void plan_kernel(void)
{
    for (uint32_t i = 0; i < kernel_segment_count; i++) {
        const struct elf_segment *s = &kernel_segments[i];
        uint64_t va = PAGE_ROUND_DOWN(s->vaddr);
        uint64_t pa = PAGE_ROUND_DOWN(s->paddr);
        uint64_t size = PAGE_ROUND_UP(s->vaddr + s->memsz) - va;
        pte_t flags = (s->flags & PF_X) ? PTE_KERNEL_CODE :
                      (s->flags & PF_W) ? PTE_KERNEL_DATA : PTE_KERNEL_RO;
        add_map("kernel segment", va, pa, size, 1, flags);
    }
}

static void plan_stack_and_bitmap(void)
{
    uint64_t bytes = (uint64_t)KERNEL_STACK_PAGES * PAGE_SIZE;
    uint64_t stack = alloc_pages(KERNEL_STACK_PAGES, LOADER_RANGE_STACK, ALLOC_ZEROED);
    info->stack_top = KERNEL_STACK_TOP;
    info->stack_bottom = KERNEL_STACK_TOP - bytes;     /* the page below stays unmapped */
    add_map("kernel stack", info->stack_bottom, stack, bytes, 1, PTE_KERNEL_DATA);

    /* The bitmap grows with RAM (16.5 MiB at 512 GiB, 130 MiB at the 4 TiB
     * cap of max_phys, well inside the 256 MiB below the stack): 2 MiB
     * pages for its bulk keep the tables small, and the kernel's walks over
     * them short. */
    uint64_t meta = pmm_meta_bytes(info->max_phys >> 12);
    uint64_t bulk = ALIGN_DOWN(meta, PAGE_SIZE_2M);
    uint64_t pa = alloc_pages_aligned((uint32_t)(meta / PAGE_SIZE), LOADER_RANGE_PMM_BITMAP,
                                      ALLOC_AS_IS, bulk ? PAGE_SIZE_2M : PAGE_SIZE);
    info->pmm_bitmap_virt = PMM_BITMAP_BASE;
    info->pmm_bitmap_bytes = meta;
    if (bulk)
        add_map("frame bitmap", PMM_BITMAP_BASE, pa, bulk, 2, PTE_KERNEL_DATA);
    if (meta > bulk)
        add_map("frame bitmap", PMM_BITMAP_BASE + bulk, pa + bulk, meta - bulk, 1,
                PTE_KERNEL_DATA);
}

/* identity and table-offset: every table the kernel keeps comes from a pool
 * the strategy can reach; the pool's own mapping is made from it too. */
static void plan_pool(void)
{
    uint64_t pool = alloc_pages(TABLE_POOL_PAGES, LOADER_RANGE_TABLE_POOL, ALLOC_AS_IS);
    pool_next = pool;
    pool_end = pool + (uint64_t)TABLE_POOL_PAGES * PAGE_SIZE;
    info->table_pool_phys = pool;
    info->table_pool_pages = TABLE_POOL_PAGES;
    uint64_t va = info->strategy == STRATEGY_IDENTITY ? pool : TABLE_OFFSET_BASE + pool;
    add_map("page-table pool", va, pool, pool_end - pool, 1, PTE_KERNEL_DATA);
}

/* temporary: one level-1 table serves the slots at TEMP_SLOTS_BASE; it is
 * itself mapped 1:1 so the kernel can write its entries. */
static void plan_temporary(void)
{
    uint64_t l1 = table_alloc();
    pte_t *pd = walk_create(TEMP_SLOTS_BASE, 2);
    pd[PT_INDEX(TEMP_SLOTS_BASE, 2)] = l1 | PTE_TABLE_LINK;
    info->temp_l1_phys = l1;
    add_map("temporary slot table", l1, l1, PAGE_SIZE, 1, PTE_KERNEL_DATA);
}

static void plan_window(void)
{
    int gib = BOOT_CPU_HAS(info, CPU_PAGE1GB);
    uint64_t size = info->max_phys > PHYS_WINDOW_MIN_SIZE ? info->max_phys : PHYS_WINDOW_MIN_SIZE;
    size = ALIGN_UP(size, PAGE_SIZE_1G);
    info->phys_window_base = PHYS_WINDOW_BASE;
    info->phys_window_size = size;
    info->window_page_size = gib ? PAGE_SIZE_1G : PAGE_SIZE_2M;
    add_map("physical window", PHYS_WINDOW_BASE, 0, size, gib ? 3 : 2, PTE_KERNEL_DATA);
    table_kind = LOADER_RANGE_WINDOW_TABLES;
    tables_allocated = 0;
    apply_maps();
    info->window_table_frames = tables_allocated;
    table_kind = LOADER_RANGE_PAGE_TABLES;
}

/* The end of the RAM pagelab uses: the highest usable byte, but no more
 * than the kernel's frame allocator covers (PMM_MAX_PHYS, 4 TiB). RAM above
 * that stays in BootInfo's map (the kernel reports it) but gets no bitmap
 * and no window: nothing could allocate it, and a bitmap sized to 8 TiB
 * would no longer fit below the kernel stack. Says how much is left out. */
static uint64_t ram_limit(const struct boot_info *bi)
{
    uint64_t ignored = 0;
    for (uint32_t i = 0; i < bi->map_count; i++) {
        const struct mem_region *m = &bi->map[i];
        uint64_t end = m->base + m->length;
        if (m->type == MEM_USABLE && end > PMM_MAX_PHYS)
            ignored += end - (m->base > PMM_MAX_PHYS ? m->base : PMM_MAX_PHYS);
    }
    uint64_t max = e820_max_usable_end(bi->map, bi->map_count);
    if (!ignored)
        return max;
    progress("RAM above %llu TiB ignored: %llu MiB (PMM_MAX_FRAMES)",
             (unsigned long long)(PMM_MAX_PHYS >> 40), (unsigned long long)(ignored >> 20));
    return PMM_MAX_PHYS;
}

void paging_build(struct boot_info *bi)
{
    info = bi;
    nx_mask = BOOT_CPU_HAS(bi, CPU_NX) ? PTE_NX : 0;
    bi->max_phys = ram_limit(bi);
    if (bi->strategy == STRATEGY_IDENTITY || bi->strategy == STRATEGY_TABLE_OFFSET)
        plan_pool();
    pml4 = (pte_t *)(uintptr_t)table_alloc();
    bi->pml4_phys = (uintptr_t)pml4;
    bi->identity_size = IDENTITY_MAP_SIZE;
    plan_identity();
    plan_kernel();
    plan_stack_and_bitmap();
    if (bi->strategy == STRATEGY_TEMPORARY)
        plan_temporary();
    if (bi->strategy == STRATEGY_RECURSIVE)
        pml4[RECURSIVE_INDEX] = bi->pml4_phys | PTE_P | PTE_W | nx_mask;
    apply_maps();
    plan_window();
    progress("paging: PML4 0x%llx, window %llu GiB in %s pages (%u tables)",
             (unsigned long long)bi->pml4_phys, (unsigned long long)(bi->phys_window_size >> 30),
             bi->window_page_size == PAGE_SIZE_1G ? "1 GiB" : "2 MiB", bi->window_table_frames);
}
