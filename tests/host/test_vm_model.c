/*
 * test_vm_model.c - the randomised model test of kernel/proc/vm.c, with the
 * strategy the test is built with (tests/host/paging.mk), over fake_cpu.c's
 * simulated machine and simulated processes (vm_sim.h).
 *
 * Up to MAX_PROCS processes, starting from one with a heap, a private
 * anonymous region, a shared one, a read-only one and a stack, do random
 * operations: fork, write a random byte, read and compare, munmap,
 * mprotect, sbrk, mmap (private or shared) and exit, each chosen by a
 * fixed-seed generator (the seed is in the test's name, and a failure names
 * the operation and its number, so it reproduces). Beside them runs a
 * reference model that knows nothing of page tables or frames: per process
 * its regions and the bytes of its private pages (fork copies them), per
 * shared object the bytes of its pages (fork shares them).
 *
 * Checked after every operation, from the simulated machine itself:
 *   - every access ended as the model and the leaf the test saw predict
 *     (no fault, a kill and which, or how it was resolved), and every read
 *     returned the model's byte;
 *   - vm.c's regions are the model's, and every leaf of every live space
 *     lies in one, allows no more than it (W, X), holds the model's bytes,
 *     and a written private page has its leaf;
 *   - every frame's count is the number of leaves that map it in all live
 *     spaces, plus one while a live shared object owns it (counted from
 *     the test's own walk of each space's tables in the simulated memory
 *     and the objects' frames it saw there, not from vm.c's bookkeeping;
 *     every CENSUS_EVERY operations the census agrees, and every
 *     CORE_CHECK_EVERY the paging core's pt_space_next_leaf and
 *     pt_space_tables see what the walk saw);
 *   - the zero frame has no count, is never writable and stays zero; a
 *     private frame is writable only with one reference, and is never a
 *     shared object's;
 *   - each zone's used frames are exactly the boot's plus the counted
 *     frames, one index frame per live object, and each live space's PML4
 *     and tables (none of them empty); a shared object's frames are free
 *     once its last region is gone.
 * At the end (every process exited) every frame is back, no reference and
 * no object is left, and the run met every resolution and the common
 * kills at least once. VM_MODEL_STATS=1 in the environment prints how
 * often each outcome happened, per seed.
 */
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>

#include "vm_sim.h"

#define MAX_PROCS 6
#define OPS 2000
#define SLOTS 8
#define SLOT_OFF(k) ((uint64_t)(k) * 585)   /* 0 .. 4095: both ends of the page */

/* The pages the processes use, three windows of one index space. */
#define HEAP_BASE (USER_BASE + 16 * PAGE_SIZE)
#define HEAP_PAGES 48
#define MMAP_PAGES 96
#define STACK_PAGES 24
#define STACK_WIN (USER_STACK_TOP - STACK_PAGES * PAGE_SIZE)
#define WIN_PAGES (HEAP_PAGES + MMAP_PAGES + STACK_PAGES)
#define OBJ_PAGES_MAX 32
/* The census reads every record (16 384 of them) and next_leaf walks from
 * the PML4 per leaf: every few operations only. A frame with a reference
 * no leaf or object explains shows in between anyway, as a frame the
 * allocator counts used (check_world's zone totals). */
#define CENSUS_EVERY 8
#define CORE_CHECK_EVERY 16
#define RW PT_PROT_WRITE

/* ---- the reference model ---- */

struct mpage {
    bool written;
    uint8_t b[SLOTS];
};

struct mregion {
    uint64_t start, end;
    uint32_t prot;
    enum vm_kind kind;
    int obj;                /* VM_SHARED: the object's slot in objs */
    uint32_t first;         /* the object's page of start */
};

struct mproc {
    bool live;
    unsigned n;
    struct mregion r[SYS_REGIONS_MAX + 2];
    struct mpage pg[WIN_PAGES];       /* private pages; shared ones are the objects' */
};

struct mobj {
    bool live;
    struct vm_shm *shm;
    uint32_t pages;
    struct mpage pg[OBJ_PAGES_MAX];
    paddr_t frame[OBJ_PAGES_MAX];     /* as the test saw it behind a leaf; 0: not yet */
};

static struct sim_proc procs[MAX_PROCS];
static struct mproc model[MAX_PROCS];
static struct mobj objs[SYS_SHM_MAX];

static uint64_t page_va(unsigned i)
{
    if (i < HEAP_PAGES)
        return HEAP_BASE + (uint64_t)i * PAGE_SIZE;
    if (i < HEAP_PAGES + MMAP_PAGES)
        return USER_MMAP_BASE + (uint64_t)(i - HEAP_PAGES) * PAGE_SIZE;
    return STACK_WIN + (uint64_t)(i - HEAP_PAGES - MMAP_PAGES) * PAGE_SIZE;
}

static int page_index(uint64_t va)
{
    va = ALIGN_DOWN(va, PAGE_SIZE);
    if (va >= HEAP_BASE && va < HEAP_BASE + HEAP_PAGES * PAGE_SIZE)
        return (int)((va - HEAP_BASE) / PAGE_SIZE);
    if (va >= USER_MMAP_BASE && va < USER_MMAP_BASE + MMAP_PAGES * PAGE_SIZE)
        return HEAP_PAGES + (int)((va - USER_MMAP_BASE) / PAGE_SIZE);
    if (va >= STACK_WIN && va < USER_STACK_TOP)
        return HEAP_PAGES + MMAP_PAGES + (int)((va - STACK_WIN) / PAGE_SIZE);
    return -1;
}

