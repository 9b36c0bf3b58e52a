/*
 * spaces.c - address spaces on the real CPU (spaces.h), with the build's
 * strategy: what the hardware reads after a CR3 write is the judge, not the
 * library's own translate. Each space's pages are kernel-only (no U bit),
 * so ring 0 reads and writes them without STAC whatever CR4.SMAP says.
 * fork's two operations are judged the same way: what pt_space_clone
 * copied is read after a CR3 switch, what it write-protected faults on a
 * write probe (CR0.WP is on), and a pt_remap'd page reads its new frame
 * at once.
 */
#include <stdarg.h>
#include <stddef.h>
#include "spaces.h"
#include "console.h"
#include "kmap.h"
#include "result.h"
#include "layout.h"
#include "pmm.h"
#include "pt.h"
#include "space_report.h"
#include "strategy.h"
#include "tlb.h"
#include "trap.h"

#define PAGES 64
#define TAG_A 0xA000000000000000ULL
#define TAG_B 0xB000000000000000ULL

#define result(ok, name, ...) guest_result("spaces", ok, name, __VA_ARGS__)

/* Full flushes the core made, every operation's together. */
static uint64_t flushes(void)
{
    struct pt_stats st;
    uint64_t n = 0;
    pt_stats_get(&st);
    for (unsigned op = 0; op < PT_OP_COUNT; op++)
        n += st.op[op].full_flushes;
    return n;
}

static volatile uint64_t *user_word(unsigned i)
{
    return (volatile uint64_t *)(uintptr_t)(USER_BASE + (uint64_t)i * PAGE_SIZE);
}

/* Maps PAGES kernel-writable pages at USER_BASE in the selected space. */
static enum pt_status map_pages(paddr_t f[PAGES])
{
    for (unsigned i = 0; i < PAGES; i++) {
        if (pmm_alloc(PMM_ZONE_GENERAL, &f[i]) != PMM_OK)
            return PT_ERR_NO_FRAMES;
        enum pt_status st = pt_map(vaddr(USER_BASE + i * PAGE_SIZE), f[i], PAGE_SIZE,
                                   PT_PROT_WRITE, NULL);
        if (st != PT_OK)
            return st;
    }
    return PT_OK;
}

/* Writes tag + i into page i through the active space, then reads all back. */
static unsigned write_all(uint64_t tag)
{
    for (unsigned i = 0; i < PAGES; i++)
        *user_word(i) = tag + i;
    return PAGES;
}

static unsigned count_equal(uint64_t tag)
{
    unsigned n = 0;
    for (unsigned i = 0; i < PAGES; i++)
        n += *user_word(i) == tag + i;
    return n;
}

struct freed {
    unsigned leaves;
};

static void free_leaf(vaddr_t va, paddr_t frame, uint64_t size, void *ctx)
{
    (void)va;
    (void)size;
    ((struct freed *)ctx)->leaves++;
    pmm_free(PMM_ZONE_GENERAL, frame);
}

/* ---- fork's operations through the MMU ---- */

#define CLONE_FIRST 8            /* below PT_FLUSH_THRESHOLD: an INVLPG each */
#define TAG_C 0xC000000000000000ULL

static void count_ref(const pte_t *leaf, unsigned n, void *ctx)
{
    for (unsigned k = 0; k < n; k++)
        *(unsigned *)ctx += (leaf[k] & PTE_P) != 0;
}

static void keep_leaf(vaddr_t va, paddr_t frame, uint64_t size, void *ctx)
{
    (void)va;
    (void)frame;
    (void)size;
    ((struct freed *)ctx)->leaves++;  /* a's frames: a frees them */
}

/* Pages written through the active space whose write probe faults. */
static unsigned write_faults(void)
{
    unsigned n = 0;
    for (unsigned i = 0; i < PAGES; i++)
        n += probe_write((volatile uint8_t *)user_word(i) + 1, 0x5A) != 0;
    return n;
}

/*
 * a is active and selected, its pages hold TAG_A + i, and every one was
 * just written (the TLB holds writable translations of them): a copy-on-
 * write clone into c in two regions (8 pages: an INVLPG each; the other
 * 56, into the PT the first made: one full flush) must leave every page
 * readable in both spaces after the CR3 switches and unwritable in both;
 * a pt_remap of page 0 to another frame must show that frame at once,
 * writable. Leaves a active (its page 0 mapping the new frame, which
 * *fresh receives) and c destroyed; fa[0] is then a's caller's to free.
 */
