/*
 * pt.h - the paging core: translate, map, unmap and protect on the active
 * 4-level hierarchy (levels 4 = PML4, 3 = PDPT, 2 = PD, 1 = PT), single
 * pages and ranges, all three page sizes; dumps; operation counters.
 *
 * The core (kernel/mm/pt_walk.c: one path, pt_range.c: ranges,
 * tlb_policy.c: the TLB rule, pt_visit.c: the whole tree; pt_dump.c on
 * top) reaches page-table frames only through kernel/mm/strategy.h (one
 * strategy linked per build) and knows nothing else about them. TLB
 * maintenance follows the single rule written at the top of
 * kernel/mm/tlb_policy.c.
 * Used by the kernel's boot flow, its tests and benchmarks, and the host
 * tests (with the offset strategy over a simulated physical memory).
 *
 * One rule decides "mapped": an entry is in use when its P bit is set.
 * The one exception is pagelab's, not the CPU's: a level-1 entry with P
 * = 0 and PTE_SWAP set names a swapped-out page (include/pte.h; the CPU
 * ignores every other bit of a not-present entry, SDM Vol. 3A 4.5.4). It
 * counts as a used entry of its table, nothing maps over it, and the
 * one-page and range operations on leaves pass it by (below, "what page
 * replacement needs"). The core writes no other non-zero not-present
 * entry.
 */
#ifndef KERNEL_PT_H
#define KERNEL_PT_H

#include <stdint.h>

#include "addr.h"
#include "bootinfo.h"
#include "pte.h"

/* ---- the caller's vocabulary (prot); hardware bits are chosen in one
 * place, prot_to_pte (pt_internal.h) ---- */
#define PT_PROT_READ    0u        /* every mapping is readable */
#define PT_PROT_WRITE   (1u << 0) /* W at the leaf */
#define PT_PROT_EXEC    (1u << 1) /* no NX at the leaf (NX only if the CPU has it) */
#define PT_PROT_USER    (1u << 2) /* U at the leaf (and at every level above) */
#define PT_PROT_GLOBAL  (1u << 3) /* G: survives a CR3 reload when CR4.PGE is on */
#define PT_PROT_NOCACHE (1u << 4) /* PCD|PWT: uncached (PAT entry 3 at reset) */
#define PT_PROT_ALL     0x1Fu

/* ---- range options (opts) ---- */
#define PT_RANGE_4K_ONLY    0u
#define PT_RANGE_ALLOW_HUGE (1u << 0) /* 2 MiB / 1 GiB leaves where aligned */

/* More invalidations than this in one operation: one full flush instead
 * (the TLB rule, tlb_policy.c). */
#define PT_FLUSH_THRESHOLD 32

/* The core's used-entry count in entry 0 of each table: PT_COUNT_* in
 * include/pte.h (gdb's pagewalk decodes it from there too). */
_Static_assert((1u << (PT_COUNT_LO_WIDTH + PT_COUNT_HI_WIDTH)) > PT_ENTRIES,
               "a table's count (0..512) fits its field");

enum pt_status {
    PT_OK = 0,
    PT_ERR_NONCANONICAL,     /* va (or va + len - 1) not canonical */
    PT_ERR_UNMAPPED,         /* no present leaf for va */
    PT_ERR_ALREADY_MAPPED,   /* a present leaf or a swap entry is where the new one goes */
    PT_ERR_HUGE_IN_WAY,      /* a bigger leaf covers (part of) the target */
    PT_ERR_TABLE_IN_WAY,     /* a huge leaf's entry points to a smaller-page table */
    PT_ERR_NO_FRAMES,        /* the frame source had no frame for a table */
    PT_ERR_MISALIGNED,       /* va, pa or len not aligned to the page size */
    PT_ERR_NOT_LEAF_OF_SIZE, /* va is mapped, but not by a leaf of that size */
    PT_ERR_BAD_SIZE,         /* size not 4 KiB / 2 MiB / 1 GiB, or 1 GiB unsupported */
    PT_ERR_BAD_PROT,         /* prot or opts has unknown bits */
    PT_ERR_BAD_PHYS,         /* pa beyond the CPU's physical address width */
    PT_ERR_BAD_RANGE,        /* len zero, the range wraps, or (clone) leaves slots 1-255 */
    PT_ERR_RESERVED_RANGE,   /* touches the strategy's own virtual range */
    PT_ERR_PS_AT_L4,         /* a PML4 entry has PS set (reserved, SDM 4.5.4) */
    PT_ERR_BOOT_INFO,        /* BootInfo lacks what the strategy needs */
    PT_ERR_SPACE_IN_USE,     /* the address space is the kernel's, active or selected */
    PT_STATUS_COUNT
};

