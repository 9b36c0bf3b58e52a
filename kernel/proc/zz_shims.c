/* TEMPORARY shims until the frame_meta, clone and fault-log branches merge: removed before the session ends. */
#include <stddef.h>
#include "frame_meta.h"
#include "console.h"
#include "pmm.h"
#include "pt.h"

#define SHIM_FRAMES (1u << 18)
static uint32_t refs[SHIM_FRAMES];
void frame_meta_init(uint64_t max_phys) { (void)max_phys; }
bool frame_new(paddr_t *out)
{
    if (pmm_alloc(PMM_ZONE_GENERAL, out) != PMM_OK)
        return false;
    refs[out->pa >> 12] = 1;
    return true;
}
void frame_ref(paddr_t f) { if (!refs[f.pa >> 12]) kpanic("shim ref 0 %lx", f.pa); refs[f.pa >> 12]++; }
bool frame_unref(paddr_t f)
{
    if (!refs[f.pa >> 12]) kpanic("shim underflow %lx", f.pa);
    if (--refs[f.pa >> 12]) return false;
    if (pmm_free(PMM_ZONE_GENERAL, f) != PMM_OK) kpanic("shim free %lx", f.pa);
    return true;
}
uint32_t frame_refs(paddr_t f) { return refs[f.pa >> 12]; }
void frame_meta_census(struct frame_meta_census *out)
{
    *out = (struct frame_meta_census){ 0 };
    for (unsigned i = 0; i < SHIM_FRAMES; i++) if (refs[i]) { out->live++; out->refs += refs[i]; }
}

enum pt_status pt_remap(vaddr_t va, paddr_t pa, uint32_t prot, paddr_t *old)
{
    paddr_t o; uint64_t sz;
    enum pt_status st = pt_unmap(va, &o, &sz);
    if (st) return st;
    if (old) *old = o;
    return pt_map(va, pa, PAGE_SIZE, prot, NULL);
}

enum pt_status pt_space_clone(struct pt_space *dst, const struct pt_space *src, vaddr_t va,
                              uint64_t len, uint32_t opts,
                              void (*leaf)(paddr_t frame, void *ctx), void *ctx, uint64_t *copied)
{
    const struct pt_space *prev = pt_space_selected();
    struct pt_leaf l;
    uint64_t n = 0;
    enum pt_status st = PT_OK;
    for (vaddr_t at = va; pt_space_next_leaf(src, at, &l) == PT_OK && l.va.va < va.va + len;
         at = vaddr(l.va.va + l.size)) {
        uint32_t p = l.prot & ~PT_PROT_GLOBAL;
        if ((opts & PT_CLONE_COW) && (p & PT_PROT_WRITE)) {
            p &= ~PT_PROT_WRITE;
            pt_space_select(src);
            pt_protect(l.va, PAGE_SIZE, p);
        }
        pt_space_select(dst);
        st = pt_map(l.va, l.frame, PAGE_SIZE, p, NULL);
        if (st) break;
        leaf(l.frame, ctx);
        n++;
    }
    pt_space_select(prev);
    if (copied) *copied = n;
    return st;
}
