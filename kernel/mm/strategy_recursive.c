/*
 * strategy_recursive.c - PML4 entry RECURSIVE_INDEX points at the PML4
 * itself, so walking through it k times turns the hierarchy into data:
 * every table on a path appears at an address computed from the path
 * (recursive_table_addr, strategy_recursive.h), and no frame needs a
 * mapping of its own.
 *
 * The price: a table is reachable only once it is linked (the core links,
 * zeroes, then flushes: STRATEGY_LINK_THEN_ZERO and rule 5 in
 * tlb_policy.c), and 512 GiB of virtual space go to the window.
 *
 * Only the active hierarchy is reachable through PML4[RECURSIVE_INDEX]:
 * the blog's "hard case", the reason rcore dropped recursive mapping for
 * fork. pagelab reaches an inactive hierarchy through a second slot of
 * the active PML4, RECURSIVE_ALT_INDEX (A), pointed at the other PML4 T:
 * going round the recursive entry R L-1 times and then through A lands in
 * T's tree one level higher each time, so T's level-L table on va's path
 * is at (R ... R, A, va's top indices) with A in index field L from the
 * top: T itself at (R, R, R, A), its PT at (A, i4, i3, i2). Every
 * translation through A (all of them non-global) goes stale when A is
 * pointed elsewhere, so changing it costs one MOV to CR3 of its own value
 * (tlb_flush_nonglobal, counted as a full flush). A is pointed when T is
 * selected (strategy_space_selected): the core then walks only CR3's tree
 * (the shared slots) and T's, and translate takes its per-tree prefixes
 * from memory without a test. Edits of T itself need
 * no invalidation (rule 6), but a table of T retired from the tree leaves
 * its A-window address in the TLB, and strategy_table_retire invalidates
 * it as it does for the active tree. A retired table leaves a 4 KiB
 * translation of its window address in the TLB: it is invalidated before the frame is freed (the
 * x86_64 crate's RecursivePageTable never does). RECURSIVE_INDEX is 510,
 * not 511: at 511 the window's last page is 0xFFFFFFFFFFFFF000 and end
 * pointers overflow (x86_64 #424).
 */
#include "console.h"
#include "strategy_recursive.h"
#include "layout.h"
#include "phys_window.h"
#include "pmm.h"
#include "strategy.h"
#include "tlb.h"

/* Index bits 47:12 of a virtual address. */
#define VA_INDEX_BITS 0x0000FFFFFFFFF000ULL

/*
 * The level-L table on va's path (strategy_recursive.h): go round the
 * recursive entry L times, then follow va's top indices; each loop stops
 * the walk one level higher, so the table is read as the final 4 KiB page. Level 1 (PT):
 * r, i4, i3, i2; level 3 (PDPT): r, r, r, i4; level 4: r, r, r, r.
 */
/* The prefix: RECURSIVE_INDEX in the top `level` index fields, the last
 * of them `last` (RECURSIVE_INDEX for the active tree, RECURSIVE_ALT_INDEX
 * for the one A points at). Constant per level and tree, folded by the
 * compiler once the walk is unrolled. */
static inline uint64_t prefix_of(unsigned level, unsigned last)
{
    uint64_t prefix = 0;
    for (unsigned k = 0; k + 1 < level; k++)
        prefix |= (uint64_t)RECURSIVE_INDEX << PT_LEVEL_SHIFT(PT_LEVELS - k);
    return prefix | (uint64_t)last << PT_LEVEL_SHIFT(PT_LEVELS + 1 - level);
}

static inline vaddr_t table_addr(unsigned level, vaddr_t va, unsigned last)
{
    uint64_t a = ((va.va & VA_INDEX_BITS) >> (9 * level)) & VA_INDEX_BITS;
    return vaddr(va_canonicalize(prefix_of(level, last) | a));
}

vaddr_t recursive_table_addr(unsigned level, vaddr_t va)
{
    return table_addr(level, va, RECURSIVE_INDEX);
}

/* The PML4 CR3 holds (from strategy_init, which runs before anything
 * walks, and strategy_space_activated); what its entry A points at (0:
 * nothing); and whether the walk in progress is in that tree (set by its
 * level-4 get). */
static paddr_t active_root;
static paddr_t alt_root;
/* XD on R and A as stage2 writes R (stage2/paging.c): through either slot
 * the tables are data, and an entry read as a leaf keeps its W, so
 * without XD every table would be a writable, executable page (the W^X
 * walks see them; SDM Vol. 3A 4.6.1: XD at any level forbids fetches). */
static pte_t slot_nx;
static bool via_alt;
/* Whether the selected space (translate's root) is not the active one:
 * kept by strategy_space_selected, so translate's first step tests one
 * flag instead of comparing two roots. */
static bool edit_alt;
static paddr_t edit_root;

static pte_t *active_pml4(void)
{
    return (pte_t *)(uintptr_t)recursive_table_addr(PT_LEVELS, vaddr(0)).va;
}

