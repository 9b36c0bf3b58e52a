/*
 * strategy_temporary.c - page-table frames are mapped only while the core
 * uses them, through slots: the entries of one identity-mapped level-1
 * table (boot_info->temp_l1_phys) that translate TEMP_SLOTS_BASE +
 * n * PAGE_SIZE.
 *
 * One slot per level (slot n for level n; slot 0 stays unused), as the
 * core holds at most one table per level. A slot keeps its frame until
 * its level needs another: the next walk of the same path finds it mapped and costs neither a
 * write nor an invlpg (Linux's kmap_local discipline, without the unmap).
 * TLB (the rule in tlb_policy.c): filling an empty slot needs no flush (rule 1);
 * pointing a used slot at another frame needs an invlpg of the slot
 * (rule 2; SerenityOS #3885 is what skipping it costs); a retired table's
 * slot is cleared and invalidated before the frame is freed (rule 4).
 */
#include "console.h"
#include "layout.h"
#include "phys_window.h"
#include "pmm.h"
#include "strategy.h"
#include "strategy_temporary.h"
#include "tlb.h"

static volatile pte_t *slot_table;   /* the slot PT, identity-mapped (cpu_ptr) */
static uint64_t held[PT_LEVELS + 1]; /* frame in each level's slot; 0 = empty */
static pte_t slot_bits;              /* P|W, NX if the CPU has it */
static uint64_t slot_table_phys;     /* = its virtual address in the kernel */

vaddr_t temporary_slot_addr(unsigned level)
{
    return vaddr(TEMP_SLOTS_BASE + (uint64_t)level * PAGE_SIZE);
}

enum pt_status strategy_init(const struct boot_info *bi)
{
    if (bi->strategy != STRATEGY_TEMPORARY || bi->temp_l1_phys == 0)
        return PT_ERR_BOOT_INFO;
    /* The loader maps the slot table at virtual = physical. */
    slot_table = cpu_ptr(vaddr(bi->temp_l1_phys));
    slot_table_phys = bi->temp_l1_phys;
    slot_bits = PTE_P | PTE_W;
    if (BOOT_CPU_HAS(bi, CPU_NX))
        slot_bits |= PTE_NX;
    for (unsigned l = 0; l <= PT_LEVELS; l++)
        held[l] = 0;
    return phys_window_drop(bi);
}

const char *strategy_name(void) { return "temporary"; }

struct pt_region strategy_reserved(void)
{
    struct pt_region r = { vaddr(TEMP_SLOTS_BASE), (uint64_t)TEMP_SLOT_COUNT * PAGE_SIZE };
    return r;
}

enum strategy_link_order strategy_link_order(void) { return STRATEGY_ZERO_THEN_LINK; }

/* Any frame can be put in a slot. */
bool strategy_table_reachable(paddr_t frame)
{
    return frame.pa != 0;
}

/* invalidate: how the slot's old translation goes and whom it is counted
 * against (pt_invlpg: the current operation; pt_invlpg_translate). The
 * slot is reached through cpu_ptr: a cast in the kernel; on the host, a
 * walk of the simulated tables through a simulated TLB, so a missing
 * invlpg shows there as the old frame. */
static pte_t *slot_get(unsigned level, paddr_t frame, void (*invalidate)(vaddr_t))
{
    vaddr_t slot = temporary_slot_addr(level);
    if (level < 1 || level > PT_LEVELS || frame.pa == 0)
        kpanic("strategy_table_get: level %u frame 0x%lx", level, frame.pa);
    if (held[level] == frame.pa)
        return cpu_ptr(slot); /* still mapped: free */
    uint64_t old = held[level];
    slot_table[level] = frame.pa | slot_bits;
    held[level] = frame.pa;
    if (old != 0)
        invalidate(slot); /* rule 2: the slot pointed elsewhere */
    return cpu_ptr(slot);
}

pte_t *strategy_table_get(unsigned level, vaddr_t va, paddr_t frame)
{
    (void)va;
    return slot_get(level, frame, pt_invlpg);
}

/* The slot stays mapped until its level needs another frame. */
pte_t *strategy_entry_get(unsigned level, vaddr_t va, paddr_t frame)
{
    return slot_get(level, frame, pt_invlpg_translate) + PT_INDEX(va.va, level);
}

const char strategy_tour_stop[] = "first page-table frame reached: temporary, through a slot";

/* The first get fills an empty slot (held[] starts at 0), hence "no
 * invlpg". The slot table's entry is named by its loader (physical =
 * virtual) address, not by the cpu_ptr pointer, which differs on the host. */
void strategy_tour_look(unsigned level, vaddr_t va, paddr_t frame, const pte_t *table)
{
    (void)va;
    (void)table;
    uint64_t slot = temporary_slot_addr(level).va;
    kprintf("slot %u at 0x%lx now maps the level-%u table at physical 0x%lx; its"
            " entry is `xp /gx %p` in the slot table (no invlpg: the slot was"
            " empty)\n  look: `page 0x%lx` -> 0x%lx; `x /4gx 0x%lx` shows what"
            " `xp /4gx 0x%lx` shows",
            level, slot, level, frame.pa, (void *)(uintptr_t)(slot_table_phys + level * sizeof(pte_t)),
            slot, frame.pa, slot, frame.pa);
}

enum pmm_zone strategy_table_zone(void) { return PMM_ZONE_GENERAL; }

/* A freed frame must not stay writable through a slot (rule 4). */
void strategy_table_retire(unsigned level, vaddr_t va, paddr_t frame)
{
    (void)va;
    if (level > PT_LEVELS || held[level] != frame.pa)
        return;
    slot_table[level] = 0;
    held[level] = 0;
    pt_invlpg(temporary_slot_addr(level));
}

/* What each level's slot holds when the kernel stops (unmapped if empty). */
unsigned strategy_addresses(struct strategy_address *out, unsigned cap)
{
    static const char *const names[PT_LEVELS + 1] = {
        "", "temporary slot 1 (a PT)", "temporary slot 2 (a PD)", "temporary slot 3 (a PDPT)",
        "temporary slot 4 (the PML4)",
    };
    unsigned n = 0;
    for (unsigned l = PT_LEVELS; l >= 1 && n < cap; l--)
        out[n++] = (struct strategy_address){ names[l], temporary_slot_addr(l) };
    return n;
}

/* No view of every frame: kmap.c maps the ones it needs. */
void *strategy_frame_view(paddr_t frame)
{
    (void)frame;
    return 0;
}