static struct mregion *m_find(struct mproc *m, uint64_t va)
{
    for (unsigned i = 0; i < m->n; i++)
        if (va >= m->r[i].start && va < m->r[i].end)
            return &m->r[i];
    return NULL;
}

/* The bytes behind page va of m: the object's for a shared region. */
static struct mpage *m_page(struct mproc *m, const struct mregion *r, uint64_t va)
{
    if (r->kind == VM_SHARED)
        return &objs[r->obj].pg[r->first + (va - r->start) / PAGE_SIZE];
    return &m->pg[page_index(va)];
}

static void m_add(struct mproc *m, struct mregion nr)
{
    unsigned i = 0;
    while (i < m->n && m->r[i].start < nr.start)
        i++;
    memmove(&m->r[i + 1], &m->r[i], (m->n - i) * sizeof(m->r[0]));
    m->r[i] = nr;
    m->n++;
}

static bool m_overlaps(const struct mproc *m, uint64_t s, uint64_t e)
{
    for (unsigned i = 0; i < m->n; i++)
        if (m->r[i].start < e && s < m->r[i].end)
            return true;
    return false;
}

/* The regions after [s, e) is cut out (keep_middle: false) or kept with
 * new_prot (true): each region overlapping the range leaves its part
 * below, its part inside (when kept) and its part above. Returns the
 * count, which may exceed SYS_REGIONS_MAX (out has room). */
static unsigned m_cut(const struct mproc *m, uint64_t s, uint64_t e, bool keep_middle,
                      uint32_t new_prot, struct mregion *out)
{
    unsigned n = 0;
    for (unsigned i = 0; i < m->n; i++) {
        struct mregion r = m->r[i];
        if (r.end <= s || e <= r.start) {
            out[n++] = r;
            continue;
        }
        uint64_t lo = r.start > s ? r.start : s, hi = r.end < e ? r.end : e;
        struct mregion piece = r;
        if (r.start < lo) {
            piece.end = lo;
            out[n++] = piece;
        }
        if (keep_middle) {
            piece = r;
            piece.start = lo;
            piece.end = hi;
            piece.prot = new_prot;
            piece.first = r.first + (uint32_t)((lo - r.start) / PAGE_SIZE);
            out[n++] = piece;
        }
        if (hi < r.end) {
            piece = r;
            piece.start = hi;
            piece.first = r.first + (uint32_t)((hi - r.start) / PAGE_SIZE);
            out[n++] = piece;
        }
    }
    return n;
}

/* The stack region a fault at page (in no region) grows, or NULL: the
 * first stack region above it, when no other region lies between and the
 * page is not below the limit (vm.h: "a fault below the stack, down to its
 * limit, grows the stack by the page"). */
static struct mregion *m_stack_grows(struct mproc *m, uint64_t page, uint64_t limit)
{
    if (page < limit)
        return NULL;
    for (unsigned i = 0; i < m->n; i++) {
        if (m->r[i].start <= page)
            continue;
        return m->r[i].kind == VM_STACK ? &m->r[i] : NULL;
    }
    return NULL;
}

static unsigned live_objs(void)
{
    unsigned n = 0;
    for (unsigned i = 0; i < SYS_SHM_MAX; i++)
        n += objs[i].live;
    return n;
}

static unsigned live_procs(void)
{
    unsigned n = 0;
    for (unsigned i = 0; i < MAX_PROCS; i++)
        n += model[i].live;
    return n;
}

/* ---- the run ---- */

static uint64_t rng;
static unsigned rnd(unsigned bound)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (unsigned)(rng % bound);
}

static unsigned long seed_now;
static unsigned op_no;
static char op_desc[160];
static char fail_at[256];       /* the seed and operation of the first failure */
static uint64_t base_general, base_pool, base_kept, free_general_at_start, free_pool_at_start;
static unsigned outcome_seen[SIM_NO_FAULT + 1];

/* Leaves mapping a frame plus one per live object owning it, by frame
 * number, and the frames with a count (to reset it). */
static uint32_t count[SIM_FRAMES];
static bool obj_frame[SIM_FRAMES];
static uint32_t counted[SIM_FRAMES];
static unsigned ncounted;

/* CHECK for the hot loops: the message is built only on a failure. */
#define FAIL_IF_NOT(cond, ...)                                              \
    do {                                                                    \
        if (!(cond)) {                                                      \
            CHECK(false, __VA_ARGS__);                                      \
            return false;                                                   \
        }                                                                   \
    } while (0)

static void count_frame(paddr_t f)
{
    uint64_t n = f.pa / PAGE_SIZE;
    if (count[n]++ == 0)
        counted[ncounted++] = (uint32_t)n;
}

static bool bytes_match(paddr_t f, const struct mpage *pg, const char *what, uint64_t va)
{
    const uint8_t *b = fake_phys(f.pa);
    for (unsigned k = 0; k < SLOTS; k++)
        FAIL_IF_NOT(b[SLOT_OFF(k)] == (pg->written ? pg->b[k] : 0),
                    "%s 0x%lx slot %u: 0x%02x, the model says 0x%02x", what, (unsigned long)va, k,
                    b[SLOT_OFF(k)], pg->written ? pg->b[k] : 0);
    return true;
}

struct seen_leaf {
    paddr_t frame;
    uint32_t prot;
    bool private;
};
static struct seen_leaf seen[MAX_PROCS * WIN_PAGES];

