/*
 * vm.c - regions and the page faults resolved in them (contract and model
 * in vm.h). The space edited is always the selected one: while a process
 * runs (its fault, its system call) that is its own, which is also the
 * active one, so the only invalidation a resolved fault needs is the one
 * the paging core does for the one entry it changed (tlb_policy.c).
 */
#include "vm.h"
#include "console.h"
#include "frame_meta.h"
#include "kmap.h"
#include "layout.h"
#include "mem.h"
#include "pmm.h"
#include "replace.h"
#include "swap.h"
#include "trap.h"
#include "uaccess.h"
#include "../common/debug.h"

/* ---- shared objects ---- */

/* One object's frames: an index frame of PT_ENTRIES physical addresses
 * (0: that page not touched yet), reached through kmap, so an object costs
 * the kernel one frame and no static room per page. */
struct vm_shm {
    uint32_t users;                 /* regions mapping it, in every process */
    uint32_t pages;
    paddr_t index;
    char name[SYS_SHM_NAME_MAX];    /* "" for an anonymous object */
};

_Static_assert(SYS_SHM_PAGES_MAX <= PAGE_SIZE / sizeof(paddr_t),
               "a shared object's index fits one frame");

static struct vm_shm shms[SYS_SHM_MAX];
static paddr_t zero_frame;

void vm_init(void)
{
    zero_frame = kmap_zero_frame();
    rp_reset();
}

bool vm_is_zero_frame(paddr_t f) { return f.pa == zero_frame.pa; }

static struct vm_shm *shm_alloc(uint32_t pages, long *err)
{
    if (pages == 0 || pages > SYS_SHM_PAGES_MAX) {
        *err = -SYS_EINVAL;
        return NULL;
    }
    for (unsigned i = 0; i < SYS_SHM_MAX; i++) {
        struct vm_shm *s = &shms[i];
        if (s->users)
            continue;
        if (pmm_alloc(PMM_ZONE_GENERAL, &s->index) != PMM_OK) {
            *err = -SYS_ENOMEM;
            return NULL;
        }
        kmap_zero(s->index);
        s->users = 1;
        s->pages = pages;
        s->name[0] = 0;
        return s;
    }
    *err = -SYS_ENOMEM;
    return NULL;
}

struct vm_shm *vm_shm_new(uint32_t pages, long *err)
{
    return shm_alloc(pages, err);
}

struct vm_shm *vm_shm_get(const char *name, uint64_t len, long *err)
{
    if (!name[0] || len == 0 || len > (uint64_t)SYS_SHM_PAGES_MAX * PAGE_SIZE) {
        *err = -SYS_EINVAL;
        return NULL;
    }
    uint32_t pages = (uint32_t)(PAGE_ROUND_UP(len) / PAGE_SIZE);
    for (unsigned i = 0; i < SYS_SHM_MAX; i++) {
        struct vm_shm *s = &shms[i];
        if (s->users && s->name[0] && !strcmp(s->name, name)) {
            if (pages > s->pages) {
                *err = -SYS_EINVAL;         /* bigger than the segment it names */
                return NULL;
            }
            s->users++;
            return s;
        }
    }
    struct vm_shm *s = shm_alloc(pages, err);
    if (s)
        memcpy(s->name, name, strlen(name) + 1);   /* the caller checked its length */
    return s;
}

uint32_t vm_shm_pages(const struct vm_shm *s) { return s->pages; }

void vm_shm_put(struct vm_shm *s)
{
    if (!s->users)
        kpanic("vm_shm_put: shared object %u has no user", (unsigned)(s - shms));
    if (--s->users)
        return;
    paddr_t *idx = kmap(s->index, KMAP_DST);
    for (uint32_t i = 0; i < s->pages; i++)
        if (idx[i].pa)
            frame_unref(idx[i]);
    kunmap(KMAP_DST);
    if (pmm_free(PMM_ZONE_GENERAL, s->index) != PMM_OK)
        kpanic("vm_shm_put: the index frame 0x%lx was not allocated", s->index.pa);
    s->index = paddr(0);
}

