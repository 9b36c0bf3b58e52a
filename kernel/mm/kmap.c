/*
 * kmap.c - the kernel's view of any frame (contract in kmap.h). Without a
 * window, slot s is the page KMAP_BASE + (s + 1) * PAGE_SIZE, mapped for
 * the duration of one use: pt_map (no invalidation: rule 1) and pt_unmap
 * (one invlpg: rule 2). Page 0 of the region is mapped onto the zero frame
 * for good, so the page table under the slots always has one entry and the
 * core never frees and remakes it between uses.
 */
#include "console.h"
#include "kmap.h"
#include "layout.h"
#include "lib.h"
#include "pmm.h"
#include "strategy.h"

_Static_assert(KMAP_SLOT_COUNT + 1 <= KMAP_SLOTS, "the slots fit the region");

static paddr_t zero_frame;
static bool in_use[KMAP_SLOT_COUNT];

static vaddr_t slot_va(enum kmap_slot slot)
{
    return vaddr(KMAP_BASE + ((uint64_t)slot + 1) * PAGE_SIZE);
}

/* Once, from kmap_init at boot (so the region's tables are there before
 * any address space, and in every boot's table count), or on first use. */
static void kmap_setup(void)
{
    if (zero_frame.pa)
        return;
    paddr_t f;
    if (pmm_alloc(PMM_ZONE_GENERAL, &f) != PMM_OK)
        kpanic("kmap: no frame left for the zero frame");
    void *view = strategy_frame_view(f);
    if (view) {
        memset(view, 0, PAGE_SIZE);
        zero_frame = f;
        return;
    }
    /* writable for the one clear, then read-only for good */
    enum pt_status st = pt_map(vaddr(KMAP_BASE), f, PAGE_SIZE, PT_PROT_WRITE, NULL);
    if (st == PT_OK) {
        memset((void *)(uintptr_t)KMAP_BASE, 0, PAGE_SIZE);
        st = pt_protect(vaddr(KMAP_BASE), PAGE_SIZE, PT_PROT_READ);
    }
    if (st != PT_OK)
        kpanic("kmap: the zero frame at 0x%llx: %s", (unsigned long long)KMAP_BASE,
               pt_status_name(st));
    zero_frame = f;
}

void kmap_init(void) { kmap_setup(); }

paddr_t kmap_zero_frame(void)
{
    kmap_setup();
    return zero_frame;
}

void *kmap(paddr_t frame, enum kmap_slot slot)
{
    if (in_use[slot])
        kpanic("kmap: slot %u is in use", (unsigned)slot);
    kmap_setup();
    void *view = strategy_frame_view(frame);
    if (view) {
        in_use[slot] = true;
        return view;
    }
    enum pt_status st = pt_map(slot_va(slot), frame, PAGE_SIZE, PT_PROT_WRITE, NULL);
    if (st != PT_OK)
        kpanic("kmap: frame 0x%lx in slot %u: %s", frame.pa, (unsigned)slot,
               pt_status_name(st));
    in_use[slot] = true;
    return (void *)(uintptr_t)slot_va(slot).va;
}

void kunmap(enum kmap_slot slot)
{
    if (!in_use[slot])
        kpanic("kunmap: slot %u is not in use", (unsigned)slot);
    in_use[slot] = false;
    if (strategy_frame_view(zero_frame))
        return;
    enum pt_status st = pt_unmap(slot_va(slot), NULL, NULL);
    if (st != PT_OK)
        kpanic("kunmap: slot %u: %s", (unsigned)slot, pt_status_name(st));
}

void kmap_zero(paddr_t frame)
{
    page_zero(kmap(frame, KMAP_SCRATCH));
    kunmap(KMAP_SCRATCH);
}

void kmap_copy(paddr_t dst, paddr_t src)
{
    const void *s = kmap(src, KMAP_SRC);
    page_copy(kmap(dst, KMAP_DST), s);
    kunmap(KMAP_DST);
    kunmap(KMAP_SRC);
}
