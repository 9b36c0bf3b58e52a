/*
 * experiments.c - what every strategy's boot shows (see experiments.h).
 */
#include <stdint.h>
#include "experiments.h"
#include "lowmem.h"
#include "console.h"
#include "cpu.h"
#include "pt.h"
#include "variant.h"
#include "strategy.h"
#include "trap.h"
#include "layout.h"
#include "../common/debug.h"
#include "kmain.h"
#include "space_report.h"

#define VGA_FRAME        VGA_TEXT_ADDR
#define DEADBEAF_PAGE    ((unsigned long long)EXPERIMENT_PAGE)
#define NEW_OFFSET_WORDS 400                     /* blog_os writes at page_ptr.offset(400) */
#define NEW_IN_VGA       0xF021F077F065F04EULL   /* "New!" white on red */
#define SURELY_UNMAPPED  0x0000555500000000ULL   /* nothing is ever mapped in this PML4 slot */
#define NON_CANONICAL    0x0000800000000000ULL   /* bit 47 set, 63:48 clear */
#define ORACLE_LINES     320
#define STRATEGY_LINES   8


static void show_translation(const char *what, uint64_t va)
{
    struct pt_translation t;
    enum pt_status st = pt_translate(vaddr(va), &t);
    if (st == PT_OK)
        kprintf("  %-34s 0x%016llx -> 0x%016llx\n", what, (unsigned long long)va,
                (unsigned long long)t.pa.pa);
    else
        kprintf("  %-34s 0x%016llx -> %s\n", what, (unsigned long long)va, pt_status_name(st));
}

static void experiment_page0(void)
{
    kprintf("experiment: map page 0 -> 0x%x with an allocator that has no frames\n", VGA_FRAME);
    enum pt_status st = pt_map(vaddr(0), paddr(VGA_FRAME), PAGE_SIZE, PT_PROT_WRITE,
                               &pt_no_frames);
    kprintf("  pt_map(0x0): %s\n", pt_status_name(st));
    if (st != PT_OK)
        return;
    va_ptr(0)[NEW_OFFSET_WORDS] = NEW_IN_VGA;
    uint64_t seen = va_ptr(VGA_FRAME)[NEW_OFFSET_WORDS];
    kprintf("  wrote \"New!\" via page 0; read back via 0x%x: %s\n", VGA_FRAME,
            seen == NEW_IN_VGA ? "New! (same frame)" : "different (BUG)");
}

/* Page 0 goes back to unmapped once the blog's experiment has shown its
 * point, so that a NULL dereference faults for the rest of the run (and
 * in the final tables tools inspect). One invlpg: a removal (rule 2). */
static void experiment_unmap_page0(void)
{
    paddr_t frame;
    enum pt_status st = pt_unmap(vaddr(0), &frame, 0);
    kprintf("experiment: unmap page 0 again (NULL must fault): %s, it mapped 0x%llx\n",
            pt_status_name(st), (unsigned long long)frame.pa);
}

static void experiment_deadbeaf(void)
{
    kprintf("experiment: map 0x%llx -> 0x%x\n", DEADBEAF_PAGE, VGA_FRAME);
    enum pt_status st = pt_map(vaddr(DEADBEAF_PAGE), paddr(VGA_FRAME), PAGE_SIZE,
                               PT_PROT_WRITE, &pt_no_frames);
    kprintf("  with no frames: %s\n", pt_status_name(st));
    st = pt_map(vaddr(DEADBEAF_PAGE), paddr(VGA_FRAME), PAGE_SIZE, PT_PROT_WRITE, 0);
    kprintf("  with the frame allocator: %s\n", pt_status_name(st));
    if (st != PT_OK)
        return;
    va_ptr(DEADBEAF_PAGE)[NEW_OFFSET_WORDS] = NEW_IN_VGA;
    uint64_t seen = va_ptr(VGA_FRAME)[NEW_OFFSET_WORDS];
    kprintf("  wrote \"New!\" via 0x%llx; read back via 0x%x: %s\n", DEADBEAF_PAGE,
            VGA_FRAME, seen == NEW_IN_VGA ? "New! (same frame)" : "different (BUG)");
}

