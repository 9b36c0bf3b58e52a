/*
 * test_vm.c - host tests of a process's regions and the page faults
 * resolved in them (kernel/proc/vm.c), with the strategy the test is built
 * with (tests/host/paging.mk), over fake_cpu.c's simulated machine and
 * simulated processes (vm_sim.h): demand-zero (a write is one zeroed frame,
 * a read the zero frame read-only and no frame), a write over the zero
 * frame, copy-on-write fork (shared read-only with two references, a copy
 * for a writer that shares, the same frame for the last), shared memory
 * across fork both ways and its frames freed with the last region, the
 * stack grown to its limit and the guard page below it, the kills (no
 * region, a write without W, a fetch without X, a reserved bit, out of
 * frames with nothing leaked), fork with exactly the tables it needs and
 * short of them, the kernel's own touch of user memory (vm_touch),
 * munmap's splits and the region limit at, below and above it, and
 * mprotect keeping shared and zero frames read-only. Every test ends with
 * every frame back.
 *
 * Expected values come from the pages each test touches and the paging
 * structure (a first page in a PML4 slot needs a PDPT, a PD and a PT),
 * never from vm.c: frame counts are the allocator's (both zones, so the
 * tables count in every strategy), contents are read from the frames.
 * The randomised model test is tests/host/test_vm_model.c.
 */
#include "vm_sim.h"

#define ANON USER_MMAP_BASE                         /* a private region */
#define SHM (USER_MMAP_BASE + 64 * PAGE_SIZE)        /* a shared one, same PT */
#define HEAP_AT (USER_BASE + 16 * PAGE_SIZE)          /* the heap: PML4 slot 1 */
#define PG(base, i) ((base) + (uint64_t)(i) * PAGE_SIZE)
/* A first page under an empty PML4 slot: its PDPT, PD and PT. */
#define PATH_TABLES 3
#define RW PT_PROT_WRITE
#define RO 0u

/* Frames handed out by both zones: data, tables, shared-object indexes. */
static uint64_t taken(void) { return sim_used(PMM_ZONE_GENERAL) + sim_used(PMM_ZONE_TABLE_POOL); }

static uint64_t boot_taken;

static void boot(void)
{
    sim_boot();
    boot_taken = taken();
}

/* Everything is back: every frame, no reference, no shared object. */
static void all_back(void)
{
    struct frame_meta_census c;
    frame_meta_census(&c);
    CHECK_EQ(taken(), boot_taken);
    CHECK_EQ(c.refs, 0);
    CHECK_EQ(c.live, 0);
    CHECK_EQ(vm_shm_live(), 0);
}

/* A process with one region [start, start + pages) of kind, and its
 * space running. */
static void spawn_with(struct sim_proc *p, uint64_t start, unsigned pages, uint32_t prot,
                       enum vm_kind kind, struct vm_shm *shm)
{
    sim_spawn(p);
    CHECK(vm_region_add(&p->vm, start, PG(start, pages), prot, kind, shm, 0),
          "vm_region_add refused [0x%lx, +%u pages)", (unsigned long)start, pages);
    sim_run(p);
}

static struct vm_shm *shm_new(uint32_t pages)
{
    long err = 0;
    struct vm_shm *s = vm_shm_new(pages, &err);
    CHECK(s != NULL, "vm_shm_new(%u): %ld", pages, err);
    return s;
}

/* ---- demand-zero ---- */

static void test_a_first_write_is_one_zero_fill_and_one_zeroed_frame(void)
{
    boot();
    struct sim_proc p;
    spawn_with(&p, ANON, 4, RW, VM_ANON, NULL);
    uint64_t t0 = taken();
    SIM_EXPECT(sim_write(&p, PG(ANON, 1) + 100, 0x5A), VM_RESOLVED_ZERO_FILL);
    CHECK_EQ(p.vm.c.faults, 1);
    CHECK_EQ(p.vm.c.zero_fills, 1);
    CHECK_EQ(p.vm.c.zero_maps + p.vm.c.cow_copies + p.vm.c.cow_reuses, 0);
    CHECK_EQ(taken() - t0, 1 + PATH_TABLES);
    CHECK_EQ(pt_space_tables(&p.as), PATH_TABLES);
    paddr_t f = sim_frame(&p, PG(ANON, 1));
    CHECK(!vm_is_zero_frame(f), "the zero frame was written");
    CHECK_EQ(frame_refs(f), 1);
    CHECK_EQ(sim_prot(&p, PG(ANON, 1)), PT_PROT_USER | PT_PROT_WRITE);
    /* zeroed (it held SIM_DIRT), but for the byte written */
    uint8_t *b = fake_phys(f.pa);
    unsigned bad = 0;
    for (unsigned i = 0; i < PAGE_SIZE; i++)
        bad += b[i] != (i == 100 ? 0x5A : 0);
    CHECK_EQ(bad, 0);
    /* the neighbours have no leaf; the same page again: no fault */
    CHECK_EQ(sim_frame(&p, PG(ANON, 0)).pa, 0);
    CHECK_EQ(sim_frame(&p, PG(ANON, 2)).pa, 0);
    SIM_EXPECT(sim_write(&p, PG(ANON, 1), 1), SIM_NO_FAULT);
    CHECK_EQ(p.vm.c.faults, 1);
    sim_exit(&p);
    all_back();
}

static void test_a_first_read_maps_the_zero_frame_read_only_and_takes_no_frame(void)
{
    boot();
    struct sim_proc p;
    spawn_with(&p, ANON, 4, RW, VM_ANON, NULL);
    uint64_t t0 = taken();
    uint8_t b = 0xFF;
    SIM_EXPECT(sim_access(&p, PG(ANON, 2) + 7, SIM_READ, &b), VM_RESOLVED_ZERO_PAGE);
    CHECK_EQ(b, 0);
    CHECK_EQ(p.vm.c.faults, 1);
    CHECK_EQ(p.vm.c.zero_maps, 1);
    CHECK_EQ(p.vm.c.zero_fills, 0);
    CHECK_EQ(taken() - t0, PATH_TABLES);                    /* tables only */
    paddr_t f = sim_frame(&p, PG(ANON, 2));
    CHECK_EQ(f.pa, kmap_zero_frame().pa);
    CHECK_EQ(sim_prot(&p, PG(ANON, 2)), PT_PROT_USER);     /* read-only, whatever the region */
    CHECK_EQ(frame_refs(f), 0);                             /* nobody's */
    /* a second page: the same frame, still no frame taken */
    SIM_EXPECT(sim_access(&p, PG(ANON, 3), SIM_READ, &b), VM_RESOLVED_ZERO_PAGE);
    CHECK_EQ(sim_frame(&p, PG(ANON, 3)).pa, f.pa);
    CHECK_EQ(taken() - t0, PATH_TABLES);
    CHECK(sim_frame_zero(f), "the zero frame is not zero");
    sim_exit(&p);
    all_back();
}

static void test_a_write_over_the_zero_frame_is_a_zero_fill_with_one_invlpg(void)
{
    boot();
    struct sim_proc p;
    spawn_with(&p, ANON, 4, RW, VM_ANON, NULL);
    CHECK_EQ(sim_read(&p, PG(ANON, 0)), 0);
    uint64_t t0 = taken(), inv0 = p.vm.c.invlpgs;
    SIM_EXPECT(sim_write(&p, PG(ANON, 0) + 4095, 0x77), VM_RESOLVED_ZERO_FILL);
    CHECK_EQ(p.vm.c.zero_fills, 1);
    CHECK_EQ(p.vm.c.faults, 2);
    CHECK_EQ(taken() - t0, 1);
    CHECK_EQ(p.vm.c.invlpgs - inv0, 1);                     /* pt_remap of the active space */
    paddr_t f = sim_frame(&p, PG(ANON, 0));
    CHECK(!vm_is_zero_frame(f), "still the zero frame");
    CHECK_EQ(frame_refs(f), 1);
    CHECK_EQ(sim_prot(&p, PG(ANON, 0)), PT_PROT_USER | PT_PROT_WRITE);
    CHECK_EQ(sim_read(&p, PG(ANON, 0) + 4095), 0x77);
    CHECK_EQ(sim_read(&p, PG(ANON, 0) + 4094), 0);
    CHECK(sim_frame_zero(kmap_zero_frame()), "the zero frame was written");
    sim_exit(&p);
    all_back();
}

