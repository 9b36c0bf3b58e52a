/*
 * fake_cpu.c - host stand-ins for the CPU and the console, and the boot of
 * a simulated machine for the paging tests (see fake_cpu.h).
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "console.h"
#include "fake_cpu.h"
#include "layout.h"
#include "pmm.h"
#include "pmm_meta.h"
#include "pt.h"
#include "strategy.h"
#include "tlb.h"

#define MIB (1ULL << 20)
#define CAPTURE_MAX (1u << 20)

struct fake_cpu fake_cpu;
struct boot_info fake_bi;

static uint8_t *arena;
static uint64_t *meta;
static char *capture;
static size_t capture_len;
static int capturing;

/* ---- the MMU: a software walk from CR3 through a small TLB ---- */

/* A TLB entry: the leaf's whole page, as the hardware caches it. */
struct tlb_entry {
    uint64_t va, size, pa; /* size 0: empty */
};

#define FAKE_TLB_ENTRIES 16
static struct tlb_entry tlb[FAKE_TLB_ENTRIES];
static unsigned tlb_next; /* round-robin victim: any eviction is legal */

static bool in_own_range(uint64_t va)
{
    struct pt_region r = strategy_reserved();
    return r.size && va >= r.base.va && va - r.base.va < r.size;
}

void tlb_invlpg(vaddr_t va)
{
    if (in_own_range(va.va)) {
        fake_cpu.own_invlpgs++;
    } else {
        fake_cpu.invlpgs++;
        fake_cpu.last_invlpg = va.va;
    }
    for (unsigned i = 0; i < FAKE_TLB_ENTRIES; i++)
        if (tlb[i].size && va.va - tlb[i].va < tlb[i].size)
            tlb[i].size = 0;
}

void tlb_flush_all(void)
{
    fake_cpu.flushes++;
    memset(tlb, 0, sizeof(tlb));
}

paddr_t cpu_read_cr3(void) { return paddr(fake_cpu.cr3); }

/* The fake TLB keeps no G bit: like QEMU's TCG, every CR3 write empties it. */
void tlb_flush_nonglobal(void)
{
    fake_cpu.cr3_writes++;
    memset(tlb, 0, sizeof(tlb));
}

void cpu_write_cr3(paddr_t root)
{
    fake_cpu.cr3 = root.pa;
    fake_cpu.cr3_writes++;
    memset(tlb, 0, sizeof(tlb));
}

static void fault(uint64_t va, unsigned level, pte_t e)
{
    fprintf(stderr, "fake MMU: page fault at 0x%llx (level-%u entry 0x%llx)\n",
            (unsigned long long)va, level, (unsigned long long)e);
    abort();
}

/* What the CPU's walk finds for va (SDM Vol. 3A 4.5.4); faults if nothing. */
static struct tlb_entry mmu_walk(uint64_t va)
{
    const pte_t *t = fake_phys(fake_cpu.cr3);
    for (unsigned level = PT_LEVELS; level >= 1; level--) {
        pte_t e = t[PT_INDEX(va, level)];
        if (!(e & PTE_P) || (level == PT_LEVELS && (e & PTE_PS)))
            fault(va, level, e);
        if (level == 1 || (e & PTE_PS)) {
            uint64_t size = PT_LEVEL_SPAN(level);
            return (struct tlb_entry){ va & ~(size - 1), size, e & PTE_ADDR_MASK & ~(size - 1) };
        }
        t = fake_phys(e & PTE_ADDR_MASK);
    }
    fault(va, 0, 0);
    return (struct tlb_entry){ 0, 0, 0 };
}

/* A translation the TLB holds wins over the tables, as on the hardware:
 * changing a present entry without invlpg leaves the old frame in use. */
void *cpu_ptr(vaddr_t va)
{
    for (unsigned i = 0; i < FAKE_TLB_ENTRIES; i++)
        if (tlb[i].size && va.va - tlb[i].va < tlb[i].size)
            return fake_phys(tlb[i].pa + (va.va - tlb[i].va));
    struct tlb_entry e = mmu_walk(va.va);
    tlb[tlb_next] = e;
    tlb_next = (tlb_next + 1) % FAKE_TLB_ENTRIES;
    fake_cpu.walks++;
    return fake_phys(e.pa + (va.va - e.va));
}

void kvprintf(const char *fmt, va_list ap)
{
    if (!capturing) {
        vprintf(fmt, ap);
        return;
    }
    int n = vsnprintf(capture + capture_len, CAPTURE_MAX - capture_len, fmt, ap);
    if (n > 0)
        capture_len += (size_t)n;
    if (capture_len >= CAPTURE_MAX)
        capture_len = CAPTURE_MAX - 1;
}

void kprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    kvprintf(fmt, ap);
    va_end(ap);
}

void kpanic(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "PANIC: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    abort();
}

void fake_capture_start(void)
{
    if (!capture)
        capture = malloc(CAPTURE_MAX);
    capture_len = 0;
    capture[0] = '\0';
    capturing = 1;
}

const char *fake_capture_end(void)
{
    capturing = 0;
    capture[capture_len] = '\0';
    return capture;
}

void *fake_phys(uint64_t pa) { return arena + pa; }

/* ---- the loader: what stage2 leaves for each strategy ---- */

/* Where the fake loader puts its tables (general RAM after the "kernel")
 * and the table pool; both inside the usable 1..64 MiB. */
#define LOADER_TABLES (3 * MIB)
#define POOL_BASE (8 * MIB)

struct loader {
    uint64_t next; /* next table frame */
};

static uint64_t loader_take(struct loader *l)
{
    uint64_t f = l->next;
    l->next += PAGE_SIZE;
    memset(fake_phys(f), 0, PAGE_SIZE);
    return f;
}

/* The level-`level` entry on va's path, creating tables from l. */
static pte_t *loader_entry(struct loader *l, uint64_t va, unsigned level)
{
    pte_t *t = fake_phys(fake_cpu.cr3);
    for (unsigned lv = PT_LEVELS; lv > level; lv--) {
        pte_t *e = &t[PT_INDEX(va, lv)];
        if (!(*e & PTE_P))
            *e = loader_take(l) | PTE_TABLE_LINK;
        t = fake_phys(*e & PTE_ADDR_MASK);
    }
    return &t[PT_INDEX(va, level)];
}

/* Kernel data as stage2 writes it: no NX bit where the CPU has none. */
static pte_t loader_data_bits(void)
{
    return (fake_bi.cpu_features & (1u << CPU_NX)) ? PTE_KERNEL_DATA : PTE_KERNEL_DATA & ~PTE_NX;
}

static void loader_map(struct loader *l, uint64_t va, uint64_t pa, uint64_t bytes, unsigned level)
{
    for (uint64_t off = 0; off < bytes; off += PT_LEVEL_SPAN(level))
        *loader_entry(l, va + off, level) = (pa + off) | loader_data_bits() |
                                            (level > 1 ? PTE_PS : 0);
}

static void add_loader_range(uint64_t base, uint64_t end, uint32_t kind)
{
    if (end > base)
        fake_bi.loader_ranges[fake_bi.loader_range_count++] =
            (struct loader_range){ base, (end - base) / PAGE_SIZE, kind, 0 };
}

/* A PML4 and the physical window (2 MiB pages, PML4[256]), as stage2
 * builds them for every strategy but offset, which reads the arena as its
 * window directly. */
static void loader_window(struct loader *l)
{
    fake_bi.phys_window_base = PHYS_WINDOW_BASE;
    fake_bi.phys_window_size = FAKE_ARENA_SIZE;
    uint64_t tables = l->next;
    struct loader w = { l->next };
    loader_map(&w, PHYS_WINDOW_BASE, 0, FAKE_ARENA_SIZE, 2);
    add_loader_range(tables, w.next, LOADER_RANGE_WINDOW_TABLES);
    l->next = w.next;
}

/* identity, table-offset: the pool, mapped at `offset` + frame with its
 * own frames (the PML4 too, so every kept table is a pool frame). */
static void loader_pool(uint64_t offset)
{
    struct loader pool = { POOL_BASE };
    fake_cpu.cr3 = loader_take(&pool);
    loader_map(&pool, offset + POOL_BASE, POOL_BASE, TABLE_POOL_PAGES * PAGE_SIZE, 1);
    add_loader_range(POOL_BASE, POOL_BASE + TABLE_POOL_PAGES * PAGE_SIZE, LOADER_RANGE_TABLE_POOL);
    add_loader_range(POOL_BASE, pool.next, LOADER_RANGE_PAGE_TABLES);
    fake_bi.table_pool_phys = POOL_BASE;
    fake_bi.table_pool_pages = TABLE_POOL_PAGES;
    struct loader gen = { LOADER_TABLES };
    loader_window(&gen);
}

/* temporary: the slot table under TEMP_SLOTS_BASE, itself mapped 1:1. */
static void loader_temporary(void)
{
    struct loader l = { LOADER_TABLES };
    fake_cpu.cr3 = loader_take(&l);
    uint64_t slots = loader_take(&l);
    *loader_entry(&l, TEMP_SLOTS_BASE, 2) = slots | PTE_TABLE_LINK;
    loader_map(&l, slots, slots, PAGE_SIZE, 1);
    fake_bi.temp_l1_phys = slots;
    add_loader_range(LOADER_TABLES, l.next, LOADER_RANGE_PAGE_TABLES);
    loader_window(&l);
}

