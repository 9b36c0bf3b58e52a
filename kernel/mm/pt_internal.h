/*
 * pt_internal.h - what the files of the paging core share and nobody else
 * sees: the configuration pt_init records, the current operation's
 * counters, the one writer of page-table entries and the count helpers,
 * the decoding of entries, the walker (struct walk) and the invalidation
 * batch (struct batch).
 *
 * The core is four files, split by what they traverse:
 *   pt_walk.c     one path: the walker, translate, map/unmap/protect of
 *                 one page, table creation, the argument checks;
 *   pt_range.c    a range: each table fetched once, its entries in a loop;
 *   tlb_policy.c  the TLB rule and the batch that carries it out;
 *   pt_visit.c    the whole tree: pt_init's recount and pt_visit (the
 *                 dumps in pt_dump.c are built on it).
 * Included by those four only; the public contract is pt.h. Levels: 4 =
 * PML4 ... 1 = PT.
 */
#ifndef KERNEL_PT_INTERNAL_H
#define KERNEL_PT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "../common/debug.h"
#include "pt.h"
#include "strategy.h"

/* The hardware bits prot decides; pt_protect replaces exactly these. */
#define PROT_PTE_BITS (PTE_W | PTE_U | PTE_G | PTE_PCD | PTE_PWT | PTE_NX)
/* Tables deferred for freeing before a forced flush (rule 4). */
#define BATCH_TABLES 64

/* ---- configuration (pt_init) and counters (pt_walk.c defines them) ---- */

struct pt_config {
    bool nx;              /* EFER.NXE usable: bit 63 means no-execute */
    bool page1g;          /* PS in a PDPT entry allowed */
    uint64_t phys_limit;  /* 1 << MAXPHYADDR */
    struct pt_region reserved;
    enum strategy_link_order order;
};

extern struct pt_config pt_cfg;

/* The roots (pt_space.c): the kernel's PML4 (the boot CR3), the one CR3
 * holds, and the one the lower half's operations use (pt_space_select).
 * Physical addresses of PML4s, all three. */
extern paddr_t pt_kernel_root, pt_active_root, pt_edit_root;
/* The live spaces other than the kernel's (NULL: none). */
extern struct pt_space *pt_spaces;

/* Whether va is in a PML4 slot every space shares (pt.h): slot 0 or the
 * upper half. The others, 1-255, are each space's own. One compare:
 * slot - 1 wraps for slot 0. */
static inline bool kernel_slot(vaddr_t va)
{
    return (va.va >> PT_LEVEL_SHIFT(PT_LEVELS)) - 1 >= PT_ENTRIES / 2 - 1;
}

/* The PML4 an operation on va walks: the shared slots' entries are equal
 * in every PML4 (pt_space_sync keeps them so), so they are edited from the
 * active one, which every strategy reaches without help (recursive: its
 * own slot), and copied to the others after; the rest is the selected
 * space's. */
static inline paddr_t root_for(vaddr_t va)
{
    return kernel_slot(va) ? pt_active_root : pt_edit_root;
}

/* Rule 6 (tlb_policy.c): va's translation can be in the TLB only if va is
 * in a shared slot or the edited space is the active one. */
static inline bool va_live(vaddr_t va)
{
    return kernel_slot(va) || pt_edit_root.pa == pt_active_root.pa;
}

/* A PDPT linked from a shared PML4 entry stays while other spaces live:
 * their PML4s may hold a copy of that entry. parent_level is the level of
 * the table holding the entry. */
static inline bool table_pinned(unsigned parent_level, vaddr_t va)
{
    return parent_level == PT_LEVELS && kernel_slot(va) && pt_spaces;
}

/* Copies the active PML4's shared entries into every other PML4, the
 * kernel's and the live spaces' (the strategy's own entries excepted). pt_map and pt_map_range call it when
 * they linked a PDPT in the upper half (batch.sync), after the operation,
 * when no table is held any more. */
void pt_space_sync(void);

