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
    CHECK_TEST(test_destroy_refuses_the_kernels_the_active_the_selected_and_a_dead_space),
    CHECK_TEST(test_the_user_halfs_end_at_below_and_above),
#if defined(FAKE_STRATEGY_IS_IDENTITY) || defined(FAKE_STRATEGY_IS_TABLE_OFFSET)
    CHECK_TEST(test_the_pool_runs_out_of_spaces_by_name_and_recovers),
#endif
};

int main(void)
{
    return check_main("space", tests, CHECK_COUNT(tests));
}
