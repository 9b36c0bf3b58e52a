/*
 * vm_sim.h - simulated processes for the host tests of kernel/proc/vm.c
 * (tests/host/test_vm.c, test_vm_model.c): a process is a struct vm and a
 * struct pt_space on fake_cpu.c's machine, and a user access is what the
 * CPU would do with it: look at the leaf, take the page fault the SDM
 * describes when the leaf refuses the access, hand it to vm_fault, and
 * on a resolved fault reach the byte through the new leaf.
 *
 * Header-only (static functions), like check.h, so that its CHECKs count
 * in the test that includes it. The kernel's side of a process (proc.c,
 * the scheduler) is not involved: the tests drive vm_* directly, with the
 * spaces activated and selected the way the kernel does it (a running
 * process's space is active and selected; vm_destroy wants neither).
 */
#ifndef TESTS_HOST_VM_SIM_H
#define TESTS_HOST_VM_SIM_H

#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "fake_cpu.h"
#include "frame_meta.h"
#include "kmap.h"
#include "layout.h"
#include "pmm.h"
#include "pt.h"
#include "strategy.h"
#include "tlb.h"
#include "trap.h"
#include "vm.h"

#define SIM_FEATURES ((1u << CPU_NX) | (1u << CPU_PAGE1GB))
#define SIM_FRAMES (FAKE_ARENA_SIZE / PAGE_SIZE)
/* What every frame the allocator hands out holds before its first use
 * here: a frame that must be zeroed is never found zero by luck. */
#define SIM_DIRT 0xA5

/* Whether sim_access sets the leaf's Accessed bit (and Dirty for a
 * write), as the CPU does on the walk that loads a translation and on the
 * first write through it (SDM Vol. 3A 4.8). Off by default: the tests
 * that compare leaves bit for bit predate page replacement; the
 * replacement tests (test_replace.c) turn it on. With pagelab's
 * invalidations (pt_clear_accessed's INVLPG, a CR3 write between spaces)
 * "on every access" is what the CPU's "on every walk" amounts to. */
static bool sim_sets_ad;

/* sim_access's outcome when the leaf allowed the access: no fault. */
#define SIM_NO_FAULT VM_OUTCOME_COUNT

enum sim_op {
    SIM_READ = 0,
    SIM_WRITE,
};

struct sim_proc {
    struct vm vm;
    struct pt_space as;    /* linked into the core's list: never moved */
};

/* A fresh machine with vm.c ready: fake_boot, frame_meta_init, every
 * record page the general zone can need mapped now (one frame_new of every
 * frame, each given back), so that frame counts below move only with what
 * the tests do; then kmap_init's zero frame, vm_init, and every free
 * general-zone frame filled with SIM_DIRT. */
__attribute__((unused))
static void sim_boot(void)
{
    fake_boot(SIM_FEATURES);
    frame_meta_init(fake_bi.max_phys);
    paddr_t *all = malloc(SIM_FRAMES * sizeof(*all));
    unsigned n = 0;
    while (n < SIM_FRAMES && frame_new(&all[n]))
        n++;
    while (n)
        frame_unref(all[--n]);
    free(all);
    kmap_init();
    vm_init();
    for (uint64_t f = 0; f < SIM_FRAMES; f++)
        if (pmm_frame_state(PMM_ZONE_GENERAL, paddr(f * PAGE_SIZE)) == PMM_FRAME_FREE)
            memset(fake_phys(f * PAGE_SIZE), SIM_DIRT, PAGE_SIZE);
}

__attribute__((unused))
static uint64_t sim_used(enum pmm_zone z)
{
    struct pmm_counters c;
    pmm_get_counters(z, &c);
    return c.used;
}

__attribute__((unused))
static uint64_t sim_free(enum pmm_zone z)
{
    struct pmm_counters c;
    pmm_get_counters(z, &c);
    return c.free;
}

/* The process runs: its space active (CR3) and selected. */
__attribute__((unused))
static void sim_run(struct sim_proc *p)
{
    pt_space_activate(&p->as);
    pt_space_select(&p->as);
}

/* The kernel's space active and selected (between processes). */
__attribute__((unused))
static void sim_kernel(void)
{
    pt_space_activate(NULL);
    pt_space_select(NULL);
}

/* A new process with an empty space and no region. */
__attribute__((unused))
static bool sim_spawn(struct sim_proc *p)
{
    vm_reset(&p->vm, &p->as);
    return CHECK_EQ(pt_space_create(&p->as), PT_OK);
}

/* Exit: every frame and table the process held goes back. */
__attribute__((unused))
static void sim_exit(struct sim_proc *p)
{
    sim_kernel();
    vm_destroy(&p->vm, &p->as);
}

/* fork: parent running, child a new space; 0 or vm_fork's error (the
 * child is then destroyed, as sys_fork does). */
__attribute__((unused))
static long sim_fork(struct sim_proc *child, struct sim_proc *parent)
{
    vm_reset(&child->vm, &child->as);
    if (!CHECK_EQ(pt_space_create(&child->as), PT_OK))
        return -SYS_ENOMEM;
    sim_run(parent);
    long r = vm_fork(&child->vm, &child->as, &parent->vm, &parent->as);
    if (r)
        sim_exit(child);
    return r;
}

