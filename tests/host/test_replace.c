/*
 * test_replace.c - page replacement (kernel/proc/replace.c) and swap
 * (kernel/mm/swap.c) on the host, with the strategy the test is built
 * with, over the simulated machine and processes of vm_sim.h and a disk
 * in memory (fake_ata.c): FIFO's and Clock's victims, the exact counts of
 * a sequential scan, a clean page dropped without a write, the pages of a
 * fork evicted from both spaces and read back in each, munmap and exit
 * giving every slot back, swap full and a refused write each killing the
 * process that needed the frame with its own outcome while the page stays
 * resident, and the pages a system call pinned left alone. Every test
 * checks that no byte was lost or mixed, and ends with every frame and
 * every slot back.
 *
 * Expected victims and counts come from the access order each test makes
 * and the policy's textbook rule, never from replace.c.
 */
#include "fake_ata.h"
#include "replace.h"
#include "swap.h"
#include "swap_sim.h"
#include "vm_sim.h"

#define ANON USER_MMAP_BASE
#define PG(i) (ANON + (uint64_t)(i) * PAGE_SIZE)
#define RW PT_PROT_WRITE

static void spawn(struct sim_proc *p, unsigned pages)
{
    sim_spawn(p);
    CHECK(vm_region_add(&p->vm, ANON, PG(pages), RW, VM_ANON, NULL, 0), "region");
    sim_run(p);
}

/* The byte each page of a process holds: who and page apart. */
static uint8_t tag(unsigned who, unsigned page) { return (uint8_t)(who * 37 + page * 5 + 1); }

static bool resident(struct sim_proc *p, unsigned page)
{
    return sim_frame(p, PG(page)).pa != 0;
}

/* The level-1 entry of p at page (count bits masked): a swap entry when
 * the page is out. */
static pte_t entry_of(struct sim_proc *p, unsigned page)
{
    const struct pt_space *prev = pt_space_selected();
    pt_space_select(&p->as);
    pte_t e = 0;
    pt_entry_get(vaddr(PG(page)), &e);
    pt_space_select(prev);
    return e;
}

/* ---- the policies' victims ---- */

static void test_fifo_evicts_the_oldest_page_whatever_was_used_since(void)
{
    swap_sim_boot(64, CONFIG_POLICY_FIFO, 3);
    struct sim_proc p;
    spawn(&p, 8);
    for (unsigned i = 0; i < 3; i++)
        SIM_EXPECT(sim_write(&p, PG(i), tag(1, i)), VM_RESOLVED_ZERO_FILL);
    CHECK_EQ(sim_read(&p, PG(0)), tag(1, 0));        /* used again: FIFO does not care */
    SIM_EXPECT(sim_write(&p, PG(3), tag(1, 3)), VM_RESOLVED_ZERO_FILL);
    CHECK(!resident(&p, 0) && resident(&p, 1) && resident(&p, 2) && resident(&p, 3),
          "page 0, the oldest, went: %d %d %d %d", resident(&p, 0), resident(&p, 1),
          resident(&p, 2), resident(&p, 3));
    CHECK(pte_is_swap(entry_of(&p, 0)), "page 0's entry 0x%llx is no swap entry",
          (unsigned long long)entry_of(&p, 0));
    CHECK_EQ(swap_slot_refs(pte_swap_slot(entry_of(&p, 0))), 1);
    CHECK_EQ(rp_resident(), 3);
    SIM_EXPECT(sim_access(&p, PG(0), SIM_READ, &(uint8_t){ 0 }), VM_RESOLVED_SWAP_IN);
    CHECK_EQ(sim_read(&p, PG(0)), tag(1, 0));
    CHECK(!resident(&p, 1), "page 1 is the oldest now");
    sim_exit(&p);
    swap_sim_all_back();
}