/* ---- the spaces, read from the simulated memory ---- */

struct walk_leaf {
    uint64_t va;
    paddr_t frame;
    uint32_t prot;          /* effective PT_PROT_WRITE / _EXEC / _USER */
};

struct walk {
    unsigned n;
    struct walk_leaf leaf[WIN_PAGES + 1];
    uint64_t tables;        /* below the PML4 */
    bool bad;               /* a huge leaf, an empty table, too many leaves */
};

/* The table at pa, of `level`, translating from va: its leaves into w,
 * with the effective permissions of SDM Vol. 3A 4.6.1 (W and U only if
 * every level has them, X unless one has NX). */
static void walk_table(struct walk *w, uint64_t pa, unsigned level, uint64_t va, pte_t and_bits,
                       pte_t or_nx)
{
    const pte_t *t = fake_phys(pa);
    unsigned present = 0;
    w->tables++;
    for (unsigned i = 0; i < PT_ENTRIES; i++) {
        pte_t e = i ? t[i] : t[i] & ~PT_COUNT_MASK;
        if (!(e & PTE_P))
            continue;
        present++;
        uint64_t at = va + (uint64_t)i * PT_LEVEL_SPAN(level);
        pte_t a = and_bits & e, nx = or_nx | (e & PTE_NX);
        if (level > 1 && (e & PTE_PS)) {
            w->bad = true;
        } else if (level > 1) {
            walk_table(w, e & PTE_ADDR_MASK, level - 1, at, a, nx);
        } else if (w->n > WIN_PAGES) {
            w->bad = true;
        } else {
            w->leaf[w->n++] = (struct walk_leaf){
                at, paddr(e & PTE_ADDR_MASK),
                ((a & PTE_W) ? PT_PROT_WRITE : 0) | ((a & PTE_U) ? PT_PROT_USER : 0) |
                    (nx ? 0 : PT_PROT_EXEC),
            };
        }
    }
    w->bad |= present == 0;     /* the core frees a table when it empties */
}

/* Every leaf of as's own PML4 slots (1-255), by reading its tables in the
 * arena: no paging-core code on the way. */
static void walk_space(const struct pt_space *as, struct walk *w)
{
    const pte_t *pml4 = fake_phys(as->root.pa);
    w->n = 0;
    w->tables = 0;
    w->bad = false;
    for (unsigned i = 1; i < PT_ENTRIES / 2; i++)
        if (pml4[i] & PTE_P)
            walk_table(w, pml4[i] & PTE_ADDR_MASK, PT_LEVELS - 1, (uint64_t)i * PT_LEVEL_SPAN(4),
                       pml4[i], pml4[i] & PTE_NX);
}

/* Now and then: the core's own view (pt_space_next_leaf, pt_space_tables)
 * is the walk's. */
static bool core_agrees(unsigned pi, const struct walk *w)
{
    struct pt_leaf l;
    unsigned n = 0;
    for (vaddr_t at = vaddr(0); pt_space_next_leaf(&procs[pi].as, at, &l) == PT_OK;
         at = vaddr(l.va.va + l.size), n++)
        FAIL_IF_NOT(n < w->n && l.va.va == w->leaf[n].va && l.frame.pa == w->leaf[n].frame.pa &&
                        l.size == PAGE_SIZE && l.prot == w->leaf[n].prot,
                    "p%u: pt_space_next_leaf's leaf %u at 0x%lx differs from the walk's", pi, n,
                    (unsigned long)l.va.va);
    FAIL_IF_NOT(n == w->n, "p%u: %u leaves by pt_space_next_leaf, %u by the walk", pi, n, w->n);
    FAIL_IF_NOT(pt_space_tables(&procs[pi].as) == w->tables, "p%u: %lu tables, the walk found %lu",
                pi, (unsigned long)pt_space_tables(&procs[pi].as), (unsigned long)w->tables);
    return true;
}

