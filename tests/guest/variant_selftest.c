/*
 * variant_selftest.c - the in-guest suite of test kernels (variant.h): the paging library on
 * the real CPU, with the build's strategy, checked against what must hold
 * by construction (a frame written through one mapping reads back through
 * another; a fault has the error code the SDM says) rather than against
 * the library's own output.
 *
 * Scratch mappings live in PML4 slot 32 (TEST_BASE), where nothing else
 * is, so every table there is created by the suite and must be freed by
 * it; the oracle mappings that stay for the final translations live in
 * slot 64 (ORACLE_BASE, include/layout.h).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include "variant.h"
#include "access.h"
#include "spaces.h"
#include "frames.h"
#include "swapio.h"
#include "swapent.h"
#include "pagesize.h"
#include "images.h"
#include "procs.h"
#include "console.h"
#include "result.h"
#include "cpu.h"
#include "layout.h"
#include "measure.h"
#include "modules.h"
#include "pmm.h"
#include "pt.h"
#include "strategy.h"
#include "trap.h"
#include "wx_check.h"
#include "kmain.h"
#include "lowmem.h"
#include "ring3.h"
#include "x86.h"

/* include/layout.h's slots, as the 64-bit numbers printf's %llx expects
 * (layout.h carries no suffixes: NASM and the linker scripts read it too) */
#define TEST_BASE      ((unsigned long long)SELFTEST_BASE)
#define ORACLE_VA      ((unsigned long long)ORACLE_BASE)
#define NON_CANONICAL  0x0000800000000000ULL
#define PMM_SAMPLE     2000
#define ORACLE_MAX     320
#define ORACLE_4K      64
#define ORACLE_2M      16
#define ORACLE_1G      2
#define PATTERN        0x5A17C0DE0BADF00DULL


static const struct boot_info *info;
static const char *const rodata_probe = "read-only data";
static uint64_t oracle[ORACLE_MAX];
static unsigned oracle_count;
static uint64_t sample[PMM_SAMPLE];

#define result(ok, name, ...) guest_result(NULL, ok, name, __VA_ARGS__)

/* Page-table frames in use right now, counted by the core. */
static int64_t tables_live(void)
{
    struct pt_stats s;
    int64_t n = 0;
    pt_stats_get(&s);
    for (unsigned op = 0; op < PT_OP_COUNT; op++)
        n += (int64_t)s.op[op].tables_allocated - (int64_t)s.op[op].tables_freed;
    return n;
}

static uint64_t general_free(void)
{
    struct pmm_counters c;
    pmm_get_counters(PMM_ZONE_GENERAL, &c);
    return c.free;
}

static void test_translate_known(void)
{
    struct pt_translation t;
    enum pt_status st = pt_translate(vaddr(VGA_TEXT_ADDR), &t);
    result(st == PT_OK && t.pa.pa == VGA_TEXT_ADDR && pt_tr_page_size(&t) == PAGE_SIZE &&
           (pt_tr_prot(&t) & PT_PROT_WRITE),
           "translate: VGA buffer is identity-mapped, 4 KiB, writable",
           "%s pa 0x%llx", pt_status_name(st), (unsigned long long)t.pa.pa);
    uint64_t code = (uint64_t)(uintptr_t)kmain;
    st = pt_translate(vaddr(code), &t);
    result(st == PT_OK && t.pa.pa == code - KERNEL_VIRT_OFFSET &&
           (pt_tr_prot(&t) & PT_PROT_EXEC) && !(pt_tr_prot(&t) & PT_PROT_WRITE),
           "translate: kernel code is at virt - offset, r-x", "%s pa 0x%llx prot 0x%x",
           pt_status_name(st), (unsigned long long)t.pa.pa, pt_tr_prot(&t));
    st = pt_translate(vaddr((uint64_t)(uintptr_t)rodata_probe), &t);
    result(st == PT_OK && !(pt_tr_prot(&t) & PT_PROT_WRITE) &&
           (!BOOT_CPU_HAS(info, CPU_NX) || !(pt_tr_prot(&t) & PT_PROT_EXEC)),
           "translate: kernel rodata is read-only and (with NX) not executable", "prot 0x%x",
           pt_tr_prot(&t));
    uint64_t local = 0;
    st = pt_translate(vaddr((uint64_t)(uintptr_t)&local), &t);
    result(st == PT_OK && (pt_tr_prot(&t) & PT_PROT_WRITE) &&
           (!BOOT_CPU_HAS(info, CPU_NX) || !(pt_tr_prot(&t) & PT_PROT_EXEC)),
           "translate: kernel stack is rw, not executable", "%s", pt_status_name(st));
    st = pt_translate(vaddr(info->stack_bottom - PAGE_SIZE), &t);
    result(st == PT_ERR_UNMAPPED, "translate: the stack guard page is unmapped", "%s",
           pt_status_name(st));
    st = pt_translate(vaddr(NON_CANONICAL), &t);
    result(st == PT_ERR_NONCANONICAL, "translate: a non-canonical address says so", "%s",
           pt_status_name(st));
    st = pt_translate(vaddr(info->phys_window_base + 0x1234), &t);
    if (info->strategy == STRATEGY_OFFSET)
        result(st == PT_OK && t.pa.pa == 0x1234 && pt_tr_page_size(&t) == info->window_page_size,
               "translate: window base + x -> x, in the loader's page size", "%s",
               pt_status_name(st));
    else
        result(st == PT_ERR_UNMAPPED, "translate: the window was torn down at start", "%s",
               pt_status_name(st));
}

