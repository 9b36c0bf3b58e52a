/*
 * variant_bench.c - the bench kernel (variant.h): measures the paging
 * library with the build's strategy and prints one line per figure,
 *   BENCH: <strategy>,<metric>,<value>,<unit>
 * which tests/bench.py collects into build/bench/results.csv.
 *
 * Costs are RDTSC differences (measure.h): guest instructions under
 * QEMU -icount shift=0, cycles elsewhere. Their metrics are named
 * "_insns" (what `make bench` measures) and their unit column says "tsc";
 * bench.py renames both after the run mode ("_cycles" and "cycles" under
 * KVM). Each per-operation figure is
 * the median of ITERATIONS measure_call()s: the operation's instructions
 * from its CALL to its RET, both included, with the cost of calling an
 * empty function taken out (so neither the caller's argument setup nor
 * the RDTSCs count). Table
 * traffic (PTE reads/writes, invlpg, full flushes) comes from the core's
 * own counters (pt_stats), per operation.
 */
#include <stddef.h>
#include <stdint.h>
#include "variant.h"
#include "console.h"
#include "frame_meta.h"
#include "layout.h"
#include "measure.h"
#include "pmm.h"
#include "pt.h"
#include "ring3.h"
#include "image.h"
#include "frame_meta.h"
#include "kmap.h"
#include "vm.h"
#include "proc.h"
#include "replace.h"
#include "swap.h"
#include "strategy.h"
#include "kmain.h"

/* include/layout.h's slots, as the 64-bit numbers printf's %llx expects
 * (layout.h carries no suffixes: NASM and the linker scripts read it too) */
#define BENCH_VA      ((unsigned long long)BENCH_BASE)
#define FAR_BASE      ((unsigned long long)BENCH_FAR_BASE)
#define ITERATIONS    201
#define RANGE_BYTES   0x40000000ULL            /* 1 GiB */


static const struct boot_info *info;
static uint64_t samples[ITERATIONS];

static void emit(const char *metric, uint64_t value, const char *unit)
{
    kprintf("BENCH: %s,%s,%llu,%s\n", strategy_name(), metric, (unsigned long long)value, unit);
}

/* The functions measured, as measure_call takes them. */
#define FN(f) ((const void *)(f))
#define VA(x) ((uint64_t)(x))
#define PTR(p) ((uint64_t)(uintptr_t)(p))

static void measure_overhead(void)
{
    emit("measure_overhead", measure_calibrate(), "tsc");
}

/* Per-call averages of one operation's counters between two snapshots. */
static void emit_traffic(const char *prefix, enum pt_op op, const struct pt_stats *a,
                         const struct pt_stats *b)
{
    static char name[64];
    const struct pt_op_stats *x = &a->op[op], *y = &b->op[op];
    uint64_t calls = y->calls - x->calls;
    if (!calls)
        return;
    const struct { const char *suffix; uint64_t v; } f[] = {
        { "pte_reads", y->pte_reads - x->pte_reads },
        { "pte_writes", y->pte_writes - x->pte_writes },
        { "invlpg", y->invlpgs - x->invlpgs },
        { "full_flush", y->full_flushes - x->full_flushes },
    };
    for (unsigned i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
        unsigned n = 0;
        for (const char *s = prefix; *s && n < 40; s++)
            name[n++] = *s;
        name[n++] = '_';
        for (const char *s = f[i].suffix; *s && n < 62; s++)
            name[n++] = *s;
        name[n] = 0;
        /* milli-units keep fractions (e.g. 0.5 invlpg per op) in integers */
        emit(name, f[i].v * 1000 / calls, "milli");
    }
}

static void bench_translate(const char *metric, uint64_t va)
{
    struct pt_translation t;
    struct pt_stats a, b;
    if (pt_translate(vaddr(va), &t) != PT_OK)
        return;                                  /* e.g. no 1 GiB page here */
    pt_stats_get(&a);
    for (unsigned i = 0; i < ITERATIONS; i++)
        samples[i] = measure_call(FN(pt_translate), VA(va), PTR(&t), 0, 0, 0);
    pt_stats_get(&b);
    emit(metric, measure_median(samples, ITERATIONS), "tsc");
    emit_traffic(metric, PT_OP_TRANSLATE, &a, &b);
}