/* One live space's leaves against its model; counts them. */
static bool check_space(unsigned pi, const struct walk *w, unsigned *nseen)
{
    struct mproc *m = &model[pi];
    bool mapped[WIN_PAGES] = { false };
    FAIL_IF_NOT(!w->bad, "p%u: a huge leaf, an empty table or too many leaves", pi);
    for (unsigned li = 0; li < w->n; li++) {
        const struct walk_leaf *l = &w->leaf[li];
        uint64_t va = l->va;
        int idx = page_index(va);
        struct mregion *r = m_find(m, va);
        FAIL_IF_NOT(idx >= 0 && r, "p%u: a leaf at 0x%lx outside its regions", pi,
                    (unsigned long)va);
        mapped[idx] = true;
        FAIL_IF_NOT(l->prot & PT_PROT_USER, "p%u 0x%lx: not a user leaf", pi, (unsigned long)va);
        FAIL_IF_NOT(!(l->prot & ~r->prot & (PT_PROT_WRITE | PT_PROT_EXEC)),
                    "p%u 0x%lx: the leaf allows 0x%x, its region 0x%x", pi, (unsigned long)va,
                    l->prot, r->prot);
        struct mpage *pg = m_page(m, r, va);
        bool zero = l->frame.pa == kmap_zero_frame().pa;
        FAIL_IF_NOT(vm_is_zero_frame(l->frame) == zero, "vm_is_zero_frame disagrees");
        if (zero) {
            FAIL_IF_NOT(!(l->prot & PT_PROT_WRITE), "p%u 0x%lx: the zero frame writable", pi,
                        (unsigned long)va);
            FAIL_IF_NOT(r->kind != VM_SHARED, "p%u 0x%lx: a shared page on the zero frame", pi,
                        (unsigned long)va);
            FAIL_IF_NOT(!pg->written, "p%u 0x%lx: a written page on the zero frame", pi,
                        (unsigned long)va);
        } else if (r->kind == VM_SHARED) {
            struct mobj *o = &objs[r->obj];
            uint32_t j = r->first + (uint32_t)((va - r->start) / PAGE_SIZE);
            if (!o->frame[j].pa) {
                FAIL_IF_NOT(!obj_frame[l->frame.pa / PAGE_SIZE] && !count[l->frame.pa / PAGE_SIZE],
                            "p%u 0x%lx: a new shared page on a frame in use", pi,
                            (unsigned long)va);
                o->frame[j] = l->frame;
                obj_frame[l->frame.pa / PAGE_SIZE] = true;
                count_frame(l->frame);              /* the object's reference */
            }
            FAIL_IF_NOT(o->frame[j].pa == l->frame.pa,
                        "p%u 0x%lx: object %d page %u on 0x%lx, earlier on 0x%lx", pi,
                        (unsigned long)va, r->obj, j, (unsigned long)l->frame.pa,
                        (unsigned long)o->frame[j].pa);
            FAIL_IF_NOT((l->prot & PT_PROT_WRITE) == (r->prot & PT_PROT_WRITE),
                        "p%u 0x%lx: a shared leaf's W differs from its region's", pi,
                        (unsigned long)va);
        }
        if (!bytes_match(l->frame, pg, "leaf", va))
            return false;
        if (!zero)
            count_frame(l->frame);
        seen[(*nseen)++] = (struct seen_leaf){ l->frame, l->prot, r->kind != VM_SHARED && !zero };
    }
    for (unsigned i = 0; i < WIN_PAGES; i++) {
        if (!m->pg[i].written)
            continue;
        struct mregion *r = m_find(m, page_va(i));
        FAIL_IF_NOT(!r || r->kind == VM_SHARED || !m->pg[i].written || mapped[i],
                    "p%u 0x%lx: a written private page lost its leaf", pi,
                    (unsigned long)page_va(i));
        FAIL_IF_NOT(r || !m->pg[i].written, "the model kept a page outside its regions");
    }
    return true;
}

static bool regions_match(unsigned pi)
{
    const struct vm *v = &procs[pi].vm;
    const struct mproc *m = &model[pi];
    FAIL_IF_NOT(v->n == m->n, "p%u: %u regions, the model has %u", pi, v->n, m->n);
    for (unsigned i = 0; i < m->n; i++) {
        const struct vm_region *a = &v->r[i];
        const struct mregion *b = &m->r[i];
        bool same = a->start == b->start && a->end == b->end && a->prot == b->prot &&
                    a->kind == b->kind;
        if (b->kind == VM_SHARED)
            same = same && a->shm == objs[b->obj].shm && a->shm_first == b->first;
        FAIL_IF_NOT(same, "p%u region %u: [0x%lx, 0x%lx) prot %u kind %d first %u, the model's "
                          "[0x%lx, 0x%lx) prot %u kind %d first %u",
                    pi, i, (unsigned long)a->start, (unsigned long)a->end, a->prot, a->kind,
                    a->shm_first, (unsigned long)b->start, (unsigned long)b->end, b->prot, b->kind,
                    b->first);
    }
    return true;
}

/* Objects whose last region went: dead now, and their frames free. */
static bool settle_objects(void)
{
    unsigned users[SYS_SHM_MAX] = { 0 };
    for (unsigned pi = 0; pi < MAX_PROCS; pi++)
        if (model[pi].live)
            for (unsigned i = 0; i < model[pi].n; i++)
                if (model[pi].r[i].kind == VM_SHARED)
                    users[model[pi].r[i].obj]++;
    for (unsigned o = 0; o < SYS_SHM_MAX; o++) {
        if (!objs[o].live || users[o])
            continue;
        for (unsigned j = 0; j < objs[o].pages; j++)
            if (objs[o].frame[j].pa) {
                FAIL_IF_NOT(frame_refs(objs[o].frame[j]) == 0 &&
                                pmm_frame_state(PMM_ZONE_GENERAL, objs[o].frame[j]) ==
                                    PMM_FRAME_FREE,
                            "object %u is gone but its page %u's frame 0x%lx is not free", o, j,
                            (unsigned long)objs[o].frame[j].pa);
            }
        memset(&objs[o], 0, sizeof(objs[o]));
    }
    return true;
}