static void experiment_write_code(void)
{
    volatile uint8_t *code = (volatile uint8_t *)(uintptr_t)kmain;
    kprintf("experiment: write to kernel code at %p\n", (void *)(uintptr_t)code);
    if (!probe_write(code, *code)) {
        kprintf("  the write went through: kernel code is writable (BUG)\n");
        return;
    }
    const struct probe_fault *f = probe_last_fault();
    char why[96];
    pf_decode(f->error_code, why, sizeof(why));
    kprintf("  caught: vector %llu at 0x%llx; boot continues\n", (unsigned long long)f->vector,
            (unsigned long long)f->cr2);
    kprintf("  error code: %s\n", why);
}

void experiments_run(const struct boot_info *bi)
{
    kprintf("page tables (levels 4 and 3):\n");
    pt_dump_raw(3);
    kprintf("translations:\n");
    uint64_t stack_var = 0;
    show_translation("VGA buffer (identity)", VGA_FRAME);
    show_translation("kernel code (kmain)", (uint64_t)(uintptr_t)kmain);
    show_translation("kernel stack", (uint64_t)(uintptr_t)&stack_var);
    show_translation("window base", bi->phys_window_base);
    show_translation("window: highest usable frame", bi->phys_window_base + bi->max_phys - PAGE_SIZE);
    show_translation("surely unmapped", SURELY_UNMAPPED);
    PAGELAB_BREAK("before the example mappings",
                  "`page 0` and `page 0x%llx`: \"physical address not available\"; `info tab`"
                  " starts at 0x1000 (page 0 is left unmapped to catch NULL)",
                  DEADBEAF_PAGE);
    experiment_page0();
    experiment_deadbeaf();
    PAGELAB_BREAK("after the example mappings",
                  "`page 0` and `page 0x%llx` both end on 0x%x (VGA); `info tab` lists both;"
                  " `x /2gx 0`, `x /2gx 0x%llx` and `xp /2gx 0x%x` show the same words: the"
                  " screen's first characters",
                  DEADBEAF_PAGE, VGA_FRAME, DEADBEAF_PAGE, VGA_FRAME);
    experiment_unmap_page0();
    experiment_write_code();
    kprintf("mapped ranges (info tab style, supervisor unless marked user):\n");
    pt_dump_ranges();
}

/* One final-translation line for va as translated into (st, t):
 *   0x<16 hex> -> 0x<16 hex> <size> <perms> <what>
 *   0x<16 hex> -> unmapped (<reason>) <what>
 * perms: r, w or -, x or -, and a fourth letter u for a page user mode may
 * reach (U/S set at every level, SDM Vol. 3A 4.6.1); kernel pages have
 * three letters. */
static void final_print(const char *what, uint64_t va, enum pt_status st,
                        const struct pt_translation *t)
{
    if (st != PT_OK) {
        kprintf("0x%016llx -> unmapped (%s) %s\n", (unsigned long long)va, pt_status_name(st),
                what);
        return;
    }
    uint32_t prot = pt_tr_prot(t);
    kprintf("0x%016llx -> 0x%016llx %s %c%c%c%s %s\n", (unsigned long long)va,
            (unsigned long long)t->pa.pa, pt_size_name(pt_tr_page_size(t)), 'r',
            prot & PT_PROT_WRITE ? 'w' : '-', prot & PT_PROT_EXEC ? 'x' : '-',
            prot & PT_PROT_USER ? "u" : "", what);
}

static void final_line(const char *what, uint64_t va)
{
    struct pt_translation t;
    enum pt_status st = pt_translate(vaddr(va), &t);
    final_print(what, va, st, &t);
}

/* A block's translations, taken before they are printed (final_translations). */
struct space_walk {
    enum pt_status st[SPACE_REPORT_MAX_LINES];
    struct pt_translation t[SPACE_REPORT_MAX_LINES];
};