unsigned vm_shm_live(void)
{
    unsigned n = 0;
    for (unsigned i = 0; i < SYS_SHM_MAX; i++)
        n += shms[i].users != 0;
    return n;
}

/* Page i of s: its frame, made (zeroed, the object's reference) at the
 * first touch. false: no frame left. */
static bool shm_frame(struct vm_shm *s, uint32_t i, paddr_t *out)
{
    paddr_t *idx = kmap(s->index, KMAP_DST);
    paddr_t f = idx[i];
    if (!f.pa && frame_new(&f)) {
        kmap_zero(f);
        idx[i] = f;
    }
    kunmap(KMAP_DST);
    *out = f;
    return f.pa != 0;
}

/* ---- regions ---- */

void vm_reset(struct vm *vm, struct pt_space *as)
{
    memset(vm, 0, sizeof(*vm));
    vm->stack_limit = USER_STACK_TOP - USER_STACK_LIMIT;
    vm->rp = rp_owner_new(as);
    if (vm->rp == RP_NO_OWNER)
        kpanic("vm_reset: no replacement id left (%u in use)", RP_OWNERS);
}

void vm_unpin(struct vm *vm)
{
    vm->pin_lo = vm->pin_hi = 0;
}

/* The pages page replacement manages (replace.h): heap and anonymous. */
static bool in_domain(const struct vm_region *r)
{
    return r->kind == VM_HEAP || r->kind == VM_ANON;
}

struct vm_region *vm_region_find(struct vm *vm, uint64_t va)
{
    for (unsigned i = 0; i < vm->n; i++) {
        if (va < vm->r[i].start)
            return NULL;
        if (va < vm->r[i].end)
            return &vm->r[i];
    }
    return NULL;
}

bool vm_region_add(struct vm *vm, uint64_t start, uint64_t end, uint32_t prot,
                   enum vm_kind kind, struct vm_shm *shm, uint32_t shm_first)
{
    if (vm->n == SYS_REGIONS_MAX || start >= end)
        return false;
    unsigned i = 0;
    while (i < vm->n && vm->r[i].start < start)
        i++;
    if ((i > 0 && vm->r[i - 1].end > start) || (i < vm->n && vm->r[i].start < end))
        return false;
    memmove(&vm->r[i + 1], &vm->r[i], (vm->n - i) * sizeof(vm->r[0]));
    vm->r[i] = (struct vm_region){ start, end, prot, kind, shm, shm_first };
    vm->n++;
    return true;
}

static void region_remove(struct vm *vm, unsigned i)
{
    if (vm->r[i].shm)
        vm_shm_put(vm->r[i].shm);
    memmove(&vm->r[i], &vm->r[i + 1], (vm->n - i - 1) * sizeof(vm->r[0]));
    vm->n--;
}

/* Splits region i at at (strictly inside it): [start, at) stays i, [at,
 * end) becomes i + 1. The caller made sure a slot is free. */
static void region_split(struct vm *vm, unsigned i, uint64_t at)
{
    memmove(&vm->r[i + 1], &vm->r[i], (vm->n - i) * sizeof(vm->r[0]));
    vm->n++;
    vm->r[i].end = at;
    vm->r[i + 1].start = at;
    if (vm->r[i + 1].shm) {
        vm->r[i + 1].shm_first += (uint32_t)((at - vm->r[i].start) / PAGE_SIZE);
        vm->r[i + 1].shm->users++;
    }
}

/* Slots a cut of [start, end) needs: one per end that falls strictly
 * inside a region. */
static unsigned cuts_needed(struct vm *vm, uint64_t start, uint64_t end)
{
    unsigned n = 0;
    struct vm_region *a = vm_region_find(vm, start), *b = vm_region_find(vm, end);
    n += a && a->start < start;
    n += b && b->start < end;
    return n;
}