/* ---- copy-on-write fork ---- */

#define COW_PAGES 8

/* A parent with COW_PAGES written pages (page i holds i + 1 at offset i)
 * and one page read (the zero frame) after them, and its forked child. */
static void forked_pair(struct sim_proc *parent, struct sim_proc *child)
{
    spawn_with(parent, ANON, COW_PAGES + 1, RW, VM_ANON, NULL);
    for (unsigned i = 0; i < COW_PAGES; i++)
        SIM_EXPECT(sim_write(parent, PG(ANON, i) + i, (uint8_t)(i + 1)), VM_RESOLVED_ZERO_FILL);
    CHECK_EQ(sim_read(parent, PG(ANON, COW_PAGES)), 0);
    CHECK_EQ(sim_fork(child, parent), 0);
}

static void test_fork_shares_every_frame_read_only_with_two_references(void)
{
    boot();
    struct sim_proc p, c;
    spawn_with(&p, ANON, COW_PAGES + 1, RW, VM_ANON, NULL);
    for (unsigned i = 0; i < COW_PAGES; i++)
        sim_write(&p, PG(ANON, i) + i, (uint8_t)(i + 1));
    CHECK_EQ(sim_read(&p, PG(ANON, COW_PAGES)), 0);
    uint64_t t0 = taken();
    CHECK_EQ(sim_fork(&c, &p), 0);
    /* the child's PML4 and its path of tables, no data frame */
    CHECK_EQ(taken() - t0, 1 + PATH_TABLES);
    CHECK_EQ(c.vm.n, 1);
    CHECK_EQ(c.vm.r[0].start, ANON);
    for (unsigned i = 0; i < COW_PAGES; i++) {
        paddr_t f = sim_frame(&p, PG(ANON, i));
        CHECK_EQ(sim_frame(&c, PG(ANON, i)).pa, f.pa);
        CHECK_EQ(frame_refs(f), 2);
        CHECK_EQ(sim_prot(&p, PG(ANON, i)), PT_PROT_USER);
        CHECK_EQ(sim_prot(&c, PG(ANON, i)), PT_PROT_USER);
        CHECK_EQ(sim_read(&c, PG(ANON, i) + i), i + 1);
    }
    /* the zero-frame page: the zero frame in both, no count */
    CHECK_EQ(sim_frame(&c, PG(ANON, COW_PAGES)).pa, kmap_zero_frame().pa);
    CHECK_EQ(frame_refs(kmap_zero_frame()), 0);
    CHECK_EQ(c.vm.c.faults, 0);
    sim_exit(&c);
    for (unsigned i = 0; i < COW_PAGES; i++)
        CHECK_EQ(frame_refs(sim_frame(&p, PG(ANON, i))), 1);
    CHECK_EQ(taken(), t0);
    sim_exit(&p);
    all_back();
}

static void test_a_child_write_copies_and_the_last_sharer_reuses(void)
{
    boot();
    struct sim_proc p, c;
    forked_pair(&p, &c);
    paddr_t old = sim_frame(&p, PG(ANON, 0));
    uint64_t t0 = taken();
    SIM_EXPECT(sim_write(&c, PG(ANON, 0) + 2000, 0xC1), VM_RESOLVED_COW_COPY);
    CHECK_EQ(c.vm.c.cow_copies, 1);
    CHECK_EQ(taken() - t0, 1);
    paddr_t mine = sim_frame(&c, PG(ANON, 0));
    CHECK(mine.pa != old.pa, "the child still maps the parent's frame");
    CHECK_EQ(frame_refs(mine), 1);
    CHECK_EQ(frame_refs(old), 1);
    CHECK_EQ(sim_prot(&c, PG(ANON, 0)), PT_PROT_USER | PT_PROT_WRITE);
    CHECK_EQ(sim_prot(&p, PG(ANON, 0)), PT_PROT_USER);   /* the parent's leaf did not change */
    /* the copy is the parent's page plus the new byte */
    CHECK_EQ(sim_read(&c, PG(ANON, 0)), 1);
    CHECK_EQ(sim_read(&c, PG(ANON, 0) + 2000), 0xC1);
    CHECK_EQ(memcmp((uint8_t *)fake_phys(mine.pa) + 2001, (uint8_t *)fake_phys(old.pa) + 2001,
                    PAGE_SIZE - 2001), 0);
    CHECK_EQ(sim_read(&p, PG(ANON, 0) + 2000), 0);
    /* the parent, now alone on that frame: reuse, W back, no frame */
    t0 = taken();
    SIM_EXPECT(sim_write(&p, PG(ANON, 0) + 1, 0xB0), VM_RESOLVED_COW_REUSE);
    CHECK_EQ(p.vm.c.cow_reuses, 1);
    CHECK_EQ(sim_frame(&p, PG(ANON, 0)).pa, old.pa);
    CHECK_EQ(sim_prot(&p, PG(ANON, 0)), PT_PROT_USER | PT_PROT_WRITE);
    CHECK_EQ(taken(), t0);
    /* page 1 still shared: the parent's write copies too */
    SIM_EXPECT(sim_write(&p, PG(ANON, 1), 0xB1), VM_RESOLVED_COW_COPY);
    CHECK_EQ(sim_read(&c, PG(ANON, 1)), 0);                 /* offset 0 of page 1: never written */
    CHECK_EQ(sim_read(&c, PG(ANON, 1) + 1), 2);
    /* the child exits: every page it shared is the parent's alone */
    sim_exit(&c);
    for (unsigned i = 2; i < COW_PAGES; i++) {
        t0 = taken();
        SIM_EXPECT(sim_write(&p, PG(ANON, i), 0xB0), VM_RESOLVED_COW_REUSE);
        CHECK_EQ(taken(), t0);
        CHECK_EQ(sim_read(&p, PG(ANON, i) + i), i + 1);
    }
    CHECK_EQ(p.vm.c.cow_reuses, COW_PAGES - 1);
    sim_exit(&p);
    all_back();
}

static void test_a_zero_frame_page_after_fork_is_a_zero_fill_in_either(void)
{
    boot();
    struct sim_proc p, c;
    forked_pair(&p, &c);
    uint64_t t0 = taken();
    SIM_EXPECT(sim_write(&c, PG(ANON, COW_PAGES), 9), VM_RESOLVED_ZERO_FILL);
    SIM_EXPECT(sim_write(&p, PG(ANON, COW_PAGES), 8), VM_RESOLVED_ZERO_FILL);
    CHECK_EQ(taken() - t0, 2);
    CHECK(sim_frame(&c, PG(ANON, COW_PAGES)).pa != sim_frame(&p, PG(ANON, COW_PAGES)).pa,
          "two zero-fills share a frame");
    CHECK_EQ(sim_read(&c, PG(ANON, COW_PAGES)), 9);
    CHECK_EQ(sim_read(&p, PG(ANON, COW_PAGES)), 8);
    CHECK(sim_frame_zero(kmap_zero_frame()), "the zero frame was written");
    sim_exit(&p);
    sim_exit(&c);
    all_back();
}

