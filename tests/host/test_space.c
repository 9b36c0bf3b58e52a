/*
 * test_space.c - host tests of address spaces (kernel/mm/pt_space.c) with
 * the strategy the test is built with (tests/host/paging.mk), over
 * fake_cpu.c's simulated machine: a new space's PML4 is an empty lower half
 * and the kernel's upper half; edits of an inactive space reach only it and
 * invalidate nothing (the TLB rule, rule 6); once active, the simulated MMU
 * walks what was built; a kernel PDPT linked later reaches every space and
 * stays while one lives; destroying a space gives back exactly the frames
 * it took; the refusals; and each limit at, just below and just above it.
 */
#include <string.h>

#include "check.h"
#include "fake_cpu.h"
#include "layout.h"
#include "pmm.h"
#include "pt.h"
#include "strategy.h"
#include "tlb.h"

#define FEATURES ((1u << CPU_NX) | (1u << CPU_PAGE1GB))
#define PAGES 64
#define USER_LAST_PAGE (USER_END - PAGE_SIZE)
/* An upper-half PML4 slot the loader leaves empty and no strategy
 * reserves: the kernel's module slot. */
#define KERNEL_FRESH MODULES_BASE

static void boot(void) { fake_boot(FEATURES); }

static uint64_t used(enum pmm_zone z)
{
    struct pmm_counters c;
    pmm_get_counters(z, &c);
    return c.used;
}

/* Every frame either zone has handed out: tables and user pages. */
static uint64_t used_all(void) { return used(PMM_ZONE_GENERAL) + used(PMM_ZONE_TABLE_POOL); }

static paddr_t frame(void)
{
    paddr_t f;
    CHECK_EQ(pmm_alloc(PMM_ZONE_GENERAL, &f), PMM_OK);
    return f;
}

static pte_t *pml4_of(const struct pt_space *as) { return fake_phys(as->root.pa); }

/* Maps PAGES user pages at USER_BASE in the selected space, frame i
 * holding the value i + tag; returns the frames in out. */
static void map_pages(paddr_t out[PAGES], uint64_t tag)
{
    for (unsigned i = 0; i < PAGES; i++) {
        out[i] = frame();
        *(uint64_t *)fake_phys(out[i].pa) = i + tag;
        CHECK_EQ(pt_map(vaddr(USER_BASE + i * PAGE_SIZE), out[i], PAGE_SIZE,
                        PT_PROT_USER | PT_PROT_WRITE, NULL), PT_OK);
    }
}

struct freed {
    unsigned n;
    uint64_t bytes;
};

static void free_leaf(vaddr_t va, paddr_t f, uint64_t size, void *ctx)
{
    struct freed *fr = ctx;
    (void)va;
    fr->n++;
    fr->bytes += size;
    CHECK_EQ(pmm_free(PMM_ZONE_GENERAL, f), PMM_OK);
}

static void test_a_new_space_is_an_empty_lower_half_and_the_kernels_upper_half(void)
{
    boot();
    uint64_t before = used(strategy_table_zone());
    struct pt_space as;
    CHECK_EQ(pt_space_create(&as), PT_OK);
    CHECK_EQ(used(strategy_table_zone()), before + 1);       /* the PML4, nothing else */
    pte_t *k = fake_phys(pt_kernel_space.root.pa), *t = pml4_of(&as);
    CHECK_EQ(t[0] & ~PT_COUNT_MASK, k[0] & ~PT_COUNT_MASK);   /* slot 0: shared */
    for (unsigned i = 1; i < PT_ENTRIES / 2; i++)
        if (!CHECK(t[i] == 0, "user slot %u is 0x%llx", i, (unsigned long long)t[i]))
            break;
    for (unsigned i = PT_ENTRIES / 2; i < PT_ENTRIES; i++)
        if (!CHECK(t[i] == (strategy_root_entry_shared(i) ? k[i] : t[i]),
                   "upper-half entry %u: 0x%llx, the kernel's 0x%llx", i,
                   (unsigned long long)t[i], (unsigned long long)k[i]))
            break;
    CHECK(pt_space_selected() == &pt_kernel_space && pt_space_active() == &pt_kernel_space,
          "create selects and activates nothing");
    CHECK_EQ(fake_cpu.cr3, pt_kernel_space.root.pa);
}

static void test_edits_of_an_inactive_space_reach_only_it_and_invalidate_nothing(void)
{
    boot();
    struct pt_space as;
    CHECK_EQ(pt_space_create(&as), PT_OK);
    uint64_t invlpgs = fake_cpu.invlpgs, flushes = fake_cpu.flushes, cr3 = fake_cpu.cr3;
    paddr_t f[PAGES];
    pt_space_select(&as);
    map_pages(f, 100);
    CHECK_EQ(pt_protect(vaddr(USER_BASE), PAGE_SIZE, PT_PROT_USER), PT_OK);
    paddr_t got;
    CHECK_EQ(pt_unmap(vaddr(USER_BASE + (PAGES - 1) * PAGE_SIZE), &got, NULL), PT_OK);
    CHECK_EQ(got.pa, f[PAGES - 1].pa);
    CHECK_EQ(fake_cpu.invlpgs, invlpgs);                    /* rule 6 */
    CHECK_EQ(fake_cpu.flushes, flushes);
    CHECK_EQ(fake_cpu.cr3, cr3);
    struct pt_translation tr;
    CHECK_EQ(pt_translate(vaddr(USER_BASE + 5 * PAGE_SIZE), &tr), PT_OK);
    CHECK_EQ(tr.pa.pa, f[5].pa);
    pt_space_select(NULL);
    CHECK_EQ(pt_translate(vaddr(USER_BASE + 5 * PAGE_SIZE), &tr), PT_ERR_UNMAPPED);
    CHECK_EQ(pmm_free(PMM_ZONE_GENERAL, f[PAGES - 1]), PMM_OK);
}

static void test_the_same_edits_in_the_active_space_invalidate(void)
{
    boot();
    struct pt_space as;
    CHECK_EQ(pt_space_create(&as), PT_OK);
    pt_space_activate(&as);
    pt_space_select(&as);
    paddr_t f[PAGES];
    map_pages(f, 0);
    uint64_t invlpgs = fake_cpu.invlpgs;
    CHECK_EQ(pt_protect(vaddr(USER_BASE), PAGE_SIZE, PT_PROT_USER), PT_OK);
    CHECK_EQ(fake_cpu.invlpgs, invlpgs + 1);
    CHECK_EQ(pt_unmap(vaddr(USER_BASE), NULL, NULL), PT_OK);
    CHECK_EQ(fake_cpu.invlpgs, invlpgs + 2);
}

static void test_once_active_the_mmu_walks_what_was_built(void)
{
    boot();
    struct pt_space a, b;
    CHECK_EQ(pt_space_create(&a), PT_OK);
    CHECK_EQ(pt_space_create(&b), PT_OK);
    paddr_t fa[PAGES], fb[PAGES];
    pt_space_select(&a);
    map_pages(fa, 1000);
    pt_space_select(&b);
    map_pages(fb, 2000);
    uint64_t writes = fake_cpu.cr3_writes;
    pt_space_activate(&a);
    CHECK_EQ(fake_cpu.cr3, a.root.pa);
    CHECK_EQ(fake_cpu.cr3_writes, writes + 1);
    for (unsigned i = 0; i < PAGES; i++)
        if (!CHECK_EQ(*(uint64_t *)cpu_ptr(vaddr(USER_BASE + i * PAGE_SIZE)), 1000 + i))
            break;
    pt_space_activate(&b);        /* same virtual addresses, other frames */
    for (unsigned i = 0; i < PAGES; i++)
        if (!CHECK_EQ(*(uint64_t *)cpu_ptr(vaddr(USER_BASE + i * PAGE_SIZE)), 2000 + i))
            break;
    pt_space_activate(&b);        /* already active: no CR3 write */
    CHECK_EQ(fake_cpu.cr3_writes, writes + 2);
}

