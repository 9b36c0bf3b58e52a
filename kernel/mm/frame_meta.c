/*
 * frame_meta.c - the per-frame records (contract in frame_meta.h): one
 * array of struct frame_meta at FRAME_META_BASE, indexed by frame number,
 * whose pages are mapped one at a time as frame_new first hands out a
 * frame they describe, and kept for good (Linux's vmemmap is not shrunk
 * either: a record page is 1/128 of the memory it describes).
 *
 * Knowing cheaply which record pages are mapped (frame_new is on the
 * page-fault path): a short list of runs of consecutive record pages, in
 * BSS. The allocator hands out its lowest free frame (pmm.h), so the
 * frames frame_new gets climb through RAM and each new record page is
 * next to one already mapped: one run grows per stretch of RAM between
 * holes (low memory below the kernel image, the RAM after it, the RAM
 * above the PCI hole: 2 or 3 runs on the machines `make test` boots), and
 * the run that answered last is asked first: one compare, no walk (make
 * bench: frame_new 114 guest instructions, 74 of them pmm_alloc's;
 * frame_ref 31). The alternatives cost more
 * somewhere: a bitmap of mapped record pages sized for PMM_MAX_FRAMES is
 * 512 KiB of BSS, which the loader would clear on every boot however
 * little RAM there is (and one sized to the RAM would need a home mapped
 * at boot, growing with it); one watermark ("mapped below X") would
 * either stop at the first hole or map record pages for all of it (a
 * 1 GiB PCI hole is 1024 pages of records nothing needs); asking the page
 * tables (pt_translate) costs a walk, some 60 instructions, per call,
 * and a walk inside frame_ref would disturb a caller that holds tables
 * (pt_space_clone's leaf callback, with temporary's slots). Should frames
 * ever come from more than FRAME_META_RUNS separate places, frame_new
 * maps the record pages between the new page and the nearest run too, so
 * the runs always hold every mapped page: frame_ref, frame_unref,
 * frame_refs and the census never touch the page tables.
 *
 * Records are reached through cpu_ptr (kernel/mm/tlb.h): the address
 * itself in the kernel, a walk of the simulated tables on the host, so
 * tests/host/test_frame_meta.c runs this file unchanged.
 */
#include "console.h"
#include "frame_meta.h"
#include "layout.h"
#include "mem.h"
#include "pmm.h"
#include "pmm_meta.h"
#include "pt.h"
#include "tlb.h"

_Static_assert(sizeof(struct frame_meta) == FRAME_META_SIZE,
               "the records' size is include/layout.h's: the array's room is checked there");
_Static_assert(PAGE_SIZE % sizeof(struct frame_meta) == 0, "whole records per page");

struct run {
    uint64_t first, end;   /* record pages [first, end), all mapped */
};

static struct run runs[FRAME_META_RUNS];
static unsigned run_count;
/* General-zone frames taken for the array (census.kept). */
static uint64_t kept;
/* The run that answered last, asked first: allocation climbs through one
 * run at a time, so this is one compare on the fault path. Never NULL
 * (an empty run answers no). */
static struct run no_run;
static struct run *hot = &no_run;
/* Frames the array may describe: [0, frame_limit). 0 until frame_meta_init. */
static uint64_t frame_limit;

void frame_meta_init(uint64_t max_phys)
{
    uint64_t frames = max_phys / PAGE_SIZE;
    frame_limit = frames < PMM_MAX_FRAMES ? frames : PMM_MAX_FRAMES;
    /* no page is mapped yet: a new boot (the host tests boot many) */
    run_count = 0;
    kept = 0;
    hot = &no_run;
}

static uint64_t page_of(uint64_t frame_no) { return frame_no / FRAME_META_PER_PAGE; }

static vaddr_t page_va(uint64_t page)
{
    return vaddr(FRAME_META_BASE + page * PAGE_SIZE);
}

static struct frame_meta *record_ptr(uint64_t frame_no)
{
    return cpu_ptr(vaddr(FRAME_META_BASE + frame_no * sizeof(struct frame_meta)));
}

static bool in_run(const struct run *r, uint64_t page)
{
    return page - r->first < r->end - r->first;
}

/* page_mapped past the hot run: the other runs (every mapped page is in
 * one). */
static __attribute__((noinline)) bool page_mapped_slow(uint64_t page)
{
    for (unsigned i = 0; i < run_count; i++)
        if (in_run(&runs[i], page)) {
            hot = &runs[i];
            return true;
        }
    return false;
}