/* Makes start and end region boundaries: up to two regions more (the
 * table's spare slots hold them). */
static void cut_at(struct vm *vm, uint64_t start, uint64_t end)
{
    for (unsigned i = 0; i < vm->n; i++) {
        struct vm_region *r = &vm->r[i];
        if (r->start < start && start < r->end)
            region_split(vm, i, start);
        else if (r->start < end && end < r->end)
            region_split(vm, i, end);
    }
}

/* cut_at for pieces that all stay: -SYS_ENOMEM, before any change, when
 * the table has no room for them. */
static long cut(struct vm *vm, uint64_t start, uint64_t end)
{
    if (vm->n + cuts_needed(vm, start, end) > SYS_REGIONS_MAX)
        return -SYS_ENOMEM;
    cut_at(vm, start, end);
    return 0;
}

/* ---- references ---- */

/* fork's new references, one level-1 table of the child at a time
 * (pt_space_clone's leaves); the zero frame has no record. A swapped-out
 * page's entry is copied too: one reference more to its slot (looked for
 * only while some slot is in use). */
static void ref_leaves(const pte_t *leaf, unsigned n, void *ctx)
{
    (void)ctx;
    frame_ref_leaves(leaf, n, zero_frame);
    if (swap_slots_used())
        for (unsigned k = 0; k < n; k++)
            if (pte_is_swap(leaf[k]))
                swap_slot_ref(pte_swap_slot(leaf[k]));
}

/* ctx: the vm whose space the leaf is in (NULL: a space of no process,
 * whose frames page replacement never tracked). */
void vm_drop_leaf(vaddr_t va, paddr_t frame, uint64_t size, void *ctx)
{
    const struct vm *vm = ctx;
    if (size != PAGE_SIZE)
        kpanic("vm_drop_leaf: a %s leaf at 0x%lx in a user space", pt_size_name(size), va.va);
    if (frame.pa == zero_frame.pa)
        return;
    rp_untrack(vm ? vm->rp : RP_NO_OWNER, frame, va.va);
    frame_unref(frame);
}

/* pt_space_destroy_swapped's and unmap's: the entry's slot reference. */
static void drop_swapped(vaddr_t va, pte_t entry, void *ctx)
{
    (void)va;
    (void)ctx;
    swap_slot_unref(pte_swap_slot(entry));
}

/* ---- resolving a fault ---- */

/* An edit of the faulting page's own entry, with the invalidations it
 * cost charged to the process (vmstat's invlpgs and flushes): what the
 * TLB pays for that page, in that space. A kmap slot's remap (a kernel
 * address, in the strategies without a window) is not the page's and is
 * not counted here; the bench's totals include it. */
#define EDIT(vm, call) ({                                                   \
    uint64_t i0_, f0_, i1_, f1_;                                          \
    pt_tlb_counts(&i0_, &f0_);                                            \
    enum pt_status st_ = (call);                                          \
    pt_tlb_counts(&i1_, &f1_);                                            \
    (vm)->c.invlpgs += i1_ - i0_;                                         \
    (vm)->c.flushes += f1_ - f0_;                                         \
    st_;                                                                  \
})

static bool is_private(const struct vm_region *r) { return r->kind != VM_SHARED; }

static uint32_t leaf_prot(const struct vm_region *r) { return PT_PROT_USER | r->prot; }

/* Why page replacement gave no frame, as the fault's outcome. */
static enum vm_outcome no_frame(enum rp_status st)
{
    switch (st) {
    case RP_ERR_SWAP_FULL: return VM_KILL_SWAP_FULL;
    case RP_ERR_SWAP_NONE: return VM_KILL_NO_SWAP;
    case RP_ERR_SWAP_IO: return VM_KILL_SWAP_WRITE;
    default: return VM_KILL_NO_MEMORY;
    }
}

/* A frame for the page va of r: through page replacement for its domain
 * (which may evict a page first; the pages the current system call uses
 * stay), straight from frame_new otherwise. */
