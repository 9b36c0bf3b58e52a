/*
 * procs.c - processes on the real CPU (procs.h). The demos' outcomes are
 * the hardware's: each is killed by the fault the SDM says (the kernel's
 * named line, checked from outside by tests/proc_checks.py); here the
 * kernel checks what only it can see: every frame back, and ring 0's view
 * of a user page under SMEP and SMAP.
 */
#include <stdarg.h>
#include <stddef.h>
#include "procs.h"
#include "console.h"
#include "result.h"
#include "cpu.h"
#include "frame_meta.h"
#include "kmap.h"
#include "layout.h"
#include "pmm.h"
#include "proc.h"
#include "pt.h"
#include "strategy.h"
#include "trap.h"
#include "x86.h"

#define result(ok, name, ...) guest_result("procs", ok, name, __VA_ARGS__)

static const char *const demos[] = {
    "hello", "vmprobe", "vmtest", "iso_kread", "iso_wcode", "iso_twins", "iso_xstack", "iso_xheap",
};
#define NX_DEMOS 2   /* the last two need NX to fault */

static void test_demos(const struct boot_info *bi)
{
    uint64_t before = guest_frames_but_records();
    unsigned n = sizeof(demos) / sizeof(demos[0]), started = 0;
    bool nx = BOOT_CPU_HAS(bi, CPU_NX);
    for (unsigned i = 0; i < n; i++) {
        if (!nx && i >= n - NX_DEMOS) {
            kprintf("SKIP: guest/%s: procs: %s: no NX on this CPU (every page executes)\n",
                    strategy_name(), demos[i]);
            continue;
        }
        long err;
        started += proc_spawn(demos[i], NULL, &err) != NULL;
    }
    proc_run();
    uint64_t after = guest_frames_but_records();
    kprintf("STAT: procs_frames_before=%lu procs_frames_after=%lu\n", before, after);
    result(started == (nx ? n : n - NX_DEMOS) && proc_live() == 0 && after == before,
           "the demos ran to their end; then every frame is back, exactly",
           "%u started, %u still alive; %lu free before, %lu after", started, proc_live(), before,
           after);
}

/* A user page holding RET, live in CR3, seen from ring 0. */
static void test_smep_smap(const struct boot_info *bi)
{
    static struct pt_space as;
    paddr_t f;
    const uint64_t va = USER_BASE;
    if (pt_space_create(&as) != PT_OK || !frame_new(&f)) {
        result(0, "SMEP/SMAP", "no frame");
        return;
    }
    uint8_t *p = kmap(f, KMAP_SCRATCH);
    p[0] = 0xC3;                                      /* RET */
    kunmap(KMAP_SCRATCH);
    pt_space_select(&as);
    pt_map(vaddr(va), f, PAGE_SIZE, PT_PROT_USER | PT_PROT_EXEC, NULL);
    pt_space_select(NULL);
    bool smep = read_cr4() & CR4_SMEP, smap = read_cr4() & CR4_SMAP;
    pt_space_activate(&as);
    int fetch = probe_exec((const void *)(uintptr_t)va);
    uint64_t fetch_err = fetch ? probe_last_fault()->error_code : 0;
    int read = probe_read((const volatile void *)(uintptr_t)va);
    uint64_t read_err = read ? probe_last_fault()->error_code : 0;
    if (smap)
        stac();
    int read_ac = probe_read((const volatile void *)(uintptr_t)va);
    if (smap)
        clac();
    pt_space_activate(NULL);
    pt_space_destroy(&as, vm_drop_leaf, NULL);
    (void)bi;
    if (smep)
        result(fetch && fetch_err == (PF_ERR_PRESENT | PF_ERR_FETCH),
               "SMEP: ring 0 fetching from a process's code page faults (protection, fetch)",
               "faulted %d, error code 0x%lx", fetch, fetch_err);
    else
        kprintf("SKIP: guest/%s: procs: SMEP: the CPU has none (ring 0 fetched: %s)\n",
                strategy_name(), fetch ? "faulted" : "ran");
    if (smap)
        result(read && read_err == PF_ERR_PRESENT && !read_ac,
               "SMAP: ring 0 reading a process's page faults without STAC, works with it",
               "without: faulted %d (0x%lx); with STAC: faulted %d", read, read_err, read_ac);
    else
        kprintf("SKIP: guest/%s: procs: SMAP: the CPU has none (ring 0 read: %s)\n",
                strategy_name(), read ? "faulted" : "worked");
}

/* Two live processes (spin pauses at its end): no frame of one's own
 * slots is a frame of the other's, by any address (every leaf of both,
 * through pt_space_next_leaf). They stay alive for the listing. */
#define OWN_MAX 128
static uint64_t own[2][OWN_MAX];

static unsigned frames_of(const struct pt_space *as, uint64_t *out)
{
    unsigned n = 0;
    struct pt_leaf l;
    for (vaddr_t at = vaddr(0); pt_space_next_leaf(as, at, &l) == PT_OK && n < OWN_MAX;
         at = vaddr(l.va.va + l.size))
        for (uint64_t off = 0; off < l.size && n < OWN_MAX; off += PAGE_SIZE)
            out[n++] = l.frame.pa + off;
    return n;
}

static void test_no_shared_frame(void)
{
    long err;
    struct proc *p[2] = { proc_spawn("spin", NULL, &err), proc_spawn("spin", NULL, &err) };
    if (!p[0] || !p[1]) {
        result(0, "two live spins share no frame", "spawn: %ld", err);
        return;
    }
    proc_run();
    unsigned n0 = frames_of(p[0]->space, own[0]), n1 = frames_of(p[1]->space, own[1]), common = 0;
    for (unsigned i = 0; i < n0; i++)
        for (unsigned j = 0; j < n1; j++)
            common += own[0][i] == own[1][j];
    result(p[0]->state == PROC_PAUSED && p[1]->state == PROC_PAUSED && n0 > 0 && n0 < OWN_MAX &&
               n1 == n0 && common == 0,
           "two live processes: no frame of one's own slots is the other's, by any address",
           "states %d %d; %u and %u frames, %u in common", p[0]->state, p[1]->state, n0, n1,
           common);
}

void procs_run(const struct boot_info *bi)
{
    test_demos(bi);
    test_smep_smap(bi);
    test_no_shared_frame();
}