/* Is record page `page` mapped? */
static inline bool page_mapped(uint64_t page)
{
    return in_run(hot, page) || page_mapped_slow(page);
}

/* page was just mapped, next to a run or with a run free (page_add sees
 * to it): grow the run it touches, merging it with a run the page joins
 * it to, or start one. */
static void run_add(uint64_t page)
{
    struct run *r = NULL;
    for (unsigned i = 0; i < run_count && !r; i++) {
        if (runs[i].end == page)
            runs[i].end++, r = &runs[i];
        else if (runs[i].first == page + 1)
            runs[i].first--, r = &runs[i];
    }
    if (!r) {
        if (run_count == FRAME_META_RUNS)
            kpanic("frame_meta: record page %lu touches no run and none is free", page);
        r = &runs[run_count++];
        *r = (struct run){ page, page + 1 };
    }
    for (unsigned j = 0; j < run_count; j++) {
        struct run *o = &runs[j];
        if (o == r || (o->first != r->end && o->end != r->first))
            continue;
        r->first = o->first < r->first ? o->first : r->first;
        r->end = o->end > r->end ? o->end : r->end;
        *o = runs[--run_count];          /* the last run fills o's place */
        if (r == &runs[run_count])
            r = o;                       /* ...and that was r */
        break;
    }
    hot = r;
}

/* With every run taken and page next to none: the page of the gap
 * between page and the nearest run that lies next to that run. */
static uint64_t gap_step(uint64_t page)
{
    uint64_t best = 0, best_dist = UINT64_MAX;
    for (unsigned i = 0; i < run_count; i++) {
        const struct run *r = &runs[i];
        uint64_t dist = page >= r->end ? page - r->end : r->first - 1 - page;
        if (dist < best_dist)
            best_dist = dist, best = page >= r->end ? r->end : r->first - 1;
    }
    return best;
}

static void give_back(paddr_t frame, const char *what)
{
    enum pmm_status ps = pmm_free(PMM_ZONE_GENERAL, frame);
    if (ps != PMM_OK)
        kpanic("frame_meta: %s 0x%lx: pmm_free: %s", what, frame.pa, pmm_status_name(ps));
}

/* Maps and zeroes record page `page`: a frame of the general zone, kernel
 * data (rw, NX) in the shared upper half, tables from the strategy's zone
 * (the pool in identity and table-offset). A new PDPT under slot 324 is
 * copied into every address space when pt_map ends (pt_space_sync), so
 * spaces created before it, the kernel's and the active one all see it.
 * No invalidation: the entry was not present (the TLB rule, rule 1). It is
 * zeroed through its own new mapping, so no strategy needs a view of the
 * frame (kmap) for it. false, with nothing kept, when a frame is missing. */
static bool page_map(uint64_t page)
{
    paddr_t r;
    struct pmm_counters before, after;
    pmm_get_counters(PMM_ZONE_GENERAL, &before);
    if (pmm_alloc(PMM_ZONE_GENERAL, &r) != PMM_OK)
        return false;
    enum pt_status st = pt_map(page_va(page), r, PAGE_SIZE, PT_PROT_WRITE, NULL);
    if (st == PT_ERR_NO_FRAMES) {
        give_back(r, "record page");
        return false;
    }
    if (st != PT_OK)
        kpanic("frame_meta: record page 0x%lx: %s", page_va(page).va, pt_status_name(st));
    memset(cpu_ptr(page_va(page)), 0, PAGE_SIZE);
    run_add(page);
    pmm_get_counters(PMM_ZONE_GENERAL, &after);
    kept += before.free - after.free;      /* the page and any table under it */
    return true;
}

static bool touches_a_run(uint64_t page)
{
    for (unsigned i = 0; i < run_count; i++)
        if (runs[i].end == page || runs[i].first == page + 1)
            return true;
    return false;
}

/* Maps record page `page`, first filling the gap to the nearest run if
 * the page touches none and no run is free. false when a frame is
 * missing: the gap's pages mapped so far stay (they are in a run). */
static __attribute__((noinline, cold)) bool page_add(uint64_t page)
{
    while (run_count == FRAME_META_RUNS && !touches_a_run(page))
        if (!page_map(gap_step(page)))
            return false;
    return page_map(page);
}