/* Expected new tables for a leaf at `size` in an empty PML4 slot. */
static int64_t tables_for(uint64_t size)
{
    return size == PAGE_SIZE ? 3 : size == PAGE_SIZE_2M ? 2 : 1;
}

static int content_ok(uint64_t va, uint64_t pa, uint64_t size)
{
    if (size == PAGE_SIZE) {
        *va_ptr(va + 8) = PATTERN ^ pa;
        return *va_ptr(va + 8) == (PATTERN ^ pa);
    }
    /* 2 MiB at the kernel's physical base, 1 GiB at 0: compare with the
     * kernel's own view of the same bytes. */
    uint64_t off = size == PAGE_SIZE_2M ? (uint64_t)(uintptr_t)kmain - KERNEL_VIRT_OFFSET - pa
                                        : lowmem_phys(info);
    uint64_t other = size == PAGE_SIZE_2M ? (uint64_t)(uintptr_t)kmain : (uint64_t)(uintptr_t)info;
    return *va_ptr(va + off) == *va_ptr(other);
}

static void test_round_trip(uint64_t size, const char *name)
{
    uint64_t va = TEST_BASE + 3 * size, pa = size == PAGE_SIZE_2M ? KERNEL_PHYS_BASE : 0;
    paddr_t frame = paddr(0);
    if (size == PAGE_SIZE && pmm_alloc(PMM_ZONE_GENERAL, &frame) != PMM_OK) {
        result(0, name, "no frame");
        return;
    }
    if (size == PAGE_SIZE)
        pa = frame.pa;
    uint32_t prot = size == PAGE_SIZE ? PT_PROT_WRITE : PT_PROT_READ;
    int64_t before = tables_live();
    enum pt_status st = pt_map(vaddr(va), paddr(pa), size, prot, 0);
    if (size == PAGE_SIZE_1G && !BOOT_CPU_HAS(info, CPU_PAGE1GB)) {
        result(st == PT_ERR_BAD_SIZE, name, "without 1 GiB pages: %s", pt_status_name(st));
        return;
    }
    struct pt_translation t;
    enum pt_status tr = pt_translate(vaddr(va + 0x123), &t);
    int mapped = st == PT_OK && tr == PT_OK && t.pa.pa == pa + 0x123 &&
                 pt_tr_page_size(&t) == size &&
                 !!(pt_tr_prot(&t) & PT_PROT_WRITE) == !!(prot & PT_PROT_WRITE);
    int content = mapped && content_ok(va, pa, size);
    enum pt_status again = pt_map(vaddr(va), paddr(pa), size, prot, 0);
    int64_t made = tables_live() - before;
    paddr_t got = paddr(1);
    uint64_t got_size = 0;
    enum pt_status un = pt_unmap(vaddr(va), &got, &got_size);
    enum pt_status gone = pt_translate(vaddr(va), &t);
    result(mapped && content && again == PT_ERR_ALREADY_MAPPED && made == tables_for(size) &&
           un == PT_OK && got.pa == pa && got_size == size && gone == PT_ERR_UNMAPPED &&
           tables_live() == before, name,
           "map %s translate %s content %d again %s tables +%lld unmap %s (0x%llx, 0x%llx) "
           "after %s, tables left %lld", pt_status_name(st), pt_status_name(tr), content,
           pt_status_name(again), (long long)made, pt_status_name(un),
           (unsigned long long)got.pa, (unsigned long long)got_size, pt_status_name(gone),
           (long long)(tables_live() - before));
    if (size == PAGE_SIZE)
        pmm_free(PMM_ZONE_GENERAL, frame);
}