static void test_clock_passes_over_a_page_used_since_its_bit_was_cleared(void)
{
    swap_sim_boot(64, CONFIG_POLICY_CLOCK, 3);
    struct sim_proc p;
    spawn(&p, 8);
    for (unsigned i = 0; i < 3; i++)
        sim_write(&p, PG(i), tag(1, i));
    /* all three bits set: a full turn clears them, then page 0 goes */
    SIM_EXPECT(sim_write(&p, PG(3), tag(1, 3)), VM_RESOLVED_ZERO_FILL);
    CHECK(!resident(&p, 0), "page 0 went first");
    struct rp_counters c;
    rp_get_stats(&c);
    CHECK_EQ(c.a_cleared, 3);
    /* page 1 used again (bit set), page 2 not: page 2 goes, not page 1 */
    CHECK_EQ(sim_read(&p, PG(1)), tag(1, 1));
    SIM_EXPECT(sim_write(&p, PG(4), tag(1, 4)), VM_RESOLVED_ZERO_FILL);
    CHECK(resident(&p, 1) && !resident(&p, 2) && resident(&p, 3) && resident(&p, 4),
          "second chance: %d %d %d %d", resident(&p, 1), resident(&p, 2), resident(&p, 3),
          resident(&p, 4));
    rp_get_stats(&c);
    CHECK_EQ(c.a_cleared, 4);
    for (unsigned i = 0; i < 5; i++)
        CHECK_EQ(sim_read(&p, PG(i)), tag(1, i));
    sim_exit(&p);
    swap_sim_all_back();
}

/* NRU: a tick clears every A bit; the lowest class 2A + M goes, the
 * oldest of a class; M is "must be written": D, or no copy on swap. */
static void test_nru_takes_the_lowest_class_and_a_clean_page_first(void)
{
    swap_sim_boot(64, CONFIG_POLICY_NRU, 3);
    struct sim_proc p;
    spawn(&p, 8);
    for (unsigned i = 0; i < 3; i++)
        sim_write(&p, PG(i), tag(1, i));
    rp_tick(1);                                  /* all A clear: class 1 (no copy) */
    CHECK_EQ(rp_samples(), 1);
    CHECK_EQ(sim_read(&p, PG(1)), tag(1, 1));    /* page 1: class 3 */
    SIM_EXPECT(sim_write(&p, PG(3), tag(1, 3)), VM_RESOLVED_ZERO_FILL);
    CHECK(!resident(&p, 0) && resident(&p, 1) && resident(&p, 2), "page 0 (class 1, oldest)");
    rp_tick(2);                                  /* 1, 2, 3: class 1 */
    SIM_EXPECT(sim_access(&p, PG(0), SIM_READ, &(uint8_t){ 0 }), VM_RESOLVED_SWAP_IN);
    CHECK(!resident(&p, 1) && resident(&p, 2) && resident(&p, 3), "page 1 (oldest of class 1)");
    rp_tick(3);                                  /* 0: class 0 (a valid copy, D clear) */
    struct rp_counters before, after;
    rp_get_stats(&before);
    SIM_EXPECT(sim_write(&p, PG(4), tag(1, 4)), VM_RESOLVED_ZERO_FILL);
    rp_get_stats(&after);
    CHECK(!resident(&p, 0) && resident(&p, 2) && resident(&p, 3) && resident(&p, 4),
          "page 0, the newest but clean, went first");
    CHECK_EQ(after.clean_drops - before.clean_drops, 1);
    CHECK_EQ(after.writebacks - before.writebacks, 0);
    for (unsigned i = 0; i < 5; i++)
        CHECK_EQ(sim_read(&p, PG(i)), tag(1, i));
    sim_exit(&p);
    swap_sim_all_back();
}

/* Aging: each tick shifts A into the top of an 8-bit counter; the lowest
 * (the running tick's A counted above it) goes, the oldest of equals. */