static void clone_checks(struct pt_space *a, const paddr_t fa[PAGES], paddr_t *fresh)
{
    static struct pt_space c;
    *fresh = paddr(0);
    enum pt_status sc = pt_space_create(&c);
    if (sc != PT_OK) {
        result(0, "clone: a third space", "%s", pt_status_name(sc));
        return;
    }
    pt_space_activate(a);
    pt_space_select(a);
    write_all(TAG_A);
    unsigned refs = 0;
    uint64_t n1 = 0, n2 = 0;
    enum pt_status c1 = pt_space_clone(&c, a, vaddr(USER_BASE), CLONE_FIRST * PAGE_SIZE,
                                       PT_CLONE_COW, count_ref, &refs, &n1);
    enum pt_status c2 = pt_space_clone(&c, a, vaddr(USER_BASE + CLONE_FIRST * PAGE_SIZE),
                                       (PAGES - CLONE_FIRST) * PAGE_SIZE, PT_CLONE_COW, count_ref,
                                       &refs, &n2);
    unsigned a_read = count_equal(TAG_A), a_faults = write_faults();
    pt_space_activate(&c);
    unsigned c_read = count_equal(TAG_A), c_faults = write_faults();
    struct pt_translation t;
    pt_space_select(&c);
    enum pt_status ct = pt_translate(vaddr(USER_BASE + 5 * PAGE_SIZE), &t);
    pt_space_activate(a);
    pt_space_select(a);
    unsigned a_again = count_equal(TAG_A);
    result(c1 == PT_OK && c2 == PT_OK && n1 + n2 == PAGES && refs == PAGES && a_read == PAGES &&
               c_read == PAGES && a_again == PAGES && a_faults == PAGES && c_faults == PAGES &&
               ct == PT_OK && t.pa.pa == fa[5].pa,
           "clone COW of the active space (8 pages, then 56 more): every page reads the same in"
           " both spaces through the MMU, and a write faults in both",
           "%s, %s; copied %lu+%lu, leaf() %u; reads a %u c %u a %u; write faults a %u c %u; c"
           " page 5 0x%lx (0x%lx)", pt_status_name(c1), pt_status_name(c2), n1, n2, refs, a_read,
           c_read, a_again, a_faults, c_faults, t.pa.pa, fa[5].pa);

    /* the fault handler's half: page 0 of a gets a frame of its own; its
     * translation was just used (the write probe), so only the INVLPG
     * makes the new frame visible */
    paddr_t nf, old = paddr(0);
    enum pt_status rm = PT_ERR_NO_FRAMES;
    uint64_t seen = 0;
    int wf = 1;
    if (pmm_alloc(PMM_ZONE_GENERAL, &nf) == PMM_OK) {
        *(volatile uint64_t *)kmap(nf, KMAP_SCRATCH) = TAG_C;
        kunmap(KMAP_SCRATCH);
        *fresh = nf;
        (void)*user_word(0);
        rm = pt_remap(vaddr(USER_BASE), nf, PT_PROT_WRITE, &old);
        seen = *user_word(0);
        wf = probe_write((volatile uint8_t *)user_word(0) + 1, 0x5A);
        if (rm != PT_OK) {
            pmm_free(PMM_ZONE_GENERAL, nf);   /* not mapped: a still has fa[0] */
            *fresh = paddr(0);
        }
    }
    pt_space_activate(&c);
    uint64_t c_seen = *user_word(0);
    pt_space_activate(a);
    result(rm == PT_OK && old.pa == fa[0].pa && seen == TAG_C && wf == 0 && c_seen == TAG_A,
           "remap of a write-protected page to a new frame: read at once through the MMU,"
           " writable; the clone still reads the old frame",
           "%s; old 0x%lx (0x%lx); reads 0x%lx, write fault %d; clone reads 0x%lx",
           pt_status_name(rm), old.pa, fa[0].pa, seen, wf, c_seen);
    pt_space_select(NULL);
    struct freed fr = { 0 };
    enum pt_status dc = pt_space_destroy(&c, keep_leaf, &fr);
    result(dc == PT_OK && fr.leaves == PAGES, "the clone destroyed: every leaf reported once",
           "%s, %u leaves", pt_status_name(dc), fr.leaves);
}