static void fake_memory_map(struct boot_info *bi)
{
    memset(bi, 0, sizeof(*bi));
    bi->magic = BOOT_INFO_MAGIC;
    bi->version = BOOT_INFO_VERSION;
    bi->size = sizeof(*bi);
    bi->strategy = FAKE_STRATEGY;
    bi->phys_addr_bits = 46;
    bi->map[0] = (struct mem_region){ 0, 0x9F000, MEM_USABLE, 1 };
    bi->map[1] = (struct mem_region){ 0x9F000, 0x61000, MEM_RESERVED, 1 };
    bi->map[2] = (struct mem_region){ MIB, FAKE_ARENA_SIZE - MIB, MEM_USABLE, 1 };
    bi->map_count = 3;
    bi->kernel_phys_start = 2 * MIB;
    bi->kernel_phys_end = 3 * MIB;
    bi->max_phys = FAKE_ARENA_SIZE;
}

static void die(const char *what, const char *why)
{
    fprintf(stderr, "fake_boot: %s: %s\n", what, why);
    abort();
}

/* offset: the arena is the window; the PML4 is the allocator's first frame. */
static void boot_pml4_from_pmm(void)
{
    paddr_t pml4;
    if (pmm_alloc(PMM_ZONE_GENERAL, &pml4) != PMM_OK)
        die("pml4", "no frame");
    memset(fake_phys(pml4.pa), 0, PAGE_SIZE);
    fake_cpu.cr3 = pml4.pa;
}

void fake_boot(uint32_t cpu_features)
{
    if (!arena) {
        /* Reserve one alignment more and start at its boundary: the
         * slack is never touched. */
        uint8_t *p = mmap(NULL, FAKE_ARENA_SIZE + FAKE_ARENA_ALIGN, PROT_READ | PROT_WRITE,
                          MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (p == MAP_FAILED)
            die("mmap", "no arena");
        arena = p + (-(uintptr_t)p & (FAKE_ARENA_ALIGN - 1));
    }
    fake_memory_map(&fake_bi);
    fake_bi.cpu_features = cpu_features;
    fake_cpu = (struct fake_cpu){ 0 };
    memset(tlb, 0, sizeof(tlb));
    if (FAKE_STRATEGY == STRATEGY_OFFSET) {
        fake_bi.phys_window_base = (uint64_t)(uintptr_t)arena;
        fake_bi.phys_window_size = FAKE_ARENA_SIZE;
    } else if (FAKE_STRATEGY == STRATEGY_IDENTITY) {
        loader_pool(0);
    } else if (FAKE_STRATEGY == STRATEGY_TABLE_OFFSET) {
        loader_pool(TABLE_OFFSET_BASE);
    } else if (FAKE_STRATEGY == STRATEGY_TEMPORARY) {
        loader_temporary();
    } else {
        die("strategy", "not simulated on the host (recursive needs the MMU)");
    }
    uint64_t bytes = pmm_meta_bytes(FAKE_ARENA_SIZE / PAGE_SIZE);
    free(meta);
    meta = calloc(1, bytes);
    enum pmm_status ps = pmm_init(&fake_bi, meta, bytes);
    if (ps != PMM_OK)
        die("pmm_init", pmm_status_name(ps));
    if (FAKE_STRATEGY == STRATEGY_OFFSET)
        boot_pml4_from_pmm();
    enum pt_status st = strategy_init(&fake_bi);
    if (st == PT_OK)
        st = pt_init(&fake_bi);
    if (st != PT_OK)
        die("strategy_init/pt_init", pt_status_name(st));
    fake_cpu = (struct fake_cpu){ .cr3 = fake_cpu.cr3 };
    pt_stats_reset();
}
pte_t *fake_entry(unsigned level, uint64_t va)
{
    return fake_entry_in(fake_cpu.cr3, level, va);
}

pte_t *fake_entry_in(uint64_t root, unsigned level, uint64_t va)
{
    pte_t *t = fake_phys(root);
    for (unsigned l = PT_LEVELS; l > level; l--) {
        pte_t e = t[PT_INDEX(va, l)];
        if (!(e & PTE_P) || (l < PT_LEVELS && (e & PTE_PS)))
            return NULL;
        t = fake_phys(e & PTE_ADDR_MASK);
    }
    return &t[PT_INDEX(va, level)];
}