/* Alternating between two distant paths: what temporary pays for slots. */
static void bench_translate_alternating(void)
{
    struct pt_translation t;
    struct pt_stats a, b;
    pt_map(vaddr(FAR_BASE), paddr(KERNEL_PHYS_BASE), PAGE_SIZE, PT_PROT_READ, 0);
    pt_stats_get(&a);
    for (unsigned i = 0; i < ITERATIONS; i++)
        samples[i] = measure_call(FN(pt_translate), VA(i & 1 ? FAR_BASE : BENCH_VA), PTR(&t),
                                  0, 0, 0);
    pt_stats_get(&b);
    emit("translate_alternating_insns", measure_median(samples, ITERATIONS), "tsc");
    emit_traffic("translate_alternating", PT_OP_TRANSLATE, &a, &b);
    pt_unmap(vaddr(FAR_BASE), 0, 0);
}

/* map, protect and unmap of 4 KiB pages whose tables exist (page 0 of the
 * table keeps them alive), then the same with table creation and freeing. */
static void bench_map_unmap(void)
{
    static uint64_t map_s[ITERATIONS], prot_s[ITERATIONS], unmap_s[ITERATIONS];
    struct pt_stats a, b;
    pt_map(vaddr(BENCH_VA), paddr(KERNEL_PHYS_BASE), PAGE_SIZE, PT_PROT_READ, 0);
    pt_stats_get(&a);
    for (unsigned i = 0; i < ITERATIONS; i++) {
        uint64_t va = BENCH_VA + PAGE_SIZE * (1 + i % 511);
        map_s[i] = measure_call(FN(pt_map), va, KERNEL_PHYS_BASE, PAGE_SIZE, PT_PROT_WRITE, 0);
        prot_s[i] = measure_call(FN(pt_protect), va, PAGE_SIZE, PT_PROT_READ, 0, 0);
        unmap_s[i] = measure_call(FN(pt_unmap), va, 0, 0, 0, 0);
    }
    pt_stats_get(&b);
    emit("map_4k_insns", measure_median(map_s, ITERATIONS), "tsc");
    emit("protect_4k_insns", measure_median(prot_s, ITERATIONS), "tsc");
    emit("unmap_4k_insns", measure_median(unmap_s, ITERATIONS), "tsc");
    emit_traffic("map_4k", PT_OP_MAP, &a, &b);
    emit_traffic("protect_4k", PT_OP_PROTECT, &a, &b);
    emit_traffic("unmap_4k", PT_OP_UNMAP, &a, &b);
    bench_translate("translate_insns", BENCH_VA + 0x123);
    bench_translate_alternating();
    pt_unmap(vaddr(BENCH_VA), 0, 0);

    pt_stats_get(&a);
    for (unsigned i = 0; i < ITERATIONS; i++) {
        map_s[i] = measure_call(FN(pt_map), BENCH_VA, KERNEL_PHYS_BASE, PAGE_SIZE,
                                PT_PROT_READ, 0);
        unmap_s[i] = measure_call(FN(pt_unmap), BENCH_VA, 0, 0, 0, 0);
    }
    pt_stats_get(&b);
    emit("map_4k_new_tables_insns", measure_median(map_s, ITERATIONS), "tsc");
    emit("unmap_4k_free_tables_insns", measure_median(unmap_s, ITERATIONS), "tsc");
    emit_traffic("map_4k_new_tables", PT_OP_MAP, &a, &b);
    emit_traffic("unmap_4k_free_tables", PT_OP_UNMAP, &a, &b);
}