static enum vm_outcome new_frame(struct vm *vm, const struct vm_region *r, paddr_t *f)
{
    if (!in_domain(r))
        return frame_new(f) ? VM_RESOLVED_ZERO_FILL : VM_KILL_NO_MEMORY;
    enum rp_status st = rp_frame_new(vm->rp, vm->pin_lo, vm->pin_hi, f);
    return st == RP_OK ? VM_RESOLVED_ZERO_FILL : no_frame(st);
}

/* The swapped-out page va of r (its entry e) read back into a new frame.
 * A read leaves the slot's copy valid: the frame holds the slot's
 * reference (FRAME_F_SLOT), and evicting the page again, if the CPU has
 * not set D by then, drops it without a write. A write will make the copy
 * stale at once: the slot's reference is dropped. */
static enum vm_outcome swap_in(struct vm *vm, struct vm_region *r, uint64_t va, bool write,
                               pte_t e)
{
    uint32_t slot = pte_swap_slot(e);
    paddr_t f;
    enum vm_outcome o = new_frame(vm, r, &f);
    if (o != VM_RESOLVED_ZERO_FILL)
        return o;
    if (swap_read(slot, f) != SWAP_OK) {
        frame_unref(f);
        return VM_KILL_SWAP_READ;       /* the page stays on swap, named by swap.c */
    }
    enum pt_status st = EDIT(vm, pt_swap_in(vaddr(va), f, leaf_prot(r), NULL));
    if (st != PT_OK)
        kpanic("vm: pt_swap_in of 0x%lx: %s", va, pt_status_name(st));
    rp_track(vm->rp, f, va);
    if (write) {
        swap_slot_unref(slot);
    } else {
        struct frame_meta *m = frame_meta_of(f);
        m->slot = slot;
        m->flags |= FRAME_F_SLOT;
    }
    vm->c.swap_ins++;
    vm->c.domain_faults++;
    return VM_RESOLVED_SWAP_IN;
}

/* A not-present page of r at va. */
static enum vm_outcome fill(struct vm *vm, struct vm_region *r, uint64_t va, bool write)
{
    paddr_t f;
    if (is_private(r) && swap_slots_used()) {
        pte_t e;
        if (pt_entry_get(vaddr(va), &e) == PT_OK && pte_is_swap(e))
            return swap_in(vm, r, va, write, e);
    }
    if (r->kind == VM_SHARED) {
        if (!shm_frame(r->shm, r->shm_first + (uint32_t)((va - r->start) / PAGE_SIZE), &f))
            return VM_KILL_NO_MEMORY;
        frame_ref(f);
        if (EDIT(vm, pt_map(vaddr(va), f, PAGE_SIZE, leaf_prot(r), NULL)) != PT_OK) {
            frame_unref(f);
            return VM_KILL_NO_MEMORY;
        }
        vm->c.shared_maps++;
        return VM_RESOLVED_SHARED;
    }
    if (!write) {
        /* never written: the zero frame, read-only, whatever r allows */
        if (EDIT(vm, pt_map(vaddr(va), zero_frame, PAGE_SIZE, leaf_prot(r) & ~PT_PROT_WRITE,
                            NULL)) != PT_OK)
            return VM_KILL_NO_MEMORY;
        vm->c.zero_maps++;
        return VM_RESOLVED_ZERO_PAGE;
    }
    enum vm_outcome got = new_frame(vm, r, &f);
    if (got != VM_RESOLVED_ZERO_FILL)
        return got;
    if (EDIT(vm, pt_map(vaddr(va), f, PAGE_SIZE, leaf_prot(r), NULL)) != PT_OK) {
        frame_unref(f);
        return VM_KILL_NO_MEMORY;
    }
    if (in_domain(r)) {
        rp_track(vm->rp, f, va);
        vm->c.domain_faults++;
    }
    /* zeroed through the new leaf itself: nothing runs in this space
     * before the fault returns, and no strategy needs a kmap slot */
    uaccess_zero_page(va);
    PAGELAB_BREAK_ONCE_CALL("demand-zero page fault resolved", kprintf,
        "a write to 0x%lx, which had no leaf (error code P = 0, W/R = 1, U/S = 1: SDM Vol. 3A"
        " 4.7): frame 0x%lx, zeroed, is mapped there now, writable; IRETQ re-runs the write"
        "\n  look: `creg`: CR2 = 0x%lx; `page 0x%lx` walks to frame 0x%lx with W and U;"
        " `xp /4gx 0x%lx` reads zeros", va, f.pa, va, va, f.pa, f.pa);
    vm->c.zero_fills++;
    return VM_RESOLVED_ZERO_FILL;
}