void spaces_run(const struct boot_info *bi)
{
    (void)bi;
    uint64_t before = guest_free_frames();
    paddr_t kernel_cr3 = cpu_read_cr3();
    static struct pt_space a, b;
    static paddr_t fa[PAGES], fb[PAGES];
    enum pt_status sa = pt_space_create(&a), sb = pt_space_create(&b);
    result(sa == PT_OK && sb == PT_OK && a.root.pa != b.root.pa && a.root.pa != kernel_cr3.pa,
           "two spaces created, each its own PML4", "%s, %s; roots 0x%lx 0x%lx",
           pt_status_name(sa), pt_status_name(sb), a.root.pa, b.root.pa);
    if (sa != PT_OK || sb != PT_OK)
        return;
    pt_space_select(&a);
    enum pt_status ma = map_pages(fa);
    pt_space_select(&b);
    enum pt_status mb = map_pages(fb);
    pt_space_select(NULL);
    struct pt_translation t;
    enum pt_status kt = pt_translate(vaddr(USER_BASE), &t);
    result(ma == PT_OK && mb == PT_OK && kt == PT_ERR_UNMAPPED,
           "64 pages mapped in each while inactive; the kernel's space has none there",
           "%s, %s; kernel: %s", pt_status_name(ma), pt_status_name(mb), pt_status_name(kt));

    /* What selecting an inactive space costs the TLB (NOTES, "Address
     * spaces and processes"): recursive repoints its second slot, one
     * non-global flush each time it names another space, none when it names
     * the same one again or the active one; the others need none at all.
     * Each translate after a selection must reach that space's frame. */
    pt_space_select(NULL);
    uint64_t f0 = flushes();
    struct pt_translation ta, tb;
    pt_space_select(&a);
    pt_translate(vaddr(USER_BASE), &ta);
    pt_space_select(&a);                          /* the same again */
    pt_space_select(NULL);                        /* the active one */
    pt_space_select(&a);                          /* the slot still points at a */
    uint64_t f1 = flushes();
    pt_space_select(&b);
    pt_translate(vaddr(USER_BASE), &tb);
    pt_space_select(NULL);
    uint64_t f2 = flushes();
    uint64_t want = PAGELAB_STRATEGY == STRATEGY_RECURSIVE ? 1 : 0;
    result(f1 - f0 == want && f2 - f1 == want && ta.pa.pa == fa[0].pa && tb.pa.pa == fb[0].pa,
           "selecting another inactive space: one non-global flush for recursive's second slot,"
           " none otherwise; each translate reaches its own space",
           "flushes %lu then %lu (want %lu each); a -> 0x%lx (0x%lx), b -> 0x%lx (0x%lx)",
           f1 - f0, f2 - f1, want, ta.pa.pa, fa[0].pa, tb.pa.pa, fb[0].pa);

    /* through the MMU: same addresses, each space its frames */
    pt_space_activate(&a);
    int cr3_a = cpu_read_cr3().pa == a.root.pa;
    write_all(TAG_A);
    pt_space_activate(&b);
    int cr3_b = cpu_read_cr3().pa == b.root.pa;
    write_all(TAG_B);
    unsigned b_ok = count_equal(TAG_B);
    pt_space_activate(&a);
    unsigned a_ok = count_equal(TAG_A);
    pt_space_activate(NULL);
    result(cr3_a && cr3_b && a_ok == PAGES && b_ok == PAGES && cpu_read_cr3().pa == kernel_cr3.pa,
           "CR3 switches: the same 64 addresses reach each space's own frames",
           "CR3 a %d b %d; a %u/%u, b %u/%u", cr3_a, cr3_b, a_ok, PAGES, b_ok, PAGES);

    /* fork's copy and the fault handler's remap, then a's page 0 is the
     * new frame: fa[0] is no leaf of a any more and is freed here */
    paddr_t fresh;
    clone_checks(&a, fa, &fresh);
    if (fresh.pa)
        pmm_free(PMM_ZONE_GENERAL, fa[0]);
    pt_space_activate(NULL);

    /* a kernel page mapped now, in a slot no space had: seen in both */
    paddr_t kf;
    enum pt_status km = pmm_alloc(PMM_ZONE_GENERAL, &kf) == PMM_OK
                            ? pt_map(vaddr(SPACES_TEST_BASE), kf, PAGE_SIZE, PT_PROT_WRITE, NULL)
                            : PT_ERR_NO_FRAMES;
    volatile uint64_t *kp = (volatile uint64_t *)(uintptr_t)SPACES_TEST_BASE;
    uint64_t seen_a = 0, seen_b = 0;
    if (km == PT_OK) {
        *kp = 0x5EE4B0770000001ULL;
        pt_space_activate(&a);
        seen_a = *kp;
        pt_space_activate(&b);
        seen_b = *kp;
        pt_space_activate(NULL);
    }
    result(km == PT_OK && seen_a == 0x5EE4B0770000001ULL && seen_b == seen_a,
           "a kernel page mapped after the spaces were made reaches both",
           "%s; a 0x%lx b 0x%lx", pt_status_name(km), seen_a, seen_b);
    if (km == PT_OK) {
        pt_unmap(vaddr(SPACES_TEST_BASE), NULL, NULL);
        pmm_free(PMM_ZONE_GENERAL, kf);
    }

    /* refusals, then teardown: every frame back */
    pt_space_activate(&a);
    enum pt_status busy = pt_space_destroy(&a, free_leaf, 0);
    pt_space_activate(NULL);
    struct freed fr = { 0 };
    enum pt_status da = pt_space_destroy(&a, free_leaf, &fr);
    enum pt_status db = pt_space_destroy(&b, free_leaf, &fr);
    result(busy == PT_ERR_SPACE_IN_USE && da == PT_OK && db == PT_OK && fr.leaves == 2 * PAGES,
           "the active space is refused; destroy reports every leaf",
           "active: %s; %s, %s; %u leaves", pt_status_name(busy), pt_status_name(da),
           pt_status_name(db), fr.leaves);
    /* One frame is still out: the PDPT linked for the kernel page, which
     * the unmap could not free while the spaces held copies of its PML4
     * entry (pt.h); it stays linked, empty, in the kernel's PML4. With no
     * space left the same map and unmap free it with the rest. */
    uint64_t out = before - guest_free_frames();
    int pinned = pt_table_used(3, vaddr(SPACES_TEST_BASE));
    enum pt_status again = pmm_alloc(PMM_ZONE_GENERAL, &kf) == PMM_OK
                               ? pt_map(vaddr(SPACES_TEST_BASE), kf, PAGE_SIZE, PT_PROT_WRITE, NULL)
                               : PT_ERR_NO_FRAMES;
    if (again == PT_OK)
        pt_unmap(vaddr(SPACES_TEST_BASE), NULL, NULL);
    pmm_free(PMM_ZONE_GENERAL, kf);
    uint64_t after = guest_free_frames();
    int gone = pt_table_used(3, vaddr(SPACES_TEST_BASE));
    kprintf("STAT: spaces_frames_before=%lu spaces_frames_after=%lu\n", before, after);
    result(out == 1 && pinned == 0 && again == PT_OK && gone == -1 && after == before,
           "both gone: all frames back but the shared PDPT, which goes with no space left",
           "%lu out after destroy, PDPT used %d; %s; PDPT %d; %lu free before, %lu after", out,
           pinned, pt_status_name(again), gone, before, after);
}