/*
 * What pt_translate found: the address asked about, its physical address,
 * and the path of the walk, one entry per level as the CPU read it. The
 * rest (page size, frame, the entry with bookkeeping bits hidden,
 * effective permissions) is derived from the path on demand by the
 * pt_tr_* accessors below, so a caller that wants only pa (most do) does
 * not pay for the others. On PT_ERR_UNMAPPED, level and path[level]
 * describe the non-present entry that ended the walk; on PT_ERR_PS_AT_L4,
 * the offending PML4 entry.
 */
struct pt_translation {
    vaddr_t va;                /* the address translated */
    paddr_t pa;                /* PT_OK only: physical address of va */
    unsigned level;            /* level of the last entry read: 1, 2 or 3
                                  for a leaf (4 KiB, 2 MiB, 1 GiB page) */
    pte_t path[PT_LEVELS + 1]; /* path[L] = the entry read at level L, as
                                  stored, for L = 4 down to level; path[0]
                                  is unused so levels index it directly */
};

/* Bytes the last entry read translates: the page size for a leaf. */
static inline uint64_t pt_tr_page_size(const struct pt_translation *t)
{
    return PT_LEVEL_SPAN(t->level);
}

/* The last entry read, with the core's count bits (entry 0 of each table,
 * see PT_COUNT_MASK) hidden. */
static inline pte_t pt_tr_entry(const struct pt_translation *t)
{
    pte_t e = t->path[t->level];
    return PT_INDEX(t->va.va, t->level) ? e : e & ~PT_COUNT_MASK;
}

/* PT_OK only: the start of the page holding va. */
static inline paddr_t pt_tr_frame(const struct pt_translation *t)
{
    return paddr(ALIGN_DOWN(t->pa.pa, pt_tr_page_size(t)));
}

/* PT_OK only: effective PT_PROT_* of the path (SDM Vol. 3A 4.6.1): WRITE
 * and USER only if every level allows, EXEC unless any level sets NX (and
 * the CPU has NX enabled); GLOBAL and NOCACHE from the leaf. */
uint32_t pt_tr_prot(const struct pt_translation *t);

/* Where new page-table frames come from. NULL means the strategy's own
 * frame-allocator zone (strategy_table_zone). A source must hand out frames the
 * strategy can reach (identity/table-offset: pool frames). Tables freed
 * later by pt_unmap* go to the strategy's allocator; only a failed map
 * gives its frames back to the source it took them from. */
struct pt_frame_source {
    enum pt_status (*alloc)(void *ctx, paddr_t *out); /* PT_OK or PT_ERR_NO_FRAMES */
    void (*free)(void *ctx, paddr_t frame);
    void *ctx;
};

/* A source that never has a frame (blog_os's EmptyFrameAllocator). Its
 * free panics: nothing was ever handed out. */
extern const struct pt_frame_source pt_no_frames;

struct pt_region {
    vaddr_t base;
    uint64_t size;  /* bytes; 0 = none */
};

