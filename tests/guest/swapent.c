/*
 * swapent.c - swap entries on the real CPU (swapent.h), with the build's
 * strategy: what the MMU reads after pt_swap_out and pt_swap_in is the
 * judge, and the TLB counts (pt_tlb_counts) say what each cost. The pages
 * are kernel-only (no U bit), as spaces.c's, so ring 0 reads them without
 * STAC. The swap area itself is not involved: "the bytes came back from
 * swap" is a copy through kmap (swapio.c checks the disk).
 */
#include <stddef.h>
#include <stdint.h>
#include "swapent.h"
#include "kmap.h"
#include "layout.h"
#include "pmm.h"
#include "pt.h"
#include "result.h"
#include "trap.h"

#define result(ok, name, ...) guest_result("swapent", ok, name, __VA_ARGS__)

/* Two pages of one PT, in a PD entry of their own. */
#define PAGE_A (USER_BASE + 3 * PT_LEVEL_SPAN(2) + 5 * PAGE_SIZE)
#define PAGE_B (PAGE_A + PAGE_SIZE)
#define SLOT_A 12u
#define SLOT_B 0xFFFFFFFFu     /* the largest slot the entry holds */
#define TAG_A 0x5A5A0000000000A1ULL
#define TAG_B 0x5A5A0000000000B2ULL

static volatile uint64_t *word(uint64_t va) { return (volatile uint64_t *)(uintptr_t)va; }

struct tlb_mark {
    uint64_t invlpgs, flushes;
};

static struct tlb_mark mark(void)
{
    struct tlb_mark m;
    pt_tlb_counts(&m.invlpgs, &m.flushes);
    return m;
}

/* Invalidations since m: INVLPGs, or ~0 if anything was flushed. */
static uint64_t since(struct tlb_mark m)
{
    struct tlb_mark now = mark();
    return now.flushes != m.flushes ? ~0ULL : now.invlpgs - m.invlpgs;
}

/* Walks va's path once, so that the operation measured next reaches the
 * same tables without the strategy's own invalidations (temporary's slot
 * remaps: pt_translate leaves each level's slot on this path). */
static void warm(uint64_t va)
{
    struct pt_translation t;
    (void)pt_translate(vaddr(va), &t);
}

/* A read of va that faults: 1 if it faulted not-present, on a read, in
 * ring 0, at va (SDM Vol. 3A 4.7: error code P = W = U/S = 0). */
static int faults_not_present(uint64_t va)
{
    if (!probe_read(word(va)))
        return 0;
    const struct probe_fault *f = probe_last_fault();
    return f->vector == 14 && f->cr2 == va &&
           !(f->error_code & (PF_ERR_PRESENT | PF_ERR_WRITE | PF_ERR_USER));
}

/* va's value through the MMU, or ~0 if the read faulted. */
static uint64_t read_back(uint64_t va)
{
    return probe_read(word(va)) ? ~0ULL : *word(va);
}

/* A frame holding what `from` holds, and `from` overwritten: the page's
 * next owner, so that a stale translation would show. */
static paddr_t copy_away(paddr_t from)
{
    paddr_t to;
    if (pmm_alloc(PMM_ZONE_GENERAL, &to) != PMM_OK)
        return paddr(0);
    kmap_copy(to, from);
    *(volatile uint64_t *)kmap(from, KMAP_SCRATCH) = ~0ULL;
    kunmap(KMAP_SCRATCH);
    return to;
}

struct reported {
    unsigned leaves, swaps;
    uint64_t va;
    pte_t e;
};

static void on_leaf(vaddr_t va, paddr_t frame, uint64_t size, void *ctx)
{
    (void)va;
    (void)size;
    ((struct reported *)ctx)->leaves++;
    pmm_free(PMM_ZONE_GENERAL, frame);
}

static void on_swap(vaddr_t va, pte_t e, void *ctx)
{
    struct reported *r = ctx;
    r->swaps++;
    r->va = va.va;
    r->e = e;
}

/* s active and selected, PAGE_A written: out and in again through the MMU.
 * *fa is the page's frame, the new one on return. */
static void active_round_trip(paddr_t *fa)
{
    int used = pt_table_used(1, vaddr(PAGE_A));
    warm(PAGE_A);
    struct tlb_mark m = mark();
    pte_t old = 0, e = 0;
    enum pt_status so = pt_swap_out(vaddr(PAGE_A), pte_swap_entry(SLOT_A), &old);
    uint64_t out_cost = since(m);
    int faulted = faults_not_present(PAGE_A);
    enum pt_status ge = pt_entry_get(vaddr(PAGE_A), &e);
    result(so == PT_OK && out_cost == 1 && (old & PTE_ADDR_MASK) == fa->pa && (old & PTE_A) &&
               (old & PTE_D) && faulted && ge == PT_OK && e == pte_swap_entry(SLOT_A) &&
               pt_table_used(1, vaddr(PAGE_A)) == used,
           "swap-out of a page of the active space: one INVLPG, the old leaf returned with the"
           " A and D bits the CPU set, the next read faults not-present at its address, the"
           " PT's count unchanged",
           "%s, %lu INVLPGs (~0: a flush); old 0x%lx (frame 0x%lx); fault %d; entry %s 0x%lx;"
           " count %d -> %d", pt_status_name(so), out_cost, old, fa->pa, faulted,
           pt_status_name(ge), e, used, pt_table_used(1, vaddr(PAGE_A)));
    paddr_t nf = copy_away(*fa);
    enum pt_status si = PT_ERR_NO_FRAMES;
    uint64_t in_cost = ~0ULL, seen = 0;
    if (nf.pa) {
        warm(PAGE_A);
        m = mark();
        si = pt_swap_in(vaddr(PAGE_A), nf, PT_PROT_WRITE, &old);
        in_cost = since(m);
        seen = read_back(PAGE_A);
    }
    result(si == PT_OK && in_cost == 0 && old == pte_swap_entry(SLOT_A) && seen == TAG_A &&
               pt_table_used(1, vaddr(PAGE_A)) == used,
           "swap-in to another frame holding the same bytes: no invalidation (nothing is"
           " cached from a not-present entry), the tag reads back through the MMU",
           "%s, %lu INVLPGs; old 0x%lx; read 0x%lx", pt_status_name(si), in_cost, old, seen);
    if (si == PT_OK) {
        pmm_free(PMM_ZONE_GENERAL, *fa);    /* unmapped now, overwritten: its old owner */
        *fa = nf;
    } else if (nf.pa) {
        pmm_free(PMM_ZONE_GENERAL, nf);
    }
}