static void bench_huge_translate(void)
{
    pt_map(vaddr(BENCH_VA), paddr(KERNEL_PHYS_BASE), PAGE_SIZE_2M, PT_PROT_READ, 0);
    bench_translate("translate_2m_insns", BENCH_VA + 0x12345);
    pt_unmap(vaddr(BENCH_VA), 0, 0);
    if (pt_map(vaddr(BENCH_VA), paddr(0), PAGE_SIZE_1G, PT_PROT_READ, 0) == PT_OK) {
        bench_translate("translate_1g_insns", BENCH_VA + 0x1234567);
        pt_unmap(vaddr(BENCH_VA), 0, 0);
    }
}

/* 1 GiB with 4 KiB pages: the range path, per page. */
static void bench_range(void)
{
    struct pt_stats a, b;
    pt_stats_get(&a);
    uint64_t t0 = measure_now();
    enum pt_status st = pt_map_range(vaddr(BENCH_VA), paddr(0), RANGE_BYTES, PT_PROT_READ,
                                     PT_RANGE_4K_ONLY, 0);
    uint64_t t1 = measure_now();
    enum pt_status un = pt_unmap_range(vaddr(BENCH_VA), RANGE_BYTES);
    uint64_t t2 = measure_now();
    pt_stats_get(&b);
    if (st != PT_OK || un != PT_OK) {
        kprintf("bench: 1 GiB range: map %s, unmap %s\n", pt_status_name(st),
                pt_status_name(un));
        return;
    }
    uint64_t pages = RANGE_BYTES / PAGE_SIZE;
    emit("map_range_1g_4k_per_page_insns", (t1 - t0) / pages, "tsc");
    emit("unmap_range_1g_4k_per_page_insns", (t2 - t1) / pages, "tsc");
    emit("map_range_1g_4k_tables", b.op[PT_OP_MAP_RANGE].tables_allocated -
                                   a.op[PT_OP_MAP_RANGE].tables_allocated, "frames");
    emit("map_range_1g_4k_invlpg", b.op[PT_OP_MAP_RANGE].invlpgs - a.op[PT_OP_MAP_RANGE].invlpgs,
         "count");
    emit("unmap_range_1g_4k_invlpg",
         b.op[PT_OP_UNMAP_RANGE].invlpgs - a.op[PT_OP_UNMAP_RANGE].invlpgs, "count");
    emit("unmap_range_1g_4k_full_flush",
         b.op[PT_OP_UNMAP_RANGE].full_flushes - a.op[PT_OP_UNMAP_RANGE].full_flushes, "count");
}

static void bench_pmm(void)
{
    static uint64_t alloc_s[ITERATIONS], free_s[ITERATIONS];
    static paddr_t frames[ITERATIONS];
    for (unsigned i = 0; i < ITERATIONS; i++)
        alloc_s[i] = measure_call(FN(pmm_alloc), PMM_ZONE_GENERAL, PTR(&frames[i]), 0, 0, 0);
    for (unsigned i = 0; i < ITERATIONS; i++)
        free_s[i] = measure_call(FN(pmm_free), PMM_ZONE_GENERAL,
                                 frames[ITERATIONS - 1 - i].pa, 0, 0, 0);
    emit("alloc_insns", measure_median(alloc_s, ITERATIONS), "tsc");
    emit("free_insns", measure_median(free_s, ITERATIONS), "tsc");
}

/* The per-frame records on the fault path: frame_new with its record
 * page already mapped (one warm-up call maps it; the median leaves out
 * the one call in ITERATIONS that may cross into a new page), frame_ref,
 * frame_unref of a second reference and of the last (which frees). */
