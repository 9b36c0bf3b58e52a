/*
 * pagesize.c - the page-size trade-off (pagesize.h): what a process of s
 * bytes costs in page tables with pages of p bytes, measured on the
 * paging core with the build's strategy, next to the internal
 * fragmentation its last page leaves. The textbook's overhead s*e/p + p/2
 * counts one flat table of s/p entries of e bytes; the CPU's tables are
 * 4 KiB frames of 512 entries on four levels (SDM Vol. 3A 4.5), one per
 * level at least: NOTES.md, "The page-size trade-off", compares the two.
 *
 * Nothing is read or written through these mappings (the spaces are
 * never activated), so every page may name the same physical range:
 * physical 0, aligned to every page size; a 1 GiB process needs no GiB
 * of RAM. The leaves are user and writable, as a process's heap would be.
 */
#include <stddef.h>
#include <stdint.h>
#include "pagesize.h"
#include "console.h"
#include "layout.h"
#include "pmm.h"
#include "pt.h"
#include "result.h"
#include "strategy.h"

#define result(ok, name, ...) guest_result("pagesize", ok, name, __VA_ARGS__)

static const uint64_t sizes[PAGESIZE_SIZES] = { PAGESIZE_SIZE_1, PAGESIZE_SIZE_2,
                                                PAGESIZE_SIZE_3, PAGESIZE_SIZE_4 };
static const uint64_t page_sizes[] = { PAGE_SIZE, PAGE_SIZE_2M, PAGE_SIZE_1G };
#define PAGE_SIZES (sizeof(page_sizes) / sizeof(page_sizes[0]))

_Static_assert(PAGESIZE_SIZE_4 <= PT_LEVEL_SPAN(4),
               "every process fits USER_BASE's PML4 slot: one PDPT at most");

/* One cell of the table: what was asked, what the tables and the frame
 * allocator say, what came back. */
struct cell {
    uint64_t s, p, pages;
    uint64_t n[PT_LEVELS + 1]; /* the space's tables per level, PML4 included */
    uint64_t taken;            /* table-zone frames the space took, PML4 included */
    uint64_t leaves, wrong;    /* leaves destroy reported; of them, not of size p */
    uint64_t missing;          /* frames of both zones not back after destroy */
    enum pt_status st;         /* the first error of create, map or destroy */
};

struct leaves {
    uint64_t p, n, wrong;
};

static void count_leaf(vaddr_t va, paddr_t frame, uint64_t size, void *ctx)
{
    struct leaves *l = ctx;
    (void)va;
    (void)frame;                  /* physical 0, nobody's frame: nothing to free */
    l->n++;
    l->wrong += size != l->p;
}

static uint64_t zone_free(enum pmm_zone z)
{
    struct pmm_counters c;
    pmm_get_counters(z, &c);
    return c.free;
}

/* s bytes at USER_BASE in the selected space, in pages of p. 4 KiB pages
 * go in pieces of one level-1 table each (pt_map_range fills a table in
 * one loop), every piece onto [0, 2 MiB); a huge page is one pt_map. */
static enum pt_status map_cell(uint64_t s, uint64_t p)
{
    uint32_t prot = PT_PROT_USER | PT_PROT_WRITE;
    enum pt_status st = PT_OK;
    for (uint64_t off = 0; off < s && st == PT_OK; off += p == PAGE_SIZE ? PAGE_SIZE_2M : p) {
        if (p == PAGE_SIZE) {
            uint64_t len = s - off < PAGE_SIZE_2M ? ALIGN_UP(s - off, PAGE_SIZE) : PAGE_SIZE_2M;
            st = pt_map_range(vaddr(USER_BASE + off), paddr(0), len, prot, PT_RANGE_4K_ONLY,
                              NULL);
        } else {
            st = pt_map(vaddr(USER_BASE + off), paddr(0), p, prot, NULL);
        }
    }
    return st;
}

static void measure(struct cell *c)
{
    static struct pt_space as;
    enum pmm_zone z = strategy_table_zone();
    uint64_t all = guest_free_frames(), before = zone_free(z);
    c->pages = (c->s + c->p - 1) / c->p;
    c->st = pt_space_create(&as);
    if (c->st != PT_OK)
        return;
    pt_space_select(&as);
    c->st = map_cell(c->s, c->p);
    pt_space_select(NULL);
    pt_space_tables_by_level(&as, c->n);
    c->taken = before - zone_free(z);
    struct leaves l = { c->p, 0, 0 };
    enum pt_status d = pt_space_destroy(&as, count_leaf, &l);
    c->st = c->st != PT_OK ? c->st : d;
    c->leaves = l.n;
    c->wrong = l.wrong;
    c->missing = all - guest_free_frames();
}

static int cell_ok(const struct cell *c)
{
    uint64_t tables = c->n[4] + c->n[3] + c->n[2] + c->n[1];
    return c->st == PT_OK && c->n[0] == 0 && c->n[4] == 1 && c->taken == tables &&
           c->leaves == c->pages && c->wrong == 0 && c->missing == 0;
}

static void print_cell(const struct cell *c)
{
    if (c->st != PT_OK) {
        kprintf("pagesize: s %lu p %lu: %s%s\n", c->s, c->p, pt_status_name(c->st),
                c->st == PT_ERR_NO_FRAMES && strategy_table_zone() == PMM_ZONE_TABLE_POOL
                    ? " (the table pool, TABLE_POOL_PAGES)" : "");
        return;
    }
    kprintf("pagesize: s %lu p %lu pages %lu tables %lu+%lu+%lu+%lu frag %lu\n", c->s, c->p,
            c->pages, c->n[4], c->n[3], c->n[2], c->n[1], c->pages * c->p - c->s);
}

void pagesize_run(const struct boot_info *bi)
{
    static struct cell bad;
    unsigned cells = 0, good = 0;
    for (unsigned j = 0; j < PAGE_SIZES; j++) {
        if (page_sizes[j] == PAGE_SIZE_1G && !BOOT_CPU_HAS(bi, CPU_PAGE1GB)) {
            kprintf("pagesize: p %lu skipped: the CPU has no 1 GiB pages"
                    " (CPUID 80000001h EDX[26])\n", (uint64_t)PAGE_SIZE_1G);
            continue;
        }
        for (unsigned i = 0; i < PAGESIZE_SIZES; i++) {
            struct cell c = { .s = sizes[i], .p = page_sizes[j] };
            measure(&c);
            print_cell(&c);
            cells++;
            if (cell_ok(&c))
                good++;
            else if (!bad.s)
                bad = c;          /* the first bad cell, for the FAIL line */
        }
    }
    result(good == cells, "tables counted = frames taken; all back",
           "%u of %u cells; first bad: s %lu p %lu %s, tables %lu+%lu+%lu+%lu, %lu taken,"
           " %lu of %lu leaves (%lu of another size), %lu frames not back", good, cells, bad.s,
           bad.p, pt_status_name(bad.st), bad.n[4], bad.n[3], bad.n[2], bad.n[1], bad.taken,
           bad.leaves, bad.pages, bad.wrong, bad.missing);
}