/* pt_init: the kernel's space is CR3's (root), selected and active, and
 * no other space exists. */
void pt_space_reset(paddr_t root);
extern struct pt_stats pt_all_stats;
/* The running operation's counters (op_begin); PT_OP_OTHER between. */
extern struct pt_op_stats *pt_cur;

static inline void op_begin(enum pt_op op)
{
    pt_cur = &pt_all_stats.op[op];
    pt_cur->calls++;
}

/* ---- entries: the one writer, the counts ---- */

/* One aligned 64-bit load: what the CPU's walk reads. */
static inline __attribute__((always_inline)) pte_t entry_load(const pte_t *t, unsigned i)
{
    return ((const volatile pte_t *)t)[i];
}

/* entry_load, counted in the current operation. */
static inline __attribute__((always_inline)) pte_t pte_get(const pte_t *t, unsigned i)
{
    pt_cur->pte_reads++;
    return entry_load(t, i);
}

/* The store under every write: one aligned 64-bit store, so the CPU,
 * which may walk the table at any time, never sees half an entry (SDM
 * Vol. 3A 9.1.1: an aligned quadword store is atomic). Called by
 * pte_write, pte_write_uncounted, count_set and table_zero only
 * (pte_write_run and table_zero also store with string instructions). */
static inline __attribute__((always_inline)) void entry_store(pte_t *t, unsigned i, pte_t v)
{
    ((volatile pte_t *)t)[i] = v;
}

/* The count's high part: bits LO_WIDTH.. of n, moved to HI_SHIFT.. of the
 * entry by one shift (one instruction less than down and up again). */
#define COUNT_HI_OF_N (PT_COUNT_HI_ONES << PT_COUNT_LO_WIDTH)
#define COUNT_HI_MOVE (PT_COUNT_HI_SHIFT - PT_COUNT_LO_WIDTH)
_Static_assert(PT_COUNT_HI_SHIFT >= PT_COUNT_LO_WIDTH, "the high part moves up");

/* The count field for n present entries, each part masked to its width:
 * a wrong n gives a wrong count, never a changed address bit. */
static inline __attribute__((always_inline)) pte_t count_bits(unsigned n)
{
    return ((pte_t)(n & PT_COUNT_LO_ONES) << PT_COUNT_LO_SHIFT) |
           ((pte_t)(n & COUNT_HI_OF_N) << COUNT_HI_MOVE);
}

/* The count held in entry 0's value e0. */
static inline __attribute__((always_inline)) unsigned count_of(pte_t e0)
{
    return (unsigned)(((e0 >> PT_COUNT_LO_SHIFT) & PT_COUNT_LO_ONES) |
                      ((e0 >> COUNT_HI_MOVE) & COUNT_HI_OF_N));
}

static inline __attribute__((always_inline)) unsigned count_get(const pte_t *t)
{
    return count_of(pte_get(t, 0));
}

/* Stores n as the table's count, entry 0's other bits as they are: for
 * the loops that handle a table's entries and store its count once (the
 * range engine, pt_init's recount). */
static inline __attribute__((always_inline)) void count_set(pte_t *t, unsigned n)
{
    pte_t e = pte_get(t, 0) & ~PT_COUNT_MASK;
    pt_cur->pte_writes++;
    entry_store(t, 0, e | count_bits(n));
}

/* What a write does to the table's count of present entries. */
enum count_change {
    COUNT_REMOVED = -1, /* a present entry becomes not present */
    COUNT_KEPT = 0,     /* the caller stores the count itself, or it stays */
    COUNT_ADDED = 1,    /* a not-present entry becomes present */
};

/* Entry 0's value e0 with its count changed by change (+1 or -1) to n.
 * While the low part neither overflows nor borrows (n's low part stays
 * within 0..PT_COUNT_LO_ONES) that is one add to the low field, the
 * common case of every map and unmap; else the general form. The result
 * is the same either way: each part masked to its width. */