/* s selected, not active: PAGE_B out and in again, then read through
 * the MMU once s is active. *fb as *fa above. */
static void inactive_round_trip(struct pt_space *s, paddr_t *fb)
{
    pt_space_activate(NULL);
    pt_space_select(s);
    warm(PAGE_B);
    struct tlb_mark m = mark();
    pte_t old = 0;
    enum pt_status so = pt_swap_out(vaddr(PAGE_B), pte_swap_entry(SLOT_B), &old);
    uint64_t out_cost = since(m);
    paddr_t nf = copy_away(*fb);
    enum pt_status si = PT_ERR_NO_FRAMES;
    uint64_t in_cost = ~0ULL, seen = 0;
    if (nf.pa) {
        warm(PAGE_B);
        m = mark();
        si = pt_swap_in(vaddr(PAGE_B), nf, PT_PROT_WRITE, NULL);
        in_cost = since(m);
        pt_space_activate(s);
        seen = read_back(PAGE_B);
    }
    result(so == PT_OK && out_cost == 0 && (old & PTE_ADDR_MASK) == fb->pa && si == PT_OK &&
               in_cost == 0 && seen == TAG_B,
           "swap-out and swap-in in an inactive space: no INVLPG, no flush; once active, the tag"
           " reads back from the new frame",
           "%s, %lu INVLPGs (~0: a flush); %s, %lu; read 0x%lx", pt_status_name(so), out_cost,
           pt_status_name(si), in_cost, seen);
    if (si == PT_OK) {
        pmm_free(PMM_ZONE_GENERAL, *fb);
        *fb = nf;
    } else if (nf.pa) {
        pmm_free(PMM_ZONE_GENERAL, nf);
    }
}

void swapent_run(const struct boot_info *bi)
{
    (void)bi;
    uint64_t before = guest_free_frames();
    static struct pt_space s;
    paddr_t fa = paddr(0), fb = paddr(0);
    enum pt_status st = pt_space_create(&s);
    if (st == PT_OK) {
        pt_space_select(&s);
        st = pmm_alloc(PMM_ZONE_GENERAL, &fa) == PMM_OK &&
                     pmm_alloc(PMM_ZONE_GENERAL, &fb) == PMM_OK
                 ? pt_map(vaddr(PAGE_A), fa, PAGE_SIZE, PT_PROT_WRITE, NULL)
                 : PT_ERR_NO_FRAMES;
        if (st == PT_OK)
            st = pt_map(vaddr(PAGE_B), fb, PAGE_SIZE, PT_PROT_WRITE, NULL);
    }
    if (st != PT_OK) {
        pt_space_select(NULL);
        result(0, "a space with two pages", "%s", pt_status_name(st));
        return;
    }
    pt_space_activate(&s);
    *word(PAGE_A) = TAG_A;
    *word(PAGE_B) = TAG_B;
    active_round_trip(&fa);
    inactive_round_trip(&s, &fb);

    /* out again, inactive: A cleared (its PT keeps B), B left for destroy */
    pt_space_activate(NULL);
    pt_space_select(&s);
    enum pt_status oa = pt_swap_out(vaddr(PAGE_A), pte_swap_entry(SLOT_A), NULL);
    pte_t cleared = 0;
    enum pt_status ca = pt_swap_clear(vaddr(PAGE_A), &cleared);
    int left = pt_table_used(1, vaddr(PAGE_A));
    enum pt_status ob = pt_swap_out(vaddr(PAGE_B), pte_swap_entry(SLOT_B), NULL);
    uint64_t tables = pt_space_tables(&s);
    pt_space_select(NULL);
    if (oa == PT_OK)
        pmm_free(PMM_ZONE_GENERAL, fa);         /* its contents "in swap" now */
    if (ob == PT_OK)
        pmm_free(PMM_ZONE_GENERAL, fb);
    struct reported r = { 0, 0, 0, 0 };
    enum pt_status d = pt_space_destroy_swapped(&s, on_leaf, on_swap, &r);
    uint64_t after = guest_free_frames();
    result(oa == PT_OK && ca == PT_OK && cleared == pte_swap_entry(SLOT_A) && left == 1 &&
               ob == PT_OK && tables == 3 && d == PT_OK && r.leaves == 0 && r.swaps == 1 &&
               r.va == PAGE_B && r.e == pte_swap_entry(SLOT_B) && after == before,
           "a swap entry cleared (its PT stays for the other), the last one reported once by"
           " destroy with its address; every frame and table back",
           "out %s, clear %s 0x%lx, PT count %d, out %s, %lu tables; destroy %s: %u leaves, %u"
           " swap entries, 0x%lx 0x%lx; frames %lu free before, %lu after", pt_status_name(oa),
           pt_status_name(ca), cleared, left, pt_status_name(ob), tables, pt_status_name(d),
           r.leaves, r.swaps, r.va, r.e, before, after);
}