static int fault_is(uint64_t vector, uint64_t must, uint64_t mustnt)
{
    const struct probe_fault *f = probe_last_fault();
    return f->vector == vector && (f->error_code & must) == must && !(f->error_code & mustnt);
}

static void test_faults(void)
{
    volatile uint8_t *ro = (volatile uint8_t *)(uintptr_t)rodata_probe;
    int r = probe_write(ro, *ro);
    result(r == 1 && fault_is(14, PF_ERR_PRESENT | PF_ERR_WRITE, PF_ERR_FETCH) &&
           probe_last_fault()->cr2 == (uint64_t)(uintptr_t)ro,
           "fault: a write to read-only data is a present+write page fault at that address",
           "probe %d vector %llu error 0x%llx", r, (unsigned long long)probe_last_fault()->vector,
           (unsigned long long)probe_last_fault()->error_code);
    r = probe_read(va_ptr(TEST_BASE + 0x1000));
    result(r == 1 && fault_is(14, 0, PF_ERR_PRESENT | PF_ERR_WRITE),
           "fault: a read of an unmapped page is a not-present read fault", "probe %d error 0x%llx",
           r, (unsigned long long)probe_last_fault()->error_code);
    r = probe_read(va_ptr(NON_CANONICAL));
    result(r == 1 && probe_last_fault()->vector == 13,
           "fault: a non-canonical address is a general-protection fault", "probe %d vector %llu",
           r, (unsigned long long)probe_last_fault()->vector);

    paddr_t frame;
    pmm_alloc(PMM_ZONE_GENERAL, &frame);
    uint64_t va = TEST_BASE;
    pt_map(vaddr(va), frame, PAGE_SIZE, PT_PROT_WRITE, 0);
    *(volatile uint8_t *)va_ptr(va) = X86_OPCODE_RET;
    r = probe_exec((const void *)va_ptr(va));
    if (BOOT_CPU_HAS(info, CPU_NX))
        result(r == 1 && fault_is(14, PF_ERR_PRESENT | PF_ERR_FETCH, PF_ERR_WRITE),
               "fault: fetching from a no-execute page is a present+fetch fault",
               "probe %d error 0x%llx", r, (unsigned long long)probe_last_fault()->error_code);
    else
        result(r == 0, "fault: without NX a data page executes (no NX bit exists)", "%d", r);
    enum pt_status st = pt_protect(vaddr(va), PAGE_SIZE, PT_PROT_EXEC);
    r = probe_exec((const void *)va_ptr(va));
    int w = probe_write((volatile uint8_t *)va_ptr(va), X86_OPCODE_RET);
    result(st == PT_OK && r == 0 && w == 1 && fault_is(14, PF_ERR_PRESENT | PF_ERR_WRITE, 0),
           "protect: r-x makes the page executable and no longer writable",
           "protect %s exec %d write %d", pt_status_name(st), r, w);
    st = pt_protect(vaddr(va), PAGE_SIZE, PT_PROT_WRITE);
    w = probe_write((volatile uint8_t *)va_ptr(va), X86_OPCODE_RET);
    enum pt_status wrong = pt_protect(vaddr(va), PAGE_SIZE_2M, PT_PROT_WRITE);
    result(st == PT_OK && w == 0 && wrong == PT_ERR_NOT_LEAF_OF_SIZE,
           "protect: rw again writes; a 2 MiB protect of a 4 KiB leaf is refused",
           "%s %d %s", pt_status_name(st), w, pt_status_name(wrong));
    pt_unmap(vaddr(va), 0, 0);
    pmm_free(PMM_ZONE_GENERAL, frame);
}

/* A frame source that hands out `left` frames from the strategy, then fails. */
struct limited { unsigned left, given, taken_back; };

static enum pt_status limited_alloc(void *ctx, paddr_t *out)
{
    struct limited *l = ctx;
    if (!l->left)
        return PT_ERR_NO_FRAMES;
    if (pmm_alloc(strategy_table_zone(), out) != PMM_OK)
        return PT_ERR_NO_FRAMES;
    l->left--;
    l->given++;
    return PT_OK;
}

