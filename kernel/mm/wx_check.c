/*
 * wx_check.c - no page writable and executable (see wx_check.h).
 *
 * Leaves come from pt_visit, which does not descend into the strategy's
 * own range. There the entry that covers the range is checked first: if it
 * already rules out W+X (not writable, or NX) nothing below can be W+X;
 * otherwise (the offset window's table links, the temporary slots' table)
 * the range is walked leaf by leaf with pt_translate, skipping each hole
 * by the span of the entry that ended the walk. Without NX every writable
 * leaf counts as writable+executable, but none is listed and the
 * strategy's range is not walked: there is nothing to enforce.
 */
#include <stdint.h>
#include "wx_check.h"
#include "console.h"
#include "pt.h"

#define WX_REPORT_MAX 8
#define WX_BOTH (PT_PROT_WRITE | PT_PROT_EXEC)

struct wx_tally {
    int nx;                 /* the CPU has NX: W^X can be enforced */
    uint64_t leaves;
    uint64_t wx;            /* writable and executable leaves */
    uint64_t nx_entries;    /* present entries with bit 63 set */
};

static void wx_leaf(struct wx_tally *t, uint64_t va, uint64_t size, uint32_t prot)
{
    t->leaves++;
    if ((prot & WX_BOTH) != WX_BOTH)
        return;
    if (t->wx++ < WX_REPORT_MAX && t->nx)
        kprintf("W^X: 0x%016llx (%llu KiB page, %s) is writable and executable\n",
                (unsigned long long)va, (unsigned long long)(size >> 10),
                (prot & PT_PROT_USER) ? "user" : "kernel");
}

/* The leaves of [base, base + span) found by translation. */
static void wx_translate_range(struct wx_tally *t, uint64_t base, uint64_t span)
{
    for (uint64_t off = 0; off < span;) {
        uint64_t va = base + off, mask;
        struct pt_translation tr;
        enum pt_status st = pt_translate(vaddr(va), &tr);
        if (st == PT_OK) {
            wx_leaf(t, va, pt_tr_page_size(&tr), pt_tr_prot(&tr));
            mask = pt_tr_page_size(&tr) - 1;
        } else {
            mask = PT_LEVEL_SPAN(st == PT_ERR_UNMAPPED ? tr.level : PT_LEVELS) - 1;
        }
        off = ((va | mask) + 1) - base;  /* modulo 2^64: span at the top of memory */
    }
}

static void wx_visit(const struct pt_visit_entry *x, void *ctx)
{
    struct wx_tally *t = ctx;
    if (x->kind != PT_VISIT_NOT_PRESENT && (x->entry & PTE_NX))
        t->nx_entries++;
    if (x->kind == PT_VISIT_LEAF)
        wx_leaf(t, x->va.va, x->span, x->prot);
    else if (x->kind == PT_VISIT_RESERVED && t->nx && (x->prot & WX_BOTH) == WX_BOTH)
        wx_translate_range(t, x->va.va, x->span);
}

uint64_t wx_check(const struct boot_info *bi)
{
    struct wx_tally t = { BOOT_CPU_HAS(bi, CPU_NX), 0, 0, 0 };
    pt_visit(1, wx_visit, &t);
    kprintf("W^X: %llu leaves checked, %llu writable+executable", (unsigned long long)t.leaves,
            (unsigned long long)t.wx);
    if (!t.nx)
        kprintf(" (no NX on this CPU: W^X cannot be enforced); %llu present entries with "
                "bit 63 set", (unsigned long long)t.nx_entries);
    kprintf("\n");
    return t.wx;
}