static void test_a_kernel_mapping_made_before_is_in_every_new_space(void)
{
    boot();
    paddr_t f = frame();
    pt_space_select(NULL);
    CHECK_EQ(pt_map(vaddr(KERNEL_FRESH), f, PAGE_SIZE, PT_PROT_WRITE, NULL), PT_OK);
    struct pt_space a;
    CHECK_EQ(pt_space_create(&a), PT_OK);
    pt_space_select(&a);
    struct pt_translation t;
    CHECK_EQ(pt_translate(vaddr(KERNEL_FRESH), &t), PT_OK);
    CHECK_EQ(t.pa.pa, f.pa);
    CHECK_EQ(pt_tr_prot(&t) & PT_PROT_USER, 0);
    *(uint64_t *)fake_phys(f.pa) = 77;
    pt_space_activate(&a);
    CHECK_EQ(*(uint64_t *)cpu_ptr(vaddr(KERNEL_FRESH)), 77);
}

static void test_a_kernel_pdpt_linked_later_reaches_every_space_and_stays(void)
{
    boot();
    struct pt_space a, b;
    CHECK_EQ(pt_space_create(&a), PT_OK);
    CHECK_EQ(pt_space_create(&b), PT_OK);
    unsigned slot = PT_INDEX(KERNEL_FRESH, 4);
    pte_t *k = fake_phys(pt_kernel_space.root.pa);
    CHECK_EQ(k[slot], 0);
    pt_space_select(&a);          /* an upper-half map goes to the kernel's tables */
    paddr_t f = frame();
    uint64_t tables0 = used(strategy_table_zone());
    CHECK_EQ(pt_map(vaddr(KERNEL_FRESH), f, PAGE_SIZE, PT_PROT_WRITE, NULL), PT_OK);
    CHECK(k[slot] & PTE_P, "the kernel PML4 has the new PDPT");
    CHECK_EQ(pml4_of(&a)[slot], k[slot]);
    CHECK_EQ(pml4_of(&b)[slot], k[slot]);
    pt_space_select(&b);
    struct pt_translation t;
    CHECK_EQ(pt_translate(vaddr(KERNEL_FRESH), &t), PT_OK);
    CHECK_EQ(t.pa.pa, f.pa);
    /* unmapped again, the PDPT stays linked: a and b point at it */
    CHECK_EQ(used(strategy_table_zone()), tables0 + 3);
    CHECK_EQ(pt_unmap(vaddr(KERNEL_FRESH), NULL, NULL), PT_OK);
    CHECK(k[slot] & PTE_P, "the kernel's PDPT stays while spaces live");
    CHECK_EQ(used(strategy_table_zone()), tables0 + 1);     /* its PD and PT went */
    /* and the range engine the same */
    CHECK_EQ(pt_map_range(vaddr(KERNEL_FRESH), f, 2 * PAGE_SIZE, 0, 0, NULL), PT_OK);
    CHECK_EQ(pt_unmap_range(vaddr(KERNEL_FRESH), 2 * PAGE_SIZE), PT_OK);
    CHECK(k[slot] & PTE_P, "pt_unmap_range keeps it too");
    CHECK_EQ(pml4_of(&a)[slot], k[slot]);
    CHECK_EQ(pmm_free(PMM_ZONE_GENERAL, f), PMM_OK);
}

static void test_without_other_spaces_an_emptied_kernel_pdpt_is_freed(void)
{
    boot();
    paddr_t f = frame();
    uint64_t tables = used(strategy_table_zone());
    CHECK_EQ(pt_map(vaddr(KERNEL_FRESH), f, PAGE_SIZE, 0, NULL), PT_OK);
    CHECK_EQ(used(strategy_table_zone()), tables + 3);
    CHECK_EQ(pt_unmap(vaddr(KERNEL_FRESH), NULL, NULL), PT_OK);
    CHECK_EQ(used(strategy_table_zone()), tables);
    CHECK_EQ(pmm_free(PMM_ZONE_GENERAL, f), PMM_OK);
}

static void test_destroy_gives_back_exactly_what_the_space_took(void)
{
    boot();
    uint64_t before = used_all();
    struct pt_space as;
    CHECK_EQ(pt_space_create(&as), PT_OK);
    pt_space_select(&as);
    paddr_t f[PAGES];
    map_pages(f, 0);
    /* a 2 MiB leaf and a page at the top of the user half too */
    paddr_t big;
    CHECK_EQ(pmm_alloc(PMM_ZONE_GENERAL, &big), PMM_OK);     /* placeholder frame for 4K */
    CHECK_EQ(pt_map(vaddr(USER_LAST_PAGE), big, PAGE_SIZE, PT_PROT_USER, NULL), PT_OK);
    pt_space_select(NULL);
    CHECK(used_all() > before + PAGES, "the space holds frames");
    struct freed fr = { 0, 0 };
    CHECK_EQ(pt_space_destroy(&as, free_leaf, &fr), PT_OK);
    CHECK_EQ(fr.n, PAGES + 1);
    CHECK_EQ(fr.bytes, (PAGES + 1) * PAGE_SIZE);
    CHECK_EQ(used_all(), before);
    CHECK_EQ(pmm_verify(PMM_ZONE_GENERAL), PMM_OK);
    CHECK_EQ(pmm_verify(strategy_table_zone()), PMM_OK);
}

/* pt_space_tables_by_level counts each level's tables of the space's own
 * slots: 513 pages (two PTs under one PD), a 2 MiB leaf under a second PD
 * and a 1 GiB leaf, all in one PDPT, and the last user page (a PDPT, PD
 * and PT of their own): 2 PDPTs, 3 PDs, 3 PTs and the PML4, which are
 * exactly the frames the space took; an empty space is its PML4 alone.
 * The leaves map one frame's neighbourhood (nothing reads them). */
static void test_tables_by_level_count_each_levels_tables_of_the_space(void)
{
    boot();
    uint64_t before = used_all();
    struct pt_space as;
    CHECK_EQ(pt_space_create(&as), PT_OK);
    uint64_t n[PT_LEVELS + 1];
    pt_space_tables_by_level(&as, n);
    CHECK_EQ(n[4], 1);
    CHECK_EQ(n[3] + n[2] + n[1] + n[0], 0);
    pt_space_select(&as);
    uint32_t prot = PT_PROT_USER | PT_PROT_WRITE;
    CHECK_EQ(pt_map_range(vaddr(USER_BASE), paddr(0), 513 * PAGE_SIZE, prot, PT_RANGE_4K_ONLY,
                          NULL), PT_OK);
    CHECK_EQ(pt_map(vaddr(USER_BASE + PAGE_SIZE_1G), paddr(0), PAGE_SIZE_2M, prot, NULL), PT_OK);
    CHECK_EQ(pt_map(vaddr(USER_BASE + 2ULL * PAGE_SIZE_1G), paddr(0), PAGE_SIZE_1G, prot, NULL),
             PT_OK);
    CHECK_EQ(pt_map(vaddr(USER_LAST_PAGE), paddr(0), PAGE_SIZE, prot, NULL), PT_OK);
    pt_space_select(NULL);
    pt_space_tables_by_level(&as, n);
    CHECK_EQ(n[0], 0);
    CHECK_EQ(n[1], 3);
    CHECK_EQ(n[2], 3);
    CHECK_EQ(n[3], 2);
    CHECK_EQ(n[4], 1);
    CHECK_EQ(pt_space_tables(&as), 8);
    CHECK_EQ(used_all() - before, 9);
    CHECK_EQ(pt_space_destroy(&as, NULL, NULL), PT_OK);
    CHECK_EQ(used_all(), before);
}