/* ---- shared memory ---- */

#define SHM_PAGES 4

static void test_a_shared_region_is_shared_across_fork_both_ways(void)
{
    boot();
    struct sim_proc p, c;
    uint64_t t0 = taken();
    struct vm_shm *s = shm_new(SHM_PAGES);
    CHECK_EQ(taken() - t0, 1);                              /* its index frame */
    spawn_with(&p, SHM, SHM_PAGES, RW, VM_SHARED, s);
    SIM_EXPECT(sim_write(&p, PG(SHM, 0), 0x11), VM_RESOLVED_SHARED);
    CHECK_EQ(p.vm.c.shared_maps, 1);
    paddr_t f0 = sim_frame(&p, PG(SHM, 0));
    CHECK_EQ(frame_refs(f0), 2);                            /* the object and the leaf */
    CHECK_EQ(sim_prot(&p, PG(SHM, 0)), PT_PROT_USER | PT_PROT_WRITE);
    CHECK_EQ(sim_fork(&c, &p), 0);
    CHECK_EQ(sim_frame(&c, PG(SHM, 0)).pa, f0.pa);
    CHECK_EQ(frame_refs(f0), 3);
    CHECK_EQ(sim_prot(&p, PG(SHM, 0)), PT_PROT_USER | PT_PROT_WRITE);  /* not copy-on-write */
    CHECK_EQ(sim_prot(&c, PG(SHM, 0)), PT_PROT_USER | PT_PROT_WRITE);
    /* the child's write is the parent's, without a fault */
    SIM_EXPECT(sim_write(&c, PG(SHM, 0) + 1, 0x22), SIM_NO_FAULT);
    CHECK_EQ(sim_read(&p, PG(SHM, 0) + 1), 0x22);
    /* a page first touched by the child: the same frame for the parent */
    SIM_EXPECT(sim_write(&c, PG(SHM, 3), 0x33), VM_RESOLVED_SHARED);
    uint8_t b = 0;
    SIM_EXPECT(sim_access(&p, PG(SHM, 3), SIM_READ, &b), VM_RESOLVED_SHARED);
    CHECK_EQ(b, 0x33);
    CHECK_EQ(sim_frame(&p, PG(SHM, 3)).pa, sim_frame(&c, PG(SHM, 3)).pa);
    CHECK_EQ(frame_refs(sim_frame(&p, PG(SHM, 3))), 3);
    /* a first read of a shared page is the object's frame, zeroed, writable */
    SIM_EXPECT(sim_access(&p, PG(SHM, 2) + 9, SIM_READ, &b), VM_RESOLVED_SHARED);
    CHECK_EQ(b, 0);
    CHECK(sim_frame_zero(sim_frame(&p, PG(SHM, 2))), "a new shared page is not zeroed");
    CHECK(!vm_is_zero_frame(sim_frame(&p, PG(SHM, 2))), "a shared page on the zero frame");
    CHECK_EQ(sim_prot(&p, PG(SHM, 2)), PT_PROT_USER | PT_PROT_WRITE);
    CHECK_EQ(vm_shm_live(), 1);
    sim_exit(&c);
    sim_exit(&p);
    all_back();
}

static void test_munmap_of_a_shared_region_in_one_leaves_the_other_and_the_last_frees(void)
{
    boot();
    struct sim_proc p, c;
    spawn_with(&p, SHM, SHM_PAGES, RW, VM_SHARED, shm_new(SHM_PAGES));
    for (unsigned i = 0; i < SHM_PAGES; i++)
        sim_write(&p, PG(SHM, i), (uint8_t)(0x40 + i));
    CHECK_EQ(sim_fork(&c, &p), 0);
    paddr_t f[SHM_PAGES];
    for (unsigned i = 0; i < SHM_PAGES; i++)
        f[i] = sim_frame(&p, PG(SHM, i));
    uint64_t t0 = taken();
    sim_run(&c);
    CHECK_EQ(vm_unmap(&c.vm, SHM, PG(SHM, SHM_PAGES)), 0);
    CHECK_EQ(c.vm.n, 0);
    /* the child's emptied tables go; the object keeps every frame */
    CHECK_EQ(t0 - taken(), PATH_TABLES);
    CHECK_EQ(vm_shm_live(), 1);
    for (unsigned i = 0; i < SHM_PAGES; i++) {
        CHECK_EQ(sim_frame(&c, PG(SHM, i)).pa, 0);
        CHECK_EQ(frame_refs(f[i]), 2);
        CHECK_EQ(sim_read(&p, PG(SHM, i)), 0x40 + i);
    }
    SIM_EXPECT(sim_write(&c, PG(SHM, 0), 1), VM_KILL_NO_REGION);
    /* the last region goes: the object and every frame with it */
    sim_run(&p);
    CHECK_EQ(vm_unmap(&p.vm, SHM, PG(SHM, SHM_PAGES)), 0);
    CHECK_EQ(vm_shm_live(), 0);
    for (unsigned i = 0; i < SHM_PAGES; i++) {
        CHECK_EQ(frame_refs(f[i]), 0);
        CHECK_EQ(pmm_frame_state(PMM_ZONE_GENERAL, f[i]), PMM_FRAME_FREE);
    }
    /* both spaces' tables, the four frames and the index frame */
    CHECK_EQ(t0 - taken(), 2 * PATH_TABLES + SHM_PAGES + 1);
    sim_exit(&c);
    sim_exit(&p);
    all_back();
}

static void test_the_pieces_of_a_split_shared_region_keep_their_pages(void)
{
    boot();
    struct sim_proc p;
    long err = 0;
    /* a named object mapped twice: A at SHM, B 16 pages above */
    struct vm_shm *s = vm_shm_get("seg", 8 * PAGE_SIZE, &err);
    CHECK(s != NULL, "vm_shm_get: %ld", err);
    spawn_with(&p, SHM, 8, RW, VM_SHARED, s);
    CHECK(vm_shm_get("seg", 8 * PAGE_SIZE, &err) == s, "the name gave another object");
    CHECK(vm_region_add(&p.vm, PG(SHM, 16), PG(SHM, 24), RW, VM_SHARED, s, 0), "B");
    /* A cut before any touch: [1, 2) and [4, 8) are left */
    CHECK_EQ(vm_unmap(&p.vm, PG(SHM, 2), PG(SHM, 4)), 0);
    CHECK_EQ(vm_unmap(&p.vm, PG(SHM, 0), PG(SHM, 1)), 0);
    CHECK_EQ(p.vm.n, 3);
    CHECK_EQ(vm_shm_live(), 1);
    paddr_t f[8];
    for (unsigned i = 0; i < 8; i++) {
        SIM_EXPECT(sim_write(&p, PG(SHM, 16 + i), (uint8_t)(0x60 + i)), VM_RESOLVED_SHARED);
        f[i] = sim_frame(&p, PG(SHM, 16 + i));
    }
    /* each piece of A reaches the object's page of its own address */
    for (unsigned i = 0; i < 8; i++) {
        uint8_t b = 0;
        if (i == 0 || i == 2 || i == 3) {
            SIM_EXPECT(sim_access(&p, PG(SHM, i), SIM_READ, &b), VM_KILL_NO_REGION);
            CHECK_EQ(frame_refs(f[i]), 2);                  /* the object and B's leaf */
            continue;
        }
        SIM_EXPECT(sim_access(&p, PG(SHM, i), SIM_READ, &b), VM_RESOLVED_SHARED);
        CHECK_EQ(b, 0x60 + i);
        CHECK_EQ(sim_frame(&p, PG(SHM, i)).pa, f[i].pa);
        CHECK_EQ(frame_refs(f[i]), 3);
    }
    /* B goes: the object stays with A's pieces, and keeps every page */
    CHECK_EQ(vm_unmap(&p.vm, PG(SHM, 16), PG(SHM, 24)), 0);
    CHECK_EQ(vm_shm_live(), 1);
    for (unsigned i = 0; i < 8; i++) {
        bool in_a = !(i == 0 || i == 2 || i == 3);
        CHECK_EQ(frame_refs(f[i]), 1 + in_a);
        CHECK_EQ(*(uint8_t *)fake_phys(f[i].pa), 0x60 + i);
    }
    /* A's last pieces go: the object and every frame with them */
    CHECK_EQ(vm_unmap(&p.vm, PG(SHM, 0), PG(SHM, 8)), 0);
    CHECK_EQ(p.vm.n, 0);
    CHECK_EQ(vm_shm_live(), 0);
    for (unsigned i = 0; i < 8; i++)
        CHECK_EQ(pmm_frame_state(PMM_ZONE_GENERAL, f[i]), PMM_FRAME_FREE);
    sim_exit(&p);
    all_back();
}

