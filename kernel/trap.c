/*
 * trap.c - interrupts and exceptions: the IDT, the dispatcher.
 *
 * The IDT covers the 32 exceptions and the 8259's 16 IRQs (vectors
 * X86_IRQ_VECTOR_BASE on, kernel/cpu/pic.c). An IRQ is acknowledged and,
 * if it interrupted ring 3, may end the ring-3 context (kernel/user.c: the
 * timer preempts). An exception from ring 3 is the user's fault: one named
 * line and back to the kernel (user_fault). An exception in ring 0 prints
 * its name, error code, RIP and registers (for a page fault CR2 and the
 * decoded error code) and halts - unless a probe (probe.asm) is armed, in
 * which case the fault is recorded and the probe returns 1. The double
 * fault (vector 8) runs on its own IST stack (Intel SDM Vol. 3A 6.14.5),
 * so a kernel-stack overflow into the guard page is reported instead of
 * escalating to a triple fault and a reset. That stack has a guard page
 * of its own (trap_df_guard_page; unmapped by kernel/mm/protect.c once
 * the paging core runs). The GDT and TSS are kernel/cpu/gdt.c's.
 */
#include <stdint.h>
#include "trap.h"
#include "console.h"
#include "cpu.h"
#include "gdt.h"
#include "pic.h"
#include "timer.h"
#include "user.h"
#include "proc.h"
#include "layout.h"
#include "lib.h"
#include "../common/debug.h"
#include "../common/exceptions.h"
#include "../common/io.h"

#define IDT_VECTORS      (X86_IRQ_VECTOR_BASE + X86_IRQ_COUNT)
/* present, DPL 0, 64-bit interrupt gate (IF cleared on entry, SDM 6.12.1.3):
 * DPL 0 keeps INT n from ring 3 out (#GP); the CPU's own exceptions and
 * IRQs ignore the gate's DPL */
#define GATE_INTERRUPT   0x8E
#define DF_STACK_SIZE    16384
#define SEL_RPL_MASK     3

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

static struct idt_gate idt[IDT_VECTORS];
/* The double-fault stack above its guard page, both page aligned. */
static uint8_t df_area[PAGE_SIZE + DF_STACK_SIZE] __attribute__((aligned(PAGE_SIZE)));
static struct probe_fault last_fault;

void trap_init(void)
{
    gdt_init((uint64_t)(uintptr_t)(df_area + PAGE_SIZE + DF_STACK_SIZE));
    for (unsigned v = 0; v < IDT_VECTORS; v++) {
        uint64_t h = isr_table[v];
        idt[v] = (struct idt_gate){ (uint16_t)h, GDT_KERNEL_CODE,
                                    v == X86_VECTOR_DF ? IST_DOUBLE_FAULT : 0, GATE_INTERRUPT,
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
    if (f->vector == X86_VECTOR_PF) {
        char why[96];
        pf_decode(f->error_code, why, sizeof(why));
        kprintf("  page fault at 0x%016lx: %s\n", read_cr2(), why);
    }
    if (f->vector == X86_VECTOR_DF)
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

/* An IRQ: the timer's tick, or any other line (masked, so only a
 * spurious IRQ 7 or 15 gets here), acknowledged at the PIC. A tick comes
 * from ring 3 or the idle loop (proc.c), never from the middle of the
 * kernel's work (it runs with interrupts off), so proc_timer may wake
 * sleepers and let page replacement sample the page tables. */
static void irq(unsigned line)
{
    if (line == PIC_IRQ_TIMER) {
        timer_tick();
        proc_timer();
    } else
        pic_eoi(line);
}

void trap_dispatch(struct trap_frame *f);
void trap_dispatch(struct trap_frame *f)
{
    int from_user = (f->cs & SEL_RPL_MASK) == SEL_RPL_USER;
    if (f->vector >= X86_IRQ_VECTOR_BASE) {
        irq((unsigned)(f->vector - X86_IRQ_VECTOR_BASE));
        if (from_user && proc_current())
            proc_tick();
        else if (from_user)
            user_interrupted();
        return;
    }
    if (from_user && proc_current()) {
        proc_fault(f);      /* returns only when the fault was resolved */
        return;
    }
    if (from_user)
        user_fault(f);
    if (probe_resume_rip && (f->vector == X86_VECTOR_PF || f->vector == X86_VECTOR_GP)) {
        last_fault = (struct probe_fault){ f->vector, f->error_code,
                                           f->vector == X86_VECTOR_PF ? read_cr2() : 0, f->rip };
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