static void test_destroy_refuses_the_kernels_the_active_the_selected_and_a_dead_space(void)
{
    boot();
    struct pt_space a, b, never = { paddr(0), NULL };
    CHECK_EQ(pt_space_create(&a), PT_OK);
    CHECK_EQ(pt_space_create(&b), PT_OK);
    CHECK_EQ(pt_space_destroy(&pt_kernel_space, NULL, NULL), PT_ERR_SPACE_IN_USE);
    pt_space_activate(&a);
    CHECK_EQ(pt_space_destroy(&a, NULL, NULL), PT_ERR_SPACE_IN_USE);
    pt_space_select(&b);
    CHECK_EQ(pt_space_destroy(&b, NULL, NULL), PT_ERR_SPACE_IN_USE);
    CHECK_EQ(pt_space_destroy(&never, NULL, NULL), PT_ERR_SPACE_IN_USE);
    pt_space_select(NULL);
    CHECK_EQ(pt_space_destroy(&b, NULL, NULL), PT_OK);
    CHECK_EQ(pt_space_destroy(&b, NULL, NULL), PT_ERR_SPACE_IN_USE);   /* twice */
    pt_space_activate(NULL);
    CHECK_EQ(pt_space_destroy(&a, NULL, NULL), PT_OK);
    CHECK(strcmp(pt_status_name(PT_ERR_SPACE_IN_USE), "address space in use") == 0, "name");
}

/* The user half's last page maps; one page further is non-canonical; the
 * first page of the kernel half goes to the kernel's tables, not the
 * space's. */
static void test_the_user_halfs_end_at_below_and_above(void)
{
    boot();
    struct pt_space as;
    CHECK_EQ(pt_space_create(&as), PT_OK);
    pt_space_select(&as);
    paddr_t f = frame();
    CHECK_EQ(pt_map(vaddr(USER_LAST_PAGE - PAGE_SIZE), f, PAGE_SIZE, PT_PROT_USER, NULL), PT_OK);
    CHECK_EQ(pt_map(vaddr(USER_LAST_PAGE), f, PAGE_SIZE, PT_PROT_USER, NULL), PT_OK);
    CHECK_EQ(pt_map(vaddr(USER_END), f, PAGE_SIZE, PT_PROT_USER, NULL), PT_ERR_NONCANONICAL);
    CHECK_EQ(pt_map_range(vaddr(USER_LAST_PAGE), f, 2 * PAGE_SIZE, PT_PROT_USER, 0, NULL),
             PT_ERR_NONCANONICAL);
    CHECK(pml4_of(&as)[PT_ENTRIES / 2 - 1] & PTE_P, "slot 255 is the space's");
    CHECK_EQ(((pte_t *)fake_phys(pt_kernel_space.root.pa))[PT_ENTRIES / 2 - 1], 0);
    CHECK_EQ(pt_unmap_range(vaddr(USER_LAST_PAGE - PAGE_SIZE), 2 * PAGE_SIZE), PT_OK);
    pt_space_select(NULL);
    CHECK_EQ(pt_space_destroy(&as, NULL, NULL), PT_OK);
    CHECK_EQ(pmm_free(PMM_ZONE_GENERAL, f), PMM_OK);
}

#if defined(FAKE_STRATEGY_IS_IDENTITY) || defined(FAKE_STRATEGY_IS_TABLE_OFFSET)
/* The pool strategies' tables come from the pool only: with n frames left,
 * exactly n spaces are made (a PML4 each), the next is refused by name,
 * and the pool is whole again once they are gone. */
static void test_the_pool_runs_out_of_spaces_by_name_and_recovers(void)
{
    boot();
    struct pmm_counters c;
    pmm_get_counters(PMM_ZONE_TABLE_POOL, &c);
    uint64_t n = c.free;
    static struct pt_space sp[TABLE_POOL_PAGES + 1];
    CHECK(n > 0 && n <= TABLE_POOL_PAGES, "pool has %llu free", (unsigned long long)n);
    for (uint64_t i = 0; i < n; i++)
        if (!CHECK_EQ(pt_space_create(&sp[i]), PT_OK))
            return;
    CHECK_EQ(pt_space_create(&sp[n]), PT_ERR_NO_FRAMES);
    /* a map in one of them now fails by name too, and leaves nothing */
    pt_space_select(&sp[0]);
    CHECK_EQ(pt_map(vaddr(USER_BASE), paddr(0x400000), PAGE_SIZE, PT_PROT_USER, NULL),
             PT_ERR_NO_FRAMES);
    pt_space_select(NULL);
    for (uint64_t i = n; i-- > 0;)
        CHECK_EQ(pt_space_destroy(&sp[i], NULL, NULL), PT_OK);
    pmm_get_counters(PMM_ZONE_TABLE_POOL, &c);
    CHECK_EQ(c.free, n);
}
#endif

/* next_leaf lists a space's own leaves in address order, each once, with
 * the effective prot; a huge page straddling `from` is skipped; and a copy
 * that maps into another space between two calls (fork's pattern) sees
 * every leaf. */
static void test_next_leaf_lists_every_leaf_in_order_while_another_space_is_edited(void)
{
    boot();
    struct pt_space a, b;
    CHECK_EQ(pt_space_create(&a), PT_OK);
    CHECK_EQ(pt_space_create(&b), PT_OK);
    pt_space_select(&a);
    paddr_t f[PAGES];
    map_pages(f, 0);
    paddr_t huge = paddr(0x2000000);        /* 32 MiB: 2 MiB aligned, inside the arena */
    const uint64_t huge_va = USER_BASE + 0x40000000ULL;
    CHECK_EQ(pt_map(vaddr(huge_va), huge, PAGE_SIZE_2M, PT_PROT_USER, NULL), PT_OK);
    paddr_t top = frame();
    CHECK_EQ(pt_map(vaddr(USER_LAST_PAGE), top, PAGE_SIZE, PT_PROT_USER | PT_PROT_EXEC, NULL),
             PT_OK);
    pt_space_select(NULL);
    struct pt_leaf l;
    unsigned n = 0;
    uint64_t last = 0;
    for (vaddr_t at = vaddr(0); pt_space_next_leaf(&a, at, &l) == PT_OK; at = vaddr(l.va.va + l.size)) {
        if (!CHECK(l.va.va >= last, "out of order at 0x%llx", (unsigned long long)l.va.va))
            break;
        last = l.va.va + l.size;
        if (n < PAGES) {
            CHECK_EQ(l.va.va, USER_BASE + n * PAGE_SIZE);
            CHECK_EQ(l.frame.pa, f[n].pa);
            CHECK_EQ(l.prot, PT_PROT_USER | PT_PROT_WRITE);
        } else if (n == PAGES) {
            CHECK_EQ(l.va.va, huge_va);
            CHECK_EQ(l.size, PAGE_SIZE_2M);
            CHECK_EQ(l.frame.pa, huge.pa);
        } else {
            CHECK_EQ(l.va.va, USER_LAST_PAGE);
            CHECK_EQ(l.prot, PT_PROT_USER | PT_PROT_EXEC);
        }
        /* fork's pattern: a map into b between two calls */
        pt_space_select(&b);
        CHECK_EQ(pt_map(l.va, l.frame, l.size, l.prot, NULL), PT_OK);
        pt_space_select(NULL);
        n++;
    }
    CHECK_EQ(n, PAGES + 2);
    /* from inside the huge page: it is skipped, the next leaf comes */
    CHECK_EQ(pt_space_next_leaf(&a, vaddr(huge_va + PAGE_SIZE), &l), PT_OK);
    CHECK_EQ(l.va.va, USER_LAST_PAGE);
    /* from past the last leaf, and from the end of the user half */
    CHECK_EQ(pt_space_next_leaf(&a, vaddr(USER_LAST_PAGE + 1), &l), PT_ERR_UNMAPPED);
    CHECK_EQ(pt_space_next_leaf(&a, vaddr(USER_END), &l), PT_ERR_UNMAPPED);
    CHECK_EQ(pt_space_next_leaf(&a, vaddr(USER_END - 1), &l), PT_ERR_UNMAPPED);
    /* the kernel's slots are never listed */
    CHECK_EQ(pt_space_next_leaf(&pt_kernel_space, vaddr(0), &l) == PT_OK &&
             l.va.va < USER_BASE, 0);
    /* b got the same leaves */
    struct pt_translation t;
    pt_space_select(&b);
    CHECK_EQ(pt_translate(vaddr(USER_BASE + 7 * PAGE_SIZE), &t), PT_OK);
    CHECK_EQ(t.pa.pa, f[7].pa);
    CHECK_EQ(pt_translate(vaddr(huge_va + 0x1234), &t), PT_OK);
    CHECK_EQ(t.pa.pa, huge.pa + 0x1234);
    pt_space_select(NULL);
}