static bool check_world(void)
{
    if (!settle_objects())
        return false;
    for (unsigned i = 0; i < ncounted; i++) {
        count[counted[i]] = 0;
        obj_frame[counted[i]] = false;
    }
    ncounted = 0;
    /* the objects' references first, then the leaves */
    for (unsigned o = 0; o < SYS_SHM_MAX; o++)
        for (unsigned j = 0; objs[o].live && j < objs[o].pages; j++) {
            if (!objs[o].frame[j].pa)
                continue;
            obj_frame[objs[o].frame[j].pa / PAGE_SIZE] = true;
            count_frame(objs[o].frame[j]);
            if (!bytes_match(objs[o].frame[j], &objs[o].pg[j], "object page", j))
                return false;
        }
    unsigned nseen = 0;
    uint64_t spaces = 0;
    static struct walk w;
    for (unsigned pi = 0; pi < MAX_PROCS; pi++) {
        if (!model[pi].live)
            continue;
        walk_space(&procs[pi].as, &w);
        if (!regions_match(pi) || !check_space(pi, &w, &nseen))
            return false;
        if (op_no % CORE_CHECK_EVERY == 0 && !core_agrees(pi, &w))
            return false;
        spaces += 1 + w.tables;
    }
    /* a page written went through a leaf, which recorded its frame */
    for (unsigned o = 0; o < SYS_SHM_MAX; o++)
        for (unsigned j = 0; objs[o].live && j < objs[o].pages; j++)
            FAIL_IF_NOT(objs[o].frame[j].pa || !objs[o].pg[j].written,
                        "object %u page %u written but never seen mapped", o, j);
    for (unsigned i = 0; i < nseen; i++) {
        if (!seen[i].private)
            continue;
        FAIL_IF_NOT(!obj_frame[seen[i].frame.pa / PAGE_SIZE],
                    "a private leaf maps shared object frame 0x%lx",
                    (unsigned long)seen[i].frame.pa);
        FAIL_IF_NOT(!(seen[i].prot & PT_PROT_WRITE) || count[seen[i].frame.pa / PAGE_SIZE] == 1,
                    "private frame 0x%lx is writable with %u references",
                    (unsigned long)seen[i].frame.pa, count[seen[i].frame.pa / PAGE_SIZE]);
    }
    uint64_t sum = 0;
    for (unsigned i = 0; i < ncounted; i++) {
        paddr_t f = paddr((uint64_t)counted[i] * PAGE_SIZE);
        FAIL_IF_NOT(frame_refs(f) == count[counted[i]],
                    "frame 0x%lx: %u references, %u leaves and objects hold it",
                    (unsigned long)f.pa, frame_refs(f), count[counted[i]]);
        sum += count[counted[i]];
    }
    if (op_no % CENSUS_EVERY == 0) {
        struct frame_meta_census c;
        frame_meta_census(&c);
        FAIL_IF_NOT(c.refs == sum && c.live == ncounted,
                    "census: %lu references in %lu frames, counted %lu in %u",
                    (unsigned long)c.refs, (unsigned long)c.live, (unsigned long)sum, ncounted);
        FAIL_IF_NOT(c.kept == base_kept, "record pages changed");
    }
    FAIL_IF_NOT(frame_refs(kmap_zero_frame()) == 0, "the zero frame has a count");
    FAIL_IF_NOT(sim_frame_zero(kmap_zero_frame()), "the zero frame was written");
    FAIL_IF_NOT(vm_shm_live() == live_objs(), "%u shared objects, the model has %u",
                vm_shm_live(), live_objs());
    bool general = strategy_table_zone() == PMM_ZONE_GENERAL;
    uint64_t want_general = base_general + ncounted + live_objs() + (general ? spaces : 0);
    uint64_t want_pool = base_pool + (general ? 0 : spaces);
    FAIL_IF_NOT(sim_used(PMM_ZONE_GENERAL) == want_general && sim_used(PMM_ZONE_TABLE_POOL) ==
                                                                   want_pool,
                "frames used: general %lu pool %lu, want %lu and %lu",
                (unsigned long)sim_used(PMM_ZONE_GENERAL),
                (unsigned long)sim_used(PMM_ZONE_TABLE_POOL), (unsigned long)want_general,
                (unsigned long)want_pool);
    return true;
}

/* ---- the operations ---- */

static int pick_live(void)
{
    unsigned k = rnd(live_procs());
    for (unsigned i = 0; i < MAX_PROCS; i++)
        if (model[i].live && k-- == 0)
            return (int)i;
    return -1;
}

static int new_obj(uint32_t pages)
{
    for (int o = 0; o < SYS_SHM_MAX; o++)
        if (!objs[o].live) {
            long err = 0;
            struct vm_shm *s = vm_shm_new(pages, &err);
            if (!CHECK(s != NULL, "vm_shm_new(%u) with %u objects: %ld", pages, live_objs(), err))
                return -1;
            objs[o] = (struct mobj){ .live = true, .shm = s, .pages = pages };
            return o;
        }
    long err = 0;
    CHECK(vm_shm_new(pages, &err) == NULL && err == -SYS_ENOMEM,
          "a shared object beyond SYS_SHM_MAX: err %ld", err);
    return -1;
}

static bool add_region(unsigned pi, uint64_t s, unsigned pages, uint32_t prot, enum vm_kind kind,
                       int obj)
{
    struct mproc *m = &model[pi];
    uint64_t e = s + (uint64_t)pages * PAGE_SIZE;
    bool want = m->n < SYS_REGIONS_MAX && !m_overlaps(m, s, e);
    struct vm_shm *shm = obj >= 0 ? objs[obj].shm : NULL;
    bool got = vm_region_add(&procs[pi].vm, s, e, prot, kind, shm, 0);
    if (!CHECK(got == want, "vm_region_add [0x%lx, 0x%lx): %d, the model says %d",
               (unsigned long)s, (unsigned long)e, got, want))
        return false;
    if (got)
        m_add(m, (struct mregion){ s, e, prot, kind, obj, 0 });
    else if (shm)
        vm_shm_put(shm);        /* as sys_mmap does; the object dies with it */
    return true;
}