/* ---- the stack ---- */

#define STACK_LOW (USER_STACK_TOP - USER_STACK_LIMIT)        /* the limit's page */
#define STACK_PAGES_MAX (USER_STACK_LIMIT / PAGE_SIZE)

static void stack_proc(struct sim_proc *p)
{
    spawn_with(p, USER_STACK_TOP - PAGE_SIZE, 1, RW, VM_STACK, NULL);
}

static void stack_case(uint64_t va, enum sim_op op, int want, uint64_t grown)
{
    boot();
    struct sim_proc p;
    stack_proc(&p);
    uint8_t b = 0x3C;
    uint64_t t0 = taken();
    SIM_EXPECT(sim_access(&p, va, op, &b), want);
    CHECK_EQ(p.vm.c.stack_pages, grown);
    CHECK_EQ(p.vm.n, 1);
    CHECK_EQ(p.vm.r[0].start, USER_STACK_TOP - PAGE_SIZE - grown * PAGE_SIZE);
    if (VM_RESOLVED(want)) {
        /* the page, and its PT, PD and PDPT */
        CHECK_EQ(taken() - t0, (op == SIM_WRITE) + PATH_TABLES);
        CHECK_EQ(sim_read(&p, va), op == SIM_WRITE ? 0x3C : 0);
        CHECK_EQ(p.vm.c.zero_fills + p.vm.c.zero_maps, 1);
    } else {
        CHECK_EQ(taken(), t0);
        CHECK_EQ(sim_frame(&p, va).pa, 0);
    }
    sim_exit(&p);
    all_back();
}

static void test_a_write_at_the_stacks_limit_grows_it_to_the_limit(void)
{
    stack_case(STACK_LOW, SIM_WRITE, VM_RESOLVED_STACK_GROW, STACK_PAGES_MAX - 1);
}

static void test_a_read_at_the_stacks_limit_grows_it_onto_the_zero_frame(void)
{
    stack_case(STACK_LOW + 5, SIM_READ, VM_RESOLVED_STACK_GROW, STACK_PAGES_MAX - 1);
}

static void test_a_write_one_page_above_the_limit_grows_one_page_less(void)
{
    stack_case(STACK_LOW + PAGE_SIZE, SIM_WRITE, VM_RESOLVED_STACK_GROW, STACK_PAGES_MAX - 2);
}

static void test_the_page_just_below_the_stack_grows_it_by_one(void)
{
    stack_case(USER_STACK_TOP - 2 * PAGE_SIZE + 8, SIM_WRITE, VM_RESOLVED_STACK_GROW, 1);
}

static void test_the_guard_page_below_the_limit_kills(void)
{
    stack_case(STACK_LOW - 1, SIM_WRITE, VM_KILL_GUARD, 0);
}

static void test_below_the_guard_page_is_no_region(void)
{
    stack_case(STACK_LOW - PAGE_SIZE - 1, SIM_WRITE, VM_KILL_NO_REGION, 0);
}

static void test_a_stack_grown_to_its_limit_still_has_its_guard(void)
{
    boot();
    struct sim_proc p;
    stack_proc(&p);
    /* walked down page by page, each a fault and a zero-fill */
    for (uint64_t va = USER_STACK_TOP - 2 * PAGE_SIZE; va >= STACK_LOW; va -= PAGE_SIZE)
        if (!SIM_EXPECT(sim_write(&p, va, (uint8_t)(va >> 12)), VM_RESOLVED_STACK_GROW))
            break;
    CHECK_EQ(p.vm.c.stack_pages, STACK_PAGES_MAX - 1);
    CHECK_EQ(p.vm.c.zero_fills, STACK_PAGES_MAX - 1);
    CHECK_EQ(p.vm.c.faults, STACK_PAGES_MAX - 1);
    CHECK_EQ(p.vm.r[0].start, STACK_LOW);
    SIM_EXPECT(sim_write(&p, STACK_LOW - PAGE_SIZE, 1), VM_KILL_GUARD);
    SIM_EXPECT(sim_write(&p, STACK_LOW - 1, 1), VM_KILL_GUARD);
    CHECK_EQ(p.vm.r[0].start, STACK_LOW);
    CHECK_EQ(sim_read(&p, STACK_LOW), (uint8_t)(STACK_LOW >> 12));
    SIM_EXPECT(sim_write(&p, USER_STACK_TOP - PAGE_SIZE, 1), VM_RESOLVED_ZERO_FILL);
    sim_exit(&p);
    all_back();
}

/* ---- what is not resolved ---- */

static void test_writes_to_a_read_only_region_kill_present_or_not(void)
{
    boot();
    struct sim_proc p;
    spawn_with(&p, ANON, 2, RO, VM_CODE, NULL);
    uint64_t t0 = taken();
    SIM_EXPECT(sim_write(&p, PG(ANON, 0), 1), VM_KILL_WRITE);
    CHECK_EQ(sim_frame(&p, PG(ANON, 0)).pa, 0);
    CHECK_EQ(taken(), t0);
    CHECK_EQ(sim_read(&p, PG(ANON, 1)), 0);                 /* a read is fine: the zero frame */
    uint64_t t1 = taken();
    SIM_EXPECT(sim_write(&p, PG(ANON, 1), 1), VM_KILL_WRITE);   /* P = 1 now */
    CHECK_EQ(sim_frame(&p, PG(ANON, 1)).pa, kmap_zero_frame().pa);
    CHECK_EQ(sim_prot(&p, PG(ANON, 1)), PT_PROT_USER);
    CHECK_EQ(taken(), t1);
    CHECK_EQ(p.vm.c.faults, 3);
    CHECK_EQ(p.vm.c.zero_maps, 1);
    CHECK(sim_frame_zero(kmap_zero_frame()), "the zero frame was written");
    sim_exit(&p);
    all_back();
}

static void test_a_fetch_without_x_and_a_reserved_bit_kill(void)
{
    boot();
    struct sim_proc p;
    spawn_with(&p, ANON, 1, RW, VM_ANON, NULL);
    uint64_t t0 = taken();
    CHECK_EQ(vm_fault(&p.vm, ANON, PF_ERR_USER | PF_ERR_FETCH), VM_KILL_EXEC);
    CHECK_EQ(vm_fault(&p.vm, ANON, PF_ERR_USER | PF_ERR_PRESENT | PF_ERR_RSVD), VM_KILL_RSVD);
    CHECK_EQ(taken(), t0);
    CHECK_EQ(sim_frame(&p, ANON).pa, 0);
    CHECK_EQ(p.vm.c.faults, 2);
    sim_exit(&p);
    /* the same fetch from a region with X: resolved */
    spawn_with(&p, ANON, 1, PT_PROT_EXEC, VM_CODE, NULL);
    CHECK_EQ(vm_fault(&p.vm, ANON, PF_ERR_USER | PF_ERR_FETCH), VM_RESOLVED_ZERO_PAGE);
    CHECK_EQ(sim_prot(&p, ANON), PT_PROT_USER | PT_PROT_EXEC);
    sim_exit(&p);
    all_back();
}

