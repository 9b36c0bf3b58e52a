/*
 * test_swap.c - host tests of swap entries (include/pte.h; kernel/mm/
 * pt_swap.c, and what pt_walk.c, pt_range.c, pt_space.c, pt_clone.c,
 * pt_visit.c and pt_dump.c do with them) with the strategy the test is
 * built with (tests/host/paging.mk), over fake_cpu.c's simulated machine:
 * pt_entry_get, pt_swap_out, pt_swap_in and pt_swap_clear each succeed
 * with the exact entry, count, invalidations and counters, and refuse
 * every wrong argument and every wrong kind of entry (empty, present,
 * swap, huge, no table) by name, changing nothing; a swap entry keeps
 * its table alive and nothing maps over it; fork's clone copies swap
 * entries and counts them; destroy reports each once, or panics by name
 * without a callback; the next-swap search keeps order and limit; the
 * recount and the dumps know them.
 *
 * The panic is caught in a child process (as test_frame_meta.c does):
 * fake_cpu.c's kpanic prints "PANIC: <message>" on stderr and aborts.
 */
#include <signal.h>
#include <string.h>
#include <sys/wait.h>

#include "check.h"
#include "fake_cpu.h"
#include "layout.h"
#include "pmm.h"
#include "pt.h"
#include "strategy.h"
#include "tlb.h"

#define FEATURES ((1u << CPU_NX) | (1u << CPU_PAGE1GB))
#define SPAN1 PT_LEVEL_SPAN(1)
#define SPAN2 PT_LEVEL_SPAN(2)
#define SPAN3 PT_LEVEL_SPAN(3)
#define USER_LAST_PAGE (USER_END - PAGE_SIZE)
#define RW_USER (PT_PROT_USER | PT_PROT_WRITE)
/* A user leaf as pt_map writes it with NX on the CPU (FEATURES). */
#define LEAF_RW (PTE_P | PTE_W | PTE_U | PTE_NX)
#define LEAF_RO (PTE_P | PTE_U | PTE_NX)
/* The bits a valid swap entry may have. */
#define SWAP_BITS (PTE_SWAP | PTE_SWAP_SLOT_MASK)

static void boot(void) { fake_boot(FEATURES); }

static uint64_t used(enum pmm_zone z)
{
    struct pmm_counters c;
    pmm_get_counters(z, &c);
    return c.used;
}

static uint64_t used_all(void) { return used(PMM_ZONE_GENERAL) + used(PMM_ZONE_TABLE_POOL); }

/* A frame that only the entries name (never read or written): beyond the
 * arena, inside the physical width. */
static paddr_t fake_frame(uint64_t i) { return paddr(0x40000000ULL + i * PAGE_SIZE); }

/* A frame of the arena, for what the simulated MMU reads. */
static paddr_t frame(void)
{
    paddr_t f = paddr(0);
    CHECK_EQ(pmm_alloc(PMM_ZONE_GENERAL, &f), PMM_OK);
    return f;
}

static struct pt_op_stats op_now(enum pt_op op)
{
    struct pt_stats st;
    pt_stats_get(&st);
    return st.op[op];
}

/* The level-1 entry of va in as, read from the arena (not through the
 * core), count bits hidden; 0 if no table holds it. */
static pte_t entry_of(const struct pt_space *as, uint64_t va)
{
    pte_t *e = fake_entry_in(as->root.pa, 1, va);
    if (!e)
        return 0;
    return PT_INDEX(va, 1) ? *e : *e & ~PT_COUNT_MASK;
}

static void entry_set(const struct pt_space *as, uint64_t va, pte_t bits)
{
    pte_t *e = fake_entry_in(as->root.pa, 1, va);
    if (CHECK(e != NULL, "no PT for 0x%llx", (unsigned long long)va))
        *e |= bits;
}

static unsigned count_in(pte_t e0)
{
    return (unsigned)(((e0 >> PT_COUNT_LO_SHIFT) & PT_COUNT_LO_ONES) |
                      (((e0 >> PT_COUNT_HI_SHIFT) & PT_COUNT_HI_ONES) << PT_COUNT_LO_WIDTH));
}

/* Every table of as's own slots below level 4 holds the count of its used
 * entries (present, and at level 1 swap entries); returns how many
 * disagree. Read from the arena: the core's count against the entries. */