static void test_aging_takes_the_lowest_counter(void)
{
    swap_sim_boot(64, CONFIG_POLICY_AGING, 3);
    struct sim_proc p;
    spawn(&p, 8);
    for (unsigned i = 0; i < 3; i++)
        sim_write(&p, PG(i), tag(1, i));
    rp_tick(1);                                  /* 0x80 0x80 0x80 */
    CHECK_EQ(sim_read(&p, PG(0)), tag(1, 0));
    rp_tick(2);                                  /* 0xC0 0x40 0x40 */
    CHECK_EQ(sim_read(&p, PG(1)), tag(1, 1));
    rp_tick(3);                                  /* 0x60 0xA0 0x20 */
    CHECK_EQ(rp_samples(), 3);
    SIM_EXPECT(sim_write(&p, PG(3), tag(1, 3)), VM_RESOLVED_ZERO_FILL);
    CHECK(resident(&p, 0) && resident(&p, 1) && !resident(&p, 2), "page 2 (0x20) went");
    /* page 3: counter 0 but A set this tick (256): page 0 (0x60) goes */
    SIM_EXPECT(sim_write(&p, PG(4), tag(1, 4)), VM_RESOLVED_ZERO_FILL);
    CHECK(!resident(&p, 0) && resident(&p, 1) && resident(&p, 3) && resident(&p, 4),
          "page 0 (0x60) went, not page 3 (brought in this tick)");
    /* a tick: 1 0x50, 3 0x80, 4 0x80; equal counters: the older goes */
    rp_tick(4);
    SIM_EXPECT(sim_access(&p, PG(2), SIM_READ, &(uint8_t){ 0 }), VM_RESOLVED_SWAP_IN);
    CHECK(!resident(&p, 1), "page 1 (0x50) went");
    rp_tick(5);                                  /* 3 0x40, 4 0x40, 2 0x80 */
    SIM_EXPECT(sim_write(&p, PG(5), tag(1, 5)), VM_RESOLVED_ZERO_FILL);
    CHECK(!resident(&p, 3) && resident(&p, 4), "page 3, older than page 4, went");
    for (unsigned i = 0; i < 6; i++)
        CHECK_EQ(sim_read(&p, PG(i)), tag(1, i));
    sim_exit(&p);
    swap_sim_all_back();
}

/* FIFO, Clock and OPT take no samples at ticks. */
static void test_only_nru_and_aging_sample(void)
{
    static const enum config_policy quiet[] = { CONFIG_POLICY_FIFO, CONFIG_POLICY_CLOCK,
                                                CONFIG_POLICY_OPT };
    for (unsigned k = 0; k < 3; k++) {
        swap_sim_boot(8, quiet[k], 2);
        struct sim_proc p;
        spawn(&p, 2);
        sim_write(&p, PG(0), 1);
        rp_tick(1);
        CHECK_EQ(rp_samples(), 0);
        CHECK(entry_of(&p, 0) & PTE_A, "%s left A alone", config_policy_name(quiet[k]));
        sim_exit(&p);
        swap_sim_all_back();
    }
}

/* scope=pff: at each window's end a quota moves by one frame: up after
 * more than high faults at the quota (within max, and while the quotas
 * add up to less than the limit), down after fewer than low (within
 * min); a process over a shrunk quota gives its own pages up. */
static void test_pff_moves_each_quota_by_its_fault_rate_within_bounds(void)
{
    swap_sim_boot(64, CONFIG_POLICY_FIFO, 5);
    struct rp_pff cfg = { .window = 2, .low = 1, .high = 2, .min = 1, .max = 4, .start = 2 };
    rp_configure_pff(&cfg);
    struct sim_proc a, b;
    spawn(&a, 8);
    spawn(&b, 8);
    CHECK_EQ(rp_owner_quota(a.vm.rp), 2);
    /* a loops over 3 pages with a quota of 2: every reference faults */
    unsigned want[] = { 3, 4, 4 };     /* 4: max (and 4 + b's 1 = the limit 5) */
    for (unsigned w = 0; w < 3; w++) {
        for (unsigned k = 0; k < 6; k++)
            sim_write(&a, PG(k % (3 + w)), tag(1, k % (3 + w)));
        fake_capture_start();
        rp_tick(2 * w + 1);
        rp_tick(2 * w + 2);                      /* the window's end */
        const char *said = fake_capture_end();
        CHECK_EQ(rp_owner_quota(a.vm.rp), want[w]);
        CHECK(w == 2 || strstr(said, "pff: tick ") != NULL, "window %u said: %s", w, said);
    }
    /* b took no faults in three windows: 2 -> 1, and no lower than min */
    CHECK_EQ(rp_owner_quota(b.vm.rp), 1);
    CHECK(rp_owner_resident(a.vm.rp) <= 4, "a within its quota: %u",
          rp_owner_resident(a.vm.rp));
    /* a quiet now: 4 -> 3 -> 2 -> 1 over three windows, its pages kept until
     * its next fault, which gives them up down to one below the quota */
    fake_capture_start();
    for (unsigned t = 7; t <= 12; t++)
        rp_tick(t);
    const char *said = fake_capture_end();
    CHECK(strcmp(said, "pff: tick 8: pid 0 quota 4 -> 3 (0 faults in 2 ticks)\n"
                       "pff: tick 10: pid 0 quota 3 -> 2 (0 faults in 2 ticks)\n"
                       "pff: tick 12: pid 0 quota 2 -> 1 (0 faults in 2 ticks)\n") == 0,
          "said: %s", said);
    CHECK_EQ(rp_owner_quota(a.vm.rp), 1);
    CHECK(rp_owner_resident(a.vm.rp) > 1, "the pages stay until a fault: %u",
          rp_owner_resident(a.vm.rp));
    sim_write(&a, PG(7), tag(1, 7));
    CHECK_EQ(rp_owner_resident(a.vm.rp), 1);
    for (unsigned i = 0; i < 5; i++)
        CHECK_EQ(sim_read(&a, PG(i)), tag(1, i));
    CHECK_EQ(sim_read(&a, PG(7)), tag(1, 7));
    sim_exit(&a);
    sim_exit(&b);
    swap_sim_all_back();
}