static void bench_frames(void)
{
    static uint64_t new_s[ITERATIONS], ref_s[ITERATIONS], unref_s[ITERATIONS],
        last_s[ITERATIONS];
    static paddr_t frames[ITERATIONS];
    paddr_t warm;
    if (!frame_new(&warm)) {
        kprintf("bench: frame_new: no frame\n");
        return;
    }
    frame_unref(warm);
    for (unsigned i = 0; i < ITERATIONS; i++)
        new_s[i] = measure_call(FN(frame_new), PTR(&frames[i]), 0, 0, 0, 0);
    for (unsigned i = 0; i < ITERATIONS; i++)
        ref_s[i] = measure_call(FN(frame_ref), frames[i].pa, 0, 0, 0, 0);
    for (unsigned i = 0; i < ITERATIONS; i++)
        unref_s[i] = measure_call(FN(frame_unref), frames[i].pa, 0, 0, 0, 0);
    for (unsigned i = 0; i < ITERATIONS; i++)
        last_s[i] = measure_call(FN(frame_unref), frames[ITERATIONS - 1 - i].pa, 0, 0, 0, 0);
    emit("frame_new_insns", measure_median(new_s, ITERATIONS), "tsc");
    emit("frame_ref_insns", measure_median(ref_s, ITERATIONS), "tsc");
    emit("frame_unref_insns", measure_median(unref_s, ITERATIONS), "tsc");
    emit("frame_unref_last_insns", measure_median(last_s, ITERATIONS), "tsc");
}

static void bench_boot(void)
{
    uint64_t now = measure_now();
    emit("boot_stage1_insns", info->tsc_stage2 - info->tsc_stage1, "tsc");
    emit("boot_stage2_insns", info->tsc_kernel_jump - info->tsc_stage2, "tsc");
    emit("boot_kernel_insns", now - info->tsc_kernel_jump, "tsc");
    emit("window_pt_frames", info->window_table_frames, "frames");
    emit("window_bytes", info->phys_window_size, "bytes");
    emit("ram_usable_end", info->max_phys, "bytes");
    emit("reserved_va", strategy_reserved().size, "bytes");
    emit("tables_after_boot", measure_tables(), "frames");
}

/* One SYS_GETPID from ring 3, SYSCALL to SYSRETQ (tests/guest/ring3.c):
 * the figure issue 13 compares with Linux 6.1's 307 on the same QEMU. */
static void bench_syscall(void)
{
    emit("syscall_null_insns", ring3_syscall_null(info), "tsc");
}

/* Address spaces, per strategy: build one of 64 zeroed user pages while
 * it is inactive, fork it (the eager copy), switch to it (the CR3 write
 * and what the strategy does on activation), tear both down. Medians of
 * SPACE_RUNS: each run is tens of thousands of instructions. */
#define SPACE_RUNS 21
#define SPACE_PAGES 64
static uint64_t build_s[SPACE_RUNS], fork_s[SPACE_RUNS], switch_s[SPACE_RUNS],
    destroy_s[SPACE_RUNS];

static void space_build(struct pt_space *as)
{
    pt_space_create(as);
    pt_space_select(as);
    for (unsigned i = 0; i < SPACE_PAGES; i++) {
        paddr_t f;
        frame_new(&f);
        kmap_zero(f);
        pt_map(vaddr(USER_BASE + i * (uint64_t)PAGE_SIZE), f, PAGE_SIZE,
               PT_PROT_USER | PT_PROT_WRITE, NULL);
    }
    pt_space_select(NULL);
}

/* fork's references to the shared leaves, as kernel/proc/vm.c counts them */
static void fork_ref(const pte_t *leaf, unsigned n, void *ctx)
{
    (void)ctx;
    frame_ref_leaves(leaf, n, paddr(~0ULL));
}