/* A write to a present, read-only page of a writable private region: the
 * zero frame or a frame fork left shared. */
static enum vm_outcome unshare(struct vm *vm, struct vm_region *r, uint64_t va)
{
    struct pt_translation t;
    if (pt_translate(vaddr(va), &t) != PT_OK || t.level != 1)
        return VM_KILL_PROTECTION;
    paddr_t old = pt_tr_frame(&t), f;
    if (old.pa != zero_frame.pa && frame_refs(old) == 1) {
        /* the last sharer: nobody else sees the frame, it is its own again */
        if (EDIT(vm, pt_protect(vaddr(va), PAGE_SIZE, leaf_prot(r))) != PT_OK)
            return VM_KILL_PROTECTION;
        vm->c.cow_reuses++;
        return VM_RESOLVED_COW_REUSE;
    }
    enum vm_outcome got = new_frame(vm, r, &f);
    if (got != VM_RESOLVED_ZERO_FILL)
        return got;
    bool zero = old.pa == zero_frame.pa;
    if (!zero) {
        /* the old frame is still mapped at va (read-only): copy from there */
        uaccess_copy_page_from(kmap(f, KMAP_DST), va);
        kunmap(KMAP_DST);
    }
    if (EDIT(vm, pt_remap(vaddr(va), f, leaf_prot(r), NULL)) != PT_OK) {
        frame_unref(f);
        return VM_KILL_PROTECTION;
    }
    if (in_domain(r)) {
        rp_track(vm->rp, f, va);
        vm->c.domain_faults++;
    }
    if (zero) {
        uaccess_zero_page(va);
        vm->c.zero_fills++;
        return VM_RESOLVED_ZERO_FILL;
    }
    rp_untrack(vm->rp, old, va);  /* this space no longer maps it */
    frame_unref(old);       /* never the last: refs was above 1 */
    PAGELAB_BREAK_ONCE_CALL("copy-on-write fault resolved", kprintf,
        "a write to 0x%lx, read-only since fork (error code P = 1, W/R = 1): frame 0x%lx is"
        " still mapped by another space, so its page was copied into frame 0x%lx, mapped here"
        " writable; only this space's entry changed (one INVLPG)"
        "\n  look: `page 0x%lx` walks to frame 0x%lx, W set; `xp /4gx 0x%lx` and"
        " `xp /4gx 0x%lx` hold the same bytes; the other process still maps 0x%lx read-only",
        va, old.pa, f.pa, va, f.pa, old.pa, f.pa, old.pa);
    vm->c.cow_copies++;
    return VM_RESOLVED_COW_COPY;
}

/* The stack's region, grown down to va's page when va lies between its
 * limit and its bottom; NULL otherwise. */
static struct vm_region *grow_stack(struct vm *vm, uint64_t page)
{
    if (page < vm->stack_limit)
        return NULL;
    for (unsigned i = 0; i < vm->n; i++) {
        struct vm_region *r = &vm->r[i];
        if (r->kind != VM_STACK || page >= r->start)
            continue;
        if (i > 0 && vm->r[i - 1].end > page)
            return NULL;                        /* another region is in the way */
        vm->c.stack_pages += (r->start - page) / PAGE_SIZE;
        r->start = page;
        return r;
    }
    return NULL;
}