static unsigned bad_counts(unsigned level, const pte_t *t, unsigned first, unsigned end)
{
    unsigned bad = 0, n = 0;
    for (unsigned i = 0; i < PT_ENTRIES; i++)
        n += (t[i] & PTE_P) || (level == 1 && pte_is_swap(t[i]));
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

/* The TLB-side counters of the simulated CPU. */
struct tlb_now {
    uint64_t inv, fl, own, last;
};

static struct tlb_now tlb_now(void)
{
    return (struct tlb_now){ fake_cpu.invlpgs, fake_cpu.flushes, fake_cpu.own_invlpgs,
                             fake_cpu.last_invlpg };
}

static struct pt_space as;

/* A fresh machine with one space `as`, selected, active if asked. */
static void space_up(bool active)
{
    boot();
    CHECK_EQ(pt_space_create(&as), PT_OK);
    if (active)
        pt_space_activate(&as);
    pt_space_select(&as);
}

static void space_down(void)
{
    pt_space_select(NULL);
    pt_space_activate(NULL);
}

static void map4k(uint64_t va, paddr_t pa, uint32_t prot)
{
    CHECK(pt_map(vaddr(va), pa, PAGE_SIZE, prot, NULL) == PT_OK, "map 0x%llx",
          (unsigned long long)va);
}

/* A swap entry at va: a leaf mapped there, then swapped out. */
static void swap_at(uint64_t va, uint32_t slot)
{
    map4k(va, fake_frame(slot), RW_USER);
    CHECK(pt_swap_out(vaddr(va), pte_swap_entry(slot), NULL) == PT_OK, "swap out 0x%llx",
          (unsigned long long)va);
}

/* ---- the encoding (include/pte.h) ---- */

static void test_the_swap_entry_is_never_0_present_or_in_the_count_bits(void)
{
    const uint32_t slots[] = { 0, 1, 12, 0x7FFFFFFFu, UINT32_MAX };
    for (unsigned k = 0; k < sizeof(slots) / sizeof(slots[0]); k++) {
        pte_t e = pte_swap_entry(slots[k]);
        CHECK(e != 0 && !(e & PTE_P) && !(e & PT_COUNT_MASK) && !(e & ~SWAP_BITS),
              "slot %u: 0x%llx", slots[k], (unsigned long long)e);
        CHECK(pte_is_swap(e), "slot %u is a swap entry", slots[k]);
        CHECK_EQ(pte_swap_slot(e), slots[k]);
        CHECK_EQ(pte_swap_slot(e | PT_COUNT_MASK), slots[k]);   /* in entry 0 */
    }
    CHECK(!pte_is_swap(0), "0 is empty");
    CHECK(!pte_is_swap(PTE_P | PTE_W), "a writable leaf is no swap entry");
    CHECK(!pte_is_swap(pte_swap_entry(1) | PTE_P), "present: no swap entry");
    CHECK(strcmp(pt_op_name(PT_OP_SWAP), "swap") == 0, "op name \"%s\"", pt_op_name(PT_OP_SWAP));
}

/* ---- the kinds of entry every operation meets ---- */

/* In one space (kernel-only pages where it matters nothing): */
#define KB        (USER_BASE + SPAN3)         /* PDPT entry 1: a PD, a PT below */
#define K_LEAF0   (KB)                        /* PT entry 0 (the count's): a leaf */
#define K_SWAP    (KB + 1 * SPAN1)            /* a swap entry, slot 7 */
#define K_EMPTY   (KB + 2 * SPAN1)            /* empty, in a PT that is there */
#define K_LEAF    (KB + 5 * SPAN1)            /* a leaf */
#define K_SWAP511 (KB + 511 * SPAN1)          /* the PT's last entry: swap, slot 9 */
#define K_HUGE2M  (KB + 2 * SPAN2)            /* a 2 MiB leaf */
#define K_NOPT    (KB + 4 * SPAN2)            /* a PD entry that is empty */
#define K_HUGE1G  (USER_BASE + 3 * SPAN3)     /* a 1 GiB leaf */
#define K_NOPD    (USER_BASE + 5 * SPAN3)     /* a PDPT entry that is empty */
#define K_NOPDPT  (USER_BASE + PT_LEVEL_SPAN(4)) /* PML4 slot 2: nothing */

static void kinds_up(bool active)
{
    space_up(active);
    map4k(K_LEAF0, fake_frame(1), RW_USER);
    swap_at(K_SWAP, 7);
    map4k(K_LEAF, fake_frame(5), RW_USER);
    swap_at(K_SWAP511, 9);
    CHECK_EQ(pt_map(vaddr(K_HUGE2M), paddr(SPAN2), PAGE_SIZE_2M, RW_USER, NULL), PT_OK);
    CHECK_EQ(pt_map(vaddr(K_HUGE1G), paddr(SPAN3), PAGE_SIZE_1G, RW_USER, NULL), PT_OK);
    CHECK_EQ(pt_table_used(1, vaddr(KB)), 4);
}

/* What an operation that changes nothing leaves as it was. */
struct world {
    pte_t pt[PT_ENTRIES];   /* KB's PT, raw (count included) */
    pte_t huge2m, huge1g;
    uint64_t tables, zone;
    struct tlb_now tlb;
    struct pt_op_stats swap;
};

static void world_get(struct world *w)
{
    memcpy(w->pt, fake_entry_in(as.root.pa, 1, KB), sizeof(w->pt));
    w->huge2m = *fake_entry_in(as.root.pa, 2, K_HUGE2M);
    w->huge1g = *fake_entry_in(as.root.pa, 3, K_HUGE1G);
    w->tables = pt_space_tables(&as);
    w->zone = used_all();
    w->tlb = tlb_now();
    w->swap = op_now(PT_OP_SWAP);
}

/* The same as *w but for PT_OP_SWAP's calls and reads. */
static void world_same(const struct world *w, const char *what)
{
    struct world now;
    world_get(&now);
    CHECK(memcmp(now.pt, w->pt, sizeof(now.pt)) == 0, "%s: the PT changed", what);
    CHECK(now.huge2m == w->huge2m && now.huge1g == w->huge1g, "%s: a huge leaf changed", what);
    CHECK(now.tables == w->tables && now.zone == w->zone, "%s: tables %llu -> %llu, frames %llu"
          " -> %llu", what, (unsigned long long)w->tables, (unsigned long long)now.tables,
          (unsigned long long)w->zone, (unsigned long long)now.zone);
    CHECK(now.tlb.inv == w->tlb.inv && now.tlb.fl == w->tlb.fl, "%s: invalidated", what);
    CHECK(now.swap.pte_writes == w->swap.pte_writes && now.swap.invlpgs == w->swap.invlpgs &&
              now.swap.full_flushes == w->swap.full_flushes &&
              now.swap.tables_allocated == w->swap.tables_allocated &&
              now.swap.tables_freed == w->swap.tables_freed,
          "%s: counted a change", what);
}

/* One refused (or read-only) call: va, the status it must give. */
struct kind_case {
    uint64_t va;
    enum pt_status want;
    const char *what;
};

/* Argument errors each operation shares, at, below and above each limit
 * (the OK side of a limit is in the kind cases: K_LEAF itself). */
#define ARG_CASES                                                                   \
    { K_LEAF + 1, PT_ERR_MISALIGNED, "1 byte into the page" },                      \
    { K_LEAF + PAGE_SIZE - 1, PT_ERR_MISALIGNED, "its last byte" },                 \
    { USER_END, PT_ERR_NONCANONICAL, "just above the lower half" },                 \
    { 0xFFFF7FFFFFFFF000ULL, PT_ERR_NONCANONICAL, "just below the upper half" },    \
    { 0x8000000000000000ULL, PT_ERR_NONCANONICAL, "bit 63 alone" }

/* The strategy's range: its first and last page refused by name. */
static void reserved_refused(enum pt_status (*op)(uint64_t va), const char *name)
{
    struct pt_region r = strategy_reserved();
    if (!r.size)
        return;
    CHECK(op(r.base.va) == PT_ERR_RESERVED_RANGE, "%s: reserved range's first page", name);
    CHECK(op(r.base.va + r.size - PAGE_SIZE) == PT_ERR_RESERVED_RANGE,
          "%s: reserved range's last page", name);
}

static void run_cases(enum pt_status (*op)(uint64_t va), const struct kind_case *c, unsigned n,
                      const char *name)
{
    struct world w;
    world_get(&w);
    struct pt_op_stats s0 = op_now(PT_OP_SWAP);
    for (unsigned k = 0; k < n; k++) {
        enum pt_status st = op(c[k].va);
        CHECK(st == c[k].want, "%s at 0x%llx (%s): %s, want %s", name,
              (unsigned long long)c[k].va, c[k].what, pt_status_name(st),
              pt_status_name(c[k].want));
    }
    CHECK_EQ(op_now(PT_OP_SWAP).calls - s0.calls, n);      /* each call, refused or not */
    reserved_refused(op, name);
    world_same(&w, name);
}

/* ---- pt_entry_get ---- */

static pte_t got;

static enum pt_status do_get(uint64_t va)
{
    got = 0x77;
    enum pt_status st = pt_entry_get(vaddr(va), &got);
    CHECK(st == PT_OK || got == 0, "an error left *e 0x%llx", (unsigned long long)got);
    return st;
}

static void test_entry_get_reads_each_kind_and_refuses_the_rest_by_name(void)
{
    kinds_up(true);
    pte_t e = 1;
    CHECK_EQ(pt_entry_get(vaddr(K_LEAF0), &e), PT_OK);
    CHECK_EQ(e, fake_frame(1).pa | LEAF_RW);                /* entry 0: no count bits */
    CHECK_EQ(pt_entry_get(vaddr(K_LEAF), &e), PT_OK);
    CHECK_EQ(e, fake_frame(5).pa | LEAF_RW);
    CHECK_EQ(pt_entry_get(vaddr(K_SWAP), &e), PT_OK);
    CHECK_EQ(e, pte_swap_entry(7));
    CHECK_EQ(pt_entry_get(vaddr(K_SWAP511), &e), PT_OK);
    CHECK_EQ(e, pte_swap_entry(9));
    CHECK_EQ(pt_entry_get(vaddr(K_EMPTY), &e), PT_OK);
    CHECK_EQ(e, 0);
    static const struct kind_case cases[] = {
        { K_LEAF, PT_OK, "a leaf" },
        { K_SWAP, PT_OK, "a swap entry" },
        { K_EMPTY, PT_OK, "empty" },
        { K_NOPT, PT_ERR_UNMAPPED, "no PT" },
        { K_NOPD, PT_ERR_UNMAPPED, "no PD" },
        { K_NOPDPT, PT_ERR_UNMAPPED, "no PDPT" },
        { K_HUGE2M, PT_ERR_HUGE_IN_WAY, "a 2 MiB leaf" },
        { K_HUGE2M + PAGE_SIZE, PT_ERR_HUGE_IN_WAY, "inside it" },
        { K_HUGE1G + 7 * SPAN2, PT_ERR_HUGE_IN_WAY, "inside a 1 GiB leaf" },
        { KB - PAGE_SIZE, PT_ERR_UNMAPPED, "just below KB: PDPT entry 0, empty" },
        ARG_CASES,
    };
    run_cases(do_get, cases, CHECK_COUNT(cases), "entry_get");
    struct pt_region r = strategy_reserved();
    if (r.size) {
        /* one page on either side of the strategy's range is not in it */
        CHECK(do_get(r.base.va - PAGE_SIZE) != PT_ERR_RESERVED_RANGE, "below the range");
        CHECK(do_get(r.base.va + r.size) != PT_ERR_RESERVED_RANGE, "above the range");
    }
    struct pt_op_stats s = op_now(PT_OP_SWAP);
    CHECK_EQ(s.pte_writes, 2);              /* kinds_up's two swap-outs, nothing since */
    space_down();
}

/* ---- pt_swap_out ---- */

/* A leaf at index i of its PT in the selected space, swapped out: the
 * swap entry in its place, the leaf as it was (A and D included) in
 * *old, the count unchanged, one INVLPG of va if the space is active,
 * none otherwise, one entry written. */
static void swap_out_one(bool active, unsigned i)
{
    space_up(active);
    uint64_t va = USER_BASE + SPAN2 + (uint64_t)i * PAGE_SIZE;
    map4k(va, fake_frame(1), RW_USER);
    map4k(va ^ PAGE_SIZE, fake_frame(2), PT_PROT_USER);
    entry_set(&as, va, PTE_A | PTE_D);                      /* as the CPU would */
    int count = pt_table_used(1, vaddr(va));
    uint64_t tables = used_all();
    struct tlb_now t0 = tlb_now();
    struct pt_op_stats s0 = op_now(PT_OP_SWAP);
    pte_t old = 0, swap = pte_swap_entry(0xABCDEu + i);
    CHECK_EQ(pt_swap_out(vaddr(va), swap, &old), PT_OK);
    struct pt_op_stats s1 = op_now(PT_OP_SWAP);
    struct tlb_now t1 = tlb_now();
    CHECK_EQ(old, fake_frame(1).pa | LEAF_RW | PTE_A | PTE_D);
    CHECK_EQ(entry_of(&as, va), swap);
    CHECK_EQ(entry_of(&as, va ^ PAGE_SIZE), fake_frame(2).pa | LEAF_RO);
    CHECK_EQ(pt_table_used(1, vaddr(va)), count);
    CHECK_EQ(space_bad_counts(&as), 0);
    CHECK_EQ(t1.inv - t0.inv, active ? 1 : 0);
    if (active)
        CHECK_EQ(t1.last, va);
    CHECK_EQ(t1.fl, t0.fl);
    CHECK_EQ(s1.calls - s0.calls, 1);
    CHECK_EQ(s1.pte_writes - s0.pte_writes, 1);
    CHECK_EQ(s1.invlpgs - s0.invlpgs, (active ? 1 : 0) + (t1.own - t0.own));
    CHECK_EQ(s1.full_flushes - s0.full_flushes, 0);
    CHECK_EQ(s1.tables_allocated - s0.tables_allocated + s1.tables_freed - s0.tables_freed, 0);
    CHECK_EQ(used_all(), tables);
    /* translate ends at the swap entry: not mapped, the entry in the path */
    struct pt_translation tr;
    CHECK_EQ(pt_translate(vaddr(va + 0x10), &tr), PT_ERR_UNMAPPED);
    CHECK_EQ(tr.level, 1);
    CHECK_EQ(pt_tr_entry(&tr), swap);
    /* old may be NULL: back in, out again */
    CHECK_EQ(pt_swap_in(vaddr(va), fake_frame(3), RW_USER, NULL), PT_OK);
    CHECK_EQ(pt_swap_out(vaddr(va), pte_swap_entry(1), NULL), PT_OK);
    CHECK_EQ(entry_of(&as, va), pte_swap_entry(1));
    CHECK_EQ(pt_table_used(1, vaddr(va)), count);
    space_down();
}

static void test_swap_out_in_the_active_space_costs_one_invlpg(void) { swap_out_one(true, 5); }
static void test_swap_out_of_entry_0_keeps_the_tables_count(void) { swap_out_one(true, 0); }
static void test_swap_out_of_entry_511(void) { swap_out_one(true, 511); }
static void test_swap_out_in_an_inactive_space_invalidates_nothing(void)
{
    swap_out_one(false, 5);
}
static void test_swap_out_of_entry_0_in_an_inactive_space(void) { swap_out_one(false, 0); }

/* The smallest and largest slot, at the first and last user page and at
 * entry 0 (whose count bits lie beside the slot's). */
static void test_swap_out_takes_slot_0_and_the_largest_slot_at_the_ends_of_the_user_half(void)
{
    space_up(true);
    map4k(USER_BASE, fake_frame(1), RW_USER);
    map4k(USER_BASE + PAGE_SIZE, fake_frame(2), RW_USER);
    map4k(USER_LAST_PAGE, fake_frame(3), RW_USER);
    CHECK_EQ(pt_swap_out(vaddr(USER_BASE), pte_swap_entry(UINT32_MAX), NULL), PT_OK);
    CHECK_EQ(pt_swap_out(vaddr(USER_LAST_PAGE), pte_swap_entry(0), NULL), PT_OK);
    CHECK_EQ(entry_of(&as, USER_BASE), pte_swap_entry(UINT32_MAX));
    CHECK_EQ(entry_of(&as, USER_LAST_PAGE), pte_swap_entry(0));
    CHECK_EQ(pt_table_used(1, vaddr(USER_BASE)), 2);
    CHECK_EQ(pt_table_used(1, vaddr(USER_LAST_PAGE)), 1);
    CHECK_EQ(space_bad_counts(&as), 0);
    pte_t e;
    CHECK_EQ(pt_entry_get(vaddr(USER_BASE), &e), PT_OK);
    CHECK_EQ(pte_swap_slot(e), UINT32_MAX);
    CHECK_EQ(pt_entry_get(vaddr(USER_LAST_PAGE), &e), PT_OK);
    CHECK_EQ(pte_swap_slot(e), 0);
    space_down();
}

static pte_t swap_arg = 0;
static pte_t old_seen;

static enum pt_status do_out(uint64_t va)
{
    old_seen = 0x77;
    enum pt_status st = pt_swap_out(vaddr(va), swap_arg, &old_seen);
    CHECK(st == PT_OK || old_seen == 0x77, "a refusal wrote *old");
    return st;
}

static void test_swap_out_refuses_every_wrong_kind_and_argument_and_changes_nothing(void)
{
    kinds_up(true);
    swap_arg = pte_swap_entry(3);
    static const struct kind_case cases[] = {
        { K_EMPTY, PT_ERR_UNMAPPED, "empty" },
        { K_SWAP, PT_ERR_UNMAPPED, "a swap entry" },
        { K_SWAP511, PT_ERR_UNMAPPED, "a swap entry at 511" },
        { K_NOPT, PT_ERR_UNMAPPED, "no PT" },
        { K_NOPD, PT_ERR_UNMAPPED, "no PD" },
        { K_NOPDPT, PT_ERR_UNMAPPED, "no PDPT" },
        { K_HUGE2M, PT_ERR_NOT_LEAF_OF_SIZE, "a 2 MiB leaf" },
        { K_HUGE2M + PAGE_SIZE, PT_ERR_NOT_LEAF_OF_SIZE, "inside it" },
        { K_HUGE1G, PT_ERR_NOT_LEAF_OF_SIZE, "a 1 GiB leaf" },
        ARG_CASES,
    };
    run_cases(do_out, cases, CHECK_COUNT(cases), "swap_out");
    /* the swap entry itself: PTE_SWAP and the slot's bits 43:12, nothing
     * else; each wrong bit at the edges of the slot field and beyond */
    const pte_t bad[] = {
        0,                                  /* no PTE_SWAP */
        PTE_P,
        PTE_SWAP | PTE_P,                   /* present */
        pte_swap_entry(1) | PTE_U,
        pte_swap_entry(1) | (1ULL << 11),   /* just below the slot (a count bit) */
        pte_swap_entry(1) | (1ULL << 44),   /* just above it */
        pte_swap_entry(1) | (1ULL << 52),   /* a count bit */
        pte_swap_entry(1) | PTE_NX,
        PTE_SWAP_SLOT_MASK,                 /* a slot, no PTE_SWAP */
    };
    struct world w;
    world_get(&w);
    for (unsigned k = 0; k < CHECK_COUNT(bad); k++) {
        swap_arg = bad[k];
        CHECK(do_out(K_LEAF) == PT_ERR_BAD_PROT, "swap entry 0x%llx accepted",
              (unsigned long long)bad[k]);
        CHECK(do_out(USER_END) == PT_ERR_BAD_PROT, "0x%llx: the entry is checked first",
              (unsigned long long)bad[k]);
    }
    world_same(&w, "swap_out of a bad entry");
    /* and the OK side of each limit: the leaf goes */
    swap_arg = pte_swap_entry(UINT32_MAX);
    CHECK_EQ(do_out(K_LEAF), PT_OK);
    CHECK_EQ(old_seen, fake_frame(5).pa | LEAF_RW);
    CHECK_EQ(do_out(K_LEAF0), PT_OK);
    CHECK_EQ(pt_table_used(1, vaddr(KB)), 4);
    space_down();
}

/* ---- pt_swap_in ---- */

/* The swap entry at index i of its PT, swapped in: a leaf to the new
 * frame with exactly prot's bits (A and D clear), the swap entry in
 * *old, the count unchanged, one entry written and no invalidation, in
 * the active space as in another (rule 1). */
static void swap_in_one(bool active, unsigned i)
{
    space_up(active);
    uint64_t va = USER_BASE + SPAN2 + (uint64_t)i * PAGE_SIZE;
    map4k(va ^ PAGE_SIZE, fake_frame(2), PT_PROT_USER);
    swap_at(va, 40 + i);
    int count = pt_table_used(1, vaddr(va));
    uint64_t tables = used_all();
    struct tlb_now t0 = tlb_now();
    struct pt_op_stats s0 = op_now(PT_OP_SWAP);
    pte_t old = 0;
    CHECK_EQ(pt_swap_in(vaddr(va), fake_frame(3), PT_PROT_USER | PT_PROT_EXEC, &old), PT_OK);
    struct pt_op_stats s1 = op_now(PT_OP_SWAP);
    struct tlb_now t1 = tlb_now();
    CHECK_EQ(old, pte_swap_entry(40 + i));
    CHECK_EQ(entry_of(&as, va), fake_frame(3).pa | PTE_P | PTE_U);    /* r-x: no W, no NX */
    CHECK_EQ(entry_of(&as, va ^ PAGE_SIZE), fake_frame(2).pa | LEAF_RO);
    CHECK_EQ(pt_table_used(1, vaddr(va)), count);
    CHECK_EQ(space_bad_counts(&as), 0);
    CHECK_EQ(t1.inv, t0.inv);
    CHECK_EQ(t1.fl, t0.fl);
    CHECK_EQ(s1.calls - s0.calls, 1);
    CHECK_EQ(s1.pte_writes - s0.pte_writes, 1);
    CHECK_EQ(s1.invlpgs - s0.invlpgs, t1.own - t0.own);      /* temporary's slots only */
    CHECK_EQ(s1.full_flushes - s0.full_flushes, 0);
    CHECK_EQ(s1.tables_allocated - s0.tables_allocated + s1.tables_freed - s0.tables_freed, 0);
    CHECK_EQ(used_all(), tables);
    struct pt_translation tr;
    CHECK_EQ(pt_translate(vaddr(va + 0x44), &tr), PT_OK);
    CHECK_EQ(tr.pa.pa, fake_frame(3).pa + 0x44);
    CHECK_EQ(pt_tr_prot(&tr), PT_PROT_USER | PT_PROT_EXEC);
    space_down();
}

static void test_swap_in_in_the_active_space_invalidates_nothing(void) { swap_in_one(true, 5); }
static void test_swap_in_of_entry_0_keeps_the_tables_count(void) { swap_in_one(true, 0); }
static void test_swap_in_in_an_inactive_space_invalidates_nothing(void)
{
    swap_in_one(false, 511);
}

static paddr_t in_pa;
static uint32_t in_prot;

static enum pt_status do_in(uint64_t va)
{
    old_seen = 0x77;
    enum pt_status st = pt_swap_in(vaddr(va), in_pa, in_prot, &old_seen);
    CHECK(st == PT_OK || old_seen == 0x77, "a refusal wrote *old");
    return st;
}

static void test_swap_in_refuses_every_wrong_kind_and_argument_and_changes_nothing(void)
{
    kinds_up(true);
    in_pa = fake_frame(20);
    in_prot = RW_USER;
    static const struct kind_case cases[] = {
        { K_EMPTY, PT_ERR_UNMAPPED, "empty" },
        { K_NOPT, PT_ERR_UNMAPPED, "no PT" },
        { K_NOPD, PT_ERR_UNMAPPED, "no PD" },
        { K_NOPDPT, PT_ERR_UNMAPPED, "no PDPT" },
        { K_LEAF, PT_ERR_ALREADY_MAPPED, "a leaf" },
        { K_LEAF0, PT_ERR_ALREADY_MAPPED, "a leaf at entry 0" },
        { K_HUGE2M, PT_ERR_ALREADY_MAPPED, "a 2 MiB leaf" },
        { K_HUGE2M + 3 * PAGE_SIZE, PT_ERR_ALREADY_MAPPED, "inside it" },
        { K_HUGE1G + SPAN2, PT_ERR_ALREADY_MAPPED, "inside a 1 GiB leaf" },
        ARG_CASES,
    };
    run_cases(do_in, cases, CHECK_COUNT(cases), "swap_in");
    /* prot and pa, at and beyond their limits, on a real swap entry */
    const struct {
        uint64_t pa;
        uint32_t prot;
        enum pt_status want;
    } args[] = {
        { fake_frame(20).pa, PT_PROT_ALL + 1, PT_ERR_BAD_PROT },
        { fake_frame(20).pa, 1u << 31, PT_ERR_BAD_PROT },
        { fake_frame(20).pa + 1, RW_USER, PT_ERR_MISALIGNED },
        { fake_frame(20).pa + PAGE_SIZE - 1, RW_USER, PT_ERR_MISALIGNED },
        { 1ULL << 46, RW_USER, PT_ERR_BAD_PHYS },                   /* the fake CPU's width */
        { ~0ULL & ~(PAGE_SIZE - 1), RW_USER, PT_ERR_BAD_PHYS },       /* the very top */
    };
    struct world w;
    world_get(&w);
    for (unsigned k = 0; k < CHECK_COUNT(args); k++) {
        in_pa = paddr(args[k].pa);
        in_prot = args[k].prot;
        enum pt_status st = do_in(K_SWAP);
        CHECK(st == args[k].want, "case %u: %s, want %s", k, pt_status_name(st),
              pt_status_name(args[k].want));
    }
    world_same(&w, "swap_in of bad arguments");
    /* the OK side: the last frame inside the width, every prot bit */
    in_pa = paddr((1ULL << 46) - PAGE_SIZE);
    in_prot = PT_PROT_ALL;
    CHECK_EQ(do_in(K_SWAP), PT_OK);
    CHECK_EQ(old_seen, pte_swap_entry(7));
    CHECK_EQ(entry_of(&as, K_SWAP), ((1ULL << 46) - PAGE_SIZE) | PTE_P | PTE_W | PTE_U | PTE_G |
                                        PTE_PCD | PTE_PWT);
    CHECK_EQ(do_in(K_SWAP), PT_ERR_ALREADY_MAPPED);         /* the page is in now */
    CHECK_EQ(pt_table_used(1, vaddr(KB)), 4);
    space_down();
}

/* ---- pt_swap_clear ---- */

static enum pt_status do_clear(uint64_t va)
{
    old_seen = 0x77;
    enum pt_status st = pt_swap_clear(vaddr(va), &old_seen);
    CHECK(st == PT_OK || old_seen == 0x77, "a refusal wrote *old");
    return st;
}

static void test_swap_clear_refuses_every_wrong_kind_and_argument_and_changes_nothing(void)
{
    kinds_up(true);
    static const struct kind_case cases[] = {
        { K_EMPTY, PT_ERR_UNMAPPED, "empty" },
        { K_NOPT, PT_ERR_UNMAPPED, "no PT" },
        { K_NOPD, PT_ERR_UNMAPPED, "no PD" },
        { K_NOPDPT, PT_ERR_UNMAPPED, "no PDPT" },
        { K_LEAF, PT_ERR_UNMAPPED, "a leaf" },
        { K_LEAF0, PT_ERR_UNMAPPED, "a leaf at entry 0" },
        { K_HUGE2M, PT_ERR_UNMAPPED, "a 2 MiB leaf" },
        { K_HUGE1G, PT_ERR_UNMAPPED, "a 1 GiB leaf" },
        ARG_CASES,
    };
    run_cases(do_clear, cases, CHECK_COUNT(cases), "swap_clear");
    /* the OK side: a swap entry, in a PT that keeps leaves, goes with no
     * invalidation and one used entry less */
    struct tlb_now t0 = tlb_now();
    struct pt_op_stats s0 = op_now(PT_OP_SWAP);
    CHECK_EQ(do_clear(K_SWAP511), PT_OK);
    CHECK_EQ(old_seen, pte_swap_entry(9));
    CHECK_EQ(entry_of(&as, K_SWAP511), 0);
    CHECK_EQ(pt_table_used(1, vaddr(KB)), 3);
    CHECK_EQ(tlb_now().inv, t0.inv);
    CHECK_EQ(op_now(PT_OP_SWAP).pte_writes - s0.pte_writes, 2);  /* the entry and the count */
    CHECK_EQ(op_now(PT_OP_SWAP).tables_freed, s0.tables_freed);
    CHECK_EQ(do_clear(K_SWAP511), PT_ERR_UNMAPPED);         /* gone: twice is refused */
    CHECK_EQ(space_bad_counts(&as), 0);
    space_down();
}

/* A swap entry at entry 0 beside other used entries: the count, which
 * lives in that entry, stays right when it goes. */
static void test_swap_clear_of_entry_0_keeps_the_count_of_the_rest(void)
{
    space_up(false);
    swap_at(USER_BASE, 1);
    map4k(USER_BASE + PAGE_SIZE, fake_frame(2), RW_USER);
    swap_at(USER_BASE + 2 * PAGE_SIZE, 3);
    CHECK_EQ(pt_table_used(1, vaddr(USER_BASE)), 3);
    pte_t old = 0;
    CHECK_EQ(pt_swap_clear(vaddr(USER_BASE), &old), PT_OK);
    CHECK_EQ(old, pte_swap_entry(1));
    CHECK_EQ(entry_of(&as, USER_BASE), 0);
    CHECK_EQ(pt_table_used(1, vaddr(USER_BASE)), 2);
    CHECK_EQ(pt_swap_clear(vaddr(USER_BASE + 2 * PAGE_SIZE), NULL), PT_OK);  /* old NULL */
    CHECK_EQ(pt_table_used(1, vaddr(USER_BASE)), 1);
    CHECK_EQ(space_bad_counts(&as), 0);
    CHECK_EQ(pt_space_tables(&as), 3);
    space_down();
}

/* The last used entry of a space's only PT, a leaf in one space and a
 * swap entry in another: pt_unmap and pt_swap_clear free the same
 * tables (PT, PD, PDPT) with the same invalidations (one INVLPG if the
 * space is active, for the paging-structure caches; none otherwise). */
static void last_entry_goes(bool active)
{
    boot();
    static struct pt_space a, b;
    CHECK_EQ(pt_space_create(&a), PT_OK);
    CHECK_EQ(pt_space_create(&b), PT_OK);
    const uint64_t va = USER_BASE + 3 * SPAN3 + 5 * SPAN2 + 7 * PAGE_SIZE;
    pt_space_select(&a);
    map4k(va, fake_frame(1), RW_USER);
    pt_space_select(&b);
    swap_at(va, 2);
    uint64_t zone = used_all();
    /* a: the leaf */
    if (active)
        pt_space_activate(&a);
    pt_space_select(&a);
    struct tlb_now ta0 = tlb_now();
    struct pt_op_stats u0 = op_now(PT_OP_UNMAP);
    CHECK_EQ(pt_unmap(vaddr(va), NULL, NULL), PT_OK);
    struct pt_op_stats u1 = op_now(PT_OP_UNMAP);
    struct tlb_now ta1 = tlb_now();
    /* b: the swap entry */
    if (active)
        pt_space_activate(&b);
    pt_space_select(&b);
    struct tlb_now tb0 = tlb_now();
    struct pt_op_stats s0 = op_now(PT_OP_SWAP);
    pte_t old = 0;
    CHECK_EQ(pt_swap_clear(vaddr(va), &old), PT_OK);
    struct pt_op_stats s1 = op_now(PT_OP_SWAP);
    struct tlb_now tb1 = tlb_now();
    CHECK_EQ(old, pte_swap_entry(2));
    CHECK_EQ(u1.tables_freed - u0.tables_freed, 3);
    CHECK_EQ(s1.tables_freed - s0.tables_freed, u1.tables_freed - u0.tables_freed);
    CHECK_EQ(ta1.inv - ta0.inv, active ? 1 : 0);
    CHECK_EQ(tb1.inv - tb0.inv, ta1.inv - ta0.inv);
    if (active)
        CHECK_EQ(tb1.last, va);
    CHECK_EQ(tb1.fl - tb0.fl + ta1.fl - ta0.fl, 0);
    CHECK_EQ(s1.tables_allocated - s0.tables_allocated, 0);
    CHECK_EQ(pt_space_tables(&a), 0);
    CHECK_EQ(pt_space_tables(&b), 0);
    CHECK_EQ(used_all(), zone - 6);
    CHECK_EQ(pmm_verify(strategy_table_zone()), PMM_OK);
    CHECK_EQ(pt_entry_get(vaddr(va), &old), PT_ERR_UNMAPPED);
    space_down();
    CHECK_EQ(pt_space_destroy(&a, NULL, NULL), PT_OK);
    CHECK_EQ(pt_space_destroy(&b, NULL, NULL), PT_OK);
}

static void test_swap_clear_of_the_last_entry_frees_what_unmap_frees_in_the_active_space(void)
{
    last_entry_goes(true);
}

static void test_swap_clear_of_the_last_entry_frees_what_unmap_frees_in_an_inactive_space(void)
{
    last_entry_goes(false);
}

/* ---- through the simulated MMU ---- */

#define TAG 0x5A4B3C2D1E0F1234ULL

/* The active space's page is read (its translation cached in the fake
 * TLB), swapped out, its frame reused for something else, then swapped
 * in to another frame holding the same bytes: the read sees the tag,
 * which it would not had swap_out left the old translation cached. */
static void test_through_the_mmu_a_page_swapped_out_and_in_reads_its_bytes_from_the_new_frame(void)
{
    space_up(true);
    paddr_t f1 = frame(), f2 = frame();
    *(uint64_t *)fake_phys(f1.pa) = TAG;
    map4k(USER_BASE, f1, RW_USER);
    CHECK_EQ(*(volatile uint64_t *)cpu_ptr(vaddr(USER_BASE)), TAG);
    CHECK_EQ(pt_swap_out(vaddr(USER_BASE), pte_swap_entry(5), NULL), PT_OK);
    memcpy(fake_phys(f2.pa), fake_phys(f1.pa), PAGE_SIZE);   /* "read back from swap" */
    *(uint64_t *)fake_phys(f1.pa) = ~TAG;                     /* the frame's next owner */
    CHECK_EQ(pt_swap_in(vaddr(USER_BASE), f2, RW_USER, NULL), PT_OK);
    CHECK_EQ(*(volatile uint64_t *)cpu_ptr(vaddr(USER_BASE)), TAG);
    space_down();
}

/* Not entry 0: the fake MMU's message shows the entry as stored. */
#define TOUCHED (USER_BASE + 3 * PAGE_SIZE)

static void touch_swapped_out(void)
{
    space_up(true);
    paddr_t f = frame();
    map4k(TOUCHED, f, RW_USER);
    (void)*(volatile uint64_t *)cpu_ptr(vaddr(TOUCHED));
    CHECK_EQ(pt_swap_out(vaddr(TOUCHED), pte_swap_entry(5), NULL), PT_OK);
    (void)*(volatile uint64_t *)cpu_ptr(vaddr(TOUCHED));     /* must fault */
}

/* fn() in a child process; returns what it wrote on stderr (into buf)
 * and whether it died by SIGABRT (kpanic and the fake MMU's fault). */
static bool aborts(void (*fn)(void), char *buf, size_t cap)
{
    int fds[2];
    buf[0] = '\0';
    if (!CHECK(pipe(fds) == 0, "pipe"))
        return false;
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fds[1], STDERR_FILENO);
        close(fds[0]);
        fn();
        _exit(0);
    }
    close(fds[1]);
    size_t len = 0;
    ssize_t n;
    while (len < cap - 1 && (n = read(fds[0], buf + len, cap - 1 - len)) > 0)
        len += (size_t)n;
    buf[len] = '\0';
    close(fds[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT;
}

static void test_through_the_mmu_a_swapped_out_page_faults_at_once(void)
{
    char buf[512], want[128];
    snprintf(want, sizeof(want), "fake MMU: page fault at 0x%llx (level-1 entry 0x%llx)\n",
             (unsigned long long)TOUCHED, (unsigned long long)pte_swap_entry(5));
    CHECK(aborts(touch_swapped_out, buf, sizeof(buf)) && strstr(buf, want) != NULL,
          "want \"%s\", got \"%s\"", want, buf);
}

/* ---- the rest of the core passes a swap entry by ---- */

/* Nothing maps over a swap entry: pt_map's fast path (every table there)
 * and its general path (a user leaf whose path lacks U: refused before U
 * is added), pt_map_range from it (entry 0, where map_4k starts on its
 * own) and across it (rolled back), a 2 MiB range over a PT holding only
 * it, a 2 MiB pt_map on its PT: each refused, and nothing changed. */
static void test_map_over_a_swap_entry_is_refused_and_changes_nothing(void)
{
    kinds_up(false);        /* inactive: a rolled-back range costs no INVLPG either */
    /* a path without U: a kernel page's, in its own PD */
    const uint64_t ku = USER_BASE + 6 * SPAN3 + 9 * PAGE_SIZE;
    map4k(ku, fake_frame(60), PT_PROT_WRITE);
    CHECK_EQ(pt_swap_out(vaddr(ku), pte_swap_entry(60), NULL), PT_OK);
    /* a PT whose only used entry is a swap entry */
    const uint64_t lone = USER_BASE + 7 * SPAN3 + 3 * PAGE_SIZE;
    swap_at(lone, 61);
    /* a swap entry at entry 0, where the count is */
    const uint64_t first = USER_BASE + 7 * SPAN3 + SPAN2;
    swap_at(first, 62);
    struct world w;
    world_get(&w);
    pte_t ku_pd = *fake_entry_in(as.root.pa, 2, ku), lone_pt[PT_ENTRIES];
    memcpy(lone_pt, fake_entry_in(as.root.pa, 1, lone & ~(SPAN2 - 1)), sizeof(lone_pt));
    uint64_t tables = pt_space_tables(&as);
    struct pt_op_stats m0 = op_now(PT_OP_MAP), r0 = op_now(PT_OP_MAP_RANGE);
    const struct {
        uint64_t va;
        uint32_t prot;
    } maps[] = {
        { K_SWAP, PT_PROT_WRITE },      /* kernel leaf, every table there: the fast path */
        { K_SWAP, RW_USER },            /* user leaf, U all the way: the fast path */
        { K_SWAP511, 0 },
        { ku, RW_USER },                /* U missing above: the general path */
        { ku, 0 },
        { lone, RW_USER },
        { first, RW_USER },
    };
    for (unsigned k = 0; k < CHECK_COUNT(maps); k++) {
        enum pt_status st = pt_map(vaddr(maps[k].va), fake_frame(70), PAGE_SIZE, maps[k].prot,
                                   NULL);
        CHECK(st == PT_ERR_ALREADY_MAPPED, "map %u: %s", k, pt_status_name(st));
    }
    CHECK_EQ(*fake_entry_in(as.root.pa, 2, ku), ku_pd);    /* no U added */
    CHECK_EQ(entry_of(&as, ku), pte_swap_entry(60));
    const struct {
        uint64_t va, len;
        uint32_t opts;
        enum pt_status want;
    } ranges[] = {
        { K_SWAP, PAGE_SIZE, 0, PT_ERR_ALREADY_MAPPED },
        { K_LEAF0 + PAGE_SIZE, 4 * PAGE_SIZE, 0, PT_ERR_ALREADY_MAPPED },
        { K_SWAP511 - PAGE_SIZE, 2 * PAGE_SIZE, 0, PT_ERR_ALREADY_MAPPED },  /* rolled back */
        { lone - 3 * PAGE_SIZE, 5 * PAGE_SIZE, 0, PT_ERR_ALREADY_MAPPED },   /* from entry 0 */
        { lone - 2 * PAGE_SIZE, 3 * PAGE_SIZE, 0, PT_ERR_ALREADY_MAPPED },
        { lone, PAGE_SIZE, 0, PT_ERR_ALREADY_MAPPED },
        { first, 2 * PAGE_SIZE, 0, PT_ERR_ALREADY_MAPPED },  /* map_4k's entry 0 */
        /* 2 MiB aligned both sides, huge leaves allowed: the PT is no hole */
        { lone & ~(SPAN2 - 1), SPAN2, PT_RANGE_ALLOW_HUGE, PT_ERR_ALREADY_MAPPED },
    };
    for (unsigned k = 0; k < CHECK_COUNT(ranges); k++) {
        enum pt_status st = pt_map_range(vaddr(ranges[k].va), fake_frame(0), ranges[k].len,
                                         RW_USER, ranges[k].opts, NULL);
        CHECK(st == ranges[k].want, "range %u: %s", k, pt_status_name(st));
    }
    CHECK_EQ(pt_map(vaddr(lone & ~(SPAN2 - 1)), paddr(SPAN2), PAGE_SIZE_2M, RW_USER, NULL),
             PT_ERR_TABLE_IN_WAY);
    CHECK_EQ(entry_of(&as, first), pte_swap_entry(62));
    CHECK_EQ(entry_of(&as, first + PAGE_SIZE), 0);
    CHECK_EQ(pt_table_used(1, vaddr(first)), 1);
    CHECK(memcmp(fake_entry_in(as.root.pa, 1, lone & ~(SPAN2 - 1)), lone_pt, sizeof(lone_pt)) == 0,
          "the lone swap entry's PT changed");
    world_same(&w, "maps over swap entries");
    CHECK_EQ(pt_space_tables(&as), tables);
    CHECK_EQ(space_bad_counts(&as), 0);
    CHECK_EQ(op_now(PT_OP_MAP).tables_allocated, m0.tables_allocated);
    CHECK_EQ(op_now(PT_OP_MAP_RANGE).tables_allocated - r0.tables_allocated,
             op_now(PT_OP_MAP_RANGE).tables_freed - r0.tables_freed);
    space_down();
}

/* pt_unmap, pt_protect and pt_remap refuse a swap entry (no leaf there);
 * pt_protect_range (one page: its fast path; a whole PT: the range
 * engine) and pt_unmap_range pass it by, invalidating only the leaves
 * they change; the PT, whose swap entries are used entries, stays. */
static void test_unmap_protect_and_remap_leave_a_swap_entry_alone(void)
{
    kinds_up(true);
    struct world w;
    world_get(&w);
    paddr_t f = paddr(1);
    CHECK_EQ(pt_unmap(vaddr(K_SWAP), &f, NULL), PT_ERR_UNMAPPED);
    CHECK_EQ(f.pa, 1);
    CHECK_EQ(pt_protect(vaddr(K_SWAP), PAGE_SIZE, PT_PROT_USER), PT_ERR_UNMAPPED);
    CHECK_EQ(pt_remap(vaddr(K_SWAP), fake_frame(90), RW_USER, &f), PT_ERR_UNMAPPED);
    CHECK_EQ(pt_remap(vaddr(K_SWAP511), fake_frame(90), RW_USER, &f), PT_ERR_UNMAPPED);
    CHECK_EQ(pt_protect_range(vaddr(K_SWAP), PAGE_SIZE, PT_PROT_USER), PT_OK);
    CHECK_EQ(pt_protect_range(vaddr(K_SWAP511), PAGE_SIZE, PT_PROT_USER), PT_OK);
    CHECK_EQ(f.pa, 1);
    world_same(&w, "one-page operations on a swap entry");
    struct tlb_now t0 = tlb_now();
    /* the whole PT read-only: two leaves change, two swap entries do not */
    CHECK_EQ(pt_protect_range(vaddr(KB), SPAN2, PT_PROT_USER), PT_OK);
    CHECK_EQ(tlb_now().inv - t0.inv, 2);
    CHECK_EQ(entry_of(&as, K_LEAF), fake_frame(5).pa | LEAF_RO);
    CHECK_EQ(entry_of(&as, K_SWAP), pte_swap_entry(7));
    CHECK_EQ(entry_of(&as, K_SWAP511), pte_swap_entry(9));
    /* and unmapped: the leaves go, the swap entries and their PT stay */
    uint64_t tables = pt_space_tables(&as);
    t0 = tlb_now();
    CHECK_EQ(pt_unmap_range(vaddr(KB), SPAN2), PT_OK);
    CHECK_EQ(tlb_now().inv - t0.inv, 2);
    CHECK_EQ(entry_of(&as, K_LEAF), 0);
    CHECK_EQ(entry_of(&as, K_LEAF0), 0);
    CHECK_EQ(entry_of(&as, K_SWAP), pte_swap_entry(7));
    CHECK_EQ(entry_of(&as, K_SWAP511), pte_swap_entry(9));
    CHECK_EQ(pt_table_used(1, vaddr(KB)), 2);
    CHECK_EQ(pt_space_tables(&as), tables);
    CHECK_EQ(space_bad_counts(&as), 0);
    space_down();
}

/* A PT whose leaves all go by pt_unmap, one by one, stays while a swap
 * entry is in it; the swap entry's pt_swap_clear then frees it and the
 * tables above it that it empties (PD and PDPT), as the last unmap would
 * have: the counts and the frames say so. */
static void test_a_swap_entry_keeps_its_table_through_the_unmap_of_every_leaf(void)
{
    space_up(false);
    const uint64_t base = USER_BASE + 2 * SPAN3 + 4 * SPAN2;
    swap_at(base + 100 * PAGE_SIZE, 3);
    for (unsigned i = 0; i < 8; i++)
        map4k(base + (uint64_t)i * 60 * PAGE_SIZE, fake_frame(i), RW_USER);   /* 0, 60 .. 420 */
    CHECK_EQ(pt_table_used(1, vaddr(base)), 9);
    CHECK_EQ(pt_space_tables(&as), 3);
    uint64_t zone = used_all();
    struct pt_op_stats u0 = op_now(PT_OP_UNMAP);
    for (unsigned i = 0; i < 8; i++)
        CHECK_EQ(pt_unmap(vaddr(base + (uint64_t)i * 60 * PAGE_SIZE), NULL, NULL), PT_OK);
    CHECK_EQ(op_now(PT_OP_UNMAP).tables_freed, u0.tables_freed);
    CHECK_EQ(pt_table_used(1, vaddr(base)), 1);
    CHECK_EQ(pt_space_tables(&as), 3);
    CHECK_EQ(used_all(), zone);
    CHECK_EQ(entry_of(&as, base + 100 * PAGE_SIZE), pte_swap_entry(3));
    CHECK_EQ(space_bad_counts(&as), 0);
    CHECK_EQ(pt_swap_clear(vaddr(base + 100 * PAGE_SIZE), NULL), PT_OK);
    CHECK_EQ(pt_space_tables(&as), 0);
    CHECK_EQ(used_all(), zone - 3);
    CHECK_EQ(op_now(PT_OP_SWAP).tables_freed, 3);
    space_down();
}

/* pt_init's recount (after tables are edited by hand) counts a swap
 * entry as used, as every operation does. */
static void test_pt_init_recounts_a_swap_entry_as_used(void)
{
    boot();
    const uint64_t va = USER_BASE + 5 * PAGE_SIZE;
    map4k(va, fake_frame(1), PT_PROT_WRITE);                  /* the kernel's own space */
    map4k(va + PAGE_SIZE, fake_frame(2), PT_PROT_WRITE);
    CHECK_EQ(pt_swap_out(vaddr(va), pte_swap_entry(4), NULL), PT_OK);
    pte_t *e0 = fake_entry(1, USER_BASE);
    *e0 &= ~PT_COUNT_MASK;                                     /* a count lost */
    CHECK_EQ(pt_table_used(1, vaddr(va)), 0);
    CHECK_EQ(pt_init(&fake_bi), PT_OK);
    CHECK_EQ(pt_table_used(1, vaddr(va)), 2);
    CHECK_EQ(pt_unmap(vaddr(va + PAGE_SIZE), NULL, NULL), PT_OK);
    CHECK_EQ(pt_table_used(1, vaddr(va)), 1);                  /* the PT stays for it */
    CHECK_EQ(pt_swap_clear(vaddr(va), NULL), PT_OK);
    CHECK_EQ(pt_table_used(1, vaddr(va)), -1);                 /* gone with the PD, PDPT */
    CHECK_EQ(pt_table_used(3, vaddr(va)), -1);
}

/* ---- fork's clone ---- */

/* What leaves() saw: the leaves (one new frame reference each), the swap
 * entries (one more slot reference each), the calls (one per PT of dst)
 * and the calls that broke the contract: 1 to PT_ENTRIES entries, the
 * last one used, each entry a leaf, a valid swap entry or 0. */
struct refs {
    unsigned leaves, swaps, calls, bad;
    pte_t swap[64];
};

static void count_refs(const pte_t *leaf, unsigned n, void *ctx)
{
    struct refs *r = ctx;
    r->calls++;
    r->bad += n == 0 || n > PT_ENTRIES || leaf[n - 1] == 0;
    for (unsigned k = 0; k < n; k++) {
        if (leaf[k] & PTE_P) {
            r->leaves++;
        } else if (pte_is_swap(leaf[k])) {
            r->bad += (leaf[k] & ~SWAP_BITS) != 0;
            if (r->swaps < CHECK_COUNT(r->swap))
                r->swap[r->swaps] = leaf[k];
            r->swaps++;
        } else {
            r->bad += leaf[k] != 0;
        }
    }
}

/*
 * The clone range, from CB: PT 0 with a swap entry at entry 0 (the
 * count's), leaves (writable and read-only) and swap entries between;
 * PT 1 with one swap entry, at entry 0 (the only one its phase 1 meets
 * outside the loop); PT 2 with swap entries only, the last at entry 511
 * (dst needs a PT for them); PT 3 with a leaf at entry 0 inside the range
 * and a swap entry just past its end. In a PDPT entry of its own (so
 * dst's tables are a PDPT, a PD and 4 PTs).
 */
#define CB (USER_BASE + 2 * SPAN3 + 8 * SPAN2)
#define CLONE_END (CB + 3 * SPAN2 + 4 * PAGE_SIZE)
static const struct {
    uint64_t va;
    int slot;          /* >= 0: a swap entry of that slot; -1 a writable leaf, -2 read-only */
} clone_pages[] = {
    { CB, 100 },
    { CB + 1 * SPAN1, -1 },
    { CB + 2 * SPAN1, -2 },
    { CB + 3 * SPAN1, 101 },
    { CB + 10 * SPAN1, -1 },
    { CB + 20 * SPAN1, 102 },
    { CB + SPAN2, 200 },
    { CB + 2 * SPAN2 + 5 * SPAN1, 201 },
    { CB + 2 * SPAN2 + 511 * SPAN1, 202 },
    { CB + 3 * SPAN2, -2 },
    { CB + 3 * SPAN2 + 4 * SPAN1, 300 },        /* the first page past the range */
};
#define CLONE_LEAVES 4     /* in the range */
#define CLONE_SWAPS 6
#define CLONE_WRITABLE 2

static void clone_src_build(void)
{
    for (unsigned k = 0; k < CHECK_COUNT(clone_pages); k++) {
        if (clone_pages[k].slot >= 0)
            swap_at(clone_pages[k].va, (uint32_t)clone_pages[k].slot);
        else
            map4k(clone_pages[k].va, fake_frame(k),
                  clone_pages[k].slot == -1 ? RW_USER : PT_PROT_USER);
    }
}

/* COW clone of the range, src inactive or active: dst gets every swap
 * entry as it is and every leaf W-less, counts right, leaves() sees both
 * (the swap entries in address order), copied counts leaves only; src's
 * swap entries are untouched and cost no invalidation (only the
 * writable leaves do, if src is active); destroy_swapped of dst then
 * reports each swap entry once. */
static void clone_with_swaps(bool src_active)
{
    boot();
    static struct pt_space src, dst;
    CHECK_EQ(pt_space_create(&src), PT_OK);
    CHECK_EQ(pt_space_create(&dst), PT_OK);
    if (src_active)
        pt_space_activate(&src);
    pt_space_select(&src);
    clone_src_build();
    pt_space_select(NULL);
    struct tlb_now t0 = tlb_now();
    struct refs r = { 0 };
    uint64_t copied = 99;
    CHECK_EQ(pt_space_clone(&dst, &src, vaddr(CB), CLONE_END - CB, PT_CLONE_COW, count_refs, &r,
                            &copied), PT_OK);
    struct tlb_now t1 = tlb_now();
    CHECK_EQ(copied, CLONE_LEAVES);
    CHECK_EQ(r.leaves, CLONE_LEAVES);
    CHECK_EQ(r.swaps, CLONE_SWAPS);
    CHECK_EQ(r.calls, 4);                         /* one per PT of dst, PT 1 and 2 included */
    CHECK_EQ(r.bad, 0);
    unsigned s = 0;
    for (unsigned k = 0; k < CHECK_COUNT(clone_pages); k++) {
        uint64_t va = clone_pages[k].va;
        pte_t se = entry_of(&src, va), de = entry_of(&dst, va);
        if (va >= CLONE_END) {
            CHECK(de == 0, "page 0x%llx past the range is in dst: 0x%llx",
                  (unsigned long long)va, (unsigned long long)de);
            continue;
        }
        if (clone_pages[k].slot >= 0) {
            pte_t want = pte_swap_entry((uint32_t)clone_pages[k].slot);
            CHECK(se == want && de == want, "swap page 0x%llx: src 0x%llx dst 0x%llx",
                  (unsigned long long)va, (unsigned long long)se, (unsigned long long)de);
            CHECK(s < r.swaps && r.swap[s] == want, "leaves() swap entry %u", s);
            s++;
        } else {
            CHECK(se == (fake_frame(k).pa | LEAF_RO) && de == se,
                  "leaf 0x%llx: src 0x%llx dst 0x%llx", (unsigned long long)va,
                  (unsigned long long)se, (unsigned long long)de);
        }
    }
    pt_space_select(&dst);
    CHECK_EQ(pt_table_used(1, vaddr(CB)), 6);
    CHECK_EQ(pt_table_used(1, vaddr(CB + SPAN2)), 1);
    CHECK_EQ(pt_table_used(1, vaddr(CB + 2 * SPAN2)), 2);
    CHECK_EQ(pt_table_used(1, vaddr(CB + 3 * SPAN2)), 1);
    pt_space_select(NULL);
    CHECK_EQ(pt_space_tables(&dst), 6);
    CHECK_EQ(space_bad_counts(&dst), 0);
    CHECK_EQ(space_bad_counts(&src), 0);
    CHECK_EQ(t1.inv - t0.inv, src_active ? CLONE_WRITABLE : 0);
    CHECK_EQ(t1.fl, t0.fl);
    pt_space_activate(NULL);
    pt_space_select(NULL);
}

static void test_clone_copies_swap_entries_into_dst_and_counts_them(void)
{
    clone_with_swaps(false);
}

static void test_clone_of_the_active_space_invalidates_only_its_writable_leaves(void)
{
    clone_with_swaps(true);
}

/* A swap entry of dst in the range is "already mapped": refused before
 * any change (src's W kept, no leaves() call, no table); one just past
 * the range is no obstacle. */
static void test_clone_refuses_a_swap_entry_in_dst_before_any_change(void)
{
    boot();
    static struct pt_space src, dst;
    CHECK_EQ(pt_space_create(&src), PT_OK);
    CHECK_EQ(pt_space_create(&dst), PT_OK);
    pt_space_select(&src);
    clone_src_build();
    pt_space_select(&dst);
    swap_at(CB + 3 * SPAN2 + 3 * SPAN1, 400);             /* the range's last page */
    swap_at(CLONE_END, 401);                               /* the first page past it */
    pt_space_select(NULL);
    uint64_t tables = pt_space_tables(&dst), zone = used_all();
    struct refs r = { 0 };
    uint64_t copied = 99;
    CHECK_EQ(pt_space_clone(&dst, &src, vaddr(CB), CLONE_END - CB, PT_CLONE_COW, count_refs, &r,
                            &copied), PT_ERR_ALREADY_MAPPED);
    CHECK_EQ(copied, 0);
    CHECK_EQ(r.calls, 0);
    CHECK_EQ(entry_of(&src, CB + SPAN1), fake_frame(1).pa | LEAF_RW);   /* W kept */
    CHECK_EQ(pt_space_tables(&dst), tables);
    CHECK_EQ(used_all(), zone);
    /* without the one inside, the clone goes through beside the other */
    pt_space_select(&dst);
    CHECK_EQ(pt_swap_clear(vaddr(CB + 3 * SPAN2 + 3 * SPAN1), NULL), PT_OK);
    pt_space_select(NULL);
    CHECK_EQ(pt_space_clone(&dst, &src, vaddr(CB), CLONE_END - CB, PT_CLONE_COW, count_refs, &r,
                            &copied), PT_OK);
    CHECK_EQ(r.swaps, CLONE_SWAPS);
    CHECK_EQ(entry_of(&dst, CLONE_END), pte_swap_entry(401));
    pt_space_select(&dst);
    CHECK_EQ(pt_table_used(1, vaddr(CB + 3 * SPAN2)), 2);    /* its leaf and the 401 */
    pt_space_select(NULL);
    CHECK_EQ(space_bad_counts(&dst), 0);
}

/* ---- destroy ---- */

struct reported {
    unsigned leaves, swaps, bad;
    uint64_t va[16];
    pte_t e[16];
};

static void on_leaf(vaddr_t va, paddr_t f, uint64_t size, void *ctx)
{
    (void)va;
    (void)f;
    (void)size;
    ((struct reported *)ctx)->leaves++;
}

static void on_swap(vaddr_t va, pte_t e, void *ctx)
{
    struct reported *r = ctx;
    if (r->swaps < CHECK_COUNT(r->va)) {
        r->va[r->swaps] = va.va;
        r->e[r->swaps] = e;
    }
    r->swaps++;
}

/* Swap entries at the first and last user page, a PT of swap entries
 * only, and beside leaves: each reported once, in address order, with its
 * va and entry; every leaf once; every table back. */
static void test_destroy_swapped_reports_every_swap_entry_once_with_its_va(void)
{
    boot();
    uint64_t zone = used_all();
    CHECK_EQ(pt_space_create(&as), PT_OK);
    pt_space_select(&as);
    const uint64_t vas[] = { USER_BASE, USER_BASE + 7 * SPAN1, USER_BASE + SPAN3 + 3 * SPAN2,
                             USER_BASE + SPAN3 + 3 * SPAN2 + 511 * SPAN1, USER_LAST_PAGE };
    for (unsigned k = 0; k < CHECK_COUNT(vas); k++)
        swap_at(vas[k], 500 + k);
    map4k(USER_BASE + 6 * SPAN1, fake_frame(1), RW_USER);
    map4k(USER_LAST_PAGE - SPAN1, fake_frame(2), RW_USER);
    pt_space_select(NULL);
    struct reported r = { 0 };
    CHECK_EQ(pt_space_destroy_swapped(&as, on_leaf, on_swap, &r), PT_OK);
    CHECK_EQ(r.leaves, 2);
    CHECK_EQ(r.swaps, CHECK_COUNT(vas));
    for (unsigned k = 0; k < CHECK_COUNT(vas) && k < r.swaps; k++) {
        CHECK_EQ(r.va[k], vas[k]);
        CHECK_EQ(r.e[k], pte_swap_entry(500 + k));
    }
    CHECK_EQ(used_all(), zone);
    CHECK_EQ(pmm_verify(strategy_table_zone()), PMM_OK);
    /* the refusals are destroy's: a dead space, then the selected one */
    r.swaps = 0;
    CHECK_EQ(pt_space_destroy_swapped(&as, on_leaf, on_swap, &r), PT_ERR_SPACE_IN_USE);
    CHECK_EQ(pt_space_create(&as), PT_OK);
    pt_space_select(&as);
    swap_at(USER_BASE, 1);
    CHECK_EQ(pt_space_destroy_swapped(&as, on_leaf, on_swap, &r), PT_ERR_SPACE_IN_USE);
    CHECK_EQ(r.swaps, 0);
    pt_space_select(NULL);
    CHECK_EQ(pt_space_destroy_swapped(&as, NULL, on_swap, &r), PT_OK);   /* leaf() may be NULL */
    CHECK_EQ(r.swaps, 1);
}

#define LOST (USER_BASE + SPAN3 + 9 * SPAN1)

static void destroy_with_no_swapped(void)
{
    boot();
    CHECK_EQ(pt_space_create(&as), PT_OK);
    pt_space_select(&as);
    map4k(USER_BASE, fake_frame(1), RW_USER);
    swap_at(LOST, 12);
    pt_space_select(NULL);
    pt_space_destroy(&as, NULL, NULL);
}

static void test_destroy_without_swapped_panics_at_a_swap_entry_naming_its_address(void)
{
    char buf[512], want[256];
    snprintf(want, sizeof(want), "PANIC: pt_space_destroy: swap entry 0x%llx (slot 12) at 0x%llx,"
             " and no swapped() to drop its slot\n", (unsigned long long)pte_swap_entry(12),
             (unsigned long long)LOST);
    CHECK(aborts(destroy_with_no_swapped, buf, sizeof(buf)) && strcmp(buf, want) == 0,
          "want \"%s\", got \"%s\"", want, buf);
}

/* ---- the next swap entry ---- */

static const uint64_t next_vas[] = {
    USER_BASE, USER_BASE + 5 * SPAN1, USER_BASE + SPAN3 + 3 * SPAN2 + 7 * SPAN1,
    USER_BASE + 2 * SPAN3, USER_BASE + PT_LEVEL_SPAN(4) + SPAN1, USER_LAST_PAGE,
};
#define NEXT_COUNT CHECK_COUNT(next_vas)

/* In address order, each once, with its entry; leaves between are not
 * swap entries; the limit stops the search at, below and above a swap
 * entry; from inside a swapped-out page skips it; it reads only, holds
 * the selection, and never lists the kernel's slots. */
static void test_next_swap_below_lists_every_swap_entry_in_order_up_to_its_limit(void)
{
    boot();
    static struct pt_space other;
    CHECK_EQ(pt_space_create(&as), PT_OK);
    CHECK_EQ(pt_space_create(&other), PT_OK);
    pt_space_select(&as);
    for (unsigned k = 0; k < NEXT_COUNT; k++) {
        swap_at(next_vas[k], 700 + k);
        if (next_vas[k] != USER_LAST_PAGE)
            map4k(next_vas[k] + SPAN1, fake_frame(k), RW_USER);   /* a leaf after each */
    }
    pt_space_select(&other);                                   /* held across the calls */
    struct pt_op_stats s0 = op_now(PT_OP_OTHER);
    vaddr_t at;
    pte_t e;
    unsigned n = 0;
    for (vaddr_t from = vaddr(0);
         pt_space_next_swap_below(&as, from, vaddr(USER_END), &at, &e) == PT_OK;
         from = vaddr(at.va + PAGE_SIZE)) {
        if (!CHECK(n < NEXT_COUNT, "more swap entries than there are"))
            break;
        CHECK_EQ(at.va, next_vas[n]);
        CHECK_EQ(e, pte_swap_entry(700 + n));
        n++;
    }
    CHECK_EQ(n, NEXT_COUNT);
    CHECK(pt_space_selected() == &other, "the selection is kept");
    CHECK_EQ(op_now(PT_OP_OTHER).pte_writes, s0.pte_writes);
    /* the limit, around next_vas[2] */
    uint64_t v = next_vas[2];
    CHECK_EQ(pt_space_next_swap_below(&as, vaddr(next_vas[1] + 1), vaddr(v), &at, &e),
             PT_ERR_UNMAPPED);                                  /* at it: excluded */
    CHECK_EQ(pt_space_next_swap_below(&as, vaddr(next_vas[1] + 1), vaddr(v - 1), &at, &e),
             PT_ERR_UNMAPPED);                                  /* below it */
    CHECK_EQ(pt_space_next_swap_below(&as, vaddr(next_vas[1] + 1), vaddr(v + 1), &at, &e),
             PT_OK);                                            /* above it */
    CHECK_EQ(at.va, v);
    /* from: at the entry, inside its page, past it */
    CHECK_EQ(pt_space_next_swap_below(&as, vaddr(v), vaddr(USER_END), &at, &e), PT_OK);
    CHECK_EQ(at.va, v);
    CHECK_EQ(pt_space_next_swap_below(&as, vaddr(v + 8), vaddr(USER_END), &at, &e), PT_OK);
    CHECK_EQ(at.va, next_vas[3]);
    CHECK_EQ(pt_space_next_swap_below(&as, vaddr(v), vaddr(v), &at, &e), PT_ERR_UNMAPPED);
    CHECK_EQ(pt_space_next_swap_below(&as, vaddr(USER_LAST_PAGE), vaddr(USER_END), &at, &e),
             PT_OK);
    CHECK_EQ(at.va, USER_LAST_PAGE);
    CHECK_EQ(pt_space_next_swap_below(&as, vaddr(USER_LAST_PAGE + 1), vaddr(USER_END), &at, &e),
             PT_ERR_UNMAPPED);
    CHECK_EQ(pt_space_next_swap_below(&as, vaddr(USER_END), vaddr(~0ULL), &at, &e),
             PT_ERR_UNMAPPED);
    /* a space with leaves only, and the kernel's, have none */
    pt_space_select(&other);
    map4k(USER_BASE, fake_frame(1), RW_USER);
    CHECK_EQ(pt_space_next_swap_below(&other, vaddr(0), vaddr(USER_END), &at, &e),
             PT_ERR_UNMAPPED);
    CHECK_EQ(pt_space_next_swap_below(&pt_kernel_space, vaddr(0), vaddr(USER_END), &at, &e),
             PT_ERR_UNMAPPED);
    pt_space_select(NULL);
}

/* ---- what the dumps show ---- */

struct seen {
    unsigned swap, not_present;
    pte_t entry;
    uint64_t va;
    unsigned level;
};

static void on_visit(const struct pt_visit_entry *x, void *ctx)
{
    struct seen *s = ctx;
    if (x->kind == PT_VISIT_SWAP) {
        s->swap++;
        s->entry = x->entry;
        s->va = x->va.va;
        s->level = x->level;
    }
    s->not_present += x->kind == PT_VISIT_NOT_PRESENT;
}

static void test_visit_and_the_dumps_show_a_swap_entry_by_its_slot(void)
{
    space_up(false);
    const uint64_t va = USER_BASE + 3 * SPAN1;
    map4k(USER_BASE, fake_frame(1), RW_USER);
    swap_at(va, 12);
    struct seen s = { 0 };
    pt_visit(1, on_visit, &s);
    CHECK_EQ(s.swap, 1);
    CHECK_EQ(s.not_present, 0);
    CHECK_EQ(s.entry, pte_swap_entry(12));
    CHECK_EQ(s.va, va);
    CHECK_EQ(s.level, 1);
    char want[160];
    /* raw: the entry, the slot, no flags (its bit 1 is no W) */
    snprintf(want, sizeof(want), "    L1[3] 0x%016llx swapped out, swap slot 12 va 0x%016llx\n",
             (unsigned long long)pte_swap_entry(12), (unsigned long long)va);
    fake_capture_start();
    pt_dump_raw(1);
    const char *out = fake_capture_end();
    CHECK(strstr(out, want) != NULL, "raw dump lacks \"%s\":\n%s", want, out);
    snprintf(want, sizeof(want), "0x%016llx-0x%016llx swapped out, swap slot 12\n",
             (unsigned long long)va, (unsigned long long)(va + PAGE_SIZE - 1));
    fake_capture_start();
    pt_dump_ranges();
    out = fake_capture_end();
    CHECK(strstr(out, want) != NULL, "ranges dump lacks \"%s\":\n%s", want, out);
    snprintf(want, sizeof(want), "0x%016llx-0x%016llx -> 0x%012llx-0x%012llx rw- user\n",
             (unsigned long long)USER_BASE, (unsigned long long)(USER_BASE + PAGE_SIZE - 1),
             (unsigned long long)fake_frame(1).pa,
             (unsigned long long)(fake_frame(1).pa + PAGE_SIZE - 1));
    CHECK(strstr(out, want) != NULL, "the leaf's line is gone:\n%s", out);
    space_down();
}

static const struct check_test tests[] = {
    CHECK_TEST(test_the_swap_entry_is_never_0_present_or_in_the_count_bits),
    CHECK_TEST(test_entry_get_reads_each_kind_and_refuses_the_rest_by_name),
    CHECK_TEST(test_swap_out_in_the_active_space_costs_one_invlpg),
    CHECK_TEST(test_swap_out_of_entry_0_keeps_the_tables_count),
    CHECK_TEST(test_swap_out_of_entry_511),
    CHECK_TEST(test_swap_out_in_an_inactive_space_invalidates_nothing),
    CHECK_TEST(test_swap_out_of_entry_0_in_an_inactive_space),
    CHECK_TEST(test_swap_out_takes_slot_0_and_the_largest_slot_at_the_ends_of_the_user_half),
    CHECK_TEST(test_swap_out_refuses_every_wrong_kind_and_argument_and_changes_nothing),
    CHECK_TEST(test_swap_in_in_the_active_space_invalidates_nothing),
    CHECK_TEST(test_swap_in_of_entry_0_keeps_the_tables_count),
    CHECK_TEST(test_swap_in_in_an_inactive_space_invalidates_nothing),
    CHECK_TEST(test_swap_in_refuses_every_wrong_kind_and_argument_and_changes_nothing),
    CHECK_TEST(test_swap_clear_refuses_every_wrong_kind_and_argument_and_changes_nothing),
    CHECK_TEST(test_swap_clear_of_entry_0_keeps_the_count_of_the_rest),
    CHECK_TEST(test_swap_clear_of_the_last_entry_frees_what_unmap_frees_in_the_active_space),
    CHECK_TEST(test_swap_clear_of_the_last_entry_frees_what_unmap_frees_in_an_inactive_space),
    CHECK_TEST(test_through_the_mmu_a_page_swapped_out_and_in_reads_its_bytes_from_the_new_frame),
    CHECK_TEST(test_through_the_mmu_a_swapped_out_page_faults_at_once),
    CHECK_TEST(test_map_over_a_swap_entry_is_refused_and_changes_nothing),
    CHECK_TEST(test_unmap_protect_and_remap_leave_a_swap_entry_alone),
    CHECK_TEST(test_a_swap_entry_keeps_its_table_through_the_unmap_of_every_leaf),
    CHECK_TEST(test_pt_init_recounts_a_swap_entry_as_used),
    CHECK_TEST(test_clone_copies_swap_entries_into_dst_and_counts_them),
    CHECK_TEST(test_clone_of_the_active_space_invalidates_only_its_writable_leaves),
    CHECK_TEST(test_clone_refuses_a_swap_entry_in_dst_before_any_change),
    CHECK_TEST(test_destroy_swapped_reports_every_swap_entry_once_with_its_va),
    CHECK_TEST(test_destroy_without_swapped_panics_at_a_swap_entry_naming_its_address),
    CHECK_TEST(test_next_swap_below_lists_every_swap_entry_in_order_up_to_its_limit),
    CHECK_TEST(test_visit_and_the_dumps_show_a_swap_entry_by_its_slot),
};

int main(void)
{
    return check_main("swap", tests, CHECK_COUNT(tests));
}