static void spawn_first(void)
{
    int pi = -1;
    for (unsigned i = 0; i < MAX_PROCS && pi < 0; i++)
        if (!model[i].live)
            pi = (int)i;
    struct mproc *m = &model[pi];
    memset(m, 0, sizeof(*m));
    m->live = true;
    snprintf(op_desc, sizeof(op_desc), "spawn p%d", pi);
    if (!sim_spawn(&procs[pi]))
        return;
    CHECK_EQ(vm_heap_set(&procs[pi].vm, HEAP_BASE, HEAP_BASE + 8 * PAGE_SIZE), 0);
    m_add(m, (struct mregion){ HEAP_BASE, HEAP_BASE + 8 * PAGE_SIZE, RW, VM_HEAP, -1, 0 });
    add_region((unsigned)pi, page_va(HEAP_PAGES), 24, RW, VM_ANON, -1);
    int o = new_obj(24);
    if (o >= 0)
        add_region((unsigned)pi, page_va(HEAP_PAGES + 32), 24, RW, VM_SHARED, o);
    add_region((unsigned)pi, page_va(HEAP_PAGES + 64), 8, 0, VM_ANON, -1);
    add_region((unsigned)pi, USER_STACK_TOP - PAGE_SIZE, 1, RW, VM_STACK, -1);
}

static int expect_access(unsigned pi, uint64_t va, enum sim_op op, struct mregion **grows)
{
    struct mproc *m = &model[pi];
    uint64_t page = ALIGN_DOWN(va, PAGE_SIZE);
    struct mregion *r = m_find(m, page);
    *grows = NULL;
    if (!r) {
        uint64_t limit = procs[pi].vm.stack_limit;
        r = *grows = m_stack_grows(m, page, limit);
        if (!r)
            return page >= limit - PAGE_SIZE && page < limit ? VM_KILL_GUARD : VM_KILL_NO_REGION;
    }
    if (op == SIM_WRITE && !(r->prot & PT_PROT_WRITE))
        return VM_KILL_WRITE;
    struct pt_translation t;
    if (!sim_leaf(&procs[pi], va, &t))
        return *grows ? VM_RESOLVED_STACK_GROW
               : r->kind == VM_SHARED ? VM_RESOLVED_SHARED
               : op == SIM_WRITE      ? VM_RESOLVED_ZERO_FILL
                                      : VM_RESOLVED_ZERO_PAGE;
    if ((pt_tr_prot(&t) & sim_need(op)) == sim_need(op))
        return SIM_NO_FAULT;
    if (r->kind == VM_SHARED)
        return SIM_NO_FAULT;    /* a shared leaf always has its region's W (checked) */
    paddr_t f = pt_tr_frame(&t);
    if (vm_is_zero_frame(f))
        return VM_RESOLVED_ZERO_FILL;
    /* the count of the last check_world: nothing changed since */
    return count[f.pa / PAGE_SIZE] > 1 ? VM_RESOLVED_COW_COPY : VM_RESOLVED_COW_REUSE;
}

static void op_access(enum sim_op op)
{
    unsigned pi = (unsigned)pick_live(), k = rnd(SLOTS);
    uint64_t va = page_va(rnd(WIN_PAGES)) + SLOT_OFF(k);
    const struct mproc *m = &model[pi];
    if (m->n && rnd(4)) {
        /* mostly inside a region: the pages that change state */
        const struct mregion *r = &m->r[rnd(m->n)];
        va = r->start + (uint64_t)rnd((unsigned)((r->end - r->start) / PAGE_SIZE)) * PAGE_SIZE +
             SLOT_OFF(k);
    }
    uint8_t byte = (uint8_t)rnd(256), got = byte;
    snprintf(op_desc, sizeof(op_desc), "p%u %s 0x%lx%s", pi, op == SIM_WRITE ? "write" : "read",
             (unsigned long)va, op == SIM_WRITE ? " (byte chosen)" : "");
    struct mregion *grows;
    int want = expect_access(pi, va, op, &grows);
    int o = sim_access(&procs[pi], va, op, &got);
    outcome_seen[o]++;
    if (!SIM_EXPECT(o, want) || !(VM_RESOLVED(o) || o == SIM_NO_FAULT))
        return;
    if (grows)
        grows->start = ALIGN_DOWN(va, PAGE_SIZE);
    struct mregion *r = m_find(&model[pi], va);
    struct mpage *pg = m_page(&model[pi], r, ALIGN_DOWN(va, PAGE_SIZE));
    if (op == SIM_WRITE) {
        if (!pg->written)
            memset(pg->b, 0, sizeof(pg->b));
        pg->written = true;
        pg->b[k] = byte;
    } else {
        CHECK(got == (pg->written ? pg->b[k] : 0), "read 0x%02x, the model says 0x%02x", got,
              pg->written ? pg->b[k] : 0);
    }
}

static void op_fork(void)
{
    int c = -1;
    for (unsigned i = 0; i < MAX_PROCS && c < 0; i++)
        if (!model[i].live)
            c = (int)i;
    if (c < 0)
        return;
    unsigned p = (unsigned)pick_live();
    snprintf(op_desc, sizeof(op_desc), "fork p%u -> p%d", p, c);
    if (!CHECK_EQ(sim_fork(&procs[c], &procs[p]), 0))
        return;
    model[c] = model[p];
}

static void op_exit(void)
{
    unsigned p = (unsigned)pick_live();
    snprintf(op_desc, sizeof(op_desc), "exit p%u", p);
    sim_exit(&procs[p]);
    model[p].live = false;
}