static void test_no_region_just_past_a_regions_end_or_below_its_start(void)
{
    boot();
    struct sim_proc p;
    spawn_with(&p, PG(ANON, 4), 4, RW, VM_ANON, NULL);
    CHECK(vm_region_add(&p.vm, PG(ANON, 10), PG(ANON, 11), RW, VM_ANON, NULL, 0), "second");
    SIM_EXPECT(sim_write(&p, PG(ANON, 4) - 1, 1), VM_KILL_NO_REGION);   /* below the start */
    SIM_EXPECT(sim_write(&p, PG(ANON, 4), 1), VM_RESOLVED_ZERO_FILL);    /* at it */
    SIM_EXPECT(sim_write(&p, PG(ANON, 8) - 1, 1), VM_RESOLVED_ZERO_FILL); /* the last byte */
    SIM_EXPECT(sim_write(&p, PG(ANON, 8), 1), VM_KILL_NO_REGION);       /* the end */
    SIM_EXPECT(sim_write(&p, PG(ANON, 9) + 7, 1), VM_KILL_NO_REGION);   /* between two */
    SIM_EXPECT(sim_write(&p, PG(ANON, 10), 1), VM_RESOLVED_ZERO_FILL);
    SIM_EXPECT(sim_write(&p, PG(ANON, 11), 1), VM_KILL_NO_REGION);
    CHECK_EQ(sim_frame(&p, PG(ANON, 9)).pa, 0);
    CHECK_EQ(p.vm.c.zero_fills, 3);
    sim_exit(&p);
    all_back();
}

/* ---- out of frames ---- */

/* Frames taken from a zone until `leave` are free; release() gives them
 * back. */
static paddr_t *held;
static unsigned held_n;

static void hold(enum pmm_zone z, uint64_t leave)
{
    if (!held)
        held = malloc(2 * SIM_FRAMES * sizeof(*held));
    while (sim_free(z) > leave && pmm_alloc(z, &held[held_n]) == PMM_OK)
        held_n++;
    CHECK_EQ(sim_free(z), leave);
}

static void release(void)
{
    while (held_n) {
        paddr_t f = held[--held_n];
        enum pmm_zone z = pmm_frame_state(PMM_ZONE_GENERAL, f) == PMM_FRAME_USED
                              ? PMM_ZONE_GENERAL
                              : PMM_ZONE_TABLE_POOL;
        CHECK_EQ(pmm_free(z, f), PMM_OK);
    }
}

static bool tables_general(void) { return strategy_table_zone() == PMM_ZONE_GENERAL; }

/* The frames a first write in an untouched PML4 slot needs: one for the
 * page, PATH_TABLES from the strategy's table zone. Leaves exactly that,
 * less `short_by` from the zone that runs out first. */
static void leave_for_a_first_write(unsigned short_by)
{
    if (tables_general()) {
        hold(PMM_ZONE_GENERAL, 1 + PATH_TABLES - short_by);
    } else {
        hold(PMM_ZONE_TABLE_POOL, PATH_TABLES - short_by);
        hold(PMM_ZONE_GENERAL, 1);
    }
}

static void first_write_with(unsigned short_by)
{
    boot();
    struct sim_proc p;
    spawn_with(&p, ANON, 1, RW, VM_ANON, NULL);
    leave_for_a_first_write(short_by);
    uint64_t t0 = taken();
    SIM_EXPECT(sim_write(&p, ANON, 0x42), short_by ? VM_KILL_NO_MEMORY : VM_RESOLVED_ZERO_FILL);
    if (short_by) {
        CHECK_EQ(taken(), t0);                              /* nothing kept, nothing leaked */
        CHECK_EQ(sim_frame(&p, ANON).pa, 0);
        CHECK_EQ(pt_space_tables(&p.as), 0);
    } else {
        CHECK_EQ(taken() - t0, 1 + PATH_TABLES);
        CHECK_EQ(sim_read(&p, ANON), 0x42);
    }
    release();
    sim_exit(&p);
    all_back();
}

static void test_a_first_write_with_exactly_the_frames_it_needs_is_resolved(void)
{
    first_write_with(0);
}

static void test_a_first_write_one_table_short_kills_and_leaks_nothing(void)
{
    first_write_with(1);
}

static void test_a_first_write_with_no_frame_for_the_page_kills_and_leaks_nothing(void)
{
    boot();
    struct sim_proc p;
    spawn_with(&p, ANON, 2, RW, VM_ANON, NULL);
    CHECK_EQ(sim_read(&p, PG(ANON, 1)), 0);                 /* the tables exist */
    hold(PMM_ZONE_GENERAL, 0);
    uint64_t t0 = taken();
    SIM_EXPECT(sim_write(&p, ANON, 1), VM_KILL_NO_MEMORY);        /* zero-fill, P = 0 */
    SIM_EXPECT(sim_write(&p, PG(ANON, 1), 1), VM_KILL_NO_MEMORY); /* over the zero frame */
    CHECK_EQ(taken(), t0);
    CHECK_EQ(sim_frame(&p, ANON).pa, 0);
    CHECK_EQ(sim_frame(&p, PG(ANON, 1)).pa, kmap_zero_frame().pa);
    CHECK_EQ(sim_prot(&p, PG(ANON, 1)), PT_PROT_USER);
    /* one frame back: the same write is resolved */
    CHECK_EQ(pmm_free(PMM_ZONE_GENERAL, held[--held_n]), PMM_OK);
    SIM_EXPECT(sim_write(&p, PG(ANON, 1), 1), VM_RESOLVED_ZERO_FILL);
    CHECK_EQ(sim_free(PMM_ZONE_GENERAL), 0);
    release();
    sim_exit(&p);
    all_back();
}

static void test_a_cow_copy_and_a_shared_page_with_no_frame_kill_and_leak_nothing(void)
{
    boot();
    struct sim_proc p, c;
    forked_pair(&p, &c);
    struct sim_proc q;
    spawn_with(&q, SHM, 2, RW, VM_SHARED, shm_new(2));
    CHECK_EQ(sim_read(&q, PG(SHM, 1)), 0);                  /* tables and page 1's frame */
    hold(PMM_ZONE_GENERAL, 0);
    struct frame_meta_census c0, c1;
    frame_meta_census(&c0);
    uint64_t t0 = taken();
    paddr_t shared = sim_frame(&c, ANON);
    SIM_EXPECT(sim_write(&c, ANON, 1), VM_KILL_NO_MEMORY);
    CHECK_EQ(sim_frame(&c, ANON).pa, shared.pa);
    CHECK_EQ(sim_prot(&c, ANON), PT_PROT_USER);
    CHECK_EQ(frame_refs(shared), 2);
    SIM_EXPECT(sim_write(&q, PG(SHM, 0), 1), VM_KILL_NO_MEMORY);
    CHECK_EQ(sim_frame(&q, PG(SHM, 0)).pa, 0);
    frame_meta_census(&c1);
    CHECK_EQ(taken(), t0);
    CHECK_EQ(c1.refs, c0.refs);
    CHECK_EQ(c1.live, c0.live);
    release();
    SIM_EXPECT(sim_write(&c, ANON, 1), VM_RESOLVED_COW_COPY);
    SIM_EXPECT(sim_write(&q, PG(SHM, 0), 1), VM_RESOLVED_SHARED);
    sim_exit(&p);
    sim_exit(&c);
    sim_exit(&q);
    all_back();
}