static void limited_free(void *ctx, paddr_t frame)
{
    struct limited *l = ctx;
    l->taken_back++;
    pmm_free(strategy_table_zone(), frame);
}

static void test_errors(void)
{
    enum pt_status a = pt_map(vaddr(TEST_BASE + 0x800), paddr(0x1000), PAGE_SIZE, 0, 0);
    enum pt_status b = pt_map(vaddr(TEST_BASE), paddr(0x1000), PAGE_SIZE_2M, 0, 0);
    enum pt_status c = pt_map(vaddr(NON_CANONICAL), paddr(0x1000), PAGE_SIZE, 0, 0);
    enum pt_status d = pt_map(vaddr(TEST_BASE), paddr(0x1000), 0x3000, 0, 0);
    result(a == PT_ERR_MISALIGNED && b == PT_ERR_MISALIGNED && c == PT_ERR_NONCANONICAL &&
           d == PT_ERR_BAD_SIZE, "map: misaligned va/pa, non-canonical, bad size are refused",
           "%s %s %s %s", pt_status_name(a), pt_status_name(b), pt_status_name(c),
           pt_status_name(d));

    uint64_t va = TEST_BASE + PAGE_SIZE_1G;
    pt_map(vaddr(va), paddr(KERNEL_PHYS_BASE), PAGE_SIZE_2M, 0, 0);
    a = pt_map(vaddr(va + PAGE_SIZE), paddr(0x1000), PAGE_SIZE, 0, 0);
    pt_unmap(vaddr(va), 0, 0);
    result(a == PT_ERR_HUGE_IN_WAY, "map: a 4 KiB page inside a 2 MiB leaf is refused", "%s",
           pt_status_name(a));

    int64_t before = tables_live();
    uint64_t free_before = general_free();
    a = pt_map(vaddr(TEST_BASE), paddr(0x1000), PAGE_SIZE, 0, &pt_no_frames);
    struct limited lim = { 1, 0, 0 };
    struct pt_frame_source one = { limited_alloc, limited_free, &lim };
    b = pt_map(vaddr(TEST_BASE), paddr(0x1000), PAGE_SIZE, 0, &one);
    result(a == PT_ERR_NO_FRAMES && b == PT_ERR_NO_FRAMES && lim.given == 1 &&
           lim.taken_back == 1 && tables_live() == before && general_free() == free_before,
           "map: out of frames at any level leaves no trace (tables given back)",
           "%s %s given %u back %u tables %lld", pt_status_name(a), pt_status_name(b), lim.given,
           lim.taken_back, (long long)(tables_live() - before));
}

static void test_ranges(void)
{
    uint64_t va = TEST_BASE + 2ULL * PAGE_SIZE_1G;
    int64_t before = tables_live();
    enum pt_status st = pt_map_range(vaddr(va), paddr(KERNEL_PHYS_BASE), 2 * PAGE_SIZE_2M, 0,
                                     PT_RANGE_ALLOW_HUGE, 0);
    struct pt_translation t0, t1;
    pt_translate(vaddr(va), &t0);
    pt_translate(vaddr(va + PAGE_SIZE_2M + 5), &t1);
    enum pt_status un = pt_unmap_range(vaddr(va), 2 * PAGE_SIZE_2M);
    result(st == PT_OK && pt_tr_page_size(&t0) == PAGE_SIZE_2M && t1.pa.pa == KERNEL_PHYS_BASE +
           PAGE_SIZE_2M + 5 && un == PT_OK && tables_live() == before,
           "range: 4 MiB with huge pages allowed is two 2 MiB leaves, then gone",
           "%s size 0x%llx %s", pt_status_name(st), (unsigned long long)pt_tr_page_size(&t0),
           pt_status_name(un));
    st = pt_map_range(vaddr(va), paddr(KERNEL_PHYS_BASE), 16 * PAGE_SIZE, 0, PT_RANGE_4K_ONLY, 0);
    int used = pt_table_used(1, vaddr(va));
    pt_translate(vaddr(va + 15 * PAGE_SIZE), &t1);
    un = pt_unmap_range(vaddr(va), 16 * PAGE_SIZE);
    result(st == PT_OK && used == 16 && t1.pa.pa == KERNEL_PHYS_BASE + 15 * PAGE_SIZE &&
           pt_tr_page_size(&t1) == PAGE_SIZE && un == PT_OK && tables_live() == before,
           "range: 16 pages of 4 KiB fill 16 entries of one table, freed after",
           "%s used %d %s", pt_status_name(st), used, pt_status_name(un));
}