/* ---- counts, clean pages ---- */

/* A sequential write and read of 4q pages with q frames: the counts
 * tests/swap_checks.py also expects from the guest. */
static void case_sequential(const void *arg)
{
    enum config_policy policy = (enum config_policy)(uintptr_t)arg;
    const unsigned q = 4, pages = 4 * q;
    swap_sim_boot(64, policy, q);
    struct sim_proc p;
    spawn(&p, pages);
    for (unsigned i = 0; i < pages; i++)
        sim_write(&p, PG(i), tag(2, i));
    struct rp_counters c;
    rp_get_stats(&c);
    CHECK_EQ(c.evictions, pages - q);
    CHECK_EQ(c.writebacks, pages - q);
    CHECK_EQ(c.clean_drops, 0);
    CHECK_EQ(swap_slots_used(), pages - q);
    uint64_t writes0 = fake_ata_writes;
    unsigned wrong = 0;
    for (unsigned i = 0; i < pages; i++)
        wrong += sim_read(&p, PG(i)) != tag(2, i);
    CHECK_EQ(wrong, 0);
    rp_get_stats(&c);
    CHECK_EQ(p.vm.c.swap_ins, pages);
    CHECK_EQ(c.evictions, (pages - q) + pages);
    CHECK_EQ(c.writebacks, (pages - q) + q);
    CHECK_EQ(c.clean_drops, pages - q);
    CHECK_EQ(fake_ata_writes - writes0, q);     /* the clean ones cost no write */
    CHECK_EQ(rp_resident(), q);
    sim_exit(&p);
    swap_sim_all_back();
}

static void test_a_page_written_after_its_swap_in_is_written_again(void)
{
    swap_sim_boot(64, CONFIG_POLICY_FIFO, 1);
    struct sim_proc p;
    spawn(&p, 4);
    sim_write(&p, PG(0), 1);
    sim_write(&p, PG(1), 2);                  /* page 0 written out */
    sim_read(&p, PG(0));                      /* back, clean; page 1 written out */
    SIM_EXPECT(sim_write(&p, PG(0), 9), SIM_NO_FAULT);   /* dirty now */
    uint64_t w0 = fake_ata_writes;
    sim_read(&p, PG(1));                      /* page 0 must be written, not dropped */
    CHECK_EQ(fake_ata_writes - w0, 1);
    CHECK_EQ(sim_read(&p, PG(0)), 9);
    CHECK_EQ(sim_read(&p, PG(1)), 2);
    sim_exit(&p);
    swap_sim_all_back();
}

/* ---- fork, munmap, exit ---- */