/* ---- pt_space_clone and pt_remap (fork and the fault handler) ---- */

/* The level-`level` entry on va's path in as, read from the arena (not
 * through the core), or NULL if a table above is missing or a leaf. */
static pte_t *space_entry(const struct pt_space *as, unsigned level, uint64_t va)
{
    return fake_entry_in(as->root.pa, level, va);
}

/* The leaf entry of va in as without the count bits, 0 if none. */
static pte_t leaf_of(const struct pt_space *as, uint64_t va)
{
    pte_t *e = space_entry(as, 1, va);
    return e && (*e & PTE_P) ? *e & ~PT_COUNT_MASK : 0;
}

static unsigned count_in(pte_t e0)
{
    return (unsigned)(((e0 >> PT_COUNT_LO_SHIFT) & PT_COUNT_LO_ONES) |
                      (((e0 >> PT_COUNT_HI_SHIFT) & PT_COUNT_HI_ONES) << PT_COUNT_LO_WIDTH));
}

/* Every table of as's own slots below level 4 holds the count of its used
 * entries in entry 0 (present, or at level 1 swap entries); returns how
 * many tables disagree. */
static unsigned bad_counts(unsigned level, const pte_t *t, unsigned first, unsigned end)
{
    unsigned bad = 0, n = 0;
    for (unsigned i = 0; i < PT_ENTRIES; i++)
        n += (t[i] & PTE_P) != 0 || (level == 1 && pte_is_swap(t[i]));
    if (level < PT_LEVELS && count_in(t[0]) != n)
        bad++;
    for (unsigned i = first; level > 1 && i < end; i++)
        if ((t[i] & PTE_P) && !(level < PT_LEVELS && (t[i] & PTE_PS)))
            bad += bad_counts(level - 1, fake_phys(t[i] & PTE_ADDR_MASK), 0, PT_ENTRIES);
    return bad;
}

static unsigned space_bad_counts(const struct pt_space *as)
{
    return bad_counts(PT_LEVELS, fake_phys(as->root.pa), 1, PT_ENTRIES / 2);
}

/* A frame that only the entries name (never read or written): beyond the
 * arena, inside the physical width. */
static paddr_t fake_frame(uint64_t i) { return paddr(0x40000000ULL + i * PAGE_SIZE); }

/* What leaves() saw: how many leaves (calls: one per new reference, as
 * fork counts them) and swap entries (swaps: one more reference to a
 * slot each), in how many calls (tables), each frame in order, and the
 * calls that broke the contract: 1 to PT_ENTRIES entries, ending with a
 * leaf or a swap entry, everything else exactly 0. */
#define REFS_MAX 4096
struct refs {
    unsigned calls, swaps, tables, bad_calls;
    paddr_t frames[REFS_MAX];
};

static void count_ref(const pte_t *leaf, unsigned n, void *ctx)
{
    struct refs *r = ctx;
    r->tables++;
    r->bad_calls += n == 0 || n > PT_ENTRIES || leaf[n - 1] == 0;
    for (unsigned k = 0; k < n; k++) {
        if (pte_is_swap(leaf[k])) {
            r->swaps++;
            r->bad_calls += (leaf[k] & ~(PTE_SWAP | PTE_SWAP_SLOT_MASK)) != 0;
            continue;
        }
        if (!(leaf[k] & PTE_P)) {
            r->bad_calls += leaf[k] != 0;
            continue;
        }
        if (r->calls < REFS_MAX)
            r->frames[r->calls] = paddr(leaf[k] & PTE_ADDR_MASK);
        r->calls++;
    }
}

static struct refs refs;

/*
 * The clone range: from page 500 of one PT to page 100 of another, across
 * a level-2 boundary with no PT at all (a 2 MiB hole), full PTs, and a
 * level-3 boundary (a second PD). In pages from REGION (3 PTs below a
 * 1 GiB boundary): PT 0 pages 490-511 mapped (490-499 before the range),
 * PT 1 nothing, PT 2 and PT 3 (past 1 GiB) every page but the holes, PT 4
 * pages 0-120 (100-120 after the range). Page p is a hole if p % 7 == 3,
 * read-only if p % 3 == 0, else writable; all user.
 */
#define REGION        (USER_BASE + PT_LEVEL_SPAN(3) - 3 * PT_LEVEL_SPAN(2))
#define RANGE_FIRST   500u
#define RANGE_END     (4u * PT_ENTRIES + 100u)
#define REGION_PAGES  (4u * PT_ENTRIES + 121u)
#define RANGE_TABLES  7u     /* a PDPT, two PDs, four PTs */
#define RANGE_PTS     4u     /* PT 0, 2, 3 and 4 hold leaves of the range */

static uint64_t page_va(unsigned p) { return REGION + (uint64_t)p * PAGE_SIZE; }

static bool page_mapped(unsigned p)
{
    unsigned pt = p / PT_ENTRIES, i = p % PT_ENTRIES;
    if (pt == 0)
        return i >= 490;
    return pt != 1 && p % 7 != 3 && p < REGION_PAGES;
}

static uint32_t page_prot(unsigned p)
{
    return PT_PROT_USER | (p % 3 == 0 ? 0 : PT_PROT_WRITE);
}

static bool page_in_range(unsigned p) { return p >= RANGE_FIRST && p < RANGE_END; }

/* Maps the region into the selected space; returns how many pages in the
 * range are mapped and, in *writable, how many of those are writable. */
static unsigned map_region(unsigned *writable)
{
    unsigned n = 0, w = 0;
    for (unsigned p = 0; p < REGION_PAGES; p++) {
        if (!page_mapped(p))
            continue;
        if (!CHECK_EQ(pt_map(vaddr(page_va(p)), fake_frame(p), PAGE_SIZE, page_prot(p), NULL),
                      PT_OK))
            break;
        if (page_in_range(p)) {
            n++;
            w += (page_prot(p) & PT_PROT_WRITE) != 0;
        }
    }
    *writable = w;
    return n;
}

static pte_t region_snapshot[REGION_PAGES];

static void snapshot(const struct pt_space *as)
{
    for (unsigned p = 0; p < REGION_PAGES; p++)
        region_snapshot[p] = leaf_of(as, page_va(p));
}

static vaddr_t range_va(void) { return vaddr(page_va(RANGE_FIRST)); }
static uint64_t range_len(void) { return (uint64_t)(RANGE_END - RANGE_FIRST) * PAGE_SIZE; }

static uint64_t own_invlpgs_now(void) { return fake_cpu.own_invlpgs; }

static struct pt_op_stats op_now(enum pt_op op)
{
    struct pt_stats st;
    pt_stats_get(&st);
    return st.op[op];
}

/* Each mode, src inactive: every leaf in the range is in dst with src's
 * frame and bits, W gone in both for a writable leaf under COW and kept
 * under SHARE; nothing outside the range; leaf() once per leaf, in address
 * order; exactly the tables the range needs; counts right; no
 * invalidation at all (rule 6); dst destroyed gives back every table. */