/* ---- counters for the benchmark (plain increments) ---- */
enum pt_op {
    PT_OP_TRANSLATE = 0,
    PT_OP_MAP,
    PT_OP_UNMAP,
    PT_OP_PROTECT,
    PT_OP_MAP_RANGE,
    PT_OP_UNMAP_RANGE,
    PT_OP_PROTECT_RANGE,
    PT_OP_DUMP,
    PT_OP_CLONE,      /* pt_space_clone */
    PT_OP_REMAP,      /* pt_remap */
    PT_OP_SWAP,       /* pt_entry_get, pt_swap_out, pt_swap_in, pt_swap_clear */
    PT_OP_OTHER,      /* pt_init, pt_root_clear, pt_table_used */
    PT_OP_COUNT
};

struct pt_op_stats {
    uint64_t calls;
    uint64_t pte_reads;
    uint64_t pte_writes;    /* zeroing a new table counts 512 */
    uint64_t table_visits;  /* strategy_table_get calls */
    uint64_t invlpgs;
    uint64_t full_flushes;
    uint64_t tables_allocated;
    uint64_t tables_freed;
};

struct pt_stats {
    struct pt_op_stats op[PT_OP_COUNT];
};

/*
 * Records the CPU's paging features (NX, 1 GiB pages, physical address
 * width) and the strategy's reserved range, makes CR3's hierarchy the
 * kernel's address space (forgetting any other), then writes the used-entry
 * count into every table reachable from CR3 outside that range (the loader
 * does not keep counts). Call after pmm_init and strategy_init, and again
 * after editing tables by hand. Does not flush (only ignored bits change).
 * Returns PT_OK, or PT_ERR_PS_AT_L4 if the hierarchy has one.
 */
enum pt_status pt_init(const struct boot_info *bi);

/*
 * Walks the selected address space's hierarchy for va (pt_space_select:
 * the kernel's unless another is selected). PT_OK fills every field of *out;
 * PT_ERR_NONCANONICAL fills only va; PT_ERR_UNMAPPED and PT_ERR_PS_AT_L4
 * fill all but pa. Never panics, never writes an entry, never flushes.
 */
enum pt_status pt_translate(vaddr_t va, struct pt_translation *out);

/*
 * Maps the page of `size` (PAGE_SIZE, PAGE_SIZE_2M, PAGE_SIZE_1G) at va to
 * pa; both must be aligned to size. Missing tables are taken from src
 * (NULL: the strategy's), zeroed and linked P|W (|U for a user leaf); an
 * existing table entry gains U for a user leaf and is otherwise left as it
 * is (permissions are decided at the leaf). On any error nothing is left
 * behind: tables made by this call are unlinked, invalidated and given
 * back to src. A new leaf needs no flush; adding U to an existing entry
 * costs one invlpg.
 */
enum pt_status pt_map(vaddr_t va, paddr_t pa, uint64_t size, uint32_t prot,
                      const struct pt_frame_source *src);

/*
 * Removes the leaf that starts at va, whatever its size; returns its frame
 * and size (either pointer may be NULL). PT_ERR_MISALIGNED if va is inside
 * a leaf but not at its start; PT_ERR_UNMAPPED for a swap entry (it stays:
 * pt_swap_clear removes it). Order: clear the entry, invlpg, then free
 * every table that became empty (unhook, invalidate, free). Does not free
 * the frame itself (the caller owns it).
 */
enum pt_status pt_unmap(vaddr_t va, paddr_t *frame, uint64_t *size);

/*
 * Replaces the permission bits (W, U, NX, G, PCD/PWT) of the leaf of
 * exactly `size` at va, keeping its address, PAT, A and D bits.
 * PT_ERR_NOT_LEAF_OF_SIZE if va is mapped by a leaf of another size or the
 * entry at that level points to a table. One invlpg.
 */
enum pt_status pt_protect(vaddr_t va, uint64_t size, uint32_t prot);

/*
 * Maps [va, va + len) to [pa, pa + len): va, pa and len 4 KiB aligned.
 * With PT_RANGE_ALLOW_HUGE, 1 GiB (if the CPU has them) and 2 MiB leaves
 * are used wherever va and pa are both aligned and the rest of the range
 * covers the page. Each table on the way is fetched once and its entries
 * written in one loop. Every page must be unmapped before
 * (PT_ERR_ALREADY_MAPPED / _HUGE_IN_WAY / _TABLE_IN_WAY otherwise). On
 * error the part already mapped is unmapped again and its new tables
 * freed (a U bit added to a pre-existing table entry stays: harmless, the
 * leaves below still decide). No flush on success.
 */