/* A parent with 4 written pages in the heap (PML4 slot 1) and 4 in an
 * anonymous region (slot 32), forking with the table zone holding exactly
 * `frames`: the child's PML4 and its two paths of PDPT, PD, PT need 7. */
static void fork_with(unsigned frames)
{
    boot();
    struct sim_proc p, c;
    spawn_with(&p, ANON, 4, RW, VM_ANON, NULL);
    CHECK_EQ(vm_heap_set(&p.vm, HEAP_AT, PG(HEAP_AT, 4)), 0);
    for (unsigned i = 0; i < 4; i++) {
        sim_write(&p, PG(HEAP_AT, i), (uint8_t)(0x10 + i));
        sim_write(&p, PG(ANON, i), (uint8_t)(0x20 + i));
    }
    hold(strategy_table_zone(), frames);
    uint64_t t0 = taken();
    long want = frames < 1 + 2 * PATH_TABLES ? -SYS_ENOMEM : 0;
    CHECK_EQ(sim_fork(&c, &p), want);
    if (want) {
        /* the child is gone (sim_fork destroys it as sys_fork does) */
        CHECK_EQ(taken(), t0);
    } else {
        CHECK_EQ(taken() - t0, 1 + 2 * PATH_TABLES);
        CHECK_EQ(sim_read(&c, PG(ANON, 3)), 0x23);
        sim_exit(&c);
    }
    release();
    /* the parent is whole: its bytes, one reference each, and writes that
     * take no frame (W back on its own frames, or never lost) */
    uint64_t t1 = taken();
    for (unsigned i = 0; i < 4; i++) {
        CHECK_EQ(frame_refs(sim_frame(&p, PG(HEAP_AT, i))), 1);
        CHECK_EQ(frame_refs(sim_frame(&p, PG(ANON, i))), 1);
        int o1 = sim_write(&p, PG(HEAP_AT, i) + 1, 1), o2 = sim_write(&p, PG(ANON, i) + 1, 1);
        CHECK(o1 == VM_RESOLVED_COW_REUSE || o1 == SIM_NO_FAULT, "heap page %u: %s", i,
              sim_outcome(o1));
        CHECK(o2 == VM_RESOLVED_COW_REUSE || o2 == SIM_NO_FAULT, "anon page %u: %s", i,
              sim_outcome(o2));
        CHECK_EQ(sim_read(&p, PG(HEAP_AT, i)), 0x10 + i);
        CHECK_EQ(sim_read(&p, PG(ANON, i)), 0x20 + i);
    }
    CHECK_EQ(taken(), t1);
    sim_exit(&p);
    all_back();
}

static void test_a_fork_with_exactly_the_tables_it_needs_works(void) { fork_with(7); }

static void test_a_fork_one_table_short_is_enomem_and_leaves_the_parent_whole(void)
{
    fork_with(6);
}

static void test_a_fork_with_only_the_pml4_is_enomem_and_leaves_the_parent_whole(void)
{
    fork_with(1);
}

/* ---- the kernel's touch of user memory (vm_touch) ---- */

static void test_vm_touch_resolves_each_page_as_its_fault_would_without_counting_faults(void)
{
    boot();
    struct sim_proc p, c;
    forked_pair(&p, &c);                    /* pages 0-7 shared, page 8 the zero frame */
    CHECK(vm_region_add(&c.vm, PG(ANON, 9), PG(ANON, 11), RW, VM_ANON, NULL, 0), "more");
    sim_run(&c);
    uint64_t t0 = taken();
    /* a write() buffer over page 7 (shared), 8 (zero frame), 9 and 10 (nothing) */
    CHECK(vm_touch(&c.vm, PG(ANON, 7) + 100, 3 * PAGE_SIZE + 1, true), "vm_touch refused");
    CHECK_EQ(c.vm.c.faults, 0);
    CHECK_EQ(c.vm.c.cow_copies, 1);
    CHECK_EQ(c.vm.c.zero_fills, 3);
    CHECK_EQ(taken() - t0, 4);
    for (unsigned i = 7; i < 11; i++)
        CHECK_EQ(sim_prot(&c, PG(ANON, i)), PT_PROT_USER | PT_PROT_WRITE);
    CHECK_EQ(sim_read(&c, PG(ANON, 7) + 7), 8);
    CHECK_EQ(sim_read(&p, PG(ANON, 7) + 7), 8);
    /* in the parent: a read() touch of a page with no leaf maps the zero
     * frame; past the region's end or USER_END: refused */
    sim_run(&p);
    uint64_t f0 = p.vm.c.faults;
    CHECK_EQ(vm_unmap(&p.vm, PG(ANON, 8), PG(ANON, 9)), 0);
    CHECK(vm_region_add(&p.vm, PG(ANON, 8), PG(ANON, 9), RW, VM_ANON, NULL, 0), "page 8 again");
    CHECK_EQ(sim_frame(&p, PG(ANON, 8)).pa, 0);
    CHECK(vm_touch(&p.vm, PG(ANON, 8) + 5, 1, false), "read touch");
    CHECK_EQ(sim_frame(&p, PG(ANON, 8)).pa, kmap_zero_frame().pa);
    CHECK_EQ(sim_prot(&p, PG(ANON, 8)), PT_PROT_USER);
    CHECK(!vm_touch(&p.vm, PG(ANON, 8), PAGE_SIZE + 1, false), "a touch past the region");
    CHECK(!vm_touch(&p.vm, USER_END - 1, 2, false), "a touch past USER_END");
    CHECK_EQ(p.vm.c.faults, f0);
    sim_exit(&c);
    sim_exit(&p);
    all_back();
}

/* ---- munmap, mprotect and the region limit ---- */

static void test_munmap_of_a_hole_splits_the_region_and_frees_the_hole(void)
{
    boot();
    struct sim_proc p;
    spawn_with(&p, ANON, 8, RW, VM_ANON, NULL);
    paddr_t f[8];
    for (unsigned i = 0; i < 8; i++) {
        sim_write(&p, PG(ANON, i), (uint8_t)(0x80 + i));
        f[i] = sim_frame(&p, PG(ANON, i));
    }
    uint64_t t0 = taken();
    CHECK_EQ(vm_unmap(&p.vm, PG(ANON, 3), PG(ANON, 5)), 0);
    CHECK_EQ(t0 - taken(), 2);
    CHECK_EQ(p.vm.n, 2);
    CHECK(p.vm.r[0].start == ANON && p.vm.r[0].end == PG(ANON, 3), "the lower piece");
    CHECK(p.vm.r[1].start == PG(ANON, 5) && p.vm.r[1].end == PG(ANON, 8), "the upper piece");
    CHECK(p.vm.r[1].prot == RW && p.vm.r[1].kind == VM_ANON, "the upper piece's kind");
    for (unsigned i = 3; i < 5; i++) {
        CHECK_EQ(pmm_frame_state(PMM_ZONE_GENERAL, f[i]), PMM_FRAME_FREE);
        CHECK_EQ(sim_frame(&p, PG(ANON, i)).pa, 0);
        SIM_EXPECT(sim_write(&p, PG(ANON, i), 1), VM_KILL_NO_REGION);
    }
    for (unsigned i = 0; i < 8; i++)
        if (i < 3 || i >= 5) {
            CHECK_EQ(sim_frame(&p, PG(ANON, i)).pa, f[i].pa);
            CHECK_EQ(sim_read(&p, PG(ANON, i)), 0x80 + i);
        }
    /* a range over a piece's end and into the next: trims both */
    CHECK_EQ(vm_unmap(&p.vm, PG(ANON, 2), PG(ANON, 6)), 0);
    CHECK_EQ(p.vm.n, 2);
    CHECK(p.vm.r[0].end == PG(ANON, 2) && p.vm.r[1].start == PG(ANON, 6), "trimmed");
    CHECK_EQ(pmm_frame_state(PMM_ZONE_GENERAL, f[2]), PMM_FRAME_FREE);
    CHECK_EQ(pmm_frame_state(PMM_ZONE_GENERAL, f[5]), PMM_FRAME_FREE);
    sim_exit(&p);
    all_back();
}