static void clone_inactive(uint32_t opts)
{
    boot();
    struct pt_space src, dst;
    CHECK_EQ(pt_space_create(&src), PT_OK);
    CHECK_EQ(pt_space_create(&dst), PT_OK);
    pt_space_select(&src);
    unsigned writable, n = map_region(&writable);
    pt_space_select(NULL);
    snapshot(&src);
    uint64_t tables = used(strategy_table_zone());
    uint64_t inv = fake_cpu.invlpgs, fl = fake_cpu.flushes, cr3w = fake_cpu.cr3_writes;
    struct pt_op_stats s0 = op_now(PT_OP_CLONE);
    uint64_t own0 = own_invlpgs_now();
    refs.calls = refs.swaps = refs.tables = refs.bad_calls = 0;
    uint64_t copied = 99;
    CHECK_EQ(pt_space_clone(&dst, &src, range_va(), range_len(), opts, count_ref, &refs,
                            &copied), PT_OK);
    struct pt_op_stats s1 = op_now(PT_OP_CLONE);
    CHECK_EQ(copied, n);
    CHECK_EQ(refs.calls, n);
    CHECK_EQ(refs.tables, RANGE_PTS);                       /* one call per PT of dst */
    CHECK_EQ(refs.bad_calls, 0);
    CHECK_EQ(refs.swaps, 0);                                /* src has none */
    CHECK(n > PT_ENTRIES, "the range has %u leaves", n);     /* several PTs' worth */
    CHECK_EQ(fake_cpu.invlpgs, inv);                        /* rule 6 */
    CHECK_EQ(fake_cpu.flushes, fl);
    CHECK_EQ(fake_cpu.cr3_writes, cr3w);
    CHECK_EQ(s1.calls - s0.calls, 1);
    CHECK_EQ(s1.invlpgs - s0.invlpgs, own_invlpgs_now() - own0); /* temporary's slots only */
    CHECK_EQ(s1.full_flushes - s0.full_flushes, 0);
    CHECK_EQ(s1.tables_allocated - s0.tables_allocated, RANGE_TABLES);
    CHECK_EQ(used(strategy_table_zone()), tables + RANGE_TABLES);
    CHECK_EQ(pt_space_tables(&dst), RANGE_TABLES);
    unsigned k = 0, wrong = 0;
    for (unsigned p = 0; p < REGION_PAGES; p++) {
        pte_t was = region_snapshot[p], s = leaf_of(&src, page_va(p)), d = leaf_of(&dst, page_va(p));
        pte_t want = was;
        if (page_in_range(p) && (opts & PT_CLONE_COW))
            want &= ~PTE_W;
        if (!page_mapped(p)) {
            wrong += s != 0 || d != 0;
            continue;
        }
        wrong += !CHECK(s == want, "src page %u: 0x%llx, want 0x%llx", p, (unsigned long long)s,
                        (unsigned long long)want);
        if (!page_in_range(p)) {
            wrong += !CHECK(d == 0, "dst page %u outside the range: 0x%llx", p,
                            (unsigned long long)d);
            continue;
        }
        wrong += !CHECK(d == want, "dst page %u: 0x%llx, want 0x%llx", p, (unsigned long long)d,
                        (unsigned long long)want);
        wrong += !CHECK(k < n && refs.frames[k].pa == fake_frame(p).pa, "leaves() frame %u", k);
        k++;
        if (wrong > 4)
            break;
    }
    CHECK_EQ(k, n);
    CHECK_EQ(space_bad_counts(&dst), 0);
    CHECK_EQ(space_bad_counts(&src), 0);
    /* the core's own walk agrees, effective permissions included */
    pt_space_select(&dst);
    struct pt_translation t;
    unsigned p = 2 * PT_ENTRIES + 3;
    CHECK(page_mapped(p) && (page_prot(p) & PT_PROT_WRITE), "page %u is writable in src", p);
    CHECK_EQ(pt_translate(vaddr(page_va(p) + 0x10), &t), PT_OK);
    CHECK_EQ(t.pa.pa, fake_frame(p).pa + 0x10);
    CHECK_EQ(pt_tr_prot(&t), PT_PROT_USER | ((opts & PT_CLONE_COW) ? 0 : PT_PROT_WRITE));
    unsigned last_pt = 0;
    for (unsigned q = 4 * PT_ENTRIES; q < RANGE_END; q++)
        last_pt += page_mapped(q);
    CHECK_EQ(pt_table_used(1, vaddr(page_va(4 * PT_ENTRIES))), last_pt);
    pt_space_select(NULL);
    (void)writable;
    struct freed fr = { 0, 0 };
    CHECK_EQ(pt_space_destroy(&dst, NULL, &fr), PT_OK);
    CHECK_EQ(used(strategy_table_zone()), tables - 1);     /* its PML4 went too */
}

static void test_clone_cow_of_an_inactive_space_copies_every_leaf_and_invalidates_nothing(void)
{
    clone_inactive(PT_CLONE_COW);
}

static void test_clone_share_of_an_inactive_space_copies_every_leaf_unchanged(void)
{
    clone_inactive(PT_CLONE_SHARE);
}

/* Active src, COW: n writable leaves among read-only ones lose W, each
 * invalidated once up to PT_FLUSH_THRESHOLD, one full flush above it
 * (rules 2 and 3), before the call returns; read-only leaves cost
 * nothing; SHARE costs nothing whatever is writable. */
static void clone_active(unsigned n_writable, uint32_t opts)
{
    boot();
    struct pt_space src, dst;
    CHECK_EQ(pt_space_create(&src), PT_OK);
    CHECK_EQ(pt_space_create(&dst), PT_OK);
    pt_space_activate(&src);
    pt_space_select(&src);
    /* writable pages at the odd places while they last, read-only between */
    const unsigned ro = 5, total = n_writable + ro;
    unsigned w_left = n_writable, ro_left = ro;
    for (unsigned i = 0; i < total; i++) {
        bool w = (i % 2 == 1 && w_left > 0) || ro_left == 0;
        w ? w_left-- : ro_left--;
        CHECK_EQ(pt_map(vaddr(USER_BASE + (uint64_t)i * PAGE_SIZE), fake_frame(i), PAGE_SIZE,
                        PT_PROT_USER | (w ? PT_PROT_WRITE : 0), NULL), PT_OK);
    }
    unsigned w = 0;
    for (unsigned i = 0; i < total; i++)
        w += (leaf_of(&src, USER_BASE + (uint64_t)i * PAGE_SIZE) & PTE_W) != 0;
    CHECK_EQ(w, n_writable);
    uint64_t inv = fake_cpu.invlpgs, fl = fake_cpu.flushes, own0 = own_invlpgs_now();
    struct pt_op_stats s0 = op_now(PT_OP_CLONE);
    uint64_t copied;
    CHECK_EQ(pt_space_clone(&dst, &src, vaddr(USER_BASE), (uint64_t)total * PAGE_SIZE, opts,
                            NULL, NULL, &copied), PT_OK);
    struct pt_op_stats s1 = op_now(PT_OP_CLONE);
    unsigned lost = (opts & PT_CLONE_COW) ? n_writable : 0;
    uint64_t want_inv = lost <= PT_FLUSH_THRESHOLD ? lost : 0;
    uint64_t want_fl = lost > PT_FLUSH_THRESHOLD ? 1 : 0;
    CHECK_EQ(copied, total);
    CHECK_EQ(fake_cpu.invlpgs - inv, want_inv);
    CHECK_EQ(fake_cpu.flushes - fl, want_fl);
    CHECK_EQ(s1.invlpgs - s0.invlpgs - (own_invlpgs_now() - own0), want_inv);
    CHECK_EQ(s1.full_flushes - s0.full_flushes, want_fl);
    if (lost == 1)
        CHECK_EQ(fake_cpu.last_invlpg, USER_BASE + PAGE_SIZE);   /* the one writable page */
    w = 0;
    for (unsigned i = 0; i < total; i++)
        w += (leaf_of(&src, USER_BASE + (uint64_t)i * PAGE_SIZE) & PTE_W) != 0;
    CHECK_EQ(w, n_writable - lost);
    CHECK(pt_space_selected() == &src && pt_space_active() == &src, "selection kept");
    pt_space_select(NULL);
    pt_space_activate(NULL);
}

static void test_clone_cow_of_the_active_space_with_no_writable_leaf_invalidates_nothing(void)
{
    clone_active(0, PT_CLONE_COW);
}

