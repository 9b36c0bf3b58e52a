/*
 * trap.c - exception handling: the GDT + TSS, the IDT, the dispatcher.
 *
 * Every exception prints its name, error code, RIP and registers (for a
 * page fault CR2 and the decoded error code) and halts - unless a probe
 * (probe.asm) is armed, in which case the fault is recorded and the probe
 * returns 1. The double fault (vector 8) runs on its own IST stack
 * (Intel SDM Vol. 3A 6.14.5), so a kernel-stack overflow into the guard
 * page is reported instead of escalating to a triple fault and a reset.
 * That stack has a guard page of its own (trap_df_guard_page; unmapped by
 * kernel/mm/protect.c once the paging core runs).
 */
#include <stdint.h>
#include "trap.h"
#include "console.h"
#include "cpu.h"
#include "layout.h"
#include "lib.h"
#include "../common/debug.h"
#include "../common/exceptions.h"
#include "../common/io.h"

#define GDT_KERNEL_CODE  0x08
#define GDT_KERNEL_DATA  0x10
#define GDT_TSS          0x18
#define IDT_VECTORS      X86_EXCEPTION_VECTORS
#define GATE_INTERRUPT   0x8E       /* present, DPL 0, 64-bit interrupt gate */
#define IST_DOUBLE_FAULT 1
#define DF_STACK_SIZE    16384

struct tss {
    uint32_t reserved0;
    uint64_t rsp[3];
    uint64_t reserved1;
    uint64_t ist[7];
    uint64_t reserved2;
    uint16_t reserved3, iomap_base;
} __attribute__((packed));

struct idt_gate {
    uint16_t offset_low, selector;
    uint8_t ist, type;
    uint16_t offset_mid;
    uint32_t offset_high, reserved;
} __attribute__((packed));

struct table_register {
    uint16_t limit;
    uint64_t base;
} __attribute__((packed));


extern const uint64_t isr_table[IDT_VECTORS];
extern uint64_t probe_resume_rip, probe_resume_rsp;

static uint64_t gdt[5];
static struct tss tss;
static struct idt_gate idt[IDT_VECTORS];
/* The double-fault stack above its guard page, both page aligned. */
static uint8_t df_area[PAGE_SIZE + DF_STACK_SIZE] __attribute__((aligned(PAGE_SIZE)));
static struct probe_fault last_fault;

static void gdt_load(void)
{
    uint64_t base = (uint64_t)&tss, limit = sizeof(tss) - 1;
    gdt[1] = 0x00AF9A000000FFFF;     /* 64-bit code, DPL 0 (SDM 3.4.5) */
    gdt[2] = 0x00CF92000000FFFF;     /* data, DPL 0 */
    gdt[3] = (limit & 0xFFFF) | ((base & 0xFFFFFF) << 16) | (0x89ULL << 40) |
             (((base >> 24) & 0xFF) << 56);           /* available 64-bit TSS (SDM 8.2.3) */
    gdt[4] = base >> 32;
    struct table_register r = { sizeof(gdt) - 1, (uint64_t)gdt };
    __asm__ volatile("lgdt %0\n\t"
                     "pushq %1\n\t"
                     "leaq 1f(%%rip), %%rax\n\t"
                     "pushq %%rax\n\t"
                     "lretq\n"                           /* reload CS */
                     "1: movw %w2, %%ax\n\t"
                     "movw %%ax, %%ds\n\tmovw %%ax, %%es\n\tmovw %%ax, %%ss\n\t"
                     "movw %%ax, %%fs\n\tmovw %%ax, %%gs\n\t"
                     "ltr %w3"
                     : : "m"(r), "i"(GDT_KERNEL_CODE), "r"(GDT_KERNEL_DATA), "r"(GDT_TSS)
                     : "rax", "memory");
}