/* A process with `n` one-page regions (every other page from ANON; page
 * 2i is region i), each page written with i. */
static void regions_proc(struct sim_proc *p, unsigned n, unsigned pages_of_first)
{
    sim_spawn(p);
    sim_run(p);
    CHECK(vm_region_add(&p->vm, ANON, PG(ANON, pages_of_first), RW, VM_ANON, NULL, 0), "first");
    for (unsigned i = 1; i < n; i++)
        CHECK(vm_region_add(&p->vm, PG(ANON, 64 + 2 * i), PG(ANON, 65 + 2 * i), RW, VM_ANON,
                            NULL, 0),
              "region %u", i);
    CHECK_EQ(p->vm.n, n);
    for (unsigned i = 0; i < pages_of_first; i++)
        sim_write(p, PG(ANON, i), (uint8_t)i);
}

static void test_region_add_at_below_and_above_the_limit(void)
{
    boot();
    struct sim_proc p;
    regions_proc(&p, SYS_REGIONS_MAX - 1, 1);
    CHECK(vm_region_add(&p.vm, PG(ANON, 200), PG(ANON, 201), RW, VM_ANON, NULL, 0), "the 32nd");
    CHECK_EQ(p.vm.n, SYS_REGIONS_MAX);
    CHECK(!vm_region_add(&p.vm, PG(ANON, 202), PG(ANON, 203), RW, VM_ANON, NULL, 0),
          "a 33rd region was added");
    CHECK_EQ(p.vm.n, SYS_REGIONS_MAX);
    /* overlaps refused whatever the count */
    CHECK(!vm_region_add(&p.vm, ANON, PG(ANON, 1), RW, VM_ANON, NULL, 0), "overlap");
    sim_exit(&p);
    all_back();
}

static void hole_case(unsigned regions, long want)
{
    boot();
    struct sim_proc p;
    regions_proc(&p, regions, 8);
    uint64_t t0 = taken();
    CHECK_EQ(vm_unmap(&p.vm, PG(ANON, 3), PG(ANON, 5)), want);
    CHECK_EQ(p.vm.n, regions + (want == 0));
    CHECK_EQ(t0 - taken(), want == 0 ? 2 : 0);
    for (unsigned i = 0; i < 8; i++) {
        bool gone = want == 0 && (i == 3 || i == 4);
        CHECK_EQ(sim_frame(&p, PG(ANON, i)).pa != 0, !gone);
        if (!gone)
            CHECK_EQ(sim_read(&p, PG(ANON, i)), i);
    }
    sim_exit(&p);
    all_back();
}

static void test_a_hole_below_the_region_limit_splits(void)
{
    hole_case(SYS_REGIONS_MAX - 2, 0);
}

static void test_a_hole_that_makes_the_limit_splits(void)
{
    hole_case(SYS_REGIONS_MAX - 1, 0);
}

static void test_a_hole_above_the_limit_is_enomem_before_any_change(void)
{
    hole_case(SYS_REGIONS_MAX, -SYS_ENOMEM);
}

static void test_trims_and_whole_removals_at_the_limit_need_no_slot(void)
{
    boot();
    struct sim_proc p;
    regions_proc(&p, SYS_REGIONS_MAX, 8);
    CHECK_EQ(vm_unmap(&p.vm, PG(ANON, 6), PG(ANON, 8)), 0);        /* the end */
    CHECK_EQ(vm_unmap(&p.vm, ANON, PG(ANON, 1)), 0);               /* the start */
    CHECK_EQ(p.vm.n, SYS_REGIONS_MAX);
    /* from inside the first to the start of the third: a trim, a removal */
    CHECK_EQ(vm_unmap(&p.vm, PG(ANON, 5), PG(ANON, 68)), 0);
    CHECK_EQ(p.vm.n, SYS_REGIONS_MAX - 1);
    CHECK_EQ(sim_read(&p, PG(ANON, 4)), 4);
    CHECK_EQ(sim_frame(&p, PG(ANON, 5)).pa, 0);
    sim_exit(&p);
    all_back();
}

static void protect_case(unsigned regions, uint64_t start, uint64_t end, long want,
                         unsigned regions_after)
{
    boot();
    struct sim_proc p;
    regions_proc(&p, regions, 8);
    CHECK_EQ(vm_protect(&p.vm, start, end, RO), want);
    CHECK_EQ(p.vm.n, regions_after);
    for (unsigned i = 0; i < 8; i++) {
        bool ro = want == 0 && PG(ANON, i) >= start && PG(ANON, i) < end;
        CHECK_EQ(sim_prot(&p, PG(ANON, i)), PT_PROT_USER | (ro ? 0 : PT_PROT_WRITE));
        SIM_EXPECT(sim_write(&p, PG(ANON, i), (uint8_t)i), ro ? VM_KILL_WRITE : SIM_NO_FAULT);
    }
    sim_exit(&p);
    all_back();
}

static void test_mprotect_of_a_middle_below_the_limit_splits_in_three(void)
{
    protect_case(SYS_REGIONS_MAX - 2, PG(ANON, 2), PG(ANON, 4), 0, SYS_REGIONS_MAX);
}

static void test_mprotect_of_a_middle_one_above_the_limit_is_enomem(void)
{
    protect_case(SYS_REGIONS_MAX - 1, PG(ANON, 2), PG(ANON, 4), -SYS_ENOMEM,
                 SYS_REGIONS_MAX - 1);
}

static void test_mprotect_of_an_end_at_the_limit_is_enomem_and_of_a_whole_region_fine(void)
{
    protect_case(SYS_REGIONS_MAX, PG(ANON, 4), PG(ANON, 8), -SYS_ENOMEM, SYS_REGIONS_MAX);
    protect_case(SYS_REGIONS_MAX, ANON, PG(ANON, 8), 0, SYS_REGIONS_MAX);
}

static void test_mprotect_of_a_range_with_a_hole_is_einval(void)
{
    protect_case(2, ANON, PG(ANON, 66), -SYS_EINVAL, 2);
}