static void test_clone_cow_of_the_active_space_invalidates_one_writable_leaf_once(void)
{
    clone_active(1, PT_CLONE_COW);
}

static void test_clone_cow_of_the_active_space_at_the_threshold_invalidates_each(void)
{
    clone_active(PT_FLUSH_THRESHOLD, PT_CLONE_COW);
}

static void test_clone_cow_of_the_active_space_above_the_threshold_flushes_once(void)
{
    clone_active(PT_FLUSH_THRESHOLD + 1, PT_CLONE_COW);
}

static void test_clone_share_of_the_active_space_invalidates_nothing(void)
{
    clone_active(PT_FLUSH_THRESHOLD + 1, PT_CLONE_SHARE);
}

/* Two regions of one PT cloned one after the other (fork's text, then its
 * data): the second writes into dst's existing PT, no new table, the
 * count the sum. */
static void test_clone_of_a_second_region_fills_the_table_the_first_made(void)
{
    boot();
    struct pt_space src, dst;
    CHECK_EQ(pt_space_create(&src), PT_OK);
    CHECK_EQ(pt_space_create(&dst), PT_OK);
    pt_space_select(&src);
    CHECK_EQ(pt_map_range(vaddr(USER_BASE), fake_frame(0), 20 * PAGE_SIZE, PT_PROT_USER, 0,
                          NULL), PT_OK);
    pt_space_select(NULL);
    uint64_t c1, c2;
    CHECK_EQ(pt_space_clone(&dst, &src, vaddr(USER_BASE), 8 * PAGE_SIZE, PT_CLONE_COW, NULL,
                            NULL, &c1), PT_OK);
    CHECK_EQ(pt_space_tables(&dst), 3);
    CHECK_EQ(pt_space_clone(&dst, &src, vaddr(USER_BASE + 8 * PAGE_SIZE), 12 * PAGE_SIZE,
                            PT_CLONE_COW, NULL, NULL, &c2), PT_OK);
    CHECK_EQ(c1, 8);
    CHECK_EQ(c2, 12);
    CHECK_EQ(pt_space_tables(&dst), 3);
    pt_space_select(&dst);
    CHECK_EQ(pt_table_used(1, vaddr(USER_BASE)), 20);
    pt_space_select(NULL);
    CHECK_EQ(space_bad_counts(&dst), 0);
    for (unsigned i = 0; i < 20; i++)
        if (!CHECK_EQ(leaf_of(&dst, USER_BASE + i * PAGE_SIZE), leaf_of(&src, USER_BASE + i * PAGE_SIZE)))
            break;
    /* cloning again over what is there is refused before any change */
    refs.calls = 0;
    CHECK_EQ(pt_space_clone(&dst, &src, vaddr(USER_BASE + 19 * PAGE_SIZE), 2 * PAGE_SIZE,
                            PT_CLONE_COW, count_ref, &refs, NULL), PT_ERR_ALREADY_MAPPED);
    CHECK_EQ(refs.calls, 0);
}

/* A 2 MiB leaf (and with 1 GiB pages a 1 GiB one) anywhere in the range:
 * refused before any change, in src, dst, the counters and the TLB. */
static void clone_huge(uint64_t size)
{
    boot();
    struct pt_space src, dst;
    CHECK_EQ(pt_space_create(&src), PT_OK);
    CHECK_EQ(pt_space_create(&dst), PT_OK);
    pt_space_activate(&src);
    pt_space_select(&src);
    for (unsigned i = 0; i < 40; i++)
        CHECK_EQ(pt_map(vaddr(USER_BASE + i * PAGE_SIZE), fake_frame(i), PAGE_SIZE,
                        PT_PROT_USER | PT_PROT_WRITE, NULL), PT_OK);
    uint64_t huge_va = USER_BASE + 4 * PT_LEVEL_SPAN(3);
    CHECK_EQ(pt_map(vaddr(huge_va), paddr(size), size, PT_PROT_USER | PT_PROT_WRITE, NULL),
             PT_OK);
    pt_space_select(NULL);
    pte_t before[40];
    for (unsigned i = 0; i < 40; i++)
        before[i] = leaf_of(&src, USER_BASE + i * PAGE_SIZE);
    uint64_t inv = fake_cpu.invlpgs, fl = fake_cpu.flushes, tables = used(strategy_table_zone());
    refs.calls = 0;
    uint64_t copied = 7;
    CHECK_EQ(pt_space_clone(&dst, &src, vaddr(USER_BASE), huge_va + size - USER_BASE,
                            PT_CLONE_COW, count_ref, &refs, &copied), PT_ERR_HUGE_IN_WAY);
    CHECK_EQ(copied, 0);
    CHECK_EQ(refs.calls, 0);
    CHECK_EQ(pt_space_tables(&dst), 0);
    CHECK_EQ(used(strategy_table_zone()), tables);
    CHECK_EQ(fake_cpu.invlpgs, inv);
    CHECK_EQ(fake_cpu.flushes, fl);
    for (unsigned i = 0; i < 40; i++)
        if (!CHECK_EQ(leaf_of(&src, USER_BASE + i * PAGE_SIZE), before[i]))
            break;
    /* a range that ends just below the huge leaf is fine */
    CHECK_EQ(pt_space_clone(&dst, &src, vaddr(USER_BASE), huge_va - USER_BASE, PT_CLONE_COW,
                            NULL, NULL, &copied), PT_OK);
    CHECK_EQ(copied, 40);
    pt_space_activate(NULL);
}

static void test_clone_refuses_a_2m_leaf_in_the_range_before_any_change(void)
{
    clone_huge(PAGE_SIZE_2M);
}

static void test_clone_refuses_a_1g_leaf_in_the_range_before_any_change(void)
{
    clone_huge(PAGE_SIZE_1G);
}

static void test_clone_refuses_bad_arguments_by_name(void)
{
    boot();
    struct pt_space src, dst, dead = { paddr(0), NULL };
    CHECK_EQ(pt_space_create(&src), PT_OK);
    CHECK_EQ(pt_space_create(&dst), PT_OK);
    vaddr_t va = vaddr(USER_BASE);
    CHECK_EQ(pt_space_clone(&dst, &src, va, PAGE_SIZE, 2, NULL, NULL, NULL), PT_ERR_BAD_PROT);
    CHECK_EQ(pt_space_clone(&src, &src, va, PAGE_SIZE, 0, NULL, NULL, NULL), PT_ERR_SPACE_IN_USE);
    CHECK_EQ(pt_space_clone(&pt_kernel_space, &src, va, PAGE_SIZE, 0, NULL, NULL, NULL),
             PT_ERR_SPACE_IN_USE);
    CHECK_EQ(pt_space_clone(&dead, &src, va, PAGE_SIZE, 0, NULL, NULL, NULL), PT_ERR_SPACE_IN_USE);
    CHECK_EQ(pt_space_clone(&dst, &dead, va, PAGE_SIZE, 0, NULL, NULL, NULL), PT_ERR_SPACE_IN_USE);
    pt_space_activate(&dst);
    CHECK_EQ(pt_space_clone(&dst, &src, va, PAGE_SIZE, 0, NULL, NULL, NULL), PT_ERR_SPACE_IN_USE);
    pt_space_activate(NULL);
    CHECK_EQ(pt_space_clone(&dst, &src, vaddr(USER_BASE + 8), PAGE_SIZE, 0, NULL, NULL, NULL),
             PT_ERR_MISALIGNED);
    CHECK_EQ(pt_space_clone(&dst, &src, va, 8, 0, NULL, NULL, NULL), PT_ERR_MISALIGNED);
    CHECK_EQ(pt_space_clone(&dst, &src, va, 0, 0, NULL, NULL, NULL), PT_ERR_BAD_RANGE);
    /* slot 0 and the upper half are the kernel's: at, below and above */
    CHECK_EQ(pt_space_clone(&dst, &src, vaddr(USER_BASE - PAGE_SIZE), PAGE_SIZE, 0, NULL, NULL,
                            NULL), PT_ERR_BAD_RANGE);
    CHECK_EQ(pt_space_clone(&dst, &src, vaddr(USER_BASE - PAGE_SIZE), 2 * PAGE_SIZE, 0, NULL,
                            NULL, NULL), PT_ERR_BAD_RANGE);
    CHECK_EQ(pt_space_clone(&dst, &src, vaddr(USER_LAST_PAGE), PAGE_SIZE, 0, NULL, NULL, NULL),
             PT_OK);
    CHECK_EQ(pt_space_clone(&dst, &src, vaddr(USER_LAST_PAGE), 2 * PAGE_SIZE, 0, NULL, NULL,
                            NULL), PT_ERR_NONCANONICAL);
    CHECK_EQ(pt_space_clone(&dst, &src, vaddr(KERNEL_FRESH), PAGE_SIZE, 0, NULL, NULL, NULL),
             PT_ERR_BAD_RANGE);
    CHECK_EQ(pt_space_tables(&dst), 0);
    CHECK(strcmp(pt_op_name(PT_OP_CLONE), "clone") == 0 && strcmp(pt_op_name(PT_OP_REMAP), "remap") == 0,
          "op names");
}