static void bench_spaces(void)
{
    static struct pt_space a, b;
    for (unsigned r = 0; r < SPACE_RUNS; r++) {
        uint64_t t0 = measure_now();
        space_build(&a);
        uint64_t t1 = measure_now();
        pt_space_create(&b);
        pt_space_select(&a);
        pt_space_clone(&b, &a, vaddr(USER_BASE), SPACE_PAGES * (uint64_t)PAGE_SIZE, PT_CLONE_COW,
                       fork_ref, NULL, NULL);
        pt_space_select(NULL);
        uint64_t t2 = measure_now();
        switch_s[r] = measure_call(FN(pt_space_activate), PTR(&a), 0, 0, 0, 0);
        pt_space_activate(NULL);
        uint64_t t3 = measure_now();
        pt_space_destroy(&b, vm_drop_leaf, NULL);
        pt_space_destroy(&a, vm_drop_leaf, NULL);
        uint64_t t4 = measure_now();
        build_s[r] = t1 - t0;
        fork_s[r] = t2 - t1;
        destroy_s[r] = (t4 - t3) / 2;
    }
    emit("space_build_64_insns", measure_median(build_s, SPACE_RUNS), "tsc");
    emit("space_fork_64_insns", measure_median(fork_s, SPACE_RUNS), "tsc");
    emit("space_switch_insns", measure_median(switch_s, SPACE_RUNS), "tsc");
    emit("space_destroy_64_insns", measure_median(destroy_s, SPACE_RUNS), "tsc");
}

/* fork's page-table operations (pt_space_clone, pt_remap), per strategy:
 * clone of CLONE_SIZES[i] writable pages of the active space, copy-on-
 * write, with a leaves() that counts a reference per frame as fork's does;
 * the per-page figure is the slope between the smallest and the largest
 * (what a page adds, the tables' and the call's fixed costs taken out).
 * Medians of CLONE_RUNS; W is given back outside the measurement. */
#define CLONE_RUNS 5
#define CLONE_REFS 4096
static const unsigned clone_sizes[] = { 64, 512, 4096 };
static const char *const clone_metric[][2] = {
    { "clone_cow_64_insns", "clone_cow_64" },
    { "clone_cow_512_insns", "clone_cow_512" },
    { "clone_cow_4096_insns", "clone_cow_4096" },
};
_Static_assert(sizeof(clone_metric) / sizeof(clone_metric[0]) ==
               sizeof(clone_sizes) / sizeof(clone_sizes[0]), "a name per size");
static uint16_t clone_refs[CLONE_REFS];

static void bench_ref(const pte_t *leaf, unsigned n, void *ctx)
{
    (void)ctx;
    for (unsigned k = 0; k < n; k++)
        if (leaf[k] & PTE_P)
            clone_refs[((leaf[k] & PTE_ADDR_MASK) / PAGE_SIZE) % CLONE_REFS]++;
}

static uint64_t clone_once(struct pt_space *src, unsigned pages, struct pt_stats *a,
                           struct pt_stats *b)
{
    static struct pt_space dst;
    static uint64_t runs[CLONE_RUNS];
    uint64_t len = (uint64_t)pages * PAGE_SIZE;
    for (unsigned r = 0; r < CLONE_RUNS; r++) {
        pt_protect_range(vaddr(USER_BASE), len, PT_PROT_USER | PT_PROT_WRITE);
        pt_space_create(&dst);
        uint64_t copied;
        if (r == CLONE_RUNS - 1)
            pt_stats_get(a);
        uint64_t t0 = measure_now();
        pt_space_clone(&dst, src, vaddr(USER_BASE), len, PT_CLONE_COW, bench_ref, NULL, &copied);
        uint64_t t1 = measure_now();
        if (r == CLONE_RUNS - 1)
            pt_stats_get(b);
        pt_space_destroy(&dst, NULL, NULL);
        runs[r] = copied == pages ? t1 - t0 : 0;
    }
    return measure_median(runs, CLONE_RUNS);
}