bool frame_new(paddr_t *out)
{
    paddr_t f;
    if (pmm_alloc(PMM_ZONE_GENERAL, &f) != PMM_OK)
        return false;
    uint64_t n = f.pa / PAGE_SIZE;
    if (n >= frame_limit)
        kpanic("frame_meta: frame 0x%lx beyond the records (%lu frames: frame_meta_init)", f.pa,
               frame_limit);
    if (!page_mapped(page_of(n)) && !page_add(page_of(n))) {
        give_back(f, "frame");
        return false;
    }
    struct frame_meta *m = record_ptr(n);
    if (m->refs)
        kpanic("frame_meta: free frame 0x%lx still has %u references", f.pa, m->refs);
    *m = (struct frame_meta){ .refs = 1 };
    *out = f;
    return true;
}

/* The record of frame, or NULL when it has none (its page is not mapped,
 * or it lies beyond the array). Panics on an address that is not a
 * frame's: a caller's bug. */
static struct frame_meta *record_of(paddr_t frame, const char *who)
{
    if (PAGE_OFFSET(frame.pa))
        kpanic("frame_meta: %s: 0x%lx is not a frame address", who, frame.pa);
    uint64_t n = frame.pa / PAGE_SIZE;
    if (n >= frame_limit || !page_mapped(page_of(n)))
        return NULL;
    return record_ptr(n);
}

void frame_ref(paddr_t frame)
{
    struct frame_meta *m = record_of(frame, "frame_ref");
    if (!m || m->refs == 0)
        kpanic("frame_meta: frame_ref: reference to a frame with no reference: frame 0x%lx",
               frame.pa);
    if (m->refs == FRAME_REFS_MAX)
        kpanic("frame_meta: reference count overflow: frame 0x%lx", frame.pa);
    m->refs++;
}

/* frame_ref's two panics, out of the loop of frame_ref_leaves. */
static __attribute__((noinline, noreturn)) void ref_panic(paddr_t frame, uint32_t refs)
{
    if (refs == 0)
        kpanic("frame_meta: frame_ref: reference to a frame with no reference: frame 0x%lx",
               frame.pa);
    kpanic("frame_meta: reference count overflow: frame 0x%lx", frame.pa);
}

void frame_ref_leaves(const uint64_t *leaf, unsigned n, paddr_t except)
{
    uint64_t at_page = ~0ULL;               /* the record page `records` is */
    struct frame_meta *records = NULL;
    for (unsigned k = 0; k < n; k++) {
        uint64_t e = leaf[k];
        paddr_t f = paddr(e & PTE_ADDR_MASK);
        if (!(e & PTE_P) || f.pa == except.pa)
            continue;
        uint64_t no = f.pa / PAGE_SIZE;
        if (page_of(no) != at_page) {
            if (no >= frame_limit || !page_mapped(page_of(no)))
                ref_panic(f, 0);
            at_page = page_of(no);
            records = cpu_ptr(page_va(at_page));
        }
        struct frame_meta *m = &records[no % FRAME_META_PER_PAGE];
        /* one compare for both: 0 - 1 wraps to FRAME_REFS_MAX */
        if (m->refs - 1 >= FRAME_REFS_MAX - 1)
            ref_panic(f, m->refs);
        m->refs++;
    }
}

bool frame_unref(paddr_t frame)
{
    struct frame_meta *m = record_of(frame, "frame_unref");
    if (!m || m->refs == 0)
        kpanic("frame_meta: reference count underflow: frame 0x%lx", frame.pa);
    if (--m->refs)
        return false;
    give_back(frame, "frame");
    return true;
}

struct frame_meta *frame_meta_of(paddr_t frame)
{
    struct frame_meta *m = record_of(frame, "frame_meta_of");
    return m && m->refs ? m : NULL;
}

struct frame_meta *frame_meta_known(uint64_t frame_no)
{
    return record_ptr(frame_no);
}

uint32_t frame_refs(paddr_t frame)
{
    struct frame_meta *m = record_of(frame, "frame_refs");
    return m ? m->refs : 0;
}

static void census_page(uint64_t page, struct frame_meta_census *out)
{
    const struct frame_meta *m = cpu_ptr(page_va(page));
    for (unsigned i = 0; i < FRAME_META_PER_PAGE; i++) {
        out->live += m[i].refs != 0;
        out->refs += m[i].refs;
    }
    out->pages++;
}

/* Every run's pages: every page mapped. */
void frame_meta_census(struct frame_meta_census *out)
{
    *out = (struct frame_meta_census){ 0, 0, 0, kept };
    for (unsigned i = 0; i < run_count; i++)
        for (uint64_t p = runs[i].first; p < runs[i].end; p++)
            census_page(p, out);
}