/* The leaf for va in p's space: true and *t when present. The selection
 * is as it was on return. */
__attribute__((unused))
static bool sim_leaf(struct sim_proc *p, uint64_t va, struct pt_translation *t)
{
    const struct pt_space *prev = pt_space_selected();
    pt_space_select(&p->as);
    bool ok = pt_translate(vaddr(va), t) == PT_OK;
    pt_space_select(prev);
    return ok;
}

/* The error code the CPU pushes for a user-mode access refused by what
 * pt_translate found (SDM Vol. 3A 4.7): P = 1 for a present leaf that
 * refused it, W/R = 1 for a write, U/S = 1 (ring 3). */
__attribute__((unused))
static uint64_t sim_error_code(bool present, enum sim_op op)
{
    return PF_ERR_USER | (present ? PF_ERR_PRESENT : 0) | (op == SIM_WRITE ? PF_ERR_WRITE : 0);
}

__attribute__((unused))
static uint32_t sim_need(enum sim_op op)
{
    return PT_PROT_USER | (op == SIM_WRITE ? PT_PROT_WRITE : 0);
}

/*
 * A ring-3 access of p to the byte at va: *byte is written (SIM_WRITE) or
 * receives what is there (SIM_READ). Returns SIM_NO_FAULT when the leaf
 * allowed it, else vm_fault's outcome; a resolved fault must leave a leaf
 * that allows the access (CHECKed), and the access then goes through it
 * as the CPU's retry would: through the simulated MMU (cpu_ptr), which
 * must agree with the tables (no stale TLB entry). A kill leaves *byte
 * alone.
 */
__attribute__((unused))
static int sim_access(struct sim_proc *p, uint64_t va, enum sim_op op, uint8_t *byte)
{
    sim_run(p);
    struct pt_translation t;
    bool present = pt_translate(vaddr(va), &t) == PT_OK;
    int o = SIM_NO_FAULT;
    if (!present || (pt_tr_prot(&t) & sim_need(op)) != sim_need(op)) {
        o = vm_fault(&p->vm, va, sim_error_code(present, op));
        if (!VM_RESOLVED(o))
            return o;
        if (!CHECK(pt_translate(vaddr(va), &t) == PT_OK &&
                       (pt_tr_prot(&t) & sim_need(op)) == sim_need(op),
                   "0x%lx: %s resolved, but the leaf still refuses the %s", (unsigned long)va,
                   vm_outcome_name(o), op == SIM_WRITE ? "write" : "read"))
            return VM_KILL_PROTECTION;
    }
    uint8_t *at = fake_phys(t.pa.pa);
    if (!CHECK(cpu_ptr(vaddr(va)) == (void *)at, "0x%lx: the TLB disagrees with the tables",
               (unsigned long)va))
        return VM_KILL_PROTECTION;
    if (op == SIM_WRITE)
        *at = *byte;
    else
        *byte = *at;
    if (sim_sets_ad) {
        pte_t *e = fake_entry(1, va);
        if (e)
            *e |= PTE_A | (op == SIM_WRITE ? PTE_D : 0);
    }
    return o;
}

__attribute__((unused))
static int sim_write(struct sim_proc *p, uint64_t va, uint8_t byte)
{
    return sim_access(p, va, SIM_WRITE, &byte);
}

/* A read that must not be refused: the byte (or 0xEE0 + outcome when it
 * was killed, never a byte). */
__attribute__((unused))
static unsigned sim_read(struct sim_proc *p, uint64_t va)
{
    uint8_t b = 0;
    int o = sim_access(p, va, SIM_READ, &b);
    return VM_RESOLVED(o) || o == SIM_NO_FAULT ? b : 0xEE0u + (unsigned)o;
}

/* The frame behind va in p (0 when nothing is mapped). */
__attribute__((unused))
static paddr_t sim_frame(struct sim_proc *p, uint64_t va)
{
    struct pt_translation t;
    return sim_leaf(p, va, &t) ? pt_tr_frame(&t) : paddr(0);
}

/* The effective PT_PROT_* of p's leaf at va (0 when none). */
__attribute__((unused))
static uint32_t sim_prot(struct sim_proc *p, uint64_t va)
{
    struct pt_translation t;
    return sim_leaf(p, va, &t) ? pt_tr_prot(&t) : 0;
}

/* Is the whole frame zero? */
__attribute__((unused))
static bool sim_frame_zero(paddr_t f)
{
    const uint8_t *b = fake_phys(f.pa);
    for (unsigned i = 0; i < PAGE_SIZE; i++)
        if (b[i])
            return false;
    return true;
}

static const char *sim_outcome(int o)
{
    return o == SIM_NO_FAULT ? "no fault" : vm_outcome_name((enum vm_outcome)o);
}

/* CHECK that an access ended as wanted, naming both outcomes. */
#define SIM_EXPECT(got, want)                                                  \
    ({                                                                         \
        int sim_got_ = (got), sim_want_ = (want);                              \
        CHECK(sim_got_ == sim_want_, "%s: \"%s\", want \"%s\"", #got,         \
              sim_outcome(sim_got_), sim_outcome(sim_want_));                  \
    })

#endif