static void test_a_forked_page_is_evicted_from_both_spaces_and_read_back_in_each(void)
{
    swap_sim_boot(64, CONFIG_POLICY_FIFO, 2);
    struct sim_proc p, c;
    spawn(&p, 4);
    sim_write(&p, PG(0), tag(1, 0));
    sim_write(&p, PG(1), tag(1, 1));
    CHECK_EQ(sim_fork(&c, &p), 0);
    /* both pages shared (refs 2); a third page evicts page 0 from both */
    sim_write(&p, PG(2), tag(1, 2));
    pte_t ep = entry_of(&p, 0), ec = entry_of(&c, 0);
    CHECK(pte_is_swap(ep) && ep == ec, "one swap entry in both: 0x%llx 0x%llx",
          (unsigned long long)ep, (unsigned long long)ec);
    CHECK_EQ(swap_slot_refs(pte_swap_slot(ep)), 2);
    CHECK_EQ(rp_resident(), 2);
    CHECK_EQ(sim_read(&c, PG(0)), tag(1, 0));
    CHECK_EQ(sim_read(&p, PG(0)), tag(1, 0));
    /* page 1 went from both spaces when the child's page 0 came back */
    SIM_EXPECT(sim_write(&c, PG(1), tag(2, 1)), VM_RESOLVED_SWAP_IN);
    CHECK_EQ(sim_read(&p, PG(1)), tag(1, 1));
    CHECK_EQ(sim_read(&c, PG(1)), tag(2, 1));
    sim_exit(&c);
    for (unsigned i = 0; i < 3; i++)
        CHECK_EQ(sim_read(&p, PG(i)), tag(1, i));
    sim_exit(&p);
    swap_sim_all_back();
}

static void test_munmap_of_swapped_pages_gives_their_slots_back(void)
{
    swap_sim_boot(64, CONFIG_POLICY_FIFO, 2);
    struct sim_proc p;
    spawn(&p, 8);
    for (unsigned i = 0; i < 8; i++)
        sim_write(&p, PG(i), tag(1, i));
    CHECK_EQ(swap_slots_used(), 6);
    CHECK_EQ(vm_unmap(&p.vm, PG(0), PG(4)), 0);
    CHECK_EQ(swap_slots_used(), 2);
    CHECK_EQ(entry_of(&p, 1), 0);
    for (unsigned i = 4; i < 8; i++)
        CHECK_EQ(sim_read(&p, PG(i)), tag(1, i));
    sim_exit(&p);
    swap_sim_all_back();
}

/* ---- errors: nothing lost ---- */

static void test_swap_full_kills_the_one_that_needs_a_frame_and_the_other_goes_on(void)
{
    swap_sim_boot(2, CONFIG_POLICY_FIFO, 2);
    struct sim_proc a, b;
    spawn(&a, 8);
    spawn(&b, 8);
    sim_write(&a, PG(0), tag(1, 0));
    sim_write(&a, PG(1), tag(1, 1));
    sim_write(&b, PG(0), tag(2, 0));          /* a's page 0 to slot 0 */
    sim_write(&b, PG(1), tag(2, 1));          /* a's page 1 to slot 1: full */
    CHECK_EQ(swap_slots_used(), 2);
    SIM_EXPECT(sim_write(&a, PG(2), 1), VM_KILL_SWAP_FULL);
    /* b's pages still resident, unharmed; a's swapped ones still there */
    CHECK_EQ(sim_read(&b, PG(0)), tag(2, 0));
    CHECK_EQ(sim_read(&b, PG(1)), tag(2, 1));
    sim_exit(&a);                             /* the kill: its slots go back */
    CHECK_EQ(swap_slots_used(), 0);
    SIM_EXPECT(sim_write(&b, PG(2), tag(2, 2)), VM_RESOLVED_ZERO_FILL);
    for (unsigned i = 0; i < 3; i++)
        CHECK_EQ(sim_read(&b, PG(i)), tag(2, i));
    sim_exit(&b);
    swap_sim_all_back();
}