static inline __attribute__((always_inline)) pte_t count_step(pte_t e0, enum count_change change,
                                                              unsigned n)
{
    unsigned lo = (unsigned)((e0 >> PT_COUNT_LO_SHIFT) & PT_COUNT_LO_ONES);
    if (change == COUNT_ADDED ? lo != PT_COUNT_LO_ONES : lo != 0)
        return change == COUNT_ADDED ? e0 + (1ULL << PT_COUNT_LO_SHIFT)
                                     : e0 - (1ULL << PT_COUNT_LO_SHIFT);
    return (e0 & ~PT_COUNT_MASK) | count_bits(n);
}

/*
 * THE writer of a page-table entry: every entry the core changes goes
 * through here, or through pte_write_uncounted or pte_write_run below,
 * its forms for a loop and for a run of an inactive table (Hafnium's
 * mm_replace_entry has the same role). Stores v in t[i] and applies
 * `change` to the table's count. In entry 0 the count bits
 * (PT_COUNT_MASK) are kept (adjusted by change) whatever v holds there,
 * so no write can lose a table's count and no caller has to put it back;
 * there the entry and its count are one store. Returns the count
 * after the write unless change is COUNT_KEPT. Counted; does not
 * invalidate: the caller follows the TLB rule (tlb_policy.c).
 */
static inline __attribute__((always_inline)) unsigned
pte_write(pte_t *t, unsigned i, pte_t v, enum count_change change)
{
    pt_cur->pte_writes++;
    if (__builtin_expect(i != 0, 1)) {
        entry_store(t, i, v);
        if (change == COUNT_KEPT)
            return 0;
        pte_t e0 = pte_get(t, 0);
        unsigned n = count_of(e0) + (unsigned)change;
        pt_cur->pte_writes++;
        entry_store(t, 0, count_step(e0, change, n));
        return n;
    }
    if (change == COUNT_KEPT) { /* a read-modify-write, counted as the write */
        entry_store(t, 0, (v & ~PT_COUNT_MASK) | (entry_load(t, 0) & PT_COUNT_MASK));
        return 0;
    }
    unsigned n = count_get(t) + (unsigned)change;
    entry_store(t, 0, (v & ~PT_COUNT_MASK) | count_bits(n));
    return n;
}

/* pte_write(t, i, v, COUNT_KEPT) for an entry that is not entry 0 (so
 * no count lives in it), not counted: for a loop over many entries that
 * adds its writes to pt_cur once (pt_clone.c's copy, fork's per-page
 * cost, where one counter increment per page is a tenth of the loop). */
static inline __attribute__((always_inline)) void pte_write_uncounted(pte_t *t, unsigned i, pte_t v)
{
    entry_store(t, i, v);
}

/* n entries from `from` into t[i, i + n), i > 0 (entry 0 holds the
 * count), in one string move (REP MOVSQ after CLD, so forward). Each
 * aligned quadword it stores is atomic, but the stores of one string
 * operation may become visible out of order (SDM Vol. 1 7.3.9.3, Vol. 3A
 * 9.2.4), so this is only for a table no walk can read meanwhile: one of
 * an inactive space (one CPU; rule 6 of tlb_policy.c). Counted as n. */
static inline __attribute__((always_inline)) void pte_write_run(pte_t *t, unsigned i,
                                                                 const pte_t *from, unsigned n)
{
    pte_t *d = t + i;
    unsigned long k = n;
    pt_cur->pte_writes += n;
    __asm__ volatile("cld; rep movsq" : "+D"(d), "+S"(from), "+c"(k) : : "memory");
}

/* ---- decoding entries ---- */

static inline bool pte_present(pte_t e) { return e & PTE_P; }

/* Nothing uses the entry: neither present nor a swap entry (include/
 * pte.h). The core writes no other non-zero not-present entry, and a
 * swap entry always has PTE_SWAP, so one test at any level, entry 0's
 * count bits (9-11, 52-58) included or not: what a new leaf needs. */
