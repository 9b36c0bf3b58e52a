/*
 * frames.c - the per-frame records on the real CPU (frames.h), with the
 * build's strategy: the record pages frame_new maps through the paging
 * core are read back through the MMU from three CR3s, and every count is
 * compared with what the frames handed out imply.
 */
#include <stddef.h>
#include "frames.h"
#include "console.h"
#include "frame_meta.h"
#include "layout.h"
#include "measure.h"
#include "pmm.h"
#include "pt.h"
#include "result.h"

#define result(ok, name, ...) guest_result("frames", ok, name, __VA_ARGS__)

/* Pages after the first one's that are looked at before: the frame that
 * crosses into another record page must land in one of them. */
#define AHEAD 16
#define CAP (2 * FRAME_META_PER_PAGE)

static uint64_t page_of(paddr_t f) { return f.pa / PAGE_SIZE / FRAME_META_PER_PAGE; }

static bool page_mapped(uint64_t page)
{
    struct pt_translation t;
    return pt_translate(vaddr(FRAME_META_BASE + page * PAGE_SIZE), &t) == PT_OK;
}

/* f's count as the MMU reads it through the active space's CR3. */
static uint32_t refs_via_mmu(const struct pt_space *as, paddr_t f)
{
    pt_space_activate(as);
    uint32_t r = ((volatile struct frame_meta *)(uintptr_t)FRAME_META_BASE)[f.pa / PAGE_SIZE].refs;
    pt_space_activate(NULL);
    return r;
}

static struct frame_meta_census census(void)
{
    struct frame_meta_census c;
    frame_meta_census(&c);
    return c;
}

void frames_run(const struct boot_info *bi)
{
    (void)bi;
    static struct pt_space older, newer;
    static paddr_t held[CAP];
    enum pt_status so = pt_space_create(&older);
    /* the first frame maps its record page if no one did; given back, it
     * is the lowest free frame again, so the loop starts in its page */
    paddr_t f0 = paddr(0);
    bool warm = frame_new(&f0) && frame_unref(f0);
    uint64_t p0 = page_of(f0);
    unsigned ahead = 0;
    for (unsigned i = 0; i < AHEAD; i++)
        ahead |= (unsigned)page_mapped(p0 + 1 + i) << i;
    struct frame_meta_census c0 = census();
    uint64_t free0 = guest_free_frames();
    unsigned tables0 = measure_tables();

    /* with the older space active and selected: the record page is mapped
     * through its PML4 and copied to the kernel's (pt_space_sync) */
    unsigned k = 0;
    pt_space_select(&older);
    pt_space_activate(&older);
    while (k < CAP && frame_new(&held[k]) && page_of(held[k++]) == p0)
        ;
    pt_space_activate(NULL);
    pt_space_select(NULL);
    paddr_t fc = k ? held[k - 1] : paddr(0);
    uint64_t pc = page_of(fc);
    bool crossed = k > 0 && pc > p0 && pc <= p0 + AHEAD;
    uint64_t new_pages = crossed && !(ahead >> (pc - p0 - 1) & 1);
    frame_ref(fc);
    frame_ref(fc);
    frame_ref(held[0]);
    struct frame_meta_census c1 = census();
    unsigned tables1 = measure_tables();
    uint64_t free1 = guest_free_frames();
    result(so == PT_OK && warm && crossed && held[0].pa == f0.pa && frame_refs(fc) == 3 &&
               frame_refs(held[0]) == 2 && c1.live == c0.live + k && c1.refs == c0.refs + k + 3 &&
               c1.pages == c0.pages + new_pages && free1 == free0 - k - new_pages - (tables1 - tables0),
           "frame_new across a record page, a process's space active: exact counts and pages",
           "space %s, warm %d; %u frames, page %lu to %lu (ahead mask 0x%x), first 0x%lx/0x%lx; "
           "refs %u %u; live %lu->%lu refs %lu->%lu pages %lu->%lu; free %lu->%lu, tables %u->%u",
           pt_status_name(so), warm, k, p0, pc, ahead, held[0].pa, f0.pa, frame_refs(fc),
           frame_refs(held[0]), c0.live, c1.live, c0.refs, c1.refs, c0.pages, c1.pages, free0,
           free1, tables0, tables1);

    enum pt_status sn = pt_space_create(&newer);
    uint32_t in_kernel = refs_via_mmu(NULL, fc), in_older = refs_via_mmu(&older, fc),
             in_newer = sn == PT_OK ? refs_via_mmu(&newer, fc) : 0;
    result(sn == PT_OK && in_kernel == 3 && in_older == 3 && in_newer == 3,
           "a record read through the MMU: the kernel's space, one older than its page, one newer",
           "%s; refs %u %u %u", pt_status_name(sn), in_kernel, in_older, in_newer);

    unsigned lasts = 0, still_used = 0, freed = 0;
    frame_unref(fc);
    frame_unref(fc);
    frame_unref(held[0]);
    for (unsigned i = 0; i < k; i++) {
        still_used += pmm_frame_state(PMM_ZONE_GENERAL, held[i]) == PMM_FRAME_USED;
        lasts += frame_unref(held[i]);
        freed += pmm_frame_state(PMM_ZONE_GENERAL, held[i]) == PMM_FRAME_FREE;
    }
    if (sn == PT_OK)
        pt_space_destroy(&newer, NULL, NULL);
    struct frame_meta_census c2 = census();
    uint64_t free2 = guest_free_frames();   /* the older space's PML4 out, as at free0 */
    pt_space_destroy(&older, NULL, NULL);
    result(lasts == k && still_used == k && freed == k && c2.live == c0.live &&
               c2.refs == c0.refs && c2.pages == c1.pages &&
               free2 == free0 - new_pages - (tables1 - tables0),
           "every reference gone: each frame free at its last, the record pages kept",
           "%u last of %u, %u used before, %u free after; live %lu refs %lu pages %lu; "
           "free %lu (%lu before)", lasts, k, still_used, freed, c2.live, c2.refs, c2.pages,
           free2, free0);
}