/* Points A at root, or leaves it when it already does. */
static void alt_point(paddr_t root)
{
    if (alt_root.pa == root.pa)
        return;
    pt_root_slot_write(active_pml4(), RECURSIVE_ALT_INDEX, root.pa | PTE_TABLE_LINK | slot_nx);
    alt_root = root;
    pt_flush_nonglobal();
}

/* A walk's root: the active tree's or the selected one's, which A points
 * at whenever it is not the active one (strategy_space_selected); the core
 * walks no other (pt.h: shared slots from the active PML4, the rest from
 * the selected one). */
static __attribute__((noinline, cold)) void walk_root_bad(paddr_t root)
{
    kpanic("recursive: a walk from PML4 0x%lx, neither CR3's (0x%lx) nor the selected"
           " space's (0x%lx)", root.pa, active_root.pa, alt_root.pa);
}

/* Inlined into every walk's first get: the panic stays out of line. */
static inline void walk_root(paddr_t root)
{
    via_alt = root.pa != active_root.pa;
    if (__builtin_expect(via_alt, 0) && root.pa != alt_root.pa)
        walk_root_bad(root);
}

/* translate's prefixes (strategy_entry_get), level by level, for the
 * selected space: loaded from here rather than built as immediates, which
 * costs translate nothing (a load instead of a 64-bit immediate move) and
 * spares it a test of which tree it walks. */
static uint64_t tr_prefix[PT_LEVELS + 1];

static void tr_prefix_set(unsigned last)
{
    for (unsigned l = 1; l <= PT_LEVELS; l++)
        tr_prefix[l] = table_addr(l, vaddr(0), last).va;
}

/* The level-L entry on va's path in one step: the table address above
 * plus PT_INDEX(va, L) * 8, which is (va >> 9L) & 0xFF8, so both come
 * from the same shift: prefix | ((va >> 9L) & mask). */
static inline pte_t *entry_in(unsigned level, vaddr_t va, unsigned last)
{
    uint64_t prefix = table_addr(level, vaddr(0), last).va;
    uint64_t mask = (VA_INDEX_BITS >> (9 * level)) & (VA_INDEX_BITS | 0xFF8);
    /* + rather than |: the bits do not overlap, and a sum folds into the
     * load's addressing mode */
    return (pte_t *)(uintptr_t)(prefix + ((va.va >> (9 * level)) & mask));
}

static inline pte_t *entry_at(unsigned level, vaddr_t va)
{
    return via_alt ? entry_in(level, va, RECURSIVE_ALT_INDEX)
                   : entry_in(level, va, RECURSIVE_INDEX);
}

/* Each tree's table prefixes by level ([0]: the active tree, [1]: the one
 * A points at), canonical; filled by strategy_init. A get whose level is
 * known only at run time (the core's walks that are not unrolled) is then
 * one load, not prefix_of's loop, and the walker's get stays small enough
 * to be inlined. va's part never reaches bit 47 (it is va's bits 47:12
 * shifted down by 9 * level), so OR-ing it keeps the address canonical. */
static uint64_t walk_prefix[2][PT_LEVELS + 1];

static inline pte_t *table_at(unsigned level, vaddr_t va)
{
    uint64_t a = ((va.va & VA_INDEX_BITS) >> (9 * level)) & VA_INDEX_BITS;
    return (pte_t *)(uintptr_t)(walk_prefix[via_alt][level] | a);
}

enum pt_status strategy_init(const struct boot_info *bi)
{
    if (bi->strategy != STRATEGY_RECURSIVE)
        return PT_ERR_BOOT_INFO;
    active_root = cpu_read_cr3();
    for (unsigned l = 1; l <= PT_LEVELS; l++) {
        walk_prefix[0][l] = table_addr(l, vaddr(0), RECURSIVE_INDEX).va;
        walk_prefix[1][l] = table_addr(l, vaddr(0), RECURSIVE_ALT_INDEX).va;
    }
    tr_prefix_set(RECURSIVE_INDEX);
    slot_nx = BOOT_CPU_HAS(bi, CPU_NX) ? PTE_NX : 0;     /* stage2 set EFER.NXE then */
    pte_t self = table_at(PT_LEVELS, vaddr(0))[RECURSIVE_INDEX];
    if (!(self & PTE_P) || (self & PTE_ADDR_MASK) != cpu_read_cr3().pa)
        return PT_ERR_BOOT_INFO;
    return phys_window_drop(bi);
}

const char *strategy_name(void) { return "recursive"; }

/* Both slots: the second (A, just below) and the recursive one. */
struct pt_region strategy_reserved(void)
{
    struct pt_region r = { table_addr(1, vaddr(0), RECURSIVE_ALT_INDEX),
                           2 * PT_LEVEL_SPAN(PT_LEVELS) };
    return r;
}