static inline bool pte_empty(pte_t e) { return !(e & (PTE_P | PTE_SWAP)); }

/* Level-aware: bit 7 is PS at levels 3 and 2, PAT at level 1 (SDM 4.5.4). */
static inline bool pte_is_leaf(pte_t e, unsigned level)
{
    return level == 1 || ((level == 2 || level == 3) && (e & PTE_PS));
}

/* Frame or table address of a present entry, decoded for its level. */
static inline paddr_t pte_addr(pte_t e, unsigned level)
{
    if (level == 3 && (e & PTE_PS))
        return paddr(e & PTE_ADDR_MASK_1G);
    if (level == 2 && (e & PTE_PS))
        return paddr(e & PTE_ADDR_MASK_2M);
    return paddr(e & PTE_ADDR_MASK);
}

/* Hardware bits of a leaf for prot: the one place the two vocabularies
 * meet. Without NX, bit 63 is reserved (SDM 4.5.4) and stays clear.
 * Branch-free, on every map's path: each PT_PROT_* bit is shifted to its
 * PTE bit (the asserts pin the distances), NOCACHE sets PCD and the PWT
 * just below it, NX is set unless EXEC is given and the CPU has NX. */
_Static_assert(PT_PROT_WRITE << (PTE_W_BIT - 0) == PTE_W && PT_PROT_USER == PTE_U &&
               (uint64_t)PT_PROT_GLOBAL << (PTE_G_BIT - 3) == PTE_G &&
               PT_PROT_NOCACHE == PTE_PCD && PTE_PCD >> 1 == PTE_PWT &&
               (uint64_t)PT_PROT_EXEC << (PTE_NX_BIT - 1) == PTE_NX,
               "prot_to_pte's shifts");
static inline pte_t prot_to_pte(uint32_t prot)
{
    pte_t p = prot;
    pte_t nx = (pte_t)pt_cfg.nx << PTE_NX_BIT;
    return PTE_P | (p & PT_PROT_WRITE) << (PTE_W_BIT - 0) | (p & PT_PROT_USER) |
           (p & PT_PROT_GLOBAL) << (PTE_G_BIT - 3) | (p & PT_PROT_NOCACHE) |
           (p & PT_PROT_NOCACHE) >> 1 | (nx & ~((p & PT_PROT_EXEC) << (PTE_NX_BIT - 1)));
}

static inline pte_t leaf_bits(uint32_t prot, unsigned level)
{
    return prot_to_pte(prot) | (level > 1 ? PTE_PS : 0);
}

/* New leaf value: prot's bits replace PROT_PTE_BITS, the rest (address,
 * PS, PAT, A, D) stays. */
static inline pte_t leaf_reprot(pte_t e, pte_t bits)
{
    return (e & ~PROT_PTE_BITS) | (bits & PROT_PTE_BITS);
}

/* Effective permissions, accumulated from level 4 down (SDM 4.6.1:
 * writable/user need every level, execute-disable from any level). */
struct perm {
    bool w, u, nx;
};

static inline void perm_add(struct perm *p, pte_t e)
{
    p->w = p->w && (e & PTE_W);
    p->u = p->u && (e & PTE_U);
    p->nx = p->nx || (pt_cfg.nx && (e & PTE_NX));
}

static inline uint32_t perm_prot(const struct perm *p, pte_t leaf)
{
    uint32_t prot = 0;
    if (p->w)
        prot |= PT_PROT_WRITE;
    if (p->u)
        prot |= PT_PROT_USER;
    if (!p->nx)
        prot |= PT_PROT_EXEC;
    if (leaf & PTE_G)
        prot |= PT_PROT_GLOBAL;
    if (leaf & PTE_PCD)
        prot |= PT_PROT_NOCACHE;
    return prot;
}

static inline uint64_t span_of(unsigned level) { return PT_LEVEL_SPAN(level); }