static int in_usable(uint64_t pa)
{
    for (uint32_t i = 0; i < info->map_count; i++)
        if (info->map[i].type == MEM_USABLE && pa >= info->map[i].base &&
            pa + PAGE_SIZE <= info->map[i].base + info->map[i].length)
            return 1;
    return 0;
}

static int in_loader_range(uint64_t pa)
{
    for (uint32_t i = 0; i < info->loader_range_count; i++) {
        const struct loader_range *r = &info->loader_ranges[i];
        if (r->kind != LOADER_RANGE_WINDOW_TABLES && r->kind != LOADER_RANGE_TABLE_POOL &&
            r->kind != LOADER_RANGE_PAGE_TABLES && pa >= r->base &&
            pa < r->base + r->pages * PAGE_SIZE)
            return 1;
    }
    return 0;
}

static void sort_u64(uint64_t *a, unsigned n)
{
    for (unsigned gap = n / 2; gap; gap /= 2)
        for (unsigned i = gap; i < n; i++)
            for (unsigned j = i; j >= gap && a[j - gap] > a[j]; j -= gap) {
                uint64_t x = a[j];
                a[j] = a[j - gap];
                a[j - gap] = x;
            }
}

static void test_pmm(void)
{
    uint64_t free_before = general_free();
    unsigned n = 0, bad = 0;
    paddr_t f;
    while (n < PMM_SAMPLE && pmm_alloc(PMM_ZONE_GENERAL, &f) == PMM_OK) {
        sample[n++] = f.pa;
        if ((f.pa & (PAGE_SIZE - 1)) || f.pa < LOW_MEMORY_END || !in_usable(f.pa) ||
            in_loader_range(f.pa) || pmm_frame_state(PMM_ZONE_GENERAL, f) != PMM_FRAME_USED)
            bad++;
    }
    sort_u64(sample, n);
    unsigned dups = 0;
    for (unsigned i = 1; i < n; i++)
        dups += sample[i] == sample[i - 1];
    result(n == PMM_SAMPLE && !bad && !dups,
           "pmm: 2000 frames, each usable, above 1 MiB, not the loader's, none twice",
           "got %u, %u bad, %u duplicates", n, bad, dups);
    for (unsigned i = 0; i < n; i++)
        pmm_free(PMM_ZONE_GENERAL, paddr(sample[i]));
    enum pmm_status twice = pmm_free(PMM_ZONE_GENERAL, paddr(sample[0]));
    enum pmm_status never = pmm_free(PMM_ZONE_GENERAL, paddr(0));
    result(general_free() == free_before && twice == PMM_ERR_DOUBLE_FREE &&
           never == PMM_ERR_NOT_USABLE && pmm_verify(PMM_ZONE_GENERAL) == PMM_OK,
           "pmm: all given back, double free and frame 0 refused, invariants hold",
           "free %llu vs %llu, %s, %s", (unsigned long long)general_free(),
           (unsigned long long)free_before, pmm_status_name(twice), pmm_status_name(never));
}

static void oracle_add(uint64_t va)
{
    if (oracle_count < ORACLE_MAX)
        oracle[oracle_count++] = va;
}

/* Mappings that stay: 4 KiB pages with holes, 2 MiB and 1 GiB leaves, and
 * samples of the kernel image and the strategy's own region. */