static enum vm_outcome resolve(struct vm *vm, uint64_t addr, uint64_t err)
{
    if (err & PF_ERR_RSVD)
        return VM_KILL_RSVD;
    uint64_t va = ALIGN_DOWN(addr, PAGE_SIZE);
    bool write = err & PF_ERR_WRITE, grew = false;
    struct vm_region *r = vm_region_find(vm, va);
    if (!r) {
        if (va < USER_END && va >= vm->stack_limit - PAGE_SIZE && va < vm->stack_limit)
            return VM_KILL_GUARD;
        r = grow_stack(vm, va);
        if (!r)
            return VM_KILL_NO_REGION;
        grew = true;
    }
    if ((err & PF_ERR_FETCH) && !(r->prot & PT_PROT_EXEC))
        return VM_KILL_EXEC;
    if (write && !(r->prot & PT_PROT_WRITE))
        return VM_KILL_WRITE;
    enum vm_outcome o;
    if (!(err & PF_ERR_PRESENT))
        o = fill(vm, r, va, write);
    else if (write && is_private(r))
        o = unshare(vm, r, va);
    else
        o = VM_KILL_PROTECTION;
    return grew && VM_RESOLVED(o) ? VM_RESOLVED_STACK_GROW : o;
}

enum vm_outcome vm_fault(struct vm *vm, uint64_t cr2, uint64_t err)
{
    vm->c.faults++;
    return resolve(vm, cr2, err);
}

bool vm_touch(struct vm *vm, uint64_t va, uint64_t len, bool write)
{
    if (va >= USER_END || len > USER_END - va)
        return false;
    uint32_t want = PT_PROT_USER | (write ? PT_PROT_WRITE : 0);
    /* the kernel uses these pages after this returns, until the system
     * call ends: none of them may be evicted to make room for another */
    uint64_t lo = ALIGN_DOWN(va, PAGE_SIZE), hi = PAGE_ROUND_UP(va + len);
    if (vm->pin_hi == 0) {
        vm->pin_lo = lo;
        vm->pin_hi = hi;
    } else {
        vm->pin_lo = lo < vm->pin_lo ? lo : vm->pin_lo;
        vm->pin_hi = hi > vm->pin_hi ? hi : vm->pin_hi;
    }
    for (uint64_t p = lo; p < va + len; p += PAGE_SIZE) {
        struct pt_translation t;
        enum pt_status st = pt_translate(vaddr(p), &t);
        if (st == PT_OK && (pt_tr_prot(&t) & want) == want)
            continue;
        uint64_t err = PF_ERR_USER | (write ? PF_ERR_WRITE : 0) |
                       (st == PT_OK ? PF_ERR_PRESENT : 0);
        if (!VM_RESOLVED(resolve(vm, p, err)))
            return false;
    }
    return true;
}

/* ---- changing regions ---- */

/* Clears every swap entry of the selected space in [start, end), each
 * slot's reference dropped (nothing to look for while no slot is used). */
static void clear_swapped(uint64_t start, uint64_t end)
{
    const struct pt_space *as = pt_space_selected();
    vaddr_t at = vaddr(start), sva;
    pte_t e;
    while (swap_slots_used() && pt_space_next_swap_below(as, at, vaddr(end), &sva, &e) == PT_OK) {
        if (pt_swap_clear(sva, NULL) != PT_OK)
            kpanic("vm: the swap entry at 0x%lx vanished", sva.va);
        drop_swapped(sva, e, NULL);
        at = vaddr(sva.va + PAGE_SIZE);
    }
}

/* Unmaps every leaf (and swap entry) of vm's space, the selected one, in
 * [start, end). */