/* The first address entry i of a level-`level` table at base translates. */
static inline uint64_t entry_va(uint64_t base, unsigned level, unsigned i)
{
    return va_canonicalize(base | ((uint64_t)i << PT_LEVEL_SHIFT(level)));
}

/* ---- tables (pt_walk.c) ---- */

/* Debug builds: the Bochs tour's stop at the first table the core reaches
 * (strategy.h's strategy_tour_stop). Out of line, in pt_walk.c, so that the
 * stop happens once in the kernel, not once per file that walks. */
void pt_tour_table(unsigned level, vaddr_t va, paddr_t frame, pte_t *t);

/* strategy_table_get with the debug hook, not counted: for a caller that
 * counts its visits itself (walk_descend adds them once). */
static inline __attribute__((always_inline)) pte_t *table_reach(unsigned level, vaddr_t va,
                                                                paddr_t frame)
{
    pte_t *t = strategy_table_get(level, va, frame);
    if (PAGELAB_DEBUG_ON)
        pt_tour_table(level, va, frame, t);
    return t;
}

static inline pte_t *table_get(unsigned level, vaddr_t va, paddr_t frame)
{
    pt_cur->table_visits++;
    return table_reach(level, va, frame);
}

/* A frame becomes a table of the hierarchy (pt_init, table_create): the
 * one place strategy_table_get's trust in its frame is earned. Panics if
 * the strategy cannot reach it. */
void table_admit(unsigned level, paddr_t frame);

struct batch;

/* Makes a zeroed level-(level - 1) table from src and links it at
 * parent[index of va] with P|W|link_u, applying `change` to the parent's
 * count (pte_write); the held child in *child. LINK_THEN_ZERO marks the
 * batch full (rule 5). PT_ERR_NO_FRAMES if src has none. */
enum pt_status table_create(pte_t *parent, unsigned level, vaddr_t va, pte_t link_u,
                            enum count_change change, const struct pt_frame_source *src,
                            struct batch *b, pte_t **child, paddr_t *frame);

/* ---- argument checks (pt_walk.c) ---- */

/* The level of a leaf of size bytes, or PT_ERR_BAD_SIZE. */
enum pt_status size_level(uint64_t size, unsigned *level);

/* [va, va + len) canonical, in one half, not wrapping, clear of the
 * strategy's range. */
enum pt_status check_range(vaddr_t va, uint64_t len);

/* The first failing check wins, in this order: prot, canonical va,
 * alignment of va/pa/len, the range, the physical width. */
enum pt_status check_map_args(vaddr_t va, paddr_t pa, uint64_t len, uint64_t align,
                              uint32_t prot);

/* pt_protect_range of the one page at va (mprotect's common case), as
 * the range engine would do it: its checks, then a hole left as it is, a
 * huge leaf refused (it straddles both ends), a 4 KiB leaf re-protected
 * with its invalidation (rule 2). true: done, *st the result; false (a
 * user prot whose path lacks U somewhere above the leaf): nothing
 * changed, the range engine must run. */
bool page_protect_fast(vaddr_t va, uint32_t prot, enum pt_status *st);

/* ---- the walker (pt_walk.c) ---- */

struct walk {
    vaddr_t va;
    unsigned level;                 /* level of `entry` */
    pte_t entry;                    /* tables[level][index of va] */
    pte_t *tables[PT_LEVELS + 1];   /* held: levels PT_LEVELS .. level */
    paddr_t frames[PT_LEVELS + 1];
};

/*
 * Walks va's path down to level `stop`. PT_OK: w->entry is the stop-level
 * entry (present or not, leaf or table). PT_ERR_UNMAPPED: a non-present
 * entry above stop; PT_ERR_HUGE_IN_WAY: a leaf above stop;
 * PT_ERR_PS_AT_L4. w->level/entry say where.
 */
enum pt_status walk_down(struct walk *w, vaddr_t va, unsigned stop);