/* ---- two spaces kept alive to the end of the boot (spaces_keep) ---- */

#define KEEP_SPACES      2
#define CODE_PAGES       2
#define PRIVATE_PAGE     (USER_BASE + 0x200000)     /* its own PT: another PD entry */
#define SHARED_PAGE      (USER_BASE + 0x400000)     /* one frame, mapped in both */
#define UNMAPPED_VA      (USER_BASE + 0x40000000)   /* another PDPT entry, never mapped */
#define STACK_BOTTOM     (USER_STACK_TOP - 16 * PAGE_SIZE)  /* 16 stack pages, as a program might have */
#define STACK_GUARD      (STACK_BOTTOM - PAGE_SIZE)

/* What a process's image would have: code r-x, read-only data r--, data
 * rw-, all user; offsets from USER_BASE in pages. */
static const struct { uint64_t page; unsigned count; uint32_t prot; } image[] = {
    { 0, CODE_PAGES, PT_PROT_USER | PT_PROT_EXEC },
    { CODE_PAGES, 1, PT_PROT_USER },
    { CODE_PAGES + 1, 1, PT_PROT_USER | PT_PROT_WRITE },
};

static struct pt_space kept[KEEP_SPACES];
static struct space_line kept_lines[KEEP_SPACES][12];
static unsigned kept_count, kept_line_count[KEEP_SPACES];
static const char *const kept_names[KEEP_SPACES] = { "test-a", "test-b" };