static void unmap_leaves(struct vm *vm, uint64_t start, uint64_t end)
{
    const struct pt_space *as = pt_space_selected();
    struct pt_leaf l;
    clear_swapped(start, end);
    if (end - start == PAGE_SIZE) {
        /* one page (munmap of a page, sbrk back by one): its leaf is the
         * one pt_unmap's walk finds, no search needed; a leaf that only
         * straddles start (MISALIGNED) or none (UNMAPPED) is left, as the
         * search below would */
        paddr_t f;
        uint64_t size;
        if (pt_unmap(vaddr(start), &f, &size) == PT_OK)
            vm_drop_leaf(vaddr(start), f, size, vm);
        return;
    }
    for (vaddr_t at = vaddr(start); pt_space_next_leaf_below(as, at, vaddr(end), &l) == PT_OK;
         at = vaddr(l.va.va + l.size)) {
        paddr_t f;
        uint64_t size;
        if (pt_unmap(l.va, &f, &size) != PT_OK)
            kpanic("vm: the leaf at 0x%lx vanished", l.va.va);
        vm_drop_leaf(l.va, f, size, vm);
    }
}

long vm_unmap(struct vm *vm, uint64_t start, uint64_t end)
{
    /* only a hole strictly inside one region leaves a region more; a trim
     * of a region's end splits too, but the piece cut off goes at once */
    struct vm_region *h = vm_region_find(vm, start);
    if (h && h->start < start && end < h->end && vm->n == SYS_REGIONS_MAX)
        return -SYS_ENOMEM;
    cut_at(vm, start, end);
    for (unsigned i = 0; i < vm->n;) {
        if (vm->r[i].start >= start && vm->r[i].end <= end)
            region_remove(vm, i);
        else
            i++;
    }
    unmap_leaves(vm, start, end);
    return 0;
}

long vm_protect(struct vm *vm, uint64_t start, uint64_t end, uint32_t prot)
{
    for (uint64_t at = start; at < end;) {
        struct vm_region *r = vm_region_find(vm, at);
        if (!r)
            return -SYS_EINVAL;             /* a hole in the range */
        at = r->end;
    }
    long e = cut(vm, start, end);
    if (e)
        return e;
    for (unsigned i = 0; i < vm->n; i++)
        if (vm->r[i].start >= start && vm->r[i].end <= end)
            vm->r[i].prot = prot;
    if (!(prot & PT_PROT_WRITE))
        return pt_protect_range(vaddr(start), end - start, PT_PROT_USER | prot) == PT_OK
                   ? 0
                   : -SYS_EINVAL;
    /* W only where nobody else sees the frame: a shared or zero frame in
     * a private region stays read-only and is copied at its next write */
    const struct pt_space *as = pt_space_selected();
    struct pt_leaf l;
    for (vaddr_t at = vaddr(start); pt_space_next_leaf_below(as, at, vaddr(end), &l) == PT_OK;
         at = vaddr(l.va.va + l.size)) {
        uint32_t p = PT_PROT_USER | prot;
        if (is_private(vm_region_find(vm, l.va.va)) &&
            (vm_is_zero_frame(l.frame) || frame_refs(l.frame) > 1))
            p &= ~PT_PROT_WRITE;
        if ((l.prot & (PT_PROT_WRITE | PT_PROT_EXEC)) != (p & (PT_PROT_WRITE | PT_PROT_EXEC)) &&
            pt_protect(l.va, l.size, p) != PT_OK)
            return -SYS_EINVAL;
    }
    return 0;
}

long vm_heap_set(struct vm *vm, uint64_t base, uint64_t end)
{
    struct vm_region *r = NULL;
    unsigned i = 0;
    for (; i < vm->n; i++)
        if (vm->r[i].kind == VM_HEAP) {
            r = &vm->r[i];
            break;
        }
    if (!r) {
        if (end == base)
            return 0;
        return vm_region_add(vm, base, end, PT_PROT_WRITE, VM_HEAP, NULL, 0) ? 0 : -SYS_ENOMEM;
    }
    if (end > r->end) {
        if (i + 1 < vm->n && vm->r[i + 1].start < end)
            return -SYS_ENOMEM;
        r->end = end;
        return 0;
    }
    uint64_t old = r->end;
    if (end == r->start)
        region_remove(vm, i);
    else
        r->end = end;
    unmap_leaves(vm, end, old);
    return 0;
}