enum pt_status pt_map_range(vaddr_t va, paddr_t pa, uint64_t len, uint32_t prot,
                            uint32_t opts, const struct pt_frame_source *src);

/*
 * Removes every leaf inside [va, va + len) (4 KiB aligned); holes are
 * skipped. PT_ERR_HUGE_IN_WAY, before any change, if a huge leaf straddles
 * either end (pagelab does not split huge pages). Invalidation: one invlpg
 * per leaf, or one full flush above PT_FLUSH_THRESHOLD; emptied tables are
 * freed after it. Frames of the leaves are not freed.
 */
enum pt_status pt_unmap_range(vaddr_t va, uint64_t len);

/*
 * pt_protect for every leaf inside [va, va + len), any size; holes are
 * skipped; PT_ERR_HUGE_IN_WAY (no change) if a huge leaf straddles an end.
 * Invalidation as pt_unmap_range; entries whose value does not change are
 * neither written nor invalidated.
 */
enum pt_status pt_protect_range(vaddr_t va, uint64_t len, uint32_t prot);

/* For phys_window_drop (kernel/mm/phys_window.c): clears the n PML4
 * entries from index first through the strategy (entry 0 would keep its
 * count). Counted as PT_OP_OTHER. Does not invalidate and frees nothing:
 * the caller flushes (rule 3) and owns the tables below. Works before
 * pt_init. */
void pt_root_clear(unsigned first, unsigned n);

/* invlpg va, counted in the current operation's stats: for strategies
 * (temporary slot remaps, recursive-window invalidation). */
void pt_invlpg(vaddr_t va);

/* The same from strategy_entry_get, which only pt_translate calls:
 * counted as translate's (translate keeps no current operation: one store
 * less on the hot path). */
void pt_invlpg_translate(vaddr_t va);

/* tlb_flush_all, counted in the current operation's stats: for
 * phys_window_drop (rule 3). */
void pt_flush_all(void);

/* tlb_flush_nonglobal (a MOV to CR3 of its own value), counted as a full
 * flush: for the recursive strategy's second slot. */
void pt_flush_nonglobal(void);

/* For a strategy's own PML4 slots (index >= 256: recursive's self entry
 * and second slot): writes v at pml4[index] through the core's one entry
 * writer, counted. No invalidation: the strategy follows the TLB rule. */
void pt_root_slot_write(pte_t *pml4, unsigned index, pte_t v);

/* Present entries of the level-`level` table on va's path (1..4), or -1 if
 * the walk does not reach such a table. For tests and assertions. */
int pt_table_used(unsigned level, vaddr_t va);

/* One entry seen by pt_visit. */
enum pt_visit_kind {
    PT_VISIT_TABLE = 1,   /* present, points to a table (visited next) */
    PT_VISIT_LEAF,        /* present leaf: 4 KiB, 2 MiB or 1 GiB page */
    PT_VISIT_NOT_PRESENT, /* P = 0 but other bits set, not a swap entry */
    PT_VISIT_RESERVED,    /* covers the strategy's range: not descended */
    PT_VISIT_BAD,         /* PS in a PML4 entry: not descended */
    PT_VISIT_SWAP,        /* level 1, a swapped-out page: pte_swap_slot(entry) */
};

struct pt_visit_entry {
    enum pt_visit_kind kind;
    unsigned level;     /* 4 (PML4) .. 1 (PT) */
    unsigned index;     /* 0..511 in its table */
    vaddr_t va;         /* first address the entry translates */
    uint64_t span;      /* bytes it translates: PT_LEVEL_SPAN(level) */
    pte_t entry;        /* bookkeeping bits hidden */
    paddr_t phys;       /* present: frame or table address, decoded for the level */
    uint32_t prot;      /* effective PT_PROT_* down to this entry */
    unsigned used;      /* TABLE: present entries in the child table */
};

