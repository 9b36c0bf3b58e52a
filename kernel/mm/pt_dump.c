/*
 * pt_dump.c - the two page-table listings, both built on pt_visit:
 *   pt_dump_raw     every non-empty entry, level by level, "L4[0] <entry>
 *                   ..." (blog_os prints "L4 Entry 0: ..." the same way;
 *                   the shorter name keeps a line within 80 columns);
 *   pt_dump_ranges  merged "virt-range -> phys-range flags" lines, like
 *                   Bochs's `info tab`.
 * Both name a swapped-out page's entry by its slot ("swapped out, swap
 * slot 12"). Output goes through kprintf. Used by the kernel's
 * experiments and the host tests (which capture kprintf).
 */
#include <stdbool.h>
#include <stddef.h>

#include "console.h"
#include "layout.h"
#include "pt.h"
#include "strategy.h"

/* The hardware bits of one entry, SDM names, for the raw listing. */
static const char *entry_flags(pte_t e, unsigned level, char *buf)
{
    static const struct { pte_t bit; const char *name; } bits[] = {
        { PTE_W, " W" }, { PTE_U, " U" }, { PTE_PWT, " PWT" }, { PTE_PCD, " PCD" },
        { PTE_A, " A" }, { PTE_D, " D" }, { PTE_G, " G" }, { PTE_NX, " NX" },
    };
    char *p = buf;
    for (unsigned i = 0; i < sizeof(bits) / sizeof(bits[0]); i++)
        for (const char *s = (e & bits[i].bit) ? bits[i].name : ""; *s; s++)
            *p++ = *s;
    for (const char *s = (level > 1 && (e & PTE_PS)) ? " PS" : ""; *s; s++)
        *p++ = *s;
    *p = '\0';
    return buf;
}

const char *pt_size_name(uint64_t size)
{
    return size == PAGE_SIZE_1G ? "1G" : size == PAGE_SIZE_2M ? "2M" : "4K";
}

static void raw_line(const struct pt_visit_entry *x, void *ctx)
{
    static const char spaces[] = "      "; /* 2 per level below 4 */
    char flags[48];
    (void)ctx;
    kprintf("%sL%u[%u] 0x%016lx ", spaces + 2 * (x->level - 1), x->level,
            x->index, x->entry);
    if (x->kind == PT_VISIT_TABLE)
        kprintf("table 0x%lx (%u used)", x->phys.pa, x->used);
    else if (x->kind == PT_VISIT_LEAF)
        kprintf("%s page 0x%lx", pt_size_name(x->span), x->phys.pa);
    else if (x->kind == PT_VISIT_RESERVED)
        kprintf("%s's own range", strategy_name());     /* the table is in the entry */
    else if (x->kind == PT_VISIT_BAD)
        kprintf("PS set at level 4 (reserved)");
    else if (x->kind == PT_VISIT_SWAP)
        kprintf("swapped out, swap slot %u", pte_swap_slot(x->entry));
    else
        kprintf("not present");
    /* a swap entry's bits are pagelab's, not the CPU's: its PTE_SWAP is
     * no W (SDM Vol. 3A 4.5.4: with P = 0 the CPU ignores them all) */
    kprintf(" va 0x%016lx%s\n", x->va.va,
            x->kind == PT_VISIT_SWAP ? "" : entry_flags(x->entry, x->level, flags));
}

void pt_dump_raw(int max_level_detail)
{
    unsigned lowest = max_level_detail < 1 ? 1 : (unsigned)max_level_detail;
    pt_visit(lowest, raw_line, NULL);
}

/* A run of leaves that continue each other in both spaces. */
struct run {
    bool open;
    uint64_t va, va_end, pa, pa_end; /* ends exclusive (va_end may wrap to 0) */
    uint32_t prot;
};

static void run_print(struct run *r)
{
    if (!r->open)
        return;
    uint32_t p = r->prot;
    /* 12 hex digits of physical address at least, as Bochs's `info tab`;
     * supervisor pages carry no word, so that a line fits 80 columns */
    kprintf("0x%016lx-0x%016lx -> 0x%012lx-0x%012lx r%c%c%s%s%s\n", r->va,
            r->va_end - 1, r->pa, r->pa_end - 1, (p & PT_PROT_WRITE) ? 'w' : '-',
            (p & PT_PROT_EXEC) ? 'x' : '-', (p & PT_PROT_USER) ? " user" : "",
            (p & PT_PROT_GLOBAL) ? " global" : "", (p & PT_PROT_NOCACHE) ? " uncached" : "");
    r->open = false;
}

static void range_leaf(const struct pt_visit_entry *x, void *ctx)
{
    struct run *r = ctx;
    if (x->kind == PT_VISIT_RESERVED) {
        run_print(r);
        kprintf("0x%016lx-0x%016lx reserved by strategy %s\n", x->va.va,
                x->va.va + (x->span - 1), strategy_name());
        return;
    }
    if (x->kind == PT_VISIT_SWAP) {
        run_print(r);
        kprintf("0x%016lx-0x%016lx swapped out, swap slot %u\n", x->va.va,
                x->va.va + (x->span - 1), pte_swap_slot(x->entry));
        return;
    }
    if (x->kind != PT_VISIT_LEAF)
        return;
    bool joins = r->open && x->va.va == r->va_end && x->phys.pa == r->pa_end &&
                 x->prot == r->prot;
    if (!joins) {
        run_print(r);
        r->open = true;
        r->va = x->va.va;
        r->pa = x->phys.pa;
        r->prot = x->prot;
    }
    r->va_end = x->va.va + x->span;
    r->pa_end = x->phys.pa + x->span;
}

void pt_dump_ranges(void)
{
    struct run r = { .open = false };
    pt_visit(1, range_leaf, &r);
    run_print(&r);
}
