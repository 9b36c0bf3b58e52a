/*
 * swap_sim.h - what the host tests of page replacement over a swap disk
 * share (tests/host/test_replace.c, test_livelock.c): a fresh simulated
 * machine (vm_sim.h) with a swap partition in memory (fake_ata.c) and a
 * replacement limit, and the check that everything came back.
 */
#ifndef TESTS_HOST_SWAP_SIM_H
#define TESTS_HOST_SWAP_SIM_H

#include "fake_ata.h"
#include "replace.h"
#include "swap.h"
#include "vm_sim.h"

static uint64_t swap_sim_taken(void)
{
    return sim_used(PMM_ZONE_GENERAL) + sim_used(PMM_ZONE_TABLE_POOL);
}

static uint64_t swap_sim_boot_taken;

/* A fresh machine with `slots` of swap and a limit of `frames` under
 * policy; A and D set by every access. */
__attribute__((unused))
static void swap_sim_boot(uint32_t slots, enum config_policy policy, uint32_t frames)
{
    sim_boot();
    fake_ata_swap_disk(slots);
    fake_capture_start();
    swap_init();
    fake_capture_end();
    rp_configure(policy, frames);
    sim_sets_ad = true;
    swap_sim_boot_taken = swap_sim_taken();
}

/* Every frame, reference, slot and resident page back as at the boot. */
__attribute__((unused))
static void swap_sim_all_back(void)
{
    struct frame_meta_census c;
    frame_meta_census(&c);
    CHECK_EQ(swap_sim_taken(), swap_sim_boot_taken);
    CHECK_EQ(c.refs, 0);
    CHECK_EQ(swap_slots_used(), 0);
    CHECK_EQ(rp_resident(), 0);
}

#endif