#define HELD_MAX 20000
static paddr_t held[HELD_MAX];

/* Takes every frame of the strategy's table zone but `keep`; returns how
 * many it took. */
static unsigned exhaust_tables(unsigned keep)
{
    unsigned n = 0;
    while (n < HELD_MAX && pmm_alloc(strategy_table_zone(), &held[n]) == PMM_OK)
        n++;
    CHECK(n < HELD_MAX, "the zone ran out");
    for (unsigned i = 0; i < keep && n > 0; i++)
        CHECK_EQ(pmm_free(strategy_table_zone(), held[--n]), PMM_OK);
    return n;
}

static void release_tables(unsigned n)
{
    while (n > 0)
        CHECK_EQ(pmm_free(strategy_table_zone(), held[--n]), PMM_OK);
}

struct counted {
    unsigned leaves;
};

static void count_leaf(vaddr_t va, paddr_t f, uint64_t size, void *ctx)
{
    (void)va;
    (void)f;
    (void)size;
    ((struct counted *)ctx)->leaves++;
}

/* The frame zone runs dry after `keep` of the range's 7 tables (0..6:
 * PT_ERR_NO_FRAMES midway; 7: just enough): what was copied is a correct
 * copy-on-write state (every leaf in dst reported once and equal to src's,
 * W-less in both; counts right), dst is destroyed with exactly the leaves
 * reported, and every frame comes back. */
static void clone_runs_dry(const void *arg)
{
    unsigned keep = (unsigned)(uintptr_t)arg;
    boot();
    struct pt_space src, dst;
    CHECK_EQ(pt_space_create(&src), PT_OK);
    pt_space_select(&src);
    unsigned writable, n = map_region(&writable);
    pt_space_select(NULL);
    snapshot(&src);
    uint64_t before = used_all();
    CHECK_EQ(pt_space_create(&dst), PT_OK);
    unsigned took = exhaust_tables(keep);
    refs.calls = 0;
    uint64_t copied = 0;
    enum pt_status st = pt_space_clone(&dst, &src, range_va(), range_len(), PT_CLONE_COW,
                                       count_ref, &refs, &copied);
    CHECK_EQ(st, keep >= RANGE_TABLES ? PT_OK : PT_ERR_NO_FRAMES);
    CHECK_EQ(copied, refs.calls);
    CHECK(keep >= RANGE_TABLES ? copied == n : copied < n, "copied %llu of %u",
          (unsigned long long)copied, n);
    /* what stays linked: a failed walk takes back the tables it made for
     * that PT (PDPT, PD, PT 0 | PT 2 | PD 2, PT 3 | PT 4, in that order) */
    static const unsigned linked[RANGE_TABLES + 2] = { 0, 0, 0, 3, 4, 4, 6, 7, 7 };
    CHECK_EQ(pt_space_tables(&dst), linked[keep]);
    unsigned in_dst = 0, wrong = 0;
    for (unsigned p = 0; p < REGION_PAGES && wrong < 4; p++) {
        pte_t was = region_snapshot[p], s = leaf_of(&src, page_va(p)), d = leaf_of(&dst, page_va(p));
        if (d) {
            in_dst++;
            wrong += !CHECK(page_in_range(p) && d == (was & ~PTE_W) && s == d,
                            "page %u: dst 0x%llx src 0x%llx was 0x%llx", p, (unsigned long long)d,
                            (unsigned long long)s, (unsigned long long)was);
        } else if (was) {
            /* not copied: as it was, or W-less (a correct COW state too) */
            wrong += !CHECK(s == was || s == (was & ~PTE_W), "page %u: src 0x%llx was 0x%llx", p,
                            (unsigned long long)s, (unsigned long long)was);
        }
    }
    CHECK_EQ(in_dst, copied);
    CHECK_EQ(space_bad_counts(&dst), 0);
    release_tables(took);
    struct counted c = { 0 };
    CHECK_EQ(pt_space_destroy(&dst, count_leaf, &c), PT_OK);
    CHECK_EQ(c.leaves, copied);
    CHECK_EQ(used_all(), before);
    CHECK_EQ(pmm_verify(strategy_table_zone()), PMM_OK);
}

/* ---- pt_remap ---- */

/* A leaf at index i of its PT (0: the entry holding the count) in the
 * selected space, remapped: the new frame and exactly prot's bits (A and
 * D gone), the old frame returned, the count unchanged, one INVLPG of va
 * if the space is active, none otherwise. */
static void remap_one(bool active, unsigned i)
{
    boot();
    struct pt_space as;
    CHECK_EQ(pt_space_create(&as), PT_OK);
    if (active)
        pt_space_activate(&as);
    pt_space_select(&as);
    uint64_t va = USER_BASE + PT_LEVEL_SPAN(2) + (uint64_t)i * PAGE_SIZE;
    CHECK_EQ(pt_map(vaddr(va), fake_frame(1), PAGE_SIZE, PT_PROT_USER, NULL), PT_OK);
    CHECK_EQ(pt_map(vaddr(va ^ PAGE_SIZE), fake_frame(2), PAGE_SIZE, PT_PROT_USER, NULL), PT_OK);
    *space_entry(&as, 1, va) |= PTE_A | PTE_D;              /* as the CPU would */
    int count = pt_table_used(1, vaddr(va));
    uint64_t inv = fake_cpu.invlpgs, fl = fake_cpu.flushes, tables = used(strategy_table_zone());
    struct pt_op_stats s0 = op_now(PT_OP_REMAP);
    paddr_t old = paddr(0);
    CHECK_EQ(pt_remap(vaddr(va), fake_frame(3), PT_PROT_USER | PT_PROT_WRITE, &old), PT_OK);
    struct pt_op_stats s1 = op_now(PT_OP_REMAP);
    CHECK_EQ(old.pa, fake_frame(1).pa);
    CHECK_EQ(leaf_of(&as, va), fake_frame(3).pa | PTE_P | PTE_W | PTE_U | PTE_NX);
    CHECK_EQ(leaf_of(&as, va ^ PAGE_SIZE), fake_frame(2).pa | PTE_P | PTE_U | PTE_NX);
    CHECK_EQ(pt_table_used(1, vaddr(va)), count);
    CHECK_EQ(space_bad_counts(&as), 0);
    CHECK_EQ(fake_cpu.invlpgs - inv, active ? 1 : 0);
    if (active)
        CHECK_EQ(fake_cpu.last_invlpg, va);
    CHECK_EQ(fake_cpu.flushes, fl);
    CHECK_EQ(s1.calls - s0.calls, 1);
    CHECK_EQ(s1.pte_writes - s0.pte_writes, 1);
    CHECK_EQ(s1.tables_allocated - s0.tables_allocated + s1.tables_freed - s0.tables_freed, 0);
    CHECK_EQ(used(strategy_table_zone()), tables);
    struct pt_translation t;
    CHECK_EQ(pt_translate(vaddr(va + 0x44), &t), PT_OK);
    CHECK_EQ(t.pa.pa, fake_frame(3).pa + 0x44);
    /* old may be NULL */
    CHECK_EQ(pt_remap(vaddr(va), fake_frame(4), PT_PROT_USER, NULL), PT_OK);
    CHECK_EQ(leaf_of(&as, va), fake_frame(4).pa | PTE_P | PTE_U | PTE_NX);
    pt_space_select(NULL);
    pt_space_activate(NULL);
}