static void test_a_refused_write_leaves_the_victim_resident_and_whole(void)
{
    swap_sim_boot(8, CONFIG_POLICY_FIFO, 2);
    struct sim_proc p;
    spawn(&p, 4);
    sim_write(&p, PG(0), tag(1, 0));
    sim_write(&p, PG(1), tag(1, 1));
    fake_ata_fail_writes(1);
    fake_capture_start();
    SIM_EXPECT(sim_write(&p, PG(2), 7), VM_KILL_SWAP_WRITE);
    const char *said = fake_capture_end();
    CHECK(strstr(said, "swap: I/O error writing slot 0") != NULL, "said: %s", said);
    CHECK(resident(&p, 0) && resident(&p, 1) && !resident(&p, 2), "resident as before");
    CHECK_EQ(swap_slots_used(), 0);
    CHECK_EQ(sim_read(&p, PG(0)), tag(1, 0));
    CHECK_EQ(sim_read(&p, PG(1)), tag(1, 1));
    /* the disk answers again: the same write works */
    SIM_EXPECT(sim_write(&p, PG(2), 7), VM_RESOLVED_ZERO_FILL);
    CHECK_EQ(sim_read(&p, PG(0)), tag(1, 0));
    sim_exit(&p);
    swap_sim_all_back();
}

static void test_the_pages_a_system_call_uses_are_not_evicted(void)
{
    swap_sim_boot(64, CONFIG_POLICY_FIFO, 2);
    struct sim_proc p;
    spawn(&p, 4);
    sim_write(&p, PG(0), 1);
    sim_write(&p, PG(1), 2);
    /* a system call's buffer over pages 0 and 1: both pinned */
    CHECK(vm_touch(&p.vm, PG(0), 2 * PAGE_SIZE, false), "touch");
    SIM_EXPECT(sim_write(&p, PG(2), 3), VM_KILL_NO_MEMORY);
    CHECK(resident(&p, 0) && resident(&p, 1), "the pinned pages stayed");
    vm_unpin(&p.vm);
    SIM_EXPECT(sim_write(&p, PG(2), 3), VM_RESOLVED_ZERO_FILL);
    CHECK(!resident(&p, 0), "unpinned, the oldest goes");
    sim_exit(&p);
    swap_sim_all_back();
}

static void test_without_swap_the_limit_is_out_of_memory_by_name(void)
{
    sim_boot();
    fake_ata_attach(NULL, 0);
    fake_capture_start();
    swap_init();
    fake_capture_end();
    rp_configure(CONFIG_POLICY_FIFO, 1);
    swap_sim_boot_taken = swap_sim_taken();
    struct sim_proc p;
    spawn(&p, 4);
    sim_write(&p, PG(0), 1);
    SIM_EXPECT(sim_write(&p, PG(1), 2), VM_KILL_NO_SWAP);
    CHECK_EQ(sim_read(&p, PG(0)), 1);
    sim_exit(&p);
    swap_sim_all_back();
}

static const struct check_test tests[] = {
    CHECK_TEST(test_fifo_evicts_the_oldest_page_whatever_was_used_since),
    CHECK_TEST(test_clock_passes_over_a_page_used_since_its_bit_was_cleared),
    CHECK_TEST(test_nru_takes_the_lowest_class_and_a_clean_page_first),
    CHECK_TEST(test_aging_takes_the_lowest_counter),
    CHECK_TEST(test_only_nru_and_aging_sample),
    CHECK_TEST(test_pff_moves_each_quota_by_its_fault_rate_within_bounds),
    CHECK_CASE("fifo: 4q pages written then read with q frames: exact counts", case_sequential,
               (const void *)(uintptr_t)CONFIG_POLICY_FIFO),
    CHECK_CASE("clock: 4q pages written then read with q frames: the same counts",
               case_sequential, (const void *)(uintptr_t)CONFIG_POLICY_CLOCK),
    CHECK_TEST(test_a_page_written_after_its_swap_in_is_written_again),
    CHECK_TEST(test_a_forked_page_is_evicted_from_both_spaces_and_read_back_in_each),
    CHECK_TEST(test_munmap_of_swapped_pages_gives_their_slots_back),
    CHECK_TEST(test_swap_full_kills_the_one_that_needs_a_frame_and_the_other_goes_on),
    CHECK_TEST(test_a_refused_write_leaves_the_victim_resident_and_whole),
    CHECK_TEST(test_the_pages_a_system_call_uses_are_not_evicted),
    CHECK_TEST(test_without_swap_the_limit_is_out_of_memory_by_name),
};

int main(void)
{
    return check_main("replace", tests, CHECK_COUNT(tests));
}