static void oracle_layout(void)
{
    enum pt_status worst = PT_OK;
    for (unsigned i = 0; i < ORACLE_4K; i++) {
        uint64_t va = ORACLE_VA + i * PAGE_SIZE;
        if (i % 5 != 4) {
            enum pt_status st = pt_map(vaddr(va), paddr(KERNEL_PHYS_BASE + i * PAGE_SIZE),
                                       PAGE_SIZE, PT_PROT_READ, 0);
            worst = st != PT_OK ? st : worst;
        }
        oracle_add(va + i * 8);
    }
    for (unsigned i = 0; i < ORACLE_2M; i++) {
        uint64_t va = ORACLE_VA + PAGE_SIZE_1G + i * PAGE_SIZE_2M;
        if (i % 2 == 0) {
            enum pt_status st = pt_map(vaddr(va), paddr(i * PAGE_SIZE_2M), PAGE_SIZE_2M,
                                       PT_PROT_READ, 0);
            worst = st != PT_OK ? st : worst;
        }
        oracle_add(va + 0x1000 * i + 0x10);
    }
    for (unsigned i = 0; i < ORACLE_1G && BOOT_CPU_HAS(info, CPU_PAGE1GB); i++) {
        uint64_t va = ORACLE_VA + (4ULL + i) * PAGE_SIZE_1G;
        enum pt_status st = pt_map(vaddr(va), paddr((uint64_t)i * PAGE_SIZE_1G), PAGE_SIZE_1G, PT_PROT_READ, 0);
        worst = st != PT_OK ? st : worst;
        oracle_add(va + 0x12345678);
        oracle_add(va + PAGE_SIZE_1G - 8);
    }
    for (uint64_t va = info->kernel_virt_start; va < info->kernel_virt_end; va += PAGE_SIZE)
        oracle_add(va + 0x40);
    struct pt_region own = strategy_reserved();
    for (unsigned i = 0; own.size && i < 56; i++)
        oracle_add(own.base.va + (own.size / 56) * i + 8 * i);
    for (unsigned i = 0; i < 32; i++)
        oracle_add(info->phys_window_base + (info->max_phys / 32) * i);
    result(worst == PT_OK, "oracle: mappings of all three sizes in place", "%s",
           pt_status_name(worst));
}

/* ---- robustness: what the kernel enforces (kernel/mm/protect.c, wx_check.c) ---- */

#define PROTECT_BASE   (TEST_BASE + 16ULL * PAGE_SIZE_1G)  /* away from the tests above */
#define EXHAUST_MAX_FRAMES (1ULL << 21)                 /* 8 GiB: a few seconds under TCG */
#define EXHAUST_RUNS   4096

/* One frame seen three ways: kernel rw- (to write the code), kernel r-x
 * and user r-x. SMEP must stop the kernel's fetch from the user view and
 * SMAP its read, while the same bytes work through the kernel views. */
static void test_smep_smap(void)
{
    uint64_t k_rw = PROTECT_BASE, k_rx = k_rw + PAGE_SIZE, u_rx = k_rw + 2 * PAGE_SIZE;
    paddr_t frame;
    if (pmm_alloc(PMM_ZONE_GENERAL, &frame) != PMM_OK) {
        result(0, "smep/smap: a frame to test with", "none");
        return;
    }
    enum pt_status a = pt_map(vaddr(k_rw), frame, PAGE_SIZE, PT_PROT_WRITE, 0);
    enum pt_status b = pt_map(vaddr(k_rx), frame, PAGE_SIZE, PT_PROT_EXEC, 0);
    enum pt_status c = pt_map(vaddr(u_rx), frame, PAGE_SIZE, PT_PROT_EXEC | PT_PROT_USER, 0);
    *(volatile uint8_t *)va_ptr(k_rw) = X86_OPCODE_RET;
    int kernel_view = probe_exec((const void *)va_ptr(k_rx)) == 0;
    int fetch = probe_exec((const void *)va_ptr(u_rx));
    int fetch_ok = fault_is(14, PF_ERR_PRESENT | PF_ERR_FETCH, PF_ERR_USER | PF_ERR_WRITE);
    if (BOOT_CPU_HAS(info, CPU_SMEP))
        result(a == PT_OK && b == PT_OK && c == PT_OK && kernel_view && fetch == 1 && fetch_ok,
               "smep: the kernel cannot execute a user page (present+fetch fault)",
               "maps %s %s %s, kernel view %d, probe %d error 0x%llx", pt_status_name(a),
               pt_status_name(b), pt_status_name(c), kernel_view, fetch,
               (unsigned long long)probe_last_fault()->error_code);
    else
        result(fetch == 0, "smep: absent on this CPU, a user page executes", "probe %d", fetch);
    int read = probe_read(va_ptr(u_rx));
    int read_ok = fault_is(14, PF_ERR_PRESENT, PF_ERR_USER | PF_ERR_WRITE | PF_ERR_FETCH);
    if (BOOT_CPU_HAS(info, CPU_SMAP)) {
        stac();                               /* RFLAGS.AC: the access is meant */
        int with_ac = probe_read(va_ptr(u_rx));
        clac();
        result(read == 1 && read_ok && with_ac == 0,
               "smap: the kernel cannot read a user page unless RFLAGS.AC is set",
               "probe %d error 0x%llx, with AC %d", read,
               (unsigned long long)probe_last_fault()->error_code, with_ac);
    } else {
        result(read == 0, "smap: absent on this CPU, a user page reads", "probe %d", read);
    }
    pt_unmap(vaddr(u_rx), 0, 0);
    pt_unmap(vaddr(k_rx), 0, 0);
    pt_unmap(vaddr(k_rw), 0, 0);
    pmm_free(PMM_ZONE_GENERAL, frame);
}