bool vm_image_regions(struct vm *vm, const struct image *img)
{
    for (uint32_t i = 0; i < img->nseg; i++) {
        const struct image_segment *g = &img->seg[i];
        if (!vm_region_add(vm, g->start, g->end, g->prot,
                           (g->prot & PT_PROT_WRITE) ? VM_DATA : VM_CODE, NULL, 0))
            return false;
    }
    /* the stack: one page, no frame yet; it grows down on faults */
    return vm_region_add(vm, img->stack_top - PAGE_SIZE, img->stack_top, PT_PROT_WRITE, VM_STACK,
                         NULL, 0);
}

/* ---- fork and exit ---- */

long vm_fork(struct vm *dst, struct pt_space *dst_space, const struct vm *src,
             const struct pt_space *src_space)
{
    uint8_t id = dst->rp;       /* dst's own, from its vm_reset */
    *dst = *src;
    dst->c = (struct vm_counters){ 0 };
    dst->rp = id;
    dst->pin_lo = dst->pin_hi = 0;
    for (unsigned i = 0; i < dst->n; i++)
        if (dst->r[i].shm)
            dst->r[i].shm->users++;
    for (unsigned i = 0; i < src->n; i++) {
        const struct vm_region *r = &src->r[i];
        uint32_t opts = is_private(r) && (r->prot & PT_PROT_WRITE) ? PT_CLONE_COW : PT_CLONE_SHARE;
        if (pt_space_clone(dst_space, src_space, vaddr(r->start), r->end - r->start, opts,
                           ref_leaves, NULL, NULL) != PT_OK)
            return -SYS_ENOMEM;
    }
    return 0;
}

void vm_destroy(struct vm *vm, struct pt_space *as)
{
    if (as->root.pa && pt_space_destroy_swapped(as, vm_drop_leaf, drop_swapped, vm) != PT_OK)
        kpanic("vm_destroy: the address space is still in use");
    while (vm->n)
        region_remove(vm, vm->n - 1);
    rp_owner_free(vm->rp);
    vm->rp = RP_NO_OWNER;
}

const char *vm_outcome_name(enum vm_outcome o)
{
    static const char *const names[VM_OUTCOME_COUNT] = {
        [VM_RESOLVED_ZERO_FILL] = "zero-fill",
        [VM_RESOLVED_ZERO_PAGE] = "zero-page",
        [VM_RESOLVED_SHARED] = "shared",
        [VM_RESOLVED_COW_COPY] = "cow-copy",
        [VM_RESOLVED_COW_REUSE] = "cow-reuse",
        [VM_RESOLVED_SWAP_IN] = "swap-in",
        [VM_RESOLVED_STACK_GROW] = "stack-grow",
        [VM_KILL_NO_REGION] = "no region holds the address",
        [VM_KILL_GUARD] = "the stack's guard page, below its limit",
        [VM_KILL_WRITE] = "a write to a region without write permission",
        [VM_KILL_EXEC] = "an instruction fetch from a region without execute permission",
        [VM_KILL_RSVD] = "a reserved bit set in a paging entry",
        [VM_KILL_PROTECTION] = "the page refused an access its region allows",
        [VM_KILL_NO_MEMORY] = "out of memory",
        [VM_KILL_SWAP_FULL] = "out of memory: a page had to be evicted for it and swap is full",
        [VM_KILL_NO_SWAP] = "out of memory: a page had to be evicted for it and there is no swap",
        [VM_KILL_SWAP_WRITE] = "out of memory: swap refused the write of the page evicted for it",
        [VM_KILL_SWAP_READ] = "its page could not be read back from swap",
    };
    return (unsigned)o < VM_OUTCOME_COUNT ? names[o] : "unknown";
}