enum strategy_link_order strategy_link_order(void) { return STRATEGY_LINK_THEN_ZERO; }

/* Any frame linked into the hierarchy appears in the recursive window. */
bool strategy_table_reachable(paddr_t frame)
{
    (void)frame;
    return true;
}

/* The address comes from va alone. frame is not checked here: checking
 * means reading the parent entry a second time through the recursive
 * window, which doubled the cost of every walk; the in-guest suite and the
 * QEMU/Bochs oracles check that the recursive addresses reach the tables
 * the entries name. */
pte_t *strategy_table_get(unsigned level, vaddr_t va, paddr_t frame)
{
    if (level == PT_LEVELS)
        walk_root(frame);
    return table_at(level, va);
}

const char strategy_tour_stop[] = "first page-table frame reached: recursive, by its address";

void strategy_tour_look(unsigned level, vaddr_t va, paddr_t frame, const pte_t *table)
{
    kprintf("the level-%u table on the path of 0x%lx is at %p: PML4[%u] taken"
            " %u times, then the path's top indices\n  look: `page %p` loops"
            " through PML4[%u] and ends on 0x%lx; `x /4gx %p` shows what"
            " `xp /4gx 0x%lx` shows",
            level, va.va, (const void *)table, RECURSIVE_INDEX, level, (const void *)table,
            RECURSIVE_INDEX, frame.pa, (const void *)table, frame.pa);
}

/* Only pt_translate asks, and its root is always the selected space's,
 * whose tree the prefixes already name (tr_prefix). */
pte_t *strategy_entry_get(unsigned level, vaddr_t va, paddr_t frame)
{
    (void)frame;
    uint64_t mask = (VA_INDEX_BITS >> (9 * level)) & (VA_INDEX_BITS | 0xFF8);
    return (pte_t *)(uintptr_t)(tr_prefix[level] + ((va.va >> (9 * level)) & mask));
}

enum pmm_zone strategy_table_zone(void) { return PMM_ZONE_GENERAL; }

/* Rule 4: the window address of the table was a 4 KiB translation through
 * the parent entry just cleared; the core's invlpg covered another page. */
void strategy_table_retire(unsigned level, vaddr_t va, paddr_t frame)
{
    if (level == PT_LEVELS && via_alt && frame.pa == alt_root.pa) {
        /* the other tree's PML4 goes: A must not point at a freed frame */
        pt_root_slot_write(active_pml4(), RECURSIVE_ALT_INDEX, 0);
        alt_root = paddr(0);
        pt_flush_nonglobal();
        return;
    }
    pt_invlpg(vaddr((uint64_t)(uintptr_t)table_at(level, va)));
}

/* ---- address spaces ---- */

/* R and A are each space's own: R points at the space's PML4, A at
 * whatever that space's walks need. */
bool strategy_root_entry_shared(unsigned index)
{
    return index != RECURSIVE_INDEX && index != RECURSIVE_ALT_INDEX;
}

void strategy_space_init(pte_t *pml4, paddr_t root)
{
    pt_root_slot_write(pml4, RECURSIVE_INDEX, root.pa | PTE_TABLE_LINK | slot_nx); /* not user */
    pt_root_slot_write(pml4, RECURSIVE_ALT_INDEX, 0);
}

/* The new active PML4's A may point anywhere from its last time: clear it
 * (no flush: the CR3 write just dropped every translation through it). */
/* A selected space that is not the active one is reached through A from
 * now on: pointed there at once, so that neither translate nor the walks
 * need to check. */
void strategy_space_selected(paddr_t root)
{
    edit_root = root;
    edit_alt = root.pa != active_root.pa;
    if (edit_alt)
        alt_point(root);
    tr_prefix_set(edit_alt ? RECURSIVE_ALT_INDEX : RECURSIVE_INDEX);
}

void strategy_space_activated(paddr_t root)
{
    active_root = root;
    pt_root_slot_write(active_pml4(), RECURSIVE_ALT_INDEX, 0);
    alt_root = paddr(0);
    via_alt = false;
}

/* The PML4 and the tables on the path of the kernel's own code, each at
 * its recursive address. */
unsigned strategy_addresses(struct strategy_address *out, unsigned cap)
{
    static const char *const names[PT_LEVELS + 1] = {
        "", "recursive: kernel code's PT", "recursive: kernel code's PD",
        "recursive: kernel code's PDPT", "recursive: the PML4",
    };
    vaddr_t code = vaddr((uint64_t)(uintptr_t)strategy_addresses);
    unsigned n = 0;
    for (unsigned l = PT_LEVELS; l >= 1 && n < cap; l--)
        out[n++] = (struct strategy_address){ names[l], recursive_table_addr(l, code) };
    return n;
}

/* No view of every frame: kmap.c maps the ones it needs. */
void *strategy_frame_view(paddr_t frame)
{
    (void)frame;
    return 0;
}