/* The W^X walk finds a writable+executable page put there on purpose. */
static void test_wx_check_finds(void)
{
    uint64_t va = PROTECT_BASE + 3 * PAGE_SIZE;
    paddr_t frame;
    if (!BOOT_CPU_HAS(info, CPU_NX)) {
        result(1, "wx: without NX every page executes (nothing to find)", "%s", "");
        return;
    }
    pmm_alloc(PMM_ZONE_GENERAL, &frame);
    uint64_t before = wx_check(info);
    enum pt_status st = pt_map(vaddr(va), frame, PAGE_SIZE, PT_PROT_WRITE | PT_PROT_EXEC, 0);
    uint64_t with = wx_check(info);
    pt_unmap(vaddr(va), 0, 0);
    pmm_free(PMM_ZONE_GENERAL, frame);
    result(before == 0 && st == PT_OK && with == 1 && wx_check(info) == 0,
           "wx: the walk finds the one writable+executable page mapped on purpose",
           "before %llu, map %s, with %llu", (unsigned long long)before, pt_status_name(st),
           (unsigned long long)with);
}

/* Runs of consecutive frames handed out, so that all can be given back. */
struct frame_run {
    uint64_t first, count;
};
static struct frame_run runs[EXHAUST_RUNS];

static int frame_ok(enum pmm_zone zone, uint64_t pa)
{
    if ((pa & (PAGE_SIZE - 1)) || pmm_frame_state(zone, paddr(pa)) != PMM_FRAME_USED)
        return 0;
    if (zone == PMM_ZONE_TABLE_POOL)
        return pa >= info->table_pool_phys &&
               pa < info->table_pool_phys + info->table_pool_pages * PAGE_SIZE;
    return pa >= 0x100000 && in_usable(pa) && !in_loader_range(pa);
}

/* Every frame of the zone, then one more: each frame usable, handed out
 * once (pmm_alloc returns the lowest free frame, so with nothing freed in
 * between the frames must strictly increase), exhaustion an error; then
 * all back, and a second free of one is refused. */
static void test_pmm_exhaust(enum pmm_zone zone, const char *name)
{
    struct pmm_counters c;
    pmm_get_counters(zone, &c);
    if (c.free > EXHAUST_MAX_FRAMES) {
        result(1, name, "%s", "");
        kprintf("  (%llu frames: more than this test walks; the sample test covers them)\n",
                (unsigned long long)c.free);
        return;
    }
    uint64_t n = 0, bad = 0, disorder = 0, last = 0, nruns = 0;
    paddr_t f = paddr(1);
    while (pmm_alloc(zone, &f) == PMM_OK) {
        bad += !frame_ok(zone, f.pa);
        disorder += n && f.pa <= last;
        if (nruns && runs[nruns - 1].first + runs[nruns - 1].count * PAGE_SIZE == f.pa)
            runs[nruns - 1].count++;
        else if (nruns < EXHAUST_RUNS)
            runs[nruns++] = (struct frame_run){ f.pa, 1 };
        else
            bad++;                                 /* cannot give it back: counted */
        last = f.pa;
        n++;
    }
    paddr_t untouched = paddr(1);
    enum pmm_status empty = pmm_alloc(zone, &untouched);
    for (uint64_t r = 0; r < nruns; r++)
        for (uint64_t i = 0; i < runs[r].count; i++)
            pmm_free(zone, paddr(runs[r].first + i * PAGE_SIZE));
    enum pmm_status twice = nruns ? pmm_free(zone, paddr(runs[0].first)) : PMM_ERR_DOUBLE_FREE;
    struct pmm_counters after;
    pmm_get_counters(zone, &after);
    result(n == c.free && !bad && !disorder && empty == PMM_ERR_EXHAUSTED && untouched.pa == 1 &&
           twice == PMM_ERR_DOUBLE_FREE && after.free == c.free && pmm_verify(zone) == PMM_OK,
           name, "%llu of %llu frames, %llu bad, %llu out of order, then %s, double free %s, "
           "%llu free after", (unsigned long long)n, (unsigned long long)c.free,
           (unsigned long long)bad, (unsigned long long)disorder, pmm_status_name(empty),
           pmm_status_name(twice), (unsigned long long)after.free);
}