/* Translates every line of v in v's space: selected for the walks, the
 * previous selection restored after them. Writes no entry of v's. */
static void space_translate(const struct space_view *v, struct space_walk *w)
{
    const struct pt_space *before = pt_space_selected();
    pt_space_select(v->space);
    for (unsigned i = 0; i < v->count && i < SPACE_REPORT_MAX_LINES; i++)
        w->st[i] = pt_translate(vaddr(v->lines[i].va), &w->t[i]);
    pt_space_select(before);
}

static void space_print(const struct space_view *v, const struct space_walk *w)
{
    kprintf("pagelab: address space %s cr3 0x%016llx\n", v->name,
            (unsigned long long)v->space->root.pa);
    for (unsigned i = 0; i < v->count && i < SPACE_REPORT_MAX_LINES; i++)
        final_print(v->lines[i].what, v->lines[i].va, w->st[i], &w->t[i]);
}

void final_space_block(const struct space_view *v)
{
    static struct space_walk w;
    space_translate(v, &w);
    space_print(v, &w);
}

void final_translations(const struct boot_info *bi)
{
    uint64_t stack_var = 0;
    const struct { const char *what; uint64_t va; } lines[] = {
        { "page 0 (NULL, unmapped again)", 0 },
        { "page 0 + 0xc80 (where New! went)", NEW_OFFSET_WORDS * 8 },
        { "VGA buffer", VGA_FRAME },
        { "VGA (kernel view)", (uint64_t)(uintptr_t)lowmem_ptr(VGA_FRAME) },
        { "kernel code", (uint64_t)(uintptr_t)kmain },
        { "kernel stack", (uint64_t)(uintptr_t)&stack_var },
        { "stack guard page", bi->stack_bottom - PAGE_SIZE },
        { "0xdeadbeaf000 (mapped to VGA)", DEADBEAF_PAGE + 0x123 },
        { "window base", bi->phys_window_base },
        { "window: highest usable frame", bi->phys_window_base + bi->max_phys - PAGE_SIZE },
        { "window: 1 GiB + 0x12345", bi->phys_window_base + PAGE_SIZE_1G + 0x12345 },
        { "frame bitmap", bi->pmm_bitmap_virt },
        { "boot modules (read-only)", MODULES_BASE },
        { "surely unmapped", SURELY_UNMAPPED },
        { "non-canonical", NON_CANONICAL },
    };
    static uint64_t extra[ORACLE_LINES];
    unsigned n = variant_oracle_addresses(extra, ORACLE_LINES);
    /* The other address spaces are walked first, their blocks printed
     * last: a walk can move the strategy's own machinery (temporary: the
     * slots map each table on the path; recursive: the second slot points
     * at the space's PML4), so every walk of another space comes before
     * the kernel's lines that show that machinery. */
    static struct space_view views[SPACE_REPORT_MAX_SPACES];
    static struct space_walk walks[SPACE_REPORT_MAX_SPACES];
    unsigned spaces = space_report_list(views, SPACE_REPORT_MAX_SPACES);
    for (unsigned i = 0; i < spaces; i++)
        space_translate(&views[i], &walks[i]);
    kprintf("pagelab: final translations\n");
    for (unsigned i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
        final_line(lines[i].what, lines[i].va);
    for (unsigned i = 0; i < n; i++)
        final_line("oracle", extra[i]);
    /* Last of the kernel's walks, for the same reason: nothing may walk
     * after the lines that show the strategy's machinery, or they would be
     * stale when QEMU or Bochs check them. */
    struct strategy_address own[STRATEGY_LINES];
    unsigned m = strategy_addresses(own, STRATEGY_LINES);
    for (unsigned i = 0; i < m; i++)
        final_line(own[i].what, own[i].va.va);
    for (unsigned i = 0; i < spaces; i++)
        space_print(&views[i], &walks[i]);
}