typedef void (*pt_visit_fn)(const struct pt_visit_entry *e, void *ctx);

/* Calls fn for every non-empty entry of levels 4 down to lowest_level, in
 * address order, each table entry before the entries of its table.
 * Counted as PT_OP_DUMP. Reads only. */
void pt_visit(unsigned lowest_level, pt_visit_fn fn, void *ctx);

/* Raw listing, blog_os style: every non-empty entry of levels 4 down to
 * max_level_detail (4 = PML4 only, 1 = everything), one line each,
 * indented by depth. The strategy's reserved range is one summary line. */
void pt_dump_raw(int max_level_detail);

/* Merged listing, Bochs `info tab` style: "virt-range -> phys-range flags"
 * where consecutive leaves continue both ranges with equal effective
 * flags (sizes may differ). */
void pt_dump_ranges(void);

/* ---- address spaces (kernel/mm/pt_space.c) ----
 *
 * An address space is a PML4: user space of its own (PML4 slots 1-255,
 * from USER_BASE) and the kernel's shared slots: slot 0 (the identity map
 * of low memory and the identity strategy's pool, which that strategy
 * reaches only at virtual = physical, include/layout.h) and the upper
 * half. Sharing is by entry: every space's shared PML4 entries are copies
 * of the kernel PML4's, pointing at the same PDPTs, so a kernel mapping
 * made once below them is seen in every space. The core keeps the copies
 * true: shared slots are edited through the active PML4, and a PDPT linked
 * there is copied into every other PML4 (the kernel's and each live
 * space's) when the operation ends (pt_space_sync), and while any space lives no shared
 * PDPT is freed (another PML4 may point at it; Linux keeps them for the
 * same reason). The strategy's own per-space entries (recursive: its self
 * entry) are not copied.
 *
 * Every pt_* operation edits or reads one space: the selected one for
 * slots 1-255 (pt_space_select; the kernel's by default) and the active
 * one for the shared slots. The selected space need not be the active one
 * (CR3): that is how a process is built, forked and torn down, and how
 * each strategy reaches an inactive hierarchy is its own (strategy.h).
 * Edits of an inactive space's lower half need no invalidation (the TLB
 * rule, rule 6).
 */
struct pt_space {
    paddr_t root;             /* its PML4 */
    struct pt_space *next;    /* the core's list of live spaces */
};

/* The kernel's own space: the boot CR3 (pt_init). */
extern struct pt_space pt_kernel_space;

/* A new space: a PML4 from the strategy's zone, lower half empty, upper
 * half the kernel's. PT_ERR_NO_FRAMES (identity, table-offset: the pool is
 * exhausted). Does not select or activate it. */
enum pt_status pt_space_create(struct pt_space *as);

/* Tears down as's lower half: calls leaf(va, frame, size, ctx) for every
 * leaf (the caller owns the frames and frees them there), frees every table
 * of levels 3 to 1 below the lower half and then the PML4, and forgets the
 * space. PT_ERR_SPACE_IN_USE for the kernel's space or one that is active
 * or selected. No invalidation: an inactive space has nothing in the TLB
 * (rule 6); the strategy drops its own view of each table. */
enum pt_status pt_space_destroy(struct pt_space *as,
                                void (*leaf)(vaddr_t va, paddr_t frame, uint64_t size,
                                             void *ctx),
                                void *ctx);

/* A leaf of a space's own slots, as pt_space_next_leaf finds it. */
struct pt_leaf {
    vaddr_t va;        /* the page's first address */
    paddr_t frame;
    uint64_t size;     /* PAGE_SIZE, PAGE_SIZE_2M or PAGE_SIZE_1G */
    uint32_t prot;     /* effective PT_PROT_* (every level's W, U, NX) */
};