/* FNV-1a, 32 bits (the IETF draft "The FNV Non-Cryptographic Hash
 * Algorithm"): the test computes it over the built ELF too. */
static uint32_t fnv1a(const uint8_t *p, uint64_t n)
{
    uint32_t h = 2166136261u;
    while (n--)
        h = (h ^ *p++) * 16777619u;
    return h;
}

/* Each module, read through MODULES_BASE, has the bytes of its file
 * (MODULE: lines, which run_tests.py compares with build/user/<name>.elf)
 * and is mapped read-only, no-execute, to the frames BootInfo names. */
static void test_modules(void)
{
    int bad = 0;
    for (uint32_t i = 0; i < module_count(); i++) {
        uint64_t size = 0;
        const uint8_t *bytes = module_bytes(module_name(i), &size);
        struct pt_translation t;
        enum pt_status st = pt_translate(vaddr((uint64_t)(uintptr_t)bytes), &t);
        uint32_t prot = st == PT_OK ? pt_tr_prot(&t) : PT_PROT_WRITE;
        int nx_wanted = BOOT_CPU_HAS(info, CPU_NX);
        bad += st != PT_OK || t.pa.pa != info->modules[i].phys || (prot & PT_PROT_WRITE) ||
               (nx_wanted && (prot & PT_PROT_EXEC)) || size != info->modules[i].size;
        kprintf("MODULE: %s %llu bytes fnv1a 0x%08x\n", module_name(i),
                (unsigned long long)size, fnv1a(bytes, size));
    }
    result(!bad && module_count() == info->module_count && !module_bytes("no such module", 0),
           "modules: each at MODULES_BASE, read-only, no-execute, on BootInfo's frames",
           "%d wrong of %u", bad, module_count());
}

void variant_run(const struct boot_info *bi)
{
    info = bi;
    kprintf("selftest: start\n");
    unsigned boot_tables = measure_tables() - measure_record_tables();
    test_translate_known();
    test_modules();
    test_round_trip(PAGE_SIZE, "map/unmap 4 KiB: translate, write/read, tables made and freed");
    test_round_trip(PAGE_SIZE_2M, "map/unmap 2 MiB: translate, same bytes as the kernel");
    test_round_trip(PAGE_SIZE_1G, "map/unmap 1 GiB: translate, same bytes as low memory");
    test_faults();
    test_errors();
    test_ranges();
    test_pmm();
    test_pmm_exhaust(PMM_ZONE_GENERAL, "pmm: every frame once, each usable, then exhausted; all back");
    if (info->table_pool_pages)
        test_pmm_exhaust(PMM_ZONE_TABLE_POOL, "pmm: every pool frame once, then exhausted; all back");
    test_smep_smap();
    access_run(info);
    spaces_run(info);
    swapent_run(info);
    pagesize_run(info);
    images_run(info);
    procs_run(info);
    test_wx_check_finds();
    ring3_run(info);
    /* the frame records' tables stay for good once the suite's first
     * frame_new maps a record page: frames.c checks those */
    unsigned suite_tables = measure_tables() - measure_record_tables();
    kprintf("STAT: tables_after_boot=%u tables_after_suite=%u reserved_va=%llu\n", boot_tables,
            suite_tables, (unsigned long long)strategy_reserved().size);
    result(suite_tables == boot_tables, "suite: the tables it created are all freed again",
           "%u tables at boot, %u after", boot_tables, suite_tables);
    /* after the count above: record pages and their tables stay for good */
    frames_run(info);
    swapio_run(info);
    oracle_layout();
    spaces_keep(info);
    kprintf("selftest: done\n");
}

unsigned variant_oracle_addresses(uint64_t *out, unsigned cap)
{
    unsigned n = oracle_count < cap ? oracle_count : cap;
    for (unsigned i = 0; i < n; i++)
        out[i] = oracle[i];
    return n;
}
