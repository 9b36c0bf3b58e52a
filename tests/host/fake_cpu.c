/*
 * fake_cpu.c - host stand-ins for the CPU and the console, and the boot of
 * a simulated machine for the paging tests (see fake_cpu.h).
 */
#include <stdarg.h>
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

void tlb_invlpg(vaddr_t va)
{
    fake_cpu.invlpgs++;
    fake_cpu.last_invlpg = va.va;
}

void tlb_flush_all(void) { fake_cpu.flushes++; }

paddr_t cpu_read_cr3(void) { return paddr(fake_cpu.cr3); }

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

static void fake_memory_map(struct boot_info *bi)
{
    memset(bi, 0, sizeof(*bi));
    bi->magic = BOOT_INFO_MAGIC;
    bi->version = BOOT_INFO_VERSION;
    bi->size = sizeof(*bi);
    bi->strategy = STRATEGY_OFFSET;
    bi->phys_addr_bits = 46;
    bi->map[0] = (struct mem_region){ 0, 0x9F000, MEM_USABLE, 1 };
    bi->map[1] = (struct mem_region){ 0x9F000, 0x61000, MEM_RESERVED, 1 };
    bi->map[2] = (struct mem_region){ MIB, FAKE_ARENA_SIZE - MIB, MEM_USABLE, 1 };
    bi->map_count = 3;
    bi->kernel_phys_start = 2 * MIB;
    bi->kernel_phys_end = 3 * MIB;
    bi->max_phys = FAKE_ARENA_SIZE;
    bi->phys_window_base = (uint64_t)(uintptr_t)arena;
    bi->phys_window_size = FAKE_ARENA_SIZE;
}

static void die(const char *what, const char *why)
{
    fprintf(stderr, "fake_boot: %s: %s\n", what, why);
    abort();
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
    uint64_t bytes = pmm_meta_bytes(FAKE_ARENA_SIZE / PAGE_SIZE);
    free(meta);
    meta = calloc(1, bytes);
    enum pmm_status ps = pmm_init(&fake_bi, meta, bytes);
    if (ps != PMM_OK)
        die("pmm_init", pmm_status_name(ps));
    paddr_t pml4;
    if (pmm_alloc(PMM_ZONE_GENERAL, &pml4) != PMM_OK)
        die("pml4", "no frame");
    memset(fake_phys(pml4.pa), 0, PAGE_SIZE);
    fake_cpu = (struct fake_cpu){ .cr3 = pml4.pa };
    enum pt_status st = strategy_init(&fake_bi);
    if (st == PT_OK)
        st = pt_init(&fake_bi);
    if (st != PT_OK)
        die("strategy_init/pt_init", pt_status_name(st));
    pt_stats_reset();
}

pte_t *fake_entry(unsigned level, uint64_t va)
{
    pte_t *t = fake_phys(fake_cpu.cr3);
    for (unsigned l = PT_LEVELS; l > level; l--) {
        pte_t e = t[PT_INDEX(va, l)];
        if (!(e & PTE_P) || (l < PT_LEVELS && (e & PTE_PS)))
            return NULL;
        t = fake_phys(e & PTE_ADDR_MASK);
    }
    return &t[PT_INDEX(va, level)];
}