static void bench_fork_ops(void)
{
    static struct pt_space src;
    const unsigned n = sizeof(clone_sizes) / sizeof(clone_sizes[0]);
    const unsigned most = clone_sizes[n - 1];
    uint64_t cost[sizeof(clone_sizes) / sizeof(clone_sizes[0])];
    struct pt_stats a, b;
    if (pt_space_create(&src) != PT_OK)
        return;
    pt_space_select(&src);
    /* frames that are only named, never touched: low memory */
    pt_map_range(vaddr(USER_BASE), paddr(0), (uint64_t)most * PAGE_SIZE,
                 PT_PROT_USER | PT_PROT_WRITE, PT_RANGE_4K_ONLY, NULL);
    pt_space_activate(&src);
    for (unsigned i = 0; i < n; i++) {
        cost[i] = clone_once(&src, clone_sizes[i], &a, &b);
        emit(clone_metric[i][0], cost[i], "tsc");
        emit_traffic(clone_metric[i][1], PT_OP_CLONE, &a, &b);
    }
    emit("clone_cow_per_page_insns",
         (cost[n - 1] - cost[0]) / (clone_sizes[n - 1] - clone_sizes[0]), "tsc");
    /* remap of a page the active space has: the copy-on-write break */
    pt_stats_get(&a);
    for (unsigned i = 0; i < ITERATIONS; i++)
        samples[i] = measure_call(FN(pt_remap), VA(USER_BASE + (i % 64) * PAGE_SIZE),
                                  (uint64_t)(i % 64) * PAGE_SIZE, PT_PROT_USER | PT_PROT_WRITE,
                                  0, 0);
    pt_stats_get(&b);
    emit("remap_4k_insns", measure_median(samples, ITERATIONS), "tsc");
    emit_traffic("remap_4k", PT_OP_REMAP, &a, &b);
    pt_space_activate(NULL);
    pt_space_select(NULL);
    pt_space_destroy(&src, NULL, NULL);
}

/* Two pingpongs (user/pingpong.c) yield to each other; they print their
 * own count, which tests/bench.py turns into yield_one_way_insns. */
static void bench_yield(void)
{
    long err;
    proc_spawn("pingpong", NULL, &err);
    proc_spawn("pingpong", NULL, &err);
    proc_run();
}

/* Page faults, fork, munmap and mprotect timed from ring 3
 * (user/faultbench.c): started once the pingpongs are gone, so that it
 * runs alone and nothing else allocates or faults meanwhile; its lines
 * ("faultbench: ...") are what tests/bench.py reads. */
static void bench_faults(void)
{
    long err;
    if (proc_spawn("faultbench", NULL, &err))
        proc_run();
}

/* Swap's costs timed from ring 3 (user/swapbench.c): a swap-in and an
 * eviction with and without a write-back under FIFO, then Clock's scan per
 * frame examined under Clock, each run alone with SWAPBENCH_FRAMES frames
 * for the replacement domain. The bench image has no configuration file:
 * the policy and the limit are set here for the two runs and put back
 * afterwards (no limit: nothing measured above ever evicts). */
#define SWAPBENCH_FRAMES 32
static void bench_swap(void)
{
    static const enum config_policy policies[] = { CONFIG_POLICY_FIFO, CONFIG_POLICY_CLOCK };
    if (!swap_present()) {
        kprintf("bench: no swap: swapbench not run\n");
        return;
    }
    for (unsigned i = 0; i < sizeof policies / sizeof policies[0]; i++) {
        long err;
        rp_configure(policies[i], SWAPBENCH_FRAMES);
        kprintf("bench: swapbench under replace=%s, user_frames=%u\n",
                config_policy_name(policies[i]), SWAPBENCH_FRAMES);
        if (proc_spawn("swapbench", NULL, &err))
            proc_run();
    }
    rp_configure(config_get()->policy, config_get()->user_frames);
}

void variant_run(const struct boot_info *bi)
{
    info = bi;
    bench_boot();
    measure_overhead();
    bench_map_unmap();
    bench_huge_translate();
    bench_range();
    bench_pmm();
    bench_frames();
    bench_syscall();
    bench_spaces();
    bench_fork_ops();
    bench_yield();
    bench_faults();
    bench_swap();
    emit("tables_after_bench", measure_tables(), "frames");
    kprintf("bench: done\n");
}

unsigned variant_oracle_addresses(uint64_t *out, unsigned cap)
{
    (void)out;
    (void)cap;
    return 0;
}