/*
 * walk_down that makes what is missing: walks the selected space's path of
 * va (the active one's in a shared slot) down to level `stop`, creating
 * each missing table from src (NULL: the strategy's zone), zeroed and
 * linked P|W|link_u as pt_map does, and adding link_u to the existing
 * table entries above stop that lack it (rule 2: va goes into b). PT_OK:
 * w->level == stop, w->entry the stop-level entry (present or not).
 * PT_ERR_NO_FRAMES, PT_ERR_HUGE_IN_WAY (a leaf above stop),
 * PT_ERR_PS_AT_L4: the tables it made are unhooked again and deferred to
 * b (freed by batch_finish), as if it had not run.
 */
enum pt_status walk_make(struct walk *w, vaddr_t va, unsigned stop, pte_t link_u,
                         const struct pt_frame_source *src, struct batch *b);

static inline pte_t *walk_table(struct walk *w) { return w->tables[w->level]; }
static inline unsigned walk_index(struct walk *w) { return PT_INDEX(w->va.va, w->level); }

/* w's entry with entry 0's count bits hidden: the entry as a caller sees
 * it (pt_tr_entry's rule). */
static inline pte_t walk_entry_bare(const struct walk *w)
{
    return PT_INDEX(w->va.va, w->level) ? w->entry : w->entry & ~PT_COUNT_MASK;
}

/* Is w's stop-level entry a present leaf of exactly that level, given
 * walk_down's result st? PT_ERR_NOT_LEAF_OF_SIZE for a bigger leaf above
 * (st PT_ERR_HUGE_IN_WAY) or a table entry there; PT_ERR_UNMAPPED for a
 * not-present entry, a swap entry included. The check the x86_64 crate's
 * update_flags lacks (pt_protect, pt_remap, pt_swap_out). */
static inline enum pt_status leaf_of_size(const struct walk *w, enum pt_status st)
{
    if (st == PT_ERR_HUGE_IN_WAY)
        return PT_ERR_NOT_LEAF_OF_SIZE; /* mapped by a bigger page */
    if (st != PT_OK)
        return st;
    if (!pte_present(w->entry))
        return PT_ERR_UNMAPPED;
    return pte_is_leaf(w->entry, w->level) ? PT_OK : PT_ERR_NOT_LEAF_OF_SIZE;
}

/* After w's entry was cleared, `left` used entries remaining in its table
 * (w->level): frees the tables on w's path that this left empty, bottom
 * up, as pt_unmap does (each unhooked and deferred to b, which
 * invalidates, retires and frees them: rule 4; a pinned shared PDPT
 * stays). Nothing if left > 0. */
void walk_prune(struct walk *w, unsigned left, struct batch *b);

/* ---- the invalidation batch (tlb_policy.c, which states the rule) ---- */

struct deferred_table {
    paddr_t frame;
    vaddr_t va;      /* an address the table translated */
    unsigned level;  /* the table's level */
};

/* What one operation must invalidate and free, carried out by
 * batch_finish before the operation returns. */
struct batch {
    unsigned n_va;
    bool full;       /* past the threshold: one full flush */
    vaddr_t va[PT_FLUSH_THRESHOLD];
    unsigned n_tables;
    struct deferred_table tables[BATCH_TABLES];
    const struct pt_frame_source *src; /* where deferred tables go */
    bool sync;       /* a PDPT was linked in the upper half: pt_space_sync */
};

/* An empty batch; deferred tables go back to src (NULL: the strategy's
 * zone). */
void batch_init(struct batch *b, const struct pt_frame_source *src);

/* Rule 2: va's translation changed or went away. */
void batch_add_va(struct batch *b, vaddr_t va);

/* Rule 4: the level-`level` table at frame, translating va, was just
 * unhooked; it is freed after the invalidation. */
void batch_defer_table(struct batch *b, paddr_t frame, vaddr_t va, unsigned level);

/* Invalidates what was added (rules 2, 3, 5), then retires and frees the
 * deferred tables (rule 4). Leaves the batch empty. */
void batch_finish(struct batch *b);

#endif