/* The first leaf of as's own slots (1-255) that starts at or above from:
 * PT_OK and *out, or PT_ERR_UNMAPPED when there is none. Holds no table
 * when it returns, so the caller may edit another space between two calls
 * (fork's copy does). A leaf that straddles from (a huge page starting
 * below it) is skipped. Reads only; counted as PT_OP_OTHER. */
enum pt_status pt_space_next_leaf(const struct pt_space *as, vaddr_t from, struct pt_leaf *out);

/* The same, for a leaf that also starts below limit: PT_ERR_UNMAPPED as
 * soon as the search passes it, so a range's leaves cost what the range
 * holds, not the distance to the next leaf beyond it (munmap, mprotect). */
enum pt_status pt_space_next_leaf_below(const struct pt_space *as, vaddr_t from, vaddr_t limit,
                                        struct pt_leaf *out);

/* Page-table frames (levels 3 to 1) below as's own slots: what the space
 * costs in tables beyond its PML4. Reads only. */
uint64_t pt_space_tables(const struct pt_space *as);

/* The same by level: n[L] = as's tables of level L, for L = 3 .. 1 those
 * below its own slots (1-255), n[4] = 1 (its PML4; the kernel's shared
 * tables below slot 0 and the upper half are not counted), n[0] = 0. The
 * page-size trade-off's measurement (NOTES.md) reads it. Reads only. */
void pt_space_tables_by_level(const struct pt_space *as, uint64_t n[PT_LEVELS + 1]);

/* The space whose lower half the pt_* operations edit and translate from
 * now on (NULL: the kernel's). Writes nothing. */
void pt_space_select(const struct pt_space *as);
const struct pt_space *pt_space_selected(void);

/* Loads as's PML4 into CR3 (MOV to CR3: drops every non-global TLB entry
 * and the paging-structure caches, SDM Vol. 3A 4.10.4.1). */
void pt_space_activate(const struct pt_space *as);
const struct pt_space *pt_space_active(void);

/* ---- what fork and the fault handler need (kernel/proc/vm.c) ---- */

/* pt_space_clone's options. */
#define PT_CLONE_SHARE 0u         /* leaves copied as they are: shared memory */
#define PT_CLONE_COW   (1u << 0)  /* a writable leaf loses W in src and in dst */

/*
 * Fork's copy of one region: every present 4 KiB leaf and every swap entry
 * of src inside [va, va + len) (4 KiB aligned, inside the lower half's own
 * slots 1-255) is written into dst at the same address with the same frame
 * (or slot) and bits, except that with PT_CLONE_COW a writable leaf loses W
 * in both spaces, so that the first write in either faults (copy-on-write);
 * a swap entry counts as used in dst's table. leaves(leaf, n, ctx) is called
 * once per level-1 table of dst that got leaves or swap entries, after they
 * are written, with n consecutive entries of that table as written, from the
 * range's first entry in it to its last new entry: the present ones are the
 * new leaves (each maps the frame leaf[k] & PTE_ADDR_MASK), swap entries
 * (pte_is_swap) are copied as they are (the caller counts one more reference
 * to each slot), the rest are 0. So the caller counts the new references
 * there, a table at a time (fork's per-page cost is one loop, not a call per
 * page; leaves may be NULL); *copied (may be NULL) is how many leaves in
 * all. dst is not the active space and has nothing mapped in the range; src
 * is the selected space or the active one (any other live space works too;
 * with the recursive strategy it costs a flush per level-1 table, as its
 * second slot then alternates between src and dst). Tables dst needs come
 * from the strategy's zone, and its table entries are P|W, with U if src's
 * level-2 entry has it. The selection is as it was on return. Errors, before
 * any change: PT_ERR_BAD_PROT (unknown opts), PT_ERR_SPACE_IN_USE (dst is
 * the kernel's, the active one, src, or not a live space; src not live),
 * PT_ERR_MISALIGNED, PT_ERR_BAD_RANGE (len 0, or outside slots 1-255),
 * PT_ERR_NONCANONICAL, PT_ERR_ALREADY_MAPPED (dst has a leaf or a swap entry
 * in the range), PT_ERR_HUGE_IN_WAY (a huge leaf of src in the range: user
 * spaces have none). Midway: PT_ERR_NO_FRAMES when a table for dst could not
 * be had: what was done stays done (every leaf written has been reported to
 * leaves(), every W cleared in src stays cleared, which is a correct
 * copy-on-write state), and the caller destroys dst. TLB: nothing for dst
 * (inactive, rule 6); each src leaf that lost W is invalidated if src is
 * active (one invlpg each, or one full flush above PT_FLUSH_THRESHOLD),
 * nothing if src is inactive, all before it returns; recursive adds rule 5's
 * full flush when it made a table for dst. Counted as PT_OP_CLONE. Cost: one
 * pass over each level-1 table of src in the range, entry by entry, with a
 * few loads and stores per leaf, and one write per leaf into dst's table
 * (fork's per-page cost, make bench; kernel/mm/pt_clone.c says why two
 * phases).
 */