static void test_remap_in_the_active_space_replaces_the_leaf_with_one_invlpg(void)
{
    remap_one(true, 5);
}

static void test_remap_of_entry_0_keeps_the_tables_count(void)
{
    remap_one(true, 0);
}

static void test_remap_in_an_inactive_space_invalidates_nothing(void)
{
    remap_one(false, 5);
}

/* Each refusal leaves the entry as it was and invalidates nothing. */
static void test_remap_refuses_by_name_and_changes_nothing(void)
{
    boot();
    struct pt_space as;
    CHECK_EQ(pt_space_create(&as), PT_OK);
    pt_space_activate(&as);
    pt_space_select(&as);
    uint64_t va = USER_BASE + PAGE_SIZE, huge = USER_BASE + 2 * PT_LEVEL_SPAN(2);
    CHECK_EQ(pt_map(vaddr(va), fake_frame(1), PAGE_SIZE, PT_PROT_USER, NULL), PT_OK);
    CHECK_EQ(pt_map(vaddr(huge), paddr(PAGE_SIZE_2M), PAGE_SIZE_2M, PT_PROT_USER, NULL), PT_OK);
    pte_t e = *space_entry(&as, 1, va), h = *space_entry(&as, 2, huge);
    uint64_t inv = fake_cpu.invlpgs, fl = fake_cpu.flushes;
    struct pt_op_stats s0 = op_now(PT_OP_REMAP);
    const struct {
        uint64_t va, pa;
        uint32_t prot;
        enum pt_status want;
    } cases[] = {
        { va + PAGE_SIZE, fake_frame(2).pa, 0, PT_ERR_UNMAPPED },       /* a hole in the PT */
        { USER_BASE + PT_LEVEL_SPAN(3), fake_frame(2).pa, 0, PT_ERR_UNMAPPED }, /* no table */
        { huge, fake_frame(2).pa, 0, PT_ERR_NOT_LEAF_OF_SIZE },
        { huge + PAGE_SIZE, fake_frame(2).pa, 0, PT_ERR_NOT_LEAF_OF_SIZE },
        { va, fake_frame(2).pa, PT_PROT_ALL + 1, PT_ERR_BAD_PROT },
        { va + 8, fake_frame(2).pa, 0, PT_ERR_MISALIGNED },
        { va, fake_frame(2).pa + 8, 0, PT_ERR_MISALIGNED },
        { va, 1ULL << 52, 0, PT_ERR_BAD_PHYS },
        { 0x0000900000000000ULL, fake_frame(2).pa, 0, PT_ERR_NONCANONICAL },
    };
    for (unsigned c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        paddr_t old = paddr(77);
        CHECK(pt_remap(vaddr(cases[c].va), paddr(cases[c].pa), cases[c].prot, &old) ==
                  cases[c].want, "case %u", c);
        CHECK(old.pa == 77, "case %u wrote *old", c);
    }
    struct pt_region r = strategy_reserved();
    if (r.size)
        CHECK_EQ(pt_remap(r.base, fake_frame(2), 0, NULL), PT_ERR_RESERVED_RANGE);
    CHECK_EQ(*space_entry(&as, 1, va), e);
    CHECK_EQ(*space_entry(&as, 2, huge), h);
    CHECK_EQ(fake_cpu.invlpgs, inv);
    CHECK_EQ(fake_cpu.flushes, fl);
    CHECK_EQ(op_now(PT_OP_REMAP).pte_writes, s0.pte_writes);
    pt_space_select(NULL);
    pt_space_activate(NULL);
}

static const struct check_test tests[] = {
    CHECK_TEST(test_next_leaf_lists_every_leaf_in_order_while_another_space_is_edited),
    CHECK_TEST(test_a_new_space_is_an_empty_lower_half_and_the_kernels_upper_half),
    CHECK_TEST(test_edits_of_an_inactive_space_reach_only_it_and_invalidate_nothing),
    CHECK_TEST(test_the_same_edits_in_the_active_space_invalidate),
    CHECK_TEST(test_once_active_the_mmu_walks_what_was_built),
    CHECK_TEST(test_a_kernel_mapping_made_before_is_in_every_new_space),
    CHECK_TEST(test_a_kernel_pdpt_linked_later_reaches_every_space_and_stays),
    CHECK_TEST(test_without_other_spaces_an_emptied_kernel_pdpt_is_freed),
    CHECK_TEST(test_destroy_gives_back_exactly_what_the_space_took),
    CHECK_TEST(test_tables_by_level_count_each_levels_tables_of_the_space),
    CHECK_TEST(test_destroy_refuses_the_kernels_the_active_the_selected_and_a_dead_space),
    CHECK_TEST(test_the_user_halfs_end_at_below_and_above),
#if defined(FAKE_STRATEGY_IS_IDENTITY) || defined(FAKE_STRATEGY_IS_TABLE_OFFSET)
    CHECK_TEST(test_the_pool_runs_out_of_spaces_by_name_and_recovers),
#endif
    CHECK_TEST(test_clone_cow_of_an_inactive_space_copies_every_leaf_and_invalidates_nothing),
    CHECK_TEST(test_clone_share_of_an_inactive_space_copies_every_leaf_unchanged),
    CHECK_TEST(test_clone_cow_of_the_active_space_with_no_writable_leaf_invalidates_nothing),
    CHECK_TEST(test_clone_cow_of_the_active_space_invalidates_one_writable_leaf_once),
    CHECK_TEST(test_clone_cow_of_the_active_space_at_the_threshold_invalidates_each),
    CHECK_TEST(test_clone_cow_of_the_active_space_above_the_threshold_flushes_once),
    CHECK_TEST(test_clone_share_of_the_active_space_invalidates_nothing),
    CHECK_TEST(test_clone_of_a_second_region_fills_the_table_the_first_made),
    CHECK_TEST(test_clone_refuses_a_2m_leaf_in_the_range_before_any_change),
    CHECK_TEST(test_clone_refuses_a_1g_leaf_in_the_range_before_any_change),
    CHECK_TEST(test_clone_refuses_bad_arguments_by_name),
    CHECK_CASE("clone_runs_dry_with_no_table_left", clone_runs_dry, (const void *)0),
    CHECK_CASE("clone_runs_dry_after_1_table", clone_runs_dry, (const void *)1),
    CHECK_CASE("clone_runs_dry_after_2_tables", clone_runs_dry, (const void *)2),
    CHECK_CASE("clone_runs_dry_after_3_tables", clone_runs_dry, (const void *)3),
    CHECK_CASE("clone_runs_dry_after_4_tables", clone_runs_dry, (const void *)4),
    CHECK_CASE("clone_runs_dry_after_5_tables", clone_runs_dry, (const void *)5),
    CHECK_CASE("clone_runs_dry_one_table_short", clone_runs_dry, (const void *)6),
    CHECK_CASE("clone_has_just_enough_tables", clone_runs_dry, (const void *)7),
    CHECK_CASE("clone_has_one_table_to_spare", clone_runs_dry, (const void *)8),
    CHECK_TEST(test_remap_in_the_active_space_replaces_the_leaf_with_one_invlpg),
    CHECK_TEST(test_remap_of_entry_0_keeps_the_tables_count),
    CHECK_TEST(test_remap_in_an_inactive_space_invalidates_nothing),
    CHECK_TEST(test_remap_refuses_by_name_and_changes_nothing),
};

int main(void)
{
    return check_main("space", tests, CHECK_COUNT(tests));
}