/* A random page range of the mmap window: [*s, *e). */
static void mmap_range(uint64_t *s, uint64_t *e, unsigned max_pages)
{
    unsigned first = rnd(MMAP_PAGES), n = 1 + rnd(max_pages);
    if (first + n > MMAP_PAGES)
        n = MMAP_PAGES - first;
    *s = page_va(HEAP_PAGES + first);
    *e = *s + (uint64_t)n * PAGE_SIZE;
}

static void op_munmap(void)
{
    unsigned pi = (unsigned)pick_live();
    uint64_t s, e;
    mmap_range(&s, &e, 12);
    snprintf(op_desc, sizeof(op_desc), "p%u munmap [0x%lx, 0x%lx)", pi, (unsigned long)s,
             (unsigned long)e);
    struct mproc *m = &model[pi];
    struct mregion out[2 * (SYS_REGIONS_MAX + 2)];
    unsigned n = m_cut(m, s, e, false, 0, out);
    long want = n > SYS_REGIONS_MAX ? -SYS_ENOMEM : 0;
    sim_run(&procs[pi]);
    if (!CHECK_EQ(vm_unmap(&procs[pi].vm, s, e), want) || want)
        return;
    memcpy(m->r, out, n * sizeof(out[0]));
    m->n = n;
    for (uint64_t va = s; va < e; va += PAGE_SIZE)
        memset(&m->pg[page_index(va)], 0, sizeof(m->pg[0]));
}

static void op_mprotect(void)
{
    unsigned pi = (unsigned)pick_live();
    uint64_t s, e;
    mmap_range(&s, &e, 12);
    uint32_t prot = rnd(2) ? RW : 0;
    snprintf(op_desc, sizeof(op_desc), "p%u mprotect [0x%lx, 0x%lx) %s", pi, (unsigned long)s,
             (unsigned long)e, prot ? "rw" : "ro");
    struct mproc *m = &model[pi];
    long want = 0;
    for (uint64_t va = s; va < e; va += PAGE_SIZE)
        if (!m_find(m, va))
            want = -SYS_EINVAL;
    struct mregion out[2 * (SYS_REGIONS_MAX + 2)];
    unsigned n = m_cut(m, s, e, true, prot, out);
    if (!want && n > SYS_REGIONS_MAX)
        want = -SYS_ENOMEM;
    sim_run(&procs[pi]);
    if (!CHECK_EQ(vm_protect(&procs[pi].vm, s, e, prot), want) || want)
        return;
    memcpy(m->r, out, n * sizeof(out[0]));
    m->n = n;
}

static void op_sbrk(void)
{
    unsigned pi = (unsigned)pick_live();
    uint64_t end = HEAP_BASE + (uint64_t)rnd(HEAP_PAGES + 1) * PAGE_SIZE;
    snprintf(op_desc, sizeof(op_desc), "p%u heap to 0x%lx", pi, (unsigned long)end);
    struct mproc *m = &model[pi];
    struct mregion *h = NULL;
    for (unsigned i = 0; i < m->n; i++)
        if (m->r[i].kind == VM_HEAP)
            h = &m->r[i];
    long want = !h && end > HEAP_BASE && m->n == SYS_REGIONS_MAX ? -SYS_ENOMEM : 0;
    sim_run(&procs[pi]);
    if (!CHECK_EQ(vm_heap_set(&procs[pi].vm, HEAP_BASE, end), want) || want)
        return;
    if (!h) {
        if (end > HEAP_BASE)
            m_add(m, (struct mregion){ HEAP_BASE, end, RW, VM_HEAP, -1, 0 });
        return;
    }
    for (uint64_t va = end; va < h->end; va += PAGE_SIZE)
        memset(&m->pg[page_index(va)], 0, sizeof(m->pg[0]));
    if (end == HEAP_BASE) {
        unsigned i = (unsigned)(h - m->r);
        memmove(&m->r[i], &m->r[i + 1], (m->n - i - 1) * sizeof(m->r[0]));
        m->n--;
    } else {
        h->end = end;
    }
}

static void op_mmap(void)
{
    unsigned pi = (unsigned)pick_live();
    uint64_t s, e;
    mmap_range(&s, &e, 8);
    bool shared = rnd(3) == 0;
    uint32_t prot = rnd(4) ? RW : 0;
    snprintf(op_desc, sizeof(op_desc), "p%u mmap [0x%lx, 0x%lx) %s %s", pi, (unsigned long)s,
             (unsigned long)e, shared ? "shared" : "private", prot ? "rw" : "ro");
    unsigned pages = (unsigned)((e - s) / PAGE_SIZE);
    int o = -1;
    if (shared && (o = new_obj(pages)) < 0)
        return;
    add_region(pi, s, pages, prot, shared ? VM_SHARED : VM_ANON, o);
}

/* ---- one seed ---- */

struct seed_case {
    unsigned long seed;
};