static void test_mprotect_keeps_shared_and_zero_frames_read_only_in_private_regions(void)
{
    boot();
    struct sim_proc p, c;
    spawn_with(&p, ANON, 4, RW, VM_ANON, NULL);
    CHECK(vm_region_add(&p.vm, SHM, PG(SHM, 1), RW, VM_SHARED, shm_new(1), 0), "shared");
    sim_write(&p, PG(ANON, 0), 1);                          /* its own frame */
    CHECK_EQ(sim_read(&p, PG(ANON, 1)), 0);                 /* the zero frame */
    sim_write(&p, PG(ANON, 2), 3);                          /* shared after the fork */
    sim_write(&p, PG(SHM, 0), 4);
    CHECK_EQ(sim_fork(&c, &p), 0);
    sim_write(&c, PG(ANON, 0), 1);                          /* the child's copy: p's alone again */
    sim_run(&p);
    CHECK_EQ(vm_protect(&p.vm, ANON, PG(ANON, 4), RO), 0);
    CHECK_EQ(vm_protect(&p.vm, SHM, PG(SHM, 1), RO), 0);
    for (unsigned i = 0; i < 3; i++)
        CHECK_EQ(sim_prot(&p, PG(ANON, i)), PT_PROT_USER);
    CHECK_EQ(sim_prot(&p, PG(SHM, 0)), PT_PROT_USER);
    SIM_EXPECT(sim_write(&p, PG(SHM, 0), 5), VM_KILL_WRITE);
    CHECK_EQ(vm_protect(&p.vm, ANON, PG(ANON, 4), RW), 0);
    CHECK_EQ(vm_protect(&p.vm, SHM, PG(SHM, 1), RW), 0);
    CHECK_EQ(sim_prot(&p, PG(ANON, 0)), PT_PROT_USER | PT_PROT_WRITE);    /* refs 1 */
    CHECK_EQ(sim_prot(&p, PG(ANON, 1)), PT_PROT_USER);                    /* the zero frame */
    CHECK_EQ(sim_prot(&p, PG(ANON, 2)), PT_PROT_USER);                    /* refs 2 */
    CHECK_EQ(sim_prot(&p, PG(SHM, 0)), PT_PROT_USER | PT_PROT_WRITE);     /* shared: as is */
    CHECK_EQ(sim_prot(&c, PG(ANON, 2)), PT_PROT_USER);                    /* c untouched */
    SIM_EXPECT(sim_write(&p, PG(ANON, 0), 6), SIM_NO_FAULT);
    SIM_EXPECT(sim_write(&p, PG(ANON, 1), 7), VM_RESOLVED_ZERO_FILL);
    SIM_EXPECT(sim_write(&p, PG(ANON, 2), 8), VM_RESOLVED_COW_COPY);
    CHECK_EQ(sim_read(&c, PG(ANON, 2)), 3);
    SIM_EXPECT(sim_write(&p, PG(SHM, 0), 9), SIM_NO_FAULT);
    CHECK_EQ(sim_read(&c, PG(SHM, 0)), 9);
    CHECK(sim_frame_zero(kmap_zero_frame()), "the zero frame was written");
    sim_exit(&c);
    sim_exit(&p);
    all_back();
}

/* ---- the heap ---- */

static void test_the_heap_grows_without_frames_and_shrinking_frees_what_it_leaves(void)
{
    boot();
    struct sim_proc p;
    sim_spawn(&p);
    sim_run(&p);
    uint64_t t0 = taken();
    CHECK_EQ(vm_heap_set(&p.vm, HEAP_AT, PG(HEAP_AT, 1024)), 0);
    CHECK_EQ(taken(), t0);
    for (unsigned i = 0; i < 8; i++)
        SIM_EXPECT(sim_write(&p, PG(HEAP_AT, 128 * i), (uint8_t)i), VM_RESOLVED_ZERO_FILL);
    CHECK_EQ(vm_heap_set(&p.vm, HEAP_AT, PG(HEAP_AT, 256 + 1)), 0);   /* keeps pages 0, 128, 256 */
    SIM_EXPECT(sim_write(&p, PG(HEAP_AT, 257), 1), VM_KILL_NO_REGION);
    CHECK_EQ(sim_read(&p, PG(HEAP_AT, 256)), 2);
    CHECK_EQ(sim_frame(&p, PG(HEAP_AT, 384)).pa, 0);
    CHECK_EQ(vm_heap_set(&p.vm, HEAP_AT, HEAP_AT), 0);
    CHECK_EQ(p.vm.n, 0);
    CHECK_EQ(sim_frame(&p, HEAP_AT).pa, 0);
    sim_exit(&p);
    all_back();
}

static const struct check_test tests[] = {
    CHECK_TEST(test_a_first_write_is_one_zero_fill_and_one_zeroed_frame),
    CHECK_TEST(test_a_first_read_maps_the_zero_frame_read_only_and_takes_no_frame),
    CHECK_TEST(test_a_write_over_the_zero_frame_is_a_zero_fill_with_one_invlpg),
    CHECK_TEST(test_fork_shares_every_frame_read_only_with_two_references),
    CHECK_TEST(test_a_child_write_copies_and_the_last_sharer_reuses),
    CHECK_TEST(test_a_zero_frame_page_after_fork_is_a_zero_fill_in_either),
    CHECK_TEST(test_a_shared_region_is_shared_across_fork_both_ways),
    CHECK_TEST(test_munmap_of_a_shared_region_in_one_leaves_the_other_and_the_last_frees),
    CHECK_TEST(test_the_pieces_of_a_split_shared_region_keep_their_pages),
    CHECK_TEST(test_a_write_at_the_stacks_limit_grows_it_to_the_limit),
    CHECK_TEST(test_a_read_at_the_stacks_limit_grows_it_onto_the_zero_frame),
    CHECK_TEST(test_a_write_one_page_above_the_limit_grows_one_page_less),
    CHECK_TEST(test_the_page_just_below_the_stack_grows_it_by_one),
    CHECK_TEST(test_the_guard_page_below_the_limit_kills),
    CHECK_TEST(test_below_the_guard_page_is_no_region),
    CHECK_TEST(test_a_stack_grown_to_its_limit_still_has_its_guard),
    CHECK_TEST(test_writes_to_a_read_only_region_kill_present_or_not),
    CHECK_TEST(test_a_fetch_without_x_and_a_reserved_bit_kill),
    CHECK_TEST(test_no_region_just_past_a_regions_end_or_below_its_start),
    CHECK_TEST(test_a_first_write_with_exactly_the_frames_it_needs_is_resolved),
    CHECK_TEST(test_a_first_write_one_table_short_kills_and_leaks_nothing),
    CHECK_TEST(test_a_first_write_with_no_frame_for_the_page_kills_and_leaks_nothing),
    CHECK_TEST(test_a_cow_copy_and_a_shared_page_with_no_frame_kill_and_leak_nothing),
    CHECK_TEST(test_a_fork_with_exactly_the_tables_it_needs_works),
    CHECK_TEST(test_a_fork_one_table_short_is_enomem_and_leaves_the_parent_whole),
    CHECK_TEST(test_a_fork_with_only_the_pml4_is_enomem_and_leaves_the_parent_whole),
    CHECK_TEST(test_vm_touch_resolves_each_page_as_its_fault_would_without_counting_faults),
    CHECK_TEST(test_munmap_of_a_hole_splits_the_region_and_frees_the_hole),
    CHECK_TEST(test_region_add_at_below_and_above_the_limit),
    CHECK_TEST(test_a_hole_below_the_region_limit_splits),
    CHECK_TEST(test_a_hole_that_makes_the_limit_splits),
    CHECK_TEST(test_a_hole_above_the_limit_is_enomem_before_any_change),
    CHECK_TEST(test_trims_and_whole_removals_at_the_limit_need_no_slot),
    CHECK_TEST(test_mprotect_of_a_middle_below_the_limit_splits_in_three),
    CHECK_TEST(test_mprotect_of_a_middle_one_above_the_limit_is_enomem),
    CHECK_TEST(test_mprotect_of_an_end_at_the_limit_is_enomem_and_of_a_whole_region_fine),
    CHECK_TEST(test_mprotect_of_a_range_with_a_hole_is_einval),
    CHECK_TEST(test_mprotect_keeps_shared_and_zero_frames_read_only_in_private_regions),
    CHECK_TEST(test_the_heap_grows_without_frames_and_shrinking_frees_what_it_leaves),
};

int main(void) { return check_main("vm", tests, CHECK_COUNT(tests)); }