enum pt_status pt_space_clone(struct pt_space *dst, const struct pt_space *src, vaddr_t va,
                              uint64_t len, uint32_t opts,
                              void (*leaves)(const pte_t *leaf, unsigned n, void *ctx),
                              void *ctx, uint64_t *copied);

/*
 * Points the 4 KiB leaf at va of the selected space at frame pa with
 * permissions prot (a copy-on-write break, or a zero-page mapping replaced
 * by a private frame), keeping nothing of the old leaf but its place;
 * *old (may be NULL) gets the frame it mapped. One entry write, then one
 * invlpg of va if the selected space is the active one, none otherwise
 * (rule 6): the only translation that changed is that one, in that space.
 * PT_ERR_UNMAPPED (no leaf), PT_ERR_NOT_LEAF_OF_SIZE (a huge leaf),
 * PT_ERR_BAD_PROT, PT_ERR_MISALIGNED, PT_ERR_BAD_PHYS, PT_ERR_RESERVED_RANGE,
 * PT_ERR_NONCANONICAL: nothing changed. No table is allocated or freed.
 * Counted as PT_OP_REMAP.
 */
enum pt_status pt_remap(vaddr_t va, paddr_t pa, uint32_t prot, paddr_t *old);

/* ---- what page replacement needs (kernel/proc/replace.c; issue 15) ----
 *
 * A swapped-out page is a level-1 entry with P = 0 that names its swap
 * slot (include/pte.h, pte_swap_entry). It counts as a used entry of its
 * table, like a leaf: the table stays while it holds one. The first four
 * (kernel/mm/pt_swap.c) work on the selected space, at a 4 KiB page va of
 * the lower half, and change at most one level-1 entry; none allocates a
 * table, and only pt_swap_clear may free tables (those it leaves empty,
 * as pt_unmap does). Counted as PT_OP_SWAP; the last two, which read or
 * tear down a whole space (pt_space.c), as PT_OP_OTHER like their leaf
 * counterparts.
 */

/* The level-1 entry at va, count bits masked (0: empty), in *e. PT_OK, or
 * PT_ERR_UNMAPPED when no level-1 table holds va, PT_ERR_HUGE_IN_WAY when
 * a 2 MiB or 1 GiB leaf does, PT_ERR_MISALIGNED, PT_ERR_NONCANONICAL,
 * PT_ERR_RESERVED_RANGE (*e = 0 on every error). Reads only. */
enum pt_status pt_entry_get(vaddr_t va, pte_t *e);

/* Replaces the present 4 KiB leaf at va with the swap entry `swap`
 * (pte_is_swap(swap), nothing but PTE_SWAP and the slot set: else
 * PT_ERR_BAD_PROT). *old (may be NULL) gets the leaf as it was, A and D
 * included, so the caller knows whether the page was written. The leaf's
 * translation is invalidated if the selected space is the active one (one
 * INVLPG), nothing otherwise (rule 6). PT_ERR_UNMAPPED (no present leaf
 * there; a swap entry there is not one), PT_ERR_NOT_LEAF_OF_SIZE (a huge
 * leaf), PT_ERR_MISALIGNED, PT_ERR_NONCANONICAL, PT_ERR_RESERVED_RANGE:
 * nothing changed. The table's count stays. */