void trap_init(void)
{
    tss.ist[IST_DOUBLE_FAULT - 1] = (uint64_t)(df_area + PAGE_SIZE + DF_STACK_SIZE);
    tss.iomap_base = sizeof(tss);
    gdt_load();
    for (unsigned v = 0; v < IDT_VECTORS; v++) {
        uint64_t h = isr_table[v];
        idt[v] = (struct idt_gate){ (uint16_t)h, GDT_KERNEL_CODE,
                                    v == 8 ? IST_DOUBLE_FAULT : 0, GATE_INTERRUPT,
                                    (uint16_t)(h >> 16), (uint32_t)(h >> 32), 0 };
    }
    struct table_register r = { sizeof(idt) - 1, (uint64_t)idt };
    __asm__ volatile("lidt %0" : : "m"(r));
}

void pf_decode(uint64_t e, char *buf, unsigned len)
{
    const char *parts[] = {
        (e & PF_ERR_PRESENT) ? "protection violation" : "page not present",
        (e & PF_ERR_FETCH) ? "instruction fetch" : (e & PF_ERR_WRITE) ? "write" : "read",
        (e & PF_ERR_USER) ? "user mode" : "supervisor mode",
        (e & PF_ERR_RSVD) ? "reserved bit set" : 0,
        (e & PF_ERR_PK) ? "protection key" : 0,
    };
    unsigned n = 0;
    for (unsigned i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
        if (!parts[i])
            continue;
        for (const char *s = i ? ", " : ""; *s && n + 1 < len; s++)
            buf[n++] = *s;
        for (const char *s = parts[i]; *s && n + 1 < len; s++)
            buf[n++] = *s;
    }
    buf[n] = 0;
}

uint64_t trap_df_guard_page(void)
{
    return (uint64_t)(uintptr_t)df_area;
}

const struct probe_fault *probe_last_fault(void)
{
    return &last_fault;
}

static void report(const struct trap_frame *f)
{
    kprintf("\npagelab: exception %lu (%s), error code 0x%lx\n", f->vector,
            x86_exception_names[f->vector], f->error_code);
    if (f->vector == 14) {
        char why[96];
        pf_decode(f->error_code, why, sizeof(why));
        kprintf("  page fault at 0x%016lx: %s\n", read_cr2(), why);
    }
    if (f->vector == 8)
        kprintf("  (on the IST stack: a kernel stack overflow into its guard page ends here; "
                "last page-fault address CR2 0x%016lx)\n", read_cr2());
    kprintf("  RIP %016lx  CS %lx  RFLAGS %lx  RSP %016lx  SS %lx\n", f->rip, f->cs, f->rflags,
            f->rsp, f->ss);
    kprintf("  RAX %016lx RBX %016lx RCX %016lx RDX %016lx\n", f->rax, f->rbx, f->rcx, f->rdx);
    kprintf("  RSI %016lx RDI %016lx RBP %016lx R8  %016lx\n", f->rsi, f->rdi, f->rbp, f->r8);
    kprintf("  R9  %016lx R10 %016lx R11 %016lx R12 %016lx\n", f->r9, f->r10, f->r11, f->r12);
    kprintf("  R13 %016lx R14 %016lx R15 %016lx CR3 %016lx\n", f->r13, f->r14, f->r15,
            (uint64_t)0);
    kprintf("pagelab: halted after an unexpected exception\n");
}

void trap_dispatch(struct trap_frame *f);
void trap_dispatch(struct trap_frame *f)
{
    if (probe_resume_rip && (f->vector == 14 || f->vector == 13)) {
        last_fault = (struct probe_fault){ f->vector, f->error_code,
                                           f->vector == 14 ? read_cr2() : 0, f->rip };
        PAGELAB_BREAK("inside a deliberate page fault",
                      "vector %lu, error code 0x%lx, CR2 0x%lx, faulting RIP 0x%lx\n"
                      "  look: `creg` shows CR2; `page 0x%lx` shows the entry that refused"
                      " (no W for a write); `print-stack` shows the frame the CPU pushed",
                      f->vector, f->error_code, last_fault.cr2, f->rip, last_fault.cr2);
        f->rip = probe_resume_rip;
        f->rsp = probe_resume_rsp;
        probe_resume_rip = 0;
        return;
    }
    report(f);
    halt_with(DEBUG_EXIT_STOPPED);
}