static enum pt_status map_fresh(uint64_t va, uint32_t prot)
{
    paddr_t f;
    if (pmm_alloc(PMM_ZONE_GENERAL, &f) != PMM_OK)
        return PT_ERR_NO_FRAMES;
    return pt_map(vaddr(va), f, PAGE_SIZE, prot, NULL);
}

/* The selected space gets a process's pages: the image, a private page,
 * the shared frame, the whole user stack below USER_STACK_TOP (its guard
 * page left unmapped). */
static enum pt_status build_process_like(paddr_t shared)
{
    enum pt_status st = PT_OK;
    for (unsigned r = 0; r < sizeof(image) / sizeof(image[0]); r++)
        for (unsigned i = 0; i < image[r].count && st == PT_OK; i++)
            st = map_fresh(USER_BASE + (image[r].page + i) * PAGE_SIZE, image[r].prot);
    if (st == PT_OK)
        st = map_fresh(PRIVATE_PAGE, PT_PROT_USER | PT_PROT_WRITE);
    if (st == PT_OK)
        st = pt_map(vaddr(SHARED_PAGE), shared, PAGE_SIZE, PT_PROT_USER | PT_PROT_WRITE, NULL);
    for (uint64_t va = STACK_BOTTOM; va < USER_STACK_TOP && st == PT_OK; va += PAGE_SIZE)
        st = map_fresh(va, PT_PROT_USER | PT_PROT_WRITE);
    return st;
}

static void add_line(unsigned s, const char *what, uint64_t va)
{
    kept_lines[s][kept_line_count[s]++] = (struct space_line){ what, va };
}

static void describe(unsigned s)
{
    add_line(s, "user code", USER_BASE);
    add_line(s, "user code, 2nd page + 0x123", USER_BASE + PAGE_SIZE + 0x123);
    add_line(s, "user rodata", USER_BASE + CODE_PAGES * PAGE_SIZE);
    add_line(s, "user data", USER_BASE + (CODE_PAGES + 1) * PAGE_SIZE + 0x8);
    add_line(s, "page shared with nothing", PRIVATE_PAGE);
    add_line(s, "page shared by both spaces", SHARED_PAGE + 0x10);
    add_line(s, "user stack top", USER_STACK_TOP - 8);
    add_line(s, "user stack bottom", STACK_BOTTOM);
    add_line(s, "user stack guard page", STACK_GUARD);
    add_line(s, "unmapped", UNMAPPED_VA);
    add_line(s, "kernel code (shared upper half)", (uint64_t)(uintptr_t)spaces_keep);
    add_line(s, "boot modules (shared, read-only)", MODULES_BASE);
}

static unsigned list_kept(struct space_view *out, unsigned cap)
{
    unsigned n = 0;
    for (unsigned s = 0; s < kept_count && n < cap; s++)
        out[n++] = (struct space_view){ kept_names[s], &kept[s], kept_lines[s],
                                        kept_line_count[s] };
    return n;
}

void spaces_keep(const struct boot_info *bi)
{
    (void)bi;
    paddr_t shared;
    enum pt_status st = pmm_alloc(PMM_ZONE_GENERAL, &shared) == PMM_OK ? PT_OK
                                                                        : PT_ERR_NO_FRAMES;
    for (unsigned s = 0; s < KEEP_SPACES && st == PT_OK; s++) {
        st = pt_space_create(&kept[s]);
        if (st != PT_OK)
            break;
        kept_count++;
        pt_space_select(&kept[s]);
        st = build_process_like(shared);
        pt_space_select(NULL);
        describe(s);
    }
    _Static_assert(sizeof(kept_lines[0]) / sizeof(kept_lines[0][0]) <= SPACE_REPORT_MAX_LINES,
                   "a block's lines fit the report");
    space_report_register(list_kept);
    result(st == PT_OK && kept_count == KEEP_SPACES,
           "two process-like spaces kept alive for the final address-space blocks", "%s, %u",
           pt_status_name(st), kept_count);
}