enum pt_status pt_swap_out(vaddr_t va, pte_t swap, pte_t *old);

/* Replaces the swap entry at va with a 4 KiB leaf to pa with prot, A and
 * D clear; *old (may be NULL) gets the swap entry. No invalidation: a
 * not-present entry is never cached (SDM Vol. 3A 4.10.2.3), in any
 * space. As pt_remap, U is not added above the leaf: the path keeps the U
 * the page's first pt_map gave it. PT_ERR_UNMAPPED (no swap entry at va:
 * empty, or no table), PT_ERR_ALREADY_MAPPED (a present leaf, a huge one
 * included), PT_ERR_BAD_PROT, PT_ERR_BAD_PHYS, PT_ERR_MISALIGNED,
 * PT_ERR_NONCANONICAL, PT_ERR_RESERVED_RANGE: nothing changed. The
 * table's count stays. */
enum pt_status pt_swap_in(vaddr_t va, paddr_t pa, uint32_t prot, pte_t *old);

/* Clears the swap entry at va (munmap, exit of a region with swapped-out
 * pages); *old (may be NULL) gets it. The table loses one used entry, and
 * tables left empty are freed as pt_unmap frees them (with its
 * invalidations: one INVLPG if the space is active and a table goes, none
 * otherwise). PT_ERR_UNMAPPED (no swap entry there: a leaf of any size
 * included), and the argument errors above: nothing changed. */
enum pt_status pt_swap_clear(vaddr_t va, pte_t *old);

/* The first swap entry of as's own slots at or above from and below
 * limit: PT_OK with *va and *e, or PT_ERR_UNMAPPED. Holds no table when
 * it returns; reads only. */
enum pt_status pt_space_next_swap_below(const struct pt_space *as, vaddr_t from, vaddr_t limit,
                                        vaddr_t *va, pte_t *e);

/* pt_space_destroy, with swapped(va, entry, ctx) called for every swap
 * entry (the caller drops its slot's reference there); swapped may be
 * NULL only for a space that has none (a swap entry met then is a named
 * panic: a slot would leak). pt_space_destroy(as, leaf, ctx) is
 * pt_space_destroy_swapped(as, leaf, NULL, ctx). */
enum pt_status pt_space_destroy_swapped(struct pt_space *as,
                                        void (*leaf)(vaddr_t va, paddr_t frame, uint64_t size,
                                                     void *ctx),
                                        void (*swapped)(vaddr_t va, pte_t entry, void *ctx),
                                        void *ctx);

/* The present 4 KiB leaf at va of the selected space: *old (may be
 * NULL) gets it as it is (A and D as the CPU left them), then its A is
 * cleared, followed by one INVLPG of va if the space is the active one
 * and A was set (so the next access sets A again: kernel/mm/
 * pt_accessed.c says why), nothing otherwise. PT_ERR_UNMAPPED (no present
 * leaf), PT_ERR_NOT_LEAF_OF_SIZE (a huge leaf), PT_ERR_MISALIGNED,
 * PT_ERR_NONCANONICAL, PT_ERR_RESERVED_RANGE. Counted as PT_OP_SWAP. */
enum pt_status pt_clear_accessed(vaddr_t va, pte_t *old);

/* invlpgs and full flushes executed so far, every operation together:
 * what a caller charges to its own work (the fault handler's per-process
 * counts, kernel/proc/vm.c) without copying the whole struct pt_stats. */
void pt_tlb_counts(uint64_t *invlpgs, uint64_t *flushes);
void pt_stats_get(struct pt_stats *out);
void pt_stats_reset(void);
const char *pt_status_name(enum pt_status status);
/* "4K", "2M" or "1G": a page size as the dumps and the final-translation
 * lines print it (anything but 2 MiB and 1 GiB reads "4K"). */
const char *pt_size_name(uint64_t size);
const char *pt_op_name(enum pt_op op);

#endif