/* One seed's run (in a child process, run_seed). */
static void seed_body(unsigned long seed)
{
    seed_now = seed;
    rng = 0x9E3779B97F4A7C15ULL ^ (seed * 0xD1B54A32D192ED03ULL);
    sim_boot();
    memset(model, 0, sizeof(model));
    memset(objs, 0, sizeof(objs));
    memset(outcome_seen, 0, sizeof(outcome_seen));
    base_general = sim_used(PMM_ZONE_GENERAL);
    base_pool = sim_used(PMM_ZONE_TABLE_POOL);
    free_general_at_start = sim_free(PMM_ZONE_GENERAL);
    free_pool_at_start = sim_free(PMM_ZONE_TABLE_POOL);
    struct frame_meta_census c0;
    frame_meta_census(&c0);
    base_kept = c0.kept;
    ncounted = 0;
    memset(count, 0, sizeof(count));
    memset(obj_frame, 0, sizeof(obj_frame));
    for (op_no = 0; op_no <= OPS; op_no++) {
        unsigned before = check_current.failures;
        if (op_no == OPS) {
            snprintf(op_desc, sizeof(op_desc), "every process exits");
            while (live_procs())
                op_exit();
        } else if (!live_procs()) {
            spawn_first();
        } else {
            unsigned r = rnd(100);
            if (r < 34)
                op_access(SIM_WRITE);
            else if (r < 58)
                op_access(SIM_READ);
            else if (r < 66)
                op_fork();
            else if (r < 72)
                op_exit();
            else if (r < 80)
                op_munmap();
            else if (r < 87)
                op_mprotect();
            else if (r < 93)
                op_sbrk();
            else
                op_mmap();
        }
        sim_kernel();
        if (check_current.failures == before)
            check_world();
        if (check_current.failures != before) {
            snprintf(fail_at, sizeof(fail_at), "seed %lu, operation %u: %s", seed_now, op_no,
                     op_desc);
            fprintf(stderr, "  %s\n", fail_at);
            return;
        }
    }
    /* every process gone: everything back */
    struct frame_meta_census c;
    frame_meta_census(&c);
    CHECK_EQ(sim_free(PMM_ZONE_GENERAL), free_general_at_start);
    CHECK_EQ(sim_free(PMM_ZONE_TABLE_POOL), free_pool_at_start);
    CHECK_EQ(c.refs, 0);
    CHECK_EQ(c.live, 0);
    CHECK_EQ(c.kept, base_kept);
    CHECK_EQ(vm_shm_live(), 0);
    /* the run did what a model test is for: every resolution and the
     * common kills happened */
    static const int needed[] = {
        VM_RESOLVED_ZERO_FILL, VM_RESOLVED_ZERO_PAGE, VM_RESOLVED_SHARED,
        VM_RESOLVED_COW_COPY,  VM_RESOLVED_COW_REUSE, VM_RESOLVED_STACK_GROW,
        VM_KILL_NO_REGION,     VM_KILL_WRITE,         SIM_NO_FAULT,
    };
    if (getenv("VM_MODEL_STATS"))
        for (int i = 0; i <= SIM_NO_FAULT; i++)
            fprintf(stderr, "seed %lu: %s: %u\n", seed_now, sim_outcome(i), outcome_seen[i]);
    for (unsigned i = 0; i < sizeof(needed) / sizeof(needed[0]); i++)
        CHECK(outcome_seen[needed[i]] > 0, "seed %lu: no \"%s\" in %u operations", seed_now,
              sim_outcome(needed[i]), OPS);
}

/* A panic (kpanic aborts) in the child: say where, on the pipe. */
static int report_fd = -1;

static void put_str(const char *str)
{
    ssize_t ignored = write(report_fd, str, strlen(str));
    (void)ignored;
}

static void put_num(unsigned long n)
{
    char b[24];
    int i = sizeof(b);
    b[--i] = 0;
    do
        b[--i] = (char)('0' + n % 10);
    while (n /= 10);
    put_str(&b[i]);
}

static void on_abort(int sig)
{
    (void)sig;
    put_str("a panic (PANIC line above) at seed ");
    put_num(seed_now);
    put_str(", operation ");
    put_num(op_no);
    put_str(": ");
    put_str(op_desc);
    _exit(2);
}

/* Each seed runs in a child process: vm.c's shared objects are static
 * and outlive fake_boot, so a seed that failed midway cannot leave any to
 * the next, and a panic is reported as the seed's failure. The child
 * sends its first failure (and where) on a pipe. */
static void run_seed(const void *arg)
{
    const struct seed_case *sc = arg;
    int fds[2];
    if (!CHECK(pipe(fds) == 0, "pipe"))
        return;
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        report_fd = fds[1];
        signal(SIGABRT, on_abort);
        seed_body(sc->seed);
        if (check_current.failures) {
            put_str(check_current.reason);
            put_str(fail_at[0] ? " at " : "");
            put_str(fail_at);
        }
        _exit(check_current.failures ? 1 : 0);
    }
    close(fds[1]);
    char buf[1024];
    size_t len = 0;
    ssize_t n;
    while (len < sizeof(buf) - 1 && (n = read(fds[0], buf + len, sizeof(buf) - 1 - len)) > 0)
        len += (size_t)n;
    buf[len] = 0;
    close(fds[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "%s",
          len ? buf : "the child died without a word");
}

#define SEED(n) CHECK_CASE("seed " #n ": 2000 random operations agree with the reference model", \
                           run_seed, &(const struct seed_case){ n })

static const struct check_test tests[] = {
    SEED(1),  SEED(2),  SEED(3),  SEED(4),  SEED(5),  SEED(6),  SEED(7),
    SEED(8),  SEED(9),  SEED(10), SEED(11), SEED(12), SEED(13), SEED(14),
    SEED(15), SEED(16), SEED(17), SEED(18), SEED(19), SEED(20),
};

int main(void) { return check_main("vm_model", tests, CHECK_COUNT(tests)); }
